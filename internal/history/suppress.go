package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// MaxSuppressionsBytes bounds the suppressions file: it is read whole, and a file of a megabyte is a mistake.
const MaxSuppressionsBytes = 1 << 20

// MaxExpiryDays is how far after the run a rule may expire: a suppression is a decision to revisit, not to forget.
const MaxExpiryDays = 366

// ExpiringWithin is how soon a rule's end must be for the digest to name it as expiring.
const ExpiringWithin = 7 * 24 * time.Hour

// Rule is one entry of the suppressions file. Empty AccountID, Region or ResourceID match any.
type Rule struct {
	Check      string `json:"check"`
	AccountID  string `json:"account_id,omitempty"`
	Region     string `json:"region,omitempty"`
	ResourceID string `json:"resource_id,omitempty"` // exact, or a glob where * matches any run of characters
	Reason     string `json:"reason"`
	Owner      string `json:"owner"`
	// Expires is the last day the rule suppresses, midnight UTC.
	Expires time.Time `json:"expires"`
	// Line is where the rule starts in the file.
	Line int `json:"line"`
}

// Until is when the rule stops suppressing: the start of the day after Expires (UTC).
func (r Rule) Until() time.Time { return r.Expires.AddDate(0, 0, 1) }

// Active says whether the rule suppresses at t.
func (r Rule) Active(t time.Time) bool { return t.Before(r.Until()) }

// Matches says whether the rule names f, whatever the date.
func (r Rule) Matches(f checks.Finding) bool {
	return r.Check == f.Check && (r.AccountID == "" || r.AccountID == f.AccountID) &&
		(r.Region == "" || r.Region == f.Region) && (r.ResourceID == "" || globMatch(r.ResourceID, f.ResourceID))
}

// Suppression is what a suppressed finding shows of its rule.
type Suppression struct {
	Reason  string `json:"reason"`
	Owner   string `json:"owner"`
	Expires string `json:"expires"` // YYYY-MM-DD
	Line    int    `json:"-"`
}

func (r Rule) suppression() *Suppression {
	return &Suppression{Reason: r.Reason, Owner: r.Owner, Expires: r.Expires.Format(time.DateOnly), Line: r.Line}
}

// Suppressions are the rules of one file, in file order.
type Suppressions struct {
	Rules []Rule
}

// Match returns the first rule active at t that matches f, or nil.
func (s *Suppressions) Match(f checks.Finding, t time.Time) *Rule {
	if s == nil {
		return nil
	}
	for i, r := range s.Rules {
		if r.Active(t) && r.Matches(f) {
			return &s.Rules[i]
		}
	}
	return nil
}

// SuppressionReport says what the digest and the workbook tell about the rules.
type SuppressionReport struct {
	// Expired are the rules whose end has passed: valid, no longer suppressing.
	Expired []Rule
	// ExpiredSinceLast are the expired rules that ended after the previous run (all expired ones on a first run
	// would be old news, so none then).
	ExpiredSinceLast []Rule
	// ExpiringSoon are active rules that end within ExpiringWithin.
	ExpiringSoon []Rule
	// Stale are active rules that matched no finding this run.
	Stale []Rule
}

// matching tracks which active rules matched during one Diff.
type matching struct {
	s    *Suppressions
	at   time.Time
	used []bool
}

func (s *Suppressions) matcher(at time.Time) *matching {
	return &matching{s: s, at: at, used: make([]bool, len(s.Rules))}
}

func (m *matching) match(f checks.Finding) *Suppression {
	for i, r := range m.s.Rules {
		if r.Active(m.at) && r.Matches(f) {
			m.used[i] = true
			return r.suppression()
		}
	}
	return nil
}

func (m *matching) report(previous time.Time) SuppressionReport {
	var rep SuppressionReport
	for i, r := range m.s.Rules {
		switch {
		case !r.Active(m.at):
			rep.Expired = append(rep.Expired, r)
			if !previous.IsZero() && r.Until().After(previous) {
				rep.ExpiredSinceLast = append(rep.ExpiredSinceLast, r)
			}
		default:
			if r.Until().Sub(m.at) <= ExpiringWithin {
				rep.ExpiringSoon = append(rep.ExpiringSoon, r)
			}
			if !m.used[i] {
				rep.Stale = append(rep.Stale, r)
			}
		}
	}
	return rep
}

// Report matches the rules against findings at t without a diff: what `audit suppressions check` can say offline.
func (s *Suppressions) Report(findings []checks.Finding, t, previous time.Time) SuppressionReport {
	m := s.matcher(t)
	for _, f := range findings {
		m.match(f)
	}
	return m.report(previous)
}

// globMatch matches s against a pattern where * stands for any run of characters, and nothing else is special
// (path.Match would give ?, [ and \ meanings that resource ids can hold).
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// InvalidError is a suppressions file that cannot be used, with every reason found.
type InvalidError struct {
	Problems []Problem
}

