package checks

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2ReservedInstances finds active reservations about to expire and those that lapsed unrenewed within
// Limits.LapsedDays. Expiry comes from End, not Start + Duration: a modified reservation gets a new Start but keeps
// the original End.
type EC2ReservedInstances struct{}

type ec2ReservedInstancesAPI interface {
	DescribeReservedInstances(context.Context, *ec2.DescribeReservedInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeReservedInstancesOutput, error)
}

func (EC2ReservedInstances) Name() string      { return "ec2-reserved-instances" }
func (EC2ReservedInstances) Title() string     { return "EC2 reserved instances expiring or lapsed" }
func (EC2ReservedInstances) Actions() []string { return []string{"ec2:DescribeReservedInstances"} }
func (EC2ReservedInstances) Layout() Layout {
	return Layout{Expiry: true, Kind: "EC2 reserved instance", Columns: []Column{
		textColumn("Instance type").as(RoleType), numberColumn("Count").as(RoleCount), textColumn("Platform"), textColumn("Scope"),
		textColumn("Availability zone"), textColumn("Offering"), dateColumn("Start"), textColumn("Renewal").as(RoleRenewal).wide(60)}}
}
func (EC2ReservedInstances) DigestDetail(*Finding) string { return "" }

func (c EC2ReservedInstances) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, ec2.NewFromConfig(t.Config), t)
}

func (c EC2ReservedInstances) run(ctx context.Context, api ec2ReservedInstancesAPI, t Target) ([]Finding, error) {
	// DescribeReservedInstances is a single call with no pagination. Its documented state filter values are
	// payment-pending, active, payment-failed and retired; queued, which renewals are, is not one of them, so every
	// state is asked for and sorted here.
	out, err := api.DescribeReservedInstances(ctx, &ec2.DescribeReservedInstancesInput{})
	if err != nil {
		return nil, fmt.Errorf("describe reserved instances: %w", err)
	}
	var ending, renewals []ec2types.ReservedInstances
	for _, ri := range out.ReservedInstances {
		switch ri.State {
		case ec2types.ReservedInstanceStateActive:
			ending = append(ending, ri)
			renewals = append(renewals, ri)
		case ec2types.ReservedInstanceStateRetired:
			if ri.End != nil && lapsedWithin(t.AsOf, *ri.End, t.Limits) {
				ending = append(ending, ri)
			}
		case ec2types.ReservedInstanceStateQueued, ec2types.ReservedInstanceStatePaymentPending:
			renewals = append(renewals, ri)
		}
	}
	// Earliest end first, so each renewal is matched to the reservation it was most likely bought for.
	sort.SliceStable(ending, func(i, j int) bool { return aws.ToTime(ending[i].End).Before(aws.ToTime(ending[j].End)) })
	used := map[string]bool{}
	var findings []Finding
	for _, ri := range ending {
		f := t.finding(c.Name(), "AWS::EC2::ReservedInstances", aws.ToString(ri.ReservedInstancesId))
		f.Status = string(ri.State)
		ended := ri.End != nil && !ri.End.After(t.AsOf)
		var renewal *ec2types.ReservedInstances
		if ri.End != nil {
			renewal = renewalFor(ri, renewals, used, t)
		}
		switch {
		case ri.End == nil:
			unknownExpiry(&f, "End")
		case ended && renewal != nil && aws.ToInt32(renewal.InstanceCount) >= aws.ToInt32(ri.InstanceCount):
			continue // lapsed and bought again: nothing to do
		case ended:
			notRenewed(&f, t.AsOf, *ri.End)
		case !expiryFinding(&f, t.AsOf, *ri.End, t.Limits):
			continue
		}
		f.Details["Instance type"] = string(ri.InstanceType)
		f.Details["Count"] = fmt.Sprint(aws.ToInt32(ri.InstanceCount))
		f.Details["Platform"] = string(ri.ProductDescription)
		f.Details["Scope"] = string(ri.Scope)
		f.Details["Availability zone"] = aws.ToString(ri.AvailabilityZone)
		f.Details["Offering"] = fmt.Sprintf("%s %s", ri.OfferingClass, ri.OfferingType)
		if ri.Start != nil {
			f.Details["Start"] = DetailTime(*ri.Start)
		}
		if renewal != nil {
			q := *renewal
			id := aws.ToString(q.ReservedInstancesId)
			how := "queued"
			if q.State != ec2types.ReservedInstanceStateQueued {
				how = "bought outright, " + string(q.State)
			}
			f.Details["Renewal"] = fmt.Sprintf("%s: %d × %s from %s (%s)", id, aws.ToInt32(q.InstanceCount), q.InstanceType, aws.ToTime(q.Start).UTC().Format("2006-01-02"), how)
			f.Reason = strings.TrimSuffix(f.Reason, ", not renewed") // renewed, if only in part
			if aws.ToInt32(q.InstanceCount) >= aws.ToInt32(ri.InstanceCount) {
				f.Severity = Notice
				f.Reason += fmt.Sprintf("; renewal %s (%s)", how, id)
			} else {
				f.Reason += fmt.Sprintf("; renewal %s for only %d of %d instances (%s)", how, aws.ToInt32(q.InstanceCount), aws.ToInt32(ri.InstanceCount), id)
			}
		}
		f.ConsoleURL = fmt.Sprintf("https://%s/ec2/home?region=%s#ReservedInstances:reservedInstancesId=%s", consoleHost(t.Partition), t.Region, url.QueryEscape(f.ResourceID))
		findings = append(findings, f)
	}
	return findings, nil
}

// renewalFor finds an unused reservation of the same kind that takes over from ri, and marks it used: a queued
// purchase starting within a day of ri's end (or, once ri has lapsed, any time after), or one bought outright
// (payment-pending or active) within renewalWindow and outlasting ri.
func renewalFor(ri ec2types.ReservedInstances, candidates []ec2types.ReservedInstances, used map[string]bool, t Target) *ec2types.ReservedInstances {
	end := aws.ToTime(ri.End)
	from, to := renewalWindow(t.AsOf, end, t.Limits)
	ended := !end.After(t.AsOf)
	for i, q := range candidates {
		id := aws.ToString(q.ReservedInstancesId)
		if used[id] || id == aws.ToString(ri.ReservedInstancesId) || q.Start == nil || q.InstanceType != ri.InstanceType ||
			q.ProductDescription != ri.ProductDescription || q.Scope != ri.Scope || q.InstanceTenancy != ri.InstanceTenancy {
			continue
		}
		if ri.Scope == ec2types.ScopeAvailabilityZone && aws.ToString(q.AvailabilityZone) != aws.ToString(ri.AvailabilityZone) {
			continue
		}
		gap := q.Start.Sub(end)
		var renews bool
		if q.State == ec2types.ReservedInstanceStateQueued {
			renews = gap > -24*time.Hour && (gap < 24*time.Hour || ended)
		} else {
			renews = !q.Start.Before(from) && !q.Start.After(to) && (q.End == nil || q.End.After(end))
		}
		if renews {
			used[id] = true
			return &candidates[i]
		}
	}
	return nil
}
