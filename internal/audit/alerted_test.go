package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/report"
)

var failedStacks = checks.CloudFormationFailedStacks{}.Name()

func alertRecord(id, account, region, stack string, at time.Time) alert.Record {
	// Recorded as it was sent, as the sender writes it when its first write succeeds.
	return alert.Record{AlertedAt: at, RecordedAt: at, Alert: alert.Alert{EventID: id, EventTime: at.Add(-time.Minute), Kind: alert.KindStack,
		Severity: checks.Critical, AccountID: account, AccountName: "acct-" + account, Region: region, StackName: stack,
		Status: "UPDATE_ROLLBACK_FAILED", Reason: "Resource handler returned message"}}
}

func stackFinding(account, region, stack string) checks.Finding {
	return checks.Finding{Check: failedStacks, Severity: checks.Critical, AccountID: account, Region: region,
		ResourceType: "AWS::CloudFormation::Stack", ResourceID: stack, Status: "UPDATE_ROLLBACK_FAILED", Change: "new"}
}

// TestMatchAlerts: a finding an alert told of carries its time; an alerted stack not failing is recovered only where
// its cell ran, and not re-checked where it failed or did not run; one the history lists, or of an account out of
// scope, is not listed again.
func TestMatchAlerts(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 14, 0, 0, time.UTC)
	const a, b, c, out = "111111111111", "222222222222", "333333333333", "999999999999"
	records := []alert.Record{
		alertRecord("e1", a, "us-east-1", "SC-111111111111-pp-abc", at),
		alertRecord("e0", a, "us-east-1", "SC-111111111111-pp-abc", at.Add(time.Hour)), // a later alert of the same stack
		alertRecord("e2", b, "us-east-1", "fixed-stack", at.Add(2*time.Minute)),
		alertRecord("e3", c, "eu-west-1", "unread-stack", at.Add(3*time.Minute)),
		alertRecord("e4", b, "ap-south-1", "region-not-run", at.Add(4*time.Minute)),
		alertRecord("e5", b, "us-east-1", "already-resolved", at.Add(5*time.Minute)),
		alertRecord("e6", out, "us-east-1", "other-org", at.Add(6*time.Minute)),
	}
	findings := []checks.Finding{stackFinding(a, "us-east-1", "SC-111111111111-pp-abc"), stackFinding(a, "us-east-1", "other")}
	cells := crossaccount.NewCells(
		crossaccount.Cell{AccountID: a, Region: "us-east-1", Check: failedStacks, Outcome: crossaccount.OutcomeFindings, Findings: 2},
		crossaccount.Cell{AccountID: b, Region: "us-east-1", Check: failedStacks, Outcome: crossaccount.OutcomeClean},
		crossaccount.Cell{AccountID: c, Region: "eu-west-1", Check: failedStacks, Outcome: crossaccount.OutcomeError,
			Code: "AccessDenied", Message: "not authorized to perform cloudformation:ListStacks"},
	)
	resolvedStack := stackFinding(b, "us-east-1", "already-resolved")
	recovered, notRechecked := matchAlerts(records, alertFacts{findings: findings, cells: &cells,
		inScope:  map[string]bool{a: true, b: true, c: true},
		resolved: []history.Resolved{{Finding: resolvedStack}}})

	if got := findings[0].AlertedAt; got == nil || !got.Equal(at) {
		t.Errorf("alerted finding's AlertedAt = %v, want the first alert's %v", got, at)
	}
	if findings[1].AlertedAt != nil {
		t.Errorf("a finding no alert told of has AlertedAt %v", findings[1].AlertedAt)
	}
	if len(recovered) != 1 || recovered[0].StackName != "fixed-stack" || recovered[0].AccountID != b ||
		recovered[0].Status != "UPDATE_ROLLBACK_FAILED" || !recovered[0].AlertedAt.Equal(at.Add(2*time.Minute)) {
		t.Errorf("recovered = %+v, want fixed-stack alone (already-resolved is in the resolved list, other-org out of scope)", recovered)
	}
	want := map[string]string{"unread-stack": "AccessDenied - not authorized", "region-not-run": "not audited (its region"}
	if len(notRechecked) != len(want) {
		t.Fatalf("not re-checked = %+v, want %d", notRechecked, len(want))
	}
	for _, s := range notRechecked {
		if w, ok := want[s.StackName]; !ok || !strings.HasPrefix(s.NotRechecked, w) {
			t.Errorf("not re-checked %s: %q, want it to begin %q", s.StackName, s.NotRechecked, w)
		}
	}

	// The digest says it: the new finding with its time, the recovered stack once, the unread one not as recovered.
	res := &report.Result{Facts: report.Facts{RunID: "r", AsOf: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), Findings: findings},
		Memory: report.Memory{Changes: &history.Changes{New: 2}, PreviousRunID: "p", RecoveredSinceLastRun: recovered,
			AlertedNotRechecked: notRechecked}}
	text := report.Digest(res, report.MaxDigestBytes)
	if !strings.Contains(text, "critical, new, alerted at 08:14 UTC: ") {
		t.Errorf("digest does not say the new finding was alerted at 08:14 UTC:\n%s", text)
	}
	if n := strings.Count(text, "fixed-stack"); n != 1 {
		t.Errorf("the recovered stack is in the digest %d times, want once:\n%s", n, text)
	}
	recoveredPart, _, _ := strings.Cut(text[strings.Index(text, "FAILED AND RECOVERED"):], "ALERTED SINCE")
	if strings.Contains(recoveredPart, "unread-stack") || strings.Contains(recoveredPart, "region-not-run") {
		t.Errorf("a stack whose cell did not run is called recovered:\n%s", recoveredPart)
	}
	if !strings.Contains(text, "unread-stack: UPDATE_ROLLBACK_FAILED, alerted at 08:17 UTC") {
		t.Errorf("digest does not list the stack it could not re-check:\n%s", text)
	}
}

