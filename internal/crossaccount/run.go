package crossaccount

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"

	"github.com/orgaudit/orgaudit/internal/awserr"
	"github.com/orgaudit/orgaudit/internal/checks"
)

// Options configure one fan-out.
type Options struct {
	Role Role
	// Regions to audit: explicit names, or just AllRegions for the regions enabled in each account. Empty means the
	// region of the base configuration.
	Regions []string
	Checks  []checks.Check
	Filter  Filter
	// Concurrency is the one limit on simultaneous tasks (role set-up and checks alike).
	Concurrency int
	AsOf        time.Time
	Limits      checks.Limits
	Logger      *slog.Logger
	// Progress, when set, is told each time a cell finishes.
	Progress func(done int)
	// AllowOwnAccountFallback: when the organization cannot be listed and no accounts are named, audit the caller's
	// own account and say "own account only". Without it such a run fails with OrganizationUnreadableError.
	AllowOwnAccountFallback bool
	// Owners say how each account's owner is found (owners.go).
	Owners OwnerOptions
}

// OrganizationUnreadableError is a run that could not list the organization, named no accounts, and may not fall
// back to the caller's own account: auditing one account and calling it the organization would hide the loss.
type OrganizationUnreadableError struct{ Err error }

func (e *OrganizationUnreadableError) Error() string {
	return "the organization's accounts could not be listed (organizations:ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent), and no accounts are named: " + awserr.Code(e.Err) + ": " + awserr.Message(e.Err)
}
func (e *OrganizationUnreadableError) Unwrap() error { return e.Err }

// MemberActions are the IAM actions the fan-out itself calls with each account's credentials, beside the checks'
// own: the enabled-region lookup behind -regions all.
var MemberActions = []string{"ec2:DescribeRegions"}

// ManagementActions are what the fan-out calls with the job's own credentials, beside the checks' own for the
// account it runs in: the walk of the OU tree, the owner tags, and the member roles. sts:GetCallerIdentity needs no
// permission.
var ManagementActions = []string{"organizations:ListRoots", "organizations:ListOrganizationalUnitsForParent",
	"organizations:ListAccountsForParent", "organizations:ListTagsForResource", "sts:AssumeRole"}

// CodeNotInOrganization marks the cells of an account named in the settings that the organization does not hold.
const CodeNotInOrganization = "NotInOrganization"

type run struct {
	base   aws.Config
	sts    *sts.Client
	opts   Options
	log    *slog.Logger
	queue  *queue
	owners *owners
	// walked says the walk saw the whole organization.
	walked bool
	// listOnly walks without auditing (List); notListed are the named accounts the organization does not hold.
	listOnly  bool
	notListed map[string]bool

	mu  sync.Mutex
	res Result
	// fatal stops the run before any cell: the organization could not be listed and there is nothing to fall back to.
	fatal error
}

// Run audits every account in scope and returns what each cell found. The error is only for a run that could not
// start at all (the caller's own identity is unknown); everything else is recorded in the Result.
func Run(ctx context.Context, base aws.Config, opts Options) (*Result, error) {
	r, self, err := begin(ctx, base, opts)
	if err != nil {
		return nil, err
	}
	r.queue.hold()
	go r.produce(ctx, self)
	r.work()
	tags, stats := r.owners.finish(r.res.Accounts, r.res.Skipped, r.walked, ownerTagGrace)
	if r.fatal != nil {
		return nil, r.fatal
	}
	r.res.OwnerTags, r.res.OwnerStats = tags, stats
	r.res.Partial = ctx.Err() != nil
	Settle(&r.res)
	return &r.res, nil
}

// Listing is the organization as a distributed run's plan sees it: the accounts to audit, each with its OU and
// owner, and in Rest everything else the report must say (scope, skipped accounts, named accounts the organization
// does not hold with their error cells, a failure of the listing, the owner tags to keep and their stats).
type Listing struct {
	Audit []Account
	Rest  Result
}

// maxListOwnerWait bounds how long List waits for the owner tag reads its budget allows. With no audit beside them
// the reads are all the plan does, so it waits for them (500 reads at 10 a second take 50 s), leaving half of what
// the invocation has left.
const maxListOwnerWait = 2 * time.Minute

