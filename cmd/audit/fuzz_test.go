package main

import (
	"io"
	"strings"
	"testing"
)

// FuzzRunFlags: any argument list gives either valid settings or a usage error, never a panic.
func FuzzRunFlags(f *testing.F) {
	for _, seed := range []string{
		"", "-regions all", "-regions eu-west-1,us-east-1 -accounts 123456789012", "-expiry-days 1/2/3", "-expiry-days 3/2/1",
		"-checks nope", "-as-of 2026-11-22", "-as-of 2026-11-22T08:00:00Z", "-concurrency 0", "-concurrency 999999999999999999999",
		"-timeout -1s", "-timeout 5m -dry-run", "-topic arn:aws:sns:eu-west-1:123456789012:t", "-bucket UPPER", "-role a/b",
		"-external-id x", "-run-id ../x", "-url-expiry 200h", "-max-attempts 0", "-retry-mode adaptive", "-json extra",
		"-stuck-after 1ns", "--", "-h",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		rf, err := parseRunFlags(args, io.Discard)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("usage error without a message")
			}
			return
		}
		if verr := rf.settings.Validate(); verr != nil {
			t.Fatalf("accepted %q with invalid settings: %v", args, verr)
		}
	})
}
