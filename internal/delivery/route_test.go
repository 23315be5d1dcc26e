package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgaudit/orgaudit/deploy/cloudformation"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/report"
)

// routeAsOf is the day the routing tests' runs audit.
var routeAsOf = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// defaultOwnerDigests is the settings' default cap (audit.DefaultOwnerDigests): more than routedOwners.
const defaultOwnerDigests = 100

// startRouteSim starts the demo organization, enforcing IAM as the templates deploy it.
func startRouteSim(t *testing.T) *awssim.Server {
	t.Helper()
	org := awssim.Demo(routeAsOf)
	sim := awssim.New(org)
	if err := sim.EnforceTemplates(awssim.DemoDeployment(org, cloudformation.Management, cloudformation.MemberRole, awssim.DemoKMSKeyARN)); err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

// routeSettings are a scheduled run's delivery as the demo deploys it: the report bucket, the digest topic that
// owners' digests share (no topic of their own), the default cap.
func routeSettings() delivery.Settings {
	return delivery.Settings{Bucket: awssim.DemoBucket, BucketRegion: awssim.DemoHomeRegion, S3PathStyle: true, Prefix: "orgaudit",
		Trigger: "scheduled", TopicARN: awssim.DemoTopicARN(), OwnerDigests: defaultOwnerDigests}
}

// publishDigestsOf plans and publishes res's digests as a run does once its workbook is stored, and keeps
// delivery's record in res, as the job does.
func publishDigestsOf(cfg aws.Config, s delivery.Settings, res *report.Result, runTime, now time.Time) error {
	ctx := context.Background()
	d := &delivery.Run{Settings: s, Config: cfg, RunID: res.RunID, RunTime: runTime,
		Bucket: func() (*s3.Client, error) { return delivery.BucketClient(ctx, cfg, s) },
		Now:    func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec, err := d.Publish(ctx, res, res.Delivered)
	res.Delivered = rec
	return err
}

// routedOwners are the owners of routedResult, most severe first: what each holds decides its place.
var routedOwners = []struct {
	owner             string
	critical, warning int
	failed            bool
}{
	{owner: "team-alpha@example.com", critical: 2},
	{owner: "Root/Workloads/Beta", critical: 1, warning: 1},
	{owner: "team_gamma*", warning: 2},
	{owner: "δ-team", failed: true},
}

// routedResult is an audited organization with one account per owner and one without an owner, as the fan-out
// will stamp them (the organization walk is another part's): findings, a failed cell, a workbook in S3.
func routedResult(t *testing.T, runID string) *report.Result {
	t.Helper()
	cs := checks.All()
	fan := &crossaccount.Result{Scope: "organization"}
	type acct struct {
		id, name, owner   string
		critical, warning int
		failed            bool
	}
	accts := []acct{{id: "999999999999", name: "no-owner", critical: 1}}
	for i, o := range routedOwners {
		accts = append(accts, acct{fmt.Sprintf("%012d", 100000000001+i), fmt.Sprintf("acct-%d", i), o.owner, o.critical, o.warning, o.failed})
	}
	n := 0
	for _, a := range accts {
		fan.Accounts = append(fan.Accounts, crossaccount.Account{ID: a.id, Name: a.name, Owner: a.owner})
		for i, c := range cs {
			cell := crossaccount.Cell{AccountID: a.id, AccountName: a.name, Owner: a.owner, Region: "eu-west-1", Check: c.Name(), Outcome: crossaccount.OutcomeClean}
			if a.failed && i == 0 {
				cell.Outcome, cell.Code, cell.Message = crossaccount.OutcomeError, "AccessDenied", "denied"
				fan.Failures = append(fan.Failures, crossaccount.Failure{AccountID: a.id, AccountName: a.name, Owner: a.owner, Region: "eu-west-1", Check: c.Name(), Code: "AccessDenied", Message: "denied"})
			}
			fan.Cells.Add(cell)
		}
		for _, sev := range append(repeat(checks.Critical, a.critical), repeat(checks.Warning, a.warning)...) {
			fan.Findings = append(fan.Findings, checks.Finding{Check: cs[0].Name(), Severity: sev, AccountID: a.id, AccountName: a.name, Owner: a.owner,
				Region: "eu-west-1", ResourceType: "stack", ResourceID: fmt.Sprintf("res-%d", n), Status: "CREATE_FAILED", Reason: "`<!channel>` *bold* in " + a.name})
			n++
		}
	}
	checks.SortFindings(fan.Findings)
	res := report.Build(runID, routeAsOf, []string{"eu-west-1"}, cs, fan)
	res.Report = &report.Location{Bucket: awssim.DemoBucket, Key: "orgaudit/x.xlsx", URL: "https://example.com/x.xlsx?X-Amz-Signature=secret",
		ConsoleURL: "https://s3.console.aws.amazon.com/s3/object/" + awssim.DemoBucket + "?prefix=orgaudit/x.xlsx"}
	return res
}

func repeat(sev checks.Severity, n int) []checks.Severity {
	out := make([]checks.Severity, n)
	for i := range out {
		out[i] = sev
	}
	return out
}

// byOwner counts the messages the topic received by their owner attribute; the organization's under "".
func byOwner(t *testing.T, sim *awssim.Server) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, m := range sim.Published() {
		aud, owner := m.Attributes["audience"].StringValue, m.Attributes["owner"].StringValue
		if m.Structure != "json" || aud == "owner" && owner == "" || aud == "organization" && owner != "" || aud != "owner" && aud != "organization" {
			t.Errorf("message %s: structure %q audience %q owner %q", m.MessageID, m.Structure, aud, owner)
		}
		got[owner]++
	}
	return got
}

// TestOwnerDigestRetrySendsOnlyWhatWasNotSent: the third owner's publish fails; the run fails and says which. The
// retried invocation sends that owner's digest and nothing else: every owner, and the organization, received
// exactly one message.
func TestOwnerDigestRetrySendsOnlyWhatWasNotSent(t *testing.T) {
	t.Parallel()
	sim := startRouteSim(t)
	var publishes, failing atomic.Int32
	failing.Store(1)
	third := int32(1 + 3) // the organization's digest goes first
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "Publish" && publishes.Add(1) == third && failing.Load() == 1 {
			return &awssim.Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: refused once"}
		}
		return nil
	})
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := routeSettings()
	runTime := routeAsOf.Add(8 * time.Hour)

	res := routedResult(t, "run-routed")
	err := publishDigestsOf(cfg, s, res, runTime, runTime)
	od := res.OwnerDigests
	if err == nil || !strings.Contains(err.Error(), routedOwners[2].owner) || od == nil || od.Sent != len(routedOwners)-1 ||
		len(od.Failed) != 1 || od.Failed[0].Owner != routedOwners[2].owner || !res.Published {
		t.Fatalf("first invocation: err %v, owner digests %+v", err, od)
	}
	failing.Store(0)

	retry := routedResult(t, "run-routed")
	if err := publishDigestsOf(cfg, s, retry, runTime, runTime.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	od = retry.OwnerDigests
	if !retry.AlreadyPublished || retry.Published || od.Sent != 1 || od.AlreadySent != len(routedOwners)-1 || len(od.Failed) != 0 {
		t.Errorf("retry: already %v published %v, owner digests %+v", retry.AlreadyPublished, retry.Published, od)
	}
	got := byOwner(t, sim)
	for _, o := range routedOwners {
		if got[o.owner] != 1 {
			t.Errorf("owner %q received %d digests, want 1", o.owner, got[o.owner])
		}
	}
	if got[""] != 1 || len(got) != len(routedOwners)+1 {
		t.Errorf("messages by owner %v: one organization digest and one per owner", got)
	}
	t.Logf("%d owners, messages by owner after the retry: %v", len(routedOwners), got)

	// A further retry sends nothing.
	again := routedResult(t, "run-routed")
	if err := publishDigestsOf(cfg, s, again, runTime, runTime.Add(2*time.Minute)); err != nil || again.OwnerDigests.AlreadySent != len(routedOwners) {
		t.Errorf("third invocation: %v %+v", err, again.OwnerDigests)
	}
	if n := len(sim.Published()); n != len(routedOwners)+1 {
		t.Errorf("%d messages after three invocations, want %d", n, len(routedOwners)+1)
	}
}

