package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

type fakeElastiCache struct {
	pages [][]ectypes.ReservedCacheNode
	err   error
	calls int
}

func (f *fakeElastiCache) DescribeReservedCacheNodes(_ context.Context, in *elasticache.DescribeReservedCacheNodesInput, _ ...func(*elasticache.Options)) (*elasticache.DescribeReservedCacheNodesOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := &elasticache.DescribeReservedCacheNodesOutput{}
	out.ReservedCacheNodes, out.Marker = fakePage(f.pages, in.Marker)
	return out, nil
}

const yearSeconds = 31536000

func cacheNode(id, state string, start time.Time, seconds int32) ectypes.ReservedCacheNode {
	return ectypes.ReservedCacheNode{ReservedCacheNodeId: aws.String(id), State: aws.String(state), StartTime: aws.Time(start),
		Duration: aws.Int32(seconds), CacheNodeType: aws.String("cache.r7g.large"), CacheNodeCount: aws.Int32(2),
		ProductDescription: aws.String("redis"), OfferingType: aws.String("Partial Upfront"), ReservedCacheNodesOfferingId: aws.String("offer-" + id),
		FixedPrice: aws.Float64(1234.5), UsagePrice: aws.Float64(0),
		RecurringCharges: []ectypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(0.125), RecurringChargeFrequency: aws.String("Hourly")}}}
}

