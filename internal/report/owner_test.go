package report

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
)

// ownedScenario is an organization of four owners and one account without an owner. Each account has one cell per
// check in one region; what each account holds follows from its index, so the expected counts below are derived.
type ownedAccount struct {
	id, name, owner   string
	critical, warning int  // findings
	failed            int  // failed cells (the first ones of its checks)
	skipped           bool // suspended: no cells
}

var ownedAccounts = []ownedAccount{
	{id: "111111111111", name: "alpha-prod", owner: "team-alpha@example.com", critical: 1, warning: 2},
	{id: "111111111112", name: "alpha-dev", owner: "team-alpha@example.com", warning: 1, failed: 1},
	{id: "222222222221", name: "beta-prod", owner: "Root/Workloads/Beta", critical: 2},
	{id: "333333333331", name: "gamma-only-failed", owner: "gamma", failed: 2},
	{id: "444444444441", name: "delta-clean", owner: "delta"},
	{id: "444444444442", name: "delta-closed", owner: "delta", skipped: true},
	{id: "555555555551", name: "nobody-owns", critical: 1},
}

func ownedResult(t *testing.T) *Result {
	t.Helper()
	cs := checks.All()
	fan := &crossaccount.Result{Scope: "organization"}
	n := 0
	for _, a := range ownedAccounts {
		if a.skipped {
			fan.Skipped = append(fan.Skipped, crossaccount.Skipped{AccountID: a.id, AccountName: a.name, Owner: a.owner, Reason: "SUSPENDED"})
			continue
		}
		fan.Accounts = append(fan.Accounts, crossaccount.Account{ID: a.id, Name: a.name, Owner: a.owner})
		findings := map[string]int{}
		add := func(sev checks.Severity, k int) {
			for range k {
				c := cs[n%len(cs)].Name()
				f := finding(n, sev, c)
				f.AccountID, f.AccountName, f.Owner = a.id, a.name, a.owner
				f.Change = string(history.ChangeNew)
				if n%2 == 1 {
					f.Change = string(history.ChangeOngoing)
				}
				fan.Findings = append(fan.Findings, f)
				findings[c]++
				n++
			}
		}
		add(checks.Critical, a.critical)
		add(checks.Warning, a.warning)
		for i, c := range cs {
			cell := crossaccount.Cell{AccountID: a.id, AccountName: a.name, Owner: a.owner, Region: "eu-west-1", Check: c.Name(),
				Outcome: crossaccount.OutcomeClean}
			switch {
			case i < a.failed:
				cell.Outcome, cell.Code, cell.Message = crossaccount.OutcomeError, "AccessDenied", "denied in "+a.name
				fan.Failures = append(fan.Failures, crossaccount.Failure{AccountID: a.id, AccountName: a.name, Owner: a.owner,
					Region: "eu-west-1", Check: c.Name(), Code: "AccessDenied", Message: "denied in " + a.name})
			case findings[c.Name()] > 0:
				cell.Outcome, cell.Findings = crossaccount.OutcomeFindings, findings[c.Name()]
			}
			fan.Cells.Add(cell)
		}
	}
	checks.SortFindings(fan.Findings)
	r := Build("run-owners", asOf, []string{"eu-west-1"}, cs, fan)
	// Memory: one resolved, one unverified and one suppressed finding per account, from the previous run (which did
	// not stamp owners: they go by account id), and an escalation and a rule per account.
	prev := asOf.Add(-24 * time.Hour)
	r.PreviousRunID, r.PreviousRunTime = "run-before", &prev
	for i, a := range ownedAccounts {
		old := finding(1000+i, checks.Warning, cs[0].Name())
		old.AccountID, old.AccountName = a.id, a.name
		r.Resolved = append(r.Resolved, history.Resolved{Finding: old, ResolvedReason: history.ReasonGone})
		r.Unverified = append(r.Unverified, history.Unverified{Finding: old, Code: "AccessDenied", Error: "denied in " + a.name})
		sup := old
		sup.Owner = a.owner
		r.Suppressed = append(r.Suppressed, SuppressedFinding{Finding: sup, Suppression: &history.Suppression{Reason: "accepted for " + a.name}})
		rule := history.Rule{Check: cs[0].Name(), AccountID: a.id, Reason: "rule for " + a.name, Owner: "someone"}
		r.SuppressionRules.ExpiringSoon = append(r.SuppressionRules.ExpiringSoon, rule)
		r.SuppressionRules.Stale = append(r.SuppressionRules.Stale, rule)
	}
	r.SuppressionRules.ExpiringSoon = append(r.SuppressionRules.ExpiringSoon, history.Rule{Check: cs[0].Name(), Reason: "organization-wide rule"})
	r.EscalatedFrom = map[history.Identity]checks.Severity{}
	for _, f := range r.Findings {
		r.EscalatedFrom[history.IdentityOf(f)] = checks.Notice
	}
	r.Changes = &Changes{New: 99, Resolved: len(r.Resolved), Unverified: len(r.Unverified), Suppressed: len(r.Suppressed)}
	r.Report = &Location{Bucket: "reports", Key: "orgaudit/x.xlsx", URL: "https://reports.s3.amazonaws.com/orgaudit/x.xlsx?X-Amz-Signature=secret",
		ConsoleURL: "https://console.aws.amazon.com/s3/object/reports?prefix=orgaudit/x.xlsx"}
	return r
}

