package report

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// unknownCheck is a check this package has never heard of: everything the report shows of it comes from its Layout
// and DigestDetail, as it would for a check added tomorrow.
type unknownCheck struct{}

func (unknownCheck) Name() string      { return "unknown-commitments" }
func (unknownCheck) Title() string     { return "Commitments of a kind the report does not know" }
func (unknownCheck) Actions() []string { return []string{"unknown:DescribeCommitments"} }
func (unknownCheck) Layout() checks.Layout {
	return checks.Layout{Expiry: true, Kind: "unknown commitment", Columns: []checks.Column{
		{ID: "plan_type", Name: "Plan type", Kind: checks.KindText, Role: checks.RoleType},
		{ID: "units", Name: "Units", Kind: checks.KindNumber, Role: checks.RoleCount},
		{ID: "rate_usd_h", Name: "Rate (USD/h)", Kind: checks.KindNumber, Role: checks.RoleCommitment},
		{ID: "bought", Name: "Bought", Kind: checks.KindDate},
		{ID: "quote", Name: "Quote", Kind: checks.KindLink},
		{ID: "notes", Name: "Notes", Kind: checks.KindText, Width: 20},
		{ID: "renewal", Name: "Renewal", Kind: checks.KindText, Role: checks.RoleRenewal},
	}}
}
func (unknownCheck) DigestDetail(f *checks.Finding) string {
	return fmt.Sprintf("plan %s at %s USD/h", f.Detail("plan_type"), f.Detail("rate_usd_h"))
}
func (unknownCheck) Run(context.Context, checks.Target) ([]checks.Finding, error) { return nil, nil }

// TestReportRendersACheckFromItsDeclaration: a check's sheet and digest line come from what it declares, each column
// written as its kind: a real date, numbers (whole and decimal), a hyperlink, text wrapped at the declared width.
func TestReportRendersACheckFromItsDeclaration(t *testing.T) {
	t.Parallel()
	c := unknownCheck{}
	end, days := asOf.AddDate(0, 0, 9), 9
	notes := strings.Repeat("note ", 20)
	f := finding(1, checks.Warning, c.Name())
	f.ExpiresAt, f.DaysLeft = &end, &days
	f.Details = headed(f.Check, map[string]string{"Plan type": "Compute\nCRITICAL (9)", "Units": "3", "Rate (USD/h)": "1.25", "Bought": "2023-12-10T12:00:00Z",
		"Quote": "https://example.com/q?a=1", "Notes": notes, "Renewal": ""})
	if err := checks.CheckDeclared(c, &f); err != nil {
		t.Fatal(err)
	}
	r := Build("run-1", asOf, []string{"eu-west-1"}, []checks.Check{c}, fanOut([]checks.Finding{f}, nil, nil))
	b, err := Workbook(r, []checks.Check{c})
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	sheet := c.Name()
	rows, _ := x.GetRows(sheet)
	if want := FindingColumns(c); !slices.Equal(rows[0], want) || !slices.Contains(want, "Days left") || !slices.Contains(want, "Bought") {
		t.Fatalf("header %q, want %q with the expiry columns and the declared ones", rows[0], want)
	}
	raw := func(col string) (string, excelize.CellType) {
		cell := cellAt(t, x, sheet, col, 2)
		v, _ := x.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
		typ, _ := x.GetCellType(sheet, cell)
		return v, typ
	}
	number := func(typ excelize.CellType) bool {
		return typ == excelize.CellTypeUnset || typ == excelize.CellTypeNumber
	}
	if v, typ := raw("Units"); v != "3" || !number(typ) {
		t.Errorf("Units: %q type %v, want the number 3", v, typ)
	}
	if v, typ := raw("Rate (USD/h)"); v != "1.25" || !number(typ) {
		t.Errorf("Rate: %q type %v, want the number 1.25", v, typ)
	}
	if shown, _ := x.GetCellValue(sheet, cellAt(t, x, sheet, "Rate (USD/h)", 2)); shown != "1.25" {
		t.Errorf("Rate shows %q", shown)
	}
	bought := time.Date(2023, 12, 10, 12, 0, 0, 0, time.UTC)
	if v, _ := raw("Bought"); v != "45270.5" {
		t.Errorf("Bought: raw %q, want the Excel serial of %s", v, bought)
	}
	if shown, _ := x.GetCellValue(sheet, cellAt(t, x, sheet, "Bought", 2)); shown != bought.Format("2006-01-02 15:04") {
		t.Errorf("Bought shows %q", shown)
	}
	if formula, _ := x.GetCellFormula(sheet, cellAt(t, x, sheet, "Quote", 2)); formula != `HYPERLINK("https://example.com/q?a=1","open")` {
		t.Errorf("Quote: formula %q, want a hyperlink", formula)
	}
	if v, typ := raw("Plan type"); v != f.Detail("plan_type") || number(typ) && typ != excelize.CellTypeUnset {
		t.Errorf("Plan type: %q type %v, want the text", v, typ)
	}
	notesCol := strings.TrimRight(cellAt(t, x, sheet, "Notes", 1), "0123456789") // past Z once the money columns are in
	if w, _ := x.GetColWidth(sheet, notesCol); w != 20 {
		t.Errorf("Notes is %.1f wide, want its declared 20", w)
	}
	if st, _ := x.GetCellStyle(sheet, cellAt(t, x, sheet, "Notes", 2)); st == 0 {
		t.Error("Notes has no style")
	} else if s, _ := x.GetStyle(st); s.Alignment == nil || !s.Alignment.WrapText {
		t.Error("Notes wider than its declared width does not wrap")
	}

	d := Digest(r, 0)
	line := linesWith(strings.Split(d, "\n"), "[unknown-commitments]")
	if !strings.Contains(line, "res-000001 plan Compute CRITICAL (9) at 1.25 USD/h: 9 days left") {
		t.Errorf("digest line %q, want the check's detail, on one line", line)
	}
}

// TestCheckSheetsHaveOneColumnPerName: a check's declared columns never take the name of a column every sheet has (the
// money columns included, with the on-demand ones or without), nor do the Commitments sheet's, so
// each value has one place and the sheet's table has unique headers, as Excel requires.
func TestCheckSheetsHaveOneColumnPerName(t *testing.T) {
	t.Parallel()
	unique := func(sheet string, cols []string) {
		seen := map[string]bool{}
		for _, col := range cols {
			if seen[col] {
				t.Errorf("%s: two columns named %q", sheet, col)
			}
			seen[col] = true
		}
	}
	for _, onDemand := range []bool{false, true} {
		for _, c := range append(checks.All(), unknownCheck{}) {
			unique(c.Name(), sheetColumnNames(c, onDemand))
		}
		unique(CommitmentsSheet, commitmentColumns(onDemand))
	}
	unique(FindingsSheet, FindingsColumns)
}
