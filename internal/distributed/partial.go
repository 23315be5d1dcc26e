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
	Findings int    `json:"findings"`
	Failures int    `json:"failures"`
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
		Cells: len(res.Cells), Findings: len(res.Findings), Failures: len(res.Failures)}})
	for i := 0; err == nil && i < len(res.Accounts); i++ {
		err = put(partialRecord{Account: &res.Accounts[i]})
	}
	for i := 0; err == nil && i < len(res.Cells); i++ {
		err = put(partialRecord{Cell: &res.Cells[i]})
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
type Merger struct {
	runID   string
	regions []string
	checks  []checks.Check
	res     crossaccount.Result
	failed  int
}

// NewMerger starts a merge from what the plan learned (rest: scope, skipped accounts, accounts not in the
// organization, a listing failure, owner tags), for a run of checks in regions.
func NewMerger(runID string, regions []string, cs []checks.Check, rest crossaccount.Result) *Merger {
	return &Merger{runID: runID, regions: regions, checks: cs, res: rest}
}

// Add decodes shard's partial result from r into the merge. On an error nothing of the partial is kept: the caller
// marks the shard failed.
func (m *Merger) Add(shard Shard, r io.Reader) (err error) {
	res := &m.res
	marks := [4]int{len(res.Accounts), len(res.Cells), len(res.Findings), len(res.Failures)}
	defer func() {
		if err != nil {
			res.Accounts, res.Cells = res.Accounts[:marks[0]], res.Cells[:marks[1]]
			res.Findings, res.Failures = res.Findings[:marks[2]], res.Failures[:marks[3]]
			err = fmt.Errorf("partial result of shard %d: %w", shard.Index, err)
		}
	}()
	zr, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(zr, 64<<10))
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
	var got partialHeader
	for {
		// A fresh record each line: the pointers it decodes into become the merged rows' copies.
		var rec partialRecord
		if err := dec.Decode(&rec); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		switch {
		case rec.Account != nil:
			res.Accounts = append(res.Accounts, *rec.Account)
			got.Accounts++
		case rec.Cell != nil:
			res.Cells = append(res.Cells, *rec.Cell)
			got.Cells++
		case rec.Finding != nil:
			res.Findings = append(res.Findings, *rec.Finding)
			got.Findings++
		case rec.Failure != nil:
			res.Failures = append(res.Failures, *rec.Failure)
			got.Failures++
		default:
			return errors.New("a record of no kind")
		}
	}
	got.RunID, got.Index, got.Partial = h.RunID, h.Index, h.Partial
	if got != *h {
		return fmt.Errorf("holds %d accounts, %d cells, %d findings, %d failures; its header says %d, %d, %d, %d",
			got.Accounts, got.Cells, got.Findings, got.Failures, h.Accounts, h.Cells, h.Findings, h.Failures)
	}
	if err := zr.Close(); err != nil {
		return err
	}
	res.Partial = res.Partial || h.Partial
	return nil
}

// Failed records every account of shard as not audited, every one of its cells an error with CodeShardFailed and
// why: Coverage still accounts for each.
func (m *Merger) Failed(shard Shard, why string) {
	m.failed++
	msg := fmt.Sprintf("not audited: shard %d failed (%s)", shard.Index, why)
	for _, a := range shard.Accounts {
		a.Self = false
		m.res.Accounts = append(m.res.Accounts, a)
		m.res.NotAudited(a, m.regions, m.checks, true, CodeShardFailed, msg)
	}
}

// ShardsFailed counts the shards Failed recorded.
func (m *Merger) ShardsFailed() int { return m.failed }

// Result is the merge, ordered and with every row's owner stamped.
func (m *Merger) Result() *crossaccount.Result {
	crossaccount.Settle(&m.res)
	return &m.res
}
