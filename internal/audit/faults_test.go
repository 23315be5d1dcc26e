package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"regexp"
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
)

func generatedOrg(accounts int) awssim.GenerateOptions {
	return awssim.GenerateOptions{Accounts: accounts, Regions: []string{"us-east-1", "eu-west-1"}, OptInRegion: "af-south-1", OptInShare: 0.5,
		MissingRoleShare: 0.03, SuspendedShare: 0.02, LargeAccountStacks: 5000, PageSize: 100, AsOf: demoAsOf, Seed: 7}
}

func generatedSettings(o awssim.GenerateOptions) config.Settings {
	s := config.Defaults()
	s.RoleName, s.ExternalID = awssim.DemoRoleName, awssim.DemoExternalID
	s.Regions = append(append([]string{}, o.Regions...), o.OptInRegion)
	s.Bucket, s.TopicARN, s.S3PathStyle = awssim.GeneratedBucket, awssim.GeneratedTopicARN(o), true
	s.AsOf, s.RunID = demoAsOf, "matrix"
	s.Concurrency = 32
	s.MaxBackoff = 2 * time.Millisecond // the test's throttles need retries, not waiting
	return s
}

// runGenerated runs the job on a fresh simulator holding o, with plan (if any) as its fault seam.
func runGenerated(t *testing.T, o awssim.GenerateOptions, s config.Settings, plan *awssim.FaultPlan, ctx context.Context) (*audit.Output, *awssim.Server, error) {
	t.Helper()
	sim := startSim(t, awssim.Generate(o))
	if plan != nil {
		sim.SetIntercept(plan.Intercept)
	}
	cfg := sim.Config(awssim.GeneratedManagementAccount, o.Regions[0])
	out, err := audit.Run(ctx, cfg, s, audit.Options{Logger: quietLogger()})
	return out, sim, err
}

func cellMap(res *report.Result) map[string]string {
	m := map[string]string{}
	for c := range res.Cells.All() {
		m[c.AccountID+"/"+c.Region+"/"+c.Check] = string(c.Outcome) + ":" + c.Code
	}
	return m
}

func findingKeys(fs []checks.Finding) []string {
	var out []string
	for _, f := range fs {
		days := ""
		if f.DaysLeft != nil {
			days = fmt.Sprint(*f.DaysLeft)
		}
		out = append(out, strings.Join([]string{f.Check, f.AccountID, f.Region, f.ResourceID, string(f.Severity), f.Status, days, f.Reason}, "|"))
	}
	slices.Sort(out)
	return out
}

// activeAccounts counts what a run must cover: every ACTIVE account of the organization.
func activeAccounts(o awssim.GenerateOptions) int {
	n := 0
	for _, a := range awssim.Generate(o).Accounts {
		if a.State == "ACTIVE" {
			n++
		}
	}
	return n
}

// assertAccounted: every account × region × check of every active account is one cell, and every error has a code.
func assertAccounted(t *testing.T, res *report.Result, active, regions int) {
	t.Helper()
	perAccount := crossaccount.CellsPerAccount(checks.All(), regions)
	if res.Cells.Len() != active*perAccount || len(cellMap(res)) != res.Cells.Len() {
		t.Fatalf("%d cells (%d distinct), want %d accounts × %d cells (%d regions) = %d", res.Cells.Len(), len(cellMap(res)), active, perAccount, regions, active*perAccount)
	}
	for c := range res.Cells.All() {
		if c.Outcome == crossaccount.OutcomeError && (c.Code == "" || c.Message == "") {
			t.Errorf("error cell without code or message: %+v", c)
		}
		if c.Outcome != crossaccount.OutcomeError && c.Code != "" {
			t.Errorf("successful cell with an error code: %+v", c)
		}
	}
}

var coverageLine = regexp.MustCompile(`Coverage: (\d+) of (\d+) account/region/check cells ran \((\d+) with findings, (\d+) clean, (\d+) failed\)`)

// assertAgreement: the digest's coverage line, the subject's account count and the Coverage sheet say what the JSON says.
func assertAgreement(t *testing.T, out *audit.Output) {
	t.Helper()
	res := out.Result
	m := coverageLine.FindStringSubmatch(out.Digest)
	if m == nil {
		t.Fatalf("digest has no coverage line:\n%.600s", out.Digest)
	}
	want := fmt.Sprintf("%d %d %d %d %d", res.Coverage.Findings+res.Coverage.Clean, res.Coverage.Cells, res.Coverage.Findings, res.Coverage.Clean, res.Coverage.Errors)
	if got := strings.Join(m[1:6], " "); got != want {
		t.Errorf("digest coverage %s, JSON %s", got, want)
	}
	if !strings.Contains(out.Subject, fmt.Sprintf("| %d/%d accounts", res.Accounts.Audited, res.Accounts.Total)) {
		t.Errorf("subject %q vs accounts %+v", out.Subject, res.Accounts)
	}
	// Partial whenever some cell did not run, and the subject and the digest say so when the JSON does.
	if res.Coverage.Errors > 0 && !res.Partial || strings.HasPrefix(out.Subject, "PARTIAL ") != res.Partial ||
		strings.Contains(out.Digest, "\nPARTIAL: ") != res.Partial {
		t.Errorf("partial %v (%d cells failed), subject %q, digest:\n%.600s", res.Partial, res.Coverage.Errors, out.Subject, out.Digest)
	}
	f, err := excelize.OpenReader(bytes.NewReader(out.Workbook))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(report.CoverageSheet)
	if err != nil {
		t.Fatal(err)
	}
	byOutcome := map[string]int{}
	outcome := slices.Index(rows[0], "Outcome")
	for _, r := range rows[1:] {
		byOutcome[r[outcome]]++
	}
	sheet := fmt.Sprint(byOutcome["findings"], byOutcome["clean"], byOutcome["error"], len(rows)-1)
	if js := fmt.Sprint(res.Coverage.Findings, res.Coverage.Clean, res.Coverage.Errors, res.Coverage.Cells); sheet != js {
		t.Errorf("Coverage sheet findings/clean/error/total %s, JSON %s", sheet, js)
	}
}

