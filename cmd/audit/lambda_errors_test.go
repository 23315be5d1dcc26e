package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awserr"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// lambdaErrorType is the errorType aws-lambda-go reports for a handler's error: the name of its Go type, the pointer
// followed (lambda/errors.go, lambdaErrorResponse).
func lambdaErrorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// checkServices are the services the checks call, by the prefix of their IAM actions (each service's SigV4 signing
// name, which the simulator goes by); denying them all leaves nothing audited.
var checkServices = func() []string {
	var out []string
	for _, c := range checks.All() {
		for _, a := range c.Actions() {
			if service, _, _ := strings.Cut(a, ":"); !slices.Contains(out, service) {
				out = append(out, service)
			}
		}
	}
	return out
}()

// TestLambdaErrorTypeTellsFailuresApart: an operator reading an invocation's errorType (the on-failure destination,
// a log query, an alarm's message) learns which of the four failures it was without reading the message, and
// errors.Is / errors.As still reach the cause.
func TestLambdaErrorTypeTellsFailuresApart(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)))
	const snsRefusal = "User: arn:aws:sts::111111111111:assumed-role/orgaudit/x is not authorized to perform: SNS:Publish on resource: " +
		"arn:aws:sns:us-east-1:111111111111:orgaudit because no identity-based policy allows the SNS:Publish action"
	var mu sync.Mutex
	var denyChecks, denyPublish bool
	sim.SetIntercept(func(_ context.Context, c awssim.Call) *awssim.Fault {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case denyChecks && slices.Contains(checkServices, c.Service):
			return &awssim.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized to perform: " + c.Service + ":" + c.Operation}
		case denyPublish && c.Service == "sns" && c.Operation == "Publish":
			return &awssim.Fault{Status: 403, Code: "AuthorizationError", Message: snsRefusal}
		}
		return nil
	})
	deny := func(checks, publish bool) { mu.Lock(); denyChecks, denyPublish = checks, publish; mu.Unlock() }
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": "us-east-1", "AUDIT_BUCKET": awssim.DemoBucket,
		"AUDIT_TOPIC_ARN": awssim.DemoTopicARN(), "AUDIT_S3_PATH_STYLE": "true"}
	load := func() (aws.Config, error) {
		return sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), nil
	}
	handle := newLambdaHandler(func(k string) string { return env[k] }, load)

	cases := []struct {
		name, event, wantType, wantText string
		env                             map[string]string
		loadErr                         error
		denyChecks, denyPublish         bool
		is                              func(error) bool
	}{
		{name: "a malformed setting", event: `{}`, env: map[string]string{"AUDIT_CONCURRENCY": "lots"},
			wantType: "InvalidSettingsError", wantText: "AUDIT_CONCURRENCY"},
		{name: "a region AWS does not have", event: `{}`, env: map[string]string{"AUDIT_REGIONS": "us-east-1,eu-west-9"},
			wantType: "InvalidSettingsError", wantText: `AUDIT_REGIONS: "eu-west-9" is not an AWS region (did you mean eu-west-1?`},
		{name: "an AWS configuration that does not load", event: `{}`, loadErr: errors.New("failed to load shared config"),
			wantType: "InvalidSettingsError", wantText: "failed to load shared config"},
		{name: "an unknown field", event: `{"surprise":true}`, wantType: "InvalidEventError", wantText: `unknown field "surprise"`},
		{name: "an unknown step", event: `{"step":"audit"}`, wantType: "InvalidEventError", wantText: `step "audit" is not one of plan, shard, report`},
		{name: "a step event's unknown field", event: `{"step":"plan","surprise":true}`, wantType: "InvalidEventError", wantText: `unknown field "surprise"`},
		{name: "a plan of a bad override", event: `{"step":"plan","event":{"checks":["no-such-check"]}}`, wantType: "InvalidEventError", wantText: "no-such-check"},
		{name: "a shard of no run", event: `{"step":"shard","shard":{"index":0,"accounts":[{"id":"222222222222"}]}}`, wantType: "InvalidEventError", wantText: "run_id"},
		{name: "every check denied", event: `{"run_id":"nothing-audited"}`, denyChecks: true,
			wantType: "NothingAuditedError", wantText: "nothing could be audited",
			is: func(err error) bool { return errors.Is(err, audit.ErrNothingAudited) }},
		{name: "the digest refused", event: `{"run_id":"undelivered"}`, denyPublish: true,
			wantType: "DeliveryFailedError", wantText: snsRefusal,
			is: func(err error) bool { return awserr.APICode(err) == "AuthorizationError" }},
	}
	for _, c := range cases {
		h := handle
		if c.env != nil || c.loadErr != nil {
			h = newLambdaHandler(func(k string) string { return c.env[k] }, func() (aws.Config, error) { return aws.Config{}, c.loadErr })
		}
		deny(c.denyChecks, c.denyPublish)
		_, err := h(context.Background(), json.RawMessage(c.event))
		if err == nil {
			t.Errorf("%s: the invocation succeeded", c.name)
			continue
		}
		if got := lambdaErrorType(err); got != c.wantType || !strings.Contains(err.Error(), c.wantText) {
			t.Errorf("%s: errorType %q (want %q), message %q (want it to hold %q)", c.name, got, c.wantType, err, c.wantText)
		}
		if c.is != nil && !c.is(err) {
			t.Errorf("%s: the cause is lost: %v", c.name, err)
		}
	}
}

