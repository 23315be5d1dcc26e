package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	memorydbtypes "github.com/aws/aws-sdk-go-v2/service/memorydb/types"
	ostypes "github.com/aws/aws-sdk-go-v2/service/opensearch/types"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
	sptypes "github.com/aws/aws-sdk-go-v2/service/savingsplans/types"
)

// TestEC2ModifiedReservationEndedEarly: AWS retires a modified reservation with End set to the modification time
// (the EC2 User Guide, "Modify Reserved Instances": "The original reservation is retired. Its end date is the start
// date of the new reservation, and the end date of the new reservation is the same as the end date of the original"),
// and the new one keeps the full Duration. The original ended early, on purpose: no finding, while its successor is
// judged on its own. A modified reservation that later reaches its own end unrenewed is still a lapse.
func TestEC2ModifiedReservationEndedEarly(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	day := func(n int) time.Time { return asOf.AddDate(0, 0, n).Add(12 * time.Hour) }
	year := 365 * 24 * time.Hour
	// Bought 348 days before the end of its term, modified 5 days ago (c6i.xlarge × 4 into c6i.2xlarge × 2).
	original := ec2RI("ri-original", "retired", day(12).Add(-year), day(-5), 4)
	original.InstanceType = "c6i.xlarge"
	successor := ec2RI("ri-successor", "active", day(-5), day(12), 2)
	successor.InstanceType = "c6i.2xlarge"
	// Modified 20 days ago (within the lapsed window, so only the rule keeps it out), then left to reach its end four
	// days ago with nothing after it but an unrelated purchase half an hour later.
	earlier := ec2RI("ri-earlier", "retired", day(-4).Add(-year), day(-20), 1)
	earlier.InstanceType = "r6i.large"
	modifiedLapsed := ec2RI("ri-mod-lapsed", "retired", day(-20), day(-4), 1)
	modifiedLapsed.InstanceType = "r6i.large"
	unrelated := ec2RI("ri-unrelated", "active", day(-4).Add(30*time.Minute), day(-4).Add(30*time.Minute+year), 1)
	unrelated.InstanceType = "t3.micro"
	// Two Convertible reservations exchanged 3 days ago into one of the same type holding both: a new full term.
	mergedA := ec2RI("ri-merged-a", "retired", day(-200), day(-3), 2)
	mergedB := ec2RI("ri-merged-b", "retired", day(-150), day(-3), 2)
	merged := ec2RI("ri-merged", "active", day(-3), day(-3).Add(year), 4)
	for _, ri := range []*ec2types.ReservedInstances{&mergedA, &mergedB, &merged} {
		ri.InstanceType, ri.OfferingClass = "m6i.large", ec2types.OfferingClassTypeConvertible
	}
	// Exchanged 3 days ago for a Convertible reservation of another family with a new three-year term.
	exchanged := ec2RI("ri-exchanged", "retired", day(-100), day(-3), 2)
	exchanged.InstanceType, exchanged.OfferingClass = "m5.large", ec2types.OfferingClassTypeConvertible
	exchangedFor := ec2RI("ri-exchanged-for", "active", day(-3), day(-3).Add(3*year), 2)
	exchangedFor.InstanceType, exchangedFor.OfferingClass, exchangedFor.Duration = "m7i.large", ec2types.OfferingClassTypeConvertible, aws.Int64(94608000)

	fake := &fakeEC2{ris: []ec2types.ReservedInstances{original, successor, earlier, modifiedLapsed, unrelated, exchanged, exchangedFor, mergedA, mergedB, merged}}
	got, err := EC2ReservedInstances{}.run(context.Background(), fake, testTarget(t, "2026-11-22T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	declared(t, EC2ReservedInstances{}, got)
	m := byID(got)
	for _, id := range []string{"ri-original", "ri-earlier", "ri-exchanged", "ri-merged-a", "ri-merged-b"} {
		if f, ok := m[id]; ok {
			t.Errorf("%s ended early (modified or exchanged), yet reported: %s %q", id, f.Severity, f.Reason)
		}
	}
	if f := m["ri-successor"]; f.Severity != Warning || f.DaysLeft == nil || *f.DaysLeft != 12 {
		t.Errorf("the successor is judged on its own (expires in 12 days): %+v", f)
	}
	if f := m["ri-mod-lapsed"]; f.Severity != Critical || !strings.Contains(f.Reason, "expired 4 days ago") {
		t.Errorf("a modified reservation that reached its end unrenewed lapsed: %+v", f)
	}
	if len(got) != 2 {
		t.Errorf("findings %v, want ri-successor and ri-mod-lapsed", keys(m))
	}
}

// TestCommitmentStatesNotRecognised: every commitment check reports a state it does not know, or an empty one, as a
// warning that names it, with the item's data; none is dropped. The value is one no document names.
func TestCommitmentStatesNotRecognised(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	start := asOf.AddDate(0, 0, -100)
	ctx := context.Background()
	tg := testTarget(t, "2026-11-22T00:00:00Z")
	for _, state := range []string{"frozen-by-support", ""} {
		runs := map[string]func() ([]Finding, error){
			"ec2": func() ([]Finding, error) {
				return EC2ReservedInstances{}.run(ctx, &fakeEC2{ris: []ec2types.ReservedInstances{
					ec2RI("x", ec2types.ReservedInstanceState(state), start, start.AddDate(1, 0, 0), 1)}}, tg)
			},
			"rds": func() ([]Finding, error) {
				return RDSReservedInstances{}.run(ctx, &fakeRDS{pages: [][]rdstypes.ReservedDBInstance{{rdsRI("x", state, start, yearSeconds)}}}, tg)
			},
			"elasticache": func() ([]Finding, error) {
				return ElastiCacheReservedNodes{}.run(ctx, &fakeElastiCache{pages: [][]ectypes.ReservedCacheNode{{cacheNode("x", state, start, yearSeconds)}}}, tg)
			},
			"redshift": func() ([]Finding, error) {
				return RedshiftReservedNodes{}.run(ctx, &fakeRedshift{pages: [][]rstypes.ReservedNode{{redshiftNode("x", state, start, yearSeconds)}}}, tg)
			},
			"memorydb": func() ([]Finding, error) {
				return MemoryDBReservedNodes{}.run(ctx, &fakeMemoryDB{pages: [][]memorydbtypes.ReservedNode{{mdbNode("x", state, start, yearSeconds)}}}, tg)
			},
			"opensearch": func() ([]Finding, error) {
				return OpenSearchReservedInstances{}.run(ctx, &fakeOpenSearch{pages: [][]ostypes.ReservedInstance{{osRI("x", state, start, yearSeconds, 1)}}}, tg)
			},
			"savings-plans": func() ([]Finding, error) {
				return SavingsPlans{}.run(ctx, &fakeSavingsPlans{pages: [][]sptypes.SavingsPlan{{
					sp("x", sptypes.SavingsPlanState(state), start, start.AddDate(1, 0, 0), "1.00")}}}, tg)
			},
		}
		for name, run := range runs {
			got, err := run()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want := "state \"" + state + "\" not recognised"
			if len(got) != 1 || got[0].Severity != Warning || !strings.Contains(got[0].Reason, want) || got[0].Status != state ||
				got[0].Detail("start") == "" {
				t.Errorf("%s, state %q: %+v, want one warning %q with the item's data", name, state, got, want)
			}
		}
	}
}

// TestRetiredWithoutEndIsExpiryUnknown: a retired reservation whose end cannot be read is a warning, not skipped.
func TestRetiredWithoutEndIsExpiryUnknown(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	ctx := context.Background()
	tg := testTarget(t, "2026-11-22T00:00:00Z")
	ri := ec2RI("ri-noend", "retired", asOf.AddDate(-1, 0, 0), asOf, 1)
	ri.End = nil
	node := redshiftNode("rs-noduration", "retired", asOf.AddDate(-1, 0, 0), yearSeconds)
	node.Duration = nil
	plan := sp("sp-noend", "retired", asOf.AddDate(-1, 0, 0), asOf, "1.00")
	plan.End = aws.String("not a date")
	runs := map[string]func() ([]Finding, error){
		"ec2": func() ([]Finding, error) {
			return EC2ReservedInstances{}.run(ctx, &fakeEC2{ris: []ec2types.ReservedInstances{ri}}, tg)
		},
		"redshift": func() ([]Finding, error) {
			return RedshiftReservedNodes{}.run(ctx, &fakeRedshift{pages: [][]rstypes.ReservedNode{{node}}}, tg)
		},
		"savings-plans": func() ([]Finding, error) {
			return SavingsPlans{}.run(ctx, &fakeSavingsPlans{pages: [][]sptypes.SavingsPlan{{plan}}}, tg)
		},
	}
	for name, run := range runs {
		got, err := run()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Severity != Warning || !strings.Contains(got[0].Reason, "expiry unknown") || got[0].Status != "retired" {
			t.Errorf("%s: %+v, want one warning \"expiry unknown\"", name, got)
		}
	}
}

// TestLapsedRenewalPendingPayment: a reservation that has lapsed and whose only renewal still awaits payment is a
// warning until the renewal is active, in each check whose service has a pending state; Redshift's renewal counts in
// either spelling of it (pending-payment in the API reference, payment-pending in the CLI's examples).
func TestLapsedRenewalPendingPayment(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	ctx := context.Background()
	tg := testTarget(t, "2026-11-22T00:00:00Z")
	year := 365 * 24 * time.Hour
	lapsedAt := asOf.AddDate(0, 0, -3)
	renewedAt := asOf.AddDate(0, 0, -1)
	check := func(name string, got []Finding, err error, wantSev Severity) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		m := byID(got)
		if f, ok := m["old"]; !ok || f.Severity != wantSev || !strings.Contains(f.Detail("renewal"), "new") {
			t.Errorf("%s: %+v, want %s with the renewal named", name, got, wantSev)
		}
	}
	for _, pending := range []string{"pending-payment", "payment-pending"} {
		got, err := RedshiftReservedNodes{}.run(ctx, &fakeRedshift{pages: [][]rstypes.ReservedNode{{
			redshiftNode("old", "retired", lapsedAt.Add(-year), yearSeconds), redshiftNode("new", pending, renewedAt, yearSeconds)}}}, tg)
		check("redshift "+pending, got, err, Warning)
		got, err = RedshiftReservedNodes{}.run(ctx, &fakeRedshift{pages: [][]rstypes.ReservedNode{{
			redshiftNode("old", "active", asOf.AddDate(0, 0, 5).Add(-year), yearSeconds), redshiftNode("new", pending, renewedAt, yearSeconds)}}}, tg)
		check("redshift expiring, renewal "+pending, got, err, Notice)
	}
	got, err := ElastiCacheReservedNodes{}.run(ctx, &fakeElastiCache{pages: [][]ectypes.ReservedCacheNode{{
		cacheNode("old", "retired", lapsedAt.Add(-year), yearSeconds), cacheNode("new", "payment-pending", renewedAt, yearSeconds)}}}, tg)
	check("elasticache", got, err, Warning)
	got, err = RDSReservedInstances{}.run(ctx, &fakeRDS{pages: [][]rdstypes.ReservedDBInstance{{
		rdsRI("old", "retired", lapsedAt.Add(-year), yearSeconds), rdsRI("new", "payment-pending", renewedAt, yearSeconds)}}}, tg)
	check("rds", got, err, Warning)
	got, err = EC2ReservedInstances{}.run(ctx, &fakeEC2{ris: []ec2types.ReservedInstances{
		ec2RI("old", "retired", lapsedAt.Add(-year), lapsedAt, 1), ec2RI("new", "payment-pending", renewedAt, renewedAt.Add(year), 1)}}, tg)
	check("ec2", got, err, Warning)
	got, err = SavingsPlans{}.run(ctx, &fakeSavingsPlans{pages: [][]sptypes.SavingsPlan{{
		sp("old", "retired", lapsedAt.Add(-year), lapsedAt, "1.00"), sp("new", "payment-pending", renewedAt, renewedAt.Add(year), "1.00")}}}, tg)
	check("savings-plans", got, err, Warning)
	// A renewal queued to start later leaves a gap until it does: the lapse stays a warning, never silenced.
	startsLater := asOf.AddDate(0, 0, 20)
	got, err = EC2ReservedInstances{}.run(ctx, &fakeEC2{ris: []ec2types.ReservedInstances{
		ec2RI("old", "retired", lapsedAt.Add(-year), lapsedAt, 1), ec2RI("new", "queued", startsLater, startsLater.Add(year), 1)}}, tg)
	check("ec2, renewal queued to start in 20 days", got, err, Warning)
	got, err = SavingsPlans{}.run(ctx, &fakeSavingsPlans{pages: [][]sptypes.SavingsPlan{{
		sp("old", "retired", lapsedAt.Add(-year), lapsedAt, "1.00"), sp("new", "queued", startsLater, startsLater.Add(year), "1.00")}}}, tg)
	check("savings-plans, renewal queued to start in 20 days", got, err, Warning)
	// Once active, the renewal settles it: nothing to report.
	got, err = RedshiftReservedNodes{}.run(ctx, &fakeRedshift{pages: [][]rstypes.ReservedNode{{
		redshiftNode("old", "retired", lapsedAt.Add(-year), yearSeconds), redshiftNode("new", "active", renewedAt, yearSeconds)}}}, tg)
	if err != nil || len(got) != 0 {
		t.Errorf("renewed and active: %+v %v", got, err)
	}
}

// TestDocumentedCommitmentStates: each documented state is handled on purpose. A purchase whose payment failed is
// reported while recent; a queued purchase deleted, a Savings Plan returned or being returned and a Redshift node
// being exchanged are ended on purpose and never a renewal; a Savings Plan returned is not a lapse.
func TestDocumentedCommitmentStates(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	ctx := context.Background()
	tg := testTarget(t, "2026-11-22T00:00:00Z")
	year := 365 * 24 * time.Hour
	soon := asOf.AddDate(0, 0, 5).Add(12 * time.Hour)

	// EC2: queued-deleted never renews; payment-failed is reported while recent.
	got, err := EC2ReservedInstances{}.run(ctx, &fakeEC2{ris: []ec2types.ReservedInstances{
		ec2RI("ri-expiring", "active", soon.Add(-year), soon, 2),
		ec2RI("ri-deleted", "queued-deleted", soon, soon.Add(year), 2),
		ec2RI("ri-failed", "payment-failed", asOf.AddDate(0, 0, -2), asOf.AddDate(0, 0, -2).Add(year), 1),
		ec2RI("ri-failed-old", "payment-failed", asOf.AddDate(0, 0, -90), asOf.AddDate(0, 0, -90).Add(year), 1),
	}}, tg)
	if err != nil {
		t.Fatal(err)
	}
	m := byID(got)
	if f := m["ri-expiring"]; f.Severity != Critical || f.Detail("renewal") != "" {
		t.Errorf("a deleted queued purchase renews nothing: %+v", f)
	}
	if f := m["ri-failed"]; f.Severity != Critical || !strings.Contains(f.Reason, "payment failed") {
		t.Errorf("payment failed: %+v", f)
	}
	if _, ok := m["ri-deleted"]; ok || len(got) != 2 {
		t.Errorf("findings %v, want ri-expiring and ri-failed", keys(m))
	}

	// Savings Plans: returned and pending-return are ended on purpose; queued-deleted renews nothing.
	got, err = SavingsPlans{}.run(ctx, &fakeSavingsPlans{pages: [][]sptypes.SavingsPlan{{
		sp("sp-expiring", "active", soon.Add(-year), soon, "2.00"),
		sp("sp-deleted", "queued-deleted", soon, soon.Add(year), "2.00"),
		sp("sp-returning", "pending-return", asOf.AddDate(0, 0, -2), asOf.AddDate(0, 0, -2).Add(year), "2.00"),
		sp("sp-returned", "returned", asOf.AddDate(0, 0, -6), asOf.AddDate(0, 0, -5), "3.00"),
	}}}, tg)
	if err != nil {
		t.Fatal(err)
	}
	m = byID(got)
	if f := m["sp-expiring"]; f.Severity != Critical || f.Detail("renewal") != "" || len(got) != 1 {
		t.Errorf("only the expiring plan, unrenewed: %v %+v", keys(m), f)
	}

	// Redshift: exchanging is neither expiring nor a renewal; payment-failed is reported while recent.
	got, err = RedshiftReservedNodes{}.run(ctx, &fakeRedshift{pages: [][]rstypes.ReservedNode{{
		redshiftNode("rs-expiring", "active", soon.Add(-year), yearSeconds),
		redshiftNode("rs-exchanging", "exchanging", soon.Add(-year), yearSeconds),
		redshiftNode("rs-failed", "payment-failed", asOf.AddDate(0, 0, -1), yearSeconds),
		// Exchanged: retired with its term still ahead.
		redshiftNode("rs-exchanged", "retired", asOf.AddDate(0, 0, -100), yearSeconds),
	}}}, tg)
	if err != nil {
		t.Fatal(err)
	}
	m = byID(got)
	if m["rs-expiring"].Severity != Critical || m["rs-failed"].Severity != Critical || !strings.Contains(m["rs-failed"].Reason, "payment failed") || len(got) != 2 {
		t.Errorf("redshift findings %v: %+v", keys(m), got)
	}
}
