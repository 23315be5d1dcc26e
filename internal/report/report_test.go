package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

var asOf = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

func finding(i int, sev checks.Severity, check string) checks.Finding {
	f := checks.Finding{Check: check, Severity: sev, AccountID: fmt.Sprintf("%012d", 100000000000+i), AccountName: fmt.Sprintf("acct-%d", i),
		Region: "eu-west-1", ResourceID: fmt.Sprintf("res-%06d", i), Status: "CREATE_FAILED", Reason: strings.Repeat("reason ", 10),
		ConsoleURL: "https://console.aws.amazon.com/x"}
	return f
}

func fanOut(findings []checks.Finding, cells []crossaccount.Cell, failures []crossaccount.Failure) *crossaccount.Result {
	accounts := map[string]bool{}
	var accts []crossaccount.Account
	for _, c := range cells {
		if !accounts[c.AccountID] {
			accounts[c.AccountID] = true
			accts = append(accts, crossaccount.Account{ID: c.AccountID, Name: c.AccountName})
		}
	}
	return &crossaccount.Result{Scope: "organization", Accounts: accts, Cells: crossaccount.NewCells(cells...), Findings: findings, Failures: failures}
}

func TestSubjectIsShortASCII(t *testing.T) {
	t.Parallel()
	r := &Result{Facts: Facts{AsOf: asOf, Counts: []CheckCounts{{Critical: 123456789, Warning: 987654321, Notice: 555555555}},
		Accounts: AccountCounts{Audited: 99999, Total: 100000}}}
	s := Subject(r)
	if len(s) >= 100 || !strings.HasPrefix(s, "orgaudit 2026-11-22: 123456789 critical") {
		t.Fatalf("subject %q (%d bytes)", s, len(s))
	}
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("non-ASCII subject %q", s)
		}
	}
	small := &Result{Facts: Facts{AsOf: asOf, Counts: []CheckCounts{{Critical: 3, Warning: 5}}, Accounts: AccountCounts{Audited: 48, Total: 50}}}
	if got := Subject(small); got != "orgaudit 2026-11-22: 3 critical, 5 warning, 0 notice | 48/50 accounts" {
		t.Errorf("subject %q", got)
	}
}

func TestDigestStaysUnderLimit(t *testing.T) {
	t.Parallel()
	cs := checks.All()
	var fs []checks.Finding
	for i := 0; i < 5000; i++ {
		fs = append(fs, finding(i, checks.Severities[i%3], cs[i%len(cs)].Name()))
	}
	checks.SortFindings(fs)
	var failures []crossaccount.Failure
	for i := 0; i < 2000; i++ {
		failures = append(failures, crossaccount.Failure{AccountID: fmt.Sprintf("%012d", i), Code: "AccessDenied", Message: strings.Repeat("denied ", 20)})
	}
	r := Build("run-1", asOf, []string{"eu-west-1"}, cs, fanOut(fs, nil, failures))
	for _, limit := range []int{MaxDigestBytes, 100_000} {
		d := Digest(r, limit)
		if len(d) > limit {
			t.Fatalf("digest %d bytes over limit %d", len(d), limit)
		}
		if !strings.Contains(d, "more in the workbook") || !strings.Contains(d, "NOT AUDITED (2000 failures") || !strings.Contains(d, "more failures in the workbook's Coverage sheet") {
			t.Errorf("truncated digest must count what it left out and keep the not-audited section")
		}
		shown := strings.Count(d, "\n- acct-")
		var more int
		if i := strings.Index(d, "\n... "); i < 0 {
			t.Fatal("no '... N more' line")
		} else if _, err := fmt.Sscanf(d[i+5:], "%d more in the workbook", &more); err != nil {
			t.Fatal(err)
		}
		if shown+more != len(fs) {
			t.Errorf("limit %d: %d shown + %d more != %d findings", limit, shown, more, len(fs))
		}
	}
}

func TestDigestNamesEverything(t *testing.T) {
	t.Parallel()
	days := 18
	end := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	f := checks.Finding{Check: "ec2-reserved-instances", Severity: checks.Warning, AccountID: "123456789012", AccountName: "prod",
		Region: "eu-west-1", ResourceID: "ri-1", Status: "active", Reason: "expires in 18 days on 2026-12-10", DaysLeft: &days, ExpiresAt: &end}
	cells := []crossaccount.Cell{{AccountID: "123456789012", AccountName: "prod", Region: "eu-west-1", Check: "ec2-reserved-instances", Outcome: crossaccount.OutcomeFindings, Findings: 1}}
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All(), fanOut([]checks.Finding{f}, cells, nil))
	d := Digest(r, 0)
	for _, want := range []string{"WARNING (1)", "prod (123456789012) eu-west-1 [ec2-reserved-instances] ri-1: 18 days left - expires in 18 days", "Not audited: nothing"} {
		if !strings.Contains(d, want) {
			t.Errorf("digest lacks %q:\n%s", want, d)
		}
	}
}

