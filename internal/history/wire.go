package history

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// The stored findings are column-wise, grouped by check: a state of 100,000 findings written as 100,000 JSON objects
// is 90 MB before compression and 12 MB after, and takes seconds to write and read. As columns, repeated values
// (accounts, regions, statuses, severities, dates, most details) become small integers into a per-column dictionary
// and the JSON decoder reads long arrays of numbers and strings. The in-memory State keeps plain Entries; only this
// file knows the layout.

// wireState is State as encoded. Its head (up to Counts) matches State's so ReadSummary reads either.
type wireState struct {
	Version       int         `json:"version"`
	RunID         string      `json:"run_id"`
	RunTime       time.Time   `json:"run_time"`
	AsOf          time.Time   `json:"as_of"`
	PreviousRunID string      `json:"previous_run_id,omitempty"`
	Counts        Counts      `json:"counts"`
	Accounts      []string    `json:"accounts"`
	Cells         wireCells   `json:"cells"`
	Findings      []wireGroup `json:"findings"`
}

// wireCells holds the cells as columns; messages only for the cells that have one.
type wireCells struct {
	N       int       `json:"n"`
	Account strColumn `json:"account_id"`
	Region  strColumn `json:"region"`
	Check   strColumn `json:"check"`
	Outcome strColumn `json:"outcome"`
	Code    strColumn `json:"code"`
	Message strColumn `json:"message"`
}

// wireGroup is the findings of one check.
type wireGroup struct {
	Check        string      `json:"check"`
	N            int         `json:"n"`
	Severity     strColumn   `json:"severity"`
	AccountID    strColumn   `json:"account_id"`
	AccountName  strColumn   `json:"account_name"`
	Region       strColumn   `json:"region"`
	ResourceType strColumn   `json:"resource_type"`
	ResourceID   strColumn   `json:"resource_id"`
	ResourceName strColumn   `json:"resource_name"`
	Status       strColumn   `json:"status"`
	Reason       strColumn   `json:"reason"`
	ExpiresAt    strColumn   `json:"expires_at"` // RFC 3339, "" for none
	DaysLeft     []int64     `json:"days_left"`  // noDays for none
	ConsoleURL   strColumn   `json:"console_url"`
	FirstSeen    strColumn   `json:"first_seen"`
	LastSeen     strColumn   `json:"last_seen"`
	Flags        []uint8     `json:"flags,omitempty"`
	DetailKeys   []string    `json:"detail_keys,omitempty"`
	Details      []strColumn `json:"details,omitempty"`
	// HasDetail says, per finding, which DetailKeys it has (bit i for key i), so an empty value is not confused with
	// an absent one; omitted when every finding has every key.
	HasDetail []uint64 `json:"has_detail,omitempty"`
}

const (
	noDays         = math.MinInt32
	flagUnverified = 1 << 0
	flagSuppressed = 1 << 1
	flagNilDetails = 1 << 2
	maxDetailKeys  = 64
)

// strColumn is a column of strings: a dictionary and one index per row when values repeat, else the values.
type strColumn struct {
	Dict   []string `json:"dict,omitempty"`
	Index  []int32  `json:"index,omitempty"`
	Values []string `json:"values,omitempty"`
}

// columnBuilder dictionary-codes a column while the dictionary stays under half the rows, and falls back to plain
// values past that, so unique ids cost no map lookups after the first few hundred rows.
type columnBuilder struct {
	dict   map[string]int32
	col    strColumn
	n, max int
	plain  bool
}

func newColumn(rows int) *columnBuilder {
	return &columnBuilder{dict: map[string]int32{}, max: rows/2 + 1, col: strColumn{Index: make([]int32, 0, rows)}}
}

func (b *columnBuilder) add(s string) {
	b.n++
	if b.plain {
		b.col.Values = append(b.col.Values, s)
		return
	}
	i, ok := b.dict[s]
	if !ok {
		if len(b.col.Dict) >= b.max {
			b.plain = true
			b.col.Values = make([]string, 0, cap(b.col.Index))
			for _, j := range b.col.Index {
				b.col.Values = append(b.col.Values, b.col.Dict[j])
			}
			b.col.Values = append(b.col.Values, s)
			b.col.Dict, b.col.Index, b.dict = nil, nil, nil
			return
		}
		i = int32(len(b.col.Dict))
		b.dict[s] = i
		b.col.Dict = append(b.col.Dict, s)
	}
	b.col.Index = append(b.col.Index, i)
}

