package checks

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2ReservedInstances finds active reservations about to expire and those that lapsed unrenewed within
// Limits.LapsedDays. Expiry comes from End, not Start + Duration: a modified reservation gets a new Start but keeps
// the original End, and the original it replaced is retired with End at the modification, which ended it early
// rather than lapsed (endedEarly).
type EC2ReservedInstances struct{}

type ec2ReservedInstancesAPI interface {
	DescribeReservedInstances(context.Context, *ec2.DescribeReservedInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeReservedInstancesOutput, error)
}

func (EC2ReservedInstances) Name() string      { return "ec2-reserved-instances" }
func (EC2ReservedInstances) Title() string     { return "EC2 reserved instances expiring or lapsed" }
func (EC2ReservedInstances) Actions() []string { return []string{"ec2:DescribeReservedInstances"} }
func (EC2ReservedInstances) Layout() Layout {
	return Layout{Expiry: true, Kind: "EC2 reserved instance", Columns: []Column{
		textColumn("instance_type", "Instance type").as(RoleType), numberColumn("count", "Count").as(RoleCount), textColumn("platform", "Platform"), textColumn("scope", "Scope"),
		textColumn("availability_zone", "Availability zone"), textColumn("offering", "Offering"), dateColumn("start", "Start"), textColumn("renewal", "Renewal").as(RoleRenewal).wide(60)}}
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
	ris := out.ReservedInstances
	items := make([]commitment, len(ris))
	statuses := make([]string, len(ris))
	for i, ri := range ris {
		items[i] = commitment{ID: aws.ToString(ri.ReservedInstancesId), Role: ec2States[string(ri.State)], Start: ri.Start, End: ri.End}
		statuses[i] = string(ri.State)
	}
	k := commitmentKind{check: c.Name(), resourceType: "AWS::EC2::ReservedInstances", missing: "End", purchase: "purchase",
		sameKind: func(i, j int) bool { return sameConfiguration(ris[j], ris[i]) },
		covers:   func(i, j int) bool { return aws.ToInt32(ris[j].InstanceCount) >= aws.ToInt32(ris[i].InstanceCount) },
		// AWS sets a retired reservation's End to when it ended. One that ended early, modified or exchanged, is no
		// lapse: its successor carries its capacity on and is judged on its own.
		endedEarly: func(i int) bool { return endedEarly(ris[i], ris) },
		renewal: func(i, j int) (detail, how, shortfall string) {
			q := ris[j]
			how = "queued"
			if q.State != ec2types.ReservedInstanceStateQueued {
				how = "bought outright, " + string(q.State)
			}
			detail = fmt.Sprintf("%s: %d × %s from %s (%s)", aws.ToString(q.ReservedInstancesId), aws.ToInt32(q.InstanceCount), q.InstanceType, aws.ToTime(q.Start).UTC().Format("2006-01-02"), how)
			return detail, how, fmt.Sprintf("for only %d of %d instances", aws.ToInt32(q.InstanceCount), aws.ToInt32(ris[i].InstanceCount))
		},
		price: func(i int) (priced, string) { return reservationPrice(ec2Prices(ris[i])) }}
	var findings []Finding
	for _, tf := range commitmentFindings(t, k, items, statuses) {
		f := tf.Finding
		c.details(&f, t, ris[tf.item])
		findings = append(findings, f)
	}
	return findings, nil
}

// ec2States are EC2's reservation states (ReservedInstanceState). A queued purchase deleted before it started was
// never in effect, on purpose, and renews nothing. Any other state is reported as not recognised.
var ec2States = termStates{
	string(ec2types.ReservedInstanceStateActive):         roleActive,
	string(ec2types.ReservedInstanceStatePaymentPending): rolePending,
	string(ec2types.ReservedInstanceStateQueued):         roleQueued,
	string(ec2types.ReservedInstanceStateRetired):        roleRetired,
	string(ec2types.ReservedInstanceStatePaymentFailed):  roleFailed,
	string(ec2types.ReservedInstanceStateQueuedDeleted):  roleWithdrawn,
}

