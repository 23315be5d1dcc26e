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
	// Previous returns the latest stored run whose run time is earlier than runTime, other than runID. When there
	// is none it can use (none stored, unreadable, another version, the store unreachable) it returns a nil state
	// and an *Unavailable that says why; the caller proceeds as a first run and shows the error.
	Previous(ctx context.Context, runTime time.Time, runID string) (*State, error)
	// Recent returns the summaries of the stored runs whose run time is in [from, to), oldest first. It reads
	// only each state's head. Runs it cannot read are left out and named in the error, beside the rest.
	Recent(ctx context.Context, from, to time.Time) ([]Summary, error)
	// PreviousOwnerTags returns the owner tags of the run Previous would return, reading the state only as far as
	// them, so a run learns its owners before it audits. Errors are Previous's.
	PreviousOwnerTags(ctx context.Context, runTime time.Time, runID string) ([]OwnerTag, error)
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
	case OtherFormat:
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

// Previous lists the lookback window once, then reads heads day by day from the run's date backwards, stopping at
// the first day that holds an earlier run: the key holds the date but not the time, and a run id need not be a
// time (runs named by an event), so the run time is read from each candidate's head — a ranged GET of its first
// bytes — and only the chosen state is read whole.
func (s *store) Previous(ctx context.Context, runTime time.Time, runID string) (*State, error) {
	return readPrevious(ctx, s, runTime, runID, Decode)
}

func (s *store) PreviousOwnerTags(ctx context.Context, runTime time.Time, runID string) ([]OwnerTag, error) {
	return readPrevious(ctx, s, runTime, runID, ReadOwnerTags)
}

// readPrevious finds the state Previous would read and reads it with read: whole, or only as far as read needs.
func readPrevious[T any](ctx context.Context, s *store, runTime time.Time, runID string, read func(io.Reader) (T, error)) (T, error) {
	var none T
	key, err := s.previousKey(ctx, runTime, runID)
	if err != nil {
		return none, err
	}
	rc, err := s.open(ctx, key, false)
	if err != nil {
		return none, unavailable(s.where(key), err)
	}
	defer rc.Close()
	v, err := read(rc)
	if err != nil {
		return none, unavailable(s.where(key), err)
	}
	return v, nil
}

// previousKey finds the key of the previous run's state.
func (s *store) previousKey(ctx context.Context, runTime time.Time, runID string) (string, error) {
	keys, err := s.list(ctx, runTime.Add(-s.lookback), runTime)
	if err != nil {
		return "", &Unavailable{Kind: Unreadable, Where: s.Where(), Err: err}
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
	for _, day := range days {
		var best *headResult
		results := s.heads(ctx, byDay[day])
		for i, h := range results {
			if h.err != nil {
				// Its run time is unknown, so it may be the previous run: comparing with an older one instead
				// would call new what that run saw.
				return "", unavailable(s.where(h.key), h.err)
			}
			if !h.summary.RunTime.Before(runTime) || h.summary.RunID == runID {
				continue
			}
			if best == nil || h.summary.RunTime.After(best.summary.RunTime) ||
				(h.summary.RunTime.Equal(best.summary.RunTime) && h.summary.RunID > best.summary.RunID) {
				best = &results[i]
			}
		}
		if best == nil {
			continue
		}
		return best.key, nil
	}
	return "", &Unavailable{Kind: NoneStored, Where: s.Where(), LookbackDays: int(s.lookback.Hours() / 24)}
}

func unavailable(where string, err error) *Unavailable {
	var fe *FormatError
	if errors.As(err, &fe) && fe.Err == nil {
		return &Unavailable{Kind: OtherFormat, Where: where, Err: err}
	}
	return &Unavailable{Kind: Unreadable, Where: where, Err: err}
}

func (s *store) Recent(ctx context.Context, from, to time.Time) ([]Summary, error) {
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
			out = append(out, h.summary)
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
