package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// CommitmentsSheet lists every commitment that ends soon or lapsed, of every kind (the findings of every check whose
// Layout reports expiry), soonest end first, with a table and a chart of what ends in each of the next 12 months.
const CommitmentsSheet = "Commitments"

// CommitmentColumns are the Commitments sheet's. Type, Count, Commitment and Renewal are read from the columns each
// check declares in those roles (checks.RoleType, RoleCount, RoleCommitment, RoleRenewal); empty where it has none.
var CommitmentColumns = []string{"Kind", "Type", "Account ID", "Account name", "Region", "Resource ID", "End (UTC)", "Days left", "Severity",
	"Count", "Commitment (USD/h)", "Renewal", "Status", "Console"}

// MonthColumns head the table of what ends in each of the next 12 months, below the list: how many commitments, how
// many units (the sum of their Count: instances or nodes), and how much money per hour (the sum of their
// Commitment, USD/h: Savings Plans). A commitment with neither is counted only in Commitments ending.
var MonthColumns = []string{"Month", "Commitments ending", "Units", "Commitment (USD/h)"}

// commitmentMonths is how many months the table looks ahead, the as-of month first.
const commitmentMonths = 12

// commitment is one finding of a check that reports expiry, with the columns that play the shared roles.
type commitment struct {
	f      *checks.Finding
	layout checks.Layout
}

func (c commitment) role(r checks.ColumnRole) string {
	if col := c.layout.WithRole(r); col != nil {
		return c.f.Detail(col.ID)
	}
	return ""
}

func (c commitment) number(r checks.ColumnRole) (float64, bool) {
	x, err := strconv.ParseFloat(c.role(r), 64)
	return x, err == nil
}

func (c commitment) values() []any {
	f := c.f
	var end, days any = "", ""
	if f.ExpiresAt != nil {
		end = f.ExpiresAt.UTC()
	}
	if f.DaysLeft != nil {
		days = *f.DaysLeft
	}
	num := func(r checks.ColumnRole) any { return typedDetail(c.role(r), checks.KindNumber) }
	return []any{c.layout.Kind, c.role(checks.RoleType), f.AccountID, f.AccountName, f.Region, f.ResourceID, end, days, string(f.Severity),
		num(checks.RoleCount), num(checks.RoleCommitment), c.role(checks.RoleRenewal), f.Status, f.ConsoleURL}
}

