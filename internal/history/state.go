package history

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// Version is the state format this code writes. It reads it and version 2, the last before it (readable): a state of
// another version is not compared with, and the run proceeds as a first run and says why. Version 3 keeps a
// finding's details by column ID; version 2 kept them by header, which a read maps to IDs (wire.go).
const Version = 3

// readable says whether this build reads a state of version v.
func readable(v int) bool { return v == Version || v == 2 }

// Outcome is how one cell ended, as crossaccount reports it.
type Outcome string

const (
	OutcomeFindings Outcome = "findings"
	OutcomeClean    Outcome = "clean"
	OutcomeError    Outcome = "error"
)

// AllRegions stands for the region of a cell that failed for every region of its account (the role could not be
// assumed, or the regions could not be listed). It is crossaccount.AllRegions, repeated because history may not import
// crossaccount.
const AllRegions = "all"

// Cell is one account × region × check and how it ended: the job converts crossaccount.Cell into it.
type Cell struct {
	AccountID string  `json:"account_id"`
	Region    string  `json:"region"`
	Check     string  `json:"check"`
	Outcome   Outcome `json:"outcome"`
	Code      string  `json:"code,omitempty"`
	Message   string  `json:"message,omitempty"`
}

// ran says whether the cell read its account and region to the end, so a finding absent from it is really gone.
func (c Cell) ran() bool { return c.Outcome == OutcomeClean || c.Outcome == OutcomeFindings }

// Counts are one run's figures, for the subject and the Trend sheet. Severity counts leave out suppressed findings
// and carried unverified ones, as the subject does.
type Counts struct {
	Critical   int `json:"critical"`
	Warning    int `json:"warning"`
	Notice     int `json:"notice"`
	New        int `json:"new"`
	Escalated  int `json:"escalated"`
	Ongoing    int `json:"ongoing"`
	Resolved   int `json:"resolved"`
	Unverified int `json:"unverified"`
	Suppressed int `json:"suppressed"`
	// AccountsAudited counts accounts whose every cell ran (none failed), as report.Result does; AccountsInScope
	// every account the run set out to audit.
	AccountsAudited int `json:"accounts_audited"`
	AccountsInScope int `json:"accounts_in_scope"`
}

// Entry is a finding as a run stores it: the whole finding, so a later run can show it again when it is resolved or
// cannot be re-checked, plus what the diff carries forward.
type Entry struct {
	checks.Finding
	FirstSeen time.Time `json:"first_seen"`
	// LastSeen is the run time of the last run that found it: this run's, or an earlier one's for an entry carried
	// as unverified.
	LastSeen time.Time `json:"last_seen"`
	// Unverified marks an entry carried from an earlier run because its cell failed in this one: not found, not
	// resolved either. The next run that reads its cell settles it.
	Unverified bool `json:"unverified,omitempty"`
	Suppressed bool `json:"suppressed,omitempty"`
}

// State is what one run stores and the next one compares with. The fields up to Counts come first in the encoding,
// so a Summary is read from the first bytes of the stream (ReadSummary) without decoding the findings.
type State struct {
	Version       int       `json:"version"`
	RunID         string    `json:"run_id"`
	RunTime       time.Time `json:"run_time"`
	AsOf          time.Time `json:"as_of"`
	PreviousRunID string    `json:"previous_run_id,omitempty"`
	Counts        Counts    `json:"counts"`
	// Organization is whose run it was; zero in a state written before states named it (see Lineage).
	Organization Organization `json:"organization"`
	// Trigger is what started the run (scheduled, manual, cli). It names the state's key beside the run id (Key),
	// and the key is where it is kept: the encoding does not hold it, so a state read back has none.
	Trigger string `json:"-"`
	// Accounts are the ids of the accounts in scope: a later run tells "left the organization" from "not audited".
	Accounts []string `json:"accounts"`
	// OwnerTags are the accounts' owner tags as last read, carried from run to run so each run reads only a budget
	// of them. A state written before owners were kept has none: the next run reads them afresh.
	OwnerTags []OwnerTag `json:"owner_tags,omitempty"`
	// Cells are the run's cells as read back; a state NewState made from a Run with a CellSource has none here and
	// writes the source's.
	Cells    []Cell  `json:"cells"`
	Findings []Entry `json:"findings"`
	// cellSource, when set, is what Encode writes as the cells, in place of Cells.
	cellSource CellSource
}

