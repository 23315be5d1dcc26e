//go:build !lambda.norpc

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/report"
)

// faultPlans are the named fault mixes of `audit simulate -faults`.
var faultPlans = map[string]func(seed uint64, latency time.Duration) *awssim.FaultPlan{
	"none": func(seed uint64, latency time.Duration) *awssim.FaultPlan {
		return &awssim.FaultPlan{Seed: seed, Latency: latency}
	},
	// standard: what a large organization gives on a bad day.
	"standard": func(seed uint64, latency time.Duration) *awssim.FaultPlan {
		return &awssim.FaultPlan{Seed: seed, Latency: latency, ThrottleRate: 0.3, ThrottleBurst: 2, ServerErrorRate: 0.03,
			DenyAssumeRate: 0.05, ThrottleOps: []string{"ListAccountsForParent"}}
	},
	// throttle: throttling only, every call answered after retries; findings must equal a "none" run's.
	"throttle": func(seed uint64, latency time.Duration) *awssim.FaultPlan {
		return &awssim.FaultPlan{Seed: seed, Latency: latency, ThrottleRate: 0.4, ThrottleBurst: 3, ThrottleOps: []string{"ListAccountsForParent", "Publish", "PutObject"}}
	},
}

// simulateCommand runs the whole job against a generated organization of any size, with injected faults, and
// prints what a reviewer needs to judge it: coverage, errors by code, retries, faults injected, calls, wall time.
func simulateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	accounts := fs.Int("accounts", 1000, "accounts in the generated organization")
	regions := fs.String("regions", "us-east-1,eu-west-1", "regions enabled in every account")
	optIn := fs.String("opt-in-region", "af-south-1", "a region enabled in only half the accounts, audited too (empty: none)")
	faults := fs.String("faults", "standard", "fault plan: none, throttle or standard")
	latency := fs.Duration("latency", 0, "latency added to every API call")
	concurrency := fs.Int("concurrency", config.DefaultConcurrency, "most tasks at once")
	seed := fs.Uint64("seed", 1, "seed of the organization and the fault plan")
	largeStacks := fs.Int("large-account-stacks", 5000, "stacks in one very large account")
	timeout := fs.Duration("timeout", 0, "deadline for the run (0: none)")
	maxBackoff := fs.Duration("max-backoff", 20*time.Second, "longest wait between retries")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	newPlan, ok := faultPlans[*faults]
	if !ok || *accounts < 1 || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "audit simulate: -faults must be none, throttle or standard, -accounts at least 1, and no arguments\n")
		return exitUsage
	}
	asOf := time.Now().UTC()
	o := awssim.GenerateOptions{Accounts: *accounts, Regions: config.SplitList(*regions), OptInRegion: *optIn, OptInShare: 0.5,
		MissingRoleShare: 0.02, SuspendedShare: 0.01, LargeAccountStacks: *largeStacks, PageSize: 100, AsOf: asOf, Seed: *seed}
	if len(o.Regions) == 0 {
		fmt.Fprintln(stderr, "audit simulate: -regions is empty")
		return exitUsage
	}
	s := config.Defaults()
	s.RoleName, s.ExternalID = awssim.DemoRoleName, awssim.DemoExternalID
	s.Regions = append(append([]string{}, o.Regions...), config.SplitList(*optIn)...)
	s.Bucket, s.TopicARN, s.S3PathStyle = awssim.GeneratedBucket, awssim.GeneratedTopicARN(o), true
	s.AsOf, s.Concurrency, s.Timeout, s.MaxBackoff = asOf, *concurrency, *timeout, *maxBackoff
	if err := s.Validate(); err != nil {
		fmt.Fprintf(stderr, "audit simulate: %v\n", err)
		return exitUsage
	}

	sim := awssim.New(awssim.Generate(o))
	if err := sim.Start(); err != nil {
		fmt.Fprintf(stderr, "audit simulate: %v\n", err)
		return exitFail
	}
	defer sim.Close()
	plan := newPlan(*seed, *latency)
	sim.SetIntercept(plan.Intercept)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	began := time.Now()
	out, err := audit.Run(ctx, sim.Config(awssim.GeneratedManagementAccount, o.Regions[0]), s, audit.Options{Logger: logger})
	wall := time.Since(began)
	if out == nil {
		fmt.Fprintf(stderr, "audit simulate: %s\n", errText(err))
		return exitFail
	}
	r := out.Result
	codes := map[string]int{}
	for c := range r.Cells.All() {
		if c.Outcome == crossaccount.OutcomeError {
			codes[report.Inline(c.Code)]++ // AWS text, like the messages
		}
	}
	crit, warn, notice := r.Totals()
	fmt.Fprintf(stdout, "simulated organization: %d accounts, regions %s, faults %q, latency %s, concurrency %d, seed %d\n",
		*accounts, strings.Join(s.Regions, ","), *faults, *latency, *concurrency, *seed)
	cut := ""
	for _, p := range r.PartialReasons {
		if p.Reason == report.PartialDeadline {
			cut = " (PARTIAL: deadline)"
		}
	}
	fmt.Fprintf(stdout, "wall time:        %s%s\n", wall.Round(time.Millisecond), cut)
	fmt.Fprintf(stdout, "accounts:         %d in scope, %d audited, %d partly, %d not audited, %d skipped\n",
		r.Accounts.Total, r.Accounts.Audited, r.Accounts.Partial, r.Accounts.Failed, r.Accounts.Skipped)
	// What the run owed: every in-scope account in every region with every check. Anything short is a silent drop.
	owed := r.Accounts.Total * len(s.Regions) * len(r.Checks)
	fmt.Fprintf(stdout, "cells:            %d = %d findings + %d clean + %d error; owed %d (accounts × regions × checks): %d unaccounted\n",
		r.Coverage.Cells, r.Coverage.Findings, r.Coverage.Clean, r.Coverage.Errors, owed, owed-r.Coverage.Cells)
	fmt.Fprintf(stdout, "errors by code:   %s\n", orNone(awssim.SortedCounts(codes)))
	fmt.Fprintf(stdout, "findings:         %d (%d critical, %d warning, %d notice)\n", len(r.Findings), crit, warn, notice)
	fmt.Fprintf(stdout, "api retries:      %d (%s)\n", r.APIRetries, orNone(report.Inline(awssim.SortedCounts(r.RetriesByCode))))
	fmt.Fprintf(stdout, "faults injected:  %s\n", orNone(awssim.SortedCounts(plan.Injected())))
	fmt.Fprintf(stdout, "delivered:        workbook %d bytes to s3://%s, digest published %v\n", len(out.Workbook), s.Bucket, r.Published)
	fmt.Fprintf(stdout, "calls by operation:\n")
	calls := sim.Calls()
	var ops []string
	for op := range calls {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		fmt.Fprintf(stdout, "  %-45s %d\n", op, calls[op])
	}
	if err != nil {
		fmt.Fprintf(stderr, "audit simulate: %s\n", errText(err))
		return exitFail
	}
	return exitOK
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
