package alert_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

var demoAsOf = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// The sample events (testdata), as EventBridge delivers them: the shared-services account's Service Catalog product
// pp-sharederr0002 failing, and the baseline StackSet failing to update its instance in the network account.
const (
	stackEventFile    = "testdata/stack-status-change.json"
	instanceEventFile = "testdata/stackset-instance-status-change.json"
	sharedAccount     = "222222222222"
	networkAccount    = "333333333333"
)

// builder starts the simulator of the demo organization (after change, if any), enforcing the shipped templates,
// and a Builder with the function's credentials in the management account and the audit role, as deployed.
func builder(t *testing.T, change func(*awssim.Organization)) (*alert.Builder, *awssim.Server, *testkit.Buffer) {
	t.Helper()
	org := awssim.Demo(demoAsOf)
	if change != nil {
		change(org)
	}
	sim := testkit.StartEnforced(t, org, testkit.DemoDeployment(org))
	logs := &testkit.Buffer{}
	return &alert.Builder{
		Config: sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion),
		Role:   crossaccount.Role{Name: awssim.DemoRoleName, ExternalID: awssim.DemoExternalID, SessionName: "orgaudit"},
		Log:    slog.New(slog.NewTextHandler(logs, nil)),
	}, sim, logs
}

// event reads a sample event, applying edits (old, new pairs) to its text first.
func event(t *testing.T, file string, edits ...string) alert.Event {
	t.Helper()
	ev, err := alert.Decode([]byte(eventText(t, file, edits...)))
	if err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	return ev
}

func build(t *testing.T, b *alert.Builder, ev alert.Event) alert.Alert {
	t.Helper()
	a, failure, err := b.Build(context.Background(), ev)
	if err != nil || !failure {
		t.Fatalf("build: failure %v, err %v", failure, err)
	}
	return a
}

func TestAFailedServiceCatalogStackIsAlertedWithTheAccountAndItsProduct(t *testing.T) {
	t.Parallel()
	b, sim, logs := builder(t, nil)
	a := build(t, b, event(t, stackEventFile))
	if d := sim.Denials(); len(d) != 0 {
		t.Fatalf("the shipped templates refused the alert's reads: %+v", d)
	}
	stackID := "arn:aws:cloudformation:us-east-1:222222222222:stack/SC-222222222222-pp-sharederr0002/5b0e6f10-c9a1-11f0-8de9-0a1b2c3d4e5f"
	sev, _, _ := checks.StackFailure("ROLLBACK_COMPLETE")
	want := alert.Alert{
		EventID: "2f3c9d1e-7a4b-4c8e-9f61-0b5d7e3a1c24", EventTime: time.Date(2026, 11, 23, 8, 14, 5, 0, time.UTC), Kind: alert.KindStack,
		Severity: sev, AccountID: sharedAccount, AccountName: "shared-services", Region: "us-east-1",
		StackName: "SC-222222222222-pp-sharederr0002", StackID: stackID, Status: "ROLLBACK_COMPLETE",
		Reason:     "The following resource(s) failed to create: [Bucket]. Rollback requested by user.",
		ConsoleURL: checks.StackConsoleURL("aws", "us-east-1", stackID),
		// The demo's product and its version, read through the audit role in the shared-services account.
		Product: &alert.Product{ID: "pp-sharederr0002", Name: "transit-attachment", Product: "VPC baseline", Version: "v3.2.0"},
	}
	if !equalAlerts(a, want) {
		t.Fatalf("alert\n got %+v %+v\nwant %+v %+v\nlogs: %s", a, a.Product, want, want.Product, logs)
	}
	// The product was read as the audit role in the member account, with the check's own action.
	var assumed bool
	for _, g := range sim.Granted() {
		if g.Action == "servicecatalog:SearchProvisionedProducts" && strings.Contains(g.Role, "AuditRole") {
			assumed = true
		}
	}
	if !assumed {
		t.Errorf("the product was not read with the audit role: %+v", sim.Granted())
	}
}

func equalAlerts(a, b alert.Alert) bool {
	pa, pb := a.Product, b.Product
	a.Product, b.Product = nil, nil
	if (pa == nil) != (pb == nil) || (pa != nil && *pa != *pb) {
		return false
	}
	return a == b
}

func TestAProductThatCannotBeReadIsSaidAndTheAlertStillGoesOut(t *testing.T) {
	t.Parallel()
	// The shared-services account's audit role is gone: AssumeRole is refused.
	b, _, _ := builder(t, func(o *awssim.Organization) { o.Accounts[1].Roles = nil })
	a := build(t, b, event(t, stackEventFile))
	if a.Product != nil {
		t.Errorf("a product that could not be read is reported: %+v", a.Product)
	}
	if !strings.Contains(a.ProductUnread, "pp-sharederr0002 not read: AccessDenied") || !strings.Contains(a.ProductUnread, "OrgAuditReadOnly") {
		t.Errorf("ProductUnread %q does not say why", a.ProductUnread)
	}
	if a.AccountName != "shared-services" || a.Status != "ROLLBACK_COMPLETE" {
		t.Errorf("the rest of the alert is lost: %+v", a)
	}
}

