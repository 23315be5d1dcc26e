package report

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/history"
)

// commitmentScenario: reservations of two kinds in two accounts, ending on known days (one lapsed, one undated), a
// commitment of a kind the report does not know that counts money per hour, and a stack that is not a commitment.
func commitmentScenario() (*Result, []checks.Check) {
	cs := append(checks.All(), unknownCheck{})
	var fs []checks.Finding
	add := func(check, account, id string, sev checks.Severity, days int, details map[string]string) {
		f := finding(len(fs), sev, check)
		f.AccountID, f.ResourceID, f.Details = account, id, headed(check, details)
		if days != 999 {
			end := asOf.AddDate(0, 0, days)
			f.ExpiresAt, f.DaysLeft = &end, &days
		}
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

// TestCommitmentsSheet: every commitment of every kind in one list, soonest end first (the undated last), with its
// kind, type, count, commitment and renewal read from the roles its check declared; a table of what ends in each of
// the next 12 months with a bar chart of it; each check keeps its own sheet.
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
	if sheets := x.GetSheetList(); len(sheets) < 2 || sheets[1] != CommitmentsSheet || !slices.Contains(sheets, "ec2-reserved-instances") {
		t.Fatalf("sheets %v: want Commitments after Summary, and the check sheets", sheets)
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
	// The row of the RDS reservation and of the unknown kind, by the roles their checks declared.
	for i, f := range want {
		row, n := rows[i+1], i+2
		cell := func(name string) string { c, _ := excelize.CoordinatesToCellName(col(name)+1, n); return c }
		raw := func(name string) string {
			v, _ := x.GetCellValue(CommitmentsSheet, cell(name), excelize.Options{RawCellValue: true})
			return v
		}
		c, _ := r.check(f.Check)
		if row[col("Kind")] != c.Layout().Kind || row[col("Account ID")] != f.AccountID || row[col("Severity")] != string(f.Severity) {
			t.Errorf("%s: kind, account or severity %q", f.ResourceID, row)
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
		if usd := c.Layout().WithRole(checks.RoleCommitment); usd != nil && raw("Commitment (USD/h)") != f.Detail(usd.ID) {
			t.Errorf("%s: commitment %q, want %q", f.ResourceID, raw("Commitment (USD/h)"), f.Detail(usd.ID))
		}
		if renewal := c.Layout().WithRole(checks.RoleRenewal); len(row) > col("Renewal") && row[col("Renewal")] != f.Detail(renewal.ID) {
			t.Errorf("%s: renewal %q, want %q", f.ResourceID, row[col("Renewal")], f.Detail(renewal.ID))
		}
	}

	// The month table: what ends in each month from the as-of month, lapsed ones left out.
	h := slices.IndexFunc(rows, func(row []string) bool { return len(row) > 0 && row[0] == MonthColumns[0] })
	if h < 0 || !slices.Equal(rows[h][:len(MonthColumns)], MonthColumns) || len(rows) < h+1+12 {
		t.Fatalf("no month table of 12 rows headed %q", MonthColumns)
	}
	type month struct {
		ending, units int
		usd           float64
	}
	wantMonths := map[string]*month{}
	for _, f := range want {
		if f.ExpiresAt == nil || f.ExpiresAt.Before(asOf) {
			continue
		}
		m := wantMonths[f.ExpiresAt.Format("2006-01")]
		if m == nil {
			m = &month{}
			wantMonths[f.ExpiresAt.Format("2006-01")] = m
		}
		m.ending++
		var n int
		var usd float64
		fmt.Sscan(f.Detail("count"), &n)
		fmt.Sscan(f.Detail("rate_usd_h"), &usd)
		m.units, m.usd = m.units+n, m.usd+usd
	}
	for k := range 12 {
		row := rows[h+1+k]
		name := asOf.AddDate(0, k, 1-asOf.Day()).Format("2006-01")
		w := wantMonths[name]
		if w == nil {
			w = &month{}
		}
		wantRow := []string{name, fmt.Sprint(w.ending), fmt.Sprint(w.units)}
		if w.usd != 0 {
			wantRow = append(wantRow, fmt.Sprintf("%.2f", w.usd))
		}
		if !slices.Equal(row, wantRow) {
			t.Errorf("month row %d: %q, want %q", k+1, row, wantRow)
		}
	}
	chart := chartOf(t, b, CommitmentsSheet)
	if !strings.Contains(chart, "<barChart>") || !strings.Contains(chart, fmt.Sprintf("&#39;Commitments&#39;!$A$%d:$A$%d", h+2, h+13)) ||
		!strings.Contains(chart, fmt.Sprintf("&#39;Commitments&#39;!$B$%d:$B$%d", h+2, h+13)) {
		t.Errorf("want a bar chart of the month table's counts:\n%.1500s", chart)
	}
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
