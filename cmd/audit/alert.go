package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
)

const alertUsage = `usage: audit alert -event FILE [-topic ARN] [flags]

Handles one EventBridge event (a "CloudFormation Stack Status Change" or "CloudFormation StackSet StackInstance
Status Change") as the function does: prints the alert it makes, and publishes it to the topic only with -topic.
FILE - reads the event from standard input. Exit 0 when the event is handled (with an alert or without, for a
status that is not a failure), 1 when it could not be built or sent, 2 for a malformed event or bad flags.

Examples:
  audit alert -event event.json
  audit alert -event - -topic arn:aws:sns:eu-west-1:111122223333:orgaudit -bucket my-reports -owner team-a < event.json

To resend an event from the alert dead-letter queue as the function would have sent it, give the deployment's
topic, bucket, prefix and, when its records are encrypted with a KMS key, -kms-key-id: the event is claimed by its
id (sent once, whoever sends it) and recorded for the next digest.
`

// maxEventBytes bounds the event read: EventBridge's limit on one event's entry is 256 KB.
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
const maxEventBytes = 256 * 1024

// buildAlert turns one raw event into its alert, as the function does: alert.Decode, then (*alert.Builder).Build
// with the SDK's configuration (the account's name, the Service Catalog product read with the audit role). A nil
// alert with no error is an event handled that needs none. It is a variable so that the command's tests can give
// alerts of their own; the path's own decoder and builder are tested in internal/alert.
var buildAlert = func(ctx context.Context, f alertFlags, raw []byte) (*alert.Alert, error) {
	ev, err := alert.Decode(raw)
	if err != nil {
		return nil, err
	}
	cfg, err := loadCheckedConfig(ctx)
	if err != nil {
		return nil, err
	}
	b := &alert.Builder{Config: cfg, Role: crossaccount.Role{Name: f.role, ExternalID: f.externalID, SessionName: f.sessionName}}
	a, failure, err := b.Build(ctx, ev)
	if err != nil || !failure {
		return nil, err
	}
	return &a, nil
}

// stdin is where -event - reads; tests replace it.
var stdin io.Reader = os.Stdin

// alertFlags are the command's settings.
type alertFlags struct {
	event, topic, bucket, prefix, owner string
	// kmsKeyID encrypts the record with that key, as the function's records are when the deployment names one.
	kmsKeyID string
	// role, externalID and sessionName are the audit role's, assumed to read a Service Catalog product.
	role, externalID, sessionName string
	pathStyle                     bool
}

// alertCommand is `audit alert`.
func alertCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit alert", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), alertUsage); fs.PrintDefaults() }
	var f alertFlags
	fs.StringVar(&f.event, "event", "", "the event's JSON file; - reads standard input")
	fs.StringVar(&f.topic, "topic", "", "SNS topic to publish the alert to; without it the alert is only printed")
	fs.StringVar(&f.bucket, "bucket", "", "report bucket: the event's claim (sent once) and the alert's record for the next digest")
	fs.StringVar(&f.prefix, "prefix", "orgaudit", "key prefix in the bucket")
	fs.StringVar(&f.kmsKeyID, "kms-key-id", "", "KMS key for the record's server-side encryption, as the deployment's (default SSE-S3)")
	fs.StringVar(&f.owner, "owner", "", "owner to send the alert to (its owner message attributes); empty: the account's owner tag as the\nrun history in -bucket last read it, else the organization's audience")
	fs.BoolVar(&f.pathStyle, "s3-path-style", false, "address the bucket by path (S3-compatible endpoints)")
	defaults := config.Defaults()
	fs.StringVar(&f.role, "role", defaults.RoleName, "role to assume in the member account, to read a Service Catalog product's name and version")
	fs.StringVar(&f.externalID, "external-id", "", "ExternalId the member role's trust policy requires")
	fs.StringVar(&f.sessionName, "session-name", defaults.SessionName, "role session name, as member accounts' CloudTrail shows it")
	if err := parseFlags(fs, args, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "audit alert: %v\n", err)
		return exitUsage
	}
	if f.event == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, "audit alert: -event FILE is required, and nothing else after the flags\n\n"+alertUsage)
		return exitUsage
	}
	if f.topic != "" {
		if a, err := arn.Parse(f.topic); err != nil || a.Service != "sns" {
			fmt.Fprintf(stderr, "audit alert: -topic %q is not an SNS topic ARN\n", f.topic)
			return exitUsage
		}
	}
	a, err := readAndBuild(ctx, f)
	var invalid *alert.InvalidEventError
	var usage usageError
	switch {
	case errors.As(err, &invalid), errors.As(err, &usage):
		fmt.Fprintf(stderr, "audit alert: %s\n", errText(err))
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "audit alert: %s\n", errText(err))
		printHint(stderr, "alert", err)
		return exitFail
	case a == nil:
		fmt.Fprintln(stdout, "event handled: it is not a failure, so there is no alert")
		return exitOK
	}
	if f.topic == "" {
		fmt.Fprint(stdout, alert.Text(f.owner, []alert.Alert{*a}))
		return exitOK
	}
	cfg, err := loadAWSConfig()
	if err != nil {
		fmt.Fprintf(stderr, "audit alert: %s\n", errText(err))
		return exitFail
	}
	var store *s3.Client
	if f.bucket != "" {
		store = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = f.pathStyle })
		if f.owner == "" {
			f.owner = historyOwner(ctx, store, f, a.AccountID, stderr)
		}
	}
	fmt.Fprint(stdout, alert.Text(f.owner, []alert.Alert{*a}))
	return publishAlert(ctx, alertAWS{cfg: cfg, store: store}, f, *a, stdout, stderr)
}