// OwnerTag is one account's owner tag as a run read it: the value when the account has the tag (Found), and when.
type OwnerTag struct {
	AccountID string    `json:"account_id"`
	Value     string    `json:"value,omitempty"`
	Found     bool      `json:"found,omitempty"`
	ReadAt    time.Time `json:"read_at"`
}

// Summary is the head of a stored state: enough for the Trend sheet and for choosing the previous run.
type Summary struct {
	RunID   string    `json:"run_id"`
	RunTime time.Time `json:"run_time"`
	AsOf    time.Time `json:"as_of"`
	Counts  Counts    `json:"counts"`
	// Organization chooses the previous run; the Trend sheet holds one organization's runs and does not show it.
	Organization Organization `json:"-"`
}

// Summary returns the state's head.
func (s *State) Summary() Summary {
	return Summary{RunID: s.RunID, RunTime: s.RunTime, AsOf: s.AsOf, Counts: s.Counts, Organization: s.Organization}
}

// FormatError says a stored state cannot be used: not gzip, not JSON, or of another version.
type FormatError struct {
	// Version is the version found, when the head could be read.
	Version int
	Err     error
}

func (e *FormatError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("state format version %d, this build reads versions 2 to %d", e.Version, Version)
	}
	return "unreadable state: " + e.Err.Error()
}

func (e *FormatError) Unwrap() error { return e.Err }

// Encode writes s as gzip JSON (the layout is in wire.go). BestSpeed: the default level takes 4.5 times as long to
// deflate 100,000 findings for 11% less (4.29 MB against 4.83 MB; BenchmarkEncodeDecode100k, TestSize100k).
func Encode(w io.Writer, s *State) error {
	if s.Version == 0 {
		s.Version = Version
	}
	if s.Version != Version {
		return fmt.Errorf("encode state: version %d, this build writes version %d", s.Version, Version)
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if err := writeState(zw, s); err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return nil
}

// Decode reads a state written by Encode. A state it cannot use is a *FormatError.
func Decode(r io.Reader) (*State, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, &FormatError{Err: fmt.Errorf("gzip: %w", err)}
	}
	defer zr.Close()
	s, err := readState(zr, defaultLimits)
	if err != nil {
		return nil, err
	}
	if s.RunTime.IsZero() || s.RunID == "" {
		return nil, &FormatError{Err: errors.New("state names no run id or run time")}
	}
	return s, nil
}

// cappedReader reads r up to left bytes, then fails: unlike io.LimitReader, a stream cut there is an error, not an
// end.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("the head of the state is longer than %d bytes", headLimit)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// ReadSummary reads only the head of a state: it stops decoding at the first field after counts, so a state of
// 100,000 findings costs a few kilobytes of inflation, and a store may fetch only the object's first bytes.
func ReadSummary(r io.Reader) (Summary, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Summary{}, &FormatError{Err: fmt.Errorf("gzip: %w", err)}
	}
	defer zr.Close()
	// The head is a few hundred bytes: reading past headLimit is a state to refuse, not one to inflate further.
	dec := json.NewDecoder(&cappedReader{r: zr, left: headLimit})
	var head struct {
		Version int `json:"version"`
		Summary
	}
	fail := func(err error) (Summary, error) { return Summary{}, &FormatError{Err: fmt.Errorf("json: %w", err)} }
	if tok, err := dec.Token(); err != nil {
		return fail(err)
	} else if tok != json.Delim('{') {
		return fail(fmt.Errorf("state is not an object"))
	}
	headFields := []string{"version", "run_id", "run_time", "as_of", "previous_run_id", "counts", "organization"}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		name, _ := tok.(string)
		if !slices.Contains(headFields, name) {
			break
		}
		var err2 error
		switch name {
		case "version":
			err2 = dec.Decode(&head.Version)
		case "run_id":
			err2 = dec.Decode(&head.RunID)
		case "run_time":
			err2 = dec.Decode(&head.RunTime)
		case "as_of":
			err2 = dec.Decode(&head.AsOf)
		case "counts":
			err2 = dec.Decode(&head.Counts)
		case "organization":
			if err2 = dec.Decode(&head.Organization); err2 == nil {
				err2 = head.Organization.validate()
			}
		default:
			var skip json.RawMessage
			err2 = dec.Decode(&skip)
		}
		if err2 != nil {
			return fail(err2)
		}
	}
	if !readable(head.Version) {
		return Summary{}, &FormatError{Version: head.Version}
	}
	if head.RunTime.IsZero() || head.RunID == "" {
		return Summary{}, &FormatError{Err: errors.New("state names no run id or run time")}
	}
	return head.Summary, nil
}
