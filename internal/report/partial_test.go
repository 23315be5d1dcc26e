package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// partialScenario is an organization of accounts × the first checks in one region, where fail says which cells end in
// an error (with its code) and the rest ran clean.
func partialScenario(accounts, nChecks int, fail func(account, check int) string) *crossaccount.Result {
	cs := checks.All()[:nChecks]
	var cells []crossaccount.Cell
	var failures []crossaccount.Failure
	for a := range accounts {
		id := fmt.Sprintf("%012d", 200000000000+a)
		for i, c := range cs {
			cell := crossaccount.Cell{AccountID: id, AccountName: "acct-" + id, Owner: "team-" + id, Region: "eu-west-1", Check: c.Name(),
				Outcome: crossaccount.OutcomeClean}
			if code := fail(a, i); code != "" {
				cell.Outcome, cell.Code, cell.Message = crossaccount.OutcomeError, code, "not audited: "+code
				failures = append(failures, crossaccount.Failure{AccountID: id, AccountName: cell.AccountName, Owner: cell.Owner,
					Region: "eu-west-1", Check: c.Name(), Code: code, Message: cell.Message})
			}
			cells = append(cells, cell)
		}
	}
	fan := fanOut(nil, cells, failures)
	for i := range fan.Accounts {
		fan.Accounts[i].Owner = "team-" + fan.Accounts[i].ID
	}
	return fan
}

// partialOutputs are what every output of r says about its completeness, read back as a reader would.
type partialOutputs struct {
	subject, digest, html, chat, summary string
	notice                               Notice
	result                               Result
}

func readPartial(t *testing.T, r *Result) partialOutputs {
	t.Helper()
	var o partialOutputs
	o.subject, o.digest = Subject(r), Digest(r, 0)
	var err error
	if o.html, err = HTML(r, MailOptions{}); err != nil {
		t.Fatal(err)
	}
	o.chat = ChatOf(r).Content.Description
	b, err := NoticeJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &o.notice); err != nil {
		t.Fatal(err)
	}
	if b, err = json.Marshal(r); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &o.result); err != nil {
		t.Fatal(err)
	}
	wb, err := Workbook(r, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(wb))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if len(row) > 1 && row[0] == "Complete" {
			o.summary = row[1]
		}
	}
	return o
}

