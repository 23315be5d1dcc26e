package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// Sheet names besides one per check (named after the check).
const (
	SummarySheet  = "Summary"
	CoverageSheet = "Coverage"
)

// FindingColumns are the columns every check sheet starts with; the check's own Columns follow, then Console.
func FindingColumns(c checks.Check) []string {
	cols := []string{"Severity", "Account ID", "Account name", "Region", "Resource ID", "Resource name", "Status"}
	if e, ok := c.(checks.Expiring); ok && e.ReportsExpiry() {
		cols = append(cols, "Days left", "Expires (UTC)")
	}
	cols = append(cols, "Reason")
	cols = append(cols, c.Columns()...)
	return append(cols, "Console")
}

// CoverageColumns are the Coverage sheet's columns.
var CoverageColumns = []string{"Account ID", "Account name", "Region", "Check", "Outcome", "Findings", "Error code", "Message"}

type styles struct {
	header, date, text, link int
	sev                      map[checks.Severity][3]int // text, date, number
	errorRow                 int
}

func newStyles(f *excelize.File) (*styles, error) {
	s := &styles{sev: map[checks.Severity][3]int{}}
	dateFmt := "yyyy-mm-dd hh:mm"
	var err error
	mk := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	s.header = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"305496"}}})
	s.date = mk(&excelize.Style{CustomNumFmt: &dateFmt})
	s.link = mk(&excelize.Style{Font: &excelize.Font{Color: "0563C1", Underline: "single"}})
	s.errorRow = mk(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}})
	for sev, colour := range map[checks.Severity]string{checks.Critical: "FFC7CE", checks.Warning: "FFEB9C", checks.Notice: "DDEBF7"} {
		fill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colour}}
		s.sev[sev] = [3]int{mk(&excelize.Style{Fill: fill}), mk(&excelize.Style{Fill: fill, CustomNumFmt: &dateFmt}), mk(&excelize.Style{Fill: fill, NumFmt: 1})}
	}
	return s, err
}

