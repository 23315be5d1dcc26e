package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
)

// TestAlertThenDigestEndToEnd is the event-driven path as deployed, in the simulator enforcing the templates' IAM: a
// Service Catalog product's stack fails in a member account at 08:14; CloudFormation's event goes from the member's
// default bus through the forwarding rule and role to the alert bus, and from its rule to the alert queue; the
// function reads it from the queue (twice, as at-least-once delivery may); the account's owner receives one alert,
// naming the product; the next day's digest shows the stack as new and "alerted at" 08:14.
func TestAlertThenDigestEndToEnd(t *testing.T) {
	t.Parallel()
	org := alertedOrg()
	org.Accounts[1].Tags = map[string]string{"owner": "team-payments"}
	sim := startSimWith(t, org, demoDeployment(org))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.Regions, s.Checks = []string{"us-east-1"}, []string{checks.CloudFormationFailedStacks{}.Name()}
	s.OwnerTagKey, s.AlertRecords = "owner", true
	run := func(runTime time.Time) *audit.Output {
		t.Helper()
		s := s
		s.RunTime, s.AsOf = runTime, runTime.Truncate(24*time.Hour)
		out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger(), Now: func() time.Time { return runTime.Add(time.Minute) }})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	day0, day1 := demoAsOf, demoAsOf.Add(24*time.Hour)
	if out := run(day0.Add(8 * time.Hour)); strings.Contains(out.Digest, "pp-e2e") {
		t.Fatalf("the first run found the stack before it failed:\n%s", out.Digest)
	}

	// 08:14: the product's stack fails, and CloudFormation's event reaches the alert queue.
	failedAt := day1.Add(8*time.Hour + 14*time.Minute)
	stack := "SC-" + alertedMember + "-pp-e2e0000000001"
	use1 := org.Accounts[1].Regions["us-east-1"]
	use1.Stacks = []awssim.Stack{{Name: stack, Status: "ROLLBACK_COMPLETE",
		Reason: "The following resource(s) failed to create: [Bucket].", Created: failedAt.Add(-2 * time.Minute)}}
	use1.Artifacts = []awssim.ProvisioningArtifact{{ProductID: "prod-bucket00001", ID: "pa-bucket000v21", Name: "v2.1", Description: "Encrypted bucket", Created: day0}}
	use1.ProvisionedProducts = []awssim.ProvisionedProduct{{ID: "pp-e2e0000000001", Name: "payments-bucket", Type: "CFN_STACK", Status: "ERROR",
		StatusMessage: "Stack creation failed.", ProductID: "prod-bucket00001", ProductName: "Encrypted bucket", ArtifactID: "pa-bucket000v21",
		ArtifactName: "v2.1", LastRecordID: "rec-e2e0001", Created: failedAt.Add(-2 * time.Minute)}}
	// CloudFormation's event, as the user guide's example has it, on the member's default bus: the member template's
	// rule forwards it to the alert bus with its role, the management template's rule puts it on the alert queue.
	b, err := os.ReadFile(filepath.Join("..", "alert", "testdata", "stack-status-change.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(b, &sample); err != nil {
		t.Fatal(err)
	}
	stackID := "arn:aws:cloudformation:us-east-1:" + alertedMember + ":stack/" + stack + "/5b0e6f10-c9a1-11f0-8de9-0a1b2c3d4e5f"
	detail := strings.ReplaceAll(strings.ReplaceAll(string(sample.Detail), "SC-222222222222-pp-sharederr0002", stack), "222222222222", alertedMember)
	if _, err := sim.EmitServiceEvent(alertedMember, "us-east-1", awssim.ServiceEvent{Source: "aws.cloudformation", DetailType: "CloudFormation Stack Status Change",
		Detail: detail, Time: failedAt.Add(5 * time.Second), Resources: []string{stackID}}); err != nil {
		t.Fatal(err)
	}
	if failed := sim.FailedInvocations(); len(failed) != 0 {
		t.Fatalf("the event was not delivered: %+v", failed)
	}
	// Lambda's poller reads the queue with the function's role and hands the function a batch; SQS may hand the same
	// message again (at-least-once), so the batch is handed twice.
	poller := sqs.NewFromConfig(cfg)
	var queue string
	for _, u := range sim.Queues() {
		if strings.HasSuffix(u, "-AlertQueue") {
			queue = u
		}
	}
	got, err := poller.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("the alert queue %q holds %d messages (%v), want the one event", queue, len(got.Messages), err)
	}
	m := got.Messages[0]
	msg := events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body), EventSource: "aws:sqs"}
	batch := events.SQSEvent{Records: []events.SQSMessage{msg, msg}}
	h, err := alert.NewHandler(context.Background(), cfg, s, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	h.Sender.Now = func() time.Time { return failedAt.Add(30 * time.Second) }
	resp, err := h.HandleQueue(context.Background(), batch)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch: failures %+v, %v", resp.BatchItemFailures, err)
	}
	if _, err := poller.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	var alerts []awssim.Message
	for _, m := range sim.Published() {
		if strings.Contains(m.Body, stack) {
			alerts = append(alerts, m)
		}
	}
	if len(alerts) != 1 || alerts[0].Attributes["owner"].StringValue != "team-payments" {
		t.Fatalf("%d alerts for the stack, want one to team-payments: %+v", len(alerts), alerts)
	}
	for _, want := range []string{"ROLLBACK_COMPLETE", "payments-prod (" + alertedMember + ")", "Product: pp-e2e0000000001 payments-bucket, product Encrypted bucket, version v2.1"} {
		if !strings.Contains(alerts[0].Body, want) {
			t.Errorf("the alert does not say %q:\n%s", want, alerts[0].Body)
		}
	}
	if card := alerts[0].Bodies["https"]; !strings.Contains(card, `"version":"1.0"`) || !strings.Contains(card, stack) {
		t.Errorf("the chat card (the https body) does not name the stack:\n%s", card)
	}
	t.Logf("the alert as sent: subject %q\n%s\nchat card: %s", alerts[0].Subject, alerts[0].Body, alerts[0].Bodies["https"])

	// The next day's run.
	out := run(day1.Add(24*time.Hour + 8*time.Hour))
	want := fmt.Sprintf("new, alerted at %s: payments-prod (%s) us-east-1 [cloudformation-failed-stacks] %s", "2026-11-23 08:14 UTC", alertedMember, stack)
	if !strings.Contains(out.Digest, want) {
		t.Errorf("the next digest lacks %q:\n%s", want, out.Digest)
	}
	var line string
	for _, l := range strings.Split(out.Digest, "\n") {
		if strings.Contains(l, stack) {
			line = l
			break
		}
	}
	t.Logf("the next digest's line: %s", line)
}
