package distributed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// Steps of a distributed run, as the "step" field of the Lambda's event names them.
const (
	StepPlan   = "plan"
	StepShard  = "shard"
	StepReport = "report"
)

// Shard is one item of the manifest: the accounts one shard audits.
type Shard struct {
	Index    int                    `json:"index"`
	Accounts []crossaccount.Account `json:"accounts"`
}

// PlanEvent starts a run: Event is what the state machine was started with (a schedule's input, a manual override,
// or nothing), decoded as the single mode decodes its own event.
type PlanEvent struct {
	Step  string          `json:"step"`
	Event json.RawMessage `json:"event,omitempty"`
}

// ShardEvent audits one shard of a planned run.
type ShardEvent struct {
	Step  string `json:"step"`
	Run   Run    `json:"run"`
	Shard Shard  `json:"shard"`
}

// ReportEvent merges and delivers a run. Map is the Map state's output: where its ResultWriter wrote the shards'
// results (or, from a state machine without one, one entry per shard in the manifest's order); MapError is the Map
// state's own error when it failed as a whole.
type ReportEvent struct {
	Step     string          `json:"step"`
	Run      Run             `json:"run"`
	Manifest Object          `json:"manifest"`
	Map      json.RawMessage `json:"map,omitempty"`
	MapError *StatesError    `json:"map_error,omitempty"`
}

// StatesError is how Step Functions hands on an error: its name and its cause.
type StatesError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// IsStepEvent says raw is an object with a "step" field: an event for one step of a distributed run. Anything else
// is the single mode's event.
func IsStepEvent(raw []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) != nil {
		return false
	}
	_, ok := probe["step"]
	return ok
}

// DecodeStep decodes a step event strictly (an unknown field is an error) into a *PlanEvent, *ShardEvent or
// *ReportEvent. The error is an *config.InvalidEventError.
func DecodeStep(raw []byte) (any, error) {
	ev, err := decodeStep(raw)
	if err != nil {
		return nil, &config.InvalidEventError{Err: fmt.Errorf("step event: %w", err)}
	}
	return ev, nil
}

var accountIDPattern = regexp.MustCompile(`^\d{12}$`)

func decodeStep(raw []byte) (any, error) {
	var probe struct {
		Step string `json:"step"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf(`"step" must be a string: %w`, err)
	}
	switch probe.Step {
	case StepPlan:
		var ev PlanEvent
		return &ev, config.DecodeStrict(raw, &ev)
	case StepShard:
		var ev ShardEvent
		if err := config.DecodeStrict(raw, &ev); err != nil {
			return nil, err
		}
		if ev.Shard.Index < 0 || len(ev.Shard.Accounts) == 0 {
			return nil, fmt.Errorf("shard %d holds no accounts", ev.Shard.Index)
		}
		for _, a := range ev.Shard.Accounts {
			if !accountIDPattern.MatchString(a.ID) {
				return nil, fmt.Errorf("shard %d: account id %q is not 12 digits", ev.Shard.Index, a.ID)
			}
		}
		return &ev, nil
	case StepReport:
		var ev ReportEvent
		if err := config.DecodeStrict(raw, &ev); err != nil {
			return nil, err
		}
		if ev.Manifest.Bucket == "" || ev.Manifest.Key == "" {
			return nil, errors.New(`"manifest" needs a bucket and a key`)
		}
		return &ev, nil
	}
	return nil, fmt.Errorf("step %q is not one of %s, %s, %s", probe.Step, StepPlan, StepShard, StepReport)
}

// mapWritten is the Map state's output when its ResultWriter wrote the children's results to S3: the map run, and
// the manifest of the result files.
// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
type mapWritten struct {
	MapRunArn           string `json:"MapRunArn"`
	ResultWriterDetails *struct {
		Bucket string `json:"Bucket"`
		Key    string `json:"Key"`
	} `json:"ResultWriterDetails"`
}

// decodeMap reads the report event's "map": the ResultWriter's details (an object), or, from an execution started
// before the state machine wrote its results to S3, the array of the children's outputs, read into causes.
func decodeMap(raw json.RawMessage) (causes map[int]string, written *Object, err error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		causes, err = mapErrors(raw)
		return causes, nil, err
	}
	var w mapWritten
	if err := json.Unmarshal(t, &w); err != nil {
		return nil, nil, fmt.Errorf(`"map" is not the Map's ResultWriter output: %w`, err)
	}
	if w.ResultWriterDetails == nil || w.ResultWriterDetails.Bucket == "" || w.ResultWriterDetails.Key == "" {
		return nil, nil, errors.New(`"map" has no ResultWriterDetails with a bucket and a key`)
	}
	return map[int]string{}, &Object{Bucket: w.ResultWriterDetails.Bucket, Key: w.ResultWriterDetails.Key}, nil
}

// mapEntry is what the report reads of one Map entry: a shard's answer, or the error its iteration ended with. Read
// leniently: only the error matters (the partial is found by its key), and the Map's wrapping of a failed iteration
// is Step Functions', not ours.
type mapEntry struct {
	Index *int   `json:"index"`
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// mapErrors are the Map's errors by shard index: an entry that names its index is that shard's, any other the
// shard at its position.
func mapErrors(raw json.RawMessage) (map[int]string, error) {
	out := map[int]string{}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return out, nil
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf(`"map" is not an array: %w`, err)
	}
	for i, e := range entries {
		var m mapEntry
		if json.Unmarshal(e, &m) != nil {
			continue
		}
		idx := i
		if m.Index != nil {
			idx = *m.Index
		}
		if m.Error != "" || m.Cause != "" {
			out[idx] = statesCause(m.Error, m.Cause)
		}
	}
	return out, nil
}

// statesCause is an error and its cause as one short line.
func statesCause(name, cause string) string {
	s := name
	if cause != "" {
		s += ": " + cause
	}
	s = string(bytes.Join(bytes.Fields([]byte(s)), []byte(" ")))
	if r := []rune(s); len(r) > maxCauseRunes {
		s = string(r[:maxCauseRunes]) + "…"
	}
	return s
}

// maxCauseRunes bounds the cause each of a failed shard's cells carries: a Lambda's Cause is its whole error
// payload, stack trace and all.
const maxCauseRunes = 300
