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

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// forwardedEvent is a failed stack as the member's rule forwards it: the detail of a CloudFormation Stack Status Change.
func forwardedEvent(bus string) ebtypes.PutEventsRequestEntry {
	return ebtypes.PutEventsRequestEntry{EventBusName: aws.String(bus), Source: aws.String("aws.cloudformation"),
		DetailType: aws.String("CloudFormation Stack Status Change"),
		Detail:     aws.String(`{"stack-id":"arn:aws:cloudformation:us-east-1:222222222222:stack/app/1","status-details":{"status":"CREATE_FAILED","status-reason":"x"}}`)}
}

// withStatus is e with another stack status.
func withStatus(e ebtypes.PutEventsRequestEntry, status string) ebtypes.PutEventsRequestEntry {
	e.Detail = aws.String(strings.Replace(aws.ToString(e.Detail), "CREATE_FAILED", status, 1))
	return e
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

// TestForwardingRolePutsOnlyOnTheAlertBus: a member account's forwarding role (member-role.yaml) may put events on the
// management account's alert bus, which its policy (management.yaml) opens to the organization; it may not put them
// anywhere else, no other principal of the member may put them there, and a bus policy for another organization
// refuses it, in IAM's words, with EventBridge's AccessDeniedException.
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
	out, err := fwd.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{forwardedEvent(bus)}})
	if err != nil || out.FailedEntryCount != 0 || len(out.Entries) != 1 || aws.ToString(out.Entries[0].EventId) == "" {
		t.Fatalf("the forwarding role could not put on the alert bus: %v %+v", err, out)
	}
	if got := sim.BusEvents(); len(got) != 1 || got[0].Bus != bus || got[0].Account != member || got[0].DetailType != "CloudFormation Stack Status Change" {
		t.Errorf("the bus holds %+v", got)
	}

	// The alert bus's rule puts the failure on the alert queue, which Lambda reads with the execution role for the
	// function; an event that is no failure stays out.
	_, err = fwd.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{withStatus(forwardedEvent(bus), "CREATE_COMPLETE")}})
	if err != nil {
		t.Fatal(err)
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
	// principals, whatever their own policy allows.
	other := testkit.DemoDeployment(org)
	other.ManagementParameters["OrganizationId"] = "o-zzzzzzzzzz"
	otherSim := testkit.StartEnforced(t, org, other)
	_, err = asRole(otherSim).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{forwardedEvent(bus)}})
	refused("a principal outside the bus policy's organization", err, "because no resource-based policy allows the events:PutEvents action")
	if n := len(otherSim.BusEvents()) + len(sim.BusEvents()); n != 2 {
		t.Errorf("%d events accepted, want only the two the forwarding role put on the alert bus", n)
	}

	// Without alerts in the management stack there is no bus: a member that forwards to it is a deployment error.
	off := testkit.DemoDeployment(org)
	off.ManagementParameters["Alerts"] = "false"
	if err := awssim.New(org).EnforceTemplates(off); err == nil || !strings.Contains(err.Error(), "does not create") {
		t.Errorf("a member forwarding to a bus the management stack does not create: %v", err)
	}
}
