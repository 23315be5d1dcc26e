package audit_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/orgaudit/orgaudit/internal/alert"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/testkit"
	"github.com/orgaudit/orgaudit/internal/testkit/grants"
)

// demoDeployment is the shipped templates deployed for org, with the demo's KMS key on the report bucket.
func demoDeployment(org *awssim.Organization) awssim.Deployment {
	return testkit.DemoDeployment(org)
}

// distributedDeployment deploys the templates in the distributed mode, whose roles are the single mode's and more: the
// function may read and write its run parts, and the state machine has its role. Every path runs both modes in it.
// It grants the on-demand rates too (OnDemandRates), which every path reads.
func distributedDeployment(org *awssim.Organization) awssim.Deployment {
	d := demoDeployment(org)
	d.ManagementParameters["Mode"] = "distributed"
	d.ManagementParameters["OnDemandRates"] = "true"
	return d
}

// fullDelivery is every path of delivery the code has, and the on-demand rates: SSE-KMS, the link signed by the link-signing role, a publish
// that fails once (so the marker is released) before the retry publishes, and a retry that reads the marker.
func fullDelivery(sim *awssim.Server) config.Settings {
	s := demoSettings()
	s.KMSKeyID = awssim.DemoKMSKeyARN
	s.LinkRoleARN = sim.TemplateRole("LinkSigningRole").ARN
	s.RunTime = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	s.MaxBackoff = time.Millisecond
	s.EmailFrom, s.EmailTo = "orgaudit <"+awssim.DemoEmailFrom+">", []string{awssim.DemoEmailTo}
	s.OnDemand = true
	return s
}

// runEveryPath runs the job three times against a simulator enforcing d (the first publish fails, the retry succeeds, the last finds it done) and
// downloads the emailed link. evidence is everything a person or the alarm sees: errors, results, the link's answer.
func runEveryPath(t *testing.T, d awssim.Deployment) (sim *awssim.Server, evidence string) {
	t.Helper()
	org := awssim.Demo(demoAsOf)
	// The management account is audited with the execution role: give it Service Catalog products in trouble too, so
	// that every read of that role is exercised.
	mgmt, shared := org.Accounts[0].Regions[awssim.DemoHomeRegion], org.Accounts[1].Regions[awssim.DemoHomeRegion]
	mgmt.ProvisionedProducts, mgmt.Artifacts, mgmt.Records = shared.ProvisionedProducts, shared.Artifacts, shared.Records
	sim = testkit.StartEnforced(t, org, d)
	// A suppressions file where the Lambda looks by default, with a rule that matches: it is listed, read and applied.
	if err := sim.PutObject(awssim.DemoBucket, config.SuppressionsKey("orgaudit"), []byte(everyPathSuppressions)); err != nil {
		t.Fatal(err)
	}
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := fullDelivery(sim)
	s.Suppressions, s.SuppressionsIfExists = "s3://"+awssim.DemoBucket+"/"+config.SuppressionsKey(s.Prefix), true
	var seen strings.Builder
	var logs testkit.Buffer // log lines written from the job's goroutines
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	// What a person sees of a result beyond its JSON: the digest's warnings and its "no previous run" line, as the
	// report renders them, verbatim (the JSON escapes the quotes in AWS's messages).
	shown := func(out *audit.Output) {
		for _, w := range out.Result.Warnings {
			fmt.Fprintf(&seen, "warning: %s\n", w)
		}
		fmt.Fprintf(&seen, "%s\n", out.Result.NoPrevious)
	}
	// Yesterday's run stores the history today's reads: its previous state, the trend's heads.
	yesterday := s
	yesterday.RunTime = s.RunTime.Add(-24 * time.Hour)
	out, err := audit.Run(context.Background(), cfg, yesterday, audit.Options{Logger: logger})
	fmt.Fprintf(&seen, "yesterday: err %v\n", err)
	if out != nil {
		shown(out)
	}
	var snsDown atomic.Bool
	snsDown.Store(true)
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "Publish" && snsDown.Load() {
			return &awssim.Fault{Status: 500, Code: "InternalError", Message: "SNS is having a bad day"}
		}
		return nil
	})
	// Three invocations of one run: the first publish fails (the marker is released), the retry publishes, and a
	// further retry finds the marker published.
	for i := 0; i < 3; i++ {
		// Each invocation has a deadline, as Lambda's do, shorter than a claim's lease: where a refused action leaves
		// a claim standing (no s3:DeleteObject to release it), the retry fails with ClaimHeldError at once instead of
		// waiting the lease out.
		ctx, cancel := context.WithTimeout(context.Background(), invocationTimeout)
		out, err := audit.Run(ctx, cfg, s, audit.Options{Logger: logger})
		cancel()
		fmt.Fprintf(&seen, "run %d: err %v\n", i, err)
		if out != nil {
			b, _ := json.Marshal(out.Result)
			fmt.Fprintf(&seen, "%s\n%s\n", b, out.Digest)
			shown(out)
			if i == 1 && out.Result.Report != nil && out.Result.Report.URL != "" {
				resp, err := http.Get(out.Result.Report.URL)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				fmt.Fprintf(&seen, "link: %d\n", resp.StatusCode)
				if resp.StatusCode != http.StatusOK {
					// What the browser shows: S3's XML error, its text unescaped.
					var e struct{ Code, Message string }
					if xml.Unmarshal(body, &e) != nil {
						e.Message = string(body)
					}
					fmt.Fprintf(&seen, "%s: %s\n", e.Code, e.Message)
				}
			}
		}
		snsDown.Store(false)
	}
	// A failed Service Catalog stack's alert, built as the function builds one: the account's name with the function's
	// own credentials, the product through the audit role.
	seen.WriteString(buildAlert(t, cfg, s, logger))
	// The same day's run an hour later, distributed: the plan, the shards and the report read and write their own
	// objects under <prefix>/runs/.
	dist := s
	dist.ShardSize = 5
	schedule := fmt.Sprintf(`{"source":"aws.scheduler","scheduled_time":%q}`, s.RunTime.Add(time.Hour).Format(time.RFC3339))
	seen.WriteString(runDistributed(sim, cfg, dist, schedule, logger))
	seen.WriteString(forwardFailedStack(t, sim, d))
	return sim, seen.String() + logs.String()
}

