package checks

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/memorydb"
	memorydbtypes "github.com/aws/aws-sdk-go-v2/service/memorydb/types"
	"github.com/aws/smithy-go"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

type fakeMemoryDB struct {
	pages [][]memorydbtypes.ReservedNode
	err   error
	// repeat hands every token asked with back again, as a faulty backend can.
	repeat bool
	calls  int
}

func (f *fakeMemoryDB) DescribeReservedNodes(_ context.Context, in *memorydb.DescribeReservedNodesInput, _ ...func(*memorydb.Options)) (*memorydb.DescribeReservedNodesOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := &memorydb.DescribeReservedNodesOutput{}
	out.ReservedNodes, out.NextToken = fakePage(f.pages, in.NextToken)
	if f.repeat && in.NextToken != nil {
		out.NextToken = in.NextToken
	}
	return out, nil
}

const memorydbYear = 31536000

func mdbNode(id, state string, start time.Time, seconds int32) memorydbtypes.ReservedNode {
	return memorydbtypes.ReservedNode{ReservationId: aws.String(id), State: aws.String(state), StartTime: aws.Time(start), Duration: seconds,
		NodeType: aws.String("db.r6g.large"), NodeCount: 2, OfferingType: aws.String("All Upfront"), FixedPrice: 5443.2,
		ReservedNodesOfferingId: aws.String("offer-" + id), ARN: aws.String("arn:aws:memorydb:eu-west-1:123456789012:reservednode/" + id),
		RecurringCharges: []memorydbtypes.RecurringCharge{{RecurringChargeAmount: 0, RecurringChargeFrequency: aws.String("Hourly")}}}
}

// TestMemoryDBEnd: the end is StartTime + Duration seconds, exact to the second, whatever the calendar does: a year of
// 365 days started on 2027-03-01 ends 2028-02-29 (a leap year), not on the anniversary.
func TestMemoryDBEnd(t *testing.T) {
	t.Parallel()
	cases := []struct {
		start   string
		seconds int32
		want    string
	}{
		{"2027-03-01T00:00:00Z", memorydbYear, "2028-02-29T00:00:00Z"},
		{"2028-02-29T12:00:00Z", memorydbYear, "2029-02-28T12:00:00Z"},
		{"2026-01-15T08:30:00Z", 3 * memorydbYear, "2029-01-14T08:30:00Z"}, // 2028's leap day inside the term
	}
	for _, c := range cases {
		n := mdbNode("x", "active", mustTime(t, c.start), c.seconds)
		if got := memorydbReservation(n).end(); !got.Equal(mustTime(t, c.want)) {
			t.Errorf("%s + %d s = %v, want %s", c.start, c.seconds, got, c.want)
		}
	}
	if got, want := termText(aws.Int32(memorydbYear)), "1 year"; got != want {
		t.Errorf("term %q, want %q", got, want)
	}
	if got, want := termText(aws.Int32(3*memorydbYear)), "3 years"; got != want {
		t.Errorf("term %q, want %q", got, want)
	}
}

