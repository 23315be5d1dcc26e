package report

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
)

// memory is a three-day story of a small organization, run through the real history.Diff, with the result filled
// the way the job fills it. Its want* fields name what each section must show, by resource id; tests derive every
// expected figure from them.
type memory struct {
	r                                                         *Result
	days                                                      [3]time.Time // the runs: first, previous, today
	wantNew, wantOngoing, wantFixed, wantGone, wantSuppressed []string
	wantEscalated                                             map[string]checks.Severity // resource id: from
	wantUnverified                                            map[string]string          // resource id: this run's code
	ongoingAge                                                int
	expiredRule, expiringRule, staleRule                      history.Rule
}

const (
	prodID, prodName       = "111111111111", "prod"
	devID, devName         = "222222222222", "dev"
	leftID, leftName       = "333333333333", "acquired-then-sold"
	failingID, failingName = "444444444444", "legacy"
)

const (
	stackCheck = "cloudformation-failed-stacks"
	ec2Check   = "ec2-reserved-instances"
	scCheck    = "service-catalog-products"
)

func memFinding(check string, sev checks.Severity, acct, name, region, id string) checks.Finding {
	f := checks.Finding{Check: check, Severity: sev, AccountID: acct, AccountName: name, Region: region, ResourceType: check, ResourceID: id,
		Status: "UPDATE_ROLLBACK_FAILED", Reason: "reason of " + id}
	if check == ec2Check {
		d := 20
		if sev == checks.Critical {
			d = 5
		}
		end := asOf.AddDate(0, 0, d)
		f.Status, f.DaysLeft, f.ExpiresAt = "active", &d, &end
		f.SetDetail("instance_type", "m6i.large")
	}
	return f
}

