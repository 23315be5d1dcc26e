package report

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/history"
)

// commitmentScenario: reservations of two kinds in two accounts, ending on known days (one lapsed, one undated), a
// commitment of a kind the report does not know that counts money per hour, and a stack that is not a commitment.
// Each commitment carries its money (scenarioMoney): all upfront, partial, no upfront, a renewal that covers all or
// part, a price in another currency and one unknown.
func commitmentScenario() (*Result, []checks.Check) {
	cs := append(checks.All(), unknownCheck{})
	var fs []checks.Finding
	owners := map[string]string{"111111111111": "team-a", "222222222222": "team-b"} // 333333333333's owner is not known
	add := func(check, account, id string, sev checks.Severity, days int, details map[string]string) {
		f := finding(len(fs), sev, check)
		f.AccountID, f.ResourceID, f.Details = account, id, headed(check, details)
		f.Owner, f.OU = owners[account], "ou-"+account[:1]
		if days != 999 {
			end := asOf.AddDate(0, 0, days)
			f.ExpiresAt, f.DaysLeft = &end, &days
		}
		f.Money = scenarioMoney[id]
		fs = append(fs, f)
	}
	add("ec2-reserved-instances", "222222222222", "ri-b-2d", checks.Critical, 2, map[string]string{"Instance type": "m6i.large", "Count": "4"})
	add("rds-reserved-instances", "111111111111", "ri-a-5d", checks.Critical, 5, map[string]string{"DB instance class": "db.r6g.large", "Count": "2",
		"Renewal": "ri-a-new: 2 × db.r6g.large"})
	add("cloudformation-failed-stacks", "111111111111", "stack-a", checks.Critical, 999, map[string]string{})
	add("ec2-reserved-instances", "111111111111", "ri-a-lapsed", checks.Critical, -3, map[string]string{"Instance type": "c6i.large", "Count": "1"})
	add("ec2-reserved-instances", "111111111111", "ri-a-undated", checks.Warning, 999, map[string]string{"Instance type": "t3.small", "Count": "1"})
	add("rds-reserved-instances", "222222222222", "ri-b-20d", checks.Warning, 20, map[string]string{"DB instance class": "db.m5.large", "Count": "3"})
	add(unknownCheck{}.Name(), "111111111111", "sp-a-25d", checks.Warning, 25, map[string]string{"Plan type": "Compute", "Rate (USD/h)": "1.5"})
	add("ec2-reserved-instances", "333333333333", "ri-c-40d", checks.Notice, 40, map[string]string{"Instance type": "r6i.large", "Count": "8"})
	for i := range fs {
		fs[i].Change = string(history.ChangeNew)
	}
	checks.SortFindings(fs)
	r := Build("run-1", asOf, []string{"eu-west-1"}, cs, fanOut(fs, nil, nil))
	return r, cs
}

// scenarioMoney is each commitment's money in commitmentScenario, worked by hand from a price per hour over a month
// of 730 hours (a year of 8,760).
var scenarioMoney = map[string]*checks.Money{
	// All upfront: 2,628 for the year is 0.30 an hour, 219 a month; nothing renews it.
	"ri-b-2d": usdMoney(0.30, 219, 219, 2628, "1 year", "All Upfront"),
	// Partial upfront: 876 over the year is 0.10 an hour, plus 0.10 usage: 0.20, 146 a month; a renewal of as
	// many covers it all.
	"ri-a-5d": usdMoney(0.20, 146, 0, 876, "1 year", "Partial Upfront"),
	// No upfront: 0.10 an hour, 73 a month, lapsed: all at risk.
	"ri-a-lapsed":  usdMoney(0.10, 73, 73, 0, "3 years", "No Upfront"),
	"ri-a-undated": {PriceUnknown: "the offering's price was not reported"},
	// Priced in euros: 0.50 an hour, 365 a month, none of it in a USD figure.
	"ri-b-20d": {PriceUnknown: "priced in EUR", Price: &checks.Price{Currency: "EUR", PerHour: 0.5, PerMonth: 365, PerMonthAtRisk: checks.USD(365),
		Term: "3 years", PaymentOption: "No Upfront"}},
	// A Savings Plan of 1.50 an hour (1,095 a month) renewed by one of 1.00 (730): 365 at risk.
	"sp-a-25d": usdMoney(1.5, 1095, 365, 13140, "1 year", "All Upfront"),
	// No upfront: 0.80 an hour, 584 a month.
	"ri-c-40d": usdMoney(0.80, 584, 584, 0, "1 year", "No Upfront"),
}

