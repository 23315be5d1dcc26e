package delivery

import (
	"context"
	"errors"
	"log/slog"
	"net/mail"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgaudit/orgaudit/internal/report"
)

// Settings are what a run's delivery needs of the job's settings: where the workbook goes, the topics the digests
// go to, and the email.
type Settings struct {
	Bucket string
	// BucketRegion is the report bucket's region when the deployment knows it; empty asks S3.
	BucketRegion string
	Prefix       string
	KMSKeyID     string
	// S3PathStyle addresses buckets by path, for S3-compatible endpoints such as the simulator and moto.
	S3PathStyle bool
	URLExpiry   time.Duration
	// LinkRoleARN is a role assumed to sign the workbook's link, in a session named SessionName.
	LinkRoleARN string
	SessionName string
	// Trigger is what started the run: part of every object key and claim.
	Trigger string
	// DryRun sends nothing: no workbook, digest or email goes out.
	DryRun bool
	// TopicARN takes the organization's digest; OwnerTopicARN the owners' (TopicARN when empty). OwnerDigests caps
	// the owners' digests a run publishes.
	TopicARN      string
	OwnerTopicARN string
	OwnerDigests  int
	Email         Email
}

// Email is how the run's email goes through SES. From nil turns email off.
type Email struct {
	From   *mail.Address
	To     []string
	Region string
	// IsAddress is the settings' rule for one address SES can send to: an owner whose value passes it may be mailed.
	IsAddress func(string) bool
}

// Run is one run's delivery: its settings, the SDK configuration (with the run's retries), the report bucket's
// client, made when first needed, a clock and a logger.
type Run struct {
	Settings Settings
	Config   aws.Config
	Bucket   func() (*s3.Client, error)
	RunID    string
	// RunTime dates the run's object keys and markers.
	RunTime time.Time
	// Now dates the claims as they are made (a claim may wait out another invocation's lease).
	Now func() time.Time
	Log *slog.Logger
}

// Workbook is the run's workbook: its bytes, where it was written on this machine if anywhere, and how to build an
// owner's, for the owners' emails.
type Workbook struct {
	Body     []byte
	Path     string
	ForOwner func(*report.Result) ([]byte, error)
}

// Deliver puts the workbook in S3, then publishes the organization's digest and the owners', then emails, and
// returns what it sent. res is the audit's facts: read, never changed. A dry run sends nothing, and a failed upload
// nothing that would link to it; a failed digest stops no email, and one failed email no other: the errors are
// returned together.
func (d *Run) Deliver(ctx context.Context, res *report.Result, wb Workbook) (report.Delivered, error) {
	s := d.Settings
	var rec report.Delivered
	if wb.Path != "" {
		rec.Report = &report.Location{Path: wb.Path}
	}
	var err error
	switch {
	case s.DryRun || s.Bucket == "":
		if rec.Report == nil {
			rec.Report = &report.Location{}
		}
		rec.Report.NotUploaded = "no bucket given"
		if s.DryRun {
			rec.Report.NotUploaded = "dry run"
		}
	default:
		var client *s3.Client
		if client, err = d.Bucket(); err == nil {
			var loc *report.Location
			if loc, err = d.upload(ctx, client, wb.Body); err == nil {
				loc.Path = wb.Path
				rec.Report = loc
			}
		}
	}
	if err != nil || s.DryRun {
		return rec, err
	}
	if s.TopicARN != "" {
		rec, err = d.Publish(ctx, res, rec)
	}
	// Email goes last, whatever became of the digest: each message is its own, and one failure stops no other.
	if s.Email.From != nil && len(s.Email.To) > 0 {
		var emailErr error
		rec, emailErr = d.Email(ctx, res, rec, wb)
		err = errors.Join(err, emailErr)
	}
	return rec, err
}

// Publish plans and publishes res's digests, the organization's then each owner's, each exactly once, and returns
// rec, what delivery did before (the workbook's link), with what it sent.
func (d *Run) Publish(ctx context.Context, res *report.Result, rec report.Delivered) (report.Delivered, error) {
	client, err := d.markers()
	if err != nil {
		return rec, err
	}
	var owners []string
	owners, rec.OwnerDigests = PlanOwnerDigests(res, d.Settings.OwnerDigests) // before the digest, which names the owners past the cap
	err = d.publishDigests(ctx, client, withRecord(res, rec), owners, &rec)
	return rec, err
}

// Email sends the organization's email with wb, then each owner's, each exactly once, and returns rec, what
// delivery did before, with what became of each.
func (d *Run) Email(ctx context.Context, res *report.Result, rec report.Delivered, wb Workbook) (report.Delivered, error) {
	client, err := d.markers()
	if err != nil {
		return rec, err
	}
	emailed, err := d.emailAll(ctx, client, withRecord(res, rec), wb)
	rec.Emailed = append(rec.Emailed, emailed...)
	return rec, err
}

// markers is the report bucket's client, where the exactly-once claims are kept; nil without a bucket, when each
// message is sent without one.
func (d *Run) markers() (*s3.Client, error) {
	if d.Settings.Bucket == "" {
		return nil, nil
	}
	return d.Bucket()
}

// withRecord is res as the renderers read it once delivery has got as far as rec: the link, the owners past the cap.
// A shallow copy: res itself is not changed.
func withRecord(res *report.Result, rec report.Delivered) *report.Result {
	view := *res
	view.Delivered = rec
	return &view
}

// upload puts the workbook in S3 and signs its link; the digest, which links to it, is published after.
func (d *Run) upload(ctx context.Context, client *s3.Client, body []byte) (*report.Location, error) {
	s := d.Settings
	key := Key(s.Prefix, d.RunTime, s.Trigger, d.RunID)
	signer, note := d.Config.Credentials, ""
	if s.LinkRoleARN != "" {
		link, err := AssumeLinkSigner(ctx, sts.NewFromConfig(d.Config), s.LinkRoleARN, s.SessionName)
		if err != nil {
			return nil, err
		}
		signer, note = link, link.Note
	}
	up, err := PutWorkbook(ctx, client, signer, Upload{
		Bucket: s.Bucket, Key: key, KMSKeyID: s.KMSKeyID, URLExpiry: s.URLExpiry,
		Filename: "orgaudit-" + d.RunID + ".xlsx",
	}, body)
	if err != nil {
		return nil, err
	}
	expires := up.URLExpiresAt
	if note != "" {
		up.URLNote = note
	}
	if up.Key != key {
		// An earlier invocation of this run wrote (and may have linked) the first: it stays as it was.
		d.Log.InfoContext(ctx, "the run's workbook is already stored; this invocation's goes beside it", "taken", key)
	}
	d.Log.InfoContext(ctx, "workbook uploaded", "bucket", up.Bucket, "key", up.Key, "url_expires_at", expires.Format(time.RFC3339))
	return &report.Location{Bucket: up.Bucket, Key: up.Key, URL: up.URL, URLExpiresAt: &expires, URLNote: up.URLNote, ConsoleURL: up.ConsoleURL}, nil
}

// BucketClient is an S3 client in s.Bucket's own region, so the upload, the marker and the presigned link all go
// where S3 answers for the bucket, whatever the SDK's default region.
func BucketClient(ctx context.Context, cfg aws.Config, s Settings) (*s3.Client, error) {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = s.S3PathStyle })
	region := s.BucketRegion
	if region == "" {
		var err error
		if region, err = BucketRegion(ctx, client, s.Bucket); err != nil {
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