func TestOwnersMostSevereFirst(t *testing.T) {
	t.Parallel()
	got := Owners(ownedResult(t))
	// beta has 2 critical, alpha 1 critical; gamma only failed cells; delta nothing (no digest); the account without
	// an owner is the organization's alone.
	want := []string{"Root/Workloads/Beta", "team-alpha@example.com", "gamma"}
	if !slices.Equal(got, want) {
		t.Fatalf("owners %q, want %q", got, want)
	}
}

func TestForOwnerHoldsOnlyTheOwnersAccounts(t *testing.T) {
	t.Parallel()
	res := ownedResult(t)
	before, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	cells := len(checks.All())
	var sumCells, sumFindings int
	for _, owner := range []string{"team-alpha@example.com", "Root/Workloads/Beta", "gamma", "delta"} {
		var accts []ownedAccount
		var crit, warn, failedCells, inScope, skipped, audited, partial, failed int
		ids := map[string]bool{}
		for _, a := range ownedAccounts {
			if a.owner != owner {
				continue
			}
			accts = append(accts, a)
			ids[a.id] = true
			if a.skipped {
				skipped++
				continue
			}
			inScope++
			crit += a.critical
			warn += a.warning
			failedCells += a.failed
			switch {
			case a.failed == 0:
				audited++
			case a.failed < cells:
				partial++
			default:
				failed++
			}
		}
		r := ForOwner(res, owner)
		c, w, _ := r.Totals()
		if r.Owner != owner || c != crit || w != warn || len(r.Findings) != crit+warn {
			t.Errorf("%s: owner %q, %d critical %d warning (%d findings), want %d and %d", owner, r.Owner, c, w, len(r.Findings), crit, warn)
		}
		wantAccounts := AccountCounts{Total: inScope, Audited: audited, Partial: partial, Failed: failed, Skipped: skipped}
		if r.Accounts != wantAccounts {
			t.Errorf("%s: accounts %+v, want %+v", owner, r.Accounts, wantAccounts)
		}
		if r.Coverage.Cells != inScope*cells || r.Coverage.Errors != failedCells || len(r.Errors) != failedCells {
			t.Errorf("%s: coverage %+v, %d errors; want %d cells, %d failed", owner, r.Coverage, len(r.Errors), inScope*cells, failedCells)
		}
		// The previous run's findings go by account: one each per account of the owner, skipped ones included.
		if len(r.Resolved) != len(accts) || len(r.Unverified) != len(accts) || len(r.Suppressed) != len(accts) {
			t.Errorf("%s: %d resolved %d unverified %d suppressed, want %d each", owner, len(r.Resolved), len(r.Unverified), len(r.Suppressed), len(accts))
		}
		wantChanges := Changes{Resolved: len(accts), Unverified: len(accts), Suppressed: len(accts)}
		for _, f := range r.Findings {
			if f.Change == string(history.ChangeNew) {
				wantChanges.New++
			} else {
				wantChanges.Ongoing++
			}
		}
		if r.Changes == nil || *r.Changes != wantChanges || wantChanges.New+wantChanges.Ongoing != crit+warn {
			t.Errorf("%s: changes %+v, want %+v", owner, r.Changes, wantChanges)
		}
		if len(r.EscalatedFrom) != crit+warn {
			t.Errorf("%s: %d escalations, want %d", owner, len(r.EscalatedFrom), crit+warn)
		}
		// Its accounts' rules and the rule naming no account.
		if len(r.SuppressionRules.ExpiringSoon) != len(accts)+1 || len(r.SuppressionRules.Stale) != len(accts) {
			t.Errorf("%s: rules %+v", owner, r.SuppressionRules)
		}
		if r.Report == nil || r.Report.URL != "" || r.Report.ConsoleURL == "" {
			t.Errorf("%s: report location %+v: the presigned link opens every owner's workbook", owner, r.Report)
		}
		sumCells += r.Coverage.Cells
		sumFindings += len(r.Findings)

		// Nothing of another owner's accounts, in the JSON or in the digest.
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		digest := Digest(r, 0)
		for _, other := range ownedAccounts {
			if ids[other.id] {
				continue
			}
			for _, text := range []string{other.id, other.name} {
				if strings.Contains(string(b), text) || strings.Contains(digest, text) {
					t.Errorf("%s: %s of another owner leaks", owner, text)
				}
			}
		}
		if strings.Contains(digest, "X-Amz-Signature") || !strings.Contains(digest, "Owner: "+Inline(owner)) {
			t.Errorf("%s: digest:\n%s", owner, digest)
		}
		for _, a := range accts {
			if !a.skipped && !strings.Contains(digest, a.id) && a.critical+a.warning+a.failed > 0 {
				t.Errorf("%s: digest leaves out its own account %s:\n%s", owner, a.id, digest)
			}
		}
	}
	// The owners' results and the account without an owner make up the organization's.
	nobody := ownedAccounts[len(ownedAccounts)-1]
	if sumCells+cells != res.Coverage.Cells || sumFindings+nobody.critical != len(res.Findings) {
		t.Errorf("owners hold %d cells and %d findings; the organization %d and %d", sumCells, sumFindings, res.Coverage.Cells, len(res.Findings))
	}
	after, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Error("ForOwner changed the organization's result")
	}
}

