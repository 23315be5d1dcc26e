package audit_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/delivery"
)

// scheduledEvent is the Scheduler's invocation for the demo day's 08:00 run.
const scheduledEvent = `{"source":"aws.scheduler","scheduled_time":"2026-11-22T08:00:00Z"}`

// eventSettings lays a Lambda event over the demo settings, as the handler does.
func eventSettings(t *testing.T, raw string) config.Settings {
	t.Helper()
	ev, err := config.DecodeEvent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ev.Apply(demoSettings())
	if err != nil {
		t.Fatal(err)
	}
	s.MaxBackoff = time.Millisecond
	return s
}

// TestPublishCutByTheDeadlineIsRetried: the invocation's deadline falls while SNS is answering. The claim must not
// outlive it, so the retried invocation of the same run publishes, exactly once.
func TestPublishCutByTheDeadlineIsRetried(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	var hang atomic.Bool
	hang.Store(true)
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "Publish" && hang.Load() {
			// SNS never answers before the caller gives up, as a publish the deadline cuts.
			select {
			case <-ctx.Done():
			case <-time.After(time.Minute):
			}
			return &awssim.Fault{Status: 500, Code: "InternalError", Message: "too late"}
		}
		return nil
	})
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := eventSettings(t, scheduledEvent)
	s.DeliveryMargin = 2 * time.Second
	// The invocation's deadline: time for the audit under the race detector on a loaded machine, so that it is the
	// publish the deadline cuts, not the audit (a run past its deadline before delivery stops without a result).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := audit.Run(ctx, cfg, s, audit.Options{Logger: quietLogger()})
	if err == nil || out == nil || out.Result.Published || len(sim.Digests()) != 0 {
		t.Fatalf("the cut publish must fail the invocation: err %v", err)
	}

	hang.Store(false)
	out, err = audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil || !out.Result.Published || out.Result.AlreadyPublished || len(sim.Digests()) != 1 {
		t.Fatalf("retry after the cut: err %v published %v already %v, %d digests", err, out.Result.Published, out.Result.AlreadyPublished, len(sim.Digests()))
	}
	out, err = audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil || out.Result.Published || !out.Result.AlreadyPublished || len(sim.Digests()) != 1 {
		t.Fatalf("a further retry must not mail again: err %v published %v, %d digests", err, out.Result.Published, len(sim.Digests()))
	}
	if r := sim.Repeated(); len(r) > 0 {
		t.Errorf("within one run, sent more than once: %v", r)
	}
}

// TestStaleClaimIsTakenOver: an invocation dies between its claim and its publish (here SNS fails and the release
// cannot reach S3, which leaves exactly what a crash leaves). A retry within the lease must not publish beside a
// claim that may still be live, nor report success (if the holder died nobody would ever send the digest): without
// the time to wait out the lease it fails with ClaimHeldError, so Lambda retries. One after the lease takes the
// claim over and publishes, once.
func TestStaleClaimIsTakenOver(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	var crashed atomic.Bool
	crashed.Store(true)
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if crashed.Load() && (c.Operation == "Publish" || c.Service == "s3" && strings.Contains(strings.ToLower(c.Operation), "delete")) {
			return &awssim.Fault{Status: 500, Code: "InternalError", Message: "the invocation is gone"}
		}
		return nil
	})
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := eventSettings(t, scheduledEvent)
	claimedAt := demoAsOf.Add(8 * time.Hour)
	at := func(d time.Duration) audit.Options {
		return audit.Options{Logger: quietLogger(), Now: func() time.Time { return claimedAt.Add(d) }}
	}
	if _, err := audit.Run(context.Background(), cfg, s, at(0)); err == nil {
		t.Fatal("the first invocation must fail")
	}
	crashed.Store(false)

	// The invocation's deadline is nearer than the end of the lease (and the audit's margin leaves delivery a part).
	short, cancel := context.WithTimeout(context.Background(), delivery.DefaultLease/2)
	defer cancel()
	out, err := audit.Run(short, cfg, s, at(delivery.DefaultLease/4))
	var held *delivery.ClaimHeldError
	if !errors.As(err, &held) || out.Result.Published || len(sim.Digests()) != 0 {
		t.Fatalf("a live claim within the lease: err %v published %v, %d digests; want ClaimHeldError and nothing sent", err, out.Result.Published, len(sim.Digests()))
	}
	out, err = audit.Run(context.Background(), cfg, s, at(delivery.DefaultLease+time.Minute))
	if err != nil || !out.Result.Published || len(sim.Digests()) != 1 {
		t.Fatalf("after the lease: err %v published %v, %d digests", err, out.Result.Published, len(sim.Digests()))
	}
	out, err = audit.Run(context.Background(), cfg, s, at(3*delivery.DefaultLease))
	if err != nil || out.Result.Published || !out.Result.AlreadyPublished || len(sim.Digests()) != 1 {
		t.Fatalf("a published run was taken over again: err %v published %v, %d digests", err, out.Result.Published, len(sim.Digests()))
	}
	if r := sim.Repeated(); len(r) > 0 {
		t.Errorf("within one run, sent more than once: %v", r)
	}
}

// TestManualRunsDoNotShareTheScheduledMarker: a manual run id is reused the next day, and another manual run takes
// the very id the schedule gives its run. Each is a digest of its own.
func TestManualRunsDoNotShareTheScheduledMarker(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	day := demoAsOf.Add(7 * time.Hour)
	on := func(t time.Time) audit.Options {
		return audit.Options{Logger: quietLogger(), Now: func() time.Time { return t }}
	}
	published := func(want int, what string) {
		t.Helper()
		if n := len(sim.Digests()); n != want {
			t.Fatalf("%s: %d digests, want %d", what, n, want)
		}
	}

	adHoc := eventSettings(t, `{"run_id":"ad-hoc-1"}`)
	if _, err := audit.Run(context.Background(), cfg, adHoc, on(day)); err != nil {
		t.Fatal(err)
	}
	published(1, "ad-hoc-1")
	if _, err := audit.Run(context.Background(), cfg, adHoc, on(day.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	published(1, "ad-hoc-1 retried the same day")
	if _, err := audit.Run(context.Background(), cfg, adHoc, on(day.Add(24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	published(2, "ad-hoc-1 reused the next day")

	scheduled := eventSettings(t, scheduledEvent)
	runID, _ := scheduled.Identity(day)
	manual := eventSettings(t, `{"run_id":"`+runID+`"}`)
	if _, err := audit.Run(context.Background(), cfg, manual, on(day)); err != nil {
		t.Fatal(err)
	}
	published(3, "manual run named like the schedule's")
	out, err := audit.Run(context.Background(), cfg, scheduled, on(day.Add(time.Hour)))
	if err != nil || !out.Result.Published {
		t.Fatalf("scheduled run: err %v published %v", err, out.Result.Published)
	}
	published(4, "the scheduled run after a manual one of the same id")
	// The demo's account without the audit role makes every run of it partial.
	for _, m := range sim.Digests() {
		if !strings.HasPrefix(m.Subject, "PARTIAL orgaudit ") {
			t.Errorf("subject %q", m.Subject)
		}
	}
}
