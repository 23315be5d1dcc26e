package history

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// The stored state is JSON, written and read by hand (jsonio.go), with the findings column-wise, grouped by check.
// 100,000 findings written as 100,000 JSON objects are 90 MB before compression; as columns, repeated values
// (accounts, regions, statuses, severities, dates, most details) are written once per column with a small integer
// per row. The in-memory State keeps plain Entries; only this file knows the layout:
//
//	{"version":3,"run_id":…,"run_time":…,"as_of":…,"previous_run_id":…,"counts":{…},   the head, read by ReadSummary
//	 "organization":{"id":"o-…","management_account_id":…,"caller_account_id":…},  omitted when unknown: end of the head
//	 "accounts":[…],
//	 "owner_tags":[{"account_id":…,"value":…,"found":true,"read_at":…}…],         omitted when there are none
//	 "account_owners":[{"account_id":…,"owner":…,"ou":…}…],                        the findings' owner and OU, by account
//	 "cells":{"n":N,"columns":[COLUMN…],"plain":[…]},
//	 "finding_count":N,
//	 "findings":[{"check":…,"n":N,"columns":[COLUMN…],"plain":[…],"days_left":[…],"flags":[…],"has_detail":[…]}…]}
//
// A COLUMN is {"name":…,"dict":[…],"index":[…]} (row i's value is dict[index[i]]; a dictionary of one value and no
// index means every row) or {"name":…,"plain":true}: a column of mostly unique values (ids, reasons) whose values
// sit in the table's "plain" array, row by row across all plain columns. Row by row, so a value that repeats part of
// another of the same finding (a console link holding the stack ARN) is within gzip's 32 KB window of it.
//
// owner_tags and account_owners came after version 2 was first written: a state without it reads as one with no tags, and a reader that
// does not know it skips it, so the version did not change. It sits before the cells, so ReadOwnerTags stops there.
// organization came later still, the same way: after counts, so an older ReadSummary (which ends the head at the
// first key it does not know) still reads the counts; a state without it names no organization (Lineage says when
// such a state is taken).
//
// Reading is bounded (decodeLimits in jsonio.go): the inflated size, each string, each literal, the rows a table
// claims against the bytes read before them, and the memory the decoded state would hold, each checked before the
// allocation it guards.
//
// A finding's columns are findingColumns, then one per detail, named by the column ID of the check's layout
// (checks.Column.ID) and sorted by it. days_left (null for none), flags and has_detail (bit k: the finding has
// detail k, so an empty value is not confused with an absent one) are omitted when every row would hold the same
// nothing.
//
// Version 3 differs from version 2 only there: version 2 named a detail's column by its header (checks.Column.Name),
// which a check may rename. A version 2 state is read by mapping each header to the ID of the check's column that
// has or had it (Name, Formerly); a header no column has, nor had, is kept under checks.UnknownHeaderID(header),
// never dropped. Where two headers of one finding map to one ID, the current header's value takes the ID and the
// other keeps its own under UnknownHeaderID. The flag flagNilDetails of version 2 told a nil map from an empty one;
// details are no map now, and both read as none.

// findingColumns are the fixed columns of a group, in order; the details' columns follow.
var findingColumns = [...]string{"severity", "account_id", "account_name", "region", "resource_type", "resource_id",
	"resource_name", "status", "reason", "expires_at", "console_url", "first_seen", "last_seen"}

const (
	colSeverity = iota
	colAccountID
	colAccountName
	colRegion
	colResourceType
	colResourceID
	colResourceName
	colStatus
	colReason
	colExpiresAt
	colConsoleURL
	colFirstSeen
	colLastSeen
	nFindingColumns
)

var cellColumns = [...]string{"account_id", "region", "check", "outcome", "code", "message"}

const (
	flagUnverified = 1 << 0
	flagSuppressed = 1 << 1
	flagNilDetails = 1 << 2 // version 2 only; read and ignored
	maxDetailKeys  = 64
	// maxRows bounds any table's row count, so a damaged count cannot ask for unbounded memory.
	maxRows = 10_000_000
	// maxHint bounds what a count read from the state may size before the rows behind it are read: past it, arrays
	// grow as their elements arrive, each of which the stream had to hold.
	maxHint = 1 << 16
	// maxPlainHint bounds the plain values' arena sized from plain_bytes before they are read.
	maxPlainHint = 32 << 20
)

// Values that repeat their finding's resource id, region or account id (console links, stack ARNs, reasons) are
// stored with those replaced by a reference: DEL (0x7f, which JSON writes as one byte) and a letter. A DEL of the
// value itself is doubled. Without this, a link holding its id is unique per row; with it, most links of a check
// are one dictionary entry.
const (
	refMark    = 0x7f
	refID      = 'i'
	refRegion  = 'r'
	refAccount = 'a'
)

type templater struct{ id, region, account string }

func templaterOf(f *checks.Finding) templater { return templater{f.ResourceID, f.Region, f.AccountID} }

// refSources are the references a column looks for. Looking costs a substring search per value and reference, so
// a column stops looking for a reference its first rows never held (refTrial): a value then stored whole is still
// exact, only larger.
type refSources struct {
	rows int
	hits [3]int
	off  [3]bool
}

const refTrial = 256

func (rs *refSources) seen(code byte) {
	switch code {
	case refID:
		rs.hits[0]++
	case refRegion:
		rs.hits[1]++
	case refAccount:
		rs.hits[2]++
	}
}

func (rs *refSources) row() {
	rs.rows++
	if rs.rows == refTrial {
		for i, h := range rs.hits {
			rs.off[i] = h == 0
		}
	}
}

// next finds the earliest reference in v, the longest where two start together.
func (t *templater) next(v string, rs *refSources) (at, n int, code byte) {
	at = -1
	for i, r := range [...]struct {
		s    string
		code byte
	}{{t.id, refID}, {t.region, refRegion}, {t.account, refAccount}} {
		if r.s == "" || rs.off[i] || len(r.s) > len(v) {
			continue
		}
		if j := strings.Index(v, r.s); j >= 0 && (at < 0 || j < at || j == at && len(r.s) > n) {
			at, n, code = j, len(r.s), r.code
		}
	}
	return at, n, code
}