func memoryScenario(t *testing.T) memory {
	t.Helper()
	m := memory{days: [3]time.Time{asOf.AddDate(0, 0, -12), asOf.AddDate(0, 0, -1), asOf}, ongoingAge: 12}
	ongoing := memFinding(stackCheck, checks.Critical, prodID, prodName, "eu-west-1", "stack-ongoing")
	escalatesBefore := memFinding(ec2Check, checks.Warning, prodID, prodName, "eu-west-1", "ri-escalates")
	escalatesNow := memFinding(ec2Check, checks.Critical, prodID, prodName, "eu-west-1", "ri-escalates")
	renewed := memFinding(ec2Check, checks.Notice, devID, devName, "eu-west-1", "ri-renewed")
	leftOrg := memFinding(stackCheck, checks.Warning, leftID, leftName, "eu-west-1", "stack-left-org")
	cellFails := memFinding(scCheck, checks.Critical, failingID, failingName, "us-east-1", "pp-cell-fails")
	newCritical := memFinding(stackCheck, checks.Critical, devID, devName, "eu-west-1", "stack-new-critical")
	newWarning := memFinding(ec2Check, checks.Warning, devID, devName, "eu-west-1", "ri-new-warning")
	suppressed := memFinding(stackCheck, checks.Notice, devID, devName, "us-east-1", "stack-suppressed")
	m.wantNew = []string{newCritical.ResourceID, newWarning.ResourceID}
	m.wantEscalated = map[string]checks.Severity{escalatesNow.ResourceID: escalatesBefore.Severity}
	m.wantOngoing = []string{ongoing.ResourceID}
	m.wantFixed = []string{renewed.ResourceID}
	m.wantGone = []string{leftOrg.ResourceID}
	m.wantUnverified = map[string]string{cellFails.ResourceID: "AccessDenied"}
	m.wantSuppressed = []string{suppressed.ResourceID}

	rules, err := history.ParseSuppressions([]byte(fmt.Sprintf(`suppressions:
  - check: %s
    resource_id: stack-supp*
    reason: accepted until the migration, CHG-77
    owner: platform@example.com
    expires: %s
  - check: %s
    account_id: "%s"
    reason: old waiver
    owner: finops@example.com
    expires: %s
  - check: %s
    resource_id: pp-nothing-matches
    reason: kept just in case
    owner: sre@example.com
    expires: %s
`, stackCheck, asOf.AddDate(0, 0, 3).Format(time.DateOnly), ec2Check, prodID, asOf.AddDate(0, 0, -1).Format(time.DateOnly),
		scCheck, asOf.AddDate(0, 2, 0).Format(time.DateOnly))), asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.expiringRule, m.expiredRule, m.staleRule = rules.Rules[0], rules.Rules[1], rules.Rules[2]

	cellsOf := func(fs []checks.Finding, extra ...crossaccount.Cell) []crossaccount.Cell {
		var cells []crossaccount.Cell
		for _, f := range fs {
			cells = append(cells, crossaccount.Cell{AccountID: f.AccountID, AccountName: f.AccountName, Region: f.Region, Check: f.Check,
				Outcome: crossaccount.OutcomeFindings, Findings: 1})
		}
		return append(cells, extra...)
	}
	historyCells := func(cs []crossaccount.Cell) []history.Cell {
		var out []history.Cell
		for _, c := range cs {
			out = append(out, history.Cell{AccountID: c.AccountID, Region: c.Region, Check: c.Check, Outcome: history.Outcome(c.Outcome), Code: c.Code, Message: c.Message})
		}
		return out
	}
	run := func(i int, fs []checks.Finding, cells []crossaccount.Cell, accounts []string, sup *history.Suppressions) history.Run {
		// Each run lists the organization whole, every account of it active: one missing from it left.
		listed := map[string]string{}
		for _, a := range accounts {
			listed[a] = "ACTIVE"
		}
		return history.Run{ID: fmt.Sprintf("run-%d", i), Time: m.days[i], AsOf: m.days[i], Findings: fs, Cells: historyCells(cells),
			Accounts: accounts, Scope: history.Scope{ListedWhole: true, Listed: listed}, Suppressions: sup}
	}
	all := []string{prodID, devID, leftID, failingID}
	r0 := run(0, []checks.Finding{ongoing}, cellsOf([]checks.Finding{ongoing}), all, nil)
	s0 := history.NewState(r0, history.Diff(nil, r0))
	before := []checks.Finding{ongoing, escalatesBefore, renewed, leftOrg, cellFails}
	r1 := run(1, before, cellsOf(before), all, nil)
	s1 := history.NewState(r1, history.Diff(s0, r1))

	today := []checks.Finding{ongoing, escalatesNow, newCritical, newWarning, suppressed}
	failure := crossaccount.Failure{AccountID: failingID, AccountName: failingName, Region: "us-east-1", Check: scCheck, Code: "AccessDenied",
		Message: "User is not authorized to perform: servicecatalog:SearchProvisionedProducts"}
	cells := cellsOf(today,
		crossaccount.Cell{AccountID: devID, AccountName: devName, Region: "eu-west-1", Check: ec2Check, Outcome: crossaccount.OutcomeClean},
		crossaccount.Cell{AccountID: failingID, AccountName: failingName, Region: "us-east-1", Check: scCheck, Outcome: crossaccount.OutcomeError,
			Code: failure.Code, Message: failure.Message})
	todayAccounts := []string{prodID, devID, failingID} // the acquired account left the organization
	r2 := run(2, today, cells, todayAccounts, rules)
	delta := history.Diff(s1, r2)
	s2 := history.NewState(r2, delta)

	r := remember(t, delta, cells, []crossaccount.Failure{failure})
	r.Trend = []history.Summary{s0.Summary(), s1.Summary(), s2.Summary()}
	m.r = r
	return m
}

// remember builds the result of a run from its diff the way the job does: suppressed findings apart, every other one
// with its memory, the diff's lists and counts.
func remember(t *testing.T, delta history.Delta, cells []crossaccount.Cell, failures []crossaccount.Failure) *Result {
	t.Helper()
	var open []checks.Finding
	var suppressed []SuppressedFinding
	escalatedFrom := map[history.Identity]checks.Severity{}
	for _, tr := range delta.Findings {
		f := tr.Finding
		first, age := tr.FirstSeen, tr.AgeDays
		f.Change, f.FirstSeen, f.AgeDays = string(tr.Change), &first, &age
		if tr.Change == history.ChangeEscalated {
			escalatedFrom[history.IdentityOf(f)] = tr.PreviousSeverity
		}
		if tr.Suppression != nil {
			suppressed = append(suppressed, SuppressedFinding{Finding: f, Suppression: tr.Suppression})
			continue
		}
		open = append(open, f)
	}
	checks.SortFindings(open)
	r := Build("run-2", asOf, []string{"eu-west-1", "us-east-1"}, checks.All(), fanOut(open, cells, failures))
	if delta.PreviousRunID != "" {
		prev := delta.PreviousRunTime
		r.PreviousRunID, r.PreviousRunTime = delta.PreviousRunID, &prev
	} else {
		r.NoPrevious = "no previous run to compare with: no run stored before this one"
	}
	ch := delta.Changes
	r.Changes = &ch
	r.Resolved, r.Unverified, r.Suppressed, r.EscalatedFrom = delta.Resolved, delta.Unverified, suppressed, escalatedFrom
	r.SuppressionRules = delta.Suppressions
	return r
}

func TestMemoryScenarioIsWhatItSays(t *testing.T) {
	t.Parallel()
	m := memoryScenario(t)
	ch := m.r.Changes
	if ch.New != len(m.wantNew) || ch.Escalated != len(m.wantEscalated) || ch.Ongoing != len(m.wantOngoing) ||
		ch.Resolved != len(m.wantFixed)+len(m.wantGone) || ch.Unverified != len(m.wantUnverified) || ch.Suppressed != len(m.wantSuppressed) {
		t.Fatalf("the diff of the scenario is %+v; the scenario says otherwise", *ch)
	}
	rep := m.r.SuppressionRules
	if len(rep.ExpiredSinceLast) != 1 || rep.ExpiredSinceLast[0].Line != m.expiredRule.Line || len(rep.ExpiringSoon) != 1 ||
		rep.ExpiringSoon[0].Line != m.expiringRule.Line || len(rep.Stale) != 1 || rep.Stale[0].Line != m.staleRule.Line {
		t.Fatalf("suppression report %+v", rep)
	}
}

func TestSubjectLeadsWithChange(t *testing.T) {
	t.Parallel()
	m := memoryScenario(t)
	r := m.r
	crit, warn, notice := r.Totals()
	changes := fmt.Sprintf("orgaudit %s: %d new, %d worse, %d fixed, %d unverified | %d critical, %d warning", asOf.Format(time.DateOnly),
		len(m.wantNew), len(m.wantEscalated), len(m.wantFixed)+len(m.wantGone), len(m.wantUnverified), crit, warn)
	coverage := fmt.Sprintf(" | %d/%d accounts", r.Accounts.Audited, r.Accounts.Total)
	// Every piece together is over SNS's limit, so the notice count, which matters least, is left out.
	if full := changes + fmt.Sprintf(", %d notice", notice) + coverage; len(full) < 100 {
		t.Fatalf("the scenario's full subject %q fits; this test wants one that does not", full)
	}
	// The scenario's failed cell makes the run partial; as complete, only the notice count is left out.
	complete := *r
	complete.Partial, complete.PartialReasons = false, nil
	if got, want := Subject(&complete), changes+coverage; got != want {
		t.Errorf("subject\n got %q\nwant %q", got, want)
	}
	// PARTIAL always stays: the unverified count, which matters least after the notice count, makes room for it.
	partial := "PARTIAL " + strings.Replace(changes, fmt.Sprintf(", %d unverified", len(m.wantUnverified)), "", 1) + coverage
	if got := Subject(r); !r.Partial || got != partial {
		t.Errorf("partial subject\n got %q\nwant %q", got, partial)
	}
	// Suppressed findings are not counted: the scenario's only notice is suppressed.
	if notice != 0 || len(m.wantSuppressed) != 1 {
		t.Errorf("the suppressed notice is counted: %d notices", notice)
	}

	// Nothing escalated or unverified: those pieces are left out rather than shown as zero; new and fixed stay.
	quiet := complete
	quiet.Changes = &Changes{New: 0, Resolved: 0, Ongoing: 3}
	if got, want := Subject(&quiet), fmt.Sprintf("orgaudit %s: 0 new, 0 fixed | %d critical, %d warning, %d notice | %d/%d accounts",
		asOf.Format(time.DateOnly), crit, warn, notice, r.Accounts.Audited, r.Accounts.Total); got != want {
		t.Errorf("quiet subject\n got %q\nwant %q", got, want)
	}
}

// TestSubjectWithoutAPreviousRun: a first run's findings are all new to the diff, and the subject must not say so.
func TestSubjectWithoutAPreviousRun(t *testing.T) {
	t.Parallel()
	f := memFinding(stackCheck, checks.Critical, prodID, prodName, "eu-west-1", "stack-1")
	cells := []crossaccount.Cell{{AccountID: prodID, Region: "eu-west-1", Check: stackCheck, Outcome: crossaccount.OutcomeFindings, Findings: 1}}
	cur := history.Run{ID: "run-1", Time: asOf, AsOf: asOf, Findings: []checks.Finding{f}, Accounts: []string{prodID},
		Cells: []history.Cell{{AccountID: prodID, Region: "eu-west-1", Check: stackCheck, Outcome: history.OutcomeFindings}}}
	first := remember(t, history.Diff(nil, cur), cells, nil)
	if first.Findings[0].Change != string(history.ChangeNew) {
		t.Fatalf("the diff calls a first run's finding %q; this test is about that", first.Findings[0].Change)
	}
	if got, want := Subject(first), "orgaudit 2026-11-22: no previous run | 1 critical, 0 warning, 0 notice | 1/1 accounts"; got != want {
		t.Errorf("first run's subject\n got %q\nwant %q", got, want)
	}
	noHistory := Build("run-1", asOf, []string{"eu-west-1"}, checks.All(), fanOut([]checks.Finding{f}, cells, nil))
	if got, want := Subject(noHistory), "orgaudit 2026-11-22: 1 critical, 0 warning, 0 notice | 1/1 accounts"; got != want {
		t.Errorf("subject without history\n got %q\nwant %q", got, want)
	}
}

// TestSubjectWorstCase: PARTIAL, seven-digit counts everywhere (a million findings) and a hundred thousand accounts
// still fit in SNS's 100 characters with the counts that matter; past that, it is still under 100 and ASCII.
func TestSubjectWorstCase(t *testing.T) {
	t.Parallel()
	const big = 9_999_999
	r := &Result{Facts: Facts{AsOf: asOf, Partial: true, Counts: []CheckCounts{{Critical: big, Warning: big, Notice: big}},
		Accounts: AccountCounts{Audited: 99_999, Total: 100_000}},
		Memory: Memory{PreviousRunID: "run-0", Changes: &Changes{New: big, Escalated: big, Resolved: big, Unverified: big}}}
	s := Subject(r)
	want := fmt.Sprintf("PARTIAL orgaudit 2026-11-22: %d new, %d fixed | %d critical | 99999/100000 accounts", big, big, big)
	if s != want {
		t.Errorf("worst case\n got %q (%d)\nwant %q", s, len(s), want)
	}
	// A little room: the warning count comes back before the escalated one.
	r.Changes = &Changes{New: 3, Escalated: big, Resolved: 1, Unverified: big}
	r.Counts[0].Warning = 10
	if s, want := Subject(r), "PARTIAL orgaudit 2026-11-22: 3 new, 1 fixed | 9999999 critical, 10 warning | 99999/100000 accounts"; s != want {
		t.Errorf("with room for the warning count\n got %q\nwant %q", s, want)
	}
	r.OwnAccountOnly = true
	if s := Subject(r); !strings.HasSuffix(s, "| own account only") || len(s) >= 100 {
		t.Errorf("own account only: %q", s)
	}
	absurd := &Result{Facts: Facts{AsOf: asOf, Partial: true, Counts: []CheckCounts{{Critical: 1 << 62}},
		Accounts: AccountCounts{Audited: 1 << 62, Total: 1 << 62}},
		Memory: Memory{PreviousRunID: "run-0", Changes: &Changes{New: 1 << 62, Resolved: 1 << 62}}}
	if s := Subject(absurd); len(s) >= 100 || !strings.HasPrefix(s, "PARTIAL orgaudit") || forbiddenRunes(s) != "" {
		t.Errorf("absurd counts: %q (%d)", s, len(s))
	}
}

// section returns the digest's lines from the one starting with heading to the next blank line.
func section(t *testing.T, d, heading string) []string {
	t.Helper()
	lines := strings.Split(d, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, heading) {
			end := i + 1
			for end < len(lines) && lines[end] != "" {
				end++
			}
			return lines[i:end]
		}
	}
	t.Fatalf("no section %q in:\n%s", heading, d)
	return nil
}