// List walks the organization and reads owner tags as Run does, without auditing: the plan of a distributed run.
// Its errors are Run's: the caller's identity unknown, or an OrganizationUnreadableError.
func List(ctx context.Context, base aws.Config, opts Options) (*Listing, error) {
	r, self, err := begin(ctx, base, opts)
	if err != nil {
		return nil, err
	}
	r.listOnly = true
	r.queue.hold()
	r.produce(ctx, self)
	wait := maxListOwnerWait
	if deadline, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(deadline)/2)
	}
	tags, stats := r.owners.finish(r.res.Accounts, r.res.Skipped, r.walked, wait)
	if r.fatal != nil {
		return nil, r.fatal
	}
	l := &Listing{}
	var rest []Account
	for _, a := range r.res.Accounts {
		if r.notListed[a.ID] {
			rest = append(rest, a)
		} else {
			l.Audit = append(l.Audit, a)
		}
	}
	slices.SortFunc(l.Audit, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	r.res.Accounts = rest
	r.res.OwnerTags, r.res.OwnerStats = tags, stats
	r.res.Partial = ctx.Err() != nil
	Settle(&r.res)
	l.Rest = r.res
	return l, nil
}

// RunAccounts audits exactly accounts, as listed before (by List, for one shard of a distributed run): no walk and
// no owner tags, each account keeping the OU and owner it comes with. The error is only for a run that could not
// start (the caller's own identity is unknown).
func RunAccounts(ctx context.Context, base aws.Config, opts Options, accounts []Account) (*Result, error) {
	opts.Owners = OwnerOptions{}
	r, self, err := begin(ctx, base, opts)
	if err != nil {
		return nil, err
	}
	r.queue.hold()
	go func() {
		defer r.queue.release()
		for _, a := range accounts {
			a.Self = a.ID == self.ID
			r.mu.Lock()
			r.res.Accounts = append(r.res.Accounts, a)
			r.mu.Unlock()
			r.queue.push(func() { r.setUp(ctx, a) }, false)
		}
	}()
	r.work()
	r.res.Scope = "accounts"
	r.res.Partial = ctx.Err() != nil
	Settle(&r.res)
	return &r.res, nil
}

// begin prepares a fan-out and learns who the caller is.
func begin(ctx context.Context, base aws.Config, opts Options) (*run, Account, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if len(opts.Regions) == 0 {
		opts.Regions = []string{base.Region}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &run{base: base, sts: sts.NewFromConfig(base), opts: opts, log: opts.Logger, queue: newQueue(), notListed: map[string]bool{}}
	r.owners = newOwners(ctx, base, opts.Owners, opts.Logger)
	me, err := r.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		r.owners.stop()
		return nil, Account{}, fmt.Errorf("get caller identity: %w", err)
	}
	r.res.Organization.CallerAccountID = aws.ToString(me.Account)
	return r, Account{ID: aws.ToString(me.Account), Partition: partitionOf(aws.ToString(me.Arn)), Self: true}, nil
}

// learnOrganization records the organization a root's ARN names. An ARN of another shape leaves it unknown, as for
// a run that could not list the organization: its history is then the caller's, never another organization's.
func (r *run) learnOrganization(ctx context.Context, rootARN string) {
	o, ok := organizationOfRoot(rootARN)
	if !ok {
		r.log.WarnContext(ctx, "root ARN names no organization", "arn", rootARN)
		return
	}
	r.mu.Lock()
	r.res.Organization.ID, r.res.Organization.ManagementAccountID = o.ID, o.ManagementAccountID
	r.mu.Unlock()
}

// work runs the queue to its end.
func (r *run) work() {
	// The limit is a fixed set of workers over one queue: a goroutine per task would grow a fresh stack through the
	// SDK's deep middleware for every call, which cost a twentieth of the run's CPU. Not errgroup.WithContext: one
	// task's failure must never cancel its neighbours.
	var g errgroup.Group
	for range r.opts.Concurrency {
		g.Go(func() error {
			for {
				task, ok := r.queue.next()
				if !ok {
					return nil
				}
				task()
				r.queue.release()
			}
		})
	}
	_ = g.Wait()
}

