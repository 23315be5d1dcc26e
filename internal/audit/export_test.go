package audit

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/report"
)

// PublishDigestsOf plans and publishes res's digests through delivery as the job's Deliver does once the workbook
// is stored, and keeps delivery's record in res: the seam for routing tests whose results carry owners the fan-out
// does not stamp yet, and whose settings come from events as the job's do.
func PublishDigestsOf(ctx context.Context, cfg aws.Config, s Settings, res *report.Result, runTime, now time.Time) error {
	ds := (&Job{s: s}).deliverySettings()
	d := &delivery.Run{Settings: ds, Config: cfg, RunID: res.RunID, RunTime: runTime,
		Bucket: func() (*s3.Client, error) { return delivery.BucketClient(ctx, cfg, ds) },
		Now:    func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec, err := d.Publish(ctx, res, res.Delivered)
	res.Delivered = rec
	return err
}
