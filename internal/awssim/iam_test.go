package awssim_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/memorydb"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/servicecatalog"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	templates "github.com/orgaudit/orgaudit/deploy/cloudformation"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

func enforcedDemo(t *testing.T) *awssim.Server {
	t.Helper()
	org := awssim.Demo(time.Now())
	return testkit.StartEnforced(t, org, testkit.DemoDeployment(org))
}

func apiError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want an AWS error, got %v", err)
	}
	return apiErr
}

// TestRefusalsInEachServicesOwnShape: a principal no template role covers (the account the StackSet never reached)
// is refused everything, each service answering as AWS does, in IAM's words.
func TestRefusalsInEachServicesOwnShape(t *testing.T) {
	t.Parallel()
	sim := enforcedDemo(t)
	cfg := sim.Config(awssim.DemoMissingRole, "us-east-1")
	ctx := context.Background()
	calls := map[string]struct {
		call   func() error
		code   string
		action string
	}{
		"organizations": {func() error { _, err := organizations.NewFromConfig(cfg).ListAccounts(ctx, nil); return err }, "AccessDeniedException", "organizations:ListAccounts"},
		"servicecatalog": {func() error {
			_, err := servicecatalog.NewFromConfig(cfg).SearchProvisionedProducts(ctx, &servicecatalog.SearchProvisionedProductsInput{})
			return err
		}, "AccessDeniedException", "servicecatalog:SearchProvisionedProducts"},
		"cloudformation": {func() error { _, err := cloudformation.NewFromConfig(cfg).ListStacks(ctx, nil); return err }, "AccessDenied", "cloudformation:ListStacks"},
		"rds":            {func() error { _, err := rds.NewFromConfig(cfg).DescribeReservedDBInstances(ctx, nil); return err }, "AccessDenied", "rds:DescribeReservedDBInstances"},
		"ec2":            {func() error { _, err := ec2.NewFromConfig(cfg).DescribeReservedInstances(ctx, nil); return err }, "UnauthorizedOperation", "ec2:DescribeReservedInstances"},
		"memorydb":       {func() error { _, err := memorydb.NewFromConfig(cfg).DescribeReservedNodes(ctx, nil); return err }, "AccessDeniedException", "memorydb:DescribeReservedNodes"},
		"sns": {func() error {
			_, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String(awssim.DemoTopicARN()), Message: aws.String("x")})
			return err
		}, "AuthorizationError", "sns:Publish"},
		"s3": {func() error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(awssim.DemoBucket), Key: aws.String("orgaudit/x.xlsx"), Body: strings.NewReader("x")})
			return err
		}, "AccessDenied", "s3:PutObject"},
	}
	for name, c := range calls {
		e := apiError(t, c.call())
		want := "is not authorized to perform: " + c.action + " on resource: "
		if e.ErrorCode() != c.code || !strings.Contains(e.ErrorMessage(), want) || !strings.Contains(e.ErrorMessage(), "because no identity-based policy allows the "+c.action+" action") {
			t.Errorf("%s: %s %q", name, e.ErrorCode(), e.ErrorMessage())
		}
	}
	if n := len(sim.Denials()); n != len(calls) {
		t.Errorf("%d denials recorded for %d refused calls", n, len(calls))
	}
}

// TestAssumeRoleHonoursTrustAndTheOrganization: the member role's trust wants the ExternalId; the execution role may
// assume roles only inside the organization (aws:ResourceOrgID).
func TestAssumeRoleHonoursTrustAndTheOrganization(t *testing.T) {
	t.Parallel()
	sim := enforcedDemo(t)
	client := sts.NewFromConfig(sim.Config(awssim.DemoManagementAccount, "us-east-1"))
	ctx := context.Background()
	member := "arn:aws:iam::222222222222:role/" + awssim.DemoRoleName
	if _, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(member), RoleSessionName: aws.String("test")}); err == nil ||
		apiError(t, err).ErrorCode() != "AccessDenied" {
		t.Errorf("without the ExternalId: %v", err)
	}
	if _, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(member), RoleSessionName: aws.String("test"), ExternalId: aws.String(awssim.DemoExternalID)}); err != nil {
		t.Errorf("with the ExternalId: %v", err)
	}
	outside := "arn:aws:iam::444455556666:role/" + awssim.DemoRoleName
	_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(outside), RoleSessionName: aws.String("test"), ExternalId: aws.String(awssim.DemoExternalID)})
	if e := apiError(t, err); e.ErrorCode() != "AccessDenied" || !strings.Contains(e.ErrorMessage(), "because no identity-based policy allows the sts:AssumeRole action") {
		t.Errorf("a role outside the organization: %v", err)
	}
}