// compact appends v's stored form to dst; ok is false when the stored form is v itself (nothing appended).
func (t *templater) compact(dst []byte, v string, rs *refSources) ([]byte, bool) {
	rs.row()
	at, n, code := t.next(v, rs)
	if at < 0 && strings.IndexByte(v, refMark) < 0 {
		return dst, false
	}
	for {
		lit := v
		if at >= 0 {
			lit = v[:at]
		}
		for {
			i := strings.IndexByte(lit, refMark)
			if i < 0 {
				break
			}
			dst = append(dst, lit[:i+1]...)
			dst = append(dst, refMark)
			lit = lit[i+1:]
		}
		dst = append(dst, lit...)
		if at < 0 {
			return dst, true
		}
		rs.seen(code)
		dst = append(dst, refMark, code)
		v = v[at+n:]
		at, n, code = t.next(v, rs)
	}
}

// expand appends the value stored as v to dst, refusing a value that would expand past limit bytes: every
// reference repeats a whole id, so a short stored value can stand for a long one.
func (t *templater) expand(dst []byte, v string, limit int) ([]byte, error) {
	if expandedLen(t, v) > limit {
		return dst, fmt.Errorf("a stored value expands past %d bytes", limit)
	}
	for {
		i := strings.IndexByte(v, refMark)
		if i < 0 {
			return append(dst, v...), nil
		}
		dst = append(dst, v[:i]...)
		if i+1 == len(v) {
			return dst, fmt.Errorf("stored value ends in a reference mark")
		}
		switch v[i+1] {
		case refID:
			dst = append(dst, t.id...)
		case refRegion:
			dst = append(dst, t.region...)
		case refAccount:
			dst = append(dst, t.account...)
		case refMark:
			dst = append(dst, refMark)
		default:
			return dst, fmt.Errorf("stored value holds an unknown reference %q", v[i+1])
		}
		v = v[i+2:]
	}
}

// expandedLen is the length v expands to, counted without building it.
func expandedLen(t *templater, v string) int {
	n := 0
	for {
		i := strings.IndexByte(v, refMark)
		if i < 0 || i+1 == len(v) {
			return n + len(v)
		}
		n += i
		switch v[i+1] {
		case refID:
			n += len(t.id)
		case refRegion:
			n += len(t.region)
		case refAccount:
			n += len(t.account)
		default:
			n++
		}
		v = v[i+2:]
	}
}

// colBuilder dictionary-codes a column while its values repeat, and switches to plain values when they do not, so
// unique ids cost no map lookups after the first thousand rows.
type colBuilder struct {
	dict  map[string]int32
	keys  []string
	index []int32
	plain bool
	arena []byte // plain values, back to back
	ends  []int  // end of each row's value in arena
	rows  int
	max   int
	refs  refSources
	// last is the previous row's value and index: runs of one value cost a comparison.
	last    string
	lastIdx int32
}

func newColBuilder(rows int) *colBuilder {
	return &colBuilder{dict: map[string]int32{}, index: make([]int32, 0, rows), max: rows/2 + 1}
}

// admit says whether a new dictionary entry is worth it: not past half the rows, nor when nearly every value so far
// was new.
func (b *colBuilder) admit() bool {
	return len(b.keys) < b.max && !(b.rows >= 1024 && len(b.keys)*8 > b.rows*7)
}

func (b *colBuilder) toPlain() {
	b.plain = true
	b.ends = make([]int, 0, cap(b.index))
	// Sized from the rows so far, so the arena is allocated about once.
	size := 0
	for _, i := range b.index {
		size += len(b.keys[i])
	}
	if done := len(b.index); done > 0 {
		b.arena = make([]byte, 0, size/done*cap(b.index)*9/8+1024)
	}
	for _, i := range b.index {
		b.arena = append(b.arena, b.keys[i]...)
		b.ends = append(b.ends, len(b.arena))
	}
	b.dict, b.keys, b.index = nil, nil, nil
}

// lookup finds s in the dictionary: the previous value, a scan of a small dictionary, or the map.
func (b *colBuilder) lookup(s string) (int32, bool) {
	if s == b.last && b.rows > 1 {
		return b.lastIdx, true
	}
	if len(b.keys) <= 8 {
		for i, k := range b.keys {
			if k == s {
				return int32(i), true
			}
		}
		return 0, false
	}
	i, ok := b.dict[s]
	return i, ok
}

func (b *colBuilder) lookupBytes(v []byte) (int32, bool) {
	if string(v) == b.last && b.rows > 1 {
		return b.lastIdx, true
	}
	if len(b.keys) <= 8 {
		for i, k := range b.keys {
			if k == string(v) {
				return int32(i), true
			}
		}
		return 0, false
	}
	i, ok := b.dict[string(v)]
	return i, ok
}

func (b *colBuilder) add(s string) {
	b.rows++
	if !b.plain {
		i, ok := b.lookup(s)
		if !ok && b.admit() {
			i, ok = int32(len(b.keys)), true
			b.dict[s] = i
			b.keys = append(b.keys, s)
		}
		if ok {
			b.index = append(b.index, i)
			b.last, b.lastIdx = b.keys[i], i
			return
		}
		b.toPlain()
	}
	b.arena = append(b.arena, s...)
	b.ends = append(b.ends, len(b.arena))
}

func (b *colBuilder) addBytes(v []byte) {
	b.rows++
	if !b.plain {
		i, ok := b.lookupBytes(v)
		if !ok && b.admit() {
			s := string(v)
			i, ok = int32(len(b.keys)), true
			b.dict[s] = i
			b.keys = append(b.keys, s)
		}
		if ok {
			b.index = append(b.index, i)
			b.last, b.lastIdx = b.keys[i], i
			return
		}
		b.toPlain()
	}
	b.arena = append(b.arena, v...)
	b.ends = append(b.ends, len(b.arena))
}

// addTemplated adds v in its stored form (see templater); scratch is reused between calls.
func (b *colBuilder) addTemplated(t *templater, v string, scratch *[]byte) {
	out, changed := t.compact((*scratch)[:0], v, &b.refs)
	*scratch = out
	if changed {
		b.addBytes(out)
	} else {
		b.add(v)
	}
}

