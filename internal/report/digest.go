package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// MaxDigestBytes keeps the digest under SNS's 256 KiB message limit (262,144 bytes for the message; the subject is
// apart) with room for the envelope.
const MaxDigestBytes = 250_000

// maxNotAuditedBytes bounds the not-audited section, so a wide outage cannot crowd the findings out entirely.
const maxNotAuditedBytes = 60_000

// Bounds on one piece of AWS text in a digest line. AWS's own limits are lower for most (an account name has at most
// 50 characters, a stack name 128), but these hold whatever arrives, so a line stays readable and the budget below
// stays exact.
const (
	maxNameBytes    = 200   // names, ids, versions, statuses, codes
	maxReasonBytes  = 400   // a finding's reason
	maxMessageBytes = 300   // a failure's error message
	maxScopeBytes   = 1_000 // the scope in words
	maxListBytes    = 2_000 // the lists of checks and of regions on the scope line
)

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

// Digest is the plain-text email body, grouped by severity, then what was not audited and why. The whole of it,
// header included, never exceeds limit bytes: findings past it are counted as "N more in the workbook", failures
// past the not-audited section's share as "N more failures". Every piece of AWS text in it goes through Inline and
// sits after the digest's own text on its line, so none can forge a line or drive the reader's terminal.
func Digest(r *Result, limit int) string {
	if limit <= 0 {
		limit = MaxDigestBytes
	}
	var head strings.Builder
	crit, warn, notice := r.Totals()
	fmt.Fprintf(&head, "orgaudit run %s, as of %s\n", field(r.RunID, maxNameBytes), r.AsOf.Format("2006-01-02 15:04 UTC"))
	if r.Partial {
		fmt.Fprintf(&head, "PARTIAL: the deadline stopped the audit; %d cells were not audited (code %s in the Coverage sheet)\n",
			deadlineCells(r), crossaccount.CodeDeadline)
	}
	fmt.Fprintf(&head, "Scope: %s; checks: %s; regions: %s\n", field(r.Scope, maxScopeBytes), listField(r.Checks, maxListBytes),
		listField(r.Regions, maxListBytes))
	fmt.Fprintf(&head, "Accounts: %d in scope, %d fully audited, %d partly, %d not audited; %d skipped\n",
		r.Accounts.Total, r.Accounts.Audited, r.Accounts.Partial, r.Accounts.Failed, r.Accounts.Skipped)
	fmt.Fprintf(&head, "Coverage: %d of %d account/region/check cells ran (%d with findings, %d clean, %d failed)\n",
		r.Coverage.Findings+r.Coverage.Clean, r.Coverage.Cells, r.Coverage.Findings, r.Coverage.Clean, r.Coverage.Errors)
	fmt.Fprintf(&head, "Findings: %d critical, %d warning, %d notice\n", crit, warn, notice)
	if loc := r.Report; loc != nil {
		switch {
		case loc.URL != "":
			fmt.Fprintf(&head, "Workbook: %s\n", Inline(loc.URL))
			if loc.URLExpiresAt != nil {
				fmt.Fprintf(&head, "  (link valid until %s", loc.URLExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
				if loc.URLNote != "" {
					fmt.Fprintf(&head, "; %s", loc.URLNote)
				}
				head.WriteString(")\n")
			}
			if loc.ConsoleURL != "" {
				fmt.Fprintf(&head, "  S3 console: %s\n", Inline(loc.ConsoleURL))
			}
		case loc.NotUploaded != "":
			fmt.Fprintf(&head, "Workbook: not uploaded (%s)\n", Inline(loc.NotUploaded))
		}
	}

	notAudited := notAuditedSection(r, min(maxNotAuditedBytes, (limit-head.Len())/4))
	findings := findingsSection(r.Findings, limit-head.Len()-len(notAudited))
	return fit(head.String()+findings+notAudited, limit)
}

// findingsSection lists findings most severe first while they fit in budget bytes, the line that counts the rest
// included. It stops at the first finding that does not fit, so what is left out is always the least severe.
func findingsSection(fs []checks.Finding, budget int) string {
	if len(fs) == 0 {
		return "\nNo findings.\n"
	}
	var b strings.Builder
	reserve := len(moreFindings(len(fs)))
	written := 0
	fits := func(s string) bool { return b.Len()+len(s)+reserve <= budget }
severities:
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
		if !fits(header) {
			break
		}
		b.WriteString(header)
		for _, f := range fs {
			if f.Severity != sev {
				continue
			}
			line := findingLine(f)
			if !fits(line) {
				break severities
			}
			b.WriteString(line)
			written++
		}
	}
	if rest := len(fs) - written; rest > 0 {
		b.WriteString(moreFindings(rest))
	}
	return b.String()
}

func moreFindings(n int) string { return fmt.Sprintf("\n... %d more in the workbook\n", n) }

