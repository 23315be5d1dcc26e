package cloudformation_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"gopkg.in/yaml.v3"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/testkit/grants"
)

// alertRules are the templates' rules of the alert path: template, logical id, and the detail type each matches.
var alertRules = []struct{ file, rule, detailType string }{
	{"member-role.yaml", "FailedStackForwardingRule", alert.StackStatusChange},
	{"management.yaml", "AlertBusStackRule", alert.StackStatusChange},
	{"management.yaml", "DefaultBusStackRule", alert.StackStatusChange},
	{"management.yaml", "DefaultBusStackInstanceRule", alert.InstanceStatusChange},
}

// eventPattern is a rule's EventPattern as the template holds it, in EventBridge's JSON.
type eventPattern struct {
	Source     []string `json:"source"`
	DetailType []string `json:"detail-type"`
	Detail     struct {
		StatusDetails struct {
			Status         []string `json:"status"`
			DetailedStatus []string `json:"detailed-status,omitempty"`
		} `json:"status-details"`
	} `json:"detail"`
}

// patternOf reads a rule's EventPattern out of its template: its JSON, and decoded. Unknown keys fail the decode, so a
// pattern that grows a condition this test does not read fails it instead of passing unread.
func patternOf(t *testing.T, file, rule string) (string, eventPattern) {
	t.Helper()
	tpl := load(t, file)
	n := get(tpl.root, "Resources", rule, "Properties", "EventPattern")
	if n == nil {
		t.Fatalf("%s: %s has no EventPattern", file, rule)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		t.Fatalf("%s: %s: %v", file, rule, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %s: %v", file, rule, err)
	}
	var p eventPattern
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %s pattern %s: %v", file, rule, b, err)
	}
	return string(b), p
}

// failedStackStatuses are the statuses the cloudformation-failed-stacks check calls a failure as soon as a stack
// reaches them: every status CloudFormation has (the SDK's enum), through the check's own rule. A stuck status
// (ROLLBACK_IN_PROGRESS, say) is a finding only after the stack sat in it for hours, which no event says.
func failedStackStatuses() []string {
	var out []string
	for _, s := range cfntypes.StackStatus("").Values() {
		if _, stuck, ok := checks.StackFailure(string(s)); ok && !stuck {
			out = append(out, string(s))
		}
	}
	slices.Sort(out)
	return out
}

// failedInstanceStatuses are the (status, detailed status) pairs checks.StackInstanceFailure calls a failure, over
// every value of both enums.
func failedInstanceStatuses() (statuses, detailed []string) {
	for _, s := range cfntypes.StackInstanceStatus("").Values() {
		for _, d := range cfntypes.StackInstanceDetailedStatus("").Values() {
			if _, ok := checks.StackInstanceFailure(string(s), string(d)); ok {
				statuses, detailed = append(statuses, string(s)), append(detailed, string(d))
			}
		}
	}
	slices.Sort(statuses)
	slices.Sort(detailed)
	return slices.Compact(statuses), slices.Compact(detailed)
}