// writeTable writes a table's n, columns and plain values, leaving its object open for the caller's own keys.
func writeTable(w *jsonWriter, n int, names []string, cols []*colBuilder) {
	w.raw(`{"n":`)
	w.int(int64(n))
	w.raw(`,"columns":[`)
	var plain []*colBuilder
	for i, c := range cols {
		if i > 0 {
			w.raw(",")
		}
		w.raw(`{"name":`)
		w.str(names[i])
		if c.plain {
			w.raw(`,"plain":true}`)
			plain = append(plain, c)
			continue
		}
		w.raw(`,"dict":`)
		w.strings(c.keys)
		if len(c.keys) > 1 {
			w.raw(`,"index":[`)
			for j, v := range c.index {
				if j > 0 {
					w.buf = append(w.buf, ',')
				}
				w.int(int64(v))
			}
			w.raw("]")
		}
		w.raw("}")
	}
	w.raw("]")
	if len(plain) == 0 {
		return
	}
	// Each plain value is written without the bytes it shares with its column's previous value: after references,
	// links and ARNs of one check differ only in their last part. plain_shared says how many, row by row like plain.
	size := 0
	for _, c := range plain {
		size += len(c.arena)
	}
	w.raw(`,"plain_bytes":`)
	w.int(int64(size))
	shared := make([]int, n*len(plain))
	for k, c := range plain {
		prev := 0
		for row := range n {
			start, end := prev, c.ends[row]
			if row > 0 {
				prevStart := 0
				if row > 1 {
					prevStart = c.ends[row-2]
				}
				shared[row*len(plain)+k] = sharedPrefix(c.arena[prevStart:start], c.arena[start:end])
			}
			prev = end
		}
	}
	w.raw(`,"plain_shared":[`)
	for i, k := range shared {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.int(int64(k))
	}
	w.raw(`],"plain":[`)
	starts := make([]int, len(plain))
	for row := range n {
		for k, c := range plain {
			if row > 0 || k > 0 {
				w.buf = append(w.buf, ',')
			}
			end := c.ends[row]
			w.bytes(c.arena[starts[k]+shared[row*len(plain)+k] : end])
			starts[k] = end
		}
	}
	w.raw("]")
}

// sharedPrefix is how many leading bytes b repeats of a, when that is worth a number.
func sharedPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	// Never split a UTF-8 sequence: the rest is written as a JSON string of its own.
	for i > 0 && i < len(b) && !utf8.RuneStart(b[i]) {
		i--
	}
	if i < 4 {
		return 0
	}
	return i
}

// timeText formats times once per distinct value: a state holds a handful of run times and one expiry per day.
type timeText struct {
	last     time.Time
	lastText string
	seen     map[time.Time]string
}

func (tt *timeText) format(t time.Time) string {
	if t == tt.last && tt.lastText != "" {
		return tt.lastText
	}
	s, ok := tt.seen[t]
	if !ok {
		if tt.seen == nil {
			tt.seen = map[time.Time]string{}
		}
		s = t.UTC().Format(time.RFC3339Nano)
		tt.seen[t] = s
	}
	tt.last, tt.lastText = t, s
	return s
}

// stateHead is State's head, written by encoding/json (it is small) with State's own field names.
type stateHead struct {
	Version       int       `json:"version"`
	RunID         string    `json:"run_id"`
	RunTime       time.Time `json:"run_time"`
	AsOf          time.Time `json:"as_of"`
	PreviousRunID string    `json:"previous_run_id,omitempty"`
	Counts        Counts    `json:"counts"`
	// After counts, so a reader written before it (which stops its head at the first key it does not know) still
	// reads the counts.
	Organization *Organization `json:"organization,omitempty"`
}

func writeState(out io.Writer, s *State) error {
	var org *Organization
	if s.Organization != (Organization{}) {
		org = &s.Organization
	}
	head, err := json.Marshal(stateHead{Version: s.Version, RunID: s.RunID, RunTime: s.RunTime, AsOf: s.AsOf,
		PreviousRunID: s.PreviousRunID, Counts: s.Counts, Organization: org})
	if err != nil {
		return err
	}
	w := newJSONWriter(out)
	w.buf = append(w.buf, head[:len(head)-1]...)
	w.raw(`,"accounts":`)
	w.strings(s.Accounts)
	if len(s.OwnerTags) > 0 {
		w.raw(`,"owner_tags":[`)
		for i, t := range s.OwnerTags {
			if i > 0 {
				w.raw(",")
			}
			w.raw(`{"account_id":`)
			w.str(t.AccountID)
			w.raw(`,"value":`)
			w.str(t.Value)
			if t.Found {
				w.raw(`,"found":true`)
			}
			w.raw(`,"read_at":`)
			w.str(t.ReadAt.UTC().Format(time.RFC3339Nano))
			w.raw("}")
		}
		w.raw("]")
	}
	// A finding's owner and OU are its account's, so they are stored once per account, not per finding.
	type ownerOU struct{ owner, ou string }
	owners := map[string]ownerOU{}
	var ownerOrder []string
	for i := range s.Findings {
		f := &s.Findings[i]
		if _, ok := owners[f.AccountID]; !ok && (f.Owner != "" || f.OU != "") {
			owners[f.AccountID] = ownerOU{f.Owner, f.OU}
			ownerOrder = append(ownerOrder, f.AccountID)
		}
	}
	if len(ownerOrder) > 0 {
		w.raw(`,"account_owners":[`)
		for i, id := range ownerOrder {
			if i > 0 {
				w.raw(",")
			}
			w.raw(`{"account_id":`)
			w.str(id)
			w.raw(`,"owner":`)
			w.str(owners[id].owner)
			w.raw(`,"ou":`)
			w.str(owners[id].ou)
			w.raw("}")
		}
		w.raw("]")
	}

	w.raw(`,"cells":`)
	var cells CellSource = cellList(s.Cells)
	if s.cellSource != nil {
		cells = s.cellSource
	}
	n := cells.Len()
	cols := make([]*colBuilder, len(cellColumns))
	for i := range cols {
		cols[i] = newColBuilder(n)
	}
	for c := range cells.All() {
		cols[0].add(c.AccountID)
		cols[1].add(c.Region)
		cols[2].add(c.Check)
		cols[3].add(string(c.Outcome))
		cols[4].add(c.Code)
		cols[5].add(c.Message)
	}
	writeTable(w, n, cellColumns[:], cols)
	w.raw("}")

	w.raw(`,"finding_count":`)
	w.int(int64(len(s.Findings)))
	w.raw(`,"findings":[`)
	byCheck := map[string][]int{}
	var order []string
	for i := range s.Findings {
		c := s.Findings[i].Check
		if _, ok := byCheck[c]; !ok {
			order = append(order, c)
		}
		byCheck[c] = append(byCheck[c], i)
	}
	for i, check := range order {
		if i > 0 {
			w.raw(",")
		}
		if err := writeGroup(w, check, s.Findings, byCheck[check]); err != nil {
			return err
		}
	}
	w.raw("]}\n")
	return w.flush()
}

