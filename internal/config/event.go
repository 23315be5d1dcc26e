package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// Event is what the Lambda receives. Three kinds are accepted:
//   - an EventBridge rule's scheduled event ("source": "aws.events", "detail-type": "Scheduled Event");
//   - an EventBridge Scheduler invocation, whose input our template sets to {"source": "aws.scheduler", ...};
//   - a manual invoke: {} or an override object, decoded strictly (an unknown field is an error).
type Event struct {
	Kind          string    // scheduled, scheduler or manual
	ScheduledTime time.Time // when the schedule fired; zero for manual
	// ReplayName names the EventBridge archive replay that delivered a scheduled event again; empty otherwise. A
	// replayed event keeps its original time, so it is the same run as the original, under the same marker.
	ReplayName string
	Override   Override
}

// Override is the manual event: every field optional, each replacing the deployment's setting.
type Override struct {
	Accounts        []string `json:"accounts,omitempty"`
	ExcludeAccounts []string `json:"exclude_accounts,omitempty"`
	Regions         []string `json:"regions,omitempty"`
	Checks          []string `json:"checks,omitempty"`
	ExpiryDays      []int    `json:"expiry_days,omitempty"`
	StuckAfter      string   `json:"stuck_after,omitempty"`
	LapsedDays      *int     `json:"lapsed_days,omitempty"`
	AsOf            string   `json:"as_of,omitempty"`
	Concurrency     int      `json:"concurrency,omitempty"`
	DryRun          *bool    `json:"dry_run,omitempty"`
	RunID           string   `json:"run_id,omitempty"`
	// NoHistory runs without memory: a one-off (a narrowed scope, another as_of) that should neither be compared
	// with the daily runs nor become the baseline the next daily run compares with.
	NoHistory *bool `json:"no_history,omitempty"`
	// Digest is full or changes.
	Digest string `json:"digest,omitempty"`
	// OnDemand reads the expiring reservations' on-demand rates for this run (config.Pricing); the deployment must
	// grant pricing:GetProducts (OnDemandRates=true), or each finding says the price list refused.
	OnDemand *bool `json:"on_demand,omitempty"`
}

// eventBridgeScheduled is the documented envelope of a scheduled event.
type eventBridgeScheduled struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
	// ReplayName is the one field a replay from an archive adds to the archived event.
	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-archive.html
	ReplayName *string `json:"replay-name,omitempty"`
}

// replayName is StartReplay's pattern for a replay's name.
var replayName = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)

// schedulerInput is the input deploy/cloudformation gives the Scheduler target, filled from the Scheduler's
// context attributes (<aws.scheduler.scheduled-time> and friends).
type schedulerInput struct {
	Source        string `json:"source"`
	ScheduledTime string `json:"scheduled_time"`
	ExecutionID   string `json:"execution_id,omitempty"`
	ScheduleARN   string `json:"schedule_arn,omitempty"`
}

// InvalidEventError is a rejected event or override. Under Lambda its type name becomes the invocation's errorType,
// so an alarm or a log query can tell bad input from a failed run.
type InvalidEventError struct{ Err error }

func (e *InvalidEventError) Error() string { return e.Err.Error() }
func (e *InvalidEventError) Unwrap() error { return e.Err }

// maxEventBytes bounds what we are willing to parse; a Lambda async payload is at most 256 KB anyway.
const maxEventBytes = 256 << 10

// DecodeEvent tells the kinds apart and decodes each strictly.
func DecodeEvent(raw []byte) (Event, error) {
	ev, err := decodeEvent(raw)
	if err != nil {
		return Event{}, &InvalidEventError{err}
	}
	return ev, nil
}

