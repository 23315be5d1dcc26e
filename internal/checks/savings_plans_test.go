package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"
	sptypes "github.com/aws/aws-sdk-go-v2/service/savingsplans/types"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

type fakeSavingsPlans struct {
	pages [][]sptypes.SavingsPlan
	err   error
	calls int
	// repeat hands the first page's token back on every page.
	repeat bool
}

func (f *fakeSavingsPlans) DescribeSavingsPlans(_ context.Context, in *savingsplans.DescribeSavingsPlansInput, _ ...func(*savingsplans.Options)) (*savingsplans.DescribeSavingsPlansOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := &savingsplans.DescribeSavingsPlansOutput{}
	out.SavingsPlans, out.NextToken = fakePage(f.pages, in.NextToken)
	if f.repeat {
		out.NextToken = aws.String("1")
	}
	return out, nil
}

const spYear = 365 * 24 * time.Hour

// sp is a USD Compute plan from start to end, as AWS reports one: dates as ISO 8601 text with milliseconds.
func sp(id string, state sptypes.SavingsPlanState, start, end time.Time, commitment string) sptypes.SavingsPlan {
	iso := func(t time.Time) *string { return aws.String(t.UTC().Format("2006-01-02T15:04:05.000Z")) }
	return sptypes.SavingsPlan{SavingsPlanId: aws.String(id), State: state, Start: iso(start), End: iso(end),
		SavingsPlanType: sptypes.SavingsPlanTypeCompute, Commitment: aws.String(commitment), Currency: sptypes.CurrencyCodeUsd,
		PaymentOption: sptypes.SavingsPlanPaymentOptionNoUpfront, TermDurationInSeconds: 31536000, UpfrontPaymentAmount: aws.String("0.0"),
		OfferingId: aws.String("offer-" + id), Description: aws.String("plan " + id)}
}

