package report

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	sctypes "github.com/aws/aws-sdk-go-v2/service/servicecatalog/types"
	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
)

// TestWorkbookLayout holds, without a spreadsheet application, what the render test sees: the as-of date is
// formatted as a date where it is written, every column is at least as wide as its header, text too wide for its
// column wraps in a row tall enough for it, and every sheet prints landscape, one page wide.
func TestWorkbookLayout(t *testing.T) {
	t.Parallel()
	r, _ := renderScenario()
	b, err := Workbook(r, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	rows, err := f.GetRows(SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rows, func(row []string) bool { return len(row) > 0 && row[0] == "As of (UTC)" })
	if i < 0 || len(rows[i]) < 2 || rows[i][1] != r.AsOf.Format("2006-01-02 15:04") {
		t.Errorf("the Summary's as-of row %d reads %q, want the date %s", i+1, rows[max(i, 0)], r.AsOf.Format("2006-01-02 15:04"))
	}

	sheets := map[string][]string{CommitmentsSheet: CommitmentColumns, CoverageSheet: CoverageColumns, ResolvedSheet: ResolvedColumns,
		UnverifiedSheet: UnverifiedColumns, SuppressedSheet: SuppressedColumns, TrendSheet: TrendColumns}
	// A column's cap is what its check declared, or the default.
	caps := map[string][]float64{}
	for _, c := range checks.All() {
		sheets[c.Name()] = FindingColumns(c)
		for _, col := range sheetColumns(c, false) {
			caps[c.Name()] = append(caps[c.Name()], cmp.Or(col.Width, maxColumnWidth))
		}
	}
	for _, sheet := range f.GetSheetList() {
		layout, err := f.GetPageLayout(sheet)
		if err != nil || layout.Orientation == nil || *layout.Orientation != "landscape" || layout.FitToWidth == nil || *layout.FitToWidth < 1 ||
			layout.FitToHeight == nil || *layout.FitToHeight != 0 {
			t.Errorf("%s: page layout %+v (%v), want landscape, pages wide, as many long as it takes", sheet, layout, err)
		}
		if layout.FitToWidth != nil && *layout.FitToWidth > 1 {
			// More than a page wide: every page repeats the columns that say which a row is, through Resource ID
			// (Account name on a sheet without resources).
			header, err := f.GetRows(sheet, excelize.Options{})
			if err != nil || len(header) == 0 {
				t.Fatalf("%s: %v", sheet, err)
			}
			keys := slices.Index(header[0], "Resource ID") + 1
			if keys == 0 {
				keys = slices.Index(header[0], "Account name") + 1
			}
			want := fmt.Sprintf("'%s'!$A:$%s,'%s'!$1:$1", sheet, columnLetters(keys), sheet)
			if got := printTitles(f, sheet); keys == 0 || got != want {
				t.Errorf("%s prints %d pages wide with print titles %q, want %q", sheet, *layout.FitToWidth, got, want)
			}
		}
		props, err := f.GetSheetProps(sheet)
		if err != nil || props.FitToPage == nil || !*props.FitToPage {
			t.Errorf("%s: fit to page is off: %+v %v", sheet, props, err)
		}
		cols, ok := sheets[sheet]
		if !ok {
			continue
		}
		for j, col := range cols {
			name, _ := excelize.ColumnNumberToName(j + 1)
			w, err := f.GetColWidth(sheet, name)
			limit := float64(maxColumnWidth)
			if caps[sheet] != nil {
				limit = caps[sheet][j]
			}
			if err != nil || w < textWidth(col) || w > limit {
				t.Errorf("%s: column %s (%s) is %.1f wide, want between its header's %.1f and the cap %.0f", sheet, name, col, w, textWidth(col), limit)
			}
		}
	}

	// The long reason of a stack wraps, in a row several lines tall.
	cfn, _ := f.GetRows("cloudformation-failed-stacks")
	reason := slices.Index(cfn[0], "Reason")
	for n, row := range cfn[1:] {
		if len(row) <= reason || !strings.HasPrefix(row[reason], "reasonword01") {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(reason+1, n+2)
		style, _ := f.GetCellStyle("cloudformation-failed-stacks", cell)
		st, err := f.GetStyle(style)
		if err != nil || st.Alignment == nil || !st.Alignment.WrapText {
			t.Errorf("long reason in %s does not wrap: %+v %v", cell, st, err)
		}
		h, _ := f.GetRowHeight("cloudformation-failed-stacks", n+2)
		if want := float64(lineHeight * wrappedLines(row[reason], maxColumnWidth)); h < want || want < 2*lineHeight {
			t.Errorf("row %d with a long reason is %.0f pt tall, want %.0f", n+2, h, want)
		}
		return
	}
	t.Error("no stack with the long reason")
}

func TestWrappedLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text  string
		width float64
		want  int
	}{
		{"", 20, 1},
		{"short", 20, 1},
		{strings.Repeat("word ", 30), 20, 10}, // a word is 4.4 wide, 5.1 with its space: three words a line
		{"line one\nline two", 50, 2},
		{strings.Repeat("0", 100), 21.5, 6}, // one word of 105 in lines of 20: it breaks inside
	} {
		if got := wrappedLines(tc.text, tc.width); got != tc.want {
			t.Errorf("wrappedLines(%q, %.1f) = %d, want %d", tc.text, tc.width, got, tc.want)
		}
	}
}

