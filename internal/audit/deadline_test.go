package audit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestDeadlineDeliversAPartialReport gives the run about 60% of the time it needs: it must stop starting work, mark
// every cell it did not finish, and still deliver a report that says it is partial.
//
// Not parallel: it measures nothing, but its delivery margin is wall-clock time, which the 200-account matrix beside
// it would eat on a two-core machine under the race detector.
func TestDeadlineDeliversAPartialReport(t *testing.T) {
	// Slow calls and few at once, so the deadline and the margin it leaves are seconds while delivery needs three
	// calls and a small workbook.
	o := awssim.GenerateOptions{Accounts: 20, Regions: []string{"us-east-1", "eu-west-1"}, PageSize: 100, AsOf: demoAsOf, Seed: 11}
	s := generatedSettings(o)
	s.Regions = o.Regions
	s.Concurrency = 2
	plan := &awssim.FaultPlan{Latency: 100 * time.Millisecond}

	// The same run without latency makes the same calls, at once.
	full, fullSim, err := runGenerated(t, o, s, nil, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	total := full.Result.Cells.Len()
	// What the run needs is at least its calls × latency ÷ concurrency, however fast the machine: a deadline at 60%
	// of that always falls inside the audit.
	calls := 0
	for _, n := range fullSim.Calls() {
		calls += n
	}
	needed := time.Duration(calls) * plan.Latency / time.Duration(s.Concurrency)

	ctx, cancel := context.WithTimeout(context.Background(), needed*6/10) // as Lambda's invocation deadline would
	defer cancel()
	s.RunID = "partial"
	out, sim, err := runGenerated(t, o, s, plan, ctx)
	if err != nil {
		t.Fatalf("a partial audit is not a failed run: %v", err)
	}
	res := out.Result
	deadline, ran := 0, 0
	for c := range res.Cells.All() {
		switch {
		case c.Code == crossaccount.CodeDeadline:
			deadline++
			if !strings.HasPrefix(c.Message, "not audited: the deadline was reached") {
				t.Errorf("deadline cell message %q", c.Message)
			}
		case c.Outcome != crossaccount.OutcomeError:
			ran++
		}
	}
	if !res.Partial || res.Cells.Len() != total || deadline == 0 || ran == 0 || ran+deadline != total {
		t.Fatalf("partial %v: %d cells (%d ran, %d stopped by the deadline), want all %d accounted", res.Partial, res.Cells.Len(), ran, deadline, total)
	}
	if !strings.HasPrefix(out.Subject, "PARTIAL orgaudit") || !strings.Contains(out.Digest, "PARTIAL: the deadline stopped the audit") {
		t.Errorf("subject %q", out.Subject)
	}
	if !res.Published || len(sim.Workbooks()) != 1 || len(sim.Digests()) != 1 {
		t.Errorf("a partial report must still be delivered: published %v, %d workbooks", res.Published, len(sim.Workbooks()))
	}
	assertAgreement(t, out)
	f, err := excelize.OpenReader(bytes.NewReader(out.Workbook))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue(report.SummarySheet, "B3"); !strings.HasPrefix(v, "PARTIAL") {
		t.Errorf("Summary says complete: %q", v)
	}
	t.Logf("the run needs at least %s for %d calls and %d cells; at 60%%: %d ran, %d stopped by the deadline", needed.Round(time.Millisecond), calls, total, ran, deadline)
}

// TestRetriedRunSendsOneDigest: a publish that fails leaves the workbook and fails the run naming it; the retried
// invocation of the same scheduled run publishes once; a further retry publishes nothing more.
func TestRetriedRunSendsOneDigest(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	var snsDown atomic.Bool
	snsDown.Store(true)
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "Publish" && snsDown.Load() {
			return &awssim.Fault{Status: 500, Code: "InternalError", Message: "SNS is having a bad day"}
		}
		return nil
	})
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.RunTime = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC) // the schedule's fire time, as the event gives it
	s.MaxBackoff = time.Millisecond
	ev, err := config.DecodeEvent([]byte(`{"source":"aws.scheduler","scheduled_time":"2026-11-22T08:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, err = ev.Apply(s); err != nil {
		t.Fatal(err)
	}
	run := func() (*audit.Output, error) {
		return audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	}

	out, err := run()
	key := "orgaudit/2026/11/22/orgaudit-scheduled-20261122T080000Z.xlsx"
	if err == nil || !strings.Contains(err.Error(), "s3://"+awssim.DemoBucket+"/"+key) || out.Result.Published {
		t.Fatalf("failed publish: err %v", err)
	}
	if _, err := sim.Object(awssim.DemoBucket, key); err != nil {
		t.Fatalf("the workbook must stay in S3: %v", err)
	}
	if _, err := sim.Object(awssim.DemoBucket, "orgaudit/published/2026/11/22/scheduled-20261122T080000Z.json"); err == nil {
		t.Fatal("a failed publish must release its marker so a retry can publish")
	}

	snsDown.Store(false)
	out, err = run()
	if err != nil || !out.Result.Published || len(sim.Digests()) != 1 {
		t.Fatalf("retry: err %v published %v, %d digests", err, out.Result.Published, len(sim.Digests()))
	}
	out, err = run()
	if err != nil || out.Result.Published || !out.Result.AlreadyPublished || len(sim.Digests()) != 1 {
		t.Fatalf("second retry: err %v published %v already %v, %d digests", err, out.Result.Published, out.Result.AlreadyPublished, len(sim.Digests()))
	}
	if r := sim.Repeated(); len(r) > 0 {
		t.Errorf("within one run, sent more than once: %v", r)
	}
}

// TestLogsCarryNoCredentials captures every log line of full runs, failures included, at debug level.
func TestLogsCarryNoCredentials(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	sim.SetIntercept((&awssim.FaultPlan{Seed: 1, ThrottleRate: 0.3, ThrottleBurst: 1, ServerErrorRate: 0.1}).Intercept)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.MaxBackoff = time.Millisecond
	if _, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: logger}); err != nil {
		t.Fatal(err)
	}
	s.TopicARN = "arn:aws:sns:us-east-1:111111111111:missing" // a failing delivery logs too
	_, _ = audit.Run(context.Background(), cfg, s, audit.Options{Logger: logger})
	secrets := sim.IssuedSecrets()
	if len(secrets) < 20 || logs.Len() == 0 || !strings.Contains(logs.String(), "account not audited") {
		t.Fatalf("%d secrets issued, %d bytes of logs: the test is not looking at a real run", len(secrets), logs.Len())
	}
	for _, secret := range secrets {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain a credential (%.6s…)", secret)
		}
	}
}
