package config

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeEvent(t *testing.T) {
	t.Parallel()
	base := Defaults()
	cases := []struct {
		name, raw string
		kind      string
		runID     string
		check     func(Settings) bool
		wantErr   string
	}{
		{name: "empty manual", raw: ``, kind: "manual", runID: "20261122T093000Z"},
		{name: "empty object", raw: `{}`, kind: "manual", runID: "20261122T093000Z"},
		{name: "eventbridge scheduled", kind: "scheduled", runID: "20261122T080000Z",
			raw: `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-22T08:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:123456789012:rule/orgaudit"],"detail":{}}`},
		{name: "scheduler", kind: "scheduler", runID: "20261122T070000Z",
			raw: `{"source":"aws.scheduler","scheduled_time":"2026-11-22T08:00:00+01:00","execution_id":"abc","schedule_arn":"arn:aws:scheduler:eu-west-1:123456789012:schedule/default/orgaudit"}`},
		{name: "manual override", kind: "manual", runID: "ad-hoc-1",
			raw: `{"accounts":["123456789012"],"regions":["eu-west-1","us-east-1"],"checks":["rds-reserved-instances"],"expiry_days":[3,14,45],"stuck_after":"2h","as_of":"2026-11-22","dry_run":true,"run_id":"ad-hoc-1","concurrency":4}`,
			check: func(s Settings) bool {
				return s.DryRun && s.ExpiryDays == [3]int{3, 14, 45} && s.StuckAfter == 2*time.Hour && s.Accounts[0] == "123456789012" &&
					len(s.Regions) == 2 && s.Checks[0] == "rds-reserved-instances" && s.Concurrency == 4 && s.AsOf.Equal(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
			}},
		{name: "unknown field", raw: `{"acounts":["123456789012"]}`, wantErr: `unknown field "acounts"`},
		{name: "bad account", raw: `{"accounts":["12345678901"]}`, wantErr: `account id "12345678901" must be 12 digits`},
		{name: "bad check", raw: `{"checks":["s3"]}`, wantErr: "unknown check s3"},
		{name: "bad thresholds", raw: `{"expiry_days":[30,7,60]}`, wantErr: "ascending"},
		{name: "two thresholds", raw: `{"expiry_days":[7,30]}`, wantErr: "three numbers"},
		{name: "wrong type", raw: `{"accounts":"123456789012"}`, wantErr: "cannot unmarshal string"},
		{name: "not an object", raw: `[1,2]`, wantErr: "not a JSON object"},
		{name: "trailing data", raw: `{} {}`, wantErr: "not a JSON object"},
		{name: "other source", raw: `{"source":"aws.s3"}`, wantErr: `event source "aws.s3"`},
		{name: "other detail type", raw: `{"source":"aws.events","detail-type":"EC2 Instance State-change Notification","time":"2026-11-22T08:00:00Z"}`, wantErr: "only Scheduled Event"},
		{name: "scheduler without time", raw: `{"source":"aws.scheduler","scheduled_time":"<aws.scheduler.scheduled-time>"}`, wantErr: "not an RFC 3339 time"},
		{name: "bad region", raw: `{"regions":["all","eu-west-1"]}`, wantErr: "cannot be combined"},
		{name: "unknown region", raw: `{"regions":["eu-west-1","eu-west-9"]}`, wantErr: `regions: "eu-west-9" is not an AWS region (did you mean eu-west-1?`},
		{name: "bad as-of", raw: `{"as_of":"22/11/2026"}`, wantErr: "as-of"},
		{name: "bad concurrency", raw: `{"concurrency":-1}`, wantErr: "concurrency"},
		{name: "bad run id", raw: `{"run_id":"../../etc"}`, wantErr: "run id"},
		{name: "lapsed days", raw: `{"lapsed_days":45}`, kind: "manual", runID: "20261122T093000Z", check: func(s Settings) bool { return s.LapsedDays == 45 }},
		{name: "bad lapsed days", raw: `{"lapsed_days":0}`, wantErr: "lapsed days"},
		{name: "no history, changes digest", raw: `{"no_history":true,"digest":"changes"}`, kind: "manual", runID: "20261122T093000Z",
			check: func(s Settings) bool { return s.NoHistory && s.Digest == DigestChanges }},
		{name: "bad digest", raw: `{"digest":"short"}`, wantErr: `digest "short" must be full or changes`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := DecodeEvent([]byte(c.raw))
			var s Settings
			if err == nil {
				s, err = ev.Apply(base)
			}
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			runID, _ := s.Identity(time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC))
			if ev.Kind != c.kind || runID != c.runID {
				t.Errorf("kind %q run id %q; want %q %q", ev.Kind, runID, c.kind, c.runID)
			}
			if c.check != nil && !c.check(s) {
				t.Errorf("overrides not applied: %+v", s)
			}
		})
	}
}

// A replay from an EventBridge archive delivers the archived event again with one more top-level field, replay-name.
// It is the same scheduled run (same time, so same run id and the same exactly-once marker); any other unknown field
// is still refused.
func TestReplayedScheduledEventIsAccepted(t *testing.T) {
	t.Parallel()
	const original = `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-22T08:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:123456789012:rule/orgaudit"],"detail":{}`
	first, err := DecodeEvent([]byte(original + `}`))
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := DecodeEvent([]byte(original + `,"replay-name":"orgaudit-2026-11-22"}`))
	if err != nil {
		t.Fatalf("a replayed scheduled event was refused: %v", err)
	}
	if replayed.Kind != "scheduled" || replayed.ReplayName != "orgaudit-2026-11-22" || first.ReplayName != "" {
		t.Errorf("replayed %+v, original %+v", replayed, first)
	}
	s1, err1 := first.Apply(Defaults())
	s2, err2 := replayed.Apply(Defaults())
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	id1, _ := s1.Identity(now)
	id2, _ := s2.Identity(now)
	if err1 != nil || err2 != nil || id1 != id2 || s2.Trigger != TriggerScheduled {
		t.Errorf("the replay must be the same scheduled run: %q %v / %q %v (trigger %s)", id1, err1, id2, err2, s2.Trigger)
	}
	for raw, want := range map[string]string{
		original + `,"replay-name":7}`:                              "replay-name",
		original + `,"replay-name":"r","replay-of":"x"}`:            `unknown field "replay-of"`,
		original + `,"replay-name":"has spaces and ; and newline"}`: "replay-name",
	} {
		if _, err := DecodeEvent([]byte(raw)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want it to mention %q", raw[len(original):], err, want)
		}
	}
}
