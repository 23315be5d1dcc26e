package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/report"
)

// Routing: the organization's digest and one digest per owner with findings or failed cells, each published with
// the message attributes subscriptions filter on (audience, owner) and a body per protocol (MessageStructure json),
// each under an exactly-once claim of its own, so a retried run sends only what was not yet sent.

// planOwnerDigests picks the owners who get a digest of their own this run, most severe first, up to the cap, and
// records on res the owners past it, whom the organization's digest names. With no owner (accounts without one,
// the organization not walked) or a cap of 0 there is nothing to plan and res.OwnerDigests stays nil.
func planOwnerDigests(res *report.Result, s config.Settings) []string {
	owners := report.Owners(res)
	if len(owners) == 0 || s.OwnerDigests <= 0 {
		return nil
	}
	n := min(len(owners), s.OwnerDigests)
	res.OwnerDigests = &report.OwnerDigests{Owners: len(owners), Cap: s.OwnerDigests, PastCap: owners[n:]}
	return owners[:n]
}

// snsMessage renders r for every protocol: the plain-text digest for default and email, the Notice for sqs and
// lambda, the chat card for https. The whole message, attributes included, stays within SNS's limit: the digest,
// twice the largest body, is rendered again in a smaller budget until it does; the other bodies are bounded by
// their renderers.
func snsMessage(topicARN string, r *report.Result) (delivery.Message, error) {
	notice, err := report.NoticeJSON(r)
	if err != nil {
		return delivery.Message{}, fmt.Errorf("render notice: %w", err)
	}
	chat, err := report.ChatJSON(r)
	if err != nil {
		return delivery.Message{}, fmt.Errorf("render chat card: %w", err)
	}
	m := delivery.Message{TopicARN: topicARN, Subject: report.Subject(r),
		Bodies:     map[string]string{delivery.ProtocolSQS: string(notice), delivery.ProtocolLambda: string(notice), delivery.ProtocolHTTPS: string(chat)},
		Attributes: map[string]string{delivery.AttrAudience: report.Audience(r)}}
	if r.Owner != "" {
		m.Attributes[delivery.AttrOwner] = delivery.AttributeValue(r.Owner)
	}
	budget := report.MaxDigestBytes
	for range 8 {
		digest := report.Digest(r, budget)
		m.Bodies[delivery.ProtocolDefault], m.Bodies[delivery.ProtocolEmail] = digest, digest
		size, err := m.Size()
		if err != nil {
			return delivery.Message{}, err
		}
		if size <= delivery.MaxMessageBytes {
			return m, nil
		}
		// The digest is in the message twice, each copy a little larger once JSON escapes its quotes: what the
		// rest of the message leaves, shared by the two copies at this digest's rate of growth, is its next budget.
		copies := size - m.SizeWithout(delivery.ProtocolDefault, delivery.ProtocolEmail)
		room := delivery.MaxMessageBytes - (size - copies)
		next := int(float64(room) / float64(copies) * float64(len(digest)) * 0.99)
		budget = min(next, len(digest)-1)
		if budget < 1_000 {
			break
		}
	}
	return delivery.Message{}, fmt.Errorf("the message for %s does not fit SNS's %d bytes even with a %d-byte digest", report.Audience(r), delivery.MaxMessageBytes, budget)
}

// publishDigests sends the organization's digest, then each planned owner's. A failed organization digest stops
// there (a retry of the run sends everything); a failed owner digest is recorded and the others still go out, and
// the run fails so that a retry sends the ones that did not.
//
// Claims are dated by the wall clock as it runs, not by the run's start: a claim may wait out another invocation's
// lease, and the claim it then makes must be dated when it is made.
func publishDigests(ctx context.Context, bucket *s3.Client, topic *sns.Client, s config.Settings, res *report.Result, owners []string,
	runTime time.Time, now func() time.Time, log *slog.Logger) error {
	claim := func(marker string) delivery.Claim {
		c := delivery.Claim{RunID: res.RunID, Trigger: s.Trigger, Now: now}
		if s.Bucket != "" {
			c.Bucket, c.MarkerKey = s.Bucket, marker
		}
		return c
	}
	org, err := snsMessage(s.TopicARN, res)
	if err != nil {
		return err
	}
	orgClaim := claim(delivery.MarkerKey(s.Prefix, runTime, s.Trigger, res.RunID))
	sent, err := delivery.SendOnce(ctx, bucket, orgClaim, func(ctx context.Context) (string, error) {
		return delivery.PublishMessage(ctx, topic, org)
	})
	if err != nil {
		if res.Report != nil && res.Report.Key != "" {
			return fmt.Errorf("%w (the workbook is in s3://%s/%s)", err, res.Report.Bucket, res.Report.Key)
		}
		return err
	}
	switch sent.Outcome {
	case delivery.Published:
		res.Published, res.MessageID = true, sent.MessageID
		log.InfoContext(ctx, "digest published", "topic_arn", s.TopicARN, "message_id", sent.MessageID, "took_over_stale_claim", sent.TookOver)
		if sent.MarkErr != nil {
			log.WarnContext(ctx, "digest published but its marker not marked published", "marker", orgClaim.MarkerKey, "err", sent.MarkErr)
		}
	case delivery.AlreadyPublished:
		res.AlreadyPublished = true
		log.InfoContext(ctx, "digest already published by another invocation of this run", "marker", orgClaim.MarkerKey)
	default:
		return fmt.Errorf("publishing the digest ended %q, which this job does not know", sent.Outcome)
	}

	od := res.OwnerDigests
	var failed []error
	for _, owner := range owners {
		oc := claim(delivery.MessageMarkerKey(s.Prefix, runTime, s.Trigger, res.RunID, "owner/"+owner))
		sent, err := sendOwnerDigest(ctx, bucket, topic, s.OwnerDigestTopic(), res, owner, oc)
		if err != nil {
			log.ErrorContext(ctx, "owner digest not published", "owner", owner, "err", err)
			od.Failed = append(od.Failed, report.OwnerDigestFailure{Owner: owner, Error: err.Error()})
			failed = append(failed, fmt.Errorf("owner %q: %w", owner, err))
			continue
		}
		switch sent.Outcome {
		case delivery.Published:
			od.Sent++
			log.InfoContext(ctx, "owner digest published", "owner", owner, "message_id", sent.MessageID)
			if sent.MarkErr != nil {
				log.WarnContext(ctx, "owner digest published but its marker not marked published", "marker", oc.MarkerKey, "err", sent.MarkErr)
			}
		case delivery.AlreadyPublished:
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

// sendOwnerDigest renders owner's digest and sends it under its claim.
func sendOwnerDigest(ctx context.Context, bucket *s3.Client, topic *sns.Client, topicARN string, res *report.Result, owner string,
	c delivery.Claim) (delivery.Sent, error) {
	m, err := snsMessage(topicARN, report.ForOwner(res, owner))
	if err != nil {
		return delivery.Sent{}, err
	}
	return delivery.SendOnce(ctx, bucket, c, func(ctx context.Context) (string, error) { return delivery.PublishMessage(ctx, topic, m) })
}
