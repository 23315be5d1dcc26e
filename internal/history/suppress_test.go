package history

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

var runAt = time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)

const goodFile = `suppressions:
  - check: ec2-reserved-instances      # required
    account_id: "222222222222"
    resource_id: ri-0abc*
    reason: renewal approved, PO 4411
    owner: finops@example.com
    expires: 2026-12-31
  - check: cloudformation-failed-stacks
    region: eu-west-1
    resource_id: legacy-stack
    reason: decommissioning
    owner: platform@example.com
    expires: "2026-11-25"
`

func TestParseSuppressionsGood(t *testing.T) {
	s, err := ParseSuppressions([]byte(goodFile), runAt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules) != 2 {
		t.Fatalf("rules = %+v", s.Rules)
	}
	r := s.Rules[0]
	if r.AccountID != "222222222222" || r.ResourceID != "ri-0abc*" || r.Reason != "renewal approved, PO 4411" ||
		!r.Expires.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) || r.Line != 2 {
		t.Errorf("rule 1 = %+v", r)
	}
	if s.Rules[1].Line != 8 {
		t.Errorf("rule 2 line = %d, want 8", s.Rules[1].Line)
	}
	if s, err := ParseSuppressions(nil, runAt, nil); err != nil || len(s.Rules) != 0 {
		t.Errorf("an empty file is no rules: %v %v", s, err)
	}
}