// details fills what every finding says of reservation ri.
func (c EC2ReservedInstances) details(f *Finding, t Target, ri ec2types.ReservedInstances) {
	f.SetDetail("instance_type", string(ri.InstanceType))
	f.SetDetail("count", fmt.Sprint(aws.ToInt32(ri.InstanceCount)))
	f.SetDetail("platform", string(ri.ProductDescription))
	f.SetDetail("scope", string(ri.Scope))
	f.SetDetail("availability_zone", aws.ToString(ri.AvailabilityZone))
	f.SetDetail("offering", fmt.Sprintf("%s %s", ri.OfferingClass, ri.OfferingType))
	if ri.Start != nil {
		f.SetDetail("start", DetailTime(*ri.Start))
	}
	f.ConsoleURL = fmt.Sprintf("https://%s/ec2/home?region=%s#ReservedInstances:reservedInstancesId=%s", consoleHost(t.Partition), t.Region, url.QueryEscape(f.ResourceID))
}

// endedEarly says whether retired reservation ri ended before its term, modified or exchanged, rather than at its
// end. AWS retires the original of a modification with End set to the modification time, which is the Start of the
// reservation that replaces it (EC2 User Guide, "Modify Reserved Instances": "Its end date is the start date of the
// new reservation, and the end date of the new reservation is the same as the end date of the original"), as an
// exchange of Convertible reservations does. So a replacement starts at the very instant ri ended, and is either a
// modification's successor (it keeps ri's end, short of a term of its own) or a Convertible reservation ri was
// exchanged for (a new term, perhaps of the same type when several were merged). Anything else starting then, or
// near then, is a purchase of its own: a modified reservation that in turn reaches its end unrenewed also ends before
// Start + Duration, and a purchase that happens to start beside that end must not hide the lapse.
func endedEarly(ri ec2types.ReservedInstances, all []ec2types.ReservedInstances) bool {
	if ri.End == nil || ri.Start == nil || ri.Duration == nil {
		return false
	}
	const slack = time.Hour // a term's end as AWS stamps it, to the hour
	end := *ri.End
	if !end.Before(ri.Start.Add(time.Duration(*ri.Duration)*time.Second - slack)) {
		return false // retired at the end of its term
	}
	for _, q := range all {
		if aws.ToString(q.ReservedInstancesId) == aws.ToString(ri.ReservedInstancesId) || q.Start == nil || !q.Start.Equal(end) {
			continue
		}
		switch q.State {
		case ec2types.ReservedInstanceStateActive, ec2types.ReservedInstanceStateRetired:
		default:
			continue // never in effect, or not yet: replaces nothing
		}
		exchanged := ri.OfferingClass == ec2types.OfferingClassTypeConvertible && q.OfferingClass == ec2types.OfferingClassTypeConvertible
		successor := q.End != nil && q.Duration != nil && q.End.Before(q.Start.Add(time.Duration(*q.Duration)*time.Second-slack))
		if exchanged || successor {
			return true
		}
	}
	return false
}

// sameConfiguration says whether q could renew ri: the same instance type, platform, scope, tenancy and, for a zonal
// reservation, zone.
func sameConfiguration(q, ri ec2types.ReservedInstances) bool {
	if q.InstanceType != ri.InstanceType || q.ProductDescription != ri.ProductDescription || q.Scope != ri.Scope || q.InstanceTenancy != ri.InstanceTenancy {
		return false
	}
	return ri.Scope != ec2types.ScopeAvailabilityZone || aws.ToString(q.AvailabilityZone) == aws.ToString(ri.AvailabilityZone)
}

// ec2Prices reads ri's prices as PER INSTANCE: the EC2 API Reference words InstanceCount as "the number of
// reservations purchased", FixedPrice as "the purchase price of the Reserved Instance" and UsagePrice as "the usage
// price of the Reserved Instance, per hour"; the offering (ReservedInstancesOffering) carries the same prices with no
// count, PurchaseReservedInstancesOffering takes "the number of Reserved Instances to purchase" (InstanceCount), and
// a Marketplace offering's PricingDetail is "the price per instance". CurrencyCode: the reference says "the only
// supported currency is USD", so one left out is USD.
func ec2Prices(ri ec2types.ReservedInstances) unitPrices {
	p := unitPrices{countField: "InstanceCount", count: aws.ToInt32(ri.InstanceCount), seconds: aws.ToInt64(ri.Duration),
		fixed: float32Price(ri.FixedPrice), usage: float32Price(ri.UsagePrice), currency: string(ri.CurrencyCode), payment: string(ri.OfferingType)}
	if p.currency == "" {
		p.currency = string(ec2types.CurrencyCodeValuesUsd)
	}
	for _, rc := range ri.RecurringCharges {
		frequency := string(rc.Frequency)
		c := recurringCharge{amount: rc.Amount}
		if frequency != "" {
			c.frequency = &frequency
		}
		p.recurring = append(p.recurring, c)
	}
	return p
}