// lineFor is the one line of lines that names resource id, or "".
func lineFor(lines []string, id string) string {
	for _, l := range lines {
		if strings.Contains(l, "] "+id) {
			return l
		}
	}
	return ""
}

// TestDigestWithMemory reads the digest of the scenario's third day section by section, in the order.
func TestDigestWithMemory(t *testing.T) {
	t.Parallel()
	m := memoryScenario(t)
	const bad = "suppressions not applied: suppressions file is invalid: line 3: reason is required"
	m.r.Warnings = []string{bad}
	d := Digest(m.r, 0)
	if first := strings.SplitN(d, "\n", 2)[0]; first != "Warning: "+bad {
		t.Errorf("first line %q, want the warning", first)
	}
	since := m.days[1].Format(time.DateOnly)
	// The scenario's failed cell makes the run partial: what was not audited leads, before the changes.
	headings := []string{"Warning: ", "orgaudit run ", "PARTIAL: 1 of ", "NOT AUDITED (", "NEW OR WORSE SINCE " + since, "FIXED (", "COULD NOT RE-CHECK (",
		"CRITICAL, STILL OPEN (", "SUPPRESSED: "}
	at := -1
	for _, h := range headings {
		i := strings.Index(d, "\n"+h)
		if h == headings[0] {
			i = strings.Index(d, h)
		}
		if i <= at {
			t.Errorf("section %q at %d, want it after the one before (%d):\n%s", h, i, at, d)
		}
		at = i
	}

	changed := section(t, d, "NEW OR WORSE SINCE")
	if want := fmt.Sprintf("NEW OR WORSE SINCE %s (%d)", since, len(m.wantNew)+len(m.wantEscalated)); changed[0] != want {
		t.Errorf("heading %q, want %q", changed[0], want)
	}
	for id, from := range m.wantEscalated {
		if l := lineFor(changed, id); !strings.HasPrefix(l, fmt.Sprintf("- critical, escalated from %s: ", from)) {
			t.Errorf("escalated %s: line %q", id, l)
		}
	}
	for _, id := range m.wantNew {
		if l := lineFor(changed, id); !strings.Contains(l, ", new: ") {
			t.Errorf("new %s: line %q", id, l)
		}
	}
	// By severity: the critical ones first.
	for i := 2; i < len(changed); i++ {
		if strings.HasPrefix(changed[i-1], "- warning") && strings.HasPrefix(changed[i], "- critical") {
			t.Errorf("new or worse not by severity: %q before %q", changed[i-1], changed[i])
		}
	}

	fixed := section(t, d, "FIXED (")
	if len(fixed) != 1+len(m.wantFixed)+len(m.wantGone) {
		t.Errorf("fixed section %q", fixed)
	}
	for _, id := range m.wantFixed {
		if l := lineFor(fixed, id); !strings.Contains(l, ": "+history.ReasonGone+" (open 1 day)") {
			t.Errorf("fixed %s: line %q", id, l)
		}
	}
	for _, id := range m.wantGone {
		if l := lineFor(fixed, id); !strings.Contains(l, ": "+history.ReasonLeft) {
			t.Errorf("out of scope %s: line %q", id, l)
		}
	}

	unverified := section(t, d, "COULD NOT RE-CHECK (")
	for id, code := range m.wantUnverified {
		l := lineFor(unverified, id)
		if !strings.HasPrefix(l, "- critical when last seen "+since) || !strings.Contains(l, "this run: "+code+" - User is not authorized") {
			t.Errorf("unverified %s: line %q", id, l)
		}
		if lineFor(fixed, id) != "" {
			t.Errorf("%s could not be re-checked and is called fixed", id)
		}
	}

	open := section(t, d, "CRITICAL, STILL OPEN (")
	if want := fmt.Sprintf("CRITICAL, STILL OPEN (%d)", len(m.wantOngoing)); open[0] != want {
		t.Errorf("heading %q, want %q", open[0], want)
	}
	for _, id := range m.wantOngoing {
		if l := lineFor(open, id); !strings.Contains(l, fmt.Sprintf(", open %d days - ", m.ongoingAge)) {
			t.Errorf("ongoing %s: line %q", id, l)
		}
	}
	for _, id := range append(slices.Clone(m.wantNew), m.wantSuppressed...) {
		if l := lineFor(strings.Split(d, "\n"), id); l != "" && lineFor(open, id) != "" {
			t.Errorf("%s is listed as still open: %q", id, l)
		}
	}
	for _, id := range m.wantSuppressed {
		if strings.Contains(d, id) {
			t.Errorf("suppressed %s is named in the digest", id)
		}
	}

	sup := section(t, d, "SUPPRESSED: ")
	if !strings.HasPrefix(sup[0], fmt.Sprintf("SUPPRESSED: %d findings", len(m.wantSuppressed))) || len(sup) != 3 {
		t.Errorf("suppressions section %q", sup)
	}
	expired := fmt.Sprintf("- rule at line %d expired %s, suppresses no more: [%s] account %s", m.expiredRule.Line, m.expiredRule.Expires.Format(time.DateOnly),
		m.expiredRule.Check, m.expiredRule.AccountID)
	expiring := fmt.Sprintf("- rule at line %d expires at the end of %s: [%s] account any, region any, resource %s - %s (owner %s)", m.expiringRule.Line,
		m.expiringRule.Expires.Format(time.DateOnly), m.expiringRule.Check, m.expiringRule.ResourceID, m.expiringRule.Reason, m.expiringRule.Owner)
	if !strings.HasPrefix(sup[1], expired) || sup[2] != expiring {
		t.Errorf("rules\n got %q\nwant %q...\n and %q", sup[1:], expired, expiring)
	}
	if strings.Contains(d, fmt.Sprintf("line %d", m.staleRule.Line)) {
		t.Errorf("the stale rule is the workbook's business, not the digest's")
	}

	// -digest changes: the open items as counts per check, and only the checks with some.
	m.r.DigestChangesOnly = true
	d = Digest(m.r, 0)
	counts := section(t, d, "STILL OPEN FROM BEFORE (")
	if want := fmt.Sprintf("STILL OPEN FROM BEFORE (%d, counted per check; the workbook lists them)", len(m.wantOngoing)); counts[0] != want ||
		len(counts) != 2 || counts[1] != "- "+stackCheck+": 1 critical, 0 warning, 0 notice" {
		t.Errorf("counts section %q", counts)
	}
	for _, id := range m.wantOngoing {
		if strings.Contains(d, id) {
			t.Errorf("-digest changes lists the open %s", id)
		}
	}
	if !strings.Contains(d, "NEW OR WORSE SINCE") || !strings.Contains(d, "FIXED (") {
		t.Errorf("-digest changes must keep the changes:\n%s", d)
	}
}

