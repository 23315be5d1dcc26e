package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
)

// The sending tests run the real SDK clients against the simulator's S3, SNS and SES. Its IAM is not enforced here:
// the function's role is the templates' part, which the simulator's template tests hold.

var sendTime = time.Date(2026, 12, 6, 8, 14, 0, 0, time.UTC)

type sendWorld struct {
	sim    *awssim.Server
	sender *alert.Sender
}

func newSendWorld(t *testing.T, route alert.Route) sendWorld {
	t.Helper()
	sim := awssim.New(awssim.Demo(sendTime))
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	return sendWorld{sim: sim, sender: &alert.Sender{Bucket: awssim.DemoBucket, Prefix: "orgaudit",
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), Topic: sns.NewFromConfig(cfg), TopicARN: awssim.DemoTopicARN(),
		Email: &alert.Email{SES: sesv2.NewFromConfig(cfg), From: mail.Address{Address: awssim.DemoEmailFrom},
			IsAddress: func(s string) bool { return strings.HasSuffix(s, "@"+awssim.DemoEmailDomain) }},
		Route: route, Now: func() time.Time { return sendTime.Add(time.Minute) }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
}

// ownerOf routes accounts to owners by the owner tags as the history keeps them; accounts without a tag go by OU.
func tagRoute(owners map[string]string) alert.Route {
	tags := map[string]crossaccount.OwnerTag{}
	for id, o := range owners {
		tags[id] = crossaccount.OwnerTag{AccountID: id, Value: o, Found: true, ReadAt: sendTime.Add(-24 * time.Hour)}
	}
	return alert.TagRoute(tags, func(_ context.Context, id string) (string, error) { return "Root/Unowned", nil })
}

func failedStack(i int, account string) alert.Alert {
	return alert.Alert{EventID: fmt.Sprintf("6a7e8feb-b491-4cf7-a9f1-%012d", i), EventTime: sendTime, Kind: alert.KindStack,
		Severity: checks.Critical, AccountID: account, AccountName: "acct-" + account, Region: "eu-west-1",
		StackName: fmt.Sprintf("SC-%s-pp-%05d", account, i), Status: "CREATE_FAILED", Reason: "Resource creation cancelled"}
}

func (w sendWorld) record(t *testing.T, a alert.Alert) (alert.Record, bool) {
	t.Helper()
	body, err := w.sim.Object(awssim.DemoBucket, alert.RecordKey("orgaudit", a.EventTime, a.EventID))
	if err != nil {
		return alert.Record{}, false
	}
	var r alert.Record
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("record of %s: %v", a.EventID, err)
	}
	return r, true
}