func TestElastiCacheReservedNodes(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	startFor := func(daysLeft int) time.Time {
		return asOf.AddDate(0, 0, daysLeft).Add(12*time.Hour - yearSeconds*time.Second)
	}
	with := func(n ectypes.ReservedCacheNode, typ, engine string, count int32) ectypes.ReservedCacheNode {
		n.CacheNodeType, n.ProductDescription, n.CacheNodeCount = aws.String(typ), aws.String(engine), aws.Int32(count)
		return n
	}
	undated := cacheNode("undated", "active", asOf, yearSeconds)
	undated.Duration = nil // reported as expiry unknown, never dropped
	cases := []struct {
		name      string
		fake      *fakeElastiCache
		want      map[string]Severity
		wantCalls int
		wantErr   string
	}{
		{name: "empty", fake: &fakeElastiCache{}, want: map[string]Severity{}, wantCalls: 1},
		{name: "several pages", fake: &fakeElastiCache{pages: [][]ectypes.ReservedCacheNode{
			{cacheNode("d7", "active", startFor(7), yearSeconds), cacheNode("d8", "active", startFor(8), yearSeconds)},
			// ElastiCache documents no payment-failed state: like any state the check does not know, it is a warning.
			{cacheNode("retired", "retired", startFor(-5), yearSeconds), cacheNode("failed", "payment-failed", startFor(3), yearSeconds)},
			{cacheNode("d31", "active", startFor(31), yearSeconds), cacheNode("d61", "active", startFor(61), yearSeconds), undated},
		}}, want: map[string]Severity{"d7": Critical, "d8": Warning, "d31": Notice, "undated": Warning, "retired": Critical, "failed": Warning}, wantCalls: 3},
		{name: "lapsed, retired early and renewed", fake: &fakeElastiCache{pages: [][]ectypes.ReservedCacheNode{
			// AWS retires a reservation at its end: unrenewed, it is the most urgent finding, not a vanished row.
			{cacheNode("lapsed", "retired", startFor(-4), yearSeconds), cacheNode("lapsed-30", "retired", startFor(-30), yearSeconds),
				cacheNode("lapsed-31", "retired", startFor(-31), yearSeconds)},
			// Retired early: its end is ahead, its capacity lives on in another reservation.
			{cacheNode("exchanged", "retired", startFor(200), yearSeconds),
				// Lapsed and bought again late: nothing to do.
				with(cacheNode("lapsed-renewed", "retired", startFor(-3), yearSeconds), "cache.m7g.large", "redis", 2),
				with(cacheNode("late", "active", asOf.AddDate(0, 0, -1), yearSeconds), "cache.m7g.large", "redis", 2)},
			// A renewal bought outright (pending payment, on another page) lowers the expiring one to a notice; a sibling
			// bought long before does not; nor does one of another engine; one for fewer nodes is named but keeps the severity.
			{with(cacheNode("bought", "active", startFor(9), yearSeconds), "cache.r6g.xlarge", "redis", 2),
				with(cacheNode("sibling", "active", startFor(20), yearSeconds), "cache.t4g.medium", "redis", 2),
				with(cacheNode("sibling-old", "active", asOf.AddDate(0, 0, -200), yearSeconds), "cache.t4g.medium", "redis", 2),
				with(cacheNode("memcached", "active", startFor(25), yearSeconds), "cache.m6g.large", "memcached", 2),
				with(cacheNode("partial", "active", startFor(5), yearSeconds), "cache.c7gn.large", "valkey", 4)},
			{with(cacheNode("bought-new", "payment-pending", asOf.AddDate(0, 0, -2), yearSeconds), "cache.r6g.xlarge", "redis", 2),
				with(cacheNode("redis-new", "active", asOf.AddDate(0, 0, -2), yearSeconds), "cache.m6g.large", "redis", 2),
				with(cacheNode("partial-new", "active", asOf.AddDate(0, 0, -1), yearSeconds), "cache.c7gn.large", "valkey", 1)},
		}}, want: map[string]Severity{"lapsed": Critical, "lapsed-30": Critical, "bought": Notice, "sibling": Warning, "memcached": Warning,
			"partial": Critical}, wantCalls: 4},
		{name: "api error", fake: &fakeElastiCache{err: &smithy.GenericAPIError{Code: "InvalidParameterValue"}}, wantErr: "InvalidParameterValue", wantCalls: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ElastiCacheReservedNodes{}.run(context.Background(), c.fake, testTarget(t, "2026-11-22T00:00:00Z"))
			declared(t, ElastiCacheReservedNodes{}, got)
			if c.fake.calls != c.wantCalls {
				t.Errorf("%d calls, want %d", c.fake.calls, c.wantCalls)
			}
			if c.wantErr != "" {
				if awserr.APICode(err) != c.wantErr || !strings.Contains(err.Error(), "describe reserved cache nodes") {
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
			if f, ok := m["bought"]; ok && (!strings.HasPrefix(f.Detail("renewal"), "bought-new: 2 × cache.r6g.xlarge from 2026-11-20 (payment-pending)") ||
				!strings.HasSuffix(f.Reason, "; renewal bought, payment pending (bought-new)")) {
				t.Errorf("renewal bought outright: %q %v", f.Reason, f.Details)
			}
			if f, ok := m["partial"]; ok && (!strings.Contains(f.Reason, "renewal bought for only 1 of 4 nodes (partial-new)") || f.Detail("renewal") == "") {
				t.Errorf("partial renewal: %q %v", f.Reason, f.Details)
			}
			if f, ok := m["d7"]; ok {
				// What a buyer needs, as AWS reported it: per-node prices, and the hourly commitment of all nodes.
				want := map[string]string{"Cache node type": "cache.r7g.large", "Count": "2", "Engine": "redis", "Offering": "Partial Upfront",
					"Term": "1 year", "Start": DetailTime(startFor(7)), "Upfront per node (USD)": "1234.5", "Hourly per node (USD)": "0.125",
					"Commitment (USD/h)": "0.25", "Offering ID": "offer-d7"}
				for k, v := range want {
					if got := byHeader(t, ElastiCacheReservedNodes{}, &f, k); got != v {
						t.Errorf("d7 %s = %q, want %q", k, got, v)
					}
				}
				if f.ConsoleURL != "https://console.aws.amazon.com/elasticache/home?region=eu-west-1#/reserved-nodes" || f.ResourceType != "AWS::ElastiCache::ReservedCacheNode" {
					t.Errorf("d7: %s %s", f.ConsoleURL, f.ResourceType)
				}
			}
		})
	}
}

// TestElastiCacheReservedNodeEndAcrossLeapYears: the end is StartTime + Duration seconds, not the same date a year
// on: a 1-year term (365 days) starting 2027-03-01 ends 2028-02-29, since 2028 is a leap year, and one starting
// 2028-03-01 ends 2029-03-01.
func TestElastiCacheReservedNodeEndAcrossLeapYears(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		start, asOf, end string
		days             int
	}{
		{"2027-03-01T08:00:00Z", "2028-02-22T00:00:00Z", "2028-02-29T08:00:00Z", 7},
		{"2028-03-01T08:00:00Z", "2029-02-22T00:00:00Z", "2029-03-01T08:00:00Z", 7},
		{"2025-03-01T08:00:00Z", "2026-02-22T00:00:00Z", "2026-03-01T08:00:00Z", 7},
	} {
		fake := &fakeElastiCache{pages: [][]ectypes.ReservedCacheNode{{cacheNode("n", "active", mustTime(t, c.start), yearSeconds)}}}
		got, err := ElastiCacheReservedNodes{}.run(context.Background(), fake, testTarget(t, c.asOf))
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %v %v", c.start, got, err)
		}
		declared(t, ElastiCacheReservedNodes{}, got)
		if f := got[0]; !f.ExpiresAt.Equal(mustTime(t, c.end)) || *f.DaysLeft != c.days || f.Severity != Critical {
			t.Errorf("start %s: ends %v, %d days left (%s), want %s, %d", c.start, f.ExpiresAt, *f.DaysLeft, f.Severity, c.end, c.days)
		}
	}
}

func TestTermText(t *testing.T) {
	t.Parallel()
	for in, want := range map[int32]string{yearSeconds: "1 year", 3 * yearSeconds: "3 years", 86400 * 30: "30 days"} {
		if got := termText(aws.Int32(in)); got != want {
			t.Errorf("termText(%d) = %q, want %q", in, got, want)
		}
	}
	if termText(nil) != "" {
		t.Error("no Duration is no term")
	}
}