// TestRoleChainingCapsTheSessionAndItsLinks: the function's credentials are a role session, so AWS gives the
// link-signing role 1 hour however long its MaxSessionDuration, and a URL signed for longer dies with the session.
func TestRoleChainingCapsTheSessionAndItsLinks(t *testing.T) {
	t.Parallel()
	sim := enforcedDemo(t)
	cfg := sim.Config(awssim.DemoManagementAccount, "us-east-1")
	ctx := context.Background()
	link := sim.TemplateRole("LinkSigningRole")
	if link == nil || link.MaxSession != 12*time.Hour {
		t.Fatalf("link-signing role %+v", link)
	}
	client := sts.NewFromConfig(cfg)
	_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(link.ARN), RoleSessionName: aws.String("link"), DurationSeconds: aws.Int32(43200)})
	if e := apiError(t, err); e.ErrorCode() != "ValidationError" || !strings.Contains(e.ErrorMessage(), "1 hour session limit for roles assumed by role chaining") {
		t.Fatalf("12 hours by role chaining: %v", err)
	}
	out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(link.ARN), RoleSessionName: aws.String("link"), DurationSeconds: aws.Int32(3600)})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(*out.Credentials.Expiration); d > time.Hour || d < time.Hour-time.Minute {
		t.Errorf("session lasts %s", d)
	}
	// The execution role writes a workbook; the link-signing session signs a 7-day link to it.
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	key := "orgaudit/2026/11/22/orgaudit-x.xlsx"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(awssim.DemoBucket), Key: aws.String(key), Body: strings.NewReader("wb")}); err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	signer := s3.NewPresignClient(s3c, func(o *s3.PresignOptions) {
		o.Expires = 7 * 24 * time.Hour
		o.ClientOptions = append(o.ClientOptions, func(so *s3.Options) {
			so.Credentials = credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
		})
	})
	req, err := signer.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(awssim.DemoBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	get := func() int {
		resp, err := http.Get(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("fresh link: %d", code)
	}
	sim.Advance(time.Until(*c.Expiration) + time.Second)
	if code := get(); code != http.StatusBadRequest {
		t.Errorf("link after its signer's session ended: %d, want 400 ExpiredToken", code)
	}
}

func TestTemplateResolverFailsOnWhatItCannotRead(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(time.Now())
	d := awssim.DemoDeployment(org, templates.Management, templates.MemberRole, "")
	for name, mutate := range map[string]func(*awssim.Deployment){
		"unknown intrinsic": func(d *awssim.Deployment) {
			d.MemberRole = []byte(strings.Replace(string(d.MemberRole), "!Ref ExternalId", "!FindInMap [A, B, C]", 1))
		},
		"missing parameter":    func(d *awssim.Deployment) { delete(d.MemberParameters, "OrganizationId") },
		"undeclared parameter": func(d *awssim.Deployment) { d.ManagementParameters["Nope"] = "x" },
		"unknown operator": func(d *awssim.Deployment) {
			d.MemberRole = []byte(strings.Replace(string(d.MemberRole), "StringEquals:", "NumericLessThan:", 1))
		},
	} {
		c := d
		c.ManagementParameters, c.MemberParameters = map[string]string{}, map[string]string{}
		for k, v := range d.ManagementParameters {
			c.ManagementParameters[k] = v
		}
		for k, v := range d.MemberParameters {
			c.MemberParameters[k] = v
		}
		mutate(&c)
		if _, err := awssim.LoadTemplateRoles(org, c); err == nil {
			t.Errorf("%s: loaded without complaint", name)
		}
	}
	if _, err := awssim.LoadTemplateRoles(org, d); err != nil {
		t.Fatalf("the shipped templates: %v", err)
	}
}

// TestEncryptedTopicWantsThePublishersKeyPermissions: the deployment's digest topic is encrypted with the template's
// key, so SNS takes a message only from a publisher allowed kms:GenerateDataKey and kms:Decrypt on it, and answers
// anyone else with its own KMSAccessDenied (HTTP 400), passing on KMS's refusal.
func TestEncryptedTopicWantsThePublishersKeyPermissions(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(time.Now())
	shipped := testkit.DemoDeployment(org)
	roles, err := awssim.LoadTemplateRoles(org, shipped)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(d awssim.Deployment) (*awssim.Server, error) {
		sim := testkit.StartEnforced(t, awssim.Demo(time.Now()), d)
		_, err := sns.NewFromConfig(sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)).Publish(context.Background(),
			&sns.PublishInput{TopicArn: aws.String(awssim.DemoTopicARN()), Message: aws.String("digest")})
		return sim, err
	}
	sim, err := publish(shipped)
	if err != nil {
		t.Fatalf("the shipped template's execution role could not publish: %v", err)
	}
	var keyARN string
	for _, g := range sim.Granted() {
		if g.Action == "kms:Decrypt" && g.Role == "management.yaml/ExecutionRole" {
			keyARN = g.Resource
		}
	}
	if !strings.HasPrefix(keyARN, "arn:aws:kms:"+awssim.DemoHomeRegion+":"+awssim.DemoManagementAccount+":key/") || keyARN == awssim.DemoKMSKeyARN {
		t.Fatalf("publishing used no key of the topic's own: %+v", sim.Granted())
	}
	removed := 0
	for _, r := range roles {
		for _, a := range r.Actions {
			if r.LogicalID != "ExecutionRole" || a.Sid != "EncryptDigest" {
				continue
			}
			removed++
			d, err := shipped.Without(a)
			if err != nil {
				t.Fatal(err)
			}
			_, err = publish(d)
			var kmsDenied *snstypes.KMSAccessDeniedException
			if !errors.As(err, &kmsDenied) {
				t.Errorf("without %s: %v, want SNS's KMSAccessDenied", a.Action, err)
				continue
			}
			want := "is not authorized to perform: " + a.Action + " on resource: " + keyARN + " because no identity-based policy allows the " + a.Action + " action"
			var httpErr interface{ HTTPStatusCode() int }
			if !strings.Contains(kmsDenied.ErrorMessage(), want) || !errors.As(err, &httpErr) || httpErr.HTTPStatusCode() != http.StatusBadRequest {
				t.Errorf("without %s: %q", a.Action, kmsDenied.ErrorMessage())
			}
		}
	}
	if removed != 2 {
		t.Errorf("the execution role's EncryptDigest held %d actions, want kms:Decrypt and kms:GenerateDataKey", removed)
	}
}