// assertPartialEverywhere: every output says the run was partial, for the same reasons, in the same words.
func assertPartialEverywhere(t *testing.T, r *Result, reasons ...string) partialOutputs {
	t.Helper()
	o := readPartial(t, r)
	if !strings.HasPrefix(o.subject, "PARTIAL ") || len(o.subject) >= 100 || forbiddenRunes(o.subject) != "" {
		t.Errorf("subject %q", o.subject)
	}
	lines := strings.Split(o.digest, "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "orgaudit run ") || !strings.HasPrefix(lines[1], "PARTIAL: ") {
		t.Errorf("the digest's verdict does not lead with PARTIAL:\n%s", o.digest)
	}
	statement := strings.TrimPrefix(lines[min(1, len(lines)-1)], "PARTIAL: ")
	if !strings.Contains(o.html, "PARTIAL: "+htmlEscape(statement)) {
		t.Errorf("the HTML digest does not say %q:\n%.3000s", statement, o.html)
	}
	if first := strings.SplitN(o.chat, "\n", 2)[0]; !strings.HasPrefix(first, "*PARTIAL*: ") {
		t.Errorf("the chat card does not lead with PARTIAL: %q", first)
	}
	if o.summary != "PARTIAL: "+statement {
		t.Errorf("the Summary's Complete row %q, want %q", o.summary, "PARTIAL: "+statement)
	}
	if !o.notice.Partial || !o.result.Partial {
		t.Errorf("notice partial %v, JSON partial %v", o.notice.Partial, o.result.Partial)
	}
	for _, got := range [][]PartialReason{o.notice.PartialReasons, o.result.PartialReasons} {
		var codes []string
		for _, p := range got {
			codes = append(codes, p.Reason)
			if !strings.Contains(statement, p.Detail) {
				t.Errorf("reason %+v is not what the digest says: %q", p, statement)
			}
		}
		if strings.Join(codes, ",") != strings.Join(reasons, ",") {
			t.Errorf("reasons %v, want %v", codes, reasons)
		}
	}
	return o
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// TestFailedCellsLeadTheVerdict: 24 of 27 cells failed and the 3 that ran found nothing. Every output says the run is
// partial, and the digest says what was not audited before it says there are no findings: "No findings." above
// "NOT AUDITED (24 of 27 cells)" reads as a clean organization.
func TestFailedCellsLeadTheVerdict(t *testing.T) {
	t.Parallel()
	const accounts, nChecks = 9, 3
	fan := partialScenario(accounts, nChecks, func(a, _ int) string {
		if a == 0 {
			return ""
		}
		return "AccessDenied"
	})
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All()[:nChecks], fan)
	failed := (accounts - 1) * nChecks
	o := assertPartialEverywhere(t, r, PartialCellsFailed)
	if p := o.result.PartialReasons[0]; p.Cells != failed {
		t.Errorf("reason %+v, want %d cells", p, failed)
	}
	notAudited := strings.Index(o.digest, fmt.Sprintf("NOT AUDITED (%d failures, %d of %d cells)", failed, failed, accounts*nChecks))
	none := strings.Index(o.digest, "No findings")
	if notAudited < 0 || none < 0 || none < notAudited {
		t.Errorf("the digest says no findings (at %d) before what was not audited (at %d):\n%s", none, notAudited, o.digest)
	}
	if strings.Contains(o.digest, "\nNo findings.\n") {
		t.Errorf("a partial run's digest says a bare \"No findings.\":\n%s", o.digest)
	}
	htmlNotAudited, htmlNone := strings.Index(o.html, "Not audited ("), strings.Index(o.html, "No findings")
	if htmlNotAudited < 0 || htmlNone < 0 || htmlNone < htmlNotAudited {
		t.Errorf("the HTML says no findings (at %d) before what was not audited (at %d)", htmlNone, htmlNotAudited)
	}
}

// TestBrokenListingIsPartialEverywhere: the walk of the organization stopped part way. Every cell of the accounts it
// listed ran cleanly, yet the run is partial: the accounts it did not reach were not looked at. The subject does not
// let "7/7 accounts" read as the organization's size.
func TestBrokenListingIsPartialEverywhere(t *testing.T) {
	t.Parallel()
	fan := partialScenario(7, 2, func(int, int) string { return "" })
	const listing = "ServiceException: the service is unavailable"
	fan.ListingIncomplete = listing
	fan.Scope = "organization (account list incomplete)"
	fan.Failures = append(fan.Failures, crossaccount.Failure{Code: "ServiceException", Message: "account list incomplete: the service is unavailable"})
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All()[:2], fan)
	o := assertPartialEverywhere(t, r, PartialAccountList)
	if !strings.Contains(o.subject, "7/7 accounts, list incomplete") {
		t.Errorf("subject %q", o.subject)
	}
	if p := o.notice.PartialReasons[0]; p.Error != listing {
		t.Errorf("notice reason %+v, want the listing's error", p)
	}
	// Large counts still fit whole: the words are shortened, never cut.
	for _, n := range []int{33, 10_000, 99_999} {
		big := *r
		big.PreviousRunID, big.Changes = "run-0", &Changes{New: 123, Escalated: 4, Resolved: 66, Unverified: 1234}
		big.Counts = []CheckCounts{{Critical: 1234, Warning: 5678, Notice: 91011}}
		big.Accounts = AccountCounts{Audited: n - 1, Total: n}
		s := Subject(&big)
		if len(s) >= 100 || !strings.HasPrefix(s, "PARTIAL ") || !(strings.HasSuffix(s, fmt.Sprintf("%d/%d accounts, list incomplete", n-1, n)) ||
			strings.HasSuffix(s, fmt.Sprintf("%d/%d accounts, list cut", n-1, n))) {
			t.Errorf("%d accounts: subject %q (%d)", n, s, len(s))
		}
	}
}

