// Package grants is what the deployed roles must grant, derived from the code: the templates' tests, the README's
// test and the simulator's IAM sweep hold the templates and the README equal to these. Only tests import it; the
// job's calls are each room's own (checks' Actions, crossaccount's and delivery's action lists).
package grants

import (
	"slices"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/pricing"
)

// LambdaLogActions are what the Lambda runtime calls with the execution role to write the function's logs.
var LambdaLogActions = []string{"logs:CreateLogStream", "logs:PutLogEvents"}

// LambdaDestinationActions are what Lambda calls with the execution role to send an invocation that failed after its
// retries to the function's on-failure destination (management.yaml's FailedRunsQueue). No code of ours calls them.
var LambdaDestinationActions = []string{"sqs:SendMessage"}

// LambdaEventSourceActions are what Lambda calls with the execution role to read the alert queue for the function's
// event source mapping (management.yaml's AlertQueue, with Alerts on): the three the Lambda developer guide names for
// an SQS event source. No code of ours calls them: the function receives the messages as its event. The simulator
// plays Lambda's poller (internal/audit's IAM tests), so they are held like the code's actions.
var LambdaEventSourceActions = []string{"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}

// AlertForwardingActions are what EventBridge calls with a member account's forwarding role (member-role.yaml's
// AlertForwardingRole, with AlertBusArn set) to put a failed stack's event on the alert bus. No code of ours calls it.
var AlertForwardingActions = []string{"events:PutEvents"}

// HistoryActions are what the run's memory calls on the report bucket (internal/history's S3 store and the
// suppressions file): reading and writing <prefix>/history/*, listing that prefix, reading <prefix>/suppressions.yaml
// (and listing its name). HistoryKMSActions are added with a KMS key: the states are written with it, and read back.
var (
	HistoryActions    = []string{"s3:GetObject", "s3:ListBucket", "s3:PutObject"}
	HistoryKMSActions = []string{"kms:Decrypt", "kms:GenerateDataKey"}
)

// MemberRoleActions are exactly what the job calls with a member account's role: every check's reads and the
// enabled-region lookup. deploy/cloudformation/member-role.yaml grants this set and nothing else; a test holds them
// equal, so a check that forgets to declare an action fails it.
func MemberRoleActions() []string {
	var out []string
	for _, c := range checks.All() {
		out = append(out, c.Actions()...)
	}
	return sortedSet(append(out, crossaccount.MemberActions...))
}

// ExecutionRoleActions are what the Lambda's own role needs: listing the organization and assuming member roles, the
// alerts' reads (the account's name), delivery (to a topic encrypted with KMS, as the template's is), its logs,
// on-failure destination and alert queue, and the member reads too, because the account the job runs in is audited
// with the job's own credentials (a service-managed
// StackSet never deploys to the management account). withOptional adds what the optional features need: the
// report bucket's KMS key, email through SES, and the on-demand rates (the template's OnDemandRates).
func ExecutionRoleActions(withOptional bool) []string {
	out := append(append(append([]string{}, crossaccount.ManagementActions...), delivery.Actions...), LambdaLogActions...)
	out = append(out, alert.Actions...)
	out = append(append(append(out, delivery.TopicKMSActions...), LambdaDestinationActions...), LambdaEventSourceActions...)
	out = append(append(out, MemberRoleActions()...), HistoryActions...)
	if withOptional {
		out = append(append(append(out, delivery.KMSActions...), HistoryKMSActions...), delivery.EmailActions...)
		out = append(out, pricing.Action)
	}
	return sortedSet(out)
}

// LinkRoleActions are what the link-signing role needs: the emailed link's GET is evaluated as its session.
func LinkRoleActions(withKMS bool) []string {
	out := append([]string{}, delivery.LinkActions...)
	if withKMS {
		out = append(out, delivery.LinkKMSActions...)
	}
	return sortedSet(out)
}

func sortedSet(in []string) []string {
	out := append([]string(nil), in...)
	slices.Sort(out)
	return slices.Compact(out)
}
