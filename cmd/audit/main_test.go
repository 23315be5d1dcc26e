package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/report"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// TestMain lets a test run the real main in a child process, exit codes and environment included.
func TestMain(m *testing.M) {
	if os.Getenv("ORGAUDIT_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func runMain(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	// Without -bucket, run keeps history in .orgaudit in the working directory: never the source tree's.
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"ORGAUDIT_TEST_MAIN=1", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true"}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

func decodeResult(t *testing.T, s string) report.Result {
	t.Helper()
	var r report.Result
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("result JSON: %v\n%s", err, s)
	}
	return r
}

func TestDemoJSON(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "demo.xlsx")
	var stdout, stderr bytes.Buffer
	code := runCLI(context.Background(), []string{"demo", "-json", "-out", out, "-as-of", "2026-11-22"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	checkGolden(t, "demo.json.golden", strings.ReplaceAll(stdout.String(), out, "<out>"))
	var raw map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"run_id", "as_of", "accounts", "findings", "errors", "report", "published"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("result lacks %q", k)
		}
	}
	r := decodeResult(t, stdout.String())
	perCheck := map[string]int{}
	for _, f := range r.Findings {
		perCheck[f.Check]++
		if f.Check == "rds-reserved-instances" && (f.ExpiresAt == nil || f.DaysLeft == nil) {
			t.Errorf("reservation finding without expiry: %+v", f)
		}
	}
	if len(perCheck) != len(checks.All()) {
		t.Errorf("findings per check %v, want every one of %s", perCheck, strings.Join(checks.Names(), ", "))
	}
	if len(r.Errors) != 1 || r.Errors[0].AccountID != awssim.DemoMissingRole || r.Errors[0].Code != "AccessDenied" {
		t.Errorf("errors %+v", r.Errors)
	}
	if !r.Published || r.Report == nil || r.Report.Bucket != awssim.DemoBucket || r.Report.URLExpiresAt == nil || r.Report.Path != out {
		t.Errorf("delivery %+v published %v", r.Report, r.Published)
	}
	if len(r.Emailed) == 0 || r.Emailed[0].Audience != report.AudienceOrganization || r.Emailed[0].Outcome != report.EmailSent || !r.Emailed[0].Attached {
		t.Errorf("emailed %+v", r.Emailed)
	}
	// The demo ran yesterday's organization first: today's result knows what changed, exactly as declared.
	ch := awssim.DemoChanges
	if r.PreviousRunID != "20261121T000000Z" || r.Changes == nil || r.Changes.New != len(ch.New) || r.Changes.Escalated != len(ch.Escalated) ||
		r.Changes.Resolved != len(ch.Resolved) || r.Changes.Unverified != len(ch.Unverified) || r.Changes.Suppressed != len(awssim.DemoSuppressed) ||
		len(r.Resolved) != len(ch.Resolved) || len(r.Unverified) != len(ch.Unverified) || len(r.Suppressed) != len(awssim.DemoSuppressed) {
		t.Errorf("memory: previous %q changes %+v resolved %d unverified %d suppressed %d; want %+v", r.PreviousRunID, r.Changes,
			len(r.Resolved), len(r.Unverified), len(r.Suppressed), ch)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := append(append([]string{report.SummarySheet, report.FindingsSheet, report.CommitmentsSheet}, checks.Names()...), report.ResolvedSheet, report.UnverifiedSheet,
		report.SuppressedSheet, report.TrendSheet, report.CoverageSheet)
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Errorf("sheets %v, want %v", got, want)
	}
}

