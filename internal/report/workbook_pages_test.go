package report

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
)

// lowerSheetRows makes a sheet hold n rows, its header included, for the test. Tests that call it must not be
// parallel: a sequential test finishes before any parallel one resumes, so no other test sees the lowered limit.
func lowerSheetRows(t *testing.T, n int) {
	t.Helper()
	was := sheetRows
	sheetRows = n
	t.Cleanup(func() { sheetRows = was })
}

// bigResult has more rows than a sheet of limit rows holds in the Coverage sheet, the Findings sheet, one check's sheet, the
// Commitments sheet and the Resolved, Unverified and Suppressed sheets.
func bigResult(limit int) *Result {
	stacks, ri := "cloudformation-failed-stacks", "ec2-reserved-instances"
	var cells []crossaccount.Cell
	var failures []crossaccount.Failure
	for a := range 2*limit/9 + 3 {
		for _, region := range []string{"eu-west-1", "us-east-1", "ap-south-1"} {
			for _, c := range []string{stacks, ri, "service-catalog-products"} {
				cell := crossaccount.Cell{AccountID: fmt.Sprintf("%012d", 100000000000+a), AccountName: fmt.Sprintf("acct-%d", a), Region: region,
					Check: c, Outcome: crossaccount.OutcomeClean}
				if a%7 == 0 && c == stacks {
					cell.Outcome, cell.Code, cell.Message = crossaccount.OutcomeError, "AccessDenied", "not authorized"
					failures = append(failures, crossaccount.Failure{AccountID: cell.AccountID, AccountName: cell.AccountName, Region: region,
						Check: c, Code: cell.Code, Message: cell.Message})
				}
				cells = append(cells, cell)
			}
		}
	}
	var fs []checks.Finding
	for i := range 2*limit + 5 {
		fs = append(fs, finding(i, checks.Warning, stacks))
	}
	for i := range limit + 7 {
		f := finding(i, checks.Notice, ri)
		d := 20 + i
		end := asOf.AddDate(0, 0, d)
		f.DaysLeft, f.ExpiresAt = &d, &end
		f.Money = usdMoney(0.1, 73, 73, 0, "1 year", "No Upfront") // priced, so the month table has a chart
		fs = append(fs, f)
	}
	checks.SortFindings(fs)
	r := Build("run-big", asOf, []string{"eu-west-1", "us-east-1", "ap-south-1"}, checks.All(), fanOut(fs, cells, failures))
	prev := asOf.AddDate(0, 0, -1)
	r.PreviousRunID, r.PreviousRunTime = "run-before", &prev
	r.Changes = &history.Changes{}
	first := asOf.AddDate(0, -1, 0)
	for i := range limit + 3 {
		r.Resolved = append(r.Resolved, history.Resolved{Finding: finding(10000+i, checks.Critical, stacks),
			FirstSeen: first, LastSeen: prev, AgeDays: 30, ResolvedReason: "gone"})
		r.Unverified = append(r.Unverified, history.Unverified{Finding: finding(20000+i, checks.Warning, stacks),
			FirstSeen: first, LastSeen: prev, AgeDays: 30, Code: "AccessDenied", Error: "not authorized"})
		r.Suppressed = append(r.Suppressed, SuppressedFinding{Finding: finding(30000+i, checks.Notice, stacks),
			Suppression: &history.Suppression{Line: 3, Reason: "accepted", Owner: "sre@example.com", Expires: asOf.AddDate(0, 1, 0).Format(time.DateOnly)}})
	}
	return r
}

// sheetsOf are the sheets of wb whose name is name or one of its continuations, in the workbook's order.
func sheetsOf(f *excelize.File, name string) []string {
	var out []string
	for _, s := range f.GetSheetList() {
		if s == name || (strings.HasSuffix(s, ")") && strings.Contains(s, " (") && strings.HasPrefix(name, s[:strings.LastIndex(s, " (")])) {
			out = append(out, s)
		}
	}
	return out
}

// tableRows are a sheet's data rows: those under the header down to the first empty row.
func tableRows(t *testing.T, f *excelize.File, sheet string) (header []string, rows [][]string, all [][]string) {
	t.Helper()
	all, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range all[1:] {
		if len(row) == 0 {
			break
		}
		rows = append(rows, row)
	}
	return all[0], rows, all
}

