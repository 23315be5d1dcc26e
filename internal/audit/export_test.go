package audit

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/report"
)

// ReadEmailForTest is readEmail for the package's external tests.
var ReadEmailForTest = readEmail

// PublishDigestsOf plans and publishes res's digests as Run does after the audit: the seam for routing tests whose
// results carry owners the fan-out does not stamp yet.
func PublishDigestsOf(ctx context.Context, cfg aws.Config, s config.Settings, res *report.Result, runTime, now time.Time) error {
	owners := planOwnerDigests(res, s)
	bucket, err := bucketClient(ctx, cfg, s)
	if err != nil {
		return err
	}
	return publishDigests(ctx, bucket, snsClient(cfg, s.TopicARN), s, res, owners, runTime, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
}
