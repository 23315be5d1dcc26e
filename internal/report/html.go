package report

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
)

// MailOptions say what became of the workbook in one email, and how many rows its HTML may list.
type MailOptions struct {
	// Attached is the attached workbook's file name; empty when it is not attached.
	Attached string
	// NotAttached says why a workbook that exists is not attached (too large for the message): the email then
	// points at the link.
	NotAttached string
	// MaxRows bounds each section of the HTML; zero is DefaultHTMLRows.
	MaxRows int
}

// DefaultHTMLRows bounds each section of the HTML email. The text digest, held to MaxDigestBytes with lines of at
// least some 45 bytes (account id, region, check, resource), never lists 6,000 findings, so the HTML shows every one
// the text part shows; a sender that must make the message smaller asks for fewer.
const DefaultHTMLRows = 6_000

// EmailText is the plain-text part of an email: what became of the workbook, then the digest.
func EmailText(r *Result, o MailOptions) string {
	note := ""
	switch {
	case o.Attached != "":
		note = fmt.Sprintf("The workbook is attached: %s\n", field(o.Attached, maxNameBytes))
	case o.NotAttached != "":
		note = fmt.Sprintf("The workbook is not attached (%s); the link below opens it.\n", field(o.NotAttached, maxReasonBytes))
	}
	return note + Digest(r, MaxDigestBytes-len(note))
}

// Severity colours: text on white, and the tint behind a section's heading.
var severityColors = map[checks.Severity][2]string{
	checks.Critical: {"#b42318", "#fef3f2"},
	checks.Warning:  {"#b54708", "#fffaeb"},
	checks.Notice:   {"#175cd3", "#eff8ff"},
}

const (
	neutralColor = "#344054"
	neutralTint  = "#f2f4f7"
	goodColor    = "#067647"
	goodTint     = "#ecfdf3"
)

// HTML is the digest as an email's HTML part: the same sections as Digest, as tables grouped by severity with
// colour, each resource linked to its console page, and the workbook's link. It is written for mail clients: tables
// for layout and inline CSS only. Every piece of AWS text goes through Inline (no line breaks, controls, bidi or
// zero-width characters) and html/template's escaping, and a link is written only when it is an http(s) URL, so
// nothing from AWS can add markup, run script or point a link elsewhere.
func HTML(r *Result, o MailOptions) (string, error) {
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultHTMLRows
	}
	p := r.htmlPage(o)
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, p); err != nil {
		return "", fmt.Errorf("render the HTML digest: %w", err)
	}
	return b.String(), nil
}

type htmlPage struct {
	Subject, Title, RunLine, Partial string
	// Money is the run's money at risk (moneyHeadline), shown under the counts.
	Money    string
	Warnings []string
	Stats    []htmlStat
	Lines    []string
	Workbook htmlWorkbook
	Sections []htmlSection
}

type htmlStat struct{ Label, Value, Color, Tint string }

type htmlWorkbook struct {
	Attached, NotAttached, URL, Expiry, ConsoleURL, NotUploaded string
}

type htmlSection struct {
	Title, Color, Tint, Note string
	Columns                  []string
	Rows                     [][]htmlCell
	More, Empty              string
}

type htmlCell struct {
	Text, Link, Color string
	// Label is the cell's column: on a narrow screen each row is a card, without the header row, so each value says
	// what it is.
	Label string
	Bold  bool
	// NoWrap keeps a short value (a region) on one line.
	NoWrap bool
}