func decodeEvent(raw []byte) (Event, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > maxEventBytes {
		return Event{}, fmt.Errorf("event is %d bytes; at most %d are accepted", len(raw), maxEventBytes)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return Event{Kind: "manual"}, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Event{}, fmt.Errorf("event is not a JSON object: %w", err)
	}
	var source string
	if s, ok := probe["source"]; ok {
		if err := json.Unmarshal(s, &source); err != nil {
			return Event{}, errors.New(`event field "source" must be a string`)
		}
	}
	switch source {
	case "aws.events":
		var e eventBridgeScheduled
		if err := DecodeStrict(raw, &e); err != nil {
			return Event{}, fmt.Errorf("EventBridge event: %w", err)
		}
		if e.DetailType != "Scheduled Event" {
			return Event{}, fmt.Errorf("EventBridge event of type %q: only Scheduled Event starts an audit", e.DetailType)
		}
		if e.Time.IsZero() {
			return Event{}, errors.New(`EventBridge scheduled event has no "time"`)
		}
		ev := Event{Kind: "scheduled", ScheduledTime: e.Time.UTC()}
		if e.ReplayName != nil {
			if !replayName.MatchString(*e.ReplayName) {
				return Event{}, fmt.Errorf(`EventBridge event "replay-name" %q is not a replay's name (1-64 of letters, digits and ._-)`, *e.ReplayName)
			}
			ev.ReplayName = *e.ReplayName
		}
		return ev, nil
	case "aws.scheduler":
		var e schedulerInput
		if err := DecodeStrict(raw, &e); err != nil {
			//lint:ignore ST1005 Scheduler is the service's name (EventBridge Scheduler), not the start of a sentence
			return Event{}, fmt.Errorf("Scheduler event: %w", err)
		}
		t, err := time.Parse(time.RFC3339, e.ScheduledTime)
		if err != nil {
			//lint:ignore ST1005 Scheduler is the service's name (EventBridge Scheduler), not the start of a sentence
			return Event{}, fmt.Errorf(`Scheduler event "scheduled_time" %q is not an RFC 3339 time`, e.ScheduledTime)
		}
		return Event{Kind: "scheduler", ScheduledTime: t.UTC()}, nil
	case "":
		var o Override
		if err := DecodeStrict(raw, &o); err != nil {
			return Event{}, fmt.Errorf("manual event: %w", err)
		}
		return Event{Kind: "manual", Override: o}, nil
	}
	return Event{}, fmt.Errorf("event source %q is not one orgaudit handles (aws.events, aws.scheduler, or none for a manual run)", source)
}

// DecodeStrict decodes one JSON object into v as every event is read: an unknown field or anything after the object
// is an error, so a misspelt override is refused rather than ignored.
func DecodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// Apply lays the event over the deployment settings and validates the result.
func (e Event) Apply(s Settings) (Settings, error) {
	o := e.Override
	var errs []error
	if o.Accounts != nil {
		s.Accounts = dedupe(o.Accounts)
	}
	if o.ExcludeAccounts != nil {
		s.ExcludeAccounts = dedupe(o.ExcludeAccounts)
	}
	if o.Regions != nil {
		s.Regions = dedupe(o.Regions)
	}
	if o.Checks != nil {
		s.Checks = dedupe(o.Checks)
	}
	if o.ExpiryDays != nil {
		if len(o.ExpiryDays) != 3 {
			errs = append(errs, fmt.Errorf("expiry_days must hold three numbers (critical, warning, notice), got %d", len(o.ExpiryDays)))
		} else {
			s.ExpiryDays = [3]int{o.ExpiryDays[0], o.ExpiryDays[1], o.ExpiryDays[2]}
		}
	}
	if o.StuckAfter != "" {
		d, err := time.ParseDuration(o.StuckAfter)
		if err != nil {
			errs = append(errs, fmt.Errorf("stuck_after: %w", err))
		}
		s.StuckAfter = d
	}
	if o.LapsedDays != nil {
		s.LapsedDays = *o.LapsedDays
	}
	if o.AsOf != "" {
		t, err := ParseAsOf(o.AsOf)
		if err != nil {
			errs = append(errs, err)
		}
		s.AsOf = t
	}
	if o.Concurrency != 0 {
		s.Concurrency = o.Concurrency
	}
	if o.DryRun != nil {
		s.DryRun = *o.DryRun
	}
	if o.RunID != "" {
		s.RunID = o.RunID
	}
	if o.NoHistory != nil {
		s.NoHistory = *o.NoHistory
	}
	if o.Digest != "" {
		s.Digest = o.Digest
	}
	if o.OnDemand != nil {
		s.OnDemand = *o.OnDemand
	}
	s.Trigger = TriggerManual
	if e.Kind == "scheduled" || e.Kind == "scheduler" {
		s.Trigger = TriggerScheduled
	}
	if !e.ScheduledTime.IsZero() {
		// A retried invocation of the same schedule is the same run: same id, same object key, one digest.
		s.RunTime = e.ScheduledTime
	}
	if err := errors.Join(errs...); err != nil {
		return s, &InvalidEventError{err}
	}
	if err := s.Validate(); err != nil {
		return s, &InvalidEventError{fmt.Errorf("invalid settings: %w", err)}
	}
	if o.Regions != nil {
		// The deployment's own were checked at start-up (FromEnv).
		if err := CheckRegionsExist(Settings{Scope: Scope{Regions: s.Regions}}, RegionSettings{Regions: "regions"}); err != nil {
			return s, &InvalidEventError{err}
		}
	}
	return s, nil
}

// KnownChecks is for error messages and docs.
func KnownChecks() string { return strings.Join(checks.Names(), ", ") }