// logLines decodes JSON log lines.
func logLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if n := bytes.Count(l, []byte(`"run_id":`)); n > 1 {
			t.Errorf("log line says run_id %d times: %s", n, l)
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, l)
		}
		lines = append(lines, m)
	}
	return lines
}

// TestLambdaLogsCarryTheRunsID: a scheduled run's id comes from the schedule's time, and every line the invocation
// logs, its first included, says that id, the one the result and the workbook's key carry.
func TestLambdaLogsCarryTheRunsID(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)))
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": "us-east-1", "AUDIT_BUCKET": awssim.DemoBucket,
		"AUDIT_TOPIC_ARN": awssim.DemoTopicARN(), "AUDIT_S3_PATH_STYLE": "true"}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	handle := lambdaHandler(logger, io.Discard, func(k string) string { return env[k] }, func() (aws.Config, error) {
		return sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), nil
	})
	raw, err := handle(context.Background(), json.RawMessage(`{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events",`+
		`"account":"111111111111","time":"2026-11-22T08:00:00Z","region":"us-east-1","resources":[],"detail":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	res := decodeResult(t, string(raw))
	if res.Report == nil || !strings.Contains(res.Report.Key, res.RunID) {
		t.Fatalf("run %s, report %+v", res.RunID, res.Report)
	}
	var invocation bool
	for _, l := range logLines(t, logs.Bytes()) {
		invocation = invocation || l["msg"] == "invocation"
		if !invocation {
			continue // the cold start's lines come before any run
		}
		if l["run_id"] != res.RunID {
			t.Errorf("log line %q says run_id %q, the result says %q", l["msg"], l["run_id"], res.RunID)
		}
	}
	if !invocation {
		t.Fatalf("no invocation line:\n%s", logs.String())
	}
}

// TestManualRetryIsTheSameRun: Lambda retries a failed asynchronous invocation with the same request id. A manual run
// without a run_id is named after it, so the retry finds the digest already sent instead of mailing a second one,
// whenever it comes; another request is another run.
func TestManualRetryIsTheSameRun(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)))
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": "us-east-1", "AUDIT_BUCKET": awssim.DemoBucket,
		"AUDIT_TOPIC_ARN": awssim.DemoTopicARN(), "AUDIT_S3_PATH_STYLE": "true"}
	handle := newLambdaHandler(func(k string) string { return env[k] }, func() (aws.Config, error) {
		return sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), nil
	})
	invoke := func(requestID string) (string, bool, bool) {
		t.Helper()
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
		raw, err := handle(ctx, json.RawMessage(`{"checks":["cloudformation-failed-stacks"]}`))
		if err != nil {
			t.Fatalf("request %s: %v", requestID, err)
		}
		res := decodeResult(t, string(raw))
		return res.RunID, res.Published, res.AlreadyPublished
	}
	const request, other = "8476a536-e9f4-11e8-9739-2dfe598c3fcd", "c6af9ac6-7b61-11e6-9a41-93e812345678"
	first, published, _ := invoke(request)
	if first != config.RequestRunID(request) || !published {
		t.Fatalf("first attempt: run %q published %v, want run %q", first, published, config.RequestRunID(request))
	}
	retried, published, already := invoke(request)
	if retried != first || published || !already || len(sim.Digests()) != 1 {
		t.Fatalf("retry: run %q published %v already %v, %d digests; want run %q, one digest", retried, published, already, len(sim.Digests()), first)
	}
	if next, published, _ := invoke(other); next == first || !published || len(sim.Digests()) != 2 {
		t.Errorf("another request: run %q published %v, %d digests", next, published, len(sim.Digests()))
	}
}

// TestReplayedEventIsLoggedAsSuch: a replay of an archived schedule event is that day's run again; its invocation line
// names the replay, so an operator can tell it from the schedule.
func TestReplayedEventIsLoggedAsSuch(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)))
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": "us-east-1", "AUDIT_CHECKS": "cloudformation-failed-stacks"}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	handle := lambdaHandler(logger, io.Discard, func(k string) string { return env[k] }, func() (aws.Config, error) {
		return sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), nil
	})
	if _, err := handle(context.Background(), json.RawMessage(`{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events",`+
		`"account":"111111111111","time":"2026-11-22T08:00:00Z","region":"us-east-1","resources":[],"detail":{},"replay-name":"orgaudit-2026-11-22"}`)); err != nil {
		t.Fatal(err)
	}
	for _, l := range logLines(t, logs.Bytes()) {
		if l["msg"] == "invocation" {
			if l["replay_name"] != "orgaudit-2026-11-22" || l["run_id"] != "20261122T080000Z" {
				t.Errorf("invocation line %v: want the replay's name and the original schedule's run id", l)
			}
			return
		}
	}
	t.Fatalf("no invocation line:\n%s", logs.String())
}
