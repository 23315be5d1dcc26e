package checks

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDaysLeft(t *testing.T) {
	t.Parallel()
	cases := []struct {
		asOf, end string
		want      int
	}{
		{"2026-11-22T00:00:00Z", "2026-12-10T12:00:00Z", 18}, // the documented example
		{"2026-11-22T23:59:00Z", "2026-12-10T12:00:00Z", 18}, // the hour of the run does not matter
		{"2026-11-22T23:59:00Z", "2026-11-23T00:01:00Z", 1},  // a UTC day boundary two minutes away is a day
		{"2026-11-22T00:00:00Z", "2026-11-22T23:59:00Z", 0},
		{"2026-11-22T10:00:00Z", "2026-11-20T10:00:00Z", -2},
		{"2026-11-22T22:00:00-05:00", "2026-11-24T01:00:00Z", 1}, // as-of is 2026-11-23 in UTC
		{"2026-02-27T00:00:00Z", "2026-03-01T00:00:00Z", 2},
	}
	for _, c := range cases {
		if got := DaysLeft(mustTime(t, c.asOf), mustTime(t, c.end)); got != c.want {
			t.Errorf("DaysLeft(%s, %s) = %d, want %d", c.asOf, c.end, got, c.want)
		}
	}
}

func TestExpirySeverityEdges(t *testing.T) {
	t.Parallel()
	l := DefaultLimits()
	cases := []struct {
		days int
		want Severity
		ok   bool
	}{
		{-3, Critical, true}, {0, Critical, true}, {7, Critical, true}, {8, Warning, true}, {30, Warning, true},
		{31, Notice, true}, {60, Notice, true}, {61, "", false}, {400, "", false},
	}
	for _, c := range cases {
		got, ok := expirySeverity(c.days, l)
		if got != c.want || ok != c.ok {
			t.Errorf("expirySeverity(%d) = %q, %v; want %q, %v", c.days, got, ok, c.want, c.ok)
		}
	}
}

func TestParseExpiryDays(t *testing.T) {
	t.Parallel()
	good := map[string][3]int{"7/30/60": {7, 30, 60}, "1,2,3": {1, 2, 3}, "0/10/90": {0, 10, 90}}
	for in, want := range good {
		got, err := ParseExpiryDays(in)
		if err != nil || got != want {
			t.Errorf("ParseExpiryDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "7/30", "30/7/60", "7/7/60", "a/b/c", "7/30/60/90", "-1/30/60", "7.5/30/60", "7/30/9999"} {
		if _, err := ParseExpiryDays(in); err == nil {
			t.Errorf("ParseExpiryDays(%q) accepted bad input", in)
		}
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	all, err := Select(nil)
	if err != nil || len(all) != len(All()) {
		t.Fatalf("Select(nil) = %d checks, %v; want every one of %d", len(all), err, len(All()))
	}
	two, err := Select([]string{"rds-reserved-instances", "service-catalog-products"})
	if err != nil || len(two) != 2 || two[0].Name() != "service-catalog-products" {
		t.Fatalf("Select keeps registry order: %v %v", two, err)
	}
	_, err = Select([]string{"ec2-reserved-instances", "s3-buckets"})
	if err == nil || !strings.Contains(err.Error(), "s3-buckets") || !strings.Contains(err.Error(), "known:") {
		t.Fatalf("unknown check error should name it and the known ones: %v", err)
	}
}

func testTarget(t *testing.T, asOf string) Target {
	return Target{AccountID: "123456789012", AccountName: "acme-prod", Partition: "aws", Region: "eu-west-1", AsOf: mustTime(t, asOf), Limits: DefaultLimits()}
}

func byID(fs []Finding) map[string]Finding {
	m := map[string]Finding{}
	for _, f := range fs {
		m[f.ResourceID] = f
	}
	return m
}

func TestSortFindings(t *testing.T) {
	t.Parallel()
	d := func(n int) *int { return &n }
	fs := []Finding{
		{Severity: Notice, AccountID: "1", ResourceID: "n"},
		{Severity: Critical, AccountID: "2", Region: "a", Check: "x", ResourceID: "late", DaysLeft: d(6)},
		{Severity: Critical, AccountID: "2", Region: "a", Check: "x", ResourceID: "early", DaysLeft: d(1)},
		{Severity: Critical, AccountID: "2", Region: "a", Check: "x", ResourceID: "none"},
		{Severity: Critical, AccountID: "1", Region: "b", ResourceID: "c1"},
		{Severity: Warning, AccountID: "0", ResourceID: "w"},
	}
	SortFindings(fs)
	var got []string
	for _, f := range fs {
		got = append(got, f.ResourceID)
	}
	if strings.Join(got, ",") != "c1,early,late,none,w,n" {
		t.Errorf("order %v", got)
	}
}

// fakePage serves pages[i] for the token "i" (no token is page 0) and returns the next page's token, so each fake
// paginates the way its API does.
func fakePage[T any](pages [][]T, token *string) ([]T, *string) {
	i := 0
	if token != nil {
		fmt.Sscanf(*token, "%d", &i)
	}
	var items []T
	if i < len(pages) {
		items = pages[i]
	}
	if i+1 < len(pages) {
		next := fmt.Sprint(i + 1)
		return items, &next
	}
	return items, nil
}

func TestLimitsValidateLapsedDays(t *testing.T) {
	t.Parallel()
	for days, ok := range map[int]bool{-1: false, 0: false, 1: true, 30: true, MaxLapsedDays: true, MaxLapsedDays + 1: false} {
		l := DefaultLimits()
		l.LapsedDays = days
		if err := l.Validate(); (err == nil) != ok {
			t.Errorf("LapsedDays %d: err %v, want ok=%v", days, err, ok)
		}
	}
}
