package checks

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

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
		textColumn("Instance type").as(RoleType), numberColumn("Count").as(RoleCount), textColumn("Reservation name"),
		textColumn("Payment option"), numberColumn("Term (years)"), dateColumn("Start"), numberColumn("Upfront"), textColumn("Currency"),
		textColumn("Offering ID"), textColumn("Renewal").as(RoleRenewal).wide(60)}}
}
func (OpenSearchReservedInstances) DigestDetail(*Finding) string { return "" }

// OpenSearch reports State as a plain string; these are the values its developer guide shows.
const (
	osActive         = "active"
	osPaymentPending = "payment-pending"
	osRetired        = "retired"
)

func (c OpenSearchReservedInstances) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, opensearch.NewFromConfig(t.Config), t)
}

func (c OpenSearchReservedInstances) run(ctx context.Context, api opensearch.DescribeReservedInstancesAPIClient, t Target) ([]Finding, error) {
	// Every state comes back unfiltered; a renewal can sit on any page, so the whole listing is read first.
	var ending, renewals []ostypes.ReservedInstance
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
		for _, ri := range page.ReservedInstances {
			dated := ri.StartTime != nil && ri.Duration > 0
			switch aws.ToString(ri.State) {
			case osActive:
				ending = append(ending, ri)
				if dated {
					renewals = append(renewals, ri)
				}
			case osPaymentPending:
				if dated {
					renewals = append(renewals, ri)
				}
			case osRetired:
				if dated && lapsedWithin(t.AsOf, osEnd(ri), t.Limits) {
					ending = append(ending, ri)
				}
			}
		}
	}
	// Earliest end first, so each renewal is matched to the reservation it was most likely bought for; undated last.
	sort.SliceStable(ending, func(i, j int) bool {
		a, b := ending[i], ending[j]
		da, db := a.StartTime != nil && a.Duration > 0, b.StartTime != nil && b.Duration > 0
		if da != db {
			return da
		}
		return da && osEnd(a).Before(osEnd(b))
	})
	used := map[string]bool{}
	var out []Finding
	for _, ri := range ending {
		f := t.finding(c.Name(), "AWS::OpenSearchService::ReservedInstance", aws.ToString(ri.ReservedInstanceId))
		f.Status = aws.ToString(ri.State)
		f.ResourceName = aws.ToString(ri.ReservationName)
		var renewal *ostypes.ReservedInstance
		dated := ri.StartTime != nil && ri.Duration > 0
		ended := dated && !osEnd(ri).After(t.AsOf)
		if dated {
			renewal = osRenewalFor(ri, renewals, used, t)
		}
		switch {
		case !dated:
			unknownExpiry(&f, "StartTime or Duration")
		case ended && renewal != nil && renewal.InstanceCount >= ri.InstanceCount:
			continue // lapsed and bought again: nothing to do
		case ended:
			notRenewed(&f, t.AsOf, osEnd(ri))
		case !expiryFinding(&f, t.AsOf, osEnd(ri), t.Limits):
			continue
		}
		f.Details["Instance type"] = string(ri.InstanceType)
		f.Details["Count"] = fmt.Sprint(ri.InstanceCount)
		f.Details["Reservation name"] = aws.ToString(ri.ReservationName)
		f.Details["Payment option"] = string(ri.PaymentOption)
		if ri.Duration > 0 {
			f.Details["Term (years)"] = strconv.FormatFloat(float64(ri.Duration)/(365*24*3600), 'f', -1, 64)
		}
		if ri.StartTime != nil {
			f.Details["Start"] = DetailTime(*ri.StartTime)
		}
		if ri.FixedPrice != nil {
			f.Details["Upfront"] = strconv.FormatFloat(*ri.FixedPrice, 'f', -1, 64)
		}
		f.Details["Currency"] = aws.ToString(ri.CurrencyCode)
		f.Details["Offering ID"] = aws.ToString(ri.ReservedInstanceOfferingId)
		if renewal != nil {
			q := *renewal
			id := aws.ToString(q.ReservedInstanceId)
			f.Details["Renewal"] = fmt.Sprintf("%s: %d × %s from %s (%s)", id, q.InstanceCount, q.InstanceType, q.StartTime.UTC().Format("2006-01-02"), aws.ToString(q.State))
			f.Reason = strings.TrimSuffix(f.Reason, ", not renewed") // renewed, if only in part
			if q.InstanceCount >= ri.InstanceCount {
				f.Severity = Notice
				f.Reason += fmt.Sprintf("; renewal bought (%s)", id)
			} else {
				f.Reason += fmt.Sprintf("; renewal bought for only %d of %d instances (%s)", q.InstanceCount, ri.InstanceCount, id)
			}
		}
		f.ConsoleURL = fmt.Sprintf("https://%s/aos/home?region=%s#opensearch/reserved-instances", consoleHost(t.Partition), t.Region)
		out = append(out, f)
	}
	return out, nil
}

// osRenewalFor finds an unused, dated reservation of the same instance type that was bought within renewalWindow and
// outlasts ri, and marks it used.
func osRenewalFor(ri ostypes.ReservedInstance, candidates []ostypes.ReservedInstance, used map[string]bool, t Target) *ostypes.ReservedInstance {
	end := osEnd(ri)
	from, to := renewalWindow(t.AsOf, end, t.Limits)
	for i, q := range candidates {
		id := aws.ToString(q.ReservedInstanceId)
		if used[id] || id == aws.ToString(ri.ReservedInstanceId) || q.InstanceType != ri.InstanceType {
			continue
		}
		if !q.StartTime.Before(from) && !q.StartTime.After(to) && osEnd(q).After(end) {
			used[id] = true
			return &candidates[i]
		}
	}
	return nil
}

// osEnd computes the end of a reservation: OpenSearch reports no end, only StartTime and Duration in seconds.
func osEnd(ri ostypes.ReservedInstance) time.Time {
	return ri.StartTime.Add(time.Duration(ri.Duration) * time.Second)
}
