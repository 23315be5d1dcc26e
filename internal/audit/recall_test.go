package audit_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/report"
)

// Run times of the two demo days: the schedule fires at 08:00 UTC.
var (
	yesterdayRun = demoAsOf.Add(-16 * time.Hour)
	todayRun     = demoAsOf.Add(8 * time.Hour)
)

func keyOf(f checks.Finding) string {
	return f.Check + "/" + f.AccountID + "/" + f.Region + "/" + f.ResourceID
}

func sortedKeys[T any](items []T, key func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, key(it))
	}
	slices.Sort(out)
	return out
}

func sorted(in []string) []string {
	out := append([]string{}, in...)
	slices.Sort(out)
	return out
}

// runDay runs the job on org at runTime (as of its date), keeping history in stateDir.
func runDay(t *testing.T, org *awssim.Organization, runTime time.Time, stateDir, suppressions string) *report.Result {
	t.Helper()
	sim := startSim(t, org)
	s := demoSettings()
	s.AsOf = time.Date(runTime.Year(), runTime.Month(), runTime.Day(), 0, 0, 0, 0, time.UTC)
	s.RunTime, s.StateDir, s.Suppressions = runTime, stateDir, suppressions
	out, err := audit.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s,
		audit.Options{Logger: quietLogger(), Now: func() time.Time { return runTime.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	return out.Result
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTwoDemoDaysGiveExactlyTheDeclaredChanges runs the demo organization as it was yesterday and as it is today and
// requires exactly the new, escalated, ongoing, resolved and unverified sets DemoYesterday's differences make.
func TestTwoDemoDaysGiveExactlyTheDeclaredChanges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rules := writeFile(t, "suppressions.yaml", awssim.DemoSuppressions(demoAsOf))
	first := runDay(t, awssim.DemoYesterday(demoAsOf), yesterdayRun, dir, rules)
	if first.Changes == nil || first.PreviousRunID != "" || !strings.Contains(first.NoPrevious, "no previous run to compare with: none stored") {
		t.Fatalf("first day: changes %+v previous %q no_previous %q", first.Changes, first.PreviousRunID, first.NoPrevious)
	}
	res := runDay(t, awssim.Demo(demoAsOf), todayRun, dir, rules)

	if res.PreviousRunID != first.RunID || res.PreviousRunTime == nil || !res.PreviousRunTime.Equal(yesterdayRun) || res.NoPrevious != "" {
		t.Fatalf("previous run %q at %v (no_previous %q), want %q at %v", res.PreviousRunID, res.PreviousRunTime, res.NoPrevious, first.RunID, yesterdayRun)
	}
	byChange := map[string][]string{}
	for _, f := range res.Findings {
		byChange[f.Change] = append(byChange[f.Change], keyOf(f))
		if f.FirstSeen == nil || f.AgeDays == nil {
			t.Fatalf("finding without memory: %+v", f)
		}
		wantFirst, wantAge := yesterdayRun, 1
		if f.Change == string(history.ChangeNew) {
			wantFirst, wantAge = todayRun, 0
		}
		if !f.FirstSeen.Equal(wantFirst) || *f.AgeDays != wantAge {
			t.Errorf("%s (%s): first seen %v age %d, want %v %d", keyOf(f), f.Change, f.FirstSeen, *f.AgeDays, wantFirst, wantAge)
		}
	}
	// Every finding the demo declares for today, less the suppressed, less the new and escalated, is ongoing.
	var wantOngoing []string
	for check, byKey := range awssim.DemoFindings {
		for k := range byKey {
			key := check + "/" + k
			if !slices.Contains(awssim.DemoSuppressed, key) && !slices.Contains(awssim.DemoChanges.New, key) && !slices.Contains(awssim.DemoChanges.Escalated, key) {
				wantOngoing = append(wantOngoing, key)
			}
		}
	}
	for change, want := range map[history.Change][]string{history.ChangeNew: awssim.DemoChanges.New,
		history.ChangeEscalated: awssim.DemoChanges.Escalated, history.ChangeOngoing: wantOngoing} {
		if got := sorted(byChange[string(change)]); !slices.Equal(got, sorted(want)) {
			t.Errorf("%s: %v, want %v", change, got, sorted(want))
		}
	}
	// The digest says from which severity each escalated finding rose.
	for _, f := range res.Findings {
		if f.Change != string(history.ChangeEscalated) {
			continue
		}
		if from, ok := res.EscalatedFrom[history.IdentityOf(f)]; !ok || from.Rank() <= f.Severity.Rank() {
			t.Errorf("escalated %s (%s): previous severity %q", keyOf(f), f.Severity, from)
		}
	}
	for _, f := range res.Findings {
		if slices.Contains(awssim.DemoChanges.Deescalated, keyOf(f)) && (f.Change != string(history.ChangeOngoing) || f.Severity != checks.Notice) {
			t.Errorf("renewed reservation: %s %s, want ongoing notice", f.Change, f.Severity)
		}
	}
	if got := sortedKeys(res.Resolved, func(r history.Resolved) string { return keyOf(r.Finding) }); !slices.Equal(got, sorted(awssim.DemoChanges.Resolved)) {
		t.Errorf("resolved %v, want %v", got, sorted(awssim.DemoChanges.Resolved))
	}
	for _, r := range res.Resolved {
		want := history.ReasonGone
		if slices.Contains(awssim.DemoChanges.OutOfScope, keyOf(r.Finding)) {
			want = history.ReasonInactive("SUSPENDED") // the closed project's account is listed suspended
		}
		if r.ResolvedReason != want || !r.FirstSeen.Equal(yesterdayRun) {
			t.Errorf("resolved %s: reason %q first seen %v, want %q %v", keyOf(r.Finding), r.ResolvedReason, r.FirstSeen, want, yesterdayRun)
		}
	}
	if got := sortedKeys(res.Unverified, func(u history.Unverified) string { return keyOf(u.Finding) }); !slices.Equal(got, sorted(awssim.DemoChanges.Unverified)) {
		t.Errorf("unverified %v, want %v", got, sorted(awssim.DemoChanges.Unverified))
	}
	for _, u := range res.Unverified {
		if u.Code != "AccessDenied" || !strings.Contains(u.Error, "sts:AssumeRole") {
			t.Errorf("unverified %s carries %q %q, want this run's AccessDenied", keyOf(u.Finding), u.Code, u.Error)
		}
	}
	// A failing cell never yields resolved: each resolved finding's cell ran today, or its account left the scope.
	ran := map[string]bool{}
	inScope := map[string]bool{}
	for c := range res.Cells.All() {
		inScope[c.AccountID] = true
		if c.Outcome != crossaccount.OutcomeError {
			ran[c.Check+"/"+c.AccountID+"/"+c.Region] = true
		}
	}
	for _, r := range res.Resolved {
		if !ran[r.Check+"/"+r.AccountID+"/"+r.Region] && inScope[r.AccountID] {
			t.Errorf("resolved %s although its cell did not run", keyOf(r.Finding))
		}
	}

	// Suppressed: listed with the rule, left out of the findings and every count.
	if got := sortedKeys(res.Suppressed, func(s report.SuppressedFinding) string { return keyOf(s.Finding) }); !slices.Equal(got, sorted(awssim.DemoSuppressed)) {
		t.Errorf("suppressed %v, want %v", got, awssim.DemoSuppressed)
	}
	wantSev := awssim.DemoSeverityCounts()
	for _, s := range res.Suppressed {
		wantSev[string(s.Severity)]--
		if s.Suppression == nil || s.Suppression.Owner != "payments-team@example.com" {
			t.Errorf("suppressed without its rule: %+v", s)
		}
	}
	if c, w, n := res.Totals(); c != wantSev["critical"] || w != wantSev["warning"] || n != wantSev["notice"] || len(res.Findings) != c+w+n {
		t.Errorf("totals %d/%d/%d over %d findings, want %v", c, w, n, len(res.Findings), wantSev)
	}
	want := history.Changes{New: len(awssim.DemoChanges.New), Escalated: len(awssim.DemoChanges.Escalated), Ongoing: len(wantOngoing),
		Resolved: len(awssim.DemoChanges.Resolved), Unverified: len(awssim.DemoChanges.Unverified), Suppressed: len(awssim.DemoSuppressed)}
	if res.Changes == nil || *res.Changes != want {
		t.Errorf("changes %+v, want %+v", res.Changes, want)
	}
	if len(res.Trend) != 2 || res.Trend[0].RunID != first.RunID || res.Trend[1].RunID != res.RunID || res.Trend[1].Counts.New != want.New {
		t.Errorf("trend %+v", res.Trend)
	}

	// The JSON result carries the memory as the issue names it.
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		PreviousRunID string         `json:"previous_run_id"`
		Changes       map[string]int `json:"changes"`
		Resolved      []map[string]any
		Unverified    []map[string]any
		Suppressed    []map[string]any
		Findings      []map[string]any
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if j.PreviousRunID != first.RunID || j.Changes["new"] != want.New || j.Changes["resolved"] != want.Resolved || j.Changes["unverified"] != want.Unverified ||
		j.Resolved[0]["resolved_reason"] == nil || j.Unverified[0]["error"] == nil || j.Suppressed[0]["suppression"] == nil ||
		j.Findings[0]["change"] == nil || j.Findings[0]["first_seen"] == nil || j.Findings[0]["age_days"] == nil {
		t.Errorf("JSON result lacks the memory fields:\n%.2000s", b)
	}
}

// TestMissingOrCorruptHistoryIsAFirstRunThatSaysWhy: nothing stored, or a latest state that cannot be read, gives
// every finding as new, nothing resolved, and the reason; the run still stores its own state.
func TestMissingOrCorruptHistoryIsAFirstRunThatSaysWhy(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		stored, want string
	}{
		"missing": {want: "no previous run to compare with: none stored in"},
		"corrupt": {stored: "not gzip at all", want: "is unreadable: unreadable state: gzip"},
		"version": {stored: "other version", want: "state format version 99"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if c.stored != "" {
				p := filepath.Join(dir, filepath.FromSlash(history.Key(yesterdayRun, "", "yesterday")))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				body := []byte(c.stored)
				if c.stored == "other version" {
					body = otherVersionState(t)
				}
				if err := os.WriteFile(p, body, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			res := runDay(t, awssim.Demo(demoAsOf), todayRun, dir, "")
			if !strings.Contains(res.NoPrevious, c.want) || res.PreviousRunID != "" {
				t.Errorf("no_previous %q (previous %q), want it to say %q", res.NoPrevious, res.PreviousRunID, c.want)
			}
			for _, f := range res.Findings {
				if f.Change != string(history.ChangeNew) {
					t.Errorf("%s is %q on a first run", keyOf(f), f.Change)
				}
			}
			if res.Changes == nil || res.Changes.New != len(res.Findings) || len(res.Resolved)+len(res.Unverified) != 0 {
				t.Errorf("changes %+v resolved %d unverified %d", res.Changes, len(res.Resolved), len(res.Unverified))
			}
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(history.Key(todayRun, config.TriggerCLI, res.RunID)))); err != nil {
				t.Errorf("this run's state was not stored: %v", err)
			}
		})
	}
}

