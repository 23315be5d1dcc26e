package checks

import (
	"context"
	"fmt"
	"math"
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
		moneyColumn("commitment_usd_per_hour", "Commitment (USD/h)").as(RoleCommitment), textColumn("currency", "Currency"), textColumn("payment_option", "Payment option"),
		numberColumn("term_years", "Term (years)"), dateColumn("start", "Start"), moneyColumn("upfront", "Upfront"), textColumn("offering_id", "Offering ID"),
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
	var plans []savingsPlan
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
			plans = append(plans, readSavingsPlan(sp))
		}
		if page.NextToken == nil || *page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	items := make([]commitment, len(plans))
	statuses := make([]string, len(plans))
	for i := range plans {
		p := &plans[i]
		items[i] = commitment{ID: aws.ToString(p.SavingsPlanId), Role: savingsPlanStates[string(p.State)]}
		if p.hasStart {
			items[i].Start = &p.start
		}
		if p.ends {
			items[i].End = &p.end
		}
		statuses[i] = string(p.State)
	}
	k := commitmentKind{check: c.Name(), resourceType: "AWS::SavingsPlans::SavingsPlan", missing: "end", purchase: "plan",
		queuedFirst: true, sameKind: func(i, j int) bool { return sameSavingsPlanKind(plans[j], plans[i]) },
		covers: func(i, j int) bool { return covers(plans[j], plans[i]) },
		renewal: func(i, j int) (detail, how, shortfall string) {
			p, q := plans[i], plans[j]
			id := aws.ToString(q.SavingsPlanId)
			how = "queued"
			if q.State != sptypes.SavingsPlanStateQueued {
				how = "bought outright, " + string(q.State)
			}
			detail = fmt.Sprintf("%s: %s %s/h from %s (%s)", id, q.SavingsPlanType, aws.ToString(q.Commitment), q.start.UTC().Format("2006-01-02"), how)
			return detail, how, fmt.Sprintf("commits only %s of %s per hour", aws.ToString(q.Commitment), aws.ToString(p.Commitment))
		},
		price: func(i int) (priced, string) { return savingsPlanPrice(plans[i]) }}
	var out []Finding
	for _, tf := range commitmentFindings(t, k, items, statuses) {
		f := tf.Finding
		c.describe(&f, t, plans[tf.item])
		out = append(out, f)
	}
	return out, nil
}

// savingsPlanStates are the plans' states (SavingsPlanState). queued-deleted, pending-return and returned are ended,
// or being ended, on purpose: a queued purchase deleted before it started, a plan returned (ReturnSavingsPlan) or on
// its way back; none is a lapse, and none renews anything. Any other state is reported as not recognised.
var savingsPlanStates = termStates{
	string(sptypes.SavingsPlanStateActive):         roleActive,
	string(sptypes.SavingsPlanStatePaymentPending): rolePending,
	string(sptypes.SavingsPlanStateQueued):         roleQueued,
	string(sptypes.SavingsPlanStateRetired):        roleRetired,
	string(sptypes.SavingsPlanStatePaymentFailed):  roleFailed,
	string(sptypes.SavingsPlanStateQueuedDeleted):  roleWithdrawn,
	string(sptypes.SavingsPlanStatePendingReturn):  roleWithdrawn,
	string(sptypes.SavingsPlanStateReturned):       roleWithdrawn,
}

// describe fills what every finding of plan p says about it.
func (c SavingsPlans) describe(f *Finding, t Target, p savingsPlan) {
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

// sameSavingsPlanKind says whether q could renew p: of the same type (and, for an EC2 Instance plan, the same family
// and region) and currency.
func sameSavingsPlanKind(q, p savingsPlan) bool {
	return q.SavingsPlanType == p.SavingsPlanType && q.Currency == p.Currency &&
		aws.ToString(q.Ec2InstanceFamily) == aws.ToString(p.Ec2InstanceFamily) && aws.ToString(q.Region) == aws.ToString(p.Region)
}

// covers says renewal q commits at least as much per hour as p: a smaller one leaves part of the usage at on-demand
// rates. A commitment that does not read as a number covers nothing the audit can vouch for.
func covers(q, p savingsPlan) bool {
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

// savingsPlanPrice reads p's price: its commitment is the WHOLE hourly figure for the plan, "the hourly commitment
// amount in the specified currency" (Savings Plans API Reference, SavingsPlan), of which the upfront and recurring
// payments are parts (Cost Explorer's SavingsPlansAmortizedCommitment: the total amortized commitment "includes the sum
// of the upfront and recurring Savings Plans fees"), so nothing is added to it. upfrontPaymentAmount is the whole
// plan's: a plan is one commitment, with no count of units. Its units, for a renewal's shortfall, are the hourly
// commitment.
func savingsPlanPrice(p savingsPlan) (priced, string) {
	pr := priced{term: termTextSeconds(p.TermDurationInSeconds), paymentOption: string(p.PaymentOption)}
	commitment, err := strconv.ParseFloat(strings.TrimSpace(aws.ToString(p.Commitment)), 64)
	if err != nil || math.IsNaN(commitment) || math.IsInf(commitment, 0) || commitment <= 0 {
		return pr, fmt.Sprintf("its commitment %q does not read as an amount above 0", aws.ToString(p.Commitment))
	}
	pr.units = commitment
	upfront, err := strconv.ParseFloat(strings.TrimSpace(aws.ToString(p.UpfrontPaymentAmount)), 64)
	switch {
	case err == nil && !math.IsNaN(upfront) && !math.IsInf(upfront, 0) && upfront >= 0:
		pr.upfront = upfront
	case p.PaymentOption == sptypes.SavingsPlanPaymentOptionNoUpfront && p.UpfrontPaymentAmount == nil:
		// nothing paid upfront
	default:
		return pr, fmt.Sprintf("its upfrontPaymentAmount %q does not read as an amount", aws.ToString(p.UpfrontPaymentAmount))
	}
	if p.Currency == "" {
		return pr, "AWS reported no currency"
	}
	pr.currency = string(p.Currency)
	pr.perHour = commitment
	return pr, ""
}
