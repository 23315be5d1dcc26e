package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/mototest"
	"github.com/orgaudit/orgaudit/internal/report"
)

// motoManagementAccount is the account moto answers as for credentials it did not issue.
const motoManagementAccount = "123456789012"

// TestContractWithMoto runs the job with Organizations, STS, CloudFormation, SNS and S3 answered by moto, an
// independent implementation, and Service Catalog, EC2 and RDS by our simulator, which identifies moto's assumed-role
// credentials through moto's own STS. If our client and our simulator shared a misreading of a wire shape, moto
// would disagree here.
func TestContractWithMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	motoURL := mototest.Start(t)
	motoEndpoints := mototest.ServiceEndpoints{"Organizations": motoURL, "STS": motoURL, "CloudFormation": motoURL, "SNS": motoURL, "S3": motoURL, "SQS": motoURL}
	base := aws.NewConfig()
	base.Region = "us-east-1"
	base.Credentials = mototest.Credentials("AKIAMOTOMANAGEMENT01")
	mgmt := mototest.WithServiceEndpoints(*base, motoEndpoints)

	// The organization, its accounts, a topic with a queue to read it back, a bucket: all in moto.
	org := organizations.NewFromConfig(mgmt)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(fmt.Sprintf("member-%d", i)), Email: aws.String(fmt.Sprintf("m%d@example.com", i))}); err != nil {
			t.Fatal(err)
		}
	}
	listed, err := org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, a := range listed.Accounts {
		if aws.ToString(a.Id) != motoManagementAccount {
			members = append(members, aws.ToString(a.Id))
		}
	}
	sort.Strings(members)
	if len(members) != 3 {
		t.Fatalf("moto accounts %v", members)
	}
	topic, err := sns.NewFromConfig(mgmt).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orgaudit-digest")})
	if err != nil {
		t.Fatal(err)
	}
	queue := subscribeQueue(t, mgmt, aws.ToString(topic.TopicArn))
	const bucket = "orgaudit-reports-moto"
	if _, err := s3.NewFromConfig(mgmt, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// Healthy stacks in each member account, created through the role moto made there: none may be reported.
	for _, id := range members {
		member := assumeInMoto(t, mgmt, id)
		_, err := cloudformation.NewFromConfig(member).CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String("baseline-" + id),
			TemplateBody: aws.String(`{"Resources":{"Handle":{"Type":"AWS::CloudFormation::WaitConditionHandle"}}}`)})
		if err != nil {
			t.Fatalf("create stack in %s: %v", id, err)
		}
	}

	// The simulator holds the same accounts' Service Catalog products and reservations.
	simOrg := &awssim.Organization{ID: "o-moto", ManagementAccountID: motoManagementAccount, PageSize: 2}
	day := func(n int) time.Time { return demoAsOf.AddDate(0, 0, n).Add(12 * time.Hour) }
	for _, id := range append([]string{motoManagementAccount}, members...) {
		simOrg.Accounts = append(simOrg.Accounts, &awssim.Account{ID: id, State: "ACTIVE", Regions: map[string]*awssim.Region{"us-east-1": {
			ReservedInstances: []awssim.ReservedInstance{{ID: "ri-" + id, InstanceType: "m6i.large", State: "active", Count: 1, Scope: "Region",
				ProductDescription: "Linux/UNIX", Tenancy: "default", Start: day(-362), End: day(3), Duration: 31536000}},
			ReservedDBInstances: []awssim.ReservedDBInstance{{ID: "rdb-" + id, Class: "db.r6g.large", State: "active", Count: 1, Start: day(20).Add(-31536000 * time.Second), Duration: 31536000}},
		}}})
	}
	// IAM enforced there too: moto's management identity acts as the execution role, the role moto creates in its
	// member accounts as the member role.
	d := demoDeployment(simOrg)
	d.Region, d.Bucket, d.TopicARN = "us-east-1", bucket, aws.ToString(topic.TopicArn)
	// The job runs without an owner topic here (owners' digests share the digest topic, as the CLI's default): the
	// template's owners' topic is the same moto topic, so the policy it grants is the one the job needs.
	d.OwnerTopicARN = d.TopicARN
	roles, err := awssim.LoadTemplateRoles(simOrg, d)
	if err != nil {
		t.Fatal(err)
	}
	d.Aliases = map[string]string{"OrganizationAccountAccessRole": awssim.DemoRoleName}
	for _, r := range roles {
		if r.LogicalID == "ExecutionRole" {
			d.Aliases["arn:aws:sts::"+motoManagementAccount+":user/moto"] = r.Name
		}
	}
	sim := startSimWith(t, simOrg, d)
	sim.SetKeyResolver(func(ctx context.Context, key, token string) (string, string, error) {
		cfg := mgmt.Copy()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(key, "unused-by-moto", token)
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", "", err
		}
		return aws.ToString(id.Account), aws.ToString(id.Arn), nil
	})
	// What moto answers goes to moto, every other service (every check's but CloudFormation's) to the simulator, so a
	// check added later is audited here without this test naming its service.
	cfg := base.Copy()
	cfg.ConfigSources = append([]interface{}{splitEndpoints{moto: motoEndpoints, rest: sim.URL()}}, cfg.ConfigSources...)

	s := config.Defaults()
	s.RoleName = "OrganizationAccountAccessRole"
	s.Regions = []string{"us-east-1"}
	s.Bucket, s.TopicARN, s.S3PathStyle = bucket, aws.ToString(topic.TopicArn), true
	s.AsOf = demoAsOf
	// Suppressions where the Lambda looks for them: absent yesterday (listed, not found: no warning), present today.
	s.Suppressions, s.SuppressionsIfExists = "s3://"+bucket+"/"+config.SuppressionsKey(s.Prefix), true
	// Yesterday's run stores its state in moto's S3 (no digest: the queue is for today's); today's reads it back with
	// moto's ListObjectsV2 (prefix, start-after) and ranged GETs.
	yesterday := s
	yesterday.TopicARN, yesterday.RunTime = "", demoAsOf.Add(-16*time.Hour)
	first, err := audit.Run(ctx, cfg, yesterday, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if first.Result.NoPrevious == "" || len(first.Result.Warnings) != 0 {
		t.Fatalf("first run: no_previous %q warnings %q", first.Result.NoPrevious, first.Result.Warnings)
	}
	motoS3 := s3.NewFromConfig(mgmt, func(o *s3.Options) { o.UsePathStyle = true })
	rules := "suppressions:\n  - check: ec2-reserved-instances\n    account_id: \"" + members[0] + "\"\n    resource_id: ri-*\n" +
		"    reason: renewal approved\n    owner: finops@example.com\n    expires: 2026-12-31\n"
	if _, err := motoS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(config.SuppressionsKey(s.Prefix)), Body: strings.NewReader(rules)}); err != nil {
		t.Fatal(err)
	}
	s.RunTime = demoAsOf.Add(8 * time.Hour)
	out, err := audit.Run(ctx, cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Result
	if r.PreviousRunID != first.Result.RunID || r.Changes == nil || r.Changes.New != 0 || r.Changes.Ongoing != len(r.Findings) ||
		len(r.Trend) != 2 || len(r.Suppressed) != 1 || r.Suppressed[0].AccountID != members[0] || len(r.Warnings) != 0 {
		t.Fatalf("memory in moto: previous %q (want %q) no_previous %q changes %+v trend %d suppressed %+v warnings %q",
			r.PreviousRunID, first.Result.RunID, r.NoPrevious, r.Changes, len(r.Trend), r.Suppressed, r.Warnings)
	}
	stored, err := motoS3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(s.Prefix + "/history/")})
	if err != nil || len(stored.Contents) != 2 {
		t.Fatalf("history in moto: %+v %v", stored, err)
	}

	// Every moto account audited, each through its own identity, and the simulator's part authorized by the templates.
	if den := sim.Denials(); len(den) != 0 || len(sim.Granted()) == 0 {
		t.Errorf("denied %+v, granted %d", den, len(sim.Granted()))
	}
	accounts := 1 + len(members)
	if r.Accounts.Total != accounts || r.Accounts.Audited != accounts || len(r.Errors) != 0 || r.Coverage.Cells != accounts*len(s.Regions)*len(checks.All()) {
		t.Fatalf("accounts %+v coverage %+v errors %+v", r.Accounts, r.Coverage, r.Errors)
	}
	found := map[string]bool{}
	all := append([]checks.Finding{}, r.Findings...)
	for _, f := range r.Suppressed {
		all = append(all, f.Finding)
	}
	for _, f := range all {
		if f.Check == "cloudformation-failed-stacks" {
			t.Errorf("healthy moto stack reported: %+v", f)
		}
		found[f.Check+"/"+f.ResourceID] = f.AccountID == strings.TrimPrefix(strings.TrimPrefix(f.ResourceID, "ri-"), "rdb-")
	}
	for _, id := range append([]string{motoManagementAccount}, members...) {
		if !found["ec2-reserved-instances/ri-"+id] || !found["rds-reserved-instances/rdb-"+id] {
			t.Errorf("account %s: reservations not found under the right account: %v", id, found)
		}
	}

	// The workbook is in moto's S3, encrypted, and its link downloads it.
	head, err := s3.NewFromConfig(mgmt, func(o *s3.Options) { o.UsePathStyle = true }).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(r.Report.Key)})
	if err != nil || head.ServerSideEncryption != "AES256" || aws.ToInt64(head.ContentLength) != int64(len(out.Workbook)) {
		t.Fatalf("head object: %+v %v", head, err)
	}
	resp, err := http.Get(r.Report.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, out.Workbook) {
		t.Errorf("presigned GET from moto: %d, %d bytes", resp.StatusCode, len(body))
	}

	// The digest arrived through moto's SNS.
	if !r.Published || r.MessageID == "" {
		t.Fatalf("not published: %+v", r)
	}
	// The queue is an sqs subscription, so it received the sqs body of the json message: the Notice.
	msg := receiveOne(t, mgmt, queue)
	var notice report.Notice
	if err := json.Unmarshal([]byte(msg.Message), &notice); err != nil {
		t.Fatalf("the sqs body is not a notice: %v\n%s", err, msg.Message)
	}
	if msg.Subject != out.Subject || msg.MessageId != r.MessageID || notice.Schema != report.NoticeSchema || notice.RunID != r.RunID ||
		notice.Audience != report.AudienceOrganization || notice.Accounts != r.Accounts || notice.Coverage != r.Coverage {
		t.Errorf("SNS delivered subject %q id %s notice %+v, want %q id %s", msg.Subject, msg.MessageId, notice, out.Subject, r.MessageID)
	}
}

