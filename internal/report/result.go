// Package report turns a fan-out result into what people read: the JSON result, the SNS digest and the Excel
// workbook. It imports internal/checks, internal/crossaccount and internal/history, nothing above them.
package report

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
)

// Result is the job's answer: the Lambda's return value and the CLI's -json output. It is made of the audit's facts
// (Facts, then Memory: what the fan-out and the run's history said, fixed once the job's recall step is done and read
// by every renderer), the delivery's record (Delivered: what internal/delivery sent, and where the workbook is) and
// the SDK's retries. The groups are embedded so their fields are the JSON object's own, in this order: the JSON
// contract is the one it was when Result was one struct.
type Result struct {
	Facts
	Delivered
	// APIRetries counts the SDK's retries (throttling, 5xx), by the error that caused them.
	APIRetries    int            `json:"api_retries"`
	RetriesByCode map[string]int `json:"retries_by_code,omitempty"`

	Memory
}

// Facts are what the audit found: its scope, the accounts, cells and findings, and who owns them. Nothing changes
// them after the job's recall step (which leaves suppressed findings out).
type Facts struct {
	RunID string `json:"run_id"`
	// Owner is set on an owner's result (ForOwner): everything in it is that owner's accounts'.
	Owner string `json:"owner,omitempty"`
	// Partial says something the run set out to audit was not audited; PartialReasons say what and why (partial.go).
	// Both are set once, by Build (ForOwner for an owner's result), and every output reads them.
	Partial        bool            `json:"partial"`
	PartialReasons []PartialReason `json:"partial_reasons,omitempty"`
	AsOf           time.Time       `json:"as_of"`
	Scope          string          `json:"scope"`
	// Narrowed says how the run was narrowed by choice (named accounts, excluded accounts, some checks): not partial,
	// as it audited what it was asked to, but every output says its scope was narrowed. Empty when it was not.
	Narrowed string `json:"narrowed,omitempty"`
	// OwnAccountOnly says the organization could not be listed and only the caller's account was audited.
	OwnAccountOnly bool           `json:"own_account_only,omitempty"`
	Checks         []string       `json:"checks"`
	Regions        []string       `json:"regions"`
	Accounts       AccountCounts  `json:"accounts"`
	Coverage       CoverageCounts `json:"coverage"`
	Counts         []CheckCounts  `json:"counts"`
	// USDPerMonthAtRisk sums the open commitment findings' money at risk by severity (money.go); nil when the run
	// has no commitment findings. Set with Counts, from the same findings.
	USDPerMonthAtRisk *AtRisk          `json:"usd_per_month_at_risk,omitempty"`
	Findings          []checks.Finding `json:"findings"`
	// FindingsOmitted counts findings left out of this JSON to fit a size limit (Lambda's response); the workbook
	// has them all. Findings are sorted most severe first, so the ones left out are the least.
	FindingsOmitted int                    `json:"findings_omitted,omitempty"`
	Errors          []crossaccount.Failure `json:"errors"`
	// Owners count each owner's accounts, findings and failed cells (owners.go), most critical first.
	Owners []OwnerCounts `json:"owners"`
	// ErrorsOmitted and SkippedOmitted count the last errors and skipped accounts left out of this JSON to fit a
	// size limit, once every finding is out; Accounts and Coverage still count them, the workbook lists them.
	ErrorsOmitted  int                    `json:"errors_omitted,omitempty"`
	Skipped        []crossaccount.Skipped `json:"skipped"`
	SkippedOmitted int                    `json:"skipped_omitted,omitempty"`
	// checks are the checks the run ran, by name: how the digest shows their findings (Layout, DigestDetail).
	checks map[string]checks.Check

	// ownerWarning is the one of Warnings that counts the run's unknown owner tags; an owner's digest counts only its
	// own accounts' instead (ForOwner).
	ownerWarning string

	// Cells back the Coverage sheet; they are left out of the JSON, which at ten thousand accounts would pass the
	// Lambda response limit. Their counts are in Coverage.
	// Clean cells are counts in it, not rows (crossaccount.Cells).
	Cells crossaccount.Cells `json:"-"`
	// AccountList are the accounts in scope (with their owner and OU), which Accounts counts; left out of the JSON
	// for the same reason as Cells.
	AccountList []crossaccount.Account `json:"-"`
}

// Delivered is the delivery's record of a run: where the workbook went and what was sent. internal/delivery returns
// it; the renderers read the link and the owners past the cap from it.
type Delivered struct {
	Report    *Location `json:"report,omitempty"`
	Published bool      `json:"published"`
	MessageID string    `json:"message_id,omitempty"`
	// AlreadyPublished says another invocation of this run sent the digest, so this one did not.
	AlreadyPublished bool `json:"already_published,omitempty"`
	// OwnerDigests says what the run did about the owners' digests of their own; nil when it published none (no
	// topic, a dry run).
	OwnerDigests *OwnerDigests `json:"owner_digests,omitempty"`
	// Emailed lists the run's emails through SES, the organization's first, then each owner's.
	Emailed []Emailed `json:"emailed,omitempty"`
}