// renderScenario is renderPlainScenario with memory: the findings' changes and ages, resolved, unverified and
// suppressed findings with long text, the suppression rules a person must look at, and a trend of ten runs.
func renderScenario() (*Result, [][]string) {
	r, long := renderPlainScenario()
	prev := r.AsOf.AddDate(0, 0, -1)
	r.PreviousRunID, r.PreviousRunTime = "20261121T080000Z", &prev
	ch := Changes{}
	changes := []history.Change{history.ChangeOngoing, history.ChangeNew, history.ChangeEscalated}
	for i := range r.Findings {
		f := &r.Findings[i]
		change := changes[i%len(changes)]
		age := (i * 7) % 200
		if change == history.ChangeNew {
			age = 0
		}
		first := r.AsOf.AddDate(0, 0, -age)
		f.Change, f.FirstSeen, f.AgeDays = string(change), &first, &age
		switch change {
		case history.ChangeNew:
			ch.New++
		case history.ChangeEscalated:
			ch.Escalated++
		default:
			ch.Ongoing++
		}
	}
	text := func(prefix string, n int) string {
		var words []string
		for i := 1; i <= n; i++ {
			words = append(words, fmt.Sprintf("%s%02d", prefix, i))
		}
		long = append(long, words)
		return strings.Join(words, " ")
	}
	old := func(i int, check string) checks.Finding {
		f := r.Findings[i]
		f.ResourceID, f.ResourceName = fmt.Sprintf("gone-%02d", i), fmt.Sprintf("gone-%02d", i)
		f.Change, f.FirstSeen, f.AgeDays = "", nil, nil
		f.Check, f.Reason, f.Details = check, "reason of "+f.ResourceID, headed(check, map[string]string{"Offering": "convertible All Upfront"})
		return f
	}
	first := r.AsOf.AddDate(0, 0, -40)
	r.Resolved = []history.Resolved{
		{Finding: old(0, "cloudformation-failed-stacks"), FirstSeen: first, LastSeen: prev, AgeDays: 40, ResolvedReason: history.ReasonGone},
		{Finding: old(1, "cloudformation-failed-stacks"), FirstSeen: first, LastSeen: prev, AgeDays: 40, ResolvedReason: history.ReasonOutOfScope},
	}
	r.Unverified = []history.Unverified{{Finding: old(2, "service-catalog-products"), FirstSeen: first, LastSeen: prev, AgeDays: 40,
		Code: "AccessDenied", Error: text("unverifiedword", 30)}}
	rule := history.Rule{Check: "ec2-reserved-instances", ResourceID: "ri-keep-*", Reason: "renewal approved, PO 4411", Owner: "finops@example.com",
		Expires: r.AsOf.AddDate(0, 0, 5).Truncate(24 * time.Hour), Line: 2}
	sup := old(3, "ec2-reserved-instances")
	sup.ResourceID = "ri-keep-01"
	r.Suppressed = []SuppressedFinding{{Finding: sup, Suppression: &history.Suppression{Reason: rule.Reason, Owner: rule.Owner,
		Expires: rule.Expires.Format(time.DateOnly), Line: rule.Line}}}
	stale := history.Rule{Check: "rds-reserved-instances", AccountID: "100000000003", Reason: text("rulereasonword", 20), Owner: "dba@example.com",
		Expires: r.AsOf.AddDate(0, 3, 0).Truncate(24 * time.Hour), Line: 8}
	expired := history.Rule{Check: "cloudformation-failed-stacks", Region: "eu-west-1", Reason: "freeze over", Owner: "sre@example.com",
		Expires: prev.Truncate(24 * time.Hour), Line: 14}
	r.SuppressionRules = history.SuppressionReport{ExpiringSoon: []history.Rule{rule}, Stale: []history.Rule{stale},
		Expired: []history.Rule{expired}, ExpiredSinceLast: []history.Rule{expired}}
	ch.Resolved, ch.Unverified, ch.Suppressed = len(r.Resolved), len(r.Unverified), len(r.Suppressed)
	r.Changes = &ch
	crit, warn, notice := r.Totals()
	for d := 9; d >= 0; d-- {
		r.Trend = append(r.Trend, history.Summary{RunID: fmt.Sprintf("run-%d", d), RunTime: r.AsOf.AddDate(0, 0, -d), Counts: history.Counts{
			Critical: crit + d%4, Warning: warn + d%3, Notice: notice, New: d % 5, Resolved: d % 3, AccountsAudited: 7, AccountsInScope: 8}})
	}
	return r, long
}

