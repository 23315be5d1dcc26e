package main

import (
	"crypto/sha1"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoCredentialsGetsAHint: with no credentials anywhere, run says what to do (AWS_PROFILE, aws sso login) on a
// line of its own after the SDK's error, and exits 1 before any audit.
func TestNoCredentialsGetsAHint(t *testing.T) {
	t.Parallel()
	// No endpoint answers on port 1: a call made despite the missing credentials would fail otherwise.
	_, stderr, code := runMain(t, []string{"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=http://127.0.0.1:1"}, "run", "-dry-run", "-out", filepath.Join(t.TempDir(), "r.xlsx"))
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != exitFail || len(lines) != 2 || !strings.Contains(lines[0], "get AWS credentials") ||
		!strings.HasPrefix(lines[1], "audit run: hint: ") || !strings.Contains(lines[1], "AWS_PROFILE") || !strings.Contains(lines[1], "aws sso login") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	// A profile ~/.aws/config does not hold is named, with how to list those it does.
	_, stderr, code = runMain(t, []string{"AWS_REGION=us-east-1", "AWS_PROFILE=nope"}, "run", "-dry-run", "-out", filepath.Join(t.TempDir(), "r.xlsx"))
	if code != exitFail || !strings.Contains(stderr, "\naudit run: hint: AWS_PROFILE names \"nope\", which ~/.aws/config does not hold") {
		t.Errorf("missing profile: exit %d\n%s", code, stderr)
	}
}

// TestExpiredSSOSessionGetsAHint: an IAM Identity Center profile whose cached token has expired gets "aws sso login
// --profile NAME", not only the SDK's error. The token cache is where the SDK reads it: ~/.aws/sso/cache, named by
// the SHA-1 of the start URL (ssocreds.StandardCachedTokenFilepath).
func TestExpiredSSOSessionGetsAHint(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	const startURL = "https://example.awsapps.com/start"
	config := "[profile auditor]\nsso_start_url = " + startURL + "\nsso_region = us-east-1\nsso_account_id = 111111111111\n" +
		"sso_role_name = ReadOnly\nregion = us-east-1\n"
	configPath := filepath.Join(home, "config")
	sum := sha1.Sum([]byte(startURL))
	cache := filepath.Join(home, ".aws", "sso", "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	token := `{"accessToken":"expired","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"` + startURL + `"}`
	if err := os.WriteFile(filepath.Join(cache, hex.EncodeToString(sum[:])+".json"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "AWS_CONFIG_FILE=" + configPath, "AWS_PROFILE=auditor", "AWS_ENDPOINT_URL=http://127.0.0.1:1"}
	_, stderr, code := runMain(t, env, "run", "-dry-run", "-out", filepath.Join(t.TempDir(), "r.xlsx"))
	if code != exitFail || !strings.Contains(stderr, "the SSO session has expired or is invalid") ||
		!strings.Contains(stderr, "\naudit run: hint: the SSO session has expired or was never started: run `aws sso login --profile auditor`") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// TestOnlyRunNeedsCredentials: run and alert are the commands that call AWS, so they are the ones that check
// credentials and hint; the others work with a profile the SDK could not even load (were one to start loading the
// AWS configuration, it would fail here and needs checkCredentials and its hint like run's).
func TestOnlyRunNeedsCredentials(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "suppressions.yaml")
	if err := os.WriteFile(file, []byte("suppressions: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_REGION=us-east-1", "AWS_PROFILE=nope", "AWS_ENDPOINT_URL=http://127.0.0.1:1"}
	for _, args := range [][]string{{"version"}, {"checks"}, {"suppressions", "check", file}} {
		stdout, stderr, code := runMain(t, env, args...)
		if code != exitOK || stdout == "" || strings.Contains(stderr, "hint") {
			t.Errorf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
	// alert reads the account's name and product with AWS credentials: the same settings stop it with the hint.
	event, err := os.ReadFile(filepath.Join("..", "..", "internal", "alert", "testdata", "stack-status-change.json"))
	if err != nil {
		t.Fatal(err)
	}
	eventFile := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(eventFile, event, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runMain(t, env, "alert", "-event", eventFile); code != exitFail || !strings.Contains(stderr, "audit alert: hint: AWS_PROFILE names \"nope\"") {
		t.Errorf("alert: exit %d\n%s", code, stderr)
	}
	// The same settings stop run, with its hint: the test above would pass for a command that never got that far.
	if _, stderr, code := runMain(t, env, "run", "-dry-run", "-out", filepath.Join(t.TempDir(), "r.xlsx")); code != exitFail ||
		!strings.Contains(stderr, "audit run: hint: AWS_PROFILE names \"nope\"") {
		t.Errorf("run: exit %d\n%s", code, stderr)
	}
}
