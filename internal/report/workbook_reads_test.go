package report

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/history"
)

// headerFill is the fill of every table header.
const headerFill = "305496"

// TestWorkbookHeadersAlignWithTheirNumbers reads every table header of every sheet back: over a column of numbers
// (or dates), which a spreadsheet right-aligns, the header is right-aligned too; over text it is not. A left-aligned
// "Critical" over a right-aligned 2 reads as heading the 4 to its right.
func TestWorkbookHeadersAlignWithTheirNumbers(t *testing.T) {
	t.Parallel()
	r, _ := renderScenario()
	r.Owners = []OwnerCounts{{Owner: "team-a", Accounts: 2, Critical: 1, Warning: 3, FailedCells: 1}}
	f, _ := openWorkbook(t, r)
	checked := map[string]bool{} // "sheet/header" of every header over numbers
	gapped := map[string]bool{}  // and of every text column after one
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		isHeader := func(col, row int) bool {
			id, _ := f.GetCellStyle(sheet, cellName(col, row))
			st, err := f.GetStyle(id)
			return err == nil && len(st.Fill.Color) > 0 && st.Fill.Color[0] == headerFill
		}
		// A cell inside a merged range, not its first, shows the range's value: the text that spans it.
		merged := map[string]bool{}
		ranges, err := f.GetMergeCells(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ranges {
			c1, r1, _ := excelize.CellNameToCoordinates(m.GetStartAxis())
			c2, r2, _ := excelize.CellNameToCoordinates(m.GetEndAxis())
			for c := c1; c <= c2; c++ {
				for rr := r1; rr <= r2; rr++ {
					if c != c1 || rr != r1 {
						merged[cellName(c, rr)] = true
					}
				}
			}
		}
		blank := func(i int) bool {
			for _, v := range rows[i] {
				if v != "" {
					return false
				}
			}
			return true
		}
		for i, row := range rows {
			leftRight := false // the header to the left is right-aligned
			for j, h := range row {
				if h == "" || !isHeader(j+1, i+1) {
					leftRight = false
					continue
				}
				numbers, text, firstText := 0, 0, ""
				for k := i + 1; k < len(rows) && !blank(k) && !isHeader(1, k+1); k++ {
					cell := cellName(j+1, k+1)
					v, _ := f.GetCellValue(sheet, cell)
					if v == "" || merged[cell] {
						continue
					}
					typ, _ := f.GetCellType(sheet, cell)
					if typ == excelize.CellTypeUnset || typ == excelize.CellTypeNumber || typ == excelize.CellTypeDate {
						numbers++
					} else {
						text++
						if firstText == "" {
							firstText = cell
						}
					}
				}
				id, _ := f.GetCellStyle(sheet, cellName(j+1, i+1))
				st, _ := f.GetStyle(id)
				right := st.Alignment != nil && st.Alignment.Horizontal == "right"
				switch {
				case numbers > 0 && text == 0:
					checked[sheet+"/"+h] = true
					if !right {
						t.Errorf("%s!%s: header %q over %d numbers is not right-aligned (%+v)", sheet, cellName(j+1, i+1), h, numbers, st.Alignment)
					}
				case text > 0 && right:
					t.Errorf("%s!%s: header %q over text is right-aligned", sheet, cellName(j+1, i+1), h)
				case text > 0 && leftRight:
					// Text right after right-aligned numbers is indented, header and cells, so the two do not touch.
					gapped[sheet+"/"+h] = true
					tid, _ := f.GetCellStyle(sheet, firstText)
					tst, _ := f.GetStyle(tid)
					if st.Alignment == nil || st.Alignment.Indent < 1 || tst.Alignment == nil || tst.Alignment.Indent < 1 {
						t.Errorf("%s!%s: text column %q after a column of numbers is not indented: header %+v, %s %+v", sheet, cellName(j+1, i+1), h,
							st.Alignment, firstText, tst.Alignment)
					}
				}
				leftRight = right
			}
		}
	}
	// The tables the issue names, each read: a header over numbers in each.
	for _, want := range []string{SummarySheet + "/Critical", SummarySheet + "/Notice", SummarySheet + "/Accounts", SummarySheet + "/Amount",
		"service-catalog-products/" + AgeColumn, "ec2-reserved-instances/Days left", TrendSheet + "/Warning", CoverageSheet + "/Findings", ResolvedSheet + "/" + AgeColumn,
		CommitmentsSheet + "/Commitments ending", CommitmentsSheet + "/" + AtRiskColumn} {
		if !checked[want] {
			t.Errorf("no header %s over numbers was read; read: %v", want, fmt.Sprint(checked))
		}
	}
	for _, want := range []string{SummarySheet + "/Title", TrendSheet + "/Run ID", ResolvedSheet + "/Resolved reason", "service-catalog-products/Console",
		CoverageSheet + "/Error code"} {
		if !gapped[want] {
			t.Errorf("no text column %s after numbers was read; read: %v", want, fmt.Sprint(gapped))
		}
	}
}

