package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestHistoryOfAnotherOrganizationIsNotThePreviousRun audits two organizations from one state directory, as two
// CLI runs from one working directory do: the second organization's run must not compare with the first's state,
// which would call every finding of the first organization's other accounts fixed ("no longer in scope").
func TestHistoryOfAnotherOrganizationIsNotThePreviousRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	orgA := awssim.Demo(demoAsOf)
	first := runDay(t, orgA, yesterdayRun, dir, "")
	if len(first.Findings) == 0 {
		t.Fatal("the first organization's run found nothing: the scenario proves nothing")
	}
	// Another organization whose management account is the same caller (so the same settings reach it), holding
	// none of the first organization's member accounts.
	orgB := awssim.Demo(demoAsOf)
	orgB.ID = "o-second0rgb2"
	var kept []*awssim.Account
	for _, a := range orgB.Accounts {
		if a.ID == orgB.ManagementAccountID {
			kept = append(kept, a)
		}
	}
	orgB.Accounts = kept
	res := runDay(t, orgB, todayRun, dir, "")
	if len(res.Resolved) > 0 {
		t.Errorf("organization B's run resolved %d of organization A's findings, e.g. %s in %s", len(res.Resolved),
			res.Resolved[0].Finding.ResourceID, res.Resolved[0].Finding.AccountID)
	}
	if res.PreviousRunID != "" {
		t.Errorf("organization B's previous run is %q, organization A's", res.PreviousRunID)
	}
	if want := "the stored run is " + orgA.ID + "'s"; !strings.Contains(res.NoPrevious, want) {
		t.Errorf("no previous run %q, want it to say %q", res.NoPrevious, want)
	}
}

// TestDefaultStateDirKeepsOrganizationsApart: under the CLI's default directory each organization's runs go to its
// own directory, so organization B's first run is a first run, and organization A's next run still compares with
// A's.
func TestDefaultStateDirKeepsOrganizationsApart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	orgA := awssim.Demo(demoAsOf)
	orgB := awssim.Demo(demoAsOf)
	orgB.ID = "o-second0rgb2"
	orgB.Accounts = orgB.Accounts[:1]
	run := func(org *awssim.Organization, at time.Time) *report.Result {
		t.Helper()
		sim := startSim(t, org)
		s := demoSettings()
		s.AsOf = time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
		s.RunTime, s.StateDir, s.StateDirByOrganization = at, dir, true
		out, err := audit.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s,
			audit.Options{Logger: quietLogger(), Now: func() time.Time { return at.Add(time.Minute) }})
		if err != nil {
			t.Fatal(err)
		}
		return out.Result
	}
	first := run(orgA, yesterdayRun)
	b := run(orgB, todayRun.Add(-time.Hour))
	if b.PreviousRunID != "" || len(b.Resolved) > 0 || !strings.Contains(b.NoPrevious, filepath.Join(dir, orgB.ID)) {
		t.Errorf("B: previous %q, %d resolved, no previous %q; want a first run in B's own directory", b.PreviousRunID, len(b.Resolved), b.NoPrevious)
	}
	a := run(orgA, todayRun)
	if a.PreviousRunID != first.RunID {
		t.Errorf("A's second run compared with %q (%s), want A's first %q", a.PreviousRunID, a.NoPrevious, first.RunID)
	}
	for _, org := range []string{orgA.ID, orgB.ID} {
		if _, err := os.Stat(filepath.Join(dir, org, "history")); err != nil {
			t.Errorf("no history directory of %s: %v", org, err)
		}
	}
}

// TestBadHistoryEntryFallsBackWithAWarning: an unreadable entry between two runs is passed over for the run before
// it, and the result says so among its warnings (which the digest shows), rather than the run becoming a first run
// that calls every finding new.
func TestBadHistoryEntryFallsBackWithAWarning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := runDay(t, awssim.Demo(demoAsOf), yesterdayRun.Add(-24*time.Hour), dir, "")
	p := filepath.Join(dir, filepath.FromSlash(history.Key(yesterdayRun, "", "broken")))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("not gzip"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runDay(t, awssim.Demo(demoAsOf), todayRun, dir, "")
	if res.PreviousRunID != first.RunID || res.NoPrevious != "" {
		t.Fatalf("previous %q (no previous %q), want %q, the run before the broken entry", res.PreviousRunID, res.NoPrevious, first.RunID)
	}
	found := false
	for _, w := range res.Warnings {
		found = found || strings.Contains(w, "broken.json.gz") && strings.Contains(w, "compared with run "+first.RunID)
	}
	if !found {
		t.Errorf("no warning names the entry passed over: %q", res.Warnings)
	}
	if res.Changes == nil || res.Changes.Ongoing == 0 {
		t.Errorf("changes %+v: the findings the earlier run saw are not ongoing", res.Changes)
	}
}
