package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/config"
)

// TestUnknownRegionIsRefused: a region shaped like one that AWS does not have is a usage error before any AWS call,
// naming the nearest real one; every region of the list is accepted, and -bucket-region is left to an S3-compatible
// store's own names with -s3-path-style.
func TestUnknownRegionIsRefused(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		`-regions: "eu-west-9" is not an AWS region (did you mean eu-west-1?`:      {"run", "-regions", "us-east-1,eu-west-9"},
		`-regions: "us-east-3" is not an AWS region (did you mean us-east-1?`:      {"run", "-regions", "us-east-3"},
		`-bucket-region: "ap-southeast-9" is not an AWS region (did you mean ap-s`: {"run", "-bucket", "my-reports", "-bucket-region", "ap-southeast-9"},
		`-email-region: "eu-middle-1" is not an AWS region`: {"run", "-email-from", "a@example.com", "-email-to", "b@example.com",
			"-email-region", "eu-middle-1"},
	}
	for want, args := range cases {
		var stdout, stderr bytes.Buffer
		args = append(args, "-out", filepath.Join(t.TempDir(), "r.xlsx"))
		if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", args, code, stderr.String(), want)
		}
	}
	out := filepath.Join(t.TempDir(), "r.xlsx")
	for _, r := range config.KnownRegions() {
		if _, err := parseRunFlags([]string{"-regions", r, "-out", out}, io.Discard); err != nil {
			t.Errorf("%s refused: %v", r, err)
		}
	}
	if _, err := parseRunFlags([]string{"-bucket", "my-reports", "-bucket-region", "xx-store-1", "-s3-path-style", "-out", out}, io.Discard); err != nil {
		t.Errorf("an S3-compatible store's region refused: %v", err)
	}
}