// TestAlertRulesMatchTheChecksRule: every rule of the alert path matches exactly what the check calls a failure. The
// rule is the check's (one place); the patterns can only be its copy, so this holds them to it.
func TestAlertRulesMatchTheChecksRule(t *testing.T) {
	t.Parallel()
	stacks := failedStackStatuses()
	if len(stacks) == 0 || slices.Contains(stacks, string(cfntypes.StackStatusCreateComplete)) || slices.Contains(stacks, string(cfntypes.StackStatusRollbackInProgress)) {
		t.Fatalf("the check's failures %v: the derivation is not reading the rule", stacks)
	}
	instances, detailed := failedInstanceStatuses()
	// A pattern is a cross product of its lists: it says the rule only when every pair of them is a failure.
	for _, s := range instances {
		for _, d := range detailed {
			if _, ok := checks.StackInstanceFailure(s, d); !ok {
				t.Fatalf("instance failures %v x %v are no cross product: a single pattern cannot say them", instances, detailed)
			}
		}
	}
	for _, r := range alertRules {
		raw, p := patternOf(t, r.file, r.rule)
		if !slices.Equal(p.Source, []string{alert.Source}) || !slices.Equal(p.DetailType, []string{r.detailType}) {
			t.Errorf("%s: %s matches source %v, detail-type %v; want %s, %s", r.file, r.rule, p.Source, p.DetailType, alert.Source, r.detailType)
		}
		got := slices.Sorted(slices.Values(p.Detail.StatusDetails.Status))
		switch r.detailType {
		case alert.StackStatusChange:
			if !slices.Equal(got, stacks) || p.Detail.StatusDetails.DetailedStatus != nil {
				t.Errorf("%s: %s matches %s; the check calls %v a failure", r.file, r.rule, raw, stacks)
			}
		case alert.InstanceStatusChange:
			gotDetailed := slices.Sorted(slices.Values(p.Detail.StatusDetails.DetailedStatus))
			if !slices.Equal(got, instances) || !slices.Equal(gotDetailed, detailed) {
				t.Errorf("%s: %s matches %s; the check calls status %v with detailed status %v a failure", r.file, r.rule, raw, instances, detailed)
			}
		default:
			t.Fatalf("no rule for detail type %q", r.detailType)
		}
	}
}

