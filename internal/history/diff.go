package history

import (
	"iter"
	"slices"
	"strconv"
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

// ReasonOutOfScope begins the resolved reason of a finding whose account the organization no longer holds active;
// the rest says which: ReasonLeft, or the state the account was listed in (ReasonInactive).
const ReasonOutOfScope = "account no longer in scope"

// ReasonLeft is the resolved reason of a finding whose account a whole listing of the organization did not hold.
const ReasonLeft = ReasonOutOfScope + ": left the organization"

// ReasonGone is the resolved reason of a finding its cell no longer reports.
const ReasonGone = "no longer found"

// CodeNotAudited is the error code of an unverified finding whose cell did not run at all this run: its check or
// region was not selected, or its account was not in a partial scope.
const CodeNotAudited = "NotAudited"

// Codes of unverified findings whose account this run did not audit, by why.
const (
	// CodeListIncomplete: the listing of the organization stopped part way before it reached the account; the error
	// is the listing's.
	CodeListIncomplete = "AccountListIncomplete"
	// CodeNotSelected: the run left the account out by choice (named other accounts, or excluded it).
	CodeNotSelected = "AccountNotSelected"
	// CodeNotActive: the account was listed in a state that is neither active nor closing (PENDING_ACTIVATION, or a
	// state this build does not know).
	CodeNotActive = "AccountNotActive"
)

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
	// Cells are every cell this run audited, or, when CellSource is set, nothing: CellSource yields them instead.
	Cells []Cell
	// CellSource, when set, yields the run's cells in place of Cells: the job's own store, which holds a clean cell
	// as a count rather than a row (1.37 million cells of 96 bytes each, at 10,000 accounts × 17 regions, would
	// otherwise be copied into Cells just to be read twice).
	CellSource CellSource
	// Accounts are the ids of the accounts this run set out to audit.
	Accounts []string
	// Scope says how Accounts were chosen, for the findings of the accounts missing from them.
	Scope Scope
	// Suppressions are matched against Findings at Time; nil for none.
	Suppressions *Suppressions
	// Organization is whose run it is, recorded in its state.
	Organization Organization
}

// Scope is how a run chose its accounts: from a listing of the organization, whole or broken part way, narrowed by
// choice. Only an account that a whole listing did not hold, or listed closed, has its findings resolved; any other
// account missing from Run.Accounts keeps them, unverified, with why. The zero Scope knows no listing: every such
// account is unverified.
type Scope struct {
	// ListedWhole says the organization was listed to the end this run, so Listed holds every account it has.
	ListedWhole bool
	// Listed is every account the listing answered with, whatever the choice, by id: its state as Organizations
	// gives it (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, PENDING_ACTIVATION).
	Listed map[string]string
	// ListingError is why the listing stopped part way ("ServiceException: ..."): the error of the findings of the
	// accounts it did not reach.
	ListingError string
	// Only and Exclude are the run's choice: when Only is set, only those accounts; never those in Exclude.
	Only, Exclude []string
}

// Account states that take an account out of the organization's audit for good (AWS Organizations' AccountState).
const (
	stateActive         = "ACTIVE"
	stateSuspended      = "SUSPENDED"
	statePendingClosure = "PENDING_CLOSURE"
	stateClosed         = "CLOSED"
	statePending        = "PENDING_ACTIVATION"
)

// ReasonInactive is the resolved reason of a finding whose account was listed suspended, closing or closed.
func ReasonInactive(state string) string {
	word := map[string]string{stateSuspended: "suspended", statePendingClosure: "closing", stateClosed: "closed"}[state]
	if word == "" {
		word = "not active"
	}
	return ReasonOutOfScope + ": " + word + " (state " + state + ")"
}

// absent says what becomes of a previous finding of account, which this run did not audit: resolved with reason
// when the listing shows the account gone or closed, else unverified with code and msg.
func (s Scope) absent(account string) (reason, code, msg string) {
	state, listed := s.Listed[account]
	switch {
	case listed && state != stateActive:
		switch state {
		case stateSuspended, statePendingClosure, stateClosed:
			return ReasonInactive(state), "", ""
		case statePending:
			return "", CodeNotActive, "account not audited this run: not active yet (state " + state + ")"
		default:
			return "", CodeNotActive, "account not audited this run: account state " + strconv.Quote(state) + " not recognised"
		}
	case s.ListedWhole && !listed:
		return ReasonLeft, "", ""
	case len(s.Only) > 0 && !slices.Contains(s.Only, account):
		return "", CodeNotSelected, "account not audited this run, by choice: the run names other accounts"
	case slices.Contains(s.Exclude, account):
		return "", CodeNotSelected, "account not audited this run, by choice: the run excludes it"
	case !s.ListedWhole && !listed && s.ListingError != "":
		return "", CodeListIncomplete, "account not listed this run, the listing of the organization stopped part way: " + s.ListingError
	default:
		return "", CodeNotAudited, "account not audited this run"
	}
}

