package distributed_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/distributed"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/report"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

var (
	asOf    = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	runTime = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	now     = func() time.Time { return runTime.Add(3 * time.Minute) }
	// schedule is the Scheduler's input for runTime, as the template fills it.
	schedule = fmt.Sprintf(`{"source":"aws.scheduler","scheduled_time":%q}`, runTime.Format(time.RFC3339))
)

// shardSize is small, so the demo's accounts make several shards.
const shardSize = 3

func startSim(t *testing.T) (*awssim.Server, aws.Config) {
	t.Helper()
	org := awssim.Demo(asOf)
	// Deployed in the distributed mode: only it lets the function read and write its run parts.
	d := testkit.DemoDeployment(org)
	d.ManagementParameters["Mode"] = "distributed"
	sim := testkit.StartEnforced(t, org, d)
	return sim, sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
}

// deployment is the Lambda's settings as the template sets them on the demo, with small shards.
func deployment(t *testing.T) config.Settings {
	t.Helper()
	env := map[string]string{"AUDIT_ROLE_NAME": awssim.DemoRoleName, "AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": "all",
		"AUDIT_BUCKET": awssim.DemoBucket, "AUDIT_TOPIC_ARN": awssim.DemoTopicARN(), "AUDIT_S3_PATH_STYLE": "true",
		"AUDIT_BUCKET_REGION": awssim.DemoHomeRegion, "AUDIT_KMS_KEY_ID": awssim.DemoKMSKeyARN, "AUDIT_CONCURRENCY": "8",
		"AUDIT_MAX_BACKOFF": "1ms", "AUDIT_SHARD_SIZE": fmt.Sprint(shardSize)}
	s, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s.AsOf = asOf
	return s
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func options() distributed.Options { return distributed.Options{Logger: quiet(), Now: now} }

// single runs the schedule's run in single mode.
func single(t *testing.T, cfg aws.Config, base config.Settings) *audit.Output {
	t.Helper()
	ev, err := config.DecodeEvent([]byte(schedule))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ev.Apply(base)
	if err != nil {
		t.Fatal(err)
	}
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quiet(), Now: now})
	if err != nil {
		t.Fatalf("single run: %v", err)
	}
	return out
}

// step sends one step event through the handler's entry, as the state machine does.
func step(t *testing.T, cfg aws.Config, base config.Settings, ev any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !distributed.IsStepEvent(raw) {
		t.Fatalf("%s is not a step event", raw)
	}
	out, err := distributed.HandleStep(context.Background(), cfg, base, raw, options())
	if err != nil {
		t.Fatalf("step %s: %v", raw, err)
	}
	return out
}

// planned is a run the plan step fixed, and its manifest's shards as the Map reads them.
type planned struct {
	out    distributed.PlanOutput
	shards []json.RawMessage
}

func plan(t *testing.T, sim *awssim.Server, cfg aws.Config, base config.Settings) planned {
	t.Helper()
	var p planned
	if err := json.Unmarshal(step(t, cfg, base, map[string]any{"step": "plan", "event": json.RawMessage(schedule)}), &p.out); err != nil {
		t.Fatal(err)
	}
	body, err := sim.Object(p.out.Manifest.Bucket, p.out.Manifest.Key)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if err := json.Unmarshal(body, &p.shards); err != nil {
		t.Fatalf("manifest %s: %v", body, err)
	}
	return p
}

// shard runs the Map's iteration of item i: the ItemSelector's event.
func (p planned) shard(t *testing.T, cfg aws.Config, base config.Settings, i int) json.RawMessage {
	t.Helper()
	return step(t, cfg, base, map[string]any{"step": "shard", "run": p.out.Run, "shard": p.shards[i]})
}

func (p planned) report(t *testing.T, cfg aws.Config, base config.Settings, mapOut []json.RawMessage) *audit.Output {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"step": "report", "run": p.out.Run, "manifest": p.out.Manifest, "map": mapOut})
	ev, err := distributed.DecodeStep(raw)
	if err != nil {
		t.Fatal(err)
	}
	sum, out, err := distributed.Report(context.Background(), cfg, base, *ev.(*distributed.ReportEvent), options())
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if b, _ := json.Marshal(sum); len(b) > 4<<10 {
		t.Errorf("the report's answer is %d bytes: %s", len(b), b)
	}
	return out
}

