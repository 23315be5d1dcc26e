package history

import (
	"bytes"
	"iter"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

var (
	day1 = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	day2 = day1.AddDate(0, 0, 1)
)

func finding(check, account, region, id string, sev checks.Severity) checks.Finding {
	f := checks.Finding{Check: check, AccountID: account, Region: region, ResourceType: "AWS::Test::" + check,
		ResourceID: id, Severity: sev, Reason: "reason of " + id}
	f.SetDetail("k", id)
	return f
}

// prevState is the state a run on day1 stored after seeing fs (first seen firstSeen, all its cells clean).
func prevState(firstSeen time.Time, fs ...checks.Finding) *State {
	run := Run{ID: "day1", Time: day1, AsOf: day1, Findings: fs, Accounts: []string{"111111111111", "222222222222"}}
	s := NewState(run, Diff(nil, run))
	for i := range s.Findings {
		s.Findings[i].FirstSeen = firstSeen
	}
	return s
}

func cells(outcome Outcome, code string, ids ...[3]string) []Cell {
	var out []Cell
	for _, c := range ids {
		out = append(out, Cell{AccountID: c[0], Region: c[1], Check: c[2], Outcome: outcome, Code: code, Message: code + " message"})
	}
	return out
}

func TestDiff(t *testing.T) {
	const a, b, r, ec2 = "111111111111", "222222222222", "us-east-1", "ec2-reserved-instances"
	cellA := [3]string{a, r, ec2}
	cellB := [3]string{b, r, ec2}
	firstSeen := day1.AddDate(0, 0, -5)
	old := finding(ec2, a, r, "ri-old", checks.Warning)
	oldB := finding(ec2, b, r, "ri-b", checks.Critical)
	type want struct {
		changes    map[string]Change // resource id → change of current findings
		firstSeen  map[string]time.Time
		resolved   map[string]string // resource id → reason
		unverified map[string]string // resource id → code
		counts     Changes
	}
	cases := map[string]struct {
		prev *State
		run  Run
		want want
	}{
		"first run: everything new, first seen now": {
			run:  Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a}},
			want: want{changes: map[string]Change{"ri-old": ChangeNew}, firstSeen: map[string]time.Time{"ri-old": day2}, counts: Changes{New: 1}},
		},
		"same severity is ongoing, first seen carried": {
			prev: prevState(firstSeen, old),
			run:  Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a, b}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, firstSeen: map[string]time.Time{"ri-old": firstSeen}, counts: Changes{Ongoing: 1}},
		},
		"higher severity is escalated": {
			prev: prevState(firstSeen, old),
			run: Run{Time: day2, Findings: []checks.Finding{finding(ec2, a, r, "ri-old", checks.Critical)}, Cells: cells(OutcomeFindings, "", cellA),
				Accounts: []string{a, b}},
			want: want{changes: map[string]Change{"ri-old": ChangeEscalated}, firstSeen: map[string]time.Time{"ri-old": firstSeen}, counts: Changes{Escalated: 1}},
		},
		"lower severity is ongoing": {
			prev: prevState(firstSeen, old),
			run: Run{Time: day2, Findings: []checks.Finding{finding(ec2, a, r, "ri-old", checks.Notice)}, Cells: cells(OutcomeFindings, "", cellA),
				Accounts: []string{a, b}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, firstSeen: map[string]time.Time{"ri-old": firstSeen}, counts: Changes{Ongoing: 1}},
		},
		"same id in another region is a new finding": {
			prev: prevState(firstSeen, old),
			run: Run{Time: day2, Findings: []checks.Finding{old, finding(ec2, a, "eu-west-1", "ri-old", checks.Warning)},
				Cells: append(cells(OutcomeFindings, "", cellA), cells(OutcomeFindings, "", [3]string{a, "eu-west-1", ec2})...), Accounts: []string{a, b}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing, "eu-west-1/ri-old": ChangeNew}, counts: Changes{New: 1, Ongoing: 1}},
		},
		"gone from a clean cell is resolved": {
			prev: prevState(firstSeen, old),
			run:  Run{Time: day2, Cells: cells(OutcomeClean, "", cellA, cellB), Accounts: []string{a, b}},
			want: want{resolved: map[string]string{"ri-old": ReasonGone}, counts: Changes{Resolved: 1}},
		},
		"gone from a cell with other findings is resolved": {
			prev: prevState(firstSeen, old),
			run: Run{Time: day2, Findings: []checks.Finding{finding(ec2, a, r, "ri-new", checks.Notice)}, Cells: cells(OutcomeFindings, "", cellA),
				Accounts: []string{a, b}},
			want: want{changes: map[string]Change{"ri-new": ChangeNew}, resolved: map[string]string{"ri-old": ReasonGone}, counts: Changes{New: 1, Resolved: 1}},
		},
		"failing cell never yields resolved": {
			prev: prevState(firstSeen, old),
			run:  Run{Time: day2, Cells: cells(OutcomeError, "AccessDenied", cellA), Accounts: []string{a, b}},
			want: want{unverified: map[string]string{"ri-old": "AccessDenied"}, counts: Changes{Unverified: 1}},
		},
		"cell cut by the deadline is unverified": {
			prev: prevState(firstSeen, old),
			run:  Run{Time: day2, Cells: cells(OutcomeError, "Deadline", cellA), Accounts: []string{a, b}},
			want: want{unverified: map[string]string{"ri-old": "Deadline"}, counts: Changes{Unverified: 1}},
		},
		"account-wide failure (region all) is unverified": {
			prev: prevState(firstSeen, old),
			run:  Run{Time: day2, Cells: cells(OutcomeError, "AccessDenied", [3]string{a, AllRegions, ec2}), Accounts: []string{a, b}},
			want: want{unverified: map[string]string{"ri-old": "AccessDenied"}, counts: Changes{Unverified: 1}},
		},
		"cell that did not run is unverified": {
			prev: prevState(firstSeen, old),
			run:  Run{Time: day2, Cells: cells(OutcomeClean, "", [3]string{a, r, "rds-reserved-instances"}), Accounts: []string{a, b}},
			want: want{unverified: map[string]string{"ri-old": CodeNotAudited}, counts: Changes{Unverified: 1}},
		},
		"account a whole listing did not hold left the organization": {
			prev: prevState(firstSeen, old, oldB),
			run: Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a},
				Scope: Scope{ListedWhole: true, Listed: map[string]string{a: "ACTIVE"}}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, resolved: map[string]string{"ri-b": ReasonLeft}, counts: Changes{Ongoing: 1, Resolved: 1}},
		},
		"account listed closed is resolved with its state": {
			prev: prevState(firstSeen, old, oldB),
			run: Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a},
				Scope: Scope{ListedWhole: true, Listed: map[string]string{a: "ACTIVE", b: "CLOSED"}}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, resolved: map[string]string{"ri-b": ReasonOutOfScope + ": closed (state CLOSED)"}, counts: Changes{Ongoing: 1, Resolved: 1}},
		},
		"account listed suspended by a broken listing is resolved with its state": {
			prev: prevState(firstSeen, old, oldB),
			run: Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a},
				Scope: Scope{Listed: map[string]string{a: "ACTIVE", b: "SUSPENDED"}, ListingError: "ServiceException: internal"}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, resolved: map[string]string{"ri-b": ReasonOutOfScope + ": suspended (state SUSPENDED)"}, counts: Changes{Ongoing: 1, Resolved: 1}},
		},
		"account listed in a state no document names is unverified, not dropped": {
			prev: prevState(firstSeen, old, oldB),
			run: Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a},
				Scope: Scope{ListedWhole: true, Listed: map[string]string{a: "ACTIVE", b: "HIBERNATING"}}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, unverified: map[string]string{"ri-b": CodeNotActive}, counts: Changes{Ongoing: 1, Unverified: 1}},
		},
		"account a broken listing did not reach is unverified with the listing's error": {
			prev: prevState(firstSeen, old, oldB),
			run: Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a},
				Scope: Scope{Listed: map[string]string{a: "ACTIVE"}, ListingError: "ServiceException: internal"}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, unverified: map[string]string{"ri-b": CodeListIncomplete}, counts: Changes{Ongoing: 1, Unverified: 1}},
		},
		"account excluded is unverified by choice": {
			prev: prevState(firstSeen, old, oldB),
			run: Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a},
				Scope: Scope{ListedWhole: true, Listed: map[string]string{a: "ACTIVE", b: "ACTIVE"}, Exclude: []string{b}}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, unverified: map[string]string{"ri-b": CodeNotSelected}, counts: Changes{Ongoing: 1, Unverified: 1}},
		},
		"account not named is unverified by choice, even when the listing broke": {
			prev: prevState(firstSeen, old, oldB),
			run: Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a},
				Scope: Scope{Listed: map[string]string{a: "ACTIVE"}, ListingError: "ServiceException: internal", Only: []string{a}}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, unverified: map[string]string{"ri-b": CodeNotSelected}, counts: Changes{Ongoing: 1, Unverified: 1}},
		},
		"account excluded that a whole listing did not hold left the organization": {
			prev: prevState(firstSeen, old, oldB),
			run: Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a},
				Scope: Scope{ListedWhole: true, Listed: map[string]string{a: "ACTIVE"}, Exclude: []string{b}}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, resolved: map[string]string{"ri-b": ReasonLeft}, counts: Changes{Ongoing: 1, Resolved: 1}},
		},
		"account missing when no listing is known is unverified, not resolved": {
			prev: prevState(firstSeen, old, oldB),
			run:  Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, unverified: map[string]string{"ri-b": CodeNotAudited}, counts: Changes{Ongoing: 1, Unverified: 1}},
		},
		"unverified carried last run and seen again keeps its first seen": {
			prev: func() *State {
				s := prevState(firstSeen, old)
				s.Findings[0].Unverified = true
				return s
			}(),
			run:  Run{Time: day2, Findings: []checks.Finding{old}, Cells: cells(OutcomeFindings, "", cellA), Accounts: []string{a, b}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing}, firstSeen: map[string]time.Time{"ri-old": firstSeen}, counts: Changes{Ongoing: 1}},
		},
		"suppressed finding counts as suppressed only": {
			prev: prevState(firstSeen, old),
			run: Run{Time: day2, Findings: []checks.Finding{old, finding(ec2, a, r, "ri-new", checks.Critical)}, Cells: cells(OutcomeFindings, "", cellA),
				Accounts: []string{a, b}, Suppressions: &Suppressions{Rules: []Rule{{Check: ec2, ResourceID: "ri-new", Reason: "x", Owner: "y", Expires: day2}}}},
			want: want{changes: map[string]Change{"ri-old": ChangeOngoing, "ri-new": ChangeNew}, counts: Changes{Ongoing: 1, Suppressed: 1}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := Diff(tc.prev, tc.run)
			if d.Changes != tc.want.counts {
				t.Errorf("changes = %+v, want %+v", d.Changes, tc.want.counts)
			}
			for _, f := range d.Findings {
				key := f.ResourceID
				if f.Region != r {
					key = f.Region + "/" + key
				}
				if c, ok := tc.want.changes[key]; !ok || f.Change != c {
					t.Errorf("%s %s: change %s, want %s", f.Region, f.ResourceID, f.Change, c)
				}
				if fs, ok := tc.want.firstSeen[f.ResourceID]; ok && !f.FirstSeen.Equal(fs) {
					t.Errorf("%s: first seen %s, want %s", f.ResourceID, f.FirstSeen, fs)
				}
				if want := checks.DaysLeft(f.FirstSeen, tc.run.Time); f.AgeDays != want {
					t.Errorf("%s: age %d days, want %d", f.ResourceID, f.AgeDays, want)
				}
			}
			gotResolved := map[string]string{}
			for _, r := range d.Resolved {
				gotResolved[r.ResourceID] = r.ResolvedReason
				if !r.FirstSeen.Equal(firstSeen) || r.Reason != "reason of "+r.ResourceID {
					t.Errorf("resolved %s lost its data: %+v", r.ResourceID, r)
				}
			}
			gotUnverified := map[string]string{}
			for _, u := range d.Unverified {
				gotUnverified[u.ResourceID] = u.Code
				if u.Error == "" || u.Reason != "reason of "+u.ResourceID || !u.LastSeen.Equal(day1) || !u.FirstSeen.Equal(firstSeen) ||
					u.AgeDays != checks.DaysLeft(firstSeen, tc.run.Time) {
					t.Errorf("unverified %s lost its data or error: %+v", u.ResourceID, u)
				}
				if u.Code == CodeListIncomplete && !strings.Contains(u.Error, tc.run.Scope.ListingError) {
					t.Errorf("unverified %s: error %q, want the listing's %q", u.ResourceID, u.Error, tc.run.Scope.ListingError)
				}
			}
			if len(gotResolved)+len(tc.want.resolved) > 0 && !reflect.DeepEqual(gotResolved, tc.want.resolved) {
				t.Errorf("resolved = %v, want %v", gotResolved, tc.want.resolved)
			}
			if len(gotUnverified)+len(tc.want.unverified) > 0 && !reflect.DeepEqual(gotUnverified, tc.want.unverified) {
				t.Errorf("unverified = %v, want %v", gotUnverified, tc.want.unverified)
			}
			// A retried run reads the same previous state: the same diff.
			if again := Diff(tc.prev, tc.run); !reflect.DeepEqual(again, d) {
				t.Errorf("retried run gave another diff")
			}
			// The job hands its cells over as a source, not a slice: the same diff, and the same state written.
			tc.run.ID = "day2" // a state names its run
			sourced := tc.run
			sourced.Cells, sourced.CellSource = nil, testCellSource{tc.run.Cells}
			if got := Diff(tc.prev, sourced); !reflect.DeepEqual(got, d) {
				t.Errorf("with a cell source, another diff:\n got %+v\nwant %+v", got, d)
			}
			var fromSlice, fromSource bytes.Buffer
			if err := Encode(&fromSlice, NewState(tc.run, d)); err != nil {
				t.Fatal(err)
			}
			if err := Encode(&fromSource, NewState(sourced, d)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fromSlice.Bytes(), fromSource.Bytes()) {
				t.Errorf("with a cell source, another state stored")
			}
			if back, err := Decode(&fromSource); err != nil {
				t.Errorf("state read back: %v", err)
			} else if !reflect.DeepEqual(back.Cells, tc.run.Cells) {
				t.Errorf("cells read back %+v, want %+v", back.Cells, tc.run.Cells)
			}
		})
	}
}