func TestFaultMatrix200Accounts(t *testing.T) {
	t.Parallel()
	o := generatedOrg(200)
	s := generatedSettings(o)
	active := activeAccounts(o)

	clean, _, err := runGenerated(t, o, s, nil, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	assertAccounted(t, clean.Result, active, 3)
	assertAgreement(t, clean)
	if clean.Result.APIRetries != 0 {
		t.Errorf("a fault-free run retried %d times", clean.Result.APIRetries)
	}

	// Throttling with every service's own code, each call failing three times before it is answered: the retries
	// must give exactly the fault-free result.
	throttle := &awssim.FaultPlan{Seed: 3, ThrottleRate: 0.4, ThrottleBurst: 3, ThrottleOps: []string{"ListAccountsForParent", "Publish", "PutObject"}}
	throttled, _, err := runGenerated(t, o, s, throttle, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(cellMap(clean.Result), cellMap(throttled.Result)) {
		t.Error("throttling changed the cells")
	}
	if !slices.Equal(findingKeys(clean.Result.Findings), findingKeys(throttled.Result.Findings)) {
		t.Errorf("throttling changed the findings: %d vs %d", len(clean.Result.Findings), len(throttled.Result.Findings))
	}
	injected := throttle.Injected()
	for _, code := range []string{"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "Throttled", "SlowDown"} {
		if injected[code] == 0 {
			t.Errorf("no %s injected: %v", code, injected)
		}
	}
	totalInjected := 0
	for _, n := range injected {
		totalInjected += n
	}
	if throttled.Result.APIRetries != totalInjected {
		t.Errorf("retries %d, throttles injected %d: every throttle must be retried once", throttled.Result.APIRetries, totalInjected)
	}

	// Everything at once: latency, throttling, persistent 5xx, denied roles, regions not enabled, a 5,000-stack account.
	full := &awssim.FaultPlan{Seed: 5, Latency: 200 * time.Microsecond, ThrottleRate: 0.3, ThrottleBurst: 2, ServerErrorRate: 0.03, DenyAssumeRate: 0.05}
	out, sim, err := runGenerated(t, o, s, full, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res := out.Result
	assertAccounted(t, res, active, 3)
	assertAgreement(t, out)
	allowed := map[string]bool{"AccessDenied": true, "InternalFailure": true, "InternalError": true, "ServiceUnavailable": true,
		"InvalidClientTokenId": true, "UnrecognizedClientException": true, "AuthFailure": true}
	codes := map[string]int{}
	for c := range res.Cells.All() {
		if c.Outcome == crossaccount.OutcomeError {
			codes[c.Code]++
			if !allowed[c.Code] {
				t.Errorf("unexpected code %s: %+v", c.Code, c)
			}
		}
	}
	for code := range allowed {
		if codes[code] == 0 {
			t.Errorf("no cell failed with %s: %v", code, codes)
		}
	}
	// Cells that ran give the same answer as the fault-free run.
	cleanCells := cellMap(clean.Result)
	for k, v := range cellMap(res) {
		if !strings.HasPrefix(v, "error:") && cleanCells[k] != v {
			t.Errorf("cell %s: %s, fault-free %s", k, v, cleanCells[k])
		}
	}
	// Failed cells make the run partial, for that reason alone: nothing was cut by the deadline.
	if !res.Published || len(sim.Workbooks()) != 1 || !res.Partial || len(res.PartialReasons) != 1 ||
		res.PartialReasons[0].Reason != report.PartialCellsFailed || res.PartialReasons[0].Cells != res.Coverage.Errors {
		t.Errorf("published %v workbooks %d partial %v %+v", res.Published, len(sim.Workbooks()), res.Partial, res.PartialReasons)
	}
	// One connection pool for the whole run: a pool per SDK client would open thousands and exhaust file descriptors.
	if n := sim.Connections(); n > 4*(s.Concurrency+4) {
		t.Errorf("the run opened %d connections for %d cells; its clients do not share a pool", n, res.Cells.Len())
	}
	large := 0
	for _, f := range res.Findings {
		if f.AccountID == "200000000001" && f.Check == "cloudformation-failed-stacks" && f.Region == "us-east-1" {
			large++
		}
	}
	if c := cellMap(res)["200000000001/us-east-1/cloudformation-failed-stacks"]; c == "findings:" && large != 1000 {
		t.Errorf("the 5,000-stack account: %d failed stacks found, want 1000", large)
	}
	t.Logf("cells %d, errors by code %v, findings %d, retries %d %v, injected %v", res.Cells.Len(), codes, len(res.Findings), res.APIRetries, res.RetriesByCode, full.Injected())
}
