package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestOwnerTagsAreKeptInTheRunHistory: the first day reads every owner tag and stores them with the run; the next
// day, with no budget, reads none and still knows every owner; without history nothing is kept, so the same day
// knows none and says so in its warnings, and the audit goes on.
func TestOwnerTagsAreKeptInTheRunHistory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := func(runTime time.Time, budget int, noHistory bool) (*report.Result, int) {
		t.Helper()
		sim := startSim(t, awssim.Demo(demoAsOf))
		s := demoSettings()
		s.StateDir, s.RunTime, s.OwnerTagBudget, s.NoHistory = dir, runTime, budget, noHistory
		s.Regions = []string{awssim.DemoHomeRegion}
		out, err := audit.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s, audit.Options{Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return out.Result, sim.Calls()["organizations.ListTagsForResource"]
	}
	owners := func(r *report.Result) map[string]string {
		out := map[string]string{}
		for _, f := range r.Findings {
			out[f.AccountID] = f.Owner
		}
		return out
	}
	first, reads := run(yesterdayRun, config.Defaults().OwnerTagBudget, false)
	if reads != len(awssim.DemoOwners) {
		t.Errorf("first day: %d tag reads, want one per active account (%d)", reads, len(awssim.DemoOwners))
	}
	second, reads := run(todayRun, 0, false)
	if reads != 0 {
		t.Errorf("second day with no budget: %d tag reads", reads)
	}
	for id, owner := range owners(second) {
		if owner != awssim.DemoOwners[id] || owners(first)[id] != owner {
			t.Errorf("account %s: owner %q on the second day (first %q), want %q from the history", id, owner, owners(first)[id], awssim.DemoOwners[id])
		}
	}
	third, reads := run(todayRun.Add(time.Hour), 0, true)
	if reads != 0 {
		t.Errorf("without history and budget: %d tag reads", reads)
	}
	unknown := 0
	for id, owner := range owners(third) {
		if strings.HasPrefix(owner, awssim.RootName) {
			unknown++
		} else {
			t.Errorf("account %s owned by %q with no tag read and no history", id, owner)
		}
	}
	if unknown == 0 || !strings.Contains(strings.Join(third.Warnings, "\n"), "not read yet within this run's budget") {
		t.Errorf("warnings %q: the owners not known must be said", third.Warnings)
	}
}
