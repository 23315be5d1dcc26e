package awssim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// forwardedEvent is a failed stack as the member's rule forwards it: the detail of a CloudFormation Stack Status Change.
func forwardedEvent(bus string) ebtypes.PutEventsRequestEntry {
	return ebtypes.PutEventsRequestEntry{EventBusName: aws.String(bus), Source: aws.String("aws.cloudformation"),
		DetailType: aws.String("CloudFormation Stack Status Change"),
		Detail:     aws.String(`{"stack-id":"arn:aws:cloudformation:us-east-1:222222222222:stack/app/1","status-details":{"status":"CREATE_FAILED","status-reason":"x"}}`)}
}

// memberWithStackSet is a member account the StackSet reached (it holds the audit role, so the forwarding role too).
func memberWithStackSet(t *testing.T, org *awssim.Organization) string {
	t.Helper()
	for _, a := range org.Accounts {
		if _, ok := a.Roles[awssim.DemoRoleName]; ok && a.ID != org.ManagementAccountID {
			return a.ID
		}
	}
	t.Fatal("no member account holds the StackSet's roles")
	return ""
}

// failedStack is a stack's failure as CloudFormation puts it on the member account's default bus.
func failedStack(status string) awssim.ServiceEvent {
	return awssim.ServiceEvent{Source: "aws.cloudformation", DetailType: "CloudFormation Stack Status Change",
		Detail: `{"stack-id":"arn:aws:cloudformation:us-east-1:222222222222:stack/app/1","status-details":{"status":"` + status + `","status-reason":"x"}}`}
}

// TestForwardingRolePutsOnlyOnTheAlertBus: CloudFormation's event in a member account reaches the management account's
// alert bus by the member template's rule, delivered with the forwarding role (member-role.yaml), which the bus's
// policy (management.yaml) admits; the role may not put events anywhere else, no other principal of the member may
// put them there, and a bus policy for another organization refuses the delivery, in IAM's words, with EventBridge's
// AccessDeniedException, which the rule counts as a failed invocation.
func TestForwardingRolePutsOnlyOnTheAlertBus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	org := awssim.Demo(time.Now())
	d := testkit.DemoDeployment(org)
	sim := testkit.StartEnforced(t, org, d)
	member := memberWithStackSet(t, org)
	bus := d.MemberParameters["AlertBusArn"]
	role := sim.TemplateRole("AlertForwardingRole")
	if role == nil || !role.Member {
		t.Fatal("the member template's forwarding role is not enforced")
	}
	asRole := func(s *awssim.Server) *eventbridge.Client {
		cfg, err := s.ConfigAsRole(fmt.Sprintf("arn:aws:iam::%s:role/%s", member, role.Name), "events", d.Region)
		if err != nil {
			t.Fatal(err)
		}
		return eventbridge.NewFromConfig(cfg)
	}
	fwd := asRole(sim)
	id, err := sim.EmitServiceEvent(member, d.Region, failedStack("CREATE_FAILED"))
	if err != nil {
		t.Fatal(err)
	}
	if f := sim.FailedInvocations(); len(f) != 0 {
		t.Fatalf("the forwarding rule could not deliver to the alert bus: %+v", f)
	}
	home := fmt.Sprintf("arn:aws:events:%s:%s:event-bus/default", d.Region, member)
	if got := sim.BusEvents(); len(got) != 2 || got[0].Bus != home || got[1].Bus != bus || got[1].EventID != id || got[1].Account != member ||
		got[1].Source != "aws.cloudformation" || got[1].DetailType != "CloudFormation Stack Status Change" {
		t.Errorf("the buses hold %+v", got)
	}

	// The alert bus's rule puts the failure on the alert queue, which Lambda reads with the execution role for the
	// function; an event that is no failure stays on the member's own bus.
	if _, err := sim.EmitServiceEvent(member, d.Region, failedStack("CREATE_COMPLETE")); err != nil {
		t.Fatal(err)
	}
	if got := sim.BusEvents(); len(got) != 3 || got[2].Bus != home {
		t.Errorf("a stack that did not fail went further than the member's bus: %+v", got)
	}
	queue := ""
	for _, u := range sim.Queues() {
		if strings.HasSuffix(u, "-AlertQueue") {
			queue = u
		}
	}
	lambda := sqs.NewFromConfig(sim.Config(org.ManagementAccountID, d.Region))
	if _, err := lambda.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}}); err != nil {
		t.Fatalf("the execution role reads the alert queue %q: %v", queue, err)
	}
	msgs, err := lambda.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10})
	if err != nil || len(msgs.Messages) != 1 || !strings.Contains(aws.ToString(msgs.Messages[0].Body), `"status":"CREATE_FAILED"`) {
		t.Fatalf("the alert queue holds %+v (%v), want the one failure", msgs, err)
	}
	if _, err := lambda.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: msgs.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(sim.Config(member, d.Region)).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue)}); err == nil ||
		apiError(t, err).ErrorCode() != "AccessDeniedException" {
		t.Errorf("a member's audit role read the alert queue: %v", err)
	}

	refused := func(name string, err error, because string) {
		t.Helper()
		api := apiError(t, err)
		if api.ErrorCode() != "AccessDeniedException" || !strings.Contains(api.ErrorMessage(), "is not authorized to perform: events:PutEvents on resource: ") ||
			!strings.Contains(api.ErrorMessage(), because) {
			t.Errorf("%s: %s %s", name, api.ErrorCode(), api.ErrorMessage())
		}
	}
	// Its own default bus: its policy names the alert bus only.
	_, err = fwd.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{forwardedEvent("default")}})
	refused("the forwarding role on its own default bus", err, "because no identity-based policy allows the events:PutEvents action")
	// The member's audit role may not forward.
	_, err = eventbridge.NewFromConfig(sim.Config(member, d.Region)).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{forwardedEvent(bus)}})
	refused("the audit role on the alert bus", err, "because no identity-based policy allows the events:PutEvents action")

	// The bus's policy admits the organization it names: deployed for another organization, it refuses this one's
	// forwarding role, whatever the role's own policy allows; the member's rule counts the failed invocation.
	other := testkit.DemoDeployment(org)
	other.ManagementParameters["OrganizationId"] = "o-zzzzzzzzzz"
	otherSim := testkit.StartEnforced(t, org, other)
	if _, err := otherSim.EmitServiceEvent(member, d.Region, failedStack("CREATE_FAILED")); err != nil {
		t.Fatal(err)
	}
	failed := otherSim.FailedInvocations()
	if len(failed) != 1 || failed[0].Target != bus || !strings.HasSuffix(failed[0].Rule, ":rule/orgaudit-FailedStackForwardingRule") {
		t.Fatalf("the refused delivery was not counted: %+v", failed)
	}
	// It waits in the member's dead-letter queue, which admits the rule.
	if want := fmt.Sprintf("arn:aws:sqs:%s:%s:orgaudit-FailedStackDeadLetterQueue", d.Region, member); failed[0].DeadLetterQueue != want {
		t.Errorf("the refused event waits in %q, want %q", failed[0].DeadLetterQueue, want)
	}
	refused("a principal outside the bus policy's organization", &smithy.GenericAPIError{Code: failed[0].Code, Message: failed[0].Message},
		"because no resource-based policy allows the events:PutEvents action")
	if n := len(otherSim.BusEvents()) + len(sim.BusEvents()); n != 4 {
		t.Errorf("%d events on buses, want the three of the first deployment and the refused one on its member's bus", n)
	}

	// Without alerts in the management stack there is no bus: a member that forwards to it is a deployment error.
	off := testkit.DemoDeployment(org)
	off.ManagementParameters["Alerts"] = "false"
	if err := awssim.New(org).EnforceTemplates(off); err == nil || !strings.Contains(err.Error(), "does not create") {
		t.Errorf("a member forwarding to a bus the management stack does not create: %v", err)
	}
}