// TestWorkbookResolvedRowsAreNotFilledBySeverity reads the Resolved sheet back: a critical finding that is gone is
// good news, filled light green, not red like an open critical finding on its check's sheet.
func TestWorkbookResolvedRowsAreNotFilledBySeverity(t *testing.T) {
	t.Parallel()
	r, _ := renderScenario()
	if !slices.ContainsFunc(r.Resolved, func(x history.Resolved) bool { return x.Severity == checks.Critical }) {
		r.Resolved[0].Severity = checks.Critical
	}
	f, _ := openWorkbook(t, r)
	rows, err := f.GetRows(ResolvedSheet)
	if err != nil || len(rows) < len(r.Resolved)+1 {
		t.Fatalf("Resolved has %d rows (%v), want %d findings", len(rows), err, len(r.Resolved))
	}
	for i := range r.Resolved {
		for j := range ResolvedColumns {
			cell := cellName(j+1, i+2)
			id, _ := f.GetCellStyle(ResolvedSheet, cell)
			st, err := f.GetStyle(id)
			if err != nil || len(st.Fill.Color) == 0 || !strings.EqualFold(st.Fill.Color[0], resolvedFill) {
				t.Errorf("Resolved!%s (%s, %s) is filled %+v, want the resolved green %s", cell, r.Resolved[i].Severity, ResolvedColumns[j], st.Fill, resolvedFill)
			}
		}
	}
}

// TestWorkbookChartAxisLabelsAreDark reads every chart's XML in the workbook: each axis's labels are drawn in a dark
// colour of their own, not excelize's default (the text colour lightened by 85%, about #D9D9D9), unreadable on white
// and gone on paper.
func TestWorkbookChartAxisLabelsAreDark(t *testing.T) {
	t.Parallel()
	r, _ := renderScenario()
	_, b := openWorkbook(t, r)
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	axis := regexp.MustCompile(`(?s)<(catAx|valAx|dateAx)>(.*?)</(?:catAx|valAx|dateAx)>`)
	txPr := regexp.MustCompile(`(?s)<txPr>(.*?)</txPr>`)
	colour := regexp.MustCompile(`<a:defRPr[^>]*>\s*<a:solidFill>\s*<a:srgbClr val="([0-9A-Fa-f]{6})"`)
	charts := 0
	for _, zf := range z.File {
		if !strings.HasPrefix(zf.Name, "xl/charts/chart") {
			continue
		}
		charts++
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		x, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		axes := axis.FindAllSubmatch(x, -1)
		if len(axes) < 2 {
			t.Errorf("%s: %d axes, want 2", zf.Name, len(axes))
		}
		for _, a := range axes {
			tx := txPr.FindSubmatch(a[2])
			if tx == nil {
				t.Errorf("%s %s: no text properties: the labels take the default light grey", zf.Name, a[1])
				continue
			}
			c := colour.FindSubmatch(tx[1])
			if c == nil {
				t.Errorf("%s %s: labels have no colour of their own: %s", zf.Name, a[1], tx[1])
				continue
			}
			v, _ := strconv.ParseUint(string(c[1]), 16, 32)
			if lum := (299*(v>>16&0xff) + 587*(v>>8&0xff) + 114*(v&0xff)) / 1000; lum > 0x60 {
				t.Errorf("%s %s: labels are #%s, luminance %d: too pale to read, want dark (such as #404040)", zf.Name, a[1], c[1], lum)
			}
		}
	}
	if charts < 2 {
		t.Errorf("%d charts in the workbook, want the Trend's and the Commitments'", charts)
	}
}

