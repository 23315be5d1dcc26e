package checks

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

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
		textColumn("Node type").as(RoleType), numberColumn("Count").as(RoleCount), textColumn("Offering"), textColumn("Term"),
		dateColumn("Start"), numberColumn("Upfront (USD)"), numberColumn("Hourly (USD)"), textColumn("Offering ID"),
		textColumn("ARN").wide(60), textColumn("Renewal").as(RoleRenewal).wide(60)}}
}
func (MemoryDBReservedNodes) DigestDetail(*Finding) string { return "" }

// MemoryDB reports State as a plain string. Its references name no values; these are the ones its reservations share
// with ElastiCache's, which MemoryDB's reserved nodes follow.
const (
	memorydbActive         = "active"
	memorydbPaymentPending = "payment-pending"
	memorydbRetired        = "retired"
)

func (c MemoryDBReservedNodes) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, memorydb.NewFromConfig(t.Config), t)
}

func (c MemoryDBReservedNodes) run(ctx context.Context, api memorydb.DescribeReservedNodesAPIClient, t Target) ([]Finding, error) {
	// Every state comes back unfiltered; a renewal can sit on any page, so the whole listing is read first.
	var ending, renewals []memorydbtypes.ReservedNode
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
		for _, n := range page.ReservedNodes {
			switch aws.ToString(n.State) {
			case memorydbActive:
				ending = append(ending, n)
				if memorydbDated(n) {
					renewals = append(renewals, n)
				}
			case memorydbPaymentPending:
				if memorydbDated(n) {
					renewals = append(renewals, n)
				}
			case memorydbRetired:
				if memorydbDated(n) && lapsedWithin(t.AsOf, memorydbEnd(n), t.Limits) {
					ending = append(ending, n)
				}
			}
		}
	}
	// Earliest end first, so each renewal is matched to the reservation it was most likely bought for; undated last.
	sort.SliceStable(ending, func(i, j int) bool {
		a, b := ending[i], ending[j]
		if memorydbDated(a) != memorydbDated(b) {
			return memorydbDated(a)
		}
		return memorydbDated(a) && memorydbEnd(a).Before(memorydbEnd(b))
	})
	used := map[string]bool{}
	var out []Finding
	for _, n := range ending {
		f := t.finding(c.Name(), "AWS::MemoryDB::ReservedNode", aws.ToString(n.ReservationId))
		f.Status = aws.ToString(n.State)
		dated := memorydbDated(n)
		var renewal *memorydbtypes.ReservedNode
		if dated {
			renewal = memorydbRenewalFor(n, renewals, used, t)
		}
		ended := dated && !memorydbEnd(n).After(t.AsOf)
		switch {
		case !dated:
			unknownExpiry(&f, "StartTime or Duration")
		case ended && renewal != nil && renewal.NodeCount >= n.NodeCount:
			continue // lapsed and bought again: nothing to do
		case ended:
			notRenewed(&f, t.AsOf, memorydbEnd(n))
		case !expiryFinding(&f, t.AsOf, memorydbEnd(n), t.Limits):
			continue
		}
		f.Details["Node type"] = aws.ToString(n.NodeType)
		f.Details["Count"] = strconv.Itoa(int(n.NodeCount))
		f.Details["Offering"] = aws.ToString(n.OfferingType)
		f.Details["Term"] = memorydbTerm(n.Duration)
		if n.StartTime != nil {
			f.Details["Start"] = DetailTime(*n.StartTime)
		}
		f.Details["Upfront (USD)"] = strconv.FormatFloat(n.FixedPrice, 'f', -1, 64)
		if hourly, ok := memorydbHourly(n.RecurringCharges); ok {
			f.Details["Hourly (USD)"] = strconv.FormatFloat(hourly, 'f', -1, 64)
		}
		f.Details["Offering ID"] = aws.ToString(n.ReservedNodesOfferingId)
		f.Details["ARN"] = aws.ToString(n.ARN)
		if renewal != nil {
			q := *renewal
			id := aws.ToString(q.ReservationId)
			f.Details["Renewal"] = fmt.Sprintf("%s: %d × %s from %s (%s)", id, q.NodeCount, aws.ToString(q.NodeType), q.StartTime.UTC().Format("2006-01-02"), aws.ToString(q.State))
			f.Reason = strings.TrimSuffix(f.Reason, ", not renewed") // renewed, if only in part
			if q.NodeCount >= n.NodeCount {
				f.Severity = Notice
				f.Reason += fmt.Sprintf("; renewal bought (%s)", id)
			} else {
				f.Reason += fmt.Sprintf("; renewal bought for only %d of %d nodes (%s)", q.NodeCount, n.NodeCount, id)
			}
		}
		f.ConsoleURL = fmt.Sprintf("https://%s/memorydb/home?region=%s#/reserved-nodes", consoleHost(t.Partition), t.Region)
		out = append(out, f)
	}
	return out, nil
}

// memorydbRenewalFor finds an unused, dated reservation of the same node type that was bought within renewalWindow
// and outlasts n, and marks it used.
func memorydbRenewalFor(n memorydbtypes.ReservedNode, candidates []memorydbtypes.ReservedNode, used map[string]bool, t Target) *memorydbtypes.ReservedNode {
	end := memorydbEnd(n)
	from, to := renewalWindow(t.AsOf, end, t.Limits)
	for i, q := range candidates {
		id := aws.ToString(q.ReservationId)
		if used[id] || id == aws.ToString(n.ReservationId) || aws.ToString(q.NodeType) != aws.ToString(n.NodeType) {
			continue
		}
		if !q.StartTime.Before(from) && !q.StartTime.After(to) && memorydbEnd(q).After(end) {
			used[id] = true
			return &candidates[i]
		}
	}
	return nil
}

// memorydbDated says AWS reported what the end is computed from; Duration is a plain integer in the SDK, so a missing
// one reads as zero.
func memorydbDated(n memorydbtypes.ReservedNode) bool { return n.StartTime != nil && n.Duration > 0 }

// memorydbEnd computes the end of a reservation: MemoryDB reports no end, only StartTime and Duration in seconds.
func memorydbEnd(n memorydbtypes.ReservedNode) time.Time {
	return n.StartTime.Add(time.Duration(n.Duration) * time.Second)
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

// memorydbTerm words a reservation's Duration in seconds as its offering is sold: whole years of 365 days, else days.
func memorydbTerm(seconds int32) string {
	const year = 365 * 24 * 3600
	switch {
	case seconds <= 0:
		return ""
	case seconds == year:
		return "1 year"
	case seconds%year == 0:
		return fmt.Sprintf("%d years", seconds/year)
	}
	return fmt.Sprintf("%d days", seconds/(24*3600))
}
