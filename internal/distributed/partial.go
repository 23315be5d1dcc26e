package distributed

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// A partial result is one shard's crossaccount.Result as gzip-compressed JSON lines: a header with the counts, then
// one record a line (an account, a cell, a finding or a failure). Lines let the report step decode one record at a
// time into the merged result, so it never holds a shard's copy beside it; the header's counts tell a whole partial
// from a cut one.

// partialHeader is a partial's first line.
type partialHeader struct {
	RunID    string `json:"run_id"`
	Index    int    `json:"index"`
	Partial  bool   `json:"partial"`
	Accounts int    `json:"accounts"`
	Cells    int    `json:"cells"`
	// Clean counts the clean cells among Cells: the merge holds those as counts, not rows, and sizes each apart.
	Clean    int `json:"clean,omitempty"`
	Findings int `json:"findings"`
	Failures int `json:"failures"`
}

// partialRecord is every other line: exactly one field set.
type partialRecord struct {
	Header  *partialHeader        `json:"header,omitempty"`
	Account *crossaccount.Account `json:"account,omitempty"`
	Cell    *crossaccount.Cell    `json:"cell,omitempty"`
	Finding *checks.Finding       `json:"finding,omitempty"`
	Failure *crossaccount.Failure `json:"failure,omitempty"`
}

// WritePartial writes shard index's result to w.
func WritePartial(w io.Writer, runID string, index int, res *crossaccount.Result) error {
	zw := gzip.NewWriter(w)
	bw := bufio.NewWriterSize(zw, 64<<10)
	enc := json.NewEncoder(bw)
	put := func(r partialRecord) error { return enc.Encode(r) }
	err := put(partialRecord{Header: &partialHeader{RunID: runID, Index: index, Partial: res.Partial, Accounts: len(res.Accounts),
		Cells: res.Cells.Len(), Clean: res.Cells.Clean(), Findings: len(res.Findings), Failures: len(res.Failures)}})
	for i := 0; err == nil && i < len(res.Accounts); i++ {
		err = put(partialRecord{Account: &res.Accounts[i]})
	}
	for c := range res.Cells.All() {
		if err != nil {
			break
		}
		err = put(partialRecord{Cell: &c})
	}
	for i := 0; err == nil && i < len(res.Findings); i++ {
		err = put(partialRecord{Finding: &res.Findings[i]})
	}
	for i := 0; err == nil && i < len(res.Failures); i++ {
		err = put(partialRecord{Failure: &res.Failures[i]})
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return fmt.Errorf("write partial result of shard %d: %w", index, err)
	}
	return nil
}

// Merger merges shards' partial results, one at a time, into one result.
//
// The merged rows are most of the report step's memory (at 10,000 accounts × 17 regions, 1.37 million cells), so
// the merge keeps one copy of every string the rows repeat: each record decodes its account id, name, owner and OU,
// region, check and outcome afresh, the same for all of an account's cells and findings. Its slices are sized from
// the partial results' headers, since a slice grown by appending briefly holds its old array beside the new one.
type Merger struct {
	runID   string
	regions []string
	checks  []checks.Check
	res     crossaccount.Result
	failed  int
	// strs maps each repeated string to the one copy the merged rows hold; Result drops it.
	strs map[string]string
	// shards is how many shards the run has (ExpectShards), done how many were added or recorded failed.
	shards, done int
	// One decompressor and one read buffer for every partial: a gzip reader holds its 32 KiB window.
	zr *gzip.Reader
	br *bufio.Reader
	// merged are the accounts whose rows are in the merge, from a partial or a failed shard: none twice.
	merged map[string]bool
}

// NewMerger starts a merge from what the plan learned (rest: scope, skipped accounts, accounts not in the
// organization, a listing failure, owner tags), for a run of checks in regions.
func NewMerger(runID string, regions []string, cs []checks.Check, rest crossaccount.Result) *Merger {
	return &Merger{runID: runID, regions: regions, checks: cs, res: rest}
}

// ExpectShards tells the merge how many shards the run has, so each partial result's header sizes the merged
// rows for the shards still to come rather than letting them grow by appending.
func (m *Merger) ExpectShards(n int) { m.shards = n }