// testCellSource is a run's cells behind the CellSource interface, as the job's store hands them over.
type testCellSource struct{ cells []Cell }

func (s testCellSource) Len() int { return len(s.cells) }

func (s testCellSource) All() iter.Seq[Cell] { return slices.Values(s.cells) }

// An unverified finding is carried in the state, so the run after settles it: resolved once its cell runs clean.
func TestUnverifiedCarriedThenResolved(t *testing.T) {
	const a, r, ec2 = "111111111111", "us-east-1", "ec2-reserved-instances"
	old := finding(ec2, a, r, "ri-old", checks.Warning)
	prev := prevState(day1, old)
	failing := Run{ID: "day2", Time: day2, Cells: cells(OutcomeError, "Throttling", [3]string{a, r, ec2}), Accounts: []string{a}}
	d2 := Diff(prev, failing)
	s2 := NewState(failing, d2)
	if len(s2.Findings) != 1 || !s2.Findings[0].Unverified || s2.Counts.Unverified != 1 || s2.Counts.Warning != 0 {
		t.Fatalf("day 2 state should carry the unverified finding outside the severity counts: %+v", s2)
	}
	day3 := day2.AddDate(0, 0, 1)
	clean := Run{ID: "day3", Time: day3, Cells: cells(OutcomeClean, "", [3]string{a, r, ec2}), Accounts: []string{a}}
	d3 := Diff(s2, clean)
	if d3.Changes.Resolved != 1 || d3.Resolved[0].ResourceID != "ri-old" || !d3.Resolved[0].LastSeen.Equal(day1) {
		t.Fatalf("day 3 should resolve the carried finding: %+v", d3)
	}
}

