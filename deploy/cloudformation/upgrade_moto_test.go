package cloudformation_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/orgaudit/orgaudit/deploy/cloudformation"
	"github.com/orgaudit/orgaudit/internal/lambdapkg"
	"github.com/orgaudit/orgaudit/internal/mototest"
)

// TestUpgradeDeploysTheNewBuild deploys the management stack on moto's CloudFormation with one build, then updates it
// with another, each uploaded at the key deploy/package names (lambdapkg.S3Key: the zip's SHA-256 in it), and
// requires both functions (the audit function and the alerts' own) to run the second build afterwards: their
// CodeSha256 is the second zip's. A new zip at the
// old key would change no property, and AWS answers such an update "No updates are to be performed" (moto does not
// emulate that answer, so this test holds the key, not the refusal).
func TestUpgradeDeploysTheNewBuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	endpoint := mototest.Start(t)
	cfg := mototest.Config(endpoint, "eu-west-1", "AKIAMOTOUPGRADE00001")
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	const codeBucket = "orgaudit-artifacts"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(codeBucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	// upload puts a build where deploy/package says, and returns its key and the CodeSha256 Lambda gives it (the
	// base64 of the zip's SHA-256).
	upload := func(script string) (key, codeSha string) {
		zip := lambdaZipOf(t, script)
		sum := sha256.Sum256(zip)
		key = lambdapkg.S3Key(hex.EncodeToString(sum[:]))
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(codeBucket), Key: aws.String(key), Body: bytes.NewReader(zip)}); err != nil {
			t.Fatal(err)
		}
		return key, base64.StdEncoding.EncodeToString(sum[:])
	}
	firstKey, firstSha := upload("#!/bin/sh\necho v1\n")
	secondKey, secondSha := upload("#!/bin/sh\necho v2\n")
	if firstKey == secondKey {
		t.Fatalf("two builds share the key %s", firstKey)
	}

	client := cfn.NewFromConfig(cfg)
	stack := createStack(t, client, "orgaudit", cloudformation.Management, map[string]string{
		"CodeBucket": codeBucket, "CodeKey": firstKey, "ScheduleTimezone": "UTC", "OrganizationId": "o-a1b2c3d4e5",
	})
	functions := []string{stack.outputs["FunctionName"], stack.outputs["AlertFunctionName"]}
	if functions[1] == "" {
		t.Fatal("the stack has no AlertFunctionName output; Alerts is on by default")
	}
	codeSha := func(name string) string {
		t.Helper()
		return functionConfiguration(t, cfg, endpoint, name).CodeSha256
	}
	for _, fn := range functions {
		if got := codeSha(fn); got != firstSha {
			t.Fatalf("after the first deploy %s's CodeSha256 is %s, want the first build's %s", fn, got, firstSha)
		}
	}

	// The upgrade as README gives it: every parameter as before but the key.
	in := &cfn.UpdateStackInput{StackName: aws.String("orgaudit"), UsePreviousTemplate: aws.Bool(true),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
		Parameters:   []cfntypes.Parameter{{ParameterKey: aws.String("CodeKey"), ParameterValue: aws.String(secondKey)}}}
	for _, k := range []string{"CodeBucket", "ScheduleTimezone", "OrganizationId"} {
		in.Parameters = append(in.Parameters, cfntypes.Parameter{ParameterKey: aws.String(k), UsePreviousValue: aws.Bool(true)})
	}
	if _, err := client.UpdateStack(ctx, in); err != nil {
		t.Fatalf("update: %v", err)
	}
	w := cfn.NewStackUpdateCompleteWaiter(client, func(o *cfn.StackUpdateCompleteWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	if err := w.Wait(ctx, &cfn.DescribeStacksInput{StackName: aws.String("orgaudit")}, time.Minute); err != nil {
		t.Fatalf("the update did not reach UPDATE_COMPLETE: %v", err)
	}
	for _, fn := range functions {
		if got := codeSha(fn); got != secondSha {
			t.Errorf("after the update %s's CodeSha256 is %s, want the second build's %s (the first's was %s)", fn, got, secondSha, firstSha)
		}
	}
}

// lambdaConfiguration is what the tests read of Lambda's GetFunctionConfiguration.
type lambdaConfiguration struct {
	CodeSha256  string
	Environment struct{ Variables map[string]any }
}

// functionConfiguration is Lambda's GetFunctionConfiguration, read as the API gives it: a signed GET of
// /2015-03-31/functions/<name>/configuration. Not through the SDK's lambda client because moto 5.2.1 answers
// Environment.Variables with the Ref of a Number parameter (Concurrency) as a JSON number, which the client refuses
// ("expected string, got 64"); CloudFormation passes every Ref of a parameter as a string and Lambda holds strings.
func functionConfiguration(t *testing.T, cfg aws.Config, endpoint, name string) lambdaConfiguration {
	t.Helper()
	var out lambdaConfiguration
	lambdaGet(t, cfg, endpoint, "/2015-03-31/functions/"+url.PathEscape(name)+"/configuration", &out)
	return out
}

// lambdaGet is a signed GET of one of Lambda's REST paths, its JSON answer decoded into out.
func lambdaGet(t *testing.T, cfg aws.Config, endpoint, path string, out any) {
	t.Helper()
	ctx := context.Background()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	empty := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), "lambda", cfg.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d, %v", path, resp.StatusCode, err)
	}
}