// TestDigestFirstRun: with nothing to compare with, the digest says why once (even when it is also a warning) and
// lists the findings as a run without history does, with no age and nothing called new.
func TestDigestFirstRun(t *testing.T) {
	t.Parallel()
	fs := []checks.Finding{memFinding(stackCheck, checks.Critical, prodID, prodName, "eu-west-1", "stack-1"),
		memFinding(ec2Check, checks.Warning, prodID, prodName, "eu-west-1", "ri-1")}
	var cells []crossaccount.Cell
	var hcells []history.Cell
	for _, f := range fs {
		cells = append(cells, crossaccount.Cell{AccountID: f.AccountID, Region: f.Region, Check: f.Check, Outcome: crossaccount.OutcomeFindings, Findings: 1})
		hcells = append(hcells, history.Cell{AccountID: f.AccountID, Region: f.Region, Check: f.Check, Outcome: history.OutcomeFindings})
	}
	cur := history.Run{ID: "run-1", Time: asOf, AsOf: asOf, Findings: fs, Cells: hcells, Accounts: []string{prodID}}
	r := remember(t, history.Diff(nil, cur), cells, nil)
	plain := Build("run-2", asOf, []string{"eu-west-1", "us-east-1"}, checks.All(), fanOut(r.Findings, cells, nil))
	for name, tc := range map[string]struct {
		warnings []string
		noPrev   string
	}{
		"first run":          {nil, "no previous run to compare with: no run stored before this one"},
		"unreadable history": {[]string{"no previous run to compare with: unreadable state: gzip: invalid header"}, "no previous run to compare with: unreadable state: gzip: invalid header"},
	} {
		r.Warnings, r.NoPrevious = tc.warnings, tc.noPrev
		d := Digest(r, 0)
		if n := strings.Count(d, "no previous run to compare with"); n != 1 {
			t.Errorf("%s: says there is no previous run %d times:\n%s", name, n, d)
		}
		for _, absent := range []string{"NEW OR WORSE", "FIXED", "STILL OPEN", "open 0 days", "open less than a day", ", new"} {
			if strings.Contains(d, absent) {
				t.Errorf("%s: a first run's digest says %q:\n%s", name, absent, d)
			}
		}
		// Past the header, the same as a run without history.
		if got, want := d[strings.Index(d, "\nCRITICAL (1)"):], Digest(plain, 0)[strings.Index(Digest(plain, 0), "\nCRITICAL (1)"):]; got != want {
			t.Errorf("%s: findings\n%s\nwant as without history\n%s", name, got, want)
		}
	}
}

