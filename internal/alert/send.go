package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/orgaudit/orgaudit/internal/awserr"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
	orgmail "github.com/orgaudit/orgaudit/internal/mail"
)

// Sending: the alerts of a batch are routed to their owners as digests are, grouped per owner, and each group goes
// out as one message on the topic (with the attributes owners' digests carry, so subscriptions' filter policies
// route it) and, to an owner that is an email address, one email. Each event is claimed on each channel with the
// claim digests use (delivery.SendOnceEach, a marker per event id): an event already sent is left out of the group's
// message, a failed send releases the claims of the events it carried, and the caller retries just those. A send that
// panics is sent again one alert at a time, so one bad alert fails alone. Nothing is started so near the invocation's
// deadline that it could be cut between a publish and its marker. A record of each alert that went out is kept for
// the next daily digest.

// Channels an alert goes out on, each with a marker of its own per event.
const (
	ChannelTopic = "topic"
	ChannelEmail = "email"
)

// recordWorkers bounds the records written at once.
const recordWorkers = 16

// claimTrigger names the event-driven path in its markers, where a run's markers name their trigger.
const claimTrigger = "alert"

// Owner is whom an account's alerts go to.
type Owner struct {
	// Name is the owner tag's value or the OU path; empty sends to the organization's audience.
	Name string
	// Address is set when the owner is exactly one email address.
	Address string
}

// Route finds an account's owner.
type Route func(ctx context.Context, accountID string) (Owner, error)

// TagRoute routes as the audit does (crossaccount.TagOwner): by the owner tag the run history last read for the
// account (history.Store.PreviousOwnerTags, by account id), else by its OU path, which ou gives (nil: none known, and
// the alert goes to the organization's audience).
func TagRoute(tags map[string]crossaccount.OwnerTag, ou func(ctx context.Context, accountID string) (string, error)) Route {
	return func(ctx context.Context, accountID string) (Owner, error) {
		if owner, email := crossaccount.TagOwner(tags[accountID]); owner != "" {
			return Owner{Name: owner, Address: email}, nil
		}
		if ou == nil {
			return Owner{}, nil
		}
		path, err := ou(ctx, accountID)
		if err != nil {
			return Owner{}, fmt.Errorf("OU of account %s: %w", accountID, err)
		}
		return Owner{Name: path}, nil
	}
}

// Store is the S3 calls sending makes: the claims' markers and the records.
type Store = delivery.MarkerStore

// Email is how owners that are email addresses are mailed; nil on Sender mails no one.
type Email struct {
	SES  delivery.EmailSender
	From mail.Address
	// To are the organization's recipients (the settings' EmailTo): the organization's audience's alerts are mailed
	// to them, as its digest is. Empty mails only owners that are addresses.
	To []string
	// IsAddress is the settings' rule for an address SES may send to (delivery.Email.IsAddress).
	IsAddress func(string) bool
}

// Sender delivers alerts.
type Sender struct {
	// Bucket and Prefix hold the claims' markers and the records; without a bucket nothing is claimed or recorded.
	Bucket, Prefix string
	// KMSKeyID encrypts the records with that key; SSE-S3 when empty.
	KMSKeyID string
	S3       Store
	// Topic publishes to TopicARN, the digest topic, which the operator's address subscribes to: the alerts of the
	// organization's audience go there, and owners' alerts too when there is no owners' topic.
	Topic    delivery.Publisher
	TopicARN string
	// OwnerTopic publishes to OwnerTopicARN, the owners' digest topic, whose subscriptions filter on the owner
	// attribute: owners' alerts go there, as owners' digests do (delivery's ownerDigestTopic rule). Nil: none.
	OwnerTopic    delivery.Publisher
	OwnerTopicARN string
	// NoOwners sends every alert to the organization's audience on the digest topic: the deployment sends owners no
	// digests of their own (OwnerDigests 0), so no owner subscribed for alerts either.
	NoOwners bool
	Email    *Email
	Route    Route
	// DeadlineMargin is the time kept before ctx's deadline for marking what was sent and recording it: claims and
	// publishes are cut that long before it, and no owner's group is started with less than twice that left (its
	// events fail, for the queue to give them again). DefaultDeadlineMargin when zero; at most a quarter of the time
	// Deliver is given.
	DeadlineMargin time.Duration
	// Now dates claims and records; time.Now when nil.
	Now func() time.Time
	Log *slog.Logger
}