// TestAlertQueueFeedsTheFunction: the rules' target is an encrypted queue that only they may send to, read by the
// alert function through an event source mapping in batches, with partial batch failures, a visibility timeout six
// times that function's timeout (the Lambda developer guide's rule for an SQS event source), a dead-letter queue that
// alarms, and the execution role (the alert function's) allowed exactly what Lambda calls to read the queue.
func TestAlertQueueFeedsTheFunction(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	res := get(tpl.root, "Resources")
	queue := get(res, "AlertQueue", "Properties")
	if get(queue, "SqsManagedSseEnabled").Value != "true" || get(queue, "KmsMasterKeyId") != nil {
		t.Error("the alert queue must be encrypted with SQS's own key (no kms: action for Lambda to need)")
	}
	timeout := get(res, "AlertFunction", "Properties", "Timeout").Value
	if vis, want := get(queue, "VisibilityTimeout").Value, fmt.Sprint(6*atoi(t, timeout)); vis != want {
		t.Errorf("the alert queue's VisibilityTimeout %s, want six times the alert function's timeout (%s s): %s", vis, timeout, want)
	}
	if role := get(res, "AlertFunction", "Properties", "Role"); role.Tag != "!GetAtt" || role.Value != "ExecutionRole.Arn" {
		t.Errorf("the alert function runs as %s %s, want the execution role, which may read the queue", role.Tag, role.Value)
	}
	if dlq := get(queue, "RedrivePolicy", "deadLetterTargetArn"); dlq.Tag != "!GetAtt" || dlq.Value != "AlertDeadLetterQueue.Arn" || atoi(t, get(queue, "RedrivePolicy", "maxReceiveCount").Value) < 3 {
		t.Errorf("the alert queue must redrive to AlertDeadLetterQueue after a few receives: %+v", get(queue, "RedrivePolicy"))
	}
	// Every rule of the path sends to the queue, its failures to the dead-letter queue; the queue policy admits those
	// rules and nothing else.
	var rules []string
	for _, r := range alertRules {
		if r.file != "management.yaml" {
			continue
		}
		rules = append(rules, "!GetAtt "+r.rule+".Arn")
		targets := get(res, r.rule, "Properties", "Targets").Content
		if len(targets) != 1 || get(targets[0], "Arn").Value != "AlertQueue.Arn" || get(targets[0], "DeadLetterConfig", "Arn").Value != "AlertDeadLetterQueue.Arn" {
			t.Errorf("%s must target AlertQueue with AlertDeadLetterQueue as its dead-letter queue", r.rule)
		}
	}
	st := get(res, "AlertQueuePolicy", "Properties", "PolicyDocument", "Statement").Content
	if len(st) != 1 || get(st[0], "Principal", "Service").Value != "events.amazonaws.com" || get(st[0], "Action").Value != "sqs:SendMessage" {
		t.Fatalf("the queue policy must let EventBridge send, and only that: %+v", st)
	}
	var sources []string
	for _, n := range get(st[0], "Condition", "ArnEquals", "aws:SourceArn").Content {
		sources = append(sources, n.Tag+" "+n.Value)
	}
	if !slices.Equal(sources, rules) {
		t.Errorf("the queue admits sends from %v, want the alert rules %v", sources, rules)
	}
	esm := get(res, "AlertEventSourceMapping", "Properties")
	if get(esm, "EventSourceArn").Value != "AlertQueue.Arn" || get(esm, "FunctionName").Value != "AlertFunction.Arn" ||
		atoi(t, get(esm, "BatchSize").Value) < 500 || atoi(t, get(esm, "MaximumBatchingWindowInSeconds").Value) < 1 ||
		len(get(esm, "FunctionResponseTypes").Content) != 1 || get(esm, "FunctionResponseTypes").Content[0].Value != "ReportBatchItemFailures" {
		t.Errorf("the function must read the alert queue in batches of a burst of 500 over a window, reporting item failures: %+v", esm)
	}
	for _, a := range grants.LambdaEventSourceActions {
		if got := tpl.grantedOn(t, "ExecutionRole", a); got != "!GetAtt AlertQueue.Arn" {
			t.Errorf("the execution role allows %s on %s, want the alert queue", a, got)
		}
	}
	if get(res, "AlertDeadLetterAlarm", "Properties", "Dimensions").Content[0].Content[3].Value != "AlertDeadLetterQueue.QueueName" {
		t.Error("AlertDeadLetterAlarm must watch the alert dead-letter queue")
	}
	// `audit alert -event FILE` alone only prints the alert: the alarm tells how to send it as the function would
	// (-send with the alert function's environment: its topics, owners' digests and email), claimed and recorded.
	if text := get(res, "AlertDeadLetterAlarm", "Properties", "AlarmDescription").Value; !strings.Contains(text, "audit alert -event FILE -send") ||
		!strings.Contains(text, "alert function's") || !strings.Contains(text, "environment") {
		t.Errorf("AlertDeadLetterAlarm must say how to resend an event (-send, with the alert function's environment): %q", text)
	}
	// The bus admits PutEvents from the organization's forwarding roles, nothing else.
	bus := get(res, "AlertBusPolicy", "Properties", "Statement")
	if get(bus, "Action").Value != "events:PutEvents" || get(bus, "Principal").Value != "*" ||
		get(bus, "Condition", "StringEquals", "aws:PrincipalOrgID").Value != "OrganizationId" || get(bus, "Resource").Value != "AlertBus.Arn" ||
		get(bus, "Condition", "ArnLike", "aws:PrincipalArn") == nil ||
		get(bus, "Condition", "ArnLike", "aws:PrincipalArn").Value != "arn:${AWS::Partition}:iam::*:role/${AlertForwardingRoleName}" {
		t.Errorf("the alert bus policy must allow events:PutEvents from the organization's forwarding roles only: %+v", bus)
	}
	member := load(t, "member-role.yaml")
	if m, f := get(member.root, "Parameters", "AlertForwardingRoleName", "Default"), get(tpl.root, "Parameters", "AlertForwardingRoleName", "Default"); m == nil || f == nil || m.Value != f.Value {
		t.Errorf("the management template's AlertForwardingRoleName must default to the member template's: %v %v", f, m)
	}
}

