package mototest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	templates "github.com/orgaudit/orgaudit/deploy/cloudformation"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/mototest"
)

// shardFailed stands for a typed error of the handler: its type name is the task's Error.
type shardFailed struct{ index int }

func (e *shardFailed) Error() string {
	return fmt.Sprintf("shard %d: every account's role refused", e.index)
}

// TestTemplatesStateMachineRunsOnMoto runs the management template's own state machine definition, resolved with a
// distributed deployment's parameters, on moto's interpreter, with a worker standing in for the function's steps:
// plan writes a manifest of three shards to moto's S3, the Distributed Map reads it with ItemReader and hands each
// shard to the worker, and the report step receives the map's output. A second run fails one shard: the report still
// runs and learns which shard failed and why.
func TestTemplatesStateMachineRunsOnMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := mototest.Start(t)

	org := awssim.Demo(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	d := awssim.DemoDeployment(org, templates.Management, templates.MemberRole, "")
	d.ManagementParameters = maps.Clone(d.ManagementParameters)
	d.ManagementParameters["Mode"] = "distributed"
	definition, err := awssim.StateMachineDefinition(org, d)
	if err != nil {
		t.Fatal(err)
	}

	cfg := mototest.Config(url, "us-east-1", "AKIAMOTOSTEPS0000001")
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	// The report bucket the deployment names: the definition's ResultWriter writes the map's results there.
	const bucket, manifestKey = awssim.DemoBucket, "orgaudit/runs/2026/11/22/scheduler-20261122T080000Z/manifest.json"
	shards := []map[string]any{
		{"index": 0, "accounts": []map[string]string{{"id": "111111111111"}, {"id": "222222222222"}}},
		{"index": 1, "accounts": []map[string]string{{"id": "333333333333"}, {"id": "444444444444"}}},
		{"index": 2, "accounts": []map[string]string{{"id": "555555555555"}}},
	}

	run := func(t *testing.T, failShard int) (*sfn.DescribeExecutionOutput, []json.RawMessage) {
		mototest.Reset(t, url)
		mototest.EnableStepFunctions(t, url)
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		sqsc, sfnc := sqs.NewFromConfig(cfg), sfn.NewFromConfig(cfg)
		q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orgaudit-steps")})
		if err != nil {
			t.Fatal(err)
		}
		swapped, n, err := mototest.SwapLambdaTasks(definition, aws.ToString(q.QueueUrl))
		if err != nil || n != 4 {
			t.Fatalf("swapped %d Lambda tasks (%v), want plan, shard, report and report-after-map-failed", n, err)
		}
		sm, err := sfnc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("orgaudit"), Definition: aws.String(swapped),
			RoleArn: aws.String("arn:aws:iam::123456789012:role/orgaudit-StateMachineRole")})
		if err != nil {
			t.Fatal(err)
		}
		w := &mototest.Worker{SQS: sqsc, SFN: sfnc, Queue: aws.ToString(q.QueueUrl), Invoke: func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
			var ev struct {
				Step  string
				Run   map[string]any
				Shard struct{ Index int }
			}
			if err := json.Unmarshal(payload, &ev); err != nil {
				return nil, err
			}
			switch ev.Step {
			case "plan":
				body, _ := json.Marshal(shards)
				if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(manifestKey), Body: strings.NewReader(string(body))}); err != nil {
					return nil, err
				}
				return json.Marshal(map[string]any{"step": "plan", "run": map[string]any{"run_id": "20261122T080000Z"},
					"manifest": map[string]string{"bucket": bucket, "key": manifestKey}, "shards": len(shards), "accounts": 5})
			case "shard":
				if ev.Shard.Index == failShard {
					return nil, &shardFailed{ev.Shard.Index}
				}
				return json.Marshal(map[string]any{"step": "shard", "index": ev.Shard.Index, "run_id": ev.Run["run_id"]})
			case "report":
				return json.Marshal(map[string]any{"run_id": ev.Run["run_id"], "reported": true})
			}
			return nil, errors.New("unknown step " + ev.Step)
		}}
		wctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(wctx) }()
		out, err := mototest.Execute(ctx, sfnc, aws.ToString(sm.StateMachineArn), `{"source":"aws.scheduler","scheduled_time":"2026-11-22T08:00:00Z"}`, 2*time.Minute)
		stop()
		if werr := <-done; werr != nil {
			t.Errorf("worker: %v", werr)
		}
		if err != nil {
			t.Fatal(err)
		}
		return out, w.Payloads()
	}

	steps := func(payloads []json.RawMessage) (plan, report map[string]any, shardEvents []map[string]any) {
		for _, p := range payloads {
			var ev map[string]any
			if err := json.Unmarshal(p, &ev); err != nil {
				t.Fatal(err)
			}
			switch ev["step"] {
			case "plan":
				plan = ev
			case "report":
				report = ev
			case "shard":
				shardEvents = append(shardEvents, ev)
			}
		}
		return plan, report, shardEvents
	}

	t.Run("every shard", func(t *testing.T) {
		out, payloads := run(t, -1)
		if out.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s: %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		plan, report, shardEvents := steps(payloads)
		if got := fmt.Sprint(plan["event"]); !strings.Contains(got, "aws.scheduler") {
			t.Errorf("plan got the execution's input as %v", plan["event"])
		}
		if len(shardEvents) != len(shards) {
			t.Fatalf("%d shard events, want %d: %s", len(shardEvents), len(shards), payloads)
		}
		for _, ev := range shardEvents {
			shard := ev["shard"].(map[string]any)
			i := int(shard["index"].(float64))
			want, _ := json.Marshal(shards[i])
			if got, _ := json.Marshal(shard); string(got) != string(want) || fmt.Sprint(ev["run"]) != "map[run_id:20261122T080000Z]" {
				t.Errorf("shard event %v, want the manifest's item %s and plan's run", ev, want)
			}
		}
		if report == nil || report["map"] == nil || report["map_error"] != nil || fmt.Sprint(report["manifest"]) != "map[bucket:"+bucket+" key:"+manifestKey+"]" {
			t.Fatalf("report event %v", report)
		}
		mapResults(t, s3c, report)
		var output struct{ Reported bool }
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &output); err != nil || !output.Reported {
			t.Errorf("execution output %s, want the report's", aws.ToString(out.Output))
		}
		t.Logf("moto ran plan, %d shards through the Distributed Map's ItemReader, and the report: %s", len(shardEvents), aws.ToString(out.Output))
	})

	t.Run("a failed shard", func(t *testing.T) {
		out, payloads := run(t, 1)
		if out.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s: %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		_, report, shardEvents := steps(payloads)
		if len(shardEvents) != len(shards) || report == nil {
			t.Fatalf("%d shard events, report %v", len(shardEvents), report)
		}
		// The failed shard is caught inside its child, so the map succeeds and hands the report where its results
		// are, as with every shard answering.
		if report["map_error"] != nil {
			t.Fatalf("the report got map_error %v", report["map_error"])
		}
		files := mapResults(t, s3c, report)
		t.Logf("with shard 1 failed the execution %s and the report got %v (result files %v)", out.Status, report["map"], files)
	})
}