func TestNewStateCounts(t *testing.T) {
	const a, b, r, ec2 = "111111111111", "222222222222", "us-east-1", "ec2-reserved-instances"
	fs := []checks.Finding{finding(ec2, a, r, "1", checks.Critical), finding(ec2, a, r, "2", checks.Warning),
		finding(ec2, a, r, "3", checks.Notice), finding(ec2, a, r, "4", checks.Critical)}
	run := Run{ID: "x", Time: day2, Findings: fs, Accounts: []string{a, b},
		Cells:        append(cells(OutcomeFindings, "", [3]string{a, r, ec2}), cells(OutcomeError, "AccessDenied", [3]string{b, r, ec2})...),
		Suppressions: &Suppressions{Rules: []Rule{{Check: ec2, ResourceID: "4", Reason: "x", Owner: "y", Expires: day2}}}}
	s := NewState(run, Diff(nil, run))
	want := Counts{Critical: 1, Warning: 1, Notice: 1, New: 3, Suppressed: 1, AccountsAudited: 1, AccountsInScope: 2}
	if s.Counts != want {
		t.Errorf("counts = %+v, want %+v", s.Counts, want)
	}
	if !s.Findings[3].Suppressed || s.Findings[0].Suppressed {
		t.Errorf("suppressed flags wrong: %+v", s.Findings)
	}
}