func writeGroup(w *jsonWriter, check string, entries []Entry, rows []int) error {
	n := len(rows)
	known := map[string]bool{}
	var keys []string
	for _, r := range rows {
		for _, d := range entries[r].DetailsByID() {
			if !known[d.ID] {
				known[d.ID] = true
				keys = append(keys, d.ID)
			}
		}
	}
	if len(keys) > maxDetailKeys {
		return fmt.Errorf("check %s has %d detail columns, the state holds at most %d", check, len(keys), maxDetailKeys)
	}
	// Sorted, as each finding's details are: a row's details are then matched to the columns in one pass.
	slices.Sort(keys)
	names := append(findingColumns[:len(findingColumns):len(findingColumns)], keys...)
	cols := make([]*colBuilder, len(names))
	for i := range cols {
		cols[i] = newColBuilder(n)
	}
	details := cols[nFindingColumns:]
	days := make([]*int, 0, n)
	flags := make([]uint8, n)
	has := make([]uint64, n)
	all := uint64(1)<<len(keys) - 1
	anyDays, anyFlag, partial := false, false, false
	var scratch []byte
	var expires, seen timeText
	for row, r := range rows {
		e := &entries[r]
		t := templaterOf(&e.Finding)
		cols[colSeverity].add(string(e.Severity))
		cols[colAccountID].add(e.AccountID)
		cols[colAccountName].add(e.AccountName)
		cols[colRegion].add(e.Region)
		cols[colResourceType].add(e.ResourceType)
		cols[colResourceID].add(e.ResourceID)
		cols[colResourceName].addTemplated(&t, e.ResourceName, &scratch)
		cols[colStatus].add(e.Status)
		cols[colReason].addTemplated(&t, e.Reason, &scratch)
		if e.ExpiresAt != nil {
			cols[colExpiresAt].add(expires.format(*e.ExpiresAt))
		} else {
			cols[colExpiresAt].add("")
		}
		cols[colConsoleURL].addTemplated(&t, e.ConsoleURL, &scratch)
		cols[colFirstSeen].add(formatSeen(&seen, e.FirstSeen))
		cols[colLastSeen].add(formatSeen(&seen, e.LastSeen))
		days = append(days, e.DaysLeft)
		anyDays = anyDays || e.DaysLeft != nil
		var f uint8
		if e.Unverified {
			f |= flagUnverified
		}
		if e.Suppressed {
			f |= flagSuppressed
		}
		flags[row] = f
		anyFlag = anyFlag || f != 0
		list, j := e.DetailsByID(), 0
		for k, key := range keys {
			v := ""
			if j < len(list) && list[j].ID == key {
				v = list[j].Value
				has[row] |= 1 << k
				j++
			}
			details[k].addTemplated(&t, v, &scratch)
		}
		partial = partial || has[row] != all
	}
	writeTable(w, n, names, cols)
	w.raw(`,"check":`)
	w.str(check)
	if anyDays {
		w.raw(`,"days_left":[`)
		for i, d := range days {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if d == nil {
				w.raw("null")
			} else {
				w.int(int64(*d))
			}
		}
		w.raw("]")
	}
	if anyFlag {
		w.raw(`,"flags":[`)
		for i, f := range flags {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.int(int64(f))
		}
		w.raw("]")
	}
	if partial {
		w.raw(`,"has_detail":[`)
		for i, h := range has {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.uint(h)
		}
		w.raw("]")
	}
	w.raw("}")
	return nil
}

// formatSeen writes a zero time as "", which a state never holds otherwise.
func formatSeen(tt *timeText, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return tt.format(t)
}

// wireTable is a table as read, before its rows become Cells or Entries.
type wireTable struct {
	n     int
	cols  []wireColumn
	plain []string
	// plainBytes is the plain values' length, a hint for reading them.
	plainBytes int
	shared     []int // from plain_shared, which precedes plain
	plainRead  bool
	// A group's own keys.
	check   string
	days    []int
	hasDays []bool // days[i] is set; nil when no row has days left
	flags   []uint8
	has     []uint64
}

type wireColumn struct {
	name        string
	dict        []string
	index       []int32
	plain       bool
	slot, width int      // for a plain column: its place among the table's plain columns, and their number
	values      []string // the table's plain values
}

func (c *wireColumn) at(i int) string {
	switch {
	case c.plain:
		return c.values[i*c.width+c.slot]
	case c.index == nil:
		return c.dict[0]
	}
	return c.dict[c.index[i]]
}

// resolve checks the table's shape, so rows can be read without further checks.
func (t *wireTable) resolve() error {
	if t.n < 0 || t.n > maxRows {
		return fmt.Errorf("table of %d rows", t.n)
	}
	width := 0
	for i := range t.cols {
		c := &t.cols[i]
		switch {
		case c.plain:
			c.slot = width
			width++
		case t.n == 0:
		case len(c.dict) == 0:
			return fmt.Errorf("column %s has no values", c.name)
		case len(c.dict) == 1 && c.index == nil:
		case len(c.index) != t.n:
			return fmt.Errorf("column %s has %d indexes for %d rows", c.name, len(c.index), t.n)
		default:
			for _, j := range c.index {
				if j < 0 || int(j) >= len(c.dict) {
					return fmt.Errorf("column %s indexes %d past its dictionary of %d", c.name, j, len(c.dict))
				}
			}
		}
	}
	if len(t.plain) != width*t.n {
		return fmt.Errorf("%d plain values for %d rows of %d plain columns", len(t.plain), t.n, width)
	}
	for i := range t.cols {
		t.cols[i].width, t.cols[i].values = width, t.plain
	}
	if t.days != nil && len(t.days) != t.n || t.flags != nil && len(t.flags) != t.n || t.has != nil && len(t.has) != t.n {
		return fmt.Errorf("columns disagree on the number of rows (%d)", t.n)
	}
	return nil
}

