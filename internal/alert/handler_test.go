package alert_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// The handler tests run the function's handler as NewHandler makes it from the deployment's settings, against the
// simulator of the demo organization over HTTP.

// handlerEnv is the function's environment in the demo: the report bucket, the audit role; tests add the topics and
// email.
func handlerEnv(extra ...string) map[string]string {
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": "us-east-1",
		"AUDIT_BUCKET": awssim.DemoBucket, "AUDIT_S3_PATH_STYLE": "true"}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

func newHandler(t *testing.T, sim *awssim.Server, env map[string]string) *alert.Handler {
	t.Helper()
	s, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := alert.NewHandler(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// eventText is a sample event's text with edits (old, new pairs) applied.
func eventText(t *testing.T, file string, edits ...string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("%s holds no %q to edit", file, edits[i])
		}
		s = strings.ReplaceAll(s, edits[i], edits[i+1])
	}
	return s
}

// batch is the queue's batch of bodies, message ids msg-000, msg-001, ...
func batch(bodies ...string) events.SQSEvent {
	var b events.SQSEvent
	for i, body := range bodies {
		b.Records = append(b.Records, events.SQSMessage{MessageId: fmt.Sprintf("msg-%03d", i), Body: body, EventSource: "aws:sqs"})
	}
	return b
}

func failedItems(resp events.SQSEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	slices.Sort(out)
	return out
}

// TestAlertsGoWhereDigestsGo: with the template's two topics, an alert for the organization's audience (here the
// OU walk refused, so no owner is known) goes to the digest topic, which the operator subscribes to, and an owner's
// to the owners' topic, as their digests do.
func TestAlertsGoWhereDigestsGo(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(demoAsOf))
	h := newHandler(t, sim, handlerEnv("AUDIT_TOPIC_ARN", awssim.DemoTopicARN(), "AUDIT_OWNER_TOPIC_ARN", awssim.DemoOwnerTopicARN()))
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Service == "organizations" && c.Operation == "ListRoots" {
			return &awssim.Fault{Status: 400, Code: "AccessDeniedException", Message: "refused by the test"}
		}
		return nil
	})
	resp, err := h.HandleQueue(context.Background(), batch(eventText(t, stackEventFile)))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("organization's alert: %+v, %v", resp, err)
	}
	sim.SetIntercept(nil)
	resp, err = h.HandleQueue(context.Background(), batch(eventText(t, instanceEventFile)))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("owner's alert: %+v, %v", resp, err)
	}
	msgs := sim.Published()
	if len(msgs) != 2 {
		t.Fatalf("%d messages published, want 2", len(msgs))
	}
	if m := msgs[0]; m.TopicARN != awssim.DemoTopicARN() || m.Attributes["audience"].StringValue != "organization" {
		t.Errorf("the organization's alert went to %s with audience %q, want the digest topic %s", m.TopicARN, m.Attributes["audience"].StringValue, awssim.DemoTopicARN())
	}
	if m := msgs[1]; m.TopicARN != awssim.DemoOwnerTopicARN() || m.Attributes["audience"].StringValue != "owner" || m.Attributes["owner"].StringValue == "" {
		t.Errorf("the owner's alert went to %s with attributes %+v, want the owners' topic %s", m.TopicARN, m.Attributes, awssim.DemoOwnerTopicARN())
	}
}

// TestOwnersDigestsOffSendEveryAlertToTheOrganization: AUDIT_OWNER_DIGESTS=0 sends owners nothing of their own, so
// an account's alert goes to the organization's audience on the digest topic, though its owner is known.
func TestOwnersDigestsOffSendEveryAlertToTheOrganization(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(demoAsOf))
	h := newHandler(t, sim, handlerEnv("AUDIT_TOPIC_ARN", awssim.DemoTopicARN(), "AUDIT_OWNER_TOPIC_ARN", awssim.DemoOwnerTopicARN(),
		"AUDIT_OWNER_DIGESTS", "0"))
	resp, err := h.HandleQueue(context.Background(), batch(eventText(t, stackEventFile), eventText(t, instanceEventFile)))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%+v, %v", resp, err)
	}
	msgs := sim.Published()
	if len(msgs) != 1 {
		t.Fatalf("%d messages published, want the organization's one", len(msgs))
	}
	m := msgs[0]
	if m.TopicARN != awssim.DemoTopicARN() || m.Attributes["audience"].StringValue != "organization" || m.Attributes["owner"].StringValue != "" {
		t.Errorf("sent to %s with attributes %+v, want the digest topic and the organization's audience", m.TopicARN, m.Attributes)
	}
	for _, id := range []string{sharedAccount, networkAccount} {
		if !strings.Contains(m.Body, id) {
			t.Errorf("the message does not name account %s", id)
		}
	}
}