// TestPutEventsRefusesAnAWSSource: no caller may put an event with a source of AWS's own (aws.*) on a bus, whatever
// its policy allows: EventBridge answers that entry with NotAuthorizedForSourceException in the PutEvents result, and
// only a rule delivering a service's event (Server.EmitServiceEvent) carries aws.cloudformation to the alert bus.
func TestPutEventsRefusesAnAWSSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	org := awssim.Demo(time.Now())
	d := testkit.DemoDeployment(org)
	sim := testkit.StartEnforced(t, org, d)
	member := memberWithStackSet(t, org)
	bus := d.MemberParameters["AlertBusArn"]
	cfg, err := sim.ConfigAsRole(fmt.Sprintf("arn:aws:iam::%s:role/%s", member, sim.TemplateRole("AlertForwardingRole").Name), "events", d.Region)
	if err != nil {
		t.Fatal(err)
	}
	own := forwardedEvent(bus)
	own.Source = aws.String("com.example.app")
	out, err := eventbridge.NewFromConfig(cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{forwardedEvent(bus), own}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || len(out.Entries) != 2 || aws.ToString(out.Entries[0].ErrorCode) != "NotAuthorizedForSourceException" ||
		aws.ToString(out.Entries[0].ErrorMessage) != "You do not have permissions to publish events with this source onto this event bus." ||
		aws.ToString(out.Entries[0].EventId) != "" || aws.ToString(out.Entries[1].EventId) == "" {
		t.Fatalf("PutEvents answered %+v", out)
	}
	if got := sim.BusEvents(); len(got) != 1 || got[0].Source != "com.example.app" {
		t.Errorf("the bus holds %+v, want only the application's event", got)
	}
}

// stackInstance is a StackSet stack instance's status change as CloudFormation puts it on the StackSet
// administrator's default bus (the user guide's event detail reference).
func stackInstance(member, status, detailed string) awssim.ServiceEvent {
	return awssim.ServiceEvent{Source: "aws.cloudformation", DetailType: "CloudFormation StackSet StackInstance Status Change",
		Detail: `{"stack-set-arn":"arn:aws:cloudformation:us-east-1:111111111111:stackset/baseline:e5f5","stack-id":"arn:aws:cloudformation:us-east-1:` + member +
			`:stack/StackSet-baseline-0a1b/7c2e","action":"UPDATE","status-details":{"status":"` + status + `","status-reason":"x","detailed-status":"` + detailed + `"}}`}
}

