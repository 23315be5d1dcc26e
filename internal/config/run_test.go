package config

import (
	"strings"
	"testing"
)

// TestRequestRunID: a request id becomes a valid run id whatever it holds.
func TestRequestRunID(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 100)
	for in, want := range map[string]string{
		"8476a536-e9f4-11e8-9739-2dfe598c3fcd": "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
		"a/b c:d":                              "a-b-c-d",
		long:                                   long[:80],
	} {
		got := RequestRunID(in)
		s := Defaults()
		s.RunID = got
		if got != want || s.Validate() != nil {
			t.Errorf("RequestRunID(%q) = %q (valid: %v), want %q", in, got, s.Validate(), want)
		}
	}
}