// rowHint is n when it has been read and is sane, for sizing what follows it: at most maxHint, since n is only what
// the state claims.
func (t *wireTable) rowHint() int {
	if t.n < 0 || t.n > maxRows {
		return 0
	}
	return min(t.n, maxHint)
}

// rowsBacked checks a table's claimed rows against what the reader has read before allocating them: every row the
// writer makes holds at least a byte of its own (an index or a plain value of the column that tells it from the
// others), so rows past the bytes read are a claim no state backs; and each row's cost is charged.
func (r *jsonReader) rowsBacked(n int, rowCost int64) error {
	r.rows += int64(n)
	if r.rows > r.read() {
		return fmt.Errorf("%d rows claimed after %d bytes of state", r.rows, r.read())
	}
	if !r.charge(int64(n) * rowCost) {
		return r.err
	}
	return nil
}

func plainColumns(cols []wireColumn) int {
	k := 0
	for _, c := range cols {
		if c.plain {
			k++
		}
	}
	return k
}

// readTable reads a table or a group.
func readTable(r *jsonReader) *wireTable {
	t := &wireTable{plainBytes: -1}
	var scratch []byte
	r.expect('{')
	for first := true; r.more('}', &first); {
		switch string(r.key(scratch)) {
		case "n":
			t.n = int(r.int(32))
		case "columns":
			r.expect('[')
			for first := true; r.more(']', &first); {
				t.cols = append(t.cols, readColumn(r, t.rowHint()))
			}
		case "plain":
			t.plain = readPlain(r, t.rowHint()*plainColumns(t.cols), t.plainBytes, plainColumns(t.cols), t.shared)
			t.plainRead = true
		case "plain_shared":
			if t.plainRead {
				r.fail("plain_shared after plain")
			}
			t.shared = make([]int, 0, min(t.rowHint()*plainColumns(t.cols), maxHint))
			r.expect('[')
			for first := true; r.more(']', &first) && r.charge(8); {
				t.shared = append(t.shared, int(r.int(32)))
			}
		case "plain_bytes":
			t.plainBytes = int(r.int(32))
			if t.plainBytes < 0 {
				r.fail("plain_bytes %d", t.plainBytes)
			}
		case "check":
			t.check = r.string(&scratch)
		case "days_left":
			t.days, t.hasDays = []int{}, []bool{}
			r.expect('[')
			for first := true; r.more(']', &first) && r.charge(9); {
				if r.peek() == 'n' {
					r.null()
					t.days, t.hasDays = append(t.days, 0), append(t.hasDays, false)
					continue
				}
				t.days, t.hasDays = append(t.days, int(r.int(64))), append(t.hasDays, true)
			}
		case "flags":
			t.flags = []uint8{}
			r.expect('[')
			for first := true; r.more(']', &first) && r.charge(1); {
				t.flags = append(t.flags, uint8(r.int(8)))
			}
		case "has_detail":
			t.has = []uint64{}
			r.expect('[')
			for first := true; r.more(']', &first) && r.charge(8); {
				t.has = append(t.has, r.uint64())
			}
		default:
			r.skip(0)
		}
	}
	return t
}

func readColumn(r *jsonReader, rows int) wireColumn {
	var c wireColumn
	var scratch []byte
	r.expect('{')
	for first := true; r.more('}', &first); {
		switch string(r.key(scratch)) {
		case "name":
			c.name = r.string(&scratch)
		case "plain":
			c.plain = r.bool()
		case "dict":
			c.dict = []string{}
			r.expect('[')
			for first := true; r.more(']', &first); {
				c.dict = append(c.dict, r.string(&scratch))
			}
		case "index":
			c.index = make([]int32, 0, rows)
			r.expect('[')
			for first := true; r.more(']', &first) && r.charge(4); {
				c.index = append(c.index, int32(r.int(32)))
			}
		default:
			r.skip(0)
		}
	}
	return c
}

// readPlain reads an array of strings into one allocation: the values live exactly as long as the state. bytes is
// their length as plain_bytes declares it (-1 when absent): the arena is charged and sized by it, and may not pass it.
func readPlain(r *jsonReader, hint, bytes, width int, shared []int) []string {
	if bytes >= 0 && !r.charge(int64(bytes)) {
		return nil
	}
	// Sized by the claim up to maxPlainHint: past it the arena grows as values arrive.
	if size := min(bytes, maxPlainHint); size > cap(r.arena) {
		r.arena = make([]byte, 0, size)
	}
	arena := r.arena[:0]
	ends := make([]int, 0, min(hint, maxHint))
	r.expect('[')
	for first := true; r.more(']', &first) && r.charge(8+stringHeader); {
		i := len(ends)
		if shared != nil && width > 0 {
			if i >= len(shared) {
				r.fail("more plain values than plain_shared")
				break
			}
			// The previous value of the same column, already in the arena.
			if k := shared[i]; k > 0 {
				if i < width {
					r.fail("first plain value shares %d bytes with nothing", k)
					break
				}
				start := 0
				if i > width {
					start = ends[i-width-1]
				}
				if prev := arena[start:ends[i-width]]; k <= len(prev) {
					// The copy is new memory: charged, or held to plain_bytes, before it is made.
					if bytes < 0 && !r.charge(int64(k)) {
						break
					}
					if bytes >= 0 && len(arena)+k > bytes {
						r.fail("plain values longer than plain_bytes %d", bytes)
						break
					}
					arena = append(arena, prev[:k]...)
				} else {
					r.fail("plain value shares %d bytes of a %d-byte value", k, len(prev))
					break
				}
			}
		}
		before := len(arena)
		arena = r.appendString(arena)
		switch {
		case bytes < 0:
			r.charge(int64(len(arena) - before))
		case len(arena) > bytes:
			r.fail("plain values longer than plain_bytes %d", bytes)
		}
		ends = append(ends, len(arena))
	}
	if shared != nil && len(shared) != len(ends) {
		r.fail("%d plain values for %d plain_shared", len(ends), len(shared))
	}
	r.arena = arena
	all := string(arena)
	out := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		out[i] = all[start:end]
		start = end
	}
	return out
}