// recordedAt is the recorded_at field of a's record as stored (zero when absent).
func recordedAt(t *testing.T, w sendWorld, a alert.Alert) time.Time {
	t.Helper()
	body, err := w.sim.Object(awssim.DemoBucket, alert.RecordKey("orgaudit", a.EventTime, a.EventID))
	if err != nil {
		t.Fatalf("record of %s: %v", a.EventID, err)
	}
	var raw struct {
		RecordedAt time.Time `json:"recorded_at"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("record of %s: %v", a.EventID, err)
	}
	return raw.RecordedAt
}

func TestAnAlertIsSentOnceWhenItsEventComesTwice(t *testing.T) {
	t.Parallel()
	w := newSendWorld(t, tagRoute(map[string]string{"111111111111": "team-a"}))
	a := failedStack(1, "111111111111")
	ctx := context.Background()
	first, err := w.sender.Deliver(ctx, []alert.Alert{a, a})
	if err != nil || !slices.Equal(first.Sent, []string{a.EventID}) || len(first.Failed) != 0 {
		t.Fatalf("first delivery: %+v, %v", first, err)
	}
	again, err := w.sender.Deliver(ctx, []alert.Alert{a})
	if err != nil || len(again.Sent) != 0 || !slices.Equal(again.AlreadySent, []string{a.EventID}) {
		t.Fatalf("second delivery: %+v, %v", again, err)
	}
	msgs := w.sim.Published()
	if len(msgs) != 1 {
		t.Fatalf("%d messages published, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Attributes["audience"].StringValue != "owner" || m.Attributes["owner"].StringValue != "team-a" {
		t.Errorf("attributes %+v", m.Attributes)
	}
	if !strings.Contains(m.Bodies["default"], a.StackName) || !strings.Contains(m.Bodies["https"], `"version":"1.0"`) {
		t.Errorf("bodies %v", m.Bodies)
	}
	rec, ok := w.record(t, a)
	if !ok || rec.Alert.EventID != a.EventID || rec.Alert.Owner != "team-a" || !slices.Equal(rec.MessageIDs, []string{m.MessageID}) {
		t.Errorf("record %+v (found %v), message %s", rec, ok, m.MessageID)
	}
	if got := recordedAt(t, w, a); !got.Equal(sendTime.Add(time.Minute)) || !got.Equal(rec.AlertedAt) {
		t.Errorf("recorded_at %s, want %s: written as the alert went out", got, sendTime.Add(time.Minute))
	}
}

func TestFiftyAlertsForTwoOwnersAreTwoMessages(t *testing.T) {
	t.Parallel()
	owners := map[string]string{}
	var alerts []alert.Alert
	const n = 50
	for i := range n {
		account := fmt.Sprintf("%012d", 200000000000+i)
		owners[account] = []string{"team-a", "team-b"}[i%2]
		alerts = append(alerts, failedStack(i, account))
	}
	w := newSendWorld(t, tagRoute(owners))
	got, err := w.sender.Deliver(context.Background(), alerts)
	if err != nil || len(got.Sent) != n {
		t.Fatalf("delivered %+v, %v", got, err)
	}
	msgs := w.sim.Published()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want one per owner", len(msgs))
	}
	for _, m := range msgs {
		owner := m.Attributes["owner"].StringValue
		for _, a := range alerts {
			mine := owners[a.AccountID] == owner
			if strings.Contains(m.Bodies["default"], a.AccountID) != mine {
				t.Errorf("%s's message lists account %s: %v, want %v", owner, a.AccountID, !mine, mine)
			}
		}
		if !strings.HasPrefix(m.Body, fmt.Sprintf("orgaudit alert: %d failed stacks in %d accounts", n/2, n/2)) {
			t.Errorf("%s's message: %.200s", owner, m.Body)
		}
	}
	for _, a := range alerts {
		if _, ok := w.record(t, a); !ok {
			t.Errorf("no record of %s", a.EventID)
		}
	}
}

func TestAFailedPublishIsRetriedForItsOwnerOnly(t *testing.T) {
	t.Parallel()
	owners := map[string]string{"111111111111": "team-a", "222222222222": "team-b", "333333333333": "team-b"}
	w := newSendWorld(t, tagRoute(owners))
	var refuse atomic.Bool
	var publishes atomic.Int32
	refuse.Store(true)
	w.sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		// SNS refuses team-b's publish: the second, as owners' groups go out in the order of their names. A
		// parameter error, so the SDK does not retry it.
		if c.Service == "sns" && c.Operation == "Publish" && publishes.Add(1) == 2 && refuse.Load() {
			return &awssim.Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: refused by the test"}
		}
		return nil
	})
	alerts := []alert.Alert{failedStack(1, "111111111111"), failedStack(2, "222222222222"), failedStack(3, "333333333333")}
	got, err := w.sender.Deliver(context.Background(), alerts)
	if err == nil || !slices.Equal(got.Sent, []string{alerts[0].EventID}) {
		t.Fatalf("first delivery: %+v, %v", got, err)
	}
	slices.Sort(got.Failed)
	if !slices.Equal(got.Failed, []string{alerts[1].EventID, alerts[2].EventID}) {
		t.Fatalf("failed %v, want team-b's events", got.Failed)
	}
	if _, ok := w.record(t, alerts[1]); ok {
		t.Errorf("a record of an alert that did not go out")
	}
	refuse.Store(false)
	// The queue gives back the whole batch's failed items; a re-delivery of the sent one comes along.
	retry, err := w.sender.Deliver(context.Background(), alerts)
	if err != nil || len(retry.Sent) != 2 || !slices.Equal(retry.AlreadySent, []string{alerts[0].EventID}) {
		t.Fatalf("retry: %+v, %v", retry, err)
	}
	msgs := w.sim.Published()
	if len(msgs) != 2 || msgs[1].Attributes["owner"].StringValue != "team-b" || strings.Contains(msgs[1].Body, "111111111111") {
		t.Fatalf("messages after the retry: %d, the second %+v", len(msgs), msgs[len(msgs)-1].Attributes)
	}
	for _, a := range alerts {
		if _, ok := w.record(t, a); !ok {
			t.Errorf("no record of %s", a.EventID)
		}
	}
}

func TestAnOwnerThatIsAnAddressIsMailed(t *testing.T) {
	t.Parallel()
	owner := "team-a@" + awssim.DemoEmailDomain
	w := newSendWorld(t, tagRoute(map[string]string{"111111111111": owner, "222222222222": "team-b"}))
	alerts := []alert.Alert{failedStack(1, "111111111111"), failedStack(2, "222222222222")}
	if _, err := w.sender.Deliver(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sender.Deliver(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	emails := w.sim.Emails()
	if len(emails) != 1 || !slices.Equal(emails[0].To, []string{owner}) {
		t.Fatalf("emails %+v, want one to %s", emails, owner)
	}
	if raw := string(emails[0].Raw); !strings.Contains(raw, alerts[0].StackName) || strings.Contains(raw, alerts[1].StackName) {
		t.Errorf("the email does not hold only its owner's alert:\n%s", raw)
	}
	if n := len(w.sim.Published()); n != 2 {
		t.Errorf("%d messages published, want one per owner", n)
	}
}

// An event another invocation is sending (a live claim) is failed at once for the queue to retry, not waited for;
// the rest of the group goes out.
func TestAnEventClaimedElsewhereIsFailedNotWaitedFor(t *testing.T) {
	t.Parallel()
	w := newSendWorld(t, tagRoute(map[string]string{"111111111111": "team-a"}))
	alerts := []alert.Alert{failedStack(1, "111111111111"), failedStack(2, "111111111111")}
	held := delivery.Marker{RunID: alerts[1].EventID, Trigger: "alert", State: delivery.StatePublishing, ClaimedAt: sendTime.Add(30 * time.Second)}
	body, _ := json.Marshal(held)
	if err := w.sim.PutObject(awssim.DemoBucket, delivery.AlertMarkerKey("orgaudit", sendTime, alerts[1].EventID, alert.ChannelTopic), body); err != nil {
		t.Fatal(err)
	}
	got, err := w.sender.Deliver(context.Background(), alerts)
	if !errors.Is(err, alert.ErrHeldElsewhere) || !slices.Equal(got.Sent, []string{alerts[0].EventID}) || !slices.Equal(got.Failed, []string{alerts[1].EventID}) {
		t.Fatalf("delivered %+v, %v", got, err)
	}
	if msgs := w.sim.Published(); len(msgs) != 1 || strings.Contains(msgs[0].Body, alerts[1].StackName) {
		t.Fatalf("published %d messages; the first holds the held event: %v", len(msgs), len(msgs) == 1)
	}
}

func TestFailedMessagesNameEveryMessageOfAFailedOrUnaccountedEvent(t *testing.T) {
	t.Parallel()
	d := alert.Delivered{Sent: []string{"e1"}, AlreadySent: []string{"e2"}, Failed: []string{"e3"}}
	// m3 and m4 carry one event twice (a re-delivery in the same batch); m5's event is in no list.
	got := d.FailedMessages(map[string]string{"m1": "e1", "m2": "e2", "m3": "e3", "m4": "e3", "m5": "e5"})
	if want := []string{"m3", "m4", "m5"}; !slices.Equal(got, want) {
		t.Errorf("failed messages %v, want %v", got, want)
	}
}

// A record that cannot be written fails its event, though its alert went out: the queue's retry finds the alert sent
// (nothing is published again) and writes the record the next digest needs.
func TestAnUnrecordedAlertIsRetriedForItsRecordOnly(t *testing.T) {
	t.Parallel()
	w := newSendWorld(t, tagRoute(map[string]string{"111111111111": "team-a"}))
	a := failedStack(1, "111111111111")
	var puts atomic.Int32
	w.sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		// The third PutObject is the record: after the claim and its mark as published. A refusal, which the SDK
		// does not retry.
		if c.Service == "s3" && c.Operation == "PutObject" && puts.Add(1) == 3 {
			return &awssim.Fault{Status: 403, Code: "AccessDenied", Message: "Access Denied"}
		}
		return nil
	})
	got, err := w.sender.Deliver(context.Background(), []alert.Alert{a})
	if err == nil || len(got.Sent) != 0 || !slices.Equal(got.Failed, []string{a.EventID}) {
		t.Fatalf("first delivery: %+v, %v", got, err)
	}
	if _, ok := w.record(t, a); ok {
		t.Fatal("the record was written though its PUT was refused")
	}
	retry, err := w.sender.Deliver(context.Background(), []alert.Alert{a})
	if err != nil || !slices.Equal(retry.AlreadySent, []string{a.EventID}) {
		t.Fatalf("retry: %+v, %v", retry, err)
	}
	if _, ok := w.record(t, a); !ok {
		t.Error("no record after the retry")
	}
	if n := len(w.sim.Published()); n != 1 {
		t.Errorf("%d messages published, want 1", n)
	}
}

// TestARecordWrittenOnARetryIsDatedWhenTheAlertWentOut: the first delivery publishes but cannot write the record;
// the retry an hour later writes it dated when the owner was told (the topic marker's publication time), not then.
func TestARecordWrittenOnARetryIsDatedWhenTheAlertWentOut(t *testing.T) {
	t.Parallel()
	w := newSendWorld(t, tagRoute(map[string]string{"111111111111": "team-a"}))
	a := failedStack(1, "111111111111")
	var puts atomic.Int32
	w.sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Service == "s3" && c.Operation == "PutObject" && puts.Add(1) == 3 {
			return &awssim.Fault{Status: 403, Code: "AccessDenied", Message: "Access Denied"}
		}
		return nil
	})
	sentAt := sendTime.Add(time.Minute)
	if got, err := w.sender.Deliver(context.Background(), []alert.Alert{a}); err == nil || !slices.Equal(got.Failed, []string{a.EventID}) {
		t.Fatalf("first delivery: %+v, %v", got, err)
	}
	w.sender.Now = func() time.Time { return sentAt.Add(time.Hour) }
	if _, err := w.sender.Deliver(context.Background(), []alert.Alert{a}); err != nil {
		t.Fatal(err)
	}
	rec, ok := w.record(t, a)
	if !ok || !rec.AlertedAt.Equal(sentAt) {
		t.Errorf("record %+v (found %v): alerted at %s, want %s when it was published", rec, ok, rec.AlertedAt, sentAt)
	}
	// The digest's window goes by when the record was written: the retry's clock, later than the alert, so a record
	// written after a run that could not see it falls in the next run's window.
	if got := recordedAt(t, w, a); !got.Equal(sentAt.Add(time.Hour)) {
		t.Errorf("recorded_at %s, want %s when the retry wrote it", got, sentAt.Add(time.Hour))
	}
	if msgs := w.sim.Published(); len(msgs) != 1 || !slices.Equal(rec.MessageIDs, []string{msgs[0].MessageID}) {
		t.Errorf("record's message ids %v, published %d", rec.MessageIDs, len(msgs))
	}
}

// TestOrganizationAlertsGoToTheDigestTopic: with an owners' topic, an owner's group goes there and the
// organization's (an account with no owner, and one whose owner could not be found) to the digest topic.
func TestOrganizationAlertsGoToTheDigestTopic(t *testing.T) {
	t.Parallel()
	tags := map[string]crossaccount.OwnerTag{"111111111111": {AccountID: "111111111111", Value: "team-a", Found: true, ReadAt: sendTime}}
	w := newSendWorld(t, alert.TagRoute(tags, func(_ context.Context, id string) (string, error) {
		if id == "333333333333" {
			return "", errors.New("OU not listed")
		}
		return "", nil
	}))
	w.sender.OwnerTopic, w.sender.OwnerTopicARN = w.sender.Topic, awssim.DemoOwnerTopicARN()
	alerts := []alert.Alert{failedStack(1, "111111111111"), failedStack(2, "222222222222"), failedStack(3, "333333333333")}
	if got, err := w.sender.Deliver(context.Background(), alerts); err != nil || len(got.Sent) != 3 {
		t.Fatalf("%+v, %v", got, err)
	}
	byTopic := map[string][]awssim.Message{}
	for _, m := range w.sim.Published() {
		byTopic[m.TopicARN] = append(byTopic[m.TopicARN], m)
	}
	org, owners := byTopic[awssim.DemoTopicARN()], byTopic[awssim.DemoOwnerTopicARN()]
	if len(org) != 1 || len(owners) != 1 || len(byTopic) != 2 {
		t.Fatalf("messages by topic %v", byTopic)
	}
	if org[0].Attributes["audience"].StringValue != "organization" || !strings.Contains(org[0].Body, "222222222222") || !strings.Contains(org[0].Body, "333333333333") {
		t.Errorf("the digest topic's message: %+v\n%s", org[0].Attributes, org[0].Body)
	}
	if owners[0].Attributes["owner"].StringValue != "team-a" || strings.Contains(owners[0].Body, "222222222222") {
		t.Errorf("the owners' topic's message: %+v\n%s", owners[0].Attributes, owners[0].Body)
	}
}