// Add decodes shard's partial result from r into the merge. On an error nothing of the partial is kept: the caller
// marks the shard failed.
func (m *Merger) Add(shard Shard, r io.Reader) (err error) {
	res := &m.res
	marks := [3]int{len(res.Accounts), len(res.Findings), len(res.Failures)}
	cells := res.Cells.Mark()
	defer func() {
		if err != nil {
			// Cleared, not only cut: the rows past the marks would otherwise keep the partial's strings live.
			clear(res.Accounts[marks[0]:])
			clear(res.Findings[marks[1]:])
			clear(res.Failures[marks[2]:])
			res.Accounts = res.Accounts[:marks[0]]
			res.Findings, res.Failures = res.Findings[:marks[1]], res.Failures[:marks[2]]
			res.Cells.Cut(cells)
			err = fmt.Errorf("partial result of shard %d: %w", shard.Index, err)
		}
	}()
	if m.zr == nil {
		m.zr, err = gzip.NewReader(r)
	} else {
		err = m.zr.Reset(r)
	}
	if err != nil {
		return err
	}
	zr := m.zr
	if m.br == nil {
		m.br = bufio.NewReaderSize(zr, 64<<10)
	} else {
		m.br.Reset(zr)
	}
	// The decoder's own buffer goes with it when Add returns: no decoded string points into it.
	dec := json.NewDecoder(&lineLimit{r: m.br, max: maxRecordBytes})
	dec.DisallowUnknownFields()
	var head partialRecord
	if err := dec.Decode(&head); err != nil {
		return err
	}
	h := head.Header
	switch {
	case h == nil:
		return errors.New("no header")
	case h.RunID != m.runID || h.Index != shard.Index:
		return fmt.Errorf("written for run %s shard %d", h.RunID, h.Index)
	}
	// The header's counts are a claim: checked against the shard before they size anything, and against the
	// records after.
	// With regions "all", each account's regions are its own enabled ones, so the run's list does not bound them.
	cellsPer := crossaccount.CellsPerAccount(m.checks, max(len(m.regions), maxRegionsPerAccount))
	if err := checkHeader(h, len(shard.Accounts), cellsPer, maxMergedFindings-len(res.Findings)); err != nil {
		return err
	}
	// The shard's accounts, each to be found once in the partial; an account another shard already brought is
	// not merged twice.
	want := make(map[string]bool, len(shard.Accounts))
	for _, a := range shard.Accounts {
		if m.merged[a.ID] {
			return fmt.Errorf("account %s is already merged from another shard", a.ID)
		}
		want[a.ID] = true
	}
	if len(want) != len(shard.Accounts) {
		return fmt.Errorf("the manifest's shard %d names an account twice", shard.Index)
	}
	// The counts size the slices for the shards still to come as if each were as large as this one; findings,
	// which no header bounds, no further than one a cell.
	ahead := max(m.shards-m.done, 1)
	reserve(&res.Accounts, h.Accounts, ahead)
	res.Cells.Grow(reservation(h.Cells-h.Clean, ahead), reservation(h.Clean, ahead))
	reserve(&res.Findings, min(h.Findings, h.Cells), ahead)
	reserve(&res.Failures, h.Failures, ahead)
	seen := make(map[string]bool, len(shard.Accounts))
	// of checks that a row belongs to one of the shard's accounts.
	of := func(kind, id string) error {
		if !want[id] {
			return fmt.Errorf("a %s of account %q, which is not shard %d's", kind, id, shard.Index)
		}
		return nil
	}
	var got partialHeader
	for {
		var rec partialRecord
		if err := dec.Decode(&rec); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		switch {
		case rec.Account != nil:
			if err := of("record", rec.Account.ID); err != nil {
				return err
			}
			if seen[rec.Account.ID] {
				return fmt.Errorf("account %s twice", rec.Account.ID)
			}
			seen[rec.Account.ID] = true
			res.Accounts = append(res.Accounts, m.account(*rec.Account))
			got.Accounts++
		case rec.Cell != nil:
			if err := of("cell", rec.Cell.AccountID); err != nil {
				return err
			}
			res.Cells.Add(m.cell(*rec.Cell))
			got.Cells++
			if rec.Cell.Outcome == crossaccount.OutcomeClean {
				got.Clean++
			}
		case rec.Finding != nil:
			if err := of("finding", rec.Finding.AccountID); err != nil {
				return err
			}
			res.Findings = append(res.Findings, m.finding(*rec.Finding))
			got.Findings++
		case rec.Failure != nil:
			if err := of("failure", rec.Failure.AccountID); err != nil {
				return err
			}
			res.Failures = append(res.Failures, m.failure(*rec.Failure))
			got.Failures++
		default:
			return errors.New("a record of no kind")
		}
		if got.Accounts > h.Accounts || got.Cells > h.Cells || got.Clean > h.Clean || got.Findings > h.Findings || got.Failures > h.Failures {
			return fmt.Errorf("holds more records than its header says (%d accounts, %d cells, %d findings, %d failures)",
				h.Accounts, h.Cells, h.Findings, h.Failures)
		}
	}
	got.RunID, got.Index, got.Partial = h.RunID, h.Index, h.Partial
	if got != *h {
		return fmt.Errorf("holds %d accounts, %d cells (%d clean), %d findings, %d failures; its header says %d, %d (%d), %d, %d",
			got.Accounts, got.Cells, got.Clean, got.Findings, got.Failures, h.Accounts, h.Cells, h.Clean, h.Findings, h.Failures)
	}
	if err := zr.Close(); err != nil {
		return err
	}
	if m.merged == nil {
		m.merged = map[string]bool{}
	}
	for id := range want {
		m.merged[id] = true
	}
	res.Partial = res.Partial || h.Partial
	m.done++
	return nil
}

