package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// TestDeliveredRunNeverFailsForItsResponseSize: every check in every account is denied, with the long message AWS
// gives, in fifteen of sixteen regions: 24,000 error cells whose errors alone are twice Lambda's response limit. The run is
// delivered, so the invocation must succeed (a failure makes Lambda run a delivered audit twice more), its errors
// trimmed with their count kept.
func TestDeliveredRunNeverFailsForItsResponseSize(t *testing.T) {
	t.Parallel()
	regions := []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
		"eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1"}
	o := awssim.GenerateOptions{Accounts: 400, Regions: regions[:1], AsOf: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), Seed: 3}
	// The first region answers, so the run audited something; the others deny every check. An account-wide check's one
	// cell is answered: its service signs for us-east-1, the first region.
	perAccount := crossaccount.CellsPerAccount(checks.All(), len(regions))
	wantCells, wantErrors := o.Accounts*perAccount, o.Accounts*(perAccount-crossaccount.CellsPerAccount(checks.All(), 1))
	sim := testkit.StartSim(t, awssim.Generate(o))
	sim.SetIntercept(func(_ context.Context, c awssim.Call) *awssim.Fault {
		if !slices.Contains(checkServices, c.Service) || c.Region == regions[0] {
			return nil
		}
		return &awssim.Fault{Status: 403, Code: "AccessDenied", Message: fmt.Sprintf("User: arn:aws:sts::%[1]s:assumed-role/OrgAuditReadOnly/orgaudit "+
			"is not authorized to perform: %[2]s:%[3]s on resource: arn:aws:%[2]s:%[4]s:%[1]s:* because no identity-based policy allows the %[2]s:%[3]s action",
			c.AccountID, c.Service, c.Operation, c.Region)}
	})
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": strings.Join(regions, ","),
		"AUDIT_BUCKET": awssim.GeneratedBucket, "AUDIT_TOPIC_ARN": awssim.GeneratedTopicARN(o), "AUDIT_S3_PATH_STYLE": "true"}
	handle := newLambdaHandler(func(k string) string { return env[k] }, func() (aws.Config, error) {
		return sim.Config(awssim.GeneratedManagementAccount, regions[0]), nil
	})

	raw, err := handle(context.Background(), json.RawMessage(`{"source":"aws.scheduler","scheduled_time":"2026-11-22T08:00:00Z"}`))
	if err != nil {
		t.Fatalf("a delivered run failed the invocation: %v", err)
	}
	res := decodeResult(t, string(raw))
	if len(raw) > maxResponseBytes || !res.Published || len(sim.Digests()) != 1 {
		t.Fatalf("response %d bytes (limit %d), published %v, %d digests", len(raw), maxResponseBytes, res.Published, len(sim.Digests()))
	}
	// Every cell failed and is counted; the errors left out of the response are counted too.
	if res.Coverage.Cells != wantCells || res.Coverage.Errors != wantErrors || res.Accounts.Total != o.Accounts || res.Accounts.Partial != o.Accounts {
		t.Errorf("coverage %+v accounts %+v, want %d failed cells of %d, %d accounts partly audited", res.Coverage, res.Accounts, wantErrors, wantCells, o.Accounts)
	}
	if res.ErrorsOmitted == 0 || len(res.Errors)+res.ErrorsOmitted != wantErrors || len(res.Errors) == 0 {
		t.Errorf("%d errors in the response, %d omitted, want %d in all", len(res.Errors), res.ErrorsOmitted, wantErrors)
	}
	t.Logf("%d error cells: %d errors in a %d-byte response, %d omitted", wantErrors, len(res.Errors), len(raw), res.ErrorsOmitted)
}

// TestLambdaFailsWhenTheOrganizationCannotBeListed: the function's role cannot walk the organization (here it runs
// in a member account, which AWS denies the call). A run of its own account mailed as "1/1 accounts" would hide the
// loss, so the invocation fails, nothing is mailed, and the alarm fires. Named accounts still run.
func TestLambdaFailsWhenTheOrganizationCannotBeListed(t *testing.T) {
	t.Parallel()
	const member = "333333333333"
	org := awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	for _, a := range org.Accounts {
		if a.ID == member {
			a.Regions["us-east-1"].Topics = []string{awssim.DemoTopicName}
		}
	}
	sim := testkit.StartSim(t, org)
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": "us-east-1",
		"AUDIT_TOPIC_ARN": "arn:aws:sns:us-east-1:" + member + ":" + awssim.DemoTopicName}
	load := func() (aws.Config, error) { return sim.Config(member, "us-east-1"), nil }
	handle := newLambdaHandler(func(k string) string { return env[k] }, load)
	_, err := handle(context.Background(), json.RawMessage(`{"source":"aws.scheduler","scheduled_time":"2026-11-22T08:00:00Z"}`))
	if err == nil || !strings.Contains(err.Error(), "organizations:ListRoots") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("err = %v", err)
	}
	// Lambda's errorType says nothing was audited; the cause is still there for errors.As.
	var unreadable *crossaccount.OrganizationUnreadableError
	if lambdaErrorType(err) != "NothingAuditedError" || !errors.As(err, &unreadable) {
		t.Errorf("errorType %q, organization unreadable %v", lambdaErrorType(err), unreadable != nil)
	}
	if n := len(sim.Digests()); n != 0 {
		t.Fatalf("%d digests mailed for an organization that could not be read", n)
	}

	env["AUDIT_ACCOUNTS"] = member
	raw, err := newLambdaHandler(func(k string) string { return env[k] }, load)(context.Background(), json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if res := decodeResult(t, string(raw)); res.Accounts.Total != 1 || res.Accounts.Audited != 1 || !res.Published || res.OwnAccountOnly {
		t.Errorf("named account: accounts %+v published %v", res.Accounts, res.Published)
	}
}
