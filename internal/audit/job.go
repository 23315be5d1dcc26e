package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgaudit/orgaudit/internal/awsclient"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/report"
)

// Options are the parts of a run that are not settings.
type Options struct {
	Logger *slog.Logger
	// Now is the wall clock, read once at the start; tests fix it.
	Now func() time.Time
	// Progress is told each time a cell finishes.
	Progress func(done int)
	// WorkbookPath, when set, also writes the workbook to this local file.
	WorkbookPath string
	// RequestID is the Lambda request that started a manual run. Lambda retries a failed invocation with the same
	// request id, so a retry finds what its first attempt recorded: the date its objects are keyed by.
	RequestID string
}

// Output is a finished run.
type Output struct {
	Result   *report.Result
	Workbook []byte
	Subject  string
	Digest   string
}

// Run audits, reports and delivers: the Job's steps, in order. It returns an error, beside the output, when nothing
// could be audited or delivery failed; findings, failed cells and a partial audit alone are not errors. The error is
// an *InvalidSettingsError, *NothingAuditedError or *DeliveryFailedError, unwrapped, so Lambda's errorType names it.
func Run(ctx context.Context, cfg aws.Config, s config.Settings, opts Options) (*Output, error) {
	// The audit stops a margin before the deadline so the workbook and digest still go out.
	ctx, cancelDelivery := withTimeout(ctx, s.Timeout)
	defer cancelDelivery()
	j, err := Prepare(ctx, cfg, s, opts)
	if err != nil {
		return nil, err
	}
	j.keepFirstDate(ctx)
	fan, err := j.Audit(ctx)
	if err != nil {
		return nil, err
	}
	return j.Finish(ctx, fan)
}

// Job carries one run from its settings to delivery. Prepare validates the settings, fixes the run's identity (run
// id, run time, as-of), resolves its checks and regions and configures the SDK with the run's retries; then come its
// steps, in order: Audit (the fan-out), Recall (history, diff, suppressions: the result's facts), Render (the
// workbook) and Deliver (the workbook's upload and link, the digests, the email, then the subject and digest as they
// were sent). A distributed run's steps share the same Job: the plan and shards its Audit's parts, the report step
// its Finish.
type Job struct {
	s       config.Settings
	opts    Options
	cfg     aws.Config
	retries *awsclient.RetryCounter
	log     *slog.Logger
	// One client for the report bucket, made when first needed: history, suppressions and delivery share it.
	bucket func() (*s3.Client, error)

	RunID   string
	RunTime time.Time
	AsOf    time.Time
	// Regions are the regions asked for: names, or ["all"]; the configuration's region when none are set.
	Regions []string
	Checks  []checks.Check
}