func TestSavingsPlans(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	day := func(n int) time.Time { return asOf.AddDate(0, 0, n).Add(12 * time.Hour) }
	typed := func(p sptypes.SavingsPlan, typ sptypes.SavingsPlanType, family string) sptypes.SavingsPlan {
		p.SavingsPlanType = typ
		if family != "" {
			p.Ec2InstanceFamily, p.Region = aws.String(family), aws.String("eu-west-1")
		}
		return p
	}
	undated := sp("sp-undated", "active", day(-10), day(0), "1.0")
	undated.End = aws.String("soon") // never silently skipped: a plan the audit cannot date is not safe
	yen := sp("sp-cny", "active", day(20).Add(-spYear), day(20), "7.5")
	yen.Currency = sptypes.CurrencyCodeCny
	cases := []struct {
		name      string
		fake      *fakeSavingsPlans
		want      map[string]Severity
		days      map[string]int
		wantCalls int
		wantErr   string
	}{
		{name: "empty", fake: &fakeSavingsPlans{}, want: map[string]Severity{}, wantCalls: 1},
		{name: "several pages, renewals on later pages", fake: &fakeSavingsPlans{pages: [][]sptypes.SavingsPlan{
			{sp("sp-renewed", "active", day(5).Add(-spYear), day(5), "2.50"), sp("sp-far", "active", day(-10), day(200), "1.0")},
			{sp("sp-60", "active", day(60).Add(-spYear), day(60), "0.75"), undated, yen},
			// Queued for the day the old one ends, on the last page: the renewal lowers its severity, and is preferred
			// to sp-far, bought outright ten days ago, which would also qualify.
			{sp("sp-queued", "queued", day(5), day(5).Add(spYear), "2.50"), sp("sp-61", "active", day(61).Add(-spYear), day(61), "1.0")},
		}}, want: map[string]Severity{"sp-renewed": Notice, "sp-60": Notice, "sp-undated": Warning, "sp-cny": Warning},
			days: map[string]int{"sp-renewed": 5, "sp-60": 60, "sp-cny": 20}, wantCalls: 3},
		{name: "lapsed, retired early, bought outright, partial and unpaid", fake: &fakeSavingsPlans{pages: [][]sptypes.SavingsPlan{{
			// AWS retires a plan at its end: unrenewed, it is the most urgent finding, not a vanished row.
			sp("sp-lapsed", "retired", day(-4).Add(-spYear), day(-4), "3.0"),
			typed(sp("sp-lapsed-30", "retired", day(-30).Add(-spYear), day(-30), "1.0"), "SageMaker", ""),
			typed(sp("sp-lapsed-31", "retired", day(-31).Add(-spYear), day(-31), "1.0"), "SageMaker", ""),
			// Returned or retired early: its end is ahead, nothing lapsed.
			typed(sp("sp-returned", "retired", day(-2), day(363), "1.0"), "Database", ""),
			// Lapsed, then bought again late: renewed, nothing to do.
			typed(sp("sp-lapsed-renewed", "retired", day(-3).Add(-spYear), day(-3), "0.5"), sptypes.SavingsPlanTypeEc2Instance, "r6i"),
			typed(sp("sp-late", "active", day(-1), day(-1).Add(spYear), "0.5"), sptypes.SavingsPlanTypeEc2Instance, "r6i"),
		}, {
			// A renewal bought outright (payment pending) counts like a queued one.
			typed(sp("sp-bought", "active", day(9).Add(-spYear), day(9), "1.2"), sptypes.SavingsPlanTypeEc2Instance, "m6i"),
			typed(sp("sp-bought-new", "payment-pending", day(-2), day(-2).Add(spYear), "1.5"), sptypes.SavingsPlanTypeEc2Instance, "m6i"),
			// Another family is not a renewal; a smaller commitment renews only in part.
			typed(sp("sp-c6i", "active", day(3).Add(-spYear), day(3), "4.0"), sptypes.SavingsPlanTypeEc2Instance, "c6i"),
			typed(sp("sp-c6i-q", "queued", day(3), day(3).Add(spYear), "1.0"), sptypes.SavingsPlanTypeEc2Instance, "c6i"),
			typed(sp("sp-m7g-q", "queued", day(3), day(3).Add(spYear), "9.0"), sptypes.SavingsPlanTypeEc2Instance, "m7g"),
			// Payment failed: a finding of its own, critical; one that failed long ago is history.
			sp("sp-unpaid", "payment-failed", day(2), day(2).Add(spYear), "5.0"),
			sp("sp-unpaid-old", "payment-failed", day(-400), day(-35), "5.0"),
			// Deleted from the queue, or being returned: never a renewal nor a finding.
			sp("sp-queue-deleted", "queued-deleted", day(-4), day(-4).Add(spYear), "3.0"),
			sp("sp-returning", "pending-return", day(-4), day(-4).Add(spYear), "3.0"),
		}}}, want: map[string]Severity{"sp-lapsed": Critical, "sp-lapsed-30": Critical, "sp-bought": Notice, "sp-c6i": Critical, "sp-unpaid": Critical},
			days: map[string]int{"sp-lapsed": -4, "sp-lapsed-30": -30, "sp-bought": 9, "sp-c6i": 3}, wantCalls: 2},
		{name: "api error", fake: &fakeSavingsPlans{err: &smithy.GenericAPIError{Code: "AccessDeniedException"}}, wantErr: "AccessDeniedException", wantCalls: 1},
		{name: "repeated token", fake: &fakeSavingsPlans{pages: [][]sptypes.SavingsPlan{{}, {}, {}}, repeat: true}, wantErr: "RepeatedPageToken", wantCalls: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := testTarget(t, "2026-11-22T00:00:00Z")
			tg.Region = GlobalRegion
			got, err := SavingsPlans{}.run(context.Background(), c.fake, tg)
			declared(t, SavingsPlans{}, got)
			if c.fake.calls != c.wantCalls {
				t.Errorf("%d calls, want %d", c.fake.calls, c.wantCalls)
			}
			if c.wantErr != "" {
				if awserr.APICode(err) != c.wantErr {
					t.Fatalf("err = %v, want %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := byID(got)
			if len(m) != len(c.want) {
				t.Fatalf("findings %v, want %v", keys(m), c.want)
			}
			for id, sev := range c.want {
				f := m[id]
				if f.Severity != sev || f.Region != GlobalRegion {
					t.Errorf("%s: %q in %q, want %q in %s", id, f.Severity, f.Region, sev, GlobalRegion)
				}
				if want, ok := c.days[id]; ok && (f.DaysLeft == nil || *f.DaysLeft != want) {
					t.Errorf("%s: days left %v, want %d", id, f.DaysLeft, want)
				}
			}
			if f, ok := m["sp-renewed"]; ok && (!strings.HasPrefix(f.Detail("renewal"), "sp-queued: Compute 2.50/h from") || !strings.Contains(f.Reason, "renewal queued (sp-queued)")) {
				t.Errorf("queued renewal not shown beside the expiring plan: %q %v", f.Reason, f.Details)
			}
			if f, ok := m["sp-renewed"]; ok && (f.Detail("commitment_usd_per_hour") != "2.50" || f.Detail("payment_option") != "No Upfront" ||
				f.Detail("term_years") != "1" || f.Detail("upfront") != "0.0" || f.Detail("offering_id") != "offer-sp-renewed" ||
				f.Detail("start") != DetailTime(day(5).Add(-spYear)) || !f.ExpiresAt.Equal(day(5)) || !strings.HasPrefix(f.ConsoleURL, "https://console.aws.amazon.com/")) {
				t.Errorf("what a buyer needs: %+v", f)
			}
			if f, ok := m["sp-undated"]; ok && (f.DaysLeft != nil || !strings.Contains(f.Reason, "expiry unknown")) {
				t.Errorf("undated plan: %+v", f)
			}
			if f, ok := m["sp-cny"]; ok && (f.Detail("commitment_usd_per_hour") != "" || f.Detail("currency") != "CNY") {
				t.Errorf("a commitment in another currency is not written as USD: %v", f.Details)
			}
			if f, ok := m["sp-lapsed"]; ok && (f.Reason != "expired 4 days ago on 2026-11-18, not renewed" || f.Status != "retired") {
				t.Errorf("lapsed plan: %q %q", f.Reason, f.Status)
			}
			if f, ok := m["sp-bought"]; ok && (!strings.HasPrefix(f.Detail("renewal"), "sp-bought-new: EC2Instance 1.5/h") || !strings.Contains(f.Reason, "bought outright, payment-pending")) {
				t.Errorf("a renewal bought outright is shown and lowers the severity: %q %v", f.Reason, f.Details)
			}
			if f, ok := m["sp-c6i"]; ok && (!strings.Contains(f.Reason, "commits only 1.0 of 4.0 per hour") || f.Detail("renewal") == "") {
				t.Errorf("a partial renewal keeps the severity and says so: %+v", f)
			}
			if f, ok := m["sp-unpaid"]; ok && (f.Status != "payment-failed" || !strings.Contains(f.Reason, "payment failed") || f.DaysLeft != nil) {
				t.Errorf("payment failed: %+v", f)
			}
		})
	}
}

// TestSavingsPlanEndIsAWSsOwn: the check takes the end AWS reports, not start + term: a one-year plan from
// 2027-03-01 ends 2028-03-01 on AWS's calendar, while 365 days would end it on the leap day.
func TestSavingsPlanEndIsAWSsOwn(t *testing.T) {
	t.Parallel()
	start, end := mustTime(t, "2027-03-01T00:00:00Z"), mustTime(t, "2028-03-01T00:00:00Z")
	if naive := start.Add(31536000 * time.Second); !naive.Equal(mustTime(t, "2028-02-29T00:00:00Z")) {
		t.Fatalf("start + 365 days = %v", naive)
	}
	tg := testTarget(t, "2028-02-22T09:00:00Z")
	got, err := SavingsPlans{}.run(context.Background(), &fakeSavingsPlans{pages: [][]sptypes.SavingsPlan{{sp("sp-leap", "active", start, end, "1.0")}}}, tg)
	declared(t, SavingsPlans{}, got)
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	if f := got[0]; !f.ExpiresAt.Equal(end) || *f.DaysLeft != 8 || f.Severity != Warning {
		t.Errorf("ends %v in %d days (%s), want %v in 8 days, warning", f.ExpiresAt, *f.DaysLeft, f.Severity, end)
	}
}

// TestSavingsPlansSigningRegion holds the check's region to the SDK's endpoint rules: in the aws partition every
// region resolves to the global endpoint signed for us-east-1; elsewhere to a regional one, signed for that region.
func TestSavingsPlansSigningRegion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ partition, region, host string }{
		{"aws", "eu-west-1", "savingsplans.amazonaws.com"},
		{"aws", "ap-southeast-2", "savingsplans.amazonaws.com"},
		{"aws-cn", "cn-north-1", "savingsplans.cn-north-1.amazonaws.com.cn"},
	} {
		ep, err := savingsplans.NewDefaultEndpointResolverV2().ResolveEndpoint(context.Background(), savingsplans.EndpointParameters{Region: aws.String(c.region)})
		if err != nil {
			t.Fatal(err)
		}
		signing := c.region
		if opts, ok := smithyauth.GetAuthOptions(&ep.Properties); ok && len(opts) > 0 {
			if r, ok := smithyhttp.GetSigV4SigningRegion(&opts[0].SignerProperties); ok {
				signing = r
			}
		}
		if ep.URI.Host != c.host || savingsPlansSigningRegion(c.partition, c.region) != signing {
			t.Errorf("%s %s: SDK resolves %s signed for %s; the check signs for %s", c.partition, c.region, ep.URI.Host, signing, savingsPlansSigningRegion(c.partition, c.region))
		}
	}
}
