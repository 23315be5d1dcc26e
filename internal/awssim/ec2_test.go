package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestReservedInstancesStateFilter: only the documented state filter values select anything; without a filter
// every state comes back, retired and queued included.
func TestReservedInstancesStateFilter(t *testing.T) {
	t.Parallel()
	s := start(t)
	client := ec2.NewFromConfig(s.Config("555555555555", "eu-west-1"))
	states := func(filter ...string) map[ec2types.ReservedInstanceState]int {
		in := &ec2.DescribeReservedInstancesInput{}
		if filter != nil {
			in.Filters = []ec2types.Filter{{Name: aws.String("state"), Values: filter}}
		}
		out, err := client.DescribeReservedInstances(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		m := map[ec2types.ReservedInstanceState]int{}
		for _, ri := range out.ReservedInstances {
			m[ri.State]++
		}
		return m
	}
	want := map[ec2types.ReservedInstanceState]int{}
	for _, ri := range Demo(asOf).account("555555555555").Regions["eu-west-1"].ReservedInstances {
		want[ec2types.ReservedInstanceState(ri.State)]++
	}
	if all := states(); len(all) != len(want) || all["queued"] != want["queued"] || all["retired"] != want["retired"] || want["queued"] == 0 || want["retired"] == 0 {
		t.Errorf("unfiltered: %v, want %v", all, want)
	}
	if q := states("queued"); len(q) != 0 {
		t.Errorf("queued is not a documented state filter value, yet it selected %v", q)
	}
	if a := states("active", "retired"); a["active"] != want["active"] || a["retired"] != want["retired"] || len(a) != 2 {
		t.Errorf("documented values: %v", a)
	}
}

// TestModifiedReservationWire: the simulator reports a modified reservation as AWS does (EC2 User Guide, "Modify
// Reserved Instances"): the original retired with End at the modification, which is the Start of the new one and
// lies before the original's Start + Duration; the new one ends when the original would have, keeping the full
// Duration.
func TestModifiedReservationWire(t *testing.T) {
	t.Parallel()
	s := start(t)
	out, err := ec2.NewFromConfig(s.Config("555555555555", "eu-west-1")).DescribeReservedInstances(context.Background(), &ec2.DescribeReservedInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]ec2types.ReservedInstances{}
	for _, ri := range out.ReservedInstances {
		byID[aws.ToString(ri.ReservedInstancesId)] = ri
	}
	orig, next := byID["ri-0compute00modfrom"], byID["ri-0compute00modified"]
	if orig.State != "retired" || next.State != "active" || orig.End == nil || next.Start == nil || next.End == nil {
		t.Fatalf("original %+v, successor %+v", orig, next)
	}
	term := time.Duration(aws.ToInt64(orig.Duration)) * time.Second
	if !orig.End.Equal(*next.Start) || !orig.End.Before(orig.Start.Add(term)) || !next.End.Equal(orig.Start.Add(term)) ||
		aws.ToInt64(next.Duration) != aws.ToInt64(orig.Duration) || !next.End.Before(next.Start.Add(term)) {
		t.Errorf("original %v–%v (%v), successor %v–%v (%v): not as AWS reports a modification", orig.Start, orig.End, term,
			next.Start, next.End, aws.ToInt64(next.Duration))
	}
	if orig.End.After(asOf) || asOf.Sub(*orig.End) > 10*24*time.Hour {
		t.Errorf("the demo's modification lies within the lapsed window, to be seen not reported: %v", orig.End)
	}
}
