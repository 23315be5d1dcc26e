package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Run is a run's identity and its time: what names it, what started it, how long it may take and how it is cut into
// shards.
type Run struct {
	RunID string // empty = derived from RunTime or the start time
	// RunTime is when the run was meant to happen: a schedule's fire time. It names the run and dates its object key,
	// so a retried invocation is the same run. Zero = the start time.
	RunTime time.Time
	// Trigger is what started the run: scheduled, manual (a Lambda invocation with an override) or cli. It is part
	// of the digest's exactly-once marker, so a manual run never answers for a scheduled one.
	Trigger string
	// Timeout bounds the run (CLI -timeout); under Lambda the invocation deadline does. Zero = none.
	Timeout time.Duration
	// DeliveryMargin is kept free before the deadline for delivery. Zero = a fifth of the time, at most 60s.
	DeliveryMargin time.Duration
	// ShardSize is how many accounts one shard of a distributed run audits (internal/distributed).
	ShardSize int
}

// Triggers of a run.
const (
	TriggerScheduled = "scheduled"
	TriggerManual    = "manual"
	TriggerCLI       = "cli"
)

// DefaultShardSize is the accounts of one shard of a distributed run: at 150 calls an account and a few hundred
// milliseconds a call, fifty accounts end well inside one invocation's 15 minutes. maxShardSize keeps a shard, which
// Step Functions hands to its Lambda as the state's input, far under the 256 KB payload limit (about 150 bytes an
// account).
const (
	DefaultShardSize = 50
	maxShardSize     = 1000
)

var runID = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,80}$`)

// maxRunIDLen is the longest run id the runID pattern accepts.
const maxRunIDLen = 80

// Validate checks the run's identity, time and shards and reports all their problems at once.
func (r Run) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if r.ShardSize < 1 || r.ShardSize > maxShardSize {
		bad("shard size must be between 1 and %d, got %d", maxShardSize, r.ShardSize)
	}
	if r.Timeout < 0 || r.DeliveryMargin < 0 {
		bad("timeout and delivery margin cannot be negative")
	}
	if !slices.Contains([]string{TriggerScheduled, TriggerManual, TriggerCLI}, r.Trigger) {
		bad("trigger %q must be %s, %s or %s", r.Trigger, TriggerScheduled, TriggerManual, TriggerCLI)
	}
	if r.RunID != "" && !runID.MatchString(r.RunID) {
		bad("run id %q may hold only letters, digits and _.-", r.RunID)
	}
	return errors.Join(errs...)
}

// Identity names a run: the run id and the time its object key is dated by. A schedule's fire time gives both, so a
// retried invocation is the same run.
func (r Run) Identity(now time.Time) (runID string, runTime time.Time) {
	runTime = r.RunTime
	if runTime.IsZero() {
		runTime = now
	}
	runTime = runTime.UTC()
	runID = r.RunID
	if runID == "" {
		runID = runTime.Format("20060102T150405Z")
	}
	return runID, runTime
}

// RequestRunID names a manual run after the Lambda request that started it. Lambda retries a failed asynchronous
// invocation with the same request id, so the retry is the same run: the same workbook key, and a digest already
// sent is not sent again. A character a run id may not hold becomes '-'; the id is cut to a run id's length.
func RequestRunID(requestID string) string {
	id := []rune(requestID)
	for i, r := range id {
		if !runID.MatchString(string(r)) {
			id[i] = '-'
		}
	}
	return string(id[:min(len(id), maxRunIDLen)])
}