// TestAlertForwardingRoleOnlyPutsOnTheBus: the member's rule forwards with a role EventBridge alone may assume, whose
// only permission is events:PutEvents on the alert bus, created in one region only; without a bus, nothing is created.
func TestAlertForwardingRoleOnlyPutsOnTheBus(t *testing.T) {
	t.Parallel()
	tpl := load(t, "member-role.yaml")
	if got := tpl.allowedActions(t, "AlertForwardingRole"); !slices.Equal(got, grants.AlertForwardingActions) {
		t.Errorf("the forwarding role allows %v, want %v", got, grants.AlertForwardingActions)
	}
	if got := tpl.grantedOn(t, "AlertForwardingRole", "events:PutEvents"); got != "!Ref AlertBusArn" {
		t.Errorf("the forwarding role may put events on %s, want the alert bus", got)
	}
	trust := get(tpl.root, "Resources", "AlertForwardingRole", "Properties", "AssumeRolePolicyDocument", "Statement").Content
	if len(trust) != 1 || get(trust[0], "Principal", "Service").Value != "events.amazonaws.com" {
		t.Errorf("only EventBridge may assume the forwarding role: %+v", trust)
	}
	res := get(tpl.root, "Resources")
	for id, want := range map[string]string{"AuditRole": "CreatesRoles", "AlertForwardingRole": "CreatesForwardingRole", "FailedStackForwardingRule": "ForwardsAlerts"} {
		if c := get(res, id, "Condition"); c == nil || c.Value != want {
			t.Errorf("%s must be created under %s (an empty AlertBusArn forwards nothing; IAM in one region)", id, want)
		}
	}
	target := get(res, "FailedStackForwardingRule", "Properties", "Targets").Content
	if len(target) != 1 || get(target[0], "Arn").Value != "AlertBusArn" || get(target[0], "RoleArn").Tag != "!If" {
		t.Fatalf("the rule must target the alert bus with the forwarding role: %+v", target)
	}
	// A delivery the bus refuses (a policy, a deleted bus, a throttle) is retried, then kept in the member account
	// rather than dropped: EventBridge's retry policy and the target's dead-letter queue, which only the rule may
	// send to, encrypted at rest.
	retry := get(target[0], "RetryPolicy")
	if retry == nil || get(retry, "MaximumRetryAttempts") == nil || get(retry, "MaximumEventAgeInSeconds") == nil {
		t.Errorf("the rule's target must retry: %+v", retry)
	}
	if dl := get(target[0], "DeadLetterConfig", "Arn"); dl == nil || dl.Tag != "!GetAtt" || dl.Value != "FailedStackDeadLetterQueue.Arn" {
		t.Errorf("the rule's target must keep what it could not deliver in FailedStackDeadLetterQueue: %+v", dl)
	}
	q := get(res, "FailedStackDeadLetterQueue")
	if get(q, "Type") == nil || get(q, "Type").Value != "AWS::SQS::Queue" || get(q, "Condition") == nil || get(q, "Condition").Value != "ForwardsAlerts" ||
		get(q, "Properties", "SqsManagedSseEnabled") == nil || get(q, "Properties", "SqsManagedSseEnabled").Value != "true" {
		t.Errorf("FailedStackDeadLetterQueue must be an SSE queue created with the rule: %+v", q)
	}
	pol := get(res, "FailedStackDeadLetterQueuePolicy", "Properties", "PolicyDocument", "Statement")
	if pol == nil || len(pol.Content) != 1 {
		t.Fatalf("FailedStackDeadLetterQueuePolicy must hold one statement: %+v", pol)
	}
	st := pol.Content[0]
	if get(st, "Principal", "Service").Value != "events.amazonaws.com" || get(st, "Action").Value != "sqs:SendMessage" ||
		get(st, "Resource").Value != "FailedStackDeadLetterQueue.Arn" || get(st, "Condition", "ArnEquals", "aws:SourceArn") == nil ||
		get(st, "Condition", "ArnEquals", "aws:SourceArn").Value != "FailedStackForwardingRule.Arn" {
		t.Errorf("only the rule may send to its dead-letter queue: %+v", st)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is no number", s)
	}
	return n
}