// TestAnEmailOnlyDeploymentMailsAndRecords: settings with email and no topic (which the settings allow) send the
// alert by email and record it for the digest. Its owner (the account's OU path) is not an address and has no topic,
// so it is mailed to the organization's recipients rather than to no one.
func TestAnEmailOnlyDeploymentMailsAndRecords(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(demoAsOf))
	ops := "ops@" + awssim.DemoEmailDomain
	h := newHandler(t, sim, handlerEnv("AUDIT_EMAIL_FROM", awssim.DemoEmailFrom, "AUDIT_EMAIL_TO", ops))
	ev := event(t, stackEventFile)
	for round := 1; round <= 2; round++ {
		resp, err := h.HandleQueue(context.Background(), batch(eventText(t, stackEventFile)))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("round %d: %+v, %v", round, resp, err)
		}
	}
	emails := sim.Emails()
	if len(emails) != 1 || !slices.Equal(emails[0].To, []string{ops}) || !strings.Contains(string(emails[0].Raw), "SC-222222222222-pp-sharederr0002") {
		t.Fatalf("emails %d, want one to %s naming the stack", len(emails), ops)
	}
	if n := len(sim.Published()); n != 0 {
		t.Errorf("%d messages published with no topic", n)
	}
	if _, err := sim.Object(awssim.DemoBucket, alert.RecordKey("orgaudit", ev.Time, ev.ID)); err != nil {
		t.Errorf("no record of the mailed alert: %v", err)
	}
}

// TestAPanicFailsItsMessageOnly: a message whose handling panics (here its routing) is failed for the queue's retry
// and, after them, the dead-letter queue; the rest of the batch goes out.
func TestAPanicFailsItsMessageOnly(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(demoAsOf))
	h := newHandler(t, sim, handlerEnv("AUDIT_TOPIC_ARN", awssim.DemoTopicARN()))
	h.Route = func(context.Context, []string) alert.Route {
		return func(_ context.Context, id string) (alert.Owner, error) {
			if id == networkAccount {
				panic("routing bug")
			}
			return alert.Owner{Name: "team-a"}, nil
		}
	}
	resp, err := h.HandleQueue(context.Background(), batch(eventText(t, stackEventFile), eventText(t, instanceEventFile)))
	if err != nil || !slices.Equal(failedItems(resp), []string{"msg-001"}) {
		t.Fatalf("failed %v (%v), want only the instance's msg-001", failedItems(resp), err)
	}
	if msgs := sim.Published(); len(msgs) != 1 || !strings.Contains(msgs[0].Body, sharedAccount) || strings.Contains(msgs[0].Body, networkAccount) {
		t.Fatalf("published %d messages, want the shared account's alert alone", len(msgs))
	}
}

// TestABatchReadsEachAccountOnce: twenty events of one account's stack (a flapping product, a re-driven queue) read
// the account's name once and assume the audit role there once.
func TestABatchReadsEachAccountOnce(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(demoAsOf))
	h := newHandler(t, sim, handlerEnv("AUDIT_TOPIC_ARN", awssim.DemoTopicARN()))
	var bodies []string
	for i := range 20 {
		bodies = append(bodies, eventText(t, stackEventFile, "2f3c9d1e-7a4b-4c8e-9f61-0b5d7e3a1c24", fmt.Sprintf("2f3c9d1e-7a4b-4c8e-9f61-%012d", i)))
	}
	before := sim.Calls()
	resp, err := h.HandleQueue(context.Background(), batch(bodies...))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%+v, %v", resp, err)
	}
	after := sim.Calls()
	for _, op := range []string{"organizations.DescribeAccount", "sts.AssumeRole"} {
		if n := after[op] - before[op]; n != 1 {
			t.Errorf("%s called %d times for 20 events of one account, want once", op, n)
		}
	}
	if msgs := sim.Published(); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "pp-sharederr0002 transit-attachment") {
		t.Errorf("published %d messages, want one naming the product", len(msgs))
	}
}