// comparable is a result without what differs between two deliveries of the same run: the link and its expiry, the
// message id, the retries.
func comparable(t *testing.T, r *report.Result) map[string]any {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"report", "message_id", "api_retries", "retries_by_code"} {
		delete(m, k)
	}
	return m
}

// withoutLink is a digest without its lines that carry the run's presigned link.
// The presigned link and its stated expiry, which follow the wall clock of the moment each run signed it: a run that
// crosses a minute says another time. Nothing else of the digest is left out.
func withoutLink(digest string) string {
	var keep []string
	for _, l := range strings.Split(digest, "\n") {
		if !strings.Contains(l, "X-Amz-") && !linkValidity.MatchString(l) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

var linkValidity = regexp.MustCompile(`^\s*\(link valid until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC[;)]`)

// cells are the run's cells as its history keeps them.
func cells(t *testing.T, sim *awssim.Server, runID string) []history.Cell {
	t.Helper()
	body, err := sim.Object(awssim.DemoBucket, "orgaudit/"+history.Key(runTime, config.TriggerScheduled, runID))
	if err != nil {
		t.Fatalf("history of %s: %v", runID, err)
	}
	st, err := history.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return st.Cells
}

func TestDistributedEqualsSingle(t *testing.T) {
	t.Parallel()
	base := deployment(t)
	singleSim, singleCfg := startSim(t)
	want := single(t, singleCfg, base)

	sim, cfg := startSim(t)
	p := plan(t, sim, cfg, base)
	// Total counts the accounts in scope, skipped ones (suspended, closed) apart.
	if wantShards := (want.Result.Accounts.Total + shardSize - 1) / shardSize; p.out.Accounts != want.Result.Accounts.Total ||
		p.out.Shards != wantShards || len(p.shards) != wantShards || wantShards < 3 {
		t.Fatalf("plan made %d shards (manifest %d) of %d accounts; want %d of %d", p.out.Shards, len(p.shards), p.out.Accounts, wantShards, shardSize)
	}
	if p.out.Run.RunID != want.Result.RunID || !p.out.Run.AsOf.Equal(asOf) {
		t.Fatalf("plan fixed run %+v; the single run is %s", p.out.Run, want.Result.RunID)
	}
	var mapOut []json.RawMessage
	for i := range p.shards {
		mapOut = append(mapOut, p.shard(t, cfg, base, i))
	}
	got := p.report(t, cfg, base, mapOut)

	if d := differing(comparable(t, got.Result), comparable(t, want.Result)); len(d) != 0 {
		t.Errorf("the distributed result differs from the single run's in %v", d)
	}
	if got.Subject != want.Subject || withoutLink(got.Digest) != withoutLink(want.Digest) {
		t.Errorf("digest differs:\n got %s\n%s\nwant %s\n%s", got.Subject, got.Digest, want.Subject, want.Digest)
	}
	if g, w := cells(t, sim, p.out.Run.RunID), cells(t, singleSim, want.Result.RunID); !slices.Equal(g, w) || len(g) == 0 {
		t.Errorf("cells differ: %d distributed, %d single", len(g), len(w))
	}
	if len(sim.Digests()) != 1 || len(singleSim.Digests()) != 1 || len(sim.Published()) != len(singleSim.Published()) {
		t.Errorf("published %d (%d digests) distributed, %d (%d digests) single", len(sim.Published()), len(sim.Digests()), len(singleSim.Published()), len(singleSim.Digests()))
	}
	t.Logf("%d accounts in %d shards of %d: %d cells, %d findings, %d messages; equal to the single run", p.out.Accounts, p.out.Shards, shardSize,
		got.Result.Coverage.Cells, len(got.Result.Findings), len(sim.Published()))

	// A retried shard and a retried report change nothing and send nothing twice.
	published := len(sim.Published())
	if again := p.shard(t, cfg, base, 1); !bytes.Equal(again, mapOut[1]) {
		t.Errorf("retried shard answered %s, first %s", again, mapOut[1])
	}
	retried := p.report(t, cfg, base, mapOut)
	// What differs is only that the deliveries were found already made.
	g, w := comparable(t, retried.Result), comparable(t, got.Result)
	for _, m := range []map[string]any{g, w} {
		delete(m, "published")
		delete(m, "already_published")
		delete(m, "owner_digests")
	}
	if d := differing(g, w); len(d) != 0 {
		t.Errorf("the retried report differs in %v", d)
	}
	if len(sim.Published()) != published || len(sim.Repeated()) != 0 || !retried.Result.AlreadyPublished {
		t.Errorf("the retries published %d more (repeated %v, already published %v)", len(sim.Published())-published, sim.Repeated(), retried.Result.AlreadyPublished)
	}
	if d := sim.Denials(); len(d) != 0 {
		t.Errorf("the template refused the steps: %+v", d)
	}
}

func TestFailedShardIsReportedNotAudited(t *testing.T) {
	t.Parallel()
	base := deployment(t)
	singleSim, singleCfg := startSim(t)
	want := single(t, singleCfg, base)

	sim, cfg := startSim(t)
	p := plan(t, sim, cfg, base)
	const failed = 1
	const cause = "Lambda.Unknown: The cause could not be determined because Lambda did not return an error type."
	var mapOut []json.RawMessage
	for i := range p.shards {
		if i == failed {
			// The shard's step never ran to its end: the Map's entry is the iteration's error.
			mapOut = append(mapOut, json.RawMessage(`{"Error":"Lambda.Unknown","Cause":"The cause could not be determined because Lambda did not return an error type."}`))
			continue
		}
		mapOut = append(mapOut, p.shard(t, cfg, base, i))
	}
	got := p.report(t, cfg, base, mapOut)
	var shard distributed.Shard
	if err := json.Unmarshal(p.shards[failed], &shard); err != nil {
		t.Fatal(err)
	}
	lost := map[string]bool{}
	for _, a := range shard.Accounts {
		lost[a.ID] = true
	}
	// Every account of the failed shard is counted and each of its cells says why; every other account is as the
	// single run found it.
	res := got.Result
	if res.Accounts.Total != want.Result.Accounts.Total || res.Coverage.Cells != res.Coverage.Findings+res.Coverage.Clean+res.Coverage.Errors {
		t.Errorf("accounts %+v (single %+v), coverage %+v", res.Accounts, want.Result.Accounts, res.Coverage)
	}
	failedCells := 0
	var kept, wantKept []history.Cell
	for _, c := range cells(t, singleSim, want.Result.RunID) {
		if !lost[c.AccountID] {
			wantKept = append(wantKept, c)
		}
	}
	for _, c := range cells(t, sim, p.out.Run.RunID) {
		if !lost[c.AccountID] {
			kept = append(kept, c)
			continue
		}
		failedCells++
		if c.Outcome != history.Outcome(crossaccount.OutcomeError) || c.Code != distributed.CodeShardFailed || !strings.Contains(c.Message, cause) {
			t.Errorf("cell of the failed shard: %+v", c)
		}
	}
	if !slices.Equal(kept, wantKept) || len(kept) == 0 {
		t.Errorf("the other shards' %d cells differ from the single run's %d", len(kept), len(wantKept))
	}
	if wantFailed := len(shard.Accounts) * crossaccount.CellsPerAccount(checks.All(), 1); failedCells != wantFailed {
		t.Errorf("%d cells of the failed shard's %d accounts, want %d", failedCells, len(shard.Accounts), wantFailed)
	}
	gotFindings, wantFindings := 0, 0
	for _, f := range res.Findings {
		if lost[f.AccountID] {
			t.Errorf("a finding of an account not audited: %+v", f)
		}
		gotFindings++
	}
	for _, f := range want.Result.Findings {
		if !lost[f.AccountID] {
			wantFindings++
		}
	}
	if gotFindings != wantFindings {
		t.Errorf("%d findings of the audited shards, the single run found %d there", gotFindings, wantFindings)
	}
	t.Logf("shard %d of %d failed: its %d accounts' %d cells are %s with the Map's cause; the others' %d cells and %d findings as the single run's",
		failed, len(p.shards), len(shard.Accounts), failedCells, distributed.CodeShardFailed, len(kept), gotFindings)
}

func TestBadStepEventIsInvalidEvent(t *testing.T) {
	t.Parallel()
	base := deployment(t)
	for name, raw := range map[string]string{
		"unknown step":          `{"step":"audit"}`,
		"step not a string":     `{"step":1}`,
		"unknown field":         `{"step":"plan","event":{},"extra":true}`,
		"bad inner event":       `{"step":"plan","event":{"regions":"eu-west-1"}}`,
		"shard without run":     `{"step":"shard","shard":{"index":0,"accounts":[{"id":"111111111111"}]}}`,
		"shard of no accounts":  `{"step":"shard","run":{"run_id":"r","run_time":"2026-11-22T08:00:00Z","as_of":"2026-11-22T00:00:00Z","trigger":"scheduled"},"shard":{"index":0,"accounts":[]}}`,
		"bad account id":        `{"step":"shard","run":{"run_id":"r","run_time":"2026-11-22T08:00:00Z","as_of":"2026-11-22T00:00:00Z","trigger":"scheduled"},"shard":{"index":0,"accounts":[{"id":"12"}]}}`,
		"report without bucket": `{"step":"report","run":{"run_id":"r","run_time":"2026-11-22T08:00:00Z","as_of":"2026-11-22T00:00:00Z","trigger":"scheduled"},"manifest":{"key":"k"}}`,
		"report elsewhere":      `{"step":"report","run":{"run_id":"r","run_time":"2026-11-22T08:00:00Z","as_of":"2026-11-22T00:00:00Z","trigger":"scheduled"},"manifest":{"bucket":"other","key":"orgaudit/runs/x"}}`,
		"map not an array":      `{"step":"report","run":{"run_id":"r","run_time":"2026-11-22T08:00:00Z","as_of":"2026-11-22T00:00:00Z","trigger":"scheduled"},"manifest":{"bucket":"b","key":"k"},"map":{}}`,
		"trailing data":         `{"step":"plan"} {}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := distributed.HandleStep(context.Background(), aws.Config{Region: "eu-west-1"}, base, []byte(raw), options())
			var invalid *config.InvalidEventError
			if !errors.As(err, &invalid) || err != error(invalid) {
				t.Fatalf("%s: got %T %v, want an unwrapped *config.InvalidEventError", raw, err, err)
			}
		})
	}
}

// differing names the fields of two results that differ, with both values.
func differing(got, want map[string]any) []string {
	var out []string
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, k+": only in got")
		}
	}
	for k, w := range want {
		if g := mustJSON(got[k]); g != mustJSON(w) {
			out = append(out, fmt.Sprintf("%s: got %.400s, want %.400s", k, g, mustJSON(w)))
		}
	}
	slices.Sort(out)
	return out
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMapFailureNamesItsCause: the Map state failed as a whole, so the report gets no "map" but the Map's error; a
// shard whose partial result was written is merged all the same, and one without is not audited, with that error.
func TestMapFailureNamesItsCause(t *testing.T) {
	t.Parallel()
	base := deployment(t)
	sim, cfg := startSim(t)
	p := plan(t, sim, cfg, base)
	for i := range p.shards[1:] {
		p.shard(t, cfg, base, i+1)
	}
	raw, _ := json.Marshal(map[string]any{"step": "report", "run": p.out.Run, "manifest": p.out.Manifest,
		"map_error": map[string]string{"Error": "States.ExceedToleratedFailureThreshold", "Cause": "The specified tolerated failure threshold was exceeded"}})
	ev, err := distributed.DecodeStep(raw)
	if err != nil {
		t.Fatal(err)
	}
	sum, out, err := distributed.Report(context.Background(), cfg, base, *ev.(*distributed.ReportEvent), options())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Shards != len(p.shards) || sum.ShardsFailed != 1 {
		t.Fatalf("report says %d shards, %d failed; want %d, 1", sum.Shards, sum.ShardsFailed, len(p.shards))
	}
	var first distributed.Shard
	_ = json.Unmarshal(p.shards[0], &first)
	for _, e := range out.Result.Errors {
		if e.AccountID == first.Accounts[0].ID && !strings.Contains(e.Message, "the Map failed: States.ExceedToleratedFailureThreshold: The specified tolerated failure threshold was exceeded") {
			t.Errorf("the failed shard's error does not name the Map's: %+v", e)
		}
	}
	if out.Result.Accounts.Failed < len(first.Accounts) {
		t.Errorf("accounts %+v: the failed shard's %d are not all failed", out.Result.Accounts, len(first.Accounts))
	}
}

// TestMergeDropsAPartialItCannotReadWhole: a partial result cut short, or another run's, adds nothing; the shard is
// then reported failed.
func TestMergeDropsAPartialItCannotReadWhole(t *testing.T) {
	t.Parallel()
	acct := crossaccount.Account{ID: "222222222222", Name: "shared", Partition: "aws", OU: "Root", Owner: "Root"}
	res := &crossaccount.Result{Accounts: []crossaccount.Account{acct}}
	for _, c := range checks.All() {
		res.Cells.Add(crossaccount.Cell{AccountID: acct.ID, Region: "eu-west-1", Check: c.Name(), Outcome: crossaccount.OutcomeClean})
	}
	var whole bytes.Buffer
	if err := distributed.WritePartial(&whole, "run-1", 0, res); err != nil {
		t.Fatal(err)
	}
	shard := distributed.Shard{Index: 0, Accounts: []crossaccount.Account{acct}}
	var cut bytes.Buffer
	{
		// The same records, one cell fewer than the header counts.
		short := *res
		all := slices.Collect(res.Cells.All())
		short.Cells = crossaccount.NewCells(all[:len(all)-1]...)
		var b bytes.Buffer
		_ = distributed.WritePartial(&b, "run-1", 0, &short)
		cut = b
	}
	for name, c := range map[string]struct {
		body  []byte
		runID string
	}{
		"truncated gzip":     {whole.Bytes()[:whole.Len()/2], "run-1"},
		"another run's":      {whole.Bytes(), "run-2"},
		"not gzip":           {[]byte(`{"header":{}}`), "run-1"},
		"fewer than it says": {rewriteHeader(t, cut.Bytes(), res.Cells.Len()), "run-1"},
	} {
		m := distributed.NewMerger(c.runID, []string{"eu-west-1"}, checks.All(), crossaccount.Result{Scope: "organization"})
		if err := m.Add(shard, bytes.NewReader(c.body)); err == nil {
			t.Errorf("%s: merged", name)
			continue
		}
		m.Failed(shard, "unreadable")
		got := m.Result()
		if got.Cells.Len() != res.Cells.Len() || slices.Collect(got.Cells.All())[0].Code != distributed.CodeShardFailed || len(got.Accounts) != 1 {
			t.Errorf("%s: the merge kept %d cells (%+v), %d accounts", name, got.Cells.Len(), got.Cells, len(got.Accounts))
		}
	}
	m := distributed.NewMerger("run-1", []string{"eu-west-1"}, checks.All(), crossaccount.Result{})
	if err := m.Add(shard, bytes.NewReader(whole.Bytes())); err != nil || m.Result().Cells.Len() != res.Cells.Len() {
		t.Fatalf("the whole partial: %v", err)
	}
}

// rewriteHeader re-encodes a partial with its header's cell count set to cells.
func rewriteHeader(t *testing.T, gz []byte, cells int) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	lines := bytes.SplitN(plain, []byte("\n"), 2)
	var head map[string]map[string]any
	if err := json.Unmarshal(lines[0], &head); err != nil {
		t.Fatal(err)
	}
	head["header"]["cells"] = cells
	h, _ := json.Marshal(head)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, _ = zw.Write(append(append(h, '\n'), lines[1]...))
	_ = zw.Close()
	return out.Bytes()
}
