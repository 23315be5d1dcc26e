package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// distModel is the distributed mode: a plan step, a Distributed Map of shard functions, a report step.
type distModel struct {
	Accounts, ShardSize, MaxConcurrency int
	// Fn is each shard's function (its concurrency, CPU, latency, profile); Fn.Accounts is set per shard.
	Fn fnModel
	// StepOverhead is what each Lambda step costs beyond its calls: the Map's dispatch of a child execution, the
	// invoke, a cold start. An assumption, not a measurement (none is possible here), counted in the bound too.
	StepOverhead time.Duration
	// PlanOwnerWait is how long plan waits, after the walk, for owner tags still unread: up to crossaccount's
	// two minutes when no run history holds them (a first run), nothing once they are all recalled.
	PlanOwnerWait time.Duration
	// ReportStep is the report step's own time: merge, history, workbook, digest (measured by the report benchmark,
	// or a placeholder); its delivery calls are added from the profile.
	ReportStep time.Duration
}

type distOutcome struct {
	Plan, Map, Report, Total, Bound time.Duration
	// MapBound is the Map's own part of Bound.
	MapBound  time.Duration
	Shards    int
	ShardWall time.Duration // the longest shard, overhead included
	Calls     int
}

// perCallChain is one call on a chain: its CPU on one virtual core, then its latency.
func perCallChain(m fnModel) time.Duration {
	cores := math.Max(1, math.Ceil(m.VCPU))
	return m.Latency + time.Duration(float64(m.CPUPerCall)*cores/m.VCPU)
}

// simulateDistributed runs the three steps on the virtual clock. Shards do not share CPU (each is its own Lambda),
// so each shard size is simulated once and the Map places shards on MaxConcurrency slots in manifest order.
func simulateDistributed(d distModel) distOutcome {
	p, call := d.Fn.Profile, perCallChain(d.Fn)
	pages := (d.Accounts + p.AccountsPerPage - 1) / p.AccountsPerPage
	// Plan: GetCallerIdentity and the walk, then the manifest and the plan object (two PutObject).
	out := distOutcome{Plan: d.StepOverhead + time.Duration(p.WalkFixed+pages+2)*call + d.PlanOwnerWait}
	type shardRun struct {
		wall          time.Duration
		calls         int
		latencyWork   time.Duration // calls × latency ÷ concurrency
		cpuWork       time.Duration // CPU ÷ vCPU
		serial, chain time.Duration
	}
	cache := map[int]shardRun{}
	shard := func(n int) shardRun {
		if r, ok := cache[n]; ok {
			return r
		}
		m := d.Fn
		m.Accounts, m.Walk = n, false
		o := simulate(m)
		// Around the audit: the step's overhead, GetCallerIdentity, and the partial result's PutObject.
		serial := d.StepOverhead + 2*call
		r := shardRun{wall: serial + o.Wall, calls: o.Calls + 2, serial: serial,
			latencyWork: time.Duration(float64(o.Calls) * float64(m.Latency) / float64(m.Concurrency)),
			cpuWork:     time.Duration(float64(o.CPU) / m.VCPU),
			chain:       time.Duration(p.SetupCalls+p.longestCell()) * call}
		cache[n] = r
		return r
	}
	slots := make([]time.Duration, d.MaxConcurrency)
	var sumLatency, sumCPU, longestChain time.Duration
	for first := 0; first < d.Accounts; first += d.ShardSize {
		r := shard(min(d.ShardSize, d.Accounts-first))
		out.Shards++
		out.Calls += r.calls
		out.ShardWall = max(out.ShardWall, r.wall)
		// The Map starts the next item as soon as a slot is free.
		i := slices.Index(slots, slices.Min(slots))
		slots[i] += r.wall
		sumLatency += r.serial + r.latencyWork
		sumCPU += r.serial + r.cpuWork
		longestChain = max(longestChain, r.serial+r.chain)
	}
	out.Map = slices.Max(slots)
	out.Report = d.StepOverhead + d.ReportStep + time.Duration(p.DeliveryCalls+1)*call
	out.Total = out.Plan + out.Map + out.Report
	p64 := time.Duration(d.MaxConcurrency)
	out.MapBound = max(sumLatency/p64, sumCPU/p64, longestChain)
	out.Bound = out.Plan + out.MapBound + out.Report
	out.Calls += p.WalkFixed + pages + 2 + p.DeliveryCalls + 1
	return out
}

type singleOutcome struct {
	Audit, Report, Total, Bound time.Duration
	Calls                       int
	CPU                         time.Duration
}