// commitments are r's findings of the checks in cs whose Layout reports expiry, soonest end first (an unknown end
// last), then by account, region and resource.
func commitments(r *Result, cs []checks.Check) []commitment {
	layouts := map[string]checks.Layout{}
	for _, c := range cs {
		if l := c.Layout(); l.Expiry {
			layouts[c.Name()] = l
		}
	}
	var out []commitment
	for i := range r.Findings {
		if l, ok := layouts[r.Findings[i].Check]; ok {
			out = append(out, commitment{f: &r.Findings[i], layout: l})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].f, out[j].f
		if (a.ExpiresAt == nil) != (b.ExpiresAt == nil) {
			return b.ExpiresAt == nil
		}
		if a.ExpiresAt != nil && !a.ExpiresAt.Equal(*b.ExpiresAt) {
			return a.ExpiresAt.Before(*b.ExpiresAt)
		}
		for _, p := range [][2]string{{a.AccountID, b.AccountID}, {a.Region, b.Region}, {a.ResourceID, b.ResourceID}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
	return out
}

// monthRow is one row of the table of what ends in a month.
type monthRow struct {
	month      time.Time
	ending     int
	units      int
	commitment float64
}

// endingByMonth counts the commitments that end in each of the 12 months from the as-of month; those that ended
// before the as-of time (lapsed) are left out of the table and counted apart.
func endingByMonth(asOf time.Time, cs []commitment) (rows []monthRow, lapsed int) {
	a := asOf.UTC()
	first := time.Date(a.Year(), a.Month(), 1, 0, 0, 0, 0, time.UTC)
	rows = make([]monthRow, commitmentMonths)
	for i := range rows {
		rows[i].month = first.AddDate(0, i, 0)
	}
	for _, c := range cs {
		end := c.f.ExpiresAt
		if end == nil {
			continue
		}
		if end.Before(a) {
			lapsed++
			continue
		}
		e := end.UTC()
		i := (e.Year()-first.Year())*12 + int(e.Month()) - int(first.Month())
		if i < 0 || i >= commitmentMonths {
			continue
		}
		rows[i].ending++
		if n, ok := c.number(checks.RoleCount); ok {
			rows[i].units += int(n)
		}
		if x, ok := c.number(checks.RoleCommitment); ok {
			rows[i].commitment += x
		}
	}
	return rows, lapsed
}

// chartRows are the rows the month chart spans from the month table's header: it is 300 pixels high, a row 20.
const chartRows = 16

// writeCommitmentsSheet streams the list, then notes, the month table and, beside it, a bar chart of the commitments
// ending per month, on the list's last sheet. The chart is added before the stream starts: a stream writer keeps a
// drawing the sheet already has, and cannot add one.
func writeCommitmentsSheet(f *excelize.File, st *styles, r *Result, cs []checks.Check) ([]string, error) {
	list := commitments(r, cs)
	months, lapsed := endingByMonth(r.AsOf, list)
	notes := []string{fmt.Sprintf("%d commitments end within %s or lapsed unrenewed: the findings of %s, soonest end first.",
		len(list), "the notice threshold", commitmentChecks(cs))}
	if lapsed > 0 {
		notes = append(notes, fmt.Sprintf("%d of them have already ended (lapsed) and are not in the table below.", lapsed))
	}
	notes = append(notes, "A commitment further away than the notice threshold is not a finding, so the later months count only what the thresholds reach.")
	monthValues := make([][]any, len(months))
	for i, m := range months {
		var commitment any = ""
		if m.commitment != 0 {
			commitment = m.commitment
		}
		monthValues[i] = []any{m.month.Format("2006-01"), m.ending, m.units, commitment}
	}

	fit := newColumnFit(CommitmentColumns)
	for _, c := range list {
		for j, v := range c.values() {
			if j != len(CommitmentColumns)-1 {
				fit.see(j, v)
			}
		}
	}
	for _, row := range append([][]any{toAny(MonthColumns)}, monthValues...) {
		for j, v := range row {
			fit.see(j, v)
		}
	}

	// Below the list's table on its last sheet: a blank row, the notes, a blank row, the month table's header and its
	// rows, the chart beside them reaching further down.
	monthHeaderAt := func(below int) int { return below + len(notes) + 1 }
	tailRows := 1 + len(notes) + 1 + max(1+len(months), chartRows)
	opts := []excelize.RowOpts{{}}
	return writePagedSheet(f, st, pagedSheet{name: CommitmentsSheet, table: "Commitments", cols: CommitmentColumns, fit: fit, n: len(list),
		tailRows: tailRows,
		row: func(sw *excelize.StreamWriter, rowNum, i int) error {
			c := list[i]
			vals := c.values()
			sty := st.sev[c.f.Severity]
			row := make([]any, len(vals))
			lines := 1
			for j, v := range vals {
				if j == len(vals)-1 {
					row[j] = linkCell(c.f.ConsoleURL, st)
					continue
				}
				l := fit.lines(j, v)
				lines = max(lines, l)
				row[j] = excelize.Cell{StyleID: sty.of(v, l > 1), Value: v}
			}
			opts[0].Height = rowHeight(lines)
			return sw.SetRow(cellName(1, rowNum), row, opts...)
		},
		prepare: func(sheet string, below int) error {
			monthHeader := monthHeaderAt(below)
			ref := func(col, from, to int) string {
				name, _ := excelize.ColumnNumberToName(col)
				if from == to {
					return fmt.Sprintf("'%s'!$%s$%d", sheet, name, from)
				}
				return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", sheet, name, from, name, to)
			}
			bars := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"2F75B5"}}
			return f.AddChart(sheet, cellName(len(MonthColumns)+2, monthHeader), &excelize.Chart{
				Type: excelize.Col,
				Series: []excelize.ChartSeries{{Name: ref(2, monthHeader, monthHeader), Fill: bars,
					Categories: ref(1, monthHeader+1, monthHeader+len(months)), Values: ref(2, monthHeader+1, monthHeader+len(months))}},
				Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Commitments ending per month"}}},
				Legend:    excelize.ChartLegend{Position: "none"},
				Dimension: excelize.ChartDimension{Width: 600, Height: 300},
				YAxis:     excelize.ChartAxis{MajorGridLines: true},
			})
		},
		tail: func(sw *excelize.StreamWriter, _ string, below int) error {
			for k, note := range notes {
				if err := sw.SetRow(cellName(1, below+k), []any{excelize.Cell{StyleID: st.plain.text, Value: note}}); err != nil {
					return err
				}
			}
			monthHeader := monthHeaderAt(below)
			header := make([]any, len(MonthColumns))
			for j, h := range MonthColumns {
				header[j] = excelize.Cell{StyleID: st.header, Value: h}
			}
			if err := sw.SetRow(cellName(1, monthHeader), header); err != nil {
				return err
			}
			for k, vals := range monthValues {
				row := make([]any, len(vals))
				for j, v := range vals {
					row[j] = excelize.Cell{StyleID: st.plain.of(v, false), Value: v}
				}
				if err := sw.SetRow(cellName(1, monthHeader+1+k), row); err != nil {
					return err
				}
			}
			return nil
		}})
}

// commitmentChecks names the checks whose findings are commitments.
func commitmentChecks(cs []checks.Check) string {
	var names []string
	for _, c := range cs {
		if c.Layout().Expiry {
			names = append(names, c.Name())
		}
	}
	if len(names) == 0 {
		return "no check of this run"
	}
	return strings.Join(names, ", ")
}
