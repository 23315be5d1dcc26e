package distributed_test

import (
	"encoding/json"
	"testing"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// TestDistributedOnDemandEqualsSingle: with -on-demand (the template deployed with OnDemandRates=true) the report step
// prices the merged findings exactly as a single run prices its own, asking the price list as often (once per
// distinct rate), and the shards ask nothing.
func TestDistributedOnDemandEqualsSingle(t *testing.T) {
	t.Parallel()
	start := func() *awssim.Server {
		org := awssim.Demo(asOf)
		d := testkit.DemoDeployment(org)
		d.ManagementParameters["Mode"], d.ManagementParameters["OnDemandRates"] = "distributed", "true"
		return testkit.StartEnforced(t, org, d)
	}
	base := deployment(t)
	base.OnDemand = true
	singleSim := start()
	want := single(t, singleSim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), base)

	sim := start()
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	p := plan(t, sim, cfg, base)
	var mapOut []json.RawMessage
	for i := range p.shards {
		mapOut = append(mapOut, p.shard(t, cfg, base, i))
	}
	afterShards := sim.Calls()["pricing.GetProducts"]
	got := p.report(t, cfg, base, mapOut)
	if afterShards != 0 {
		t.Errorf("the plan and shards asked the price list %d times; only the report step does", afterShards)
	}
	if g, w := sim.Calls()["pricing.GetProducts"], singleSim.Calls()["pricing.GetProducts"]; g != w || w == 0 {
		t.Errorf("GetProducts: %d calls distributed, %d single", g, w)
	}
	priced := 0
	for _, f := range want.Result.Findings {
		if f.Money != nil && f.Money.OnDemand != nil && f.Money.USDPerMonthOnDemand != nil {
			priced++
		}
	}
	if priced == 0 {
		t.Fatal("the single run priced no finding")
	}
	if d := differing(comparable(t, got.Result), comparable(t, want.Result)); len(d) != 0 {
		t.Errorf("the distributed result differs from the single run's in %v", d)
	}
}
