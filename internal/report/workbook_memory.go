package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/history"
)

// listColumns are the finding fields the memory sheets show. They hold findings of every check, so a check's own
// columns are folded into Details.
var listColumns = []string{"Check", "Severity", "Account ID", "Account name", "Resource ID", "Region", "Resource name", "Status",
	"Expires (UTC)", "Reason", "Details"}

// The memory sheets' columns.
var (
	ResolvedColumns   = append(slices.Clip(listColumns), FirstSeenColumn, "Last seen", AgeColumn, "Resolved reason")
	UnverifiedColumns = append(slices.Clip(listColumns), FirstSeenColumn, "Last seen", AgeColumn, "Error code", "Error")
	SuppressedColumns = append(slices.Clip(listColumns), ChangeColumn, FirstSeenColumn, AgeColumn, "Suppression reason", "Owner",
		"Suppressed through", "Rule line")
	// RuleColumns head the table of suppression rules below the suppressed findings: the rules that matched nothing
	// (stale), expired or expire soon.
	RuleColumns = []string{"Rule line", "State", "Check", "Account ID", "Region", "Resource ID", "Reason", "Owner", "Expires"}
	// TrendColumns are the Trend sheet's: one row per stored run.
	TrendColumns = []string{"Run time (UTC)", "Critical", "Warning", "Notice", "New", "Resolved", "Accounts audited", "Accounts in scope", "Run ID"}
)

// listValue is a finding's value in one of listColumns.
func listValue(fd *checks.Finding, col string, byName map[string]checks.Check) any {
	switch col {
	case "Check":
		return fd.Check
	case "Details":
		return details(fd, byName[fd.Check])
	}
	return FindingValue(fd, col)
}

// details folds a finding's check columns into one text, in the check's column order, each under its header. A
// detail no column of the check declares (one kept from a header no column has, read from an older state) follows,
// under the header it was read with: shown, not dropped.
func details(fd *checks.Finding, c checks.Check) string {
	var parts []string
	add := func(header, v string) {
		if v != "" {
			parts = append(parts, header+": "+v)
		}
	}
	var l checks.Layout
	if c != nil {
		l = c.Layout()
		for _, col := range l.Columns {
			add(col.Name, fd.Detail(col.ID))
		}
	}
	var rest []checks.Detail
	for _, d := range fd.DetailsByID() {
		if l.Column(d.ID) == nil {
			rest = append(rest, checks.Detail{ID: checks.Header(fd.Check, d.ID), Value: d.Value})
		}
	}
	slices.SortStableFunc(rest, func(a, b checks.Detail) int { return strings.Compare(a.ID, b.ID) })
	for _, d := range rest {
		add(d.ID, d.Value)
	}
	return strings.Join(parts, "; ")
}

// listSheet is a streamed sheet of findings (or rules) of every check: a table, then notes and a second block of
// rows below it.
type listSheet struct {
	name, table string
	cols        []string
	n           int
	row         func(i int) ([]any, checks.Severity)
	// notes are lines below the table: why it is empty, what it was compared with.
	notes []string
	// below is a second block of rows under the notes, its first row a header.
	below [][]any
	// gone says the rows are findings that are gone (resolved): filled green, not by their severity, so a fixed
	// critical finding does not read as an open one.
	gone bool
}

// tailRows are the rows below the table on the list's last sheet: a blank row and the notes, then a blank row and
// the second block.
func (ls listSheet) tailRows() int {
	n := 1 + len(ls.notes)
	if len(ls.below) > 0 {
		n += 1 + len(ls.below)
	}
	return n
}

