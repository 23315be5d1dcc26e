package report

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// NoticeSchema names the shape of Notice. A reader checks it; a change that could break one (a field renamed,
// removed or given another meaning) takes a new version, while new fields may join this one.
const NoticeSchema = "orgaudit.notice/v1"

// Audiences of a digest: the message attribute "audience" subscriptions filter on, and Notice's audience.
const (
	AudienceOrganization = "organization"
	AudienceOwner        = "owner"
)

// Audience is whom r is for: the organization, or one owner (ForOwner).
func Audience(r *Result) string {
	if r.Owner != "" {
		return AudienceOwner
	}
	return AudienceOrganization
}

// maxNoticeFindings is how many of the most severe findings a Notice carries; the workbook has them all.
const maxNoticeFindings = 20

// Notice is the digest for automation (the sqs and lambda bodies): the run, whom it is for, the counts, the money at
// risk, the changes, the most severe findings (a commitment with its money) and where the workbook is. Text from AWS is cut to bounds, so a Notice stays small
// (about 20 KB at most) whatever the organization holds.
type Notice struct {
	Schema   string    `json:"schema"`
	RunID    string    `json:"run_id"`
	AsOf     time.Time `json:"as_of"`
	Audience string    `json:"audience"`
	Owner    string    `json:"owner,omitempty"`
	// Partial: something the run set out to audit was not audited; PartialReasons say what and why, as the result's
	// do. Narrowed says how the run was narrowed by choice, which is not partial.
	Partial        bool            `json:"partial"`
	PartialReasons []PartialReason `json:"partial_reasons,omitempty"`
	Narrowed       string          `json:"narrowed,omitempty"`
	Accounts       AccountCounts   `json:"accounts"`
	Coverage       CoverageCounts  `json:"coverage"`
	Findings       SeverityCounts  `json:"findings"`
	// USDPerMonthAtRisk is the result's usd_per_month_at_risk (for an owner, that owner's commitments only); absent
	// when the run has no commitment findings.
	USDPerMonthAtRisk *AtRisk `json:"usd_per_month_at_risk,omitempty"`
	// Changes are against PreviousRunID; absent without history, and on a first run (nothing to compare with).
	Changes       *Changes `json:"changes,omitempty"`
	PreviousRunID string   `json:"previous_run_id,omitempty"`
	// TopFindings are the most severe open findings, most severe first, then new, escalated and ongoing, then soonest
	// end (the chat card's order); TopFindingsOmitted counts the rest.
	TopFindings        []NoticeFinding `json:"top_findings"`
	TopFindingsOmitted int             `json:"top_findings_omitted"`
	Workbook           *NoticeWorkbook `json:"workbook,omitempty"`
	// OwnersPastCap are the owners who got no digest of their own (the organization's notice only).
	OwnersPastCap int `json:"owners_past_cap,omitempty"`
	// RecoveredSinceLastRun and AlertedNotRechecked count the result's lists of those names.
	RecoveredSinceLastRun int `json:"recovered_since_last_run,omitempty"`
	AlertedNotRechecked   int `json:"alerted_not_rechecked,omitempty"`
}

// SeverityCounts counts open findings by severity; Suppressed ones are apart.
type SeverityCounts struct {
	Critical   int `json:"critical"`
	Warning    int `json:"warning"`
	Notice     int `json:"notice"`
	Suppressed int `json:"suppressed"`
}

// NoticeFinding is one finding in a Notice.
type NoticeFinding struct {
	Severity     checks.Severity `json:"severity"`
	Check        string          `json:"check"`
	AccountID    string          `json:"account_id"`
	AccountName  string          `json:"account_name,omitempty"`
	Owner        string          `json:"owner,omitempty"`
	OU           string          `json:"ou,omitempty"`
	Region       string          `json:"region"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	ResourceName string          `json:"resource_name,omitempty"`
	Status       string          `json:"status,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	ExpiresAt    *time.Time      `json:"expires_at,omitempty"`
	DaysLeft     *int            `json:"days_left,omitempty"`
	// Change is new, escalated or ongoing when the run compared with a previous one.
	Change     string `json:"change,omitempty"`
	ConsoleURL string `json:"console_url,omitempty"`
	// AlertedAt is when an event-driven alert told of it since the previous run, as the result's.
	AlertedAt *time.Time `json:"alerted_at,omitempty"`
	// Money is a commitment's, as in the result (usd_per_month, usd_per_month_at_risk, price_unknown, ...); a
	// finding that is no commitment has none of these fields.
	*checks.Money
}

// NoticeWorkbook is where the workbook is. URL, a presigned link, is only in the organization's notice (ForOwner
// leaves it out); NotUploaded says why there is none.
type NoticeWorkbook struct {
	Bucket       string     `json:"bucket,omitempty"`
	Key          string     `json:"key,omitempty"`
	URL          string     `json:"url,omitempty"`
	URLExpiresAt *time.Time `json:"url_expires_at,omitempty"`
	ConsoleURL   string     `json:"console_url,omitempty"`
	NotUploaded  string     `json:"not_uploaded,omitempty"`
}

