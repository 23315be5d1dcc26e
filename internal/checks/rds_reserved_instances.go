package checks

import (
	"context"
	"fmt"
	"strconv"

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
		textColumn("db_instance_class", "DB instance class").as(RoleType), numberColumn("count", "Count").as(RoleCount), textColumn("engine", "Engine"), textColumn("multi_az", "Multi-AZ"),
		textColumn("offering", "Offering"), dateColumn("start", "Start"), textColumn("lease_id", "Lease ID"), textColumn("renewal", "Renewal").as(RoleRenewal).wide(60)}}
}
func (RDSReservedInstances) DigestDetail(*Finding) string { return "" }

// RDS reports State as a plain string its references do not enumerate; these are the values its user guide names.
// Any other is reported as not recognised.
var rdsStates = termStates{"active": roleActive, "payment-pending": rolePending, "retired": roleRetired}

func (c RDSReservedInstances) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, rds.NewFromConfig(t.Config), t)
}

func (c RDSReservedInstances) run(ctx context.Context, api rds.DescribeReservedDBInstancesAPIClient, t Target) ([]Finding, error) {
	// Every state comes back unfiltered; a renewal can sit on any page, so the whole listing is read first.
	var reserved []rdstypes.ReservedDBInstance
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
		reserved = append(reserved, page.ReservedDBInstances...)
	}
	items := make([]termReservation, len(reserved))
	for i, ri := range reserved {
		items[i] = rdsReservation(ri)
	}
	var out []Finding
	for _, tf := range termFindings(t, c.Name(), "AWS::RDS::ReservedDBInstance", "instances", rdsStates, items) {
		f, ri := tf.Finding, reserved[tf.item]
		f.SetDetail("db_instance_class", aws.ToString(ri.DBInstanceClass))
		f.SetDetail("count", fmt.Sprint(aws.ToInt32(ri.DBInstanceCount)))
		f.SetDetail("engine", aws.ToString(ri.ProductDescription))
		// Only as reported: an unreported one is no Single-AZ, and the on-demand lookup prices by it (internal/pricing).
		if ri.MultiAZ != nil {
			f.SetDetail("multi_az", strconv.FormatBool(*ri.MultiAZ))
		}
		f.SetDetail("offering", aws.ToString(ri.OfferingType))
		if ri.StartTime != nil {
			f.SetDetail("start", DetailTime(*ri.StartTime))
		}
		f.SetDetail("lease_id", aws.ToString(ri.LeaseId))
		f.ConsoleURL = fmt.Sprintf("https://%s/rds/home?region=%s#reserved-instances:", consoleHost(t.Partition), t.Region)
		out = append(out, f)
	}
	return out, nil
}

// rdsReservation is ri as the shared commitment rules read it: RDS reports no end, only StartTime and Duration in
// seconds, and a renewal must match the engine and the deployment as well as the class.
func rdsReservation(ri rdstypes.ReservedDBInstance) termReservation {
	return termReservation{ID: aws.ToString(ri.ReservedDBInstanceId), Type: aws.ToString(ri.DBInstanceClass), State: aws.ToString(ri.State),
		Match: aws.ToString(ri.ProductDescription) + "|" + strconv.FormatBool(aws.ToBool(ri.MultiAZ)),
		Count: aws.ToInt32(ri.DBInstanceCount), Start: ri.StartTime, Duration: ri.Duration, Prices: rdsPrices(ri)}
}

// rdsPrices reads ri's prices as PER INSTANCE: the RDS API Reference words FixedPrice and UsagePrice as "charged for
// this reserved DB instance" and DBInstanceCount as "the number of reserved DB instances"; the offering a reservation
// is bought from (ReservedDBInstancesOffering) carries the same FixedPrice, UsagePrice and RecurringCharges with no
// count, and PurchaseReservedDBInstancesOffering multiplies it by the DBInstanceCount asked for. The prices are in
// CurrencyCode.
func rdsPrices(ri rdstypes.ReservedDBInstance) unitPrices {
	p := unitPrices{countField: "DBInstanceCount", fixed: ri.FixedPrice, usage: ri.UsagePrice, currency: aws.ToString(ri.CurrencyCode),
		payment: aws.ToString(ri.OfferingType)}
	for _, rc := range ri.RecurringCharges {
		p.recurring = append(p.recurring, recurringCharge{amount: rc.RecurringChargeAmount, frequency: rc.RecurringChargeFrequency})
	}
	return p
}
