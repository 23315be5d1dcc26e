package cloudformation_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// lambdaRetryErrors are the errors of Step Functions' Lambda integration worth a retry: throttling and Lambda's own
// service failures. A function error (the job's typed errors) is not retried by the state machine.
// https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
var lambdaRetryErrors = []string{"Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"}

// definition resolves the state machine's DefinitionString as CloudFormation would for fixed values of what it
// substitutes, and fails on any ${...} it does not know (so a new substitution must be added here, and checked).
func definition(t *testing.T, tpl *template, subs map[string]string) map[string]any {
	t.Helper()
	n := get(tpl.root, "Resources", "AuditStateMachine", "Properties", "DefinitionString")
	if n == nil || n.Tag != "!Sub" || n.Kind != yaml.ScalarNode {
		t.Fatalf("the state machine's DefinitionString must be one !Sub string, got %+v", n)
	}
	text := subVar.ReplaceAllStringFunc(n.Value, func(m string) string {
		v, ok := subs[m[2:len(m)-1]]
		if !ok {
			t.Errorf("the definition substitutes %s, which this test does not know", m)
		}
		return v
	})
	var def map[string]any
	if err := json.Unmarshal([]byte(text), &def); err != nil {
		t.Fatalf("the definition is not JSON: %v\n%s", err, text)
	}
	return def
}

