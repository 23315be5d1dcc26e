package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store keeps run states: in the report bucket (NewS3Store) or a local directory (NewDirStore), both under
// history/YYYY/MM/DD/<trigger>-<run id>.json.gz (Key), dated by the run time (UTC).
type Store interface {
	// Put stores s under its run time's date, trigger and run id; the same run again overwrites its own entry, and
	// no other run's.
	Put(ctx context.Context, s *State) error
	// Previous returns the latest stored run of the run's organization (Lineage) whose run time is earlier than
	// runTime, other than runID. Entries it cannot use (unreadable, another version, another organization's) are
	// passed over for the run before them: then the state comes with a *Caveats error that names them, a warning for
	// the run to show, not a failure. When there is none it can use (none stored, none readable, the store
	// unreachable) it returns a nil state and an *Unavailable that says why; the caller proceeds as a first run and
	// shows the error.
	Previous(ctx context.Context, runTime time.Time, runID string, l Lineage) (*State, error)
	// Recent returns the summaries of org's stored runs (and of states that name no organization) whose run time
	// is in [from, to), oldest first. It reads only each state's head. Runs it cannot read are left out and named in
	// the error, beside the rest.
	Recent(ctx context.Context, from, to time.Time, org Organization) ([]Summary, error)
	// PreviousOwnerTags returns the owner tags of the run Previous would return for org, reading the state only as
	// far as them, so a run learns its owners before it audits. A zero org (not known before the audit) takes the
	// latest run of any organization: tags are kept by account id, unique across AWS, and the fan-out keeps only
	// those of accounts its walk lists. Errors are Previous's.
	PreviousOwnerTags(ctx context.Context, runTime time.Time, runID string, org Organization) ([]OwnerTag, error)
	// Where names the store in messages: s3://bucket/prefix/history/ or a directory.
	Where() string
}

// DefaultLookback is how far back Previous looks for a run, and the Trend sheet's span.
const DefaultLookback = 90 * 24 * time.Hour

// headBytes is how much of a state Previous and Recent read to learn its run time and counts: the head is a few
// hundred bytes of JSON at the start of the gzip stream.
const headBytes = 64 << 10

// readConcurrency bounds the heads read at once.
const readConcurrency = 8

// UnavailableKind says why there is no previous state to compare with.
type UnavailableKind string

const (
	NoneStored  UnavailableKind = "none stored"
	Unreadable  UnavailableKind = "unreadable"
	OtherFormat UnavailableKind = "incompatible version"
	// OtherOrganization: the stored runs are another organization's (or, naming none, share no account with this
	// run).
	OtherOrganization UnavailableKind = "another organization's"
)

// Unavailable is why a run has no previous state: never fatal.
type Unavailable struct {
	Kind UnavailableKind
	// Where is the object or file at fault, or the store searched.
	Where string
	Err   error
	// LookbackDays is how far back a NoneStored search looked.
	LookbackDays int
}

func (e *Unavailable) Error() string {
	switch e.Kind {
	case NoneStored:
		return fmt.Sprintf("no previous run to compare with: none stored in %s in the last %d days", e.Where, e.LookbackDays)
	case OtherFormat, OtherOrganization:
		return fmt.Sprintf("no previous run to compare with: %s: %v", e.Where, e.Err)
	}
	return fmt.Sprintf("no previous run to compare with: %s is unreadable: %v", e.Where, e.Err)
}

func (e *Unavailable) Unwrap() error { return e.Err }

// Key is the store-relative name of a run's state: history/YYYY/MM/DD/<trigger>-<run id>.json.gz. The trigger is in
// it as in the digest's marker, so a manual run given the scheduled run's id keeps a state of its own rather than
// writing over the scheduled run's. States written before triggers named keys (history/YYYY/MM/DD/<run id>.json.gz,
// what an empty trigger names) are read as any other.
func Key(runTime time.Time, trigger, runID string) string {
	name := runID
	if trigger != "" {
		name = trigger + "-" + runID
	}
	return "history/" + runTime.UTC().Format("2006/01/02") + "/" + name + ".json.gz"
}

// ValidRunID rejects run ids that cannot name one file: empty, a path separator, "..", control characters.
func ValidRunID(id string) error {
	if id == "" || len(id) > 200 || strings.ContainsAny(id, "/\\") || strings.Contains(id, "..") ||
		strings.IndexFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return fmt.Errorf("run id %q cannot name a history entry: want up to 200 characters without / \\ .. or control characters", id)
	}
	return nil
}

// objects is what a backend does; store implements Store on top of it.
type objects interface {
	// list returns the keys (as Key makes them) of the days from..to inclusive, in any order.
	list(ctx context.Context, from, to time.Time) ([]string, error)
	// open reads a key, only its first headBytes when head is set.
	open(ctx context.Context, key string, head bool) (io.ReadCloser, error)
	put(ctx context.Context, key string, body []byte) error
	where(key string) string
}

type store struct {
	objects
	lookback time.Duration
}

