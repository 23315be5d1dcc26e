package checks

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// RDSReservedInstances finds active reserved DB instances about to expire.
type RDSReservedInstances struct{}

func (RDSReservedInstances) Name() string      { return "rds-reserved-instances" }
func (RDSReservedInstances) Title() string     { return "RDS reserved DB instances expiring" }
func (RDSReservedInstances) Actions() []string { return []string{"rds:DescribeReservedDBInstances"} }
func (RDSReservedInstances) Columns() []string {
	return []string{"DB instance class", "Count", "Engine", "Multi-AZ", "Offering", "Start", "Lease ID"}
}

func (c RDSReservedInstances) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, rds.NewFromConfig(t.Config), t)
}

func (c RDSReservedInstances) run(ctx context.Context, api rds.DescribeReservedDBInstancesAPIClient, t Target) ([]Finding, error) {
	var out []Finding
	pages := rds.NewDescribeReservedDBInstancesPaginator(api, &rds.DescribeReservedDBInstancesInput{})
	tokens := NewPageTokens("DescribeReservedDBInstances")
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Next(page.Marker)
		}
		if err != nil {
			return out, fmt.Errorf("describe reserved db instances: %w", err)
		}
		for _, ri := range page.ReservedDBInstances {
			if aws.ToString(ri.State) != "active" {
				continue
			}
			f := t.finding(c.Name(), "AWS::RDS::ReservedDBInstance", aws.ToString(ri.ReservedDBInstanceId))
			f.Status = aws.ToString(ri.State)
			if ri.StartTime == nil || ri.Duration == nil {
				unknownExpiry(&f, "StartTime or Duration")
			} else if !expiryFinding(&f, t.AsOf, rdsEnd(ri), t.Limits) {
				continue
			}
			f.Details["DB instance class"] = aws.ToString(ri.DBInstanceClass)
			f.Details["Count"] = fmt.Sprint(aws.ToInt32(ri.DBInstanceCount))
			f.Details["Engine"] = aws.ToString(ri.ProductDescription)
			f.Details["Multi-AZ"] = fmt.Sprint(aws.ToBool(ri.MultiAZ))
			f.Details["Offering"] = aws.ToString(ri.OfferingType)
			if ri.StartTime != nil {
				f.Details["Start"] = ri.StartTime.UTC().Format(time.RFC3339)
			}
			f.Details["Lease ID"] = aws.ToString(ri.LeaseId)
			f.ConsoleURL = fmt.Sprintf("https://%s/rds/home?region=%s#reserved-instances:", consoleHost(t.Partition), t.Region)
			out = append(out, f)
		}
	}
	return out, nil
}

// rdsEnd computes the end of a reservation: RDS reports no end, only StartTime and Duration in seconds.
func rdsEnd(ri rdstypes.ReservedDBInstance) time.Time {
	return ri.StartTime.Add(time.Duration(aws.ToInt32(ri.Duration)) * time.Second)
}