// Delivered says what became of each event of a batch, by event id.
type Delivered struct {
	// Sent went out in this call; AlreadySent had gone out before (a re-delivered event).
	Sent, AlreadySent []string
	// Failed did not go out on every channel, or its record was not kept: the caller reports them as failed (an SQS
	// batch item failure) so they come again, and a retry sends them on the channels they missed.
	Failed []string
	// Messages are the SNS message ids of the groups published, by owner ("" the organization's).
	Messages map[string]string
}

// FailedMessages are the queue's messages to report as batch item failures, given the event id each carried
// (eventOf, by message id; a message whose event could not be told is not in it and is the caller's to fail): every
// message of an event that failed, and every message of an event this delivery did not account for, so that none is
// lost. A message is never failed for an event that went out: its retry would find the event sent and send nothing,
// but only after the visibility timeout.
func (d Delivered) FailedMessages(eventOf map[string]string) []string {
	done := map[string]bool{}
	for _, id := range d.Sent {
		done[id] = true
	}
	for _, id := range d.AlreadySent {
		done[id] = true
	}
	for _, id := range d.Failed {
		done[id] = false
	}
	var out []string
	for message, event := range eventOf {
		if ok, seen := done[event]; !seen || !ok {
			out = append(out, message)
		}
	}
	slices.Sort(out)
	return out
}

// group is one owner's alerts of a batch.
type group struct {
	owner  Owner
	alerts []Alert
}

// Deliver routes, groups and sends alerts, and records each that went out. Alerts of one event id given twice (a
// batch holding a re-delivered event) are one alert. The error joins what failed; Failed names the events.
func (s *Sender) Deliver(ctx context.Context, alerts []Alert) (Delivered, error) {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if deadline, ok := ctx.Deadline(); ok {
		// An invocation given little time for delivering (a short function timeout) keeps a quarter of it as the
		// margin, so that it still starts its first group.
		c := *s
		c.DeadlineMargin = min(s.margin(), time.Until(deadline)/4)
		s = &c
	}
	out := Delivered{Messages: map[string]string{}}
	groups, unrouted, errs := s.groups(ctx, alerts)
	out.Failed = append(out.Failed, unrouted...)
	notStarted := 0
	for _, g := range groups {
		if s.nearDeadline(ctx) {
			// Started now, the group could be cut between its publish and its markers (Lambda ending the invocation),
			// and the queue's retry, finding the claims stale, would send it twice. Its events fail unsent instead.
			for _, a := range g.alerts {
				out.Failed = append(out.Failed, a.EventID)
			}
			notStarted += len(g.alerts)
			continue
		}
		sent, already, failed, err := s.safeDeliverGroup(ctx, g, &out)
		out.Sent, out.AlreadySent, out.Failed = append(out.Sent, sent...), append(out.AlreadySent, already...), append(out.Failed, failed...)
		if err != nil {
			errs = append(errs, fmt.Errorf("owner %q: %w", g.owner.Name, err))
		}
	}
	if notStarted > 0 {
		errs = append(errs, fmt.Errorf("%d events not sent: %w", notStarted, ErrNoTimeLeft))
	}
	return out, errors.Join(errs...)
}

// DefaultDeadlineMargin is Sender.DeadlineMargin's default: marking a publish (delivery's 5 s bound on it) and
// writing a record, with room to spare.
const DefaultDeadlineMargin = 6 * time.Second

// ErrNoTimeLeft: the invocation's deadline was too near to start sending a group; its events fail, for the queue to
// give them again.
var ErrNoTimeLeft = errors.New("the invocation's deadline is too near to start sending; the queue retries them")

func (s *Sender) margin() time.Duration {
	if s.DeadlineMargin > 0 {
		return s.DeadlineMargin
	}
	return DefaultDeadlineMargin
}