// TestOwnerDigestBodies: each owner's message holds only that owner's accounts, in every protocol's body, and
// carries the attributes a filter policy picks it by; the cap holds back the least severe owners, whom the
// organization's digest names.
func TestOwnerDigestBodies(t *testing.T) {
	t.Parallel()
	sim := startRouteSim(t)
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := routeSettings()
	capped := 2
	s.OwnerDigests = capped
	runTime := routeAsOf.Add(8 * time.Hour)
	res := routedResult(t, "run-bodies")
	if err := publishDigestsOf(cfg, s, res, runTime, runTime); err != nil {
		t.Fatal(err)
	}
	msgs := sim.Published()
	if len(msgs) != 1+capped {
		t.Fatalf("%d messages, want the organization's and %d owners'", len(msgs), capped)
	}
	org := msgs[0]
	if org.Attributes["audience"].StringValue != "organization" {
		t.Fatalf("first message %+v", org.Attributes)
	}
	for _, o := range routedOwners[capped:] {
		if !strings.Contains(org.For("email"), "- "+o.owner+"\n") || !strings.Contains(org.For("default"), o.owner) {
			t.Errorf("owner %q past the cap is not named in the organization's digest:\n%s", o.owner, org.For("email"))
		}
	}
	var orgNotice report.Notice
	if err := json.Unmarshal([]byte(org.For("sqs")), &orgNotice); err != nil || orgNotice.OwnersPastCap != len(routedOwners)-capped ||
		orgNotice.Workbook == nil || orgNotice.Workbook.URL == "" || org.For("lambda") != org.For("sqs") {
		t.Errorf("organization notice %+v: %v", orgNotice, err)
	}

	for i, m := range msgs[1:] {
		want := routedOwners[i]
		if m.Attributes["audience"].StringValue != "owner" || m.Attributes["owner"].StringValue != want.owner {
			t.Errorf("message %d attributes %+v, want owner %q (most severe first)", i+1, m.Attributes, want.owner)
		}
		var n report.Notice
		if err := json.Unmarshal([]byte(m.For("sqs")), &n); err != nil {
			t.Fatal(err)
		}
		if n.Schema != report.NoticeSchema || n.Audience != "owner" || n.Owner != want.owner || n.Accounts.Total != 1 ||
			n.Findings.Critical != want.critical || n.Findings.Warning != want.warning || n.Workbook.URL != "" {
			t.Errorf("owner %q notice %+v", want.owner, n)
		}
		for _, f := range n.TopFindings {
			if f.Owner != want.owner {
				t.Errorf("owner %q notice holds %+v", want.owner, f)
			}
		}
		email := m.For("email")
		if !strings.Contains(email, "Owner: "+want.owner) || strings.Contains(email, "no-owner") || strings.Contains(email, "X-Amz-Signature") ||
			!strings.Contains(m.Subject, "for ") {
			t.Errorf("owner %q email (subject %q):\n%s", want.owner, m.Subject, email)
		}
		var card report.ChatNotification
		if err := json.Unmarshal([]byte(m.For("https")), &card); err != nil || card.Version != "1.0" || card.Source != "custom" ||
			card.Content.TextType != "client-markdown" || !strings.Contains(card.Content.Title, want.owner) {
			t.Errorf("owner %q chat card %+v: %v", want.owner, card, err)
		}
		if strings.Contains(card.Content.Description, "<!channel>") || !strings.Contains(card.Content.Description, "`'‹!channel›' *bold* in ") {
			t.Errorf("AWS text shapes the chat card:\n%s", card.Content.Description)
		}
	}
}