// maxReserveRows bounds the rows of one kind reserved ahead for shards still to come: more than the 1.37 million
// cells of 10,000 accounts in 17 regions; past it the merge grows by appending.
const maxReserveRows = 1 << 21

// maxRegionsPerAccount bounds the regions one account is audited in: AWS's largest partition has under 40.
const maxRegionsPerAccount = 64

// maxMergedFindings bounds the findings of a whole run: no check bounds its findings in a cell, so a header's claim
// is bounded by what the run can keep. The run's state (internal/history) refuses a finding_count past 10 million,
// so a run with more could not be recorded however it was merged.
const maxMergedFindings = 10_000_000

// maxRecordBytes bounds one line of a partial result: the decoder holds a whole record, and no account, cell,
// finding or failure the job writes comes near it.
const maxRecordBytes = 1 << 20

// checkHeader refuses a header whose counts could not be the shard's: exactly its accounts, at most every check in
// every region of each (cellsPer an account), at most one failure a cell and one an account, no more findings than the
// run has room for (findingsRoom), and no negative count.
func checkHeader(h *partialHeader, accounts, cellsPer, findingsRoom int) error {
	switch {
	case h.Accounts != accounts:
		return fmt.Errorf("its header says %d accounts; the shard has %d", h.Accounts, accounts)
	case h.Cells < 0 || h.Cells > accounts*cellsPer:
		return fmt.Errorf("its header says %d cells; %d accounts have at most %d", h.Cells, accounts, accounts*cellsPer)
	case h.Clean < 0 || h.Clean > h.Cells:
		return fmt.Errorf("its header says %d clean cells of %d", h.Clean, h.Cells)
	case h.Failures < 0 || h.Failures > h.Cells+accounts:
		return fmt.Errorf("its header says %d failures; %d cells of %d accounts have at most %d", h.Failures, h.Cells, accounts, h.Cells+accounts)
	case h.Findings < 0:
		return fmt.Errorf("its header says %d findings", h.Findings)
	case h.Findings > findingsRoom:
		return fmt.Errorf("its header says %d findings; the run has room for %d more (at most %d in all)", h.Findings,
			findingsRoom, maxMergedFindings)
	}
	return nil
}

// lineLimit fails a read once a line runs past max bytes, before the JSON decoder buffers it whole.
type lineLimit struct {
	r        io.Reader
	run, max int
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.run = 0
			continue
		}
		l.run++
		if l.run > l.max {
			return 0, fmt.Errorf("a record longer than %d bytes", l.max)
		}
	}
	return n, err
}

// reserve makes room in *s for n more rows; when it must grow, it sizes *s for ahead such batches at once, exactly,
// where append would grow it by a quarter at a time, each time copying.
// The plan's shard count is read from S3 too, so the room reserved ahead stops at maxReserveRows a kind.
func reserve[T any](s *[]T, n, ahead int) {
	if n < 0 || cap(*s)-len(*s) >= n {
		return
	}
	room := reservation(n, ahead)
	grown := make([]T, len(*s), len(*s)+room)
	copy(grown, *s)
	*s = grown
}