// Settle orders a result and gives every row its account's owner and OU: the last step of Run, and of a merge of
// several runs' results.
func Settle(res *Result) {
	sortResult(res)
	stampOwners(res)
}

// stampOwners gives every cell, failure and finding its account's owner and OU, once the owners are known (their
// tags are read beside the audit). The strings are the account's own, so ten thousand accounts' cells share them.
func stampOwners(res *Result) {
	byID := make(map[string]*Account, len(res.Accounts))
	for i := range res.Accounts {
		byID[res.Accounts[i].ID] = &res.Accounts[i]
	}
	res.Cells.stampOwners(byID)
	for i := range res.Failures {
		if a := byID[res.Failures[i].AccountID]; a != nil {
			res.Failures[i].Owner, res.Failures[i].OU = a.Owner, a.OU
		}
	}
	for i := range res.Findings {
		if a := byID[res.Findings[i].AccountID]; a != nil {
			res.Findings[i].Owner, res.Findings[i].OU = a.Owner, a.OU
		}
	}
}

// classify names a failure; once the audit's context is done, whatever it cut short is the deadline's doing.
func classify(ctx context.Context, err error) (code, msg string) {
	if ctx.Err() != nil {
		return CodeDeadline, "not audited: the deadline was reached (" + awserr.Message(err) + ")"
	}
	return awserr.Code(err), awserr.Message(err)
}

var errNotStarted = errors.New("not started")

// refusal says why the organization could not be listed: AWS's code, which names the kind of refusal, and its own
// message, which says what a person can fix.
func refusal(err error) string {
	if msg := awserr.APIMessage(err); msg != "" {
		return awserr.Code(err) + ": " + msg
	}
	return awserr.Code(err)
}

// produce lists the accounts and queues each one's set-up as its page arrives.
func (r *run) produce(ctx context.Context, self Account) {
	defer r.queue.release()
	start := func(a Account) {
		if a.ID == self.ID {
			a.Self = true
		}
		r.mu.Lock()
		r.res.Accounts = append(r.res.Accounts, a)
		r.mu.Unlock()
		if a.OU != "" {
			r.owners.see(a.ID)
		}
		if !r.listOnly {
			r.queue.push(func() { r.setUp(ctx, a) }, false)
		}
	}
	skip := func(s Skipped) {
		r.log.InfoContext(ctx, "account skipped", "account_id", s.AccountID, "reason", s.Reason)
		r.mu.Lock()
		r.res.Skipped = append(r.res.Skipped, s)
		r.mu.Unlock()
	}
	var started int
	// listed holds every id the organization answered with, active or not, to tell a named account it does not hold.
	listed := map[string]bool{}
	r.mu.Lock()
	r.res.Listed = map[string]string{}
	r.mu.Unlock()
	err := walkOrganization(ctx, organizations.NewFromConfig(r.base), r.opts.Filter, walkSink{
		root: func(arn string) { r.learnOrganization(ctx, arn) },
		listed: func(id string, state orgtypes.AccountState) {
			r.owners.listed(id)
			r.mu.Lock()
			r.res.Listed[id] = string(state)
			r.mu.Unlock()
		},
		active:  func(a Account) { started++; listed[a.ID] = true; start(a) },
		skipped: func(s Skipped) { listed[s.AccountID] = true; skip(s) },
	})
	r.walked = err == nil
	r.mu.Lock()
	r.res.ListedWhole = r.walked
	r.mu.Unlock()
	r.owners.walkEnded()
	switch {
	case err == nil:
		r.setScope("organization")
		for _, id := range r.opts.Filter.Only {
			if !listed[id] && !slices.Contains(r.opts.Filter.Exclude, id) {
				r.notInOrganization(ctx, Account{ID: id, Partition: self.Partition})
			}
		}
	case started == 0 && len(r.opts.Filter.Only) > 0 && awserr.OrganizationUnreadable(err):
		// Not an organization's management or delegated-admin account, but the accounts are named: audit those.
		r.setScope(fmt.Sprintf("the named accounts (the organization could not be listed: %s)", refusal(err)))
		for _, id := range r.opts.Filter.Only {
			if !slices.Contains(r.opts.Filter.Exclude, id) {
				start(Account{ID: id, Partition: self.Partition})
			}
		}
	case started == 0 && !r.opts.AllowOwnAccountFallback:
		// Denied or unavailable, and nothing named: a run of one account would read as the organization's.
		r.log.ErrorContext(ctx, "listing accounts failed", "code", awserr.Code(err), "err", err)
		r.mu.Lock()
		r.fatal = &OrganizationUnreadableError{Err: err}
		r.mu.Unlock()
	case started == 0 && awserr.OrganizationUnreadable(err):
		// The CLI run from a member account: audit what we can reach and say so plainly, subject included.
		r.mu.Lock()
		r.res.Scope = fmt.Sprintf("own account only: the caller's account %s; the organization could not be listed (%s)", self.ID, refusal(err))
		r.res.OwnAccountOnly = true
		r.mu.Unlock()
		if r.opts.Filter.allows(self.ID) {
			start(self)
		}
	default:
		// The listing broke part way: audit what arrived and record that the account list is incomplete.
		code, msg := classify(ctx, err)
		r.log.ErrorContext(ctx, "listing accounts failed", "code", code, "err", err)
		r.setScope("organization (account list incomplete)")
		r.mu.Lock()
		r.res.Failures = append(r.res.Failures, Failure{Code: code, Message: "account list incomplete: " + msg})
		r.res.ListingIncomplete = code + ": " + msg
		r.mu.Unlock()
	}
}