// nearDeadline says a group should not be started: ctx is done, or has less than twice the margin left (the
// sending itself, then the margin for marking and recording).
func (s *Sender) nearDeadline(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) < 2*s.margin()
}

// sendContext is ctx for claiming and publishing: ending the margin before ctx's deadline, so that what was
// published is marked and recorded before the invocation ends, and what was not has its claims released.
func (s *Sender) sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-s.margin()))
}

// groups routes each alert to its owner and groups them by owner, in owner order. An owner that cannot be found
// (the history unreadable, an OU not listed) sends the alert to the organization's audience: it goes out all the same.
// An alert whose routing panics is not guessed at: it is failed (failed names it, with its error) and the rest go on.
func (s *Sender) groups(ctx context.Context, alerts []Alert) (out []group, failed []string, errs []error) {
	byOwner := map[string]*group{}
	seen := map[string]bool{}
	for _, a := range alerts {
		if seen[a.EventID] {
			continue
		}
		seen[a.EventID] = true
		owner, err := s.route(ctx, a)
		if err != nil {
			failed, errs = append(failed, a.EventID), append(errs, fmt.Errorf("event %s: %w", a.EventID, err))
			continue
		}
		a.Owner = owner.Name
		g := byOwner[owner.Name]
		if g == nil {
			g = &group{owner: owner}
			byOwner[owner.Name] = g
		}
		if g.owner.Address != owner.Address {
			// One name, two routes (a tag that is an address, and an OU path of the same text): mail neither.
			g.owner.Address = ""
		}
		g.alerts = append(g.alerts, a)
	}
	out = make([]group, 0, len(byOwner))
	for _, g := range byOwner {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b group) int { return strings.Compare(a.owner.Name, b.owner.Name) })
	return out, failed, errs
}

// route is a's owner: the organization's audience when owners get nothing of their own (NoOwners), when there is no
// route, or when the owner cannot be found (the history unreadable, an OU not listed). A panic of the route is
// its error.
func (s *Sender) route(ctx context.Context, a Alert) (owner Owner, err error) {
	if s.NoOwners || s.Route == nil {
		return Owner{}, nil
	}
	defer func() {
		if r := recover(); r != nil {
			owner, err = Owner{}, fmt.Errorf("routing it panicked: %v", r)
		}
	}()
	if owner, err = s.Route(ctx, a.AccountID); err != nil {
		s.Log.WarnContext(ctx, "alert owner not found; sent to the organization's audience", "event_id", a.EventID, "account_id", a.AccountID, "err", err)
		return Owner{}, nil
	}
	if t, _ := s.topicFor(owner.Name); owner.Name != "" && t == nil && len(s.mailTo(owner)) == 0 {
		// No channel reaches this owner (email only, and the owner is not an address): the organization is told.
		s.Log.InfoContext(ctx, "alert owner has no channel; sent to the organization's audience", "event_id", a.EventID, "owner", owner.Name)
		return Owner{}, nil
	}
	return owner, nil
}

// topicFor is the topic an owner's group goes to: an owner's to the owners' topic when there is one, else (and the
// organization's audience always) the digest topic. Nil when that topic is not configured.
func (s *Sender) topicFor(owner string) (delivery.Publisher, string) {
	if owner != "" && s.OwnerTopic != nil && s.OwnerTopicARN != "" {
		return s.OwnerTopic, s.OwnerTopicARN
	}
	if s.Topic != nil && s.TopicARN != "" {
		return s.Topic, s.TopicARN
	}
	return nil, ""
}

// TopicARNFor is the topic an owner's alerts go to ("" the organization's audience), as Deliver sends them; empty
// when no topic is configured for it.
func (s *Sender) TopicARNFor(owner string) string {
	_, arn := s.topicFor(owner)
	return arn
}

