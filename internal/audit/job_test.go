package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/report"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

var demoAsOf = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func startSim(t *testing.T, org *awssim.Organization) *awssim.Server {
	t.Helper()
	return startSimWith(t, org, demoDeployment(org))
}

// startSimWith starts a simulator of org that enforces the templates as d deploys them.
func startSimWith(t *testing.T, org *awssim.Organization, d awssim.Deployment) *awssim.Server {
	t.Helper()
	return testkit.StartEnforced(t, org, d)
}

func demoSettings() config.Settings {
	s := config.Defaults()
	s.RoleName, s.ExternalID = awssim.DemoRoleName, awssim.DemoExternalID
	s.Regions = []string{"all"}
	s.Bucket, s.TopicARN, s.S3PathStyle = awssim.DemoBucket, awssim.DemoTopicARN(), true
	s.BucketRegion = awssim.DemoHomeRegion // as the template sets it: the bucket is the stack's
	s.AsOf = demoAsOf
	s.Concurrency = 8
	return s
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// seeded is what the demo organization holds that must be found: check → account/region/resource → severity.
var seeded = func() map[string]map[string]checks.Severity {
	out := map[string]map[string]checks.Severity{}
	for check, byKey := range awssim.DemoFindings {
		out[check] = map[string]checks.Severity{}
		for k, sev := range byKey {
			out[check][k] = checks.Severity(sev)
		}
	}
	return out
}()

func TestDemoOrganizationEndToEnd(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	// As deployed: the report key on the bucket, the link signed by the link-signing role.
	s := demoSettings()
	s.KMSKeyID, s.LinkRoleARN = awssim.DemoKMSKeyARN, sim.TemplateRole("LinkSigningRole").ARN
	signedFrom := time.Now()
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger(), Now: func() time.Time { return demoAsOf.Add(8 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	res := out.Result

	// Every seeded finding is found, with its severity, and nothing else.
	got := map[string]map[string]checks.Severity{}
	for _, f := range res.Findings {
		if got[f.Check] == nil {
			got[f.Check] = map[string]checks.Severity{}
		}
		got[f.Check][f.AccountID+"/"+f.Region+"/"+f.ResourceID] = f.Severity
	}
	for check, want := range seeded {
		for k, sev := range want {
			if got[check][k] != sev {
				t.Errorf("%s %s: severity %q, want %q", check, k, got[check][k], sev)
			}
		}
		if len(got[check]) != len(want) {
			t.Errorf("%s: %d findings, want %d: %v", check, len(got[check]), len(want), got[check])
		}
	}

	// The missing-role account is one AccessDenied failure, every one of its cells an error, and nothing claimed of it.
	var sandboxFailures []crossaccount.Failure
	for _, e := range res.Errors {
		if e.AccountID == awssim.DemoMissingRole {
			sandboxFailures = append(sandboxFailures, e)
		} else {
			t.Errorf("unexpected failure %+v", e)
		}
	}
	if len(sandboxFailures) != 1 || sandboxFailures[0].Code != "AccessDenied" || !strings.Contains(sandboxFailures[0].Message, "OrgAuditReadOnly") {
		t.Errorf("missing role: %+v", sandboxFailures)
	}
	for c := range res.Cells.All() {
		if c.AccountID == awssim.DemoMissingRole && (c.Outcome != crossaccount.OutcomeError || c.Code != "AccessDenied") {
			t.Errorf("missing-role cell claims something: %+v", c)
		}
		if c.AccountID == awssim.DemoSuspended {
			t.Errorf("suspended account was audited: %+v", c)
		}
	}
	for _, f := range res.Findings {
		if f.AccountID == awssim.DemoMissingRole || f.AccountID == awssim.DemoSuspended {
			t.Errorf("finding for an account that was not read: %+v", f)
		}
	}
	if len(res.Skipped) != 1 || res.Skipped[0].AccountID != awssim.DemoSuspended || !strings.Contains(res.Skipped[0].Reason, "SUSPENDED") {
		t.Errorf("skipped %+v", res.Skipped)
	}
	// Every check in every enabled region of each readable account (an account-wide check once), and one cell per
	// check ("all" regions, or "global") for the account whose role is missing.
	cells, active := 0, 0
	for _, a := range awssim.Demo(demoAsOf).Accounts {
		switch {
		case a.State != "ACTIVE":
		case a.ID == awssim.DemoMissingRole:
			active++
			cells += crossaccount.CellsPerAccount(checks.All(), 1)
		default:
			active++
			cells += crossaccount.CellsPerAccount(checks.All(), len(a.Regions))
		}
	}
	if res.Accounts != (report.AccountCounts{Total: active, Audited: active - 1, Failed: 1, Skipped: 1}) || res.Coverage.Cells != cells ||
		res.Coverage.Errors != crossaccount.CellsPerAccount(checks.All(), 1) {
		t.Errorf("accounts %+v coverage %+v", res.Accounts, res.Coverage)
	}

	// Every finding and error names its account's owner (its team's tag, else its OU path) and OU; the account whose
	// tags cannot be read is owned by its OU, and the warnings say so.
	for _, f := range res.Findings {
		if f.Owner != awssim.DemoOwners[f.AccountID] || f.OU == "" {
			t.Errorf("finding %s/%s: owner %q OU %q, want owner %q", f.AccountID, f.ResourceID, f.Owner, f.OU, awssim.DemoOwners[f.AccountID])
		}
	}
	for _, e := range res.Errors {
		if e.AccountID != "" && (e.Owner != awssim.DemoOwners[e.AccountID] || e.OU == "") {
			t.Errorf("error %+v: want owner %q", e, awssim.DemoOwners[e.AccountID])
		}
	}
	if !slices.Contains(res.Warnings, "owner tags of 1 account could not be read (1 unreadable): their OU path stands as their owner") {
		t.Errorf("warnings %q: the account whose tags cannot be read is not said", res.Warnings)
	}
	owned := map[string]int{}
	for _, owner := range awssim.DemoOwners {
		owned[owner]++
	}
	for _, o := range res.Owners {
		if o.Accounts != owned[o.Owner] {
			t.Errorf("owner %q: %d accounts, the demo gives them %d", o.Owner, o.Accounts, owned[o.Owner])
		}
	}
	if len(res.Owners) != len(owned) {
		t.Errorf("%d owners counted, the demo has %d", len(res.Owners), len(owned))
	}

	// The workbook in S3 is the one built, encrypted, and holds every finding and every coverage row.
	uploads := sim.Workbooks()
	if len(uploads) != 1 || uploads[0].ServerSideEncryption != "aws:kms" || res.Report == nil || uploads[0].Key != res.Report.Key {
		t.Fatalf("uploads %+v report %+v", uploads, res.Report)
	}
	if res.Report.Key != "orgaudit/2026/11/22/orgaudit-cli-20261122T080000Z.xlsx" {
		t.Errorf("key %q", res.Report.Key)
	}
	stored, err := sim.Object(awssim.DemoBucket, res.Report.Key)
	if err != nil || !bytes.Equal(stored, out.Workbook) {
		t.Fatalf("stored workbook differs (%v)", err)
	}
	checkWorkbook(t, stored, res)

	// The emailed link downloads it, evaluated as its signer: the link-signing role's session.
	checkLink(t, sim, res.Report.URL, stored, http.StatusOK)
	if g := awssim.ActionsOf(sim.Granted(), "management.yaml/LinkSigningRole"); !slices.Equal(g, []string{"kms:Decrypt", "s3:GetObject"}) {
		t.Errorf("the link was not read as the link-signing role: %v", g)
	}
	// Its stated expiry is the signer's session's end: the function's own credentials are a role session, so AWS
	// allows the link-signing role 1 hour (role chaining), not the 7 days asked for.
	session, ok := sim.SessionExpiry(linkCredential(t, res.Report.URL))
	stated := *res.Report.URLExpiresAt
	// (SigV4 counts from the signing second, and the life left is counted in whole seconds.)
	if !ok || stated.After(session) || session.Sub(stated) > 2*time.Second {
		t.Errorf("link stated to expire %s, its signer's session ends %s", stated, session)
	}
	if d := session.Sub(signedFrom); d < time.Hour || d > time.Hour+time.Minute {
		t.Errorf("the signer's session lasts %s from the run, want the 1-hour role-chaining limit", d)
	}
	if !strings.Contains(out.Digest, "link valid until "+stated.UTC().Format("2006-01-02 15:04 UTC")) || !strings.Contains(out.Digest, "1 hour") {
		t.Errorf("digest does not state the link's true expiry %s:\n%s", stated, out.Digest)
	}
	// Until then it works; after that instant the simulator refuses it.
	sim.Advance(time.Until(stated) - 5*time.Second)
	checkLink(t, sim, res.Report.URL, stored, http.StatusOK)
	sim.Advance(10 * time.Second)
	checkLink(t, sim, res.Report.URL, nil, http.StatusForbidden)

	// SNS received exactly the digest.
	msgs := sim.Digests()
	if len(msgs) != 1 || msgs[0].Subject != out.Subject || msgs[0].Body != out.Digest || !res.Published || res.MessageID != msgs[0].MessageID {
		t.Fatalf("published %+v", msgs)
	}
	// The subject ends with what the critical and warning commitments put at risk (the demo's figures are worked
	// out in cmd/audit's TestDemoMoneyFromDeclaredPrices).
	if !strings.Contains(out.Subject, "| 12/13 accounts | $") || !strings.HasSuffix(out.Subject, "/mo at risk") || !strings.Contains(out.Digest, "legacy-sandbox (999999999999) all regions, all checks: AccessDenied") ||
		!strings.Contains(out.Digest, res.Report.URL) {
		t.Errorf("digest:\n%s\n%s", out.Subject, out.Digest)
	}
}

func checkWorkbook(t *testing.T, b []byte, res *report.Result) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range checks.All() {
		rows, err := f.GetRows(c.Name())
		if err != nil {
			t.Fatal(err)
		}
		header := rows[0]
		idCol, acctCol := slices.Index(header, "Resource ID"), slices.Index(header, "Account ID")
		inSheet := map[string]bool{}
		for _, r := range rows[1:] {
			inSheet[r[acctCol]+"/"+r[idCol]] = true
		}
		n := 0
		for _, fd := range res.Findings {
			if fd.Check != c.Name() {
				continue
			}
			n++
			if !inSheet[fd.AccountID+"/"+fd.ResourceID] {
				t.Errorf("sheet %s lacks %s/%s", c.Name(), fd.AccountID, fd.ResourceID)
			}
		}
		if len(rows)-1 != n {
			t.Errorf("sheet %s has %d rows, want %d", c.Name(), len(rows)-1, n)
		}
	}
	rows, err := f.GetRows(report.CoverageSheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != res.Cells.Len() {
		t.Fatalf("coverage rows %d, cells %d", len(rows)-1, res.Cells.Len())
	}
	col := map[string]int{}
	for j, h := range rows[0] {
		col[h] = j
	}
	at := func(r []string, header string) string {
		if j, ok := col[header]; ok && j < len(r) {
			return r[j]
		}
		return ""
	}
	// The Coverage sheet lists the failed cells first, then the rest, each in the cells' order.
	cells := slices.Collect(res.Cells.All())
	failed := func(c crossaccount.Cell) bool { return c.Outcome == crossaccount.OutcomeError }
	cells = append(slices.DeleteFunc(slices.Clone(cells), func(c crossaccount.Cell) bool { return !failed(c) }), slices.DeleteFunc(cells, failed)...)
	for i, c := range cells {
		r := rows[i+1]
		if at(r, "Account ID") != c.AccountID || at(r, "Region") != c.Region || at(r, "Check") != c.Check || at(r, "Outcome") != string(c.Outcome) ||
			(c.Code != "" && at(r, "Error code") != c.Code) || at(r, report.OwnerColumn) != c.Owner || at(r, report.OUColumn) != c.OU || c.OU == "" {
			t.Errorf("coverage row %d %v != %+v", i+2, r, c)
		}
	}
}

func TestMemberAccountAuditsItselfAndSaysSo(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config("333333333333", "eu-west-1")
	s := demoSettings()
	s.Regions, s.Bucket, s.TopicARN = nil, "", ""
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Result
	// The code says what kind of refusal, AWS's message what a person can act on: here IAM's, naming the action.
	var refusal string
	for _, d := range sim.Denials() {
		if d.Action == "organizations:ListRoots" {
			refusal = d.Code + ": " + d.Message
		}
	}
	if !strings.Contains(refusal, "is not authorized to perform: organizations:ListRoots") {
		t.Fatalf("the member role was not refused organizations:ListRoots: %+v", sim.Denials())
	}
	if !strings.Contains(r.Scope, "own account only") || !strings.Contains(r.Scope, "333333333333") || !strings.Contains(r.Scope, refusal) {
		t.Errorf("scope %q, want the account and %q", r.Scope, refusal)
	}
	// "1/1 accounts" would read as a whole organization audited.
	if !strings.Contains(out.Subject, "own account only") || strings.Contains(out.Subject, "1/1 accounts") ||
		!strings.Contains(out.Digest, "own account only") {
		t.Errorf("subject %q\n%s", out.Subject, out.Digest)
	}
	// Its own account in its own region: one cell per check, and what the demo holds there.
	seededHere := 0
	for _, byKey := range awssim.DemoFindings {
		for k := range byKey {
			if strings.HasPrefix(k, "333333333333/eu-west-1/") {
				seededHere++
			}
		}
	}
	if r.Accounts.Total != 1 || r.Coverage.Cells != len(checks.All()) || r.Coverage.Errors != 0 || len(r.Findings) != seededHere {
		t.Errorf("accounts %+v coverage %+v findings %d", r.Accounts, r.Coverage, len(r.Findings))
	}
	if calls := sim.Calls()["sts.AssumeRole"]; calls != 0 {
		t.Errorf("the caller's own account must not be audited through AssumeRole (%d calls)", calls)
	}
	// Named accounts are audited, and the scope says why the organization was not listed in the same words.
	s.Accounts = []string{"333333333333"}
	if out, err = audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()}); err != nil {
		t.Fatal(err)
	}
	if sc := out.Result.Scope; !strings.Contains(sc, "the named accounts") || !strings.Contains(sc, refusal) {
		t.Errorf("named accounts: scope %q, want %q", sc, refusal)
	}
}

func TestAccountFiltersAndExplicitRegions(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.Regions = []string{"eu-west-1", "us-east-1"}
	s.Accounts = []string{"333333333333", "999999999999"}
	s.ExcludeAccounts = []string{"444444444444"}
	s.Checks = []string{"cloudformation-failed-stacks"}
	s.Bucket, s.TopicARN = "", ""
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Result
	var accts []string
	for c := range r.Cells.All() {
		accts = append(accts, fmt.Sprintf("%s/%s/%s/%s", c.AccountID, c.Region, c.Check, c.Outcome))
	}
	want := []string{
		"333333333333/eu-west-1/cloudformation-failed-stacks/findings", "333333333333/us-east-1/cloudformation-failed-stacks/clean",
		"999999999999/eu-west-1/cloudformation-failed-stacks/error", "999999999999/us-east-1/cloudformation-failed-stacks/error",
	}
	if strings.Join(accts, " ") != strings.Join(want, " ") {
		t.Errorf("cells\n %v\nwant\n %v", accts, want)
	}
	if len(r.Findings) != 4 || r.Published || r.Report == nil || r.Report.URL != "" || r.Report.NotUploaded != "no bucket given" {
		t.Errorf("findings %d published %v report %+v", len(r.Findings), r.Published, r.Report)
	}
}

func TestBadSettingsCallNothing(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.Accounts = []string{"12345"}
	s.Checks = []string{"nope"}
	_, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), `account id "12345" must be 12 digits`) || !strings.Contains(err.Error(), "unknown check nope") {
		t.Fatalf("err = %v", err)
	}
	if len(sim.Calls()) != 0 || len(sim.Published()) != 0 {
		t.Errorf("bad settings reached AWS: %v", sim.Calls())
	}
}