// otherVersionState is a state a later build might write.
// otherVersionState is a state this build did not write: a real one whose version field says 99, as a state from a
// newer (or much older) orgaudit would.
func otherVersionState(t *testing.T) []byte {
	t.Helper()
	var enc bytes.Buffer
	if err := history.Encode(&enc, &history.State{RunID: "yesterday", RunTime: yesterdayRun}); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&enc)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	field := fmt.Appendf(nil, `"version":%d`, history.Version)
	if !bytes.Contains(plain, field) {
		t.Fatalf("state has no %s field: %.200s", field, plain)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(bytes.Replace(plain, field, []byte(`"version":99`), 1)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestRetriedRunComputesTheSameDiffAndOverwritesItsEntry: three invocations of one scheduled run (as Lambda retries
// one) against history in the bucket compare with the same previous run and leave one entry, not three.
func TestRetriedRunComputesTheSameDiffAndOverwritesItsEntry(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(demoAsOf)
	sim := startSim(t, org)
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.KMSKeyID = awssim.DemoKMSKeyARN
	run := func(runTime time.Time) *report.Result {
		s := s
		s.RunTime = runTime
		out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger(), Now: func() time.Time { return runTime.Add(time.Minute) }})
		if err != nil {
			t.Fatal(err)
		}
		return out.Result
	}
	first := run(yesterdayRun)
	var results []*report.Result
	for range 3 {
		results = append(results, run(todayRun))
	}
	for i, r := range results {
		if r.PreviousRunID != first.RunID || r.Changes == nil || *r.Changes != *results[0].Changes || len(r.Trend) != 2 {
			t.Errorf("invocation %d: previous %q changes %+v trend %d, want %q %+v 2", i, r.PreviousRunID, r.Changes, len(r.Trend), first.RunID, results[0].Changes)
		}
		// The same organization two days running: nothing new, nothing resolved.
		if r.Changes.New+r.Changes.Resolved+r.Changes.Unverified != 0 || r.Changes.Ongoing != len(r.Findings) {
			t.Errorf("invocation %d: changes %+v over %d findings", i, r.Changes, len(r.Findings))
		}
	}
	keys := map[string]int{}
	for _, u := range sim.Uploads() {
		if strings.HasPrefix(u.Key, s.Prefix+"/history/") {
			keys[u.Key]++
			if u.ServerSideEncryption != "aws:kms" {
				t.Errorf("%s stored with %q, want the report key", u.Key, u.ServerSideEncryption)
			}
		}
	}
	want := map[string]int{s.Prefix + "/" + history.Key(yesterdayRun, config.TriggerCLI, first.RunID): 1, s.Prefix + "/" + history.Key(todayRun, config.TriggerCLI, results[0].RunID): 3}
	if len(keys) != len(want) || keys[s.Prefix+"/"+history.Key(todayRun, config.TriggerCLI, results[0].RunID)] != 3 {
		t.Errorf("history writes %v, want %v", keys, want)
	}
}

// TestDryRunReadsHistoryAndWritesNone, and -no-history ignores it altogether.
func TestDryRunReadsHistoryAndNoHistoryIgnoresIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := runDay(t, awssim.Demo(demoAsOf), yesterdayRun, dir, "")
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.StateDir, s.RunTime, s.DryRun = dir, todayRun, true
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if out.Result.PreviousRunID != first.RunID {
		t.Errorf("dry run compared with %q, want %q", out.Result.PreviousRunID, first.RunID)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(history.Key(todayRun, config.TriggerCLI, out.Result.RunID)))); err == nil {
		t.Error("a dry run stored its state")
	}
	s.DryRun, s.NoHistory = false, true
	out, err = audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.Result; r.Changes != nil || r.PreviousRunID != "" || r.NoPrevious != "" || r.Findings[0].Change != "" || r.Findings[0].FirstSeen != nil {
		t.Errorf("-no-history used history: changes %+v previous %q finding %+v", r.Changes, r.PreviousRunID, r.Findings[0])
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(history.Key(todayRun, config.TriggerCLI, out.Result.RunID)))); err == nil {
		t.Error("-no-history stored its state")
	}
}

