package alert_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/delivery"
)

// panickyTopic is the simulator's SNS client, panicking (as a renderer fault would, inside the send) for a message
// that names the stack bad while on is set.
type panickyTopic struct {
	delivery.Publisher
	bad string
	on  *atomic.Bool
}

func (p panickyTopic) Publish(ctx context.Context, in *sns.PublishInput, o ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if p.on.Load() && in.Message != nil && strings.Contains(*in.Message, p.bad) {
		panic("rendering " + p.bad + " went wrong")
	}
	return p.Publisher.Publish(ctx, in, o...)
}

// panickyStore is the simulator's S3 client, panicking on a PUT whose key holds bad (one event's claim or record).
type panickyStore struct {
	alert.Store
	bad, kind string
}

func (p panickyStore) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if strings.Contains(*in.Key, p.bad) && strings.HasPrefix(*in.Key, p.kind) {
		panic("the store went wrong on " + *in.Key)
	}
	return p.Store.PutObject(ctx, in, o...)
}

// TestAPanickingSendFailsOnlyItsAlert: the send of an owner's group of three panics for one of them. The other two go
// out (each alone), the bad one fails with its claim released, so the queue's retry sends it at once rather than
// finding it held for a lease.
func TestAPanickingSendFailsOnlyItsAlert(t *testing.T) {
	t.Parallel()
	const account = "111111111111"
	w := newSendWorld(t, tagRoute(map[string]string{account: "team-a"}))
	alerts := []alert.Alert{failedStack(1, account), failedStack(2, account), failedStack(3, account)}
	var on atomic.Bool
	on.Store(true)
	w.sender.Topic = panickyTopic{Publisher: w.sender.Topic, bad: alerts[1].StackName, on: &on}
	w.sender.Email = nil
	got, err := w.sender.Deliver(context.Background(), alerts)
	slices.Sort(got.Sent)
	if err == nil || !slices.Equal(got.Sent, []string{alerts[0].EventID, alerts[2].EventID}) || !slices.Equal(got.Failed, []string{alerts[1].EventID}) {
		t.Fatalf("delivered %+v, %v: want the two good alerts sent, the bad one failed", got, err)
	}
	for _, m := range w.sim.Published() {
		if strings.Contains(m.Body, alerts[1].StackName) {
			t.Errorf("the bad alert was published: %.200s", m.Body)
		}
	}
	if _, ok := w.record(t, alerts[1]); ok {
		t.Error("a record of the alert that did not go out")
	}
	on.Store(false)
	retry, err := w.sender.Deliver(context.Background(), alerts)
	slices.Sort(retry.AlreadySent)
	if err != nil || !slices.Equal(retry.Sent, []string{alerts[1].EventID}) || !slices.Equal(retry.AlreadySent, []string{alerts[0].EventID, alerts[2].EventID}) {
		t.Fatalf("retry: %+v, %v: want the bad one sent now, its claim released", retry, err)
	}
}

// TestAPanicInAClaimOrARecordFailsOnlyItsEvent: the store panics on one event's claim, or on one event's record
// (both written side by side in goroutines): that event fails, the invocation goes on and the others are sent.
func TestAPanicInAClaimOrARecordFailsOnlyItsEvent(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"orgaudit/published/alerts/", "orgaudit/alerts/"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			const account = "111111111111"
			w := newSendWorld(t, tagRoute(map[string]string{account: "team-a"}))
			alerts := []alert.Alert{failedStack(1, account), failedStack(2, account), failedStack(3, account)}
			w.sender.S3 = panickyStore{Store: w.sender.S3, bad: alerts[1].EventID, kind: kind}
			w.sender.Email = nil
			got, err := w.sender.Deliver(context.Background(), alerts)
			slices.Sort(got.Sent)
			if err == nil || !slices.Equal(got.Sent, []string{alerts[0].EventID, alerts[2].EventID}) || !slices.Equal(got.Failed, []string{alerts[1].EventID}) {
				t.Fatalf("delivered %+v, %v", got, err)
			}
		})
	}
}

// TestOneBadAlertDoesNotSplitABurst: a burst of 40 alerts for one owner, the send panicking on one of them. The 39
// others go out in a few messages (the group halved until the fault is alone), not one message each.
func TestOneBadAlertDoesNotSplitABurst(t *testing.T) {
	t.Parallel()
	const account = "111111111111"
	w := newSendWorld(t, tagRoute(map[string]string{account: "team-a"}))
	var alerts []alert.Alert
	for i := 1; i <= 40; i++ {
		alerts = append(alerts, failedStack(i, account))
	}
	var on atomic.Bool
	on.Store(true)
	w.sender.Topic = panickyTopic{Publisher: w.sender.Topic, bad: alerts[7].StackName, on: &on}
	w.sender.Email = nil
	got, err := w.sender.Deliver(context.Background(), alerts)
	if err == nil || len(got.Sent) != 39 || !slices.Equal(got.Failed, []string{alerts[7].EventID}) {
		t.Fatalf("sent %d, failed %v (%v): want 39 sent, the bad one failed", len(got.Sent), got.Failed, err)
	}
	// Halving 40 until one is alone publishes one message per good half: log2(40) rounded up, 6.
	if n := len(w.sim.Published()); n > 6 {
		t.Errorf("%d messages for one owner's burst with one bad alert, want at most 6", n)
	}
	t.Logf("39 alerts in %d messages", len(w.sim.Published()))
}