// mailTo is whom an owner's group is mailed to: an owner that is an address SES may send to, or the organization's
// recipients for the organization's audience. Empty mails no one.
func (s *Sender) mailTo(owner Owner) []string {
	e := s.Email
	switch {
	case e == nil:
		return nil
	case owner.Name == "":
		return e.To
	case owner.Address != "" && e.IsAddress != nil && e.IsAddress(owner.Address):
		return []string{owner.Address}
	default:
		return nil
	}
}

// safeDeliverGroup is deliverGroup, with a panic failing the group's events (their claims, if taken, go stale and
// free within a lease) rather than the whole batch.
func (s *Sender) safeDeliverGroup(ctx context.Context, g group, out *Delivered) (sent, already, failed []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			sent, already, failed = nil, nil, nil
			for _, a := range g.alerts {
				failed = append(failed, a.EventID)
			}
			err = fmt.Errorf("sending the group panicked: %v", r)
		}
	}()
	return s.deliverGroup(ctx, g, out)
}

// errNowhere: a group with neither a topic nor an address to go to. Its events fail, so they rest in the dead-letter
// queue, whose alarm tells the operator, rather than being recorded as alerted.
var errNowhere = errors.New("no topic and no email address to send it to")

// deliverGroup sends one owner's alerts on the topic and by email, and records those that went out on any channel.
func (s *Sender) deliverGroup(ctx context.Context, g group, out *Delivered) (sent, already, failed []string, err error) {
	bad := map[string]bool{}
	var errs []error
	n := len(g.alerts)
	topic, topicErrs := make([]delivery.Sent, n), make([]error, n)
	client, topicARN := s.topicFor(g.owner.Name)
	if client != nil {
		topic, topicErrs = s.sendEach(ctx, g.alerts, ChannelTopic, func(ctx context.Context, alerts []Alert) (string, error) {
			m, err := s.message(topicARN, g.owner.Name, alerts)
			if err != nil {
				return "", err
			}
			return delivery.PublishMessage(ctx, client, m)
		}, func(alerts []Alert) { _, _ = s.message(topicARN, g.owner.Name, alerts) })
	}
	mails, mailErrs := make([]delivery.Sent, n), make([]error, n)
	to := s.mailTo(g.owner)
	if len(to) > 0 {
		mails, mailErrs = s.sendEach(ctx, g.alerts, ChannelEmail, func(ctx context.Context, alerts []Alert) (string, error) {
			return s.mail(ctx, g.owner.Name, to, alerts)
		}, func(alerts []Alert) { _ = Text(g.owner.Name, alerts) + Subject(g.owner.Name, alerts) })
	}
	for i, a := range g.alerts {
		if client == nil && len(to) == 0 {
			bad[a.EventID] = true
			errs = append(errs, fmt.Errorf("event %s: %w", a.EventID, errNowhere))
			continue
		}
		for _, e := range []error{topicErrs[i], mailErrs[i]} {
			if e != nil {
				bad[a.EventID] = true
				errs = append(errs, fmt.Errorf("event %s: %w", a.EventID, e))
			}
		}
		for _, c := range []delivery.Sent{topic[i], mails[i]} {
			switch c.Outcome {
			case delivery.Published, delivery.AlreadyPublished, "":
			default:
				bad[a.EventID] = true
				errs = append(errs, fmt.Errorf("event %s: sending it ended %q, which this job does not know", a.EventID, c.Outcome))
			}
		}
		if topic[i].MarkErr != nil || mails[i].MarkErr != nil {
			s.Log.WarnContext(ctx, "alert sent but its marker not marked published", "event_id", a.EventID, "err", errors.Join(topic[i].MarkErr, mails[i].MarkErr))
		}
		if topic[i].Outcome == delivery.Published {
			out.Messages[g.owner.Name] = topic[i].MessageID
		}
	}
	// Records are written side by side: one object per event, hundreds in a burst. An alert that went out on any
	// channel is recorded, dated by the channel it went out on first.
	recErrs := make([]error, n)
	var writes errgroup.Group
	writes.SetLimit(recordWorkers)
	for i, a := range g.alerts {
		if c, channel, ok := wentOut(topic[i], mails[i]); ok {
			writes.Go(func() error {
				// A panic here would end the invocation with every event of the batch unaccounted for.
				defer func() {
					if r := recover(); r != nil {
						recErrs[i] = fmt.Errorf("record event %s: %w", a.EventID, &panicError{value: r})
					}
				}()
				recErrs[i] = s.record(ctx, a, c, channel)
				return nil
			})
		}
	}
	_ = writes.Wait()
	for i, a := range g.alerts {
		if recErrs[i] != nil {
			bad[a.EventID] = true
			errs = append(errs, recErrs[i])
		}
		switch {
		case bad[a.EventID]:
			failed = append(failed, a.EventID)
		case topic[i].Outcome == delivery.Published || mails[i].Outcome == delivery.Published:
			sent = append(sent, a.EventID)
		default:
			already = append(already, a.EventID)
		}
	}
	if len(sent) > 0 {
		s.Log.InfoContext(ctx, "alert sent", "owner", g.owner.Name, "topic", topicARN, "emailed", len(to), "events", len(sent), "message_id", out.Messages[g.owner.Name])
	}
	return sent, already, failed, errors.Join(errs...)
}