// reservation is the room to reserve for n rows of a partial result and ahead such partials: all of them when
// more are to come, up to maxReserveRows.
func reservation(n, ahead int) int {
	if n <= 0 || ahead <= 1 {
		return max(n, 0)
	}
	return max(n, min(maxReserveRows, n*min(ahead, maxReserveRows)))
}

// intern returns the merge's one copy of s.
func (m *Merger) intern(s string) string {
	if s == "" {
		return ""
	}
	if m.strs == nil {
		m.strs = map[string]string{}
	}
	if c, ok := m.strs[s]; ok {
		return c
	}
	m.strs[s] = s
	return s
}

// The strings each kind of row repeats: an account's (its id, name, owner, OU, partition and owner notes), and the
// run's few regions, checks, outcomes, codes, severities, statuses and detail columns. A message is interned too: a
// failure repeats its message in each of the account's cells it stops. A resource's id, name and link are its own.

func (m *Merger) account(a crossaccount.Account) crossaccount.Account {
	a.ID, a.Name, a.Partition, a.OU = m.intern(a.ID), m.intern(a.Name), m.intern(a.Partition), m.intern(a.OU)
	a.Owner, a.OwnerNote, a.OwnerUnknown = m.intern(a.Owner), m.intern(a.OwnerNote), m.intern(a.OwnerUnknown)
	return a
}

func (m *Merger) cell(c crossaccount.Cell) crossaccount.Cell {
	c.AccountID, c.AccountName, c.Owner, c.OU = m.intern(c.AccountID), m.intern(c.AccountName), m.intern(c.Owner), m.intern(c.OU)
	c.Region, c.Check, c.Outcome = m.intern(c.Region), m.intern(c.Check), crossaccount.Outcome(m.intern(string(c.Outcome)))
	c.Code, c.Message = m.intern(c.Code), m.intern(c.Message)
	return c
}

func (m *Merger) failure(f crossaccount.Failure) crossaccount.Failure {
	f.AccountID, f.AccountName, f.Owner, f.OU = m.intern(f.AccountID), m.intern(f.AccountName), m.intern(f.Owner), m.intern(f.OU)
	f.Region, f.Check, f.Code, f.Message = m.intern(f.Region), m.intern(f.Check), m.intern(f.Code), m.intern(f.Message)
	return f
}

func (m *Merger) finding(f checks.Finding) checks.Finding {
	// The partial carries details by header, as the JSON result does: keyed by column ID again for history and reports.
	f.BindDetails()
	f.AccountID, f.AccountName, f.Owner, f.OU = m.intern(f.AccountID), m.intern(f.AccountName), m.intern(f.Owner), m.intern(f.OU)
	f.Region, f.Check, f.Severity = m.intern(f.Region), m.intern(f.Check), checks.Severity(m.intern(string(f.Severity)))
	f.ResourceType, f.Status, f.Reason, f.Change = m.intern(f.ResourceType), m.intern(f.Status), m.intern(f.Reason), m.intern(f.Change)
	return f
}

// Failed records every account of shard as not audited, every one of its cells an error with CodeShardFailed and
// why: Coverage still accounts for each.
func (m *Merger) Failed(shard Shard, why string) {
	m.failed++
	m.done++
	msg := fmt.Sprintf("not audited: shard %d failed (%s)", shard.Index, why)
	if m.merged == nil {
		m.merged = map[string]bool{}
	}
	for _, a := range shard.Accounts {
		if m.merged[a.ID] {
			continue // another shard's partial brought it; its rows are there once
		}
		m.merged[a.ID] = true
		a.Self = false
		m.res.Accounts = append(m.res.Accounts, a)
		m.res.NotAudited(a, m.regions, m.checks, true, CodeShardFailed, msg)
	}
}

// ShardsFailed counts the shards Failed recorded.
func (m *Merger) ShardsFailed() int { return m.failed }

// Result is the merge, ordered and with every row's owner stamped.
func (m *Merger) Result() *crossaccount.Result {
	m.strs = nil // the rows hold their strings; the table is only for merging
	crossaccount.Settle(&m.res)
	return &m.res
}