func TestAVersionThatCannotBeDescribedIsSaid(t *testing.T) {
	t.Parallel()
	b, sim, _ := builder(t, nil)
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "DescribeProvisioningArtifact" {
			return &awssim.Fault{Status: 400, Code: "AccessDeniedException", Message: "the portfolio is not shared with you"}
		}
		return nil
	})
	a := build(t, b, event(t, stackEventFile))
	// The version's name is the one the search answered; that it could not be confirmed is said.
	if a.Product == nil || a.Product.Version != "v3.2.0" ||
		a.ProductUnread != "provisioned product pp-sharederr0002: version lookup failed: AccessDeniedException: the portfolio is not shared with you" {
		t.Errorf("product %+v, unread %q", a.Product, a.ProductUnread)
	}
}

// TestAProductInTheFunctionsOwnAccountIsReadWithItsOwnCredentials: no audit role is deployed where the function runs
// (a service-managed StackSet skips the management account), so there the product is read as the audit reads it.
func TestAProductInTheFunctionsOwnAccountIsReadWithItsOwnCredentials(t *testing.T) {
	t.Parallel()
	b, sim, _ := builder(t, func(o *awssim.Organization) {
		mgmt, shared := o.Accounts[0].Regions[awssim.DemoHomeRegion], o.Accounts[1].Regions[awssim.DemoHomeRegion]
		mgmt.ProvisionedProducts, mgmt.Artifacts, mgmt.Records = shared.ProvisionedProducts, shared.Artifacts, shared.Records
	})
	a := build(t, b, event(t, stackEventFile, sharedAccount, awssim.DemoManagementAccount))
	if a.AccountName != "management" || a.Product == nil || a.Product.Name != "transit-attachment" || a.ProductUnread != "" {
		t.Errorf("alert %+v product %+v", a, a.Product)
	}
	for _, g := range sim.Granted() {
		if g.Action == "sts:AssumeRole" {
			t.Errorf("a role was assumed in the function's own account: %+v", g)
		}
	}
	if d := sim.Denials(); len(d) != 0 {
		t.Errorf("refused: %+v", d)
	}
}

func TestAStackNotServiceCatalogsHasNoProduct(t *testing.T) {
	t.Parallel()
	b, _, _ := builder(t, nil)
	a := build(t, b, event(t, stackEventFile, "SC-222222222222-pp-sharederr0002", "transit-network"))
	if a.Product != nil || a.ProductUnread != "" || a.StackName != "transit-network" {
		t.Errorf("alert %+v product %+v", a, a.Product)
	}
}

func TestAProductGoneFromTheAccountIsSaid(t *testing.T) {
	t.Parallel()
	b, _, _ := builder(t, nil)
	// pp-sharederr00 is a prefix of a product the account holds: the search finds that one, which is not it.
	a := build(t, b, event(t, stackEventFile, "pp-sharederr0002", "pp-sharederr00"))
	if a.Product != nil || !strings.Contains(a.ProductUnread, "pp-sharederr00 not found") {
		t.Errorf("product %+v, unread %q", a.Product, a.ProductUnread)
	}
}

func TestTheAccountNameUnreadLeavesItEmptyAndLogsWhy(t *testing.T) {
	t.Parallel()
	b, sim, logs := builder(t, nil)
	// Organizations refuses the read (a service control policy, a throttle that outlasts the retries): the alert
	// goes out by account id, the rest whole.
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "DescribeAccount" {
			return &awssim.Fault{Status: 400, Code: "AccessDeniedException", Message: "denied by a service control policy"}
		}
		return nil
	})
	a := build(t, b, event(t, stackEventFile))
	if a.AccountName != "" || a.AccountID != sharedAccount || a.Product == nil || a.Status != "ROLLBACK_COMPLETE" {
		t.Errorf("alert %+v", a)
	}
	if !strings.Contains(logs.String(), "account name not read") || !strings.Contains(logs.String(), "AccessDeniedException") ||
		!strings.Contains(logs.String(), "denied by a service control policy") {
		t.Errorf("the refusal is not logged: %s", logs)
	}
}

func TestAStatusThatIsNotAFailureIsNotAlerted(t *testing.T) {
	t.Parallel()
	b, sim, _ := builder(t, nil)
	for _, edits := range [][]string{
		{`"status": "ROLLBACK_COMPLETE"`, `"status": "CREATE_COMPLETE"`},
		// The start of a rollback is not yet a failure: the check alerts on it only once it is stuck.
		{`"status": "ROLLBACK_COMPLETE"`, `"status": "ROLLBACK_IN_PROGRESS"`},
		{`"status": "ROLLBACK_COMPLETE"`, `"status": "UPDATE_ROLLBACK_IN_PROGRESS"`},
	} {
		a, failure, err := b.Build(context.Background(), event(t, stackEventFile, edits...))
		if err != nil || failure || a != (alert.Alert{}) {
			t.Errorf("%s: failure %v, err %v, alert %+v", edits[1], failure, err, a)
		}
	}
	for _, detailed := range []string{"PENDING", "RUNNING", "SUCCEEDED", "CANCELLED"} {
		a, failure, err := b.Build(context.Background(), event(t, instanceEventFile, `"detailed-status": "FAILED"`, `"detailed-status": "`+detailed+`"`))
		if err != nil || failure || a != (alert.Alert{}) {
			t.Errorf("instance %s: failure %v, err %v, alert %+v", detailed, failure, err, a)
		}
	}
	// Nothing is read for an event that is not a failure.
	if g := sim.Granted(); len(g) != 0 {
		t.Errorf("reads made for no alert: %+v", g)
	}
}