func TestMemoryDBReservedNodes(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	startFor := func(daysLeft int) time.Time { // noon on the day daysLeft from asOf, a year before
		return asOf.AddDate(0, 0, daysLeft).Add(12*time.Hour - memorydbYear*time.Second)
	}
	typed := func(n memorydbtypes.ReservedNode, typ string, count int32) memorydbtypes.ReservedNode {
		n.NodeType, n.NodeCount = aws.String(typ), count
		return n
	}
	undated := mdbNode("undated", "active", asOf, memorydbYear)
	undated.StartTime = nil // reported as expiry unknown, never dropped
	noDuration := mdbNode("no-duration", "active", asOf, 0)
	cases := []struct {
		name      string
		fake      *fakeMemoryDB
		want      map[string]Severity
		wantCalls int
		wantErr   string
		wantRepl  bool
	}{
		{name: "empty", fake: &fakeMemoryDB{}, want: map[string]Severity{}, wantCalls: 1},
		{name: "several pages", fake: &fakeMemoryDB{pages: [][]memorydbtypes.ReservedNode{
			{mdbNode("d7", "active", startFor(7), memorydbYear), mdbNode("d8", "active", startFor(8), memorydbYear)},
			{mdbNode("retired", "retired", startFor(-5), memorydbYear), mdbNode("pending", "payment-pending", startFor(3), memorydbYear)},
			{mdbNode("d31", "active", startFor(31), memorydbYear), mdbNode("d61", "active", startFor(61), memorydbYear), undated, noDuration},
		}}, want: map[string]Severity{"d7": Critical, "d8": Warning, "d31": Notice, "undated": Warning, "no-duration": Warning, "retired": Critical}, wantCalls: 3},
		{name: "lapsed, retired early and renewed", fake: &fakeMemoryDB{pages: [][]memorydbtypes.ReservedNode{
			// AWS retires a reservation at its end: unrenewed, it is the most urgent finding, not a vanished row.
			{mdbNode("lapsed", "retired", startFor(-4), memorydbYear), mdbNode("lapsed-30", "retired", startFor(-30), memorydbYear),
				mdbNode("lapsed-31", "retired", startFor(-31), memorydbYear)},
			// Retired early: its end is ahead, its capacity lives on in another reservation.
			{mdbNode("exchanged", "retired", startFor(200), memorydbYear),
				// Lapsed and bought again late: nothing to do.
				typed(mdbNode("lapsed-renewed", "retired", startFor(-3), memorydbYear), "db.r7g.large", 2),
				typed(mdbNode("late", "active", asOf.AddDate(0, 0, -1), memorydbYear), "db.r7g.large", 2)},
			// A renewal bought outright, on another page, lowers the expiring one to a notice; a sibling bought long
			// before does not; a renewal of fewer nodes says so and keeps the severity.
			{typed(mdbNode("bought", "active", startFor(9), memorydbYear), "db.x2g.large", 2),
				typed(mdbNode("sibling", "active", startFor(20), memorydbYear), "db.t4g.medium", 2),
				typed(mdbNode("sibling-old", "active", asOf.AddDate(0, 0, -200), memorydbYear), "db.t4g.medium", 2),
				typed(mdbNode("partial", "active", startFor(5), memorydbYear), "db.r6gd.xlarge", 4)},
			{typed(mdbNode("bought-new", "payment-pending", asOf.AddDate(0, 0, -2), memorydbYear), "db.x2g.large", 2),
				typed(mdbNode("partial-new", "active", asOf.AddDate(0, 0, -1), memorydbYear), "db.r6gd.xlarge", 1)},
		}}, want: map[string]Severity{"lapsed": Critical, "lapsed-30": Critical, "bought": Notice, "sibling": Warning, "partial": Critical}, wantCalls: 4, wantRepl: true},
		{name: "api error", fake: &fakeMemoryDB{err: &smithy.GenericAPIError{Code: "AccessDeniedException"}}, wantErr: "AccessDeniedException", wantCalls: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := MemoryDBReservedNodes{}.run(context.Background(), c.fake, testTarget(t, "2026-11-22T00:00:00Z"))
			declared(t, MemoryDBReservedNodes{}, got)
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
				if m[id].Severity != sev {
					t.Errorf("%s severity %q (%s), want %q", id, m[id].Severity, m[id].Reason, sev)
				}
			}
			if f, ok := m["d7"]; ok {
				want := map[string]string{"Node type": "db.r6g.large", "Count": "2", "Offering": "All Upfront", "Term": "1 year",
					"Start": DetailTime(startFor(7)), "Upfront (USD)": "5443.2", "Hourly (USD)": "0", "Offering ID": "offer-d7",
					"ARN": "arn:aws:memorydb:eu-west-1:123456789012:reservednode/d7"}
				for k, v := range want {
					if got := byHeader(t, MemoryDBReservedNodes{}, &f, k); got != v {
						t.Errorf("d7 %s = %q, want %q", k, got, v)
					}
				}
				if f.Reason != "expires in 7 days on 2026-11-29" || !f.ExpiresAt.Equal(asOf.AddDate(0, 0, 7).Add(12*time.Hour)) ||
					f.ConsoleURL != "https://console.aws.amazon.com/memorydb/home?region=eu-west-1#/reserved-nodes" {
					t.Errorf("d7: %q %v %s", f.Reason, f.ExpiresAt, f.ConsoleURL)
				}
			}
			if f, ok := m["lapsed"]; ok && (f.Reason != "expired 4 days ago on 2026-11-18, not renewed" || *f.DaysLeft != -4 || f.Status != "retired") {
				t.Errorf("lapsed: %q %d %q", f.Reason, *f.DaysLeft, f.Status)
			}
			if c.wantRepl {
				if f := m["bought"]; !strings.HasPrefix(f.Detail("renewal"), "bought-new: 2 × db.x2g.large from") || !strings.Contains(f.Reason, "renewal bought, payment pending (bought-new)") {
					t.Errorf("renewal bought outright: %q %v", f.Reason, f.Details)
				}
				if f := m["partial"]; !strings.Contains(f.Reason, "only 1 of 4 nodes (partial-new)") {
					t.Errorf("partial renewal: %q", f.Reason)
				}
			}
		})
	}
}

// TestMemoryDBReservedNodesRepeatedToken: a backend that hands the same NextToken back stops the listing with an
// error rather than looping, and nothing read so far passes for a clean account.
func TestMemoryDBReservedNodesRepeatedToken(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	fake := &fakeMemoryDB{repeat: true, pages: [][]memorydbtypes.ReservedNode{
		{mdbNode("a", "active", asOf, memorydbYear)}, {mdbNode("b", "active", asOf, memorydbYear)}, {mdbNode("c", "active", asOf, memorydbYear)}}}
	got, err := MemoryDBReservedNodes{}.run(context.Background(), fake, testTarget(t, "2026-11-22T00:00:00Z"))
	var repeated *awserr.RepeatedTokenError
	if !errors.As(err, &repeated) || got != nil {
		t.Fatalf("err = %v, findings %v: want a repeated-token error and no findings", err, got)
	}
	if fake.calls > 3 {
		t.Errorf("%d calls: the listing followed the repeated token", fake.calls)
	}
}
