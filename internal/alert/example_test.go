package alert_test

import (
	"fmt"
	"time"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/checks"
)

// A Service Catalog product that failed in a member account at 08:14, as its owner reads it.
func ExampleText() {
	a := alert.Alert{EventID: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", EventTime: time.Date(2026, 12, 6, 8, 14, 0, 0, time.UTC),
		Kind: alert.KindStack, Severity: checks.Critical, AccountID: "222233334444", AccountName: "payments-prod", Region: "eu-west-1",
		StackName: "SC-222233334444-pp-abcdefgh12345", Status: "UPDATE_ROLLBACK_FAILED",
		Reason:     "The following resource(s) failed to update: [Bucket].",
		ConsoleURL: "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/stackinfo?stackId=arn%3Aaws%3Acloudformation%3Aeu-west-1%3A222233334444%3Astack%2FSC-222233334444-pp-abcdefgh12345%2F1",
		Product:    &alert.Product{ID: "pp-abcdefgh12345", Name: "payments-bucket", Product: "Encrypted bucket", Version: "v2.1"}}
	fmt.Println(alert.Subject("team-payments", []alert.Alert{a}))
	fmt.Print(alert.Text("team-payments", []alert.Alert{a}))
	// Output:
	// orgaudit alert: CRITICAL SC-222233334444-pp-abcdefgh12345 in payments-prod for team-payments
	// orgaudit alert: 1 failed stack in 1 account (1 critical)
	// Owner: team-payments
	//
	// 1. CRITICAL stack in account payments-prod (222233334444), eu-west-1
	//    Stack: SC-222233334444-pp-abcdefgh12345
	//    Status: UPDATE_ROLLBACK_FAILED
	//    Reason: The following resource(s) failed to update: [Bucket].
	//    Product: pp-abcdefgh12345 payments-bucket, product Encrypted bucket, version v2.1
	//    Console: https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/stackinfo?stackId=arn%3Aaws%3Acloudformation%3Aeu-west-1%3A222233334444%3Astack%2FSC-222233334444-pp-abcdefgh12345%2F1
	//    Event: 6a7e8feb-b491-4cf7-a9f1-bf3703467718 at 2026-12-06T08:14:00Z
}

// The same alert as the chat card Amazon Q Developer in chat applications shows.
func ExampleChatJSON() {
	a := alert.Alert{EventID: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", EventTime: time.Date(2026, 12, 6, 8, 14, 0, 0, time.UTC),
		Kind: alert.KindInstance, Severity: checks.Critical, AccountID: "222233334444", AccountName: "payments-prod", Region: "eu-west-1",
		StackName: "StackSet-baseline-1f2e", StackSetARN: "arn:aws:cloudformation:eu-west-1:111122223333:stackset/baseline:1f2e",
		Status: "OUTDATED", DetailedStatus: "FAILED", Reason: "ResourceLogicalId:Role, ResourceType:AWS::IAM::Role, ResourceStatusReason:Access denied."}
	card, _ := alert.ChatJSON("team-payments", []alert.Alert{a})
	fmt.Println(string(card))
	// Output:
	// {"version":"1.0","source":"custom","content":{"textType":"client-markdown","title":"`team-payments` orgaudit alert: 1 failed stack","description":"*Owner:* `team-payments`\n*Failed:* 1 failed stack in 1 account (1 critical)\n• critical `payments-prod` (`222233334444`) `eu-west-1`: `StackSet-baseline-1f2e` `OUTDATED (FAILED)` - `ResourceLogicalId:Role, ResourceType:AWS::IAM::Role, ResourceStatusReason:Access denied.`","keywords":["orgaudit","alert","team-payments","critical"]}}
}
