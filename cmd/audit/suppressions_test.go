package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSuppressionsCheck validates files offline, as a run on 2026-11-22 would: what it prints and how it exits.
func TestSuppressionsCheck(t *testing.T) {
	t.Parallel()
	const good = `suppressions:
  - check: ec2-reserved-instances      # required
    account_id: "222222222222"         # optional, as are region and resource_id
    resource_id: ri-0abc*              # exact, or a glob with *
    reason: renewal approved, PO 4411  # required
    owner: finops@example.com          # required
    expires: 2026-12-31                # required; a UTC date at most 366 days after the run
  - check: rds-reserved-instances
    reason: accepted
    owner: dba@example.com
    expires: 2026-11-21
  - check: cloudformation-failed-stacks
    reason: fix scheduled
    owner: platform@example.com
    expires: 2026-11-25
`
	cases := map[string]struct {
		file, stdout, stderr string
		code                 int
	}{
		"good, one expired, one expiring": {file: good, code: exitOK,
			stdout: "ok: 3 rules\n  line 8: expired 2026-11-21, no longer suppresses (rds-reserved-instances)\n" +
				"  line 12: expires 2026-11-25, within 7 days (cloudformation-failed-stacks)\n"},
		"empty list": {file: "suppressions: []\n", code: exitOK, stdout: "ok: 0 rules\n"},
		"every problem with its line": {code: exitUsage, file: `suppressions:
  - check: ec2-reserved-instances
    reason: renewal approved
    expires: 2028-01-01
  - check: s3-buckets
    reason: x
    owner: y
    expires: 2026-12-01
    colour: red
`, stderr: "FILE is invalid (the run would apply no suppressions):\n  line 2: rule 1: owner is required\n" +
			"  line 2: rule 1: expires 2028-01-01 is more than 366 days after 2026-11-22 (latest 2027-11-23)\n" +
			"  line 9: rule 2: unknown field \"colour\"\n"},
		// The parser (gopkg.in/yaml.v3) names the line where it found the file ended with the list still open.
		"not YAML": {code: exitUsage, file: "suppressions: [\n", stderr: "FILE is invalid (the run would apply no suppressions):\n  line 2: "},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "suppressions.yaml")
			if err := os.WriteFile(path, []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := runCLI(context.Background(), []string{"suppressions", "check", "-as-of", "2026-11-22", path}, &stdout, &stderr)
			gotErr := strings.ReplaceAll(stderr.String(), path, "FILE")
			// A YAML syntax error's wording is the library's; ours are whole.
			matches := gotErr == c.stderr || (name == "not YAML" && strings.HasPrefix(gotErr, c.stderr))
			if code != c.code || stdout.String() != c.stdout || !matches {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s\nwant:\n%s", code, c.code, stdout.String(), c.stdout, gotErr, c.stderr)
			}
		})
	}
}