// TestBadSuppressionsFileNeverSilencesTheAudit: the run goes on with no suppressions and says why, with lines.
func TestBadSuppressionsFileNeverSilencesTheAudit(t *testing.T) {
	t.Parallel()
	bad := strings.Replace(awssim.DemoSuppressions(demoAsOf), "    owner: payments-team@example.com\n", "    owner: payments-team@example.com\n    team: payments\n", 1)
	teamLine := slices.Index(strings.Split(bad, "\n"), "    team: payments") + 1
	for name, c := range map[string]struct{ loc, want string }{
		"unknown field": {loc: writeFile(t, "bad.yaml", bad), want: fmt.Sprintf(`line %d: rule 1: unknown field "team"`, teamLine)},
		"missing file":  {loc: filepath.Join(t.TempDir(), "none.yaml"), want: "no such file"},
		// A megabyte of brackets once took the function's memory before the digest was sent.
		"nested brackets": {loc: writeFile(t, "deep.yaml", strings.Repeat("[", history.MaxSuppressionsBytes/2)+strings.Repeat("]", history.MaxSuppressionsBytes/2)),
			want: "line 1: the file nests deeper than"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := runDay(t, awssim.Demo(demoAsOf), todayRun, t.TempDir(), c.loc)
			if ws := withoutOwnerWarning(res.Warnings); len(ws) != 1 || !strings.HasPrefix(ws[0], "suppressions not applied: "+c.loc+": ") || !strings.Contains(ws[0], c.want) {
				t.Errorf("warnings %q, want one naming %s and %q", res.Warnings, c.loc, c.want)
			}
			// The digest leads with it, so the person who wrote the file learns why nothing was suppressed.
			if digest := report.Digest(res, report.MaxDigestBytes); !strings.Contains(digest, "suppressions not applied: "+c.loc+": ") {
				t.Errorf("the digest does not say the suppressions were not applied:\n%.600s", digest)
			}
			n := awssim.DemoSeverityCounts()
			if len(res.Suppressed) != 0 || len(res.Findings) != n["critical"]+n["warning"]+n["notice"] {
				t.Errorf("suppressed %d, findings %d: the audit was silenced", len(res.Suppressed), len(res.Findings))
			}
		})
	}
}

