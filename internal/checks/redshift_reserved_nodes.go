package checks

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
)

// RedshiftReservedNodes finds active reserved nodes about to expire and those that lapsed unrenewed within
// Limits.LapsedDays. Redshift has no queued purchases: a renewal is a reservation bought outright.
type RedshiftReservedNodes struct{}

func (RedshiftReservedNodes) Name() string      { return "redshift-reserved-nodes" }
func (RedshiftReservedNodes) Title() string     { return "Redshift reserved nodes expiring or lapsed" }
func (RedshiftReservedNodes) Actions() []string { return []string{"redshift:DescribeReservedNodes"} }
func (RedshiftReservedNodes) Layout() Layout {
	return Layout{Expiry: true, Kind: "Redshift reserved node", Columns: []Column{
		textColumn("node_type", "Node type").as(RoleType), numberColumn("count", "Count").as(RoleCount), textColumn("offering", "Offering"),
		textColumn("offering_class", "Offering class"), textColumn("term", "Term"), dateColumn("start", "Start"), moneyColumn("upfront_per_node", "Upfront per node"),
		moneyColumn("hourly_per_node", "Hourly per node"), textColumn("currency", "Currency"), moneyColumn("commitment_usd_per_hour", "Commitment (USD/h)").as(RoleCommitment),
		textColumn("offering_id", "Offering ID"), textColumn("renewal", "Renewal").as(RoleRenewal).wide(60)}}
}
func (RedshiftReservedNodes) DigestDetail(*Finding) string { return "" }

// Redshift's states, as its API reference lists them (ReservedNode.State). The pending state is pending-payment there
// and payment-pending in the CLI's own examples: a renewal in either spelling counts. exchanging (being traded for
// another reservation, which carries the capacity on, AcceptReservedNodeExchange) neither expires nor renews
// anything; the node it leaves behind is retired with its term still ahead, which the rules read as ended early.
var redshiftStates = termStates{"active": roleActive, "pending-payment": rolePending, "payment-pending": rolePending,
	"retired": roleRetired, "payment-failed": roleFailed, "exchanging": roleWithdrawn}

func (c RedshiftReservedNodes) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, redshift.NewFromConfig(t.Config), t)
}

func (c RedshiftReservedNodes) run(ctx context.Context, api redshift.DescribeReservedNodesAPIClient, t Target) ([]Finding, error) {
	// The API filters by nothing but an id; a renewal can sit on any page, so the whole listing is read first.
	var nodes []rstypes.ReservedNode
	pages := redshift.NewDescribeReservedNodesPaginator(api, &redshift.DescribeReservedNodesInput{})
	tokens := NewPageTokens("DescribeReservedNodes")
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Next(page.Marker)
		}
		if err != nil {
			return nil, fmt.Errorf("describe reserved nodes: %w", err)
		}
		nodes = append(nodes, page.ReservedNodes...)
	}
	items := make([]termReservation, len(nodes))
	for i, n := range nodes {
		items[i] = termReservation{ID: aws.ToString(n.ReservedNodeId), Type: aws.ToString(n.NodeType), State: aws.ToString(n.State),
			Count: aws.ToInt32(n.NodeCount), Start: n.StartTime, Duration: n.Duration, Prices: redshiftPrices(n)}
	}
	var out []Finding
	for _, tf := range termFindings(t, c.Name(), "AWS::Redshift::ReservedNode", "nodes", redshiftStates, items) {
		f, n := tf.Finding, nodes[tf.item]
		f.SetDetail("node_type", aws.ToString(n.NodeType))
		f.SetDetail("count", fmt.Sprint(aws.ToInt32(n.NodeCount)))
		f.SetDetail("offering", aws.ToString(n.OfferingType))
		f.SetDetail("offering_class", string(n.ReservedNodeOfferingType))
		f.SetDetail("term", termText(n.Duration))
		if n.StartTime != nil {
			f.SetDetail("start", DetailTime(*n.StartTime))
		}
		if n.FixedPrice != nil {
			f.SetDetail("upfront_per_node", priceText(*n.FixedPrice))
		}
		f.SetDetail("currency", aws.ToString(n.CurrencyCode))
		var recurring []recurringCharge
		for _, rc := range n.RecurringCharges {
			recurring = append(recurring, recurringCharge{amount: rc.RecurringChargeAmount, frequency: rc.RecurringChargeFrequency})
		}
		if n.UsagePrice != nil || len(recurring) > 0 {
			hourly := hourlyCharges(n.UsagePrice, recurring)
			f.SetDetail("hourly_per_node", priceText(hourly))
			// The Commitments sheet adds commitments up in USD: one priced in another currency is shown, not added.
			if cur := aws.ToString(n.CurrencyCode); cur == "" || cur == "USD" {
				f.SetDetail("commitment_usd_per_hour", priceText(hourly*float64(aws.ToInt32(n.NodeCount))))
			}
		}
		f.SetDetail("offering_id", aws.ToString(n.ReservedNodeOfferingId))
		f.ConsoleURL = fmt.Sprintf("https://%s/redshiftv2/home?region=%s#reserved-nodes", consoleHost(t.Partition), t.Region)
		out = append(out, f)
	}
	return out, nil
}

// redshiftPrices reads n's prices as PER NODE: the Redshift API Reference words FixedPrice as "the fixed cost Amazon
// Redshift charges you for this reserved node" and UsagePrice as "the hourly rate ... for this reserved node", with
// NodeCount "the number of reserved compute nodes"; the offering (ReservedNodeOffering) carries the same prices with
// no count, and PurchaseReservedNodeOffering takes the NodeCount to buy. The prices are in CurrencyCode.
func redshiftPrices(n rstypes.ReservedNode) unitPrices {
	p := unitPrices{countField: "NodeCount", fixed: n.FixedPrice, usage: n.UsagePrice, currency: aws.ToString(n.CurrencyCode),
		payment: aws.ToString(n.OfferingType)}
	for _, rc := range n.RecurringCharges {
		p.recurring = append(p.recurring, recurringCharge{amount: rc.RecurringChargeAmount, frequency: rc.RecurringChargeFrequency})
	}
	return p
}