func TestDemoPrintsTheDigestSNSReceived(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	dir := t.TempDir()
	code := runCLI(context.Background(), []string{"demo", "-out", filepath.Join(dir, "d.xlsx"), "-as-of", "2026-11-22"}, &stdout, &stderr)
	checkGolden(t, "demo-digest.txt.golden", strings.ReplaceAll(stdout.String(), dir, "<dir>"))
	// The organization's email, as the simulated SES received it, is beside the workbook for a mail reader to open.
	eml, err := os.ReadFile(filepath.Join(dir, "d.eml"))
	if files := demoFooterFiles(t, stdout.String()); err != nil || !strings.HasPrefix(files[filepath.Join(dir, "d.eml")], "the email SES received") {
		t.Errorf("no email beside the workbook, named in the footer: %v %v\n%s", err, files, stdout.String())
	}
	msg, err := mail.ReadMessage(bytes.NewReader(eml))
	if err != nil || msg.Header.Get("To") != "<"+awssim.DemoEmailTo+">" || !bytes.Contains(eml, []byte("filename=orgaudit-20261122T000000Z.xlsx")) ||
		!bytes.Contains(eml, []byte("text/html")) {
		t.Errorf("the demo's email is not the organization's with its workbook: %v %v", err, msg)
	}
	n := awssim.DemoSeverityCounts()
	// The demo's suppressions file holds back its findings: counted nowhere.
	for _, key := range awssim.DemoSuppressed {
		check, rest, _ := strings.Cut(key, "/")
		n[awssim.DemoFindings[check][rest]]--
	}
	// The demo runs yesterday's organization first, so today's subject leads with what changed, and ends with what
	// the critical and warning commitments put at risk per month, worked out from the scenario's declared prices;
	// the least urgent parts (unverified, notice, escalated, then warning) make way to keep it under SNS's 100
	// characters. The account without the audit role was not audited, so the run is partial.
	ch := awssim.DemoChanges
	urgent, floor := 0.0, ""
	for _, w := range declaredMoney(t, awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))) {
		switch {
		case w.severity != "critical" && w.severity != "warning":
		case w.atRisk == nil:
			floor = "+" // one whose at risk cannot be told: the sum is a floor
		default:
			urgent += *w.atRisk
		}
	}
	whole := fmt.Sprint(int64(math.Round(urgent)))
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	subject := fmt.Sprintf("Subject: PARTIAL orgaudit 2026-11-22: %d new, %d fixed | %d critical | 12/13 accounts | $%s%s/mo at risk\n",
		len(ch.New), len(ch.Resolved), n["critical"], whole, floor)
	if code != exitOK || !strings.HasPrefix(stdout.String(), subject) {
		t.Fatalf("exit %d, want %q\n%s\n%s", code, subject, stdout.String(), stderr.String())
	}
}

