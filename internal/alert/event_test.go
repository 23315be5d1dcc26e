package alert_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/alert"
)

func TestDecodeReadsTheUserGuidesTwoEvents(t *testing.T) {
	t.Parallel()
	ev := event(t, stackEventFile)
	want := alert.Event{ID: "2f3c9d1e-7a4b-4c8e-9f61-0b5d7e3a1c24", DetailType: alert.StackStatusChange, Account: sharedAccount,
		Region: "us-east-1", Time: time.Date(2026, 11, 23, 8, 14, 5, 0, time.UTC), Stack: &alert.StackDetail{
			StackID:      "arn:aws:cloudformation:us-east-1:222222222222:stack/SC-222222222222-pp-sharederr0002/5b0e6f10-c9a1-11f0-8de9-0a1b2c3d4e5f",
			Status:       "ROLLBACK_COMPLETE",
			StatusReason: "The following resource(s) failed to create: [Bucket]. Rollback requested by user.",
			// The console's form of the token, as the user guide describes it.
			ClientRequestToken: "Console-CreateStack-7f59c3cf-00d2-40c7-b2ff-e75db0987002"}}
	if ev.Instance != nil || *ev.Stack != *want.Stack {
		t.Errorf("stack detail %+v, want %+v", ev.Stack, want.Stack)
	}
	ev.Stack, want.Stack = nil, nil
	if ev != want {
		t.Errorf("event %+v, want %+v", ev, want)
	}

	ev = event(t, instanceEventFile)
	// The administrator account (111111111111) received it; the stack, and so the event's Account and Region, are
	// the member's the stack-id names.
	wantInstance := alert.InstanceDetail{
		StackSetARN:    "arn:aws:cloudformation:us-east-1:111111111111:stackset/baseline:e5f54eea-d041-44ad-94f8-b8268aca1e59",
		StackID:        "arn:aws:cloudformation:us-east-1:333333333333:stack/StackSet-baseline-0a1b2c3d/7c2e9a40-c9a2-11f0-9f1e-0e4d5c6b7a89",
		Action:         "UPDATE",
		Status:         "OUTDATED",
		StatusReason:   `ResourceLogicalId:Topic, ResourceType:AWS::SNS::Topic, ResourceStatusReason:Resource handler returned message: "Access denied".`,
		DetailedStatus: "FAILED"}
	if ev.Stack != nil || ev.Instance == nil || *ev.Instance != wantInstance || ev.Account != networkAccount || ev.Region != "us-east-1" ||
		ev.DetailType != alert.InstanceStatusChange {
		t.Errorf("instance event %+v %+v", ev, ev.Instance)
	}
}

// TestDecodeTakesTheUserGuidesOwnExamples: the examples as the user guide prints them, ids and all: a stack ARN
// without its uuid, an event id with letters past f, no client-request-token, no action.
func TestDecodeTakesTheUserGuidesOwnExamples(t *testing.T) {
	t.Parallel()
	for name, raw := range map[string]string{
		"instance": `{
  "version": "0",
  "id": "42h6hb90-hg0w-11op-b01v-0xhnh0934z09",
  "detail-type": "CloudFormation StackSet StackInstance Status Change",
  "source": "aws.cloudformation",
  "account": "111122223333",
  "time": "2021-09-22T19:19:23Z",
  "region": "us-east-1",
  "resources": [
    "arn:aws:cloudformation:us-east-1:111122223333:stackset/test1234:e5f54eea-d041-44ad-94f8-b8268aca1e59"
  ],
  "detail": {
     "stack-set-arn": "arn:aws:cloudformation:us-east-1:111122223333:stackset/test1234:e5f54eea-d041-44ad-94f8-b8268aca1e59",
    "stack-id": "arn:aws:cloudformation:us-west-1:111122223333:stack/teststack",
    "status-details": {
        "status": "OUTDATED",
        "status-reason": "User Initiated",
        "detailed-status": "PENDING"
    }
  }
}`,
		"stack": `{"version":"0","id":"1e789968-f1d2-426f-db05-e8bca2e199d8","detail-type":"CloudFormation Stack Status Change",
"source":"aws.cloudformation","account":"111122223333","time":"2022-08-03T07:22:45Z","region":"eu-west-3",
"resources":["arn:aws:cloudformation:eu-west-3:111122223333:stack/cf-event-testing/dca9d690-12fc-11ed-acb4-0e99ce9abea2"],
"detail":{"stack-id":"arn:aws:cloudformation:eu-west-3:111122223333:stack/cf-event-testing/dca9d690-12fc-11ed-acb4-0e99ce9abea2",
"status-details":{"status":"CREATE_COMPLETE","status-reason":""}}}`,
	} {
		ev, err := alert.Decode([]byte(raw))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if name == "instance" && (ev.Account != "111122223333" || ev.Region != "us-west-1" || ev.Instance.Action != "") {
			t.Errorf("instance: %+v %+v", ev, ev.Instance)
		}
	}
}