func (s *store) Where() string { return s.where("history/") }

func (s *store) Put(ctx context.Context, st *State) error {
	if err := ValidRunID(st.RunID); err != nil {
		return err
	}
	if st.Trigger != "" {
		if err := ValidRunID(st.Trigger); err != nil {
			return fmt.Errorf("trigger: %w", err)
		}
	}
	var buf bytes.Buffer
	if err := Encode(&buf, st); err != nil {
		return err
	}
	key := Key(st.RunTime, st.Trigger, st.RunID)
	if err := s.put(ctx, key, buf.Bytes()); err != nil {
		return fmt.Errorf("store run state %s: %w", s.where(key), err)
	}
	return nil
}

type headResult struct {
	key     string
	summary Summary
	err     error
}

// heads reads the summaries of keys, a few at a time.
func (s *store) heads(ctx context.Context, keys []string) []headResult {
	out := make([]headResult, len(keys))
	sem := make(chan struct{}, readConcurrency)
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i].key = k
			rc, err := s.open(ctx, k, true)
			if err != nil {
				out[i].err = err
				return
			}
			defer rc.Close()
			out[i].summary, out[i].err = ReadSummary(rc)
		}()
	}
	wg.Wait()
	return out
}

// dayOfKey reads the date out of history/YYYY/MM/DD/<name>.json.gz; ok is false for anything else.
func dayOfKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "history/")
	if !ok || len(rest) < len("2006/01/02/x.json.gz") || !strings.HasSuffix(rest, ".json.gz") || strings.Count(rest, "/") != 3 {
		return "", false
	}
	if _, err := time.Parse("2006/01/02", rest[:10]); err != nil {
		return "", false
	}
	return rest[:10], true
}

// Caveats come with a previous run that was not simply the latest stored one: the entries passed over on the way
// to it, each with why (unreadable, another version, another organization's), or a note on how it was taken. The
// run compares with the state and shows each note as a warning.
type Caveats struct {
	RunID string
	Notes []string
	// Unreadable says that a run stored after RunID could not be read (rather than being another organization's):
	// what that run told, of the alerts since, say, is not known.
	Unreadable bool
}

func (c *Caveats) Error() string {
	return fmt.Sprintf("compared with run %s: %s", c.RunID, strings.Join(c.Notes, "; "))
}

// maxPassedOver bounds the entries Previous reads whole and passes over before it gives up: each read is bounded
// (decodeLimits), and so is their number.
const maxPassedOver = 8

// Previous lists the lookback window once, then reads heads day by day from the run's date backwards: the key holds
// the date but not the time, and a run id need not be a time (runs named by an event), so the run time and
// organization are read from each candidate's head (a ranged GET of its first bytes), and only the chosen state is
// read whole. An entry that cannot be used is passed over for the one before it, and named: comparing with an older
// run calls new what only the unreadable one saw, which is true of what this run can tell; comparing with none would
// call everything new and forget every first-seen date.
func (s *store) Previous(ctx context.Context, runTime time.Time, runID string, l Lineage) (*State, error) {
	return readPrevious(ctx, s, previousOf{runTime: runTime, runID: runID, lineage: l}, Decode, func(st *State, legacy bool) string {
		if legacy && !l.sharesAccount(st) {
			return "names no organization and holds none of this run's accounts"
		}
		return ""
	})
}

func (s *store) PreviousOwnerTags(ctx context.Context, runTime time.Time, runID string, org Organization) ([]OwnerTag, error) {
	return readPrevious(ctx, s, previousOf{runTime: runTime, runID: runID, lineage: Lineage{Organization: org}}, ReadOwnerTags, nil)
}

// candidate is a stored run that may be the previous one, from its head.
type candidate struct {
	key     string
	summary Summary
	legacy  bool
}

// previousOf is the run whose previous run is sought: its time and id, since its own state (stored by an earlier
// invocation of it) is not its previous run, and its lineage, which says whose runs count.
type previousOf struct {
	runTime time.Time
	runID   string
	lineage Lineage
}

