package report

import (
	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// FindingsSheet lists every open finding of every check in one table, right after the Summary: sort or filter the
// whole run by severity, owner, account or days left without visiting a sheet per check.
const FindingsSheet = "Findings"

// The Findings sheet's own columns: the check's title (its name is the check sheet's) and the resource's type.
const (
	CheckColumn        = "Check"
	ResourceTypeColumn = "Resource type"
)

// FindingsColumns are the Findings sheet's columns: the fields every finding has, whatever its check. The money is
// the USD a month of a commitment and what of it is at risk, empty when the finding has none or it is not known.
var FindingsColumns = []string{"Severity", ChangeColumn, "Account name", "Account ID", "Resource ID", OwnerColumn, OUColumn, "Region", CheckColumn,
	ResourceTypeColumn, "Resource name", "Status", "Reason", "Days left", "Expires (UTC)", USDPerMonthColumn, AtRiskColumn,
	AlertedColumn, "Console"}

// findingsConsole is the link column of FindingsColumns; the rest are written as their values' kinds.
var findingsConsole = len(FindingsColumns) - 1

// writeFindingsSheet writes r's findings, in r's order (most severe first), read in place: one row of cells is
// reused, and the values are computed twice (to fit the columns, then to write), never held.
func writeFindingsSheet(f *excelize.File, st *styles, r *Result, cs []checks.Check) ([]string, error) {
	titles := map[string]string{} // by check name: a handful
	for _, c := range cs {
		titles[c.Name()] = c.Title()
	}
	value := func(fd *checks.Finding, j int) any {
		switch col := FindingsColumns[j]; col {
		case CheckColumn:
			if t, ok := titles[fd.Check]; ok {
				return t
			}
			if c, ok := r.check(fd.Check); ok {
				return c.Title()
			}
			// A check this build does not know (read from an older state): its name says what it is.
			return fd.Check
		case ResourceTypeColumn:
			return fd.ResourceType
		default:
			return FindingValue(fd, col)
		}
	}
	fit := newColumnFit(FindingsColumns)
	for i := range r.Findings {
		for j := range FindingsColumns {
			if j != findingsConsole {
				fit.see(j, value(&r.Findings[i], j))
			}
		}
	}
	cells := make([]excelize.Cell, len(FindingsColumns))
	row := make([]any, len(cells))
	for j := range cells {
		row[j] = &cells[j]
	}
	opts := []excelize.RowOpts{{}}
	return writePagedSheet(f, st, pagedSheet{name: FindingsSheet, table: "Findings", cols: FindingsColumns, fit: fit, n: len(r.Findings),
		row: func(sw *excelize.StreamWriter, rowNum, i int) error {
			fd := &r.Findings[i]
			sty, ok := st.sev[fd.Severity]
			if !ok {
				sty = st.plain
			}
			lines := 1
			for j := range FindingsColumns {
				v := value(fd, j)
				if j == findingsConsole {
					url, _ := v.(string)
					cells[j] = linkCell(url, st, fit.kinds.gapAt(j))
					continue
				}
				l := fit.lines(j, v)
				lines = max(lines, l)
				cells[j] = styledCell(sty.of(v, l > 1), v)
			}
			opts[0].Height = rowHeight(lines)
			return sw.SetRow(cellName(1, rowNum), row, opts...)
		}})
}
