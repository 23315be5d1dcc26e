package report

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestFindingsSheet: right after the Summary, one table holds every open finding of every check exactly once, in the
// run's order, each cell typed (days left a number, the end a date, the money numbers, the console a link), empty
// where the finding has no such value (never 0), each row filled as its check sheet fills it; the header is frozen
// and the table carries the autofilter.
func TestFindingsSheet(t *testing.T) {
	t.Parallel()
	r, cs := commitmentScenario()
	changes := []string{"new", "escalated", "ongoing"}
	for i := range r.Findings {
		r.Findings[i].Change = changes[i%len(changes)]
		r.Findings[i].ResourceType = fmt.Sprintf("AWS::Test::Type%d", i)
	}
	b, err := Workbook(r, cs)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) < 2 || sheets[1] != FindingsSheet {
		t.Fatalf("sheets %q: want %s right after %s", sheets, FindingsSheet, SummarySheet)
	}
	header, rows, _ := tableRows(t, f, FindingsSheet)
	if !slices.Equal(header, FindingsColumns) {
		t.Fatalf("header %q, want %q", header, FindingsColumns)
	}
	if len(rows) != len(r.Findings) {
		t.Fatalf("%d rows, want the %d findings", len(rows), len(r.Findings))
	}
	titles := map[string]string{}
	for _, c := range cs {
		titles[c.Name()] = c.Title()
	}
	seen := map[string]int{}
	raw := func(cell string) string {
		v, _ := f.GetCellValue(FindingsSheet, cell, excelize.Options{RawCellValue: true})
		return v
	}
	fill := func(sheet, cell string) string {
		id, _ := f.GetCellStyle(sheet, cell)
		s, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(s.Fill.Pattern, s.Fill.Color)
	}
	var money, noMoney int
	for i := range r.Findings {
		fd, n := &r.Findings[i], i+2
		at := func(col string) string { return cellAt(t, f, FindingsSheet, col, n) }
		text := map[string]string{"Severity": string(fd.Severity), ChangeColumn: fd.Change, "Account name": fd.AccountName,
			"Account ID": fd.AccountID, OwnerColumn: fd.Owner, OUColumn: fd.OU, "Region": fd.Region, CheckColumn: titles[fd.Check],
			ResourceTypeColumn: fd.ResourceType, "Resource ID": fd.ResourceID, "Resource name": fd.ResourceName, "Status": fd.Status, "Reason": fd.Reason}
		for col, want := range text {
			cell := at(col)
			v, _ := f.GetCellValue(FindingsSheet, cell)
			typ, _ := f.GetCellType(FindingsSheet, cell)
			if v != want || (want != "" && typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString) {
				t.Errorf("row %d %s: %q (type %v), want the text %q", n, col, v, typ, want)
			}
		}
		seen[fd.Check+"/"+fd.AccountID+"/"+fd.ResourceID]++

		days, end := raw(at("Days left")), raw(at("Expires (UTC)"))
		if fd.DaysLeft == nil {
			if days != "" || end != "" {
				t.Errorf("row %d: undated, days left %q expires %q, want empty", n, days, end)
			}
		} else {
			if days != strconv.Itoa(*fd.DaysLeft) {
				t.Errorf("row %d: days left %q, want the number %d", n, days, *fd.DaysLeft)
			}
			serial, err := strconv.ParseFloat(end, 64)
			shown, _ := f.GetCellValue(FindingsSheet, at("Expires (UTC)"))
			if err != nil || serial < 40000 || shown != fd.ExpiresAt.UTC().Format("2006-01-02 15:04") {
				t.Errorf("row %d: expires %q shown %q, want the date %s", n, end, shown, fd.ExpiresAt)
			}
		}
		for col, p := range map[string]*float64{USDPerMonthColumn: nil, AtRiskColumn: nil} {
			if fd.Money != nil {
				p = map[string]*float64{USDPerMonthColumn: fd.Money.USDPerMonth, AtRiskColumn: fd.Money.USDPerMonthAtRisk}[col]
			}
			got := raw(at(col))
			if p == nil {
				if got != "" {
					t.Errorf("row %d %s: %q, want empty: the finding has no such figure", n, col, got)
				}
				noMoney++
				continue
			}
			money++
			if x, err := strconv.ParseFloat(got, 64); err != nil || x != *p {
				t.Errorf("row %d %s: %q, want the number %v", n, col, got, *p)
			}
		}
		formula, _ := f.GetCellFormula(FindingsSheet, at("Console"))
		if !strings.HasPrefix(formula, "HYPERLINK(") || !strings.Contains(formula, fd.ConsoleURL) {
			t.Errorf("row %d console: formula %q, want a link to %s", n, formula, fd.ConsoleURL)
		}

		// The row is filled as the finding's row on its check sheet.
		_, checkRows, _ := tableRows(t, f, fd.Check)
		k := slices.IndexFunc(checkRows, func(row []string) bool {
			return slices.Contains(row, fd.ResourceID) && slices.Contains(row, fd.AccountID)
		})
		if k < 0 {
			t.Fatalf("%s/%s not on sheet %s", fd.AccountID, fd.ResourceID, fd.Check)
		}
		if got, want := fill(FindingsSheet, at("Reason")), fill(fd.Check, cellAt(t, f, fd.Check, "Reason", k+2)); got != want || want == fmt.Sprint(0, []string(nil)) {
			t.Errorf("row %d (%s): fill %s, want its check sheet's %s", n, fd.Severity, got, want)
		}
	}
	if money == 0 || noMoney == 0 {
		t.Errorf("the scenario has %d money cells with a figure and %d without: it must have both", money, noMoney)
	}
	for key, k := range seen {
		if k != 1 {
			t.Errorf("finding %s is %d times on the sheet", key, k)
		}
	}
	if len(seen) != len(r.Findings) {
		t.Errorf("%d distinct findings on the sheet, want %d", len(seen), len(r.Findings))
	}

	panes, err := f.GetPanes(FindingsSheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header row not frozen: %+v %v", panes, err)
	}
	tables, err := f.GetTables(FindingsSheet)
	if want := "A1:" + cellName(len(FindingsColumns), len(r.Findings)+1); err != nil || len(tables) != 1 || tables[0].Range != want {
		t.Fatalf("tables %+v %v, want one over %s", tables, err, want)
	}
	if part := tablePart(t, b, tables[0].Name); !strings.Contains(part, "<autoFilter ") {
		t.Errorf("the Findings table has no autofilter:\n%s", part)
	}
}

// tablePart is the XML of the table named name in the .xlsx b.
func tablePart(t *testing.T, b []byte, name string) string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range z.File {
		if !strings.HasPrefix(file.Name, "xl/tables/") {
			continue
		}
		rc, err := file.Open()
		if err != nil {
			t.Fatal(err)
		}
		x, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(x), ` name="`+name+`"`) {
			return string(x)
		}
	}
	t.Fatalf("no table %s in the workbook", name)
	return ""
}
