package main

import (
	"container/heap"
	"math"
	"time"
)

// The latency model: how long an audit takes at a latency per call this machine cannot host (100 ms, a hundred
// Lambdas), from what the real code was measured to do. A discrete-event simulation with a virtual clock replays the
// audit's shape: a fixed set of workers (the concurrency limit) over crossaccount's queue (account set-ups first in
// first out, the cells they enqueue last in first out), each task a chain of calls, each call first costing its CPU
// on a limited number of virtual cores (queueing when they are busy) and then waiting its latency. Nothing sleeps.

// callProfile is what the real code does per account, measured from a run against the simulator (profileFrom).
type callProfile struct {
	// SetupCalls are the calls of an account's set-up task, one after another: AssumeRole, and DescribeRegions when
	// the regions are "all".
	SetupCalls int
	Regions    int
	// RegionalCalls holds, per regional check, its calls per cell (a mean: service catalog's describes vary);
	// AccountWideCalls the same for the account-wide checks, one cell per account.
	RegionalCalls, AccountWideCalls []float64
	// AccountsPerPage is how many accounts a ListAccountsForParent page holds; WalkFixed the walk's other calls
	// (ListRoots, ListOrganizationalUnitsForParent) before the first page.
	AccountsPerPage, WalkFixed int
	// DeliveryCalls are the calls after the audit (history, workbook, digest, publish), in a chain.
	DeliveryCalls int
}

// callsPerAccount is the audit's calls for one account, set-up included.
func (p callProfile) callsPerAccount() float64 {
	n := float64(p.SetupCalls)
	for _, c := range p.RegionalCalls {
		n += c * float64(p.Regions)
	}
	for _, c := range p.AccountWideCalls {
		n += c
	}
	return n
}

// longestCell is the most calls one cell makes in the model (a mean m spreads as cells of ⌊m⌋ and ⌈m⌉ calls).
func (p callProfile) longestCell() int {
	longest := 0
	for _, c := range append(append([]float64{}, p.RegionalCalls...), p.AccountWideCalls...) {
		longest = max(longest, int(math.Ceil(c)))
	}
	return longest
}

// lambdaCPU is the CPU a function of memoryMB gets, in vCPU-seconds per second: "At 1,769 MB, a function has the
// equivalent of one vCPU (one vCPU-second of credits per second)", in proportion to memory, 128 to 10,240 MB
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
func lambdaCPU(memoryMB int) float64 { return float64(memoryMB) / 1769 }

// fnModel is one function's audit in the model.
type fnModel struct {
	Accounts    int
	Concurrency int
	Latency     time.Duration
	CPUPerCall  time.Duration
	// VCPU is the function's CPU, vCPU-seconds per second (lambdaCPU); it is served by ⌈VCPU⌉ virtual cores,
	// each at VCPU ÷ ⌈VCPU⌉ of a core's speed, one call's CPU at a time each.
	VCPU    float64
	Profile callProfile
	// Walk: the accounts arrive from the OU walk, a page every call, as in single mode; otherwise (a shard) they are
	// all known at the start.
	Walk bool
}

type fnOutcome struct {
	Wall  time.Duration // from the first call to the last cell
	Calls int
	CPU   time.Duration
}

// event kinds
const (
	evCPUDone = iota
	evCallDone
	evPage
)

