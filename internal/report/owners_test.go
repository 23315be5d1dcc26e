package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// TestOwnersInTheResultAndWorkbook: findings, errors and skipped accounts carry owner and ou in the JSON; the check
// sheets and the Coverage sheet have Owner and OU columns; the Summary counts by owner (findings by severity, failed
// cells, accounts, accounts owned by OU because their tag was unreadable), most critical first; and the warnings say
// how many owner tags could not be read.
func TestOwnersInTheResultAndWorkbook(t *testing.T) {
	t.Parallel()
	const check = "cloudformation-failed-stacks"
	prod, dev := "Root/Workloads/Prod", "Root/Workloads/Dev"
	accounts := []crossaccount.Account{
		{ID: "111111111111", Name: "payments", OU: prod, Owner: "payments-team@example.com"},
		{ID: "222222222222", Name: "analytics", OU: prod, Owner: prod, OwnerNote: "owner tag unreadable (AccessDeniedException: no): owned by its OU"},
		{ID: "333333333333", Name: "dev", OU: dev, Owner: "dev-team"},
	}
	at := func(i int, sev checks.Severity) checks.Finding {
		a := accounts[i]
		f := finding(i, sev, check)
		f.AccountID, f.AccountName, f.Owner, f.OU = a.ID, a.Name, a.Owner, a.OU
		return f
	}
	findings := []checks.Finding{at(0, checks.Warning), at(1, checks.Critical), at(1, checks.Notice), at(2, checks.Notice)}
	cell := func(i int, o crossaccount.Outcome) crossaccount.Cell {
		a := accounts[i]
		return crossaccount.Cell{AccountID: a.ID, AccountName: a.Name, Owner: a.Owner, OU: a.OU, Region: "eu-west-1", Check: check, Outcome: o, Code: map[bool]string{true: "AccessDenied"}[o == crossaccount.OutcomeError]}
	}
	fan := &crossaccount.Result{Scope: "organization", Accounts: accounts, Findings: findings,
		Cells:      crossaccount.NewCells(cell(0, crossaccount.OutcomeFindings), cell(1, crossaccount.OutcomeFindings), cell(2, crossaccount.OutcomeError), cell(2, crossaccount.OutcomeError)),
		Failures:   []crossaccount.Failure{{AccountID: "333333333333", Owner: "dev-team", OU: dev, Region: "eu-west-1", Check: check, Code: "AccessDenied"}},
		Skipped:    []crossaccount.Skipped{{AccountID: "444444444444", OU: "Root/Sandbox", Owner: "Root/Sandbox", Reason: "account state is SUSPENDED"}},
		OwnerStats: crossaccount.OwnerStats{Read: 2, Failed: 1, Unknown: 3, OverBudget: 2},
	}
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All(), fan)
	want := []OwnerCounts{
		{Owner: prod, Accounts: 1, Critical: 1, Notice: 1, TagUnread: 1},
		{Owner: "payments-team@example.com", Accounts: 1, Warning: 1},
		{Owner: "dev-team", Accounts: 1, Notice: 1, FailedCells: 2},
	}
	if !slices.Equal(r.Owners, want) {
		t.Errorf("owners %+v\nwant %+v", r.Owners, want)
	}
	if !slices.Contains(r.Warnings, "owner tags of 3 accounts could not be read (1 unreadable, 2 not read yet within this run's budget): their OU path stands as their owner") {
		t.Errorf("warnings %q", r.Warnings)
	}
	if !strings.Contains(Digest(r, MaxDigestBytes), "owner tags of 3 accounts could not be read") {
		t.Error("the digest does not say the owner tags could not be read")
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Findings []map[string]any `json:"findings"`
		Errors   []map[string]any `json:"errors"`
		Skipped  []map[string]any `json:"skipped"`
		Owners   []OwnerCounts    `json:"owners"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for name, rows := range map[string][]map[string]any{"findings": back.Findings, "errors": back.Errors, "skipped": back.Skipped} {
		for _, row := range rows {
			if row["owner"] == "" || row["ou"] == "" || row["owner"] == nil || row["ou"] == nil {
				t.Errorf("%s row without owner or ou: %v", name, row)
			}
		}
	}
	if !slices.Equal(back.Owners, want) {
		t.Errorf("JSON owners %+v", back.Owners)
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
	// The Coverage sheet lists the failed cells first: its first row is the dev account's.
	for sheet, wantRow := range map[string][2]string{check: {findings[0].Owner, findings[0].OU}, CoverageSheet: {accounts[2].Owner, dev}} {
		for k, col := range []string{OwnerColumn, OUColumn} {
			if v, _ := f.GetCellValue(sheet, cellAt(t, f, sheet, col, 2)); v != wantRow[k] {
				t.Errorf("%s %s: %q, want %q", sheet, col, v, wantRow[k])
			}
		}
	}
	rows, err := f.GetRows(SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	head := slices.IndexFunc(rows, func(row []string) bool { return len(row) > 0 && row[0] == "Owner" })
	if head < 0 || len(rows) < head+1+len(want) {
		t.Fatalf("no owner table in the Summary: %q", rows)
	}
	if got := strings.Join(rows[head], "|"); got != "Owner|Critical|Warning|Notice|Failed cells|Accounts|Tag unread" {
		t.Errorf("owner table header %q", got)
	}
	if got := strings.Join(rows[head+3], "|"); got != "dev-team|0|0|1|2|1|0" {
		t.Errorf("dev-team's row %q", got)
	}
}