// fit is the last guard of the limit, for a limit smaller than the digest's fixed parts: it cuts whole lines from
// the end and says so.
func fit(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const note = "... cut to fit; the workbook has everything\n"
	cut := strings.LastIndexByte(s[:max(limit-len(note), 0)], '\n') + 1
	return truncate(s[:cut]+note, limit)
}

// findingLine says what, where, and why in one line an engineer can act on.
func findingLine(f checks.Finding) string {
	var b strings.Builder
	id := field(f.ResourceID, maxNameBytes)
	fmt.Fprintf(&b, "- %s (%s) %s [%s] %s", nameOr(field(f.AccountName, maxNameBytes), "-"), field(f.AccountID, maxNameBytes),
		field(f.Region, maxNameBytes), field(f.Check, maxNameBytes), id)
	if name := field(f.ResourceName, maxNameBytes); name != "" && name != id {
		fmt.Fprintf(&b, " %q", name)
	}
	if p := field(f.Details["Product"], maxNameBytes); p != "" {
		fmt.Fprintf(&b, " product %q %s", p, field(f.Details["Version"], maxNameBytes))
	}
	if f.DaysLeft != nil {
		if *f.DaysLeft < 0 {
			// The reason says how long ago; "-6 days left" reads as a typo.
			b.WriteString(": lapsed")
		} else {
			fmt.Fprintf(&b, ": %d days left", *f.DaysLeft)
		}
	} else {
		fmt.Fprintf(&b, ": %s", field(f.Status, maxNameBytes))
	}
	if reason := field(f.Reason, maxReasonBytes); reason != "" {
		fmt.Fprintf(&b, " - %s", reason)
	}
	b.WriteString("\n")
	return b.String()
}

// notAuditedSection says what could not be read and why, in at most limit bytes (its headings and the lines that
// count what did not fit always included): failures first, then the accounts skipped.
func notAuditedSection(r *Result, limit int) string {
	if len(r.Errors) == 0 && len(r.Skipped) == 0 {
		return "\nNot audited: nothing; every account in scope was read.\n"
	}
	var b strings.Builder
	skippedHead := ""
	if len(r.Skipped) > 0 {
		skippedHead = fmt.Sprintf("\nSKIPPED (%d accounts, not active)\n", len(r.Skipped))
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\nNOT AUDITED (%d failures, %d of %d cells)\n", len(r.Errors), r.Coverage.Errors, r.Coverage.Cells)
		// Room is kept for the skipped accounts' heading and count, so failures cannot crowd them out.
		reserve := len(skippedHead)
		if len(r.Skipped) > 0 {
			reserve += len(moreSkipped(len(r.Skipped)))
		}
		writeLines(&b, len(r.Errors), func(i int) string { return failureLine(r.Errors[i]) }, limit-reserve, moreFailures)
	}
	if len(r.Skipped) > 0 {
		b.WriteString(skippedHead)
		writeLines(&b, len(r.Skipped), func(i int) string {
			s := r.Skipped[i]
			return fmt.Sprintf("- %s (%s): %s\n", nameOr(field(s.AccountName, maxNameBytes), "-"), field(s.AccountID, maxNameBytes),
				field(s.Reason, maxReasonBytes))
		}, limit, moreSkipped)
	}
	return b.String()
}

// writeLines writes the n lines line(i) to b while b stays within limit bytes, room for the line more(left) that
// counts the ones left out included.
func writeLines(b *strings.Builder, n int, line func(i int) string, limit int, more func(left int) string) {
	reserve := len(more(n))
	for i := range n {
		l := line(i)
		if b.Len()+len(l)+reserve > limit {
			b.WriteString(more(n - i))
			return
		}
		b.WriteString(l)
	}
}

func moreFailures(n int) string {
	return fmt.Sprintf("... %d more failures in the workbook's Coverage sheet\n", n)
}

func moreSkipped(n int) string { return fmt.Sprintf("... %d more skipped\n", n) }

func failureLine(e crossaccount.Failure) string {
	where := "the account list"
	if e.AccountID != "" {
		region, check := field(e.Region, maxNameBytes), field(e.Check, maxNameBytes)
		if region == "" || region == crossaccount.AllRegions {
			region = "all regions"
		}
		if check == "" {
			check = "all checks"
		}
		where = fmt.Sprintf("%s (%s) %s, %s", nameOr(field(e.AccountName, maxNameBytes), "-"), field(e.AccountID, maxNameBytes), region, check)
	}
	return fmt.Sprintf("- %s: %s - %s\n", where, field(e.Code, maxNameBytes), field(e.Message, maxMessageBytes))
}

func nameOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// listField is a list of AWS names for the scope line: each inline, joined with commas, and cut after n bytes with
// a count of the rest.
func listField(items []string, n int) string {
	var b strings.Builder
	for i, it := range items {
		s := Inline(it)
		if i > 0 {
			s = ", " + s
		}
		if b.Len()+len(s) > n {
			fmt.Fprintf(&b, " and %d more", len(items)-i)
			break
		}
		b.WriteString(s)
	}
	return b.String()
}

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
