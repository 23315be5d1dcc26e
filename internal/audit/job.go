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
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

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

// Run audits, reports and delivers. It returns an error, beside the output, when nothing could be audited or
// delivery failed; findings, failed cells and a partial audit alone are not errors. The error is an
// *InvalidSettingsError, *NothingAuditedError or *DeliveryFailedError, unwrapped, so Lambda's errorType names it.
func Run(ctx context.Context, cfg aws.Config, s config.Settings, opts Options) (*Output, error) {
	// The audit stops a margin before the deadline so the workbook and digest still go out.
	ctx, cancelDelivery := withTimeout(ctx, s.Timeout)
	defer cancelDelivery()
	j, err := Prepare(ctx, cfg, s, opts)
	if err != nil {
		return nil, err
	}
	j.keepFirstDate(ctx)
	auditCtx, cancelAudit := AuditContext(ctx, j.s.DeliveryMargin)
	defer cancelAudit()
	j.log.InfoContext(ctx, "audit started", "as_of", j.AsOf.Format(time.RFC3339), "regions", j.Regions, "checks", len(j.Checks), "concurrency", j.s.Concurrency)
	fanOpts := j.FanOptions()
	fanOpts.Owners.Cached = j.RecallOwnerTags(ctx)
	fan, err := crossaccount.Run(auditCtx, j.cfg, fanOpts)
	if err != nil {
		// The caller's identity unknown, or the organization unreadable with nothing to fall back to: no cell ran.
		return nil, &NothingAuditedError{Err: err}
	}
	return j.Finish(ctx, fan)
}

// Job is one run prepared: its settings validated, its identity (run id, run time, as-of) fixed, its checks and
// regions resolved, and the SDK configured with the run's retries. Run is a Job's fan-out and Finish; a distributed
// run's steps share the same Job, each step its own part.
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
	j.bucket = sync.OnceValues(func() (*s3.Client, error) { return bucketClient(ctx, j.cfg, s) })
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