// TestABatchShortOfTimeSendsWhatItBuiltAndFailsTheRest: the shared account's build hangs (assuming the audit role
// there to read its product answers only when the caller gives up); with the invocation's deadline near, building
// stops before it, the network account's alert is sent, and the unbuilt message is failed for the queue's retry,
// never dropped.
func TestABatchShortOfTimeSendsWhatItBuiltAndFailsTheRest(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(demoAsOf))
	h := newHandler(t, sim, handlerEnv("AUDIT_TOPIC_ARN", awssim.DemoTopicARN()))
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Service == "sts" && c.Operation == "AssumeRole" && c.Target == sharedAccount {
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
			}
			return &awssim.Fault{Status: 400, Code: "Throttling", Message: "slow by the test"}
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	resp, err := h.HandleQueue(ctx, batch(eventText(t, stackEventFile), eventText(t, instanceEventFile)))
	if err != nil || !slices.Equal(failedItems(resp), []string{"msg-000"}) {
		t.Fatalf("failed %v (%v), want the unbuilt msg-000 only", failedItems(resp), err)
	}
	msgs := sim.Published()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Body, networkAccount) || strings.Contains(msgs[0].Body, sharedAccount) {
		t.Fatalf("published %d messages, want the network account's alert alone", len(msgs))
	}
	if ctx.Err() != nil {
		t.Errorf("the handler returned only after its deadline")
	}
}

// TestAStackSetFailureToldTwiceIsOneItem: a StackSet failing in a member account is told by the member's stack
// status change and by the administrator's stack instance event. Both name the same stack: the message lists it
// once (the stack's alert, with the StackSet and the instance's detailed status), its headline counts one stack,
// and each event is claimed and recorded.
func TestAStackSetFailureToldTwiceIsOneItem(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(demoAsOf))
	h := newHandler(t, sim, handlerEnv("AUDIT_TOPIC_ARN", awssim.DemoTopicARN()))
	member := "arn:aws:cloudformation:us-east-1:333333333333:stack/StackSet-baseline-0a1b2c3d/7c2e9a40-c9a2-11f0-9f1e-0e4d5c6b7a89"
	stack := eventText(t, stackEventFile, "arn:aws:cloudformation:us-east-1:222222222222:stack/SC-222222222222-pp-sharederr0002/5b0e6f10-c9a1-11f0-8de9-0a1b2c3d4e5f", member,
		`"account": "222222222222"`, `"account": "333333333333"`)
	resp, err := h.HandleQueue(context.Background(), batch(stack, eventText(t, instanceEventFile)))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%+v, %v", resp, err)
	}
	msgs := sim.Published()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	body := msgs[0].Body
	t.Logf("the message:\n%s", body)
	if !strings.HasPrefix(body, "orgaudit alert: 1 failed stack in 1 account") || strings.Count(body, "Stack: StackSet-baseline-0a1b2c3d") != 1 {
		t.Errorf("the stack is not one item:\n%s", body)
	}
	for _, want := range []string{"Status: ROLLBACK_COMPLETE; stack instance OUTDATED (FAILED)", "StackSet: arn:aws:cloudformation:us-east-1:111111111111:stackset/baseline:",
		"2f3c9d1e-7a4b-4c8e-9f61-0b5d7e3a1c24", "8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "Access denied"} {
		if !strings.Contains(body, want) {
			t.Errorf("the message does not say %q:\n%s", want, body)
		}
	}
	for _, file := range []string{stackEventFile, instanceEventFile} {
		ev := event(t, file)
		if _, err := sim.Object(awssim.DemoBucket, alert.RecordKey("orgaudit", ev.Time, ev.ID)); err != nil {
			t.Errorf("no record of %s: %v", ev.ID, err)
		}
		if _, err := sim.Object(awssim.DemoBucket, delivery.AlertMarkerKey("orgaudit", ev.Time, ev.ID, alert.ChannelTopic)); err != nil {
			t.Errorf("no claim of %s: %v", ev.ID, err)
		}
	}
}