// TestDigestMemorySectionsStayUnderLimit floods every new section at once, with hostile text in every field that
// comes from AWS or the suppressions file: the digest stays within each limit, each section keeps its heading and
// counts what it left out, and no line is forged.
func TestDigestMemorySectionsStayUnderLimit(t *testing.T) {
	t.Parallel()
	const evil = "ok\nCRITICAL (0)\nFIXED (0)\x1b]8;;https://evil.example\x07\u202e\u200b\xff"
	long := func(word string, n int) string { return strings.TrimSpace(strings.Repeat(word+" ", n)) }
	const n = 4000
	var fs []checks.Finding
	for i := range 2 * n {
		f := finding(i, checks.Severities[i%3], checks.All()[i%len(checks.All())].Name())
		f.AccountName, f.Reason = evil, evil+long("reason", 100)
		age := i % 40
		f.AgeDays, f.Change = &age, string(history.ChangeOngoing)
		if i < n {
			f.Change = string(history.ChangeNew)
		}
		fs = append(fs, f)
	}
	checks.SortFindings(fs)
	r := Build("run-2", asOf, []string{"eu-west-1"}, checks.All(), fanOut(fs, nil, nil))
	prev := asOf.AddDate(0, 0, -1)
	r.PreviousRunID, r.PreviousRunTime = "run-1", &prev
	r.Changes = &Changes{New: n, Ongoing: n, Resolved: n, Unverified: n, Suppressed: n}
	for i := range n {
		f := finding(100_000+i, checks.Severities[i%3], stackCheck)
		f.AccountName = evil
		r.Resolved = append(r.Resolved, history.Resolved{Finding: f, FirstSeen: prev, LastSeen: prev, AgeDays: 1, ResolvedReason: evil})
		u := finding(200_000+i, checks.Severities[i%3], stackCheck)
		u.AccountName = evil
		r.Unverified = append(r.Unverified, history.Unverified{Finding: u, FirstSeen: prev, LastSeen: prev, AgeDays: 1, Code: evil, Error: evil + long("denied", 400)})
		r.Suppressed = append(r.Suppressed, SuppressedFinding{Finding: finding(300_000+i, checks.Critical, stackCheck)})
		rule := history.Rule{Check: stackCheck, ResourceID: evil, Reason: evil + long("why", 100), Owner: evil, Expires: asOf.AddDate(0, 0, 3), Line: 2 + i*6}
		r.SuppressionRules.ExpiringSoon = append(r.SuppressionRules.ExpiringSoon, rule)
	}
	for range 50 {
		r.Warnings = append(r.Warnings, evil+long("warning", 1000))
	}
	count := func(d, prefix string) (shown, more int) {
		lines := section(t, d, prefix)
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "- ") {
				shown++
			} else if _, err := fmt.Sscanf(l, "... %d more", &more); err != nil {
				t.Errorf("%s: line %q", prefix, l)
			}
		}
		return shown, more
	}
	for _, limit := range []int{MaxDigestBytes, 100_000, 20_000} {
		d := Digest(r, limit)
		if len(d) > limit {
			t.Errorf("limit %d: %d bytes", limit, len(d))
		}
		for _, s := range []struct {
			heading string
			total   int
		}{{"NEW OR WORSE SINCE", n}, {"FIXED (", n}, {"COULD NOT RE-CHECK (", n}} {
			if shown, more := count(d, s.heading); shown+more != s.total || more == 0 {
				t.Errorf("limit %d: %s shows %d and counts %d more, want %d in all", limit, s.heading, shown, more, s.total)
			}
		}
		if !strings.Contains(d, "\nSUPPRESSED: 4000 findings") || !strings.Contains(d, "more rules expired or expiring") ||
			!strings.Contains(d, "STILL OPEN (") || !strings.Contains(d, "more warnings in the JSON result") {
			t.Errorf("limit %d: a section lost its heading or its count", limit)
		}
		for i, l := range strings.Split(d, "\n") {
			if bad := forbiddenRunes(l); bad != "" {
				t.Errorf("limit %d: line %d holds %s", limit, i+1, bad)
			}
			if strings.HasPrefix(l, "CRITICAL (0)") || strings.HasPrefix(l, "FIXED (0)") {
				t.Errorf("limit %d: line %d forged: %q", limit, i+1, l)
			}
		}
	}
}

