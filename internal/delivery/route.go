package delivery

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/orgaudit/orgaudit/internal/report"
)

// Routing: the organization's digest and one digest per owner with findings or failed cells, each published with
// the message attributes subscriptions filter on (audience, owner) and a body per protocol (MessageStructure json),
// each under an exactly-once claim of its own, so a retried run sends only what was not yet sent.

// PlanOwnerDigests picks the owners who get a digest of their own this run, most severe first, up to limit, and
// says what becomes of the owners' digests: how many owners, the cap, the owners past it, whom the organization's
// digest names. With no owner (accounts without one, the organization not walked) or a cap of 0 there is nothing to
// plan and the plan is nil.
func PlanOwnerDigests(res *report.Result, limit int) ([]string, *report.OwnerDigests) {
	owners := report.Owners(res)
	if len(owners) == 0 || limit <= 0 {
		return nil, nil
	}
	n := min(len(owners), limit)
	return owners[:n], &report.OwnerDigests{Owners: len(owners), Cap: limit, PastCap: owners[n:]}
}

// snsMessage renders r for every protocol: the plain-text digest for default and email, the Notice for sqs and
// lambda, the chat card for https. The whole message, attributes included, stays within SNS's limit: the digest,
// twice the largest body, is rendered again in a smaller budget until it does; the other bodies are bounded by
// their renderers.
func snsMessage(topicARN string, r *report.Result) (Message, error) {
	notice, err := report.NoticeJSON(r)
	if err != nil {
		return Message{}, fmt.Errorf("render notice: %w", err)
	}
	chat, err := report.ChatJSON(r)
	if err != nil {
		return Message{}, fmt.Errorf("render chat card: %w", err)
	}
	m := Message{TopicARN: topicARN, Subject: report.Subject(r),
		Bodies:     map[string]string{ProtocolSQS: string(notice), ProtocolLambda: string(notice), ProtocolHTTPS: string(chat)},
		Attributes: map[string]string{AttrAudience: report.Audience(r)}}
	if r.Owner != "" {
		m.Attributes[AttrOwner] = AttributeValue(r.Owner)
	}
	budget := report.MaxDigestBytes
	for range 8 {
		digest := report.Digest(r, budget)
		m.Bodies[ProtocolDefault], m.Bodies[ProtocolEmail] = digest, digest
		size, err := m.Size()
		if err != nil {
			return Message{}, err
		}
		if size <= MaxMessageBytes {
			return m, nil
		}
		// The digest is in the message twice, each copy a little larger once JSON escapes its quotes: what the
		// rest of the message leaves, shared by the two copies at this digest's rate of growth, is its next budget.
		copies := size - m.SizeWithout(ProtocolDefault, ProtocolEmail)
		room := MaxMessageBytes - (size - copies)
		next := int(float64(room) / float64(copies) * float64(len(digest)) * 0.99)
		budget = min(next, len(digest)-1)
		if budget < 1_000 {
			break
		}
	}
	return Message{}, fmt.Errorf("the message for %s does not fit SNS's %d bytes even with a %d-byte digest", report.Audience(r), MaxMessageBytes, budget)
}