// TestListingIsLimitedToTheHistoryPrefix: the execution role may list only the history and the suppressions file's
// own name (s3:prefix, from the request's prefix parameter), and read history with a ranged GET.
func TestListingIsLimitedToTheHistoryPrefix(t *testing.T) {
	t.Parallel()
	sim := enforcedDemo(t)
	if err := sim.PutObject(awssim.DemoBucket, "orgaudit/history/2026/11/22/r1.json.gz", []byte("state")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client := s3.NewFromConfig(sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), func(o *s3.Options) { o.UsePathStyle = true })
	for prefix, allowed := range map[string]bool{
		"orgaudit/history/": true, "orgaudit/history/2026/11/": true, "orgaudit/suppressions.yaml": true,
		"": false, "orgaudit/": false, "orgaudit/published/": false, "other/history/": false, "orgaudit/suppressions.yaml.bak": false,
	} {
		in := &s3.ListObjectsV2Input{Bucket: aws.String(awssim.DemoBucket)}
		if prefix != "" {
			in.Prefix = aws.String(prefix)
		}
		_, err := client.ListObjectsV2(ctx, in)
		if allowed && err != nil {
			t.Errorf("prefix %q: %v", prefix, err)
		}
		if !allowed {
			if err == nil {
				t.Errorf("prefix %q: listed", prefix)
				continue
			}
			if e := apiError(t, err); e.ErrorCode() != "AccessDenied" || !strings.Contains(e.ErrorMessage(), "s3:ListBucket") {
				t.Errorf("prefix %q: %s %q", prefix, e.ErrorCode(), e.ErrorMessage())
			}
		}
	}
	got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(awssim.DemoBucket), Key: aws.String("orgaudit/history/2026/11/22/r1.json.gz"), Range: aws.String("bytes=0-1")})
	if err != nil {
		t.Fatal(err)
	}
	head, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(head) != "st" {
		t.Errorf("ranged GET read %q", head)
	}
}

