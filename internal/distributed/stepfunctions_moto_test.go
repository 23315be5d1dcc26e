package distributed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/distributed"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/mototest"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// workerCrashed stands for a shard whose invocation failed: its type name is the task's Error, as Lambda's errorType.
type workerCrashed struct{}

func (workerCrashed) Error() string { return "the shard's invocation ran out of memory" }

// TestDistributedRunOnMotosInterpreter runs a distributed run end to end on a real ASL interpreter: the template's
// own state machine definition, resolved with the distributed deployment's parameters, on moto's Step Functions, with
// only its Lambda tasks swapped for task tokens that a worker answers by calling the handler's step code
// (distributed.HandleStep, what the Lambda handler calls for a step event). The report bucket is moto's, since the
// Distributed Map's ItemReader reads the manifest from moto's S3; the organization and its checks are the simulator's.
// The run equals the single mode's on the same simulated organization (cells, findings, digest but its link), and a
// run whose worker fails one shard still reports, with that shard's accounts not audited and the task's error.
func TestDistributedRunOnMotosInterpreter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	motoURL := mototest.Start(t)
	base := deployment(t)
	base.KMSKeyID = "" // moto's S3 knows no demo key; encryption is the simulator's tests' business

	org := awssim.Demo(asOf)
	d := testkit.DemoDeployment(org)
	d.ManagementParameters["Mode"] = "distributed"
	definition, err := awssim.StateMachineDefinition(org, d)
	if err != nil {
		t.Fatal(err)
	}

	// mixed sends S3 to moto, everything else to the simulator.
	mixed := func(cfg aws.Config) aws.Config {
		return mototest.WithServiceEndpoints(cfg, mototest.ServiceEndpoints{"S3": motoURL})
	}
	motoCfg := mototest.Config(motoURL, awssim.DemoHomeRegion, "AKIAMOTODISTRIBUTED1")
	s3c := s3.NewFromConfig(motoCfg, func(o *s3.Options) { o.UsePathStyle = true })
	fresh := func(t *testing.T) {
		t.Helper()
		mototest.Reset(t, motoURL)
		mototest.EnableStepFunctions(t, motoURL)
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(base.Bucket)}); err != nil {
			t.Fatal(err)
		}
	}
	state := func(t *testing.T, runID string) history.State {
		t.Helper()
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(base.Bucket), Key: aws.String(base.Prefix + "/" + history.Key(runTime, config.TriggerScheduled, runID))})
		if err != nil {
			t.Fatalf("history of %s: %v", runID, err)
		}
		defer obj.Body.Close()
		b, _ := io.ReadAll(obj.Body)
		st, err := history.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return *st
	}

	// The single mode's run, with the same mix, as the reference.
	fresh(t)
	singleSim, singleCfg := startSim(t)
	want := single(t, mixed(singleCfg), base)
	wantState := state(t, want.Result.RunID)

	distributedRun := func(t *testing.T, failShard int) (*awssim.Server, *sfn.DescribeExecutionOutput, []json.RawMessage) {
		t.Helper()
		fresh(t)
		sim, simCfg := startSim(t)
		cfg := mixed(simCfg)
		sqsc, sfnc := sqs.NewFromConfig(motoCfg), sfn.NewFromConfig(motoCfg)
		q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orgaudit-steps")})
		if err != nil {
			t.Fatal(err)
		}
		swapped, n, err := mototest.SwapLambdaTasks(definition, aws.ToString(q.QueueUrl))
		if err != nil || n != 4 {
			t.Fatalf("swapped %d Lambda tasks (%v), want 4", n, err)
		}
		sm, err := sfnc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("orgaudit"), Definition: aws.String(swapped),
			RoleArn: aws.String("arn:aws:iam::123456789012:role/orgaudit-StateMachineRole")})
		if err != nil {
			t.Fatal(err)
		}
		w := &mototest.Worker{SQS: sqsc, SFN: sfnc, Queue: aws.ToString(q.QueueUrl), Invoke: func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
			var probe struct {
				Step  string
				Shard struct{ Index int }
			}
			if json.Unmarshal(payload, &probe) == nil && probe.Step == distributed.StepShard && probe.Shard.Index == failShard {
				return nil, workerCrashed{}
			}
			return distributed.HandleStep(ctx, cfg, base, payload, options())
		}}
		wctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(wctx) }()
		out, err := mototest.Execute(ctx, sfnc, aws.ToString(sm.StateMachineArn), schedule, 3*time.Minute)
		stop()
		if werr := <-done; werr != nil {
			t.Errorf("worker: %v", werr)
		}
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s: %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		if d := sim.Denials(); len(d) != 0 {
			t.Errorf("the template refused the steps: %+v", d)
		}
		return sim, out, w.Payloads()
	}
	shardEvents := func(payloads []json.RawMessage) []distributed.ShardEvent {
		var out []distributed.ShardEvent
		for _, p := range payloads {
			if ev, err := distributed.DecodeStep(p); err == nil {
				if s, ok := ev.(*distributed.ShardEvent); ok {
					out = append(out, *s)
				}
			}
		}
		slices.SortFunc(out, func(a, b distributed.ShardEvent) int { return a.Shard.Index - b.Shard.Index })
		return out
	}

	t.Run("equals the single run", func(t *testing.T) {
		sim, out, payloads := distributedRun(t, -1)
		var sum distributed.ReportOutput
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &sum); err != nil {
			t.Fatalf("execution output %s: %v", aws.ToString(out.Output), err)
		}
		shards := shardEvents(payloads)
		wantShards := (want.Result.Accounts.Total + shardSize - 1) / shardSize
		if sum.RunID != want.Result.RunID || sum.Shards != wantShards || len(shards) != wantShards || sum.ShardsFailed != 0 || wantShards < 3 {
			t.Fatalf("report %+v after %d shard events; want run %s in %d shards", sum, len(shards), want.Result.RunID, wantShards)
		}
		got := state(t, sum.RunID)
		if !slices.Equal(got.Cells, wantState.Cells) || len(got.Cells) == 0 {
			t.Errorf("cells differ: %d distributed, %d single", len(got.Cells), len(wantState.Cells))
		}
		gotF, _ := json.Marshal(got.Findings)
		wantF, _ := json.Marshal(wantState.Findings)
		if !bytes.Equal(gotF, wantF) || got.Counts != wantState.Counts || sum.Findings != len(want.Result.Findings) || sum.Coverage != want.Result.Coverage {
			t.Errorf("findings differ: %d distributed (counts %+v), %d single (counts %+v)", len(got.Findings), got.Counts, len(wantState.Findings), wantState.Counts)
		}
		gd, wd := sim.Digests(), singleSim.Digests()
		if len(gd) != 1 || len(wd) != 1 || gd[0].Subject != wd[0].Subject || withoutLink(gd[0].Body) != withoutLink(wd[0].Body) {
			t.Errorf("digests differ:\n%+v\n%+v", gd, wd)
		}
		if len(sim.Published()) != len(singleSim.Published()) {
			t.Errorf("published %d messages, the single run %d", len(sim.Published()), len(singleSim.Published()))
		}
		t.Logf("moto ran plan, %d shards of %d through the Distributed Map's ItemReader, and the report: %d cells, %d findings, %d messages; equal to the single run",
			len(shards), shardSize, len(got.Cells), len(got.Findings), len(sim.Published()))
	})

	t.Run("a failed shard", func(t *testing.T) {
		const failed = 1
		_, out, payloads := distributedRun(t, failed)
		var sum distributed.ReportOutput
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &sum); err != nil {
			t.Fatalf("execution output %s: %v", aws.ToString(out.Output), err)
		}
		if sum.ShardsFailed != 1 || sum.Accounts.Total != want.Result.Accounts.Total {
			t.Fatalf("report %+v, want one shard failed of the single run's %d accounts", sum, want.Result.Accounts.Total)
		}
		var lost []string
		for _, ev := range shardEvents(payloads) {
			if ev.Shard.Index == failed {
				for _, a := range ev.Shard.Accounts {
					lost = append(lost, a.ID)
				}
			}
		}
		got := state(t, sum.RunID)
		failedCells := 0
		for _, c := range got.Cells {
			if !slices.Contains(lost, c.AccountID) {
				continue
			}
			failedCells++
			// On AWS the task's error reaches the report through the ResultWriter's result files (the simulator's
			// TestReportReadsTheResultWritersResults); moto 5.2.1 writes the results' manifest but no result files,
			// so here the report knows only that the shard left no partial result.
			if c.Outcome != history.Outcome(crossaccount.OutcomeError) || c.Code != distributed.CodeShardFailed ||
				!strings.Contains(c.Message, fmt.Sprintf("shard %d failed (no partial result: ", failed)) {
				t.Errorf("cell of the failed shard: %+v", c)
			}
		}
		if len(lost) == 0 || failedCells == 0 {
			t.Fatalf("shard %d held %v; %d of its cells", failed, lost, failedCells)
		}
		for _, f := range got.Findings {
			if slices.Contains(lost, f.AccountID) {
				t.Errorf("a finding of an account not audited: %+v", f)
			}
		}
		t.Logf("shard %d failed on moto: its %d accounts' %d cells are %s (%s); the run reported %s",
			failed, len(lost), failedCells, distributed.CodeShardFailed, fmt.Sprint(got.Cells[slices.IndexFunc(got.Cells, func(c history.Cell) bool { return slices.Contains(lost, c.AccountID) })].Message),
			aws.ToString(out.Output))
	})
}
