package cloudformation_test

import (
	"os"
	"strings"
	"testing"
)

// alertsSection is README's "Alerts within minutes" section, which tells the operator what the templates do, its
// whitespace folded to single spaces (a phrase may wrap).
func alertsSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "\n## Alerts within minutes\n")
	if start < 0 {
		t.Fatal("README has no section \"Alerts within minutes\"")
	}
	end := strings.Index(s[start+1:], "\n## ")
	if end < 0 {
		t.Fatal("README's alerts section has no end")
	}
	return strings.Join(strings.Fields(s[start:start+1+end]), " ")
}

// TestReadmeSaysWhereAMembersUndeliveredFailuresAre: the member rule's refused deliveries wait in a queue of the
// member account, which the management account cannot read and no alarm there watches. EventBridge's guide: "for
// errors that result from missing permissions to a target, or a target resource that no longer exists, all retry
// attempts fail until an action is taken to resolve the underlying issue. Rather than retrying, EventBridge sends
// these events directly to the DLQ" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html), so a
// changed bus policy or a renamed forwarding role is not retried for a day: README must say so, and say how an
// operator sees those dead letters (the rule's metrics, per member account and region).
func TestReadmeSaysWhereAMembersUndeliveredFailuresAre(t *testing.T) {
	t.Parallel()
	s := alertsSection(t)
	rule := get(load(t, "member-role.yaml").root, "Resources", "FailedStackForwardingRule", "Properties", "Targets")
	if rule == nil || len(rule.Content) != 1 || get(rule.Content[0], "DeadLetterConfig", "Arn") == nil {
		t.Fatal("the member rule's target has no dead-letter queue: this test reads README against it")
	}
	for _, want := range []string{
		"without a retry",           // permission and missing-bus errors go straight to the dead-letter queue
		"`AlertForwardingRoleName`", // the mismatch that sends every member's failures there
		"`InvocationsSentToDlq`",    // how an operator sees them: the rule's metric in the member account
		"cannot see",                // and that the management side does not
		"cross-account observability",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("README's alerts section does not say %q", want)
		}
	}
	for _, wrong := range []string{"retries a delivery the alert bus refuses", "undelivered after a day"} {
		if strings.Contains(s, wrong) {
			t.Errorf("README's alerts section says %q: a refusal (the bus policy, a deleted bus) is not retried", wrong)
		}
	}
}

// TestReadmeSaysTheDelegatedAdminDoesNotWatchTheManagementAccount: a service-managed StackSet "doesn't deploy stack
// instances to the organization management account" (CloudFormation API reference, DeploymentTargets), and
// DefaultBusStackRule watches the account the management stack is in: with the stack in a delegated administrator,
// no rule sees the management account's own failed stacks unless the operator deploys the member template there.
func TestReadmeSaysTheDelegatedAdminDoesNotWatchTheManagementAccount(t *testing.T) {
	t.Parallel()
	s := alertsSection(t)
	if get(load(t, "management.yaml").root, "Resources", "DefaultBusStackRule", "Properties", "EventBusName") != nil {
		t.Fatal("DefaultBusStackRule is no longer on the stack account's default bus: this test reads README against it")
	}
	for _, want := range []string{"delegated administrator", "not watched", "as a plain stack"} {
		if !strings.Contains(s, want) {
			t.Errorf("README's alerts section does not say %q", want)
		}
	}
}
