package report

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// MaxDigestBytes keeps the digest under SNS's 256 KiB message limit with room for the envelope.
const MaxDigestBytes = 250_000

// maxNotAuditedBytes bounds the not-audited section, so a wide outage cannot crowd the findings out entirely.
const maxNotAuditedBytes = 60_000

// Subject is the email subject: ASCII, one line, under SNS's 100 characters, with the counts and the coverage.
func Subject(r *Result) string {
	crit, warn, notice := r.Totals()
	coverage := fmt.Sprintf("%d/%d accounts", r.Accounts.Audited, r.Accounts.Total)
	if r.OwnAccountOnly {
		coverage = "own account only" // "1/1 accounts" would read as the whole organization
	}
	s := fmt.Sprintf("orgaudit %s: %d critical, %d warning, %d notice | %s", r.AsOf.Format("2006-01-02"), crit, warn, notice, coverage)
	if r.Partial {
		s = "PARTIAL " + s
	}
	return asciiLine(s, 99)
}

// Digest is the plain-text email body, grouped by severity, then what was not audited and why. It never exceeds
// limit bytes: findings past it are counted as "N more in the workbook".
func Digest(r *Result, limit int) string {
	if limit <= 0 {
		limit = MaxDigestBytes
	}
	var head strings.Builder
	crit, warn, notice := r.Totals()
	fmt.Fprintf(&head, "orgaudit run %s, as of %s\n", r.RunID, r.AsOf.Format("2006-01-02 15:04 UTC"))
	if r.Partial {
		fmt.Fprintf(&head, "PARTIAL: the deadline stopped the audit; %d cells were not audited (code %s in the Coverage sheet)\n",
			deadlineCells(r), crossaccount.CodeDeadline)
	}
	fmt.Fprintf(&head, "Scope: %s; checks: %s; regions: %s\n", r.Scope, strings.Join(r.Checks, ", "), strings.Join(r.Regions, ", "))
	fmt.Fprintf(&head, "Accounts: %d in scope, %d fully audited, %d partly, %d not audited; %d skipped\n",
		r.Accounts.Total, r.Accounts.Audited, r.Accounts.Partial, r.Accounts.Failed, r.Accounts.Skipped)
	fmt.Fprintf(&head, "Coverage: %d of %d account/region/check cells ran (%d with findings, %d clean, %d failed)\n",
		r.Coverage.Findings+r.Coverage.Clean, r.Coverage.Cells, r.Coverage.Findings, r.Coverage.Clean, r.Coverage.Errors)
	fmt.Fprintf(&head, "Findings: %d critical, %d warning, %d notice\n", crit, warn, notice)
	if loc := r.Report; loc != nil {
		switch {
		case loc.URL != "":
			fmt.Fprintf(&head, "Workbook: %s\n", loc.URL)
			if loc.URLExpiresAt != nil {
				fmt.Fprintf(&head, "  (link valid until %s", loc.URLExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
				if loc.URLNote != "" {
					fmt.Fprintf(&head, "; %s", loc.URLNote)
				}
				head.WriteString(")\n")
			}
			if loc.ConsoleURL != "" {
				fmt.Fprintf(&head, "  S3 console: %s\n", loc.ConsoleURL)
			}
		case loc.NotUploaded != "":
			fmt.Fprintf(&head, "Workbook: not uploaded (%s)\n", loc.NotUploaded)
		}
	}

	notAudited := notAuditedSection(r, maxNotAuditedBytes)
	budget := limit - head.Len() - len(notAudited) - 200
	findings := findingsSection(r.Findings, budget)
	return head.String() + findings + notAudited
}

func findingsSection(fs []checks.Finding, budget int) string {
	var b strings.Builder
	written := 0
	for _, sev := range checks.Severities {
		n := 0
		for _, f := range fs {
			if f.Severity == sev {
				n++
			}
		}
		if n == 0 {
			continue
		}
		header := fmt.Sprintf("\n%s (%d)\n", strings.ToUpper(string(sev)), n)
		if b.Len()+len(header) > budget {
			break
		}
		b.WriteString(header)
		for _, f := range fs {
			if f.Severity != sev {
				continue
			}
			line := findingLine(f)
			if b.Len()+len(line) > budget {
				break
			}
			b.WriteString(line)
			written++
		}
	}
	if rest := len(fs) - written; rest > 0 {
		fmt.Fprintf(&b, "\n... %d more in the workbook\n", rest)
	}
	if len(fs) == 0 {
		b.WriteString("\nNo findings.\n")
	}
	return b.String()
}

// findingLine says what, where, and why in one line an engineer can act on.
func findingLine(f checks.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- %s (%s) %s [%s] %s", nameOr(f.AccountName, "-"), f.AccountID, f.Region, f.Check, f.ResourceID)
	if f.ResourceName != "" && f.ResourceName != f.ResourceID {
		fmt.Fprintf(&b, " %q", f.ResourceName)
	}
	if p := f.Details["Product"]; p != "" {
		fmt.Fprintf(&b, " product %q %s", p, f.Details["Version"])
	}
	if f.DaysLeft != nil {
		fmt.Fprintf(&b, ": %d days left", *f.DaysLeft)
	} else {
		fmt.Fprintf(&b, ": %s", f.Status)
	}
	if f.Reason != "" {
		fmt.Fprintf(&b, " - %s", truncate(f.Reason, 400))
	}
	b.WriteString("\n")
	return b.String()
}

func notAuditedSection(r *Result, limit int) string {
	if len(r.Errors) == 0 && len(r.Skipped) == 0 {
		return "\nNot audited: nothing; every account in scope was read.\n"
	}
	var b strings.Builder
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\nNOT AUDITED (%d failures, %d of %d cells)\n", len(r.Errors), r.Coverage.Errors, r.Coverage.Cells)
		for i, e := range r.Errors {
			line := failureLine(e)
			if b.Len()+len(line) > limit {
				fmt.Fprintf(&b, "... %d more failures in the workbook's Coverage sheet\n", len(r.Errors)-i)
				break
			}
			b.WriteString(line)
		}
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "\nSKIPPED (%d accounts, not active)\n", len(r.Skipped))
		for i, s := range r.Skipped {
			line := fmt.Sprintf("- %s (%s): %s\n", nameOr(s.AccountName, "-"), s.AccountID, s.Reason)
			if b.Len()+len(line) > limit+10_000 {
				fmt.Fprintf(&b, "... %d more skipped\n", len(r.Skipped)-i)
				break
			}
			b.WriteString(line)
		}
	}
	return b.String()
}

func failureLine(e crossaccount.Failure) string {
	where := "the account list"
	if e.AccountID != "" {
		region, check := e.Region, e.Check
		if region == "" || region == crossaccount.AllRegions {
			region = "all regions"
		}
		if check == "" {
			check = "all checks"
		}
		where = fmt.Sprintf("%s (%s) %s, %s", nameOr(e.AccountName, "-"), e.AccountID, region, check)
	}
	return fmt.Sprintf("- %s: %s - %s\n", where, e.Code, truncate(oneLine(e.Message), 300))
}

func nameOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// asciiLine keeps printable ASCII only (SNS rejects anything else in a subject) and cuts to n bytes.
func asciiLine(s string, n int) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < n; i++ {
		if s[i] >= 0x20 && s[i] <= 0x7e {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// RunDate is the date part used in object keys and titles.
func RunDate(t time.Time) string { return t.UTC().Format("2006-01-02") }

func deadlineCells(r *Result) int {
	n := 0
	for _, c := range r.Cells {
		if c.Code == crossaccount.CodeDeadline {
			n++
		}
	}
	return n
}
