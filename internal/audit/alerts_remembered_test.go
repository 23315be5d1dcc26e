package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
)

const alertedMember = "222222222222"

// alertedOrg is one member account, audited in us-east-1 and eu-west-1, with no failed stack yet.
func alertedOrg() *awssim.Organization {
	regions := func() map[string]*awssim.Region {
		return map[string]*awssim.Region{"us-east-1": {}, "eu-west-1": {}}
	}
	mgmt := &awssim.Account{ID: awssim.DemoManagementAccount, Name: "management", Email: "aws+mgmt@example.com", State: "ACTIVE",
		JoinedAt: demoAsOf.Add(-700 * 24 * time.Hour), Regions: regions()}
	mgmt.Regions["us-east-1"].Topics = []string{awssim.DemoTopicName}
	mgmt.Regions["us-east-1"].Buckets = []string{awssim.DemoBucket}
	member := &awssim.Account{ID: alertedMember, Name: "payments-prod", Email: "aws+member@example.com", State: "ACTIVE",
		JoinedAt: demoAsOf.Add(-700 * 24 * time.Hour), Regions: regions(),
		Roles: map[string]awssim.Role{awssim.DemoRoleName: {ExternalID: awssim.DemoExternalID}}}
	return &awssim.Organization{ID: "o-alerted0001", ManagementAccountID: awssim.DemoManagementAccount, PageSize: 3,
		Accounts: []*awssim.Account{mgmt, member}}
}

// TestNextDigestRemembersAlerts: alert records in the report bucket, read over HTTP by the run's own S3 client, or
// in a CLI run's state directory (the CLI's default, a directory per organization beneath it). The next run's digest says the stack that failed at 08:14 was alerted then, lists a stack that failed and was fixed
// before the run once as recovered, does not call recovered one whose region it could not read, ignores an alert
// an earlier run already covered, and says a record it could not read; the run after it repeats none of it.
func TestNextDigestRemembersAlerts(t *testing.T) {
	t.Parallel()
	t.Run("bucket", func(t *testing.T) { t.Parallel(); testNextDigestRemembersAlerts(t, "") })
	t.Run("state-dir", func(t *testing.T) { t.Parallel(); testNextDigestRemembersAlerts(t, t.TempDir()) })
}

