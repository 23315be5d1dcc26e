package report

import (
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// Sheet names besides one per check (named after the check). The memory sheets are always there, saying so when
// the run had nothing to compare with, so a reader or a script finds them by name every day.
const (
	SummarySheet    = "Summary"
	CoverageSheet   = "Coverage"
	ResolvedSheet   = "Resolved"
	UnverifiedSheet = "Unverified"
	SuppressedSheet = "Suppressed"
	TrendSheet      = "Trend"
)

// The memory columns of every check sheet: how the finding relates to the previous run (new, escalated, ongoing),
// when a run first found it (a date) and how many days it has been open (a number). Empty when the run has no history.
const (
	ChangeColumn = "Change"
	// AlertedColumn is when an event-driven alert told of the finding since the previous run (Finding.AlertedAt).
	AlertedColumn   = "Alerted (UTC)"
	FirstSeenColumn = "First seen"
	AgeColumn       = "Age (days)"
)

// The owner columns of every check sheet and the Coverage sheet: whom the account belongs to (its owner tag, else
// its OU path) and where it sits in the organization.
const (
	OwnerColumn = "Owner"
	OUColumn    = "OU"
)

// FindingColumns names the columns of c's sheet: those every check sheet starts with (Change next to Severity, to
// filter on; for a check whose findings expire, Days left, Expires and the money columns; First seen and Age after
// Reason), then the columns c's Layout declares, then Console. A run that read on-demand rates adds two money
// columns (sheetColumnNames).
func FindingColumns(c checks.Check) []string {
	return sheetColumnNames(c, false)
}

// sheetColumnNames are c's sheet's column names, with the on-demand columns when onDemand.
func sheetColumnNames(c checks.Check, onDemand bool) []string {
	cols := sheetColumns(c, onDemand)
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.Name
	}
	return names
}

// sheetColumn is one column of a check sheet: a field every finding has, or one of the check's declared details.
type sheetColumn struct {
	checks.Column
	detail bool
}

// sheetColumns are c's sheet's columns with their kinds; see FindingColumns.
func sheetColumns(c checks.Check, onDemand bool) []sheetColumn {
	l := c.Layout()
	field := func(name string, kind checks.ColumnKind) sheetColumn {
		return sheetColumn{Column: checks.Column{Name: name, Kind: kind}}
	}
	var cols []sheetColumn
	for _, name := range []string{"Severity", ChangeColumn, "Account ID", "Account name", "Resource ID", OwnerColumn, OUColumn, "Region", "Resource name", "Status"} {
		cols = append(cols, field(name, checks.KindText))
	}
	if l.Expiry {
		cols = append(cols, field("Days left", checks.KindNumber), field("Expires (UTC)", checks.KindDate))
		for _, name := range moneyColumns(onDemand) {
			cols = append(cols, field(name, moneyKind(name)))
		}
	}
	cols = append(cols, field("Reason", checks.KindText), field(FirstSeenColumn, checks.KindDate), field(AgeColumn, checks.KindNumber))
	for _, col := range l.Columns {
		cols = append(cols, sheetColumn{Column: col, detail: true})
	}
	return append(cols, field("Console", checks.KindLink))
}

// value is what fd holds in the column: a detail's text is read as its column's kind declares.
func (col sheetColumn) value(fd *checks.Finding) any {
	if col.detail {
		if col.Money {
			return moneyDetail(fd.Detail(col.ID))
		}
		return typedDetail(fd.Detail(col.ID), col.Kind)
	}
	return FindingValue(fd, col.Name)
}

// typedDetail reads a detail's text as its column's kind: a date from RFC 3339, a whole or decimal number. Text that
// does not read as its kind stays text, so a cell never loses what the check wrote.
func typedDetail(v string, kind checks.ColumnKind) any {
	if v == "" {
		return ""
	}
	switch kind {
	case checks.KindDate:
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.UTC()
		}
	case checks.KindNumber:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		if x, err := strconv.ParseFloat(v, 64); err == nil {
			return x
		}
	}
	return v
}

// moneyDetail reads an amount of money a check wrote as a detail: always a float64, so a whole amount ("100") is
// written in the money format like every other; text that is not a number stays text.
func moneyDetail(v string) any {
	if x, err := strconv.ParseFloat(v, 64); err == nil {
		return x
	}
	return typedDetail(v, checks.KindNumber)
}

// CoverageColumns are the Coverage sheet's columns.
var CoverageColumns = []string{"Account ID", "Account name", OwnerColumn, OUColumn, "Region", "Check", "Outcome", "Findings", "Error code", "Message"}

// cellStyles are the styles of one fill, by the kind of value. Every data cell is aligned to the top, so a row that
// grows for one wrapped cell still reads across; wrap is for text wider than its column's cap.
type cellStyles struct {
	text, date, day, number, decimal, wrap int
	// gapText and gapWrap are text indented from the left edge: text right after a column of right-aligned numbers
	// would otherwise touch them ("4Stack failed" for a 4 and a reason).
	gapText, gapWrap int
}

