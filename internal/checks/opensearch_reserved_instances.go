package checks

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	ostypes "github.com/aws/aws-sdk-go-v2/service/opensearch/types"
)

// OpenSearchReservedInstances finds active OpenSearch Service reserved instances about to expire and those that lapsed
// unrenewed within Limits.LapsedDays. OpenSearch has no queued purchases: a renewal is a reservation bought outright.
type OpenSearchReservedInstances struct{}

func (OpenSearchReservedInstances) Name() string { return "opensearch-reserved-instances" }
func (OpenSearchReservedInstances) Title() string {
	return "OpenSearch reserved instances expiring or lapsed"
}

// Actions: OpenSearch Service keeps its original IAM prefix, es (Service Authorization Reference, list_es).
func (OpenSearchReservedInstances) Actions() []string {
	return []string{"es:DescribeReservedInstances"}
}
func (OpenSearchReservedInstances) Layout() Layout {
	return Layout{Expiry: true, Kind: "OpenSearch reserved instance", Columns: []Column{
		textColumn("instance_type", "Instance type").as(RoleType), numberColumn("count", "Count").as(RoleCount), textColumn("reservation_name", "Reservation name"),
		textColumn("payment_option", "Payment option"), numberColumn("term_years", "Term (years)"), dateColumn("start", "Start"), moneyColumn("upfront", "Upfront"), textColumn("currency", "Currency"),
		textColumn("offering_id", "Offering ID"), textColumn("renewal", "Renewal").as(RoleRenewal).wide(60)}}
}
func (OpenSearchReservedInstances) DigestDetail(*Finding) string { return "" }

// OpenSearch reports State as a plain string its API reference does not enumerate; these are the values its developer
// guide shows. Any other is reported as not recognised.
var osStates = termStates{"active": roleActive, "payment-pending": rolePending, "retired": roleRetired}

func (c OpenSearchReservedInstances) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, opensearch.NewFromConfig(t.Config), t)
}

func (c OpenSearchReservedInstances) run(ctx context.Context, api opensearch.DescribeReservedInstancesAPIClient, t Target) ([]Finding, error) {
	// Every state comes back unfiltered; a renewal can sit on any page, so the whole listing is read first.
	var reserved []ostypes.ReservedInstance
	pages := opensearch.NewDescribeReservedInstancesPaginator(api, &opensearch.DescribeReservedInstancesInput{})
	tokens := NewPageTokens("DescribeReservedInstances")
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Next(page.NextToken)
		}
		if err != nil {
			return nil, fmt.Errorf("describe opensearch reserved instances: %w", err)
		}
		reserved = append(reserved, page.ReservedInstances...)
	}
	items := make([]termReservation, len(reserved))
	for i, ri := range reserved {
		items[i] = osReservation(ri)
	}
	var out []Finding
	for _, tf := range termFindings(t, c.Name(), "AWS::OpenSearchService::ReservedInstance", "instances", osStates, items) {
		f, ri := tf.Finding, reserved[tf.item]
		f.ResourceName = aws.ToString(ri.ReservationName)
		f.SetDetail("instance_type", string(ri.InstanceType))
		f.SetDetail("count", fmt.Sprint(ri.InstanceCount))
		f.SetDetail("reservation_name", aws.ToString(ri.ReservationName))
		f.SetDetail("payment_option", string(ri.PaymentOption))
		if ri.Duration > 0 {
			f.SetDetail("term_years", strconv.FormatFloat(float64(ri.Duration)/(365*24*3600), 'f', -1, 64))
		}
		if ri.StartTime != nil {
			f.SetDetail("start", DetailTime(*ri.StartTime))
		}
		if ri.FixedPrice != nil {
			f.SetDetail("upfront", strconv.FormatFloat(*ri.FixedPrice, 'f', -1, 64))
		}
		f.SetDetail("currency", aws.ToString(ri.CurrencyCode))
		f.SetDetail("offering_id", aws.ToString(ri.ReservedInstanceOfferingId))
		f.ConsoleURL = fmt.Sprintf("https://%s/aos/home?region=%s#opensearch/reserved-instances", consoleHost(t.Partition), t.Region)
		out = append(out, f)
	}
	return out, nil
}

// osReservation is ri as the shared commitment rules read it. Duration is a plain integer in OpenSearch's SDK, so a
// missing one reads as zero: no Duration, for the rules, and no end.
func osReservation(ri ostypes.ReservedInstance) termReservation {
	r := termReservation{ID: aws.ToString(ri.ReservedInstanceId), Type: string(ri.InstanceType), State: aws.ToString(ri.State),
		Count: ri.InstanceCount, Start: ri.StartTime, Prices: osPrices(ri)}
	if ri.Duration > 0 {
		r.Duration = aws.Int32(ri.Duration)
	}
	return r
}

// osPrices reads ri's prices as PER INSTANCE: the OpenSearch Service API Reference words FixedPrice as "the upfront
// fixed charge you will pay to purchase the specific Reserved Instance offering" and UsagePrice as "the hourly rate at
// which you're charged for the domain using this Reserved Instance", with InstanceCount "the number of OpenSearch
// instances that have been reserved"; the offering (ReservedInstanceOffering) carries the same prices with no count,
// and PurchaseReservedInstanceOffering takes the InstanceCount to buy. The prices are in CurrencyCode; PaymentOption
// comes as ALL_UPFRONT and is worded as the other services word it.
func osPrices(ri ostypes.ReservedInstance) unitPrices {
	p := unitPrices{countField: "InstanceCount", fixed: ri.FixedPrice, usage: ri.UsagePrice, currency: aws.ToString(ri.CurrencyCode),
		payment: paymentOptionName(string(ri.PaymentOption))}
	for _, rc := range ri.RecurringCharges {
		p.recurring = append(p.recurring, recurringCharge{amount: rc.RecurringChargeAmount, frequency: rc.RecurringChargeFrequency})
	}
	return p
}