func testNextDigestRemembersAlerts(t *testing.T, stateDir string) {
	org := alertedOrg()
	sim := startSimWith(t, org, demoDeployment(org))
	// The member's CloudFormation in eu-west-1 is denied: that cell fails every run.
	sim.SetIntercept(func(_ context.Context, c awssim.Call) *awssim.Fault {
		if c.AccountID == alertedMember && c.Region == "eu-west-1" && c.Service == "cloudformation" {
			return &awssim.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized to perform: cloudformation:ListStacks"}
		}
		return nil
	})
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.Regions, s.Checks = []string{"us-east-1", "eu-west-1"}, []string{checks.CloudFormationFailedStacks{}.Name()}
	s.AlertRecords = true
	s.StateDir, s.StateDirByOrganization = stateDir, stateDir != ""
	run := func(runTime time.Time) (string, *audit.Output) {
		t.Helper()
		s := s
		s.RunTime, s.AsOf = runTime, runTime.Truncate(24*time.Hour)
		out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger(), Now: func() time.Time { return runTime.Add(time.Minute) }})
		if err != nil {
			t.Fatal(err)
		}
		return out.Digest, out
	}
	day0, day1 := demoAsOf, demoAsOf.Add(24*time.Hour)
	run(day0.Add(8 * time.Hour))

	// Between the runs a stack fails and stays failed, another fails and is fixed, and one fails where the next run
	// cannot look; their alerts go out and are recorded as the alert path records them.
	org.Accounts[1].Regions["us-east-1"].Stacks = []awssim.Stack{{Name: "app-stack", Status: "UPDATE_ROLLBACK_FAILED",
		Reason: "Resource handler returned message: Access Denied", Created: day0.Add(-30 * 24 * time.Hour)}}
	// Written as the alert function writes them, with its own grant (not the audit's, which may only read them).
	put := func(key string, body []byte) {
		t.Helper()
		if stateDir == "" {
			if err := sim.PutObject(awssim.DemoBucket, key, body); err != nil {
				t.Fatal(err)
			}
			return
		}
		p := filepath.Join(stateDir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	prefix, where := s.Prefix, func(key string) string { return "s3://" + awssim.DemoBucket + "/" + key }
	if stateDir != "" {
		// The same layout beneath the directory, without the bucket's prefix.
		prefix, where = "", func(key string) string { return filepath.Join(stateDir, filepath.FromSlash(key)) }
	}
	record := func(id, region, stack, status string, alertedAt time.Time) {
		t.Helper()
		rec := alert.Record{AlertedAt: alertedAt, RecordedAt: alertedAt, MessageIDs: []string{"m-" + id}, Alert: alert.Alert{EventID: id,
			EventTime: alertedAt.Add(-40 * time.Second), Kind: alert.KindStack, Severity: checks.Critical, AccountID: alertedMember,
			AccountName: "payments-prod", Region: region, StackName: stack, Status: status, Reason: "failed: " + stack}}
		body, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		put(alert.RecordKey(prefix, rec.Alert.EventTime, id), body)
	}
	record("0b7d7a4e-0000-4000-8000-000000000001", "us-east-1", "app-stack", "UPDATE_ROLLBACK_FAILED", day1.Add(8*time.Hour+14*time.Minute))
	record("0b7d7a4e-0000-4000-8000-000000000002", "us-east-1", "gone-stack", "CREATE_FAILED", day1.Add(8*time.Hour+20*time.Minute))
	record("0b7d7a4e-0000-4000-8000-000000000003", "eu-west-1", "eu-stack", "UPDATE_FAILED", day1.Add(8*time.Hour+30*time.Minute))
	record("0b7d7a4e-0000-4000-8000-000000000004", "us-east-1", "old-stack", "CREATE_FAILED", day0.Add(7*time.Hour))
	junk := alert.RecordKey(prefix, day1.Add(8*time.Hour), "0b7d7a4e-0000-4000-8000-000000000005")
	put(junk, []byte(`{"alert": [`))
	huge := alert.RecordKey(prefix, day1.Add(8*time.Hour), "0b7d7a4e-0000-4000-8000-000000000006")
	hugeBody := []byte(`{"alert": {"reason": "` + strings.Repeat("x", 70_000) + `"}}`)
	put(huge, hugeBody)

	digest, out := run(day1.Add(9 * time.Hour))
	for _, want := range []string{
		"- critical, new, alerted at 08:14 UTC: payments-prod (222222222222) us-east-1 [cloudformation-failed-stacks] app-stack",
		"FAILED AND RECOVERED SINCE THE LAST RUN (1,",
		"payments-prod (222222222222) us-east-1 [cloudformation-failed-stacks] gone-stack: CREATE_FAILED, alerted at 08:20 UTC",
		"ALERTED SINCE THE LAST RUN, COULD NOT RE-CHECK (1;",
		"eu-stack: UPDATE_FAILED, alerted at 08:30 UTC - failed: eu-stack; this run: AccessDenied",
		"Warning: 2 alert records not read",
		where(junk) + ": not an alert record",
		fmt.Sprintf("%s: %d bytes, more than the 65536 an alert record may be; not read", where(huge), len(hugeBody)),
	} {
		if !strings.Contains(digest, want) {
			t.Errorf("digest lacks %q:\n%s", want, digest)
		}
	}
	if strings.Count(digest, "] gone-stack:") != 1 || strings.Contains(digest, "old-stack") {
		t.Errorf("gone-stack %d times (want once), old-stack %v (want absent):\n%s", strings.Count(digest, "] gone-stack:"),
			strings.Contains(digest, "old-stack"), digest)
	}
	if r := out.Result; len(r.RecoveredSinceLastRun) != 1 || len(r.AlertedNotRechecked) != 1 {
		t.Errorf("result: recovered %+v, not re-checked %+v", r.RecoveredSinceLastRun, r.AlertedNotRechecked)
	}
	if msgs := sim.Digests(); len(msgs) != 2 || msgs[1].Body != digest {
		t.Errorf("SNS received %d digests, the last not the run's", len(msgs))
	}

	// A second run the same day, and the next day's: the alerts were told once.
	for _, at := range []time.Time{day1.Add(11 * time.Hour), day1.Add(32 * time.Hour)} {
		digest, out := run(at)
		if strings.Contains(digest, "alerted at") || strings.Contains(digest, "RECOVERED") || strings.Contains(digest, "gone-stack") ||
			strings.Contains(digest, "eu-stack") {
			t.Errorf("run at %s repeats the alerts:\n%s", at.Format(time.RFC3339), digest)
		}
		if !strings.Contains(digest, "app-stack") || len(out.Result.RecoveredSinceLastRun)+len(out.Result.AlertedNotRechecked) != 0 {
			t.Errorf("run at %s: app-stack missing or lists %+v %+v", at.Format(time.RFC3339), out.Result.RecoveredSinceLastRun,
				out.Result.AlertedNotRechecked)
		}
	}
}

// TestNarrowedRunLeavesAlertsOfOtherAccounts: a manual run narrowed to one account, between two daily runs, speaks
// only of that account's alerts; the next daily run still shows the alerts of the account the manual run left out
// (its window for that account starts at the run before, which audited it), and does not repeat the ones the manual
// run showed.
func TestNarrowedRunLeavesAlertsOfOtherAccounts(t *testing.T) {
	t.Parallel()
	const other = "333333333333"
	org := alertedOrg()
	org.Accounts = append(org.Accounts, &awssim.Account{ID: other, Name: "data-prod", Email: "aws+data@example.com", State: "ACTIVE",
		JoinedAt: demoAsOf.Add(-700 * 24 * time.Hour), Regions: map[string]*awssim.Region{"us-east-1": {}, "eu-west-1": {}},
		Roles: map[string]awssim.Role{awssim.DemoRoleName: {ExternalID: awssim.DemoExternalID}}})
	sim := startSimWith(t, org, demoDeployment(org))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.Regions, s.Checks = []string{"us-east-1"}, []string{checks.CloudFormationFailedStacks{}.Name()}
	s.AlertRecords = true
	run := func(runTime time.Time, checkNames []string, accounts ...string) string {
		t.Helper()
		s := s
		s.RunTime, s.AsOf, s.Accounts = runTime, runTime.Truncate(24*time.Hour), accounts
		if checkNames != nil {
			s.Checks = checkNames
		}
		out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger(), Now: func() time.Time { return runTime.Add(time.Minute) }})
		if err != nil {
			t.Fatal(err)
		}
		return out.Digest
	}
	day1, day2, day3 := demoAsOf.Add(24*time.Hour), demoAsOf.Add(48*time.Hour), demoAsOf.Add(72*time.Hour)
	run(day1.Add(6*time.Hour), nil)

	failed := func(stack string, at time.Time) awssim.Stack {
		return awssim.Stack{Name: stack, Status: "UPDATE_ROLLBACK_FAILED", Reason: "failed: " + stack, Created: at.Add(-30 * 24 * time.Hour)}
	}
	org.Accounts[1].Regions["us-east-1"].Stacks = []awssim.Stack{failed("a-stack", day1)}
	org.Accounts[2].Regions["us-east-1"].Stacks = []awssim.Stack{failed("b-stack", day1)}
	for i, a := range []struct {
		account, stack string
		at             time.Time
	}{{alertedMember, "a-stack", day1.Add(8*time.Hour + 14*time.Minute)}, {other, "b-stack", day1.Add(8*time.Hour + 20*time.Minute)},
		{other, "b-gone", day1.Add(8*time.Hour + 25*time.Minute)}} {
		rec := alert.Record{AlertedAt: a.at, RecordedAt: a.at, Alert: alert.Alert{EventID: fmt.Sprintf("0b7d7a4e-0000-4000-8000-%012d", i+1),
			EventTime: a.at.Add(-40 * time.Second), Kind: alert.KindStack, Severity: checks.Critical, AccountID: a.account,
			Region: "us-east-1", StackName: a.stack, Status: "UPDATE_ROLLBACK_FAILED", Reason: "failed: " + a.stack}}
		body, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := sim.PutObject(awssim.DemoBucket, alert.RecordKey(s.Prefix, rec.Alert.EventTime, rec.Alert.EventID), body); err != nil {
			t.Fatal(err)
		}
	}

	manual := run(day1.Add(10*time.Hour), nil, alertedMember)
	if !strings.Contains(manual, "alerted at 08:14 UTC: payments-prod (222222222222) us-east-1 [cloudformation-failed-stacks] a-stack") ||
		strings.Contains(manual, "b-stack") || strings.Contains(manual, "b-gone") {
		t.Errorf("the manual run narrowed to %s: want a-stack alerted, nothing of %s:\n%s", alertedMember, other, manual)
	}

	// Another manual run, of every account but another check: it looks at no stack, and says nothing of the alerts.
	if other := run(day1.Add(11*time.Hour), []string{checks.ElastiCacheReservedNodes{}.Name()}); strings.Contains(other, "alerted at") ||
		strings.Contains(other, "b-gone") {
		t.Errorf("a run of another check speaks of the alerts:\n%s", other)
	}

	daily := run(day2.Add(6*time.Hour), nil)
	for _, want := range []string{
		"alerted at 2026-", // b-stack's, dated: not the run's day
		"(333333333333) us-east-1 [cloudformation-failed-stacks] b-stack",
		// Its window reached back past the last two (narrowed) runs, to the daily run that last audited 333333333333.
		"FAILED AND RECOVERED SINCE " + day1.Add(6*time.Hour).Format("2006-01-02 15:04 UTC") + " (1,",
		"(333333333333) us-east-1 [cloudformation-failed-stacks] b-gone: UPDATE_ROLLBACK_FAILED, alerted at 2026-",
	} {
		if !strings.Contains(daily, want) {
			t.Errorf("the daily run after the narrowed one lacks %q:\n%s", want, daily)
		}
	}
	if n := strings.Count(daily, "alerted at"); n != 2 {
		t.Errorf("the daily run says \"alerted at\" %d times, want 2 (b-stack, b-gone; a-stack was shown by the manual run):\n%s", n, daily)
	}

	// The next daily run repeats none of it; a replay of the day-2 schedule event after it is the same run, with the
	// same window.
	if next := run(day3.Add(6*time.Hour), nil); strings.Contains(next, "alerted at") || strings.Contains(next, "b-gone") {
		t.Errorf("the next daily run repeats the alerts:\n%s", next)
	}
	published := len(sim.Digests())
	replay := run(day2.Add(6*time.Hour), nil)
	if n := strings.Count(replay, "alerted at"); n != 2 || !strings.Contains(replay, "b-gone: UPDATE_ROLLBACK_FAILED, alerted at 2026-") {
		t.Errorf("the replay of the day-2 run says \"alerted at\" %d times, want its first invocation's 2:\n%s", n, replay)
	}
	if n := len(sim.Digests()); n != published {
		t.Errorf("the replay published its digest again: %d digests, %d before it", n, published)
	}
}

