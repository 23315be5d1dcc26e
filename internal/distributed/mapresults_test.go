package distributed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/distributed"
)

// lambdaCause is a Lambda function error as Step Functions' Lambda integration hands it on: the function's whole
// error response, here a Go handler's that failed to write its partial result.
const lambdaCause = `{"errorMessage":"delivery failed: put s3://orgaudit-reports-111111111111/orgaudit/runs/2026/11/22/scheduled-20261122T080000Z/shards/1.json.gz: operation error S3: PutObject, https response error StatusCode: 403, RequestID: 8XQ9T2M4K7B1C3D5, HostID: mQ8yZ3kP0sW1xV2uT4rS6qP8oN0mL2kJ4iH6gF8eD0cB2aZ4yX6wV8uT0sR2qP4o=, api error AccessDenied: User: arn:aws:sts::111111111111:assumed-role/orgaudit/orgaudit is not authorized to perform: s3:PutObject","errorType":"DeliveryFailedError"}`

// resultEntry is one child execution in a ResultWriter result file, with the fields Step Functions writes there
// (DescribeExecution's, capitalised); input and output are JSON text.
func resultEntry(index int, input, output json.RawMessage) map[string]any {
	return map[string]any{
		"ExecutionArn":    fmt.Sprintf("arn:aws:states:eu-west-1:111111111111:execution:orgaudit/Shards:%d", index),
		"Input":           string(input),
		"InputDetails":    map[string]bool{"Included": true},
		"Name":            fmt.Sprintf("child-%d", index),
		"Output":          string(output),
		"OutputDetails":   map[string]bool{"Included": true},
		"StateMachineArn": "arn:aws:states:eu-west-1:111111111111:stateMachine:orgaudit/Shards",
		"Status":          "SUCCEEDED",
	}
}

// TestReportReadsTheResultWritersResults: the Map writes its children's results to S3 and hands the report only
// where they are; the report finds the failed shard's cause there (the ShardFailed state's output, Lambda's error
// cut to one line) and reports that shard's accounts not audited with it.
func TestReportReadsTheResultWritersResults(t *testing.T) {
	t.Parallel()
	base := deployment(t)
	sim, cfg := startSim(t)
	p := plan(t, sim, cfg, base)
	const failed = 1
	dir := distributed.MapResultsPrefix(base.Prefix) + "/0d3b2c1a-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	var entries []map[string]any
	for i := range p.shards {
		input, _ := json.Marshal(map[string]any{"step": "shard", "run": p.out.Run, "shard": p.shards[i]})
		var output json.RawMessage
		if i == failed {
			output, _ = json.Marshal(map[string]any{"step": "shard", "index": i, "Error": "DeliveryFailedError", "Cause": lambdaCause})
		} else {
			output = p.shard(t, cfg, base, i)
		}
		entries = append(entries, resultEntry(i, input, output))
	}
	results, _ := json.Marshal(entries)
	manifest, _ := json.Marshal(map[string]any{"DestinationBucket": awssim.DemoBucket, "MapRunArn": "arn:aws:states:eu-west-1:111111111111:mapRun:orgaudit/Shards:0d3b2c1a",
		"ResultFiles": map[string]any{"FAILED": []any{}, "PENDING": []any{}, "SUCCEEDED": []any{map[string]any{"Key": dir + "/SUCCEEDED_0.json", "Size": len(results)}}}})
	// Written as Step Functions writes them, with the state machine's role, not the function's.
	if err := sim.PutObject(awssim.DemoBucket, dir+"/SUCCEEDED_0.json", results); err != nil {
		t.Fatal(err)
	}
	if err := sim.PutObject(awssim.DemoBucket, dir+"/manifest.json", manifest); err != nil {
		t.Fatal(err)
	}
	mapOut := json.RawMessage(fmt.Sprintf(`{"MapRunArn":"arn:aws:states:eu-west-1:111111111111:mapRun:orgaudit/Shards:0d3b2c1a","ResultWriterDetails":{"Bucket":%q,"Key":%q}}`,
		awssim.DemoBucket, dir+"/manifest.json"))
	raw, _ := json.Marshal(map[string]any{"step": "report", "run": p.out.Run, "manifest": p.out.Manifest, "map": mapOut})
	ev, err := distributed.DecodeStep(raw)
	if err != nil {
		t.Fatal(err)
	}
	sum, out, err := distributed.Report(context.Background(), cfg, base, *ev.(*distributed.ReportEvent), options())
	if err != nil {
		t.Fatal(err)
	}
	if sum.ShardsFailed != 1 {
		t.Fatalf("report %+v, want one shard failed", sum)
	}
	var shard distributed.Shard
	_ = json.Unmarshal(p.shards[failed], &shard)
	seen := 0
	for _, e := range out.Result.Errors {
		if e.AccountID != shard.Accounts[0].ID {
			continue
		}
		seen++
		if !strings.Contains(e.Message, "DeliveryFailedError: {\"errorMessage\":\"delivery failed: put s3://") || len([]rune(e.Message)) > 400 {
			t.Errorf("the failed shard's error does not carry the cause, cut short: %q", e.Message)
		}
	}
	if seen == 0 {
		t.Errorf("no error of the failed shard's account %s", shard.Accounts[0].ID)
	}
	if d := sim.Denials(); len(d) != 0 {
		t.Errorf("the template refused the report's reads: %+v", d)
	}

	// Results anywhere else are not the run's.
	for name, key := range map[string]string{
		"outside the results": base.Prefix + "/history/manifest.json",
		"not a manifest":      dir + "/SUCCEEDED_0.json",
		"climbing out":        distributed.MapResultsPrefix(base.Prefix) + "/../../history/manifest.json",
	} {
		bad, _ := json.Marshal(map[string]any{"step": "report", "run": p.out.Run, "manifest": p.out.Manifest,
			"map": map[string]any{"MapRunArn": "x", "ResultWriterDetails": map[string]string{"Bucket": awssim.DemoBucket, "Key": key}}})
		_, err := distributed.HandleStep(context.Background(), aws.Config{Region: "eu-west-1"}, base, bad, options())
		var invalid *config.InvalidEventError
		if !errors.As(err, &invalid) {
			t.Errorf("%s: %v, want an invalid event", name, err)
		}
	}
}