// readState reads what writeState wrote. A state of another version is a *FormatError with its version, read
// before anything else.
func readState(src io.Reader, lim decodeLimits) (*State, error) {
	r := newJSONReader(src, lim)
	s := &State{}
	var scratch []byte
	var cells *wireTable
	findingCount := -1
	var accountOwners map[string][2]string
	r.expect('{')
	for first := true; r.more('}', &first); {
		switch string(r.key(scratch)) {
		case "version":
			s.Version = int(r.int(32))
			if r.err == nil && !readable(s.Version) {
				return nil, &FormatError{Version: s.Version}
			}
		case "run_id":
			s.RunID = r.string(&scratch)
		case "run_time":
			s.RunTime = r.time(&scratch)
		case "as_of":
			s.AsOf = r.time(&scratch)
		case "previous_run_id":
			s.PreviousRunID = r.string(&scratch)
		case "counts":
			r.counts(&s.Counts)
		case "organization":
			r.organization(&s.Organization)
		case "accounts":
			r.expect('[')
			for first := true; r.more(']', &first) && r.charge(stringHeader); {
				s.Accounts = append(s.Accounts, r.string(&scratch))
			}
		case "owner_tags":
			s.OwnerTags = r.ownerTags()
		case "account_owners":
			accountOwners = r.accountOwners()
		case "cells":
			cells = readTable(r)
		case "finding_count":
			findingCount = int(r.int(32))
			if findingCount < 0 || findingCount > maxRows {
				r.fail("finding_count %d", findingCount)
			}
			// s.Findings is not sized by the claim: the groups' rows grow it as they are read (appendGroup).
		case "findings":
			if findingCount < 0 {
				r.fail("findings before finding_count")
			}
			r.expect('[')
			for first := true; r.more(']', &first); {
				g := readTable(r)
				if r.err != nil {
					break
				}
				if g.n > findingCount-len(s.Findings) {
					return nil, &FormatError{Err: fmt.Errorf("findings of %s: %d more rows than finding_count %d", g.check, g.n, findingCount)}
				}
				if err := appendGroup(r, g, s.Version, &s.Findings, findingCount); err != nil {
					return nil, &FormatError{Err: fmt.Errorf("findings of %s: %w", g.check, err)}
				}
			}
		default:
			r.skip(0)
		}
	}
	r.end()
	if r.err != nil {
		return nil, &FormatError{Err: fmt.Errorf("json: %w", r.err)}
	}
	if !readable(s.Version) {
		return nil, &FormatError{Version: s.Version}
	}
	// Read, a state of version 2 is one of this version: its details are keyed by ID now.
	s.Version = Version
	if findingCount != len(s.Findings) {
		return nil, &FormatError{Err: fmt.Errorf("state counts %d findings and holds %d", findingCount, len(s.Findings))}
	}
	for i := range s.Findings {
		if o, ok := accountOwners[s.Findings[i].AccountID]; ok {
			s.Findings[i].Owner, s.Findings[i].OU = o[0], o[1]
		}
	}
	if cells != nil {
		var err error
		if s.Cells, err = cellsOf(r, cells); err != nil {
			return nil, &FormatError{Err: fmt.Errorf("cells: %w", err)}
		}
	}
	return s, nil
}

// organization reads whose state it is, and checks it before anything quotes it.
func (r *jsonReader) organization(o *Organization) {
	var scratch []byte
	r.expect('{')
	for first := true; r.more('}', &first); {
		switch string(r.key(scratch)) {
		case "id":
			o.ID = r.string(&scratch)
		case "management_account_id":
			o.ManagementAccountID = r.string(&scratch)
		case "caller_account_id":
			o.CallerAccountID = r.string(&scratch)
		default:
			r.skip(0)
		}
	}
	if r.err == nil {
		if err := o.validate(); err != nil {
			r.fail("%v", err)
		}
	}
}

// ownerTags reads the owner_tags array; a key it does not know is skipped, for a later writer's sake.
func (r *jsonReader) ownerTags() []OwnerTag {
	var out []OwnerTag
	var scratch []byte
	r.expect('[')
	for first := true; r.more(']', &first) && r.charge(ownerTagSize); {
		var t OwnerTag
		r.expect('{')
		for first := true; r.more('}', &first); {
			switch string(r.key(scratch)) {
			case "account_id":
				t.AccountID = r.string(&scratch)
			case "value":
				t.Value = r.string(&scratch)
			case "found":
				t.Found = r.bool()
			case "read_at":
				t.ReadAt = r.time(&scratch)
			default:
				r.skip(0)
			}
		}
		if r.err != nil {
			return nil
		}
		out = append(out, t)
	}
	return out
}

// accountOwners reads the account_owners array: account id → owner, OU.
func (r *jsonReader) accountOwners() map[string][2]string {
	out := map[string][2]string{}
	var scratch []byte
	r.expect('[')
	for first := true; r.more(']', &first) && r.charge(accountOwnerSize); {
		var id string
		var o [2]string
		r.expect('{')
		for first := true; r.more('}', &first); {
			switch string(r.key(scratch)) {
			case "account_id":
				id = r.string(&scratch)
			case "owner":
				o[0] = r.string(&scratch)
			case "ou":
				o[1] = r.string(&scratch)
			default:
				r.skip(0)
			}
		}
		if r.err != nil {
			return nil
		}
		out[id] = o
	}
	return out
}

// ReadOwnerTags reads only the owner tags of a state written by Encode: it stops at the cells, which follow them, so
// a run can learn its owners before it audits without decoding the previous run's findings.
func ReadOwnerTags(src io.Reader) ([]OwnerTag, error) {
	zr, err := gzip.NewReader(src)
	if err != nil {
		return nil, &FormatError{Err: fmt.Errorf("gzip: %w", err)}
	}
	defer zr.Close()
	r := newJSONReader(zr, defaultLimits)
	var scratch []byte
	var tags []OwnerTag
	r.expect('{')
	for first := true; r.more('}', &first); {
		key := string(r.key(scratch))
		switch key {
		case "version":
			if v := int(r.int(32)); r.err == nil && !readable(v) {
				return nil, &FormatError{Version: v}
			}
		case "owner_tags":
			tags = r.ownerTags()
		case "account_owners", "cells", "finding_count", "findings":
			return tags, readErr(r)
		default:
			r.skip(0)
		}
	}
	return tags, readErr(r)
}

func readErr(r *jsonReader) error {
	if r.err != nil {
		return &FormatError{Err: fmt.Errorf("json: %w", r.err)}
	}
	return nil
}