// at walks a decoded JSON object by keys.
func at(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func asJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestStateMachineFollowsTheStepContract holds the definition to the contract between the state machine and the
// handler's steps: plan's payload wraps the execution's input, the map reads plan's manifest with ItemReader and hands
// each shard the run, and the report gets the map's output, or its error when the map itself failed.
func TestStateMachineFollowsTheStepContract(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	const fn = "arn:aws:lambda:eu-west-1:123456789012:function:orgaudit"
	def := definition(t, tpl, map[string]string{"AWS::Partition": "aws", "AuditFunction.Arn": fn, "MaxConcurrency": "100",
		"ReportBucket": "orgaudit-reports", "ReportPrefix": "orgaudit"})
	if def["StartAt"] != "Plan" {
		t.Errorf("StartAt %v", def["StartAt"])
	}
	states := at(def, "States").(map[string]any)
	shard := at(states, "Shards", "ItemProcessor", "States", "Shard")

	// Every Lambda task invokes the function, hands on only the function's payload, and retries Lambda's own
	// failures with backoff.
	payloads := map[string]string{}
	for name, st := range map[string]any{"Plan": states["Plan"], "Shard": shard, "Report": states["Report"], "ReportAfterMapFailed": states["ReportAfterMapFailed"]} {
		if at(st, "Type") != "Task" || at(st, "Resource") != "arn:aws:states:::lambda:invoke" || at(st, "Parameters", "FunctionName") != fn {
			t.Errorf("%s does not invoke the function: %s", name, asJSON(st))
		}
		if at(st, "OutputPath") != "$.Payload" {
			t.Errorf("%s passes on %v, want the function's payload", name, at(st, "OutputPath"))
		}
		payload := at(st, "Parameters", "Payload")
		if payload == nil {
			payload = "$=" + asJSON(at(st, "Parameters", "Payload.$"))
		}
		payloads[name] = asJSON(payload)
		retries, _ := at(st, "Retry").([]any)
		if len(retries) != 1 {
			t.Fatalf("%s: %d retriers, want one", name, len(retries))
		}
		var errs []string
		for _, e := range at(retries[0], "ErrorEquals").([]any) {
			errs = append(errs, e.(string))
		}
		if !slices.Equal(errs, lambdaRetryErrors) || at(retries[0], "BackoffRate").(float64) < 2 || at(retries[0], "MaxAttempts").(float64) < 3 {
			t.Errorf("%s retries %s, want %v with backoff", name, asJSON(retries[0]), lambdaRetryErrors)
		}
	}
	for name, want := range map[string]string{
		"Plan":                 `{"event.$":"$","step":"plan"}`,
		"Shard":                `"$=\"$\""`,
		"Report":               `{"manifest.$":"$.manifest","map.$":"$.map","run.$":"$.run","step":"report"}`,
		"ReportAfterMapFailed": `{"manifest.$":"$.manifest","map_error.$":"$.map_error","run.$":"$.run","step":"report"}`,
	} {
		if payloads[name] != want {
			t.Errorf("%s sends %s, want %s", name, payloads[name], want)
		}
	}
	if at(states, "Plan", "Next") != "Shards" || at(states, "Report", "End") != true || at(states, "ReportAfterMapFailed", "End") != true {
		t.Errorf("the steps do not run plan, shards, report: %s", asJSON(states))
	}

	// The map: distributed, over plan's manifest, each item a shard event, every failure tolerated, its results
	// written to S3 (under the run objects, which the function reads) so that its output stays the results' manifest
	// whatever the shard count, and that output or its own failure handed to a report.
	m := states["Shards"]
	for path, want := range map[string]string{
		"Type":                           `"Map"`,
		"ItemProcessor/ProcessorConfig":  `{"ExecutionType":"STANDARD","Mode":"DISTRIBUTED"}`,
		"ItemReader":                     `{"Parameters":{"Bucket.$":"$.manifest.bucket","Key.$":"$.manifest.key"},"ReaderConfig":{"InputType":"JSON"},"Resource":"arn:aws:states:::s3:getObject"}`,
		"ItemSelector":                   `{"run.$":"$.run","shard.$":"$$.Map.Item.Value","step":"shard"}`,
		"MaxConcurrency":                 `100`,
		"ToleratedFailurePercentage":     `100`,
		"ResultPath":                     `"$.map"`,
		"ResultWriter":                   `{"Parameters":{"Bucket":"orgaudit-reports","Prefix":"orgaudit/runs/map-results"},"Resource":"arn:aws:states:::s3:putObject"}`,
		"Next":                           `"Report"`,
		"Catch":                          `[{"ErrorEquals":["States.ALL"],"Next":"ReportAfterMapFailed","ResultPath":"$.map_error"}]`,
		"ItemProcessor/StartAt":          `"Shard"`,
		"ItemProcessor/States/Shard/End": `true`,
		// A shard's failure, after its retries, is an item of the map's output that names the shard and the error.
		"ItemProcessor/States/Shard/Catch":      `[{"ErrorEquals":["States.ALL"],"Next":"ShardFailed","ResultPath":"$.error"}]`,
		"ItemProcessor/States/ShardFailed":      `{"End":true,"Parameters":{"Cause.$":"$.error.Cause","Error.$":"$.error.Error","index.$":"$.shard.index","step":"shard"},"Type":"Pass"}`,
		"ItemProcessor/States/Shard/Parameters": `{"FunctionName":"` + fn + `","Payload.$":"$"}`,
	} {
		if got := asJSON(at(m, strings.Split(path, "/")...)); got != want {
			t.Errorf("Shards %s: %s, want %s", path, got, want)
		}
	}
	// moto's interpreter refuses ItemBatcher; the manifest is already sharded, so none is needed.
	if at(m, "ItemBatcher") != nil {
		t.Error("the map batches items; plan's manifest is already a list of shards")
	}
}

// TestStateMachineRoleIsLeastPrivilege: the state machine's role may invoke the function, read the manifests, write the map's results,
// and run the map's child executions of this state machine; nothing else, and only in the distributed mode.
func TestStateMachineRoleIsLeastPrivilege(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	for _, id := range []string{"StateMachineRole", "AuditStateMachine", "StateMachineFailedAlarm"} {
		if c := get(tpl.root, "Resources", id, "Condition"); c == nil || c.Value != "Distributed" {
			t.Errorf("%s must exist in the distributed mode only", id)
		}
	}
	if got := get(tpl.root, "Resources", "AuditStateMachine", "Properties", "RoleArn"); got.Tag != "!GetAtt" || got.Value != "StateMachineRole.Arn" {
		t.Errorf("the state machine runs as %s %s", got.Tag, got.Value)
	}
	if got := get(tpl.root, "Resources", "AuditStateMachine", "Properties", "StateMachineName"); got.Tag != "!Ref" || got.Value != "FunctionName" {
		t.Errorf("the state machine's name must be the function's, which its role's statements name: %+v", got)
	}
	trust := get(tpl.root, "Resources", "StateMachineRole", "Properties", "AssumeRolePolicyDocument", "Statement").Content
	if len(trust) != 1 || get(trust[0], "Principal", "Service").Value != "states.amazonaws.com" || get(trust[0], "Condition", "StringEquals", "aws:SourceAccount") == nil {
		t.Errorf("the state machine's role must trust Step Functions of this account only: %+v", trust)
	}
	want := []string{"kms:Decrypt", "kms:GenerateDataKey", "lambda:InvokeFunction", "s3:AbortMultipartUpload", "s3:GetObject",
		"s3:ListMultipartUploadParts", "s3:PutObject", "states:DescribeExecution", "states:StartExecution", "states:StopExecution"}
	if got := tpl.allowedActions(t, "StateMachineRole"); !slices.Equal(got, want) {
		t.Errorf("the state machine's role allows %v, want %v", got, want)
	}
	// s3:GetObject twice: the manifests the ItemReader reads, and the map results the ResultWriter writes.
	var reads []string
	for _, st := range tpl.statementsOf("StateMachineRole") {
		if a := get(st, "Action"); a != nil && (a.Value == "s3:GetObject" || slices.ContainsFunc(a.Content, func(n *yaml.Node) bool { return n.Value == "s3:GetObject" })) {
			reads = append(reads, get(st, "Resource").Value)
		}
	}
	if want := []string{"${ReportBucket.Arn}/${ReportPrefix}/runs/*/manifest.json", "${ReportBucket.Arn}/${ReportPrefix}/runs/map-results/*"}; !slices.Equal(reads, want) {
		t.Errorf("the state machine's role reads %v, want %v", reads, want)
	}
	for action, on := range map[string]string{
		"lambda:InvokeFunction":       "!GetAtt AuditFunction.Arn",
		"s3:PutObject":                "!Sub ${ReportBucket.Arn}/${ReportPrefix}/runs/map-results/*",
		"s3:AbortMultipartUpload":     "!Sub ${ReportBucket.Arn}/${ReportPrefix}/runs/map-results/*",
		"s3:ListMultipartUploadParts": "!Sub ${ReportBucket.Arn}/${ReportPrefix}/runs/map-results/*",
		"kms:Decrypt":                 "!Ref KmsKeyArn",
		"kms:GenerateDataKey":         "!Ref KmsKeyArn",
		"states:StartExecution":       "!Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${FunctionName}",
		"states:DescribeExecution":    "!Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${FunctionName}/*",
		"states:StopExecution":        "!Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${FunctionName}/*",
	} {
		if got := tpl.grantedOn(t, "StateMachineRole", action); got != on {
			t.Errorf("the state machine's role allows %s on %s, want %s", action, got, on)
		}
	}
}

// TestDistributedModeWiring: the schedule starts the state machine in the distributed mode and invokes the function
// otherwise; the function learns its shard size only in the distributed mode, and its memory and timeout do not
// depend on the mode.
func TestDistributedModeWiring(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	if c := get(tpl.root, "Conditions", "Distributed"); c == nil || c.Tag != "!Equals" || c.Content[0].Value != "Mode" || c.Content[1].Value != "distributed" {
		t.Errorf("condition Distributed must be Mode = distributed: %+v", c)
	}
	mode := get(tpl.root, "Parameters", "Mode")
	if get(mode, "Default").Value != "single" || asJSON(nodeValues(get(mode, "AllowedValues"))) != `["single","distributed"]` {
		t.Errorf("Mode must default to single and allow single or distributed")
	}
	for param, def := range map[string]string{"MaxConcurrency": "100", "ShardSize": "50"} {
		if d := get(tpl.root, "Parameters", param, "Default"); d == nil || d.Value != def {
			t.Errorf("%s defaults to %+v, want %s", param, d, def)
		}
	}
	target := get(tpl.root, "Resources", "DailySchedule", "Properties", "Target", "Arn")
	if target.Tag != "!If" || target.Content[0].Value != "Distributed" || target.Content[1].Tag+" "+target.Content[1].Value != "!Ref AuditStateMachine" ||
		target.Content[2].Tag+" "+target.Content[2].Value != "!GetAtt AuditFunction.Arn" {
		t.Errorf("the schedule's target must be the state machine in the distributed mode and the function otherwise: %+v", target)
	}
	fn := get(tpl.root, "Resources", "AuditFunction", "Properties")
	shard := get(fn, "Environment", "Variables", "AUDIT_SHARD_SIZE")
	if shard == nil || shard.Tag != "!If" || shard.Content[0].Value != "Distributed" || shard.Content[1].Value != "ShardSize" || shard.Content[2].Value != "AWS::NoValue" {
		t.Errorf("AUDIT_SHARD_SIZE must be the ShardSize parameter in the distributed mode only: %+v", shard)
	}
	for key, param := range map[string]string{"MemorySize": "MemorySize", "Timeout": "Timeout"} {
		if n := get(fn, key); n.Tag != "!Ref" || n.Value != param {
			t.Errorf("the function's %s must be the %s parameter in both modes: %+v", key, param, n)
		}
	}
}

func nodeValues(n *yaml.Node) []string {
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}
