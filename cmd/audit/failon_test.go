package main

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestFailOnMeetsEachCondition: each -fail-on value against results that hold one kind of trouble each: a severity
// fails the run for findings at or above it only, incomplete for an unaudited cell or account only.
func TestFailOnMeetsEachCondition(t *testing.T) {
	t.Parallel()
	results := map[string]*report.Result{
		"clean":      {},
		"critical":   {Facts: report.Facts{Counts: []report.CheckCounts{{Check: "a"}, {Check: "b", Critical: 1}}}},
		"warning":    {Facts: report.Facts{Counts: []report.CheckCounts{{Check: "a", Warning: 2}}}},
		"notice":     {Facts: report.Facts{Counts: []report.CheckCounts{{Check: "a", Notice: 1}}}},
		"partial":    {Facts: report.Facts{Partial: true}},
		"failed":     {Facts: report.Facts{Accounts: report.AccountCounts{Total: 2, Audited: 1, Failed: 1}}},
		"cell-error": {Facts: report.Facts{Coverage: report.CoverageCounts{Cells: 4, Errors: 1}}},
	}
	trips := map[string][]string{
		"":                    nil,
		"critical":            {"critical"},
		"warning":             {"critical", "warning"},
		"notice":              {"critical", "warning", "notice"},
		"incomplete":          {"partial", "failed", "cell-error"},
		"warning,incomplete":  {"critical", "warning", "partial", "failed", "cell-error"},
		" notice, incomplete": {"critical", "warning", "notice", "partial", "failed", "cell-error"},
	}
	for value, want := range trips {
		f, err := parseFailOn(value)
		if err != nil {
			t.Fatalf("%q: %v", value, err)
		}
		for name, r := range results {
			var stderr bytes.Buffer
			code := failOnExit(r, f, &stderr)
			if tripped := slices.Contains(want, name); tripped != (code == exitFailOn) || (tripped && !strings.Contains(stderr.String(), "-fail-on")) {
				t.Errorf("-fail-on %q on a %s result: exit %d, stderr %q", value, name, code, stderr.String())
			}
		}
	}
	for _, bad := range []string{"error", "Critical", "critical,warning", "high"} {
		if _, err := parseFailOn(bad); err == nil {
			t.Errorf("-fail-on %q accepted", bad)
		}
	}
}

// TestFailOnInvalidValueIsAUsageError: a value -fail-on does not take is exit 2, naming the flag and what it takes,
// before any audit.
func TestFailOnInvalidValueIsAUsageError(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"run", "-fail-on", "high"}, {"demo", "-fail-on", "errors"}} {
		var stdout, stderr bytes.Buffer
		code := runCLI(context.Background(), args, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), "-fail-on") || !strings.Contains(stderr.String(), failOnValues()) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

// onlyAt finds an account, region and check of the demo whose most urgent finding is of severity sev: narrowed to
// it, a run's most urgent open finding is sev.
func onlyAt(t *testing.T, sev checks.Severity) (account, region, check string) {
	t.Helper()
	worst := map[[3]string]checks.Severity{}
	for c, byKey := range awssim.DemoFindings {
		for key, s := range byKey {
			parts := strings.SplitN(key, "/", 3)
			k := [3]string{parts[0], parts[1], c}
			if cur, ok := worst[k]; !ok || checks.Severity(s).Rank() < cur.Rank() {
				worst[k] = checks.Severity(s)
			}
		}
	}
	var keys [][3]string
	for k, s := range worst {
		// A global check (savings plans) is not narrowed by -regions: leave it out.
		if s == sev && k[0] != awssim.DemoMissingRole && k[1] != "global" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		t.Fatalf("the demo has no account, region and check whose worst finding is %s", sev)
	}
	slices.SortFunc(keys, func(a, b [3]string) int { return strings.Compare(a[0]+a[1]+a[2], b[0]+b[1]+b[2]) })
	return keys[0][0], keys[0][1], keys[0][2]
}

// TestFailOnExitCodesAgainstTheSimulator: `audit run -fail-on` on the demo organization, narrowed to one account,
// region and check whose worst open finding is known: exit 3 at or above it, 0 when stricter; incomplete exits 3 for
// the account without the audit role and 0 without it; without -fail-on, the exit code is the documented 0.
func TestFailOnExitCodesAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	_, env := demoChildEnv(t)
	run := func(t *testing.T, accounts, region, check string, extra ...string) (string, int) {
		args := append([]string{"run", "-accounts", accounts, "-regions", region, "-checks", check, "-external-id", awssim.DemoExternalID,
			"-as-of", "2026-11-22", "-dry-run", "-no-history", "-out", filepath.Join(t.TempDir(), "r.xlsx")}, extra...)
		_, stderr, code := runMain(t, env, args...)
		return stderr, code
	}
	stricter := map[checks.Severity]checks.Severity{checks.Warning: checks.Critical, checks.Notice: checks.Warning}
	for _, sev := range checks.Severities {
		t.Run(string(sev), func(t *testing.T) {
			t.Parallel()
			a, r, c := onlyAt(t, sev)
			if stderr, code := run(t, a, r, c, "-fail-on", string(sev)); code != exitFailOn || !strings.Contains(stderr, "at or above "+string(sev)) {
				t.Errorf("%s/%s/%s -fail-on %s: exit %d, want %d\n%s", a, r, c, sev, code, exitFailOn, stderr)
			}
			if s, ok := stricter[sev]; ok {
				if stderr, code := run(t, a, r, c, "-fail-on", string(s)); code != exitOK {
					t.Errorf("%s/%s/%s -fail-on %s: exit %d, want 0\n%s", a, r, c, s, code, stderr)
				}
			}
			// A run with findings that audited all it was asked to is not incomplete.
			if stderr, code := run(t, a, r, c, "-fail-on", "incomplete"); code != exitOK {
				t.Errorf("%s/%s/%s -fail-on incomplete: exit %d, want 0\n%s", a, r, c, code, stderr)
			}
		})
	}
	t.Run("incomplete", func(t *testing.T) {
		t.Parallel()
		a, r, c := onlyAt(t, checks.Notice)
		accounts := a + "," + awssim.DemoMissingRole
		if stderr, code := run(t, accounts, r, c, "-fail-on", "incomplete"); code != exitFailOn || !strings.Contains(stderr, "incomplete") {
			t.Errorf("-fail-on incomplete with %s: exit %d, want %d\n%s", awssim.DemoMissingRole, code, exitFailOn, stderr)
		}
		if stderr, code := run(t, accounts, r, c); code != exitOK {
			t.Errorf("the same partial run without -fail-on: exit %d, want 0\n%s", code, stderr)
		}
	})
}