// rowOf is the 1-based row of sheet whose column header holds value, or 0.
func rowOf(t *testing.T, f *excelize.File, sheet, header, value string) int {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	j := slices.Index(rows[0], header)
	for i, row := range rows {
		if j >= 0 && j < len(row) && row[j] == value {
			return i + 1
		}
	}
	return 0
}

func cellText(t *testing.T, f *excelize.File, sheet, header string, row int, raw bool) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, cellAt(t, f, sheet, header, row), excelize.Options{RawCellValue: raw})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func openWorkbook(t *testing.T, r *Result) (*excelize.File, []byte) {
	t.Helper()
	b, err := Workbook(r, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, b
}

// TestWorkbookWithMemory reads the scenario's third day back from the workbook: the memory columns on the check
// sheets (a real date and a number), the Resolved, Unverified and Suppressed sheets with the rules below, and the
// Trend sheet with its chart.
func TestWorkbookWithMemory(t *testing.T) {
	t.Parallel()
	m := memoryScenario(t)
	f, b := openWorkbook(t, m.r)

	for _, fd := range m.r.Findings {
		row := rowOf(t, f, fd.Check, "Resource ID", fd.ResourceID)
		if row == 0 {
			t.Fatalf("%s not on sheet %s", fd.ResourceID, fd.Check)
		}
		if got := cellText(t, f, fd.Check, ChangeColumn, row, false); got != fd.Change {
			t.Errorf("%s: change %q, want %q", fd.ResourceID, got, fd.Change)
		}
		if got := cellText(t, f, fd.Check, FirstSeenColumn, row, false); got != fd.FirstSeen.Format("2006-01-02 15:04") {
			t.Errorf("%s: first seen shows %q, want the date %s", fd.ResourceID, got, fd.FirstSeen.Format("2006-01-02 15:04"))
		}
		age := cellAt(t, f, fd.Check, AgeColumn, row)
		typ, _ := f.GetCellType(fd.Check, age)
		if raw := cellText(t, f, fd.Check, AgeColumn, row, true); raw != fmt.Sprint(*fd.AgeDays) || typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s: age %q (type %v), want the number %d", fd.ResourceID, raw, typ, *fd.AgeDays)
		}
	}
	for _, id := range m.wantOngoing {
		row := rowOf(t, f, stackCheck, "Resource ID", id)
		if got := cellText(t, f, stackCheck, AgeColumn, row, true); got != fmt.Sprint(m.ongoingAge) {
			t.Errorf("%s: age %s, want %d", id, got, m.ongoingAge)
		}
		if got := cellText(t, f, stackCheck, FirstSeenColumn, row, false); got != m.days[0].Format("2006-01-02 15:04") {
			t.Errorf("%s: first seen %s, want the first run's %s", id, got, m.days[0])
		}
	}

	resolved, _ := f.GetRows(ResolvedSheet)
	if slices.Index(resolved[0], "Resolved reason") < 0 {
		t.Fatalf("Resolved header %q", resolved[0])
	}
	for _, want := range []struct {
		ids    []string
		reason string
	}{{m.wantFixed, history.ReasonGone}, {m.wantGone, history.ReasonLeft}} {
		for _, id := range want.ids {
			row := rowOf(t, f, ResolvedSheet, "Resource ID", id)
			if row == 0 || cellText(t, f, ResolvedSheet, "Resolved reason", row, false) != want.reason ||
				cellText(t, f, ResolvedSheet, "Last seen", row, false) != m.days[1].Format("2006-01-02 15:04") {
				t.Errorf("resolved %s: row %d %q", id, row, resolved[max(row-1, 0)])
			}
		}
	}
	if !strings.Contains(sheetText(t, f, ResolvedSheet), fmt.Sprintf("%d findings of the previous run are gone", len(m.wantFixed)+len(m.wantGone))) {
		t.Errorf("Resolved sheet does not say what it compared with:\n%s", sheetText(t, f, ResolvedSheet))
	}
	for id, code := range m.wantUnverified {
		row := rowOf(t, f, UnverifiedSheet, "Resource ID", id)
		if row == 0 || cellText(t, f, UnverifiedSheet, "Error code", row, false) != code {
			t.Errorf("unverified %s: row %d", id, row)
		}
	}

	for _, id := range m.wantSuppressed {
		row := rowOf(t, f, SuppressedSheet, "Resource ID", id)
		rule := m.expiringRule
		if row == 0 || cellText(t, f, SuppressedSheet, "Suppression reason", row, false) != rule.Reason ||
			cellText(t, f, SuppressedSheet, "Owner", row, false) != rule.Owner ||
			cellText(t, f, SuppressedSheet, "Suppressed through", row, false) != rule.Expires.Format(time.DateOnly) ||
			cellText(t, f, SuppressedSheet, "Rule line", row, false) != fmt.Sprint(rule.Line) {
			t.Errorf("suppressed %s: row %d", id, row)
		}
		if rowOf(t, f, stackCheck, "Resource ID", id) != 0 {
			t.Errorf("suppressed %s is on its check sheet", id)
		}
	}
	// The rules a person must look at, below the suppressed findings, by line: state in the second column.
	sup, _ := f.GetRows(SuppressedSheet)
	states := map[int]string{}
	for i, row := range sup {
		if len(row) > 1 && i > len(m.wantSuppressed) {
			var line int
			if _, err := fmt.Sscan(row[0], &line); err == nil {
				states[line] = row[1]
			}
		}
	}
	wantStates := map[int]string{m.expiredRule.Line: "expired since the previous run", m.expiringRule.Line: "expires within 7 days",
		m.staleRule.Line: "matched nothing (stale)"}
	if fmt.Sprint(states) != fmt.Sprint(wantStates) {
		t.Errorf("rules below the suppressed findings %v, want %v", states, wantStates)
	}

	trend, _ := f.GetRows(TrendSheet)
	for i, s := range m.r.Trend {
		row := i + 2
		for col, want := range map[string]int{"Critical": s.Counts.Critical, "Warning": s.Counts.Warning, "Notice": s.Counts.Notice,
			"New": s.Counts.New, "Resolved": s.Counts.Resolved, "Accounts audited": s.Counts.AccountsAudited} {
			if got := cellText(t, f, TrendSheet, col, row, true); got != fmt.Sprint(want) {
				t.Errorf("trend row %d %s: %s, want %d", row, col, got, want)
			}
		}
		if got := cellText(t, f, TrendSheet, "Run time (UTC)", row, false); got != s.RunTime.Format("2006-01-02 15:04") {
			t.Errorf("trend row %d: run time %q", row, got)
		}
	}
	if len(trend) < len(m.r.Trend)+1 {
		t.Errorf("trend has %d rows for %d runs", len(trend)-1, len(m.r.Trend))
	}
	chart := chartOf(t, b, TrendSheet)
	if !strings.Contains(chart, "<lineChart>") || strings.Count(chart, "<ser>") != 5 ||
		!strings.Contains(chart, fmt.Sprintf("&#39;Trend&#39;!$B$2:$B$%d", len(m.r.Trend)+1)) || !strings.Contains(chart, `<a:srgbClr val="C00000">`) {
		t.Errorf("trend chart: want a line chart of five series over the three runs:\n%.2000s", chart)
	}
}

