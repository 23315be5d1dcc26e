// Package checks holds the read-only audits that run in one account and one region. Each check lives in its own file
// with a narrow client interface (the SDK paginators accept it) and knows nothing about accounts, roles or fan-out.
// It imports only internal/awserr, which classifies AWS's errors.
package checks

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Check is one read-only audit of one account in one region. Implementations are safe for concurrent use.
type Check interface {
	// Name is kebab-case and unique: the log field, the sheet name, the -checks value.
	Name() string
	// Title is the human heading used in the digest and the workbook.
	Title() string
	// Actions are the IAM actions Run calls; the member role grants exactly the union of these.
	Actions() []string
	// Layout declares how reports show the findings: whether they expire, and the columns their Details fill.
	Layout() Layout
	// DigestDetail is what the digest's line for f says after the resource: the one detail an engineer acts on
	// (a product and its version), or "". The report folds it to one line and bounds it.
	DigestDetail(f *Finding) string
	Run(ctx context.Context, t Target) ([]Finding, error)
}

// Layout is how reports show a check's findings, declared by the check beside the calls that fill them: a report
// renders any check from it without knowing the check.
type Layout struct {
	// Expiry says the findings are commitments that end (ExpiresAt, DaysLeft): the check's sheet shows Days left and
	// Expires, and the workbook's Commitments sheet lists them with every other check's.
	Expiry bool
	// Kind names what one finding is in a list that mixes checks, "EC2 reserved instance".
	Kind string
	// Columns are the Details each finding carries, in sheet order. A finding holds no detail not named here: its
	// details are keyed by the columns' IDs.
	Columns []Column
	// AccountWide says the check reads what an account holds once, not per region (Savings Plans): it runs once per
	// account, with Target.Region (and so its findings' Region) GlobalRegion, and coverage counts it as one cell.
	AccountWide bool
}

// GlobalRegion is the Region of an account-wide check's target, findings and cell: what it reads is in no region.
const GlobalRegion = "global"

// Column is one detail of a check's findings as a sheet shows it.
type Column struct {
	// ID is the column's stable name, snake_case and unique within the check: findings hold their details by it, in
	// memory and in history, so a new header (Name) loses nothing a stored run holds. Never change an ID.
	ID string
	// Name is the header the sheets and the JSON result show; it may change (say the old one in Formerly).
	Name string
	// Formerly are headers the column had before Name: a state of version 2, which kept details by header, reads
	// a detail under any of them back into this column.
	Formerly []string
	Kind     ColumnKind
	// Width is the most the column may take, in Excel's unit (widths of the digit 0); wider text wraps. Zero takes
	// the report's default. The column is otherwise fitted to what it holds.
	Width float64
	// Role says what the column means beside other checks' columns, for views that mix checks; "" for none.
	Role ColumnRole
	// Money says the column (KindNumber) is an amount of money, which the workbook writes in its one money format:
	// an upfront fee AWS reports as "100" shows as 100.00 beside the other amounts, not as a count.
	Money bool
}

// ColumnKind says how a detail's text is written: Details are strings, a cell has a type.
type ColumnKind string

const (
	// KindText is written as it is, always a text cell.
	KindText ColumnKind = "text"
	// KindDate holds RFC 3339 text, written as a real date.
	KindDate ColumnKind = "date"
	// KindNumber holds a decimal number, written as a number.
	KindNumber ColumnKind = "number"
	// KindLink holds an https URL, written as a hyperlink.
	KindLink ColumnKind = "link"
)

// ColumnRole names a column's meaning across checks. The commitment checks (Layout.Expiry) share these, so the
// Commitments sheet shows every kind of commitment in the same columns.
type ColumnRole string

const (
	// RoleType is what was bought: an instance or node type, a plan type.
	RoleType ColumnRole = "type"
	// RoleCount is how many units were bought (KindNumber).
	RoleCount ColumnRole = "count"
	// RoleCommitment is the money committed per hour, in USD (KindNumber): a Savings Plan's commitment.
	RoleCommitment ColumnRole = "commitment"
	// RoleRenewal says what takes over at the end, "" when nothing does.
	RoleRenewal ColumnRole = "renewal"
)