func usdMoney(perHour, month, atRisk, upfront float64, term, payment string) *checks.Money {
	return &checks.Money{USDPerMonth: checks.USD(month), USDPerMonthAtRisk: checks.USD(atRisk),
		Price: &checks.Price{Currency: "USD", PerHour: perHour, PerMonth: month, PerMonthAtRisk: checks.USD(atRisk), Upfront: upfront, Term: term, PaymentOption: payment}}
}

// TestCommitmentsSheet: every commitment of every kind in one list, soonest end first (the undated last), with its
// kind, type, count and renewal read from the roles its check declared, its owner and OU, and its money from the
// finding; a table of the money ending in each month that has commitments ending, with a total, and a stacked bar
// chart of it; each check keeps its own sheet.
func TestCommitmentsSheet(t *testing.T) {
	t.Parallel()
	r, cs := commitmentScenario()
	b, err := Workbook(r, cs)
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if sheets := x.GetSheetList(); len(sheets) < 3 || sheets[2] != CommitmentsSheet || !slices.Contains(sheets, "ec2-reserved-instances") {
		t.Fatalf("sheets %v: want Commitments after Summary and Findings, and the check sheets", sheets)
	}
	rows, _ := x.GetRows(CommitmentsSheet)
	if !slices.Equal(rows[0], CommitmentColumns) {
		t.Fatalf("header %q", rows[0])
	}
	col := func(name string) int { return slices.Index(CommitmentColumns, name) }
	var want []*checks.Finding
	for i := range r.Findings {
		if c, _ := r.check(r.Findings[i].Check); c.Layout().Expiry {
			want = append(want, &r.Findings[i])
		}
	}
	slices.SortStableFunc(want, func(a, b *checks.Finding) int {
		end := func(f *checks.Finding) time.Time {
			if f.ExpiresAt == nil {
				return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			return *f.ExpiresAt
		}
		return end(a).Compare(end(b))
	})
	var got []string
	for _, row := range rows[1 : 1+len(want)] {
		got = append(got, row[col("Resource ID")])
	}
	var wantIDs []string
	for _, f := range want {
		wantIDs = append(wantIDs, f.ResourceID)
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("commitments %v, want every one, soonest end first: %v", got, wantIDs)
	}
	if len(rows) > len(want)+1 && rows[len(want)+1] != nil && len(rows[len(want)+1]) > 0 {
		t.Errorf("row after the list is %q, want it blank (the stack is not a commitment)", rows[len(want)+1])
	}
	// Each commitment's row, by the roles its check declared and by its money.
	for i, f := range want {
		row, n := rows[i+1], i+2
		cell := func(name string) string { c, _ := excelize.CoordinatesToCellName(col(name)+1, n); return c }
		raw := func(name string) string {
			v, _ := x.GetCellValue(CommitmentsSheet, cell(name), excelize.Options{RawCellValue: true})
			return v
		}
		shown := func(name string) string {
			if j := col(name); j < len(row) {
				return row[j]
			}
			return ""
		}
		c, _ := r.check(f.Check)
		if row[col("Kind")] != c.Layout().Kind || row[col("Account ID")] != f.AccountID || row[col("Severity")] != string(f.Severity) ||
			shown(OwnerColumn) != f.Owner || shown(OUColumn) != f.OU {
			t.Errorf("%s: kind, account, severity, owner or OU %q", f.ResourceID, row)
		}
		if f.ExpiresAt != nil {
			if typ, _ := x.GetCellType(CommitmentsSheet, cell("Days left")); raw("Days left") != fmt.Sprint(*f.DaysLeft) || typ == excelize.CellTypeSharedString {
				t.Errorf("%s: days left %q, want the number %d", f.ResourceID, raw("Days left"), *f.DaysLeft)
			}
			if row[col("End (UTC)")] != f.ExpiresAt.Format("2006-01-02 15:04") || raw("End (UTC)") == row[col("End (UTC)")] {
				t.Errorf("%s: end %q (raw %q), want a real date %s", f.ResourceID, row[col("End (UTC)")], raw("End (UTC)"), f.ExpiresAt.Format("2006-01-02 15:04"))
			}
		}
		if typ := c.Layout().WithRole(checks.RoleType); row[col("Type")] != f.Detail(typ.ID) {
			t.Errorf("%s: type %q, want its %s %q", f.ResourceID, row[col("Type")], typ.Name, f.Detail(typ.ID))
		}
		if count := c.Layout().WithRole(checks.RoleCount); count != nil && raw("Count") != f.Detail(count.ID) {
			t.Errorf("%s: count %q, want %q", f.ResourceID, raw("Count"), f.Detail(count.ID))
		}
		if renewal := c.Layout().WithRole(checks.RoleRenewal); shown("Renewal") != f.Detail(renewal.ID) {
			t.Errorf("%s: renewal %q, want %q", f.ResourceID, shown("Renewal"), f.Detail(renewal.ID))
		}
		assertMoneyRow(t, x, CommitmentsSheet, n, f)
	}

	// The month table: the money that ends in each month that has commitments ending, lapsed ones first, undated ones
	// last, then the total; worked by hand from scenarioMoney (asOf is 2026-11-22).
	h := slices.IndexFunc(rows, func(row []string) bool { return len(row) > 0 && row[0] == MonthColumns[0] })
	if h < 0 || !slices.Equal(rows[h][:len(MonthColumns)], MonthColumns) {
		t.Fatalf("no month table headed %q", MonthColumns)
	}
	wantMonths := [][]string{
		{"Lapsed", "1", "73.00", "73.00", "0.00", "0"},        // ri-a-lapsed
		{"2026-11", "2", "365.00", "219.00", "146.00", "0"},   // ri-b-2d 219 at risk, ri-a-5d 146 covered
		{"2026-12", "2", "1,095.00", "365.00", "730.00", "1"}, // sp-a-25d; ri-b-20d in EUR
		{"2027-01", "1", "584.00", "584.00", "0.00", "0"},     // ri-c-40d
		{"No end date", "1", "", "", "", "1"},                 // ri-a-undated: price unknown, not 0
		{"Total", "7", "2,117.00", "1,241.00", "876.00", "2"},
	}
	if len(rows) < h+1+len(wantMonths) {
		t.Fatalf("month table has %d rows, want %d", len(rows)-h-1, len(wantMonths))
	}
	for k, w := range wantMonths {
		if got := rows[h+1+k][:min(len(rows[h+1+k]), len(MonthColumns))]; !slices.Equal(got, w) {
			t.Errorf("month row %d: %q, want %q", k+1, got, w)
		}
	}
	if after := h + 1 + len(wantMonths); after < len(rows) && len(rows[after]) > 0 && rows[after][0] != "" {
		t.Errorf("a row after the total: %q, want none (no month without commitments)", rows[after])
	}
	// The sums are numbers in the money format, the total row bold.
	for _, k := range []int{1, len(wantMonths) - 1} {
		for _, name := range []string{USDPerMonthColumn, AtRiskColumn, "Covered (USD/month)"} {
			c, _ := excelize.CoordinatesToCellName(slices.Index(MonthColumns, name)+1, h+2+k)
			assertMoneyCell(t, x, CommitmentsSheet, c)
		}
	}
	totalCell, _ := excelize.CoordinatesToCellName(1, h+1+len(wantMonths))
	if st, _ := x.GetCellStyle(CommitmentsSheet, totalCell); styleOf(t, x, st).Font == nil || !styleOf(t, x, st).Font.Bold {
		t.Errorf("the total row's label %s is not bold", totalCell)
	}
	chart := chartOf(t, b, CommitmentsSheet)
	months := 4 // Lapsed, 2026-11, 2026-12, 2027-01: not the undated row, not the total
	series := func(name string) string {
		c, _ := excelize.ColumnNumberToName(slices.Index(MonthColumns, name) + 1)
		return fmt.Sprintf("&#39;Commitments&#39;!$%s$%d:$%s$%d", c, h+2, c, h+1+months)
	}
	if !strings.Contains(chart, "<barChart>") || !strings.Contains(chart, `<grouping val="stacked">`) ||
		!strings.Contains(chart, fmt.Sprintf("&#39;Commitments&#39;!$A$%d:$A$%d", h+2, h+1+months)) ||
		!strings.Contains(chart, series(AtRiskColumn)) || !strings.Contains(chart, series("Covered (USD/month)")) {
		t.Errorf("want a stacked bar chart of the month table's at-risk and covered USD, months only:\n%.3000s", chart)
	}
}

// assertMoneyRow checks the money columns of the finding's row n on sheet: each USD amount a number in the money
// format, an unknown one an empty cell with the reason in Price note, a price in another currency only in the Price
// columns, with its currency.
func assertMoneyRow(t *testing.T, x *excelize.File, sheet string, n int, f *checks.Finding) {
	t.Helper()
	m := f.Money
	text := func(header string) string {
		v, _ := x.GetCellValue(sheet, cellAt(t, x, sheet, header, n))
		return v
	}
	amount := func(header string, want *float64) {
		t.Helper()
		cell := cellAt(t, x, sheet, header, n)
		raw, _ := x.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
		if want == nil {
			if raw != "" {
				t.Errorf("%s %s: %s is %q, want an empty cell (unknown, never 0)", sheet, f.ResourceID, header, raw)
			}
			return
		}
		if raw != strconv.FormatFloat(*want, 'f', -1, 64) {
			t.Errorf("%s %s: %s is %q, want %v", sheet, f.ResourceID, header, raw, *want)
		}
		assertMoneyCell(t, x, sheet, cell)
	}
	var perHour *float64
	if m.USDPerMonth != nil {
		perHour = &m.Price.PerHour
	}
	amount(USDPerHourColumn, perHour)
	amount(USDPerMonthColumn, m.USDPerMonth)
	amount(AtRiskColumn, m.USDPerMonthAtRisk)
	if m.Price == nil {
		for _, h := range []string{PriceCurrencyColumn, PricePerMonthColumn, PriceUpfrontColumn, PriceTermColumn} {
			if v := text(h); v != "" {
				t.Errorf("%s %s: %s is %q without a price", sheet, f.ResourceID, h, v)
			}
		}
	} else {
		p := m.Price
		amount(PricePerMonthColumn, &p.PerMonth)
		amount(PriceAtRiskColumn, p.PerMonthAtRisk)
		amount(PriceUpfrontColumn, &p.Upfront)
		if text(PriceCurrencyColumn) != p.Currency || text(PriceTermColumn) != p.Term || text(PricePaymentColumn) != p.PaymentOption {
			t.Errorf("%s %s: currency, term, payment %q %q %q, want %q %q %q", sheet, f.ResourceID, text(PriceCurrencyColumn), text(PriceTermColumn),
				text(PricePaymentColumn), p.Currency, p.Term, p.PaymentOption)
		}
	}
	if note := text(PriceNoteColumn); (m.USDPerMonth == nil) != (note != "") || !strings.Contains(note, m.PriceUnknown) {
		t.Errorf("%s %s: price note %q, want the reason %q exactly when the USD price is unknown", sheet, f.ResourceID, note, m.PriceUnknown)
	}
}

// assertMoneyCell checks that cell holds a number in the workbook's one money format.
func assertMoneyCell(t *testing.T, x *excelize.File, sheet, cell string) {
	t.Helper()
	if typ, _ := x.GetCellType(sheet, cell); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("%s %s is text, want a number", sheet, cell)
	}
	id, err := x.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if st := styleOf(t, x, id); st.CustomNumFmt == nil || *st.CustomNumFmt != moneyFormat {
		t.Errorf("%s %s: number format %v, want the money format %q", sheet, cell, st.CustomNumFmt, moneyFormat)
	}
}