// readPrevious finds the state Previous would read and reads it with read: whole, or only as far as read needs.
// refuse, when set, says why a state read whole is not the run's after all ("" when it is).
func readPrevious[T any](ctx context.Context, s *store, of previousOf, read func(io.Reader) (T, error), refuse func(T, bool) string) (T, error) {
	runTime, runID, l := of.runTime, of.runID, of.lineage
	var none T
	keys, err := s.list(ctx, runTime.Add(-s.lookback), runTime)
	if err != nil {
		return none, &Unavailable{Kind: Unreadable, Where: s.Where(), Err: err}
	}
	byDay := map[string][]string{}
	var days []string
	// The run's own state (stored by an earlier invocation of it) is not the previous run: its head says the same
	// run time. Its key is not known here, as the run's trigger is not.
	for _, k := range keys {
		day, ok := dayOfKey(k)
		if !ok {
			continue
		}
		if _, seen := byDay[day]; !seen {
			days = append(days, day)
		}
		byDay[day] = append(byDay[day], k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(days)))
	var notes []string
	var first *Unavailable // the newest entry passed over, for the error when none is usable
	unreadable := false
	passOver := func(u *Unavailable) {
		notes = append(notes, u.Where+": "+u.Err.Error())
		unreadable = unreadable || u.Kind != OtherOrganization
		if first == nil {
			first = u
		}
	}
	giveUp := func() (T, error) {
		if len(notes) > 1 {
			return none, &Unavailable{Kind: first.Kind, Where: first.Where, Err: fmt.Errorf("%w (and %d more entries passed over: %s)", first.Err, len(notes)-1, strings.Join(notes[1:], "; "))}
		}
		return none, first
	}
	read0 := 0
	for _, day := range days {
		var cands []candidate
		// Another organization's runs of this day, noted only if later than the run chosen: the ones before it
		// were never in the way.
		var others []candidate
		for _, h := range s.heads(ctx, byDay[day]) {
			if h.err != nil {
				passOver(unavailable(s.where(h.key), h.err))
				continue
			}
			if !h.summary.RunTime.Before(runTime) || h.summary.RunID == runID {
				continue
			}
			mine, legacy := l.whose(h.summary.Organization)
			if !mine && !legacy {
				others = append(others, candidate{key: h.key, summary: h.summary})
				continue
			}
			cands = append(cands, candidate{key: h.key, summary: h.summary, legacy: legacy})
		}
		// Latest first; of two at one time, the greater run id, as before.
		sort.Slice(cands, func(i, j int) bool {
			a, b := cands[i].summary, cands[j].summary
			if !a.RunTime.Equal(b.RunTime) {
				return a.RunTime.After(b.RunTime)
			}
			return a.RunID > b.RunID
		})
		otherOrganization := func(after time.Time) {
			for _, o := range others {
				if o.summary.RunTime.After(after) {
					passOver(&Unavailable{Kind: OtherOrganization, Where: s.where(o.key),
						Err: fmt.Errorf("the stored run is %s's (run %s), this run is %s's", o.summary.Organization, o.summary.RunID, l.Organization)})
				}
			}
		}
		for _, c := range cands {
			if read0 == maxPassedOver {
				return giveUp()
			}
			read0++
			v, err := readKey(ctx, s, c.key, read)
			if err != nil {
				passOver(unavailable(s.where(c.key), err))
				continue
			}
			if refuse != nil {
				if why := refuse(v, c.legacy); why != "" {
					passOver(&Unavailable{Kind: OtherOrganization, Where: s.where(c.key), Err: fmt.Errorf("the stored run %s %s", c.summary.RunID, why)})
					continue
				}
			}
			otherOrganization(c.summary.RunTime)
			if c.legacy && l.Organization.Key() != "" {
				notes = append(notes, fmt.Sprintf("%s was stored before runs named their organization and is taken as %s's", s.where(c.key), l.Organization))
			}
			if len(notes) > 0 {
				return v, &Caveats{RunID: c.summary.RunID, Notes: notes, Unreadable: unreadable}
			}
			return v, nil
		}
		otherOrganization(time.Time{})
	}
	if first != nil {
		return giveUp()
	}
	return none, &Unavailable{Kind: NoneStored, Where: s.Where(), LookbackDays: int(s.lookback.Hours() / 24)}
}

// readKey reads one stored state with read.
func readKey[T any](ctx context.Context, s *store, key string, read func(io.Reader) (T, error)) (T, error) {
	var none T
	rc, err := s.open(ctx, key, false)
	if err != nil {
		return none, err
	}
	defer rc.Close()
	return read(rc)
}

func unavailable(where string, err error) *Unavailable {
	var fe *FormatError
	if errors.As(err, &fe) && fe.Err == nil {
		return &Unavailable{Kind: OtherFormat, Where: where, Err: err}
	}
	return &Unavailable{Kind: Unreadable, Where: where, Err: err}
}

func (s *store) Recent(ctx context.Context, from, to time.Time, org Organization) ([]Summary, error) {
	keys, err := s.list(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("list run history in %s: %w", s.Where(), err)
	}
	var valid []string
	for _, k := range keys {
		if _, ok := dayOfKey(k); ok {
			valid = append(valid, k)
		}
	}
	var out []Summary
	var errs []error
	for _, h := range s.heads(ctx, valid) {
		switch {
		case h.err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", s.where(h.key), h.err))
		case !h.summary.RunTime.Before(from) && h.summary.RunTime.Before(to):
			if mine, legacy := (Lineage{Organization: org}).whose(h.summary.Organization); mine || legacy {
				out = append(out, h.summary)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].RunTime.Equal(out[j].RunTime) {
			return out[i].RunTime.Before(out[j].RunTime)
		}
		return out[i].RunID < out[j].RunID
	})
	if len(errs) > 0 {
		return out, fmt.Errorf("run history: %d stored runs unreadable: %w", len(errs), errors.Join(errs...))
	}
	return out, nil
}