// wentOut is the channel an alert went out on, the topic before email: what its record is dated by.
func wentOut(topic, mail delivery.Sent) (delivery.Sent, string, bool) {
	for _, c := range []struct {
		sent    delivery.Sent
		channel string
	}{{topic, ChannelTopic}, {mail, ChannelEmail}} {
		if o := c.sent.Outcome; o == delivery.Published || o == delivery.AlreadyPublished {
			return c.sent, c.channel, true
		}
	}
	return delivery.Sent{}, "", false
}

// sendEach sends alerts on one channel as one message, each claimed by its event (delivery.SendOnceEach). A send
// that panics (a renderer's fault on one alert's text) is its error, so the claims it held are released at once
// rather than left for a lease. The alerts are then rendered one by one, sending nothing (render), to find those
// that panic: they fail, and the others go out again as one message, so one bad alert neither holds back its owner's
// others nor splits a burst into a message each. When no alert's rendering panics alone (the send panics on some
// alert's content), the group is sent in halves until the fault is alone: a few messages, not one per alert.
func (s *Sender) sendEach(ctx context.Context, alerts []Alert, channel string, send func(ctx context.Context, alerts []Alert) (string, error), render func(alerts []Alert)) ([]delivery.Sent, []error) {
	once := func(alerts []Alert) ([]delivery.Sent, []error) {
		sctx, cancel := s.sendContext(ctx)
		defer cancel()
		return delivery.SendOnceEach(sctx, s.store(), s.claims(alerts, channel), func(ctx context.Context, held []int) (id string, err error) {
			defer func() {
				if r := recover(); r != nil {
					id, err = "", &panicError{value: r}
				}
			}()
			return send(ctx, pick(alerts, held))
		})
	}
	var split func(alerts []Alert, probe bool) ([]delivery.Sent, []error)
	split = func(alerts []Alert, probe bool) ([]delivery.Sent, []error) {
		sents, errs := once(alerts)
		if len(alerts) < 2 || s.nearDeadline(ctx) {
			return sents, errs
		}
		var again []int
		for i := range alerts {
			if !errors.As(errs[i], new(*panicError)) {
				continue
			}
			if probe && panicked(func() { render(alerts[i : i+1]) }) {
				s.Log.WarnContext(ctx, "an alert's rendering panics; it fails, its group goes out without it", "event_id", alerts[i].EventID, "channel", channel, "err", errs[i])
				continue
			}
			again = append(again, i)
		}
		if len(again) == 0 {
			return sents, errs
		}
		// The rendering found no fault in these (the send panics on them): halves, until the fault is alone.
		var parts [][]int
		if len(again) < len(alerts) {
			parts = [][]int{again}
		} else {
			parts = [][]int{again[:len(again)/2], again[len(again)/2:]}
		}
		for _, part := range parts {
			one, oneErrs := split(pick(alerts, part), false)
			for k, i := range part {
				sents[i], errs[i] = one[k], oneErrs[k]
			}
		}
		return sents, errs
	}
	return split(alerts, true)
}

