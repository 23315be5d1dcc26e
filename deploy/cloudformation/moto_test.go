package cloudformation_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/orgaudit/orgaudit/deploy/cloudformation"
	"github.com/orgaudit/orgaudit/internal/mototest"
)

// motoSkips are the resource types of the templates that moto 5.2.1's CloudFormation does not implement: it skips
// them with a warning, lists each as a blank resource, and creates the rest (moto/cloudformation/parsing.py resolves
// types through the models that declare cloudformation_type; these have none). Nothing else in the templates names
// them, so the stack completes. cfn-lint checks their properties against AWS's schemas instead.
var motoSkips = []string{
	"AWS::CloudWatch::Alarm",
	"AWS::Events::EventBusPolicy",
	"AWS::Lambda::EventInvokeConfig",
	"AWS::S3::BucketPolicy",
	"AWS::SNS::Subscription",
	"AWS::SQS::QueuePolicy",
	"AWS::Scheduler::Schedule",
}

// TestTemplatesDeployOnMoto creates both stacks with real parameters on moto_server, an independent implementation of
// CloudFormation, through the SDK's client, and checks what they created: every resource of a type moto implements,
// the outputs, the encrypted topic and queue, the bucket's encryption with a multi-Region key.
func TestTemplatesDeployOnMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	endpoint := mototest.Start(t)
	cfg := mototest.Config(endpoint, "eu-west-1", "AKIAMOTODEPLOY000001")
	const account = mototest.DefaultAccount

	// The code bucket holds a Lambda zip, as deploy/package uploads it.
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	const codeBucket = "orgaudit-artifacts"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(codeBucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(codeBucket), Key: aws.String("orgaudit/orgaudit-lambda.zip"),
		Body: bytes.NewReader(lambdaZip(t))}); err != nil {
		t.Fatal(err)
	}
	const ssoPattern = "arn:aws:iam::" + account + ":role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_OrgAudit_*"
	const kmsKey = "arn:aws:kms:eu-west-1:" + account + ":key/mrk-1234abcd12ab34cd56ef1234567890ab"
	client := cfn.NewFromConfig(cfg)
	management := createStack(t, client, "orgaudit", cloudformation.Management, map[string]string{
		"CodeBucket": codeBucket, "ScheduleTimezone": "Europe/Berlin", "OrganizationId": "o-a1b2c3d4e5",
		"NotificationEmail": "platform-team@example.com", "ExternalId": "orgaudit-7f3a9c", "ReportPrefix": "team.reports",
		"KmsKeyArn": kmsKey, "ExcludeAccounts": "111122223333,444455556666", "LapsedDays": "45", "DigestForm": "changes",
		"OwnerTag": "cost-center", "OwnerDigests": "0",
	})
	// The member forwards its failed stacks to the management stack's alert bus (here in the same account: moto
	// answers as one account).
	member := createStack(t, client, "orgaudit-member-role", cloudformation.MemberRole, map[string]string{
		"ManagementAccountId": account, "OrganizationId": "o-a1b2c3d4e5", "ExternalId": "orgaudit-7f3a9c",
		"TrustedPrincipalArns": ssoPattern + ",arn:aws:iam::" + account + ":role/orgaudit-admin",
		"AlertBusArn":          management.outputs["AlertBusArn"],
	})
	// The StackSet's instance in a second region, whose roles the first region created: only the rule.
	memberElsewhere := createStack(t, client, "orgaudit-member-role-second-region", cloudformation.MemberRole, map[string]string{
		"ManagementAccountId": account, "OrganizationId": "o-a1b2c3d4e5", "AlertBusArn": management.outputs["AlertBusArn"],
		"RolesRegion": "us-east-1",
	})

	checkCreated(t, management, "management.yaml", map[string]bool{"Distributed": false, "SendsAlerts": true})
	checkCreated(t, member, "member-role.yaml", map[string]bool{"CreatesRoles": true, "ForwardsAlerts": true, "CreatesForwardingRole": true})
	checkCreated(t, memberElsewhere, "member-role.yaml", map[string]bool{"CreatesRoles": false, "ForwardsAlerts": true, "CreatesForwardingRole": false})
	checkAlertsDeployed(t, cfg, endpoint, management, member, memberElsewhere)

	// What the resources hold, read back from the services.
	env := functionConfiguration(t, cfg, endpoint, management.outputs["FunctionName"]).Environment.Variables
	for k, want := range map[string]string{"AUDIT_EXCLUDE_ACCOUNTS": "111122223333,444455556666", "AUDIT_LAPSED_DAYS": "45", "AUDIT_DIGEST": "changes",
		"AUDIT_OWNER_TAG": "cost-center", "AUDIT_OWNER_DIGESTS": "0"} {
		// fmt.Sprint: moto gives a Ref of a Number parameter as a number (functionConfiguration); these are Strings.
		if got := fmt.Sprint(env[k]); got != want {
			t.Errorf("function variable %s = %q, want %q", k, got, want)
		}
	}
	topic, err := sns.NewFromConfig(cfg).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(management.outputs["DigestTopicArn"])})
	if err != nil {
		t.Fatal(err)
	}
	if got := topic.Attributes["KmsMasterKeyId"]; got == "" || got != management.outputs["DigestTopicKeyArn"] {
		t.Errorf("digest topic encrypted with %q, want the stack's key %q", got, management.outputs["DigestTopicKeyArn"])
	}
	owners, err := sns.NewFromConfig(cfg).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(management.outputs["OwnerDigestTopicArn"])})
	if err != nil {
		t.Fatal(err)
	}
	if got := owners.Attributes["KmsMasterKeyId"]; got != management.outputs["DigestTopicKeyArn"] || management.outputs["OwnerDigestTopicArn"] == management.outputs["DigestTopicArn"] {
		t.Errorf("owners' topic %s encrypted with %q, want a topic of its own with the stack's key", management.outputs["OwnerDigestTopicArn"], got)
	}
	for _, out := range []string{"FailedRunsQueueUrl", "MissedRunsQueueUrl"} {
		queue, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(management.outputs[out]),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if queue.Attributes["SqsManagedSseEnabled"] != "true" || queue.Attributes["MessageRetentionPeriod"] != "1209600" || queue.Attributes["FifoQueue"] == "true" {
			t.Errorf("%s queue attributes %v", out, queue.Attributes)
		}
	}
	// moto's CloudFormation creates the bucket without its LifecycleConfiguration (GetBucketLifecycleConfiguration
	// answers NoSuchLifecycleConfiguration), so the expiry rules are TestLifecycleNeverExpiresSuppressions's.
	enc, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(management.outputs["ReportBucketName"])})
	if err != nil {
		t.Fatal(err)
	}
	if rule := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault; rule.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms ||
		aws.ToString(rule.KMSMasterKeyID) != kmsKey {
		t.Errorf("report bucket encryption %+v", rule)
	}
	if arn := member.outputs["RoleArn"]; arn != "arn:aws:iam::"+account+":role/OrgAuditReadOnly" {
		t.Errorf("member role %s", arn)
	}
	// The trust as created: the function's role, and the named principals matched one by one.
	role, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("OrgAuditReadOnly")})
	if err != nil {
		t.Fatal(err)
	}
	trust, err := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Principal struct{ AWS string }
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(trust), &doc); err != nil {
		t.Fatalf("member role trust %s: %v", trust, err)
	}
	if len(doc.Statement) != 2 || doc.Statement[1].Principal.AWS != "arn:aws:iam::"+account+":root" ||
		fmt.Sprint(doc.Statement[1].Condition["ArnLike"]["aws:PrincipalArn"]) != "["+ssoPattern+" arn:aws:iam::"+account+":role/orgaudit-admin]" ||
		doc.Statement[1].Condition["StringEquals"]["sts:ExternalId"] != "orgaudit-7f3a9c" || doc.Statement[1].Condition["StringEquals"]["aws:PrincipalOrgID"] != "o-a1b2c3d4e5" {
		t.Errorf("member role trust %s", trust)
	}

	// The other branch of every condition: no email, no KMS key (SSE-S3), so the kms statements fall away; no alerts.
	plain := createStack(t, client, "orgaudit-plain", cloudformation.Management, map[string]string{
		"CodeBucket": codeBucket, "ScheduleTimezone": "UTC", "OrganizationId": "o-a1b2c3d4e5",
		"FunctionName": "orgaudit-plain", "ExecutionRoleName": "orgaudit-plain", "Alerts": "false",
	})
	checkCreated(t, plain, "management.yaml", map[string]bool{"Distributed": false, "SendsAlerts": false})
	enc, err = s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(plain.outputs["ReportBucketName"])})
	if err != nil {
		t.Fatal(err)
	}
	if rule := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault; rule.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Errorf("report bucket without a key: encryption %+v", rule)
	}

	// The distributed mode: the state machine, as the function's name, running as its own role, with the deployment's
	// MaxConcurrency in its definition; with on-demand rates, the other branch of OnDemandRates.
	dist := createStack(t, client, "orgaudit-distributed", cloudformation.Management, map[string]string{
		"CodeBucket": codeBucket, "ScheduleTimezone": "UTC", "OrganizationId": "o-a1b2c3d4e5", "KmsKeyArn": kmsKey,
		"FunctionName": "orgaudit-dist", "ExecutionRoleName": "orgaudit-dist", "Mode": "distributed", "MaxConcurrency": "40", "ShardSize": "25",
		"OnDemandRates": "true",
	})
	checkCreated(t, dist, "management.yaml", map[string]bool{"Distributed": true, "SendsAlerts": true})
	sm, err := sfn.NewFromConfig(cfg).DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(dist.outputs["StateMachineArn"])})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(sm.Name) != "orgaudit-dist" || !strings.HasPrefix(aws.ToString(sm.RoleArn), "arn:aws:iam::"+account+":role/orgaudit-distributed-StateMachineRole") {
		t.Errorf("state machine %s runs as %s", aws.ToString(sm.Name), aws.ToString(sm.RoleArn))
	}
	var def struct {
		States map[string]struct {
			MaxConcurrency int
			Parameters     struct{ FunctionName string }
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(sm.Definition)), &def); err != nil {
		t.Fatalf("the deployed definition: %v", err)
	}
	if def.States["Shards"].MaxConcurrency != 40 || def.States["Plan"].Parameters.FunctionName != "arn:aws:lambda:eu-west-1:"+account+":function:orgaudit-dist" {
		t.Errorf("deployed definition %s", aws.ToString(sm.Definition))
	}
}