// day is a calendar date, shown without a time: a suppression rule's last day.
type day struct{ time.Time }

// cellValue is v as excelize writes it.
func cellValue(v any) any {
	if d, ok := v.(day); ok {
		return d.Time
	}
	return v
}

// of picks the style for v; wrap says whether text wraps in its column.
func (c cellStyles) of(v any, wrap bool) int {
	switch v.(type) {
	case int:
		return c.number
	case float64:
		return c.decimal
	case time.Time:
		return c.date
	case day:
		return c.day
	}
	if wrap {
		return c.wrap
	}
	return c.text
}

// at picks the style for v in a column that follows a column of numbers (gap): text there is indented.
func (c cellStyles) at(v any, wrap, gap bool) int {
	style := c.of(v, wrap)
	switch {
	case !gap:
	case style == c.text:
		return c.gapText
	case style == c.wrap:
		return c.gapWrap
	}
	return style
}

// moneyFormat is the number format of every amount of money in the workbook, and of every decimal (the decimals a
// check writes are rates and prices): at least two places and at most four, with thousands separators, as USD per
// hour runs from 0.0125 to thousands and a month's figures are kept in cents. No currency sign: the column's header
// says USD, or the Price currency column names the currency.
const moneyFormat = "#,##0.00##"

// resolvedFill is the light green of a resolved finding's row.
const resolvedFill = "E2EFDA"

type styles struct {
	// header heads a column of text; headerRight a column of numbers or dates, right-aligned like them, so a count
	// reads under its own header and not under the one to its left.
	header, headerRight, link int
	// linkGap is a link right after a column of numbers: indented.
	linkGap int
	// headerGap heads a text column that follows a column of numbers: indented as its text is.
	headerGap int
	// paper is what every sheet prints on.
	paper paper
	// resolved fills the rows of findings that are gone: good news, not filled red like an open critical one.
	resolved cellStyles
	plain    cellStyles
	// total is a table's total row: bold, with a line above.
	total    cellStyles
	sev      map[checks.Severity]cellStyles
	errorRow cellStyles
}

func newStyles(f *excelize.File) (*styles, error) {
	s := &styles{sev: map[checks.Severity]cellStyles{}}
	dateFmt, dayFmt, decimalFmt := "yyyy-mm-dd hh:mm", "yyyy-mm-dd", moneyFormat
	var err error
	mk := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	// Each fill in six kinds: text, a date and time, a date, a whole number, a decimal, wrapped text.
	kindsOf := func(fill excelize.Fill, font *excelize.Font, border []excelize.Border) cellStyles {
		top := &excelize.Alignment{Vertical: "top"}
		return cellStyles{
			text:    mk(&excelize.Style{Fill: fill, Font: font, Border: border, Alignment: top}),
			date:    mk(&excelize.Style{Fill: fill, Font: font, Border: border, Alignment: top, CustomNumFmt: &dateFmt}),
			day:     mk(&excelize.Style{Fill: fill, Font: font, Border: border, Alignment: top, CustomNumFmt: &dayFmt}),
			number:  mk(&excelize.Style{Fill: fill, Font: font, Border: border, Alignment: top, NumFmt: 1}),
			decimal: mk(&excelize.Style{Fill: fill, Font: font, Border: border, Alignment: top, CustomNumFmt: &decimalFmt}),
			wrap:    mk(&excelize.Style{Fill: fill, Font: font, Border: border, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}),
			gapText: mk(&excelize.Style{Fill: fill, Font: font, Border: border, Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "left", Indent: 1}}),
			gapWrap: mk(&excelize.Style{Fill: fill, Font: font, Border: border,
				Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "left", Indent: 1, WrapText: true}}),
		}
	}
	kinds := func(fill excelize.Fill) cellStyles { return kindsOf(fill, nil, nil) }
	solid := func(colour string) excelize.Fill {
		return excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colour}}
	}
	// A font named in a style must say its family and size: without them LibreOffice shows a serif.
	headerFont := &excelize.Font{Family: "Calibri", Size: 11, Bold: true, Color: "FFFFFF"}
	s.header = mk(&excelize.Style{Font: headerFont, Fill: solid("305496")})
	s.headerGap = mk(&excelize.Style{Font: headerFont, Fill: solid("305496"), Alignment: &excelize.Alignment{Horizontal: "left", Indent: 1}})
	s.headerRight = mk(&excelize.Style{Font: headerFont, Fill: solid("305496"), Alignment: &excelize.Alignment{Horizontal: "right"}})
	linkFont := &excelize.Font{Family: "Calibri", Size: 11, Color: "0563C1", Underline: "single"}
	s.link = mk(&excelize.Style{Font: linkFont, Alignment: &excelize.Alignment{Vertical: "top"}})
	s.linkGap = mk(&excelize.Style{Font: linkFont, Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "left", Indent: 1}})
	s.plain = kinds(excelize.Fill{})
	s.total = kindsOf(excelize.Fill{}, &excelize.Font{Family: "Calibri", Size: 11, Bold: true}, []excelize.Border{{Type: "top", Color: "000000", Style: 1}})
	s.errorRow = kinds(solid("FFC7CE"))
	s.resolved = kinds(solid(resolvedFill))
	for sev, colour := range map[checks.Severity]string{checks.Critical: "FFC7CE", checks.Warning: "FFEB9C", checks.Notice: "DDEBF7"} {
		s.sev[sev] = kinds(solid(colour))
	}
	return s, err
}

