package config

import (
	"strings"
	"testing"
	"time"
)

// TestEveryGroupIsValidated: each group refuses its own bad setting, and Settings.Validate reports it too, so a group
// left out of Settings.Validate fails here. The defaults are valid.
func TestEveryGroupIsValidated(t *testing.T) {
	t.Parallel()
	if err := Defaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := map[string]struct {
		spoil func(*Settings)
		group func(Settings) error
		want  string
	}{
		"scope":      {func(s *Settings) { s.Concurrency = 0 }, func(s Settings) error { return s.Scope.Validate() }, "concurrency"},
		"thresholds": {func(s *Settings) { s.ExpiryDays = [3]int{30, 7, 60} }, func(s Settings) error { return s.Thresholds.Validate() }, "ascending"},
		"history":    {func(s *Settings) { s.StateDir = "a\nb" }, func(s Settings) error { return s.History.Validate() }, "state directory"},
		"delivery":   {func(s *Settings) { s.Digest = "brief" }, func(s Settings) error { return s.Delivery.Validate() }, `digest "brief"`},
		"email":      {func(s *Settings) { s.EmailRegion = "eu-west-1" }, func(s Settings) error { return s.Email.Validate() }, "email region"},
		"owners":     {func(s *Settings) { s.OwnerTagRate = 0 }, func(s Settings) error { return s.Owners.Validate() }, "owner tag rate"},
		"run":        {func(s *Settings) { s.ShardSize = 0 }, func(s Settings) error { return s.Run.Validate() }, "shard size"},
		"retry":      {func(s *Settings) { s.MaxBackoff = time.Hour }, func(s Settings) error { return s.Retry.Validate() }, "max backoff"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := Defaults()
			c.spoil(&s)
			if err := c.group(s); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("the group's Validate: %v, want it to mention %q", err, c.want)
			}
			if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Settings.Validate: %v, want it to mention %q", err, c.want)
			}
		})
	}
}
