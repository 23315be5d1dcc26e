package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
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
	maxDetailBytes  = 400   // what a check adds to its finding's line (DigestDetail)
	maxMessageBytes = 300   // a failure's error message
	maxScopeBytes   = 1_000 // the scope in words
	maxListBytes    = 2_000 // the lists of checks and of regions on the scope line
)

// maxSubject is the subject's length: SNS takes fewer than 100 characters.
const maxSubject = 99

// Subject is the email subject: ASCII, one line, under SNS's 100 characters. With a previous run to compare with it
// leads with the change ("3 new, 1 fixed"), then the counts, then the coverage; on a run with nothing to compare with
// it says "no previous run" instead of calling every finding new; without history it is the counts and the coverage.
// Last comes the sum the critical and warning commitments put at risk ("$3,066/mo at risk"), when it is not zero.
// When the numbers are too long for one subject, the pieces that matter least go first: the notice count, the
// unverified count, the escalated count, "no previous run", the warning count, then the sum at risk (whole, never
// cut: it is the last to go, as it is the one figure a reader cannot work out from the others). PARTIAL
// (Result.Partial: something the run set out to audit was not), the new and fixed counts, the critical count and the
// coverage always stay: when they do not fit beside a long owner, the owner is shortened (to minSubjectOwner) first.
func Subject(r *Result) string {
	crit, warn, notice := r.Totals()
	coverage := fmt.Sprintf("%d/%d accounts", r.Accounts.Audited, r.Accounts.Total)
	switch {
	case r.OwnAccountOnly:
		coverage = "own account only" // "1/1 accounts" would read as the whole organization
	case r.listingIncomplete():
		coverage += ", list incomplete" // the total is what the walk reached, not the organization
	}
	type piece struct {
		text string
		drop int // 0 never; the lower, the sooner
	}
	var change []piece
	switch {
	case r.compared():
		ch := r.Changes
		change = append(change, piece{fmt.Sprintf("%d new", ch.New), 0})
		if ch.Escalated > 0 {
			change = append(change, piece{fmt.Sprintf("%d worse", ch.Escalated), 3})
		}
		change = append(change, piece{fmt.Sprintf("%d fixed", ch.Resolved), 0})
		if ch.Unverified > 0 {
			change = append(change, piece{fmt.Sprintf("%d unverified", ch.Unverified), 2})
		}
	case r.NoPrevious != "":
		change = append(change, piece{"no previous run", 4})
	}
	counts := []piece{{fmt.Sprintf("%d critical", crit), 0}, {fmt.Sprintf("%d warning", warn), 5}, {fmt.Sprintf("%d notice", notice), 1}}
	groups := [][]piece{change, counts, {{coverage, 0}}, nil}
	if m := subjectAtRisk(r); m != "" {
		groups[3] = []piece{{m, 6}}
	}
	ownerMax := maxSubjectOwner
	render := func(dropBelow int) string {
		var parts []string
		for _, g := range groups {
			var kept []string
			for _, p := range g {
				if p.drop == 0 || p.drop > dropBelow {
					kept = append(kept, p.text)
				}
			}
			if len(kept) > 0 {
				parts = append(parts, strings.Join(kept, ", "))
			}
		}
		s := fmt.Sprintf("orgaudit %s%s: %s", r.AsOf.Format("2006-01-02"), subjectOwner(r.Owner, ownerMax), strings.Join(parts, " | "))
		if r.Partial {
			s = "PARTIAL " + s
		}
		return s
	}
	fitted := func() string {
		groups[2][0].text = coverage
		s := render(0)
		for drop := 1; len(s) > maxSubject && drop <= 5; drop++ {
			s = render(drop)
		}
		if len(s) > maxSubject && r.listingIncomplete() {
			// Seven-digit counts and a hundred thousand accounts: the short form, rather than a word cut in two.
			groups[2][0].text = fmt.Sprintf("%d/%d accounts, list cut", r.Accounts.Audited, r.Accounts.Total)
			s = render(5)
		}
		return s
	}
	s := fitted()
	if len(s) > maxSubject && groups[3] != nil {
		// The sum at risk goes whole or not at all, never a figure cut short (the digest's first lines say it); the
		// subject is then what it is without money, the counts that matter less back where they fit.
		groups[3] = nil
		s = fitted()
	}
	if over := len(s) - maxSubject; over > 0 && r.Owner != "" {
		// A long owner on a partial run with changes: the owner gives way rather than the coverage, down to a stem
		// that still tells owners apart.
		shown := len(subjectOwner(r.Owner, maxSubjectOwner)) - len(" for ")
		ownerMax = max(shown-over, minSubjectOwner)
		s = fitted()
	}
	return asciiLine(s, maxSubject)
}