// headerRow is a table's header cells, each aligned as its column's values are (kinds).
func (st *styles) headerRow(cols []any, kinds *columnKinds) []any {
	out := make([]any, len(cols))
	for j, c := range cols {
		out[j] = excelize.Cell{StyleID: st.headerStyle(kinds, j), Value: c}
	}
	return out
}

// headerStyle is the style of column j's header: right-aligned over numbers.
func (st *styles) headerStyle(kinds *columnKinds, j int) int {
	switch {
	case kinds.right(j):
		return st.headerRight
	case kinds.gapAt(j):
		return st.headerGap
	}
	return st.header
}

// columnKinds learns which columns of a table hold numbers (or dates) and no text: spreadsheets right-align numbers,
// so their headers are right-aligned too. A text header left-aligned over right-aligned counts reads as heading
// the count to its right ("service-catalog-products 2 | 4 | 0" read as Warning 2, Notice 4).
type columnKinds struct {
	number, text []bool
	// prose marks the columns holding text of several words, which can wrap between them (not an id or a status).
	prose []bool
}

// kindsOf learns the kinds of the columns of rows.
func kindsOf(rows [][]any) *columnKinds {
	k := &columnKinds{}
	for _, row := range rows {
		for j, v := range row {
			k.see(j, v)
		}
	}
	return k
}

func (k *columnKinds) grow(j int) {
	for j >= len(k.number) {
		k.number, k.text, k.prose = append(k.number, false), append(k.text, false), append(k.prose, false)
	}
}

func (k *columnKinds) see(j int, v any) {
	k.grow(j)
	switch v := v.(type) {
	case int, float64, time.Time, day:
		k.number[j] = true
	case string:
		k.text[j] = k.text[j] || v != ""
		k.prose[j] = k.prose[j] || strings.Contains(v, " ")
	case nil:
	default:
		k.text[j] = true
	}
}

// declareNumber says column j holds numbers even when no row shows one: an empty sheet's headers align as a full one's.
func (k *columnKinds) declareNumber(j int) {
	k.grow(j)
	k.number[j] = true
}

// gapAt says whether column j is text that follows a column of numbers, and is indented to keep them apart.
func (k *columnKinds) gapAt(j int) bool {
	return k != nil && j > 0 && k.right(j-1) && !k.right(j)
}

// right says whether column j's header is right-aligned: it holds numbers and no text.
func (k *columnKinds) right(j int) bool {
	return k != nil && j < len(k.number) && k.number[j] && !k.text[j]
}

// Column widths are in Excel's unit, the width of the digit 0 in the workbook's font, and are fitted to what the
// column holds. A fixed width either wastes the page or cuts a value: AWS statuses run from ERROR to
// UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS. Text wider than the cap wraps inside its cell.
const (
	minColumnWidth = 8
	maxColumnWidth = 50
	// cellPadding is the cell's margins; a header also has the table's filter button at its right.
	cellPadding   = 1.5
	headerPadding = 3.5
	// indentWidth is what an indent of 1 takes, about three spaces.
	indentWidth = 2
)

// textWidth estimates how wide s shows, in widths of the digit 0, taking for each kind of character the widest
// of the fonts a spreadsheet shows the workbook in (Calibri, or Carlito or DejaVu Sans in its place): capitals are
// wider than a digit, and AWS statuses are all capitals; i, l, t, r and punctuation are narrower; a wide East Asian
// character takes two. Erring wide costs a little space; erring narrow cuts the text.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r < utf8.RuneSelf {
			w += asciiWidth[r]
			continue
		}
		switch {
		case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
			w += 2
		case unicode.IsUpper(r):
			w += 1.3
		default:
			w += 1.05
		}
	}
	return w
}

// asciiWidth is textWidth's table for ASCII, which is nearly all a workbook holds: a table because the workbook
// measures every value it writes, 100,000 findings' worth.
var asciiWidth = func() (t [utf8.RuneSelf]float64) {
	for r := range t {
		switch {
		case strings.ContainsRune("MW@%", rune(r)):
			t[r] = 1.8
		case r == 'm' || r == 'w':
			t[r] = 1.6
		case 'A' <= r && r <= 'Z':
			t[r] = 1.3
		case strings.ContainsRune("iljtfr .,:;'|!()[]-/", rune(r)):
			t[r] = 0.7
		default:
			t[r] = 1.05
		}
	}
	return t
}()

// dateShown is how a date cell shows, in the date format above.
const dateShown = "2006-01-02 15:04"