// TestTemplateResolverReadsEitherMode: the management template's roles depend on its Mode. In the single mode the
// state machine's role is not created and the schedule invokes the function; in the distributed mode the state
// machine's role exists, the schedule may start the state machine only, and the function may write its run parts.
func TestTemplateResolverReadsEitherMode(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(time.Now())
	actions := func(roles []*awssim.TemplateRole) map[string][]string {
		out := map[string][]string{}
		for _, r := range roles {
			out[r.LogicalID] = nil
			for _, a := range r.Actions {
				out[r.LogicalID] = append(out[r.LogicalID], a.Sid+" "+a.Action)
			}
		}
		return out
	}
	single := testkit.DemoDeployment(org)
	roles, err := awssim.LoadTemplateRoles(org, single)
	if err != nil {
		t.Fatal(err)
	}
	got := actions(roles)
	if _, ok := got["StateMachineRole"]; ok {
		t.Errorf("single mode created the state machine's role: %v", got["StateMachineRole"])
	}
	if s := got["SchedulerRole"]; !slices.Equal(s, []string{" lambda:InvokeFunction", "RecordMissedRuns sqs:SendMessage"}) {
		t.Errorf("single mode: the scheduler may %v", s)
	}
	if slices.ContainsFunc(got["ExecutionRole"], func(a string) bool { return strings.HasPrefix(a, "DistributedRuns ") }) {
		t.Errorf("single mode: the function may write run parts: %v", got["ExecutionRole"])
	}

	distributed := single
	distributed.ManagementParameters = maps.Clone(single.ManagementParameters)
	distributed.ManagementParameters["Mode"] = "distributed"
	roles, err = awssim.LoadTemplateRoles(org, distributed)
	if err != nil {
		t.Fatal(err)
	}
	got = actions(roles)
	// The Map's ResultWriter writes each shard's result beside the run's objects, under the bucket's key.
	want := []string{"InvokeSteps lambda:InvokeFunction", "ReadManifests s3:GetObject",
		"WriteMapResults s3:AbortMultipartUpload", "WriteMapResults s3:GetObject", "WriteMapResults s3:ListMultipartUploadParts",
		"WriteMapResults s3:PutObject", "EncryptRunObjects kms:Decrypt", "EncryptRunObjects kms:GenerateDataKey",
		"StartMapChildren states:StartExecution", "ManageMapChildren states:DescribeExecution", "ManageMapChildren states:StopExecution"}
	if !slices.Equal(got["StateMachineRole"], want) {
		t.Errorf("distributed mode: the state machine may %v, want %v", got["StateMachineRole"], want)
	}
	if s := got["SchedulerRole"]; !slices.Equal(s, []string{" states:StartExecution", "RecordMissedRuns sqs:SendMessage"}) {
		t.Errorf("distributed mode: the scheduler may %v", s)
	}
	for _, a := range []string{"DistributedRuns s3:GetObject", "DistributedRuns s3:PutObject"} {
		if !slices.Contains(got["ExecutionRole"], a) {
			t.Errorf("distributed mode: the function may not %s: %v", a, got["ExecutionRole"])
		}
	}
}

// TestMissingKeyIsForbiddenWithoutListBucket: S3 answers a GET or HEAD of a missing key with 403 AccessDenied to a
// caller without s3:ListBucket on the bucket, and 404 NoSuchKey to one with it. The execution role may list only
// under s3:prefix conditions, which a GET does not carry, so a marker it may read answers 403 once it is gone.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_Permissions
func TestMissingKeyIsForbiddenWithoutListBucket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const marker = "orgaudit/published/2026/11/22/scheduled-r1.json"
	for name, enforced := range map[string]bool{"enforced": true, "unenforced": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var sim *awssim.Server
			if enforced {
				sim = enforcedDemo(t)
			} else {
				sim = testkit.StartSim(t, awssim.Demo(time.Now()))
			}
			client := s3.NewFromConfig(sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), func(o *s3.Options) { o.UsePathStyle = true })
			wantCode, wantStatus := "NoSuchKey", 404
			if enforced {
				wantCode, wantStatus = "AccessDenied", 403
			}
			_, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(awssim.DemoBucket), Key: aws.String(marker)})
			if e := apiError(t, err); e.ErrorCode() != wantCode {
				t.Errorf("GET of a missing marker: %s %q, want %s", e.ErrorCode(), e.ErrorMessage(), wantCode)
			}
			_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(awssim.DemoBucket), Key: aws.String(marker)})
			var re interface{ HTTPStatusCode() int }
			if !errors.As(err, &re) || re.HTTPStatusCode() != wantStatus {
				t.Errorf("HEAD of a missing marker: %v, want status %d", err, wantStatus)
			}
			if err := sim.PutObject(awssim.DemoBucket, marker, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(awssim.DemoBucket), Key: aws.String(marker)})
			if err != nil {
				t.Fatalf("GET of the marker once it exists: %v", err)
			}
			got.Body.Close()
			if enforced && len(sim.Denials()) != 0 {
				t.Errorf("the 403 for a missing key is S3's answer, not a denial of the GET: %+v", sim.Denials())
			}
		})
	}
}

