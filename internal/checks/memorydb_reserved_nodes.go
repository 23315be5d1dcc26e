package checks

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/memorydb"
	memorydbtypes "github.com/aws/aws-sdk-go-v2/service/memorydb/types"
)

// MemoryDBReservedNodes finds active MemoryDB reserved nodes about to expire and those that lapsed unrenewed within
// Limits.LapsedDays. AWS's own expiry alerts do not cover MemoryDB. Like RDS it has no queued purchases: a renewal is
// a reservation bought outright.
type MemoryDBReservedNodes struct{}

func (MemoryDBReservedNodes) Name() string      { return "memorydb-reserved-nodes" }
func (MemoryDBReservedNodes) Title() string     { return "MemoryDB reserved nodes expiring or lapsed" }
func (MemoryDBReservedNodes) Actions() []string { return []string{"memorydb:DescribeReservedNodes"} }
func (MemoryDBReservedNodes) Layout() Layout {
	return Layout{Expiry: true, Kind: "MemoryDB reserved node", Columns: []Column{
		textColumn("node_type", "Node type").as(RoleType), numberColumn("count", "Count").as(RoleCount), textColumn("offering", "Offering"), textColumn("term", "Term"),
		dateColumn("start", "Start"), moneyColumn("upfront_usd", "Upfront (USD)"), moneyColumn("hourly_usd", "Hourly (USD)"), textColumn("offering_id", "Offering ID"),
		textColumn("arn", "ARN").wide(60), textColumn("renewal", "Renewal").as(RoleRenewal).wide(60)}}
}
func (MemoryDBReservedNodes) DigestDetail(*Finding) string { return "" }

// MemoryDB reports State as a plain string. Its references name no values; these are the ones its reservations share
// with ElastiCache's, which MemoryDB's reserved nodes follow. Any other is reported as not recognised.
var memorydbStates = termStates{"active": roleActive, "payment-pending": rolePending, "retired": roleRetired}

func (c MemoryDBReservedNodes) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, memorydb.NewFromConfig(t.Config), t)
}

func (c MemoryDBReservedNodes) run(ctx context.Context, api memorydb.DescribeReservedNodesAPIClient, t Target) ([]Finding, error) {
	// Every state comes back unfiltered; a renewal can sit on any page, so the whole listing is read first.
	var nodes []memorydbtypes.ReservedNode
	pages := memorydb.NewDescribeReservedNodesPaginator(api, &memorydb.DescribeReservedNodesInput{})
	tokens := NewPageTokens("DescribeReservedNodes")
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Next(page.NextToken)
		}
		if err != nil {
			return nil, fmt.Errorf("describe memorydb reserved nodes: %w", err)
		}
		nodes = append(nodes, page.ReservedNodes...)
	}
	currency, noCurrency := partitionCurrency(t.Partition, "MemoryDB")
	items := make([]termReservation, len(nodes))
	for i, n := range nodes {
		items[i] = memorydbReservation(n)
		items[i].Prices = memorydbPrices(n, currency, noCurrency)
	}
	var out []Finding
	for _, tf := range termFindings(t, c.Name(), "AWS::MemoryDB::ReservedNode", "nodes", memorydbStates, items) {
		f, n := tf.Finding, nodes[tf.item]
		f.SetDetail("node_type", aws.ToString(n.NodeType))
		f.SetDetail("count", strconv.Itoa(int(n.NodeCount)))
		f.SetDetail("offering", aws.ToString(n.OfferingType))
		f.SetDetail("term", termText(items[tf.item].Duration))
		if n.StartTime != nil {
			f.SetDetail("start", DetailTime(*n.StartTime))
		}
		f.SetDetail("upfront_usd", strconv.FormatFloat(n.FixedPrice, 'f', -1, 64))
		if hourly, ok := memorydbHourly(n.RecurringCharges); ok {
			f.SetDetail("hourly_usd", strconv.FormatFloat(hourly, 'f', -1, 64))
		}
		f.SetDetail("offering_id", aws.ToString(n.ReservedNodesOfferingId))
		f.SetDetail("arn", aws.ToString(n.ARN))
		f.ConsoleURL = fmt.Sprintf("https://%s/memorydb/home?region=%s#/reserved-nodes", consoleHost(t.Partition), t.Region)
		out = append(out, f)
	}
	return out, nil
}

// memorydbReservation is n as the shared commitment rules read it. Duration is a plain integer in MemoryDB's SDK, so
// a missing one reads as zero: no Duration, for the rules, and no end.
func memorydbReservation(n memorydbtypes.ReservedNode) termReservation {
	r := termReservation{ID: aws.ToString(n.ReservationId), Type: aws.ToString(n.NodeType), State: aws.ToString(n.State),
		Count: n.NodeCount, Start: n.StartTime}
	if n.Duration > 0 {
		r.Duration = aws.Int32(n.Duration)
	}
	return r
}

// memorydbHourly sums the recurring charges billed by the hour; ok is false when there are none to show.
func memorydbHourly(charges []memorydbtypes.RecurringCharge) (float64, bool) {
	var sum float64
	var ok bool
	for _, ch := range charges {
		if strings.EqualFold(aws.ToString(ch.RecurringChargeFrequency), "Hourly") {
			sum += ch.RecurringChargeAmount
			ok = true
		}
	}
	return sum, ok
}

// memorydbPrices reads n's prices as PER NODE: the MemoryDB API Reference words FixedPrice as "the fixed price charged
// for this reserved node" and RecurringCharges as "the recurring price charged to run this reserved node", with
// NodeCount "the number of nodes that have been reserved"; the offering (ReservedNodesOffering) carries the same
// prices with no count, and PurchaseReservedNodesOffering takes the NodeCount to buy. MemoryDB reports no UsagePrice
// (its hourly price is a recurring charge) and no currency: partitionCurrency says which the partition's price list
// uses. FixedPrice is a plain number in the SDK, so a missing one reads as 0; a reservation with no price at all is
// still told unknown (reservationPrice).
func memorydbPrices(n memorydbtypes.ReservedNode, currency, noCurrency string) unitPrices {
	fixed := n.FixedPrice
	p := unitPrices{countField: "NodeCount", fixed: &fixed, currency: currency, noCurrency: noCurrency, payment: aws.ToString(n.OfferingType)}
	for _, rc := range n.RecurringCharges {
		amount := rc.RecurringChargeAmount
		p.recurring = append(p.recurring, recurringCharge{amount: &amount, frequency: rc.RecurringChargeFrequency})
	}
	return p
}