func TestForOwnerWithoutAccountsOrHistory(t *testing.T) {
	t.Parallel()
	res := ownedResult(t)
	res.Changes, res.AccountList = nil, nil
	r := ForOwner(res, "Root/Workloads/Beta")
	if r.Changes != nil {
		t.Errorf("changes %+v on a run without history", r.Changes)
	}
	// Without the account list the accounts are those the cells name.
	if r.Accounts.Total != 1 || r.Accounts.Audited != 1 {
		t.Errorf("accounts %+v", r.Accounts)
	}
	none := ForOwner(res, "nobody@example.com")
	if len(none.Findings) != 0 || none.Accounts.Total != 0 || none.Coverage.Cells != 0 || none.Findings == nil || none.Errors == nil {
		t.Errorf("an unknown owner: %+v", none)
	}
	if !reflect.DeepEqual(Owners(&Result{}), []string{}) {
		t.Errorf("owners of an empty result: %q", Owners(&Result{}))
	}
}

// TestOwnerDigestCountsOnlyItsOwnUnknownTags: the run's warning counts every account whose owner tag is not known; an
// owner's digest says only its own accounts' (an unreadable tag, a tag left for a later run), and nothing when all of
// its tags were read. The run's other warnings stay in every digest.
func TestOwnerDigestCountsOnlyItsOwnUnknownTags(t *testing.T) {
	t.Parallel()
	fan := &crossaccount.Result{Scope: "organization", OwnerStats: crossaccount.OwnerStats{Unknown: 3, OverBudget: 1}}
	for _, a := range []crossaccount.Account{
		{ID: "111111111111", Owner: "team-a", OU: "Root/A"},
		{ID: "222222222222", Owner: "Root/B", OU: "Root/B", OwnerUnknown: crossaccount.OwnerUnreadable},
		{ID: "333333333333", Owner: "Root/B", OU: "Root/B", OwnerUnknown: crossaccount.OwnerUnread},
		{ID: "444444444444", Owner: "Root/C", OU: "Root/C", OwnerUnknown: crossaccount.OwnerUnreadable},
	} {
		fan.Accounts = append(fan.Accounts, a)
		fan.Cells.Add(crossaccount.Cell{AccountID: a.ID, Owner: a.Owner, OU: a.OU, Region: "eu-west-1",
			Check: checks.All()[0].Name(), Outcome: crossaccount.OutcomeError, Code: "AccessDenied"})
	}
	r := Build("run-warnings", asOf, []string{"eu-west-1"}, checks.All(), fan)
	r.Warnings = append(r.Warnings, "the suppressions file could not be read")
	runWide := "owner tags of 3 accounts could not be read (2 unreadable, 1 not read yet within this run's budget): their OU path stands as their owner"
	if !slices.Contains(r.Warnings, runWide) {
		t.Fatalf("run warnings %q, want %q", r.Warnings, runWide)
	}
	for owner, want := range map[string][]string{
		"team-a": {"the suppressions file could not be read"},
		"Root/B": {"the suppressions file could not be read",
			"owner tags of 2 accounts could not be read (1 unreadable, 1 not read yet within this run's budget): their OU path stands as their owner"},
		"Root/C": {"the suppressions file could not be read",
			"owner tags of 1 account could not be read (1 unreadable): their OU path stands as their owner"},
	} {
		got := ForOwner(r, owner)
		if !slices.Equal(got.Warnings, want) {
			t.Errorf("%s: warnings %q, want %q", owner, got.Warnings, want)
		}
		if d := Digest(got, MaxDigestBytes); strings.Contains(d, "owner tags of 3") {
			t.Errorf("%s's digest counts other owners' tags:\n%s", owner, d)
		}
	}
}