// Memory is what the run knew of the one before it: the diff, the suppressions, the trend and the warnings they
// gave. The job's recall step fills it once.
type Memory struct {
	// PreviousRunID is empty on a first run, and NoPrevious then says why there was nothing to compare with ("no
	// previous run to compare with: ..."); Changes is nil when history was not used at all (-no-history).
	PreviousRunID   string     `json:"previous_run_id,omitempty"`
	PreviousRunTime *time.Time `json:"previous_run_time,omitempty"`
	NoPrevious      string     `json:"no_previous,omitempty"`
	Changes         *Changes   `json:"changes,omitempty"`
	// Resolved are the previous run's findings that are gone from a cell that ran cleanly (or whose account left the
	// scope); Unverified those whose cell failed or was cut this run: never called fixed.
	Resolved   []history.Resolved   `json:"resolved,omitempty"`
	Unverified []history.Unverified `json:"unverified,omitempty"`
	// Suppressed findings are left out of Findings, the counts and the subject; they are listed here and in the
	// workbook's Suppressed sheet with the rule that matched.
	Suppressed []SuppressedFinding `json:"suppressed,omitempty"`
	// ResolvedOmitted, UnverifiedOmitted and SuppressedOmitted count the rows of those lists left out of this JSON to
	// fit a size limit (FitJSON); Changes still counts them all, the workbook lists them.
	ResolvedOmitted   int `json:"resolved_omitted,omitempty"`
	UnverifiedOmitted int `json:"unverified_omitted,omitempty"`
	SuppressedOmitted int `json:"suppressed_omitted,omitempty"`
	// RecoveredSinceLastRun are the failed stacks an event-driven alert told of since the previous run that this run
	// found no longer failing, their cells having run: each is listed by the one run whose window holds its alert.
	// AlertedNotRechecked are those whose cells failed or were not audited this run, and StackSet instances no check
	// reads: never called recovered.
	RecoveredSinceLastRun []AlertedStack `json:"recovered_since_last_run,omitempty"`
	AlertedNotRechecked   []AlertedStack `json:"alerted_not_rechecked,omitempty"`
	// AlertsSince is where the window of those two lists starts, set when either lists a stack: the previous run's
	// time, or an earlier run's when the previous run left an account out, or the history's lookback without one.
	AlertsSince *time.Time `json:"alerts_since,omitempty"`
	// EscalatedFrom is the severity the previous run gave each escalated finding (history.Tracked's
	// PreviousSeverity), by identity, so the digest can say "escalated from warning". A finding's own fields say only
	// that it escalated.
	EscalatedFrom map[history.Identity]checks.Severity `json:"-"`
	// SuppressionRules says which rules expired since the previous run, expire within 7 days, or matched nothing.
	SuppressionRules history.SuppressionReport `json:"-"`
	// Warnings are problems that changed what the run could say but did not stop it (a bad suppressions file, an
	// unreadable history); the digest's first lines repeat them.
	Warnings []string `json:"warnings,omitempty"`
	// Trend is one summary per stored run of the last 90 days, oldest first, this run included: the Trend sheet.
	Trend []history.Summary `json:"-"`
	// DigestChangesOnly shows open items in the digest only as counts per check (-digest changes, AUDIT_DIGEST).
	DigestChangesOnly bool `json:"-"`
}