func TestDecodeRefusesWhatIsNotOneOfTheTwoEvents(t *testing.T) {
	t.Parallel()
	stack, err := os.ReadFile(stackEventFile)
	if err != nil {
		t.Fatal(err)
	}
	instance, err := os.ReadFile(instanceEventFile)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(b []byte, old, new string) string {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("no %q to edit", old)
		}
		return strings.ReplaceAll(string(b), old, new)
	}
	const stackID = `"stack-id": "arn:aws:cloudformation:us-east-1:222222222222:stack/SC-222222222222-pp-sharederr0002/5b0e6f10-c9a1-11f0-8de9-0a1b2c3d4e5f"`
	cases := map[string]struct{ raw, reason string }{
		"not JSON":              {"Subject: hello", "not an EventBridge event"},
		"empty":                 {"", "not an EventBridge event"},
		"a JSON array":          {"[]", "not an EventBridge event: array, not object"},
		"two values":            {string(stack) + "{}", "text after the JSON value"},
		"oversized":             {edit(stack, `Rollback requested by user.`, strings.Repeat("x", alert.MaxEventBytes)), "more than EventBridge's"},
		"another source":        {edit(stack, `"source": "aws.cloudformation"`, `"source": "acme.cloudformation"`), `source "acme.cloudformation" is not aws.cloudformation`},
		"another detail-type":   {edit(stack, `"CloudFormation Stack Status Change"`, `"CloudFormation Resource Status Change"`), `detail-type "CloudFormation Resource Status Change" is neither`},
		"no id":                 {edit(stack, `"id": "2f3c9d1e-7a4b-4c8e-9f61-0b5d7e3a1c24",`, ``), "missing id"},
		"id a path":             {edit(stack, `"2f3c9d1e-7a4b-4c8e-9f61-0b5d7e3a1c24"`, `"../../history/state"`), "is not a UUID"},
		"id with a slash":       {edit(stack, `"2f3c9d1e-7a4b-4c8e-9f61-0b5d7e3a1c24"`, `"2f3c9d1e-7a4b-4c8e-9f61-0b5d7e3a/c24"`), "is not a UUID"},
		"id a number":           {edit(stack, `"2f3c9d1e-7a4b-4c8e-9f61-0b5d7e3a1c24"`, `42`), "field id is number, not string"},
		"account short":         {edit(stack, `"account": "222222222222"`, `"account": "22222222222"`), "is not 12 digits"},
		"account elsewhere":     {edit(stack, `"account": "222222222222"`, `"account": "444444444444"`), "stack-id is in 222222222222 us-east-1, the event in 444444444444 us-east-1"},
		"region not a region":   {edit(stack, `"region": "us-east-1"`, `"region": "us-east-1/../x"`), "is not a region"},
		"time not a time":       {edit(stack, `"time": "2026-11-23T08:14:05Z"`, `"time": "yesterday"`), "is not RFC 3339"},
		"version 1":             {edit(stack, `"version": "0"`, `"version": "1"`), `version "1" is not 0`},
		"detail null":           {edit(stack, `"detail": {`, `"detail": null, "x": {`), "missing detail"},
		"detail a string":       {edit(stack, `"detail": {`, `"detail": "x", "x": {`), "detail: string, not object"},
		"no stack-id":           {edit(stack, stackID+",", ``), "detail has no stack-id"},
		"stack-id not an ARN":   {edit(stack, stackID, `"stack-id": "SC-222222222222-pp-sharederr0002"`), "is not a CloudFormation stack ARN"},
		"stack-id of S3":        {edit(stack, stackID, `"stack-id": "arn:aws:s3:us-east-1:222222222222:stack/x/5b0e6f10-c9a1-11f0-8de9-0a1b2c3d4e5f"`), "is not a CloudFormation stack ARN"},
		"stack-id a stackset":   {edit(stack, stackID, `"stack-id": "arn:aws:cloudformation:us-east-1:222222222222:stackset/x:5b0e6f10-c9a1-11f0-8de9-0a1b2c3d4e5f"`), "is not a CloudFormation stack ARN"},
		"stack name a newline":  {edit(stack, stackID, `"stack-id": "arn:aws:cloudformation:us-east-1:222222222222:stack/a\nSubject: x/5b0e6f10-c9a1-11f0-8de9-0a1b2c3d4e5f"`), "is not a CloudFormation stack ARN"},
		"stack-id a number":     {edit(stack, stackID, `"stack-id": 7`), "field stack-id is number, not string"},
		"no status-details":     {edit(stack, `"status-details"`, `"status-detail"`), "detail has no status-details"},
		"status empty":          {edit(stack, `"status": "ROLLBACK_COMPLETE"`, `"status": ""`), `status-details.status "" is not a status`},
		"status lower case":     {edit(stack, `"status": "ROLLBACK_COMPLETE"`, `"status": "rollback_complete\n"`), `status-details.status "rollback_complete\n" is not a status`},
		"reason an object":      {edit(stack, `"status-reason": "The`, `"status-reason": {}, "x": "The`), "field status-details.status-reason is object, not string"},
		"token a list":          {edit(stack, `"client-request-token": "Console`, `"client-request-token": [], "x": "Console`), "field client-request-token is array, not string"},
		"instance no detailed":  {edit(instance, `"detailed-status": "FAILED"`, `"x": "FAILED"`), `status-details.detailed-status "" is not a status`},
		"instance no set":       {edit(instance, `"stack-set-arn"`, `"stack-set"`), "detail has no stack-set-arn"},
		"instance set a stack":  {edit(instance, `stackset/baseline:e5f54eea`, `stack/baseline/e5f54eea`), "is not a CloudFormation StackSet ARN"},
		"instance set admin":    {edit(instance, `"account": "111111111111"`, `"account": "121212121212"`), "stack-set-arn is in 111111111111 us-east-1, the event in 121212121212 us-east-1"},
		"instance stack bad":    {edit(instance, `:333333333333:stack/`, `:3333:stack/`), "is not a CloudFormation stack ARN"},
		"instance partitions":   {edit(instance, `arn:aws:cloudformation:us-east-1:333333333333`, `arn:aws-cn:cloudformation:cn-north-1:333333333333`), "stack-id is in partition aws-cn, the StackSet in aws"},
		"instance action lower": {edit(instance, `"action": "UPDATE"`, `"action": "update; rm"`), "is not a StackSet operation"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev, err := alert.Decode([]byte(tc.raw))
			var inv *alert.InvalidEventError
			if !errors.As(err, &inv) {
				t.Fatalf("err %v (%T), event %+v", err, err, ev)
			}
			if !strings.Contains(inv.Reason, tc.reason) {
				t.Errorf("reason %q, want it to say %q", inv.Reason, tc.reason)
			}
			if ev != (alert.Event{}) {
				t.Errorf("a refused event was returned: %+v", ev)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, file := range []string{stackEventFile, instanceEventFile} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":"0"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := alert.Decode(raw)
		if err != nil {
			var inv *alert.InvalidEventError
			if !errors.As(err, &inv) || inv.Reason == "" {
				t.Fatalf("error not an InvalidEventError with a reason: %v", err)
			}
			return
		}
		if ev.ID == "" || ev.Account == "" || ev.Region == "" || (ev.Stack == nil) == (ev.Instance == nil) {
			t.Fatalf("accepted an event without its identity: %+v", ev)
		}
		if strings.ContainsAny(ev.ID, "/.\\") {
			t.Fatalf("id %q would not be one S3 key segment", ev.ID)
		}
	})
}

// TestDecodeTakesEveryRegionTheSettingsTake: a region of the AWS European Sovereign Cloud (eusc-de-east-1, four
// letters first) is a region to the settings, so an event from it is one too, not refused into the dead-letter queue.
func TestDecodeTakesEveryRegionTheSettingsTake(t *testing.T) {
	t.Parallel()
	for _, r := range []string{"eusc-de-east-1", "us-gov-west-1", "us-isob-east-1", "cn-northwest-1"} {
		ev := event(t, stackEventFile, "us-east-1", r)
		if ev.Region != r {
			t.Errorf("region %q decoded as %q", r, ev.Region)
		}
	}
}