// TestWorkbookMoneyHasOneFormat reads every amount of money back from every sheet: each is a number in the one
// money format (moneyFormat), whether the run computed it (the money columns, the Summary's and the month table's
// sums) or a check reported it as a detail (an upfront fee, a commitment per hour). A whole amount written as a
// whole number showed "100" beside "2,132.18".
func TestWorkbookMoneyHasOneFormat(t *testing.T) {
	t.Parallel()
	r, _ := renderScenario()
	money := map[string]bool{"Amount": true, "Covered (USD/month)": true}
	for _, col := range moneyColumns(true) {
		if moneyKind(col) == checks.KindNumber {
			money[col] = true
		}
	}
	for _, c := range checks.All() {
		for _, col := range c.Layout().Columns {
			if col.Money {
				money[col.Name] = true
			}
		}
	}
	// A whole amount, as AWS reports an upfront fee of 100 dollars: it must still read as money. The scenario's
	// reserved instance, as a MemoryDB node, carries two.
	i := slices.IndexFunc(r.Findings, func(fd checks.Finding) bool { return fd.Check == "ec2-reserved-instances" })
	if i < 0 {
		t.Fatal("the scenario has no reserved instance")
	}
	node := r.Findings[i]
	node.Check, node.ResourceID = "memorydb-reserved-nodes", "node-whole-upfront"
	r.Findings = append(r.Findings, node)
	whole := 0
	for i := range r.Findings {
		fd := &r.Findings[i]
		c, ok := checks.ByName(fd.Check)
		if !ok {
			continue
		}
		for _, col := range c.Layout().Columns {
			if col.Money {
				fd.SetDetail(col.ID, "100")
				whole++
			}
		}
	}
	if whole == 0 {
		t.Fatal("the scenario has no finding with a money detail")
	}
	f, _ := openWorkbook(t, r)
	read := map[string]int{}
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		format := func(cell string) string {
			id, _ := f.GetCellStyle(sheet, cell)
			st, err := f.GetStyle(id)
			if err != nil || st.CustomNumFmt == nil {
				return fmt.Sprintf("built-in %d", st.NumFmt)
			}
			return *st.CustomNumFmt
		}
		for i, row := range rows {
			for j, h := range row {
				if !money[h] {
					continue
				}
				for k := i + 1; k < len(rows) && slices.ContainsFunc(rows[k], func(v string) bool { return v != "" }); k++ {
					cell := cellName(j+1, k+1)
					typ, _ := f.GetCellType(sheet, cell)
					v, _ := f.GetCellValue(sheet, cell)
					if v == "" || typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
						continue
					}
					read[h]++
					if got := format(cell); got != moneyFormat {
						t.Errorf("%s!%s (%s) = %s is formatted %q, want the money format %q", sheet, cell, h, v, got, moneyFormat)
					}
				}
			}
			if len(row) > 1 && row[0] == AtRiskSummaryRow {
				read[AtRiskSummaryRow]++
				if got := format(cellName(2, i+1)); got != moneyFormat {
					t.Errorf("Summary's %s is formatted %q, want %q", AtRiskSummaryRow, got, moneyFormat)
				}
			}
		}
	}
	for _, want := range []string{USDPerMonthColumn, AtRiskColumn, PriceUpfrontColumn, "Amount", "Covered (USD/month)", AtRiskSummaryRow, "Upfront (USD)"} {
		if read[want] == 0 {
			t.Errorf("no amount under %q was read; read %v", want, read)
		}
	}
}

// TestWorkbookPaper holds the paper each locale prints on, and that every sheet of the workbook declares it: A4
// unless AUDIT_PAPER or the locale says Letter; a bad AUDIT_PAPER is refused, naming it.
func TestWorkbookPaper(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "A4"},
		{map[string]string{"LANG": "C.UTF-8"}, "A4"},
		{map[string]string{"LANG": "en_US.UTF-8"}, "Letter"},
		{map[string]string{"LANG": "en_GB.UTF-8"}, "A4"},
		{map[string]string{"LANG": "fr_CA.UTF-8@euro"}, "Letter"},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_PAPER": "de_DE.UTF-8"}, "A4"},
		{map[string]string{"LC_ALL": "en_US", "LC_PAPER": "de_DE.UTF-8"}, "Letter"},
		{map[string]string{"LANG": "en_US.UTF-8", PaperEnv: "A4"}, "A4"},
		{map[string]string{"LANG": "de_DE.UTF-8", PaperEnv: " letter"}, "Letter"},
	} {
		p, err := paperFromEnv(func(k string) string { return c.env[k] })
		if err != nil || p.name != c.want {
			t.Errorf("%v: paper %s (%v), want %s", c.env, p.name, err, c.want)
		}
	}
	if _, err := paperFromEnv(func(k string) string { return map[string]string{PaperEnv: "legal"}[k] }); err == nil || !strings.Contains(err.Error(), PaperEnv) {
		t.Errorf("AUDIT_PAPER=legal: %v, want an error naming %s", err, PaperEnv)
	}

	r, _ := renderScenario()
	for env, size := range map[string]int{"letter": 1, "a4": 9} {
		t.Setenv(PaperEnv, env)
		f, _ := openWorkbook(t, r)
		for _, sheet := range f.GetSheetList() {
			l, err := f.GetPageLayout(sheet)
			if err != nil || l.Size == nil || *l.Size != size {
				t.Errorf("%s=%s: sheet %s prints on paper size %v (%v), want %d", PaperEnv, env, sheet, l.Size, err, size)
			}
		}
	}
	t.Setenv(PaperEnv, "legal")
	if _, err := Workbook(r, checks.All()); err == nil || !strings.Contains(err.Error(), PaperEnv) {
		t.Errorf("a workbook with AUDIT_PAPER=legal: %v, want an error naming %s", err, PaperEnv)
	}
}

