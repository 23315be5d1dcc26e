package report

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// sheetRows is the most rows a sheet holds, its header row included: Excel's limit, 1,048,576 (excelize.TotalRows;
// https://support.microsoft.com/en-us/office/excel-specifications-and-limits-1672b34d-7043-467e-8e27-269d656771c3).
// A list longer than that continues on further sheets. A variable so that a test can lower it.
var sheetRows = excelize.TotalRows

// maxSheetName is the longest sheet name Excel takes, in characters.
const maxSheetName = 31

// continuedRows are the rows a sheet whose list continues ends with, below its table: a blank row and the line that
// names the next sheet.
const continuedRows = 2

// sheetPage is the part of a list one sheet holds: rows items from the first.
type sheetPage struct {
	first, rows int
}

// sheetPages splits a list of n rows over sheets, each as full as it can be: a sheet the list continues from ends
// with the line naming the next (continuedRows), the last with tail rows below its table (notes, a second table).
// A table covers at least one row, even an empty one.
func sheetPages(n, tail int) ([]sheetPage, error) {
	full, last := sheetRows-1-continuedRows, sheetRows-1-tail
	if full < 1 || last < 1 {
		return nil, fmt.Errorf("a sheet of %d rows cannot hold a header, a row and the %d rows below the table", sheetRows, tail)
	}
	var pages []sheetPage
	first := 0
	for n-first > last {
		k := min(full, n-first)
		if k == n-first {
			// The rest fits on this sheet, but not with what sits below the list: the last sheet takes what does not.
			k = last
		}
		pages = append(pages, sheetPage{first: first, rows: k})
		first += k
	}
	return append(pages, sheetPage{first: first, rows: n - first}), nil
}

// sheetName is the name of the k-th sheet (from 0) of the list on sheet name: name itself, then "name (2)",
// "name (3)"... A name too long for the number is cut: Excel takes 31 characters.
func sheetName(name string, k int) string {
	if k == 0 {
		return name
	}
	suffix := " (" + strconv.Itoa(k+1) + ")"
	keep := maxSheetName - len(suffix)
	if utf8.RuneCountInString(name) > keep {
		name = strings.TrimRight(string([]rune(name)[:keep]), " -_.")
	}
	return name + suffix
}

// tablePageName is the table of the k-th sheet of a list whose first table is name: table names are unique in a
// workbook.
func tablePageName(name string, k int) string {
	if k == 0 {
		return name
	}
	return name + "_" + strconv.Itoa(k+1)
}

// continuesNote is the last line of a sheet whose list continues on next.
func continuesNote(next string) string {
	return fmt.Sprintf("The list continues on sheet %s: a sheet holds at most %s rows.", next, thousands(sheetRows))
}

// thousands writes n with thousands separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// pagedSheet is a list streamed onto as many sheets as it needs, each with the same header, widths, frozen header
// row, print titles and table.
type pagedSheet struct {
	name, table string
	cols        []string
	fit         *columnFit
	n           int
	// row writes item i at row rowNum.
	row func(sw *excelize.StreamWriter, rowNum, i int) error
	// tailRows are the rows below the last sheet's table, the blank row after it included.
	tailRows int
	// tailCells are those of tailRows that hold cells, from the first: fewer when a chart reaches below the cells.
	// Zero: all of them.
	tailCells int
	// prepare runs on the last sheet before its stream starts, a stream writer being unable to add a chart; below is
	// the first row under the blank row that follows the table.
	prepare func(sheet string, below int) error
	// tail writes, on the last sheet, what sits below the list, from row below.
	tail func(sw *excelize.StreamWriter, sheet string, below int) error
}