// textColumn, dateColumn and numberColumn declare columns tersely in the checks' files: id, then header.
func textColumn(id, name string) Column   { return Column{ID: id, Name: name, Kind: KindText} }
func dateColumn(id, name string) Column   { return Column{ID: id, Name: name, Kind: KindDate} }
func numberColumn(id, name string) Column { return Column{ID: id, Name: name, Kind: KindNumber} }
func moneyColumn(id, name string) Column {
	return Column{ID: id, Name: name, Kind: KindNumber, Money: true}
}

func (c Column) as(r ColumnRole) Column { c.Role = r; return c }
func (c Column) wide(w float64) Column  { c.Width = w; return c }

// Column is the declared column of that id, or nil.
func (l Layout) Column(id string) *Column {
	return l.column(func(c Column) bool { return c.ID == id })
}

// ByHeader is the column shown as header, or once shown as it (Formerly), or nil. A header that is one column's
// Name is that column's, whatever another's Formerly says.
func (l Layout) ByHeader(header string) *Column {
	if c := l.column(func(c Column) bool { return c.Name == header }); c != nil {
		return c
	}
	return l.column(func(c Column) bool { return slices.Contains(c.Formerly, header) })
}

// WithRole is the column that plays r, or nil.
func (l Layout) WithRole(r ColumnRole) *Column {
	return l.column(func(c Column) bool { return c.Role == r })
}

func (l Layout) column(match func(Column) bool) *Column {
	for i := range l.Columns {
		if match(l.Columns[i]) {
			return &l.Columns[i]
		}
	}
	return nil
}

// DetailTime formats a time for a KindDate detail.
func DetailTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// CheckDeclared reports what in f its check c did not declare: a detail that is not one of c's columns, a value its
// column's kind cannot read, an expiry on a check that does not report one. Reports rely on all three.
func CheckDeclared(c Check, f *Finding) error {
	l := c.Layout()
	var problems []string
	if f.Check != c.Name() {
		problems = append(problems, fmt.Sprintf("finding of check %q", f.Check))
	}
	for _, d := range f.DetailsByID() {
		k, v := d.ID, d.Value
		col := l.Column(k)
		if col == nil {
			problems = append(problems, fmt.Sprintf("detail %q is not a declared column", k))
			continue
		}
		if v == "" {
			continue
		}
		switch col.Kind {
		case KindDate:
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				problems = append(problems, fmt.Sprintf("date column %q holds %q, not RFC 3339", k, v))
			}
		case KindNumber:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				problems = append(problems, fmt.Sprintf("number column %q holds %q", k, v))
			}
		case KindLink:
			if !strings.HasPrefix(v, "https://") {
				problems = append(problems, fmt.Sprintf("link column %q holds %q, not an https URL", k, v))
			}
		case KindText:
		default:
			problems = append(problems, fmt.Sprintf("column %q is of kind %q, which reports do not know", k, col.Kind))
		}
	}
	if !l.Expiry && (f.ExpiresAt != nil || f.DaysLeft != nil) {
		problems = append(problems, "an expiry on a check whose Layout says it reports none")
	}
	if len(problems) > 0 {
		return fmt.Errorf("check %s, %s: %s", c.Name(), f.ResourceID, strings.Join(problems, "; "))
	}
	return nil
}

// Target is where a check runs: one account, one region, with credentials already set up for that account.
type Target struct {
	AccountID   string
	AccountName string
	Partition   string
	Region      string
	// Config carries the account's credentials and Region; checks build their SDK clients from it.
	Config aws.Config
	// AsOf is the audit's clock. Checks never read time.Now, so runs and tests are exact.
	AsOf   time.Time
	Limits Limits
}