// alertQueue is the URL of the management template's alert queue.
func alertQueue(t *testing.T, sim *awssim.Server) string {
	t.Helper()
	for _, u := range sim.Queues() {
		if strings.HasSuffix(u, "-AlertQueue") {
			return u
		}
	}
	t.Fatalf("no alert queue among %v", sim.Queues())
	return ""
}

// TestTheManagementAccountsOwnEventsReachTheAlertQueue: no member rule forwards the management account's own failed
// stacks, nor the stack instance changes CloudFormation reports to the StackSet's administrator: the management
// template's rules on its default bus (DefaultBusStackRule, DefaultBusStackInstanceRule) put them on the alert queue,
// whose policy admits those rules by their ARN (aws:SourceArn). A change that is no failure stays on the bus; a queue
// policy that names another rule refuses the delivery, a failed invocation whose dead letter the same policy refuses
// too; an account or region where nothing is deployed is the caller's error, not an event quietly seen by no rule.
func TestTheManagementAccountsOwnEventsReachTheAlertQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	org := awssim.Demo(time.Now())
	d := testkit.DemoDeployment(org)
	sim := testkit.StartEnforced(t, org, d)
	home, member := org.ManagementAccountID, memberWithStackSet(t, org)
	for _, e := range []awssim.ServiceEvent{failedStack("UPDATE_ROLLBACK_FAILED"), stackInstance(member, "OUTDATED", "FAILED"),
		failedStack("CREATE_COMPLETE"), stackInstance(member, "CURRENT", "SUCCEEDED")} {
		if _, err := sim.EmitServiceEvent(home, d.Region, e); err != nil {
			t.Fatal(err)
		}
	}
	if f := sim.FailedInvocations(); len(f) != 0 {
		t.Fatalf("the management account's rules could not deliver: %+v", f)
	}
	msgs, err := sqs.NewFromConfig(sim.Config(home, d.Region)).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(alertQueue(t, sim)), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range msgs.Messages {
		bodies = append(bodies, aws.ToString(m.Body))
	}
	if len(bodies) != 2 || !strings.Contains(bodies[0], `"status":"UPDATE_ROLLBACK_FAILED"`) || !strings.Contains(bodies[0], `"account":"`+home+`"`) ||
		!strings.Contains(bodies[1], `"detail-type":"CloudFormation StackSet StackInstance Status Change"`) || !strings.Contains(bodies[1], `"detailed-status":"FAILED"`) {
		t.Errorf("the alert queue holds %q, want the failed stack and the failed instance only", bodies)
	}

	for _, where := range [][2]string{{home, "eu-west-1"}, {member, "eu-west-1"}, {"210987654321", d.Region}} {
		if _, err := sim.EmitServiceEvent(where[0], where[1], failedStack("CREATE_FAILED")); err == nil {
			t.Errorf("an event in %s %s, where nothing is deployed, was accepted", where[0], where[1])
		}
	}
	unreached := 0
	for _, a := range org.Accounts {
		if _, ok := a.Roles[awssim.DemoRoleName]; !ok && a.ID != home && a.State == "ACTIVE" {
			unreached++
			if _, err := sim.EmitServiceEvent(a.ID, d.Region, failedStack("CREATE_FAILED")); err == nil || !strings.Contains(err.Error(), "neither template is deployed") {
				t.Errorf("an event in %s, which the StackSet never reached: %v", a.ID, err)
			}
		}
	}
	if unreached == 0 {
		t.Error("the demo has no active account the StackSet never reached")
	}

	other := testkit.DemoDeployment(org)
	policy := "                  - !GetAtt DefaultBusStackRule.Arn\n"
	if !strings.Contains(string(other.Management), policy) {
		t.Fatal("management.yaml's alert queue policy no longer names DefaultBusStackRule as the test expects")
	}
	other.Management = []byte(strings.Replace(string(other.Management), policy,
		"                  - !Sub \"arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/another\"\n", 1))
	otherSim := testkit.StartEnforced(t, org, other)
	if _, err := otherSim.EmitServiceEvent(home, d.Region, failedStack("CREATE_FAILED")); err != nil {
		t.Fatal(err)
	}
	failed := otherSim.FailedInvocations()
	if len(failed) != 1 || !strings.HasSuffix(failed[0].Rule, "-DefaultBusStackRule") || !strings.HasSuffix(failed[0].Target, "-AlertQueue") ||
		failed[0].DeadLetterQueue != "" || failed[0].Code == "" {
		t.Errorf("a queue policy naming another rule: failed invocations %+v, want DefaultBusStackRule's, its dead letter refused too", failed)
	}
	out, err := sqs.NewFromConfig(otherSim.Config(home, d.Region)).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(alertQueue(t, otherSim)), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 0 {
		t.Errorf("the queue whose policy refuses the rule holds %+v (%v)", out, err)
	}
}
