package awssim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

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

// TestDelegatedAdminDeploymentReadsAccountNamesAndTags: deployed in a delegated administrator (Deployment.Account),
// the function reads an account's name (an alert's) and its owner tags with the execution role's grants; the
// accounts' ARNs carry the management account's id, not the deploying account's, as Organizations writes them.
func TestDelegatedAdminDeploymentReadsAccountNamesAndTags(t *testing.T) {
	t.Parallel()
	org := Demo(time.Now())
	const admin = "888888888888"
	org.DelegatedAdmins = []string{admin}
	d := DemoDeployment(org, templates.Management, templates.MemberRole, "")
	d.Account = admin
	d.MemberParameters["AlertBusArn"] = strings.Replace(d.MemberParameters["AlertBusArn"], ":"+org.ManagementAccountID+":", ":"+admin+":", 1)
	s := New(org)
	if err := s.EnforceTemplates(d); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if r := s.iam.jobRole(admin); r == nil || r.LogicalID != "ExecutionRole" {
		t.Fatalf("the function's role in the delegated administrator is %+v", r)
	}
	client := organizations.NewFromConfig(s.Config(admin, d.Region), func(o *organizations.Options) { o.RetryMaxAttempts = 1 })
	ctx := context.Background()
	out, err := client.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("333333333333")})
	if err != nil || !strings.Contains(aws.ToString(out.Account.Arn), "::"+org.ManagementAccountID+":account/") {
		t.Errorf("DescribeAccount from the delegated administrator: %+v, %v", out, err)
	}
	if _, err := client.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("222222222222")}); err != nil {
		t.Errorf("ListTagsForResource from the delegated administrator: %v", err)
	}
	if den := s.Denials(); len(den) != 0 {
		t.Errorf("refused: %+v", den)
	}
}

// TestADeadLetterNeedsTheQueuesPolicy: EventBridge writes a rule's dead letters as events.amazonaws.com for that
// rule (aws:SourceArn); a queue whose policy admits another rule gets none, and the refused event is lost.
func TestADeadLetterNeedsTheQueuesPolicy(t *testing.T) {
	t.Parallel()
	org := Demo(time.Now())
	member := org.Accounts[1].ID
	for name, want := range map[string]string{
		"shipped":    "arn:aws:sqs:us-east-1:" + member + ":orgaudit-FailedStackDeadLetterQueue",
		"other rule": "",
	} {
		d := DemoDeployment(org, templates.Management, templates.MemberRole, "")
		if name == "other rule" {
			d.MemberRole = []byte(strings.Replace(string(d.MemberRole), "aws:SourceArn: !GetAtt FailedStackForwardingRule.Arn",
				`aws:SourceArn: !Sub "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/another"`, 1))
		}
		s := New(org)
		if err := s.EnforceTemplates(d); err != nil {
			t.Fatal(err)
		}
		rules, deployed, err := s.iam.memberRules(member, d.Region)
		if err != nil || !deployed || len(rules) != 1 || len(rules[0].targets) != 1 {
			t.Fatalf("%s: the member's rules %+v (deployed %v), %v", name, rules, deployed, err)
		}
		if got := rules[0].targets[0].deadLetter; got != want {
			t.Errorf("%s: dead letters go to %q, want %q", name, got, want)
		}
	}
}