func (r *Result) htmlPage(o MailOptions) htmlPage {
	crit, warn, notice := r.Totals()
	p := htmlPage{Subject: Subject(r), Title: "orgaudit " + r.AsOf.Format("2006-01-02"),
		RunLine: fmt.Sprintf("Run %s, as of %s", field(r.RunID, maxNameBytes), r.AsOf.Format("2006-01-02 15:04 UTC"))}
	if r.Partial {
		p.Partial = "PARTIAL: " + r.partialStatement(field) + "."
	}
	for _, w := range r.Warnings {
		p.Warnings = append(p.Warnings, field(w, maxWarningBytes))
	}
	if r.NoPrevious != "" && !r.compared() && !warned(r.Warnings, r.NoPrevious) {
		p.Warnings = append(p.Warnings, field(r.NoPrevious, maxWarningBytes))
	}
	stat := func(label string, n int, sev checks.Severity) htmlStat {
		c := severityColors[sev]
		if n == 0 {
			c = [2]string{neutralColor, neutralTint}
		}
		return htmlStat{Label: label, Value: fmt.Sprint(n), Color: c[0], Tint: c[1]}
	}
	p.Stats = []htmlStat{stat("critical", crit, checks.Critical), stat("warning", warn, checks.Warning), stat("notice", notice, checks.Notice)}
	accounts := htmlStat{Label: "accounts audited", Value: fmt.Sprintf("%d/%d", r.Accounts.Audited, r.Accounts.Total), Color: goodColor, Tint: goodTint}
	if r.Accounts.Audited < r.Accounts.Total {
		accounts.Color, accounts.Tint = severityColors[checks.Critical][0], severityColors[checks.Critical][1]
	}
	if r.OwnAccountOnly {
		accounts.Value, accounts.Label = "own", "account only"
	}
	p.Stats = append(p.Stats, accounts)
	if a := r.USDPerMonthAtRisk; a != nil {
		// Only when a critical or warning commitment has a USD figure at risk: a sum of none of them is unknown, not
		// $0 (the money line under the tiles counts those in no sum).
		if urgent, _ := r.pricedAtRisk(); urgent > 0 {
			risk := htmlStat{Label: "a month at risk (critical and warning)", Value: dollars(a.Urgent()), Color: severityColors[checks.Critical][0],
				Tint: severityColors[checks.Critical][1]}
			if a.Urgent() == 0 {
				risk.Color, risk.Tint = neutralColor, neutralTint
			}
			p.Stats = append(p.Stats, risk)
		}
	}
	p.Money = r.moneyHeadline()
	if r.compared() {
		ch := r.Changes
		p.Stats = append(p.Stats, htmlStat{Label: "new or worse", Value: fmt.Sprint(ch.New + ch.Escalated), Color: neutralColor, Tint: neutralTint},
			htmlStat{Label: "fixed", Value: fmt.Sprint(ch.Resolved), Color: goodColor, Tint: goodTint})
	}
	p.Lines = append(p.Lines,
		fmt.Sprintf("Scope: %s; checks: %s; regions: %s", r.scopeWords(), listField(r.Checks, maxListBytes), listField(r.Regions, maxListBytes)),
		fmt.Sprintf("Accounts: %d in scope, %d fully audited, %d partly, %d not audited; %d skipped",
			r.Accounts.Total, r.Accounts.Audited, r.Accounts.Partial, r.Accounts.Failed, r.Accounts.Skipped),
		fmt.Sprintf("Coverage: %d of %d account/region/check cells ran (%d with findings, %d clean, %d failed)",
			r.Coverage.Findings+r.Coverage.Clean, r.Coverage.Cells, r.Coverage.Findings, r.Coverage.Clean, r.Coverage.Errors))
	if n := len(r.Suppressed); n > 0 {
		p.Lines = append(p.Lines, fmt.Sprintf("%d more findings suppressed, not counted", n))
	}
	if r.compared() {
		ch := r.Changes
		p.Lines = append(p.Lines, fmt.Sprintf("Since the previous run (%s, %s): %d new, %d worse, %d still open, %d fixed, %d could not be re-checked",
			field(r.PreviousRunID, maxNameBytes), r.previousWhen("2006-01-02 15:04 UTC"), ch.New, ch.Escalated, ch.Ongoing, ch.Resolved, ch.Unverified))
	}
	p.Workbook = htmlWorkbook{Attached: field(o.Attached, maxNameBytes), NotAttached: field(o.NotAttached, maxReasonBytes)}
	if loc := r.Report; loc != nil {
		p.Workbook.URL, p.Workbook.ConsoleURL = webURL(loc.URL), webURL(loc.ConsoleURL)
		if loc.URLExpiresAt != nil && p.Workbook.URL != "" {
			p.Workbook.Expiry = "valid until " + loc.URLExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
			if loc.URLNote != "" {
				p.Workbook.Expiry += "; " + field(loc.URLNote, maxReasonBytes)
			}
		}
		if loc.URL == "" && loc.NotUploaded != "" {
			p.Workbook.NotUploaded = field(loc.NotUploaded, maxReasonBytes)
		}
	}

	rows := o.MaxRows
	// On a partial run what was not audited comes first, as in the text digest.
	notAudited := r.notAuditedHTML(rows)
	if r.Partial {
		p.Sections = append(p.Sections, notAudited...)
		notAudited = nil
	}
	if r.compared() {
		p.Sections = append(p.Sections, r.newOrWorseHTML(rows), r.fixedHTML(rows))
		p.Sections = append(p.Sections, r.unverifiedHTML(rows)...)
		p.Sections = append(p.Sections, r.recoveredHTML(rows)...)
		if r.DigestChangesOnly {
			p.Sections = append(p.Sections, r.openCountsHTML())
		} else {
			p.Sections = append(p.Sections, r.severityHTML(rows, stillOpen, ", still open", true)...)
		}
	} else {
		p.Sections = append(p.Sections, r.unverifiedHTML(rows)...)
		p.Sections = append(p.Sections, r.recoveredHTML(rows)...)
		p.Sections = append(p.Sections, r.severityHTML(rows, func(*checks.Finding) bool { return true }, "", false)...)
	}
	p.Sections = append(p.Sections, notAudited...)
	p.Sections = append(p.Sections, r.suppressionsHTML(rows)...)
	for _, s := range p.Sections {
		for _, row := range s.Rows {
			for i := range row {
				if i < len(s.Columns) {
					row[i].Label = s.Columns[i]
				}
			}
		}
	}
	return p
}