func (b *columnBuilder) done() strColumn {
	if b.n == 0 {
		return strColumn{}
	}
	// A column of one value everywhere needs no index: a dictionary of one with an empty index means "all rows".
	if !b.plain && len(b.col.Dict) == 1 {
		return strColumn{Dict: b.col.Dict}
	}
	return b.col
}

// reader returns row i's value, checking the column's shape once.
func (c strColumn) reader(n int, name string) (func(i int) string, error) {
	switch {
	case n == 0:
		return func(int) string { return "" }, nil
	case c.Values != nil:
		if len(c.Values) != n {
			return nil, fmt.Errorf("column %s has %d values for %d rows", name, len(c.Values), n)
		}
		return func(i int) string { return c.Values[i] }, nil
	case len(c.Dict) == 1 && len(c.Index) == 0:
		return func(int) string { return c.Dict[0] }, nil
	case len(c.Index) == n:
		for _, j := range c.Index {
			if j < 0 || int(j) >= len(c.Dict) {
				return nil, fmt.Errorf("column %s indexes %d past its dictionary of %d", name, j, len(c.Dict))
			}
		}
		return func(i int) string { return c.Dict[c.Index[i]] }, nil
	}
	return nil, fmt.Errorf("column %s has %d indexes for %d rows", name, len(c.Index), n)
}

// Values that repeat a finding's resource id, region or account id (console links, stack ARNs, reasons) are stored
// with those replaced by one-byte markers: columnar storage puts the id far from its repeats, out of gzip's window,
// so without this each link would cost its id twice. A stored value starting with tmplPrefix is a template; one
// starting with litPrefix is a literal that happened to hold a marker byte. Both expansions are exact inverses.
const (
	litPrefix  = "\x1b"
	tmplPrefix = "\x1c"
	markers    = "\x1b\x1c\x1d\x1e\x1f"
	markID     = "\x1f"
	markRegion = "\x1e"
	markAcct   = "\x1d"
)

type templater struct{ id, region, account string }

func newTemplater(f checks.Finding) templater {
	t := templater{f.ResourceID, f.Region, f.AccountID}
	for _, s := range []*string{&t.id, &t.region, &t.account} {
		if strings.ContainsAny(*s, markers) {
			*s = ""
		}
	}
	return t
}

func (t templater) compact(v string) string {
	if strings.ContainsAny(v, markers) {
		return litPrefix + v
	}
	out := v
	for _, r := range [...][2]string{{t.id, markID}, {t.region, markRegion}, {t.account, markAcct}} {
		if r[0] != "" && strings.Contains(out, r[0]) {
			out = strings.ReplaceAll(out, r[0], r[1])
		}
	}
	if out == v {
		return v
	}
	return tmplPrefix + out
}

