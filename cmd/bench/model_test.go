package main

import (
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// flat is a profile without fractions: every cell one call, so the expected walls follow from counting.
func flat(regions int) callProfile {
	return callProfile{SetupCalls: 2, Regions: regions, RegionalCalls: []float64{1, 1, 1}, AccountWideCalls: []float64{1},
		AccountsPerPage: 20, WalkFixed: 3, DeliveryCalls: 4}
}

// TestSimulateLatencyBound: with CPU free, one worker makes every call in turn, and unlimited workers take one
// account's chain (set-up, then its cells side by side).
func TestSimulateLatencyBound(t *testing.T) {
	const latency = 100 * time.Millisecond
	p := flat(4)
	perAccount := int(p.callsPerAccount())
	one := simulate(fnModel{Accounts: 5, Concurrency: 1, Latency: latency, CPUPerCall: time.Nanosecond, VCPU: 1000, Profile: p})
	if want := 5 * perAccount; one.Calls != want || one.Wall < time.Duration(want)*latency || one.Wall > time.Duration(want)*(latency+time.Microsecond) {
		t.Errorf("concurrency 1: %d calls in %s, want %d calls in %s", one.Calls, one.Wall, want, time.Duration(want)*latency)
	}
	wide := simulate(fnModel{Accounts: 5, Concurrency: 5 * perAccount, Latency: latency, CPUPerCall: time.Nanosecond, VCPU: 1000, Profile: p})
	if want := time.Duration(p.SetupCalls+1) * latency; wide.Wall < want || wide.Wall > want+time.Millisecond {
		t.Errorf("unlimited concurrency: %s, want the chain %s", wide.Wall, want)
	}
}

// TestSimulateCPUBound: with no latency the calls queue for the cores: calls × CPU ÷ vCPU, whether the vCPU is a
// fraction of one core or several.
func TestSimulateCPUBound(t *testing.T) {
	p := flat(4)
	for _, vcpu := range []float64{0.25, 1, 3} {
		o := simulate(fnModel{Accounts: 10, Concurrency: 64, Latency: 0, CPUPerCall: time.Millisecond, VCPU: vcpu, Profile: p})
		want := time.Duration(float64(o.Calls) * float64(time.Millisecond) / vcpu)
		if o.Calls != 10*int(p.callsPerAccount()) || o.Wall < want || o.Wall > want+want/20 {
			t.Errorf("%.2f vCPU: %d calls in %s, want %s", vcpu, o.Calls, o.Wall, want)
		}
	}
}

// TestSimulateWalk: in single mode the accounts arrive a page per call after the walk's fixed calls, so with CPU
// free and ample workers the last page's accounts end one chain after it.
func TestSimulateWalk(t *testing.T) {
	const latency = 10 * time.Millisecond
	p := flat(2)
	m := fnModel{Accounts: 95, Concurrency: 10000, Latency: latency, CPUPerCall: time.Nanosecond, VCPU: 1000, Profile: p, Walk: true}
	o := simulate(m)
	pages := (95 + p.AccountsPerPage - 1) / p.AccountsPerPage
	want := time.Duration(p.WalkFixed+pages+p.SetupCalls+1) * latency
	if o.Wall < want || o.Wall > want+time.Millisecond {
		t.Errorf("walk: %s, want %s", o.Wall, want)
	}
	if b := singleBound(m); b > o.Wall || b < want-time.Millisecond {
		t.Errorf("bound %s, wall %s", b, o.Wall)
	}
}

// TestBoundsBelowWalls: each mode's lower bound is below what the model simulates, across CPU-bound and
// latency-bound settings, and a mean of calls per cell keeps the measured totals.
func TestBoundsBelowWalls(t *testing.T) {
	p := flat(17)
	p.RegionalCalls[0] = 1.45
	for _, c := range []struct {
		memory, concurrency int
		cpu                 time.Duration
	}{{512, 64, 200 * time.Microsecond}, {128, 256, time.Millisecond}, {10240, 16, 50 * time.Microsecond}} {
		f := fnModel{Accounts: 230, Concurrency: c.concurrency, Latency: 100 * time.Millisecond, CPUPerCall: c.cpu, VCPU: lambdaCPU(c.memory), Profile: p}
		s := simulateSingle(f, time.Second)
		d := simulateDistributed(distModel{Accounts: 230, ShardSize: 50, MaxConcurrency: 2, Fn: f, StepOverhead: time.Second, ReportStep: time.Second})
		if s.Bound > s.Total || d.Bound > d.Total {
			t.Errorf("%+v: single %s bound %s; distributed %s bound %s", c, s.Total, s.Bound, d.Total, d.Bound)
		}
		// Service catalog's 1.45 a cell over 230 × 17 cells is ⌊5,669.5⌋ calls; the walk adds its fixed calls and pages.
		if want := 230*(p.SetupCalls+2*17+1) + 5669 + p.WalkFixed + 12; s.Calls != want {
			t.Errorf("%+v: %d calls, want %d", c, s.Calls, want)
		}
		// Five shards (four of 50, one of 30) on two slots: three rounds at most, at least the longest shard.
		if d.Shards != 5 || d.Map < 2*d.ShardWall || d.Map > 3*d.ShardWall {
			t.Errorf("%+v: %d shards, map %s, longest shard %s", c, d.Shards, d.Map, d.ShardWall)
		}
	}
}

// TestProfileFrom reads calls per cell from a run's counts and cells, the checks' own calls told apart by their
// IAM actions.
func TestProfileFrom(t *testing.T) {
	cs := checks.All()
	const accounts, regions = 10, 3
	r := jobResult{Accounts: accounts, Audited: accounts, CellsByCheck: map[string]int{}}
	r.Stats.Calls = map[string]int{"sts.AssumeRole": accounts - 1, "ec2.DescribeRegions": accounts, "organizations.ListAccountsForParent": 1,
		"organizations.ListRoots": 1, "organizations.ListOrganizationalUnitsForParent": 1, "sts.GetCallerIdentity": 1, "s3.PutObject": 3, "sns.Publish": 1}
	regional := 0
	for _, c := range cs {
		cells := accounts
		if !c.Layout().AccountWide {
			cells, regional = accounts*regions, regional+1
		}
		r.CellsByCheck[c.Name()] = cells
		// Each check's first action answers every cell once; a second (service catalog's describes) half of them.
		r.Stats.Calls[checkOp(c.Actions()[0])] += cells
		if len(c.Actions()) > 1 {
			r.Stats.Calls[checkOp(c.Actions()[1])] += cells / 2
		}
	}
	p, err := profileFrom(r, regions, cs)
	if err != nil {
		t.Fatal(err)
	}
	if p.SetupCalls != 2 || p.AccountsPerPage != accounts || p.WalkFixed != 3 || p.DeliveryCalls != 4 || len(p.RegionalCalls) != regional ||
		len(p.AccountWideCalls) != len(cs)-regional {
		t.Fatalf("profile %s", p)
	}
	for i, c := range p.RegionalCalls {
		if c != 1 && c != 1.5 {
			t.Errorf("regional check %d: %.3f calls a cell", i, c)
		}
	}
}

func checkOp(action string) string {
	for i := range action {
		if action[i] == ':' {
			return action[:i] + "." + action[i+1:]
		}
	}
	return action
}