// writeListSheet writes ls, on as many sheets as its rows take, and returns their names.
func writeListSheet(f *excelize.File, st *styles, ls listSheet) ([]string, error) {
	fit := newColumnFit(ls.cols)
	for i := range ls.n {
		vals, _ := ls.row(i)
		for j, v := range vals {
			fit.see(j, v)
		}
	}
	for k, row := range ls.below {
		for j, v := range row {
			if k == 0 {
				v = fmt.Sprint(v) + "  " // a header is bold
			}
			fit.hold(j, v)
		}
	}
	opts := []excelize.RowOpts{{}}
	belowKinds := &columnKinds{}
	if len(ls.below) > 0 {
		belowKinds = kindsOf(ls.below[1:])
	}
	write := func(sw *excelize.StreamWriter, rowNum int, vals []any, sty cellStyles, kinds *columnKinds) error {
		out := make([]any, len(vals))
		lines := 1
		for j, v := range vals {
			l := fit.lines(j, v)
			lines = max(lines, l)
			out[j] = excelize.Cell{StyleID: sty.at(v, l > 1, kinds.gapAt(j)), Value: cellValue(v)}
		}
		opts[0].Height = rowHeight(lines)
		return sw.SetRow(cellName(1, rowNum), out, opts...)
	}
	return writePagedSheet(f, st, pagedSheet{name: ls.name, table: ls.table, cols: ls.cols, fit: fit, n: ls.n, tailRows: ls.tailRows(),
		row: func(sw *excelize.StreamWriter, rowNum, i int) error {
			vals, sev := ls.row(i)
			sty, ok := st.sev[sev]
			switch {
			case ls.gone:
				sty = st.resolved
			case !ok:
				sty = st.plain
			}
			return write(sw, rowNum, vals, sty, &fit.kinds)
		},
		tail: func(sw *excelize.StreamWriter, _ string, next int) error {
			for _, note := range ls.notes {
				// A note is not measured: it runs across the empty cells to its right rather than widening column A.
				if err := sw.SetRow(cellName(1, next), []any{excelize.Cell{StyleID: st.plain.text, Value: note}}); err != nil {
					return err
				}
				next++
			}
			if len(ls.below) == 0 {
				return nil
			}
			next++
			if err := sw.SetRow(cellName(1, next), st.headerRow(ls.below[0], belowKinds)); err != nil {
				return err
			}
			for k, row := range ls.below[1:] {
				if err := write(sw, next+1+k, row, st.plain, belowKinds); err != nil {
					return err
				}
			}
			return nil
		}})
}

// writeMemorySheets writes Resolved, Unverified, Suppressed and Trend, and returns the sheets each list took. Each
// says, below its table, what it compared with or why it could not: an empty Resolved sheet on a first run must not
// read as "nothing was fixed". Trend is one row per stored run of history.DefaultLookback: never near a sheet's limit.
func writeMemorySheets(f *excelize.File, st *styles, r *Result, cs []checks.Check) ([][]string, error) {
	byName := map[string]checks.Check{}
	for _, c := range checks.All() {
		byName[c.Name()] = c
	}
	for _, c := range cs {
		byName[c.Name()] = c
	}
	var sheets [][]string
	for _, ls := range memoryLists(r, byName) {
		names, err := writeListSheet(f, st, ls)
		if err != nil {
			return nil, fmt.Errorf("%s sheet: %w", ls.name, err)
		}
		sheets = append(sheets, names)
	}
	if err := writeTrendSheet(f, st, r); err != nil {
		return nil, fmt.Errorf("trend sheet: %w", err)
	}
	return sheets, nil
}

// memoryLists are the Resolved, Unverified and Suppressed sheets of r, with their notes; byName finds a finding's
// check for its Details column.
func memoryLists(r *Result, byName map[string]checks.Check) []listSheet {
	base := func(fd *checks.Finding) []any {
		vals := make([]any, 0, len(SuppressedColumns))
		for _, col := range listColumns {
			vals = append(vals, listValue(fd, col, byName))
		}
		return vals
	}
	compared := r.memoryNote()
	resolved := listSheet{name: ResolvedSheet, table: "Resolved", cols: ResolvedColumns, n: len(r.Resolved), gone: true,
		row: func(i int) ([]any, checks.Severity) {
			x := &r.Resolved[i]
			return append(base(&x.Finding), x.FirstSeen.UTC(), x.LastSeen.UTC(), x.AgeDays, x.ResolvedReason), x.Severity
		}}
	unverified := listSheet{name: UnverifiedSheet, table: "Unverified", cols: UnverifiedColumns, n: len(r.Unverified),
		row: func(i int) ([]any, checks.Severity) {
			x := &r.Unverified[i]
			return append(base(&x.Finding), x.FirstSeen.UTC(), x.LastSeen.UTC(), x.AgeDays, x.Code, x.Error), x.Severity
		}}
	switch {
	case r.compared():
		resolved.notes = []string{fmt.Sprintf("%d findings of the previous run are gone from cells that ran this run, or their accounts left the scope; %s.",
			len(r.Resolved), compared)}
		unverified.notes = []string{fmt.Sprintf("%d findings of the previous run could not be re-checked (their cells failed, were cut by the deadline or did not run), so they are not called resolved; %s.",
			len(r.Unverified), compared)}
	default:
		resolved.notes = []string{"Nothing can be called resolved: " + compared + "."}
		unverified.notes = []string{"Nothing to re-check: " + compared + "."}
	}
	suppressed := listSheet{name: SuppressedSheet, table: "Suppressed", cols: SuppressedColumns, n: len(r.Suppressed),
		row: func(i int) ([]any, checks.Severity) {
			x := &r.Suppressed[i]
			vals := append(base(&x.Finding), FindingValue(&x.Finding, ChangeColumn), FindingValue(&x.Finding, FirstSeenColumn),
				FindingValue(&x.Finding, AgeColumn))
			if s := x.Suppression; s != nil {
				var through any = s.Expires
				if d, err := time.Parse(time.DateOnly, s.Expires); err == nil {
					through = day{d}
				}
				vals = append(vals, s.Reason, s.Owner, through, s.Line)
			} else {
				vals = append(vals, "", "", "", "")
			}
			return vals, x.Severity
		}}
	suppressed.notes, suppressed.below = suppressionNotes(r)
	return []listSheet{resolved, unverified, suppressed}
}

