package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// CommitmentsSheet lists every commitment that ends soon or lapsed, of every kind (the findings of every check whose
// Layout reports expiry), soonest end first, with what each costs and puts at risk, and below it a table and a chart
// of the money that ends in each month that has commitments ending.
const CommitmentsSheet = "Commitments"

// CommitmentColumns are the Commitments sheet's, for a run without on-demand rates (commitmentColumns adds them).
// Type, Count and Renewal are read from the columns each check declares in those roles (checks.RoleType, RoleCount,
// RoleRenewal), empty where it has none; the money from the findings' checks.Money (the money columns of
// moneyColumns), so every kind has a USD per hour, not only those whose check declares one (RoleCommitment).
var CommitmentColumns = commitmentColumns(false)

// commitmentColumns are the Commitments sheet's columns, with the on-demand ones when onDemand.
func commitmentColumns(onDemand bool) []string {
	cols := []string{"Kind", "Type", "Account ID", "Account name", "Resource ID", OwnerColumn, OUColumn, "Region", "End (UTC)", "Days left", "Severity", "Count"}
	cols = append(cols, moneyColumns(onDemand)...)
	return append(cols, "Renewal", "Status", "Console")
}

// MonthColumns head the table of the money that ends in each month, below the list: how many commitments end, what
// they cost per month in USD, how much of it no renewal covers (at risk) and how much a renewal does (covered), and
// how many of them are not in those sums (price or risk unknown, or priced in another currency). Units are not
// summed: a month mixes instances, nodes and Savings Plans, which do not add up.
var MonthColumns = []string{"Month", "Commitments ending", USDPerMonthColumn, AtRiskColumn, "Covered (USD/month)", "Not in the USD sums"}

// The month table's rows that are not months: commitments that ended before the as-of time, those without an end,
// and the total.
const (
	lapsedMonth  = "Lapsed"
	undatedMonth = "No end date"
	totalMonth   = "Total"
)

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

