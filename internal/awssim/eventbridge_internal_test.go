package awssim

import (
	"strings"
	"testing"
	"time"

	templates "github.com/orgaudit/orgaudit/deploy/cloudformation"
)

// TestAlertBusRefusesPrincipalsOutsideTheOrganization: the alert bus's policy admits callers by aws:PrincipalOrgID and
// the forwarding role's name (aws:PrincipalArn), so a principal of an account outside the organization, or another
// role of one of its accounts, is refused even with a policy of its own that allows the call (the simulator
// authenticates only the organization's accounts, so the bus policy is asked directly; the forwarding role's delivery
// through the member rule is TestForwardingRolePutsOnlyOnTheAlertBus's).
func TestAlertBusRefusesPrincipalsOutsideTheOrganization(t *testing.T) {
	t.Parallel()
	org := Demo(time.Now())
	d := DemoDeployment(org, templates.Management, templates.MemberRole, "")
	s := New(org)
	if err := s.EnforceTemplates(d); err != nil {
		t.Fatal(err)
	}
	bus := d.MemberParameters["AlertBusArn"]
	const stranger = "210987654321"
	if org.account(stranger) != nil {
		t.Fatalf("%s is an account of the demo organization", stranger)
	}
	outsider := principal{accountID: stranger, arn: "arn:aws:sts::" + stranger + ":assumed-role/orgaudit-alert-forwarding/events"}
	f := s.iam.busAdmits(outsider, bus)
	if f == nil || f.Code != "AccessDeniedException" || !strings.Contains(f.Message, "because no resource-based policy allows the events:PutEvents action") {
		t.Errorf("a principal outside the organization: %+v", f)
	}
	insider := principal{accountID: org.Accounts[1].ID, arn: "arn:aws:sts::" + org.Accounts[1].ID + ":assumed-role/orgaudit-alert-forwarding/events"}
	if f := s.iam.busAdmits(insider, bus); f != nil {
		t.Errorf("the forwarding role of an organization account: %+v", f)
	}
	// Any other role of an organization's account is refused: the bus takes only what the member rules deliver.
	other := principal{accountID: org.Accounts[1].ID, arn: "arn:aws:sts::" + org.Accounts[1].ID + ":assumed-role/app-deployer/ci",
		roleARN: "arn:aws:iam::" + org.Accounts[1].ID + ":role/app-deployer"}
	if f := s.iam.busAdmits(other, bus); f == nil || !strings.Contains(f.Message, "because no resource-based policy allows the events:PutEvents action") {
		t.Errorf("another role of an organization account: %+v", f)
	}
}