// TestHistoryThatCannotBeStoredIsAWarningNotAFailedRun: the audit and its digest stand; the warning says the next
// run will compare with an earlier one.
func TestHistoryThatCannotBeStoredIsAWarningNotAFailedRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := runDay(t, awssim.Demo(demoAsOf), yesterdayRun, dir, "")
	// A directory where today's state must go: the rename into place fails.
	todayID, _ := demoSettings().Identity(todayRun)
	blocker := filepath.Join(dir, filepath.FromSlash(history.Key(todayRun, config.TriggerCLI, todayID)), "in-the-way")
	if err := os.MkdirAll(blocker, 0o755); err != nil {
		t.Fatal(err)
	}
	sim := startSim(t, awssim.Demo(demoAsOf))
	s := demoSettings()
	s.StateDir, s.RunTime = dir, todayRun
	out, err := audit.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("a history write failed the run: %v", err)
	}
	r := out.Result
	if ws := withoutOwnerWarning(r.Warnings); len(ws) != 1 || !strings.HasPrefix(ws[0], "run history not stored, so the next run compares with an earlier one: store run state ") ||
		r.PreviousRunID != first.RunID || !r.Published {
		t.Errorf("warnings %q previous %q published %v", r.Warnings, r.PreviousRunID, r.Published)
	}
}