// webURL is u when it is an absolute https URL (or http, as an S3-compatible endpoint or the simulator signs the
// workbook's link), else "": only such links are written, never javascript:, data: or a relative one.
func webURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" || strings.ContainsAny(u, " \t\r\n") {
		return ""
	}
	return u
}

var findingColumns = []string{"Account", "Region", "Check", "Resource", "Detail", "State", "Reason"}

// moneyColumn follows State in a section that lists a commitment with money (withMoney): its USD per month and what
// is at risk (findingMoney). A section without one has the columns it always had.
const moneyColumn = "Per month"

// columnsFor are findingColumns, with moneyColumn when money is set.
func columnsFor(money bool) []string {
	if !money {
		return findingColumns
	}
	i := slices.Index(findingColumns, "State") + 1
	return slices.Concat(findingColumns[:i], []string{moneyColumn}, findingColumns[i:])
}

// withMoney says whether one of the findings idx selects carries money.
func withMoney(fs []checks.Finding, idx []int) bool {
	return slices.ContainsFunc(idx, func(i int) bool { return fs[i].Money != nil })
}

// findingCells are a finding's cells under columnsFor(money); age, when set, follows the state.
func (r *Result) findingCells(f *checks.Finding, age string, money bool) []htmlCell {
	detail := ""
	if c, ok := r.check(f.Check); ok {
		detail = field(c.DigestDetail(f), maxDetailBytes)
	}
	state := field(f.Status, maxNameBytes)
	if f.DaysLeft != nil {
		state = fmt.Sprintf("%d days left", *f.DaysLeft)
		if *f.DaysLeft < 0 {
			state = "lapsed"
		}
	}
	if age != "" {
		state += ", " + age
	}
	resource := field(f.ResourceID, maxNameBytes)
	if name := field(f.ResourceName, maxNameBytes); name != "" && name != resource {
		resource += fmt.Sprintf(" %q", name)
	}
	cells := []htmlCell{
		{Text: accountText(f.AccountName, f.AccountID)},
		{Text: field(f.Region, maxNameBytes), NoWrap: true},
		{Text: field(f.Check, maxNameBytes)},
		{Text: resource, Link: webURL(f.ConsoleURL)},
		{Text: detail},
		{Text: state, Bold: f.DaysLeft != nil, NoWrap: f.DaysLeft != nil},
	}
	if money {
		cells = append(cells, htmlCell{Text: findingMoney(f, field), Bold: atRisk(f.Money)})
	}
	return append(cells, htmlCell{Text: field(f.Reason, maxReasonBytes)})
}

