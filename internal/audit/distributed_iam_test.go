package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/distributed"
)

// runDistributed runs one distributed run, the state machine's way: plan on schedule, each shard of the manifest,
// the report with the Map's output, each through the handler's step entry. It returns what each step answered or
// the error it failed with, for the evidence of what a person sees.
func runDistributed(sim *awssim.Server, cfg aws.Config, s config.Settings, schedule string, logger *slog.Logger) string {
	var seen strings.Builder
	ctx := context.Background()
	opts := distributed.Options{Logger: logger}
	call := func(ev any) json.RawMessage {
		raw, _ := json.Marshal(ev)
		out, err := distributed.HandleStep(ctx, cfg, s, raw, opts)
		fmt.Fprintf(&seen, "step %.40s: err %v\n%s\n", raw, err, out)
		return out
	}
	var plan distributed.PlanOutput
	if json.Unmarshal(call(map[string]any{"step": "plan", "event": json.RawMessage(schedule)}), &plan) != nil {
		return seen.String()
	}
	body, err := sim.Object(plan.Manifest.Bucket, plan.Manifest.Key)
	var shards []json.RawMessage
	if err == nil {
		err = json.Unmarshal(body, &shards)
	}
	if err != nil {
		fmt.Fprintf(&seen, "manifest: %v\n", err)
		return seen.String()
	}
	results := []json.RawMessage{}
	for _, sh := range shards {
		out := call(map[string]any{"step": "shard", "run": plan.Run, "shard": sh})
		if out == nil {
			out = json.RawMessage(`{"Error":"DeliveryFailedError","Cause":"the shard failed"}`)
		}
		results = append(results, out)
	}
	call(map[string]any{"step": "report", "run": plan.Run, "manifest": plan.Manifest, "map": results})
	return seen.String()
}