// TestBrokenListingKeepsTheScopeItDidNotReach: the accounts a broken listing did not reach stay in the stored scope and
// its count, their findings carried; the next whole listing settles them, and one that no longer holds an account
// resolves its findings as having left.
func TestBrokenListingKeepsTheScopeItDidNotReach(t *testing.T) {
	const a, b, c, r, ec2 = "111111111111", "222222222222", "333333333333", "us-east-1", "ec2-reserved-instances"
	fb, fc := finding(ec2, b, r, "ri-b", checks.Critical), finding(ec2, c, r, "ri-c", checks.Warning)
	run1 := Run{ID: "day1", Time: day1, Findings: []checks.Finding{fb, fc}, Accounts: []string{a, b, c},
		Cells: cells(OutcomeFindings, "", [3]string{a, r, ec2}, [3]string{b, r, ec2}, [3]string{c, r, ec2}),
		Scope: Scope{ListedWhole: true, Listed: map[string]string{a: "ACTIVE", b: "ACTIVE", c: "ACTIVE"}}}
	s1 := NewState(run1, Diff(nil, run1))
	broken := Run{ID: "day2", Time: day2, Accounts: []string{a}, Cells: cells(OutcomeClean, "", [3]string{a, r, ec2}),
		Scope: Scope{Listed: map[string]string{a: "ACTIVE"}, ListingError: "RepeatedPageToken: ListOrganizationalUnitsForParent"}}
	d2 := Diff(s1, broken)
	s2 := NewState(broken, d2)
	if d2.Changes.Resolved != 0 || d2.Changes.Unverified != 2 || !reflect.DeepEqual(d2.NotListed, []string{b, c}) {
		t.Fatalf("broken listing: changes %+v not listed %v", d2.Changes, d2.NotListed)
	}
	if s2.Counts.AccountsInScope != 3 || s2.Counts.AccountsAudited != 1 || len(s2.Findings) != 2 || !s2.Findings[0].Unverified {
		t.Fatalf("stored after the broken listing: counts %+v, %d findings", s2.Counts, len(s2.Findings))
	}
	// Broken again: the accounts stay in scope from the stored state, not only from the run before it.
	day3 := day2.AddDate(0, 0, 1)
	again := broken
	again.ID, again.Time = "day3", day3
	s3 := NewState(again, Diff(s2, again))
	if s3.Counts.AccountsInScope != 3 || len(s3.Findings) != 2 || !s3.Findings[0].FirstSeen.Equal(day1) {
		t.Fatalf("stored after a second broken listing: counts %+v, findings %+v", s3.Counts, s3.Findings)
	}
	// Whole again: b still has its finding (ongoing since day 1), c is no longer in the organization.
	day4 := day3.AddDate(0, 0, 1)
	whole := Run{ID: "day4", Time: day4, Findings: []checks.Finding{fb}, Accounts: []string{a, b},
		Cells: cells(OutcomeClean, "", [3]string{a, r, ec2}, [3]string{b, r, ec2}),
		Scope: Scope{ListedWhole: true, Listed: map[string]string{a: "ACTIVE", b: "ACTIVE"}}}
	d4 := Diff(s3, whole)
	if d4.Findings[0].Change != ChangeOngoing || !d4.Findings[0].FirstSeen.Equal(day1) || d4.Changes.Resolved != 1 ||
		d4.Resolved[0].ResolvedReason != ReasonLeft || len(d4.NotListed) != 0 || NewState(whole, d4).Counts.AccountsInScope != 2 {
		t.Errorf("whole listing after broken ones: %+v", d4)
	}
}
