package crossaccount_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

var asOf = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*awssim.Server, aws.Config) {
	t.Helper()
	sim := testkit.StartSim(t, awssim.Demo(asOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	return sim, cfg
}

func options(concurrency int) crossaccount.Options {
	return crossaccount.Options{
		Role:    crossaccount.Role{Name: awssim.DemoRoleName, ExternalID: awssim.DemoExternalID, SessionName: "test"},
		Regions: []string{"us-east-1", "eu-west-1"}, Checks: checks.All(), Concurrency: concurrency, AsOf: asOf,
		Limits: checks.DefaultLimits(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func cellKeys(r *crossaccount.Result) string {
	var b strings.Builder
	for c := range r.Cells.All() {
		b.WriteString(c.AccountID + "/" + c.Region + "/" + c.Check + "=" + string(c.Outcome) + ":" + c.Code + " ")
	}
	return b.String()
}

func TestConcurrencyLimitHoldsAndDoesNotChangeTheResult(t *testing.T) {
	t.Parallel()
	sim, cfg := setup(t)
	var inFlight, peak atomic.Int32
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Service == "organizations" || c.Operation == "GetCallerIdentity" {
			return nil // the walk and the owner tags run beside the task limit
		}
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-time.After(2 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	})
	serial, err := crossaccount.Run(context.Background(), cfg, options(1))
	if err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p != 1 {
		t.Errorf("concurrency 1 reached %d calls at once", p)
	}
	peak.Store(0)
	wide, err := crossaccount.Run(context.Background(), cfg, options(5))
	if err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 5 || p < 2 {
		t.Errorf("concurrency 5 reached %d calls at once", p)
	}
	active := 0
	for _, a := range awssim.Demo(asOf).Accounts {
		if a.State == "ACTIVE" {
			active++
		}
	}
	// Every active account is audited in every region by every regional check, and once by every account-wide one, as
	// a cell: findings, clean or an error.
	if o := options(5); cellKeys(serial) != cellKeys(wide) || len(serial.Findings) != len(wide.Findings) || wide.Cells.Len() != active*crossaccount.CellsPerAccount(o.Checks, len(o.Regions)) {
		t.Errorf("the limit changed the result:\n%s\n%s", cellKeys(serial), cellKeys(wide))
	}
}

func TestOneFailingCheckIsRecordedAndIsolated(t *testing.T) {
	t.Parallel()
	sim, cfg := setup(t)
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.AccountID == "333333333333" && c.Operation == "ListStacks" && c.Region == "eu-west-1" {
			return &awssim.Fault{Status: 403, Code: "AccessDenied", Message: "explicit deny in a service control policy"}
		}
		if c.AccountID == "444444444444" && c.Operation == "DescribeReservedDBInstances" {
			return &awssim.Fault{Status: 503, Code: "ServiceUnavailable", Message: "try later"}
		}
		return nil
	})
	r, err := crossaccount.Run(context.Background(), cfg, options(4))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"333333333333/eu-west-1/cloudformation-failed-stacks": "AccessDenied",
		"444444444444/us-east-1/rds-reserved-instances":       "ServiceUnavailable",
		"444444444444/eu-west-1/rds-reserved-instances":       "ServiceUnavailable",
	}
	errs := 0
	for c := range r.Cells.All() {
		key := c.AccountID + "/" + c.Region + "/" + c.Check
		switch {
		case want[key] != "":
			errs++
			if c.Outcome != crossaccount.OutcomeError || c.Code != want[key] || c.Findings != 0 {
				t.Errorf("%s: %+v", key, c)
			}
		case c.AccountID == awssim.DemoMissingRole:
		case c.Outcome == crossaccount.OutcomeError:
			t.Errorf("neighbour cell failed: %+v", c)
		}
	}
	if errs != 3 || !strings.Contains(cellKeys(r), "333333333333/us-east-1/cloudformation-failed-stacks=clean") {
		t.Errorf("errors %d; cells %s", errs, cellKeys(r))
	}
	if !strings.Contains(messageOf(r, "333333333333"), "list stacks: explicit deny in a service control policy") {
		t.Errorf("message %q", messageOf(r, "333333333333"))
	}
}

func messageOf(r *crossaccount.Result, account string) string {
	for _, f := range r.Failures {
		if f.AccountID == account {
			return f.Message
		}
	}
	return ""
}

func TestAccountListThatBreaksPartWayIsSaid(t *testing.T) {
	t.Parallel()
	sim, cfg := setup(t)
	var pages atomic.Int32
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "ListAccountsForParent" && pages.Add(1) >= 3 {
			return &awssim.Fault{Status: 500, Code: "ServiceException", Message: "internal"}
		}
		return nil
	})
	r, err := crossaccount.Run(context.Background(), cfg, options(4))
	if err != nil {
		t.Fatal(err)
	}
	// Depth first, names in order: the root's accounts, then Infrastructure's; Sandbox's listing is the third.
	arrived := 0
	for _, a := range awssim.Demo(asOf).Accounts {
		if a.OU == "" || a.OU == "Infrastructure" {
			arrived++
		}
	}
	if len(r.Accounts) != arrived || !strings.Contains(r.Scope, "account list incomplete") {
		t.Errorf("accounts %d scope %q: the %d accounts that arrived are audited and the gap is said", len(r.Accounts), r.Scope, arrived)
	}
	var listing *crossaccount.Failure
	for i, f := range r.Failures {
		if f.AccountID == "" {
			listing = &r.Failures[i]
		}
	}
	if listing == nil || listing.Code != "ServiceException" {
		t.Errorf("failures %+v", r.Failures)
	}
}

