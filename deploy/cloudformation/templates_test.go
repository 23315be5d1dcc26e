// Package cloudformation_test checks the deployment templates against the code: every reference resolves, and each
// role grants exactly the IAM actions the code declares it calls.
package cloudformation_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/distributed"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/testkit/grants"
)

type template struct {
	name                          string
	root                          *yaml.Node
	params, resources, conditions map[string]bool
	paramsWithoutDefault          []string
}

var pseudo = map[string]bool{"AWS::AccountId": true, "AWS::NoValue": true, "AWS::NotificationARNs": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true}

func load(t *testing.T, file string) *template {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	tpl := &template{name: file, root: doc.Content[0], params: map[string]bool{}, resources: map[string]bool{}, conditions: map[string]bool{}}
	for section, set := range map[string]map[string]bool{"Parameters": tpl.params, "Resources": tpl.resources, "Conditions": tpl.conditions} {
		if m := get(tpl.root, section); m != nil {
			for i := 0; i < len(m.Content); i += 2 {
				set[m.Content[i].Value] = true
				if section == "Parameters" && get(m.Content[i+1], "Default") == nil {
					tpl.paramsWithoutDefault = append(tpl.paramsWithoutDefault, m.Content[i].Value)
				}
			}
		}
	}
	return tpl
}