// panicked says whether f panics.
func panicked(f func()) (p bool) {
	defer func() {
		if recover() != nil {
			p = true
		}
	}()
	f()
	return false
}

// panicError is a panic recovered where one event's work (its send, claim or record) ran, as that event's error.
type panicError struct{ value any }

func (e *panicError) Error() string { return fmt.Sprintf("panicked: %v", e.value) }

// store is S3, a panic in a call (the SDK's, or a client given) being that call's error: claims and records are
// written in goroutines, where a panic would end the invocation with its whole batch unaccounted for.
func (s *Sender) store() Store { return safeStore{s.S3} }

type safeStore struct{ Store }

func recovered(err *error) {
	if r := recover(); r != nil {
		*err = &panicError{value: r}
	}
}

func (st safeStore) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (out *s3.PutObjectOutput, err error) {
	defer recovered(&err)
	return st.Store.PutObject(ctx, in, o...)
}

func (st safeStore) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (out *s3.GetObjectOutput, err error) {
	defer recovered(&err)
	return st.Store.GetObject(ctx, in, o...)
}

func (st safeStore) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, o ...func(*s3.Options)) (out *s3.DeleteObjectOutput, err error) {
	defer recovered(&err)
	return st.Store.DeleteObject(ctx, in, o...)
}

// pick is the alerts at the indexes held.
func pick(alerts []Alert, held []int) []Alert {
	out := make([]Alert, len(held))
	for i, j := range held {
		out[i] = alerts[j]
	}
	return out
}

// claims are the alerts' claims on one channel.
func (s *Sender) claims(alerts []Alert, channel string) []delivery.Claim {
	out := make([]delivery.Claim, len(alerts))
	for i, a := range alerts {
		out[i] = delivery.Claim{RunID: a.EventID, Trigger: claimTrigger, Now: s.Now, Wait: heldElsewhere}
		if s.Bucket != "" && s.S3 != nil {
			out[i].Bucket, out[i].MarkerKey = s.Bucket, delivery.AlertMarkerKey(s.Prefix, a.EventTime, a.EventID, channel)
		}
	}
	return out
}

// ErrHeldElsewhere: another invocation holds a live claim on the event (the queue gave it to two at once). Waiting
// out its lease would hold the whole batch for minutes, once per such event; the event is failed instead, and the
// queue's retry finds it sent, or the claim stale and free.
var ErrHeldElsewhere = errors.New("another invocation is sending this event's alert; the queue retries it")

func heldElsewhere(context.Context, time.Duration) error { return ErrHeldElsewhere }

// message is an owner's alerts as one publish: the text for default and email subscribers, the notice for sqs and
// lambda, the chat card for https, with the attributes an owner's digest carries (the organization's audience when
// the owner is not known). The listing is shortened until the message fits SNS's limit.
func (s *Sender) message(topicARN, owner string, alerts []Alert) (delivery.Message, error) {
	m := delivery.Message{TopicARN: topicARN, Subject: Subject(owner, alerts),
		Attributes: map[string]string{delivery.AttrAudience: delivery.AudienceOrganization}}
	if owner != "" {
		m.Attributes[delivery.AttrAudience], m.Attributes[delivery.AttrOwner] = delivery.AudienceOwner, delivery.AttributeValue(owner)
	}
	chat, err := ChatJSON(owner, alerts)
	if err != nil {
		return m, fmt.Errorf("render chat card: %w", err)
	}
	for n := MaxListed; n >= 1; n /= 2 {
		notice, err := noticeListing(owner, alerts, n)
		if err != nil {
			return m, fmt.Errorf("render notice: %w", err)
		}
		text := textListing(owner, alerts, n)
		m.Bodies = map[string]string{delivery.ProtocolDefault: text, delivery.ProtocolEmail: text, delivery.ProtocolHTTPS: string(chat),
			delivery.ProtocolSQS: string(notice), delivery.ProtocolLambda: string(notice)}
		size, err := m.Size()
		if err != nil {
			return m, err
		}
		if size <= delivery.MaxMessageBytes {
			return m, nil
		}
	}
	return m, fmt.Errorf("the alert of %d events does not fit SNS's %d bytes even listing one", len(alerts), delivery.MaxMessageBytes)
}