func TestAStatusNoDocumentNamesIsAlertedAsNotRecognised(t *testing.T) {
	t.Parallel()
	b, _, _ := builder(t, nil)
	a := build(t, b, event(t, stackEventFile, `"status": "ROLLBACK_COMPLETE"`, `"status": "MELTED_DOWN"`))
	if a.Severity != checks.Warning || !strings.HasPrefix(a.Reason, "status MELTED_DOWN not recognised: The following resource(s)") {
		t.Errorf("alert %+v", a)
	}
	a = build(t, b, event(t, instanceEventFile, `"detailed-status": "FAILED"`, `"detailed-status": "EVAPORATED"`))
	if a.Severity != checks.Warning || !strings.HasPrefix(a.Reason, "status OUTDATED (EVAPORATED) not recognised") {
		t.Errorf("alert %+v", a)
	}
}

func TestAFailedStackSetInstanceIsAlertedForTheMemberAccount(t *testing.T) {
	t.Parallel()
	b, sim, _ := builder(t, nil)
	for _, status := range []string{"OUTDATED", "INOPERABLE"} {
		a := build(t, b, event(t, instanceEventFile, `"status": "OUTDATED"`, `"status": "`+status+`"`))
		sev, _ := checks.StackInstanceFailure(status, "FAILED")
		stackID := "arn:aws:cloudformation:us-east-1:333333333333:stack/StackSet-baseline-0a1b2c3d/7c2e9a40-c9a2-11f0-9f1e-0e4d5c6b7a89"
		want := alert.Alert{EventID: "8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", EventTime: time.Date(2026, 11, 23, 8, 20, 41, 0, time.UTC),
			Kind: alert.KindInstance, Severity: sev, AccountID: networkAccount, AccountName: "network", Region: "us-east-1",
			StackName: "StackSet-baseline-0a1b2c3d", StackID: stackID,
			StackSetARN: "arn:aws:cloudformation:us-east-1:111111111111:stackset/baseline:e5f54eea-d041-44ad-94f8-b8268aca1e59",
			Status:      status, DetailedStatus: "FAILED",
			Reason:     `ResourceLogicalId:Topic, ResourceType:AWS::SNS::Topic, ResourceStatusReason:Resource handler returned message: "Access denied".`,
			ConsoleURL: checks.StackConsoleURL("aws", "us-east-1", stackID)}
		if !equalAlerts(a, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", status, a, want)
		}
	}
	if d := sim.Denials(); len(d) != 0 {
		t.Fatalf("refused: %+v", d)
	}
}

func TestHostileTextInAStatusReasonCannotForgeALine(t *testing.T) {
	t.Parallel()
	b, _, _ := builder(t, nil)
	// JSON escapes: a newline, a fake header, a right-to-left override, a zero-width space, ESC, a line separator.
	hostile := `Bucket failed.\n\nSubject: [orgaudit] all clear\r\nFrom: security@example.com\u202e\u200b\u001b[2J\u2028done`
	for _, tc := range []struct {
		file, field string
	}{
		{stackEventFile, `"status-reason": "The following resource(s) failed to create: [Bucket]. Rollback requested by user."`},
		{instanceEventFile, `"status-reason": "ResourceLogicalId:Topic, ResourceType:AWS::SNS::Topic, ResourceStatusReason:Resource handler returned message: \"Access denied\"."`},
	} {
		a := build(t, b, event(t, tc.file, tc.field, `"status-reason": "`+hostile+`"`))
		if want := "Bucket failed. Subject: [orgaudit] all clear From: security@example.com[2J done"; a.Reason != want {
			t.Errorf("%s: reason %q, want %q", tc.file, a.Reason, want)
		}
		for _, r := range a.Reason {
			if r < ' ' || r == 0x7f || r == 0x202e || r == 0x200b || r == 0x2028 {
				t.Errorf("%s: reason holds %U", tc.file, r)
			}
		}
	}
}

func TestBuildRefusesAnEventDecodeDidNotMake(t *testing.T) {
	t.Parallel()
	b := &alert.Builder{}
	_, failure, err := b.Build(context.Background(), alert.Event{ID: "x"})
	var inv *alert.InvalidEventError
	if failure || !errors.As(err, &inv) {
		t.Fatalf("failure %v, err %v", failure, err)
	}
}