func (r *jsonReader) null() {
	var tmp [8]byte
	if text := r.literal(tmp[:0]); string(text) != "null" {
		r.fail("%q is not null", text)
	}
}

func (r *jsonReader) time(scratch *[]byte) time.Time {
	*scratch = r.appendString((*scratch)[:0])
	var t time.Time
	if err := t.UnmarshalText(*scratch); err != nil {
		r.fail("%v", err)
	}
	return t
}

// counts reads Counts by its JSON field names, which encoding/json wrote.
func (r *jsonReader) counts(c *Counts) {
	v := reflect.ValueOf(c).Elem()
	var scratch []byte
	r.expect('{')
	for first := true; r.more('}', &first); {
		name := string(r.key(scratch))
		found := false
		for i := range v.NumField() {
			if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); tag == name && v.Field(i).CanInt() {
				v.Field(i).SetInt(r.int(64))
				found = true
				break
			}
		}
		if !found {
			r.skip(0)
		}
	}
}

// What a decoded row of each kind costs beside its strings, for charge.
var (
	cellSize         = int64(reflect.TypeFor[Cell]().Size())
	entrySize        = int64(reflect.TypeFor[Entry]().Size())
	ownerTagSize     = int64(reflect.TypeFor[OwnerTag]().Size())
	accountOwnerSize = int64(reflect.TypeFor[[2]string]().Size()) + 2*stringHeader + 16
	timeSize         = int64(reflect.TypeFor[time.Time]().Size())
)

// detailCost is what one detail of one finding costs beside its value's bytes: its place in the group's details.
var detailCost = int64(reflect.TypeFor[checks.Detail]().Size())

func cellsOf(r *jsonReader, t *wireTable) ([]Cell, error) {
	if err := t.resolve(); err != nil {
		return nil, err
	}
	if len(t.cols) != len(cellColumns) {
		return nil, fmt.Errorf("%d columns, want %d", len(t.cols), len(cellColumns))
	}
	for i, name := range cellColumns {
		if t.cols[i].name != name {
			return nil, fmt.Errorf("column %d is %q, want %q", i, t.cols[i].name, name)
		}
	}
	if t.n == 0 {
		return nil, nil
	}
	if err := r.rowsBacked(t.n, cellSize); err != nil {
		return nil, err
	}
	out := make([]Cell, t.n)
	c := t.cols
	for i := range out {
		out[i] = Cell{AccountID: c[0].at(i), Region: c[1].at(i), Check: c[2].at(i), Outcome: Outcome(c[3].at(i)),
			Code: c[4].at(i), Message: c[5].at(i)}
	}
	return out, nil
}

// timeColumn parses a column of times once per dictionary entry. Row i's time is at(i); ok is false for "".
type timeColumn struct {
	c     *wireColumn
	times []time.Time
	set   []bool
}

func newTimeColumn(c *wireColumn, n int) (*timeColumn, error) {
	tc := &timeColumn{c: c}
	src := c.dict
	if c.plain {
		src = make([]string, n)
		for i := range n {
			src[i] = c.at(i)
		}
	}
	tc.times, tc.set = make([]time.Time, len(src)), make([]bool, len(src))
	for i, s := range src {
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		tc.times[i], tc.set[i] = t, true
	}
	return tc, nil
}

func (tc *timeColumn) at(i int) (time.Time, bool) {
	j := i
	switch {
	case tc.c.plain:
	case tc.c.index == nil:
		j = 0
	default:
		j = int(tc.c.index[i])
	}
	return tc.times[j], tc.set[j]
}

