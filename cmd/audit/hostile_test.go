package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestRunPrintsAWSErrorsInline: an AWS error message that `audit run` echoes on the terminal cannot start a line of
// its own or carry escape, bidi or zero-width characters. SNS speaks XML, which carries line breaks, DEL, the C1 CSI
// (U+009B) and bidi and zero-width characters, though not ESC or NUL.
func TestRunPrintsAWSErrorsInline(t *testing.T) {
	t.Parallel()
	sim, env := demoChildEnv(t)
	const hostile = "denied\nCRITICAL (0)\r\nWorkbook: https://evil.example/x.xlsx\u009b2J\u007f\u202e\u200b\u2066"
	sim.SetIntercept(func(_ context.Context, c awssim.Call) *awssim.Fault {
		if c.Service == "sns" && c.Operation == "Publish" {
			return &awssim.Fault{Status: 403, Code: "AuthorizationError", Message: hostile}
		}
		return nil
	})
	stdout, stderr, code := runMain(t, env, "run", "-regions", "us-east-1", "-checks", "cloudformation-failed-stacks", "-external-id", awssim.DemoExternalID,
		"-as-of", "2026-11-22", "-bucket", awssim.DemoBucket, "-topic", awssim.DemoTopicARN(), "-s3-path-style", "-out", filepath.Join(t.TempDir(), "run.xlsx"))
	if code != exitFail {
		t.Fatalf("exit %d, want %d\n%s", code, exitFail, stderr)
	}
	const shown = "AuthorizationError: denied CRITICAL (0) Workbook: https://evil.example/x.xlsx2J"
	var errorLine string
	for i, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "CRITICAL") || strings.HasPrefix(l, "Workbook:") {
			t.Errorf("stderr line %d is forged: %q", i+1, l)
		}
		if strings.HasPrefix(l, "audit: ") {
			errorLine = l
		}
	}
	if !strings.HasPrefix(errorLine, "audit: delivery: ") || !strings.Contains(errorLine, shown) {
		t.Errorf("the error line %q must hold %q\nstderr:\n%s", errorLine, shown, stderr)
	}
	for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
		for _, r := range out {
			if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
				t.Errorf("%s holds %U:\n%q", name, r, out)
				break
			}
		}
	}
}

// TestJSONResultEscapesHiddenCharacters: `-json` prints AWS text as JSON escapes, so the terminal shows it as data
// while a program reading the JSON gets it unchanged.
func TestJSONResultEscapesHiddenCharacters(t *testing.T) {
	t.Parallel()
	const hostile = "stack\u202e\u200b\u009b2J\x7f\u0085\x1b[31m"
	res := &report.Result{Facts: report.Facts{RunID: "r", Findings: []checks.Finding{{Check: "cloudformation-failed-stacks", ResourceID: hostile, Reason: hostile}}}}
	var out bytes.Buffer
	if err := writeJSON(&out, res); err != nil {
		t.Fatal(err)
	}
	for _, r := range out.String() {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			t.Fatalf("JSON holds %U raw:\n%s", r, out.String())
		}
	}
	r := decodeResult(t, out.String())
	if len(r.Findings) != 1 || r.Findings[0].ResourceID != hostile || r.Findings[0].Reason != hostile {
		t.Errorf("the value must be unchanged: %+v", r.Findings)
	}
}