// checkCreated requires the stack to hold every resource of its template that moto implements and the deployment's
// conditions create, and every output they declare. moto lists each resource it skipped, and each its condition left
// out, as a blank entry. conditions gives the value of each condition a resource or output names.
func checkCreated(t *testing.T, stack *deployed, file string, conditions map[string]bool) {
	t.Helper()
	tpl := load(t, file)
	// A resource moto skips is a blank entry whether its condition creates it or not, so only the others' conditions
	// must be given.
	created := func(n *yaml.Node) bool {
		c := get(n, "Condition")
		if c == nil {
			return true
		}
		v, ok := conditions[c.Value]
		if typ := get(n, "Type"); !ok && (typ == nil || !slices.Contains(motoSkips, typ.Value)) {
			t.Fatalf("%s: the test gives no value for condition %s", file, c.Value)
		}
		return v || !ok
	}
	res := get(tpl.root, "Resources")
	var want, skipped []string
	left := 0
	for i := 0; i < len(res.Content); i += 2 {
		id, typ := res.Content[i].Value, get(res.Content[i+1], "Type").Value
		switch {
		case !created(res.Content[i+1]):
			left++
		case slices.Contains(motoSkips, typ):
			skipped = append(skipped, id+" ("+typ+")")
		default:
			want = append(want, id)
		}
	}
	sort.Strings(want)
	if got, blank := stack.resourceIDs(); !slices.Equal(got, want) || blank != len(skipped)+left {
		t.Errorf("%s on moto created %v and left %d blank, want %v and %d skipped + %d left out by conditions", file, got, blank, want, len(skipped), left)
	}
	outs := get(tpl.root, "Outputs")
	for i := 0; i < len(outs.Content); i += 2 {
		out := outs.Content[i].Value
		if _, ok := stack.outputs[out]; ok != created(outs.Content[i+1]) || (ok && stack.outputs[out] == "") {
			t.Errorf("%s: output %s present %v, want %v: %v", file, out, ok, created(outs.Content[i+1]), stack.outputs)
		}
	}
	if len(skipped) == 0 {
		skipped = []string{"none"}
	}
	t.Logf("%s (%v): CREATE_COMPLETE on moto with %d resources; not implemented by moto, so not created: %s",
		file, conditions, len(want), strings.Join(skipped, ", "))
}

