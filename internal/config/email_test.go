package config

import (
	"slices"
	"strings"
	"testing"
)

func TestEmailSettingsAreValidated(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		from, region string
		to           []string
		want         string
	}{
		"from without to":      {from: "a@example.com", want: "without email to"},
		"to without from":      {to: []string{"a@example.com"}, want: "without email from"},
		"bad from":             {from: "not an address", to: []string{"a@example.com"}, want: `email from "not an address"`},
		"header injection":     {from: "a@example.com\r\nBcc: x@evil.example", to: []string{"a@example.com"}, want: "email from"},
		"non-ASCII recipient":  {from: "a@example.com", to: []string{"zoë@example.com"}, want: `email to "zoë@example.com"`},
		"recipient no domain":  {from: "a@example.com", to: []string{"a@localhost"}, want: `email to "a@localhost"`},
		"bad region":           {from: "a@example.com", to: []string{"a@example.com"}, region: "mars", want: `email region "mars"`},
		"region without email": {region: "eu-west-1", want: "email region given without"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := Defaults()
			s.EmailFrom, s.EmailTo, s.EmailRegion = c.from, c.to, c.region
			if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate() = %v, want %q", err, c.want)
			}
		})
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = string(rune('a'+i%26)) + strings.Repeat("x", i) + "@example.com"
	}
	s := Defaults()
	s.EmailFrom, s.EmailTo = "a@example.com", many
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "at most 50") {
		t.Errorf("51 recipients: %v", err)
	}
	env := map[string]string{"AUDIT_EMAIL_FROM": "orgaudit <audit@example.com>", "AUDIT_EMAIL_TO": "a@example.com, b@example.com,a@example.com",
		"AUDIT_EMAIL_REGION": "eu-west-1"}
	got, err := FromEnv(func(k string) string { return env[k] })
	if err != nil || got.EmailFrom != "orgaudit <audit@example.com>" || !slices.Equal(got.EmailTo, []string{"a@example.com", "b@example.com"}) ||
		got.EmailRegion != "eu-west-1" || !got.EmailOn() {
		t.Errorf("FromEnv: %+v %v", got, err)
	}
	if _, err := FromEnv(func(k string) string { return map[string]string{"AUDIT_EMAIL_TO": "a@example.com"}[k] }); err == nil {
		t.Error("AUDIT_EMAIL_TO alone must be an error")
	}
}
