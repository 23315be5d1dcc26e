package awssim

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/servicecatalog"
	sctypes "github.com/aws/aws-sdk-go-v2/service/servicecatalog/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

var asOf = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func start(t *testing.T) *Server {
	t.Helper()
	s := New(Demo(asOf))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("server must bind loopback only: %s", s.URL())
	}
	return s
}

func code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// assume returns a config holding the role session of account, as the job would build it.
func assume(t *testing.T, s *Server, account, externalID string) (aws.Config, error) {
	t.Helper()
	base := s.Config(DemoManagementAccount, DemoHomeRegion)
	p := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), "arn:aws:iam::"+account+":role/"+DemoRoleName, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "test-session"
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	})
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(p)
	_, err := cfg.Credentials.Retrieve(context.Background())
	return cfg, err
}

func TestAssumeRoleIdentifiesTheAccount(t *testing.T) {
	t.Parallel()
	s := start(t)
	cfg, err := assume(t, s, "222222222222", DemoExternalID)
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "222222222222" || !strings.Contains(aws.ToString(id.Arn), "assumed-role/OrgAuditReadOnly/test-session") {
		t.Fatalf("identity %+v %v", id, err)
	}
	for _, c := range []struct{ account, ext string }{{"222222222222", "wrong"}, {"222222222222", ""}, {DemoMissingRole, DemoExternalID}, {DemoSuspended, DemoExternalID}, {"000000000000", DemoExternalID}} {
		if _, err := assume(t, s, c.account, c.ext); code(err) != "AccessDenied" {
			t.Errorf("assume into %s with external id %q: %v, want AccessDenied", c.account, c.ext, err)
		}
	}
}

func TestListAccountsSendsStateOnlyAndPages(t *testing.T) {
	t.Parallel()
	s := start(t)
	var accounts []orgtypes.Account
	pages := organizations.NewListAccountsPaginator(organizations.NewFromConfig(s.Config(DemoManagementAccount, DemoHomeRegion)), &organizations.ListAccountsInput{})
	n := 0
	for pages.HasMorePages() {
		p, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n++
		accounts = append(accounts, p.Accounts...)
	}
	if len(accounts) != len(Demo(asOf).Accounts) || n < 4 {
		t.Fatalf("%d accounts in %d pages", len(accounts), n)
	}
	for _, a := range accounts {
		if a.State == "" || a.Status != "" || a.JoinedTimestamp == nil || !strings.HasPrefix(aws.ToString(a.Arn), "arn:aws:organizations::111111111111:account/o-") {
			t.Errorf("account %+v: want State set, the retired Status absent", a)
		}
	}
	_, err := organizations.NewFromConfig(s.Config("222222222222", DemoHomeRegion)).ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	if code(err) != "AccessDeniedException" {
		t.Errorf("member ListAccounts: %v", err)
	}
}

func TestSearchProvisionedProductsAccessLevel(t *testing.T) {
	t.Parallel()
	s := start(t)
	cfg, err := assume(t, s, "222222222222", DemoExternalID)
	if err != nil {
		t.Fatal(err)
	}
	client := servicecatalog.NewFromConfig(cfg)
	own, err := client.SearchProvisionedProducts(context.Background(), &servicecatalog.SearchProvisionedProductsInput{
		AccessLevelFilter: &sctypes.AccessLevelFilter{Key: sctypes.AccessLevelFilterKeyUser, Value: aws.String("self")}})
	if err != nil || len(own.ProvisionedProducts) != 0 {
		t.Fatalf("with the User filter only the caller's own products: %d, %v", len(own.ProvisionedProducts), err)
	}
	var all []sctypes.ProvisionedProductAttribute
	pages := servicecatalog.NewSearchProvisionedProductsPaginator(client, &servicecatalog.SearchProvisionedProductsInput{
		AccessLevelFilter: &sctypes.AccessLevelFilter{Key: sctypes.AccessLevelFilterKeyAccount, Value: aws.String("self")}, SortBy: aws.String("id")})
	for pages.HasMorePages() {
		p, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.ProvisionedProducts...)
	}
	if len(all) != 5 || aws.ToString(all[0].Id) != "pp-sharederr0002" || all[0].Status != sctypes.ProvisionedProductStatusError || all[0].CreatedTime == nil {
		t.Errorf("products %+v", all)
	}
	rec, err := client.DescribeRecord(context.Background(), &servicecatalog.DescribeRecordInput{Id: all[0].LastRecordId})
	if err != nil || len(rec.RecordDetail.RecordErrors) != 1 || rec.RecordDetail.CreatedTime == nil {
		t.Errorf("record %+v %v", rec, err)
	}
}