func (t templater) expand(v string) string {
	switch {
	case strings.HasPrefix(v, litPrefix):
		return v[1:]
	case !strings.HasPrefix(v, tmplPrefix):
		return v
	}
	out := v[1:]
	for _, r := range [...][2]string{{t.account, markAcct}, {t.region, markRegion}, {t.id, markID}} {
		out = strings.ReplaceAll(out, r[1], r[0])
	}
	return out
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func toWire(s *State) (*wireState, error) {
	w := &wireState{Version: s.Version, RunID: s.RunID, RunTime: s.RunTime, AsOf: s.AsOf, PreviousRunID: s.PreviousRunID,
		Counts: s.Counts, Accounts: s.Accounts}
	n := len(s.Cells)
	cols := [6]*columnBuilder{newColumn(n), newColumn(n), newColumn(n), newColumn(n), newColumn(n), newColumn(n)}
	for _, c := range s.Cells {
		for i, v := range []string{c.AccountID, c.Region, c.Check, string(c.Outcome), c.Code, c.Message} {
			cols[i].add(v)
		}
	}
	w.Cells = wireCells{n, cols[0].done(), cols[1].done(), cols[2].done(), cols[3].done(), cols[4].done(), cols[5].done()}

	byCheck := map[string][]int{}
	var order []string
	for i, e := range s.Findings {
		if _, ok := byCheck[e.Check]; !ok {
			order = append(order, e.Check)
		}
		byCheck[e.Check] = append(byCheck[e.Check], i)
	}
	for _, check := range order {
		g, err := groupToWire(check, s.Findings, byCheck[check])
		if err != nil {
			return nil, err
		}
		w.Findings = append(w.Findings, g)
	}
	return w, nil
}

func groupToWire(check string, entries []Entry, rows []int) (wireGroup, error) {
	n := len(rows)
	g := wireGroup{Check: check, N: n, DaysLeft: make([]int64, 0, n), Flags: make([]uint8, 0, n)}
	keyIndex := map[string]int{}
	for _, r := range rows {
		for k := range entries[r].Details {
			if _, ok := keyIndex[k]; !ok {
				keyIndex[k] = len(g.DetailKeys)
				g.DetailKeys = append(g.DetailKeys, k)
			}
		}
	}
	if len(g.DetailKeys) > maxDetailKeys {
		return g, fmt.Errorf("check %s has %d detail columns, the state holds at most %d", check, len(g.DetailKeys), maxDetailKeys)
	}
	slices.Sort(g.DetailKeys)
	for i, k := range g.DetailKeys {
		keyIndex[k] = i
	}
	names := []string{"severity", "account_id", "account_name", "region", "resource_type", "resource_id", "resource_name",
		"status", "reason", "expires_at", "console_url", "first_seen", "last_seen"}
	cols := make([]*columnBuilder, len(names))
	for i := range cols {
		cols[i] = newColumn(n)
	}
	details := make([]*columnBuilder, len(g.DetailKeys))
	for i := range details {
		details[i] = newColumn(n)
	}
	has := make([]uint64, n)
	all := uint64(1)<<len(g.DetailKeys) - 1
	partial, anyFlag := false, false
	for row, r := range rows {
		e := entries[r]
		days := int64(noDays)
		if e.DaysLeft != nil {
			days = int64(*e.DaysLeft)
		}
		expires := ""
		if e.ExpiresAt != nil {
			expires = e.ExpiresAt.UTC().Format(time.RFC3339Nano)
		}
		tm := newTemplater(e.Finding)
		for i, v := range [...]string{string(e.Severity), e.AccountID, e.AccountName, e.Region, e.ResourceType, e.ResourceID,
			tm.compact(e.ResourceName), e.Status, tm.compact(e.Reason), expires, tm.compact(e.ConsoleURL), formatTime(e.FirstSeen), formatTime(e.LastSeen)} {
			cols[i].add(v)
		}
		g.DaysLeft = append(g.DaysLeft, days)
		var flags uint8
		if e.Unverified {
			flags |= flagUnverified
		}
		if e.Suppressed {
			flags |= flagSuppressed
		}
		if e.Details == nil {
			flags |= flagNilDetails
		}
		anyFlag = anyFlag || flags != 0
		g.Flags = append(g.Flags, flags)
		for i, k := range g.DetailKeys {
			v, ok := e.Details[k]
			if ok {
				has[row] |= 1 << i
			}
			details[i].add(tm.compact(v))
		}
		partial = partial || has[row] != all
	}
	col := func(i int) strColumn { return cols[i].done() }
	g.Severity, g.AccountID, g.AccountName, g.Region, g.ResourceType, g.ResourceID, g.ResourceName, g.Status, g.Reason,
		g.ExpiresAt, g.ConsoleURL, g.FirstSeen, g.LastSeen = col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7),
		col(8), col(9), col(10), col(11), col(12)
	for _, d := range details {
		g.Details = append(g.Details, d.done())
	}
	if partial {
		g.HasDetail = has
	}
	if !anyFlag {
		g.Flags = nil
	}
	return g, nil
}