// maxSubjectOwner bounds the owner in an owner's subject, so the counts and the coverage still fit;
// minSubjectOwner is as far as it is shortened when they do not (Subject).
const (
	maxSubjectOwner = 30
	minSubjectOwner = 12
)

// subjectOwner names the owner of an owner's digest in its subject, in what SNS takes there (printable ASCII): a
// person subscribed to several owners tells their mails apart.
func subjectOwner(owner string, n int) string {
	if owner == "" {
		return ""
	}
	o := asciiLine(Inline(owner), 4*maxSubjectOwner)
	if len(o) > n {
		o = o[:n-3] + "..."
	}
	if o == "" {
		o = "an owner"
	}
	return " for " + o
}

// compared says the run has a previous run to compare with, so its findings' changes mean something. A first run's
// findings are all "new" to the diff; the digest and the subject must not say so.
func (r *Result) compared() bool { return r.Changes != nil && r.PreviousRunID != "" }

// Digest is the plain-text email body. Its first lines are the run's warnings (a suppressions file not applied, a
// history not read), then the header (with the run's money at risk, moneyHeadline, when it has commitment findings
// that carry money), then what changed since the previous run: "NEW OR WORSE SINCE <date>",
// "FIXED", "COULD NOT RE-CHECK"; then the findings still open, by severity with their age (only counts per check
// with DigestChangesOnly); then what was not audited and why; then the suppressions (rules expired since the
// previous run or expiring within 7 days). A run with nothing to compare with says why once and lists its findings
// by severity, as a run without history does.
//
// The whole of it, header included, never exceeds limit bytes: each section has a share of what the header leaves
// and counts what did not fit ("N more ..."); the sections the reader must not miss (not audited, could not
// re-check, suppressions) take their shares first, so a flood of findings cannot crowd them out. Every piece of AWS
// text (and of the suppressions file) goes through Inline and sits after the digest's own text on its line, so none
// can forge a line or drive the reader's terminal.
func Digest(r *Result, limit int) string {
	if limit <= 0 {
		limit = MaxDigestBytes
	}
	var head strings.Builder
	head.WriteString(warningsSection(r.Warnings, min(maxWarningsBytes, limit/8)))
	crit, warn, notice := r.Totals()
	fmt.Fprintf(&head, "orgaudit run %s, as of %s\n", field(r.RunID, maxNameBytes), r.AsOf.Format("2006-01-02 15:04 UTC"))
	if r.Partial {
		// The verdict leads with what was not audited, before any count a reader could take for the whole.
		fmt.Fprintf(&head, "PARTIAL: %s\n", r.partialStatement(field))
	}
	if r.Owner != "" {
		fmt.Fprintf(&head, "Owner: %s (this digest holds only the accounts of this owner)\n", field(r.Owner, maxNameBytes))
	}
	fmt.Fprintf(&head, "Scope: %s; checks: %s; regions: %s\n", r.scopeWords(), listField(r.Checks, maxListBytes),
		listField(r.Regions, maxListBytes))
	fmt.Fprintf(&head, "Accounts: %d in scope, %d fully audited, %d partly, %d not audited; %d skipped\n",
		r.Accounts.Total, r.Accounts.Audited, r.Accounts.Partial, r.Accounts.Failed, r.Accounts.Skipped)
	fmt.Fprintf(&head, "Coverage: %d of %d account/region/check cells ran (%d with findings, %d clean, %d failed)\n",
		r.Coverage.Findings+r.Coverage.Clean, r.Coverage.Cells, r.Coverage.Findings, r.Coverage.Clean, r.Coverage.Errors)
	fmt.Fprintf(&head, "Findings: %d critical, %d warning, %d notice", crit, warn, notice)
	if n := len(r.Suppressed); n > 0 {
		fmt.Fprintf(&head, " (%d more suppressed, not counted)", n)
	}
	head.WriteString("\n")
	if m := r.moneyHeadline(); m != "" {
		fmt.Fprintf(&head, "Money: %s\n", m)
	}
	switch {
	case r.compared():
		ch := r.Changes
		fmt.Fprintf(&head, "Since the previous run (%s, %s): %d new, %d worse, %d still open, %d fixed, %d could not be re-checked\n",
			field(r.PreviousRunID, maxNameBytes), r.previousWhen("2006-01-02 15:04 UTC"), ch.New, ch.Escalated, ch.Ongoing, ch.Resolved, ch.Unverified)
	case r.NoPrevious != "" && !warned(r.Warnings, r.NoPrevious):
		fmt.Fprintf(&head, "History: %s\n", field(r.NoPrevious, maxWarningBytes))
	}
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
		case loc.ConsoleURL != "":
			// An owner's digest: the workbook holds every owner's accounts, so no presigned link (ForOwner).
			fmt.Fprintf(&head, "Workbook (the whole organization's, for those who may read the bucket): %s\n", Inline(loc.ConsoleURL))
		}
	}

	// Shares are taken in the order of what the reader must not miss; each section's unused share stays for the
	// ones after it.
	rest := limit - head.Len()
	take := func(s string) string { rest -= len(s); return s }
	notAudited := take(notAuditedSection(r, min(maxNotAuditedBytes, rest/4)))
	notAudited += take(pastCapSection(r, min(maxPastCapBytes, rest/8)))
	suppressions := take(suppressionsSection(r, min(maxSuppressionsBytes, rest/8)))
	unverified := take(unverifiedSection(r, min(maxUnverifiedBytes, rest/4)))
	unverified += take(recoveredSection(r, min(maxRecoveredBytes, rest/8)))
	// On a partial run what was not audited comes before any finding, so that no "nothing found" reads as the whole.
	first, last := "", notAudited
	if r.Partial {
		first, last = notAudited, ""
	}
	if !r.compared() {
		all := func(*checks.Finding) bool { return true }
		open := r.findingsSection(rest, all, severityHeading, r.openLine(false), moreFindings)
		if open == noFindings {
			open = "\n" + r.noFindingsWords("No findings.") + "\n"
		}
		return fit(head.String()+first+unverified+open+last+suppressions, limit)
	}
	changed := take(newOrWorseSection(r, rest*2/3))
	fixed := take(fixedSection(r, rest/2))
	var open string
	if r.DigestChangesOnly {
		open = openCountsSection(r, rest)
	} else {
		open = r.findingsSection(rest, stillOpen, func(sev checks.Severity, n int) string {
			return fmt.Sprintf("\n%s, STILL OPEN (%d)\n", strings.ToUpper(string(sev)), n)
		}, r.openLine(true), moreStillOpen)
		if open == noFindings {
			open = "\n" + r.noFindingsWords("Still open from before: nothing.") + "\n"
		}
	}
	return fit(head.String()+first+changed+fixed+unverified+open+last+suppressions, limit)
}

