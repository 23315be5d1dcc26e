package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
)

// TestEC2RenewalMustBeDated: a renewal must outlast what it renews, so one whose end AWS did not report cannot be
// one, as for every other commitment (termFindings, Savings Plans). An undated reservation is reported on its own with
// its expiry unknown; it must not lower the reservation beside it to a notice as though its capacity were secured.
func TestEC2RenewalMustBeDated(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	day := func(n int) time.Time { return asOf.AddDate(0, 0, n).Add(12 * time.Hour) }
	year := 365 * 24 * time.Hour
	ending := ec2RI("ri-ending", "active", day(5).Add(-year), day(5), 2)
	undated := ec2RI("ri-undated-new", "active", day(-1), day(-1).Add(year), 2)
	undated.End = nil
	queued := ec2RI("ri-undated-queued", "queued", day(5), day(5).Add(year), 2)
	queued.End = nil
	for _, c := range []struct {
		name string
		next string
	}{{"bought outright", "ri-undated-new"}, {"queued", "ri-undated-queued"}} {
		t.Run(c.name, func(t *testing.T) {
			list := []ec2types.ReservedInstances{ending, undated}
			if c.next == "ri-undated-queued" {
				list = []ec2types.ReservedInstances{ending, queued}
			}
			got, err := EC2ReservedInstances{}.run(context.Background(), &fakeEC2{ris: list}, testTarget(t, "2026-11-22T00:00:00Z"))
			if err != nil {
				t.Fatal(err)
			}
			declared(t, EC2ReservedInstances{}, got)
			m := byID(got)
			if f := m["ri-ending"]; f.Severity != Critical || f.Detail("renewal") != "" || f.Reason != "expires in 5 days on 2026-11-27" {
				t.Errorf("an undated reservation renewed ri-ending: %q %q %v", f.Severity, f.Reason, f.Detail("renewal"))
			}
			if c.next == "ri-undated-new" {
				if f := m[c.next]; f.Severity != Warning || !strings.Contains(f.Reason, "expiry unknown") {
					t.Errorf("the undated reservation is reported with its expiry unknown: %+v", f)
				}
			}
		})
	}
}

// TestFailedPurchaseReportedWhileRecent: a purchase whose payment failed is reported while it was due to start at most
// Limits.LapsedDays ago, judged by its start alone, for every service. A Redshift node missing only its Duration, which
// says nothing of when the purchase was due, was reported however old, every run, as no other commitment is.
func TestFailedPurchaseReportedWhileRecent(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	tg := testTarget(t, "2026-11-22T00:00:00Z")
	old := redshiftNode("rs-unpaid-old", "payment-failed", asOf.AddDate(0, 0, -(tg.Limits.LapsedDays+60)), yearSeconds)
	old.Duration = nil
	recent := redshiftNode("rs-unpaid-recent", "payment-failed", asOf.AddDate(0, 0, -1), yearSeconds)
	recent.Duration = nil
	got, err := RedshiftReservedNodes{}.run(context.Background(), &fakeRedshift{pages: [][]rstypes.ReservedNode{{old, recent}}}, tg)
	if err != nil {
		t.Fatal(err)
	}
	declared(t, RedshiftReservedNodes{}, got)
	m := byID(got)
	if _, ok := m["rs-unpaid-old"]; ok || len(m) != 1 {
		t.Errorf("findings %v, want only rs-unpaid-recent: a failed purchase due long ago is history", keys(m))
	}
	if f := m["rs-unpaid-recent"]; f.Severity != Critical || f.Reason != "payment failed: the purchase due to start 2026-11-21 is not in effect" {
		t.Errorf("recent failed purchase: %q %q", f.Severity, f.Reason)
	}
}