func assumeInMoto(t *testing.T, mgmt aws.Config, account string) aws.Config {
	t.Helper()
	out, err := sts.NewFromConfig(mgmt).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("setup")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := mgmt.Copy()
	c := out.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	return cfg
}

// subscribeQueue subscribes a queue to the organization's digest: the filter policy leaves out the owners' digests,
// which every account's owner (here its OU path, Root) also gets.
func subscribeQueue(t *testing.T, cfg aws.Config, topicARN string) string {
	t.Helper()
	ctx := context.Background()
	q := sqs.NewFromConfig(cfg)
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("digest-reader")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: created.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"]),
		Attributes: map[string]string{"FilterPolicy": `{"audience":["organization"]}`}}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(created.QueueUrl)
}

// snsEnvelope is the JSON SNS wraps a message in when it delivers to SQS.
type snsEnvelope struct {
	Type, MessageId, TopicArn, Subject, Message string
}

func receiveOne(t *testing.T, cfg aws.Config, queueURL string) snsEnvelope {
	t.Helper()
	got, err := sqs.NewFromConfig(cfg).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 1 {
		t.Fatalf("%d messages on the queue, want 1", len(got.Messages))
	}
	var env snsEnvelope
	if err := json.Unmarshal([]byte(aws.ToString(got.Messages[0].Body)), &env); err != nil {
		t.Fatal(err)
	}
	return env
}

// splitEndpoints sends the services moto names to moto and every other one to rest.
type splitEndpoints struct {
	moto mototest.ServiceEndpoints
	rest string
}

func (e splitEndpoints) GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error) {
	if u, ok, err := e.moto.GetServiceBaseEndpoint(ctx, sdkID); ok || err != nil {
		return u, ok, err
	}
	return e.rest, true, nil
}