// Bounds on the sections that are not findings, for the same reason as maxNotAuditedBytes.
const (
	maxPastCapBytes      = 8_000
	maxWarningsBytes     = 8_000
	maxWarningBytes      = 1_000 // one warning, or why there is nothing to compare with
	maxSuppressionsBytes = 20_000
	maxUnverifiedBytes   = 60_000
	maxRecoveredBytes    = 20_000
)

// previousWhen is the previous run's time in layout, or "date unknown".
func (r *Result) previousWhen(layout string) string {
	if r.PreviousRunTime == nil || r.PreviousRunTime.IsZero() {
		return "date unknown"
	}
	return r.PreviousRunTime.UTC().Format(layout)
}

// warned says whether one of the warnings already says s, so the digest says it once.
func warned(warnings []string, s string) bool {
	for _, w := range warnings {
		if strings.Contains(w, s) || strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// pastCapSection names the owners who got no digest of their own this run, the cap being reached, so whoever reads
// the organization's digest can forward their part.
func pastCapSection(r *Result, limit int) string {
	od := r.OwnerDigests
	if od == nil || len(od.PastCap) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nOWNERS WITHOUT A DIGEST OF THEIR OWN (%d past the cap of %d owner digests a run)\n", len(od.PastCap), od.Cap)
	writeLines(&b, len(od.PastCap), func(i int) string { return "- " + field(od.PastCap[i], maxNameBytes) + "\n" }, limit,
		func(n int) string { return fmt.Sprintf("... %d more owners in the JSON result\n", n) })
	return b.String()
}

// warningsSection is the digest's first lines: what changed what the run could say without stopping it.
func warningsSection(warnings []string, limit int) string {
	var b strings.Builder
	writeLines(&b, len(warnings), func(i int) string { return "Warning: " + field(warnings[i], maxWarningBytes) + "\n" }, limit,
		func(n int) string { return fmt.Sprintf("Warning: %d more warnings in the JSON result\n", n) })
	return b.String()
}

// stillOpen says a finding was open at the previous run too: ongoing, or a change the job did not fill.
func stillOpen(f *checks.Finding) bool {
	return f.Change != string(history.ChangeNew) && f.Change != string(history.ChangeEscalated)
}

func severityHeading(sev checks.Severity, n int) string {
	return fmt.Sprintf("\n%s (%d)\n", strings.ToUpper(string(sev)), n)
}

// openLine is a finding's line in the open sections, with its age when the run has a previous one to count from.
func (r *Result) openLine(withAge bool) func(*checks.Finding) string {
	return func(f *checks.Finding) string {
		age := ""
		if withAge && f.AgeDays != nil {
			age = openFor(*f.AgeDays)
		}
		return "- " + r.findingLine(f, r.withAlerted(age, f))
	}
}

func openFor(days int) string {
	switch days {
	case 0:
		return "open less than a day"
	case 1:
		return "open 1 day"
	}
	return fmt.Sprintf("open %d days", days)
}

// findingsSection lists the findings keep selects, most severe first and, within a severity, the commitments together,
// soonest end first (digestOrder), while they fit in budget bytes, the line that counts the rest included. It stops at
// the first finding that does not fit, so what is left out is always the least severe.
func (r *Result) findingsSection(budget int, keep func(*checks.Finding) bool, heading func(checks.Severity, int) string,
	line func(*checks.Finding) string, more func(int) string) string {
	fs := r.Findings
	total := 0
	bySeverity := make([]int, len(checks.Severities))
	for i := range fs {
		if keep(&fs[i]) {
			total++
			if rank := fs[i].Severity.Rank(); rank < len(bySeverity) {
				bySeverity[rank]++
			}
		}
	}
	if total == 0 {
		return noFindings
	}
	var b strings.Builder
	reserve := len(more(total))
	written := 0
	order := r.digestOrder(len(fs), func(i int) *checks.Finding { return &fs[i] }, nil)
	fits := func(s string) bool { return b.Len()+len(s)+reserve <= budget }
severities:
	for rank, sev := range checks.Severities {
		n := bySeverity[rank]
		if n == 0 {
			continue
		}
		header := heading(sev, n)
		if !fits(header) {
			break
		}
		b.WriteString(header)
		for _, i := range order {
			f := &fs[i]
			if f.Severity != sev || !keep(f) {
				continue
			}
			l := line(f)
			if !fits(l) {
				break severities
			}
			b.WriteString(l)
			written++
		}
	}
	if rest := total - written; rest > 0 {
		b.WriteString(more(rest))
	}
	return b.String()
}

const noFindings = "\nNo findings.\n"

func moreFindings(n int) string  { return fmt.Sprintf("\n... %d more in the workbook\n", n) }
func moreStillOpen(n int) string { return fmt.Sprintf("\n... %d more still open in the workbook\n", n) }

// newOrWorseSection lists the findings that are new since the previous run or escalated from a lower severity, most
// severe first, each saying which, in at most budget bytes.
func newOrWorseSection(r *Result, budget int) string {
	since := r.previousWhen("2006-01-02")
	changed := func(f *checks.Finding) bool { return !stillOpen(f) }
	heading := fmt.Sprintf("\nNEW OR WORSE SINCE %s", since)
	var b strings.Builder
	n := 0
	for i := range r.Findings {
		if changed(&r.Findings[i]) {
			n++
		}
	}
	if n == 0 {
		return heading + ": none\n"
	}
	fmt.Fprintf(&b, "%s (%d)\n", heading, n)
	idx := r.digestOrder(len(r.Findings), func(i int) *checks.Finding { return &r.Findings[i] }, func(i int) bool { return changed(&r.Findings[i]) })
	writeLines(&b, len(idx), func(i int) string {
		f := &r.Findings[idx[i]]
		what := string(f.Severity) + ", new"
		if f.Change == string(history.ChangeEscalated) {
			what = string(f.Severity) + ", escalated"
			if from, ok := r.EscalatedFrom[history.IdentityOf(*f)]; ok {
				what = fmt.Sprintf("%s, escalated from %s", f.Severity, from)
			}
		}
		return fmt.Sprintf("- %s: %s", r.withAlerted(what, f), r.findingLine(f, ""))
	}, budget, func(n int) string {
		return fmt.Sprintf("... %d more new or worse in the workbook (column Change)\n", n)
	})
	return b.String()
}

// fixedSection lists the previous run's findings that are gone from cells that ran cleanly this run.
func fixedSection(r *Result, budget int) string {
	if len(r.Resolved) == 0 {
		return "\nFIXED: none\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nFIXED (%d)\n", len(r.Resolved))
	idx := bySeverity(len(r.Resolved), func(i int) checks.Severity { return r.Resolved[i].Severity }, nil)
	writeLines(&b, len(idx), func(i int) string {
		f := &r.Resolved[idx[i]]
		return fmt.Sprintf("- was %s: %s: %s (%s)\n", f.Severity, findingWhere(&f.Finding), field(f.ResolvedReason, maxReasonBytes),
			openFor(f.AgeDays))
	}, budget, func(n int) string {
		return fmt.Sprintf("... %d more fixed in the workbook's %s\n", n, r.memorySheets(ResolvedSheet))
	})
	return b.String()
}

// unverifiedSection lists the previous run's findings whose cells failed this run: never called fixed, with this
// run's error.
func unverifiedSection(r *Result, budget int) string {
	if len(r.Unverified) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nCOULD NOT RE-CHECK (%d found before; their checks failed this run, so they are not called fixed)\n", len(r.Unverified))
	idx := bySeverity(len(r.Unverified), func(i int) checks.Severity { return r.Unverified[i].Severity }, nil)
	writeLines(&b, len(idx), func(i int) string {
		u := &r.Unverified[idx[i]]
		return fmt.Sprintf("- %s when last seen %s: %s; this run: %s - %s\n", u.Severity, u.LastSeen.UTC().Format("2006-01-02"),
			findingWhere(&u.Finding), field(u.Code, maxNameBytes), field(u.Error, maxMessageBytes))
	}, budget, func(n int) string {
		return fmt.Sprintf("... %d more in the workbook's %s\n", n, r.memorySheets(UnverifiedSheet))
	})
	return b.String()
}

// openCountsSection counts the findings still open from before, per check and severity: -digest changes.
func openCountsSection(r *Result, budget int) string {
	counts := map[string]*CheckCounts{}
	var order []*CheckCounts
	for _, c := range r.Counts {
		cc := &CheckCounts{Check: c.Check, Title: c.Title}
		counts[c.Check] = cc
		order = append(order, cc)
	}
	total := 0
	for i := range r.Findings {
		f := &r.Findings[i]
		cc := counts[f.Check]
		if cc == nil || !stillOpen(f) {
			continue
		}
		total++
		cc.count(f.Severity)
	}
	if total == 0 {
		return "\n" + r.noFindingsWords("Still open from before: nothing.") + "\n"
	}
	order = slices.DeleteFunc(order, func(c *CheckCounts) bool { return c.Critical+c.Warning+c.Notice == 0 })
	var b strings.Builder
	fmt.Fprintf(&b, "\nSTILL OPEN FROM BEFORE (%d, counted per check; the workbook lists them)\n", total)
	writeLines(&b, len(order), func(i int) string {
		c := order[i]
		return fmt.Sprintf("- %s: %d critical, %d warning, %d notice\n", field(c.Check, maxNameBytes), c.Critical, c.Warning, c.Notice)
	}, budget, func(n int) string { return fmt.Sprintf("... %d more checks in the workbook's Summary sheet\n", n) })
	return b.String()
}

// suppressionsSection counts the suppressed findings and names the rules that expired since the previous run and
// those that expire within a week: a suppression is a decision someone must revisit.
func suppressionsSection(r *Result, budget int) string {
	rules := r.SuppressionRules
	if len(r.Suppressed) == 0 && len(rules.ExpiredSinceLast) == 0 && len(rules.ExpiringSoon) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nSUPPRESSED: %d findings, not counted above (the workbook's %s lists them with their rules)\n", len(r.Suppressed),
		r.memorySheets(SuppressedSheet))
	type ruleLine struct {
		what string
		rule history.Rule
	}
	var lines []ruleLine
	for _, rule := range rules.ExpiredSinceLast {
		lines = append(lines, ruleLine{"expired " + rule.Expires.Format(time.DateOnly) + ", suppresses no more", rule})
	}
	for _, rule := range rules.ExpiringSoon {
		lines = append(lines, ruleLine{"expires at the end of " + rule.Expires.Format(time.DateOnly), rule})
	}
	writeLines(&b, len(lines), func(i int) string {
		l := lines[i]
		return fmt.Sprintf("- rule at line %d %s: %s - %s (owner %s)\n", l.rule.Line, l.what, ruleScope(l.rule),
			field(l.rule.Reason, maxReasonBytes), field(l.rule.Owner, maxNameBytes))
	}, budget, func(n int) string {
		return fmt.Sprintf("... %d more rules expired or expiring, in the workbook's %s\n", n, r.memorySheets(SuppressedSheet))
	})
	return b.String()
}

// ruleScope says what a rule names, "any" for what it leaves open.
func ruleScope(r history.Rule) string {
	orAny := func(s string) string { return nameOr(field(s, maxNameBytes), "any") }
	return fmt.Sprintf("[%s] account %s, region %s, resource %s", field(r.Check, maxNameBytes), orAny(r.AccountID), orAny(r.Region),
		orAny(r.ResourceID))
}

// digestOrder returns the indexes i < n that keep selects (all when nil), most severe first; within a severity the
// commitments (findings of checks whose Layout reports expiry) come first, together whatever their account, soonest
// end first, a commitment AWS gave no end last; the rest keep their order (SortFindings': account by account).
func (r *Result) digestOrder(n int, finding func(int) *checks.Finding, keep func(int) bool) []int {
	idx := bySeverity(n, func(i int) checks.Severity { return finding(i).Severity }, keep)
	commitment := map[string]bool{}
	for _, name := range r.Checks {
		if c, ok := r.check(name); ok {
			commitment[name] = c.Layout().Expiry
		}
	}
	isCommitment := func(f *checks.Finding) bool {
		if v, ok := commitment[f.Check]; ok {
			return v
		}
		c, ok := r.check(f.Check)
		return ok && c.Layout().Expiry
	}
	sort.SliceStable(idx, func(a, b int) bool {
		fa, fb := finding(idx[a]), finding(idx[b])
		if ra, rb := fa.Severity.Rank(), fb.Severity.Rank(); ra != rb {
			return ra < rb
		}
		ca, cb := isCommitment(fa), isCommitment(fb)
		if ca != cb {
			return ca
		}
		if !ca {
			return false
		}
		if (fa.ExpiresAt == nil) != (fb.ExpiresAt == nil) {
			return fb.ExpiresAt == nil
		}
		return fa.ExpiresAt != nil && fa.ExpiresAt.Before(*fb.ExpiresAt)
	})
	return idx
}

// bySeverity returns the indexes i < n that keep selects (all when nil), most severe first, in their order otherwise.
func bySeverity(n int, sev func(int) checks.Severity, keep func(int) bool) []int {
	idx := make([]int, 0, n)
	for i := range n {
		if keep == nil || keep(i) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return sev(idx[a]).Rank() < sev(idx[b]).Rank() })
	return idx
}

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

// findingLine says what, where, and why in one line an engineer can act on; age, when set, follows the state, then a
// commitment's money (findingMoney): "12 days left, open 3 days; $1,022/mo, $511 at risk - reason".
func (r *Result) findingLine(f *checks.Finding, age string) string {
	var b strings.Builder
	b.WriteString(findingWhere(f))
	if c, ok := r.check(f.Check); ok {
		if d := field(c.DigestDetail(f), maxDetailBytes); d != "" {
			b.WriteString(" " + d)
		}
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
	if age != "" {
		fmt.Fprintf(&b, ", %s", age)
	}
	if m := findingMoney(f, field); m != "" {
		fmt.Fprintf(&b, "; %s", m)
	}
	if reason := field(f.Reason, maxReasonBytes); reason != "" {
		fmt.Fprintf(&b, " - %s", reason)
	}
	b.WriteString("\n")
	return b.String()
}

// findingWhere names a finding's account, region, check and resource.
func findingWhere(f *checks.Finding) string {
	var b strings.Builder
	id := field(f.ResourceID, maxNameBytes)
	fmt.Fprintf(&b, "%s (%s) %s [%s] %s", nameOr(field(f.AccountName, maxNameBytes), "-"), field(f.AccountID, maxNameBytes),
		field(f.Region, maxNameBytes), field(f.Check, maxNameBytes), id)
	if name := field(f.ResourceName, maxNameBytes); name != "" && name != id {
		fmt.Fprintf(&b, " %q", name)
	}
	return b.String()
}

// notAuditedSection says what could not be read and why, in at most limit bytes (its headings and the lines that
// count what did not fit always included): failures first, then the accounts skipped.
func notAuditedSection(r *Result, limit int) string {
	if len(r.Errors) == 0 && len(r.Skipped) == 0 {
		if r.Partial {
			// Nothing failed that a line could name (only the caller's account was in reach): say what was missed.
			return "\nNOT AUDITED: " + r.partialStatement(field) + "\n"
		}
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
		writeLines(&b, len(r.Errors), func(i int) string { return failureLine(r.Errors[i]) }, limit-reserve, func(n int) string {
			return moreFailures(n, r.coverageSheets())
		})
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

// moreFailures counts the failures left out; sheets names where the workbook lists them.
func moreFailures(n int, sheets string) string {
	return fmt.Sprintf("... %d more failures in the workbook's %s\n", n, sheets)
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
