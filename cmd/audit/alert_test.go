package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// These tests give the command a builder of their own (buildAlert): the decoder and builder are the alert
// package's, wired in one place. What they hold is the command's part: its flags, what it reads, prints and sends,
// and its exit codes.

// startDemoSimForCLI starts the demo organization's simulator and points the SDK's default configuration (the
// command's) at it, signed in as the management account.
func startDemoSimForCLI(t *testing.T) *awssim.Server {
	t.Helper()
	sim := testkit.StartSim(t, awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)))
	creds := sim.Credentials(awssim.DemoManagementAccount)
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": sim.URL(), "AWS_REGION": awssim.DemoHomeRegion, "AWS_ACCESS_KEY_ID": creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey, "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull} {
		t.Setenv(k, v)
	}
	return sim
}

func writeEvent(t *testing.T, body string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// withBuilder runs the test with build as the command's builder.
func withBuilder(t *testing.T, build func(context.Context, alertFlags, []byte) (*alert.Alert, error)) {
	t.Helper()
	old := buildAlert
	buildAlert = build
	t.Cleanup(func() { buildAlert = old })
}

var cliAlert = alert.Alert{EventID: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", EventTime: time.Date(2026, 11, 22, 8, 14, 0, 0, time.UTC),
	Kind: alert.KindStack, Severity: checks.Critical, AccountID: "111111111111", AccountName: "workload", Region: "eu-west-1",
	StackName: "SC-111111111111-pp-abc", Status: "CREATE_FAILED", Reason: "Resource creation cancelled\nSubject: forged",
	ProductUnread: "AccessDenied"}

func TestAlertCommandExitCodes(t *testing.T) {
	withBuilder(t, func(_ context.Context, _ alertFlags, raw []byte) (*alert.Alert, error) {
		switch {
		case bytes.Contains(raw, []byte(`"wrong-shape"`)):
			return nil, &alert.InvalidEventError{Reason: "detail-type wrong-shape is not one the path handles"}
		case bytes.Contains(raw, []byte(`"UPDATE_COMPLETE"`)):
			return nil, nil
		case bytes.Contains(raw, []byte(`"unreadable"`)):
			return nil, errors.New("read the account's name: throttled")
		}
		a := cliAlert
		return &a, nil
	})
	for name, c := range map[string]struct {
		args       []string
		code       int
		out, errOf string
	}{
		"failure":         {args: []string{"-event", writeEvent(t, `{"status":"CREATE_FAILED"}`)}, code: exitOK, out: "1. CRITICAL stack in account workload (111111111111)"},
		"not a failure":   {args: []string{"-event", writeEvent(t, `{"status":"UPDATE_COMPLETE"}`)}, code: exitOK, out: "there is no alert"},
		"wrong shape":     {args: []string{"-event", writeEvent(t, `{"detail-type":"wrong-shape"}`)}, code: exitUsage, errOf: "invalid event: detail-type wrong-shape"},
		"not json":        {args: []string{"-event", writeEvent(t, "Subject: hi\n{")}, code: exitUsage, errOf: "invalid event: not JSON"},
		"empty":           {args: []string{"-event", writeEvent(t, " \n")}, code: exitUsage, errOf: "invalid event: the file is empty"},
		"too large":       {args: []string{"-event", writeEvent(t, `"`+strings.Repeat("a", maxEventBytes)+`"`)}, code: exitUsage, errOf: "more than EventBridge's"},
		"no such file":    {args: []string{"-event", filepath.Join(t.TempDir(), "missing.json")}, code: exitUsage, errOf: "no such file"},
		"no event":        {args: nil, code: exitUsage, errOf: "-event FILE is required"},
		"bad topic":       {args: []string{"-event", "-", "-topic", "orgaudit"}, code: exitUsage, errOf: "not an SNS topic ARN"},
		"typo":            {args: []string{"-evnt", "x"}, code: exitUsage, errOf: "did you mean -event?"},
		"build fails":     {args: []string{"-event", writeEvent(t, `{"account":"unreadable"}`)}, code: exitFail, errOf: "throttled"},
		"help":            {args: []string{"-h"}, code: exitOK, errOf: "usage: audit alert -event FILE"},
		"extra arguments": {args: []string{"-event", "x", "y"}, code: exitUsage, errOf: "nothing else after the flags"},
	} {
		var stdout, stderr bytes.Buffer
		code := runCLI(context.Background(), append([]string{"alert"}, c.args...), &stdout, &stderr)
		if code != c.code || !strings.Contains(stdout.String(), c.out) || !strings.Contains(stderr.String(), c.errOf) {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", name, code, c.code, stdout.String(), stderr.String())
		}
		if strings.Contains(stdout.String(), "\nSubject: forged") {
			t.Errorf("%s: the reason forged a line:\n%s", name, stdout.String())
		}
	}
}

func TestAlertCommandReadsStandardInput(t *testing.T) {
	var got []byte
	withBuilder(t, func(_ context.Context, _ alertFlags, raw []byte) (*alert.Alert, error) {
		got = raw
		a := cliAlert
		return &a, nil
	})
	old := stdin
	stdin = strings.NewReader(`{"id":"from-stdin"}`)
	t.Cleanup(func() { stdin = old })
	var stdout, stderr bytes.Buffer
	if code := runCLI(context.Background(), []string{"alert", "-event", "-"}, &stdout, &stderr); code != exitOK || string(got) != `{"id":"from-stdin"}` {
		t.Fatalf("exit %d, read %q: %s", code, got, stderr.String())
	}
}

// The command as it ships, with the path's own decoder and builder, against the simulated organization: the
// user guide's stack event for a Service Catalog product's stack in member account 222222222222 prints the account's
// name and the product read with the audit role; a stack that is not failing prints no alert; a malformed event
// exits 2 before any AWS call.
func TestAlertCommandBuildsFromTheEvent(t *testing.T) {
	startDemoSimForCLI(t)
	event, err := os.ReadFile(filepath.Join("..", "..", "internal", "alert", "testdata", "stack-status-change.json"))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"alert", "-event", writeEvent(t, string(event)), "-external-id", awssim.DemoExternalID}
	if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"SC-222222222222-pp-sharederr0002", "ROLLBACK_COMPLETE", "(222222222222), us-east-1", "Product: pp-sharederr0002 transit-attachment"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the alert does not say %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	healthy := strings.ReplaceAll(string(event), "ROLLBACK_COMPLETE", "CREATE_COMPLETE")
	if code := runCLI(context.Background(), []string{"alert", "-event", writeEvent(t, healthy)}, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "no alert") {
		t.Errorf("a stack that did not fail: exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	stderr.Reset()
	forged := strings.ReplaceAll(string(event), `"aws.cloudformation"`, `"aws.forged"`)
	if code := runCLI(context.Background(), []string{"alert", "-event", writeEvent(t, forged)}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "invalid event") {
		t.Errorf("another source: exit %d: %s", code, stderr.String())
	}
}

// With -topic the alert is published once (a second handling of the same event sends nothing) and recorded.
func TestAlertCommandPublishesWithTopicOnce(t *testing.T) {
	withBuilder(t, func(context.Context, alertFlags, []byte) (*alert.Alert, error) { a := cliAlert; return &a, nil })
	sim := startDemoSimForCLI(t)
	event := writeEvent(t, `{}`)
	args := []string{"alert", "-event", event, "-topic", awssim.DemoTopicARN(), "-bucket", awssim.DemoBucket, "-s3-path-style", "-owner", "team-a"}
	var stdout, stderr bytes.Buffer
	if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "published to ") {
		t.Fatalf("exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "already sent") {
		t.Fatalf("second handling: exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	msgs := sim.Published()
	if len(msgs) != 1 || msgs[0].Attributes["owner"].StringValue != "team-a" || !strings.Contains(msgs[0].Body, cliAlert.StackName) {
		t.Fatalf("published %+v", msgs)
	}
	if _, err := sim.Object(awssim.DemoBucket, alert.RecordKey("orgaudit", cliAlert.EventTime, cliAlert.EventID)); err != nil {
		t.Errorf("no record: %v", err)
	}
}

func TestAlertCommandIsListedInHelpAndReadme(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := runCLI(context.Background(), []string{"-h"}, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "\n  alert -event FILE ") {
		t.Errorf("audit -h does not list alert:\n%s", stdout.String())
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "./audit alert -event ") || !strings.Contains(string(readme), "`audit alert -event FILE`") {
		t.Error("README's commands do not show audit alert")
	}
}

// Without -owner the alert goes to the account's owner as the run history in the bucket last read its tag.
func TestAlertCommandRoutesByTheHistorysOwnerTag(t *testing.T) {
	withBuilder(t, func(context.Context, alertFlags, []byte) (*alert.Alert, error) { a := cliAlert; return &a, nil })
	sim := startDemoSimForCLI(t)
	ranAt := cliAlert.EventTime.Add(-24 * time.Hour)
	run := history.Run{ID: "yesterday", Time: ranAt, AsOf: ranAt, Accounts: []string{cliAlert.AccountID}}
	state := history.NewState(run, history.Diff(nil, run))
	state.Trigger = "scheduled"
	state.OwnerTags = []history.OwnerTag{{AccountID: cliAlert.AccountID, Value: "team-tagged", Found: true, ReadAt: ranAt}}
	client := s3.NewFromConfig(sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), func(o *s3.Options) { o.UsePathStyle = true })
	if err := history.NewS3Store(client, history.S3Location{Bucket: awssim.DemoBucket, Prefix: "orgaudit"}).Put(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"alert", "-event", writeEvent(t, `{}`), "-topic", awssim.DemoTopicARN(), "-bucket", awssim.DemoBucket, "-s3-path-style"}
	if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "Owner: team-tagged") {
		t.Fatalf("exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	if msgs := sim.Published(); len(msgs) != 1 || msgs[0].Attributes["owner"].StringValue != "team-tagged" {
		t.Fatalf("published %+v", msgs)
	}
}

// With -kms-key-id the record is written encrypted with that key, as the function writes it when the bucket's
// deployment names one (a bucket whose policy requires SSE-KMS refuses an SSE-S3 record).
func TestAlertCommandRecordsWithTheKMSKey(t *testing.T) {
	withBuilder(t, func(context.Context, alertFlags, []byte) (*alert.Alert, error) { a := cliAlert; return &a, nil })
	sim := startDemoSimForCLI(t)
	args := []string{"alert", "-event", writeEvent(t, `{}`), "-topic", awssim.DemoTopicARN(), "-bucket", awssim.DemoBucket, "-s3-path-style",
		"-owner", "team-a", "-kms-key-id", awssim.DemoKMSKeyARN}
	var stdout, stderr bytes.Buffer
	if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	key := alert.RecordKey("orgaudit", cliAlert.EventTime, cliAlert.EventID)
	var found bool
	for _, u := range sim.Uploads() {
		if u.Key == key {
			found = true
			if u.ServerSideEncryption != "aws:kms" {
				t.Errorf("the record is encrypted %q, want aws:kms", u.ServerSideEncryption)
			}
		}
	}
	if !found {
		t.Errorf("no record at %s", key)
	}
}

// A resend goes where the function sends: the sender is the function's own (alert.NewHandler) with the deployment's
// AUDIT_* environment, so an owner's alert reaches the owners' topic, and with owners' digests off (OwnerDigests=0)
// the organization's audience on the digest topic; -topic names the digest topic and changes nothing else.
func TestAlertCommandResendsAsTheFunctionWould(t *testing.T) {
	withBuilder(t, func(context.Context, alertFlags, []byte) (*alert.Alert, error) { a := cliAlert; return &a, nil })
	for _, c := range []struct {
		name            string
		env             map[string]string
		args            []string
		topic, audience string
	}{
		{name: "send, owners' topic", env: map[string]string{"AUDIT_TOPIC_ARN": awssim.DemoTopicARN(), "AUDIT_OWNER_TOPIC_ARN": awssim.DemoOwnerTopicARN()},
			args: []string{"-send"}, topic: awssim.DemoOwnerTopicARN(), audience: "owner"},
		{name: "topic flag, owners' topic", env: map[string]string{"AUDIT_OWNER_TOPIC_ARN": awssim.DemoOwnerTopicARN()},
			args: []string{"-topic", awssim.DemoTopicARN()}, topic: awssim.DemoOwnerTopicARN(), audience: "owner"},
		{name: "owners' digests off", env: map[string]string{"AUDIT_TOPIC_ARN": awssim.DemoTopicARN(), "AUDIT_OWNER_TOPIC_ARN": awssim.DemoOwnerTopicARN(), "AUDIT_OWNER_DIGESTS": "0"},
			args: []string{"-send"}, topic: awssim.DemoTopicARN(), audience: "organization"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sim := startDemoSimForCLI(t)
			for k, v := range map[string]string{"AUDIT_BUCKET": awssim.DemoBucket, "AUDIT_S3_PATH_STYLE": "true", "AUDIT_TOPIC_ARN": "",
				"AUDIT_OWNER_TOPIC_ARN": "", "AUDIT_OWNER_DIGESTS": ""} {
				t.Setenv(k, v)
			}
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			args := append([]string{"alert", "-event", writeEvent(t, `{}`), "-owner", "team-a"}, c.args...)
			var stdout, stderr bytes.Buffer
			if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "published to "+c.topic) {
				t.Fatalf("exit %d:\n%s%s", code, stdout.String(), stderr.String())
			}
			msgs := sim.Published()
			if len(msgs) != 1 || msgs[0].TopicARN != c.topic || msgs[0].Attributes["audience"].StringValue != c.audience {
				t.Fatalf("published %d messages: %+v, want one to %s for the %s", len(msgs), msgs, c.topic, c.audience)
			}
			if _, err := sim.Object(awssim.DemoBucket, alert.RecordKey("orgaudit", cliAlert.EventTime, cliAlert.EventID)); err != nil {
				t.Errorf("no record in AUDIT_BUCKET: %v", err)
			}
		})
	}
}

// TestAlertCommandBuildsWithTheFunctionsRole: resending with -send builds the alert as the function does, reading
// the product with the deployment's audit role, external id and session name (the AUDIT_* environment); the flags,
// when given, stand for those variables.
func TestAlertCommandBuildsWithTheFunctionsRole(t *testing.T) {
	var got alertFlags
	withBuilder(t, func(_ context.Context, f alertFlags, _ []byte) (*alert.Alert, error) { got = f; return nil, nil })
	for k, v := range map[string]string{"AUDIT_ROLE_NAME": "AuditReader", "AUDIT_EXTERNAL_ID": "ext-42", "AUDIT_SESSION_NAME": "orgaudit-alerts",
		"AUDIT_TOPIC_ARN": awssim.DemoTopicARN()} {
		t.Setenv(k, v)
	}
	for _, c := range []struct {
		args                  []string
		role, external, sessn string
	}{
		{args: []string{"-send"}, role: "AuditReader", external: "ext-42", sessn: "orgaudit-alerts"},
		{args: []string{"-send", "-role", "Other", "-external-id", "ext-7"}, role: "Other", external: "ext-7", sessn: "orgaudit-alerts"},
		{args: nil, role: config.DefaultRoleName, external: "", sessn: "orgaudit"}, // printing only: the flags' defaults
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"alert", "-event", writeEvent(t, `{}`)}, c.args...)
		if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr.String())
		}
		if got.role != c.role || got.externalID != c.external || got.sessionName != c.sessn {
			t.Errorf("%v: built with role %q, external id %q, session %q; want %q, %q, %q", c.args, got.role, got.externalID, got.sessionName, c.role, c.external, c.sessn)
		}
	}
}