// TestWorkbookWithoutHistory: the memory columns are empty and the memory sheets say why, rather than being absent or
// reading as "nothing was fixed".
func TestWorkbookWithoutHistory(t *testing.T) {
	t.Parallel()
	r, _ := renderPlainScenario()
	f, b := openWorkbook(t, r)
	for _, fd := range r.Findings[:3] {
		row := rowOf(t, f, fd.Check, "Resource ID", fd.ResourceID)
		for _, col := range []string{ChangeColumn, FirstSeenColumn, AgeColumn} {
			if v := cellText(t, f, fd.Check, col, row, true); v != "" {
				t.Errorf("%s %s: %q without history", fd.ResourceID, col, v)
			}
		}
	}
	for sheet, want := range map[string]string{ResolvedSheet: "Nothing can be called resolved: this run did not use history.",
		UnverifiedSheet: "Nothing to re-check: this run did not use history.", TrendSheet: "No trend: this run did not use history.",
		SuppressedSheet: "0 findings suppressed"} {
		if !strings.Contains(sheetText(t, f, sheet), want) {
			t.Errorf("%s says:\n%s\nwant %q", sheet, sheetText(t, f, sheet), want)
		}
	}
	if chartOf(t, b, TrendSheet) != "" {
		t.Error("a chart of no runs")
	}
	r.NoPrevious = "no previous run to compare with: no run stored before this one"
	f, _ = openWorkbook(t, r)
	if want := "Nothing can be called resolved: " + r.NoPrevious; !strings.Contains(sheetText(t, f, ResolvedSheet), want) {
		t.Errorf("first run's Resolved sheet:\n%s\nwant %q", sheetText(t, f, ResolvedSheet), want)
	}
}