// Workbook renders r as an .xlsx.
func Workbook(r *Result, cs []checks.Check) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteWorkbook(&buf, r, cs); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteWorkbook writes a Summary sheet, one sheet per check and a Coverage sheet. Rows are streamed, so memory stays
// flat with the number of findings. Text from AWS is always written as a string cell, never as a formula.
func WriteWorkbook(w io.Writer, r *Result, cs []checks.Check) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return fmt.Errorf("workbook styles: %w", err)
	}
	if err := f.SetSheetName("Sheet1", SummarySheet); err != nil {
		return fmt.Errorf("summary sheet: %w", err)
	}
	for _, c := range cs {
		if err := writeCheckSheet(f, st, c, r.Findings); err != nil {
			return fmt.Errorf("sheet %s: %w", c.Name(), err)
		}
	}
	if err := writeCoverageSheet(f, st, r.Cells); err != nil {
		return fmt.Errorf("coverage sheet: %w", err)
	}
	if err := writeSummarySheet(f, st, r); err != nil {
		return fmt.Errorf("summary sheet: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

// writeCheckSheet writes c's findings, read in place from all findings: copying them out per check would hold a
// second copy of every finding while the workbook is built.
func writeCheckSheet(f *excelize.File, st *styles, c checks.Check, all []checks.Finding) error {
	if _, err := f.NewSheet(c.Name()); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(c.Name())
	if err != nil {
		return err
	}
	cols := FindingColumns(c)
	if err := startSheet(sw, st, cols); err != nil {
		return err
	}
	// One row of cells, reused: SetRow takes *Cell, so no cell is boxed afresh for every row.
	cells := make([]excelize.Cell, len(cols))
	row := make([]any, len(cols))
	for j := range cells {
		row[j] = &cells[j]
	}
	n := 0
	for i := range all {
		fd := &all[i]
		if fd.Check != c.Name() {
			continue
		}
		sty := st.sev[fd.Severity]
		for j, col := range cols {
			cells[j] = findingCell(fd, col, sty, st)
		}
		n++
		if err := sw.SetRow(cellName(1, n+1), row); err != nil {
			return err
		}
	}
	return endSheet(sw, cols, n, tableName(c.Name()))
}

// FindingValue is what a finding holds in one of its sheet's columns: text, a whole number of days, or a UTC time.
func FindingValue(fd *checks.Finding, col string) any {
	switch col {
	case "Severity":
		return string(fd.Severity)
	case "Account ID":
		return fd.AccountID
	case "Account name":
		return fd.AccountName
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
	}
	return fd.Details[col]
}

// findingCell styles a finding's value by its severity and its kind: numbers and dates keep their number formats.
func findingCell(fd *checks.Finding, col string, sty [3]int, st *styles) excelize.Cell {
	if col == "Console" {
		return linkCell(fd.ConsoleURL, st)
	}
	v := FindingValue(fd, col)
	switch v.(type) {
	case int:
		return excelize.Cell{StyleID: sty[2], Value: v}
	case time.Time:
		return excelize.Cell{StyleID: sty[1], Value: v}
	}
	return excelize.Cell{StyleID: sty[0], Value: v}
}

// linkCell builds a HYPERLINK formula from a URL we composed. The URL's AWS-sourced parts are already escaped, and any
// quote is doubled, so the formula's only argument is a string literal.
func linkCell(url string, st *styles) excelize.Cell {
	if url == "" || !strings.HasPrefix(url, "https://") {
		return excelize.Cell{Value: ""}
	}
	q := strings.ReplaceAll(url, `"`, `""`)
	return excelize.Cell{StyleID: st.link, Formula: fmt.Sprintf(`HYPERLINK("%s","open")`, q), Value: "open"}
}

func writeCoverageSheet(f *excelize.File, st *styles, cells []crossaccount.Cell) error {
	if _, err := f.NewSheet(CoverageSheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(CoverageSheet)
	if err != nil {
		return err
	}
	if err := startSheet(sw, st, CoverageColumns); err != nil {
		return err
	}
	out := make([]excelize.Cell, len(CoverageColumns))
	row := make([]any, len(out))
	for j := range out {
		row[j] = &out[j]
	}
	for i, c := range cells {
		s := 0
		if c.Outcome == crossaccount.OutcomeError {
			s = st.errorRow
		}
		for j, v := range []any{c.AccountID, c.AccountName, c.Region, c.Check, string(c.Outcome), c.Findings, c.Code, c.Message} {
			out[j] = excelize.Cell{StyleID: s, Value: v}
		}
		if err := sw.SetRow(cellName(1, i+2), row); err != nil {
			return err
		}
	}
	return endSheet(sw, CoverageColumns, len(cells), "Coverage")
}

// startSheet freezes the header row and writes it; both must precede the data rows in a stream.
func startSheet(sw *excelize.StreamWriter, st *styles, cols []string) error {
	for i, c := range cols {
		width := 16.0
		switch c {
		case "Reason", "Message", "Record errors", "Nested failures", "Version description":
			width = 60
		case "Account name", "Resource ID", "Resource name", "Product", "Stack ID":
			width = 28
		case "Severity", "Region", "Days left", "Count", "Console", "Findings", "Outcome":
			width = 11
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = excelize.Cell{StyleID: st.header, Value: c}
	}
	return sw.SetRow("A1", header)
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
	return sw.Flush()
}

func writeSummarySheet(f *excelize.File, st *styles, r *Result) error {
	crit, warn, notice := r.Totals()
	rows := [][]any{
		{"orgaudit report"},
		{"Run ID", r.RunID},
		{"Complete", completeness(r)},
		{"As of (UTC)", r.AsOf},
		{"Scope", r.Scope},
		{"Checks", strings.Join(r.Checks, ", ")},
		{"Regions", strings.Join(r.Regions, ", ")},
		{"Accounts in scope", r.Accounts.Total},
		{"Accounts fully audited", r.Accounts.Audited},
		{"Accounts partly audited", r.Accounts.Partial},
		{"Accounts not audited", r.Accounts.Failed},
		{"Accounts skipped (not active)", r.Accounts.Skipped},
		{"Cells (account x region x check)", r.Coverage.Cells},
		{"Cells with findings", r.Coverage.Findings},
		{"Cells clean", r.Coverage.Clean},
		{"Cells failed", r.Coverage.Errors},
		{"Findings critical / warning / notice", fmt.Sprintf("%d / %d / %d", crit, warn, notice)},
		{},
	}
	countsHeader := len(rows) + 1
	rows = append(rows, []any{"Check", "Critical", "Warning", "Notice", "Title"})
	for _, c := range r.Counts {
		rows = append(rows, []any{c.Check, c.Critical, c.Warning, c.Notice, c.Title})
	}
	if len(r.Skipped) > 0 {
		rows = append(rows, []any{}, []any{"Skipped account", "Name", "Reason"})
		for _, s := range r.Skipped {
			rows = append(rows, []any{s.AccountID, s.AccountName, s.Reason})
		}
	}
	for i, row := range rows {
		for j, v := range row {
			cell := cellName(j+1, i+1)
			if err := f.SetCellValue(SummarySheet, cell, v); err != nil {
				return err
			}
		}
	}
	if err := f.SetCellStyle(SummarySheet, "B3", "B3", st.date); err != nil {
		return err
	}
	for _, hdr := range []int{1, countsHeader} {
		if err := f.SetCellStyle(SummarySheet, cellName(1, hdr), cellName(5, hdr), st.header); err != nil {
			return err
		}
	}
	return f.SetColWidth(SummarySheet, "A", "A", 36)
}

func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

// tableName makes a valid, unique Excel table name from a check name.
func tableName(check string) string {
	return "Findings_" + strings.ReplaceAll(check, "-", "_")
}

func completeness(r *Result) string {
	if r.Partial {
		return "PARTIAL: the deadline stopped the audit; see cells with code Deadline in Coverage"
	}
	return "yes"
}