// writePagedSheet writes ps and returns the names of the sheets it took.
func writePagedSheet(f *excelize.File, st *styles, ps pagedSheet) ([]string, error) {
	pages, err := sheetPages(ps.n, ps.tailRows)
	if err != nil {
		return nil, err
	}
	// Before any row is written: the rows' heights follow the widths the page leaves.
	ps.fit.fitPage(st.paper)
	across := ps.fit.printWidth(st.paper, ps.cols)
	names := make([]string, len(pages))
	for k := range pages {
		names[k] = sheetName(ps.name, k)
	}
	for k, p := range pages {
		sheet := names[k]
		if i, _ := f.GetSheetIndex(sheet); i >= 0 {
			return nil, fmt.Errorf("sheet %q: the name is taken", sheet)
		}
		if _, err := f.NewSheet(sheet); err != nil {
			return nil, err
		}
		if err := setupPrintWide(f, sheet, across, true, st.paper); err != nil {
			return nil, err
		}
		isLast := k == len(pages)-1
		below := max(p.rows+1, 2) + 2
		if isLast && ps.prepare != nil {
			if err := ps.prepare(sheet, below); err != nil {
				return nil, err
			}
		}
		// The sheet's dimension is written when its stream starts, so it is set from what will be written: excelize
		// leaves "A1", and a reader that sizes the sheet by it (a preview, a script) sees one cell.
		lastRow, tail := p.rows+1, cmp.Or(ps.tailCells, ps.tailRows)
		switch {
		case !isLast:
			lastRow = below
		case ps.tail != nil && tail > 1:
			lastRow = below + tail - 2
		}
		if err := f.SetSheetDimension(sheet, "A1:"+cellName(len(ps.cols), lastRow)); err != nil {
			return nil, err
		}
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			return nil, err
		}
		if err := startSheet(sw, st, ps.cols, ps.fit); err != nil {
			return nil, err
		}
		for i := range p.rows {
			if err := ps.row(sw, i+2, p.first+i); err != nil {
				return nil, err
			}
		}
		switch {
		case !isLast:
			if err := sw.SetRow(cellName(1, below), []any{excelize.Cell{StyleID: st.plain.text, Value: continuesNote(names[k+1])}}); err != nil {
				return nil, err
			}
		case ps.tail != nil:
			if err := ps.tail(sw, sheet, below); err != nil {
				return nil, err
			}
		}
		if err := endSheet(sw, ps.cols, p.rows, tablePageName(ps.table, k)); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// continuedSheets are the lists the workbook continued on further sheets, each its sheets in order.
type continuedSheets [][]string

func (c *continuedSheets) add(names []string) {
	if len(names) > 1 {
		*c = append(*c, names)
	}
}

// summaryRows are the Summary's lines naming the sheets each long list continues on.
func (c continuedSheets) summaryRows() [][]any {
	var rows [][]any
	for _, names := range c {
		rows = append(rows, []any{names[0] + " continues on", fmt.Sprintf("%s (a sheet holds at most %s rows)", strings.Join(names[1:], ", "),
			thousands(sheetRows))})
	}
	return rows
}

// sheetsPhrase names the sheets a list is on, for the digest: "Coverage sheet", or "Coverage sheets (Coverage to
// Coverage (3))" when it continues.
func sheetsPhrase(names []string) string {
	if len(names) <= 1 {
		return names[0] + " sheet"
	}
	return fmt.Sprintf("%s sheets (%s to %s)", names[0], names[0], names[len(names)-1])
}

// listSheets names the sheets the workbook lists n rows on, with tail rows below the last table.
func listSheets(name string, n, tail int) []string {
	pages, err := sheetPages(n, tail)
	if err != nil {
		return []string{name}
	}
	names := make([]string, len(pages))
	for k := range pages {
		names[k] = sheetName(name, k)
	}
	return names
}

// coverageSheets names where the workbook lists r's cells, for the digest.
func (r *Result) coverageSheets() string {
	return sheetsPhrase(listSheets(CoverageSheet, max(r.Cells.Len(), r.Coverage.Cells), 0))
}

// memorySheets names where the workbook lists one of r's memory lists (ResolvedSheet, UnverifiedSheet or
// SuppressedSheet), for the digest.
func (r *Result) memorySheets(name string) string {
	for _, ls := range memoryLists(r, nil) {
		if ls.name == name {
			return sheetsPhrase(listSheets(name, ls.n, ls.tailRows()))
		}
	}
	return name + " sheet"
}