// TestListsContinueOnFurtherSheets lowers the row limit and builds the workbook of a result with more rows than a
// sheet holds: every list continues on "Name (2)", "Name (3)"... with the same header, table and widths, holds each
// row exactly once in order, and the Summary and the digest say where the list continues.
func TestListsContinueOnFurtherSheets(t *testing.T) {
	const limit = 50
	lowerSheetRows(t, limit)
	r := bigResult(limit)
	b, err := Workbook(r, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	stacks := checkByName("cloudformation-failed-stacks")
	var stackIDs, riIDs, allIDs []string
	for _, fd := range r.Findings {
		c, _ := r.check(fd.Check)
		allIDs = append(allIDs, c.Title()+"/"+fd.ResourceID)
		switch fd.Check {
		case stacks.Name():
			stackIDs = append(stackIDs, fd.ResourceID)
		case "ec2-reserved-instances":
			riIDs = append(riIDs, fd.ResourceID)
		}
	}
	// The Coverage sheets list the failed cells first, then the rest, each in the cells' order.
	var cellKeys, otherKeys []string
	for c := range r.Cells.All() {
		if c.Outcome == crossaccount.OutcomeError {
			cellKeys = append(cellKeys, c.AccountID+"/"+c.Region+"/"+c.Check)
		} else {
			otherKeys = append(otherKeys, c.AccountID+"/"+c.Region+"/"+c.Check)
		}
	}
	cellKeys = append(cellKeys, otherKeys...)
	key := func(cols []string, names ...string) func(row []string) string {
		idx := make([]int, len(names))
		for i, n := range names {
			idx[i] = slices.Index(cols, n)
		}
		return func(row []string) string {
			var parts []string
			for _, j := range idx {
				parts = append(parts, row[j])
			}
			return strings.Join(parts, "/")
		}
	}
	ids := func(list []string) []string { return list }
	resolvedIDs, unverifiedIDs, suppressedIDs := []string{}, []string{}, []string{}
	for i := range r.Resolved {
		resolvedIDs = append(resolvedIDs, r.Resolved[i].ResourceID)
		unverifiedIDs = append(unverifiedIDs, r.Unverified[i].ResourceID)
		suppressedIDs = append(suppressedIDs, r.Suppressed[i].ResourceID)
	}
	for _, list := range []struct {
		sheet string
		cols  []string
		want  []string
		key   func([]string) string
	}{
		{CoverageSheet, CoverageColumns, cellKeys, key(CoverageColumns, "Account ID", "Region", "Check")},
		{FindingsSheet, FindingsColumns, allIDs, key(FindingsColumns, CheckColumn, "Resource ID")},
		{stacks.Name(), FindingColumns(stacks), ids(stackIDs), key(FindingColumns(stacks), "Resource ID")},
		{CommitmentsSheet, CommitmentColumns, ids(riIDs), key(CommitmentColumns, "Resource ID")},
		{ResolvedSheet, ResolvedColumns, resolvedIDs, key(ResolvedColumns, "Resource ID")},
		{UnverifiedSheet, UnverifiedColumns, unverifiedIDs, key(UnverifiedColumns, "Resource ID")},
		{SuppressedSheet, SuppressedColumns, suppressedIDs, key(SuppressedColumns, "Resource ID")},
	} {
		sheets := sheetsOf(f, list.sheet)
		wantSheets := (len(list.want) + limit - 4) / (limit - 3)
		if len(sheets) < 2 || len(sheets) < wantSheets {
			t.Errorf("%s: %d rows on sheets %q; a sheet holds %d", list.sheet, len(list.want), sheets, limit)
			continue
		}
		var got []string
		firstWidths := columnWidths(t, f, sheets[0], len(list.cols))
		for k, s := range sheets {
			if want := fmt.Sprintf("%s (%d)", list.sheet, k+1); k > 0 && s != want && len(want) <= 31 {
				t.Errorf("%s: sheet %d is named %q, want %q", list.sheet, k+1, s, want)
			}
			if len(s) > 31 || strings.ContainsAny(s, `[]:*?/\`) {
				t.Errorf("sheet name %q: Excel takes at most 31 characters and none of []:*?/\\", s)
			}
			header, rows, all := tableRows(t, f, s)
			if len(all) > limit {
				t.Errorf("%s: %d rows, over the limit of %d", s, len(all), limit)
			}
			if !slices.Equal(header, list.cols) {
				t.Errorf("%s: header %q, want %q", s, header, list.cols)
			}
			tables, err := f.GetTables(s)
			if err != nil || len(tables) != 1 || tables[0].Range != "A1:"+cellName(len(list.cols), max(len(rows)+1, 2)) {
				t.Errorf("%s: tables %+v (%v), want one over the header and its %d rows", s, tables, err, len(rows))
			}
			if w := columnWidths(t, f, s, len(list.cols)); !slices.Equal(w, firstWidths) {
				t.Errorf("%s: column widths %v, want the first sheet's %v", s, w, firstWidths)
			}
			panes, err := f.GetPanes(s)
			if err != nil || !panes.Freeze || panes.YSplit != 1 {
				t.Errorf("%s: header row not frozen: %+v %v", s, panes, err)
			}
			for _, row := range rows {
				got = append(got, list.key(row))
			}
			if k < len(sheets)-1 {
				if note := strings.Join(all[len(all)-1], " "); !strings.Contains(note, sheets[k+1]) {
					t.Errorf("%s: the last line %q does not say the list continues on %s", s, note, sheets[k+1])
				}
			}
		}
		if !slices.Equal(got, list.want) {
			t.Errorf("%s: the sheets hold %d rows %q\nwant each of the %d exactly once, in order %q", list.sheet, len(got), got, len(list.want), list.want)
		}
		summary := sheetText(t, f, SummarySheet)
		if !strings.Contains(summary, strings.Join(sheets[1:], ", ")) {
			t.Errorf("the Summary does not say %s continues on %q:\n%s", list.sheet, sheets[1:], summary)
		}
	}

	// What sits below a list (notes, the month table and its chart, the rules) is on its last sheet.
	comm := sheetsOf(f, CommitmentsSheet)
	last := comm[len(comm)-1]
	if !strings.Contains(sheetText(t, f, last), strings.Join(MonthColumns, " | ")) {
		t.Errorf("the month table is not on the last Commitments sheet %s:\n%s", last, sheetText(t, f, last))
	}
	if chart := chartOf(t, b, last); !strings.Contains(chart, monthChartTitle) {
		t.Errorf("the chart of the months does not read sheet %s", last)
	}
	res := sheetsOf(f, ResolvedSheet)
	if !strings.Contains(sheetText(t, f, res[len(res)-1]), "findings of the previous run are gone") {
		t.Errorf("the Resolved note is not on its last sheet")
	}

	// The digest names the sheets a list it cuts short continues on.
	d := Digest(r, 2500)
	if !strings.Contains(d, "more failures in the workbook's Coverage sheets (Coverage to "+sheetsOf(f, CoverageSheet)[len(sheetsOf(f, CoverageSheet))-1]+")") {
		t.Errorf("the digest does not name the Coverage sheets:\n%s", d)
	}
}

func columnWidths(t *testing.T, f *excelize.File, sheet string, n int) []float64 {
	t.Helper()
	var out []float64
	for j := range n {
		name, _ := excelize.ColumnNumberToName(j + 1)
		w, err := f.GetColWidth(sheet, name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}

// TestCoverageAtTheRowLimit builds the workbook with as many cells as a sheet holds under its header, then one more;
// and as many as two sheets hold (the first ends with the line naming the second), then one more.
func TestCoverageAtTheRowLimit(t *testing.T) {
	const limit = 50
	lowerSheetRows(t, limit)
	cellsOf := func(n int) []crossaccount.Cell {
		out := make([]crossaccount.Cell, n)
		for i := range out {
			out[i] = crossaccount.Cell{AccountID: fmt.Sprintf("%012d", i), Region: "eu-west-1", Check: "cloudformation-failed-stacks", Outcome: crossaccount.OutcomeClean}
		}
		return out
	}
	for _, tc := range []struct{ cells, sheets int }{{limit - 1, 1}, {limit, 2}, {(limit - 3) + (limit - 1), 2}, {(limit - 3) + limit, 3}} {
		r := Build("run-edge", asOf, []string{"eu-west-1"}, checks.All(), fanOut(nil, cellsOf(tc.cells), nil))
		b, err := Workbook(r, checks.All())
		if err != nil {
			t.Fatalf("%d cells: %v", tc.cells, err)
		}
		f, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		sheets := sheetsOf(f, CoverageSheet)
		n := 0
		for _, s := range sheets {
			_, rows, all := tableRows(t, f, s)
			n += len(rows)
			if len(all) > limit {
				t.Errorf("%d cells: %s has %d rows", tc.cells, s, len(all))
			}
		}
		if len(sheets) != tc.sheets || n != tc.cells {
			t.Errorf("%d cells: %d rows on sheets %q, want %d sheets", tc.cells, n, sheets, tc.sheets)
		}
		f.Close()
	}
}

// TestSheetPagesAtExcelsLimit splits lists at the real limit: 1,048,576 rows a sheet, the header one of them.
func TestSheetPagesAtExcelsLimit(t *testing.T) {
	t.Parallel()
	if sheetRows != excelize.TotalRows || excelize.TotalRows != 1048576 {
		t.Fatalf("a sheet holds %d rows; Excel's limit is 1,048,576 (excelize.TotalRows %d)", sheetRows, excelize.TotalRows)
	}
	for _, tc := range []struct {
		n, tail int
		want    []int
	}{
		{0, 0, []int{0}},
		{1048575, 0, []int{1048575}},
		{1048576, 0, []int{1048573, 3}},
		{1048574, 1, []int{1048574}},
		{1048575, 1, []int{1048573, 2}},
		{1370000, 0, []int{1048573, 321427}}, // 10,000 accounts x 17 regions x 9 checks, less the cells of skipped ones
		// Every sheet but the last ends with the line naming the next; the last holds up to its last row.
		{2*1048573 + 1048575, 0, []int{1048573, 1048573, 1048575}},
		{2*1048573 + 1048576, 0, []int{1048573, 1048573, 1048573, 3}},
		// A tail (notes, a table below) too tall for the last full sheet: the last sheet takes fewer rows.
		{1048573, 20, []int{1048555, 18}},
	} {
		pages, err := sheetPages(tc.n, tc.tail)
		if err != nil {
			t.Fatalf("%d rows, %d below: %v", tc.n, tc.tail, err)
		}
		var got []int
		first := 0
		for k, p := range pages {
			if p.first != first {
				t.Errorf("%d rows: sheet %d starts at %d, want %d", tc.n, k+1, p.first, first)
			}
			first += p.rows
			got = append(got, p.rows)
			used := max(p.rows+1, 2) + continuedRows
			if k == len(pages)-1 {
				used = max(p.rows+1, 2) + tc.tail
			}
			if used > excelize.TotalRows {
				t.Errorf("%d rows: sheet %d takes %d rows", tc.n, k+1, used)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%d rows, %d below: sheets of %v rows, want %v", tc.n, tc.tail, got, tc.want)
		}
	}
}

// TestContinuationSheetNames: every continuation of every sheet is a name Excel accepts and no other sheet's.
func TestContinuationSheetNames(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	base := []string{SummarySheet, FindingsSheet, CommitmentsSheet, CoverageSheet, ResolvedSheet, UnverifiedSheet, SuppressedSheet, TrendSheet}
	for _, c := range checks.All() {
		base = append(base, c.Name())
	}
	for _, b := range base {
		for k := range 1000 {
			name := sheetName(b, k)
			if k == 0 && name != b {
				t.Errorf("the first sheet of %s is %q", b, name)
			}
			if len(name) > 31 || strings.ContainsAny(name, `[]:*?/\'`) || name != strings.TrimSpace(name) {
				t.Errorf("%s sheet %d: %q is no sheet name Excel accepts", b, k+1, name)
			}
			if other, ok := seen[name]; ok {
				t.Errorf("%q names a sheet of both %s and %s", name, other, b)
			}
			seen[name] = b
		}
	}
}
