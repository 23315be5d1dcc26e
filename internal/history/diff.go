package history

import (
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// Change says how a current finding relates to the previous run.
type Change string

const (
	ChangeNew       Change = "new"       // absent from the previous run
	ChangeEscalated Change = "escalated" // present at a lower severity
	ChangeOngoing   Change = "ongoing"   // present at the same or a higher severity
)

// ReasonOutOfScope is the resolved reason of a finding whose account left the organization or is no longer active.
const ReasonOutOfScope = "account no longer in scope"

// ReasonGone is the resolved reason of a finding its cell no longer reports.
const ReasonGone = "no longer found"

// CodeNotAudited is the error code of an unverified finding whose cell did not run at all this run: its check or
// region was not selected, or its account was not in a partial scope.
const CodeNotAudited = "NotAudited"

// Identity is what makes two runs' findings the same finding: check + account + region + resource type + resource
// id. No check today emits two findings for one resource id in one cell; the resource type is the kind that keeps a
// future check reporting, say, a stack and its product under one id from merging them.
type Identity struct {
	Check, AccountID, Region, ResourceType, ResourceID string
}

// IdentityOf returns f's identity.
func IdentityOf(f checks.Finding) Identity {
	return Identity{f.Check, f.AccountID, f.Region, f.ResourceType, f.ResourceID}
}

// Run is the current run as Diff sees it.
type Run struct {
	ID   string
	Time time.Time // the schedule's fire time, else the start time
	AsOf time.Time
	// Findings are every finding this run made, suppressed or not.
	Findings []checks.Finding
	Cells    []Cell
	// Accounts are the ids of the accounts this run set out to audit.
	Accounts []string
	// PartialScope says Accounts is not the whole active organization (the organization could not be listed and
	// only the caller's account was audited, or accounts were named): an account missing from it did not leave, so
	// its findings are unverified, never resolved.
	PartialScope bool
	// Suppressions are matched against Findings at Time; nil for none.
	Suppressions *Suppressions
	// Organization is whose run it is, recorded in its state.
	Organization Organization
}

// Tracked is a current finding with what the diff learned about it.
type Tracked struct {
	checks.Finding
	Change    Change    `json:"change"`
	FirstSeen time.Time `json:"first_seen"`
	AgeDays   int       `json:"age_days"`
	// PreviousSeverity is the severity the previous run gave it; empty for a new finding.
	PreviousSeverity checks.Severity `json:"previous_severity,omitempty"`
	// Suppression is the rule that suppressed it, nil when it counts.
	Suppression *Suppression `json:"suppression,omitempty"`
}

// Resolved is a previous finding that is gone from a cell that ran cleanly, or whose account left the scope.
type Resolved struct {
	checks.Finding
	FirstSeen      time.Time `json:"first_seen"`
	LastSeen       time.Time `json:"last_seen"`
	AgeDays        int       `json:"age_days"`
	ResolvedReason string    `json:"resolved_reason"`
}

// Unverified is a previous finding this run could not re-check: its cell failed, was cut by the deadline or did not
// run. It carries its last known data and this run's error, and stays in the state until a run settles it.
type Unverified struct {
	checks.Finding
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	AgeDays   int       `json:"age_days"`
	Code      string    `json:"code"`
	Error     string    `json:"error"`
}

// Changes counts the diff. New, Escalated and Ongoing leave out suppressed findings, which Suppressed counts.
type Changes struct {
	New        int `json:"new"`
	Escalated  int `json:"escalated"`
	Ongoing    int `json:"ongoing"`
	Resolved   int `json:"resolved"`
	Unverified int `json:"unverified"`
	Suppressed int `json:"suppressed"`
}

// Delta is what Diff learned.
type Delta struct {
	// PreviousRunID and PreviousRunTime name the run compared with; empty and zero on a first run.
	PreviousRunID   string
	PreviousRunTime time.Time
	// Findings are the current findings in Run.Findings' order.
	Findings   []Tracked
	Resolved   []Resolved
	Unverified []Unverified
	Changes    Changes
	// Suppressions says which rules expired, expire soon or matched nothing; zero without suppressions.
	Suppressions SuppressionReport
}

type cellKey struct{ account, region, check string }

// Diff compares the current run with the previous run's state (nil on a first run). It is a pure function of its
// inputs, so a retried run that reads the same previous state computes the same diff.
func Diff(prev *State, cur Run) Delta {
	d := Delta{Findings: make([]Tracked, len(cur.Findings))}
	var prevTime time.Time
	previous := map[Identity]int{}
	if prev != nil {
		d.PreviousRunID, d.PreviousRunTime, prevTime = prev.RunID, prev.RunTime, prev.RunTime
		for i, e := range prev.Findings {
			previous[IdentityOf(e.Finding)] = i
		}
	}
	var matcher *matching
	if cur.Suppressions != nil {
		matcher = cur.Suppressions.matcher(cur.Time)
	}
	seen := make(map[Identity]bool, len(cur.Findings))
	for i, f := range cur.Findings {
		id := IdentityOf(f)
		seen[id] = true
		t := Tracked{Finding: f, Change: ChangeNew, FirstSeen: cur.Time}
		if j, ok := previous[id]; ok {
			p := prev.Findings[j]
			t.FirstSeen, t.PreviousSeverity, t.Change = p.FirstSeen, p.Severity, ChangeOngoing
			if f.Severity.Rank() < p.Severity.Rank() {
				t.Change = ChangeEscalated
			}
		}
		t.AgeDays = ageDays(t.FirstSeen, cur.Time)
		if matcher != nil {
			t.Suppression = matcher.match(f)
		}
		switch {
		case t.Suppression != nil:
			d.Changes.Suppressed++
		case t.Change == ChangeNew:
			d.Changes.New++
		case t.Change == ChangeEscalated:
			d.Changes.Escalated++
		default:
			d.Changes.Ongoing++
		}
		d.Findings[i] = t
	}
	if matcher != nil {
		d.Suppressions = matcher.report(prevTime)
	}
	if prev == nil {
		return d
	}

	cells := make(map[cellKey]Cell, len(cur.Cells))
	for _, c := range cur.Cells {
		cells[cellKey{c.AccountID, c.Region, c.Check}] = c
	}
	inScope := make(map[string]bool, len(cur.Accounts))
	for _, a := range cur.Accounts {
		inScope[a] = true
	}
	for _, p := range prev.Findings {
		if seen[IdentityOf(p.Finding)] {
			continue
		}
		age := ageDays(p.FirstSeen, cur.Time)
		if !inScope[p.AccountID] {
			if cur.PartialScope {
				d.Unverified = append(d.Unverified, Unverified{Finding: p.Finding, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen,
					AgeDays: age, Code: CodeNotAudited, Error: "account not audited this run"})
				continue
			}
			d.Resolved = append(d.Resolved, Resolved{Finding: p.Finding, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen,
				AgeDays: age, ResolvedReason: ReasonOutOfScope})
			continue
		}
		c, ok := cells[cellKey{p.AccountID, p.Region, p.Check}]
		if !ok {
			// A cell that failed for every region of its account stands for this one.
			c, ok = cells[cellKey{p.AccountID, AllRegions, p.Check}]
		}
		switch {
		case ok && c.ran():
			d.Resolved = append(d.Resolved, Resolved{Finding: p.Finding, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen,
				AgeDays: age, ResolvedReason: ReasonGone})
		case ok:
			d.Unverified = append(d.Unverified, Unverified{Finding: p.Finding, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen,
				AgeDays: age, Code: c.Code, Error: c.Message})
		default:
			d.Unverified = append(d.Unverified, Unverified{Finding: p.Finding, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen,
				AgeDays: age, Code: CodeNotAudited, Error: "check " + p.Check + " did not run in " + p.Region + " this run"})
		}
	}
	d.Changes.Resolved, d.Changes.Unverified = len(d.Resolved), len(d.Unverified)
	return d
}

// ageDays counts calendar days (UTC) since first seen, as DaysLeft counts them to an expiry.
func ageDays(firstSeen, now time.Time) int {
	return max(0, checks.DaysLeft(firstSeen, now))
}

// NewState is the state this run stores: every current finding with its first_seen, and the unverified ones carried
// with their last known data, so the run that next reads their cells can settle them.
func NewState(cur Run, d Delta) *State {
	s := &State{Version: Version, RunID: cur.ID, RunTime: cur.Time, AsOf: cur.AsOf, PreviousRunID: d.PreviousRunID,
		Organization: cur.Organization, Accounts: cur.Accounts, Cells: cur.Cells, Findings: make([]Entry, 0, len(d.Findings)+len(d.Unverified))}
	c := &s.Counts
	for _, t := range d.Findings {
		s.Findings = append(s.Findings, Entry{Finding: t.Finding, FirstSeen: t.FirstSeen, LastSeen: cur.Time, Suppressed: t.Suppression != nil})
		if t.Suppression != nil {
			continue
		}
		switch t.Severity {
		case checks.Critical:
			c.Critical++
		case checks.Warning:
			c.Warning++
		case checks.Notice:
			c.Notice++
		}
	}
	for _, u := range d.Unverified {
		s.Findings = append(s.Findings, Entry{Finding: u.Finding, FirstSeen: u.FirstSeen, LastSeen: u.LastSeen, Unverified: true})
	}
	ch := d.Changes
	c.New, c.Escalated, c.Ongoing, c.Resolved, c.Unverified, c.Suppressed = ch.New, ch.Escalated, ch.Ongoing, ch.Resolved, ch.Unverified, ch.Suppressed
	ok, bad := map[string]int{}, map[string]int{}
	for _, cell := range cur.Cells {
		if cell.ran() {
			ok[cell.AccountID]++
		} else {
			bad[cell.AccountID]++
		}
	}
	c.AccountsInScope = len(cur.Accounts)
	for _, a := range cur.Accounts {
		if ok[a] > 0 && bad[a] == 0 {
			c.AccountsAudited++
		}
	}
	return s
}