// AlertedStack is a failed stack an event-driven alert told its owner of, as its alert record says it: where, its
// status and reason when it failed, and when the alert went out.
type AlertedStack struct {
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name,omitempty"`
	Region      string `json:"region"`
	StackName   string `json:"stack_name"`
	// StackSet names the StackSet of a stack instance's alert; "" for a stack's.
	StackSet  string    `json:"stack_set,omitempty"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	AlertedAt time.Time `json:"alerted_at"`
	// NotRechecked says why this run could not look at the stack again (its cell's error, or that the cell was not
	// audited); set in alerted_not_rechecked only.
	NotRechecked string `json:"not_rechecked,omitempty"`
}

// check is the check that found f: one the run ran, or else the registry's of that name (a Result decoded from JSON).
func (r *Result) check(name string) (checks.Check, bool) {
	if c, ok := r.checks[name]; ok {
		return c, true
	}
	return checks.ByName(name)
}

// OwnerDigests is what became of the owners' digests: each owner with findings or failed cells (Owners) gets one,
// up to Cap a run; the rest are named in the organization's digest.
type OwnerDigests struct {
	Owners int `json:"owners"`
	Cap    int `json:"cap"`
	// Sent this invocation; AlreadySent by another invocation of the run. InProgress is always 0: a live claim of
	// another invocation is waited out (internal/delivery), never left as this run's outcome; kept for the JSON.
	Sent        int                  `json:"sent"`
	AlreadySent int                  `json:"already_sent"`
	InProgress  int                  `json:"in_progress"`
	Failed      []OwnerDigestFailure `json:"failed,omitempty"`
	// PastCap are the owners past the cap, most severe first: no digest of their own this run.
	PastCap []string `json:"past_cap,omitempty"`
}

// OwnerDigestFailure is an owner's digest that could not be sent; a retry of the run sends it.
type OwnerDigestFailure struct {
	Owner string `json:"owner"`
	Error string `json:"error"`
}

// Changes counts the diff against the previous run; suppressed findings count only under Suppressed.
type Changes = history.Changes

// SuppressedFinding is a finding a suppression rule holds back, with the rule.
type SuppressedFinding struct {
	checks.Finding
	Suppression *history.Suppression `json:"suppression"`
}

// AccountCounts says how many accounts were in scope and how each fared. An account is audited when every one of
// its cells ran, partial when some did, failed when none did.
type AccountCounts struct {
	Total   int `json:"total"`
	Audited int `json:"audited"`
	Partial int `json:"partial"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// CoverageCounts counts account × region × check cells by outcome.
type CoverageCounts struct {
	Cells    int `json:"cells"`
	Findings int `json:"findings"`
	Clean    int `json:"clean"`
	Errors   int `json:"errors"`
}

// CheckCounts counts one check's findings by severity.
type CheckCounts struct {
	Check    string `json:"check"`
	Title    string `json:"title"`
	Critical int    `json:"critical"`
	Warning  int    `json:"warning"`
	Notice   int    `json:"notice"`
}

// count adds one finding of severity sev.
func (cc *CheckCounts) count(sev checks.Severity) {
	switch sev {
	case checks.Critical:
		cc.Critical++
	case checks.Warning:
		cc.Warning++
	case checks.Notice:
		cc.Notice++
	}
}

// Location is where the workbook went.
type Location struct {
	Bucket       string     `json:"bucket,omitempty"`
	Key          string     `json:"key,omitempty"`
	URL          string     `json:"url,omitempty"`
	URLExpiresAt *time.Time `json:"url_expires_at,omitempty"`
	// URLNote explains a link that dies early, e.g. with the role session that signed it.
	URLNote    string `json:"url_note,omitempty"`
	ConsoleURL string `json:"console_url,omitempty"`
	Path       string `json:"path,omitempty"` // a local file, for -dry-run and the demo
	// NotUploaded says why the workbook is not in S3 (a dry run, no bucket). The digest says it, never Path: a path
	// on the machine that ran the audit means nothing in a mail.
	NotUploaded string `json:"not_uploaded,omitempty"`
}

// Build summarises a fan-out.
func Build(runID string, asOf time.Time, regions []string, cs []checks.Check, fan *crossaccount.Result) *Result {
	r := &Result{Facts: Facts{
		RunID: runID, AsOf: asOf.UTC(), Scope: fan.Scope, OwnAccountOnly: fan.OwnAccountOnly, Regions: regions,
		Findings: fan.Findings, Errors: fan.Failures, Skipped: fan.Skipped, Cells: fan.Cells,
	}}
	if r.Findings == nil {
		r.Findings = []checks.Finding{}
	}
	if r.Errors == nil {
		r.Errors = []crossaccount.Failure{}
	}
	if r.Skipped == nil {
		r.Skipped = []crossaccount.Skipped{}
	}
	r.checks = map[string]checks.Check{}
	for _, c := range cs {
		r.checks[c.Name()] = c
		r.Checks = append(r.Checks, c.Name())
		r.Counts = append(r.Counts, CheckCounts{Check: c.Name(), Title: c.Title()})
	}
	r.AccountList = fan.Accounts
	r.countFindings()
	r.USDPerMonthAtRisk = SumAtRisk(r.Findings)
	r.countCoverage(fan.Accounts)
	r.setPartial(runWideReasons(fan.ListingIncomplete, fan.OwnAccountOnly))
	r.Owners = ownerCounts(fan, r.Findings)
	if w := ownerWarning(fan.OwnerStats); w != "" {
		r.Warnings = append(r.Warnings, w)
		r.ownerWarning = w
	}
	return r
}

// countFindings fills Counts (one entry per check, already named) from Findings.
func (r *Result) countFindings() {
	byCheck := map[string]*CheckCounts{}
	for i := range r.Counts {
		byCheck[r.Counts[i].Check] = &r.Counts[i]
	}
	for _, f := range r.Findings {
		cc := byCheck[f.Check]
		if cc == nil {
			continue
		}
		cc.count(f.Severity)
	}
}

// countCoverage fills Coverage from Cells, and Accounts from accounts (those in scope) and Skipped.
func (r *Result) countCoverage(accounts []crossaccount.Account) {
	ok, bad := map[string]int{}, map[string]int{}
	for c := range r.Cells.All() {
		r.Coverage.Cells++
		switch c.Outcome {
		case crossaccount.OutcomeFindings:
			r.Coverage.Findings++
			ok[c.AccountID]++
		case crossaccount.OutcomeClean:
			r.Coverage.Clean++
			ok[c.AccountID]++
		default:
			r.Coverage.Errors++
			bad[c.AccountID]++
		}
	}
	r.Accounts.Total = len(accounts)
	r.Accounts.Skipped = len(r.Skipped)
	for _, a := range accounts {
		switch {
		case bad[a.ID] == 0 && ok[a.ID] > 0:
			r.Accounts.Audited++
		case ok[a.ID] > 0:
			r.Accounts.Partial++
		default:
			// No cell at all (the set-up never ran) counts as failed too: never as audited.
			r.Accounts.Failed++
		}
	}
}

// Totals counts all findings by severity.
func (r *Result) Totals() (critical, warning, notice int) {
	for _, c := range r.Counts {
		critical += c.Critical
		warning += c.Warning
		notice += c.Notice
	}
	return
}

// Omitted counts the rows FitJSON left out.
type Omitted struct{ Findings, Errors, Skipped, Resolved, Unverified, Suppressed int }

// Any says something was left out.
func (o Omitted) Any() bool {
	return o.Findings+o.Errors+o.Skipped+o.Resolved+o.Unverified+o.Suppressed > 0
}

// FitJSON returns r as JSON of at most limit bytes and what it left out. It leaves out, as it must and in this
// order, the last suppressed findings (accepted, with an owner), the last resolved ones (good news), the least severe
// open findings, the last unverified ones, the last errors, then the last skipped accounts: what the run could not
// read goes last, as an auditor must never drop it before what it could. Each list's count of rows left out is in
// the JSON (SuppressedOmitted, ResolvedOmitted, FindingsOmitted, UnverifiedOmitted, ErrorsOmitted, SkippedOmitted):
// the counts (accounts, coverage, per check, changes) are always whole, and the workbook has every row. r is not
// changed.
func FitJSON(r *Result, limit int) ([]byte, Omitted, error) {
	b, err := json.Marshal(r)
	if err != nil || len(b) <= limit {
		return b, Omitted{}, err
	}
	trimmed := *r
	// Each list is cut in turn, to nothing if need be, before the next is touched.
	lists := []struct {
		n   int
		cut func(keep int)
	}{
		{len(r.Suppressed), func(keep int) {
			trimmed.Suppressed, trimmed.SuppressedOmitted = r.Suppressed[:keep], len(r.Suppressed)-keep
		}},
		{len(r.Resolved), func(keep int) { trimmed.Resolved, trimmed.ResolvedOmitted = r.Resolved[:keep], len(r.Resolved)-keep }},
		{len(r.Findings), func(keep int) { trimmed.Findings, trimmed.FindingsOmitted = r.Findings[:keep], len(r.Findings)-keep }},
		{len(r.Unverified), func(keep int) {
			trimmed.Unverified, trimmed.UnverifiedOmitted = r.Unverified[:keep], len(r.Unverified)-keep
		}},
		{len(r.Errors), func(keep int) { trimmed.Errors, trimmed.ErrorsOmitted = r.Errors[:keep], len(r.Errors)-keep }},
		{len(r.Skipped), func(keep int) { trimmed.Skipped, trimmed.SkippedOmitted = r.Skipped[:keep], len(r.Skipped)-keep }},
	}
	for _, l := range lists {
		for keep := l.n; keep > 0; {
			// Shrink in proportion to the excess, then by a tenth, so a few marshals suffice even for a million rows.
			keep = max(min(keep*limit/len(b), keep-keep/10-1), 0)
			l.cut(keep)
			if b, err = json.Marshal(&trimmed); err != nil || len(b) <= limit {
				return b, trimmed.omitted(), err
			}
		}
	}
	return nil, Omitted{}, fmt.Errorf("the result is %d bytes without any findings, errors, skipped accounts, resolved, unverified or suppressed findings; the limit is %d", len(b), limit)
}

func (r *Result) omitted() Omitted {
	return Omitted{Findings: r.FindingsOmitted, Errors: r.ErrorsOmitted, Skipped: r.SkippedOmitted,
		Resolved: r.ResolvedOmitted, Unverified: r.UnverifiedOmitted, Suppressed: r.SuppressedOmitted}
}