// unlisted says account is in the run's scope but the broken listing did not reach it: in scope, not audited.
func (s Scope) unlisted(account string) bool {
	_, code, _ := s.absent(account)
	return code == CodeListIncomplete
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
	// NotListed are the accounts of the previous run's scope that this run's broken listing did not reach: still in
	// scope, not audited. NewState keeps them in the scope it stores.
	NotListed []string
	// Suppressions says which rules expired, expire soon or matched nothing; zero without suppressions.
	Suppressions SuppressionReport
}

type cellKey struct{ account, region, check string }

// CellSource yields a run's cells, in their order, each once.
type CellSource interface {
	Len() int
	All() iter.Seq[Cell]
}

// cellList is a run's Cells as a CellSource.
type cellList []Cell

func (l cellList) Len() int { return len(l) }

func (l cellList) All() iter.Seq[Cell] {
	return func(yield func(Cell) bool) {
		for _, c := range l {
			if !yield(c) {
				return
			}
		}
	}
}

// cells yields the run's cells: CellSource's when set, else Cells.
func (r Run) cells() CellSource {
	if r.CellSource != nil {
		return r.CellSource
	}
	return cellList(r.Cells)
}

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

	inScope := make(map[string]bool, len(cur.Accounts))
	for _, a := range cur.Accounts {
		inScope[a] = true
	}
	// Only the cells of the previous findings this run did not make are looked up: the map holds those, not every
	// cell of the run (1.37 million at 10,000 accounts × 17 regions). A cell the run lists twice is the later one,
	// as a map of every cell would hold it.
	wanted := map[cellKey]bool{}
	for _, p := range prev.Findings {
		if !seen[IdentityOf(p.Finding)] && inScope[p.AccountID] {
			wanted[cellKey{p.AccountID, p.Region, p.Check}] = true
			wanted[cellKey{p.AccountID, AllRegions, p.Check}] = true
		}
	}
	cells := make(map[cellKey]Cell, min(len(wanted), cur.cells().Len()))
	if len(wanted) > 0 {
		for c := range cur.cells().All() {
			if k := (cellKey{c.AccountID, c.Region, c.Check}); wanted[k] {
				cells[k] = c
			}
		}
	}
	for _, p := range prev.Findings {
		if seen[IdentityOf(p.Finding)] {
			continue
		}
		age := ageDays(p.FirstSeen, cur.Time)
		if !inScope[p.AccountID] {
			if reason, code, msg := cur.Scope.absent(p.AccountID); reason != "" {
				d.Resolved = append(d.Resolved, Resolved{Finding: p.Finding, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen,
					AgeDays: age, ResolvedReason: reason})
			} else {
				d.Unverified = append(d.Unverified, Unverified{Finding: p.Finding, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen,
					AgeDays: age, Code: code, Error: msg})
			}
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
	for _, a := range prev.Accounts {
		if !inScope[a] && cur.Scope.unlisted(a) {
			d.NotListed = append(d.NotListed, a)
		}
	}
	return d
}

// ageDays counts calendar days (UTC) since first seen, as DaysLeft counts them to an expiry.
func ageDays(firstSeen, now time.Time) int {
	return max(0, checks.DaysLeft(firstSeen, now))
}

// NewState is the state this run stores: every current finding with its first_seen, and the unverified ones carried
// with their last known data, so the run that next reads their cells can settle them.
func NewState(cur Run, d Delta) *State {
	// The accounts the broken listing did not reach stay in the scope stored, so the run after a second broken one
	// still counts them, and AccountsInScope is not the few that were listed.
	accounts := cur.Accounts
	if len(d.NotListed) > 0 {
		accounts = append(slices.Clip(cur.Accounts), d.NotListed...)
	}
	s := &State{Version: Version, RunID: cur.ID, RunTime: cur.Time, AsOf: cur.AsOf, PreviousRunID: d.PreviousRunID,
		Organization: cur.Organization, Accounts: accounts, Cells: cur.Cells, cellSource: cur.CellSource, Findings: make([]Entry, 0, len(d.Findings)+len(d.Unverified))}
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
	for cell := range cur.cells().All() {
		if cell.ran() {
			ok[cell.AccountID]++
		} else {
			bad[cell.AccountID]++
		}
	}
	c.AccountsInScope = len(accounts)
	for _, a := range cur.Accounts {
		if ok[a] > 0 && bad[a] == 0 {
			c.AccountsAudited++
		}
	}
	return s
}