// atRisk says m puts some money at risk, in USD or in its own currency: its figure is shown in bold.
func atRisk(m *checks.Money) bool {
	switch {
	case m == nil:
		return false
	case m.USDPerMonthAtRisk != nil:
		return *m.USDPerMonthAtRisk > 0
	default:
		return m.Price != nil && m.Price.PerMonthAtRisk != nil && *m.Price.PerMonthAtRisk > 0
	}
}

func accountText(name, id string) string {
	return fmt.Sprintf("%s (%s)", nameOr(field(name, maxNameBytes), "-"), field(id, maxNameBytes))
}

// severityHTML is one section per severity of the findings keep selects, in the digest's order.
func (r *Result) severityHTML(rows int, keep func(*checks.Finding) bool, suffix string, withAge bool) []htmlSection {
	fs := r.Findings
	order := r.digestOrder(len(fs), func(i int) *checks.Finding { return &fs[i] }, func(i int) bool { return keep(&fs[i]) })
	var out []htmlSection
	for _, sev := range checks.Severities {
		colors := severityColors[sev]
		money := withMoney(fs, slices.DeleteFunc(slices.Clone(order), func(i int) bool { return fs[i].Severity != sev }))
		s := htmlSection{Color: colors[0], Tint: colors[1], Columns: columnsFor(money)}
		n := 0
		for _, i := range order {
			f := &fs[i]
			if f.Severity != sev {
				continue
			}
			n++
			if len(s.Rows) < rows {
				age := ""
				if withAge && f.AgeDays != nil {
					age = openFor(*f.AgeDays)
				}
				s.Rows = append(s.Rows, r.findingCells(f, r.withAlerted(age, f), money))
			}
		}
		if n == 0 {
			continue
		}
		s.Title = fmt.Sprintf("%s%s (%d)", strings.ToUpper(string(sev)), strings.ToUpper(suffix), n)
		if more := n - len(s.Rows); more > 0 {
			s.More = fmt.Sprintf("%d more in the workbook", more)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		// Green says "all clear", which a partial run cannot say.
		color, tint := goodColor, goodTint
		if r.Partial {
			color, tint = neutralColor, neutralTint
		}
		if withAge {
			return []htmlSection{{Title: "Still open from before", Color: color, Tint: tint, Empty: r.noFindingsWords("Nothing.")}}
		}
		return []htmlSection{{Title: "Findings", Color: color, Tint: tint, Empty: r.noFindingsWords("No findings.")}}
	}
	return out
}

func (r *Result) newOrWorseHTML(rows int) htmlSection {
	changed := func(i int) bool { return !stillOpen(&r.Findings[i]) }
	idx := r.digestOrder(len(r.Findings), func(i int) *checks.Finding { return &r.Findings[i] }, changed)
	money := withMoney(r.Findings, idx)
	s := htmlSection{Title: "New or worse since " + r.previousWhen("2006-01-02"), Color: neutralColor, Tint: neutralTint,
		Columns: append([]string{"Change"}, columnsFor(money)...)}
	for _, i := range idx {
		if len(s.Rows) == rows {
			break
		}
		f := &r.Findings[i]
		what := string(f.Severity) + ", new"
		if f.Change == string(history.ChangeEscalated) {
			what = string(f.Severity) + ", escalated"
			if from, ok := r.EscalatedFrom[history.IdentityOf(*f)]; ok {
				what = fmt.Sprintf("%s, escalated from %s", f.Severity, from)
			}
		}
		s.Rows = append(s.Rows, append([]htmlCell{{Text: r.withAlerted(what, f), Color: severityColors[f.Severity][0], Bold: true}}, r.findingCells(f, "", money)...))
	}
	s.Title += fmt.Sprintf(" (%d)", len(idx))
	if len(idx) == 0 {
		s.Empty = "None."
	}
	if more := len(idx) - len(s.Rows); more > 0 {
		s.More = fmt.Sprintf("%d more new or worse in the workbook (column Change)", more)
	}
	return s
}

func (r *Result) fixedHTML(rows int) htmlSection {
	s := htmlSection{Title: fmt.Sprintf("Fixed (%d)", len(r.Resolved)), Color: goodColor, Tint: goodTint,
		Columns: []string{"Was", "Account", "Region", "Check", "Resource", "Why it is gone", "Open for"}}
	if len(r.Resolved) == 0 {
		s.Empty = "None."
	}
	for _, i := range bySeverity(len(r.Resolved), func(i int) checks.Severity { return r.Resolved[i].Severity }, nil) {
		if len(s.Rows) == rows {
			s.More = fmt.Sprintf("%d more fixed in the workbook's %s", len(r.Resolved)-rows, r.memorySheets(ResolvedSheet))
			break
		}
		f := &r.Resolved[i]
		s.Rows = append(s.Rows, []htmlCell{{Text: string(f.Severity), Color: severityColors[f.Severity][0]}, {Text: accountText(f.AccountName, f.AccountID)},
			{Text: field(f.Region, maxNameBytes)}, {Text: field(f.Check, maxNameBytes)}, {Text: field(f.ResourceID, maxNameBytes), Link: webURL(f.ConsoleURL)},
			{Text: field(f.ResolvedReason, maxReasonBytes)}, {Text: openFor(f.AgeDays)}})
	}
	return s
}

func (r *Result) unverifiedHTML(rows int) []htmlSection {
	if len(r.Unverified) == 0 {
		return nil
	}
	s := htmlSection{Title: fmt.Sprintf("Could not re-check (%d)", len(r.Unverified)), Color: severityColors[checks.Warning][0],
		Tint: severityColors[checks.Warning][1], Note: "Found before; their checks failed this run, so they are not called fixed.",
		Columns: []string{"Severity", "Last seen", "Account", "Region", "Check", "Resource", "This run"}}
	for _, i := range bySeverity(len(r.Unverified), func(i int) checks.Severity { return r.Unverified[i].Severity }, nil) {
		if len(s.Rows) == rows {
			s.More = fmt.Sprintf("%d more in the workbook's %s", len(r.Unverified)-rows, r.memorySheets(UnverifiedSheet))
			break
		}
		u := &r.Unverified[i]
		s.Rows = append(s.Rows, []htmlCell{{Text: string(u.Severity), Color: severityColors[u.Severity][0]}, {Text: u.LastSeen.UTC().Format("2006-01-02")},
			{Text: accountText(u.AccountName, u.AccountID)}, {Text: field(u.Region, maxNameBytes)}, {Text: field(u.Check, maxNameBytes)},
			{Text: field(u.ResourceID, maxNameBytes), Link: webURL(u.ConsoleURL)},
			{Text: field(u.Code, maxNameBytes) + " - " + field(u.Error, maxMessageBytes)}})
	}
	return []htmlSection{s}
}

func (r *Result) openCountsHTML() htmlSection {
	s := htmlSection{Title: "Still open from before, counted per check", Color: neutralColor, Tint: neutralTint,
		Note: "The workbook lists them.", Columns: []string{"Check", "Critical", "Warning", "Notice"}}
	counts := map[string]*CheckCounts{}
	var order []*CheckCounts
	for _, c := range r.Counts {
		cc := &CheckCounts{Check: c.Check}
		counts[c.Check], order = cc, append(order, cc)
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		if cc := counts[f.Check]; cc != nil && stillOpen(f) {
			cc.count(f.Severity)
		}
	}
	for _, c := range order {
		if c.Critical+c.Warning+c.Notice > 0 {
			s.Rows = append(s.Rows, []htmlCell{{Text: field(c.Check, maxNameBytes)}, {Text: fmt.Sprint(c.Critical)}, {Text: fmt.Sprint(c.Warning)},
				{Text: fmt.Sprint(c.Notice)}})
		}
	}
	if len(s.Rows) == 0 {
		s.Empty = r.noFindingsWords("Nothing.")
	}
	return s
}

func (r *Result) notAuditedHTML(rows int) []htmlSection {
	if len(r.Errors) == 0 && len(r.Skipped) == 0 {
		if r.Partial {
			colors := severityColors[checks.Critical]
			return []htmlSection{{Title: "Not audited", Color: colors[0], Tint: colors[1], Empty: r.partialStatement(field) + "."}}
		}
		return []htmlSection{{Title: "Not audited", Color: goodColor, Tint: goodTint, Empty: "Nothing: every account in scope was read."}}
	}
	var out []htmlSection
	if len(r.Errors) > 0 {
		colors := severityColors[checks.Critical]
		s := htmlSection{Title: fmt.Sprintf("Not audited (%d failures, %d of %d cells)", len(r.Errors), r.Coverage.Errors, r.Coverage.Cells),
			Color: colors[0], Tint: colors[1], Columns: []string{"Account", "Region", "Check", "Code", "Message"}}
		for i, e := range r.Errors {
			if i == rows {
				s.More = fmt.Sprintf("%d more failures in the workbook's %s", len(r.Errors)-rows, r.coverageSheets())
				break
			}
			account, region, check := "the account list", "", ""
			if e.AccountID != "" {
				account, region, check = accountText(e.AccountName, e.AccountID), field(e.Region, maxNameBytes), field(e.Check, maxNameBytes)
				if region == "" || region == crossaccount.AllRegions {
					region = "all regions"
				}
				if check == "" {
					check = "all checks"
				}
			}
			s.Rows = append(s.Rows, []htmlCell{{Text: account}, {Text: region}, {Text: check}, {Text: field(e.Code, maxNameBytes), Bold: true},
				{Text: field(e.Message, maxMessageBytes)}})
		}
		out = append(out, s)
	}
	if len(r.Skipped) > 0 {
		s := htmlSection{Title: fmt.Sprintf("Skipped (%d accounts, not active)", len(r.Skipped)), Color: neutralColor, Tint: neutralTint,
			Columns: []string{"Account", "Why"}}
		for i, sk := range r.Skipped {
			if i == rows {
				s.More = fmt.Sprintf("%d more skipped", len(r.Skipped)-rows)
				break
			}
			s.Rows = append(s.Rows, []htmlCell{{Text: accountText(sk.AccountName, sk.AccountID)}, {Text: field(sk.Reason, maxReasonBytes)}})
		}
		out = append(out, s)
	}
	return out
}

func (r *Result) suppressionsHTML(rows int) []htmlSection {
	rules := r.SuppressionRules
	if len(r.Suppressed) == 0 && len(rules.ExpiredSinceLast) == 0 && len(rules.ExpiringSoon) == 0 {
		return nil
	}
	s := htmlSection{Title: fmt.Sprintf("Suppressed: %d findings, not counted above", len(r.Suppressed)), Color: neutralColor, Tint: neutralTint,
		Note: fmt.Sprintf("The workbook's %s lists them with their rules.", r.memorySheets(SuppressedSheet)), Columns: []string{"Rule", "When", "Scope", "Reason", "Owner"}}
	add := func(rule history.Rule, when string) {
		if len(s.Rows) == rows {
			s.More = "more rules expired or expiring, in the workbook's " + r.memorySheets(SuppressedSheet)
			return
		}
		s.Rows = append(s.Rows, []htmlCell{{Text: fmt.Sprintf("line %d", rule.Line)}, {Text: when, Bold: true}, {Text: ruleScope(rule)},
			{Text: field(rule.Reason, maxReasonBytes)}, {Text: field(rule.Owner, maxNameBytes)}})
	}
	for _, rule := range rules.ExpiredSinceLast {
		add(rule, "expired "+rule.Expires.Format("2006-01-02")+", suppresses no more")
	}
	for _, rule := range rules.ExpiringSoon {
		add(rule, "expires at the end of "+rule.Expires.Format("2006-01-02"))
	}
	if len(s.Rows) == 0 {
		s.Columns = nil
	}
	return []htmlSection{s}
}

// phoneStyle is the HTML's one <style> block (see htmlTemplate): nothing from AWS is in it.
const phoneStyle = `@media only screen and (max-width: 600px) {
  .oa-outer { padding: 0 !important; }
  .oa-pad { padding-left: 12px !important; padding-right: 12px !important; }
  .oa-tiles, .oa-tiles tbody, .oa-tiles tr { display: block !important; }
  .oa-tile { display: inline-block !important; vertical-align: top; }
  .oa-rows, .oa-rows tbody, .oa-card, .oa-cell { display: block !important; width: auto !important; }
  .oa-head { display: none !important; }
  .oa-card { margin: 8px 0 0 0 !important; padding: 4px 0 !important; border: 1px solid #d0d5dd !important; }
  .oa-cell { padding: 2px 10px !important; border: 0 !important; white-space: normal !important; overflow-wrap: anywhere !important; word-break: break-word !important; }
  .oa-empty { display: none !important; }
  .oa-label { display: inline !important; color: #475467; font-weight: normal; }
  .oa-wrap { overflow-wrap: anywhere !important; word-break: break-word !important; }
}
`

// htmlTemplate is laid out with tables and inline styles, which every mail client reads: a client that drops <style>
// blocks shows the desktop layout. The one <style> block only narrows it for a phone (under 600 px, as Gmail's apps,
// Apple Mail and iOS Mail apply media queries): one column, the count tiles wrapping, each row of a table a small card
// whose values carry their column's name (a label hidden inline on the desktop, with mso-hide for Outlook's Word
// engine), and long ARNs and ids broken anywhere rather than widening the page.
var htmlTemplate = template.Must(template.New("digest").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
` + "<style>\n" + phoneStyle + "</style>\n" + `</head>
<body style="margin:0;padding:0;background-color:#f2f4f7;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f2f4f7;">
<tr><td class="oa-outer" align="center" style="padding:16px 8px;">
<table class="oa-wrap" role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:1100px;overflow-wrap:break-word;background-color:#ffffff;border:1px solid #d0d5dd;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:20px;color:#101828;">
<tr><td class="oa-pad" style="padding:20px 24px;background-color:#232f3e;color:#ffffff;">
<div style="font-size:22px;line-height:28px;font-weight:bold;">{{.Title}}</div>
<div style="font-size:13px;color:#d0d5dd;">{{.RunLine}}</div>
</td></tr>
{{- if .Partial}}
<tr><td class="oa-pad" style="padding:12px 24px;background-color:#fef3f2;color:#b42318;font-weight:bold;border-bottom:1px solid #fecdca;">{{.Partial}}</td></tr>
{{- end}}
{{- range .Warnings}}
<tr><td class="oa-pad" style="padding:10px 24px;background-color:#fffaeb;color:#93370d;border-bottom:1px solid #fedf89;"><b>Warning:</b> {{.}}</td></tr>
{{- end}}
<tr><td class="oa-pad" style="padding:16px 24px 8px 24px;">
<table class="oa-tiles" role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>
{{- range .Stats}}
<td class="oa-tile" style="padding:0 8px 8px 0;"><table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td style="padding:8px 14px;background-color:{{.Tint}};border-left:4px solid {{.Color}};">
<div style="font-size:22px;line-height:26px;font-weight:bold;color:{{.Color}};">{{.Value}}</div>
<div style="font-size:12px;color:#475467;">{{.Label}}</div>
</td></tr></table></td>
{{- end}}
</tr></table>
</td></tr>
<tr><td class="oa-pad" style="padding:0 24px 8px 24px;font-size:13px;color:#475467;">
{{- if .Money}}
<div style="padding-bottom:4px;font-size:14px;color:#101828;"><b>Money:</b> {{.Money}}</div>
{{- end}}
{{- range .Lines}}
<div>{{.}}</div>
{{- end}}
</td></tr>
<tr><td class="oa-pad" style="padding:8px 24px 16px 24px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="padding:12px 16px;background-color:#f9fafb;border:1px solid #eaecf0;">
{{- with .Workbook}}
{{- if .Attached}}
<div><b>The workbook is attached:</b> {{.Attached}}</div>
{{- else if .NotAttached}}
<div><b>The workbook is not attached</b> ({{.NotAttached}}); the link below opens it.</div>
{{- end}}
{{- if .URL}}
<div style="padding-top:8px;"><a href="{{.URL}}" style="display:inline-block;padding:8px 14px;background-color:#175cd3;color:#ffffff;text-decoration:none;font-weight:bold;">Download the workbook</a> <span style="font-size:12px;color:#475467;">{{.Expiry}}</span></div>
{{- end}}
{{- if .ConsoleURL}}
<div style="padding-top:8px;font-size:13px;">When the link has expired: <a href="{{.ConsoleURL}}" style="color:#175cd3;">the workbook in the S3 console</a></div>
{{- end}}
{{- if .NotUploaded}}
<div>Workbook not uploaded ({{.NotUploaded}}).</div>
{{- end}}
{{- end}}
</td></tr></table>
</td></tr>
{{- range .Sections}}
<tr><td class="oa-pad" style="padding:8px 24px 16px 24px;">
<div style="padding:8px 12px;background-color:{{.Tint}};border-left:4px solid {{.Color}};color:{{.Color}};font-size:16px;font-weight:bold;">{{.Title}}</div>
{{- if .Note}}
<div style="padding:6px 12px 0 12px;font-size:13px;color:#475467;">{{.Note}}</div>
{{- end}}
{{- if .Empty}}
<div style="padding:6px 12px;color:#475467;">{{.Empty}}</div>
{{- end}}
{{- if .Rows}}
<table class="oa-rows" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;font-size:13px;line-height:18px;">
<tr class="oa-head">
{{- range .Columns}}
<th align="left" style="padding:6px 8px;border-bottom:2px solid #d0d5dd;color:#475467;font-weight:bold;">{{.}}</th>
{{- end}}
</tr>
{{- range .Rows}}
<tr class="oa-card">
{{- range .}}
<td class="oa-cell{{if not .Text}} oa-empty{{end}}" valign="top" style="padding:5px 8px;border-bottom:1px solid #eaecf0;{{if .Color}}color:{{.Color}};{{end}}{{if .Bold}}font-weight:bold;{{end}}{{if .NoWrap}}white-space:nowrap;{{end}}">{{if .Label}}<span class="oa-label" style="display:none;mso-hide:all;">{{.Label}}: </span>{{end}}{{if .Link}}<a href="{{.Link}}" style="color:#175cd3;">{{.Text}}</a>{{else}}{{.Text}}{{end}}</td>
{{- end}}
</tr>
{{- end}}
</table>
{{- end}}
{{- if .More}}
<div style="padding:6px 12px;font-size:13px;color:#475467;">... {{.More}}</div>
{{- end}}
</td></tr>
{{- end}}
<tr><td class="oa-pad" style="padding:12px 24px;border-top:1px solid #eaecf0;font-size:12px;color:#667085;">Every account &times; region &times; check ends as findings, clean, or an error with its AWS code; the workbook's Coverage sheet lists each one. Sent by orgaudit.</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`))