// TestAlertParametersRejectWhatWouldBreakForwarding: the member's AlertBusArn takes the management stack's output
// form (or nothing), RolesRegion one region (or nothing), and the management's Alerts a switch.
func TestAlertParametersRejectWhatWouldBreakForwarding(t *testing.T) {
	t.Parallel()
	member := load(t, "member-role.yaml")
	for value, want := range map[string]bool{
		"": true, "arn:aws:events:eu-west-1:111111111111:event-bus/orgaudit-alerts": true,
		"arn:aws-us-gov:events:us-gov-west-1:111111111111:event-bus/orgaudit-alerts": true,
		// The European Sovereign Cloud's regions, as internal/config accepts them.
		"arn:aws-eusc:events:eusc-de-east-1:111111111111:event-bus/orgaudit-alerts": true,
		"arn:aws:events:eu-west-1:111111111111:event-bus/orgaudit-alerts\nx":        false,
		"arn:aws:events:eu-west-1:111111111111:rule/orgaudit-alerts":                false, // a rule, not a bus
		"arn:aws:sqs:eu-west-1:111111111111:orgaudit-alerts":                        false,
		"orgaudit-alerts": false, // a name is this account's bus, not the management account's
		"arn:aws:events:eu-west-1:111111111111:event-bus/orgaudit-alerts ": false,
	} {
		if got := member.allows(t, "AlertBusArn", value); got != want {
			t.Errorf("AlertBusArn %q allowed %v, want %v", value, got, want)
		}
	}
	for value, want := range map[string]bool{"": true, "eu-west-1": true, "us-gov-west-1": true, "eusc-de-east-1": true, "ap-southeast-10": true,
		"eu-west-1,us-east-1": false, "EU-WEST-1": false, "europe-west-1": false, "eu-west": false} {
		if got := member.allows(t, "RolesRegion", value); got != want {
			t.Errorf("RolesRegion %q allowed %v, want %v", value, got, want)
		}
	}
	alerts := get(load(t, "management.yaml").root, "Parameters", "Alerts")
	if get(alerts, "Default").Value != "true" || len(get(alerts, "AllowedValues").Content) != 2 {
		t.Errorf("Alerts must be a true/false switch, on by default: %+v", alerts)
	}
}

// alertSettings are the variables the alert path reads (alert.NewHandler from config.Settings: the member role, the
// report bucket and its records, the topics, the owners' bound (OwnerDigests=0 sends owners nothing), email), each of which the function that handles alerts must be given as
// the audit function is.
var alertSettings = []string{"AUDIT_ROLE_NAME", "AUDIT_EXTERNAL_ID", "AUDIT_BUCKET", "AUDIT_BUCKET_REGION", "AUDIT_PREFIX", "AUDIT_KMS_KEY_ID",
	"AUDIT_TOPIC_ARN", "AUDIT_OWNER_TOPIC_ARN", "AUDIT_OWNER_DIGESTS", "AUDIT_EMAIL_FROM", "AUDIT_EMAIL_TO", "AUDIT_EMAIL_REGION"}