// buildAlert builds the alert of the sample failed product stack (internal/alert's testdata) in the shared-services
// account: what it says, and nothing of it lost when a read is refused (the refusal is in the logs).
func buildAlert(t *testing.T, cfg aws.Config, s config.Settings, logger *slog.Logger) string {
	t.Helper()
	raw, err := os.ReadFile("../alert/testdata/stack-status-change.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := alert.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	b := &alert.Builder{Config: cfg, Role: crossaccount.Role{Name: s.RoleName, ExternalID: s.ExternalID, SessionName: s.SessionName}, Log: logger}
	a, failure, err := b.Build(context.Background(), ev)
	js, _ := json.Marshal(a)
	return fmt.Sprintf("alert: failure %v, err %v\n%s\n", failure, err, js)
}

// forwardFailedStack is what EventBridge does when a stack fails in a member account (CloudFormation's event on the
// member's bus, which the member template's rule delivers to the management account's alert bus with the forwarding
// role), and what Lambda then does with the execution role to hand it to the function (read the alert queue the bus's
// rule put it on). Their answers are evidence like the runs': a refused delivery is the rule's failed invocation.
func forwardFailedStack(t *testing.T, sim *awssim.Server, d awssim.Deployment) string {
	t.Helper()
	if sim.TemplateRole("AlertForwardingRole") == nil {
		return "forward: the deployment has no forwarding role\n"
	}
	member := awssim.Demo(demoAsOf).Accounts[1].ID
	_, err := sim.EmitServiceEvent(member, d.Region, awssim.ServiceEvent{Source: "aws.cloudformation", DetailType: "CloudFormation Stack Status Change",
		Detail: `{"stack-id":"arn:aws:cloudformation:us-east-1:` + member + `:stack/app/1","status-details":{"status":"CREATE_FAILED"}}`})
	if err != nil {
		t.Fatal(err)
	}
	evidence := ""
	for _, f := range sim.FailedInvocations() {
		evidence += fmt.Sprintf("forward: failed invocation of %s: %s: %s\n", f.Rule, f.Code, f.Message)
	}
	// Lambda's poller for the alert function's event source mapping, with the execution role (the alert function's
	// role too): the queue's settings, a batch, and each handled message deleted.
	queue := ""
	for _, u := range sim.Queues() {
		if strings.HasSuffix(u, "-AlertQueue") {
			queue = u
		}
	}
	poller := sqs.NewFromConfig(sim.Config(awssim.Demo(demoAsOf).ManagementAccountID, d.Region))
	ctx := context.Background()
	_, err = poller.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	evidence += fmt.Sprintf("poll attributes: err %v\n", err)
	batch, err := poller.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10})
	evidence += fmt.Sprintf("poll receive: err %v\n", err)
	if err == nil {
		evidence += fmt.Sprintf("poll received %d\n", len(batch.Messages))
		for _, m := range batch.Messages {
			_, err := poller.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: m.ReceiptHandle})
			evidence += fmt.Sprintf("poll delete: err %v\n", err)
		}
	}
	return evidence
}

