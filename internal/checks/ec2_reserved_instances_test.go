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
	modified := ec2RI("ri-modified", "active", day(-30), day(12), 2) // Start moved by a modification; End kept
	partial := ec2RI("ri-partial", "active", day(3).Add(-year), day(3), 4)
	partial.InstanceType = "c6i.large"
	partialQueued := ec2RI("ri-partial-q", "queued", day(3), day(3).Add(year), 2)
	partialQueued.InstanceType = "c6i.large"
	otherType := ec2RI("ri-other-q", "queued", day(5), day(5).Add(year), 4)
	otherType.InstanceType = "r6i.large"
	undated := ec2RI("ri-undated", "active", day(-10), day(0), 1)
	undated.End = nil // never silently skipped: a reservation the audit cannot date is not safe
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
			modified, partial, partialQueued, otherType,
			ec2RI("ri-far", "active", day(-10), day(200), 1),
			ec2RI("ri-60", "active", day(60).Add(-year), day(60), 1),
			undated,
		}}, want: map[string]Severity{"ri-renewed": Notice, "ri-modified": Warning, "ri-partial": Critical, "ri-60": Notice, "ri-undated": Warning},
			days: map[string]int{"ri-renewed": 5, "ri-modified": 12, "ri-partial": 3, "ri-60": 60}},
		{name: "api error", fake: &fakeEC2{err: &smithy.GenericAPIError{Code: "UnauthorizedOperation"}}, wantErr: "UnauthorizedOperation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := testTarget(t, "2026-11-22T00:00:00Z")
			got, err := EC2ReservedInstances{}.run(context.Background(), c.fake, tg)
			if c.wantErr != "" {
				if ErrorCode(err) != c.wantErr {
					t.Fatalf("err = %v, want %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f := c.fake.input.Filters; len(f) != 1 || aws.ToString(f[0].Name) != "state" || len(f[0].Values) != 2 {
				t.Errorf("want a state filter for active and queued, got %+v", f)
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
				if m[id].Severity != sev || *m[id].DaysLeft != c.days[id] {
					t.Errorf("%s: %q %d days, want %q %d", id, m[id].Severity, *m[id].DaysLeft, sev, c.days[id])
				}
			}
			if r, ok := m["ri-renewed"]; ok && !strings.HasPrefix(r.Details["Queued renewal"], "ri-queued: 4 ×") {
				t.Errorf("renewal not shown beside the expiring reservation: %v", r.Details)
			}
			if r, ok := m["ri-partial"]; ok && (!strings.Contains(r.Reason, "only 2 of 4") || r.Details["Queued renewal"] == "") {
				t.Errorf("a partial renewal keeps the severity and says so: %+v", r)
			}
			if r, ok := m["ri-modified"]; ok && !r.ExpiresAt.Equal(day(12)) {
				t.Errorf("modified reservation must expire at End, got %v", r.ExpiresAt)
			}
		})
	}
}