// TestAnAlertIsNeverQueuedBehindTheDailyRun: the daily run holds its function for up to 15 minutes, and in the single
// mode that function runs one invocation at a time. The alert queue is read by a function of its own, which nothing of
// the daily run invokes and which reserves no concurrency, so a batch is never throttled behind a run; the mapping
// bounds how many run at once (a burst cannot take the account's concurrency), and the function's timeout is short, so
// a batch given back (a throttle by the account, a crash) is retried after the queue's visibility timeout, six times
// that timeout as the Lambda developer guide asks, within a quarter of an hour rather than the 90 minutes six times the
// audit's longest timeout would be.
func TestAnAlertIsNeverQueuedBehindTheDailyRun(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	res := get(tpl.root, "Resources")
	esm := get(res, "AlertEventSourceMapping", "Properties")
	target := get(esm, "FunctionName")
	name, _, _ := strings.Cut(target.Value, ".")
	if target.Tag != "!GetAtt" && target.Tag != "!Ref" || get(res, name, "Type").Value != "AWS::Lambda::Function" {
		t.Fatalf("the alert queue's mapping targets %s %s, not a function of the stack", target.Tag, target.Value)
	}
	if name == "AuditFunction" {
		t.Fatalf("the alert queue is read by %s, which runs the daily audit one invocation at a time in the single mode: a batch arriving during a run is throttled and comes back only after the queue's visibility timeout", name)
	}
	fn, audit := get(res, name, "Properties"), get(res, "AuditFunction", "Properties")
	if c := get(res, name, "Condition"); c == nil || c.Value != "SendsAlerts" {
		t.Errorf("%s must exist only with Alerts on (condition SendsAlerts): %+v", name, c)
	}
	if rc := get(fn, "ReservedConcurrentExecutions"); rc != nil {
		t.Errorf("%s reserves concurrency %s %s: the mapping's MaximumConcurrency bounds it instead, and a reservation of 1 would throttle a second batch", name, rc.Tag, rc.Value)
	}
	if mc := get(esm, "ScalingConfig", "MaximumConcurrency"); mc == nil || atoi(t, mc.Value) < 2 || atoi(t, mc.Value) > 10 {
		t.Errorf("the mapping must bound the alert function's concurrency with ScalingConfig.MaximumConcurrency, 2 (the least AWS takes) to 10: %+v", mc)
	}
	// Nothing of the daily run invokes it: the schedule, its role, the state machine and its role, the on-failure
	// destination name the audit function only.
	for _, id := range []string{"DailySchedule", "SchedulerRole", "AuditStateMachine", "StateMachineRole", "FailedRunsDestination"} {
		if slices.ContainsFunc(scalars(get(res, id)), func(s string) bool { return strings.Contains(s, name) }) {
			t.Errorf("%s names %s: the daily run must never run in the alert function", id, name)
		}
	}
	timeout := atoi(t, get(fn, "Timeout").Value)
	if timeout < 30 || timeout > 150 {
		t.Errorf("%s's timeout %d s: long enough to route and send a batch of 1000, short enough that a batch given back returns within minutes", name, timeout)
	}
	vis := atoi(t, get(res, "AlertQueue", "Properties", "VisibilityTimeout").Value)
	if vis != 6*timeout || vis > 900 {
		t.Errorf("the alert queue's VisibilityTimeout %d s, want six times %s's timeout (%d s), at most a quarter of an hour", vis, name, 6*timeout)
	}
	// The same code, runtime and role as the audit function (so the role's derivation from the code holds for both),
	// logging to the group the role may write to.
	for _, key := range []string{"Runtime", "Architectures", "Handler", "Code", "Role"} {
		if got, want := strings.Join(scalars(get(fn, key)), " "), strings.Join(scalars(get(audit, key)), " "); got != want || want == "" {
			t.Errorf("%s's %s %q, want the audit function's %q", name, key, got, want)
		}
	}
	if lg := get(fn, "LoggingConfig", "LogGroup"); lg == nil || lg.Tag != "!Ref" || lg.Value != "FunctionLogGroup" || get(fn, "LoggingConfig", "LogFormat").Value != "JSON" {
		t.Errorf("%s must log in JSON to FunctionLogGroup, the one group the execution role may write to: %+v", name, lg)
	}
	// Every setting the alert path reads, as the audit function has it, and nothing the function never reads.
	vars, auditVars := get(fn, "Environment", "Variables"), get(audit, "Environment", "Variables")
	for _, v := range alertSettings {
		if got, want := scalars(get(vars, v)), scalars(get(auditVars, v)); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s's %s %v, want the audit function's %v", name, v, got, want)
		}
	}
	known := config.EnvNames()
	for i := 0; i < len(vars.Content); i += 2 {
		if !slices.Contains(known, vars.Content[i].Value) {
			t.Errorf("%s sets %s, which the function never reads", name, vars.Content[i].Value)
		}
	}
	// A batch handler fails only on a broken deployment (item failures are retried and dead-lettered): that alarms.
	alarmed := false
	for i := 0; i < len(res.Content); i += 2 {
		p := get(res.Content[i+1], "Properties")
		if get(res.Content[i+1], "Type").Value != "AWS::CloudWatch::Alarm" || get(p, "Namespace").Value != "AWS/Lambda" || get(p, "MetricName").Value != "Errors" {
			continue
		}
		dims := get(p, "Dimensions").Content
		if len(dims) == 1 && get(dims[0], "Value").Tag == "!Ref" && get(dims[0], "Value").Value == name &&
			slices.Equal(scalars(get(p, "AlarmActions")), []string{"DigestTopic"}) && get(res.Content[i+1], "Condition").Value == "SendsAlerts" {
			alarmed = true
		}
	}
	if !alarmed {
		t.Errorf("no alarm under SendsAlerts mails the digest topic when %s fails", name)
	}
}

// scalars lists the scalar values under n, in order (tags dropped): two nodes that list the same are the same
// configuration as far as these tests compare them.
func scalars(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, scalars(c)...)
	}
	return out
}