func TestRegionNotEnabledAndPagingLimits(t *testing.T) {
	t.Parallel()
	s := start(t)
	cfg, err := assume(t, s, "444444444444", DemoExternalID)
	if err != nil {
		t.Fatal(err)
	}
	optIn := cfg.Copy()
	optIn.Region = "af-south-1"
	if _, err := ec2.NewFromConfig(optIn).DescribeReservedInstances(context.Background(), &ec2.DescribeReservedInstancesInput{}); code(err) != "AuthFailure" {
		t.Errorf("EC2 in a region not enabled: %v", err)
	}
	if _, err := cloudformation.NewFromConfig(optIn).ListStacks(context.Background(), &cloudformation.ListStacksInput{}); code(err) != "InvalidClientTokenId" {
		t.Errorf("CloudFormation in a region not enabled: %v", err)
	}
	client := rds.NewFromConfig(cfg)
	if _, err := client.DescribeReservedDBInstances(context.Background(), &rds.DescribeReservedDBInstancesInput{MaxRecords: aws.Int32(10)}); code(err) != "InvalidParameterValue" {
		t.Errorf("MaxRecords below 20: %v", err)
	}
	pages := rds.NewDescribeReservedDBInstancesPaginator(client, &rds.DescribeReservedDBInstancesInput{MaxRecords: aws.Int32(20)})
	n, total := 0, 0
	for pages.HasMorePages() {
		p, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n, total = n+1, total+len(p.ReservedDBInstances)
	}
	if total != 8 || n != 3 {
		t.Errorf("%d reserved DB instances in %d pages, want 8 in 3", total, n)
	}
	if _, err := client.DescribeReservedDBInstances(context.Background(), &rds.DescribeReservedDBInstancesInput{Marker: aws.String("bogus")}); code(err) != "InvalidParameterValue" {
		t.Errorf("bad marker: %v", err)
	}
}

func TestPublishLimits(t *testing.T) {
	t.Parallel()
	s := start(t)
	client := sns.NewFromConfig(s.Config(DemoManagementAccount, DemoHomeRegion))
	publish := func(subject, body string) error {
		_, err := client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(DemoTopicARN()), Subject: aws.String(subject), Message: aws.String(body)})
		return err
	}
	if err := publish("ok", "hello"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"long subject":    publish(strings.Repeat("x", 100), "b"),
		"newline subject": publish("a\nb", "b"),
		"unicode subject": publish("café", "b"),
		"large message":   publish("s", strings.Repeat("x", maxMessageBytes+1)),
	} {
		if code(err) != "InvalidParameter" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := s.Published(); len(got) != 1 || got[0].Body != "hello" {
		t.Errorf("published %+v", got)
	}
}

func TestFaultSeamWithSDKRetries(t *testing.T) {
	t.Parallel()
	s := start(t)
	var throttled atomic.Int32
	s.SetIntercept(func(ctx context.Context, c Call) *Fault {
		if c.Operation == "ListStacks" && c.AccountID == "333333333333" && throttled.Add(1) <= 2 {
			return &Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"}
		}
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	})
	cfg, err := assume(t, s, "333333333333", DemoExternalID)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Region = "eu-west-1"
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 4
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	out, err := cloudformation.NewFromConfig(cfg).ListStacks(context.Background(), &cloudformation.ListStacksInput{})
	if err != nil || len(out.StackSummaries) != 3 {
		t.Fatalf("after two throttles the retry must succeed: %v", err)
	}
	if got := s.Calls()["cloudformation.ListStacks"]; got != 3 {
		t.Errorf("ListStacks calls %d, want 3 (two throttled, one answered)", got)
	}
}

func TestUnknownCredentialsAreRejected(t *testing.T) {
	t.Parallel()
	s := start(t)
	cfg := s.Config(DemoManagementAccount, DemoHomeRegion)
	cfg.Credentials = aws.AnonymousCredentials{}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err == nil {
		t.Error("an unsigned request was answered")
	}
	other := New(Demo(asOf))
	cfg = s.Config(DemoManagementAccount, DemoHomeRegion)
	cfg.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return other.Credentials(DemoManagementAccount), nil
	}))
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); code(err) != "InvalidClientTokenId" {
		t.Errorf("another server's key: %v", err)
	}
}

// TestUnrecognizedClientIs403: a JSON-protocol service answers credentials it does not know with
// UnrecognizedClientException and HTTP 403, as AWS's Common Errors reference gives
// (https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html): in a region not enabled, which
// does not know the account's credentials, and for a key no account issued.
func TestUnrecognizedClientIs403(t *testing.T) {
	t.Parallel()
	s := start(t)
	cfg, err := assume(t, s, "444444444444", DemoExternalID)
	if err != nil {
		t.Fatal(err)
	}
	optIn := cfg.Copy()
	optIn.Region = "af-south-1"
	other := New(Demo(asOf))
	unknown := s.Config(DemoManagementAccount, DemoHomeRegion)
	unknown.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return other.Credentials(DemoManagementAccount), nil
	}))
	cases := map[string]func() error{
		"Service Catalog in a region not enabled": func() error {
			_, err := servicecatalog.NewFromConfig(optIn).SearchProvisionedProducts(context.Background(), &servicecatalog.SearchProvisionedProductsInput{})
			return err
		},
		"Service Catalog with an unknown key": func() error {
			_, err := servicecatalog.NewFromConfig(unknown).SearchProvisionedProducts(context.Background(), &servicecatalog.SearchProvisionedProductsInput{})
			return err
		},
		"Organizations with an unknown key": func() error {
			_, err := organizations.NewFromConfig(unknown).ListAccounts(context.Background(), &organizations.ListAccountsInput{})
			return err
		},
	}
	for name, call := range cases {
		err := call()
		var resp *awshttp.ResponseError
		if code(err) != "UnrecognizedClientException" || !errors.As(err, &resp) || resp.HTTPStatusCode() != 403 {
			t.Errorf("%s: %v, want UnrecognizedClientException with HTTP 403", name, err)
		}
	}
}
