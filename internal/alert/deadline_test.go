package alert_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/delivery"
)

// TestDeliveryStopsBeforeTheDeadline: SNS hangs on team-a's publish. The publish is given up a margin before the
// invocation's deadline (its claim released, for the queue's retry), team-b's group is not started so near the
// deadline, and Deliver returns before the deadline: Lambda never kills it between a publish and its marker.
func TestDeliveryStopsBeforeTheDeadline(t *testing.T) {
	t.Parallel()
	owners := map[string]string{"111111111111": "team-a", "222222222222": "team-b"}
	w := newSendWorld(t, tagRoute(owners))
	w.sender.Email = nil
	w.sender.DeadlineMargin = 500 * time.Millisecond
	alerts := []alert.Alert{failedStack(1, "111111111111"), failedStack(2, "222222222222")}
	var slow atomic.Bool
	var publishes, teamBClaims atomic.Int32
	w.sender.S3 = countingStore{Store: w.sender.S3, key: alerts[1].EventID, n: &teamBClaims}
	slow.Store(true)
	w.sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Service == "sns" && c.Operation == "Publish" {
			publishes.Add(1)
			if slow.Load() {
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Second):
				}
			}
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	got, err := w.sender.Deliver(ctx, alerts)
	if ctx.Err() != nil {
		t.Errorf("Deliver returned after the deadline: %v", ctx.Err())
	}
	slices.Sort(got.Failed)
	if err == nil || len(got.Sent) != 0 || !slices.Equal(got.Failed, []string{alerts[0].EventID, alerts[1].EventID}) {
		t.Fatalf("delivered %+v, %v: want both failed", got, err)
	}
	if n := publishes.Load(); n != 1 {
		t.Errorf("%d publishes, want team-a's only: team-b's group is not started near the deadline", n)
	}
	if n := teamBClaims.Load(); n != 0 {
		t.Errorf("team-b's event was claimed %d times; its group should not start", n)
	}
	// The retry, with time, sends both at once: team-a's claim was released, not left for a lease.
	slow.Store(false)
	retry, err := w.sender.Deliver(context.Background(), alerts)
	if err != nil || len(retry.Sent) != 2 {
		t.Fatalf("retry: %+v, %v", retry, err)
	}
	if _, err := w.sim.Object(awssim.DemoBucket, delivery.AlertMarkerKey("orgaudit", sendTime, alerts[0].EventID, alert.ChannelTopic)); err != nil {
		t.Errorf("team-a's marker after the retry: %v", err)
	}
}

// countingStore is the simulator's S3 client, counting the PUTs of keys that hold key.
type countingStore struct {
	alert.Store
	key string
	n   *atomic.Int32
}

func (c countingStore) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if strings.Contains(*in.Key, c.key) {
		c.n.Add(1)
	}
	return c.Store.PutObject(ctx, in, o...)
}
