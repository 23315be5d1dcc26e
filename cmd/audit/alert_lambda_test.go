package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// queueBatch is the batch Lambda's event source mapping hands the function: each body one event, as the alert
// rule's SQS target delivers it.
func queueBatch(t *testing.T, bodies ...string) json.RawMessage {
	t.Helper()
	var batch events.SQSEvent
	for i, b := range bodies {
		batch.Records = append(batch.Records, events.SQSMessage{MessageId: fmt.Sprintf("msg-%03d", i), Body: b, EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:111111111111:orgaudit-alerts", AWSRegion: "us-east-1"})
	}
	raw, err := json.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func alertTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "alert", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLambdaAlertsFromTheQueue: the function as deployed, given a batch from the alert queue. The failed Service
// Catalog product's stack (sent twice, as EventBridge and SQS may), a stack that did not fail and a message that is
// not an event: one alert goes out, naming the product; only the malformed message is failed, for the dead-letter
// queue; the same batch again sends nothing more.
func TestLambdaAlertsFromTheQueue(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)))
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": "us-east-1",
		"AUDIT_BUCKET": awssim.DemoBucket, "AUDIT_TOPIC_ARN": awssim.DemoTopicARN(), "AUDIT_S3_PATH_STYLE": "true"}
	handle := newLambdaHandler(func(k string) string { return env[k] }, func() (aws.Config, error) {
		return sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), nil
	})
	failed := alertTestdata(t, "stack-status-change.json")
	healthy := strings.ReplaceAll(strings.ReplaceAll(failed, "ROLLBACK_COMPLETE", "CREATE_COMPLETE"), "2f3c9d1e", "3f3c9d1e")
	batch := queueBatch(t, failed, `{"source":"aws.cloudformation","detail-type":"CloudFormation Stack Status Change"}`, healthy, failed)
	for round := 1; round <= 2; round++ {
		raw, err := handle(context.Background(), batch)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var resp events.SQSEventResponse
		if err := json.Unmarshal(raw, &resp); err != nil {
			t.Fatal(err)
		}
		if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "msg-001" {
			t.Errorf("round %d: batch item failures %+v, want only the malformed msg-001", round, resp.BatchItemFailures)
		}
		msgs := sim.Published()
		if len(msgs) != 1 {
			t.Fatalf("round %d: %d messages published, want the one alert", round, len(msgs))
		}
		for _, want := range []string{"SC-222222222222-pp-sharederr0002", "ROLLBACK_COMPLETE", "pp-sharederr0002 transit-attachment"} {
			if !strings.Contains(msgs[0].Body, want) {
				t.Errorf("the alert does not say %q:\n%s", want, msgs[0].Body)
			}
		}
	}
}

// TestLambdaGroupsAStackSetBurstPerOwner: one StackSet operation fails in 50 member accounts spread over two OUs
// (and no owner tags yet): one batch, one alert per owner, each naming all 25 of its accounts.
func TestLambdaGroupsAStackSetBurstPerOwner(t *testing.T) {
	t.Parallel()
	o := awssim.GenerateOptions{Accounts: 51, Regions: []string{"us-east-1"}, AsOf: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), Seed: 5, OUs: 2}
	org := awssim.Generate(o)
	sim := testkit.StartSim(t, org)
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": "us-east-1",
		"AUDIT_BUCKET": awssim.GeneratedBucket, "AUDIT_TOPIC_ARN": awssim.GeneratedTopicARN(o), "AUDIT_S3_PATH_STYLE": "true"}
	handle := newLambdaHandler(func(k string) string { return env[k] }, func() (aws.Config, error) {
		return sim.Config(awssim.GeneratedManagementAccount, "us-east-1"), nil
	})
	template := strings.ReplaceAll(alertTestdata(t, "stackset-instance-status-change.json"), "111111111111", awssim.GeneratedManagementAccount)
	byOU := map[string][]string{}
	var bodies []string
	for i, a := range org.Accounts[1:] {
		body := strings.ReplaceAll(template, "333333333333", a.ID)
		body = strings.ReplaceAll(body, "8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", fmt.Sprintf("8c1d2e3f-4a5b-4c6d-8e7f-%012d", i))
		bodies = append(bodies, body)
		byOU["Root/"+a.OU] = append(byOU["Root/"+a.OU], a.ID)
	}
	raw, err := handle(context.Background(), queueBatch(t, bodies...))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(raw, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch item failures %+v (%v)", resp.BatchItemFailures, err)
	}
	msgs := sim.Published()
	if len(msgs) != len(byOU) {
		t.Fatalf("%d messages for a burst in 50 accounts of %d OUs, want one per owner", len(msgs), len(byOU))
	}
	for _, m := range msgs {
		owner := m.Attributes["owner"].StringValue
		accounts, ok := byOU[owner]
		if !ok {
			t.Errorf("a message for owner %q, not one of the OUs %v", owner, slices.Collect(mapsKeys(byOU)))
			continue
		}
		for _, id := range accounts {
			if !strings.Contains(m.Body, id) {
				t.Errorf("%s's alert does not name its account %s", owner, id)
			}
		}
		t.Logf("%s: %d accounts, one message of %d bytes", owner, len(accounts), len(m.Body))
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
