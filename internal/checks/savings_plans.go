package checks

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"
	sptypes "github.com/aws/aws-sdk-go-v2/service/savingsplans/types"
)

// SavingsPlans finds Savings Plans about to end, those that ended unrenewed within Limits.LapsedDays, and purchases
// whose payment failed. A plan belongs to the account, not to a region: the check runs once per account.
type SavingsPlans struct{}

type savingsPlansAPI interface {
	DescribeSavingsPlans(context.Context, *savingsplans.DescribeSavingsPlansInput, ...func(*savingsplans.Options)) (*savingsplans.DescribeSavingsPlansOutput, error)
}

func (SavingsPlans) Name() string      { return "savings-plans" }
func (SavingsPlans) Title() string     { return "Savings Plans expiring, lapsed or unpaid" }
func (SavingsPlans) Actions() []string { return []string{"savingsplans:DescribeSavingsPlans"} }
func (SavingsPlans) Layout() Layout {
	return Layout{Expiry: true, AccountWide: true, Kind: "Savings Plan", Columns: []Column{
		textColumn("plan_type", "Plan type").as(RoleType), textColumn("instance_family", "Instance family"), textColumn("plan_region", "Plan region"),
		numberColumn("commitment_usd_per_hour", "Commitment (USD/h)").as(RoleCommitment), textColumn("currency", "Currency"), textColumn("payment_option", "Payment option"),
		numberColumn("term_years", "Term (years)"), dateColumn("start", "Start"), numberColumn("upfront", "Upfront"), textColumn("offering_id", "Offering ID"),
		textColumn("renewal", "Renewal").as(RoleRenewal).wide(60)}}
}
func (SavingsPlans) DigestDetail(f *Finding) string {
	if c := f.Detail("commitment_usd_per_hour"); c != "" {
		return f.Detail("plan_type") + ", $" + c + "/h"
	}
	return ""
}

// savingsPlansSigningRegion is the region a client in partition signs for. In the aws partition the SDK's endpoint
// rules (service/savingsplans endpoints.go) send every region to the one global endpoint, savingsplans.amazonaws.com,
// signed for us-east-1; naming that region keeps the signature right where BaseEndpoint replaces the host (a proxy,
// the simulator). Elsewhere the rules give a regional endpoint, so the account's own configured region is used.
func savingsPlansSigningRegion(partition, configured string) string {
	if partition == "" || partition == "aws" {
		return "us-east-1"
	}
	return configured
}

func (c SavingsPlans) Run(ctx context.Context, t Target) ([]Finding, error) {
	api := savingsplans.NewFromConfig(t.Config, func(o *savingsplans.Options) {
		o.Region = savingsPlansSigningRegion(t.Partition, t.Config.Region)
	})
	return c.run(ctx, api, t)
}

// savingsPlan is a plan with its dates read: AWS reports start and end as text.
type savingsPlan struct {
	sptypes.SavingsPlan
	start, end     time.Time
	hasStart, ends bool
}