// NoticeOf is r's Notice.
func NoticeOf(r *Result) Notice {
	crit, warn, notice := r.Totals()
	n := Notice{Schema: NoticeSchema, RunID: r.RunID, AsOf: r.AsOf, Audience: Audience(r), Owner: r.Owner, Partial: r.Partial,
		Accounts: r.Accounts, Coverage: r.Coverage,
		Findings:    SeverityCounts{Critical: crit, Warning: warn, Notice: notice, Suppressed: len(r.Suppressed)},
		TopFindings: []NoticeFinding{}}
	for _, p := range r.PartialReasons {
		n.PartialReasons = append(n.PartialReasons, PartialReason{Reason: truncate(p.Reason, maxNameBytes), Cells: p.Cells,
			Error: truncate(p.Error, maxMessageBytes), Detail: truncate(p.Detail, maxReasonBytes)})
	}
	n.Narrowed = truncate(r.Narrowed, maxScopeBytes)
	if a := r.USDPerMonthAtRisk; a != nil {
		c := *a
		c.OtherCurrencies = nil
		for _, o := range a.OtherCurrencies {
			c.OtherCurrencies = append(c.OtherCurrencies, CurrencyAtRisk{Currency: truncate(o.Currency, maxNameBytes), Total: o.Total})
		}
		n.USDPerMonthAtRisk = &c
	}
	if r.compared() {
		ch := *r.Changes
		n.Changes, n.PreviousRunID = &ch, r.PreviousRunID
	}
	// The chat card's order (chatOrder): the day's new findings are not left past the bound by their account id.
	for _, i := range chatOrder(r.Findings)[:min(len(r.Findings), maxNoticeFindings)] {
		f := &r.Findings[i]
		n.TopFindings = append(n.TopFindings, NoticeFinding{Severity: f.Severity, Check: f.Check,
			AccountID: truncate(f.AccountID, maxNameBytes), AccountName: truncate(f.AccountName, maxNameBytes),
			Owner: truncate(f.Owner, maxNameBytes), OU: truncate(f.OU, maxScopeBytes), Region: truncate(f.Region, maxNameBytes),
			ResourceType: truncate(f.ResourceType, maxNameBytes), ResourceID: truncate(f.ResourceID, maxNameBytes),
			ResourceName: truncate(f.ResourceName, maxNameBytes), Status: truncate(f.Status, maxNameBytes),
			Reason: truncate(f.Reason, maxReasonBytes), ExpiresAt: f.ExpiresAt, DaysLeft: f.DaysLeft, Change: f.Change, AlertedAt: f.AlertedAt,
			ConsoleURL: truncate(f.ConsoleURL, maxURLBytes), Money: noticeMoney(f.Money)})
	}
	n.TopFindingsOmitted = len(r.Findings) - len(n.TopFindings)
	n.RecoveredSinceLastRun, n.AlertedNotRechecked = len(r.RecoveredSinceLastRun), len(r.AlertedNotRechecked)
	if loc := r.Report; loc != nil {
		n.Workbook = &NoticeWorkbook{Bucket: loc.Bucket, Key: loc.Key, URL: loc.URL, URLExpiresAt: loc.URLExpiresAt,
			ConsoleURL: loc.ConsoleURL, NotUploaded: loc.NotUploaded}
	}
	if r.OwnerDigests != nil && r.Owner == "" {
		n.OwnersPastCap = len(r.OwnerDigests.PastCap)
	}
	return n
}

// noticeMoney is a copy of m with its text cut to bounds, as every text of a Notice is; nil for nil.
func noticeMoney(m *checks.Money) *checks.Money {
	if m == nil {
		return nil
	}
	c := *m
	c.PriceUnknown, c.AtRiskUnknown = truncate(m.PriceUnknown, maxReasonBytes), truncate(m.AtRiskUnknown, maxReasonBytes)
	if p := m.Price; p != nil {
		cp := *p
		cp.Currency, cp.Term, cp.PaymentOption = truncate(p.Currency, maxNameBytes), truncate(p.Term, maxNameBytes), truncate(p.PaymentOption, maxNameBytes)
		c.Price = &cp
	}
	if od := m.OnDemand; od != nil {
		cod := *od
		cod.OnDemandUnknown = truncate(od.OnDemandUnknown, maxReasonBytes)
		c.OnDemand = &cod
	}
	return &c
}

// maxURLBytes bounds a console link a check wrote; a presigned workbook link (some 1,500 bytes with a session
// token) is ours and is not cut.
const maxURLBytes = 2_000

// NoticeJSON is r's Notice as compact JSON.
func NoticeJSON(r *Result) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(NoticeOf(r)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