// notInOrganization records a named account the organization does not hold: counted, every cell an error saying
// why, and never assumed into.
func (r *run) notInOrganization(ctx context.Context, a Account) {
	r.log.WarnContext(ctx, "account not audited", "account_id", a.ID, "code", CodeNotInOrganization)
	r.mu.Lock()
	r.res.Accounts = append(r.res.Accounts, a)
	r.notListed[a.ID] = true
	r.mu.Unlock()
	regions := r.opts.Regions
	r.record(a, regions, true, CodeNotInOrganization, "not audited: not in the organization")
}

func (r *run) setScope(s string) {
	r.mu.Lock()
	r.res.Scope = s
	r.mu.Unlock()
}

// setUp gets the account's credentials and regions, then queues its cells: each account-wide check once, each
// regional check in each region.
func (r *run) setUp(ctx context.Context, a Account) {
	if ctx.Err() != nil {
		r.fail(ctx, a, r.opts.Regions, true, errNotStarted)
		return
	}
	cfg, err := accountConfig(ctx, r.base, r.sts, r.opts.Role, a)
	if err != nil {
		r.fail(ctx, a, r.opts.Regions, true, err)
		return
	}
	target := func(region string, cfg aws.Config) checks.Target {
		return checks.Target{AccountID: a.ID, AccountName: a.Name, Partition: a.Partition, Region: region,
			Config: cfg, AsOf: r.opts.AsOf, Limits: r.opts.Limits}
	}
	// An account-wide check needs no region list, so it runs even when the list cannot be read; its client keeps the
	// job's region, from which the SDK resolves the service's endpoint in the account's partition.
	for _, c := range r.opts.Checks {
		if c.Layout().AccountWide {
			t := target(checks.GlobalRegion, cfg.Copy())
			r.queue.push(func() { r.check(ctx, c, t) }, true)
		}
	}
	regions := r.opts.Regions
	if len(regions) == 1 && regions[0] == AllRegions {
		regions, err = enabledRegions(ctx, cfg)
		if err != nil {
			r.fail(ctx, a, []string{AllRegions}, false, err)
			return
		}
	}
	for _, region := range regions {
		rcfg := cfg.Copy()
		rcfg.Region = region
		for _, c := range r.opts.Checks {
			if !c.Layout().AccountWide {
				t := target(region, rcfg)
				r.queue.push(func() { r.check(ctx, c, t) }, true)
			}
		}
	}
}

// CellsPerAccount is how many cells auditing one account with cs in regions regions holds: each regional check in
// each region, each account-wide check once.
func CellsPerAccount(cs []checks.Check, regions int) int {
	n := 0
	for _, c := range cs {
		if c.Layout().AccountWide {
			n++
		} else {
			n += regions
		}
	}
	return n
}