// TestOwnAccountOnlyIsPartial: the organization could not be listed, so only the caller's account ran.
func TestOwnAccountOnlyIsPartial(t *testing.T) {
	t.Parallel()
	fan := partialScenario(1, 2, func(int, int) string { return "" })
	fan.OwnAccountOnly = true
	fan.Scope = "own account only: the caller's account 200000000000; the organization could not be listed (AccessDenied)"
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All()[:2], fan)
	o := assertPartialEverywhere(t, r, PartialOwnAccountOnly)
	if !strings.HasSuffix(o.subject, "| own account only") {
		t.Errorf("subject %q", o.subject)
	}
}

// TestDeadlineIsAReason: cells the deadline cut are counted apart from cells that failed, so the deadline stays visible.
func TestDeadlineIsAReason(t *testing.T) {
	t.Parallel()
	fan := partialScenario(4, 2, func(a, _ int) string {
		switch a {
		case 1:
			return "AccessDenied"
		case 2, 3:
			return crossaccount.CodeDeadline
		}
		return ""
	})
	fan.Partial = true
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All()[:2], fan)
	o := assertPartialEverywhere(t, r, PartialDeadline, PartialCellsFailed)
	if got := o.result.PartialReasons; got[0].Cells != 4 || got[1].Cells != 2 {
		t.Errorf("reasons %+v, want 4 cells cut by the deadline and 2 failed", got)
	}
	if !strings.Contains(o.digest, "PARTIAL: the deadline stopped the audit") {
		t.Errorf("digest:\n%s", o.digest)
	}
}

// TestCompleteRunIsNotPartial: a run whose every cell ran says so everywhere, and a run narrowed by choice is complete
// for what it set out to audit: it says it was narrowed, never "partial".
func TestCompleteRunIsNotPartial(t *testing.T) {
	t.Parallel()
	fan := partialScenario(3, 2, func(int, int) string { return "" })
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All()[:2], fan)
	r.Narrowed = "only the 3 named accounts"
	o := readPartial(t, r)
	if strings.Contains(o.subject, "PARTIAL") || strings.Contains(o.digest, "PARTIAL") || strings.Contains(o.html, "PARTIAL") ||
		strings.Contains(o.chat, "PARTIAL") || o.summary != "yes" || o.notice.Partial || o.result.Partial ||
		len(o.notice.PartialReasons)+len(o.result.PartialReasons) != 0 {
		t.Errorf("a complete run said partial: subject %q, summary %q, notice %+v\n%s", o.subject, o.summary, o.notice, o.digest)
	}
	const narrowed = "narrowed by choice (only the 3 named accounts)"
	for name, s := range map[string]string{"digest": o.digest, "html": o.html, "chat": o.chat, "notice": o.notice.Narrowed, "json": o.result.Narrowed} {
		if !strings.Contains(s, narrowed) && s != "only the 3 named accounts" {
			t.Errorf("the %s does not say the scope was narrowed:\n%.2000s", name, s)
		}
	}
}

// TestOwnerDigestIsPartialForItsOwnCells: another owner's failed cells do not make this owner's digest partial, but a
// broken listing does (the owner's accounts it did not reach are not in it).
func TestOwnerDigestIsPartialForItsOwnCells(t *testing.T) {
	t.Parallel()
	fan := partialScenario(2, 2, func(a, _ int) string {
		if a == 1 {
			return "AccessDenied"
		}
		return ""
	})
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All()[:2], fan)
	mine, theirs := ForOwner(r, "team-200000000000"), ForOwner(r, "team-200000000001")
	if mine.Partial || len(mine.PartialReasons) != 0 {
		t.Errorf("an owner whose every cell ran is partial: %+v", mine.PartialReasons)
	}
	assertPartialEverywhere(t, theirs, PartialCellsFailed)

	fan.ListingIncomplete = "ServiceException: down"
	r = Build("run-1", asOf, []string{"eu-west-1"}, checks.All()[:2], fan)
	assertPartialEverywhere(t, ForOwner(r, "team-200000000000"), PartialAccountList)
}