// mapResults checks that the report got the ResultWriter's output, not the children's outputs: the map run and the
// manifest.json it wrote under the run objects' map-results prefix, which moto's S3 holds. It returns the manifest's
// result files. moto 5.2.1's ResultWriter writes the manifest with no result files ("TODO: generate result files" in
// its resource_eval_s3.py) where AWS writes SUCCEEDED_n.json and FAILED_n.json beside it; the report's reading of
// those is tested on the simulator (internal/distributed TestReportReadsTheResultWritersResults).
func mapResults(t *testing.T, s3c *s3.Client, report map[string]any) map[string]any {
	t.Helper()
	m, _ := report["map"].(map[string]any)
	details, _ := m["ResultWriterDetails"].(map[string]any)
	key, _ := details["Key"].(string)
	if m["MapRunArn"] == nil || details["Bucket"] != awssim.DemoBucket || !strings.HasPrefix(key, "orgaudit/runs/map-results/") || !strings.HasSuffix(key, "/manifest.json") {
		t.Fatalf("the report got map %v, want the ResultWriter's details under orgaudit/runs/map-results/", report["map"])
	}
	obj, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(awssim.DemoBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("the ResultWriter's manifest: %v", err)
	}
	defer obj.Body.Close()
	var manifest struct {
		MapRunArn   string
		ResultFiles map[string]any
	}
	if err := json.NewDecoder(obj.Body).Decode(&manifest); err != nil || manifest.MapRunArn != m["MapRunArn"] {
		t.Fatalf("the ResultWriter's manifest %+v (%v), want map run %v", manifest, err, m["MapRunArn"])
	}
	return manifest.ResultFiles
}