func TestRoleARNUsesTheAccountPartition(t *testing.T) {
	t.Parallel()
	role := crossaccount.Role{Name: "OrgAuditReadOnly"}
	if got := role.RoleARN(crossaccount.Account{ID: "123456789012", Partition: "aws-us-gov"}); got != "arn:aws-us-gov:iam::123456789012:role/OrgAuditReadOnly" {
		t.Errorf("role arn %s", got)
	}
}

// TestAccountWideCheckIsOneCellPerAccount: a check whose Layout says it is account-wide (Savings Plans) runs once per
// account, whatever the regions, as the cell of region "global"; its calls are signed for the one region its service
// answers in; and it still runs when the account's regions cannot be listed. Counts come from the registry.
func TestAccountWideCheckIsOneCellPerAccount(t *testing.T) {
	t.Parallel()
	wide := map[string]bool{}
	for _, c := range checks.All() {
		if c.Layout().AccountWide {
			wide[c.Name()] = true
		}
	}
	if len(wide) == 0 {
		t.Fatal("no account-wide check is registered: this test would prove nothing")
	}
	active := 0
	for _, a := range awssim.Demo(asOf).Accounts {
		if a.State == "ACTIVE" {
			active++
		}
	}
	for name, regions := range map[string][]string{"one region": {"eu-west-1"}, "three regions": {"us-east-1", "eu-west-1", "ap-southeast-2"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim, cfg := setup(t)
			var signedFor sync.Map
			sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
				if c.Service == "savingsplans" {
					signedFor.Store(c.Region, true)
				}
				return nil
			})
			o := options(4)
			o.Regions = regions
			r, err := crossaccount.Run(context.Background(), cfg, o)
			if err != nil {
				t.Fatal(err)
			}
			perAccount := map[string]int{}
			for c := range r.Cells.All() {
				if wide[c.Check] {
					perAccount[c.AccountID+"/"+c.Check]++
					if c.Region != checks.GlobalRegion {
						t.Errorf("account-wide cell in region %q: %+v", c.Region, c)
					}
				}
			}
			if len(perAccount) != active*len(wide) || r.Cells.Len() != active*crossaccount.CellsPerAccount(o.Checks, len(regions)) {
				t.Errorf("%d account-wide cells over %d accounts, %d cells in all; want one per account and check, %d in all",
					len(perAccount), active, r.Cells.Len(), active*crossaccount.CellsPerAccount(o.Checks, len(regions)))
			}
			for k, n := range perAccount {
				if n != 1 {
					t.Errorf("%s: %d cells, want 1", k, n)
				}
			}
			for _, f := range r.Findings {
				if wide[f.Check] && f.Region != checks.GlobalRegion {
					t.Errorf("account-wide finding in region %q: %+v", f.Region, f)
				}
			}
			signedFor.Range(func(k, _ any) bool {
				if k != "us-east-1" {
					t.Errorf("Savings Plans called signed for %v: the aws partition's global endpoint is signed for us-east-1", k)
				}
				return true
			})
		})
	}
	t.Run("regions unreadable", func(t *testing.T) {
		t.Parallel()
		sim, cfg := setup(t)
		sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
			if c.Operation == "DescribeRegions" && c.AccountID == "555555555555" {
				return &awssim.Fault{Status: 403, Code: "UnauthorizedOperation", Message: "denied"}
			}
			return nil
		})
		o := options(4)
		o.Regions = []string{crossaccount.AllRegions}
		r, err := crossaccount.Run(context.Background(), cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for c := range r.Cells.All() {
			if c.AccountID == "555555555555" {
				got = append(got, c.Region+"/"+c.Check+"="+string(c.Outcome))
				if wide[c.Check] == (c.Outcome == crossaccount.OutcomeError) {
					t.Errorf("the region list is not the account-wide check's to need: %+v", c)
				}
			}
		}
		if len(got) != crossaccount.CellsPerAccount(o.Checks, 1) {
			t.Errorf("cells %v: want each regional check once in region %q and each account-wide one once", got, crossaccount.AllRegions)
		}
	})
}