// TestMemberRoleTrustsNamedPrincipalsOfTheManagementAccount: with TrustedPrincipalArns the member role also trusts
// the management account's principals whose role ARN matches (an IAM Identity Center permission set's, under its
// aws-reserved path), still only with the ExternalId and inside the organization; without it, nothing changes.
func TestMemberRoleTrustsNamedPrincipalsOfTheManagementAccount(t *testing.T) {
	t.Parallel()
	const (
		sso     = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_OrgAuditReadOnly_0123456789abcdef"
		other   = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_fedcba9876543210"
		trusted = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_OrgAuditReadOnly_*"
	)
	member := "arn:aws:iam::222222222222:role/" + awssim.DemoRoleName
	deploy := func(t *testing.T, trust, orgID string) *awssim.Server {
		org := awssim.Demo(time.Now())
		d := testkit.DemoDeployment(org)
		if trust != "" {
			d.MemberParameters["TrustedPrincipalArns"] = trust
		}
		if orgID != "" {
			d.MemberParameters["OrganizationId"] = orgID
		}
		// The people's permission sets may call sts:AssumeRole as the function does.
		d.Aliases = map[string]string{"AWSReservedSSO_OrgAuditReadOnly_0123456789abcdef": "orgaudit-lambda",
			"AWSReservedSSO_AdministratorAccess_fedcba9876543210": "orgaudit-lambda"}
		return testkit.StartEnforced(t, org, d)
	}
	assume := func(t *testing.T, sim *awssim.Server, as, externalID string) error {
		t.Helper()
		cfg, err := sim.ConfigAsRole(as, "alice@example.com", "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		in := &sts.AssumeRoleInput{RoleArn: aws.String(member), RoleSessionName: aws.String("alice")}
		if externalID != "" {
			in.ExternalId = aws.String(externalID)
		}
		_, err = sts.NewFromConfig(cfg).AssumeRole(context.Background(), in)
		return err
	}
	refused := func(t *testing.T, what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: allowed", what)
		} else if e := apiError(t, err); e.ErrorCode() != "AccessDenied" || !strings.Contains(e.ErrorMessage(), "sts:AssumeRole on resource: "+member) {
			t.Errorf("%s: %s %q", what, e.ErrorCode(), e.ErrorMessage())
		}
	}

	sim := deploy(t, trusted, "")
	if err := assume(t, sim, sso, awssim.DemoExternalID); err != nil {
		t.Errorf("the named permission set with the ExternalId: %v", err)
	}
	refused(t, "the named permission set without the ExternalId", assume(t, sim, sso, ""))
	refused(t, "the named permission set with a wrong ExternalId", assume(t, sim, sso, "not-the-external-id"))
	refused(t, "another permission set of the management account", assume(t, sim, other, awssim.DemoExternalID))
	// The function's own trust is untouched.
	fn := sts.NewFromConfig(sim.Config(awssim.DemoManagementAccount, "us-east-1"))
	if _, err := fn.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(member), RoleSessionName: aws.String("test"),
		ExternalId: aws.String(awssim.DemoExternalID)}); err != nil {
		t.Errorf("the function's role: %v", err)
	}

	// The organization condition holds for the named principals too: a role deployed for another organization
	// trusts no one of this one.
	refused(t, "the named permission set, role of another organization", assume(t, deploy(t, trusted, "o-0therorgan1"), sso, awssim.DemoExternalID))
	// Without the parameter the role trusts only the function's role.
	refused(t, "the permission set, parameter empty", assume(t, deploy(t, "", ""), sso, awssim.DemoExternalID))
}