// renderPlainScenario is a small organization's findings in every status AWS documents for the values we show, with
// long reasons, record errors and messages made of numbered words so a test can tell cut text from wrapped text.
func renderPlainScenario() (*Result, [][]string) {
	asOf := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	longText := func(prefix string, n int) (string, []string) {
		var words []string
		for i := 1; i <= n; i++ {
			words = append(words, fmt.Sprintf("%s%02d", prefix, i))
		}
		return strings.Join(words, " "), words
	}
	var long [][]string
	var fs []checks.Finding
	acct := func(i int) (string, string) {
		return fmt.Sprintf("%012d", 100000000000+i%7), fmt.Sprintf("workloads-%d", i%7)
	}
	for i, s := range cfntypes.StackStatus("").Values() {
		id, name := acct(i)
		stack := fmt.Sprintf("stack-%02d", i)
		f := checks.Finding{Check: "cloudformation-failed-stacks", Severity: checks.Severities[i%3], AccountID: id, AccountName: name,
			Region: "eu-west-1", ResourceID: stack, ResourceName: stack, Status: string(s), Reason: "The following resource(s) failed to update: [VpcStack]",
			ConsoleURL: "https://console.aws.amazon.com/cloudformation/home?region=eu-west-1",
			Details: headed("cloudformation-failed-stacks", map[string]string{
				"Stack ID":     fmt.Sprintf("arn:aws:cloudformation:eu-west-1:%s:stack/%s/2501cffe-3fca-068e-7b38-2fc9b976cb39", id, stack),
				"Last updated": asOf.Add(-time.Duration(i) * time.Hour).Format("2006-01-02T15:04:05Z"),
			})}
		if i == 3 {
			text, words := longText("reasonword", 40)
			f.Reason = text
			long = append(long, words)
			nested, words := longText("nestedword", 30)
			f.SetDetail("nested_failures", nested)
			long = append(long, words)
		}
		fs = append(fs, f)
	}
	records := sctypes.RecordStatus("").Values()
	for i, s := range sctypes.ProvisionedProductStatus("").Values() {
		id, name := acct(i)
		f := checks.Finding{Check: "service-catalog-products", Severity: checks.Severities[i%3], AccountID: id, AccountName: name,
			Region: "us-east-1", ResourceID: fmt.Sprintf("pp-%012d", i), ResourceName: "transit-attachment", Status: string(s),
			Reason: "Stack creation failed. See record errors.", ConsoleURL: "https://console.aws.amazon.com/servicecatalog/home?region=us-east-1",
			Details: headed("service-catalog-products", map[string]string{"Product": "VPC baseline", "Version": "v3.2.0", "Version description": "Three-tier VPC with IPv6 and flow logs",
				"Type": "CFN_STACK", "Last record": fmt.Sprintf("UPDATE_PROVISIONED_PRODUCT rec-%08d", i), "Record status": string(records[i%len(records)]),
				"Stuck since": asOf.Add(-9 * time.Hour).Format(time.RFC3339)})}
		if i == 0 {
			text, words := longText("recorderrorword", 25)
			f.SetDetail("record_errors", text)
			long = append(long, words)
		}
		fs = append(fs, f)
	}
	for _, c := range []string{"ec2-reserved-instances", "rds-reserved-instances"} {
		for i, days := range []int{-12, 3, 29, 7000} {
			id, name := acct(i)
			d, end := days, asOf.AddDate(0, 0, days)
			fs = append(fs, checks.Finding{Check: c, Severity: checks.Severities[i%3], AccountID: id, AccountName: name, Region: "ap-southeast-2",
				ResourceID: fmt.Sprintf("ri-%08d", i), Status: "active", Reason: fmt.Sprintf("expires in %d days, no renewal queued", days),
				DaysLeft: &d, ExpiresAt: &end, Details: headed(c, map[string]string{"Instance type": "m6i.2xlarge", "DB instance class": "db.r6g.xlarge", "Count": "12",
					"Offering": "convertible All Upfront", "Start": asOf.AddDate(-3, 0, days).Format(time.RFC3339)}),
				Money: renderMoney(c, i)})
		}
	}
	var cells []crossaccount.Cell
	for _, f := range fs {
		cells = append(cells, crossaccount.Cell{AccountID: f.AccountID, AccountName: f.AccountName, Region: f.Region, Check: f.Check, Outcome: crossaccount.OutcomeFindings, Findings: 1})
	}
	message, words := longText("messageword", 30)
	long = append(long, words)
	cells = append(cells, crossaccount.Cell{AccountID: "999999999999", AccountName: "legacy-sandbox", Region: "eu-west-1", Check: "ec2-reserved-instances",
		Outcome: crossaccount.OutcomeError, Code: "AccessDenied", Message: message})
	fan := fanOut(fs, cells, []crossaccount.Failure{{AccountID: "999999999999", Code: "AccessDenied", Message: message}})
	fan.Skipped = []crossaccount.Skipped{{AccountID: "101010101010", AccountName: "closed-project", Reason: "account state is SUSPENDED"}}
	return Build("20261122T080000Z", asOf, []string{"us-east-1", "eu-west-1", "ap-southeast-2"}, checks.All(), fan), long
}