// Prepare validates s and fixes the run's identity. The error is an *InvalidSettingsError.
func Prepare(ctx context.Context, cfg aws.Config, s config.Settings, opts Options) (*Job, error) {
	s = s.Normalized()
	if err := s.Validate(); err != nil {
		return nil, &InvalidSettingsError{fmt.Errorf("invalid settings: %w", err)}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	started := opts.Now().UTC()
	j := &Job{s: s, opts: opts, retries: &awsclient.RetryCounter{}, AsOf: s.AsOf}
	if j.AsOf.IsZero() {
		j.AsOf = started
	}
	j.RunID, j.RunTime = s.Identity(started)
	var err error
	if j.Checks, err = checks.Select(s.Checks); err != nil {
		return nil, &InvalidSettingsError{err}
	}
	j.Regions = s.Regions
	if len(j.Regions) == 0 {
		j.Regions = []string{cfg.Region}
	}
	j.cfg = cfg.Copy()
	j.cfg.Retryer = awsclient.RetryerFor(s.RetryOptions(), j.retries)
	j.cfg.HTTPClient = awsclient.SharedHTTPClient(j.cfg.HTTPClient, s.Concurrency)
	j.log = opts.Logger.With("run_id", j.RunID)
	j.bucket = sync.OnceValues(func() (*s3.Client, error) { return delivery.BucketClient(ctx, j.cfg, j.deliverySettings()) })
	return j, nil
}

// keepFirstDate dates a retried manual invocation by its first attempt. Lambda retries an invocation with the same
// request id and event, and a manual event has no time of its own: without the record a retry after midnight UTC
// would key its workbook, history and markers by another day, and mail the digest a second time. A record that
// cannot be written or read leaves the run dated by its own clock, and the log says so: the audit still delivers.
func (j *Job) keepFirstDate(ctx context.Context) {
	s, requestID := j.s, j.opts.RequestID
	if s.Trigger != config.TriggerManual || requestID == "" || s.Bucket == "" || s.DryRun {
		return
	}
	client, err := j.bucket()
	if err != nil {
		j.log.WarnContext(ctx, "first attempt not recorded; this invocation is dated by its own clock", "err", err)
		return
	}
	key := delivery.AttemptKey(s.Prefix, s.Trigger, requestID)
	first, retried, err := delivery.FirstAttempt(ctx, client, s.Bucket, key,
		delivery.Attempt{RequestID: requestID, Trigger: s.Trigger, RunID: j.RunID, RunTime: j.RunTime})
	if err != nil {
		j.log.WarnContext(ctx, "first attempt not recorded; this invocation is dated by its own clock", "err", err)
		return
	}
	if retried && !first.RunTime.Equal(j.RunTime) {
		j.log.InfoContext(ctx, "a retry of an earlier invocation: dated by its first attempt", "run_time", first.RunTime.Format(time.RFC3339))
		j.RunTime = first.RunTime.UTC()
	}
}

// Settings are the job's settings, normalized.
func (j *Job) Settings() config.Settings { return j.s }

// Config is the SDK configuration the job's calls go through, with its retries.
func (j *Job) Config() aws.Config { return j.cfg }

// Logger logs with the run's id.
func (j *Job) Logger() *slog.Logger { return j.log }

// Bucket is the report bucket's client, in the bucket's own region.
func (j *Job) Bucket() (*s3.Client, error) { return j.bucket() }

// fanOptions are the fan-out's options for this run; the owner tags the history kept are recallOwnerTags'.
func (j *Job) fanOptions() crossaccount.Options {
	s := j.s
	return crossaccount.Options{
		Role:    crossaccount.Role{Name: s.RoleName, ExternalID: s.ExternalID, SessionName: s.SessionName},
		Regions: j.Regions, Checks: j.Checks,
		Filter:      crossaccount.Filter{Only: s.Accounts, Exclude: s.ExcludeAccounts},
		Concurrency: s.Concurrency, AsOf: j.AsOf,
		Limits: s.Limits(),
		Logger: j.log, Progress: j.opts.Progress, AllowOwnAccountFallback: s.AllowOwnAccountFallback,
		Owners: crossaccount.OwnerOptions{TagKey: s.OwnerTagKey, Budget: s.OwnerTagBudget, Rate: s.OwnerTagRate, Now: j.opts.Now},
	}
}

// Audit is the fan-out: every account, region and check of the run, under one limit, stopped a margin before the
// deadline so the report still goes out. Its error is a *NothingAuditedError: the caller's identity unknown, or the
// organization unreadable with nothing to fall back to, so no cell ran.
func (j *Job) Audit(ctx context.Context) (*crossaccount.Result, error) {
	auditCtx, cancel := AuditContext(ctx, j.s.DeliveryMargin)
	defer cancel()
	j.log.InfoContext(ctx, "audit started", "as_of", j.AsOf.Format(time.RFC3339), "regions", j.Regions, "checks", len(j.Checks), "concurrency", j.s.Concurrency)
	fanOpts := j.fanOptions()
	fanOpts.Owners.Cached = j.recallOwnerTags(ctx)
	fan, err := crossaccount.Run(auditCtx, j.cfg, fanOpts)
	if err != nil {
		return nil, &NothingAuditedError{Err: err}
	}
	return fan, nil
}

// List is the first half of a distributed run's Audit: the organization walked and its accounts to audit, with the
// owner tags the history kept. Its error is a *NothingAuditedError.
func (j *Job) List(ctx context.Context) (*crossaccount.Listing, error) {
	fanOpts := j.fanOptions()
	fanOpts.Owners.Cached = j.recallOwnerTags(ctx)
	listing, err := crossaccount.List(ctx, j.cfg, fanOpts)
	if err != nil {
		return nil, &NothingAuditedError{Err: err}
	}
	return listing, nil
}

// AuditAccounts is the other half: the fan-out over exactly these accounts (a distributed run's shard), stopped a
// margin before the deadline so its partial result is still written. Its error is a *NothingAuditedError: the
// caller's identity unknown.
func (j *Job) AuditAccounts(ctx context.Context, accounts []crossaccount.Account) (*crossaccount.Result, error) {
	auditCtx, cancel := AuditContext(ctx, j.s.DeliveryMargin)
	defer cancel()
	fan, err := crossaccount.RunAccounts(auditCtx, j.cfg, j.fanOptions(), accounts)
	if err != nil {
		return nil, &NothingAuditedError{Err: err}
	}
	return fan, nil
}

// Finish does everything after the fan-out: the on-demand rates when asked for (priceOnDemand), the console links
// through the access portal when one is named (linkViaPortal), Recall, Render and Deliver. Its errors are Run's.
func (j *Job) Finish(ctx context.Context, fan *crossaccount.Result) (*Output, error) {
	if err := stopped(ctx); err != nil {
		return nil, err
	}
	onDemandWarning := j.priceOnDemand(ctx, fan)
	j.linkViaPortal(fan)
	res := j.Recall(ctx, fan)
	if onDemandWarning != "" {
		res.Warnings = append(res.Warnings, onDemandWarning)
	}
	// Counted again at the end, so delivery's retries are in the result too.
	defer func() { res.APIRetries, res.RetriesByCode = j.retries.Counts() }()
	if err := stopped(ctx); err != nil {
		return nil, err
	}
	out, err := j.Render(res)
	if err != nil {
		return out, err
	}
	if err := stopped(ctx); err != nil {
		return nil, err
	}
	if err := j.Deliver(ctx, out); err != nil {
		return out, err
	}
	if res.Coverage.Findings+res.Coverage.Clean == 0 {
		return out, &NothingAuditedError{Cells: res.Coverage.Cells}
	}
	return out, nil
}

// Recall reads the run's memory (history, suppressions), diffs the fan-out against it and builds the result: the
// audit's facts, which nothing changes after this step. It keeps the suppressed findings out of fan.Findings.
func (j *Job) Recall(ctx context.Context, fan *crossaccount.Result) *report.Result {
	mem := j.recallRun(ctx, fan)
	// Built once the suppressed findings are out of fan.Findings, so the counts leave them out.
	res := report.Build(j.RunID, j.AsOf, j.Regions, j.Checks, fan)
	res.Narrowed = j.s.Narrowing(j.Checks)
	res.Memory = mem.memory(res.Warnings, j.s)
	j.log.InfoContext(ctx, "audit finished", "accounts_total", res.Accounts.Total, "accounts_audited", res.Accounts.Audited,
		"cells", res.Coverage.Cells, "cells_failed", res.Coverage.Errors, "findings", len(res.Findings), "partial", res.Partial,
		"deadline", fan.Partial)
	return res
}

// Render builds the workbook of res. The subject and digest carry the workbook's link, so Deliver renders them once
// the link is made. The error is a *DeliveryFailedError.
func (j *Job) Render(res *report.Result) (*Output, error) {
	out := &Output{Result: res}
	var err error
	if out.Workbook, err = buildWorkbook(res, j.Checks); err != nil {
		return out, &DeliveryFailedError{fmt.Errorf("build workbook: %w", err)}
	}
	return out, nil
}

// Deliver writes the workbook to the local file asked for, then hands the run to internal/delivery (the upload and
// its link, the digests, the email, each exactly once) and keeps its record in the result, then renders the subject
// and digest as they were sent. The error is a *DeliveryFailedError.
func (j *Job) Deliver(ctx context.Context, out *Output) error {
	wb := delivery.Workbook{Body: out.Workbook, Path: j.opts.WorkbookPath,
		ForOwner: func(r *report.Result) ([]byte, error) { return buildWorkbook(r, j.Checks) }}
	if wb.Path != "" {
		if err := os.WriteFile(wb.Path, out.Workbook, 0o644); err != nil {
			return &DeliveryFailedError{fmt.Errorf("write workbook: %w", err)}
		}
	}
	d := &delivery.Run{Settings: j.deliverySettings(), Config: j.cfg, Bucket: j.bucket, RunID: j.RunID, RunTime: j.RunTime,
		Now: j.opts.Now, Log: j.log}
	var fromErr error
	if j.s.EmailOn() {
		d.Settings.Email.From, fromErr = config.ParseEmailFrom(j.s.EmailFrom)
	}
	rec, err := d.Deliver(ctx, out.Result, wb)
	out.Result.Delivered = rec
	out.Subject = report.Subject(out.Result)
	out.Digest = report.Digest(out.Result, report.MaxDigestBytes)
	if err = errors.Join(err, fromErr); err != nil {
		j.log.ErrorContext(ctx, "delivery failed", "err", err)
		return &DeliveryFailedError{err}
	}
	return nil
}

// deliverySettings are the settings delivery reads; the sender's address is parsed by Deliver.
func (j *Job) deliverySettings() delivery.Settings {
	s := j.s
	return delivery.Settings{Bucket: s.Bucket, BucketRegion: s.BucketRegion, Prefix: s.Prefix, KMSKeyID: s.KMSKeyID,
		S3PathStyle: s.S3PathStyle, URLExpiry: s.URLExpiry, LinkRoleARN: s.LinkRoleARN, SessionName: s.SessionName,
		Trigger: s.Trigger, DryRun: s.DryRun, TopicARN: s.TopicARN, OwnerTopicARN: s.OwnerTopicARN, OwnerDigests: s.OwnerDigests,
		Email: delivery.Email{To: s.EmailTo, Region: s.EmailRegion, IsAddress: config.IsEmailAddress}}
}

// stopped is why a run must go no further: its context ended (the CLI was interrupted, or the run's own deadline
// passed, when nothing more would reach anyone). A workbook of 10,000 accounts takes a minute to build, and a
// person who pressed Ctrl-C is not waiting for it.
func stopped(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return &DeliveryFailedError{fmt.Errorf("stopped before delivery: %w", context.Cause(ctx))}
}

// withTimeout bounds ctx by timeout when one is set (the CLI's -timeout); Lambda's ctx carries its own deadline.
func withTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

// AuditContext ends the audit a margin before ctx's deadline, for building and delivering the report (or, in a
// shard, writing its partial result). Zero margin is defaultMargin's.
func AuditContext(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	if margin <= 0 {
		margin = defaultMargin(time.Until(deadline))
	}
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// defaultMargin keeps a fifth of the time for delivery, at least 10s, at most a minute (Lambda's 15 minutes leave
// 60s), and never more than half of what is left, so a short deadline still audits something.
func defaultMargin(left time.Duration) time.Duration {
	return min(max(left/5, 10*time.Second), time.Minute, left/2)
}