// simulateSingle is one function: the walk feeding the audit, then the same report work as the report step.
func simulateSingle(m fnModel, reportStep time.Duration) singleOutcome {
	m.Walk = true
	o := simulate(m)
	report := reportStep + time.Duration(m.Profile.DeliveryCalls)*perCallChain(m)
	return singleOutcome{Audit: o.Wall, Report: report, Total: o.Wall + report, Bound: singleBound(m) + report, Calls: o.Calls, CPU: o.CPU}
}

// profileFrom reads the call profile from a measured run: calls per cell per check (the simulator's counts,
// attributed by the checks' IAM actions), set-up calls per account, the walk's page size, the delivery's calls.
func profileFrom(r jobResult, regions int, cs []checks.Check) (callProfile, error) {
	byCheck, _ := checkCalls(r.Stats.Calls, cs)
	p := callProfile{Regions: regions}
	if r.Audited == 0 {
		return p, fmt.Errorf("no account audited")
	}
	for _, c := range cs {
		cells := r.CellsByCheck[c.Name()]
		if cells == 0 {
			return p, fmt.Errorf("%s: no cells", c.Name())
		}
		perCell := float64(byCheck[c.Name()]) / float64(cells)
		if c.Layout().AccountWide {
			p.AccountWideCalls = append(p.AccountWideCalls, perCell)
		} else {
			p.RegionalCalls = append(p.RegionalCalls, perCell)
		}
	}
	// The job's own account is audited with its own credentials: no AssumeRole there, one in every other.
	p.SetupCalls = int(math.Round(float64(r.Stats.Calls["sts.AssumeRole"]+r.Stats.Calls["ec2.DescribeRegions"]) / float64(r.Audited)))
	if pages := r.Stats.Calls["organizations.ListAccountsForParent"]; pages > 0 {
		p.AccountsPerPage = int(math.Ceil(float64(r.Accounts) / float64(pages)))
	}
	p.WalkFixed = r.Stats.Calls["sts.GetCallerIdentity"] + r.Stats.Calls["organizations.ListRoots"] + r.Stats.Calls["organizations.ListOrganizationalUnitsForParent"]
	for op, n := range r.Stats.Calls {
		if strings.HasPrefix(op, "s3.") || op == "sns.Publish" {
			p.DeliveryCalls += n
		}
	}
	if p.AccountsPerPage == 0 {
		return p, fmt.Errorf("no ListAccountsForParent page counted")
	}
	return p, nil
}

func (p callProfile) String() string {
	var parts []string
	for _, c := range p.RegionalCalls {
		parts = append(parts, fmt.Sprintf("%.3f", c))
	}
	var wide []string
	for _, c := range p.AccountWideCalls {
		wide = append(wide, fmt.Sprintf("%.3f", c))
	}
	return fmt.Sprintf("set-up %d calls a account; calls per cell of the %d regional checks [%s] × %d regions, of the account-wide [%s]; %.1f calls an account; walk %d calls then a page per %d accounts; delivery %d calls",
		p.SetupCalls, len(p.RegionalCalls), strings.Join(parts, " "), p.Regions, strings.Join(wide, " "), p.callsPerAccount(), p.WalkFixed, p.AccountsPerPage, p.DeliveryCalls)
}

// withRegions is the same profile over another number of regions.
func (p callProfile) withRegions(n int) callProfile { p.Regions = n; return p }

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
}

// The whole report step measured by `go run ./cmd/bench -function-memory 512 -report-accounts 10000 -report-regions 4`
// (BENCHMARKS.md): 18.1–18.7 s of CPU for 330,000 cells, as a 512 MB function, on 2026-11-23, and not re-measured
// since: stale. The model scales this figure by cells. The 17-region step now completes (2 m 11 s to 2 m 19 s of CPU
// for 1,370,000 cells on 2026-12-06, on a machine loaded enough to inflate CPU time, so not used here).
const (
	measuredReportCPU   = 18400 * time.Millisecond
	measuredReportCells = 330000
)

// modelOptions are the latency model's settings (flags -model-*).
type modelOptions struct {
	ProfileAccounts, Accounts, Regions, Concurrency, MemoryMB, ShardSize, MaxConcurrency int
	Latency, CPUPerCall, StepOverhead, PlanOwnerWait, ReportCPU                          time.Duration
	ReportCells                                                                          int
	Sizes                                                                                []int
}

