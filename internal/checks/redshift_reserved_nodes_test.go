package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
	"github.com/aws/smithy-go"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

type fakeRedshift struct {
	pages [][]rstypes.ReservedNode
	err   error
	calls int
}

func (f *fakeRedshift) DescribeReservedNodes(_ context.Context, in *redshift.DescribeReservedNodesInput, _ ...func(*redshift.Options)) (*redshift.DescribeReservedNodesOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := &redshift.DescribeReservedNodesOutput{}
	out.ReservedNodes, out.Marker = fakePage(f.pages, in.Marker)
	return out, nil
}

func redshiftNode(id, state string, start time.Time, seconds int32) rstypes.ReservedNode {
	return rstypes.ReservedNode{ReservedNodeId: aws.String(id), State: aws.String(state), StartTime: aws.Time(start), Duration: aws.Int32(seconds),
		NodeType: aws.String("ra3.4xlarge"), NodeCount: aws.Int32(3), OfferingType: aws.String("All Upfront"), ReservedNodeOfferingId: aws.String("offer-" + id),
		ReservedNodeOfferingType: rstypes.ReservedNodeOfferingTypeRegular, FixedPrice: aws.Float64(18000), UsagePrice: aws.Float64(0.5), CurrencyCode: aws.String("USD"),
		RecurringCharges: []rstypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(0.25), RecurringChargeFrequency: aws.String("Hourly")}}}
}

func TestRedshiftReservedNodes(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	startFor := func(daysLeft int) time.Time {
		return asOf.AddDate(0, 0, daysLeft).Add(12*time.Hour - yearSeconds*time.Second)
	}
	typed := func(n rstypes.ReservedNode, typ string, count int32) rstypes.ReservedNode {
		n.NodeType, n.NodeCount = aws.String(typ), aws.Int32(count)
		return n
	}
	undated := redshiftNode("undated", "active", asOf, yearSeconds)
	undated.StartTime = nil // reported as expiry unknown, never dropped
	cases := []struct {
		name      string
		fake      *fakeRedshift
		want      map[string]Severity
		wantCalls int
		wantErr   string
	}{
		{name: "empty", fake: &fakeRedshift{}, want: map[string]Severity{}, wantCalls: 1},
		{name: "several pages", fake: &fakeRedshift{pages: [][]rstypes.ReservedNode{
			{redshiftNode("d7", "active", startFor(7), yearSeconds), redshiftNode("d8", "active", startFor(8), yearSeconds)},
			// Neither a failed payment nor one being exchanged (its capacity moves to the new reservation) is an expiry.
			{redshiftNode("retired", "retired", startFor(-5), yearSeconds), redshiftNode("failed", "payment-failed", startFor(3), yearSeconds),
				redshiftNode("exchanging", "exchanging", startFor(4), yearSeconds)},
			{redshiftNode("d31", "active", startFor(31), yearSeconds), redshiftNode("d61", "active", startFor(61), yearSeconds), undated},
		}}, want: map[string]Severity{"d7": Critical, "d8": Warning, "d31": Notice, "undated": Warning, "retired": Critical}, wantCalls: 3},
		{name: "lapsed, retired early and renewed", fake: &fakeRedshift{pages: [][]rstypes.ReservedNode{
			{redshiftNode("lapsed", "retired", startFor(-4), yearSeconds), redshiftNode("lapsed-30", "retired", startFor(-30), yearSeconds),
				redshiftNode("lapsed-31", "retired", startFor(-31), yearSeconds)},
			{redshiftNode("exchanged", "retired", startFor(200), yearSeconds),
				typed(redshiftNode("lapsed-renewed", "retired", startFor(-3), yearSeconds), "dc2.large", 3),
				typed(redshiftNode("late", "active", asOf.AddDate(0, 0, -1), yearSeconds), "dc2.large", 3)},
			// Renewed by a purchase pending payment on another page; a sibling bought long before renews nothing; a
			// failed payment renews nothing, and is reported while recent; one for fewer nodes is named but keeps the
			// severity.
			{typed(redshiftNode("bought", "active", startFor(9), yearSeconds), "ra3.xlplus", 3),
				typed(redshiftNode("sibling", "active", startFor(20), yearSeconds), "ra3.16xlarge", 3),
				typed(redshiftNode("sibling-old", "active", asOf.AddDate(0, 0, -200), yearSeconds), "ra3.16xlarge", 3),
				typed(redshiftNode("unpaid", "active", startFor(25), yearSeconds), "dc2.8xlarge", 3),
				typed(redshiftNode("partial", "active", startFor(5), yearSeconds), "ra3.large", 4)},
			{typed(redshiftNode("bought-new", "pending-payment", asOf.AddDate(0, 0, -2), yearSeconds), "ra3.xlplus", 3),
				typed(redshiftNode("unpaid-new", "payment-failed", asOf.AddDate(0, 0, -2), yearSeconds), "dc2.8xlarge", 3),
				typed(redshiftNode("partial-new", "active", asOf.AddDate(0, 0, -1), yearSeconds), "ra3.large", 2)},
		}}, want: map[string]Severity{"lapsed": Critical, "lapsed-30": Critical, "bought": Notice, "sibling": Warning, "unpaid": Warning,
			"partial": Critical, "unpaid-new": Critical}, wantCalls: 4},
		{name: "api error", fake: &fakeRedshift{err: &smithy.GenericAPIError{Code: "DependentServiceUnavailableFault"}}, wantErr: "DependentServiceUnavailableFault", wantCalls: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := RedshiftReservedNodes{}.run(context.Background(), c.fake, testTarget(t, "2026-11-22T00:00:00Z"))
			declared(t, RedshiftReservedNodes{}, got)
			if c.fake.calls != c.wantCalls {
				t.Errorf("%d calls, want %d", c.fake.calls, c.wantCalls)
			}
			if c.wantErr != "" {
				if awserr.APICode(err) != c.wantErr || !strings.Contains(err.Error(), "describe reserved nodes") {
					t.Fatalf("err = %v, want %s, wrapped", err, c.wantErr)
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
				if m[id].Severity != sev {
					t.Errorf("%s severity %q, want %q (%s)", id, m[id].Severity, sev, m[id].Reason)
				}
			}
			if f, ok := m["lapsed"]; ok && (f.Reason != "expired 4 days ago on 2026-11-18, not renewed" || *f.DaysLeft != -4 || f.Status != "retired") {
				t.Errorf("lapsed: %q %d %q", f.Reason, *f.DaysLeft, f.Status)
			}
			if f, ok := m["bought"]; ok && (!strings.HasPrefix(f.Detail("renewal"), "bought-new: 3 × ra3.xlplus from 2026-11-20 (pending-payment)") ||
				!strings.HasSuffix(f.Reason, "; renewal bought, payment pending (bought-new)")) {
				t.Errorf("renewal bought outright: %q %v", f.Reason, f.Details)
			}
			if f, ok := m["partial"]; ok && !strings.Contains(f.Reason, "renewal bought for only 2 of 4 nodes (partial-new)") {
				t.Errorf("partial renewal: %q", f.Reason)
			}
			if f, ok := m["d7"]; ok {
				want := map[string]string{"Node type": "ra3.4xlarge", "Count": "3", "Offering": "All Upfront", "Offering class": "Regular",
					"Term": "1 year", "Start": DetailTime(startFor(7)), "Upfront per node": "18000", "Hourly per node": "0.75", "Currency": "USD",
					"Commitment (USD/h)": "2.25", "Offering ID": "offer-d7"}
				for k, v := range want {
					if got := byHeader(t, RedshiftReservedNodes{}, &f, k); got != v {
						t.Errorf("d7 %s = %q, want %q", k, got, v)
					}
				}
				if f.ConsoleURL != "https://console.aws.amazon.com/redshiftv2/home?region=eu-west-1#reserved-nodes" || f.ResourceType != "AWS::Redshift::ReservedNode" {
					t.Errorf("d7: %s %s", f.ConsoleURL, f.ResourceType)
				}
			}
		})
	}
}