// value is the commitment's value in column col of the Commitments sheet.
func (c commitment) value(col string) any {
	switch col {
	case "Kind":
		return c.layout.Kind
	case "Type":
		return c.role(checks.RoleType)
	case "End (UTC)":
		return FindingValue(c.f, "Expires (UTC)")
	case "Count":
		return typedDetail(c.role(checks.RoleCount), checks.KindNumber)
	case "Renewal":
		return c.role(checks.RoleRenewal)
	case "Console":
		return c.f.ConsoleURL
	}
	return FindingValue(c.f, col)
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

// monthRow is one row of the table of the money that ends in a month.
type monthRow struct {
	label  string
	ending int
	// usd, atRisk and covered are sums of what is known in USD, each over as many commitments as its count says;
	// unpriced counts the commitments not in all three.
	usd, atRisk, covered    float64
	nUSD, nAtRisk, nCovered int
	unpriced                int
}

func (m *monthRow) add(f *checks.Finding) {
	m.ending++
	var usd, risk *float64
	if f.Money != nil {
		usd, risk = f.Money.USDPerMonth, f.Money.USDPerMonthAtRisk
	}
	if usd != nil {
		m.usd = checks.Cents(m.usd + *usd)
		m.nUSD++
	}
	if risk != nil {
		m.atRisk = checks.Cents(m.atRisk + *risk)
		m.nAtRisk++
	}
	if usd == nil || risk == nil {
		m.unpriced++
		return
	}
	m.covered = checks.Cents(m.covered + *usd - *risk)
	m.nCovered++
}

// values are the row's cells: a sum over no known figure is an empty cell, not 0.
func (m monthRow) values() []any {
	sum := func(v float64, n int) any {
		if n == 0 {
			return ""
		}
		return v
	}
	return []any{m.label, m.ending, sum(m.usd, m.nUSD), sum(m.atRisk, m.nAtRisk), sum(m.covered, m.nCovered), m.unpriced}
}

// endingByMonth sums the commitments by the month they end in, each month that has one, the as-of month first:
// those that ended before the as-of time (lapsed) in a row of their own before the months, those without an end
// after them; then the total of every row.
func endingByMonth(asOf time.Time, cs []commitment) (rows []monthRow, total monthRow) {
	a := asOf.UTC()
	lapsed, undated := monthRow{label: lapsedMonth}, monthRow{label: undatedMonth}
	total.label = totalMonth
	var months []monthRow // in order, as cs is sorted by end
	for _, c := range cs {
		total.add(c.f)
		end := c.f.ExpiresAt
		switch {
		case end == nil:
			undated.add(c.f)
			continue
		case end.Before(a):
			lapsed.add(c.f)
			continue
		}
		label := end.UTC().Format("2006-01")
		if len(months) == 0 || months[len(months)-1].label != label {
			months = append(months, monthRow{label: label})
		}
		months[len(months)-1].add(c.f)
	}
	if lapsed.ending > 0 {
		rows = append(rows, lapsed)
	}
	rows = append(rows, months...)
	if undated.ending > 0 {
		rows = append(rows, undated)
	}
	return rows, total
}

// monthChartTitle heads the chart of the month table.
const monthChartTitle = "USD per month ending, at risk and covered"

// axisFont is every chart axis's labels: dark grey. excelize's default is the text colour lightened by 85% (about
// #D9D9D9), too pale to read on a screen and gone on a printed page.
var axisFont = excelize.Font{Color: "404040"}

// chartRows are the rows the month chart spans from the month table's header: it is 300 pixels high, a row 20.
const chartRows = 16

// writeCommitmentsSheet streams the list, then notes, the month table and, beside it, a stacked bar chart of the
// money at risk and covered per month, on the list's last sheet. The chart is added before the stream starts: a
// stream writer keeps a drawing the sheet already has, and cannot add one.
func writeCommitmentsSheet(f *excelize.File, st *styles, r *Result, cs []checks.Check) ([]string, error) {
	list := commitments(r, cs)
	cols := commitmentColumns(hasOnDemand(r.Findings))
	months, total := endingByMonth(r.AsOf, list)
	notes := []string{fmt.Sprintf("%d commitments end within %s or lapsed unrenewed: the findings of %s, soonest end first.",
		len(list), "the notice threshold", commitmentChecks(cs)),
		"Money is per month of 730 hours. At risk is what no renewal covers; covered is what a renewal does. An unknown figure is an empty cell (Price note says why), never 0; a price in another currency is in the Price columns, in its currency, and in no USD sum.",
		"A commitment further away than the notice threshold is not a finding, so the later months count only what the thresholds reach."}
	monthValues := make([][]any, 0, len(months)+1)
	for _, m := range months {
		monthValues = append(monthValues, m.values())
	}
	monthValues = append(monthValues, total.values())

	console := len(cols) - 1
	fit := newColumnFit(cols)
	for _, c := range list {
		for j, col := range cols[:console] {
			fit.see(j, c.value(col))
		}
	}
	for _, row := range append([][]any{toAny(MonthColumns)}, monthValues...) {
		for j, v := range row {
			fit.hold(j, v)
		}
	}

	// Below the list's table on its last sheet: a blank row, the notes, a blank row, the month table's header, its
	// rows and the total, the chart beside them reaching further down.
	monthHeaderAt := func(below int) int { return below + len(notes) + 1 }
	tailRows := 1 + len(notes) + 1 + max(1+len(monthValues), chartRows)
	cells := make([]excelize.Cell, len(cols))
	row := make([]any, len(cols))
	for j := range cells {
		row[j] = &cells[j]
	}
	opts := []excelize.RowOpts{{}}
	return writePagedSheet(f, st, pagedSheet{name: CommitmentsSheet, table: "Commitments", cols: cols, fit: fit, n: len(list),
		tailRows: tailRows, tailCells: 1 + len(notes) + 1 + 1 + len(monthValues),
		row: func(sw *excelize.StreamWriter, rowNum, i int) error {
			c := list[i]
			sty := st.sev[c.f.Severity]
			lines := 1
			for j, col := range cols {
				if j == console {
					cells[j] = linkCell(c.f.ConsoleURL, st, fit.kinds.gapAt(j))
					continue
				}
				v := c.value(col)
				l := fit.lines(j, v)
				lines = max(lines, l)
				cells[j] = styledCell(sty.at(v, l > 1, fit.kinds.gapAt(j)), v)
			}
			opts[0].Height = rowHeight(lines)
			return sw.SetRow(cellName(1, rowNum), row, opts...)
		},
		prepare: func(sheet string, below int) error {
			// The bars are the lapsed row and the months: not the commitments without an end, not the total.
			bars := len(months)
			if bars > 0 && months[bars-1].label == undatedMonth {
				bars--
			}
			priced := slices.ContainsFunc(months[:bars], func(m monthRow) bool { return m.nUSD > 0 })
			if !priced {
				return nil // nothing ends, or nothing that ends is priced in USD: no chart of nothing
			}
			monthHeader := monthHeaderAt(below)
			ref := func(col, from, to int) string {
				name, _ := excelize.ColumnNumberToName(col)
				if from == to {
					return fmt.Sprintf("'%s'!$%s$%d", sheet, name, from)
				}
				return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", sheet, name, from, name, to)
			}
			first, last := monthHeader+1, monthHeader+bars
			categories := ref(1, first, last)
			cache := chartCache{text: map[string][]string{}, numbers: map[string][]*float64{}}
			for _, m := range months[:bars] {
				cache.text[categories] = append(cache.text[categories], m.label)
			}
			series := func(col int, colour string) excelize.ChartSeries {
				cache.text[ref(col, monthHeader, monthHeader)] = []string{MonthColumns[col-1]}
				values := make([]any, bars)
				for i, m := range months[:bars] {
					values[i] = m.values()[col-1]
				}
				cache.numbers[ref(col, first, last)] = cacheNumbers(values)
				return excelize.ChartSeries{Name: ref(col, monthHeader, monthHeader), Categories: categories, Values: ref(col, first, last),
					Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colour}}}
			}
			err := f.AddChart(sheet, cellName(len(MonthColumns)+2, monthHeader), &excelize.Chart{
				Type: excelize.ColStacked,
				Series: []excelize.ChartSeries{series(slices.Index(MonthColumns, AtRiskColumn)+1, "C00000"),
					series(slices.Index(MonthColumns, "Covered (USD/month)")+1, "2F75B5")},
				Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: monthChartTitle}}},
				Legend:    excelize.ChartLegend{Position: "bottom"},
				Dimension: excelize.ChartDimension{Width: 600, Height: 300},
				XAxis:     excelize.ChartAxis{Font: axisFont},
				YAxis:     excelize.ChartAxis{MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "#,##0"}, Font: axisFont},
			})
			if err != nil {
				return err
			}
			return cache.fill(f)
		},
		tail: func(sw *excelize.StreamWriter, _ string, below int) error {
			for k, note := range notes {
				if err := sw.SetRow(cellName(1, below+k), []any{excelize.Cell{StyleID: st.plain.text, Value: note}}); err != nil {
					return err
				}
			}
			monthHeader := monthHeaderAt(below)
			if err := sw.SetRow(cellName(1, monthHeader), st.headerRow(toAny(MonthColumns), kindsOf(monthValues))); err != nil {
				return err
			}
			for k, vals := range monthValues {
				out := make([]any, len(vals))
				for j, v := range vals {
					style := st.plain.of(v, false)
					if k == len(monthValues)-1 {
						style = st.total.of(v, false)
					}
					out[j] = excelize.Cell{StyleID: style, Value: v}
				}
				if err := sw.SetRow(cellName(1, monthHeader+1+k), out); err != nil {
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
