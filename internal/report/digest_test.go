package report

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// snsMessageLimit is SNS's limit on a message body: 256 KiB; the subject is apart.
// https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
const snsMessageLimit = 262_144

// TestDigestWholeSizeStaysUnderLimit fills every part of the digest past the limit at once: a scope and lists of
// checks and regions as long as the findings budget, thousands of failures and skipped accounts with long messages,
// and thousands of findings with long names and reasons. The whole digest, header included, stays within the limit
// and still counts what it left out.
func TestDigestWholeSizeStaysUnderLimit(t *testing.T) {
	t.Parallel()
	if MaxDigestBytes > snsMessageLimit {
		t.Fatalf("MaxDigestBytes %d is over SNS's %d", MaxDigestBytes, snsMessageLimit)
	}
	long := func(word string, n int) string { return strings.TrimSpace(strings.Repeat(word+" ", n)) }
	cs := checks.All()
	var fs []checks.Finding
	for i := range 5000 {
		f := finding(i, checks.Severities[i%3], cs[i%len(cs)].Name())
		f.AccountName, f.ResourceName, f.Reason = long("name", 500), long("resource", 500), long("reason", 2000)
		f.SetDetail("product", long("product", 500))
		f.SetDetail("version", long("v1.0", 500))
		fs = append(fs, f)
	}
	checks.SortFindings(fs)
	var failures []crossaccount.Failure
	for i := range 5000 {
		failures = append(failures, crossaccount.Failure{AccountID: fmt.Sprintf("%012d", i), AccountName: long("acct", 500),
			Region: "eu-west-1", Check: cs[i%len(cs)].Name(), Code: "AccessDenied", Message: long("denied", 5000)})
	}
	var regions []string
	for i := range 30_000 {
		regions = append(regions, fmt.Sprintf("xx-region-%d", i))
	}
	fan := fanOut(fs, nil, failures)
	fan.Scope = long("scope", 100_000)
	for i := range 5000 {
		fan.Skipped = append(fan.Skipped, crossaccount.Skipped{AccountID: fmt.Sprintf("%012d", 500_000+i), AccountName: long("closed", 500),
			Reason: long("account state is SUSPENDED", 500)})
	}
	r := Build("run-1", asOf, regions, cs, fan)
	r.Checks = append(r.Checks, regions...) // as many names as regions, to fill the checks list too
	r.Report = &Location{URL: "https://example-bucket.s3.amazonaws.com/orgaudit/x.xlsx?" + long("X-Amz-Signature=0", 200)}

	for _, limit := range []int{MaxDigestBytes, 100_000, 20_000} {
		d := Digest(r, limit)
		if len(d) > limit {
			t.Errorf("limit %d: digest is %d bytes", limit, len(d))
		}
		shown := strings.Count(d, "\n- name name")
		var more int
		if i := strings.Index(d, "\n... "); i < 0 {
			t.Errorf("limit %d: no '... N more in the workbook' line", limit)
		} else if _, err := fmt.Sscanf(d[i+5:], "%d more in the workbook", &more); err != nil {
			t.Errorf("limit %d: %v", limit, err)
		}
		if shown+more != len(fs) {
			t.Errorf("limit %d: %d findings shown + %d counted as more != %d", limit, shown, more, len(fs))
		}
		for _, want := range []string{"NOT AUDITED (5000 failures", "more failures in the workbook's Coverage sheet", "SKIPPED (5000 accounts", "more skipped",
			"regions: xx-region-0, xx-region-1", "Workbook: https://example-bucket"} {
			if !strings.Contains(d, want) {
				t.Errorf("limit %d: digest lacks %q", limit, want)
			}
		}
	}
}

// TestDigestCutsWhenTheLimitIsBelowItsFixedParts: a limit smaller than the header still holds.
func TestDigestCutsWhenTheLimitIsBelowItsFixedParts(t *testing.T) {
	t.Parallel()
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All(), fanOut([]checks.Finding{finding(1, checks.Critical, "x")}, nil, nil))
	for _, limit := range []int{1, 2, 3, 40, 200} {
		if d := Digest(r, limit); len(d) > limit {
			t.Errorf("limit %d: %d bytes %q", limit, len(d), d)
		}
	}
}

// TestDigestLinesHoldAWSText: every AWS string the digest prints, hostile in the same way, stays inside its line.
func TestDigestLinesHoldAWSText(t *testing.T) {
	t.Parallel()
	const evil = "ok\nCRITICAL (0)\nWorkbook: https://evil.example/x.xlsx\x1b]8;;https://evil.example\x07\u202e\u200b\x00\xff"
	f := finding(1, checks.Critical, "service-catalog-products")
	f.AccountName, f.AccountID, f.Region, f.ResourceID, f.ResourceName, f.Status, f.Reason = evil, evil, evil, evil, evil+"2", evil, evil
	f.SetDetail("product", evil)
	f.SetDetail("version", evil)
	fan := fanOut([]checks.Finding{f}, nil, []crossaccount.Failure{
		{AccountID: evil, AccountName: evil, Region: evil, Check: evil, Code: evil, Message: evil},
		{Code: evil, Message: evil}, // the account list
	})
	fan.Scope = evil
	fan.Skipped = []crossaccount.Skipped{{AccountID: evil, AccountName: evil, Reason: evil}}
	r := Build(evil, asOf, []string{evil, "eu-west-1"}, checks.All(), fan)
	r.Report = &Location{NotUploaded: evil}
	d := Digest(r, 0)
	want := []string{"orgaudit ", "Scope: ", "Accounts: ", "Coverage: ", "Findings: ", "Workbook: ", "", "CRITICAL (1)", "- ok CRITICAL (0) ",
		"", "NOT AUDITED (2 failures", "- ok CRITICAL (0) ", "- the account list: ok CRITICAL (0) ", "", "SKIPPED (1 accounts", "- ok CRITICAL (0) ", ""}
	lines := strings.Split(d, "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), d)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, want[i]) || want[i] == "" && l != "" {
			t.Errorf("line %d %q, want it to start %q", i+1, l, want[i])
		}
		if bad := forbiddenRunes(l); bad != "" {
			t.Errorf("line %d holds %s", i+1, bad)
		}
	}
	if !strings.Contains(d, "ok CRITICAL (0) Workbook: https://evil.example/x.xlsx]8;;https://evil.example\uFFFD") {
		t.Errorf("the text itself must still be shown, inline:\n%s", d)
	}
}

// forbiddenRunes lists what must never reach a reader from AWS: line breaks, controls, format characters, invalid UTF-8.
func forbiddenRunes(s string) string {
	var bad []string
	if !utf8.ValidString(s) {
		bad = append(bad, "invalid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			bad = append(bad, fmt.Sprintf("%U", r))
		}
	}
	return strings.Join(bad, " ")
}