// TestRedshiftReservedNodeEndAcrossLeapYears: end = StartTime + Duration seconds, so a 1-year term starting
// 2027-03-01 ends 2028-02-29 and a 3-year term (3 × 365 days) starting 2026-03-01 ends 2029-02-28.
func TestRedshiftReservedNodeEndAcrossLeapYears(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		start, asOf, end string
		seconds          int32
	}{
		{"2027-03-01T08:00:00Z", "2028-02-22T00:00:00Z", "2028-02-29T08:00:00Z", yearSeconds},
		{"2026-03-01T08:00:00Z", "2029-02-21T00:00:00Z", "2029-02-28T08:00:00Z", 3 * yearSeconds},
	} {
		fake := &fakeRedshift{pages: [][]rstypes.ReservedNode{{redshiftNode("n", "active", mustTime(t, c.start), c.seconds)}}}
		got, err := RedshiftReservedNodes{}.run(context.Background(), fake, testTarget(t, c.asOf))
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %v %v", c.start, got, err)
		}
		declared(t, RedshiftReservedNodes{}, got)
		if f := got[0]; !f.ExpiresAt.Equal(mustTime(t, c.end)) || *f.DaysLeft != 7 {
			t.Errorf("start %s: ends %v, %d days left, want %s, 7", c.start, f.ExpiresAt, *f.DaysLeft, c.end)
		}
	}
}

// TestRedshiftCommitmentIsUSDOnly: the Commitments sheet adds commitments up in USD, so a reservation priced in
// another currency shows its prices and currency but claims no USD commitment.
func TestRedshiftCommitmentIsUSDOnly(t *testing.T) {
	t.Parallel()
	n := redshiftNode("cny", "active", mustTime(t, "2025-11-25T00:00:00Z"), yearSeconds)
	n.CurrencyCode = aws.String("CNY")
	got, err := RedshiftReservedNodes{}.run(context.Background(), &fakeRedshift{pages: [][]rstypes.ReservedNode{{n}}}, testTarget(t, "2026-11-22T00:00:00Z"))
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	declared(t, RedshiftReservedNodes{}, got)
	if f := &got[0]; f.Detail("currency") != "CNY" || f.Detail("hourly_per_node") != "0.75" || f.Detail("commitment_usd_per_hour") != "" {
		t.Errorf("details %v", f.Details)
	}
}