// everyPathSuppressions suppresses the management account's expiring reservation.
const everyPathSuppressions = `suppressions:
  - check: ec2-reserved-instances
    account_id: "111111111111"
    resource_id: ri-0mgmt*
    reason: renewal approved, PO 4411
    owner: finops@example.com
    expires: 2026-12-31
`

// notTheCodes are actions a template grants that no code of ours calls: the Lambda runtime writes the logs, Lambda
// sends an invocation that failed after its retries to the on-failure queue (both with the execution role, so the
// role must allow them, but no run of ours can show them used or refused), and EventBridge Scheduler invokes the
// function, and Step Functions runs the state machine with its own role (deploy/cloudformation's tests hold that role
// to the state machine's definition). Lambda's reads of the alert queue and EventBridge's forwarding are played by
// forwardFailedStack, so they are held like the code's.
func notTheCodes(r *awssim.TemplateRole, action string) bool {
	return r.LogicalID == "SchedulerRole" || r.LogicalID == "StateMachineRole" || slices.Contains(grants.LambdaLogActions, action) || slices.Contains(grants.LambdaDestinationActions, action)
}

// invocationTimeout is the deadline of each invocation runEveryPath makes: ample for a run of the demo under the race
// detector, and short of a claim's lease plus what a run keeps to take a claim over.
const invocationTimeout = delivery.DefaultLease - time.Minute