// historyOwner is the account's owner as digests route it: by the owner tag the run history in the bucket last
// read. The OU path is not in what the history gives before a run, so an account without a tag (or a history that
// cannot be read, which is said) goes to the organization's audience.
func historyOwner(ctx context.Context, store *s3.Client, f alertFlags, accountID string, stderr io.Writer) string {
	hist := history.NewS3Store(store, history.S3Location{Bucket: f.bucket, Prefix: f.prefix})
	tags, err := hist.PreviousOwnerTags(ctx, time.Now(), "", history.Organization{})
	if err != nil {
		fmt.Fprintf(stderr, "audit alert: no owner from the run history, so the organization's audience: %s\n", errText(err))
		return ""
	}
	known := map[string]crossaccount.OwnerTag{}
	for _, t := range tags {
		known[t.AccountID] = crossaccount.OwnerTag{AccountID: t.AccountID, Value: t.Value, Found: t.Found, ReadAt: t.ReadAt}
	}
	owner, err := alert.TagRoute(known, nil)(ctx, accountID)
	if err != nil {
		return ""
	}
	return owner.Name
}

// readAndBuild reads the event and builds its alert.
func readAndBuild(ctx context.Context, f alertFlags) (*alert.Alert, error) {
	raw, err := readEvent(f.event)
	if err != nil {
		return nil, err
	}
	return buildAlert(ctx, f, raw)
}

// readEvent reads the event from name (- for standard input), refusing more than an event can be.
func readEvent(name string) ([]byte, error) {
	r := stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return nil, usageError{err}
		}
		defer file.Close()
		r = file
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxEventBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the event: %w", err)
	}
	if len(raw) > maxEventBytes {
		return nil, &alert.InvalidEventError{Reason: fmt.Sprintf("more than EventBridge's %d bytes for one event", maxEventBytes)}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, &alert.InvalidEventError{Reason: "the file is empty"}
	}
	// Only that it is JSON at all is told here, before any AWS call; its shape is the decoder's to judge.
	if !json.Valid(raw) {
		return nil, &alert.InvalidEventError{Reason: "not JSON"}
	}
	return raw, nil
}

// alertAWS is the command's SDK configuration and, with -bucket, the report bucket's client.
type alertAWS struct {
	cfg   aws.Config
	store *s3.Client
}

// publishAlert sends a to the topic as the function does: claimed once by its event id when a bucket is given, and
// recorded there for the next digest.
func publishAlert(ctx context.Context, clients alertAWS, f alertFlags, a alert.Alert, stdout, stderr io.Writer) int {
	cfg, store := clients.cfg, clients.store
	topicCfg := cfg.Copy()
	if t, err := arn.Parse(f.topic); err == nil && t.Region != "" {
		topicCfg.Region = t.Region
	}
	owner := f.owner
	s := &alert.Sender{Bucket: f.bucket, Prefix: f.prefix, KMSKeyID: f.kmsKeyID, Topic: sns.NewFromConfig(topicCfg), TopicARN: f.topic,
		Route: func(context.Context, string) (alert.Owner, error) { return alert.Owner{Name: owner}, nil }}
	if store != nil {
		s.S3 = store
	}
	got, err := s.Deliver(ctx, []alert.Alert{a})
	if err != nil {
		fmt.Fprintf(stderr, "audit alert: not sent: %s\n", errText(err))
		return exitFail
	}
	switch {
	case len(got.Sent) > 0:
		fmt.Fprintf(stdout, "\npublished to %s: message %s\n", f.topic, got.Messages[owner])
	case len(got.AlreadySent) > 0:
		fmt.Fprintf(stdout, "\nalready sent: event %s was alerted before (s3://%s/%s)\n", a.EventID, f.bucket, strings.TrimPrefix(alert.RecordKey(f.prefix, a.EventTime, a.EventID), "/"))
	default:
		fmt.Fprintf(stderr, "audit alert: event %s ended neither sent nor already sent\n", a.EventID)
		return exitFail
	}
	return exitOK
}
