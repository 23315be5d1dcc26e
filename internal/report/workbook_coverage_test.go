package report

import (
	"bytes"
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// TestCoverageListsFailuresFirst builds the Coverage sheet of cells whose failures (an AWS error, the deadline) sit
// among clean cells and cells with findings: the failures come first, then the rest, each group in the cells' order,
// every cell exactly once; a failure row keeps its fill.
func TestCoverageListsFailuresFirst(t *testing.T) {
	t.Parallel()
	stacks, ri := "cloudformation-failed-stacks", "ec2-reserved-instances"
	var cells []crossaccount.Cell
	for _, a := range []string{"111111111111", "222222222222", "333333333333"} {
		for _, region := range []string{"eu-west-1", "us-east-1"} {
			for _, c := range []string{stacks, ri} {
				cells = append(cells, crossaccount.Cell{AccountID: a, AccountName: "acct-" + a[:1], Region: region, Check: c, Outcome: crossaccount.OutcomeClean})
			}
		}
	}
	fail := func(i int, code, msg string) {
		cells[i].Outcome, cells[i].Code, cells[i].Message = crossaccount.OutcomeError, code, msg
	}
	fail(3, "AccessDenied", "not authorized")
	fail(6, crossaccount.CodeDeadline, "not audited: the deadline was reached")
	fail(11, crossaccount.CodeDeadline, "not audited: the deadline was reached")
	cells[1].Outcome, cells[1].Findings = crossaccount.OutcomeFindings, 2
	cells[9].Outcome, cells[9].Findings = crossaccount.OutcomeFindings, 1
	r := Build("run-cov", asOf, []string{"eu-west-1", "us-east-1"}, checks.All(), fanOut(nil, cells, nil))

	key := func(c crossaccount.Cell) string {
		return c.AccountID + "/" + c.Region + "/" + c.Check + "/" + string(c.Outcome)
	}
	var failed, rest []string
	for c := range r.Cells.All() {
		if c.Outcome == crossaccount.OutcomeError {
			failed = append(failed, key(c))
		} else {
			rest = append(rest, key(c))
		}
	}
	if len(failed) != 3 || len(rest) != len(cells)-3 {
		t.Fatalf("the scenario has %d failures and %d other cells, want 3 and %d", len(failed), len(rest), len(cells)-3)
	}
	want := append(failed, rest...)

	b, err := Workbook(r, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	header, rows, _ := tableRows(t, f, CoverageSheet)
	if !slices.Equal(header, CoverageColumns) {
		t.Fatalf("header %q", header)
	}
	col := func(name string) int { return slices.Index(CoverageColumns, name) }
	var got []string
	for _, row := range rows {
		got = append(got, row[col("Account ID")]+"/"+row[col("Region")]+"/"+row[col("Check")]+"/"+row[col("Outcome")])
	}
	if !slices.Equal(got, want) {
		t.Errorf("Coverage rows\n%q\nwant the failures first, then the rest, each in the cells' order:\n%q", got, want)
	}
	for i := range failed {
		style, _ := f.GetCellStyle(CoverageSheet, cellName(1, i+2))
		s, err := f.GetStyle(style)
		if err != nil || s.Fill.Pattern != 1 || len(s.Fill.Color) == 0 {
			t.Errorf("failure row %d is not filled as an error: %+v %v", i+2, s.Fill, err)
		}
	}
}
