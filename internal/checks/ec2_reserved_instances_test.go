package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

type fakeEC2 struct {
	ris   []ec2types.ReservedInstances
	err   error
	input *ec2.DescribeReservedInstancesInput
}

func (f *fakeEC2) DescribeReservedInstances(_ context.Context, in *ec2.DescribeReservedInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeReservedInstancesOutput, error) {
	f.input = in
	if f.err != nil {
		return nil, f.err
	}
	return &ec2.DescribeReservedInstancesOutput{ReservedInstances: f.ris}, nil
}

func ec2RI(id string, state ec2types.ReservedInstanceState, start, end time.Time, count int32) ec2types.ReservedInstances {
	return ec2types.ReservedInstances{ReservedInstancesId: aws.String(id), State: state, Start: aws.Time(start), End: aws.Time(end),
		InstanceType: "m6i.large", InstanceCount: aws.Int32(count), ProductDescription: "Linux/UNIX", Scope: ec2types.ScopeRegional,
		InstanceTenancy: ec2types.TenancyDefault, Duration: aws.Int64(31536000)}
}

func TestEC2ReservedInstances(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	day := func(n int) time.Time { return asOf.AddDate(0, 0, n).Add(12 * time.Hour) }
	year := 365 * 24 * time.Hour
	// Modified 30 days ago: AWS retired the original with End at that moment and started the new one then, with the
	// original's End and the full Duration.
	modified := ec2RI("ri-modified", "active", day(-30), day(12), 2)
	modifiedFrom := ec2RI("ri-modified-from", "retired", day(12).Add(-year), day(-30), 4)
	modifiedFrom.InstanceType = "m6i.medium"
	partial := ec2RI("ri-partial", "active", day(3).Add(-year), day(3), 4)
	partial.InstanceType = "c6i.large"
	partialQueued := ec2RI("ri-partial-q", "queued", day(3), day(3).Add(year), 2)
	partialQueued.InstanceType = "c6i.large"
	otherType := ec2RI("ri-other-q", "queued", day(5), day(5).Add(year), 4)
	otherType.InstanceType = "r6i.large"
	undated := ec2RI("ri-undated", "active", day(-10), day(0), 1)
	undated.End = nil // never silently skipped: a reservation the audit cannot date is not safe
	typed := func(ri ec2types.ReservedInstances, typ ec2types.InstanceType) ec2types.ReservedInstances {
		ri.InstanceType = typ
		return ri
	}
	zonal := func(ri ec2types.ReservedInstances, az string) ec2types.ReservedInstances {
		ri.Scope, ri.AvailabilityZone = ec2types.ScopeAvailabilityZone, aws.String(az)
		return ri
	}
	lapsedCase := []ec2types.ReservedInstances{
		// AWS retires a reservation at its end: unrenewed, it is the most urgent finding, not a vanished row.
		ec2RI("ri-lapsed", "retired", day(-4).Add(-year), day(-4), 2),
		typed(ec2RI("ri-lapsed-30", "retired", day(-30).Add(-year), day(-30), 1), "c5.large"),
		typed(ec2RI("ri-lapsed-31", "retired", day(-31).Add(-year), day(-31), 1), "c5.large"),
		// Exchanged two days ago: AWS retired it with End at the exchange, when the new one starts; ended early,
		// not lapsed. The new one, of another type, is judged on its own.
		ec2RI("ri-exchanged", "retired", day(-165), day(-2), 2),
		typed(ec2RI("ri-exchanged-for", "active", day(-2), day(200), 2), "m7i.large"),
		// Lapsed, then bought again late: renewed, nothing to do.
		typed(ec2RI("ri-lapsed-renewed", "retired", day(-3).Add(-year), day(-3), 1), "x2idn.large"),
		typed(ec2RI("ri-late", "active", day(-1), day(-1).Add(year), 1), "x2idn.large"),
		// A renewal bought outright rather than queued counts like a queued one.
		typed(ec2RI("ri-bought", "active", day(9).Add(-year), day(9), 2), "t3.xlarge"),
		typed(ec2RI("ri-bought-new", "payment-pending", day(-2), day(-2).Add(year), 2), "t3.xlarge"),
		// A reservation of the same kind bought long before is a sibling, not a renewal.
		typed(ec2RI("ri-sibling", "active", day(20).Add(-year), day(20), 1), "z1d.large"),
		typed(ec2RI("ri-sibling-old", "active", day(-200), day(165), 1), "z1d.large"),
		// Zonal reservations renew only in their own zone.
		zonal(typed(ec2RI("ri-zonal", "active", day(4).Add(-year), day(4), 1), "i4i.large"), "eu-west-1a"),
		zonal(typed(ec2RI("ri-zonal-other", "active", day(-1), day(-1).Add(year), 1), "i4i.large"), "eu-west-1b"),
		// Payment failed: not in effect, and reported while recent; a queued purchase deleted is neither.
		typed(ec2RI("ri-payment-failed", "payment-failed", day(-1), day(5), 1), "m7g.large"),
		typed(ec2RI("ri-queued-deleted", "queued-deleted", day(3), day(368), 1), "m7g.large"),
	}
	cases := []struct {
		name    string
		fake    *fakeEC2
		want    map[string]Severity
		days    map[string]int
		wantErr string
	}{
		{name: "empty", fake: &fakeEC2{}, want: map[string]Severity{}},
		{name: "expiry, renewal and modification", fake: &fakeEC2{ris: []ec2types.ReservedInstances{
			ec2RI("ri-renewed", "active", day(5).Add(-year), day(5), 4),
			ec2RI("ri-queued", "queued", day(5), day(5).Add(year), 4),
			modified, modifiedFrom, partial, partialQueued, otherType,
			ec2RI("ri-far", "active", day(-10), day(200), 1),
			ec2RI("ri-60", "active", day(60).Add(-year), day(60), 1),
			undated,
		}}, want: map[string]Severity{"ri-renewed": Notice, "ri-modified": Warning, "ri-partial": Critical, "ri-60": Notice, "ri-undated": Warning},
			days: map[string]int{"ri-renewed": 5, "ri-modified": 12, "ri-partial": 3, "ri-60": 60}},
		{name: "lapsed, retired early and bought outright", fake: &fakeEC2{ris: lapsedCase},
			want: map[string]Severity{"ri-lapsed": Critical, "ri-lapsed-30": Critical, "ri-bought": Notice, "ri-sibling": Warning, "ri-zonal": Critical,
				"ri-payment-failed": Critical},
			days: map[string]int{"ri-lapsed": -4, "ri-lapsed-30": -30, "ri-bought": 9, "ri-sibling": 20, "ri-zonal": 4}},
		{name: "api error", fake: &fakeEC2{err: &smithy.GenericAPIError{Code: "UnauthorizedOperation"}}, wantErr: "UnauthorizedOperation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := testTarget(t, "2026-11-22T00:00:00Z")
			got, err := EC2ReservedInstances{}.run(context.Background(), c.fake, tg)
			declared(t, EC2ReservedInstances{}, got)
			if c.wantErr != "" {
				if awserr.APICode(err) != c.wantErr {
					t.Fatalf("err = %v, want %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The documented state filter values are payment-pending, active, payment-failed and retired: queued is
			// not one of them, so a filter may name only these (or none, and the check sorts states itself).
			documented := map[string]bool{"payment-pending": true, "active": true, "payment-failed": true, "retired": true}
			for _, f := range c.fake.input.Filters {
				for _, v := range f.Values {
					if aws.ToString(f.Name) == "state" && !documented[v] {
						t.Errorf("state filter value %q is not documented", v)
					}
				}
			}
			m := byID(got)
			if len(m) != len(c.want) {
				t.Fatalf("findings %v, want %v", keys(m), c.want)
			}
			for id, sev := range c.want {
				if id == "ri-undated" {
					if f := m[id]; f.Severity != sev || f.DaysLeft != nil || !strings.Contains(f.Reason, "expiry unknown") {
						t.Errorf("undated reservation: %+v", f)
					}
					continue
				}
				if id == "ri-payment-failed" {
					if f := m[id]; f.Severity != sev || f.Reason != "payment failed: the purchase due to start 2026-11-21 is not in effect" {
						t.Errorf("payment failed: %+v", f)
					}
					continue
				}
				if m[id].Severity != sev || *m[id].DaysLeft != c.days[id] {
					t.Errorf("%s: %q %d days, want %q %d", id, m[id].Severity, *m[id].DaysLeft, sev, c.days[id])
				}
			}
			if r, ok := m["ri-lapsed"]; ok && (r.Reason != "expired 4 days ago on 2026-11-18, not renewed" || r.Status != "retired") {
				t.Errorf("lapsed reservation: %q %q", r.Reason, r.Status)
			}
			if r, ok := m["ri-bought"]; ok && (!strings.HasPrefix(r.Detail("renewal"), "ri-bought-new: 2 ×") || !strings.Contains(r.Reason, "ri-bought-new")) {
				t.Errorf("a renewal bought outright is shown and lowers the severity: %q %v", r.Reason, r.Details)
			}
			if r, ok := m["ri-renewed"]; ok && !strings.HasPrefix(r.Detail("renewal"), "ri-queued: 4 ×") {
				t.Errorf("renewal not shown beside the expiring reservation: %v", r.Details)
			}
			if r, ok := m["ri-partial"]; ok && (!strings.Contains(r.Reason, "only 2 of 4") || r.Detail("renewal") == "") {
				t.Errorf("a partial renewal keeps the severity and says so: %+v", r)
			}
			if r, ok := m["ri-modified"]; ok && !r.ExpiresAt.Equal(day(12)) {
				t.Errorf("modified reservation must expire at End, got %v", r.ExpiresAt)
			}
		})
	}
}