// valueWidth is how wide v shows in a cell.
func valueWidth(v any) float64 {
	switch v := v.(type) {
	case string:
		return textWidth(v)
	case int:
		return textWidth(strconv.Itoa(v))
	case float64:
		return textWidth(strconv.FormatFloat(v, 'f', 4, 64)) * 1.25 // thousands separators
	case time.Time:
		return textWidth(dateShown)
	case day:
		return textWidth(time.DateOnly)
	case nil:
		return 0
	}
	return textWidth(fmt.Sprint(v))
}

// columnFit learns each column's width from the values that will be written to it, before they are: a stream
// writer must set widths ahead of the rows, so a sheet's rows are seen twice, never held.
type columnFit struct {
	widths []float64
	// kinds are the kinds of the values seen, for the header's alignment.
	kinds columnKinds
	// heads are the headers' widths, held the widths of what sits below the table (hold), by index: no column is
	// narrowed to fit the page below either.
	heads []float64
	held  map[int]float64
	// caps are the columns' declared widest (checks.Column.Width), by index; maxColumnWidth where none is.
	caps map[int]float64
}

func newColumnFit(header []string) *columnFit {
	c := &columnFit{widths: make([]float64, len(header)), heads: make([]float64, len(header))}
	for j, h := range header {
		c.widths[j] = max(minColumnWidth, textWidth(h)*1.1+headerPadding) // headers are bold
		c.heads[j] = c.widths[j]
	}
	return c
}

// capAt makes w, when set, column j's widest.
func (c *columnFit) capAt(j int, w float64) {
	if w <= 0 {
		return
	}
	if c.caps == nil {
		c.caps = map[int]float64{}
	}
	c.caps[j] = max(w, minColumnWidth)
}

func (c *columnFit) limit(j int) float64 {
	if w, ok := c.caps[j]; ok {
		return w
	}
	return maxColumnWidth
}

// see measures v, a value of the table, in column j.
func (c *columnFit) see(j int, v any) {
	c.widen(j, v)
	c.kinds.see(j, v)
}

// widen measures v, a value below the table (a note, a second table) that column j must be wide enough for.
func (c *columnFit) widen(j int, v any) {
	for j >= len(c.widths) {
		c.widths = append(c.widths, minColumnWidth)
	}
	c.widths[j] = max(c.widths[j], valueWidth(v)+cellPadding)
}

// need is how wide column j's widest value shows: a column indented from the numbers before it, an indent wider.
func (c *columnFit) need(j int) float64 {
	if c.kinds.gapAt(j) {
		return c.widths[j] + indentWidth
	}
	return c.widths[j]
}

// width is column j's width, capped.
func (c *columnFit) width(j int) float64 {
	return min(c.need(j), c.limit(j))
}

// wraps says whether some value in column j is wider than its column and must wrap.
func (c *columnFit) wraps(j int) bool {
	return c.need(j) > c.limit(j)
}

// lines is how many lines v takes in column j: one, unless it is text wider than the column, which wraps.
func (c *columnFit) lines(j int, v any) int {
	if !c.wraps(j) {
		return 1
	}
	if s, ok := v.(string); ok {
		return wrappedLines(s, c.width(j))
	}
	return 1
}

// wrappedLines counts the lines s takes in a cell of the given width, wrapped the way a spreadsheet wraps: at
// spaces and line breaks, and inside a word longer than a line (an ARN).
func wrappedLines(s string, width float64) int {
	avail, space := width-cellPadding, textWidth(" ")
	if !strings.Contains(s, "\n") && textWidth(s) <= avail {
		return 1
	}
	n := 0
	for _, para := range strings.Split(s, "\n") {
		n++
		line := 0.0
		for _, word := range strings.Fields(para) {
			w := textWidth(word)
			switch {
			case line == 0:
				line = w
			case line+space+w <= avail:
				line += space + w
			default:
				n++
				line = w
			}
			for line > avail {
				n++
				line -= avail
			}
		}
	}
	return n
}

// Neither Excel nor LibreOffice fits a row's height to wrapped text when it opens a file, so rows that wrap are
// given their height: a line of the default 11 pt font takes 15 pt, and no row may pass Excel's 409 pt.
const (
	lineHeight   = 15
	maxRowHeight = 409
)

// rowHeight is the height of a row whose tallest cell takes lines lines, or 0 for the default.
func rowHeight(lines int) float64 {
	if lines <= 1 {
		return 0
	}
	return min(float64(lines)*lineHeight, maxRowHeight)
}

// setupPrint prints the sheet landscape, as wide as one page and as long as it needs, the header row on every
// page. SheetPr is written when a stream writer starts, so this must precede NewStreamWriter.
func setupPrint(f *excelize.File, sheet string, titleRows bool, p paper) error {
	return setupPrintWide(f, sheet, printWidth{pages: 1}, titleRows, p)
}

// printWidth is how a table prints across: on pages pages side by side, its first keys columns on each of them.
type printWidth struct{ pages, keys int }