// Limits are the thresholds that turn a state into a finding.
type Limits struct {
	// Expiry holds the day counts for critical, warning and notice, ascending.
	Expiry [3]int
	// StuckAfter is how long a Service Catalog product may stay UNDER_CHANGE or PLAN_IN_PROGRESS, and a
	// CloudFormation stack in a transitional state.
	StuckAfter time.Duration
	// LapsedDays is how long after its end an unrenewed reservation is still reported. AWS retires a reservation
	// at its end, so without this the day it lapses is the day it drops out of the report.
	LapsedDays int
}

// MaxLapsedDays bounds LapsedDays: a year of retired reservations is history, not news.
const MaxLapsedDays = 366

// DefaultLimits are the documented defaults: 7/30/60 days, 6 hours, and 30 days after a lapse.
func DefaultLimits() Limits {
	return Limits{Expiry: [3]int{7, 30, 60}, StuckAfter: 6 * time.Hour, LapsedDays: 30}
}

// Validate rejects thresholds that would hide or invent findings.
func (l Limits) Validate() error {
	e := l.Expiry
	if e[0] < 0 || e[0] >= e[1] || e[1] >= e[2] || e[2] > 3*366 {
		return fmt.Errorf("expiry days must be three ascending whole numbers between 0 and %d, got %d/%d/%d", 3*366, e[0], e[1], e[2])
	}
	if l.StuckAfter < time.Minute || l.StuckAfter > 30*24*time.Hour {
		return fmt.Errorf("stuck threshold must be between 1m and 720h, got %s", l.StuckAfter)
	}
	if l.LapsedDays < 1 || l.LapsedDays > MaxLapsedDays {
		return fmt.Errorf("lapsed days must be a whole number between 1 and %d, got %d", MaxLapsedDays, l.LapsedDays)
	}
	return nil
}

// ParseExpiryDays reads "7/30/60" or "7,30,60".
func ParseExpiryDays(s string) ([3]int, error) {
	var out [3]int
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == ',' })
	if len(parts) != 3 {
		return out, fmt.Errorf("expiry days %q: want three numbers like 7/30/60", s)
	}
	for i, p := range parts {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(p), "%d", &n); err != nil || fmt.Sprint(n) != strings.TrimSpace(p) {
			return out, fmt.Errorf("expiry days %q: %q is not a whole number", s, p)
		}
		out[i] = n
	}
	l := DefaultLimits()
	l.Expiry = out
	return out, l.Validate()
}

// Severity orders findings; the zero value is not a valid severity.
type Severity string

const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Notice   Severity = "notice"
)

// Severities lists every severity, most urgent first.
var Severities = []Severity{Critical, Warning, Notice}

// Rank is 0 for the most urgent.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return len(Severities)
}

