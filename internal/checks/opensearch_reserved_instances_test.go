package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	ostypes "github.com/aws/aws-sdk-go-v2/service/opensearch/types"
	"github.com/aws/smithy-go"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

type fakeOpenSearch struct {
	pages [][]ostypes.ReservedInstance
	err   error
	calls int
	// repeat hands the same token back on every page.
	repeat bool
}

func (f *fakeOpenSearch) DescribeReservedInstances(_ context.Context, in *opensearch.DescribeReservedInstancesInput, _ ...func(*opensearch.Options)) (*opensearch.DescribeReservedInstancesOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := &opensearch.DescribeReservedInstancesOutput{}
	out.ReservedInstances, out.NextToken = fakePage(f.pages, in.NextToken)
	if f.repeat {
		out.NextToken = aws.String("1")
	}
	return out, nil
}

func osRI(id, state string, start time.Time, seconds int32, count int32) ostypes.ReservedInstance {
	return ostypes.ReservedInstance{ReservedInstanceId: aws.String(id), ReservationName: aws.String("name-" + id), State: aws.String(state),
		StartTime: aws.Time(start), Duration: seconds, InstanceType: ostypes.OpenSearchPartitionInstanceTypeR6gLargeSearch, InstanceCount: count,
		PaymentOption: ostypes.ReservedInstancePaymentOptionAllUpfront, FixedPrice: aws.Float64(4321.5), CurrencyCode: aws.String("USD"),
		ReservedInstanceOfferingId: aws.String("offer-" + id)}
}

func TestOpenSearchEnd(t *testing.T) {
	t.Parallel()
	// A one-year term from 2027-03-01 runs 365 days: through the leap day, ending 2028-02-29, not 2028-03-01.
	leap := osRI("leap", "active", mustTime(t, "2027-03-01T00:00:00Z"), 31536000, 1)
	if got := osReservation(leap).end(); !got.Equal(mustTime(t, "2028-02-29T00:00:00Z")) {
		t.Errorf("end = %v: StartTime + Duration seconds", got)
	}
	tg := testTarget(t, "2028-02-22T09:00:00Z")
	got, err := OpenSearchReservedInstances{}.run(context.Background(), &fakeOpenSearch{pages: [][]ostypes.ReservedInstance{{leap}}}, tg)
	declared(t, OpenSearchReservedInstances{}, got)
	if err != nil || len(got) != 1 || *got[0].DaysLeft != 7 || got[0].Severity != Critical || !got[0].ExpiresAt.Equal(mustTime(t, "2028-02-29T00:00:00Z")) {
		t.Errorf("leap-year reservation: %+v %v", got, err)
	}
}

