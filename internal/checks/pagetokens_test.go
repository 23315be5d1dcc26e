package checks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/awserr"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// TestRepeatedPageTokenIsAnError drives every paginated check through the real SDK against a simulator whose
// operation hands a page's token back: the check must stop and fail its cell, never loop and never call a listing
// it could not finish clean.
func TestRepeatedPageTokenIsAnError(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	// Each case names an account and region of the demo whose listing spans several pages.
	cases := []struct {
		check              checks.Check
		service, operation string
		account, region    string
	}{
		{checks.RDSReservedInstances{}, "rds", "DescribeReservedDBInstances", "444444444444", "us-east-1"},
		{checks.ElastiCacheReservedNodes{}, "elasticache", "DescribeReservedCacheNodes", "444444444444", "eu-west-1"},
		{checks.RedshiftReservedNodes{}, "redshift", "DescribeReservedNodes", "121212121212", "us-east-1"},
		{checks.CloudFormationFailedStacks{}, "cloudformation", "ListStacks", "333333333333", "eu-west-1"},
		{checks.ServiceCatalogProducts{}, "servicecatalog", "SearchProvisionedProducts", "222222222222", "us-east-1"},
	}
	for _, c := range cases {
		t.Run(c.check.Name(), func(t *testing.T) {
			t.Parallel()
			for _, repeat := range []bool{false, true} {
				org := awssim.Demo(asOf)
				if repeat {
					org.RepeatToken = []string{c.operation}
				}
				sim := testkit.StartSim(t, org)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				tg := checks.Target{AccountID: c.account, Partition: "aws", Region: c.region, Config: sim.Config(c.account, c.region),
					AsOf: asOf, Limits: checks.DefaultLimits()}
				_, err := c.check.Run(ctx, tg)
				cancel()
				calls := sim.Calls()[c.service+"."+c.operation]
				_ = sim.Close()
				if !repeat {
					if err != nil || calls < 2 {
						t.Fatalf("without the fault: %d calls, err %v; the case must span pages and succeed", calls, err)
					}
					continue
				}
				if !errors.Is(err, awserr.ErrRepeatedToken) || awserr.APICode(err) != "RepeatedPageToken" {
					t.Fatalf("repeated token: err = %v, want ErrRepeatedToken with code RepeatedPageToken", err)
				}
				if calls != 2 {
					t.Errorf("%d calls to %s: the second page's repeated token must stop the listing", calls, c.operation)
				}
			}
		})
	}
}

// TestPageTokensCatchAnyRepeat: a token coming back after others (A, B, A) loops as surely as one repeated at once,
// which the SDK's StopOnDuplicateToken does not see.
func TestPageTokensCatchAnyRepeat(t *testing.T) {
	t.Parallel()
	tok := func(s string) *string { return &s }
	p := checks.NewPageTokens("ListStacks")
	for _, s := range []*string{tok("A"), tok("B"), nil, tok("")} {
		if err := p.Next(s); err != nil {
			t.Fatalf("fresh token %v: %v", s, err)
		}
	}
	err := p.Next(tok("A"))
	var rt *awserr.RepeatedTokenError
	if !errors.As(err, &rt) || rt.Operation != "ListStacks" || !errors.Is(err, awserr.ErrRepeatedToken) {
		t.Fatalf("A again: %v", err)
	}
}