func styleOf(t *testing.T, x *excelize.File, id int) *excelize.Style {
	t.Helper()
	st, err := x.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestDigestListsCommitmentsTogether: under each severity the commitments come together, soonest end first, whatever
// their account, before the other findings; in the open sections and in the new-or-worse one.
func TestDigestListsCommitmentsTogether(t *testing.T) {
	t.Parallel()
	r, _ := commitmentScenario()
	order := func(d, section string) []string {
		var ids []string
		for _, l := range strings.Split(d[strings.Index(d, section):], "\n")[1:] {
			if !strings.HasPrefix(l, "- ") {
				break
			}
			for _, id := range []string{"ri-b-2d", "ri-a-5d", "stack-a", "ri-a-lapsed"} {
				if strings.Contains(l, " "+id+":") || strings.Contains(l, " "+id+" ") {
					ids = append(ids, id)
				}
			}
		}
		return ids
	}
	want := []string{"ri-a-lapsed", "ri-b-2d", "ri-a-5d", "stack-a"}
	if got := order(Digest(r, 0), "CRITICAL (4)"); !slices.Equal(got, want) {
		t.Errorf("critical section lists %v, want the commitments together, soonest end first, then the rest: %v", got, want)
	}
	prev := asOf.AddDate(0, 0, -1)
	r.PreviousRunID, r.PreviousRunTime, r.Changes = "run-0", &prev, &Changes{New: len(r.Findings)}
	if got := order(Digest(r, 0), "NEW OR WORSE SINCE"); !slices.Equal(got, want) {
		t.Errorf("new-or-worse section lists %v, want %v", got, want)
	}
}

// TestCheckSheetsShowMoney: every commitment check's sheet has the money columns, filled from each finding's Money as
// on the Commitments sheet; a check whose findings do not expire has none.
func TestCheckSheetsShowMoney(t *testing.T) {
	t.Parallel()
	r, cs := commitmentScenario()
	b, err := Workbook(r, cs)
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for _, c := range cs {
		rows, err := x.GetRows(c.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range moneyColumns(false) {
			if has := slices.Contains(rows[0], col); has != c.Layout().Expiry {
				t.Errorf("%s: column %q present %v, want it exactly on a commitment check's sheet", c.Name(), col, has)
			}
		}
		if slices.Contains(rows[0], OnDemandColumn) {
			t.Errorf("%s: an on-demand column in a run without on-demand rates", c.Name())
		}
		n := 1
		for i := range r.Findings {
			if f := &r.Findings[i]; f.Check == c.Name() {
				n++
				if got := rows[n-1][slices.Index(rows[0], "Resource ID")]; got != f.ResourceID {
					t.Fatalf("%s row %d is %s, want %s", c.Name(), n, got, f.ResourceID)
				}
				if c.Layout().Expiry {
					assertMoneyRow(t, x, c.Name(), n, f)
				}
			}
		}
	}
}

// TestSummaryMoneyAtRisk: the Summary sums what is at risk per month by severity (the run's usd_per_month_at_risk),
// with the commitments behind each, those in no USD sum counted apart and another currency's amount in its currency,
// then by owner, most at risk first; worked by hand from scenarioMoney.
func TestSummaryMoneyAtRisk(t *testing.T) {
	t.Parallel()
	r, cs := commitmentScenario()
	b, err := Workbook(r, cs)
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, _ := x.GetRows(SummarySheet)
	table := func(header string, n int) [][]string {
		h := slices.IndexFunc(rows, func(row []string) bool { return len(row) > 0 && row[0] == header })
		if h < 0 || len(rows) < h+1+n {
			t.Fatalf("no table headed %q of %d rows on the Summary:\n%s", header, n, sheetText(t, x, SummarySheet))
		}
		return rows[h+1 : h+1+n]
	}
	wantSeverity := [][]string{
		{"critical", "292.00", "USD", "3"}, // ri-b-2d 219 + ri-a-5d 0 (renewed) + ri-a-lapsed 73; the stack is no commitment
		{"warning", "365.00", "USD", "3"},  // sp-a-25d 365; ri-a-undated unknown, ri-b-20d in EUR
		{"notice", "584.00", "USD", "1"},   // ri-c-40d
		{"Total", "1,241.00", "USD", "7"},
		{"Not in the USD sums (see Price note)", "", "", "2"},
		{"At risk priced in EUR (not converted, in no USD sum)", "365.00", "EUR"},
	}
	for k, row := range table("At risk by severity", len(wantSeverity)) {
		if !slices.Equal(row, wantSeverity[k]) {
			t.Errorf("at risk row %d: %q, want %q", k+1, row, wantSeverity[k])
		}
	}
	if total, _ := r.USDPerMonthAtRisk.Total.Value(); total != 1241 {
		t.Errorf("the run's total at risk is %v, want the 1,241 the Summary shows", total)
	}
	if i := slices.IndexFunc(rows, func(row []string) bool { return len(row) > 0 && row[0] == AtRiskSummaryRow }); i < 0 ||
		!slices.Equal(rows[i], []string{AtRiskSummaryRow, "1,241.00"}) || i > slices.IndexFunc(rows, func(row []string) bool { return len(row) > 0 && row[0] == "Check" }) {
		t.Errorf("no line %q of 1,241.00 above the counts by check:\n%s", AtRiskSummaryRow, sheetText(t, x, SummarySheet))
	} else {
		assertMoneyCell(t, x, SummarySheet, cellName(2, i+1))
	}
	wantOwners := [][]string{
		{noOwner, "584.00", "1", "0"},  // 333333333333: ri-c-40d
		{"team-a", "438.00", "4", "1"}, // ri-a-lapsed 73 + sp-a-25d 365 + ri-a-5d 0; ri-a-undated unknown
		{"team-b", "219.00", "2", "1"}, // ri-b-2d; ri-b-20d in EUR
	}
	for k, row := range table("At risk by owner", len(wantOwners)) {
		if !slices.Equal(row, wantOwners[k]) {
			t.Errorf("owner row %d: %q, want %q", k+1, row, wantOwners[k])
		}
	}
	h := slices.IndexFunc(rows, func(row []string) bool { return len(row) > 0 && row[0] == "At risk by severity" })
	for k := range 4 {
		c, _ := excelize.CoordinatesToCellName(2, h+2+k)
		assertMoneyCell(t, x, SummarySheet, c)
	}
}

// TestOnDemandColumns: a run that read on-demand rates shows, on the Commitments sheet and each commitment check's
// sheet, what the capacity would cost on demand and the increase if it lapses; an unknown rate is an empty cell with
// its reason in Price note.
func TestOnDemandColumns(t *testing.T) {
	t.Parallel()
	r, cs := commitmentScenario()
	var priced, undated *checks.Finding
	for i := range r.Findings {
		f := &r.Findings[i]
		// Each finding gets a copy of its Money: scenarioMoney is shared by the tests.
		if f.Money != nil {
			m := *f.Money
			f.Money = &m
		}
		switch f.ResourceID {
		case "ri-b-2d":
			// 4 × m6i.large at 0.096 an hour on demand: 0.384 an hour, 280.32 a month, 61.32 more than its 219.
			f.Money.OnDemand = &checks.OnDemand{USDPerMonthOnDemand: checks.USD(280.32), USDPerMonthIncrease: checks.USD(61.32)}
			priced = f
		case "ri-a-undated":
			f.Money.OnDemand = &checks.OnDemand{OnDemandUnknown: "no price list entry for t3.small"}
			undated = f
		}
	}
	b, err := Workbook(r, cs)
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for _, sheet := range []string{CommitmentsSheet, "ec2-reserved-instances"} {
		rows, _ := x.GetRows(sheet)
		want := commitmentColumns(true)
		if sheet != CommitmentsSheet {
			want = sheetColumnNames(checkByName(sheet), true)
		}
		if !slices.Equal(rows[0], want) || !slices.Contains(want, OnDemandColumn) || !slices.Contains(want, IncreaseColumn) {
			t.Fatalf("%s: header %q, want %q", sheet, rows[0], want)
		}
		row := func(f *checks.Finding) int {
			j := slices.Index(rows[0], "Resource ID")
			return 1 + slices.IndexFunc(rows, func(row []string) bool { return len(row) > j && row[j] == f.ResourceID })
		}
		raw := func(header string, n int) string {
			v, _ := x.GetCellValue(sheet, cellAt(t, x, sheet, header, n), excelize.Options{RawCellValue: true})
			return v
		}
		n := row(priced)
		if raw(OnDemandColumn, n) != "280.32" || raw(IncreaseColumn, n) != "61.32" {
			t.Errorf("%s %s: on demand %q, increase %q, want 280.32 and 61.32", sheet, priced.ResourceID, raw(OnDemandColumn, n), raw(IncreaseColumn, n))
		}
		assertMoneyCell(t, x, sheet, cellAt(t, x, sheet, OnDemandColumn, n))
		assertMoneyCell(t, x, sheet, cellAt(t, x, sheet, IncreaseColumn, n))
		n = row(undated)
		if raw(OnDemandColumn, n) != "" || raw(IncreaseColumn, n) != "" || !strings.Contains(raw(PriceNoteColumn, n), "no price list entry for t3.small") {
			t.Errorf("%s %s: on demand %q, increase %q, note %q: want empty cells and the reason", sheet, undated.ResourceID, raw(OnDemandColumn, n),
				raw(IncreaseColumn, n), raw(PriceNoteColumn, n))
		}
	}
}

// TestWorkbookMoneyUnknownIsNeverZero: commitments that carry no price (a check that does not price them) show empty
// money cells with the reason, sums of them are empty or say they are not known, never 0; a run without commitments
// has no money lines on the Summary.
func TestWorkbookMoneyUnknownIsNeverZero(t *testing.T) {
	t.Parallel()
	r, cs := commitmentScenario()
	var fs []checks.Finding
	for _, f := range r.Findings {
		f.Money = nil
		fs = append(fs, f)
	}
	r = Build("run-unpriced", asOf, []string{"eu-west-1"}, cs, fanOut(fs, nil, nil))
	x := openChecksWorkbook(t, r, cs)
	summary, _ := x.GetRows(SummarySheet)
	row := func(rows [][]string, label string) []string {
		i := slices.IndexFunc(rows, func(row []string) bool { return len(row) > 0 && row[0] == label })
		if i < 0 {
			return nil
		}
		return rows[i]
	}
	if got := row(summary, AtRiskSummaryRow); !slices.Equal(got, []string{AtRiskSummaryRow, notPriced}) {
		t.Errorf("Summary line %q, want %q", got, notPriced)
	}
	for _, label := range []string{"critical", "Total"} {
		if got := row(summary, label); len(got) < 3 || got[1] != "" || got[2] != "USD" {
			t.Errorf("Summary row %q: want an empty amount, not 0", got)
		}
	}
	list, _ := x.GetRows(CommitmentsSheet)
	for n := 2; n < 2+7; n++ {
		for _, col := range []string{USDPerHourColumn, USDPerMonthColumn, AtRiskColumn} {
			if v, _ := x.GetCellValue(CommitmentsSheet, cellAt(t, x, CommitmentsSheet, col, n), excelize.Options{RawCellValue: true}); v != "" {
				t.Errorf("row %d: %s is %q without a price", n, col, v)
			}
		}
		if v, _ := x.GetCellValue(CommitmentsSheet, cellAt(t, x, CommitmentsSheet, PriceNoteColumn, n)); v != noMoney {
			t.Errorf("row %d: price note %q, want %q", n, v, noMoney)
		}
	}
	if got := row(list, totalMonth); !slices.Equal(got, []string{totalMonth, "7", "", "", "", "7"}) {
		t.Errorf("month table total %q, want 7 commitments, no sums, 7 not in them", got)
	}
	if chart := chartOf(t, workbookBytes(t, r, cs), CommitmentsSheet); chart != "" {
		t.Errorf("a chart of money no commitment has:\n%.500s", chart)
	}

	var stacks []checks.Finding
	for _, f := range fs {
		if f.Check == "cloudformation-failed-stacks" {
			stacks = append(stacks, f)
		}
	}
	r = Build("run-stacks", asOf, []string{"eu-west-1"}, cs, fanOut(stacks, nil, nil))
	x = openChecksWorkbook(t, r, cs)
	summary, _ = x.GetRows(SummarySheet)
	if row(summary, AtRiskSummaryRow) != nil || row(summary, "At risk by severity") != nil {
		t.Errorf("a run without commitments has money lines:\n%s", sheetText(t, x, SummarySheet))
	}
}

func openChecksWorkbook(t *testing.T, r *Result, cs []checks.Check) *excelize.File {
	t.Helper()
	b, err := Workbook(r, cs)
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func workbookBytes(t *testing.T, r *Result, cs []checks.Check) []byte {
	t.Helper()
	b, err := Workbook(r, cs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