func fromWire(w *wireState) (*State, error) {
	s := &State{Version: w.Version, RunID: w.RunID, RunTime: w.RunTime, AsOf: w.AsOf, PreviousRunID: w.PreviousRunID,
		Counts: w.Counts, Accounts: w.Accounts}
	n := w.Cells.N
	if n < 0 {
		return nil, fmt.Errorf("cells: %d rows", n)
	}
	var get [6]func(int) string
	for i, c := range []strColumn{w.Cells.Account, w.Cells.Region, w.Cells.Check, w.Cells.Outcome, w.Cells.Code, w.Cells.Message} {
		f, err := c.reader(n, "cells")
		if err != nil {
			return nil, err
		}
		get[i] = f
	}
	s.Cells = make([]Cell, n)
	for i := range n {
		s.Cells[i] = Cell{AccountID: get[0](i), Region: get[1](i), Check: get[2](i), Outcome: Outcome(get[3](i)), Code: get[4](i), Message: get[5](i)}
	}
	total := 0
	for _, g := range w.Findings {
		total += g.N
	}
	s.Findings = make([]Entry, 0, total)
	for _, g := range w.Findings {
		if err := groupFromWire(g, &s.Findings); err != nil {
			return nil, fmt.Errorf("findings of %s: %w", g.Check, err)
		}
	}
	return s, nil
}

func groupFromWire(g wireGroup, out *[]Entry) error {
	n := g.N
	if n < 0 {
		return fmt.Errorf("%d rows", n)
	}
	cols := []strColumn{g.Severity, g.AccountID, g.AccountName, g.Region, g.ResourceType, g.ResourceID, g.ResourceName,
		g.Status, g.Reason, g.ExpiresAt, g.ConsoleURL, g.FirstSeen, g.LastSeen}
	get := make([]func(int) string, len(cols))
	for i, c := range cols {
		f, err := c.reader(n, fmt.Sprint("#", i))
		if err != nil {
			return err
		}
		get[i] = f
	}
	if len(g.DaysLeft) != n || (g.Flags != nil && len(g.Flags) != n) || (g.HasDetail != nil && len(g.HasDetail) != n) {
		return fmt.Errorf("columns disagree on the number of rows (%d)", n)
	}
	if len(g.Details) != len(g.DetailKeys) || len(g.DetailKeys) > maxDetailKeys {
		return fmt.Errorf("%d detail columns for %d detail keys", len(g.Details), len(g.DetailKeys))
	}
	details := make([]func(int) string, len(g.Details))
	for i, c := range g.Details {
		f, err := c.reader(n, g.DetailKeys[i])
		if err != nil {
			return err
		}
		details[i] = f
	}
	// Times repeat (a handful of run times, one expiry per reservation), so each distinct text is parsed once.
	times := map[string]time.Time{}
	when := func(s string) (time.Time, error) {
		if t, ok := times[s]; ok {
			return t, nil
		}
		t, err := parseTime(s)
		if err != nil {
			return t, err
		}
		times[s] = t
		return t, nil
	}
	for i := range n {
		e := Entry{Finding: checks.Finding{Check: g.Check, Severity: checks.Severity(get[0](i)), AccountID: get[1](i),
			AccountName: get[2](i), Region: get[3](i), ResourceType: get[4](i), ResourceID: get[5](i),
			Status: get[7](i)}}
		tm := newTemplater(e.Finding)
		e.ResourceName, e.Reason, e.ConsoleURL = tm.expand(get[6](i)), tm.expand(get[8](i)), tm.expand(get[10](i))
		if s := get[9](i); s != "" {
			t, err := parseTime(s)
			if err != nil {
				return err
			}
			e.ExpiresAt = &t
		}
		if d := g.DaysLeft[i]; d != noDays {
			v := int(d)
			e.DaysLeft = &v
		}
		var err error
		if e.FirstSeen, err = when(get[11](i)); err != nil {
			return err
		}
		if e.LastSeen, err = when(get[12](i)); err != nil {
			return err
		}
		var flags uint8
		if g.Flags != nil {
			flags = g.Flags[i]
		}
		e.Unverified, e.Suppressed = flags&flagUnverified != 0, flags&flagSuppressed != 0
		if flags&flagNilDetails == 0 {
			e.Details = make(map[string]string, len(details))
			for k, get := range details {
				if g.HasDetail == nil || g.HasDetail[i]&(1<<k) != 0 {
					e.Details[g.DetailKeys[k]] = tm.expand(get(i))
				}
			}
		}
		*out = append(*out, e)
	}
	return nil
}