// memoryNote says what the run was compared with, or why with nothing.
func (r *Result) memoryNote() string {
	switch {
	case r.compared():
		return fmt.Sprintf("compared with run %s of %s", Inline(r.PreviousRunID), r.previousWhen("2006-01-02 15:04 UTC"))
	case r.NoPrevious != "":
		return Inline(r.NoPrevious)
	case r.Changes == nil:
		return "this run did not use history"
	}
	return "no previous run to compare with"
}

// suppressionNotes says how many findings the rules held back and lists the rules a person must look at: those that
// matched nothing (stale), expired or expire within a week.
func suppressionNotes(r *Result) ([]string, [][]any) {
	rep := r.SuppressionRules
	notes := []string{fmt.Sprintf("%d findings suppressed by a rule of the suppressions file: not counted in the summary, the subject or the check sheets.", len(r.Suppressed))}
	states := map[int][]string{}
	rules := map[int]history.Rule{}
	add := func(list []history.Rule, state string) {
		for _, rule := range list {
			rules[rule.Line] = rule
			states[rule.Line] = append(states[rule.Line], state)
		}
	}
	add(rep.ExpiredSinceLast, "expired since the previous run")
	for _, rule := range rep.Expired {
		if len(states[rule.Line]) == 0 {
			add([]history.Rule{rule}, "expired")
		}
	}
	add(rep.ExpiringSoon, "expires within 7 days")
	add(rep.Stale, "matched nothing (stale)")
	if len(rules) == 0 {
		if len(r.Suppressed) == 0 {
			notes = append(notes, "No rule expired, expires within 7 days or matched nothing (or no suppressions file was applied; see the Summary's warnings).")
		}
		return notes, nil
	}
	lines := make([]int, 0, len(rules))
	for l := range rules {
		lines = append(lines, l)
	}
	sort.Ints(lines)
	below := [][]any{slices.Clone(toAny(RuleColumns))}
	for _, l := range lines {
		rule := rules[l]
		below = append(below, []any{rule.Line, strings.Join(states[l], "; "), rule.Check, rule.AccountID, rule.Region, rule.ResourceID,
			rule.Reason, rule.Owner, day{rule.Expires}})
	}
	return notes, below
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// writeTrendSheet writes one row per stored run of the lookback (oldest first, this run included) and a line chart
// of the counts. With fewer than two runs there is no line to draw, and the sheet says so.
func writeTrendSheet(f *excelize.File, st *styles, r *Result) error {
	if _, err := f.NewSheet(TrendSheet); err != nil {
		return err
	}
	if err := setupPrint(f, TrendSheet, true, st.paper); err != nil {
		return err
	}
	rows := make([][]any, 0, len(r.Trend))
	for _, s := range r.Trend {
		c := s.Counts
		rows = append(rows, []any{s.RunTime.UTC(), c.Critical, c.Warning, c.Notice, c.New, c.Resolved, c.AccountsAudited, c.AccountsInScope, s.RunID})
	}
	fit := newColumnFit(TrendColumns)
	for _, row := range rows {
		for j, v := range row {
			fit.see(j, v)
		}
	}
	set := func(row int, vals []any, style func(int, any) int) error {
		for j, v := range vals {
			cell := cellName(j+1, row)
			if err := f.SetCellValue(TrendSheet, cell, v); err != nil {
				return err
			}
			if err := f.SetCellStyle(TrendSheet, cell, cell, style(j, v)); err != nil {
				return err
			}
		}
		return nil
	}
	kinds := kindsOf(rows)
	if err := set(1, toAny(TrendColumns), func(j int, _ any) int { return st.headerStyle(kinds, j) }); err != nil {
		return err
	}
	for i, row := range rows {
		if err := set(i+2, row, func(j int, v any) int { return st.plain.at(v, false, kinds.gapAt(j)) }); err != nil {
			return err
		}
	}
	for j := range TrendColumns {
		name, _ := excelize.ColumnNumberToName(j + 1)
		if err := f.SetColWidth(TrendSheet, name, name, fit.width(j)); err != nil {
			return err
		}
	}
	last := max(len(rows)+1, 2)
	off := false
	if err := f.AddTable(TrendSheet, &excelize.Table{Range: "A1:" + cellName(len(TrendColumns), last), Name: "Trend", StyleName: "TableStyleLight1",
		ShowRowStripes: &off}); err != nil {
		return err
	}
	if err := f.SetPanes(TrendSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	noteRow := last + 2
	note := func(s string) error {
		if err := f.SetCellValue(TrendSheet, cellName(1, noteRow), s); err != nil {
			return err
		}
		noteRow++
		// The sheet's cells end at its last note; excelize leaves the dimension "A1".
		return f.SetSheetDimension(TrendSheet, "A1:"+cellName(len(TrendColumns), noteRow-1))
	}
	switch {
	case len(rows) == 0:
		return note("No trend: " + r.memoryNote() + ".")
	case len(rows) == 1:
		return note("One run stored so far: the chart starts with the second.")
	}
	if err := note(fmt.Sprintf("%d runs of the last %d days, this one included; suppressed findings are not counted.", len(rows),
		int(history.DefaultLookback/(24*time.Hour)))); err != nil {
		return err
	}
	ref := func(col int) string {
		name, _ := excelize.ColumnNumberToName(col)
		return fmt.Sprintf("'%s'!$%s$2:$%s$%d", TrendSheet, name, name, len(rows)+1)
	}
	var series []excelize.ChartSeries
	cache := chartCache{text: map[string][]string{}, numbers: map[string][]*float64{}}
	for _, s := range r.Trend {
		cache.text[ref(1)] = append(cache.text[ref(1)], s.RunTime.UTC().Format(time.DateOnly))
	}
	colours := map[string]string{"Critical": "C00000", "Warning": "BF8F00", "Notice": "2F75B5", "New": "7030A0", "Resolved": "548235"}
	for j, col := range TrendColumns[1:6] {
		fill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colours[col]}}
		name, _ := excelize.ColumnNumberToName(j + 2)
		cache.text[fmt.Sprintf("'%s'!$%s$1", TrendSheet, name)] = []string{col}
		column := make([]any, len(rows))
		for i, row := range rows {
			column[i] = row[j+1]
		}
		cache.numbers[ref(j+2)] = cacheNumbers(column)
		series = append(series, excelize.ChartSeries{
			Name: fmt.Sprintf("'%s'!$%s$1", TrendSheet, name), Categories: ref(1), Values: ref(j + 2),
			Line:   excelize.LineOptions{Width: 2},
			Fill:   fill, // a line chart draws its series line in the series fill
			Marker: excelize.ChartMarker{Symbol: "circle", Size: 5, Fill: fill},
		})
	}
	chart := &excelize.Chart{
		Type: excelize.Line, Series: series,
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Findings per run"}}},
		Legend:    excelize.ChartLegend{Position: "bottom"},
		Dimension: excelize.ChartDimension{Width: 720, Height: 320},
		XAxis:     excelize.ChartAxis{NumFmt: excelize.ChartNumFmt{CustomNumFmt: "yyyy-mm-dd"}, Font: axisFont},
		YAxis:     excelize.ChartAxis{MajorGridLines: true, Font: axisFont},
	}
	if err := f.AddChart(TrendSheet, cellName(1, noteRow+1), chart); err != nil {
		return err
	}
	return cache.fill(f)
}
