package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// MaxSuppressionsBytes bounds the suppressions file: it is read whole, and a file of a megabyte is a mistake.
const MaxSuppressionsBytes = 1 << 20

// MaxSuppressionsDepth bounds how deep the file nests, judged before it is parsed: the file needs three levels (a
// mapping, its list, a rule), and a parser's cost grows with depth (64 KB of brackets once took 1.6 GB).
const MaxSuppressionsDepth = 16

// MaxSuppressionsEntries bounds the entries (list items, mapping values, flow collections) judged before parsing:
// a parser spends memory per node, and a file of tens of thousands of rules is a mistake.
const MaxSuppressionsEntries = 60_000

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

// matching tracks which active rules matched during one Diff. Its index is built once per run: each rule is read
// and its glob split once, and a finding is held only against the rules of its check, account and region.
type matching struct {
	s     *Suppressions
	at    time.Time
	used  []bool
	index map[ruleScope]*scopeRules
}

// ruleScope is where a rule applies; an empty account or region is any.
type ruleScope struct{ check, account, region string }

// scopeRules are the active rules of one scope, by rule index (lower wins).
type scopeRules struct {
	exact map[string]int // resource id -> first rule naming it exactly
	any   int            // first rule without a resource id, -1 when none
	globs []glob         // in rule order, one per distinct pattern
	// need holds each glob's literal fingerprint, beside the globs so that rejecting one costs a word compare in
	// memory read in order: 10,000 findings against a megabyte of glob rules is 10^8 pairs.
	need []fingerprint
}

// fingerprint is a 128-bit sketch of a string's bytes and byte triples: a glob can match s only when every bit of
// its literals' fingerprint is set in s's.
type fingerprint [2]uint64

func fingerprintOf(parts ...string) fingerprint {
	var f fingerprint
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			f[0] |= 1 << (p[i] & 63)
			if i+2 < len(p) {
				h := uint32(p[i])*0x9E3779B1 ^ uint32(p[i+1])*0x85EBCA77 ^ uint32(p[i+2])*0xC2B2AE3D
				f[1] |= 1 << (h >> 26)
			}
		}
	}
	return f
}

func (f fingerprint) within(of fingerprint) bool { return f[0]&^of[0] == 0 && f[1]&^of[1] == 0 }

// glob is a resource-id pattern split at its stars once.
type glob struct {
	rule           int
	prefix, suffix string
	middle         []string
	minLen         int
}

func compileGlob(rule int, pattern string) glob {
	parts := strings.Split(pattern, "*")
	g := glob{rule: rule, prefix: parts[0], suffix: parts[len(parts)-1]}
	for _, p := range parts[1 : len(parts)-1] {
		if p != "" {
			g.middle = append(g.middle, p)
		}
	}
	for _, p := range parts {
		g.minLen += len(p)
	}
	return g
}