// publishDigests sends the organization's digest of res, then each planned owner's, and records in rec what became
// of them. A failed organization digest stops there (a retry of the run sends everything); a failed owner digest is
// recorded and the others still go out, and the run fails so that a retry sends the ones that did not.
func (d *Run) publishDigests(ctx context.Context, bucket *s3.Client, res *report.Result, owners []string, rec *report.Delivered) error {
	s, log := d.Settings, d.Log
	topic := snsClient(d.Config, s.TopicARN)
	org, err := snsMessage(s.TopicARN, res)
	if err != nil {
		return err
	}
	orgClaim := d.claim(MarkerKey(s.Prefix, d.RunTime, s.Trigger, d.RunID))
	sent, err := SendOnce(ctx, bucket, orgClaim, func(ctx context.Context) (string, error) {
		return PublishMessage(ctx, topic, org)
	})
	if err != nil {
		if rec.Report != nil && rec.Report.Key != "" {
			return fmt.Errorf("%w (the workbook is in s3://%s/%s)", err, rec.Report.Bucket, rec.Report.Key)
		}
		return err
	}
	switch sent.Outcome {
	case Published:
		rec.Published, rec.MessageID = true, sent.MessageID
		log.InfoContext(ctx, "digest published", "topic_arn", s.TopicARN, "message_id", sent.MessageID, "took_over_stale_claim", sent.TookOver)
		if sent.MarkErr != nil {
			log.WarnContext(ctx, "digest published but its marker not marked published", "marker", orgClaim.MarkerKey, "err", sent.MarkErr)
		}
	case AlreadyPublished:
		rec.AlreadyPublished = true
		log.InfoContext(ctx, "digest already published by another invocation of this run", "marker", orgClaim.MarkerKey)
	default:
		return fmt.Errorf("publishing the digest ended %q, which this job does not know", sent.Outcome)
	}

	od := rec.OwnerDigests
	var failed []error
	for _, owner := range owners {
		oc := d.claim(MessageMarkerKey(s.Prefix, d.RunTime, s.Trigger, d.RunID, "owner/"+owner))
		sent, err := sendOwnerDigest(ctx, bucket, topic, report.ForOwner(res, owner), oc, s.ownerDigestTopic())
		if err != nil {
			log.ErrorContext(ctx, "owner digest not published", "owner", owner, "err", err)
			od.Failed = append(od.Failed, report.OwnerDigestFailure{Owner: owner, Error: err.Error()})
			failed = append(failed, fmt.Errorf("owner %q: %w", owner, err))
			continue
		}
		switch sent.Outcome {
		case Published:
			od.Sent++
			log.InfoContext(ctx, "owner digest published", "owner", owner, "message_id", sent.MessageID)
			if sent.MarkErr != nil {
				log.WarnContext(ctx, "owner digest published but its marker not marked published", "marker", oc.MarkerKey, "err", sent.MarkErr)
			}
		case AlreadyPublished:
			od.AlreadySent++
		default:
			err := fmt.Errorf("publishing it ended %q, which this job does not know", sent.Outcome)
			od.Failed = append(od.Failed, report.OwnerDigestFailure{Owner: owner, Error: err.Error()})
			failed = append(failed, fmt.Errorf("owner %q: %w", owner, err))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d owner digests not published; a retry of the run sends them: %w", len(failed), len(owners), errors.Join(failed...))
	}
	return nil
}

// claim is the exactly-once claim of one of the run's messages, its marker at marker in the report bucket (none
// without a bucket). Claims are dated by the wall clock as it runs, not by the run's start: a claim may wait out
// another invocation's lease, and the claim it then makes must be dated when it is made.
func (d *Run) claim(marker string) Claim {
	c := Claim{RunID: d.RunID, Trigger: d.Settings.Trigger, Now: d.Now}
	if d.Settings.Bucket != "" {
		c.Bucket, c.MarkerKey = d.Settings.Bucket, marker
	}
	return c
}

// ownerDigestTopic is where owners' digests go: their own topic, so that the operator's subscription to the digest
// topic, which must take every alarm and so can have no filter policy (SNS matches none against an alarm, which
// carries no attributes), never gets them. Without one they share the digest topic, told apart by the audience
// attribute, as before the template had a topic for them.
func (s Settings) ownerDigestTopic() string {
	if s.OwnerTopicARN != "" {
		return s.OwnerTopicARN
	}
	return s.TopicARN
}

// sendOwnerDigest renders an owner's result (report.ForOwner) as a message to topicARN and sends it under its claim.
func sendOwnerDigest(ctx context.Context, bucket *s3.Client, topic *sns.Client, mine *report.Result, c Claim, topicARN string) (Sent, error) {
	m, err := snsMessage(topicARN, mine)
	if err != nil {
		return Sent{}, err
	}
	return SendOnce(ctx, bucket, c, func(ctx context.Context) (string, error) { return PublishMessage(ctx, topic, m) })
}