func TestDeliveryFailureFailsTheRunButKeepsTheWorkbook(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.TopicARN = "arn:aws:sns:us-east-1:111111111111:no-such-topic"
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	// IAM answers before SNS looks for the topic: the execution role may publish to its own topic only.
	if err == nil || !strings.Contains(err.Error(), "AuthorizationError") || !strings.Contains(err.Error(), "not authorized to perform: sns:Publish") ||
		!strings.Contains(err.Error(), "the workbook is in s3://"+awssim.DemoBucket+"/orgaudit/") {
		t.Fatalf("err = %v", err)
	}
	if out == nil || out.Result.Published || out.Result.Report == nil || len(sim.Workbooks()) != 1 {
		t.Errorf("workbook must stay in S3 and the result say nothing was published: %+v", out)
	}
}

// checkLink GETs a presigned link and checks the status and, on success, the body.
func checkLink(t *testing.T, sim *awssim.Server, link string, want []byte, status int) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status || (want != nil && !bytes.Equal(body, want)) {
		t.Errorf("GET the link: %d (want %d), %d bytes: %.300s", resp.StatusCode, status, len(body), body)
	}
}

// linkCredential is the access key that signed a presigned URL.
func linkCredential(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	key, _, _ := strings.Cut(u.Query().Get("X-Amz-Credential"), "/")
	return key
}