// setupPrintWide is setupPrint for a table printed w.pages pages wide, its key columns repeated on every page so
// each page's rows say whose they are.
func setupPrintWide(f *excelize.File, sheet string, w printWidth, titleRows bool, p paper) error {
	fit, landscape, unbounded := true, "landscape", 0
	pages := max(w.pages, 1)
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: &p.size, Orientation: &landscape, FitToWidth: &pages, FitToHeight: &unbounded}); err != nil {
		return err
	}
	if !titleRows {
		return nil
	}
	quoted := "'" + strings.ReplaceAll(sheet, "'", "''") + "'"
	ref := quoted + "!$1:$1"
	if pages > 1 && w.keys > 0 {
		ref = fmt.Sprintf("%s!$A:$%s,%s", quoted, columnLetters(w.keys), ref)
	}
	return f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: ref, Scope: sheet})
}

// columnLetters is column n's letters (1 is A).
func columnLetters(n int) string {
	name, _ := excelize.ColumnNumberToName(n)
	return name
}

// Workbook renders r as an .xlsx.
func Workbook(r *Result, cs []checks.Check) ([]byte, error) {
	f, err := buildWorkbook(r, cs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The archive excelize builds in memory is the workbook's bytes: copying it into a buffer of our own, as
	// WriteWorkbook's writer would, held the archive twice (and the copy's growth) at the run's peak.
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("write workbook: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteWorkbook writes a Summary sheet, the Findings sheet (every finding), the Commitments sheet, one sheet per
// check, the memory sheets (Resolved, Unverified, Suppressed, Trend) and a Coverage sheet. Rows are streamed, so
// memory stays flat with the number of findings; a list longer than a sheet holds continues on "Name (2)",
// "Name (3)"... Text from AWS is always written as a string cell, never as a formula.
func WriteWorkbook(w io.Writer, r *Result, cs []checks.Check) error {
	f, err := buildWorkbook(r, cs)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

// buildWorkbook writes every sheet; the caller writes the archive and closes the file (which removes the sheets'
// temporary files).
func buildWorkbook(r *Result, cs []checks.Check) (_ *excelize.File, err error) {
	f := excelize.NewFile()
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	st, err := newStyles(f)
	if err != nil {
		return nil, fmt.Errorf("workbook styles: %w", err)
	}
	if st.paper, err = processPaper(); err != nil {
		return nil, fmt.Errorf("workbook paper: %w", err)
	}
	if err := f.SetSheetName("Sheet1", SummarySheet); err != nil {
		return nil, fmt.Errorf("summary sheet: %w", err)
	}
	// A list longer than a sheet holds continues on further sheets; the Summary names them.
	var continued continuedSheets
	all, err := writeFindingsSheet(f, st, r, cs)
	if err != nil {
		return nil, fmt.Errorf("findings sheet: %w", err)
	}
	continued.add(all)
	names, err := writeCommitmentsSheet(f, st, r, cs)
	if err != nil {
		return nil, fmt.Errorf("commitments sheet: %w", err)
	}
	continued.add(names)
	onDemand := hasOnDemand(r.Findings)
	for _, c := range cs {
		names, err := writeCheckSheet(f, st, c, r.Findings, onDemand)
		if err != nil {
			return nil, fmt.Errorf("sheet %s: %w", c.Name(), err)
		}
		continued.add(names)
	}
	lists, err := writeMemorySheets(f, st, r, cs)
	if err != nil {
		return nil, err
	}
	for _, names := range lists {
		continued.add(names)
	}
	if names, err = writeCoverageSheet(f, st, &r.Cells); err != nil {
		return nil, fmt.Errorf("coverage sheet: %w", err)
	}
	continued.add(names)
	if err := writeSummarySheet(f, st, r, continued); err != nil {
		return nil, fmt.Errorf("summary sheet: %w", err)
	}
	return f, nil
}

// writeCheckSheet writes c's findings, read in place from all findings: copying them out per check would hold a
// second copy of every finding while the workbook is built. Findings are found by a scan that goes on from the last
// one written, so the list is read once however many sheets it takes.
func writeCheckSheet(f *excelize.File, st *styles, c checks.Check, all []checks.Finding, onDemand bool) ([]string, error) {
	cols := sheetColumns(c, onDemand)
	names := sheetColumnNames(c, onDemand)
	fit := newColumnFit(names)
	for j, col := range cols {
		fit.capAt(j, col.Width)
		if col.Kind == checks.KindNumber || col.Kind == checks.KindDate {
			fit.kinds.declareNumber(j)
		}
	}
	n := 0
	for i := range all {
		if fd := &all[i]; fd.Check == c.Name() {
			n++
			for j, col := range cols {
				if col.Kind != checks.KindLink {
					fit.see(j, col.value(fd))
				}
			}
		}
	}
	// One row of cells, reused: SetRow takes *Cell, so no cell is boxed afresh for every row.
	cells := make([]excelize.Cell, len(cols))
	row := make([]any, len(cols))
	for j := range cells {
		row[j] = &cells[j]
	}
	opts := []excelize.RowOpts{{}}
	next := 0 // index into all after the last finding written
	return writePagedSheet(f, st, pagedSheet{name: c.Name(), table: tableName(c.Name()), cols: names, fit: fit, n: n,
		row: func(sw *excelize.StreamWriter, rowNum, _ int) error {
			for all[next].Check != c.Name() {
				next++
			}
			fd := &all[next]
			next++
			sty := st.sev[fd.Severity]
			lines := 1
			for j, col := range cols {
				var l int
				cells[j], l = findingCell(fd, col, j, sty, st, fit)
				lines = max(lines, l)
			}
			opts[0].Height = rowHeight(lines)
			return sw.SetRow(cellName(1, rowNum), row, opts...)
		}})
}

// FindingValue is what a finding holds in one of its sheet's columns: text, a whole number of days, a UTC time, or an
// amount of money (a float64; "" when unknown, never 0);
// a check's detail as the check wrote it, text, found by the header of its column in the registered check (or, for a
// check this build does not register, by its ID).
func FindingValue(fd *checks.Finding, col string) any {
	switch col {
	case "Severity":
		return string(fd.Severity)
	case "Account ID":
		return fd.AccountID
	case "Account name":
		return fd.AccountName
	case OwnerColumn:
		return fd.Owner
	case OUColumn:
		return fd.OU
	case "Region":
		return fd.Region
	case "Resource ID":
		return fd.ResourceID
	case "Resource name":
		return fd.ResourceName
	case "Status":
		return fd.Status
	case "Reason":
		return fd.Reason
	case "Days left":
		if fd.DaysLeft != nil {
			return *fd.DaysLeft
		}
		return ""
	case "Expires (UTC)":
		if fd.ExpiresAt != nil {
			return fd.ExpiresAt.UTC()
		}
		return ""
	case "Console":
		return fd.ConsoleURL
	case ChangeColumn:
		return fd.Change
	case AlertedColumn:
		if fd.AlertedAt != nil {
			return fd.AlertedAt.UTC()
		}
		return ""
	case FirstSeenColumn:
		if fd.FirstSeen != nil {
			return fd.FirstSeen.UTC()
		}
		return ""
	case AgeColumn:
		if fd.AgeDays != nil {
			return *fd.AgeDays
		}
		return ""
	}
	if v, ok := moneyValue(fd, col); ok {
		return v
	}
	if id, ok := checks.HeaderID(fd.Check, col); ok {
		return fd.Detail(id)
	}
	return fd.Detail(col)
}

// findingCell styles a finding's value by its severity and its kind: numbers and dates keep their number formats,
// text wider than its column wraps, a link is a hyperlink. It also says how many lines the cell takes.
func findingCell(fd *checks.Finding, col sheetColumn, j int, sty cellStyles, st *styles, fit *columnFit) (excelize.Cell, int) {
	v := col.value(fd)
	if col.Kind == checks.KindLink {
		url, _ := v.(string)
		return linkCell(url, st, fit.kinds.gapAt(j)), 1
	}
	lines := fit.lines(j, v)
	return styledCell(sty.at(v, lines > 1, fit.kinds.gapAt(j)), v), lines
}

// styledCell is a cell of a streamed row. An empty value is no value, only the style (the row's fill): written as
// "", it would be an empty inline string, twice the XML, and a commitment row has a dozen empty money cells when its
// price is unknown.
func styledCell(style int, v any) excelize.Cell {
	if v == "" {
		return excelize.Cell{StyleID: style}
	}
	return excelize.Cell{StyleID: style, Value: v}
}

// maxFormulaText is the longest text constant Excel takes in a formula, and the longest link HYPERLINK opens.
const maxFormulaText = 255

// linkCell builds a HYPERLINK formula from a URL we composed. The URL's AWS-sourced parts are already escaped, and any
// quote is doubled, so the formula's only argument is a string literal.
func linkCell(url string, st *styles, gap bool) excelize.Cell {
	if url == "" || !strings.HasPrefix(url, "https://") {
		return excelize.Cell{Value: ""}
	}
	q := strings.ReplaceAll(url, `"`, `""`)
	style := st.link
	if gap {
		style = st.linkGap
	}
	if len(q) > maxFormulaText {
		// A longer text constant makes Excel repair the file and drop the formula: the link as text, to copy,
		// rather than a broken workbook (a console link through an access portal can be this long).
		return excelize.Cell{StyleID: style, Value: url}
	}
	return excelize.Cell{StyleID: style, Formula: fmt.Sprintf(`HYPERLINK("%s","open")`, q), Value: "open"}
}

// writeCoverageSheet writes a row per cell, clean ones included, failures first (failuresFirst). The clean cells are
// counts, not rows (crossaccount.Cells): each row is made as it is written, so the sheet never needs the cells as rows
// at once.
func writeCoverageSheet(f *excelize.File, st *styles, cells *crossaccount.Cells) ([]string, error) {
	values := func(c *crossaccount.Cell) [10]any {
		return [10]any{c.AccountID, c.AccountName, c.Owner, c.OU, c.Region, c.Check, string(c.Outcome), c.Findings, c.Code, c.Message}
	}
	fit := newColumnFit(CoverageColumns)
	for c := range cells.All() {
		for j, v := range values(&c) {
			fit.see(j, v)
		}
	}
	out := make([]excelize.Cell, len(CoverageColumns))
	row := make([]any, len(out))
	for j := range out {
		row[j] = &out[j]
	}
	opts := []excelize.RowOpts{{}}
	next, stop := iter.Pull(failuresFirst(cells))
	defer stop()
	written := 0
	return writePagedSheet(f, st, pagedSheet{name: CoverageSheet, table: "Coverage", cols: CoverageColumns, fit: fit, n: cells.Len(),
		row: func(sw *excelize.StreamWriter, rowNum, i int) error {
			// The pages ask for the rows in order, one each; the cells come in that order.
			c, ok := next()
			if !ok || i != written {
				return fmt.Errorf("coverage row %d: the cells yield row %d (%d cells)", i, written, cells.Len())
			}
			written++
			s := st.plain
			if c.Outcome == crossaccount.OutcomeError {
				s = st.errorRow
			}
			lines := 1
			for j, v := range values(&c) {
				l := fit.lines(j, v)
				lines = max(lines, l)
				out[j] = excelize.Cell{StyleID: s.at(v, l > 1, fit.kinds.gapAt(j)), Value: v}
			}
			opts[0].Height = rowHeight(lines)
			return sw.SetRow(cellName(1, rowNum), row, opts...)
		}})
}

// startSheet sets the columns' widths, freezes the header row and writes it; all must precede the data rows in a
// stream.
func startSheet(sw *excelize.StreamWriter, st *styles, cols []string, fit *columnFit) error {
	for i := range cols {
		if err := sw.SetColWidth(i+1, i+1, fit.width(i)); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return sw.SetRow("A1", st.headerRow(toAny(cols), &fit.kinds))
}

// endSheet turns the rows into a table, which gives every column its filter button, then flushes.
func endSheet(sw *excelize.StreamWriter, cols []string, rows int, name string) error {
	last := rows + 1
	if last < 2 {
		last = 2
	}
	off := false
	if err := sw.AddTable(&excelize.Table{Range: "A1:" + cellName(len(cols), last), Name: name, StyleName: "TableStyleLight1", ShowRowStripes: &off}); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	releaseSpill(sw)
	return nil
}

// writeSummarySheet writes the run's figures, its counts by check and the accounts it skipped. Each cell's style
// follows its value (a date is formatted as a date wherever it sits) and header rows are styled by the row they were
// written at, so a row added later cannot move a style onto the wrong cell.
func writeSummarySheet(f *excelize.File, st *styles, r *Result, continued continuedSheets) error {
	crit, warn, notice := r.Totals()
	var rows [][]any
	headers := map[int]bool{} // indexes into rows
	header := func(row ...any) {
		headers[len(rows)] = true
		rows = append(rows, row)
	}
	totals := map[int]bool{} // indexes into rows
	add := func(row ...any) { rows = append(rows, row) }
	total := func(row ...any) {
		totals[len(rows)] = true
		rows = append(rows, row)
	}
	header("orgaudit report")
	rows = append(rows,
		[]any{"Run ID", r.RunID},
		[]any{"Complete", completeness(r)},
		[]any{"As of (UTC)", r.AsOf},
		[]any{"Scope", r.scopeWords()},
		[]any{"Checks", strings.Join(r.Checks, ", ")},
		[]any{"Regions", strings.Join(r.Regions, ", ")},
		[]any{"Accounts in scope", r.Accounts.Total},
		[]any{"Accounts fully audited", r.Accounts.Audited},
		[]any{"Accounts partly audited", r.Accounts.Partial},
		[]any{"Accounts not audited", r.Accounts.Failed},
		[]any{"Accounts skipped (not active)", r.Accounts.Skipped},
		[]any{"Cells (account x region x check)", r.Coverage.Cells},
		[]any{"Cells with findings", r.Coverage.Findings},
		[]any{"Cells clean", r.Coverage.Clean},
		[]any{"Cells failed", r.Coverage.Errors},
		[]any{"Findings critical / warning / notice", fmt.Sprintf("%d / %d / %d", crit, warn, notice)},
	)
	money := moneyOf(r)
	if money.n > 0 {
		// The figure a FinOps reader asks for first, on the first page; by severity and owner further down.
		rows = append(rows, []any{AtRiskSummaryRow, money.atRiskTotal(r.USDPerMonthAtRisk)})
	}
	rows = append(rows, continued.summaryRows()...)
	rows = append(rows, memoryRows(r)...)
	rows = append(rows, []any{})
	header("Check", "Critical", "Warning", "Notice", "Title")
	for _, c := range r.Counts {
		rows = append(rows, []any{c.Check, c.Critical, c.Warning, c.Notice, c.Title})
	}
	money.summaryRows(r.USDPerMonthAtRisk, summaryTable{header: header, row: add, total: total})
	if len(r.Owners) > 0 {
		rows = append(rows, []any{})
		header("Owner", "Critical", "Warning", "Notice", "Failed cells", "Accounts", "Tag unread")
		for _, o := range r.Owners {
			rows = append(rows, []any{Inline(o.Owner), o.Critical, o.Warning, o.Notice, o.FailedCells, o.Accounts, o.TagUnread})
		}
	}
	if len(r.Skipped) > 0 {
		rows = append(rows, []any{})
		header("Skipped account", "Name", "Reason")
		for _, s := range r.Skipped {
			rows = append(rows, []any{s.AccountID, s.AccountName, s.Reason})
		}
	}
	// A row's last text spans the rest of the sheet's width, over cells the row leaves empty, so a long scope or
	// list of checks does not widen the count columns below it.
	width := 0
	for _, row := range rows {
		width = max(width, len(row))
	}
	spans := func(row []any, j int) bool {
		_, text := row[j].(string)
		return text && j == len(row)-1 && j < width-1
	}
	// Each table's header aligns as the column below it, down to the blank row that ends the table.
	headerKinds := map[int]*columnKinds{}
	tableOf := map[int]*columnKinds{} // a table's rows, by index into rows, to their table's kinds
	for i := range headers {
		end := i + 1
		for end < len(rows) && len(rows[end]) > 0 && !headers[end] {
			end++
		}
		headerKinds[i] = kindsOf(rows[i+1 : end])
		for k := i; k < end; k++ {
			tableOf[k] = headerKinds[i]
		}
	}
	fit := newColumnFit(make([]string, width))
	for i, row := range rows {
		for j, v := range row {
			switch {
			case spans(row, j):
			case headers[i]:
				fit.see(j, v.(string)+"  ") // bold
			default:
				fit.see(j, v)
			}
		}
	}
	if err := setupPrint(f, SummarySheet, false, st.paper); err != nil {
		return err
	}
	for i, row := range rows {
		lines := 1
		for j, v := range row {
			cell := cellName(j+1, i+1)
			if err := f.SetCellValue(SummarySheet, cell, cellValue(v)); err != nil {
				return err
			}
			last, l := cell, fit.lines(j, v)
			if spans(row, j) {
				last = cellName(width, i+1)
				if err := f.MergeCell(SummarySheet, cell, last); err != nil {
					return err
				}
				spanWidth := 0.0
				for k := j; k < width; k++ {
					spanWidth += fit.width(k)
				}
				l = wrappedLines(v.(string), spanWidth)
			}
			lines = max(lines, l)
			gap := tableOf[i].gapAt(j)
			style := st.plain.at(v, l > 1, gap)
			switch {
			case headers[i]:
				style = st.headerStyle(headerKinds[i], j)
			case totals[i]:
				style = st.total.at(v, l > 1, gap)
			}
			if err := f.SetCellStyle(SummarySheet, cell, last, style); err != nil {
				return err
			}
		}
		if h := rowHeight(lines); h > 0 {
			if err := f.SetRowHeight(SummarySheet, i+1, h); err != nil {
				return err
			}
		}
	}
	for j := range width {
		name, _ := excelize.ColumnNumberToName(j + 1)
		if err := f.SetColWidth(SummarySheet, name, name, fit.width(j)); err != nil {
			return err
		}
	}
	// excelize leaves the dimension "A1".
	return f.SetSheetDimension(SummarySheet, "A1:"+cellName(width, len(rows)))
}

// memoryRows are the Summary's lines about the previous run, the diff, the suppressions and the warnings.
func memoryRows(r *Result) [][]any {
	rows := [][]any{{"Suppressed findings (not counted)", len(r.Suppressed)}}
	if r.compared() {
		ch := r.Changes
		rows = append(rows,
			[]any{"Previous run", r.PreviousRunID},
			[]any{"Previous run time (UTC)", r.previousWhen("2006-01-02 15:04")},
			[]any{"New / worse / still open", fmt.Sprintf("%d / %d / %d", ch.New, ch.Escalated, ch.Ongoing)},
			[]any{"Resolved / could not re-check", fmt.Sprintf("%d / %d", ch.Resolved, ch.Unverified)})
		if r.PreviousRunTime != nil {
			rows[2][1] = r.PreviousRunTime.UTC()
		}
	} else {
		rows = append(rows, []any{"Previous run", r.memoryNote()})
	}
	for _, w := range r.Warnings {
		rows = append(rows, []any{"Warning", w})
	}
	return rows
}

func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

// tableName makes a valid, unique Excel table name from a check name.
func tableName(check string) string {
	return "Findings_" + strings.ReplaceAll(check, "-", "_")
}

// completeness is the Summary's verdict, in the digests' words: "yes", or PARTIAL and what was not audited.
func completeness(r *Result) string {
	if r.Partial {
		return "PARTIAL: " + r.partialStatement(field)
	}
	return "yes"
}
