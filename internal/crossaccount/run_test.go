package crossaccount_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

var asOf = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*awssim.Server, aws.Config) {
	t.Helper()
	sim := awssim.New(awssim.Demo(asOf))
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
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
	for _, c := range r.Cells {
		b.WriteString(c.AccountID + "/" + c.Region + "/" + c.Check + "=" + string(c.Outcome) + ":" + c.Code + " ")
	}
	return b.String()
}

func TestConcurrencyLimitHoldsAndDoesNotChangeTheResult(t *testing.T) {
	t.Parallel()
	sim, cfg := setup(t)
	var inFlight, peak atomic.Int32
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "ListAccounts" || c.Operation == "GetCallerIdentity" {
			return nil // the listing runs beside the task limit: one serial chain
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
	// Every active account is audited in every region by every check, as a cell: findings, clean or an error.
	if o := options(5); cellKeys(serial) != cellKeys(wide) || len(serial.Findings) != len(wide.Findings) || len(wide.Cells) != active*len(o.Regions)*len(o.Checks) {
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
	for _, c := range r.Cells {
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
		if c.Operation == "ListAccounts" && pages.Add(1) >= 3 {
			return &awssim.Fault{Status: 500, Code: "ServiceException", Message: "internal"}
		}
		return nil
	})
	r, err := crossaccount.Run(context.Background(), cfg, options(4))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Accounts) != 6 || !strings.Contains(r.Scope, "account list incomplete") {
		t.Errorf("accounts %d scope %q: the two pages that arrived are audited and the gap is said", len(r.Accounts), r.Scope)
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