// TestRunUsesTheSDKDefaultConfiguration drives `audit run` in a child process configured only through the standard
// AWS_* environment, as a platform engineer's shell would be.
func TestRunUsesTheSDKDefaultConfiguration(t *testing.T) {
	t.Parallel()
	sim, env := demoChildEnv(t)
	out := filepath.Join(t.TempDir(), "run.xlsx")
	stdout, stderr, code := runMain(t, env, "run", "-regions", "all", "-external-id", awssim.DemoExternalID, "-as-of", "2026-11-22",
		"-bucket", awssim.DemoBucket, "-topic", awssim.DemoTopicARN(), "-s3-path-style", "-out", out, "-json", "-concurrency", "4")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	r := decodeResult(t, stdout)
	want := 0
	for _, n := range awssim.DemoSeverityCounts() {
		want += n
	}
	if len(r.Findings) != want || r.Accounts.Audited != 12 || !r.Published || len(sim.Digests()) != 1 {
		t.Errorf("findings %d accounts %+v published %v", len(r.Findings), r.Accounts, r.Published)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("-out: %v", err)
	}

	// A member account that names only an account it cannot reach audits nothing: exit 1, and it says why.
	member := sim.Credentials("222222222222")
	env = []string{"AWS_ENDPOINT_URL=" + sim.URL(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + member.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + member.SecretAccessKey}
	stdout, stderr, code = runMain(t, env, "run", "-accounts", awssim.DemoMissingRole, "-external-id", awssim.DemoExternalID, "-dry-run", "-out", filepath.Join(t.TempDir(), "x.xlsx"))
	if code != exitFail || !strings.Contains(stderr, "nothing could be audited") || !strings.Contains(stdout, "AccessDenied") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	cases := [][]string{
		{}, {"audit-everything"}, {"run", "-accounts", "12345"}, {"run", "-expiry-days", "30/7/60"}, {"run", "-checks", "nope"},
		{"run", "extra"}, {"run", "-as-of", "tomorrow"}, {"run", "-regions", "all,eu-west-1"}, {"run", "-concurrency", "0"},
		{"run", "-topic", "not-an-arn"}, {"run", "-lapsed-days", "0"}, {"run", "-lapsed-days", "367"}, {"run", "-bogus-flag"}, {"demo", "-as-of", "x"}, {"demo", "extra"},
		{"run", "-digest", "short"}, {"run", "-suppressions", "https://example.com/s.yaml"}, {"run", "-suppressions", "s3://bucket"},
		{"suppressions"}, {"suppressions", "lint", "x.yaml"}, {"suppressions", "check"}, {"suppressions", "check", "/no/such/file.yaml"},
	}
	for _, args := range cases {
		var stdout, stderr bytes.Buffer
		if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitUsage || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

func TestLambdaHandler(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)))
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": "all", "AUDIT_BUCKET": awssim.DemoBucket,
		"AUDIT_TOPIC_ARN": awssim.DemoTopicARN(), "AUDIT_S3_PATH_STYLE": "true"}
	load := func() (aws.Config, error) {
		return sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), nil
	}
	handle := newLambdaHandler(func(k string) string { return env[k] }, load)

	raw, err := handle(context.Background(), json.RawMessage(`{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events","account":"111111111111","time":"2026-11-22T08:00:00Z","region":"us-east-1","resources":[],"detail":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	res := decodeResult(t, string(raw))
	if res.RunID != "20261122T080000Z" || !res.Published || len(res.Findings) == 0 {
		t.Fatalf("scheduled: %+v", res)
	}
	if _, err := handle(context.Background(), json.RawMessage(`{"accounts":["1234"],"checks":["everything"]}`)); err == nil ||
		!strings.Contains(err.Error(), `account id "1234"`) || !strings.Contains(err.Error(), "unknown check everything") {
		t.Errorf("malformed manual event: %v", err)
	}
	if n := len(sim.Digests()); n != 1 {
		t.Errorf("%d digests published, want only the scheduled run's", n)
	}
	broken := newLambdaHandler(func(k string) string { return map[string]string{"AUDIT_CONCURRENCY": "lots"}[k] }, load)
	if _, err := broken(context.Background(), json.RawMessage(`{}`)); err == nil || !strings.Contains(err.Error(), "AUDIT_CONCURRENCY") {
		t.Errorf("bad configuration: %v", err)
	}
}

// TestUsageErrorsSayWhy: contradictory or implausible flags are usage errors that name the problem.
func TestUsageErrorsSayWhy(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"account 444444444444 is both included and excluded":     {"run", "-accounts", "333333333333,444444444444", "-exclude-accounts", "444444444444"},
		"as-of 1999-12-31T00:00:00Z must lie between 2000-01-01": {"run", "-as-of", "1999-12-31"},
		"as-of 2126-01-01T00:00:00Z must lie between 2000-01-01": {"run", "-as-of", "2126-01-01"},
		// The zero time is what "no -as-of" is held as inside: it must not pass as "now".
		"as-of 0001-01-01T00:00:00Z must lie between 2000-01-01":   {"run", "-as-of", "0001-01-01"},
		"as-of 0001-01-01T00:00:00Z must lie between 2000-01-01 ":  {"demo", "-as-of", "0001-01-01T00:00:00Z"},
		"as-of 0001-01-01T00:00:00Z must lie between 2000-01-01  ": {"suppressions", "check", "-as-of", "0001-01-01", "none.yaml"},
	}
	for want, args := range cases {
		var stdout, stderr bytes.Buffer
		if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), strings.TrimSpace(want)) {
			t.Errorf("%v: exit %d, stderr %q, want %q", args, code, stderr.String(), want)
		}
	}
}

// TestRunRefusesAnUnwritableOutBeforeAuditing: a workbook path that cannot be written fails at once, naming it, with
// not one AWS call made, rather than after the whole audit.
func TestRunRefusesAnUnwritableOutBeforeAuditing(t *testing.T) {
	t.Parallel()
	sim, env := demoChildEnv(t)
	out := filepath.Join(t.TempDir(), "no-such-dir", "run.xlsx")
	_, stderr, code := runMain(t, env, "run", "-external-id", awssim.DemoExternalID, "-out", out)
	if code != exitUsage || !strings.Contains(stderr, out) {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	if calls := sim.Calls(); len(calls) != 0 {
		t.Errorf("an audit ran before the -out path was checked: %v", calls)
	}
}

// TestDemoRefusesAnUnwritableOutBeforeAuditing: the demo checks -out as run does, before starting the simulated
// organization and auditing it: a usage error naming the path, and no digest printed.
func TestDemoRefusesAnUnwritableOutBeforeAuditing(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "no-such-dir", "demo.xlsx")
	var stdout, stderr bytes.Buffer
	code := runCLI(context.Background(), []string{"demo", "-out", out, "-as-of", "2026-11-22"}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "-out") || !strings.Contains(stderr.String(), out) || stdout.Len() != 0 {
		t.Errorf("exit %d, want %d\nstdout %q\nstderr %q", code, exitUsage, stdout.String(), stderr.String())
	}
}

// TestTopicWithoutBucketMailsNoLocalPath: the digest of a run with -topic and no -bucket says the workbook was not
// uploaded; the path it was written to on the CLI's machine is no one else's business, and never in the mail.
func TestTopicWithoutBucketMailsNoLocalPath(t *testing.T) {
	t.Parallel()
	sim, env := demoChildEnv(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run.xlsx")
	_, stderr, code := runMain(t, env, "run", "-external-id", awssim.DemoExternalID, "-as-of", "2026-11-22", "-topic", awssim.DemoTopicARN(), "-out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	msgs := sim.Digests()
	if len(msgs) != 1 {
		t.Fatalf("%d digests", len(msgs))
	}
	if body := msgs[0].Body; strings.Contains(body, dir) || !strings.Contains(body, "Workbook: not uploaded (no bucket given)") {
		t.Errorf("digest:\n%s", body)
	}
	if !strings.Contains(stderr, out) {
		t.Errorf("the CLI must still say where it wrote the workbook: %s", stderr)
	}
}

// TestRunFlagsKeepHistoryLocallyWithoutABucket: without -bucket, history goes to .orgaudit, a directory per
// organization, unless -state-dir says where; with -bucket, to the bucket unless -state-dir says otherwise.
func TestRunFlagsKeepHistoryLocallyWithoutABucket(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "r.xlsx")
	for _, c := range []struct {
		args  []string
		want  string
		byOrg bool
	}{
		{[]string{"-out", out}, history.DefaultStateDir, true},
		{[]string{"-out", out, "-state-dir", "/var/lib/orgaudit"}, "/var/lib/orgaudit", false},
		{[]string{"-out", out, "-bucket", "my-reports"}, "", false},
		{[]string{"-out", out, "-bucket", "my-reports", "-state-dir", "here"}, "here", false},
	} {
		rf, err := parseRunFlags(c.args, io.Discard)
		if err != nil || rf.settings.StateDir != c.want || rf.settings.StateDirByOrganization != c.byOrg {
			t.Errorf("%v: state dir %q (by organization %v), want %q (%v) (%v)", c.args, rf.settings.StateDir,
				rf.settings.StateDirByOrganization, c.want, c.byOrg, err)
		}
	}
}

// demoChildEnv starts the demo organization (as of 2026-11-22) for a child process of the CLI and returns the
// standard AWS_* environment that points the SDK's default configuration at it, signed as the management account.
func demoChildEnv(t *testing.T) (*awssim.Server, []string) {
	t.Helper()
	sim := testkit.StartSim(t, awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)))
	creds := sim.Credentials(awssim.DemoManagementAccount)
	return sim, []string{"AWS_ENDPOINT_URL=" + sim.URL(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey}
}