// benchModel measures the call profile and CPU per call with a real run against the simulator at 1 ms (regions
// "all", every default region), then models single and distributed mode at the model's latency.
func benchModel(o modelOptions) error {
	sim := min(o.Regions, len(allRegions))
	r, err := measure(scenario{accounts: o.ProfileAccounts}, time.Millisecond, sim, true)
	if err != nil {
		return fmt.Errorf("profile run: %w", err)
	}
	p, err := profileFrom(r, sim, checks.All())
	if err != nil {
		return err
	}
	cpu := o.CPUPerCall
	measuredCPU := time.Duration(float64(r.JobCPU) / float64(r.Stats.TotalCalls))
	if cpu == 0 {
		cpu = measuredCPU
	}
	fmt.Printf("\nlatency model (virtual clock): the profile of a real run of %d accounts × %d regions (regions \"all\") at 1 ms against the simulator:\n  %s\n",
		r.Accounts, sim, p)
	fmt.Printf("  CPU per call %s (measured: the job's CPU %s ÷ %d calls, workbook and delivery included, %s)\n",
		cpu.Round(time.Microsecond), r.JobCPU.Round(time.Millisecond), r.Stats.TotalCalls, machine())
	fmt.Printf("  %d accounts × %d regions at %s a call; each function %d MB (%.2f vCPU), concurrency %d; shards of %d, MaxConcurrency %d; %s overhead per step (assumed: dispatch, invoke, cold start); plan waits %s for owner tags; report step %s of CPU per %d cells (measured), on the function's vCPU\n\n",
		o.Accounts, o.Regions, o.Latency, o.MemoryMB, lambdaCPU(o.MemoryMB), o.Concurrency, o.ShardSize, o.MaxConcurrency, o.StepOverhead, o.PlanOwnerWait, o.ReportCPU, o.ReportCells)
	fn := fnModel{Concurrency: o.Concurrency, Latency: o.Latency, CPUPerCall: cpu, VCPU: lambdaCPU(o.MemoryMB), Profile: p.withRegions(o.Regions)}
	// The report's work grows with the cells it merges and renders, and runs on the function's vCPU.
	cells := func(accounts, regions int) float64 {
		q := p.withRegions(regions)
		return float64(accounts) * (float64(len(q.RegionalCalls)*regions) + float64(len(q.AccountWideCalls)))
	}
	run := func(accounts, regions int) (singleOutcome, distOutcome) {
		f := fn
		f.Accounts, f.Profile = accounts, p.withRegions(regions)
		report := time.Duration(float64(o.ReportCPU) * cells(accounts, regions) / float64(o.ReportCells) / lambdaCPU(o.MemoryMB))
		return simulateSingle(f, report), simulateDistributed(distModel{Accounts: accounts, ShardSize: o.ShardSize,
			MaxConcurrency: o.MaxConcurrency, Fn: f, StepOverhead: o.StepOverhead, ReportStep: report, PlanOwnerWait: o.PlanOwnerWait})
	}
	s, d := run(o.Accounts, o.Regions)
	fmt.Println("| mode | calls | wall | lower bound | wall ÷ bound | of which |")
	fmt.Println("|---|---:|---:|---:|---:|---|")
	fmt.Printf("| single | %d | %s | %s | %.3f | audit %s (CPU %s), report %s |\n", s.Calls, fmtDur(s.Total), fmtDur(s.Bound), s.Total.Seconds()/s.Bound.Seconds(),
		fmtDur(s.Audit), fmtDur(s.CPU), fmtDur(s.Report))
	fmt.Printf("| distributed | %d | %s | %s | %.3f | plan %s, map %s (%d shards, longest %s; the map's own bound %s, %.3f), report %s |\n", d.Calls, fmtDur(d.Total), fmtDur(d.Bound),
		d.Total.Seconds()/d.Bound.Seconds(), fmtDur(d.Plan), fmtDur(d.Map), d.Shards, fmtDur(d.ShardWall), fmtDur(d.MapBound), d.Map.Seconds()/d.MapBound.Seconds(), fmtDur(d.Report))
	fmt.Printf("  single bound = max(calls × latency ÷ concurrency, calls × CPU ÷ vCPU, walk + set-up + longest cell chain) + report\n")
	fmt.Printf("  distributed bound = plan + max(Σ shards (serial + calls × latency ÷ concurrency), Σ shards (serial + CPU ÷ vCPU)) ÷ MaxConcurrency, a shard's chain) + report\n")
	if len(o.Sizes) == 0 {
		return nil
	}
	fmt.Printf("\nsingle or distributed (%s a call, %d MB functions, concurrency %d, shards of %d, MaxConcurrency %d):\n\n", o.Latency, o.MemoryMB, o.Concurrency, o.ShardSize, o.MaxConcurrency)
	fmt.Println("| accounts | regions | calls | single | distributed |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	for _, regions := range []int{4, o.Regions} {
		for _, n := range o.Sizes {
			s, d := run(n, regions)
			mark := ""
			if s.Total > 15*time.Minute {
				mark = " (over 15 min)"
			}
			fmt.Printf("| %d | %d | %d | %s%s | %s |\n", n, regions, s.Calls, fmtDur(s.Total), mark, fmtDur(d.Total))
		}
	}
	return nil
}
