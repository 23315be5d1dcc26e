package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// RDSReservedInstances finds active reserved DB instances about to expire and those that lapsed unrenewed within
// Limits.LapsedDays. RDS has no queued purchases: a renewal is a reservation bought outright.
type RDSReservedInstances struct{}

func (RDSReservedInstances) Name() string      { return "rds-reserved-instances" }
func (RDSReservedInstances) Title() string     { return "RDS reserved DB instances expiring or lapsed" }
func (RDSReservedInstances) Actions() []string { return []string{"rds:DescribeReservedDBInstances"} }
func (RDSReservedInstances) Layout() Layout {
	return Layout{Expiry: true, Kind: "RDS reserved DB instance", Columns: []Column{
		textColumn("DB instance class").as(RoleType), numberColumn("Count").as(RoleCount), textColumn("Engine"), textColumn("Multi-AZ"),
		textColumn("Offering"), dateColumn("Start"), textColumn("Lease ID"), textColumn("Renewal").as(RoleRenewal).wide(60)}}
}
func (RDSReservedInstances) DigestDetail(*Finding) string { return "" }

// RDS reports State as a plain string; these are the values its user guide names.
const (
	rdsActive         = "active"
	rdsPaymentPending = "payment-pending"
	rdsRetired        = "retired"
)

func (c RDSReservedInstances) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, rds.NewFromConfig(t.Config), t)
}

func (c RDSReservedInstances) run(ctx context.Context, api rds.DescribeReservedDBInstancesAPIClient, t Target) ([]Finding, error) {
	// Every state comes back unfiltered; a renewal can sit on any page, so the whole listing is read first.
	var ending, renewals []rdstypes.ReservedDBInstance
	pages := rds.NewDescribeReservedDBInstancesPaginator(api, &rds.DescribeReservedDBInstancesInput{})
	tokens := NewPageTokens("DescribeReservedDBInstances")
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Next(page.Marker)
		}
		if err != nil {
			return nil, fmt.Errorf("describe reserved db instances: %w", err)
		}
		for _, ri := range page.ReservedDBInstances {
			dated := ri.StartTime != nil && ri.Duration != nil
			switch aws.ToString(ri.State) {
			case rdsActive:
				ending = append(ending, ri)
				if dated {
					renewals = append(renewals, ri)
				}
			case rdsPaymentPending:
				if dated {
					renewals = append(renewals, ri)
				}
			case rdsRetired:
				if dated && lapsedWithin(t.AsOf, rdsEnd(ri), t.Limits) {
					ending = append(ending, ri)
				}
			}
		}
	}
	// Earliest end first, so each renewal is matched to the reservation it was most likely bought for; undated last.
	sort.SliceStable(ending, func(i, j int) bool {
		a, b := ending[i], ending[j]
		if (a.StartTime == nil || a.Duration == nil) != (b.StartTime == nil || b.Duration == nil) {
			return b.StartTime == nil || b.Duration == nil
		}
		return a.StartTime != nil && a.Duration != nil && rdsEnd(a).Before(rdsEnd(b))
	})
	used := map[string]bool{}
	var out []Finding
	for _, ri := range ending {
		f := t.finding(c.Name(), "AWS::RDS::ReservedDBInstance", aws.ToString(ri.ReservedDBInstanceId))
		f.Status = aws.ToString(ri.State)
		var renewal *rdstypes.ReservedDBInstance
		dated := ri.StartTime != nil && ri.Duration != nil
		ended := dated && !rdsEnd(ri).After(t.AsOf)
		if dated {
			renewal = rdsRenewalFor(ri, renewals, used, t)
		}
		switch {
		case !dated:
			unknownExpiry(&f, "StartTime or Duration")
		case ended && renewal != nil && aws.ToInt32(renewal.DBInstanceCount) >= aws.ToInt32(ri.DBInstanceCount):
			continue // lapsed and bought again: nothing to do
		case ended:
			notRenewed(&f, t.AsOf, rdsEnd(ri))
		case !expiryFinding(&f, t.AsOf, rdsEnd(ri), t.Limits):
			continue
		}
		f.Details["DB instance class"] = aws.ToString(ri.DBInstanceClass)
		f.Details["Count"] = fmt.Sprint(aws.ToInt32(ri.DBInstanceCount))
		f.Details["Engine"] = aws.ToString(ri.ProductDescription)
		f.Details["Multi-AZ"] = fmt.Sprint(aws.ToBool(ri.MultiAZ))
		f.Details["Offering"] = aws.ToString(ri.OfferingType)
		if ri.StartTime != nil {
			f.Details["Start"] = DetailTime(*ri.StartTime)
		}
		f.Details["Lease ID"] = aws.ToString(ri.LeaseId)
		if renewal != nil {
			q := *renewal
			id := aws.ToString(q.ReservedDBInstanceId)
			f.Details["Renewal"] = fmt.Sprintf("%s: %d × %s from %s (%s)", id, aws.ToInt32(q.DBInstanceCount), aws.ToString(q.DBInstanceClass), q.StartTime.UTC().Format("2006-01-02"), aws.ToString(q.State))
			f.Reason = strings.TrimSuffix(f.Reason, ", not renewed") // renewed, if only in part
			if aws.ToInt32(q.DBInstanceCount) >= aws.ToInt32(ri.DBInstanceCount) {
				f.Severity = Notice
				f.Reason += fmt.Sprintf("; renewal bought (%s)", id)
			} else {
				f.Reason += fmt.Sprintf("; renewal bought for only %d of %d instances (%s)", aws.ToInt32(q.DBInstanceCount), aws.ToInt32(ri.DBInstanceCount), id)
			}
		}
		f.ConsoleURL = fmt.Sprintf("https://%s/rds/home?region=%s#reserved-instances:", consoleHost(t.Partition), t.Region)
		out = append(out, f)
	}
	return out, nil
}

// rdsRenewalFor finds an unused, dated reservation of the same class, engine and deployment that was bought within
// renewalWindow and outlasts ri, and marks it used.
func rdsRenewalFor(ri rdstypes.ReservedDBInstance, candidates []rdstypes.ReservedDBInstance, used map[string]bool, t Target) *rdstypes.ReservedDBInstance {
	end := rdsEnd(ri)
	from, to := renewalWindow(t.AsOf, end, t.Limits)
	for i, q := range candidates {
		id := aws.ToString(q.ReservedDBInstanceId)
		if used[id] || id == aws.ToString(ri.ReservedDBInstanceId) || aws.ToString(q.DBInstanceClass) != aws.ToString(ri.DBInstanceClass) ||
			aws.ToString(q.ProductDescription) != aws.ToString(ri.ProductDescription) || aws.ToBool(q.MultiAZ) != aws.ToBool(ri.MultiAZ) {
			continue
		}
		if !q.StartTime.Before(from) && !q.StartTime.After(to) && rdsEnd(q).After(end) {
			used[id] = true
			return &candidates[i]
		}
	}
	return nil
}

// rdsEnd computes the end of a reservation: RDS reports no end, only StartTime and Duration in seconds.
func rdsEnd(ri rdstypes.ReservedDBInstance) time.Time {
	return ri.StartTime.Add(time.Duration(aws.ToInt32(ri.Duration)) * time.Second)
}