func TestOpenSearchReservedInstances(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	const year = 31536000
	startFor := func(daysLeft int) time.Time { return asOf.AddDate(0, 0, daysLeft).Add(12*time.Hour - year*time.Second) }
	typed := func(ri ostypes.ReservedInstance, typ ostypes.OpenSearchPartitionInstanceType) ostypes.ReservedInstance {
		ri.InstanceType = typ
		return ri
	}
	undated := osRI("undated", "active", asOf, year, 1)
	undated.StartTime = nil // reported as expiry unknown, never dropped
	cases := []struct {
		name      string
		fake      *fakeOpenSearch
		want      map[string]Severity
		wantCalls int
		wantErr   string
	}{
		{name: "empty", fake: &fakeOpenSearch{}, want: map[string]Severity{}, wantCalls: 1},
		{name: "several pages", fake: &fakeOpenSearch{pages: [][]ostypes.ReservedInstance{
			{osRI("d7", "active", startFor(7), year, 3), osRI("d8", "active", startFor(8), year, 3)},
			{osRI("retired", "retired", startFor(-5), year, 3), osRI("pending", "payment-pending", startFor(3), year, 3)},
			{osRI("d31", "active", startFor(31), year, 2), osRI("d61", "active", startFor(61), year, 2), undated},
		}}, want: map[string]Severity{"d7": Critical, "d8": Warning, "d31": Notice, "undated": Warning, "retired": Critical}, wantCalls: 3},
		{name: "lapsed, retired early, bought outright and partial", fake: &fakeOpenSearch{pages: [][]ostypes.ReservedInstance{
			// AWS retires a reservation at its end: unrenewed, it is the most urgent finding, not a vanished row.
			{osRI("lapsed", "retired", startFor(-4), year, 2), osRI("lapsed-30", "retired", startFor(-30), year, 2),
				osRI("lapsed-31", "retired", startFor(-31), year, 2)},
			// Retired early: its end is ahead. Lapsed and bought again late: nothing to do.
			{osRI("exchanged", "retired", startFor(200), year, 2),
				typed(osRI("lapsed-renewed", "retired", startFor(-3), year, 2), ostypes.OpenSearchPartitionInstanceTypeM6gLargeSearch),
				typed(osRI("late", "active", asOf.AddDate(0, 0, -1), year, 2), ostypes.OpenSearchPartitionInstanceTypeM6gLargeSearch)},
			// A renewal bought outright lowers the expiring one to a notice; one for fewer instances does not; a
			// sibling bought long before is no renewal.
			{typed(osRI("bought", "active", startFor(9), year, 3), ostypes.OpenSearchPartitionInstanceTypeR6gXlargeSearch),
				typed(osRI("bought-new", "payment-pending", asOf.AddDate(0, 0, -2), year, 3), ostypes.OpenSearchPartitionInstanceTypeR6gXlargeSearch),
				typed(osRI("partial", "active", startFor(4), year, 6), ostypes.OpenSearchPartitionInstanceTypeC6gLargeSearch),
				typed(osRI("partial-new", "active", asOf.AddDate(0, 0, -1), year, 2), ostypes.OpenSearchPartitionInstanceTypeC6gLargeSearch),
				typed(osRI("sibling", "active", startFor(20), year, 1), ostypes.OpenSearchPartitionInstanceTypeT3MediumSearch),
				typed(osRI("sibling-old", "active", asOf.AddDate(0, 0, -200), year, 1), ostypes.OpenSearchPartitionInstanceTypeT3MediumSearch)},
		}}, want: map[string]Severity{"lapsed": Critical, "lapsed-30": Critical, "bought": Notice, "partial": Critical, "sibling": Warning}, wantCalls: 3},
		{name: "api error", fake: &fakeOpenSearch{err: &smithy.GenericAPIError{Code: "AccessDeniedException"}}, wantErr: "AccessDeniedException", wantCalls: 1},
		{name: "repeated token", fake: &fakeOpenSearch{pages: [][]ostypes.ReservedInstance{{}, {}, {}}, repeat: true}, wantErr: "RepeatedPageToken", wantCalls: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := OpenSearchReservedInstances{}.run(context.Background(), c.fake, testTarget(t, "2026-11-22T00:00:00Z"))
			declared(t, OpenSearchReservedInstances{}, got)
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
					t.Errorf("%s severity %q, want %q", id, m[id].Severity, sev)
				}
			}
			if f, ok := m["d7"]; ok && (f.Detail("instance_type") != "r6g.large.search" || f.Detail("count") != "3" || f.Detail("payment_option") != "ALL_UPFRONT" ||
				f.Detail("term_years") != "1" || f.Detail("upfront") != "4321.5" || f.Detail("offering_id") != "offer-d7" || f.ResourceName != "name-d7" ||
				f.Detail("start") != DetailTime(startFor(7)) || !f.ExpiresAt.Equal(startFor(7).Add(year*time.Second)) ||
				!strings.HasPrefix(f.ConsoleURL, "https://console.aws.amazon.com/aos/home?region=eu-west-1")) {
				t.Errorf("what a buyer needs: %+v", f)
			}
			if f, ok := m["undated"]; ok && (f.DaysLeft != nil || !strings.Contains(f.Reason, "expiry unknown")) {
				t.Errorf("undated: %+v", f)
			}
			if f, ok := m["lapsed"]; ok && (f.Reason != "expired 4 days ago on 2026-11-18, not renewed" || *f.DaysLeft != -4 || f.Status != "retired") {
				t.Errorf("lapsed: %q %d %q", f.Reason, *f.DaysLeft, f.Status)
			}
			if f, ok := m["bought"]; ok && (!strings.HasPrefix(f.Detail("renewal"), "bought-new: 3 × r6g.xlarge.search") || !strings.Contains(f.Reason, "bought-new")) {
				t.Errorf("renewal bought outright: %q %v", f.Reason, f.Details)
			}
			if f, ok := m["partial"]; ok && !strings.Contains(f.Reason, "only 2 of 6 instances") {
				t.Errorf("partial renewal: %q", f.Reason)
			}
		})
	}
}
