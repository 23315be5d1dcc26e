package awssim

import (
	"context"
	"testing"

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
