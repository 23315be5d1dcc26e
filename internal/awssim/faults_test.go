package awssim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/servicecatalog"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestSNSThrottledIsHTTP429: botocore's SNS model gives ThrottledException the code Throttled with HTTP 429.
func TestSNSThrottledIsHTTP429(t *testing.T) {
	t.Parallel()
	s := start(t)
	s.SetIntercept((&FaultPlan{ThrottleOps: []string{"Publish"}, ThrottleBurst: 1}).Intercept)
	cfg := s.Config(DemoManagementAccount, DemoHomeRegion)
	cfg.RetryMaxAttempts = 1
	_, err := sns.NewFromConfig(cfg).Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(DemoTopicARN()), Message: aws.String("m")})
	if code(err) != "Throttled" || httpStatus(err) != 429 {
		t.Errorf("throttled publish: code %q status %d (%v), want Throttled 429", code(err), httpStatus(err), err)
	}
}

// TestExpiredSessionCodeFollowsTheProtocol: an expired session token is ExpiredTokenException for the awsJson
// services (the common errors of the API references) and ExpiredToken for the query ones, HTTP 403 both.
func TestExpiredSessionCodeFollowsTheProtocol(t *testing.T) {
	t.Parallel()
	s := New(Demo(asOf))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	session, err := assume(t, s, "222222222222", DemoExternalID)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := session.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Advance(13 * time.Hour) // past any session AssumeRole grants
	cfg := session.Copy()
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	cfg.RetryMaxAttempts = 1
	ctx := context.Background()
	_, scErr := servicecatalog.NewFromConfig(cfg).SearchProvisionedProducts(ctx, &servicecatalog.SearchProvisionedProductsInput{})
	_, orgErr := organizations.NewFromConfig(cfg).ListAccounts(ctx, &organizations.ListAccountsInput{})
	_, cfnErr := cloudformation.NewFromConfig(cfg).ListStacks(ctx, &cloudformation.ListStacksInput{})
	for name, c := range map[string]struct {
		err  error
		want string
	}{"servicecatalog": {scErr, "ExpiredTokenException"}, "organizations": {orgErr, "ExpiredTokenException"}, "cloudformation": {cfnErr, "ExpiredToken"}} {
		if code(c.err) != c.want || httpStatus(c.err) != 403 {
			t.Errorf("%s: code %q status %d, want %s 403 (%v)", name, code(c.err), httpStatus(c.err), c.want, c.err)
		}
	}
}