// TestWorkbookWideSheetsWrapProse holds what lets a wide sheet print larger on one page's width: a column of prose
// (a reason, an error) is narrowed to minWrapWidth and wraps, in a row tall enough, while ids and statuses keep their
// width and never break mid-word.
func TestWorkbookWideSheetsWrapProse(t *testing.T) {
	t.Parallel()
	r, _ := renderScenario()
	f, _ := openWorkbook(t, r)
	const sheet = "service-catalog-products"
	rows, err := f.GetRows(sheet)
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: %d rows (%v)", sheet, len(rows), err)
	}
	width := func(h string) float64 {
		j := slices.Index(rows[0], h)
		name, _ := excelize.ColumnNumberToName(j + 1)
		w, _ := f.GetColWidth(sheet, name)
		return w
	}
	for _, h := range []string{"Reason", "Record errors"} {
		if w := width(h); w > minWrapWidth+indentWidth {
			t.Errorf("%s: prose column %s is %.1f wide, want at most %d: it widens the sheet, which prints smaller", sheet, h, w, minWrapWidth+indentWidth)
		}
	}
	status := slices.Index(rows[0], "Record status")
	for _, row := range rows[1:] {
		if status < len(row) && width("Record status") < textWidth(row[status]) {
			t.Errorf("%s: status %s is cut to a column %.1f wide", sheet, row[status], width("Record status"))
		}
	}
}

// TestCommitmentsMonthTableSpeaksOnlyForItsMonths reads the month table back: a row for each month a commitment
// ends in and no other (nine rows of 0 after the notice threshold read as "nothing expires"), the note saying why the
// later months hold only what the thresholds reach, and no column that adds units of different sizes.
func TestCommitmentsMonthTableSpeaksOnlyForItsMonths(t *testing.T) {
	t.Parallel()
	r, _ := renderScenario()
	f, _ := openWorkbook(t, r)
	rows, err := f.GetRows(CommitmentsSheet)
	if err != nil {
		t.Fatal(err)
	}
	header := slices.IndexFunc(rows, func(row []string) bool { return slices.Equal(row, MonthColumns) })
	if header < 0 {
		t.Fatalf("no month table headed %q", MonthColumns)
	}
	ending := map[string]int{}
	for _, c := range commitments(r, checks.All()) {
		switch end := c.f.ExpiresAt; {
		case end == nil:
			ending[undatedMonth]++
		case end.Before(r.AsOf):
			ending[lapsedMonth]++
		default:
			ending[end.UTC().Format("2006-01")]++
		}
	}
	seen := 0
	for _, row := range rows[header+1:] {
		if len(row) == 0 || row[0] == totalMonth {
			break
		}
		seen++
		if n, err := strconv.Atoi(row[1]); err != nil || n == 0 || n != ending[row[0]] {
			t.Errorf("month %s: %q commitments ending, want %d (a month without one has no row)", row[0], row[1], ending[row[0]])
		}
	}
	if seen != len(ending) {
		t.Errorf("%d month rows, want one for each of %v", seen, ending)
	}
	for _, h := range MonthColumns {
		if strings.Contains(strings.ToLower(h), "unit") || h == "Count" {
			t.Errorf("the month table has a column %q: units of different sizes do not add up", h)
		}
	}
	if !slices.ContainsFunc(rows, func(row []string) bool {
		return len(row) > 0 && strings.Contains(row[0], "further away than the notice threshold") && strings.Contains(row[0], "only what the thresholds reach")
	}) {
		t.Error("the Commitments sheet does not say why the later months hold only what the thresholds reach")
	}
}