// match is globMatch on the split pattern.
func (g *glob) match(s string) bool {
	if len(s) < g.minLen || !strings.HasPrefix(s, g.prefix) || !strings.HasSuffix(s, g.suffix) {
		return false
	}
	s = s[len(g.prefix) : len(s)-len(g.suffix)]
	for _, p := range g.middle {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

func (s *Suppressions) matcher(at time.Time) *matching {
	m := &matching{s: s, at: at, used: make([]bool, len(s.Rules)), index: map[ruleScope]*scopeRules{}}
	patterns := map[ruleScope]map[string]bool{}
	for i, r := range s.Rules {
		if !r.Active(at) {
			continue
		}
		scope := ruleScope{r.Check, r.AccountID, r.Region}
		sr := m.index[scope]
		if sr == nil {
			sr = &scopeRules{exact: map[string]int{}, any: -1}
			m.index[scope] = sr
			patterns[scope] = map[string]bool{}
		}
		switch {
		case r.ResourceID == "":
			if sr.any < 0 {
				sr.any = i
			}
		case !strings.Contains(r.ResourceID, "*"):
			if _, ok := sr.exact[r.ResourceID]; !ok {
				sr.exact[r.ResourceID] = i
			}
		case !patterns[scope][r.ResourceID]:
			// A later rule with the same pattern in the same scope can never be the first to match.
			patterns[scope][r.ResourceID] = true
			g := compileGlob(i, r.ResourceID)
			sr.globs = append(sr.globs, g)
			sr.need = append(sr.need, fingerprintOf(append([]string{g.prefix, g.suffix}, g.middle...)...))
		}
	}
	return m
}

// first returns the lowest-numbered active rule matching f, or -1.
func (m *matching) first(f checks.Finding) int {
	best := -1
	better := func(i int) bool { return i >= 0 && (best < 0 || i < best) }
	have := fingerprintOf(f.ResourceID)
	for _, account := range [2]string{f.AccountID, ""} {
		for _, region := range [2]string{f.Region, ""} {
			sr := m.index[ruleScope{f.Check, account, region}]
			if sr == nil {
				continue
			}
			if better(sr.any) {
				best = sr.any
			}
			if i, ok := sr.exact[f.ResourceID]; ok && better(i) {
				best = i
			}
			for gi, need := range sr.need {
				if !need.within(have) {
					continue
				}
				g := &sr.globs[gi]
				if best >= 0 && g.rule > best {
					break
				}
				if g.match(f.ResourceID) {
					best = g.rule
					break
				}
			}
			if region == "" {
				break
			}
		}
		if account == "" {
			break
		}
	}
	return best
}

func (m *matching) match(f checks.Finding) *Suppression {
	i := m.first(f)
	if i < 0 {
		return nil
	}
	m.used[i] = true
	return m.s.Rules[i].suppression()
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

// ruleFields are the fields a rule may hold.
var ruleFields = []string{"check", "account_id", "region", "resource_id", "reason", "owner", "expires"}

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

// ParseSuppressions reads the YAML file strictly: an unknown field, a missing check, reason, owner or expires, an
// unknown check (knownChecks; nil means checks.Names()), a malformed account id or region, or an expiry more than
// MaxExpiryDays after now is an *InvalidError listing every problem with its line. A rule whose expiry has passed is
// valid: it no longer suppresses and is reported as expired. The caller proceeds with no suppressions on error.
//
// The file's shape is judged before it is parsed (MaxSuppressionsBytes, MaxSuppressionsDepth,
// MaxSuppressionsEntries), so a file of any shape costs at most a few tens of megabytes and well under a second;
// a field's value must be written out, never an alias.
func ParseSuppressions(data []byte, now time.Time, knownChecks []string) (*Suppressions, error) {
	if knownChecks == nil {
		knownChecks = checks.Names()
	}
	if len(data) > MaxSuppressionsBytes {
		return nil, &InvalidError{Problems: []Problem{{Message: fmt.Sprintf("file is larger than %d bytes", MaxSuppressionsBytes)}}}
	}
	if p := scanShape(data); p != nil {
		return nil, &InvalidError{Problems: []Problem{*p}}
	}
	body, p := parseOneDocument(data)
	if p != nil {
		return nil, &InvalidError{Problems: []Problem{*p}}
	}
	s := &Suppressions{}
	if body == nil || isNull(body) {
		return s, nil
	}
	if body.Kind != yaml.MappingNode {
		return nil, &InvalidError{Problems: []Problem{{Line: body.Line, Message: "want a mapping with the key suppressions"}}}
	}
	var problems problemList
	var list *yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(body.Content); i += 2 {
		k, v := body.Content[i], body.Content[i+1]
		switch key := k.Value; {
		case k.Kind != yaml.ScalarNode:
			problems.add(Problem{Line: k.Line, Message: "a key must be a plain name"})
		case seen[key]:
			problems.add(Problem{Line: k.Line, Message: fmt.Sprintf("field %q given twice", key)})
		case key == "suppressions":
			list = v
		default:
			problems.add(Problem{Line: k.Line, Message: fmt.Sprintf("unknown field %q (the file holds only suppressions)", key)})
		}
		seen[k.Value] = true
	}
	var items []*yaml.Node
	switch {
	case list == nil || isNull(list):
	case list.Kind == yaml.SequenceNode:
		items = list.Content
	case list.Kind == yaml.AliasNode:
		problems.add(Problem{Line: list.Line, Message: "suppressions is an alias: write the list out"})
	default:
		problems.add(Problem{Line: list.Line, Message: "suppressions must be a list of rules"})
	}
	today := dayOf(now)
	for i, item := range items {
		at := item.Line
		where := fmt.Sprintf("rule %d: ", i+1)
		add := func(line int, msg string, args ...any) {
			if problems.full() {
				problems.more++
				return
			}
			problems.add(Problem{Line: line, Message: where + fmt.Sprintf(msg, args...)})
		}
		doc, ok := ruleValues(item, add)
		if !ok {
			continue
		}
		r := Rule{Check: doc["check"], AccountID: doc["account_id"], Region: doc["region"], ResourceID: doc["resource_id"],
			Reason: strings.TrimSpace(doc["reason"]), Owner: strings.TrimSpace(doc["owner"]), Line: at}
		switch {
		case r.Check == "":
			add(at, "check is required")
		case !slices.Contains(knownChecks, r.Check):
			add(at, "unknown check %q (known: %s)", r.Check, strings.Join(knownChecks, ", "))
		}
		if r.AccountID != "" && !accountIDPattern.MatchString(r.AccountID) {
			add(at, "account_id %q is not 12 digits", r.AccountID)
		}
		if r.Region != "" && !regionPattern.MatchString(r.Region) {
			add(at, "region %q is not a region name like us-east-1", r.Region)
		}
		if r.Reason == "" {
			add(at, "reason is required")
		}
		if r.Owner == "" {
			add(at, "owner is required")
		}
		if exp := doc["expires"]; exp == "" {
			add(at, "expires is required")
		} else if d, err := time.Parse(time.DateOnly, exp); err != nil {
			add(at, "expires %q is not a date like 2026-12-31", exp)
		} else if latest := today.AddDate(0, 0, MaxExpiryDays); d.After(latest) {
			add(at, "expires %s is more than %d days after %s (latest %s)", exp, MaxExpiryDays, today.Format(time.DateOnly), latest.Format(time.DateOnly))
		} else {
			r.Expires = d
		}
		s.Rules = append(s.Rules, r)
	}
	if len(problems.list) > 0 {
		return nil, &InvalidError{Problems: problems.done()}
	}
	return s, nil
}

// MaxSuppressionsProblems is how many problems a refused file lists: the reasons go into the digest's warning, and
// a file of 60,000 bad rules needs its first few named, not a megabyte of them.
const MaxSuppressionsProblems = 50

// problemList keeps the first MaxSuppressionsProblems problems and counts the rest.
type problemList struct {
	list []Problem
	more int
}

func (p *problemList) full() bool { return len(p.list) >= MaxSuppressionsProblems }

func (p *problemList) add(pr Problem) {
	if p.full() {
		p.more++
		return
	}
	p.list = append(p.list, pr)
}

func (p *problemList) done() []Problem {
	if p.more > 0 {
		return append(p.list, Problem{Message: fmt.Sprintf("and %d more problems", p.more)})
	}
	return p.list
}

// parseOneDocument parses the file's only document; nil for a file with none.
func parseOneDocument(data []byte) (*yaml.Node, *Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		p := yamlProblem(err)
		return nil, &p
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p := yamlProblem(err)
		return nil, &p
	default:
		return nil, &Problem{Line: next.Line, Message: "more than one YAML document"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// ruleValues reads one rule's fields: each known once, each a single value written out.
func ruleValues(item *yaml.Node, add func(line int, msg string, args ...any)) (map[string]string, bool) {
	switch item.Kind {
	case yaml.MappingNode:
	case yaml.AliasNode:
		add(item.Line, "the rule is an alias: write it out")
		return nil, false
	default:
		add(item.Line, "want a mapping of fields (check, reason, owner, expires, ...)")
		return nil, false
	}
	doc := map[string]string{}
	ok := true
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		key := k.Value
		switch _, dup := doc[key]; {
		case k.Kind != yaml.ScalarNode:
			add(k.Line, "a key must be a plain name")
			ok = false
			continue
		case !slices.Contains(ruleFields, key):
			add(k.Line, "unknown field %q", key)
			ok = false
			continue
		case dup:
			add(k.Line, "field %q given twice", key)
			ok = false
			continue
		}
		switch {
		case v.Kind == yaml.AliasNode:
			add(v.Line, "%s is an alias: write the value out", key)
			ok = false
		case v.Kind != yaml.ScalarNode:
			add(v.Line, "%s must be a single value", key)
			ok = false
		case isNull(v):
			doc[key] = ""
		default:
			doc[key] = v.Value
		}
	}
	return doc, ok
}

// isNull is an empty value or YAML's null (~, null), which a field reads as absent.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func dayOf(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// yamlLinePrefix is how gopkg.in/yaml.v3 begins a message about one line.
var yamlLinePrefix = regexp.MustCompile(`^yaml: line ([0-9]+): `)

// yamlParserProblem are the messages of yaml.v3's parser, as against its scanner.
var yamlParserProblem = regexp.MustCompile(`^did not find expected (<document start>|node content|key|'-' indicator|',' or '\]'|',' or '}')`)

// yamlProblem turns a library error into a one-line problem with its line.
func yamlProblem(err error) Problem {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if m := yamlLinePrefix.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		if yamlParserProblem.MatchString(msg) {
			// yaml.v3 numbers a parser error's line from 0 (its scanner errors from 1): the line where the
			// unfinished construct began.
			line++
		}
		return Problem{Line: line, Message: msg}
	}
	return Problem{Message: strings.TrimPrefix(msg, "yaml: ")}
}