// appendGroup turns a group's columns into Entries.
func appendGroup(r *jsonReader, g *wireTable, version int, out *[]Entry, total int) error {
	if err := g.resolve(); err != nil {
		return err
	}
	n := g.n
	if len(g.cols) < nFindingColumns {
		return fmt.Errorf("%d columns, want at least %d", len(g.cols), nFindingColumns)
	}
	for i, name := range findingColumns {
		if g.cols[i].name != name {
			return fmt.Errorf("column %d is %q, want %q", i, g.cols[i].name, name)
		}
	}
	cols := g.cols[:nFindingColumns]
	details := g.cols[nFindingColumns:]
	if len(details) > maxDetailKeys {
		return fmt.Errorf("%d detail columns, the state holds at most %d", len(details), maxDetailKeys)
	}
	// Everything a row becomes: its Entry, its templated values, its details, its three times (parsed once per row
	// for a plain column) and an expiry and days left.
	rowCost := entrySize + int64(3+len(details))*stringHeader + 3*(stringHeader+timeSize+1) + timeSize + 8 +
		int64(len(details))*detailCost
	ids, err := detailIDs(g.check, details, version)
	if err != nil {
		return err
	}
	if err := r.rowsBacked(g.n, rowCost); err != nil {
		return err
	}
	var times [3]*timeColumn
	for i, col := range [...]int{colExpiresAt, colFirstSeen, colLastSeen} {
		tc, err := newTimeColumn(&cols[col], n)
		if err != nil {
			return err
		}
		times[i] = tc
	}
	if n == 0 {
		return nil
	}

	// Templated columns are expanded into one buffer per group, converted to a string once at the end.
	templated := make([]*wireColumn, 0, 3+len(details))
	templated = append(templated, &cols[colResourceName], &cols[colReason], &cols[colConsoleURL])
	for i := range details {
		templated = append(templated, &details[i])
	}
	values := make([][]string, len(templated))
	type fix struct {
		p          *string
		start, end int
	}
	buf := r.arena[:0]
	var fixes []fix
	for k, c := range templated {
		vals := make([]string, n)
		values[k] = vals
		var marked []bool // per dictionary entry
		if !c.plain {
			marked = make([]bool, len(c.dict))
			for j, v := range c.dict {
				marked[j] = strings.IndexByte(v, refMark) >= 0
			}
		}
		for i := range n {
			v := c.at(i)
			vals[i] = v
			switch {
			case c.plain:
				if strings.IndexByte(v, refMark) < 0 {
					continue
				}
			case c.index == nil:
				if !marked[0] {
					continue
				}
			case !marked[c.index[i]]:
				continue
			}
			t := templater{cols[colResourceID].at(i), cols[colRegion].at(i), cols[colAccountID].at(i)}
			start := len(buf)
			var err error
			if buf, err = t.expand(buf, v, r.lim.str); err != nil {
				return fmt.Errorf("column %s: %w", c.name, err)
			}
			if !r.charge(int64(len(buf) - start)) {
				return r.err
			}
			fixes = append(fixes, fix{&vals[i], start, len(buf)})
		}
	}
	r.arena = buf
	expanded := string(buf)
	for _, f := range fixes {
		*f.p = expanded[f.start:f.end]
	}

	// Pointers to expiries and days left come from one array each instead of one allocation per finding.
	nExpires, nDays := 0, 0
	for i := range n {
		if _, ok := times[0].at(i); ok {
			nExpires++
		}
	}
	for _, set := range g.hasDays {
		if set {
			nDays++
		}
	}
	expiries, daysLeft := make([]time.Time, 0, nExpires), make([]int, 0, nDays)

	base := len(*out)
	if cap(*out)-base < n {
		// Toward the total the state claims, in one step where it can: but only as far as four times the rows
		// read, which the stream backs (rowsBacked), not as far as a claim.
		want := max(base+n, min(total, 4*(base+n)))
		*out = slices.Grow(*out, want-base)
	}
	*out = (*out)[:base+n]
	entries := (*out)[base:]
	resourceName, reason, consoleURL, detailValues := values[0], values[1], values[2], values[3:]
	// Every row's details in one array, each row a slice of it that ends where its own do.
	nDetails := 0
	for i := range n {
		for k := range details {
			if g.has == nil || g.has[i]&(1<<k) != 0 {
				nDetails++
			}
		}
	}
	detailArena := make([]checks.Detail, 0, nDetails)
	for i := range n {
		e := &entries[i]
		e.Check = g.check
		e.Severity = checks.Severity(cols[colSeverity].at(i))
		e.AccountID = cols[colAccountID].at(i)
		e.AccountName = cols[colAccountName].at(i)
		e.Region = cols[colRegion].at(i)
		e.ResourceType = cols[colResourceType].at(i)
		e.ResourceID = cols[colResourceID].at(i)
		e.ResourceName = resourceName[i]
		e.Status = cols[colStatus].at(i)
		e.Reason = reason[i]
		e.ConsoleURL = consoleURL[i]
		if t, ok := times[0].at(i); ok {
			expiries = append(expiries, t)
			e.ExpiresAt = &expiries[len(expiries)-1]
		}
		if g.hasDays != nil && g.hasDays[i] {
			daysLeft = append(daysLeft, g.days[i])
			e.DaysLeft = &daysLeft[len(daysLeft)-1]
		}
		e.FirstSeen, _ = times[1].at(i)
		e.LastSeen, _ = times[2].at(i)
		var flags uint8
		if g.flags != nil {
			flags = g.flags[i]
		}
		e.Unverified, e.Suppressed = flags&flagUnverified != 0, flags&flagSuppressed != 0
		start := len(detailArena)
		for _, k := range ids.order {
			if g.has == nil || g.has[i]&(1<<k) != 0 {
				detailArena = append(detailArena, checks.Detail{ID: ids.ids[k], Value: detailValues[k][i]})
			}
		}
		row := detailArena[start:len(detailArena):len(detailArena)]
		if ids.shared {
			ids.settle(row, func(k int) bool { return g.has == nil || g.has[i]&(1<<k) != 0 })
		}
		e.Details = checks.NewDetails(g.check, row)
	}
	return nil
}

// groupIDs are the column IDs of a group's detail columns, in the group's order, and the order to read them in so
// each row's details come out sorted by ID.
type groupIDs struct {
	ids   []string
	order []int
	// shared says two columns of a version 2 group map to one ID (a header and a former one): settle parts them.
	shared bool
	// current says a version 2 column's header is its column's Name now; own is the ID its header alone gives it.
	current []bool
	own     []string
}

// layoutOf is the layout of a registered check: a test renames a column through it.
var layoutOf = func(check string) (checks.Layout, bool) {
	c, ok := checks.ByName(check)
	if !ok {
		return checks.Layout{}, false
	}
	return c.Layout(), true
}

// detailIDs names a group's detail columns by ID: as they are in version 3, through the check's layout in version 2.
func detailIDs(check string, details []wireColumn, version int) (*groupIDs, error) {
	g := &groupIDs{ids: make([]string, len(details)), order: make([]int, len(details))}
	var layout checks.Layout
	if version < 3 {
		layout, _ = layoutOf(check)
		g.current, g.own = make([]bool, len(details)), make([]string, len(details))
	}
	seen := make(map[string]bool, len(details))
	for k := range details {
		g.order[k] = k
		id := details[k].name
		if version < 3 {
			header := id
			g.own[k] = checks.UnknownHeaderID(header)
			id = g.own[k]
			if col := layout.ByHeader(header); col != nil {
				id, g.current[k] = col.ID, col.Name == header
			}
		}
		if seen[id] {
			if version >= 3 {
				return nil, fmt.Errorf("detail column %q twice", id)
			}
			g.shared = true
		}
		seen[id] = true
		g.ids[k] = id
	}
	slices.SortStableFunc(g.order, func(a, b int) int { return strings.Compare(g.ids[a], g.ids[b]) })
	return g, nil
}

// settle gives each ID to one detail of a row, where a version 2 finding held values under two headers of one
// column (its header and a former one): the value under the current header keeps the ID, or else the first; the
// other keeps its own header (UnknownHeaderID), never dropped. row holds the row's details in g.order of the columns
// present (has), and is sorted by ID again after.
func (g *groupIDs) settle(row []checks.Detail, has func(k int) bool) {
	cols := make([]int, 0, len(row))
	for _, k := range g.order {
		if has(k) {
			cols = append(cols, k)
		}
	}
	for i := 0; i < len(row); {
		j := i + 1
		for j < len(row) && row[j].ID == row[i].ID {
			j++
		}
		if j-i > 1 {
			keep := i
			for x := i; x < j; x++ {
				if g.current[cols[x]] {
					keep = x
					break
				}
			}
			for x := i; x < j; x++ {
				if x != keep {
					row[x].ID = g.own[cols[x]]
				}
			}
		}
		i = j
	}
	slices.SortStableFunc(row, func(a, b checks.Detail) int { return strings.Compare(a.ID, b.ID) })
}
