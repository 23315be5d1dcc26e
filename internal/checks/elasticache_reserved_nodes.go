package checks

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

// ElastiCacheReservedNodes finds active reserved cache nodes about to expire and those that lapsed unrenewed within
// Limits.LapsedDays. ElastiCache has no queued purchases: a renewal is a reservation bought outright.
type ElastiCacheReservedNodes struct{}

func (ElastiCacheReservedNodes) Name() string { return "elasticache-reserved-nodes" }
func (ElastiCacheReservedNodes) Title() string {
	return "ElastiCache reserved nodes expiring or lapsed"
}
func (ElastiCacheReservedNodes) Actions() []string {
	return []string{"elasticache:DescribeReservedCacheNodes"}
}
func (ElastiCacheReservedNodes) Layout() Layout {
	return Layout{Expiry: true, Kind: "ElastiCache reserved node", Columns: []Column{
		textColumn("cache_node_type", "Cache node type").as(RoleType), numberColumn("count", "Count").as(RoleCount), textColumn("engine", "Engine"),
		textColumn("offering", "Offering"), textColumn("term", "Term"), dateColumn("start", "Start"), moneyColumn("upfront_per_node_usd", "Upfront per node (USD)"),
		moneyColumn("hourly_per_node_usd", "Hourly per node (USD)"), moneyColumn("commitment_usd_per_hour", "Commitment (USD/h)").as(RoleCommitment), textColumn("offering_id", "Offering ID"),
		textColumn("renewal", "Renewal").as(RoleRenewal).wide(60)}}
}
func (ElastiCacheReservedNodes) DigestDetail(*Finding) string { return "" }

// ElastiCache reports State as a plain string its references do not enumerate; these are the values its console and
// CLI show. Any other is reported as not recognised.
var elastiCacheStates = termStates{"active": roleActive, "payment-pending": rolePending, "retired": roleRetired}

func (c ElastiCacheReservedNodes) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, elasticache.NewFromConfig(t.Config), t)
}

func (c ElastiCacheReservedNodes) run(ctx context.Context, api elasticache.DescribeReservedCacheNodesAPIClient, t Target) ([]Finding, error) {
	// Every state comes back unfiltered (the API filters by type, duration, engine and offering, not state); a renewal
	// can sit on any page, so the whole listing is read first.
	var nodes []ectypes.ReservedCacheNode
	pages := elasticache.NewDescribeReservedCacheNodesPaginator(api, &elasticache.DescribeReservedCacheNodesInput{})
	tokens := NewPageTokens("DescribeReservedCacheNodes")
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Next(page.Marker)
		}
		if err != nil {
			return nil, fmt.Errorf("describe reserved cache nodes: %w", err)
		}
		nodes = append(nodes, page.ReservedCacheNodes...)
	}
	currency, noCurrency := partitionCurrency(t.Partition, "ElastiCache")
	items := make([]termReservation, len(nodes))
	for i, n := range nodes {
		items[i] = termReservation{ID: aws.ToString(n.ReservedCacheNodeId), Type: aws.ToString(n.CacheNodeType), State: aws.ToString(n.State),
			Match: aws.ToString(n.ProductDescription), Count: aws.ToInt32(n.CacheNodeCount), Start: n.StartTime, Duration: n.Duration,
			Prices: elastiCachePrices(n, currency, noCurrency)}
	}
	var out []Finding
	for _, tf := range termFindings(t, c.Name(), "AWS::ElastiCache::ReservedCacheNode", "nodes", elastiCacheStates, items) {
		f, n := tf.Finding, nodes[tf.item]
		f.SetDetail("cache_node_type", aws.ToString(n.CacheNodeType))
		f.SetDetail("count", fmt.Sprint(aws.ToInt32(n.CacheNodeCount)))
		f.SetDetail("engine", aws.ToString(n.ProductDescription))
		f.SetDetail("offering", aws.ToString(n.OfferingType))
		f.SetDetail("term", termText(n.Duration))
		if n.StartTime != nil {
			f.SetDetail("start", DetailTime(*n.StartTime))
		}
		if n.FixedPrice != nil {
			f.SetDetail("upfront_per_node_usd", priceText(*n.FixedPrice))
		}
		var recurring []recurringCharge
		for _, rc := range n.RecurringCharges {
			recurring = append(recurring, recurringCharge{amount: rc.RecurringChargeAmount, frequency: rc.RecurringChargeFrequency})
		}
		if n.UsagePrice != nil || len(recurring) > 0 {
			hourly := hourlyCharges(n.UsagePrice, recurring)
			f.SetDetail("hourly_per_node_usd", priceText(hourly))
			f.SetDetail("commitment_usd_per_hour", priceText(hourly*float64(aws.ToInt32(n.CacheNodeCount))))
		}
		f.SetDetail("offering_id", aws.ToString(n.ReservedCacheNodesOfferingId))
		f.ConsoleURL = fmt.Sprintf("https://%s/elasticache/home?region=%s#/reserved-nodes", consoleHost(t.Partition), t.Region)
		out = append(out, f)
	}
	return out, nil
}

// elastiCachePrices reads n's prices as PER NODE: the ElastiCache API Reference words FixedPrice and UsagePrice as
// "charged for this reserved cache node" and CacheNodeCount as "the number of cache nodes that have been reserved";
// the offering (ReservedCacheNodesOffering) carries the same prices with no count, and
// PurchaseReservedCacheNodesOffering takes the CacheNodeCount to buy; the reserved-nodes page describes "a low,
// one-time payment for each cache node you want to reserve". ElastiCache reports no currency: partitionCurrency
// says which the partition's price list uses.
func elastiCachePrices(n ectypes.ReservedCacheNode, currency, noCurrency string) unitPrices {
	p := unitPrices{countField: "CacheNodeCount", fixed: n.FixedPrice, usage: n.UsagePrice, currency: currency, noCurrency: noCurrency,
		payment: aws.ToString(n.OfferingType)}
	for _, rc := range n.RecurringCharges {
		p.recurring = append(p.recurring, recurringCharge{amount: rc.RecurringChargeAmount, frequency: rc.RecurringChargeFrequency})
	}
	return p
}
