package distributed_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/distributed"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// TestMapOutputStaysUnderThePayloadQuota: 10,000 accounts in shards of 5 make 2,000 items, and every shard fails
// with Lambda's whole error text. Collected into the Map's output, the failures pass Step Functions' 256 KiB payload
// quota, and States.DataLimitExceeded ends the execution past every Catch, with no report and no digest. With the
// template's ResultWriter the results go to S3 and the Map's output is their manifest's location, the same size
// whatever the shard count. The Map is the template's own, resolved as CloudFormation would, run on the simulator's
// model of the Map state (awssim.MapStateOutput) with the plan step's real output as its input.
func TestMapOutputStaysUnderThePayloadQuota(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(asOf)
	d := testkit.DemoDeployment(org)
	d.ManagementParameters["Mode"] = "distributed"
	definition, err := awssim.StateMachineDefinition(org, d)
	if err != nil {
		t.Fatal(err)
	}
	run := distributed.Run{RunID: "20261122T080000Z", RunTime: runTime, AsOf: asOf, Trigger: "scheduled", Regions: []string{"eu-west-1", "us-east-1"},
		Checks: []string{"ec2-reserved-instances", "rds-reserved-instances", "savings-plans"}}
	mapOutput := func(t *testing.T, definition string, shards int) ([]byte, error) {
		t.Helper()
		plan, _ := json.Marshal(distributed.PlanOutput{Step: distributed.StepPlan, Run: run, Shards: shards, Accounts: shards * 5,
			Manifest: distributed.Object{Bucket: awssim.DemoBucket, Key: distributed.ManifestKey("orgaudit", run)}})
		var items []json.RawMessage
		var children []awssim.Child
		for i := range shards {
			var accounts []crossaccount.Account
			for k := range 5 {
				id := fmt.Sprintf("%012d", 100000000000+i*5+k)
				accounts = append(accounts, crossaccount.Account{ID: id, Name: "workload-" + id, Partition: "aws", OU: "Root/Workloads", Owner: "Root/Workloads"})
			}
			item, _ := json.Marshal(distributed.Shard{Index: i, Accounts: accounts})
			items = append(items, item)
			children = append(children, awssim.Child{Error: "DeliveryFailedError", Cause: lambdaCause})
		}
		return awssim.MapStateOutput(definition, "Shards", plan, items, children)
	}

	// The template's map, at 2,000 items and at a tenth of that.
	at2000, err := mapOutput(t, definition, 2000)
	if err != nil {
		t.Fatalf("2,000 failed shards: %v", err)
	}
	at200, err := mapOutput(t, definition, 200)
	if err != nil {
		t.Fatalf("200 failed shards: %v", err)
	}
	// The same but for the digits of the plan's shard and account counts.
	if d := len(at2000) - len(at200); d < 0 || d > 2 || len(at2000) > 1<<10 {
		t.Errorf("the map's output is %d bytes at 2,000 shards and %d at 200: want the same, under 1 KiB", len(at2000), len(at200))
	}
	var out struct {
		Map struct {
			ResultWriterDetails struct{ Bucket, Key string }
		} `json:"map"`
	}
	if err := json.Unmarshal(at2000, &out); err != nil || out.Map.ResultWriterDetails.Bucket != awssim.DemoBucket {
		t.Fatalf("the map's output %s (%v), want the ResultWriter's details", at2000, err)
	}

	// Without the ResultWriter (the template before) the same run ends in States.DataLimitExceeded.
	var def map[string]any
	if err := json.Unmarshal([]byte(definition), &def); err != nil {
		t.Fatal(err)
	}
	delete(def["States"].(map[string]any)["Shards"].(map[string]any), "ResultWriter")
	before, _ := json.Marshal(def)
	_, exceeded := mapOutput(t, string(before), 2000)
	var se *awssim.StatesError
	if !errors.As(exceeded, &se) || se.Name != awssim.DataLimitExceeded {
		t.Fatalf("without the ResultWriter, 2,000 failed shards: %v, want %s", exceeded, awssim.DataLimitExceeded)
	}
	// What the model collects is what moto's interpreter collected from the same definition before the ResultWriter
	// (TestTemplatesStateMachineRunsOnMoto then): each failed shard as the ShardFailed state's output.
	small, err := mapOutput(t, string(before), 3)
	if err != nil {
		t.Fatal(err)
	}
	var collected struct {
		Map []struct {
			Step         string
			Index        int
			Error, Cause string
		} `json:"map"`
		Run distributed.Run `json:"run"`
	}
	if err := json.Unmarshal(small, &collected); err != nil || len(collected.Map) != 3 || collected.Run.RunID != run.RunID {
		t.Fatalf("3 failed shards collected as %.300s (%v)", small, err)
	}
	for i, item := range collected.Map {
		if item.Step != "shard" || item.Index != i || item.Error != "DeliveryFailedError" || item.Cause != lambdaCause {
			t.Errorf("item %d: %+v, want the ShardFailed state's output", i, item)
		}
	}
	t.Logf("10,000 accounts, 2,000 shards, all failed: the map's output is %d bytes (%d at 200 shards); without the ResultWriter %v",
		len(at2000), len(at200), exceeded)
}
