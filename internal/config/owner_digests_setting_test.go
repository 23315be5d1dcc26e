package config

import (
	"strings"
	"testing"
)

// TestOwnerDigestsSetting: AUDIT_OWNER_DIGESTS sets the cap, within its bounds; what a cap of 0 does is
// internal/delivery's TestOwnerDigestsCapZero.
func TestOwnerDigestsSetting(t *testing.T) {
	t.Parallel()
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == "AUDIT_OWNER_DIGESTS" {
				return v
			}
			return ""
		}
	}
	for v, want := range map[string]int{"": DefaultOwnerDigests, "0": 0, "250": 250} {
		s, err := FromEnv(env(v))
		if err != nil || s.OwnerDigests != want {
			t.Errorf("AUDIT_OWNER_DIGESTS=%q: %d %v, want %d", v, s.OwnerDigests, err, want)
		}
	}
	for _, v := range []string{"-1", "1001", "many"} {
		if _, err := FromEnv(env(v)); err == nil || !strings.Contains(err.Error(), "owner digests") && !strings.Contains(err.Error(), "AUDIT_OWNER_DIGESTS") {
			t.Errorf("AUDIT_OWNER_DIGESTS=%q: %v", v, err)
		}
	}
}
