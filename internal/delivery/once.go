package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

// DefaultLease is how long a claim in state publishing keeps other invocations of the run away. Its holder stops
// trying to publish after half of it (publishBound), so a claim older than the lease belongs to an invocation that
// died, and another may take it over. Lambda's async retries come a minute and two minutes after a failure, so a
// claim left by a crash is free by the time a retry that audited for a few minutes comes to publish.
const DefaultLease = 3 * time.Minute

// releaseTimeout bounds the calls that settle a claim after the publish (release or mark published). They run on a
// context of their own: the invocation's may be what just expired.
const releaseTimeout = 5 * time.Second

// Marker states: a claim is publishing until its holder marks it published, which nobody ever takes over.
const (
	StatePublishing = "publishing"
	StatePublished  = "published"
)

// Marker is the body of a run's marker object.
type Marker struct {
	RunID       string     `json:"run_id"`
	Trigger     string     `json:"trigger"`
	State       string     `json:"state"`
	ClaimedAt   time.Time  `json:"claimed_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	MessageID   string     `json:"message_id,omitempty"`
}

// MarkerStore is the S3 calls the exactly-once rule makes on the marker.
type MarkerStore interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Digest is one run's digest and where its marker lives.
type Digest struct {
	TopicARN, Subject, Body string
	Claim
}

// Claim is where one message of a run records that it was sent: every message a run sends (the organization's
// digest, each owner's, each email) has a marker of its own, so a retry sends only what was not yet sent.
type Claim struct {
	// Bucket and MarkerKey hold the claim. Without a bucket there is nowhere to record one, and the message is
	// sent unguarded.
	Bucket, MarkerKey string
	RunID, Trigger    string
	// Lease is DefaultLease when zero.
	Lease time.Duration
	// Now is the clock claims are dated and judged by; time.Now when nil.
	Now func() time.Time
}

// Outcome is what PublishOnce did.
type Outcome string

const (
	// Published: this invocation sent the digest.
	Published Outcome = "published"
	// AlreadyPublished: another invocation of the run sent it.
	AlreadyPublished Outcome = "already_published"
	// InProgress: another invocation holds a live claim and is publishing now, or died within the lease.
	InProgress Outcome = "in_progress"
)

// Sent is the outcome of PublishOnce.
type Sent struct {
	Outcome   Outcome
	MessageID string
	// TookOver says this invocation published under a stale claim a dead invocation had left.
	TookOver bool
	// MarkErr is a failure to mark the marker published after the digest went out. The digest is delivered, so it
	// is not the run's failure; the claim stays publishing and only a retry after the lease could mail again.
	MarkErr error
}

// PublishOnce sends the digest unless another invocation of this run has or is doing so. Of several invocations
// exactly one publishes: a claim is a conditional create (If-None-Match: *), and a stale claim is taken over by a
// conditional overwrite (If-Match on the ETag read back), so two takers cannot both win. A failed publish releases
// the claim so a retry may publish; a successful one marks it published, so it is never taken over.
func PublishOnce(ctx context.Context, store MarkerStore, pub Publisher, d Digest) (Sent, error) {
	return SendOnce(ctx, store, d.Claim, func(ctx context.Context) (string, error) {
		return Publish(ctx, pub, d.TopicARN, d.Subject, d.Body)
	})
}

// SendOnce is PublishOnce for any message: send is called at most once among every invocation of the run that
// claims c, and returns the message's id.
func SendOnce(ctx context.Context, store MarkerStore, d Claim, send func(context.Context) (string, error)) (Sent, error) {
	if d.Bucket == "" {
		id, err := send(ctx)
		if err != nil {
			return Sent{}, err
		}
		return Sent{Outcome: Published, MessageID: id}, nil
	}
	if d.Lease <= 0 {
		d.Lease = DefaultLease
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	claimedAt := d.Now().UTC()
	etag, outcome, tookOver, err := claim(ctx, store, d, claimedAt)
	if err != nil || outcome != "" {
		return Sent{Outcome: outcome}, err
	}
	// The holder gives up well within its lease, so a claim older than the lease is never still publishing.
	pubCtx, cancel := context.WithTimeout(ctx, d.Lease/2)
	id, err := send(pubCtx)
	cancel()
	settle, cancelSettle := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancelSettle()
	if err != nil {
		if rerr := release(settle, store, d); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return Sent{}, err
	}
	sent := Sent{Outcome: Published, MessageID: id, TookOver: tookOver}
	publishedAt := d.Now().UTC()
	done := Marker{RunID: d.RunID, Trigger: d.Trigger, State: StatePublished, ClaimedAt: claimedAt, PublishedAt: &publishedAt, MessageID: id}
	if _, merr := putMarker(settle, store, d, done, aws.String(etag), nil); merr != nil {
		sent.MarkErr = fmt.Errorf("mark s3://%s/%s published: %w", d.Bucket, d.MarkerKey, merr)
	}
	return sent, nil
}

// claim takes the run's marker: created when absent, taken over when stale. A non-empty outcome means another
// invocation has it. A marker that vanishes between the two calls (released by a failed publish) is claimed afresh.
func claim(ctx context.Context, store MarkerStore, d Claim, at time.Time) (etag string, outcome Outcome, tookOver bool, err error) {
	mine := Marker{RunID: d.RunID, Trigger: d.Trigger, State: StatePublishing, ClaimedAt: at}
	for range 3 {
		etag, err = putMarker(ctx, store, d, mine, nil, aws.String("*"))
		if err == nil {
			return etag, "", false, nil
		}
		if !awserr.ConditionFailed(err) {
			return "", "", false, fmt.Errorf("claim s3://%s/%s: %w", d.Bucket, d.MarkerKey, err)
		}
		held, heldETag, err := readMarker(ctx, store, d)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return "", "", false, fmt.Errorf("read claim s3://%s/%s: %w", d.Bucket, d.MarkerKey, err)
		}
		if held.State == StatePublished {
			return "", AlreadyPublished, false, nil
		}
		// A claim from the future (another clock) is as live as a fresh one.
		if age := at.Sub(held.ClaimedAt); age < d.Lease {
			return "", InProgress, false, nil
		}
		etag, err = putMarker(ctx, store, d, mine, aws.String(heldETag), nil)
		switch {
		case err == nil:
			return etag, "", true, nil
		case awserr.ConditionFailed(err):
			// Another taker won the race, or the holder settled its claim meanwhile: either way it is theirs.
			return "", InProgress, false, nil
		case isNotFound(err):
			continue
		}
		return "", "", false, fmt.Errorf("take over s3://%s/%s: %w", d.Bucket, d.MarkerKey, err)
	}
	return "", "", false, fmt.Errorf("claim s3://%s/%s: the marker kept changing under us", d.Bucket, d.MarkerKey)
}

// putMarker writes m if the marker matches ifMatch (an ETag) or, with ifNoneMatch "*", does not exist.
func putMarker(ctx context.Context, store MarkerStore, d Claim, m Marker, ifMatch, ifNoneMatch *string) (string, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	out, err := store.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(d.Bucket), Key: aws.String(d.MarkerKey), IfMatch: ifMatch, IfNoneMatch: ifNoneMatch,
		Body: strings.NewReader(string(body)), ContentType: aws.String("application/json"),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256,
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// readMarker reads the marker and its ETag. A marker that cannot be parsed reads as a claim of the zero time, so a
// damaged marker is stale and never blocks the run forever.
func readMarker(ctx context.Context, store MarkerStore, d Claim) (Marker, string, error) {
	out, err := store.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(d.MarkerKey)})
	if err != nil {
		return Marker{}, "", err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, 64<<10))
	if err != nil {
		return Marker{}, "", err
	}
	var m Marker
	if json.Unmarshal(body, &m) != nil {
		m = Marker{State: StatePublishing}
	}
	return m, aws.ToString(out.ETag), nil
}

// release removes this invocation's claim after a failed publish, so a retry of the run may publish.
func release(ctx context.Context, store MarkerStore, d Claim) error {
	if _, err := store.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(d.MarkerKey)}); err != nil {
		return fmt.Errorf("release s3://%s/%s: %w", d.Bucket, d.MarkerKey, err)
	}
	return nil
}

// isNotFound: S3 answers a GET of a missing key with NoSuchKey, and If-Match on a missing key with 404 NoSuchKey too.
func isNotFound(err error) bool {
	var nsk *s3types.NoSuchKey
	code := awserr.APICode(err)
	return errors.As(err, &nsk) || code == "NoSuchKey" || code == "NotFound"
}