// withoutOwnerWarning leaves out the warning about the demo's account whose owner tag cannot be read, which every
// demo run gives.
func withoutOwnerWarning(ws []string) []string {
	var out []string
	for _, w := range ws {
		if !strings.HasPrefix(w, "owner tags of ") {
			out = append(out, w)
		}
	}
	return out
}

// TestOnlyWhatTheRunLookedAtChangesState runs the demo organization three days running: whole, then narrowed (the
// walk broken part way by Organizations, or accounts left out by choice), then whole again. The second run resolves
// nothing of the accounts it did not look at: their findings are carried as unverified with why, keep their first
// seen date and age, and stay in the stored state, so the third run calls them ongoing since the first, not new.
func TestOnlyWhatTheRunLookedAtChangesState(t *testing.T) {
	t.Parallel()
	everyOther := func(a *awssim.Account) bool { return a.ID != awssim.DemoManagementAccount }
	for name, c := range map[string]struct {
		narrow      func(*awssim.Organization, *config.Settings)
		notLooked   func(*awssim.Account) bool // the accounts the second run does not look at
		code, error string
		byChoice    bool
	}{
		// Depth first and by name, Workloads/Prod is the last OU listed; its second page (of the page size's 3)
		// fails on every attempt, after the first page's accounts arrived.
		"ServiceException past the retries": {
			narrow: func(o *awssim.Organization, _ *config.Settings) {
				o.ListingFaults = map[string]awssim.ListingFault{"Workloads/Prod": {Operation: "ListAccountsForParent", Code: "ServiceException", Page: 1}}
			},
			notLooked: func(a *awssim.Account) bool { return a.ID == "131313131313" },
			code:      "AccountListIncomplete", error: "ServiceException",
		},
		// The root's second page of OUs hands its token back: no OU is walked, only the root's own account.
		"repeated page token": {
			narrow: func(o *awssim.Organization, _ *config.Settings) {
				o.ListingFaults = map[string]awssim.ListingFault{"": {Operation: "ListOrganizationalUnitsForParent", Page: 1, RepeatToken: true}}
			},
			notLooked: everyOther,
			code:      "AccountListIncomplete", error: "RepeatedPageToken",
		},
		"exclude-accounts": {
			narrow: func(_ *awssim.Organization, s *config.Settings) {
				s.ExcludeAccounts = []string{"131313131313", "444444444444"}
			},
			notLooked: func(a *awssim.Account) bool { return a.ID == "131313131313" || a.ID == "444444444444" },
			code:      "AccountNotSelected", error: "by choice", byChoice: true,
		},
		"accounts": {
			narrow:    func(_ *awssim.Organization, s *config.Settings) { s.Accounts = []string{awssim.DemoManagementAccount} },
			notLooked: everyOther,
			code:      "AccountNotSelected", error: "by choice", byChoice: true,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			day := func(n int) (*awssim.Organization, time.Time) {
				return awssim.Demo(demoAsOf.AddDate(0, 0, n)), demoAsOf.AddDate(0, 0, n).Add(8 * time.Hour)
			}
			org, run1 := day(0)
			first := runScoped(t, org, run1, dir, nil).Result
			notLooked := map[string]bool{}
			for _, a := range org.Accounts {
				if c.notLooked(a) {
					notLooked[a.ID] = true
				}
			}
			var carried []string
			for _, f := range first.Findings {
				if notLooked[f.AccountID] {
					carried = append(carried, keyOf(f))
				}
			}
			if len(carried) == 0 {
				t.Fatalf("the scenario must leave out accounts with findings: none of %d", len(first.Findings))
			}

			org, run2 := day(1)
			s2 := func(s *config.Settings) { c.narrow(org, s) }
			out := runScoped(t, org, run2, dir, s2)
			second := out.Result
			t.Logf("%s: subject of the second run: %s", name, out.Subject)
			for _, r := range second.Resolved {
				if notLooked[r.AccountID] {
					t.Errorf("resolved %s (%s) although its account was not looked at", keyOf(r.Finding), r.ResolvedReason)
				}
			}
			got := sortedKeys(second.Unverified, func(u history.Unverified) string { return keyOf(u.Finding) })
			if !slices.Equal(got, sorted(carried)) {
				t.Errorf("unverified %v, want the findings of the accounts not looked at %v", got, sorted(carried))
			}
			if len(second.Unverified) > 0 {
				t.Logf("%s: an unverified finding's error: %s: %s", name, second.Unverified[0].Code, second.Unverified[0].Error)
			}
			for _, u := range second.Unverified {
				if u.Code != c.code || !strings.Contains(u.Error, c.error) || !u.FirstSeen.Equal(run1) || u.AgeDays != 1 {
					t.Errorf("unverified %s: %s %q first seen %v age %d; want %s %q, %v, 1", keyOf(u.Finding), u.Code, u.Error, u.FirstSeen, u.AgeDays, c.code, c.error, run1)
				}
			}
			if second.Changes == nil || second.Changes.New != 0 || second.Changes.Unverified != len(carried) {
				t.Errorf("changes %+v, want nothing new and %d unverified", second.Changes, len(carried))
			}
			// The stored counts: the accounts the broken listing did not reach stay in scope, unaudited; accounts
			// left out by choice are out of this run's scope.
			inScope1, inScope2 := first.Trend[len(first.Trend)-1].Counts.AccountsInScope, second.Trend[len(second.Trend)-1].Counts.AccountsInScope
			if !c.byChoice && inScope2 != inScope1 {
				t.Errorf("accounts in scope %d, the first run's %d: an account the listing did not reach is still in scope", inScope2, inScope1)
			}
			if c.byChoice && inScope2 != second.Accounts.Total {
				t.Errorf("accounts in scope %d, want this run's %d", inScope2, second.Accounts.Total)
			}
			if audited := second.Trend[len(second.Trend)-1].Counts.AccountsAudited; audited > second.Accounts.Audited {
				t.Errorf("%d accounts counted audited, the run audited %d", audited, second.Accounts.Audited)
			}

			org, run3 := day(2)
			third := runScoped(t, org, run3, dir, nil).Result
			if third.Changes == nil || third.Changes.New != 0 || third.Changes.Resolved != 0 || third.Changes.Unverified != 0 {
				t.Errorf("third run: changes %+v, want every finding ongoing", third.Changes)
			}
			for _, f := range third.Findings {
				if notLooked[f.AccountID] && (f.Change != string(history.ChangeOngoing) || f.FirstSeen == nil || !f.FirstSeen.Equal(run1) || *f.AgeDays != 2) {
					t.Errorf("third run: %s is %s, first seen %v; want ongoing since %v", keyOf(f), f.Change, f.FirstSeen, run1)
				}
			}
		})
	}
}