// TestTemplatesGrantExactlyWhatTheCodeUses runs every delivery path under enforcement and holds each role's
// allowed actions equal to the set the simulator authorized for it: nothing missing (the run would have been
// refused) and nothing unused.
func TestTemplatesGrantExactlyWhatTheCodeUses(t *testing.T) {
	t.Parallel()
	sim, evidence := runEveryPath(t, distributedDeployment(awssim.Demo(demoAsOf)))
	if d := sim.Denials(); len(d) != 0 {
		t.Fatalf("the shipped templates refused the code: %+v", d)
	}
	if !strings.Contains(evidence, "link: 200") {
		t.Fatalf("the emailed link did not download:\n%.3000s", evidence)
	}
	// Every path of the memory ran: today's run compared with yesterday's and applied the suppressions file.
	// And the distributed run's report merged every shard and delivered.
	for _, want := range []string{`"previous_run_id":"20261121T080000Z"`, `"suppression":{"reason":"renewal approved, PO 4411"`,
		// Partial: the demo's legacy-sandbox account has no audit role, so its cells fail in every mode.
		`{"step":"report","run_id":"20261122T090000Z","partial":true,"shards":3,"shards_failed":0`,
		// The alert of a failed product stack named its account and read its product through the audit role.
		`"account_name":"shared-services"`, `"product":{"id":"pp-sharederr0002","name":"transit-attachment","product":"VPC baseline","version":"v3.2.0"}`} {
		if !strings.Contains(evidence, want) {
			t.Errorf("the runs never showed %s:\n%.3000s", want, evidence)
		}
	}
	granted := sim.Granted()
	for _, r := range sim.TemplateRoles() {
		var allowed []string
		for _, a := range r.Actions {
			if !notTheCodes(r, a.Action) {
				allowed = append(allowed, a.Action)
			}
		}
		slices.Sort(allowed)
		allowed = slices.Compact(allowed)
		if used := awssim.ActionsOf(granted, r.Key()); !slices.Equal(allowed, used) {
			t.Errorf("%s allows %v; the code used %v", r.Key(), allowed, used)
		}
	}
	// The declared lists (README, code) agree with what was used.
	if used := awssim.ActionsOf(granted, "member-role.yaml/AuditRole"); !slices.Equal(used, grants.MemberRoleActions()) {
		t.Errorf("member role used %v, declared %v", used, grants.MemberRoleActions())
	}
	var declared []string
	for _, a := range grants.ExecutionRoleActions(true) {
		if !slices.Contains(grants.LambdaLogActions, a) && !slices.Contains(grants.LambdaDestinationActions, a) {
			declared = append(declared, a)
		}
	}
	if used := awssim.ActionsOf(granted, "management.yaml/ExecutionRole"); !slices.Equal(used, declared) {
		t.Errorf("execution role used %v, declared %v", used, declared)
	}
	if used := awssim.ActionsOf(granted, "member-role.yaml/AlertForwardingRole"); !slices.Equal(used, grants.AlertForwardingActions) {
		t.Errorf("forwarding role used %v, declared %v", used, grants.AlertForwardingActions)
	}
	if used := awssim.ActionsOf(granted, "management.yaml/LinkSigningRole"); !slices.Equal(used, grants.LinkRoleActions(true)) {
		t.Errorf("link role used %v, declared %v", used, grants.LinkRoleActions(true))
	}
}

// TestRemovingAnyActionFailsWithAWSsRefusal removes each action the code needs from its template, one at a time, and
// requires the run (or the emailed link) to fail with the service's own refusal naming that action.
func TestRemovingAnyActionFailsWithAWSsRefusal(t *testing.T) {
	t.Parallel()
	d := distributedDeployment(awssim.Demo(demoAsOf))
	roles, err := awssim.LoadTemplateRoles(awssim.Demo(demoAsOf), d)
	if err != nil {
		t.Fatal(err)
	}
	var mutations []awssim.PolicyAction
	for _, r := range roles {
		for _, a := range r.Actions {
			if !notTheCodes(r, a.Action) {
				mutations = append(mutations, a)
			}
		}
	}
	var failedAsExpected atomic.Int64
	t.Cleanup(func() {
		t.Logf("%d actions removed: %d failed with AWS's refusal naming the action", len(mutations), failedAsExpected.Load())
	})
	for _, m := range mutations {
		t.Run(m.Role+"/"+m.Sid+"/"+m.Action, func(t *testing.T) {
			t.Parallel()
			mutated, err := d.Without(m)
			if err != nil {
				t.Fatal(err)
			}
			sim, evidence := runEveryPath(t, mutated)
			var named []awssim.Denial
			for _, den := range sim.Denials() {
				if den.Action == m.Action && den.Role == m.Template+"/"+m.Role {
					named = append(named, den)
				}
			}
			if len(named) == 0 {
				t.Fatalf("without %s the code was never refused it; denials %+v", m.Action, sim.Denials())
			}
			den := named[0]
			wantMsg := "is not authorized to perform: " + m.Action + " on resource: "
			if !strings.Contains(den.Message, wantMsg) || !strings.Contains(den.Message, "because no identity-based policy allows the "+m.Action+" action") {
				t.Errorf("refusal not in AWS's words: %+v", den)
			}
			// What a person sees names the refusal's code and carries AWS's whole message, which names the action.
			if !strings.Contains(evidence, den.Code) || !strings.Contains(evidence, den.Message) {
				t.Errorf("the run does not show the refusal %s of %s:\n%.3000s", den.Code, m.Action, evidence)
				return
			}
			failedAsExpected.Add(1)
		})
	}
}