// TestWorkbookChartsCarryTheirValues reads every chart's references and caches: each series' numbers and each
// category and series name are cached in the chart, equal to the cells referred to, so a preview that does not
// recalculate draws the chart rather than an empty frame.
func TestWorkbookChartsCarryTheirValues(t *testing.T) {
	t.Parallel()
	r, _ := renderScenario()
	f, b := openWorkbook(t, r)
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	numRef := regexp.MustCompile(`(?s)<numRef><f>(.*?)</f>(.*?)</numRef>`)
	strRef := regexp.MustCompile(`(?s)<strRef><f>(.*?)</f>(.*?)</strRef>`)
	pt := regexp.MustCompile(`<pt idx="(\d+)"><v>(.*?)</v></pt>`)
	count := regexp.MustCompile(`<ptCount val="(\d+)">`)
	// cells are the raw values of the cells a reference names.
	cells := func(ref string) []string {
		ref = strings.NewReplacer("&#39;", "'", "$", "").Replace(ref)
		sheet, rng, _ := strings.Cut(ref, "!")
		sheet = strings.ReplaceAll(strings.Trim(sheet, "'"), "''", "'")
		from, to, ok := strings.Cut(rng, ":")
		if !ok {
			to = from
		}
		c1, r1, _ := excelize.CellNameToCoordinates(from)
		c2, r2, _ := excelize.CellNameToCoordinates(to)
		var out []string
		for col := c1; col <= c2; col++ {
			for row := r1; row <= r2; row++ {
				v, _ := f.GetCellValue(sheet, cellName(col, row), excelize.Options{RawCellValue: true})
				out = append(out, v)
			}
		}
		return out
	}
	charts := 0
	for _, zf := range z.File {
		if !strings.HasPrefix(zf.Name, "xl/charts/chart") {
			continue
		}
		charts++
		rc, _ := zf.Open()
		x, _ := io.ReadAll(rc)
		rc.Close()
		for _, kind := range []struct {
			re      *regexp.Regexp
			numbers bool
		}{{numRef, true}, {strRef, false}} {
			refs := kind.re.FindAllSubmatch(x, -1)
			if len(refs) == 0 {
				t.Errorf("%s: no references", zf.Name)
			}
			for _, m := range refs {
				ref, cache := string(m[1]), m[2]
				want := cells(ref)
				n := count.FindSubmatch(cache)
				if n == nil || string(n[1]) != strconv.Itoa(len(want)) {
					t.Errorf("%s %s: cache %s, want %d points", zf.Name, ref, cache, len(want))
					continue
				}
				got := make([]string, len(want))
				for _, p := range pt.FindAllSubmatch(cache, -1) {
					i, _ := strconv.Atoi(string(p[1]))
					got[i] = string(p[2])
				}
				for i := range want {
					same := got[i] == want[i]
					if kind.numbers {
						g, _ := strconv.ParseFloat(got[i], 64)
						w, _ := strconv.ParseFloat(want[i], 64)
						same = g == w && (got[i] == "") == (want[i] == "")
					} else if !same && want[i] != "" {
						// A date category is cached as the axis shows it.
						if d, err := strconv.ParseFloat(want[i], 64); err == nil {
							tm, _ := excelize.ExcelDateToTime(d, false)
							same = got[i] == tm.Format(time.DateOnly)
						}
					}
					if !same {
						t.Errorf("%s %s point %d: cached %q, the cell holds %q", zf.Name, ref, i, got[i], want[i])
					}
				}
			}
		}
	}
	if charts < 2 {
		t.Errorf("%d charts, want 2", charts)
	}
}

// TestWorkbookSheetsDeclareTheirDimension reads each sheet's declared dimension (the used range) from its XML: it is
// the range the sheet's cells span, not excelize's default "A1", which a preview sizing the sheet by it reads as one
// cell.
func TestWorkbookSheetsDeclareTheirDimension(t *testing.T) {
	t.Parallel()
	r, _ := renderScenario()
	checkDimensions(t, r)
}

// TestContinuedSheetsDeclareTheirDimension: a list continued on further sheets declares each sheet's own range.
func TestContinuedSheetsDeclareTheirDimension(t *testing.T) {
	const limit = 50
	lowerSheetRows(t, limit)
	checkDimensions(t, bigResult(limit))
}

// checkDimensions holds every sheet of r's workbook to its dimension.
func checkDimensions(t *testing.T, r *Result) {
	t.Helper()
	f, b := openWorkbook(t, r)
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{} // by part name
	dim := regexp.MustCompile(`<dimension ref="([^"]*)"`)
	for _, zf := range z.File {
		if strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			rc, _ := zf.Open()
			x, _ := io.ReadAll(rc)
			rc.Close()
			if m := dim.FindSubmatch(x); m != nil {
				declared[zf.Name] = string(m[1])
			}
		}
	}
	for i, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		cols := 0
		for _, row := range rows {
			cols = max(cols, len(row))
		}
		want := "A1:" + cellName(cols, len(rows))
		part := fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1)
		if got := declared[part]; got != want {
			t.Errorf("sheet %s (%s) declares dimension %q, its cells span %s", sheet, part, got, want)
		}
	}
}