type event struct {
	at     time.Duration
	seq    int
	kind   int
	worker int
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// task is a chain of calls; a set-up task enqueues its account's cells when it ends.
type task struct {
	calls   int
	account int // the account a set-up task sets up; -1 for a cell
}

// walker is the producer in single mode: the worker index it uses in events.
const walker = -1

// simulate runs one function's audit on the virtual clock.
func simulate(m fnModel) fnOutcome {
	p := m.Profile
	cores := max(1, int(math.Ceil(m.VCPU)))
	burst := time.Duration(float64(m.CPUPerCall) * float64(cores) / m.VCPU)
	var (
		now       time.Duration
		seq       int
		events    eventHeap
		fresh     []task // FIFO: account set-ups
		freshHead int
		urgent    []task // LIFO: cells of accounts already started
		idle      []int
		running   = make([]task, m.Concurrency)
		freeCores = cores
		cpuWait   []int // workers (or the walker) waiting for a core, FIFO
		cpuHead   int
		out       fnOutcome
		// cellIndex spreads each check's mean calls per cell over its cells: cell j of a check with mean c makes
		// ⌊(j+1)c⌋ − ⌊jc⌋ calls, so the totals match the measured ones.
		cellIndex  = make([]int, len(p.RegionalCalls)+len(p.AccountWideCalls))
		walkLeft   int
		walkCalls  int
		pushedAcct int
	)
	push := func(e event) { seq++; e.seq = seq; heap.Push(&events, e) }
	cellCalls := func(i int, mean float64) int {
		j := cellIndex[i]
		cellIndex[i]++
		return int(math.Floor(float64(j+1)*mean)) - int(math.Floor(float64(j)*mean))
	}
	startCPU := func(w int) {
		out.Calls++
		out.CPU += m.CPUPerCall
		if freeCores > 0 {
			freeCores--
			push(event{at: now + burst, kind: evCPUDone, worker: w})
			return
		}
		cpuWait = append(cpuWait, w)
	}
	var dispatch func()
	startTask := func(w int, t task) {
		running[w] = t
		startCPU(w)
	}
	dispatch = func() {
		for len(idle) > 0 {
			var t task
			switch {
			case len(urgent) > 0:
				t = urgent[len(urgent)-1]
				urgent = urgent[:len(urgent)-1]
			case freshHead < len(fresh):
				t = fresh[freshHead]
				freshHead++
			default:
				return
			}
			w := idle[len(idle)-1]
			idle = idle[:len(idle)-1]
			startTask(w, t)
		}
	}
	addAccounts := func(n int) {
		for range n {
			fresh = append(fresh, task{calls: p.SetupCalls, account: pushedAcct})
			pushedAcct++
		}
	}
	finish := func(t task) {
		if t.account < 0 {
			return
		}
		// The set-up pushes the account-wide cells first, then each region's, as crossaccount does; last in, first out.
		for i, c := range p.AccountWideCalls {
			urgent = append(urgent, task{calls: cellCalls(len(p.RegionalCalls)+i, c), account: -1})
		}
		for range p.Regions {
			for i, c := range p.RegionalCalls {
				urgent = append(urgent, task{calls: cellCalls(i, c), account: -1})
			}
		}
	}
	for w := range m.Concurrency {
		idle = append(idle, w)
	}
	if m.Walk {
		pages := (m.Accounts + p.AccountsPerPage - 1) / p.AccountsPerPage
		walkLeft, walkCalls = m.Accounts, p.WalkFixed+pages
		startCPU(walker)
	} else {
		addAccounts(m.Accounts)
		dispatch()
	}
	for events.Len() > 0 {
		e := heap.Pop(&events).(event)
		now = e.at
		switch e.kind {
		case evCPUDone:
			if cpuHead < len(cpuWait) {
				next := cpuWait[cpuHead]
				cpuHead++
				push(event{at: now + burst, kind: evCPUDone, worker: next})
			} else {
				freeCores++
			}
			push(event{at: now + m.Latency, kind: evCallDone, worker: e.worker})
		case evCallDone:
			if e.worker == walker {
				walkCalls--
				if walkCalls < (walkLeft+p.AccountsPerPage-1)/p.AccountsPerPage {
					// A page of accounts arrived.
					n := min(p.AccountsPerPage, walkLeft)
					walkLeft -= n
					addAccounts(n)
					dispatch()
				}
				if walkCalls > 0 {
					startCPU(walker)
				}
				continue
			}
			t := &running[e.worker]
			t.calls--
			if t.calls > 0 {
				startCPU(e.worker)
				continue
			}
			finish(*t)
			idle = append(idle, e.worker)
			dispatch()
			out.Wall = now
		}
	}
	return out
}

// singleBound is the single mode's audit lower bound: max(calls × latency ÷ concurrency, CPU ÷ vCPU, the serial
// chain: the walk to the last page, that account's set-up, its longest cell).
func singleBound(m fnModel) time.Duration {
	p := m.Profile
	calls := float64(m.Accounts) * p.callsPerAccount()
	perCall := m.Latency + time.Duration(float64(m.CPUPerCall)*math.Max(1, math.Ceil(m.VCPU))/m.VCPU)
	byLatency := time.Duration(calls * float64(m.Latency) / float64(m.Concurrency))
	byCPU := time.Duration(calls * float64(m.CPUPerCall) / m.VCPU)
	chain := time.Duration(p.SetupCalls+p.longestCell()) * perCall
	if m.Walk {
		chain += time.Duration(p.WalkFixed+(m.Accounts+p.AccountsPerPage-1)/p.AccountsPerPage) * perCall
	}
	return max(byLatency, byCPU, chain)
}