// get returns the value of key in mapping n, or nil.
func get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, key := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// checkReferences walks the template and reports every intrinsic function that names something that does not exist.
func (tpl *template) checkReferences(t *testing.T) int {
	t.Helper()
	count := 0
	ref := func(name, where string) {
		count++
		if !tpl.params[name] && !tpl.resources[name] && !pseudo[name] {
			t.Errorf("%s: %s names %q, which is no parameter, resource or pseudo parameter", tpl.name, where, name)
		}
	}
	getAtt := func(target, where string) {
		count++
		if res, _, ok := strings.Cut(target, "."); !ok || !tpl.resources[res] {
			t.Errorf("%s: %s %q names no resource", tpl.name, where, target)
		}
	}
	cond := func(name, where string) {
		count++
		if !tpl.conditions[name] {
			t.Errorf("%s: %s names condition %q, which does not exist", tpl.name, where, name)
		}
	}
	sub := func(n *yaml.Node) {
		s, vars := n, map[string]bool{}
		if n.Kind == yaml.SequenceNode {
			s = n.Content[0]
			for i := 0; len(n.Content) > 1 && i < len(n.Content[1].Content); i += 2 {
				vars[n.Content[1].Content[i].Value] = true
			}
		}
		for _, m := range subVar.FindAllStringSubmatch(s.Value, -1) {
			switch name := m[1]; {
			case vars[name]:
			case strings.Contains(name, ".") && !strings.HasPrefix(name, "AWS::"):
				getAtt(name, "Fn::Sub")
			default:
				ref(name, "Fn::Sub")
			}
		}
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Tag {
		case "!Ref":
			ref(n.Value, "Ref")
		case "!GetAtt":
			if n.Kind == yaml.SequenceNode {
				getAtt(n.Content[0].Value+"."+n.Content[1].Value, "Fn::GetAtt")
			} else {
				getAtt(n.Value, "Fn::GetAtt")
			}
		case "!Sub":
			sub(n)
		case "!If":
			cond(n.Content[0].Value, "Fn::If")
		case "!Condition":
			cond(n.Value, "Condition")
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				switch k {
				case "Ref":
					ref(v.Value, "Ref")
				case "Fn::GetAtt":
					getAtt(v.Value, "Fn::GetAtt")
				case "Fn::Sub":
					sub(v)
				case "Fn::If":
					cond(v.Content[0].Value, "Fn::If")
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, section := range []string{"Conditions", "Resources", "Outputs"} {
		if s := get(tpl.root, section); s != nil {
			walk(s)
		}
	}
	// A resource's Condition and DependsOn name things too.
	res := get(tpl.root, "Resources")
	for i := 0; i < len(res.Content); i += 2 {
		if c := get(res.Content[i+1], "Condition"); c != nil {
			cond(c.Value, "resource Condition")
		}
		if d := get(res.Content[i+1], "DependsOn"); d != nil {
			for _, name := range append([]*yaml.Node{d}, d.Content...) {
				if name.Kind == yaml.ScalarNode && !tpl.resources[name.Value] {
					t.Errorf("%s: DependsOn %q names no resource", tpl.name, name.Value)
				}
			}
		}
	}
	return count
}

// allowedActions collects the Allow actions of a role's inline policies, through both branches of any Fn::If.
func (tpl *template) allowedActions(t *testing.T, logicalID string) []string {
	t.Helper()
	role := get(tpl.root, "Resources", logicalID)
	if role == nil || get(role, "Type").Value != "AWS::IAM::Role" {
		t.Fatalf("%s: no role %s", tpl.name, logicalID)
	}
	var out []string
	var statement func(n *yaml.Node)
	statement = func(n *yaml.Node) {
		if n.Tag == "!If" {
			for _, branch := range n.Content[1:] {
				statement(branch)
			}
			return
		}
		if n.Kind != yaml.MappingNode || get(n, "Effect").Value != "Allow" {
			return
		}
		a := get(n, "Action")
		if a.Kind == yaml.ScalarNode {
			out = append(out, a.Value)
		}
		for _, c := range a.Content {
			out = append(out, c.Value)
		}
	}
	for _, policy := range get(role, "Properties", "Policies").Content {
		for _, st := range get(policy, "PolicyDocument", "Statement").Content {
			statement(st)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestTemplatesReferenceOnlyWhatExists(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"management.yaml", "member-role.yaml"} {
		tpl := load(t, file)
		if n := tpl.checkReferences(t); n < 5 {
			t.Errorf("%s: only %d references found; the walker is not reading the template", file, n)
		}
	}
}

func TestMemberRoleGrantsExactlyTheChecksActions(t *testing.T) {
	t.Parallel()
	got := load(t, "member-role.yaml").allowedActions(t, "AuditRole")
	if want := grants.MemberRoleActions(); !slices.Equal(got, want) {
		t.Errorf("member role allows %v; the code calls %v", got, want)
	}
}

func TestExecutionRoleGrantsExactlyWhatTheJobCalls(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	got := tpl.allowedActions(t, "ExecutionRole")
	if want := grants.ExecutionRoleActions(true); !slices.Equal(got, want) {
		t.Errorf("execution role allows %v; the job calls %v", got, want)
	}
	// The scheduler may start a run and nothing else: invoke the function, or start the state machine in the
	// distributed mode.
	st := get(tpl.root, "Resources", "SchedulerRole", "Properties", "Policies").Content[0]
	statements := get(st, "PolicyDocument", "Statement").Content
	if len(statements) != 2 || statements[0].Tag != "!If" || statements[0].Content[0].Value != "Distributed" {
		t.Fatalf("the scheduler role's first statement must depend on the mode, its second record missed runs: %+v", statements)
	}
	if dlq := statements[1]; get(dlq, "Action").Value != "sqs:SendMessage" || get(dlq, "Resource").Value != "MissedRunsQueue.Arn" {
		t.Errorf("the scheduler role's second statement must only send to the schedule's dead-letter queue: %s %s", get(dlq, "Action").Value, get(dlq, "Resource").Value)
	}
	for i, want := range []string{"states:StartExecution !Ref AuditStateMachine", "lambda:InvokeFunction !GetAtt AuditFunction.Arn"} {
		branch := statements[0].Content[1+i]
		if got := get(branch, "Action").Value + " " + get(branch, "Resource").Tag + " " + get(branch, "Resource").Value; got != want {
			t.Errorf("scheduler role allows %s, want %s", got, want)
		}
	}
}

func TestManagementTemplateMatchesTheCode(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	fn := get(tpl.root, "Resources", "AuditFunction", "Properties")
	for key, want := range map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap"} {
		if got := get(fn, key).Value; got != want {
			t.Errorf("function %s %q, want %q", key, got, want)
		}
	}
	if arch := get(fn, "Architectures"); len(arch.Content) != 1 || arch.Content[0].Value != "arm64" {
		t.Errorf("architectures %v", arch)
	}
	// Every variable the template sets is one the code reads.
	vars := get(fn, "Environment", "Variables")
	known := config.EnvNames()
	for i := 0; i < len(vars.Content); i += 2 {
		if !slices.Contains(known, vars.Content[i].Value) {
			t.Errorf("template sets %s, which the function never reads (it reads %v)", vars.Content[i].Value, known)
		}
	}
	// The schedule has a time zone the deployer must choose, and its input is an event the function accepts.
	schedule := get(tpl.root, "Resources", "DailySchedule", "Properties")
	if tz := get(schedule, "ScheduleExpressionTimezone"); tz == nil || tz.Tag != "!Ref" || !slices.Contains(tpl.paramsWithoutDefault, tz.Value) {
		t.Errorf("schedule time zone must come from a parameter without a default, got %+v", tz)
	}
	input := get(schedule, "Target", "Input").Value
	filled := strings.NewReplacer("<aws.scheduler.scheduled-time>", "2026-11-22T07:00:00Z", "<aws.scheduler.execution-id>", "d32c5kddcf5bb8c3",
		"<aws.scheduler.schedule-arn>", "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/orgaudit").Replace(input)
	ev, err := config.DecodeEvent([]byte(filled))
	if err != nil || ev.Kind != "scheduler" {
		t.Errorf("the schedule's input %s is not an event the function accepts: %v", input, err)
	}
	// Bucket: public access blocked, TLS only, owner enforced, old reports expire.
	bucket := get(tpl.root, "Resources", "ReportBucket", "Properties")
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if get(bucket, "PublicAccessBlockConfiguration", k).Value != "true" {
			t.Errorf("public access block %s not set", k)
		}
	}
	if get(bucket, "OwnershipControls", "Rules").Content[0].Content[1].Value != "BucketOwnerEnforced" || get(bucket, "LifecycleConfiguration") == nil {
		t.Error("bucket ownership or lifecycle missing")
	}
	policy := get(tpl.root, "Resources", "ReportBucketPolicy", "Properties", "PolicyDocument", "Statement").Content[0]
	if get(policy, "Effect").Value != "Deny" || get(policy, "Condition", "Bool", "aws:SecureTransport").Value != "false" {
		t.Error("bucket policy must deny non-TLS access")
	}
	for _, out := range []string{"FunctionName", "ReportBucketName", "DigestTopicArn"} {
		if get(tpl.root, "Outputs", out) == nil {
			t.Errorf("output %s missing", out)
		}
	}
}

// The member role trusts the execution role and, only when TrustedPrincipalArns names some, those principals of the
// management account; both with the ExternalId (when set) and the organization. The simulator enforces what this
// reads (internal/awssim TestMemberRoleTrustsNamedPrincipalsOfTheManagementAccount).
func TestMemberRoleTrustsOnlyTheExecutionRoleAndNamedPrincipals(t *testing.T) {
	t.Parallel()
	tpl := load(t, "member-role.yaml")
	st := get(tpl.root, "Resources", "AuditRole", "Properties", "AssumeRolePolicyDocument", "Statement").Content
	if len(st) != 2 {
		t.Fatalf("%d trust statements", len(st))
	}
	principal := get(st[0], "Principal", "AWS")
	if principal.Tag != "!Sub" || !strings.Contains(principal.Value, ":role/${ExecutionRoleName}") || !strings.Contains(principal.Value, "${ManagementAccountId}") {
		t.Errorf("trust principal %q must be the management account's execution role", principal.Value)
	}
	// The second statement exists only when the parameter names principals.
	named := st[1]
	if named.Tag != "!If" || len(named.Content) != 3 || named.Content[0].Value != "HasTrustedPrincipals" ||
		named.Content[2].Tag != "!Ref" || named.Content[2].Value != "AWS::NoValue" {
		t.Fatalf("the named principals' statement must be !If [HasTrustedPrincipals, statement, AWS::NoValue]: %+v", named)
	}
	then := named.Content[1]
	if p := get(then, "Principal", "AWS"); p == nil || p.Tag != "!Sub" || !strings.HasSuffix(p.Value, ":iam::${ManagementAccountId}:root") {
		t.Errorf("the named principals must be the management account's: %+v", p)
	}
	if arns := get(then, "Condition", "ArnLike", "aws:PrincipalArn"); arns == nil || arns.Tag != "!Split" || len(arns.Content) != 2 ||
		arns.Content[1].Tag != "!Ref" || arns.Content[1].Value != "TrustedPrincipalArns" {
		t.Errorf("the named principals must be matched with ArnLike on aws:PrincipalArn: %+v", arns)
	}
	for i, s := range []*yaml.Node{st[0], then} {
		c := get(s, "Condition", "StringEquals")
		if c == nil || c.Tag != "!If" || c.Content[0].Value != "HasExternalId" || get(c.Content[1], "sts:ExternalId") == nil {
			t.Errorf("statement %d: trust must require the ExternalId when one is set", i)
			continue
		}
		for _, branch := range c.Content[1:] {
			if org := get(branch, "aws:PrincipalOrgID"); org == nil || org.Tag != "!Ref" || org.Value != "OrganizationId" {
				t.Errorf("statement %d: trust must require the organization in every branch: %+v", i, branch)
			}
		}
	}
	for _, c := range []struct {
		value string
		ok    bool
	}{
		{"", true},
		{"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_OrgAudit_*", true},
		{"arn:aws:iam::111122223333:role/a,arn:aws:iam::111122223333:user/b", true},
		{"arn:aws:iam::111122223333:role/a, arn:aws:iam::111122223333:user/b", false},
		{"arn:aws:iam::111122223333:role/a,", false},
		{"AWSReservedSSO_OrgAudit_*", false},
	} {
		if got := tpl.allows(t, "TrustedPrincipalArns", c.value); got != c.ok {
			t.Errorf("TrustedPrincipalArns %q: accepted %v, want %v", c.value, got, c.ok)
		}
	}
}

func TestLinkSigningRoleOnlyReadsWorkbooksForTheExecutionRole(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	if got, want := tpl.allowedActions(t, "LinkSigningRole"), grants.LinkRoleActions(true); !slices.Equal(got, want) {
		t.Errorf("link-signing role allows %v; the link needs %v", got, want)
	}
	role := get(tpl.root, "Resources", "LinkSigningRole", "Properties")
	if get(role, "MaxSessionDuration").Value != "43200" {
		t.Error("the link-signing role must allow STS's longest session, 12 hours")
	}
	st := get(role, "AssumeRolePolicyDocument", "Statement").Content
	if p := get(st[0], "Principal", "AWS"); len(st) != 1 || p == nil || p.Tag != "!GetAtt" || p.Value != "ExecutionRole.Arn" {
		t.Errorf("the link-signing role must trust the execution role only: %+v", st)
	}
	env := get(tpl.root, "Resources", "AuditFunction", "Properties", "Environment", "Variables", "AUDIT_LINK_ROLE_ARN")
	if env == nil || env.Tag != "!GetAtt" || env.Value != "LinkSigningRole.Arn" {
		t.Error("the function must be told the link-signing role")
	}
}

// allows says whether a parameter's AllowedPattern accepts value. CloudFormation matches the whole value; the
// templates' patterns avoid what RE2 lacks (lookaround), so Go reads them as CloudFormation does.
func (tpl *template) allows(t *testing.T, param, value string) bool {
	t.Helper()
	p := get(tpl.root, "Parameters", param, "AllowedPattern")
	if p == nil {
		t.Fatalf("%s: parameter %s has no AllowedPattern", tpl.name, param)
	}
	re, err := regexp.Compile("^(?:" + p.Value + ")$")
	if err != nil {
		t.Fatalf("%s: %s's pattern does not compile: %v", tpl.name, param, err)
	}
	return re.MatchString(value)
}

func TestParametersRejectWhatWouldBreakTheDeployment(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	cases := []struct {
		param, value string
		ok           bool
	}{
		{"ReportPrefix", "orgaudit", true},
		{"ReportPrefix", "team.reports", true},
		{"ReportPrefix", ".hidden", true},
		{"ReportPrefix", "...", true},
		{"ReportPrefix", "v1..2", true},
		// "." puts the workbooks beside the granted prefix; ".." above it.
		{"ReportPrefix", ".", false},
		{"ReportPrefix", "..", false},
		{"ReportPrefix", "", false},
		{"ReportPrefix", "a/b", false},
		{"KmsKeyArn", "", true},
		{"KmsKeyArn", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", true},
		// A multi-Region key's id is mrk- and 32 hex digits.
		{"KmsKeyArn", "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab", true},
		{"KmsKeyArn", "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab", true},
		{"KmsKeyArn", "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234", false},
		{"KmsKeyArn", "arn:aws:kms:eu-west-1:111122223333:alias/orgaudit", false},
		{"KmsKeyArn", "1234abcd-12ab-34cd-56ef-1234567890ab", false},
	}
	for _, c := range cases {
		if got := tpl.allows(t, c.param, c.value); got != c.ok {
			t.Errorf("%s %q: accepted %v, want %v", c.param, c.value, got, c.ok)
		}
	}
}

// In the single mode the function reserves a concurrency of exactly 1, so that two runs never overlap; in the
// distributed mode as many as the map runs shards at once.
func TestFunctionNeverRunsTwiceAtOnce(t *testing.T) {
	t.Parallel()
	fn := get(load(t, "management.yaml").root, "Resources", "AuditFunction", "Properties")
	rc := get(fn, "ReservedConcurrentExecutions")
	if rc == nil || rc.Tag != "!If" || len(rc.Content) != 3 || rc.Content[0].Value != "Distributed" ||
		rc.Content[1].Tag != "!Ref" || rc.Content[1].Value != "MaxConcurrency" || rc.Content[2].Value != "1" {
		t.Errorf("reserved concurrency must be !If [Distributed, !Ref MaxConcurrency, 1], got %+v", rc)
	}
}

// statementsOf lists the statements of a role's inline policies, through both branches of any Fn::If.
func (tpl *template) statementsOf(logicalID string) []*yaml.Node {
	var out []*yaml.Node
	for _, policy := range get(tpl.root, "Resources", logicalID, "Properties", "Policies").Content {
		for _, st := range get(policy, "PolicyDocument", "Statement").Content {
			if st.Tag == "!If" {
				out = append(out, st.Content[1:]...)
				continue
			}
			out = append(out, st)
		}
	}
	return out
}

// grantedOn is the resource of the one statement of role that allows action, as written (e.g. "!GetAtt Queue.Arn").
func (tpl *template) grantedOn(t *testing.T, role, action string) string {
	t.Helper()
	var found []string
	for _, st := range tpl.statementsOf(role) {
		a := get(st, "Action")
		if a == nil || (a.Value != action && !slices.ContainsFunc(a.Content, func(n *yaml.Node) bool { return n.Value == action })) {
			continue
		}
		r := get(st, "Resource")
		found = append(found, r.Tag+" "+r.Value)
	}
	if len(found) != 1 {
		t.Fatalf("%s allows %s in %d statements (%v), want one", role, action, len(found), found)
	}
	return found[0]
}

// A run that fails after Lambda's retries lands in an encrypted queue, which the execution role may write to (Lambda
// sends with it), and whose depth raises an alarm on the digest topic.
func TestFailedRunsGoToAnEncryptedQueueThatAlarms(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	var configs []string
	res := get(tpl.root, "Resources")
	for i := 0; i < len(res.Content); i += 2 {
		if get(res.Content[i+1], "Type").Value == "AWS::Lambda::EventInvokeConfig" {
			configs = append(configs, res.Content[i].Value)
		}
	}
	if len(configs) != 1 {
		t.Fatalf("%d AWS::Lambda::EventInvokeConfig resources, want one", len(configs))
	}
	cfg := get(res, configs[0], "Properties")
	if fn := get(cfg, "FunctionName"); fn.Tag != "!Ref" || fn.Value != "AuditFunction" || get(cfg, "Qualifier").Value != "$LATEST" {
		t.Errorf("the invoke config must be the function's own ($LATEST): %+v", cfg)
	}
	dest := get(cfg, "DestinationConfig", "OnFailure", "Destination")
	if dest == nil || dest.Tag != "!GetAtt" || !strings.HasSuffix(dest.Value, ".Arn") {
		t.Fatalf("on-failure destination must be a queue's ARN, got %+v", dest)
	}
	queue, _, _ := strings.Cut(dest.Value, ".")
	if get(res, queue, "Type").Value != "AWS::SQS::Queue" {
		t.Fatalf("on-failure destination %s is no SQS queue", queue)
	}
	if q := get(res, queue, "Properties"); get(q, "SqsManagedSseEnabled").Value != "true" && get(q, "KmsMasterKeyId") == nil {
		t.Errorf("queue %s must be encrypted", queue)
	}
	if got, want := tpl.grantedOn(t, "ExecutionRole", "sqs:SendMessage"), "!GetAtt "+queue+".Arn"; got != want {
		t.Errorf("the execution role may send to %s; Lambda sends failed runs to %s", got, want)
	}
	if !slices.Equal(grants.LambdaDestinationActions, []string{"sqs:SendMessage"}) {
		t.Errorf("the destination's actions are %v", grants.LambdaDestinationActions)
	}
	alarmed := false
	for i := 0; i < len(res.Content); i += 2 {
		p := get(res.Content[i+1], "Properties")
		if get(res.Content[i+1], "Type").Value != "AWS::CloudWatch::Alarm" || get(p, "Namespace").Value != "AWS/SQS" {
			continue
		}
		dim := get(p, "Dimensions").Content[0]
		v := get(dim, "Value")
		actions := get(p, "AlarmActions").Content
		alarmed = get(p, "MetricName").Value == "ApproximateNumberOfMessagesVisible" && get(dim, "Name").Value == "QueueName" &&
			v.Tag == "!GetAtt" && v.Value == queue+".QueueName" && len(actions) == 1 && actions[0].Tag == "!Ref" && actions[0].Value == "DigestTopic"
	}
	if !alarmed {
		t.Errorf("no alarm on %s's depth publishes to the digest topic", queue)
	}
}

// The digest topic is encrypted with a key the template creates, whose policy lets CloudWatch publish the alarms to
// it (the AWS managed alias/aws/sns does not), and the execution role may use it to publish.
func TestDigestTopicIsEncryptedAndAlarmsCanStillPublish(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	key := get(tpl.root, "Resources", "DigestTopic", "Properties", "KmsMasterKeyId")
	if key == nil || key.Tag != "!GetAtt" || !strings.HasSuffix(key.Value, ".Arn") {
		t.Fatalf("the digest topic must be encrypted with a key the template creates, got %+v", key)
	}
	keyID, _, _ := strings.Cut(key.Value, ".")
	if get(tpl.root, "Resources", keyID, "Type").Value != "AWS::KMS::Key" {
		t.Fatalf("%s is no KMS key", keyID)
	}
	cloudwatch := false
	for _, st := range get(tpl.root, "Resources", keyID, "Properties", "KeyPolicy", "Statement").Content {
		if p := get(st, "Principal", "Service"); p == nil || p.Value != "cloudwatch.amazonaws.com" || get(st, "Effect").Value != "Allow" {
			continue
		}
		var actions []string
		for _, a := range get(st, "Action").Content {
			actions = append(actions, a.Value)
		}
		slices.Sort(actions)
		cloudwatch = slices.Equal(actions, []string{"kms:Decrypt", "kms:GenerateDataKey*"})
	}
	if !cloudwatch {
		t.Errorf("%s's policy must let cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*", keyID)
	}
	for _, action := range []string{"kms:Decrypt", "kms:GenerateDataKey"} {
		found := false
		for _, st := range tpl.statementsOf("ExecutionRole") {
			r := get(st, "Resource")
			if a := get(st, "Action"); a != nil && slices.ContainsFunc(a.Content, func(n *yaml.Node) bool { return n.Value == action }) &&
				r.Tag == "!GetAtt" && r.Value == keyID+".Arn" {
				found = true
			}
		}
		if !found {
			t.Errorf("the execution role must be allowed %s on %s to publish", action, keyID)
		}
	}
}

// TestEmailSubscriptionTakesEveryAlarm: the operator's subscription has no filter policy, since SNS matches none
// against a CloudWatch alarm, which carries no message attributes; owners' digests go to a topic of their own, which
// no alarm notifies. FilterPolicy {} is SNS's "no filter policy", and FilterPolicyScope stays, so a stack that had the
// old filter updates the confirmed subscription in place (CloudFormation cannot remove a scope: it sends null, which
// SNS refuses). What SNS delivers is TestOperatorGetsEveryAlarmAndTheOrganizationsDigest's (internal/audit).
func TestEmailSubscriptionTakesEveryAlarm(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	sub := get(tpl.root, "Resources", "DigestEmailSubscription")
	props := get(sub, "Properties")
	if topic := get(props, "TopicArn"); topic == nil || topic.Tag != "!Ref" || topic.Value != "DigestTopic" {
		t.Errorf("the email subscription is to %v, want the digest topic", topic)
	}
	if scope := get(props, "FilterPolicyScope"); scope == nil || scope.Value != "MessageAttributes" {
		t.Errorf("filter policy scope %v, want MessageAttributes kept (removing it fails the update of an existing stack)", scope)
	}
	var policy map[string]any
	if err := get(props, "FilterPolicy").Decode(&policy); err != nil || policy == nil || len(policy) != 0 {
		t.Errorf("filter policy %v (%v), want {}: no filter lets an alarm through", policy, err)
	}
	if dep := get(sub, "DependsOn"); dep == nil || dep.Value != "AuditFunction" {
		t.Errorf("the subscription's filter must come off after the function sends owners' digests to their topic: DependsOn %v", dep)
	}
	owners := get(tpl.root, "Resources", "OwnerDigestTopic", "Properties")
	if key := get(owners, "KmsMasterKeyId"); owners == nil || key == nil || key.Tag != "!GetAtt" || key.Value != "DigestTopicKey.Arn" {
		t.Errorf("the owners' topic must exist, encrypted with the digest topic's key: %v", owners)
	}
	env := get(tpl.root, "Resources", "AuditFunction", "Properties", "Environment", "Variables", "AUDIT_OWNER_TOPIC_ARN")
	if env == nil || env.Tag != "!Ref" || env.Value != "OwnerDigestTopic" {
		t.Errorf("AUDIT_OWNER_TOPIC_ARN %v, want !Ref OwnerDigestTopic", env)
	}
	if get(tpl.root, "Outputs", "OwnerDigestTopicArn") == nil {
		t.Error("output OwnerDigestTopicArn missing: owners subscribe there")
	}
	// Every alarm notifies the operator's topic, and none the owners'.
	res := get(tpl.root, "Resources")
	alarms := 0
	for i := 0; i < len(res.Content); i += 2 {
		if get(res.Content[i+1], "Type").Value != "AWS::CloudWatch::Alarm" {
			continue
		}
		alarms++
		actions := get(res.Content[i+1], "Properties", "AlarmActions")
		if actions == nil || !slices.ContainsFunc(actions.Content, func(n *yaml.Node) bool { return n.Tag == "!Ref" && n.Value == "DigestTopic" }) {
			t.Errorf("alarm %s does not notify the digest topic", res.Content[i].Value)
		}
		if actions != nil && slices.ContainsFunc(actions.Content, func(n *yaml.Node) bool { return n.Value == "OwnerDigestTopic" }) {
			t.Errorf("alarm %s notifies the owners' topic", res.Content[i].Value)
		}
	}
	if alarms == 0 {
		t.Error("no alarm")
	}
}

// TestUpdateNeedsNoNewParameter: an existing stack updated to this template with its previous parameter values must
// deploy, so every parameter added since the first release has a default; these are the ones it always required.
func TestUpdateNeedsNoNewParameter(t *testing.T) {
	t.Parallel()
	params := get(load(t, "management.yaml").root, "Parameters")
	var required []string
	for i := 0; i < len(params.Content); i += 2 {
		if get(params.Content[i+1], "Default") == nil {
			required = append(required, params.Content[i].Value)
		}
	}
	slices.Sort(required)
	if want := []string{"CodeBucket", "OrganizationId", "ScheduleTimezone"}; !slices.Equal(required, want) {
		t.Errorf("parameters without a default %v, want %v: a new one fails the update of every existing stack", required, want)
	}
}

// TestScheduleHasADeadLetterQueueThatAlarms: a start the schedule could not make (in the distributed mode,
// StartExecution refused or throttled past Scheduler's retries) goes to an encrypted standard queue the schedule's
// role may send to, and an alarm on that queue notifies the operator's topic. Without it a missed run is lost
// silently: no execution, so no execution alarm.
func TestScheduleHasADeadLetterQueueThatAlarms(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	dlq := get(tpl.root, "Resources", "DailySchedule", "Properties", "Target", "DeadLetterConfig", "Arn")
	if dlq == nil || dlq.Tag != "!GetAtt" || !strings.HasSuffix(dlq.Value, ".Arn") {
		t.Fatalf("the schedule's target has no dead-letter queue: %v", dlq)
	}
	queue := strings.TrimSuffix(dlq.Value, ".Arn")
	props := get(tpl.root, "Resources", queue, "Properties")
	if get(tpl.root, "Resources", queue, "Type").Value != "AWS::SQS::Queue" || get(props, "SqsManagedSseEnabled").Value != "true" || get(props, "FifoQueue") != nil {
		t.Errorf("%s must be an encrypted standard queue (Scheduler takes no FIFO queue)", queue)
	}
	if get(tpl.root, "Resources", queue, "Condition") != nil {
		t.Errorf("%s must exist in both modes", queue)
	}
	// The schedule's role sends to it: https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
	sends := false
	for _, st := range get(get(tpl.root, "Resources", "SchedulerRole", "Properties", "Policies").Content[0], "PolicyDocument", "Statement").Content {
		if a := get(st, "Action"); a != nil && a.Value == "sqs:SendMessage" && get(st, "Resource").Value == dlq.Value {
			sends = true
		}
	}
	if !sends {
		t.Errorf("the schedule's role may not send to %s", queue)
	}
	alarmed := false
	res := get(tpl.root, "Resources")
	for i := 0; i < len(res.Content); i += 2 {
		a := res.Content[i+1]
		if get(a, "Type").Value != "AWS::CloudWatch::Alarm" || get(a, "Condition") != nil {
			continue
		}
		p := get(a, "Properties")
		dims := get(p, "Dimensions")
		if get(p, "Namespace").Value != "AWS/SQS" || dims == nil || len(dims.Content) != 1 {
			continue
		}
		actions := get(p, "AlarmActions")
		if v := get(dims.Content[0], "Value"); v != nil && v.Tag == "!GetAtt" && v.Value == queue+".QueueName" && actions != nil &&
			slices.ContainsFunc(actions.Content, func(n *yaml.Node) bool { return n.Tag == "!Ref" && n.Value == "DigestTopic" }) &&
			get(p, "Threshold").Value == "1" {
			alarmed = true
		}
	}
	if !alarmed {
		t.Errorf("no alarm on %s's depth notifies the digest topic", queue)
	}
}

// TestLifecycleNeverExpiresSuppressions: the bucket's expiry rules cover every object the job writes (workbooks,
// delivery markers, history, a distributed run's parts), and none covers <prefix>/suppressions.yaml, which people
// write and which a rule on the whole prefix deleted after ReportRetentionDays, bringing back every suppressed finding.
func TestLifecycleNeverExpiresSuppressions(t *testing.T) {
	t.Parallel()
	const prefix = "orgaudit"
	rules := get(load(t, "management.yaml").root, "Resources", "ReportBucket", "Properties", "LifecycleConfiguration", "Rules")
	var expiring []string
	aborts := false
	for _, r := range rules.Content {
		if get(r, "Filter") != nil || get(r, "TagFilters") != nil {
			t.Fatalf("rule %s: only Prefix is read here", get(r, "Id").Value)
		}
		p := get(r, "Prefix")
		if p == nil || p.Tag != "!Sub" {
			t.Fatalf("rule %s: want a !Sub prefix under ${ReportPrefix}, got %v", get(r, "Id").Value, p)
		}
		resolved := strings.ReplaceAll(p.Value, "${ReportPrefix}", prefix)
		if get(r, "ExpirationInDays") != nil || get(r, "Expiration") != nil || get(r, "ExpirationDate") != nil {
			expiring = append(expiring, resolved)
		} else if get(r, "AbortIncompleteMultipartUpload") != nil && resolved == prefix+"/" {
			aborts = true
		}
	}
	covered := func(key string) bool {
		return slices.ContainsFunc(expiring, func(p string) bool { return strings.HasPrefix(key, p) })
	}
	if key := config.SuppressionsKey(prefix); covered(key) {
		t.Errorf("%s expires: rules %q", key, expiring)
	}
	day := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	run := distributed.Run{RunID: "r1", RunTime: day, Trigger: "scheduled"}
	for _, key := range []string{
		delivery.Key(prefix, day, "scheduled", "r1"),
		delivery.MarkerKey(prefix, day, "scheduled", "r1"),
		delivery.MessageMarkerKey(prefix, day, "scheduled", "r1", "owner/team-a"),
		prefix + "/" + history.Key(day, "scheduled", "r1"),
		distributed.ManifestKey(prefix, run),
		distributed.PartialKey(prefix, run, 3),
	} {
		if !covered(key) {
			t.Errorf("%s never expires: rules %q", key, expiring)
		}
	}
	if !aborts {
		t.Error("incomplete uploads under the prefix are never aborted")
	}
}

// TestPartialRunsAlarmWatchesTheMetricTheCodeWrites: the alarm on partial runs watches exactly the namespace, metric and
// dimension the function writes (audit.WritePartialMetric), for this stack's function, and notifies whom the stack's
// other alarms notify. The metric costs no permission: the execution role is never granted cloudwatch:PutMetricData.
func TestPartialRunsAlarmWatchesTheMetricTheCodeWrites(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	res := get(tpl.root, "Resources")
	var watching []string
	otherActions := map[string]bool{}
	for i := 0; i < len(res.Content); i += 2 {
		name, r := res.Content[i].Value, res.Content[i+1]
		if get(r, "Type").Value != "AWS::CloudWatch::Alarm" {
			continue
		}
		p := get(r, "Properties")
		if get(p, "Namespace").Value != audit.MetricNamespace {
			for _, a := range get(p, "AlarmActions").Content {
				otherActions[a.Tag+" "+a.Value] = true
			}
			continue
		}
		watching = append(watching, name)
		if got := get(p, "MetricName").Value; got != audit.MetricPartialRuns {
			t.Errorf("%s watches %s/%s; the function writes %s", name, audit.MetricNamespace, got, audit.MetricPartialRuns)
		}
		dims := get(p, "Dimensions").Content
		if len(dims) != 1 || get(dims[0], "Name").Value != audit.MetricDimension {
			t.Errorf("%s's dimensions %v; the function writes the one dimension %s", name, dims, audit.MetricDimension)
		} else if v := get(dims[0], "Value"); v.Tag != "!Ref" || get(res, v.Value, "Type").Value != "AWS::Lambda::Function" {
			t.Errorf("%s's %s is %s %s; the function writes its own name there (AWS_LAMBDA_FUNCTION_NAME)", name, audit.MetricDimension, v.Tag, v.Value)
		}
		// One partial run, the metric 1, must raise it; a complete run's 0 must not.
		threshold, op := get(p, "Threshold").Value, get(p, "ComparisonOperator").Value
		if threshold != "1" || op != "GreaterThanOrEqualToThreshold" || get(p, "TreatMissingData").Value != "notBreaching" {
			t.Errorf("%s: %s %s; one partial run (1) must alarm, a complete one (0) or none must not", name, op, threshold)
		}
		var actions []string
		for _, a := range get(p, "AlarmActions").Content {
			actions = append(actions, a.Tag+" "+a.Value)
		}
		if len(actions) == 0 {
			t.Errorf("%s notifies no one", name)
		}
		for _, a := range actions {
			if !otherActions[a] {
				t.Errorf("%s notifies %s; the stack's other alarms notify %v", name, a, otherActions)
			}
		}
	}
	if len(watching) != 1 {
		t.Errorf("%d alarms watch the namespace %s (%v), want one", len(watching), audit.MetricNamespace, watching)
	}
	for _, st := range tpl.statementsOf("ExecutionRole") {
		if a := get(st, "Action"); a != nil && (a.Value == "cloudwatch:PutMetricData" ||
			slices.ContainsFunc(a.Content, func(n *yaml.Node) bool { return n.Value == "cloudwatch:PutMetricData" })) {
			t.Error("the execution role is granted cloudwatch:PutMetricData; the metric is written to the log and needs none")
		}
	}
}

// The settings people change are parameters, each set on the function as the variable the code reads: empty (the
// default, but for DigestForm's full) leaves the code's own default, and a value reaches the settings as given.
func TestSettingsParametersReachTheFunction(t *testing.T) {
	t.Parallel()
	tpl := load(t, "management.yaml")
	vars := get(tpl.root, "Resources", "AuditFunction", "Properties", "Environment", "Variables")
	wired := map[string]string{"ExcludeAccounts": "AUDIT_EXCLUDE_ACCOUNTS", "LapsedDays": "AUDIT_LAPSED_DAYS", "DigestForm": "AUDIT_DIGEST",
		"OwnerTag": "AUDIT_OWNER_TAG", "OwnerDigests": "AUDIT_OWNER_DIGESTS", "AccessPortalUrl": "AUDIT_ACCESS_PORTAL_URL",
		"PortalRoleName": "AUDIT_PORTAL_ROLE_NAME"}
	defaults := map[string]string{}
	for param, env := range wired {
		if v := get(vars, env); v == nil || v.Tag != "!Ref" || v.Value != param {
			t.Errorf("%s must be set from the parameter %s: %+v", env, param, v)
		}
		d := get(tpl.root, "Parameters", param, "Default")
		if d == nil {
			t.Fatalf("parameter %s has no default: an update of an existing stack would need it", param)
		}
		defaults[env] = d.Value
	}
	settings := func(env map[string]string) config.Settings {
		t.Helper()
		s, err := config.FromEnv(func(name string) string { return env[name] })
		if err != nil {
			t.Fatalf("FromEnv(%v): %v", env, err)
		}
		return s
	}
	code, deployed := settings(nil), settings(defaults)
	if !slices.Equal(code.ExcludeAccounts, deployed.ExcludeAccounts) || code.LapsedDays != deployed.LapsedDays || code.Digest != deployed.Digest ||
		code.OwnerTagKey != deployed.OwnerTagKey || code.OwnerDigests != deployed.OwnerDigests || code.Portal != deployed.Portal {
		t.Errorf("the parameters' defaults change the function's defaults: %+v, want %+v", deployed, code)
	}
	given := settings(map[string]string{"AUDIT_EXCLUDE_ACCOUNTS": "111122223333,444455556666", "AUDIT_LAPSED_DAYS": "45", "AUDIT_DIGEST": "changes",
		"AUDIT_OWNER_TAG": "team", "AUDIT_OWNER_DIGESTS": "0", "AUDIT_ACCESS_PORTAL_URL": "https://d-1234567890.awsapps.com/start",
		"AUDIT_PORTAL_ROLE_NAME": "AuditReadOnly"})
	if !slices.Equal(given.ExcludeAccounts, []string{"111122223333", "444455556666"}) || given.LapsedDays != 45 || given.Digest != config.DigestChanges ||
		given.OwnerTagKey != "team" || given.OwnerDigests != 0 ||
		given.Portal != (config.Portal{AccessPortalURL: "https://d-1234567890.awsapps.com/start", PortalRoleName: "AuditReadOnly"}) || given.Validate() != nil {
		t.Errorf("settings from the parameters' values: %+v", given)
	}
	for _, c := range []struct {
		param, value string
		ok           bool
	}{
		{"ExcludeAccounts", "111122223333,444455556666", true},
		{"ExcludeAccounts", "111122223333, 444455556666", false},
		{"ExcludeAccounts", "11112222333", false},
		{"LapsedDays", "1", true},
		{"LapsedDays", "366", true},
		{"LapsedDays", "0", false},
		{"LapsedDays", "367", false},
		{"LapsedDays", "030", false},
		{"OwnerTag", "orgaudit:owner", true},
		{"OwnerTag", "none", true},
		{"OwnerTag", "cost-center/team", true},
		{"OwnerTag", "a,b", false},
		{"OwnerDigests", "0", true},
		{"OwnerDigests", "1000", true},
		{"OwnerDigests", "1001", false},
		{"OwnerDigests", "-1", false},
		{"AccessPortalUrl", "https://d-1234567890.awsapps.com/start", true},
		{"AccessPortalUrl", "https://ssoins-0123456789abcdef.portal.eu-west-1.app.aws", true},
		{"AccessPortalUrl", "http://d-1234567890.awsapps.com/start", false},
		{"AccessPortalUrl", "https://d-1.awsapps.com.evil.example/start", false},
		{"AccessPortalUrl", "https://d-1234567890.awsapps.com/start?x=1", false},
		{"PortalRoleName", "AuditReadOnly", true},
		{"PortalRoleName", "Audit&x", false},
		{"PortalRoleName", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	} {
		if got := tpl.allows(t, c.param, c.value); got != c.ok {
			t.Errorf("%s %q: accepted %v, want %v", c.param, c.value, got, c.ok)
		}
	}
	if allowed := get(tpl.root, "Parameters", "DigestForm", "AllowedValues"); allowed == nil || len(allowed.Content) != 2 ||
		allowed.Content[0].Value != config.DigestFull || allowed.Content[1].Value != config.DigestChanges {
		t.Errorf("DigestForm must allow exactly the code's forms: %+v", allowed)
	}
}