// renderMoney is the money of the i-th reservation of check c in renderPlainScenario: 12 units at a rate an hour, all
// upfront over three years, the second half covered by a renewal; one price unknown and one in euros, as a run meets
// them.
func renderMoney(c string, i int) *checks.Money {
	rate := []float64{0.2434, 0.384, 1.9125, 0.0125}[i] * 12 // per hour, all 12 units
	if c == "rds-reserved-instances" {
		rate *= 2
	}
	switch {
	case c == "ec2-reserved-instances" && i == 2:
		return &checks.Money{PriceUnknown: "the offering reported no price"}
	case c == "rds-reserved-instances" && i == 3:
		month := checks.Cents(rate * checks.HoursPerMonth)
		return &checks.Money{PriceUnknown: "priced in EUR", Price: &checks.Price{Currency: "EUR", PerHour: rate, PerMonth: month,
			PerMonthAtRisk: checks.USD(month), Upfront: checks.Cents(rate * 3 * 8760), Term: "3 years", PaymentOption: "All Upfront"}}
	}
	month := checks.Cents(rate * checks.HoursPerMonth)
	risk := month
	if i == 1 {
		risk = checks.Cents(month / 2)
	}
	return &checks.Money{USDPerMonth: checks.USD(month), USDPerMonthAtRisk: checks.USD(risk), Price: &checks.Price{Currency: "USD", PerHour: rate,
		PerMonth: month, PerMonthAtRisk: checks.USD(risk), Upfront: checks.Cents(rate * 3 * 8760), Term: "3 years", PaymentOption: "All Upfront"}}
}

func checkByName(name string) checks.Check {
	for _, c := range checks.All() {
		if c.Name() == name {
			return c
		}
	}
	panic("no check " + name)
}

// printTitles is the sheet's _xlnm.Print_Titles: the rows and columns printed on every page.
func printTitles(f *excelize.File, sheet string) string {
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm.Print_Titles" && d.Scope == sheet {
			return d.RefersTo
		}
	}
	return ""
}
