package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

type fakeRDS struct {
	pages [][]rdstypes.ReservedDBInstance
	err   error
	calls int
}

func (f *fakeRDS) DescribeReservedDBInstances(_ context.Context, in *rds.DescribeReservedDBInstancesInput, _ ...func(*rds.Options)) (*rds.DescribeReservedDBInstancesOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := &rds.DescribeReservedDBInstancesOutput{}
	out.ReservedDBInstances, out.Marker = fakePage(f.pages, in.Marker)
	return out, nil
}

func rdsRI(id, state string, start time.Time, seconds int32) rdstypes.ReservedDBInstance {
	return rdstypes.ReservedDBInstance{ReservedDBInstanceId: aws.String(id), State: aws.String(state), StartTime: aws.Time(start),
		Duration: aws.Int32(seconds), DBInstanceClass: aws.String("db.r6g.large"), DBInstanceCount: aws.Int32(1)}
}

func TestRDSEnd(t *testing.T) {
	t.Parallel()
	ri := rdsRI("x", "active", mustTime(t, "2025-12-10T12:00:00Z"), 31536000)
	if got := rdsReservation(ri).end(); !got.Equal(mustTime(t, "2026-12-10T12:00:00Z")) {
		t.Errorf("end = %v: StartTime + Duration seconds", got)
	}
	three := rdsRI("y", "active", mustTime(t, "2024-02-29T00:00:00Z"), 94608000) // 3 × 365 days, across a leap day
	if got := rdsReservation(three).end(); !got.Equal(mustTime(t, "2027-02-28T00:00:00Z")) {
		t.Errorf("3-year end = %v", got)
	}
}

func TestRDSReservedInstances(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	startFor := func(daysLeft int) time.Time {
		return asOf.AddDate(0, 0, daysLeft).Add(12*time.Hour - 31536000*time.Second)
	}
	class := func(ri rdstypes.ReservedDBInstance, c string) rdstypes.ReservedDBInstance {
		ri.DBInstanceClass = aws.String(c)
		return ri
	}
	undated := rdsRI("undated", "active", asOf, 31536000)
	undated.StartTime = nil // reported as expiry unknown, never dropped
	cases := []struct {
		name      string
		fake      *fakeRDS
		want      map[string]Severity
		wantCalls int
		wantErr   string
	}{
		{name: "empty", fake: &fakeRDS{}, want: map[string]Severity{}, wantCalls: 1},
		{name: "several pages", fake: &fakeRDS{pages: [][]rdstypes.ReservedDBInstance{
			{rdsRI("d7", "active", startFor(7), 31536000), rdsRI("d8", "active", startFor(8), 31536000)},
			{rdsRI("retired", "retired", startFor(-5), 31536000), rdsRI("pending", "payment-pending", startFor(3), 31536000)},
			{rdsRI("d31", "active", startFor(31), 31536000), rdsRI("d61", "active", startFor(61), 31536000), undated},
		}}, want: map[string]Severity{"d7": Critical, "d8": Warning, "d31": Notice, "undated": Warning, "retired": Critical}, wantCalls: 3},
		{name: "lapsed, retired early and bought outright", fake: &fakeRDS{pages: [][]rdstypes.ReservedDBInstance{
			// AWS retires a reservation at its end: unrenewed, it is the most urgent finding, not a vanished row.
			{rdsRI("lapsed", "retired", startFor(-4), 31536000), rdsRI("lapsed-30", "retired", startFor(-30), 31536000),
				rdsRI("lapsed-31", "retired", startFor(-31), 31536000)},
			// Retired early: its end is ahead, its capacity lives on in another reservation.
			{rdsRI("exchanged", "retired", startFor(200), 31536000),
				// Lapsed and bought again late: nothing to do.
				class(rdsRI("lapsed-renewed", "retired", startFor(-3), 31536000), "db.m7g.large"),
				class(rdsRI("late", "active", asOf.AddDate(0, 0, -1), 31536000), "db.m7g.large")},
			// A renewal bought outright lowers the expiring one to a notice; a sibling bought long before does not.
			{class(rdsRI("bought", "active", startFor(9), 31536000), "db.x2g.large"), class(rdsRI("bought-new", "payment-pending", asOf.AddDate(0, 0, -2), 31536000), "db.x2g.large"),
				class(rdsRI("sibling", "active", startFor(20), 31536000), "db.t4g.large"), class(rdsRI("sibling-old", "active", asOf.AddDate(0, 0, -200), 31536000), "db.t4g.large")},
		}}, want: map[string]Severity{"lapsed": Critical, "lapsed-30": Critical, "bought": Notice, "sibling": Warning}, wantCalls: 3},
		{name: "api error", fake: &fakeRDS{err: &smithy.GenericAPIError{Code: "AccessDenied"}}, wantErr: "AccessDenied", wantCalls: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := RDSReservedInstances{}.run(context.Background(), c.fake, testTarget(t, "2026-11-22T00:00:00Z"))
			declared(t, RDSReservedInstances{}, got)
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
			if f, ok := m["lapsed"]; ok && (f.Reason != "expired 4 days ago on 2026-11-18, not renewed" || *f.DaysLeft != -4 || f.Status != "retired") {
				t.Errorf("lapsed: %q %d %q", f.Reason, *f.DaysLeft, f.Status)
			}
			if f, ok := m["bought"]; ok && (!strings.HasPrefix(f.Detail("renewal"), "bought-new: 1 ×") || !strings.Contains(f.Reason, "bought-new")) {
				t.Errorf("renewal bought outright: %q %v", f.Reason, f.Details)
			}
		})
	}
}