// TestLargeDigestFitsOneMessage: a result whose digest alone fills its budget still goes out as one message, every
// body in it, within SNS's 256 KiB counted as SNS counts it (the simulator refuses a byte more).
func TestLargeDigestFitsOneMessage(t *testing.T) {
	t.Parallel()
	sim := startRouteSim(t)
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := routeSettings()
	res := routedResult(t, "run-large")
	long := strings.Repeat("reason with \"quotes\" and a line\nbreak ", 12)
	for i := range 4000 {
		f := res.Findings[0]
		f.ResourceID, f.Reason, f.Owner = fmt.Sprintf("res-large-%d", i), long, "team-alpha@example.com"
		res.Findings = append(res.Findings, f)
	}
	if d := report.Digest(res, report.MaxDigestBytes); len(d) < report.MaxDigestBytes*9/10 {
		t.Fatalf("the scenario must fill the digest's budget: %d bytes", len(d))
	}
	runTime := routeAsOf.Add(8 * time.Hour)
	if err := publishDigestsOf(cfg, s, res, runTime, runTime); err != nil {
		t.Fatal(err)
	}
	for _, m := range sim.Published() {
		size := len(m.Raw)
		for name, a := range m.Attributes {
			size += len(name) + len(a.DataType) + len(a.StringValue)
		}
		owner := m.Attributes["owner"].StringValue
		large := owner == "" || owner == "team-alpha@example.com" // the 4,000 findings are theirs
		if size > 262_144 || large && len(m.For("email")) < 100_000 || m.For("email") != m.For("default") {
			t.Errorf("%s: %d bytes in all, an email body of %d", m.Attributes["owner"].StringValue, size, len(m.For("email")))
		}
		t.Logf("audience %s owner %q: message %d bytes, email body %d, notice %d, chat %d", m.Attributes["audience"].StringValue,
			m.Attributes["owner"].StringValue, size, len(m.For("email")), len(m.For("sqs")), len(m.For("https")))
	}
}

// TestOwnerDigestsCapZero: with the cap at 0 (AUDIT_OWNER_DIGESTS=0) no owner digest is planned, and the
// organization's digest names nobody.
func TestOwnerDigestsCapZero(t *testing.T) {
	t.Parallel()
	sim := startRouteSim(t)
	s := routeSettings()
	s.OwnerDigests = 0
	res := routedResult(t, "run-none")
	runTime := routeAsOf.Add(8 * time.Hour)
	if err := publishDigestsOf(sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s, res, runTime, runTime); err != nil {
		t.Fatal(err)
	}
	if got := byOwner(t, sim); len(got) != 1 || got[""] != 1 || res.OwnerDigests != nil {
		t.Errorf("cap 0: messages %v, owner digests %+v", got, res.OwnerDigests)
	}
}
