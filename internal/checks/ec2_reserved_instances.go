package checks

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2ReservedInstances finds active reservations about to expire. Expiry comes from End, not Start + Duration:
// a modified reservation gets a new Start but keeps the original End.
type EC2ReservedInstances struct{}

type ec2ReservedInstancesAPI interface {
	DescribeReservedInstances(context.Context, *ec2.DescribeReservedInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeReservedInstancesOutput, error)
}

func (EC2ReservedInstances) Name() string      { return "ec2-reserved-instances" }
func (EC2ReservedInstances) Title() string     { return "EC2 reserved instances expiring" }
func (EC2ReservedInstances) Actions() []string { return []string{"ec2:DescribeReservedInstances"} }
func (EC2ReservedInstances) Columns() []string {
	return []string{"Instance type", "Count", "Platform", "Scope", "Availability zone", "Offering", "Start", "Queued renewal"}
}

func (c EC2ReservedInstances) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, ec2.NewFromConfig(t.Config), t)
}

func (c EC2ReservedInstances) run(ctx context.Context, api ec2ReservedInstancesAPI, t Target) ([]Finding, error) {
	// DescribeReservedInstances is a single call with no pagination.
	out, err := api.DescribeReservedInstances(ctx, &ec2.DescribeReservedInstancesInput{
		Filters: []ec2types.Filter{{Name: aws.String("state"), Values: []string{string(ec2types.ReservedInstanceStateActive), string(ec2types.ReservedInstanceStateQueued)}}},
	})
	if err != nil {
		return nil, fmt.Errorf("describe reserved instances: %w", err)
	}
	var active, queued []ec2types.ReservedInstances
	for _, ri := range out.ReservedInstances {
		switch ri.State {
		case ec2types.ReservedInstanceStateActive:
			active = append(active, ri)
		case ec2types.ReservedInstanceStateQueued:
			queued = append(queued, ri)
		}
	}
	// Earliest expiry first, so each queued purchase renews the reservation it was most likely bought for.
	sort.Slice(active, func(i, j int) bool { return aws.ToTime(active[i].End).Before(aws.ToTime(active[j].End)) })
	used := map[int]bool{}
	var findings []Finding
	for _, ri := range active {
		f := t.finding(c.Name(), "AWS::EC2::ReservedInstances", aws.ToString(ri.ReservedInstancesId))
		f.Status = string(ri.State)
		if ri.End == nil {
			unknownExpiry(&f, "End")
		} else if !expiryFinding(&f, t.AsOf, *ri.End, t.Limits) {
			continue
		}
		f.Details["Instance type"] = string(ri.InstanceType)
		f.Details["Count"] = fmt.Sprint(aws.ToInt32(ri.InstanceCount))
		f.Details["Platform"] = string(ri.ProductDescription)
		f.Details["Scope"] = string(ri.Scope)
		f.Details["Availability zone"] = aws.ToString(ri.AvailabilityZone)
		f.Details["Offering"] = fmt.Sprintf("%s %s", ri.OfferingClass, ri.OfferingType)
		if ri.Start != nil {
			f.Details["Start"] = ri.Start.UTC().Format(time.RFC3339)
		}
		if i, ok := renewalFor(ri, queued, used); ri.End != nil && ok {
			q := queued[i]
			used[i] = true
			f.Details["Queued renewal"] = fmt.Sprintf("%s: %d × %s from %s", aws.ToString(q.ReservedInstancesId), aws.ToInt32(q.InstanceCount), q.InstanceType, aws.ToTime(q.Start).UTC().Format("2006-01-02"))
			if aws.ToInt32(q.InstanceCount) >= aws.ToInt32(ri.InstanceCount) {
				f.Severity = Notice
				f.Reason += "; renewal queued (" + aws.ToString(q.ReservedInstancesId) + ")"
			} else {
				f.Reason += fmt.Sprintf("; renewal queued for only %d of %d instances", aws.ToInt32(q.InstanceCount), aws.ToInt32(ri.InstanceCount))
			}
		}
		f.ConsoleURL = fmt.Sprintf("https://%s/ec2/home?region=%s#ReservedInstances:reservedInstancesId=%s", consoleHost(t.Partition), t.Region, url.QueryEscape(f.ResourceID))
		findings = append(findings, f)
	}
	return findings, nil
}

// renewalFor finds an unused queued purchase of the same kind of reservation that starts within a day of ri's end.
func renewalFor(ri ec2types.ReservedInstances, queued []ec2types.ReservedInstances, used map[int]bool) (int, bool) {
	end := aws.ToTime(ri.End)
	for i, q := range queued {
		if used[i] || q.Start == nil || q.InstanceType != ri.InstanceType || q.ProductDescription != ri.ProductDescription ||
			q.Scope != ri.Scope || q.InstanceTenancy != ri.InstanceTenancy {
			continue
		}
		if ri.Scope == ec2types.ScopeAvailabilityZone && aws.ToString(q.AvailabilityZone) != aws.ToString(ri.AvailabilityZone) {
			continue
		}
		if gap := q.Start.Sub(end); gap > -24*time.Hour && gap < 24*time.Hour {
			return i, true
		}
	}
	return 0, false
}
