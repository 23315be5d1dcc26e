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