// Finding is one thing that needs attention.
type Finding struct {
	Check       string   `json:"check"`
	Severity    Severity `json:"severity"`
	AccountID   string   `json:"account_id"`
	AccountName string   `json:"account_name"`
	// Owner and OU are the account's (crossaccount.Account), stamped by the fan-out; checks never set them.
	Owner        string     `json:"owner"`
	OU           string     `json:"ou"`
	Region       string     `json:"region"`
	ResourceType string     `json:"resource_type"`
	ResourceID   string     `json:"resource_id"`
	ResourceName string     `json:"resource_name,omitempty"`
	Status       string     `json:"status"`
	Reason       string     `json:"reason"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	DaysLeft     *int       `json:"days_left,omitempty"`
	ConsoleURL   string     `json:"console_url,omitempty"`
	// Details holds the check's Layout columns, by column ID, as text in each column's kind (details.go). Read and
	// write them with Detail and SetDetail. The JSON carries them by header, history by ID.
	Details Details `json:"details,omitzero"`
	// Money is what a commitment costs per month and what of it is at risk (money.go): set on every commitment
	// finding, nil on others. Embedded, so its fields are the finding's own in the JSON and absent when nil.
	*Money

	// Memory: what the runs before this one knew of the finding, filled by the job from internal/history. All three
	// are empty when the run has no history to compare with. Checks never set them.
	Change    string     `json:"change,omitempty"`     // new, escalated or ongoing
	FirstSeen *time.Time `json:"first_seen,omitempty"` // carried forward from the run that first found it
	AgeDays   *int       `json:"age_days,omitempty"`   // whole days from FirstSeen to this run
	// AlertedAt is when an event-driven alert told its owner of it since the previous run (internal/alert's
	// records), set by the job; nil when none did. Not kept in history: the next run's window starts after it.
	AlertedAt *time.Time `json:"alerted_at,omitempty"`
}

func (t Target) finding(check, resourceType, id string) Finding {
	return Finding{Check: check, AccountID: t.AccountID, AccountName: t.AccountName, Region: t.Region,
		ResourceType: resourceType, ResourceID: id}
}

// SortFindings orders by severity, then where (account, region, check), then soonest expiry, then resource, so the
// digest reads account by account and output is stable.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() < b.Severity.Rank()
		}
		for _, p := range [][2]string{{a.AccountID, b.AccountID}, {a.Region, b.Region}, {a.Check, b.Check}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		if da, db := daysOrMax(a.DaysLeft), daysOrMax(b.DaysLeft); da != db {
			return da < db
		}
		return a.ResourceID < b.ResourceID
	})
}

func daysOrMax(d *int) int {
	if d == nil {
		return int(^uint(0) >> 1)
	}
	return *d
}

// All returns every check in report order. The order is the registry: sheets, digest sections and -checks follow it.
func All() []Check {
	return []Check{
		ServiceCatalogProducts{},
		CloudFormationFailedStacks{},
		EC2ReservedInstances{},
		RDSReservedInstances{},
		ElastiCacheReservedNodes{},
		RedshiftReservedNodes{},
		SavingsPlans{},
		OpenSearchReservedInstances{},
		MemoryDBReservedNodes{},
	}
}

// ByName is the registered check of that name.
func ByName(name string) (Check, bool) {
	for _, c := range All() {
		if c.Name() == name {
			return c, true
		}
	}
	return nil, false
}

// Names lists the registered check names.
func Names() []string {
	var out []string
	for _, c := range All() {
		out = append(out, c.Name())
	}
	return out
}

// Select returns the named checks in registry order; an unknown name is an error that lists the known ones.
func Select(names []string) ([]Check, error) {
	if len(names) == 0 {
		return All(), nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []Check
	for _, c := range All() {
		if want[c.Name()] {
			out = append(out, c)
			delete(want, c.Name())
		}
	}
	if len(want) > 0 {
		var unknown []string
		for n := range want {
			unknown = append(unknown, n)
		}
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown check %s (known: %s)", strings.Join(unknown, ", "), strings.Join(Names(), ", "))
	}
	return out, nil
}

// DaysLeft counts whole calendar days from the as-of date to the expiry date, both taken in UTC, so a reservation that
// ends at noon in 18 days is "18 days" whatever hour the audit ran.
func DaysLeft(asOf, end time.Time) int {
	a := asOf.UTC()
	e := end.UTC()
	da := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	de := time.Date(e.Year(), e.Month(), e.Day(), 0, 0, 0, 0, time.UTC)
	return int(de.Sub(da).Hours() / 24)
}

// expirySeverity maps days left to a severity; ok is false beyond the last threshold.
func expirySeverity(days int, l Limits) (Severity, bool) {
	switch {
	case days <= l.Expiry[0]:
		return Critical, true
	case days <= l.Expiry[1]:
		return Warning, true
	case days <= l.Expiry[2]:
		return Notice, true
	}
	return "", false
}

// expiryFinding fills the fields every reservation finding shares.
func expiryFinding(f *Finding, asOf, end time.Time, l Limits) bool {
	days := DaysLeft(asOf, end)
	sev, ok := expirySeverity(days, l)
	if !ok {
		return false
	}
	endUTC := end.UTC()
	f.Severity, f.ExpiresAt, f.DaysLeft = sev, &endUTC, &days
	switch {
	case days < 0:
		f.Reason = fmt.Sprintf("expired %d days ago on %s", -days, endUTC.Format("2006-01-02"))
	case days == 0:
		f.Reason = "expires today " + endUTC.Format("2006-01-02 15:04 UTC")
	default:
		f.Reason = fmt.Sprintf("expires in %d days on %s", days, endUTC.Format("2006-01-02"))
	}
	return true
}

// lapsedWithin says whether a reservation that ended at end, as of asOf, is still news: ended, and at most
// l.LapsedDays calendar days ago. One whose end is still ahead but which AWS retired was exchanged or modified: its
// capacity lives on in another reservation. (EC2 reports such a one with End at the exchange or modification, in the
// past: endedEarly tells it from a lapse.)
func lapsedWithin(asOf, end time.Time, l Limits) bool {
	return !end.After(asOf) && DaysLeft(asOf, end) >= -l.LapsedDays
}

// notRenewed words a reservation that has ended with nothing to take its place.
func notRenewed(f *Finding, asOf, end time.Time) {
	endUTC := end.UTC()
	days := DaysLeft(asOf, end)
	f.Severity, f.ExpiresAt, f.DaysLeft = Critical, &endUTC, &days
	if days == 0 {
		f.Reason = "expired today " + endUTC.Format("2006-01-02 15:04 UTC") + ", not renewed"
		return
	}
	f.Reason = fmt.Sprintf("expired %d days ago on %s, not renewed", -days, endUTC.Format("2006-01-02"))
}

// renewalWindow is when a reservation bought outright must have started to count as the renewal of one ending at
// end: after the audit began to report the old one (Expiry[2] days before its end), and no later than the old end
// or, once it has lapsed, the audit's date. One bought earlier is a sibling that covers other instances.
func renewalWindow(asOf, end time.Time, l Limits) (from, to time.Time) {
	to = end
	if asOf.After(to) {
		to = asOf
	}
	return end.AddDate(0, 0, -l.Expiry[2]), to.Add(24 * time.Hour)
}

// unknownExpiry marks a reservation, active or retired, whose expiry AWS did not report in a form the audit reads: a
// warning, never a silent skip, since a reservation the audit could not date is not one it can call safe (nor, once
// retired, one it can call ended on purpose).
func unknownExpiry(f *Finding, missing string) {
	f.Severity = Warning
	f.Reason = "expiry unknown: AWS reported no " + missing + " for this " + f.Status + " reservation"
}

// recentPurchase says whether a purchase that was to start at start is still news: at most Limits.LapsedDays calendar
// days ago, or ahead.
func recentPurchase(t Target, start time.Time) bool {
	return !start.Before(t.AsOf.AddDate(0, 0, -t.Limits.LapsedDays))
}

// paymentFailed words a purchase whose payment failed: it is not in effect, though its buyer may count on it. what
// names it ("purchase", "plan"); start is when it was to start, nil when AWS did not say.
func paymentFailed(f *Finding, what string, start *time.Time) {
	f.Severity = Critical
	f.Reason = "payment failed: the " + what + " is not in effect"
	if start != nil {
		f.Reason = "payment failed: the " + what + " due to start " + start.UTC().Format("2006-01-02") + " is not in effect"
	}
}

// stateNotRecognised words a commitment in a state the check does not know (or an empty one): a warning with its
// data, never dropped, since the audit cannot tell whether it is in effect. end, when known, is when its term ends,
// said in the reason only: a commitment that may not be in effect does not count among those expiring.
func stateNotRecognised(f *Finding, state string, end *time.Time) {
	f.Severity = Warning
	f.Reason = fmt.Sprintf("state %q not recognised: neither counted as in effect nor as ended", state)
	if end != nil {
		f.Reason += "; its term ends " + end.UTC().Format("2006-01-02")
	}
}

// ConsoleHost is the AWS Management Console's host in a partition; regional consoles are its subdomains.
func ConsoleHost(partition string) string { return consoleHost(partition) }

func consoleHost(partition string) string {
	switch partition {
	case "aws-us-gov":
		return "console.amazonaws-us-gov.com"
	case "aws-cn":
		return "console.amazonaws.cn"
	}
	return "console.aws.amazon.com"
}