func (r *run) check(ctx context.Context, c checks.Check, t checks.Target) {
	var findings []checks.Finding
	err := errNotStarted
	if ctx.Err() == nil {
		findings, err = c.Run(ctx, t)
	}
	cell := Cell{AccountID: t.AccountID, AccountName: t.AccountName, Region: t.Region, Check: c.Name(), Findings: len(findings)}
	switch {
	case err != nil:
		cell.Outcome = OutcomeError
		cell.Code, cell.Message = classify(ctx, err)
		r.log.WarnContext(ctx, "check failed", "check", c.Name(), "account_id", t.AccountID, "region", t.Region, "code", cell.Code, "err", err)
	case len(findings) > 0:
		cell.Outcome = OutcomeFindings
	default:
		cell.Outcome = OutcomeClean
	}
	r.mu.Lock()
	r.res.Cells.Add(cell)
	// Findings a check returned before it failed are kept: they are real, and the cell still says it failed.
	r.res.Findings = append(r.res.Findings, findings...)
	if err != nil {
		r.res.Failures = append(r.res.Failures, Failure{AccountID: t.AccountID, AccountName: t.AccountName, Region: t.Region, Check: c.Name(), Code: cell.Code, Message: cell.Message})
	}
	done := r.res.Cells.Len()
	r.mu.Unlock()
	if r.opts.Progress != nil {
		r.opts.Progress(done)
	}
}

// fail records one failure of an account's set-up and marks every cell it prevented: the regional checks' in
// regions, and the account-wide checks' too when accountWide says the failure stopped them.
func (r *run) fail(ctx context.Context, a Account, regions []string, accountWide bool, err error) {
	code, msg := classify(ctx, err)
	r.log.WarnContext(ctx, "account not audited", "account_id", a.ID, "code", code, "err", err)
	r.record(a, regions, accountWide, code, msg)
}

// record adds one failure of an account and an error cell for each region × regional check it prevented, and, when
// accountWide, for each account-wide check.
func (r *run) record(a Account, regions []string, accountWide bool, code, msg string) {
	r.mu.Lock()
	r.res.NotAudited(a, regions, r.opts.Checks, accountWide, code, msg)
	done := r.res.Cells.Len()
	r.mu.Unlock()
	if r.opts.Progress != nil {
		r.opts.Progress(done)
	}
}

// NotAudited records that a was not audited, with code and msg: one failure of the account, and an error cell for
// each region × regional check of cs, and, when accountWide, for each account-wide check. regions ["all"] stands for
// the regions that could not be listed.
func (res *Result) NotAudited(a Account, regions []string, cs []checks.Check, accountWide bool, code, msg string) {
	region := ""
	if len(regions) == 1 && regions[0] == AllRegions {
		region = AllRegions
	}
	res.Failures = append(res.Failures, Failure{AccountID: a.ID, AccountName: a.Name, Region: region, Code: code, Message: msg})
	for _, c := range cs {
		if c.Layout().AccountWide {
			if accountWide {
				res.Cells.Add(Cell{AccountID: a.ID, AccountName: a.Name, Region: checks.GlobalRegion, Check: c.Name(), Outcome: OutcomeError, Code: code, Message: msg})
			}
			continue
		}
		for _, reg := range regions {
			res.Cells.Add(Cell{AccountID: a.ID, AccountName: a.Name, Region: reg, Check: c.Name(), Outcome: OutcomeError, Code: code, Message: msg})
		}
	}
}

// enabledRegions lists the regions enabled in the account (DescribeRegions without AllRegions returns only those).
func enabledRegions(ctx context.Context, cfg aws.Config) ([]string, error) {
	out, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("describe regions: %w", err)
	}
	var regions []string
	for _, r := range out.Regions {
		regions = append(regions, aws.ToString(r.RegionName))
	}
	slices.Sort(regions)
	return regions, nil
}

func sortResult(res *Result) {
	slices.SortFunc(res.Accounts, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(res.Skipped, func(a, b Skipped) int { return strings.Compare(a.AccountID, b.AccountID) })
	res.Cells.sort()
	slices.SortFunc(res.Failures, func(a, b Failure) int {
		return cmp.Or(strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.Region, b.Region), strings.Compare(a.Check, b.Check))
	})
	checks.SortFindings(res.Findings)
}