func TestBuildCountsAccounts(t *testing.T) {
	t.Parallel()
	cell := func(acct string, o crossaccount.Outcome) crossaccount.Cell {
		return crossaccount.Cell{AccountID: acct, Region: "r", Check: "c", Outcome: o}
	}
	fan := fanOut(nil, []crossaccount.Cell{
		cell("a", crossaccount.OutcomeClean), cell("a", crossaccount.OutcomeFindings),
		cell("b", crossaccount.OutcomeClean), cell("b", crossaccount.OutcomeError),
		cell("c", crossaccount.OutcomeError),
	}, nil)
	fan.Accounts = append(fan.Accounts, crossaccount.Account{ID: "d"}) // listed, never set up: not audited
	r := Build("x", asOf, nil, nil, fan)
	want := AccountCounts{Total: 4, Audited: 1, Partial: 1, Failed: 2}
	if r.Accounts != want {
		t.Errorf("accounts %+v, want %+v", r.Accounts, want)
	}
	if r.Coverage != (CoverageCounts{Cells: 5, Findings: 1, Clean: 2, Errors: 2}) {
		t.Errorf("coverage %+v", r.Coverage)
	}
}

func TestWorkbookTypesAndFormulaText(t *testing.T) {
	t.Parallel()
	days := 18
	end := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	evil := []string{`=HYPERLINK("http://x","y")`, "+1", "@SUM(A1)", "-2+3"}
	var fs []checks.Finding
	for i, name := range evil {
		fs = append(fs, checks.Finding{Check: "cloudformation-failed-stacks", Severity: checks.Critical, AccountID: "123456789012",
			Region: "eu-west-1", ResourceID: name, Status: "CREATE_FAILED", Reason: name, Details: headed("cloudformation-failed-stacks", map[string]string{"Stack ID": name}),
			ConsoleURL: fmt.Sprintf("https://console.aws.amazon.com/cloudformation/home?i=%d", i)})
	}
	fs = append(fs, checks.Finding{Check: "ec2-reserved-instances", Severity: checks.Warning, AccountID: "123456789012", Region: "eu-west-1",
		ResourceID: "ri-1", DaysLeft: &days, ExpiresAt: &end})
	// A provisioned product, its product and version named like formulas.
	fs = append(fs, checks.Finding{Check: "service-catalog-products", Severity: checks.Critical, AccountID: "123456789012", Region: "eu-west-1",
		ResourceID: "pp-1", ResourceName: evil[1], Status: "ERROR", Reason: evil[2],
		Details: headed("service-catalog-products", map[string]string{"Product": evil[0], "Version": evil[2], "Version description": evil[3]})})
	cells := []crossaccount.Cell{
		{AccountID: "123456789012", Region: "eu-west-1", Check: "cloudformation-failed-stacks", Outcome: crossaccount.OutcomeFindings, Findings: 4},
		{AccountID: "210987654321", Region: "eu-west-1", Check: "ec2-reserved-instances", Outcome: crossaccount.OutcomeError, Code: "AccessDenied", Message: "=cmd|' /C calc'!A0"},
	}
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All(), fanOut(fs, cells, nil))
	b, err := Workbook(r, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := append(append([]string{SummarySheet, FindingsSheet, CommitmentsSheet}, checks.Names()...), ResolvedSheet, UnverifiedSheet, SuppressedSheet, TrendSheet,
		CoverageSheet)
	if got := f.GetSheetList(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("sheets %v, want %v", got, want)
	}
	rows, err := f.GetRows("cloudformation-failed-stacks")
	if err != nil || len(rows) != 5 {
		t.Fatalf("rows %d, %v", len(rows), err)
	}
	for i, name := range evil {
		for _, col := range []string{"Resource ID", "Reason"} {
			cell := cellAt(t, f, "cloudformation-failed-stacks", col, i+2)
			formula, _ := f.GetCellFormula("cloudformation-failed-stacks", cell)
			v, _ := f.GetCellValue("cloudformation-failed-stacks", cell)
			typ, _ := f.GetCellType("cloudformation-failed-stacks", cell)
			if formula != "" || v != name || (typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString) {
				t.Errorf("%s: %q stored as formula %q / value %q / type %v; want plain text", cell, name, formula, v, typ)
			}
		}
	}
	scRows, _ := f.GetRows("service-catalog-products")
	header := scRows[0]
	for col, want := range map[string]string{"Resource name": evil[1], "Reason": evil[2], "Product": evil[0], "Version": evil[2], "Version description": evil[3]} {
		i := slices.Index(header, col)
		cell, _ := excelize.CoordinatesToCellName(i+1, 2)
		formula, _ := f.GetCellFormula("service-catalog-products", cell)
		v, _ := f.GetCellValue("service-catalog-products", cell)
		if i < 0 || formula != "" || v != want {
			t.Errorf("service catalog %s (%s): formula %q value %q, want the text %q", col, cell, formula, v, want)
		}
	}
	// The failed cell, whose message reads like a formula, is the Coverage sheet's first row: failures come first.
	msg := cellAt(t, f, "Coverage", "Message", 2)
	if formula, _ := f.GetCellFormula("Coverage", msg); formula != "" {
		t.Errorf("coverage message became a formula %q", formula)
	}
	if v, _ := f.GetCellValue("Coverage", msg); v != "=cmd|' /C calc'!A0" {
		t.Errorf("coverage row 2 message %q, want the failed cell's text", v)
	}
	// Days left is a number and Expires a real date.
	daysLeft, expires := cellAt(t, f, "ec2-reserved-instances", "Days left", 2), cellAt(t, f, "ec2-reserved-instances", "Expires (UTC)", 2)
	typ, _ := f.GetCellType("ec2-reserved-instances", daysLeft)
	raw, _ := f.GetCellValue("ec2-reserved-instances", daysLeft, excelize.Options{RawCellValue: true})
	if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber || raw != "18" {
		t.Errorf("days left: type %v raw %q, want the number 18", typ, raw)
	}
	rawDate, _ := f.GetCellValue("ec2-reserved-instances", expires, excelize.Options{RawCellValue: true})
	shown, _ := f.GetCellValue("ec2-reserved-instances", expires)
	if rawDate != "46366.5" || shown != "2026-12-10 12:00" {
		t.Errorf("expires: raw %q shown %q, want the Excel serial 46366.5 shown as 2026-12-10 12:00", rawDate, shown)
	}
	// The console link is our HYPERLINK formula and nothing else.
	link, _ := f.GetCellFormula("cloudformation-failed-stacks", cellAt(t, f, "cloudformation-failed-stacks", "Console", 2))
	if link != `HYPERLINK("https://console.aws.amazon.com/cloudformation/home?i=0","open")` {
		t.Errorf("console link formula %q", link)
	}
	panes, err := f.GetPanes("Coverage")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header row not frozen: %+v %v", panes, err)
	}
	tables, err := f.GetTables("Coverage")
	if last, _ := excelize.ColumnNumberToName(len(CoverageColumns)); err != nil || len(tables) != 1 || tables[0].Range != "A1:"+last+"3" {
		t.Errorf("coverage table (autofilter) %+v %v", tables, err)
	}
}

