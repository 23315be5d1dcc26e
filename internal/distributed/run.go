// Package distributed is the job split into steps for AWS Step Functions' Distributed Map: plan lists the
// organization and writes a manifest of shards to S3, each shard audits its accounts through crossaccount's fan-out
// and writes its partial result, and report streams the partial results into one crossaccount.Result and finishes it
// as a single run does (internal/audit's Job.Finish). A shard that left no result is reported, account by account,
// as not audited. It imports internal/audit, crossaccount, checks and delivery.
package distributed

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/internal/config"
)

// CodeShardFailed marks the cells of the accounts of a shard that left no partial result.
const CodeShardFailed = "ShardFailed"

// Run is what every step of one run shares, fixed by plan and passed down, so that a retried step is the same run:
// the same id, as-of and object keys.
type Run struct {
	RunID   string    `json:"run_id"`
	RunTime time.Time `json:"run_time"`
	AsOf    time.Time `json:"as_of"`
	Trigger string    `json:"trigger"`
	Regions []string  `json:"regions"`
	Checks  []string  `json:"checks"`
	// Override is the manual override the run was started with, laid again over the deployment's settings by each
	// step; its run id, as-of, regions and checks give way to the fields above.
	Override *config.Override `json:"override,omitempty"`
}

// Object is an S3 object's location.
type Object struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// Settings are the deployment's settings with the run laid over them.
func (r Run) Settings(base config.Settings) (config.Settings, error) {
	if r.RunID == "" || r.RunTime.IsZero() || r.AsOf.IsZero() {
		return base, &config.InvalidEventError{Err: fmt.Errorf("run: run_id, run_time and as_of are required")}
	}
	ev := config.Event{Kind: "manual"}
	if r.Trigger == config.TriggerScheduled {
		ev.Kind = "scheduled"
	}
	if r.Override != nil {
		ev.Override = *r.Override
	}
	s, err := ev.Apply(base)
	if err != nil {
		return s, err
	}
	s.RunID, s.RunTime, s.AsOf, s.Trigger = r.RunID, r.RunTime.UTC(), r.AsOf.UTC(), r.Trigger
	s.Regions, s.Checks = r.Regions, r.Checks
	if err := s.Normalized().Validate(); err != nil {
		return s, &config.InvalidEventError{Err: fmt.Errorf("run: %w", err)}
	}
	return s, nil
}

// runDir is <prefix>/runs/YYYY/MM/DD/<trigger>-<run id>: a scheduled and a manual run of the same id never share it.
func runDir(prefix string, r Run) string {
	return path.Join(strings.Trim(prefix, "/"), "runs", r.RunTime.UTC().Format("2006/01/02"), r.Trigger+"-"+r.RunID)
}

// MapResultsPrefix is where the state machine's ResultWriter writes the Map's results (management.yaml): one
// <map run id>/ folder of result files and their manifest.json a run.
func MapResultsPrefix(prefix string) string {
	return path.Join(strings.Trim(prefix, "/"), "runs", "map-results")
}

// ManifestKey, PlanKey and PartialKey are where a run's objects live.
func ManifestKey(prefix string, r Run) string { return runDir(prefix, r) + "/manifest.json" }
func PlanKey(prefix string, r Run) string     { return runDir(prefix, r) + "/plan.json" }
func PartialKey(prefix string, r Run, index int) string {
	return fmt.Sprintf("%s/shards/%d.json.gz", runDir(prefix, r), index)
}
