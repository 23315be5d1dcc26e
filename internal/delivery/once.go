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

// takeoverReserve is what a run needs after waiting out another's lease: read the marker again, overwrite it,
// publish and mark it published. A run with less time than the rest of the lease and this fails instead of waiting.
const takeoverReserve = 30 * time.Second

// maxClaimRounds bounds the claim's rounds (create, read, wait or take over): each round ends because the marker
// changed under us (released, taken over by another, settled), which a handful of invocations of one run cannot
// keep doing.
const maxClaimRounds = 6

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
	// Wait waits out the rest of another invocation's live claim; a timer on ctx when nil.
	Wait func(ctx context.Context, d time.Duration) error
}

// setDefaults fills what a claim leaves unset: DefaultLease, the wall clock, a timer to wait on.
func (d *Claim) setDefaults() {
	if d.Lease <= 0 {
		d.Lease = DefaultLease
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Wait == nil {
		d.Wait = sleep
	}
}

// ClaimHeldError: another invocation of the run holds a live claim on the message, and its lease ends too late
// for this invocation to wait it out and take over. The message may never be sent if that invocation died, so
// this is the run's failure: Lambda retries it (and the function's error alarm fires), and the retry finds the
// message sent or the claim stale.
type ClaimHeldError struct {
	Bucket, MarkerKey string
	ClaimedAt         time.Time
	// LeaseLeft is how long the claim stays live; TimeLeft how long this invocation had.
	LeaseLeft, TimeLeft time.Duration
}

func (e *ClaimHeldError) Error() string {
	return fmt.Sprintf("s3://%s/%s is claimed by another invocation of the run since %s; its lease ends in %s, and this invocation has %s: a retry sends the message if that invocation did not",
		e.Bucket, e.MarkerKey, e.ClaimedAt.UTC().Format(time.RFC3339), e.LeaseLeft.Round(time.Second), e.TimeLeft.Round(time.Second))
}

// Outcome is what PublishOnce did.
type Outcome string

const (
	// Published: this invocation sent the digest.
	Published Outcome = "published"
	// AlreadyPublished: another invocation of the run sent it.
	AlreadyPublished Outcome = "already_published"
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

// SendOnce sends one message of the run (a digest, an owner's digest, an email) unless another invocation of this
// run has sent it: send is called at most once among every invocation of the run that claims d, and returns the
// message's id. Of several invocations exactly one sends: a claim is a conditional create (If-None-Match: *), and a
// stale claim is taken over by a conditional overwrite (If-Match on the ETag read back), so two takers cannot both
// win. A live claim of another invocation is waited out: if its holder sent meanwhile the message counts as sent; if
// the claim is unchanged after the lease its holder died, and the claim is taken over; when the invocation has not the
// time to wait, it fails with ClaimHeldError, never reports success for a message nobody may send. A failed send
// releases the claim so a retry may send; a successful one marks it sent, so it is never taken over.
func SendOnce(ctx context.Context, store MarkerStore, d Claim, send func(context.Context) (string, error)) (Sent, error) {
	if d.Bucket == "" {
		id, err := send(ctx)
		if err != nil {
			return Sent{}, err
		}
		return Sent{Outcome: Published, MessageID: id}, nil
	}
	d.setDefaults()
	etag, claimedAt, outcome, tookOver, err := claim(ctx, store, d)
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

// claim takes the run's marker: created when absent, taken over when stale or when it stays unchanged while this
// invocation waits out its lease. A non-empty outcome means another invocation published. A marker that vanishes
// (released by a failed publish) is claimed afresh: S3 answers a read of it NoSuchKey, or 403 to a caller without
// an unconditioned s3:ListBucket, which is how the function's role is made.
func claim(ctx context.Context, store MarkerStore, d Claim) (etag string, at time.Time, outcome Outcome, tookOver bool, err error) {
	where := fmt.Sprintf("s3://%s/%s", d.Bucket, d.MarkerKey)
	var gone error // the last read that found no marker, for the error if it never settles
	for range maxClaimRounds {
		at = d.Now().UTC()
		mine := Marker{RunID: d.RunID, Trigger: d.Trigger, State: StatePublishing, ClaimedAt: at}
		etag, err = putMarker(ctx, store, d, mine, nil, aws.String("*"))
		if err == nil {
			return etag, at, "", false, nil
		}
		if !awserr.ConditionFailed(err) {
			return "", at, "", false, fmt.Errorf("claim %s: %w", where, err)
		}
		held, heldETag, err := readMarker(ctx, store, d)
		if markerGone(err) {
			gone = err
			continue
		}
		if err != nil {
			return "", at, "", false, fmt.Errorf("read claim %s: %w", where, err)
		}
		if held.State == StatePublished {
			return "", at, AlreadyPublished, false, nil
		}
		if age := at.Sub(held.ClaimedAt); age < d.Lease {
			afterETag, done, err := waitOut(ctx, store, d, held, age)
			switch {
			case markerGone(err):
				gone = err
				continue
			case err != nil:
				return "", at, "", false, err
			case done:
				return "", at, AlreadyPublished, false, nil
			case afterETag != heldETag:
				// Taken over, or claimed afresh after a release: that claim is judged from the start.
				continue
			}
			// Unchanged until its lease ended: its holder gives up within half of one, so it died.
			at = d.Now().UTC()
			mine.ClaimedAt = at
		}
		etag, err = putMarker(ctx, store, d, mine, aws.String(heldETag), nil)
		switch {
		case err == nil:
			return etag, at, "", true, nil
		case awserr.ConditionFailed(err):
			// Another taker won the race, or the holder settled its claim meanwhile: judge the marker again.
			continue
		case markerGone(err):
			gone = err
			continue
		}
		return "", at, "", false, fmt.Errorf("take over %s: %w", where, err)
	}
	if gone != nil {
		// A marker the create finds but no read does: either it kept being released and claimed again, or the read is
		// refused outright, which S3 answers with the same 403.
		return "", at, "", false, fmt.Errorf("claim %s: the marker exists, yet reading it answers as if it did not: %w", where, gone)
	}
	return "", at, "", false, fmt.Errorf("claim %s: the marker kept changing under us", where)
}

// waitOut waits for the rest of held's lease (age old, by this invocation's clock) and reads the marker again,
// reporting whether it was published meanwhile. A claim dated in the future (another clock) is waited a whole
// lease. Without the time to wait and still publish, it returns ClaimHeldError.
func waitOut(ctx context.Context, store MarkerStore, d Claim, held Marker, age time.Duration) (etag string, published bool, err error) {
	left := d.Lease - max(age, 0)
	if deadline, ok := ctx.Deadline(); ok {
		if until := time.Until(deadline); until < left+takeoverReserve {
			return "", false, &ClaimHeldError{Bucket: d.Bucket, MarkerKey: d.MarkerKey, ClaimedAt: held.ClaimedAt, LeaseLeft: left, TimeLeft: until}
		}
	}
	if err := d.Wait(ctx, left); err != nil {
		return "", false, fmt.Errorf("wait out the claim on s3://%s/%s: %w", d.Bucket, d.MarkerKey, err)
	}
	after, etag, err := readMarker(ctx, store, d)
	if err != nil {
		if markerGone(err) {
			return "", false, err
		}
		return "", false, fmt.Errorf("read claim s3://%s/%s after its lease: %w", d.Bucket, d.MarkerKey, err)
	}
	return etag, after.State == StatePublished, nil
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
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

// markerGone reports whether a read of the marker found none: NoSuchKey, or 403 AccessDenied, which is how S3 answers
// a missing key to a caller without an unconditioned s3:ListBucket (the function may list only its history). A
// refusal of the GET itself also reads 403; the caller's bounded rounds end that with the error.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_Permissions
func markerGone(err error) bool {
	return err != nil && (isNotFound(err) || awserr.IsAccessDenied(err))
}