// runScoped runs the job on org at runTime (as of its date) with history in stateDir, its settings changed by
// change, and a short backoff: a listing that fails on every attempt is retried, not waited on.
func runScoped(t *testing.T, org *awssim.Organization, runTime time.Time, stateDir string, change func(*config.Settings)) *audit.Output {
	t.Helper()
	s := demoSettings()
	s.AsOf = time.Date(runTime.Year(), runTime.Month(), runTime.Day(), 0, 0, 0, 0, time.UTC)
	s.RunTime, s.StateDir, s.MaxBackoff = runTime, stateDir, time.Millisecond
	if change != nil {
		change(&s)
	}
	sim := startSim(t, org)
	out, err := audit.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s,
		audit.Options{Logger: quietLogger(), Now: func() time.Time { return runTime.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNamedAccountThatLeftIsResolved: an account named with -accounts that a whole listing of the organization no
// longer holds has left it; its findings are resolved as such, not carried as could-not-re-check run after run.
func TestNamedAccountThatLeftIsResolved(t *testing.T) {
	t.Parallel()
	const leaver = "131313131313"
	dir := t.TempDir()
	org := awssim.Demo(demoAsOf)
	first := runScoped(t, org, demoAsOf.Add(8*time.Hour), dir, nil).Result
	var had []string
	for _, f := range first.Findings {
		if f.AccountID == leaver {
			had = append(had, keyOf(f))
		}
	}
	if len(had) == 0 {
		t.Fatalf("the scenario needs findings in %s", leaver)
	}
	next := awssim.Demo(demoAsOf.AddDate(0, 0, 1))
	next.Accounts = slices.DeleteFunc(next.Accounts, func(a *awssim.Account) bool { return a.ID == leaver })
	second := runScoped(t, next, demoAsOf.AddDate(0, 0, 1).Add(8*time.Hour), dir, func(s *config.Settings) {
		s.Accounts = []string{awssim.DemoManagementAccount, leaver}
	}).Result
	var left []string
	for _, r := range second.Resolved {
		if r.AccountID == leaver && r.ResolvedReason == history.ReasonLeft {
			left = append(left, keyOf(r.Finding))
		}
	}
	if !slices.Equal(sorted(left), sorted(had)) {
		t.Errorf("resolved as left %v, want %v; unverified %d", left, had, len(second.Unverified))
	}
}