// TestAlertRecordsWindow: only the alerts sent in (from, to] are read; a record too large or not a record is named
// in the problems, never dropped in silence, and the others are still read.
func TestAlertRecordsWindow(t *testing.T) {
	dir := t.TempDir()
	prev := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	now := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	write := func(rec alert.Record, body []byte) string {
		key := alert.RecordKey("", rec.Alert.EventTime, rec.Alert.EventID)
		if body == nil {
			body, _ = json.Marshal(rec)
		}
		p := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	in := alertRecord("11111111-1111-1111-1111-111111111111", "111111111111", "us-east-1", "in", now.Add(-2*time.Hour))
	write(in, nil)
	// Dated by its event the day before the window, sent within it: read.
	late := alertRecord("22222222-2222-2222-2222-222222222222", "111111111111", "us-east-1", "late", prev.Add(time.Minute))
	late.Alert.EventTime = prev.Add(-30 * time.Hour)
	write(late, nil)
	// Sent before the previous run: that run's.
	before := alertRecord("33333333-3333-3333-3333-333333333333", "111111111111", "us-east-1", "before", prev.Add(-time.Minute))
	write(before, nil)
	// Sent after this run's time: the next run's.
	after := alertRecord("44444444-4444-4444-4444-444444444444", "111111111111", "us-east-1", "after", now.Add(time.Minute))
	after.Alert.EventTime = now.Add(-time.Minute)
	write(after, nil)
	huge := alertRecord("55555555-5555-5555-5555-555555555555", "111111111111", "us-east-1", "huge", now.Add(-time.Hour))
	huge.Alert.Reason = strings.Repeat("x", maxAlertRecordBytes)
	hugePath := write(huge, nil)
	junk := alertRecord("66666666-6666-6666-6666-666666666666", "111111111111", "us-east-1", "junk", now.Add(-time.Hour))
	junkPath := write(junk, []byte(`{"alert": "not an object"`))

	reading, err := readAlertRecords(context.Background(), dirAlertRecords{dir}, prev, now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	records, problems := reading.records, reading.unread
	if reading.cut != "" {
		t.Errorf("cut short: %s", reading.cut)
	}
	for _, r := range records {
		got = append(got, r.Alert.StackName)
	}
	if strings.Join(got, ",") != "late,in" && strings.Join(got, ",") != "in,late" {
		t.Errorf("records read = %v, want in and late only", got)
	}
	if len(problems) != 2 || !strings.Contains(strings.Join(problems, "\n"), hugePath+": ") ||
		!strings.Contains(strings.Join(problems, "\n"), junkPath+": not an alert record") ||
		!strings.Contains(strings.Join(problems, "\n"), "more than the 65536") {
		t.Errorf("problems = %q, want the huge record refused by size and the junk one as not a record", problems)
	}
}

// TestAlertRecordsBounded: past maxAlertRecords a run reads no more, and says how many it left.
func TestAlertRecordsBounded(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	day := filepath.Join(dir, "alerts", "2026", "12", "06")
	if err := os.MkdirAll(day, 0o750); err != nil {
		t.Fatal(err)
	}
	for i := range maxAlertRecords + 1 {
		rec := alertRecord(fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), "111111111111", "us-east-1", "s", now.Add(-time.Hour))
		body, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(day, rec.Alert.EventID+".json"), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	reading, err := readAlertRecords(context.Background(), dirAlertRecords{dir}, now.Add(-24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(reading.records) != maxAlertRecords || !strings.Contains(reading.cut, "more than 5000 alert records since 2026-12-05 06:00 UTC") {
		t.Errorf("read %d, cut %q; want %d and the cut said", len(reading.records), reading.cut, maxAlertRecords)
	}
}

// TestMatchAlertsNestedStack: the check folds a failed nested stack into its failed root's finding (nested_stacks);
// the nested stack's own alert is that finding's, still failing, and is not called recovered.
func TestMatchAlertsNestedStack(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 14, 0, 0, time.UTC)
	const a = "111111111111"
	nested := "app-Database-1A2B3C4D5E6F"
	records := []alert.Record{
		alertRecord("e1", a, "us-east-1", nested, at),
		// The same name in another region, whose cell ran clean: recovered there.
		alertRecord("e2", a, "eu-west-1", nested, at.Add(time.Minute)),
		// A nested stack of the same root the finding does not name: no longer failing.
		alertRecord("e3", a, "us-east-1", "app-Network-9Z8Y7X6W5V4U", at.Add(2*time.Minute)),
	}
	root := stackFinding(a, "us-east-1", "app")
	root.SetDetail("nested_failures", nested+" UPDATE_FAILED: Resource handler returned message: x; y z: w; "+
		"app-Queue-0000 DELETE_FAILED: busy")
	root.SetDetail("nested_stacks", nested+", app-Queue-0000")
	findings := []checks.Finding{root}
	cells := crossaccount.NewCells(
		crossaccount.Cell{AccountID: a, Region: "us-east-1", Check: failedStacks, Outcome: crossaccount.OutcomeFindings, Findings: 1},
		crossaccount.Cell{AccountID: a, Region: "eu-west-1", Check: failedStacks, Outcome: crossaccount.OutcomeClean},
	)
	recovered, notRechecked := matchAlerts(records, alertFacts{findings: findings, cells: &cells, inScope: map[string]bool{a: true}})
	if got := findings[0].AlertedAt; got == nil || !got.Equal(at) {
		t.Errorf("root finding's AlertedAt = %v, want its nested stack's alert %v", got, at)
	}
	var names []string
	for _, s := range recovered {
		names = append(names, s.Region+"/"+s.StackName)
	}
	if want := "eu-west-1/" + nested + ",us-east-1/app-Network-9Z8Y7X6W5V4U"; strings.Join(names, ",") != want {
		t.Errorf("recovered = %v, want %s (the nested stack folded into the failed root is still failing)", names, want)
	}
	if len(notRechecked) != 0 {
		t.Errorf("not re-checked = %+v, want none", notRechecked)
	}
}

// TestMatchAlertsStackInstance: no check reads StackSet stack instances. An instance's alert is the failed-stack
// finding of its stack when there is one; otherwise it is not re-checked, with that reason, never recovered, even
// where its account's cell ran clean.
func TestMatchAlertsStackInstance(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 14, 0, 0, time.UTC)
	const a, b = "111111111111", "222222222222"
	instance := func(id, account, stack string, at time.Time) alert.Record {
		r := alertRecord(id, account, "us-east-1", stack, at)
		r.Alert.Kind, r.Alert.Status, r.Alert.DetailedStatus = alert.KindInstance, "OUTDATED", "FAILED"
		r.Alert.StackSetARN = "arn:aws:cloudformation:us-east-1:999999999999:stackset/baseline:0d0c1c3e-0000-4000-8000-000000000000"
		return r
	}
	records := []alert.Record{
		instance("e1", a, "StackSet-baseline-aaaa", at),
		instance("e2", b, "StackSet-baseline-bbbb", at.Add(time.Minute)),
		// Its stack's finding of the previous run is resolved: the stack is no longer failing, the instance unread.
		instance("e3", b, "StackSet-baseline-cccc", at.Add(2*time.Minute)),
	}
	findings := []checks.Finding{stackFinding(a, "us-east-1", "StackSet-baseline-aaaa")}
	cells := crossaccount.NewCells(
		crossaccount.Cell{AccountID: a, Region: "us-east-1", Check: failedStacks, Outcome: crossaccount.OutcomeFindings, Findings: 1},
		crossaccount.Cell{AccountID: b, Region: "us-east-1", Check: failedStacks, Outcome: crossaccount.OutcomeClean},
	)
	recovered, notRechecked := matchAlerts(records, alertFacts{findings: findings, cells: &cells, inScope: map[string]bool{a: true, b: true},
		resolved: []history.Resolved{{Finding: stackFinding(b, "us-east-1", "StackSet-baseline-cccc")}}})
	if got := findings[0].AlertedAt; got == nil || !got.Equal(at) {
		t.Errorf("the instance's stack's finding: AlertedAt = %v, want %v", got, at)
	}
	if len(recovered) != 0 {
		t.Errorf("recovered = %+v, want none: no check read the instance", recovered)
	}
	if len(notRechecked) != 2 || notRechecked[0].StackName != "StackSet-baseline-bbbb" || notRechecked[1].StackName != "StackSet-baseline-cccc" {
		t.Fatalf("not re-checked = %+v, want the two instances in account %s", notRechecked, b)
	}
	for _, s := range notRechecked {
		if s.NotRechecked != "no check of the daily audit reads StackSet instances" || s.Status != "OUTDATED (FAILED)" || s.StackSet != "baseline" {
			t.Errorf("not re-checked %s: %q, status %q, StackSet %q; want why, the detailed status and the StackSet", s.StackName,
				s.NotRechecked, s.Status, s.StackSet)
		}
	}
}

// TestAlertWindowReachesBack: the window starts at the previous run unless it left out an account this run audits;
// then it reaches back to a run that audited it, so far as the history goes, and no further than maxAlertWindowRuns
// runs, past which it says what it did not read.
func TestAlertWindowReachesBack(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	org := history.Organization{ID: "o-window00001", ManagementAccountID: "111111111111", CallerAccountID: "111111111111"}
	const a, b, c = "111111111111", "222222222222", "333333333333"
	state := func(id string, at time.Time, accounts ...string) *history.State {
		st := &history.State{RunID: id, RunTime: at, AsOf: at.Truncate(24 * time.Hour), Organization: org, Accounts: accounts}
		for _, acc := range accounts {
			st.Cells = append(st.Cells, history.Cell{AccountID: acc, Region: "us-east-1", Check: failedStacks, Outcome: history.OutcomeClean})
		}
		return st
	}
	window := func(store history.Store, prev *history.State, accounts ...string) (time.Time, []runCover, string) {
		t.Helper()
		if err := store.Put(ctx, prev); err != nil {
			t.Fatal(err)
		}
		inScope := map[string]bool{}
		for _, acc := range accounts {
			inScope[acc] = true
		}
		cover := coverOf(prev)
		m := &recall{store: store, prevCover: &cover, lineage: history.Lineage{Organization: org, Accounts: accounts}}
		return (&Job{RunTime: now}).alertWindow(ctx, m, inScope)
	}
	put := func(store history.Store, states ...*history.State) {
		t.Helper()
		for _, st := range states {
			if err := store.Put(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Daily, narrowed to a, daily: the previous run audited every account; the window starts there.
	store := history.NewDirStore(t.TempDir(), history.DefaultLookback)
	put(store, state("d1", now.Add(-48*time.Hour), a, b), state("m1", now.Add(-30*time.Hour), a))
	if from, earlier, warn := window(store, state("d2", now.Add(-24*time.Hour), a, b), a, b); !from.Equal(now.Add(-24*time.Hour)) ||
		len(earlier) != 1 || warn != "" {
		t.Errorf("after a whole run: from %v, %d runs, warn %q; want the previous run's time alone", from, len(earlier), warn)
	}

	// Daily, narrowed to a: the window reaches back to the daily for b; the manual run spoke of a's.
	store = history.NewDirStore(t.TempDir(), history.DefaultLookback)
	put(store, state("d1", now.Add(-48*time.Hour), a, b))
	from, earlier, warn := window(store, state("m1", now.Add(-30*time.Hour), a), a, b)
	if !from.Equal(now.Add(-48*time.Hour)) || len(earlier) != 2 || warn != "" {
		t.Errorf("after a narrowed run: from %v, %d runs, warn %q; want the daily run's time, 2 runs", from, len(earlier), warn)
	}
	spokenA := alertRecord("e1", a, "us-east-1", "s", now.Add(-40*time.Hour))
	laterA := alertRecord("e2", a, "us-east-1", "s", now.Add(-29*time.Hour))
	leftB := alertRecord("e3", b, "us-east-1", "s", now.Add(-40*time.Hour))
	if !spokenOf(earlier, spokenA) || spokenOf(earlier, laterA) || spokenOf(earlier, leftB) {
		t.Errorf("spoken of: a before the manual run %v (want true), a after it %v, b before it %v (want false)",
			spokenOf(earlier, spokenA), spokenOf(earlier, laterA), spokenOf(earlier, leftB))
	}

	// No run before the previous one: the accounts it left out look back as far as the history does.
	store = history.NewDirStore(t.TempDir(), history.DefaultLookback)
	if from, _, warn := window(store, state("m1", now.Add(-24*time.Hour), a), a, b); !from.Equal(now.Add(-history.DefaultLookback)) || warn != "" {
		t.Errorf("first narrowed run: from %v, warn %q; want the lookback", from, warn)
	}

	// Run after run narrowed to a (or b new to the organization): past the bound, the window stops, and says so.
	store = history.NewDirStore(t.TempDir(), history.DefaultLookback)
	for i := range maxAlertWindowRuns + 2 {
		put(store, state(fmt.Sprintf("m%02d", i), now.Add(-time.Duration(100-i)*time.Hour), a))
	}
	if _, earlier, warn := window(store, state("m99", now.Add(-time.Hour), a), a, b); len(earlier) != maxAlertWindowRuns ||
		!strings.Contains(warn, "to 1 account none of the last 4 runs audited (runs narrowed to other accounts, or accounts new "+
			"to the organization) were not read") {
		t.Errorf("bound: %d runs, warn %q", len(earlier), warn)
	}
}

// TestMatchAlertsInstanceApartFromStack: a StackSet instance's alert and its stack's alert share a key, but only the
// stack's status is what the check reads. With the stack no longer failing (its cell clean), the stack's record is
// recovered, with the stack's status; the instance's is not re-checked, never recovered.
func TestMatchAlertsInstanceApartFromStack(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 14, 0, 0, time.UTC)
	const a = "111111111111"
	inst := alertRecord("e1", a, "us-east-1", "StackSet-base-aaaa", at)
	inst.Alert.Kind, inst.Alert.Status, inst.Alert.DetailedStatus = alert.KindInstance, "OUTDATED", "FAILED"
	inst.Alert.StackSetARN = "arn:aws:cloudformation:us-east-1:999999999999:stackset/base:0d0c1c3e-0000-4000-8000-000000000000"
	stack := alertRecord("e2", a, "us-east-1", "StackSet-base-aaaa", at.Add(time.Minute))
	cells := crossaccount.NewCells(
		crossaccount.Cell{AccountID: a, Region: "us-east-1", Check: failedStacks, Outcome: crossaccount.OutcomeClean})
	for _, records := range [][]alert.Record{{inst, stack}, {stack, inst}} {
		recovered, notRechecked := matchAlerts(records, alertFacts{cells: &cells, inScope: map[string]bool{a: true}})
		if len(recovered) != 1 || recovered[0].Status != "UPDATE_ROLLBACK_FAILED" || recovered[0].StackSet != "" ||
			!recovered[0].AlertedAt.Equal(at.Add(time.Minute)) {
			t.Errorf("recovered = %+v, want the stack's record alone, with the stack's status", recovered)
		}
		if len(notRechecked) != 1 || notRechecked[0].Status != "OUTDATED (FAILED)" || notRechecked[0].StackSet != "base" ||
			notRechecked[0].NotRechecked != "no check of the daily audit reads StackSet instances" {
			t.Errorf("not re-checked = %+v, want the instance's record", notRechecked)
		}
	}
}

// TestAlertRecordWrittenAfterTheRun: an alert published at 05:59:50 whose record was written (on a retry) at 06:12,
// after the 06:00 run read the records, is the next run's: windows and earlier runs go by when the record was
// written (RecordedAt; else the object's last change), and the digest still says when the alert went out.
func TestAlertRecordWrittenAfterTheRun(t *testing.T) {
	dir := t.TempDir()
	const a = "111111111111"
	run0, run1 := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	sent, written := run0.Add(-10*time.Second), run0.Add(12*time.Minute)
	write := func(rec alert.Record, modified time.Time) {
		t.Helper()
		body, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(alert.RecordKey("", rec.Alert.EventTime, rec.Alert.EventID)))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, modified, modified); err != nil {
			t.Fatal(err)
		}
	}
	retried := alertRecord("11111111-1111-4111-8111-111111111111", a, "us-east-1", "retried", sent)
	retried.RecordedAt = written
	write(retried, written)
	// Written before recorded_at was kept: the object's last change says when.
	old := alertRecord("22222222-2222-4222-8222-222222222222", a, "us-east-1", "old-writer", sent)
	old.RecordedAt = time.Time{}
	write(old, written)

	names := func(from, to time.Time) []string {
		t.Helper()
		got, err := readAlertRecords(context.Background(), dirAlertRecords{dir}, from, to)
		if err != nil || len(got.unread) > 0 {
			t.Fatalf("read: %v %v", err, got.unread)
		}
		var out []string
		for _, r := range got.records {
			out = append(out, r.Alert.StackName)
		}
		slices.Sort(out)
		return out
	}
	if got := names(run0.Add(-24*time.Hour), run0); len(got) != 0 {
		t.Errorf("the 06:00 run read %v, written after it", got)
	}
	got, err := readAlertRecords(context.Background(), dirAlertRecords{dir}, run0, run1)
	if err != nil {
		t.Fatal(err)
	}
	if n := names(run0, run1); strings.Join(n, ",") != "old-writer,retried" {
		t.Fatalf("the next run read %v, want both records", n)
	}
	// The 06:00 run audited the account but could not have seen them.
	earlier := []runCover{{id: "r0", time: run0, accounts: map[string]bool{a: true}}}
	for _, r := range got.records {
		if spokenOf(earlier, r) {
			t.Errorf("%s: taken for spoken of by the 06:00 run, which ran before it was written", r.Alert.StackName)
		}
	}
	cells := crossaccount.NewCells(crossaccount.Cell{AccountID: a, Region: "us-east-1", Check: failedStacks, Outcome: crossaccount.OutcomeClean})
	recovered, _ := matchAlerts(got.records, alertFacts{cells: &cells, inScope: map[string]bool{a: true}})
	res := &report.Result{Facts: report.Facts{RunID: "r1", AsOf: run1},
		Memory: report.Memory{Changes: &history.Changes{}, PreviousRunID: "r0", RecoveredSinceLastRun: recovered}}
	if text := report.Digest(res, report.MaxDigestBytes); !strings.Contains(text, "retried: UPDATE_ROLLBACK_FAILED, alerted at 2026-12-05 05:59 UTC") {
		t.Errorf("digest does not list the retried record with the alert's time:\n%s", text)
	}
}

// TestMatchAlertsNestedReasonNamesAStack: a nested stack's reason that reads like another entry of nested_failures
// ("...; prod-db UPDATE_FAILED: see ticket") does not fold a separately alerted prod-db into the root's finding: the
// check names its nested stacks apart (nested_stacks), and matching reads only that.
func TestMatchAlertsNestedReasonNamesAStack(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 14, 0, 0, time.UTC)
	const a = "111111111111"
	records := []alert.Record{alertRecord("e1", a, "us-east-1", "prod-db", at)}
	root := stackFinding(a, "us-east-1", "app")
	root.SetDetail("nested_failures", "app-Lock-1 UPDATE_FAILED: lock held; prod-db UPDATE_FAILED: see ticket")
	root.SetDetail("nested_stacks", "app-Lock-1")
	findings := []checks.Finding{root}
	cells := crossaccount.NewCells(
		crossaccount.Cell{AccountID: a, Region: "us-east-1", Check: failedStacks, Outcome: crossaccount.OutcomeFindings, Findings: 1})
	recovered, _ := matchAlerts(records, alertFacts{findings: findings, cells: &cells, inScope: map[string]bool{a: true}})
	if findings[0].AlertedAt != nil {
		t.Errorf("the root finding is stamped with prod-db's alert (%v)", findings[0].AlertedAt)
	}
	if len(recovered) != 1 || recovered[0].StackName != "prod-db" {
		t.Errorf("recovered = %+v, want prod-db, fixed and named by no nested stack", recovered)
	}
}

// TestAlertsAfterAnUnreadablePreviousRun: a previous run that is stored but cannot be read is not no previous run.
// The window would reach back as far as the history does and list weeks of alerted stacks as recovered "since the
// last run": the run lists neither recovered nor not re-checked stacks, says why, and still marks its findings.
func TestAlertsAfterAnUnreadablePreviousRun(t *testing.T) {
	dir := t.TempDir()
	const a = "111111111111"
	now := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	for i, stack := range []string{"fixed-weeks-ago", "still-failing"} {
		rec := alertRecord(fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), a, "us-east-1", stack, now.Add(-time.Duration(20-i)*24*time.Hour))
		body, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(alert.RecordKey("", rec.Alert.EventTime, rec.Alert.EventID)))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range map[string]struct {
		unreadable    string
		wantRecovered bool
	}{
		"absent":     {wantRecovered: true},
		"unreadable": {unreadable: "s3://bucket/state/2026/12/05/r.json.gz is unreadable: unreadable state: gzip: invalid header"},
	} {
		t.Run(name, func(t *testing.T) {
			fan := &crossaccount.Result{Findings: []checks.Finding{stackFinding(a, "us-east-1", "still-failing")},
				Cells: crossaccount.NewCells(crossaccount.Cell{AccountID: a, Region: "us-east-1", Check: failedStacks,
					Outcome: crossaccount.OutcomeFindings, Findings: 1})}
			j := &Job{s: config.Settings{History: config.History{StateDir: dir}}, log: slog.New(slog.DiscardHandler), RunTime: now, Checks: []checks.Check{checks.CloudFormationFailedStacks{}}}
			m := &recall{store: history.NewDirStore(t.TempDir(), history.DefaultLookback), run: history.Run{Accounts: []string{a}},
				prevUnreadable: c.unreadable}
			j.recallAlerts(context.Background(), fan, m)
			if fan.Findings[0].AlertedAt == nil {
				t.Errorf("the failing stack's finding is not marked alerted")
			}
			if got := len(m.recovered) == 1; got != c.wantRecovered || len(m.notRechecked) != 0 {
				t.Errorf("recovered %+v, not re-checked %+v; want recovered listed: %v", m.recovered, m.notRechecked, c.wantRecovered)
			}
			warned := strings.Contains(strings.Join(m.warnings, "\n"), "the previous run could not be read")
			if warned != (c.unreadable != "") || (warned && !strings.Contains(strings.Join(m.warnings, "\n"), "invalid header")) {
				t.Errorf("warnings %q; want one saying the previous run could not be read, and why, only when it could not", m.warnings)
			}
			if c.wantRecovered && (m.alertsFrom == nil || !m.alertsFrom.Equal(now.Add(-history.DefaultLookback))) {
				t.Errorf("alerts listed since %v, want the window's start", m.alertsFrom)
			}
		})
	}
}