// TestAlertsAfterAPassedOverRun: the day-1 run listed an alerted stack as recovered, and its stored state is then
// unreadable, so day 2 compares with day 0's. Which alerts day 1 told of is unknown: day 2 must not list the stack
// as recovered again (under "since the last run"), and says why.
func TestAlertsAfterAPassedOverRun(t *testing.T) {
	t.Parallel()
	org := alertedOrg()
	sim := startSimWith(t, org, demoDeployment(org))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.Regions, s.Checks = []string{"us-east-1"}, []string{checks.CloudFormationFailedStacks{}.Name()}
	s.AlertRecords = true
	run := func(runTime time.Time) string {
		t.Helper()
		s := s
		s.RunTime, s.AsOf = runTime, runTime.Truncate(24*time.Hour)
		out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger(), Now: func() time.Time { return runTime.Add(time.Minute) }})
		if err != nil {
			t.Fatal(err)
		}
		return out.Digest
	}
	day0, day1, day2 := demoAsOf, demoAsOf.Add(24*time.Hour), demoAsOf.Add(48*time.Hour)
	run(day0.Add(8 * time.Hour))
	stored, err := sim.Keys(awssim.DemoBucket, "")
	if err != nil {
		t.Fatal(err)
	}
	at := day1.Add(8*time.Hour + 20*time.Minute)
	rec := alert.Record{AlertedAt: at, RecordedAt: at, Alert: alert.Alert{EventID: "0b7d7a4e-0000-4000-8000-000000000002",
		EventTime: at.Add(-40 * time.Second), Kind: alert.KindStack, Severity: checks.Critical, AccountID: alertedMember,
		AccountName: "payments-prod", Region: "us-east-1", StackName: "gone-stack", Status: "CREATE_FAILED", Reason: "failed"}}
	body, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.PutObject(awssim.DemoBucket, alert.RecordKey(s.Prefix, rec.Alert.EventTime, rec.Alert.EventID), body); err != nil {
		t.Fatal(err)
	}
	if d1 := run(day1.Add(9 * time.Hour)); !strings.Contains(d1, "] gone-stack: CREATE_FAILED") {
		t.Fatalf("day 1 does not list gone-stack as recovered:\n%s", d1)
	}
	// Day 1's stored state becomes unreadable.
	before := map[string]bool{}
	for _, k := range stored {
		before[k] = true
	}
	after, err := sim.Keys(awssim.DemoBucket, "")
	if err != nil {
		t.Fatal(err)
	}
	corrupted := 0
	for _, k := range after {
		if !before[k] && strings.Contains(k, "/history/") && strings.HasSuffix(k, ".json.gz") {
			if err := sim.PutObject(awssim.DemoBucket, k, []byte("garbage")); err != nil {
				t.Fatal(err)
			}
			corrupted++
		}
	}
	if corrupted != 1 {
		t.Fatalf("%d day-1 states corrupted, want 1 (keys %v)", corrupted, after)
	}
	d2 := run(day2.Add(9 * time.Hour))
	if strings.Contains(d2, "gone-stack") || strings.Contains(d2, "RECOVERED") {
		t.Errorf("day 2 tells day 1's recovered stack again, though it cannot know day 1 told it:\n%s", d2)
	}
	if !strings.Contains(d2, "the previous run could not be read") {
		t.Errorf("day 2 does not say why it lists no recovered stacks:\n%s", d2)
	}
}
