package config

import (
	"errors"
	"testing"
)

// FuzzDecodeEvent: any bytes give either settings that validate or an InvalidEventError, never a panic.
func FuzzDecodeEvent(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"accounts":["123456789012"]}`, `{"regions":["all"]}`, `{"expiry_days":[7,30,60]}`,
		`{"expiry_days":[60,30,7]}`, `{"stuck_after":"-1h"}`, `{"as_of":"2026-11-22"}`, `{"as_of":"2026-11-22T08:00:00+13:00"}`,
		`{"dry_run":true,"run_id":"x"}`, `{"concurrency":100000}`, `{"checks":["ec2-reserved-instances","ec2-reserved-instances"]}`,
		`{"source":"aws.scheduler","scheduled_time":"2026-11-22T08:00:00Z"}`, `{"source":"aws.scheduler","scheduled_time":"0000-01-01T00:00:00Z"}`,
		`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"1","time":"2026-11-22T08:00:00Z","region":"r","resources":[],"detail":{}}`,
		`{"source":"aws.events","detail-type":"Scheduled Event","time":"not a time"}`, `{"source":1}`, `{"accounts":[null]}`,
		`{"accounts":["123456789012"],"accounts":["x"]}`, "{\"run_id\":\"\u0000\"}", `{"regions":["eu-west-1"]} trailing`,
	} {
		f.Add([]byte(seed))
	}
	base := Defaults()
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := DecodeEvent(raw)
		var s Settings
		if err == nil {
			s, err = ev.Apply(base)
		}
		if err != nil {
			var invalid *InvalidEventError
			if !errors.As(err, &invalid) || err.Error() == "" {
				t.Fatalf("bad input must be an InvalidEventError with a message, got %T %v", err, err)
			}
			return
		}
		if verr := s.Validate(); verr != nil {
			t.Fatalf("accepted event %q gave invalid settings: %v", raw, verr)
		}
		if id, _ := s.Identity(s.AsOf); !runID.MatchString(id) {
			t.Fatalf("accepted event %q gave run id %q", raw, id)
		}
	})
}
