package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"golang.org/x/sync/errgroup"

	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/history"
)

// IsQueueBatch says whether raw is a batch Lambda read from an SQS queue (the alert queue's event source mapping).
func IsQueueBatch(raw []byte) bool {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	return json.Unmarshal(raw, &probe) == nil && len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs"
}

// IsEvent says whether raw is one event for the path, given directly (a test invocation, a rule targeting the
// function): an EventBridge event from CloudFormation. Whether it is of a shape the path handles is Decode's to say.
func IsEvent(raw []byte) bool {
	var probe struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.Source == Source && probe.DetailType != ""
}

// Handler handles the path's invocations with the deployment's settings.
type Handler struct {
	Builder *Builder
	// Sender's Route is set per invocation (NewRoute): owner tags change from run to run.
	Sender *Sender
	// Route finds an account's owner; NewRoute's when nil.
	Route func(ctx context.Context, accountIDs []string) Route
	Log   *slog.Logger
}

// NewHandler is the path's handler for the function: its own configuration, the deployment's settings.
func NewHandler(ctx context.Context, cfg aws.Config, s config.Settings, log *slog.Logger) (*Handler, error) {
	h := &Handler{Log: log,
		Builder: &Builder{Config: cfg, Role: crossaccount.Role{Name: s.RoleName, ExternalID: s.ExternalID, SessionName: s.SessionName}, Log: log}}
	// Alerts go where digests go: the organization's audience to the digest topic (the operator's subscription),
	// owners' to the owners' topic when there is one; with owners' digests off, every alert to the organization.
	snd := &Sender{Bucket: s.Bucket, Prefix: s.Prefix, KMSKeyID: s.KMSKeyID, TopicARN: s.TopicARN, OwnerTopicARN: s.OwnerTopicARN,
		NoOwners: s.OwnerDigests == 0, Log: log}
	if s.TopicARN != "" {
		snd.Topic = topicClient(cfg, s.TopicARN)
	}
	if s.OwnerTopicARN != "" {
		snd.OwnerTopic = topicClient(cfg, s.OwnerTopicARN)
	}
	if s.Bucket != "" {
		client, err := delivery.BucketClient(ctx, cfg, delivery.Settings{Bucket: s.Bucket, BucketRegion: s.BucketRegion, S3PathStyle: s.S3PathStyle})
		if err != nil {
			return nil, fmt.Errorf("report bucket %s: %w", s.Bucket, err)
		}
		snd.S3 = client
		h.Route = historyRoute(cfg, history.NewS3Store(client, history.S3Location{Bucket: s.Bucket, Prefix: s.Prefix, KMSKeyID: s.KMSKeyID}), log)
	}
	if s.EmailOn() {
		from, err := config.ParseEmailFrom(s.EmailFrom)
		if err != nil {
			return nil, err
		}
		snd.Email = &Email{From: *from, To: s.EmailTo, IsAddress: config.IsEmailAddress, SES: sesv2.NewFromConfig(cfg, func(o *sesv2.Options) {
			if s.EmailRegion != "" {
				o.Region = s.EmailRegion
			}
		})}
	}
	h.Sender = snd
	return h, nil
}

// topicClient is an SNS client in the topic's own region.
func topicClient(cfg aws.Config, topicARN string) *sns.Client {
	return sns.NewFromConfig(cfg, func(o *sns.Options) {
		if a, err := arn.Parse(topicARN); err == nil && a.Region != "" {
			o.Region = a.Region
		}
	})
}

// historyRoute routes as digests do: by the owner tag the last run read for the account, else by its OU path (the
// organization walked once per invocation, only when some account has no tag). A history or walk that cannot be
// read is logged and the alerts go to the organization's audience: late routing is better than no alert.
func historyRoute(cfg aws.Config, store history.Store, log *slog.Logger) func(ctx context.Context, accountIDs []string) Route {
	return func(ctx context.Context, accountIDs []string) Route {
		tags := map[string]crossaccount.OwnerTag{}
		read, err := store.PreviousOwnerTags(ctx, time.Now(), "", history.Organization{})
		if err != nil {
			log.WarnContext(ctx, "alert routing: owner tags not read from the run history; accounts go by their OU", "err", err)
		}
		for _, t := range read {
			tags[t.AccountID] = crossaccount.OwnerTag{AccountID: t.AccountID, Value: t.Value, Found: t.Found, ReadAt: t.ReadAt}
		}
		var untagged []string
		for _, id := range accountIDs {
			if owner, _ := crossaccount.TagOwner(tags[id]); owner == "" {
				untagged = append(untagged, id)
			}
		}
		var ous map[string]string
		if len(untagged) > 0 {
			if ous, err = crossaccount.AccountOUs(ctx, cfg, untagged); err != nil {
				log.WarnContext(ctx, "alert routing: the organization's OUs not read; untagged accounts go to the organization's audience", "err", err)
			}
		}
		return TagRoute(tags, func(_ context.Context, id string) (string, error) { return ous[id], nil })
	}
}

// Building a batch: a bounded pool, and a stop well before the invocation's deadline, so that what was built is
// delivered and the rest comes again, rather than the invocation timing out with nothing sent and the whole batch
// retried until it rests in the dead-letter queue.
const (
	// buildWorkers bounds the builds at once: each reads Organizations and, for a product's stack, assumes the audit
	// role and reads Service Catalog, whose quotas are a few calls a second.
	buildWorkers = 8
	// maxDeliverReserve is the most of the invocation's time kept for delivering what was built (claims, publishes,
	// emails, records); less is kept, half the time left, when the invocation has less. A quarter of it is the
	// sender's whole DefaultDeadlineMargin, so a publish always leaves the time to mark it (delivery's 5 s) before
	// Lambda ends the invocation: a publish left unmarked is taken over and sent again by the retry.
	maxDeliverReserve = 4 * DefaultDeadlineMargin
)