type deployed struct {
	outputs   map[string]string
	resources []cfntypes.StackResourceSummary
}

// resourceIDs lists the logical ids of the resources moto created, and counts the blank entries it lists for each
// resource it skipped.
func (d *deployed) resourceIDs() (created []string, blank int) {
	for _, r := range d.resources {
		if id := aws.ToString(r.LogicalResourceId); id != "" {
			created = append(created, id)
		} else {
			blank++
		}
	}
	sort.Strings(created)
	return created, blank
}

// createStack creates a stack with the named IAM capability, as the README's commands do, and requires
// CREATE_COMPLETE.
func createStack(t *testing.T, client *cfn.Client, name string, body []byte, params map[string]string) *deployed {
	t.Helper()
	ctx := context.Background()
	in := &cfn.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(string(body)),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}}
	for k, v := range params {
		in.Parameters = append(in.Parameters, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	if _, err := client.CreateStack(ctx, in); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	w := cfn.NewStackCreateCompleteWaiter(client, func(o *cfn.StackCreateCompleteWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	out, err := w.WaitForOutput(ctx, &cfn.DescribeStacksInput{StackName: aws.String(name)}, time.Minute)
	if err != nil {
		t.Fatalf("%s did not reach CREATE_COMPLETE: %v", name, err)
	}
	d := &deployed{outputs: map[string]string{}}
	for _, o := range out.Stacks[0].Outputs {
		d.outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	pages := cfn.NewListStackResourcesPaginator(client, &cfn.ListStackResourcesInput{StackName: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.StackResourceSummaries {
			if r.ResourceStatus != cfntypes.ResourceStatusCreateComplete {
				t.Errorf("%s: %s is %s", name, aws.ToString(r.LogicalResourceId), r.ResourceStatus)
			}
		}
		d.resources = append(d.resources, page.StackResourceSummaries...)
	}
	return d
}

// lambdaZip is a Lambda zip as deploy/package lays it out: one executable named bootstrap. moto stores it and never
// runs it here.
func lambdaZip(t *testing.T) []byte {
	t.Helper()
	return lambdaZipOf(t, "#!/bin/sh\n")
}

// lambdaZipOf is lambdaZip whose bootstrap is script: two scripts, two builds.
func lambdaZipOf(t *testing.T, script string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	f, err := z.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, ExternalAttrs: 0o755 << 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(script)); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