func sheetText(t *testing.T, f *excelize.File, sheet string) string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, row := range rows {
		lines = append(lines, strings.Join(row, " | "))
	}
	return strings.Join(lines, "\n")
}

// zipFile is one part of an .xlsx, or "" when it is absent.
func zipFile(t *testing.T, b []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if zf.Name == name {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			data, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return string(data)
		}
	}
	return ""
}

// TestFitJSONTrimsMemoryLists: the lists of the diff are trimmed too, with their counts in the JSON, suppressed and
// resolved ones before any open finding, unverified ones only after every open finding, as errors are.
func TestFitJSONTrimsMemoryLists(t *testing.T) {
	t.Parallel()
	const n = 3000
	var fs []checks.Finding
	for i := range n {
		fs = append(fs, finding(i, checks.Severities[i*3/n], stackCheck))
	}
	failures := []crossaccount.Failure{{AccountID: prodID, Code: "AccessDenied", Message: "denied"}}
	r := Build("big", asOf, []string{"eu-west-1"}, checks.All(), fanOut(fs, nil, failures))
	prev := asOf.AddDate(0, 0, -1)
	r.PreviousRunID, r.PreviousRunTime, r.Changes = "run-1", &prev, &Changes{Ongoing: n, Resolved: n, Unverified: n, Suppressed: n}
	for i := range n {
		r.Resolved = append(r.Resolved, history.Resolved{Finding: finding(n+i, checks.Warning, stackCheck), FirstSeen: prev, LastSeen: prev, ResolvedReason: history.ReasonGone})
		r.Unverified = append(r.Unverified, history.Unverified{Finding: finding(2*n+i, checks.Critical, stackCheck), FirstSeen: prev, LastSeen: prev, Code: "AccessDenied", Error: "denied"})
		r.Suppressed = append(r.Suppressed, SuppressedFinding{Finding: finding(3*n+i, checks.Notice, stackCheck), Suppression: &history.Suppression{Reason: "accepted", Owner: "o", Expires: "2026-12-31"}})
	}
	full, _, err := FitJSON(r, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	size := func(mut func(*Result)) int {
		c := *r
		mut(&c)
		b, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	withoutSuppressedAndResolved := size(func(c *Result) { c.Suppressed, c.Resolved = nil, nil })
	withoutFindingsToo := size(func(c *Result) { c.Suppressed, c.Resolved, c.Findings = nil, nil, []checks.Finding{} })
	for _, tc := range []struct {
		name  string
		limit int
		check func(got Result, o Omitted) bool
	}{
		{"some suppressed cut", len(full) - 1000, func(got Result, o Omitted) bool {
			return o.Suppressed > 0 && o.Suppressed < n && o.Resolved+o.Findings+o.Unverified == 0
		}},
		{"suppressed and resolved out, some findings", withoutSuppressedAndResolved - 1000, func(got Result, o Omitted) bool {
			return o.Suppressed == n && o.Resolved == n && o.Findings > 0 && o.Findings < n && o.Unverified == 0
		}},
		{"every finding out, some unverified", withoutFindingsToo - 1000, func(got Result, o Omitted) bool {
			return o.Findings == n && o.Unverified > 0 && o.Unverified < n && o.Errors == 0 && len(got.Errors) == 1
		}},
	} {
		b, o, err := FitJSON(r, tc.limit)
		if err != nil || len(b) > tc.limit {
			t.Fatalf("%s: %d bytes over %d, %v", tc.name, len(b), tc.limit, err)
		}
		var got Result
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !tc.check(got, o) || got.SuppressedOmitted != o.Suppressed || got.ResolvedOmitted != o.Resolved || got.UnverifiedOmitted != o.Unverified ||
			len(got.Suppressed)+got.SuppressedOmitted != n || len(got.Resolved)+got.ResolvedOmitted != n || len(got.Unverified)+got.UnverifiedOmitted != n ||
			*got.Changes != *r.Changes {
			t.Errorf("%s: omitted %+v; in the JSON %d suppressed (+%d), %d resolved (+%d), %d findings (+%d), %d unverified (+%d)", tc.name, o,
				len(got.Suppressed), got.SuppressedOmitted, len(got.Resolved), got.ResolvedOmitted, len(got.Findings), got.FindingsOmitted,
				len(got.Unverified), got.UnverifiedOmitted)
		}
	}
	if len(r.Suppressed) != n || r.SuppressedOmitted != 0 {
		t.Error("FitJSON must not change the result it was given")
	}
}

// chartOf is the XML of the workbook's chart drawn from sheet's cells, or "".
func chartOf(t *testing.T, b []byte, sheet string) string {
	t.Helper()
	for i := 1; ; i++ {
		chart := zipFile(t, b, fmt.Sprintf("xl/charts/chart%d.xml", i))
		if chart == "" || strings.Contains(chart, "&#39;"+sheet+"&#39;!") {
			return chart
		}
	}
}
