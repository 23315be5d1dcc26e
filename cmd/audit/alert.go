package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

const alertUsage = `usage: audit alert -event FILE [-send] [flags]

Handles one EventBridge event (a "CloudFormation Stack Status Change" or "CloudFormation StackSet StackInstance
Status Change") as the function does: prints the alert it makes, and sends it only with -send (or -topic).
FILE - reads the event from standard input. Exit 0 when the event is handled (with an alert or without, for a
status that is not a failure), 1 when it could not be built or sent, 2 for a malformed event or bad flags.

Sending is the alert function's own, with its settings read from the same AUDIT_* environment variables the
function is given (the management stack's AlertFunction environment): the digest topic (AUDIT_TOPIC_ARN), the
owners' topic (AUDIT_OWNER_TOPIC_ARN), owners' digests (AUDIT_OWNER_DIGESTS; 0 sends every alert to the
organization's audience), email (AUDIT_EMAIL_FROM, AUDIT_EMAIL_TO, AUDIT_EMAIL_REGION), the report bucket
(AUDIT_BUCKET, AUDIT_PREFIX, AUDIT_KMS_KEY_ID): an owner's alert goes to the owners' topic, or mailed to an owner that
is an address, as the function would send it. -topic, -bucket, -prefix, -kms-key-id and -s3-path-style, when given,
replace their variable. With a bucket the event is claimed by its id (sent once, whoever sends it) and recorded for
the next digest; the owner is the account's owner tag as the run history there last read it, else its OU path.

Examples:
  audit alert -event event.json
  AUDIT_TOPIC_ARN=arn:aws:sns:eu-west-1:111122223333:orgaudit AUDIT_OWNER_TOPIC_ARN=arn:aws:sns:eu-west-1:111122223333:orgaudit-owners \
    AUDIT_BUCKET=my-reports audit alert -event - -send < event.json

To resend an event from a dead-letter queue as the function would have sent it, run it with the AlertFunction's
environment (aws lambda get-function-configuration --function-name <AlertFunctionName> shows it) and -send.
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
	// send sends the alert as the function does, with its AUDIT_* settings; -topic implies it.
	send bool
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
	fs.BoolVar(&f.send, "send", false, "send the alert as the alert function does, with the settings of the AUDIT_* environment; without it\n(or -topic) the alert is only printed")
	fs.StringVar(&f.topic, "topic", "", "digest topic to publish the organization's alerts to, for AUDIT_TOPIC_ARN; implies -send (owners' alerts go to\nAUDIT_OWNER_TOPIC_ARN when set, as the function sends them)")
	fs.StringVar(&f.bucket, "bucket", "", "report bucket, for AUDIT_BUCKET: the event's claim (sent once) and the alert's record for the next digest")
	fs.StringVar(&f.prefix, "prefix", "", "key prefix in the bucket, for AUDIT_PREFIX (default orgaudit)")
	fs.StringVar(&f.kmsKeyID, "kms-key-id", "", "KMS key for the record's server-side encryption, for AUDIT_KMS_KEY_ID (default SSE-S3)")
	fs.StringVar(&f.owner, "owner", "", "owner to send the alert to (its owner message attributes); empty: the account's owner tag as the\nrun history in the bucket last read it, else its OU path, as the function routes it")
	fs.BoolVar(&f.pathStyle, "s3-path-style", false, "address the bucket by path (S3-compatible endpoints), for AUDIT_S3_PATH_STYLE")
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
	sending := f.send || f.topic != ""
	var settings config.Settings
	if sending {
		// Sent as the function would send it, built as it would build it: the product read with the deployment's
		// audit role, external id and session name (AUDIT_ROLE_NAME, AUDIT_EXTERNAL_ID, AUDIT_SESSION_NAME).
		var err error
		if settings, err = alertSettings(fs, f, os.Getenv); err != nil {
			fmt.Fprintf(stderr, "audit alert: %s\n", errText(err))
			return exitUsage
		}
		f.role, f.externalID, f.sessionName = settings.RoleName, settings.ExternalID, settings.SessionName
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
	if !sending {
		fmt.Fprint(stdout, alert.Text(f.owner, []alert.Alert{*a}))
		return exitOK
	}
	if settings.TopicARN == "" && settings.OwnerTopicARN == "" && !settings.EmailOn() {
		fmt.Fprint(stderr, "audit alert: nowhere to send the alert: give -topic, or the deployment's AUDIT_TOPIC_ARN (and AUDIT_OWNER_TOPIC_ARN, AUDIT_EMAIL_*)\n")
		return exitUsage
	}
	cfg, err := loadAWSConfig()
	if err != nil {
		fmt.Fprintf(stderr, "audit alert: %s\n", errText(err))
		return exitFail
	}
	h, err := alert.NewHandler(ctx, cfg, settings, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		fmt.Fprintf(stderr, "audit alert: %s\n", errText(err))
		return exitFail
	}
	return publishAlert(ctx, h, f.owner, *a, stdout, stderr)
}

// alertSettings are the alert function's settings as its environment gives them (config.FromEnv, the AUDIT_*
// variables), each flag given on the command line standing for its variable, so that they are judged as one.
func alertSettings(fs *flag.FlagSet, f alertFlags, getenv func(string) string) (config.Settings, error) {
	given := map[string]string{}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "topic":
			given["AUDIT_TOPIC_ARN"] = f.topic
		case "bucket":
			given["AUDIT_BUCKET"] = f.bucket
		case "prefix":
			given["AUDIT_PREFIX"] = f.prefix
		case "kms-key-id":
			given["AUDIT_KMS_KEY_ID"] = f.kmsKeyID
		case "s3-path-style":
			given["AUDIT_S3_PATH_STYLE"] = strconv.FormatBool(f.pathStyle)
		case "role":
			given["AUDIT_ROLE_NAME"] = f.role
		case "external-id":
			given["AUDIT_EXTERNAL_ID"] = f.externalID
		case "session-name":
			given["AUDIT_SESSION_NAME"] = f.sessionName
		default:
			// The rest are the command's own (the event, the owner, -send), not the function's settings.
		}
	})
	s, err := config.FromEnv(func(name string) string {
		if v, ok := given[name]; ok {
			return v
		}
		return getenv(name)
	})
	if err != nil {
		return s, fmt.Errorf("the function's settings (the AUDIT_* environment and the flags): %w", err)
	}
	return s, nil
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

// publishAlert prints a and sends it with the function's own sender (h, from alert.NewHandler): routed to its
// owner (owner when given, else as the function routes it), claimed once by its event id when there is a bucket, and
// recorded there for the next digest.
func publishAlert(ctx context.Context, h *alert.Handler, owner string, a alert.Alert, stdout, stderr io.Writer) int {
	var route alert.Route
	switch {
	case owner != "":
		route = func(context.Context, string) (alert.Owner, error) { return alert.Owner{Name: owner}, nil }
	case h.Route != nil:
		route = h.Route(ctx, []string{a.AccountID})
	default:
		// No bucket, so no run history to route by: the organization's audience, as the function would send it.
	}
	h.Sender.Route = route
	if h.Sender.NoOwners {
		owner = ""
	} else if route != nil {
		if o, err := route(ctx, a.AccountID); err == nil {
			owner = o.Name
		}
	}
	fmt.Fprint(stdout, alert.Text(owner, []alert.Alert{a}))
	got, err := h.Sender.Deliver(ctx, []alert.Alert{a})
	if err != nil {
		fmt.Fprintf(stderr, "audit alert: not sent: %s\n", errText(err))
		return exitFail
	}
	switch {
	case len(got.Sent) > 0:
		for o, id := range got.Messages {
			fmt.Fprintf(stdout, "\npublished to %s: message %s\n", h.Sender.TopicARNFor(o), id)
		}
		if len(got.Messages) == 0 {
			fmt.Fprintf(stdout, "\nsent: event %s, by email\n", a.EventID)
		}
	case len(got.AlreadySent) > 0:
		fmt.Fprintf(stdout, "\nalready sent: event %s was alerted before (s3://%s/%s)\n", a.EventID, h.Sender.Bucket, strings.TrimPrefix(alert.RecordKey(h.Sender.Prefix, a.EventTime, a.EventID), "/"))
	default:
		fmt.Fprintf(stderr, "audit alert: event %s ended neither sent nor already sent\n", a.EventID)
		return exitFail
	}
	return exitOK
}
