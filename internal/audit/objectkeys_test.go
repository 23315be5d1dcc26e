package audit_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
)

// storedUnder lists the keys under prefix in the demo bucket.
func storedUnder(t *testing.T, sim *awssim.Server, prefix string) []string {
	t.Helper()
	keys, err := sim.Keys(awssim.DemoBucket, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// mustHold fails unless the bucket holds body at key.
func mustHold(t *testing.T, sim *awssim.Server, key string, body []byte, what string) {
	t.Helper()
	got, err := sim.Object(awssim.DemoBucket, key)
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("%s: s3://%s/%s no longer holds the workbook that was mailed (%d bytes, err %v; mailed %d bytes)", what, awssim.DemoBucket, key, len(got), err, len(body))
	}
}

// TestManualRunKeepsTheScheduledWorkbook: the morning's scheduled run mails its workbook; later that day someone
// runs one check by hand and gives it the scheduled run's id. The mailed link must still open the scheduled run's
// workbook, and each run keeps a history entry of its own.
func TestManualRunKeepsTheScheduledWorkbook(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	day := demoAsOf.Add(8 * time.Hour)
	scheduled := eventSettings(t, scheduledEvent)
	first, err := audit.Run(context.Background(), cfg, scheduled, audit.Options{Logger: quietLogger(), Now: func() time.Time { return day }})
	if err != nil || !first.Result.Published {
		t.Fatalf("scheduled run: err %v", err)
	}
	mailed := first.Result.Report.Key
	mustHold(t, sim, mailed, first.Workbook, "after the scheduled run")

	manual := eventSettings(t, `{"run_id":"`+first.Result.RunID+`","checks":["savings-plans"]}`)
	second, err := audit.Run(context.Background(), cfg, manual, audit.Options{Logger: quietLogger(), Now: func() time.Time { return day.Add(3 * time.Hour) }})
	if err != nil {
		t.Fatalf("manual run: %v", err)
	}
	if second.Result.Report.Key == mailed {
		t.Errorf("the manual run wrote its workbook at the scheduled run's key %s", mailed)
	}
	mustHold(t, sim, mailed, first.Workbook, "after a manual run given the scheduled run's id")
	mustHold(t, sim, second.Result.Report.Key, second.Workbook, "the manual run's own workbook")
	if h := storedUnder(t, sim, "orgaudit/history/2026/11/22/"); len(h) != 2 {
		t.Errorf("history of the day: %q, want one entry per run", h)
	}
}

// TestRetryNeverReplacesALinkedWorkbook: a scheduled run delivered, then its event came again (a replay, a duplicate
// delivery). The workbook the first digest links is never replaced; the second invocation's workbook goes beside it,
// and its own link opens it.
func TestRetryNeverReplacesALinkedWorkbook(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	day := demoAsOf.Add(8 * time.Hour)
	s := eventSettings(t, scheduledEvent)
	first, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger(), Now: func() time.Time { return day }})
	if err != nil || !first.Result.Published {
		t.Fatalf("first invocation: err %v", err)
	}
	s.Checks = []string{"savings-plans"} // a different audit, so a replaced workbook shows
	second, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger(), Now: func() time.Time { return day.Add(time.Hour) }})
	if err != nil || second.Result.Published || !second.Result.AlreadyPublished {
		t.Fatalf("second invocation: err %v", err)
	}
	mustHold(t, sim, first.Result.Report.Key, first.Workbook, "after the run's second invocation")
	key := second.Result.Report.Key
	if key == first.Result.Report.Key || !strings.HasSuffix(key, "(2).xlsx") {
		t.Errorf("the second invocation's workbook is at %s, want beside %s", key, first.Result.Report.Key)
	}
	mustHold(t, sim, key, second.Workbook, "the second invocation's own workbook")
	if u, err := url.Parse(second.Result.Report.URL); err != nil || !strings.HasSuffix(u.Path, "/"+key) {
		t.Errorf("the second invocation's link %s does not open %s", second.Result.Report.URL, key)
	}
}

// TestManualRetryAcrossMidnightKeepsItsDate: a manual invocation at 23:50 fails to publish; Lambda retries it, with
// the same request id, after midnight UTC. The retry is the same run: its workbook and markers carry the first
// attempt's date, so the digest goes out once.
func TestManualRetryAcrossMidnightKeepsItsDate(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	var failPublish atomic.Bool
	failPublish.Store(true)
	sim.SetIntercept(func(_ context.Context, c awssim.Call) *awssim.Fault {
		if failPublish.Load() && c.Operation == "Publish" {
			return &awssim.Fault{Status: 500, Code: "InternalError", Message: "SNS is down"}
		}
		return nil
	})
	const requestID = "8f1c2d3e-0000-4000-8000-000000000001"
	attempt := func(at time.Time) (*audit.Output, error) {
		s := eventSettings(t, `{}`)
		// As the handler names a manual run: after its request, dated by the clock.
		s.RunID = config.RequestRunID(requestID)
		s.RunID, s.RunTime = s.Identity(at)
		return audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger(), RequestID: requestID, Now: func() time.Time { return at }})
	}
	before := time.Date(2026, 11, 22, 23, 50, 0, 0, time.UTC)
	if _, err := attempt(before); err == nil {
		t.Fatal("the first attempt must fail to publish")
	}
	failPublish.Store(false)
	out, err := attempt(before.Add(30 * time.Minute))
	if err != nil || !out.Result.Published {
		t.Fatalf("retry: err %v", err)
	}
	if key := out.Result.Report.Key; !strings.HasPrefix(key, "orgaudit/2026/11/22/") {
		t.Errorf("the retry's workbook is at %s, want the first attempt's date 2026/11/22", key)
	}
	if n := len(sim.Digests()); n != 1 {
		t.Errorf("%d digests, want 1", n)
	}
	if h := storedUnder(t, sim, "orgaudit/history/2026/11/23/"); len(h) != 0 {
		t.Errorf("the retry stored its history under the retry's date: %q", h)
	}
	if p := storedUnder(t, sim, "orgaudit/published/2026/11/23/"); len(p) != 0 {
		t.Errorf("the retry marked its digest under the retry's date: %q", p)
	}
}