// Problem is one reason a suppressions file is bad; Line is 0 when the library gave none.
type Problem struct {
	Line    int
	Message string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return p.Message
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	b.WriteString("suppressions file is invalid: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

type ruleDoc struct {
	Check      string `yaml:"check"`
	AccountID  string `yaml:"account_id"`
	Region     string `yaml:"region"`
	ResourceID string `yaml:"resource_id"`
	Reason     string `yaml:"reason"`
	Owner      string `yaml:"owner"`
	Expires    string `yaml:"expires"`
}

var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
)

// ReadSuppressions reads a suppressions file from r (at most MaxSuppressionsBytes) and parses it.
func ReadSuppressions(r io.Reader, now time.Time, knownChecks []string) (*Suppressions, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSuppressionsBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read suppressions file: %w", err)
	}
	if len(data) > MaxSuppressionsBytes {
		return nil, &InvalidError{Problems: []Problem{{Message: fmt.Sprintf("file is larger than %d bytes", MaxSuppressionsBytes)}}}
	}
	return ParseSuppressions(data, now, knownChecks)
}

// Validate checks a suppressions file as a run at now would: nil, or an *InvalidError with every reason.
func Validate(data []byte, now time.Time, knownChecks []string) error {
	_, err := ParseSuppressions(data, now, knownChecks)
	return err
}

// ParseSuppressions reads the YAML file strictly: an unknown field, a missing check, reason, owner or expires, an
// unknown check (knownChecks; nil means checks.Names()), a malformed account id or region, or an expiry more than
// MaxExpiryDays after now is an *InvalidError listing every problem with its line. A rule whose expiry has passed is
// valid: it no longer suppresses and is reported as expired. The caller proceeds with no suppressions on error.
func ParseSuppressions(data []byte, now time.Time, knownChecks []string) (*Suppressions, error) {
	if knownChecks == nil {
		knownChecks = checks.Names()
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, &InvalidError{Problems: []Problem{yamlProblem(err)}}
	}
	if len(file.Docs) > 1 {
		return nil, &InvalidError{Problems: []Problem{{Line: line(file.Docs[1]), Message: "more than one YAML document"}}}
	}
	s := &Suppressions{}
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return s, nil
	}
	var problems []Problem
	top, ok := pairs(file.Docs[0].Body)
	if !ok {
		return nil, &InvalidError{Problems: []Problem{{Line: line(file.Docs[0].Body), Message: "want a mapping with the key suppressions"}}}
	}
	var list ast.Node
	for _, kv := range top {
		switch key := kv.Key.String(); key {
		case "suppressions":
			list = kv.Value
		default:
			problems = append(problems, Problem{Line: line(kv.Key), Message: fmt.Sprintf("unknown field %q (the file holds only suppressions)", key)})
		}
	}
	var items []ast.Node
	switch v := list.(type) {
	case nil, *ast.NullNode:
	case *ast.SequenceNode:
		items = v.Values
	default:
		problems = append(problems, Problem{Line: line(list), Message: "suppressions must be a list of rules"})
	}
	today := dayOf(now)
	for i, item := range items {
		at := line(item)
		where := fmt.Sprintf("rule %d: ", i+1)
		var doc ruleDoc
		if err := yaml.NodeToValue(item, &doc, yaml.Strict()); err != nil {
			p := yamlProblem(err)
			p.Message = where + p.Message
			if p.Line == 0 {
				p.Line = at
			}
			problems = append(problems, p)
			continue
		}
		r := Rule{Check: doc.Check, AccountID: doc.AccountID, Region: doc.Region, ResourceID: doc.ResourceID,
			Reason: strings.TrimSpace(doc.Reason), Owner: strings.TrimSpace(doc.Owner), Line: at}
		add := func(msg string, args ...any) {
			problems = append(problems, Problem{Line: at, Message: where + fmt.Sprintf(msg, args...)})
		}
		switch {
		case r.Check == "":
			add("check is required")
		case !slices.Contains(knownChecks, r.Check):
			add("unknown check %q (known: %s)", r.Check, strings.Join(knownChecks, ", "))
		}
		if r.AccountID != "" && !accountIDPattern.MatchString(r.AccountID) {
			add("account_id %q is not 12 digits", r.AccountID)
		}
		if r.Region != "" && !regionPattern.MatchString(r.Region) {
			add("region %q is not a region name like us-east-1", r.Region)
		}
		if r.Reason == "" {
			add("reason is required")
		}
		if r.Owner == "" {
			add("owner is required")
		}
		if doc.Expires == "" {
			add("expires is required")
		} else if d, err := time.Parse(time.DateOnly, doc.Expires); err != nil {
			add("expires %q is not a date like 2026-12-31", doc.Expires)
		} else if latest := today.AddDate(0, 0, MaxExpiryDays); d.After(latest) {
			add("expires %s is more than %d days after %s (latest %s)", doc.Expires, MaxExpiryDays, today.Format(time.DateOnly), latest.Format(time.DateOnly))
		} else {
			r.Expires = d
		}
		s.Rules = append(s.Rules, r)
	}
	if len(problems) > 0 {
		return nil, &InvalidError{Problems: problems}
	}
	return s, nil
}

func dayOf(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// pairs returns a mapping's key-value pairs; the library parses a one-pair mapping as a bare MappingValueNode.
func pairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

func line(n ast.Node) int {
	if n == nil || n.GetToken() == nil || n.GetToken().Position == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

// yamlProblem turns a library error into a one-line problem with its line, without the source excerpt.
func yamlProblem(err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) {
		p := Problem{Message: strings.TrimSpace(ye.GetMessage())}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			p.Line = tk.Position.Line
		}
		return p
	}
	msg := err.Error()
	if i := bytes.IndexByte([]byte(msg), '\n'); i >= 0 {
		msg = msg[:i]
	}
	return Problem{Message: msg}
}