// cellAt is the cell in row of the column headed header (row 1): tests find cells by the header written, never by a
// letter that a column added later would move.
func cellAt(t *testing.T, f *excelize.File, sheet, header string, row int) string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil || len(rows) == 0 {
		t.Fatalf("sheet %s: %v", sheet, err)
	}
	j := slices.Index(rows[0], header)
	if j < 0 {
		t.Fatalf("sheet %s has no column %q: %q", sheet, header, rows[0])
	}
	cell, _ := excelize.CoordinatesToCellName(j+1, row)
	return cell
}

func TestFitJSONKeepsTheMostSevere(t *testing.T) {
	t.Parallel()
	var fs []checks.Finding
	for i := 0; i < 30000; i++ {
		fs = append(fs, finding(i, checks.Severities[i*3/30000], "cloudformation-failed-stacks"))
	}
	failures := []crossaccount.Failure{{AccountID: "123456789012", Code: "AccessDenied", Message: "denied"}}
	r := Build("big", asOf, []string{"us-east-1"}, checks.All(), fanOut(fs, nil, failures))
	full, omitted, err := FitJSON(r, 1<<30)
	if err != nil || omitted.Any() {
		t.Fatal(err)
	}
	const limit = 2_000_000
	b, omitted, err := FitJSON(r, limit)
	if err != nil || len(b) > limit || len(b) < limit*8/10 || omitted.Findings == 0 || omitted.Errors != 0 {
		t.Fatalf("%d bytes (full %d), err %v", len(b), len(full), err)
	}
	var got Result
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.FindingsOmitted != omitted.Findings || len(got.Findings)+got.FindingsOmitted != len(fs) || len(got.Errors) != 1 {
		t.Errorf("%d findings + %d omitted, %d errors", len(got.Findings), got.FindingsOmitted, len(got.Errors))
	}
	for i, f := range got.Findings { // the kept ones are the first, most severe ones, in order
		if f.ResourceID != fs[i].ResourceID {
			t.Fatalf("kept finding %d is %s, want %s", i, f.ResourceID, fs[i].ResourceID)
		}
	}
	if r.FindingsOmitted != 0 || len(r.Findings) != len(fs) {
		t.Error("FitJSON must not change the result it was given")
	}
}

// headed is the details of a finding of check given by header, as tests wrote them when details were keyed by
// header: each under the ID of the column of check (registered, or one of these tests') that has the header, and a
// header no column has under checks.UnknownHeaderID, as a state of version 2 is read.
func headed(check string, byHeader map[string]string) checks.Details {
	var l checks.Layout
	for _, c := range append(checks.All(), unknownCheck{}) {
		if c.Name() == check {
			l = c.Layout()
		}
	}
	f := checks.Finding{Check: check}
	for h, v := range byHeader {
		id := checks.UnknownHeaderID(h)
		if col := l.ByHeader(h); col != nil {
			id = col.ID
		}
		f.SetDetail(id, v)
	}
	return f.Details
}