func TestSuppressionMatch(t *testing.T) {
	rule := func(account, region, id string) Rule {
		return Rule{Check: "ec2-reserved-instances", AccountID: account, Region: region, ResourceID: id, Reason: "r", Owner: "o",
			Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	}
	f := finding("ec2-reserved-instances", "222222222222", "us-east-1", "ri-0abc123", checks.Warning)
	cases := map[string]struct {
		rule Rule
		f    checks.Finding
		want bool
	}{
		"exact id":                 {rule("", "", "ri-0abc123"), f, true},
		"exact id, other id":       {rule("", "", "ri-0abc12"), f, false},
		"glob prefix":              {rule("", "", "ri-0abc*"), f, true},
		"glob middle":              {rule("", "", "ri-*123"), f, true},
		"glob two stars":           {rule("", "", "*0ab*3"), f, true},
		"glob no match":            {rule("", "", "ri-0abd*"), f, false},
		"glob suffix overlaps":     {rule("", "", "ri-0abc123*3"), f, false},
		"star matches all":         {rule("", "", "*"), f, true},
		"question mark is literal": {rule("", "", "ri-0abc12?"), f, false},
		"account matches":          {rule("222222222222", "", ""), f, true},
		"other account":            {rule("333333333333", "", ""), f, false},
		"region matches":           {rule("", "us-east-1", ""), f, true},
		"other region":             {rule("", "eu-west-1", ""), f, false},
		"other check":              {Rule{Check: "rds-reserved-instances"}, f, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.rule.Matches(tc.f); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSuppressionExpiryAtUTCDayBoundary(t *testing.T) {
	s, err := ParseSuppressions([]byte(goodFile), runAt, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := finding("ec2-reserved-instances", "222222222222", "us-east-1", "ri-0abc9", checks.Critical)
	last := time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
	if s.Match(f, last) == nil {
		t.Error("rule expiring 2026-12-31 must still suppress at 23:59:59 UTC that day")
	}
	if r := s.Match(f, last.Add(time.Second)); r != nil {
		t.Errorf("rule expiring 2026-12-31 must stop at 2027-01-01T00:00:00Z, matched %+v", r)
	}
	// The same instant seen from another time zone is the same answer.
	if s.Match(f, last.In(time.FixedZone("UTC+14", 14*3600))) == nil {
		t.Error("the expiry is a UTC day, whatever the clock's zone")
	}
}

func TestFirstActiveMatchingRuleWins(t *testing.T) {
	exp := func(d int) time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	s := &Suppressions{Rules: []Rule{
		{Check: "ec2-reserved-instances", ResourceID: "ri-*", Reason: "expired", Owner: "o", Expires: exp(-1)},
		{Check: "ec2-reserved-instances", ResourceID: "ri-1", Reason: "first", Owner: "o", Expires: exp(10)},
		{Check: "ec2-reserved-instances", Reason: "second", Owner: "o", Expires: exp(3)},
		{Check: "ec2-reserved-instances", ResourceID: "nothing", Reason: "stale", Owner: "o", Expires: exp(30)},
	}}
	f := finding("ec2-reserved-instances", "1", "r", "ri-1", checks.Warning)
	if r := s.Match(f, runAt); r == nil || r.Reason != "first" {
		t.Fatalf("matched %+v, want the first active rule", r)
	}
	rep := s.Report([]checks.Finding{f}, runAt, runAt.AddDate(0, 0, -1))
	names := func(rs []Rule) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Reason)
		}
		return strings.Join(out, ",")
	}
	if got := names(rep.Expired); got != "expired" {
		t.Errorf("expired = %s", got)
	}
	if got := names(rep.ExpiredSinceLast); got != "expired" {
		t.Errorf("expired since last run = %s (ended %s, previous run %s)", got, exp(0), runAt.AddDate(0, 0, -1))
	}
	if got := names(rep.ExpiringSoon); got != "second" {
		t.Errorf("expiring within 7 days = %s", got)
	}
	if got := names(rep.Stale); got != "second,stale" {
		t.Errorf("stale = %s", got)
	}
	if rep := s.Report(nil, runAt, runAt.Add(-time.Hour)); len(rep.ExpiredSinceLast) != 0 {
		t.Errorf("a rule that ended before the previous run is old news: %+v", rep.ExpiredSinceLast)
	}
	if rep := s.Report(nil, runAt, time.Time{}); len(rep.ExpiredSinceLast) != 0 {
		t.Errorf("a first run names no rule as expired since the last run")
	}
}

func TestParseSuppressionsBad(t *testing.T) {
	rule := func(extra string) string {
		return "suppressions:\n  - check: ec2-reserved-instances\n    reason: r\n    owner: o\n" + extra
	}
	cases := map[string]struct {
		file  string
		wants []string // each must appear in the error
	}{
		"syntax":              {"suppressions:\n  - check: [unclosed\n", []string{"line 2"}},
		"unknown field":       {rule("    expires: 2026-12-01\n    note: hi\n"), []string{"line 6", "note"}},
		"unknown top field":   {"rules: []\n", []string{"line 1", `unknown field "rules"`}},
		"missing reason":      {"suppressions:\n  - check: ec2-reserved-instances\n    owner: o\n    expires: 2026-12-01\n", []string{"line 2", "reason is required"}},
		"missing owner":       {"suppressions:\n  - check: ec2-reserved-instances\n    reason: r\n    expires: 2026-12-01\n", []string{"owner is required"}},
		"missing expires":     {rule(""), []string{"expires is required"}},
		"missing check":       {"suppressions:\n  - reason: r\n    owner: o\n    expires: 2026-12-01\n", []string{"check is required"}},
		"unknown check":       {"suppressions:\n  - check: ec2-reserved\n    reason: r\n    owner: o\n    expires: 2026-12-01\n", []string{`unknown check "ec2-reserved"`}},
		"expiry too far":      {rule("    expires: 2027-11-25\n"), []string{"more than 366 days", "latest 2027-11-24"}},
		"expiry not a date":   {rule("    expires: next year\n"), []string{`"next year" is not a date`}},
		"account not 12":      {rule("    expires: 2026-12-01\n    account_id: \"12345\"\n"), []string{"not 12 digits"}},
		"bad region":          {rule("    expires: 2026-12-01\n    region: Virginia\n"), []string{"not a region name"}},
		"not a list":          {"suppressions: yes\n", []string{"must be a list"}},
		"every reason listed": {"suppressions:\n  - check: nope\n    owner: o\n    expires: 2026-12-01\n  - check: ec2-reserved-instances\n    reason: r\n    owner: o\n", []string{"line 2: rule 1: unknown check", "line 2: rule 1: reason is required", "line 5: rule 2: expires is required"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := ParseSuppressions([]byte(tc.file), runAt, nil)
			var inv *InvalidError
			if !errors.As(err, &inv) || s != nil {
				t.Fatalf("want *InvalidError and no rules, got %v, %v", s, err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			// What a run and `audit suppressions check` read the file with refuses it too.
			if _, err := ReadSuppressions(strings.NewReader(tc.file), runAt, nil); err == nil {
				t.Error("ReadSuppressions accepted what Parse refused")
			}
		})
	}
	// The last day allowed is fine, and a past expiry is valid (reported as expired).
	for _, ok := range []string{"2027-11-24", "2020-01-01"} {
		if _, err := ParseSuppressions([]byte(rule("    expires: "+ok+"\n")), runAt, nil); err != nil {
			t.Errorf("expires %s: %v", ok, err)
		}
	}
	if _, err := ParseSuppressions([]byte(rule("    expires: 2026-12-01\n")), runAt, []string{"only-this"}); err == nil {
		t.Error("the known checks passed in are the ones checked")
	}
	big := strings.NewReader(strings.Repeat("#", MaxSuppressionsBytes+1))
	if _, err := ReadSuppressions(big, runAt, nil); err == nil {
		t.Error("a file over the size limit must be refused")
	}
}
