// Package alert is the event-driven path: a CloudFormation stack that fails in a member account, or a StackSet stack
// instance that fails to deploy, is told to its owner within minutes rather than in the next daily digest.
//
// The path, end to end:
//
//   - Each member account's default bus has a rule (member-role template) matching "CloudFormation Stack Status
//     Change" events whose status is one the cloudformation-failed-stacks check calls a failure; its target is the
//     management (or delegated admin) account's alert bus, through a role allowed only events:PutEvents on it.
//   - In the management account, a rule on that bus (and one on its default bus, for its own stacks and the
//     "CloudFormation StackSet StackInstance Status Change" events a StackSet's administrator receives) sends the
//     events to a queue. The function reads the queue in batches gathered over a short window, so a burst (one
//     StackSet operation failing in 500 accounts) is one batch and one grouped alert per owner, not 500 messages. A
//     record the function could not handle is returned as a batch item failure and retried, then kept in the
//     dead-letter queue, whose alarm tells the operator: none is lost.
//   - Each event is classified by the check's own rule (checks.StackFailure, checks.StackInstanceFailure), built into
//     an Alert (the account's name, the Service Catalog product behind an SC-<account>-pp-<id> stack, read with the
//     audit role as the check reads it), routed to its owner as digests are, sent at most once per event id (the
//     claim digests use), and recorded so the next daily digest says it was alerted.
package alert

import (
	"fmt"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// The two events the path handles, as the CloudFormation user guide's event detail reference names them.
const (
	Source               = "aws.cloudformation"
	StackStatusChange    = "CloudFormation Stack Status Change"
	InstanceStatusChange = "CloudFormation StackSet StackInstance Status Change"
)

// InvalidEventError: the event is not one of the shapes the path handles (not JSON, another source or detail type,
// a field missing or of the wrong type). It is refused, never guessed at: the Lambda answers it with this error type,
// and `audit alert` exits 2.
type InvalidEventError struct {
	Reason string
}

func (e *InvalidEventError) Error() string { return "invalid event: " + e.Reason }

// Event is one EventBridge event of the two shapes, decoded and checked. Exactly one of Stack and Instance is set.
type Event struct {
	// ID is EventBridge's event id: the key that makes the alert at most once (EventBridge delivers at least once).
	ID         string
	DetailType string
	// Account and Region are where the stack is (for a stack instance event, the account and region the detail's
	// stack-id names, not the administrator account that received it).
	Account  string
	Region   string
	Time     time.Time
	Stack    *StackDetail
	Instance *InstanceDetail
}

// StackDetail is a "CloudFormation Stack Status Change" event's detail.
type StackDetail struct {
	StackID      string
	Status       string
	StatusReason string
	// ClientRequestToken is shared by every event of one stack operation.
	ClientRequestToken string
}

// InstanceDetail is a "CloudFormation StackSet StackInstance Status Change" event's detail.
type InstanceDetail struct {
	StackSetARN    string
	StackID        string
	Action         string
	Status         string
	StatusReason   string
	DetailedStatus string
}

// Kind says what failed.
type Kind string

const (
	KindStack    Kind = "stack"
	KindInstance Kind = "stack-instance"
)

// Alert is one failure as its owner is told of it. Text fields hold AWS's text cleaned as digests clean it (one
// line, no control or bidirectional characters), so a status reason cannot forge a line of the message.
type Alert struct {
	EventID   string          `json:"event_id"`
	EventTime time.Time       `json:"event_time"`
	Kind      Kind            `json:"kind"`
	Severity  checks.Severity `json:"severity"`

	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name,omitempty"`
	Region      string `json:"region"`
	// Owner is whom it is routed to (the account's owner tag as the last run read it, else its OU path); OwnerAddress
	// is set when the owner is an email address SES may send to.
	Owner string `json:"owner,omitempty"`

	StackName string `json:"stack_name"`
	StackID   string `json:"stack_id"`
	// StackSetARN is set for a stack instance's alert.
	StackSetARN    string `json:"stack_set_arn,omitempty"`
	Status         string `json:"status"`
	DetailedStatus string `json:"detailed_status,omitempty"`
	// InstanceStatus is set on a stack's alert a message merged with its stack instance's (see render.go's merge):
	// the instance's status, DetailedStatus its detailed status.
	InstanceStatus string `json:"instance_status,omitempty"`
	Reason         string `json:"reason,omitempty"`
	ConsoleURL     string `json:"console_url,omitempty"`

	// Product is the Service Catalog provisioned product behind an SC-<account>-pp-<id> stack; ProductUnread says why
	// it could not be read (the alert goes out all the same, saying so).
	Product       *Product `json:"product,omitempty"`
	ProductUnread string   `json:"product_unread,omitempty"`
}

// Product is a provisioned product as the servicecatalog-products check names it.
type Product struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Product string `json:"product,omitempty"`
	Version string `json:"version,omitempty"`
}

// Identity is the finding the daily audit would report for the alert: the cloudformation-failed-stacks check's
// finding on the stack, in its account and region.
func (a Alert) Identity() (check, account, region, resourceID string) {
	return checks.CloudFormationFailedStacks{}.Name(), a.AccountID, a.Region, a.StackName
}

// Record is what the path keeps of an alert it sent, for the next daily digest: stored under the report bucket's
// prefix at RecordKey.
type Record struct {
	Alert Alert `json:"alert"`
	// AlertedAt is when the owner was told: the alert's publication (or email), what the digest shows.
	AlertedAt time.Time `json:"alerted_at"`
	// RecordedAt is when the sender wrote this record, by its clock: the digest's window goes by it, not by
	// AlertedAt. A record written on a retry (its first write failed, or its sender died after sending) is dated
	// later than its alert; a run that came between could not see it, so the next run's window must hold it.
	RecordedAt time.Time `json:"recorded_at"`
	// MessageIDs are the SNS message ids of the grouped alert it went out in.
	MessageIDs []string `json:"message_ids,omitempty"`
}

// RecordKey is where an alert's record lives: prefix/alerts/YYYY/MM/DD/<event id>.json, dated by the event, so a
// digest reads the days since its previous run. The event id is EventBridge's (a UUID); anything else is refused
// by Decode before a key is made of it.
func RecordKey(prefix string, eventTime time.Time, eventID string) string {
	return fmt.Sprintf("%salerts/%s/%s.json", prefixDir(prefix), eventTime.UTC().Format("2006/01/02"), eventID)
}

func prefixDir(prefix string) string {
	for len(prefix) > 0 && prefix[0] == '/' {
		prefix = prefix[1:]
	}
	for len(prefix) > 0 && prefix[len(prefix)-1] == '/' {
		prefix = prefix[:len(prefix)-1]
	}
	if prefix == "" {
		return ""
	}
	return prefix + "/"
}