// FanOptions are the fan-out's options for this run; the owner tags the history kept are RecallOwnerTags'.
func (j *Job) FanOptions() crossaccount.Options {
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

// RecallOwnerTags are the owner tags the previous run kept; nil when there is no history to read them from.
func (j *Job) RecallOwnerTags(ctx context.Context) map[string]crossaccount.OwnerTag {
	return recallOwnerTags(ctx, j.s, j.bucket, j.RunTime, j.RunID, j.log)
}

// Finish does everything after the fan-out: memory (history, diff, suppressions), the result, the workbook, the
// digests and email, and delivery, exactly once. Its errors are Run's.
func (j *Job) Finish(ctx context.Context, fan *crossaccount.Result) (*Output, error) {
	cfg, s, opts, log, bucket, runID, runTime, asOf, regions, selected := j.cfg, j.s, j.opts, j.log, j.bucket, j.RunID, j.RunTime, j.AsOf, j.Regions, j.Checks
	retries := j.retries
	var err error
	if err := stopped(ctx); err != nil {
		return nil, err
	}
	mem := recallRun(ctx, cfg, s, bucket, fan, runID, runTime, asOf, log)
	res := report.Build(runID, asOf, regions, selected, fan)
	res.Narrowed = s.Narrowing(selected)
	mem.apply(res, s)
	// Counted again at the end, so delivery's retries are in the result too.
	defer func() { res.APIRetries, res.RetriesByCode = retries.Counts() }()
	out := &Output{Result: res}
	log.InfoContext(ctx, "audit finished", "accounts_total", res.Accounts.Total, "accounts_audited", res.Accounts.Audited,
		"cells", res.Coverage.Cells, "cells_failed", res.Coverage.Errors, "findings", len(res.Findings), "partial", res.Partial,
		"deadline", fan.Partial)

	if err := stopped(ctx); err != nil {
		return nil, err
	}
	out.Workbook, err = buildWorkbook(res, selected)
	if err != nil {
		return out, &DeliveryFailedError{fmt.Errorf("build workbook: %w", err)}
	}
	if err := stopped(ctx); err != nil {
		return nil, err
	}
	if opts.WorkbookPath != "" {
		if err := os.WriteFile(opts.WorkbookPath, out.Workbook, 0o644); err != nil {
			return out, &DeliveryFailedError{fmt.Errorf("write workbook: %w", err)}
		}
		res.Report = &report.Location{Path: opts.WorkbookPath}
	}
	var deliveryErr error
	var client *s3.Client
	switch {
	case s.DryRun || s.Bucket == "":
		if res.Report == nil {
			res.Report = &report.Location{}
		}
		res.Report.NotUploaded = "no bucket given"
		if s.DryRun {
			res.Report.NotUploaded = "dry run"
		}
	default:
		if client, deliveryErr = bucket(); deliveryErr == nil {
			deliveryErr = upload(ctx, cfg, client, s, res, out, runTime, log)
		}
	}
	uploaded := deliveryErr == nil
	publish := !s.DryRun && uploaded && s.TopicARN != ""
	var owners []string
	if publish {
		owners = planOwnerDigests(res, s) // before the digest, which names the owners past the cap
	}
	out.Subject = report.Subject(res)
	out.Digest = report.Digest(res, report.MaxDigestBytes)
	if publish {
		deliveryErr = publishDigests(ctx, client, snsClient(cfg, s.TopicARN), s, res, owners, runTime, opts.Now, log)
	}
	// Email goes last, whatever became of the digest: each message is its own, and one failure stops no other.
	if !s.DryRun && uploaded && s.EmailOn() {
		deliveryErr = errors.Join(deliveryErr, emailAll(ctx, cfg, client, s, res, out, selected, runTime, opts.Now, log))
	}
	if deliveryErr != nil {
		log.ErrorContext(ctx, "delivery failed", "err", deliveryErr)
		return out, &DeliveryFailedError{deliveryErr}
	}
	if res.Coverage.Findings+res.Coverage.Clean == 0 {
		return out, &NothingAuditedError{Cells: res.Coverage.Cells}
	}
	return out, nil
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

// upload puts the workbook in S3; the digest, which links to it, is published after.
func upload(ctx context.Context, cfg aws.Config, client *s3.Client, s config.Settings, res *report.Result, out *Output, runTime time.Time, log *slog.Logger) error {
	key := delivery.Key(s.Prefix, runTime, s.Trigger, res.RunID)
	signer, note := cfg.Credentials, ""
	if s.LinkRoleARN != "" {
		link, err := delivery.AssumeLinkSigner(ctx, sts.NewFromConfig(cfg), s.LinkRoleARN, s.SessionName)
		if err != nil {
			return err
		}
		signer, note = link, link.Note
	}
	up, err := delivery.PutWorkbook(ctx, client, signer, delivery.Upload{
		Bucket: s.Bucket, Key: key, KMSKeyID: s.KMSKeyID, URLExpiry: s.URLExpiry,
		Filename: "orgaudit-" + res.RunID + ".xlsx",
	}, out.Workbook)
	if err != nil {
		return err
	}
	expires := up.URLExpiresAt
	if note != "" {
		up.URLNote = note
	}
	loc := &report.Location{Bucket: up.Bucket, Key: up.Key, URL: up.URL, URLExpiresAt: &expires, URLNote: up.URLNote, ConsoleURL: up.ConsoleURL}
	if res.Report != nil {
		loc.Path = res.Report.Path
	}
	res.Report = loc
	if up.Key != key {
		// An earlier invocation of this run wrote (and may have linked) the first: it stays as it was.
		log.InfoContext(ctx, "the run's workbook is already stored; this invocation's goes beside it", "taken", key)
	}
	log.InfoContext(ctx, "workbook uploaded", "bucket", up.Bucket, "key", up.Key, "url_expires_at", expires.Format(time.RFC3339))
	return nil
}

// bucketClient is an S3 client in the bucket's own region, so the upload, the marker and the presigned link all go
// where S3 answers for the bucket, whatever the SDK's default region.
func bucketClient(ctx context.Context, cfg aws.Config, s config.Settings) (*s3.Client, error) {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = s.S3PathStyle })
	region := s.BucketRegion
	if region == "" {
		var err error
		if region, err = delivery.BucketRegion(ctx, client, s.Bucket); err != nil {
			return nil, err
		}
	}
	if region == cfg.Region {
		return client, nil
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle, o.Region = s.S3PathStyle, region }), nil
}

// snsClient publishes in the topic's own region: SNS answers for a topic only there.
func snsClient(cfg aws.Config, topicARN string) *sns.Client {
	return sns.NewFromConfig(cfg, func(o *sns.Options) {
		if a, err := arn.Parse(topicARN); err == nil && a.Region != "" {
			o.Region = a.Region
		}
	})
}