func (c SavingsPlans) run(ctx context.Context, api savingsPlansAPI, t Target) ([]Finding, error) {
	// Every state comes back unfiltered (the states filter would drop nothing the check wants); a renewal can sit on
	// any page, so the whole listing is read first. The SDK has no paginator for this operation.
	var ending, renewals, unpaid, unknown []savingsPlan
	tokens := NewPageTokens("DescribeSavingsPlans")
	in := &savingsplans.DescribeSavingsPlansInput{}
	for {
		page, err := api.DescribeSavingsPlans(ctx, in)
		if err == nil {
			err = tokens.Next(page.NextToken)
		}
		if err != nil {
			return nil, fmt.Errorf("describe savings plans: %w", err)
		}
		for _, sp := range page.SavingsPlans {
			p := readSavingsPlan(sp)
			switch sp.State {
			case sptypes.SavingsPlanStateActive:
				ending = append(ending, p)
				if p.hasStart && p.ends {
					renewals = append(renewals, p)
				}
			case sptypes.SavingsPlanStateQueued, sptypes.SavingsPlanStatePaymentPending:
				if p.hasStart && p.ends {
					renewals = append(renewals, p)
				}
			case sptypes.SavingsPlanStateRetired:
				// Without a readable end it is reported with its expiry unknown; one whose end is still ahead did
				// not lapse.
				if !p.ends || lapsedWithin(t.AsOf, p.end, t.Limits) {
					ending = append(ending, p)
				}
			case sptypes.SavingsPlanStatePaymentFailed:
				// A purchase whose payment failed is not in effect; one that was to start more than LapsedDays ago
				// is history.
				if !p.hasStart || recentPurchase(t, p.start) {
					unpaid = append(unpaid, p)
				}
			case sptypes.SavingsPlanStateQueuedDeleted, sptypes.SavingsPlanStatePendingReturn, sptypes.SavingsPlanStateReturned:
				// Ended, or being ended, on purpose: a queued purchase deleted before it started, a plan returned
				// (ReturnSavingsPlan) or on its way back. None is a lapse, and none renews anything.
			default:
				unknown = append(unknown, p)
			}
		}
		if page.NextToken == nil || *page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	// Earliest end first, so each renewal is matched to the plan it was most likely bought for; undated last.
	sort.SliceStable(ending, func(i, j int) bool {
		a, b := ending[i], ending[j]
		if a.ends != b.ends {
			return a.ends
		}
		return a.ends && a.end.Before(b.end)
	})
	used := map[string]bool{}
	var out []Finding
	for _, p := range ending {
		f := c.finding(t, p)
		var renewal *savingsPlan
		if p.ends {
			renewal = savingsPlanRenewalFor(p, renewals, used, t)
		}
		ended := p.ends && !p.end.After(t.AsOf)
		covered := renewal != nil && covers(renewal, p)
		// Lapsed, the gap lasts until the renewal is in effect: queued to start later, or its payment pending.
		pending := renewal != nil && renewal.State != sptypes.SavingsPlanStateActive
		switch {
		case !p.ends:
			unknownExpiry(&f, "end")
		case ended && covered && !pending:
			continue // lapsed and bought again: nothing to do
		case ended:
			notRenewed(&f, t.AsOf, p.end)
		case !expiryFinding(&f, t.AsOf, p.end, t.Limits):
			continue
		}
		if renewal != nil {
			q := renewal
			id := aws.ToString(q.SavingsPlanId)
			how := "queued"
			if q.State != sptypes.SavingsPlanStateQueued {
				how = "bought outright, " + string(q.State)
			}
			f.SetDetail("renewal", fmt.Sprintf("%s: %s %s/h from %s (%s)", id, q.SavingsPlanType, aws.ToString(q.Commitment), q.start.UTC().Format("2006-01-02"), how))
			f.Reason = strings.TrimSuffix(f.Reason, ", not renewed") // renewed, if only in part
			switch {
			case covered && ended:
				f.Severity = Warning // lapsed: covered only once the renewal is in effect
				f.Reason += fmt.Sprintf("; renewal %s (%s)", how, id)
			case covered:
				f.Severity = Notice
				f.Reason += fmt.Sprintf("; renewal %s (%s)", how, id)
			default:
				f.Reason += fmt.Sprintf("; renewal %s commits only %s of %s per hour (%s)", how, aws.ToString(q.Commitment), aws.ToString(p.Commitment), id)
			}
		}
		out = append(out, f)
	}
	for _, p := range unpaid {
		f := c.finding(t, p)
		f.Severity = Critical
		f.Reason = "payment failed: the plan is not in effect"
		if p.hasStart {
			f.Reason = "payment failed: the plan due to start " + p.start.UTC().Format("2006-01-02") + " is not in effect"
		}
		out = append(out, f)
	}
	for _, p := range unknown {
		f := c.finding(t, p)
		var end *time.Time
		if p.ends {
			end = &p.end
		}
		stateNotRecognised(&f, string(p.State), end)
		out = append(out, f)
	}
	return out, nil
}

// finding fills what every finding of plan p says about it.
func (c SavingsPlans) finding(t Target, p savingsPlan) Finding {
	f := t.finding(c.Name(), "AWS::SavingsPlans::SavingsPlan", aws.ToString(p.SavingsPlanId))
	f.Status = string(p.State)
	f.ResourceName = aws.ToString(p.Description)
	f.SetDetail("plan_type", string(p.SavingsPlanType))
	f.SetDetail("instance_family", aws.ToString(p.Ec2InstanceFamily))
	f.SetDetail("plan_region", aws.ToString(p.Region))
	f.SetDetail("currency", string(p.Currency))
	// The commitment column is USD per hour across every kind; a plan bought in another currency says so in Currency
	// and in its reason rather than mixing currencies in one column.
	if amount, ok := decimal(p.Commitment); ok && (p.Currency == "" || p.Currency == sptypes.CurrencyCodeUsd) {
		f.SetDetail("commitment_usd_per_hour", amount)
	}
	f.SetDetail("payment_option", string(p.PaymentOption))
	if p.TermDurationInSeconds != 0 {
		f.SetDetail("term_years", strconv.FormatFloat(float64(p.TermDurationInSeconds)/(365*24*3600), 'f', -1, 64))
	}
	if p.hasStart {
		f.SetDetail("start", DetailTime(p.start))
	}
	if amount, ok := decimal(p.UpfrontPaymentAmount); ok {
		f.SetDetail("upfront", amount)
	}
	f.SetDetail("offering_id", aws.ToString(p.OfferingId))
	f.ConsoleURL = fmt.Sprintf("https://%s/costmanagement/home#/savings-plans/inventory", consoleHost(t.Partition))
	return f
}

// readSavingsPlan parses a plan's start and end, which AWS reports as ISO 8601 text ("2026-11-22T12:00:00.000Z"). A
// value that does not parse is treated as missing: the plan is reported with an unknown expiry, never dropped.
func readSavingsPlan(sp sptypes.SavingsPlan) savingsPlan {
	p := savingsPlan{SavingsPlan: sp}
	if v, err := time.Parse(time.RFC3339, aws.ToString(sp.Start)); err == nil {
		p.start, p.hasStart = v, true
	}
	if v, err := time.Parse(time.RFC3339, aws.ToString(sp.End)); err == nil {
		p.end, p.ends = v, true
	}
	return p
}

// savingsPlanRenewalFor finds an unused plan that takes over from p, and marks it used: of the same type (and, for an
// EC2 Instance plan, the same family and region) and currency; queued to start within a day of p's end (or, once p
// has ended, any time after), or bought outright within renewalWindow and outlasting p.
func savingsPlanRenewalFor(p savingsPlan, candidates []savingsPlan, used map[string]bool, t Target) *savingsPlan {
	from, to := renewalWindow(t.AsOf, p.end, t.Limits)
	ended := !p.end.After(t.AsOf)
	// A queued plan says outright what it replaces, so it is matched before any plan bought outright.
	for _, queued := range []bool{true, false} {
		for i, q := range candidates {
			id := aws.ToString(q.SavingsPlanId)
			if used[id] || id == aws.ToString(p.SavingsPlanId) || (q.State == sptypes.SavingsPlanStateQueued) != queued ||
				q.SavingsPlanType != p.SavingsPlanType || q.Currency != p.Currency ||
				aws.ToString(q.Ec2InstanceFamily) != aws.ToString(p.Ec2InstanceFamily) || aws.ToString(q.Region) != aws.ToString(p.Region) {
				continue
			}
			gap := q.start.Sub(p.end)
			var renews bool
			if queued {
				renews = gap > -24*time.Hour && (gap < 24*time.Hour || ended)
			} else {
				renews = !q.start.Before(from) && !q.start.After(to) && q.end.After(p.end)
			}
			if renews {
				used[id] = true
				return &candidates[i]
			}
		}
	}
	return nil
}

// covers says renewal q commits at least as much per hour as p: a smaller one leaves part of the usage at on-demand
// rates. A commitment that does not read as a number covers nothing the audit can vouch for.
func covers(q *savingsPlan, p savingsPlan) bool {
	a, errA := strconv.ParseFloat(aws.ToString(q.Commitment), 64)
	b, errB := strconv.ParseFloat(aws.ToString(p.Commitment), 64)
	return errA == nil && errB == nil && a >= b
}

// decimal is an amount AWS reports as text, checked to be a number for a KindNumber column.
func decimal(s *string) (string, bool) {
	v := strings.TrimSpace(aws.ToString(s))
	if n, err := strconv.ParseFloat(v, 64); err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return "", false
	}
	return v, true
}