// mail sends an owner's alerts by SES to the addresses to: the text, and the same text as HTML for the clients that
// show only that.
func (s *Sender) mail(ctx context.Context, owner string, to []string, alerts []Alert) (string, error) {
	e := s.Email
	from := e.From
	if from.Name == "" {
		from.Name = "orgaudit"
	}
	text := Text(owner, alerts)
	rcpt := make([]mail.Address, len(to))
	for i, t := range to {
		rcpt[i] = mail.Address{Address: t}
	}
	raw, err := orgmail.Message{From: from, To: rcpt, Subject: Subject(owner, alerts),
		Date: s.Now(), Text: text, HTML: "<pre>" + html.EscapeString(text) + "</pre>"}.Bytes()
	if err != nil {
		return "", fmt.Errorf("compose the alert email: %w", err)
	}
	return delivery.SendEmail(ctx, e.SES, from.Address, to, raw)
}

// record keeps what was sent of a, for the next daily digest, at RecordKey. It is written only where none is: an
// event re-delivered after its alert went out finds the record the sending invocation wrote. One whose sender died,
// or failed to write it, before the retry is dated by when the alert went out (its channel's marker says), not by
// the retry: "alerted at" is when the owner was told. RecordedAt is the retry's clock all the same: the digest's
// window goes by it, so a record written after a run falls in the next run's window, whenever its alert went out.
func (s *Sender) record(ctx context.Context, a Alert, sent delivery.Sent, channel string) error {
	if s.Bucket == "" || s.S3 == nil {
		return nil
	}
	now := s.Now().UTC()
	rec := Record{Alert: a, AlertedAt: now, RecordedAt: now}
	if sent.Outcome == delivery.AlreadyPublished {
		m, err := s.marker(ctx, a, channel)
		if err != nil {
			return fmt.Errorf("record event %s: %w", a.EventID, err)
		}
		rec.AlertedAt, sent.MessageID = m.PublishedAt.UTC(), m.MessageID
	}
	if sent.MessageID != "" && channel == ChannelTopic {
		rec.MessageIDs = []string{sent.MessageID}
	}
	body, err := marshal(rec)
	if err != nil {
		return err
	}
	key := RecordKey(s.Prefix, a.EventTime, a.EventID)
	in := &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: strings.NewReader(string(body)),
		IfNoneMatch: aws.String("*"), ContentType: aws.String("application/json"), ServerSideEncryption: s3types.ServerSideEncryptionAes256}
	if s.KMSKeyID != "" {
		in.ServerSideEncryption, in.SSEKMSKeyId = s3types.ServerSideEncryptionAwsKms, aws.String(s.KMSKeyID)
	}
	if _, err := s.store().PutObject(ctx, in); err != nil && !awserr.ConditionFailed(err) {
		return fmt.Errorf("record event %s at s3://%s/%s: %w", a.EventID, s.Bucket, key, err)
	}
	return nil
}

// marker reads the marker of an event's alert on a channel another invocation marked published: when it went out,
// and its message id. One without a publication time is an error, not a guess.
func (s *Sender) marker(ctx context.Context, a Alert, channel string) (delivery.Marker, error) {
	key := delivery.AlertMarkerKey(s.Prefix, a.EventTime, a.EventID, channel)
	out, err := s.store().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return delivery.Marker{}, fmt.Errorf("read its marker s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	var m delivery.Marker
	if err := json.NewDecoder(io.LimitReader(out.Body, 64<<10)).Decode(&m); err != nil {
		return delivery.Marker{}, fmt.Errorf("read its marker s3://%s/%s: %w", s.Bucket, key, err)
	}
	if m.State != delivery.StatePublished || m.PublishedAt == nil {
		return delivery.Marker{}, fmt.Errorf("its marker s3://%s/%s is %q with no publication time", s.Bucket, key, m.State)
	}
	return m, nil
}