// buildContext is ctx ending when building must stop: the deadline less the time kept for delivering.
func buildContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := min(maxDeliverReserve, time.Until(deadline)/2)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// built is what became of one message of a batch.
type built struct {
	event   Event
	alert   Alert
	failure bool
	// err is why the message is failed: it is not an event, its build failed, or it panicked.
	err error
	// late: building stopped (the invocation's time ran short) before this message was built, or while it was.
	late bool
}

// buildMessage decodes and builds one message. A panic is its error: that message fails, the rest go on.
func (h *Handler) buildMessage(ctx context.Context, b *Builder, m events.SQSMessage) (out built) {
	var ev Event
	defer func() {
		if r := recover(); r != nil {
			out = built{event: ev, err: fmt.Errorf("building it panicked: %v", r)}
		}
	}()
	if ctx.Err() != nil {
		return built{late: true}
	}
	ev, err := Decode([]byte(m.Body))
	if err != nil {
		return built{err: err}
	}
	a, failure, err := b.Build(ctx, ev)
	if ctx.Err() != nil {
		// Reads cut short leave the alert without its name or product: built again on the retry, whole.
		return built{event: ev, late: true}
	}
	return built{event: ev, alert: a, failure: failure, err: err}
}

// HandleQueue handles one batch of the alert queue: each message's event decoded and built, the failures delivered
// grouped per owner, and the messages to retry returned as batch item failures. A message that is not an event the
// path handles is failed too, so after the queue's retries it rests in the dead-letter queue, whose alarm tells the
// operator: nothing is dropped unseen. Messages not built when the invocation's time runs short are failed, for the
// queue to give them again, and what was built is delivered.
func (h *Handler) HandleQueue(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	fail := func(id string) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	results := make([]built, len(batch.Records))
	bctx, cancel := buildContext(ctx)
	var pool errgroup.Group
	pool.SetLimit(buildWorkers)
	for i, m := range batch.Records {
		pool.Go(func() error { results[i] = h.buildMessage(bctx, h.Builder, m); return nil })
	}
	_ = pool.Wait() // each result holds its own error
	cancel()
	eventOf := map[string]string{}
	var alerts []Alert
	late := 0
	for i, m := range batch.Records {
		r := results[i]
		switch {
		case r.late:
			late++
			fail(m.MessageId)
		case errors.As(r.err, new(*InvalidEventError)):
			h.log().ErrorContext(ctx, "alert queue: message is not an event the path handles; failed, for the dead-letter queue", "message_id", m.MessageId, "err", r.err)
			fail(m.MessageId)
		case r.err != nil:
			h.log().ErrorContext(ctx, "alert queue: alert not built", "message_id", m.MessageId, "event_id", r.event.ID, "err", r.err)
			fail(m.MessageId)
		case r.failure:
			eventOf[m.MessageId] = r.event.ID
			alerts = append(alerts, r.alert)
		default:
			h.log().InfoContext(ctx, "alert queue: not a failure", "event_id", r.event.ID, "status", statusOfEvent(r.event))
		}
	}
	if late > 0 {
		h.log().WarnContext(ctx, "alert queue: the invocation's time ran short; messages not built are failed for the queue to give again",
			"not_built", late, "built", len(batch.Records)-late)
	}
	if len(alerts) == 0 {
		return resp, nil
	}
	d, err := h.deliver(ctx, alerts)
	if err != nil {
		h.log().ErrorContext(ctx, "alert queue: some alerts not sent; their messages come again", "err", err, "failed_events", len(d.Failed))
	}
	for _, id := range d.FailedMessages(eventOf) {
		fail(id)
	}
	return resp, nil
}

// HandleEvent handles one event given directly. An event that could not be sent is the invocation's error, so
// Lambda's retries (and the function's error alarm) take it up.
func (h *Handler) HandleEvent(ctx context.Context, raw []byte) (Delivered, error) {
	ev, err := Decode(raw)
	if err != nil {
		return Delivered{}, err
	}
	a, failure, err := h.Builder.Build(ctx, ev)
	if err != nil || !failure {
		return Delivered{}, err
	}
	d, err := h.deliver(ctx, []Alert{a})
	if err == nil && len(d.Failed) > 0 {
		err = fmt.Errorf("event %s not sent", ev.ID)
	}
	return d, err
}

func (h *Handler) deliver(ctx context.Context, alerts []Alert) (d Delivered, err error) {
	// A panic here (routing's reads) leaves every event unaccounted for, so each message is failed, none dropped.
	defer func() {
		if r := recover(); r != nil {
			d, err = Delivered{}, fmt.Errorf("delivering the batch panicked: %v", r)
		}
	}()
	if h.Sender.Topic == nil && h.Sender.OwnerTopic == nil && h.Sender.Email == nil {
		return Delivered{}, errors.New("no topic and no email: the deployment gives alerts nowhere to go")
	}
	if h.Route != nil {
		var ids []string
		for _, a := range alerts {
			if !slices.Contains(ids, a.AccountID) {
				ids = append(ids, a.AccountID)
			}
		}
		h.Sender.Route = h.Route(ctx, ids)
	}
	return h.Sender.Deliver(ctx, alerts)
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}

func statusOfEvent(ev Event) string {
	switch {
	case ev.Stack != nil:
		return ev.Stack.Status
	case ev.Instance != nil:
		return ev.Instance.Status + "/" + ev.Instance.DetailedStatus
	default:
		return ""
	}
}
