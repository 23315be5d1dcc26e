package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/report"
)

// ErrNothingAudited fails a run in which not one cell could be read.
var ErrNothingAudited = errors.New("nothing could be audited")

// Options are the parts of a run that are not settings.
type Options struct {
	Logger *slog.Logger
	// Now is the wall clock, read once at the start; tests fix it.
	Now func() time.Time
	// Progress is told each time a cell finishes.
	Progress func(done int)
	// WorkbookPath, when set, also writes the workbook to this local file.
	WorkbookPath string
}

// Output is a finished run.
type Output struct {
	Result   *report.Result
	Workbook []byte
	Subject  string
	Digest   string
}

// Run audits, reports and delivers. It returns an error, beside the output, when nothing could be audited or
// delivery failed; findings and failed cells alone are not errors.
func Run(ctx context.Context, cfg aws.Config, s Settings, opts Options) (*Output, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("invalid settings: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	started := opts.Now().UTC()
	asOf := s.AsOf
	if asOf.IsZero() {
		asOf = started
	}
	runID := s.RunID
	if runID == "" {
		runID = started.Format("20060102T150405Z")
	}
	selected, err := checks.Select(s.Checks)
	if err != nil {
		return nil, err
	}
	regions := s.Regions
	if len(regions) == 0 {
		regions = []string{cfg.Region}
	}
	log := opts.Logger.With("run_id", runID)
	log.InfoContext(ctx, "audit started", "as_of", asOf.Format(time.RFC3339), "regions", regions, "checks", len(selected), "concurrency", s.Concurrency)

	fan, err := crossaccount.Run(ctx, cfg, crossaccount.Options{
		Role:    crossaccount.Role{Name: s.RoleName, ExternalID: s.ExternalID, SessionName: s.SessionName},
		Regions: regions, Checks: selected,
		Filter:      crossaccount.Filter{Only: s.Accounts, Exclude: s.ExcludeAccounts},
		Concurrency: s.Concurrency, AsOf: asOf,
		Limits: checks.Limits{Expiry: s.ExpiryDays, StuckAfter: s.StuckAfter},
		Logger: log, Progress: opts.Progress,
	})
	if err != nil {
		return nil, err
	}
	res := report.Build(runID, asOf, regions, selected, fan)
	out := &Output{Result: res}
	log.InfoContext(ctx, "audit finished", "accounts_total", res.Accounts.Total, "accounts_audited", res.Accounts.Audited,
		"cells", res.Coverage.Cells, "cells_failed", res.Coverage.Errors, "findings", len(res.Findings))

	out.Workbook, err = report.Workbook(res, selected)
	if err != nil {
		return out, fmt.Errorf("build workbook: %w", err)
	}
	if opts.WorkbookPath != "" {
		if err := os.WriteFile(opts.WorkbookPath, out.Workbook, 0o644); err != nil {
			return out, fmt.Errorf("write workbook: %w", err)
		}
		res.Report = &report.Location{Path: opts.WorkbookPath}
	}
	var deliveryErr error
	if !s.DryRun {
		deliveryErr = deliver(ctx, cfg, s, res, out, started, log)
	}
	out.Subject = report.Subject(res)
	out.Digest = report.Digest(res, report.MaxDigestBytes)
	if !s.DryRun && deliveryErr == nil && s.TopicARN != "" {
		id, err := delivery.Publish(ctx, sns.NewFromConfig(cfg), s.TopicARN, out.Subject, out.Digest)
		switch {
		case err != nil && res.Report != nil && res.Report.Key != "":
			deliveryErr = fmt.Errorf("%w (the workbook is in s3://%s/%s)", err, res.Report.Bucket, res.Report.Key)
		case err != nil:
			deliveryErr = err
		default:
			res.Published, res.MessageID = true, id
			log.InfoContext(ctx, "digest published", "topic_arn", s.TopicARN, "message_id", id)
		}
	}
	if deliveryErr != nil {
		log.ErrorContext(ctx, "delivery failed", "err", deliveryErr)
		return out, fmt.Errorf("delivery: %w", deliveryErr)
	}
	if res.Coverage.Findings+res.Coverage.Clean == 0 {
		return out, ErrNothingAudited
	}
	return out, nil
}

// deliver uploads the workbook; the digest, which links to it, is published after.
func deliver(ctx context.Context, cfg aws.Config, s Settings, res *report.Result, out *Output, started time.Time, log *slog.Logger) error {
	if s.Bucket == "" {
		return nil
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = s.S3PathStyle })
	key := delivery.Key(s.Prefix, started, res.RunID)
	up, err := delivery.PutWorkbook(ctx, client, cfg.Credentials, delivery.Upload{
		Bucket: s.Bucket, Key: key, KMSKeyID: s.KMSKeyID, URLExpiry: s.URLExpiry,
		Filename: "orgaudit-" + res.RunID + ".xlsx",
	}, out.Workbook)
	if err != nil {
		return err
	}
	expires := up.URLExpiresAt
	loc := &report.Location{Bucket: up.Bucket, Key: up.Key, URL: up.URL, URLExpiresAt: &expires, URLNote: up.URLNote, ConsoleURL: up.ConsoleURL}
	if res.Report != nil {
		loc.Path = res.Report.Path
	}
	res.Report = loc
	log.InfoContext(ctx, "workbook uploaded", "bucket", up.Bucket, "key", up.Key, "url_expires_at", expires.Format(time.RFC3339))
	return nil
}
