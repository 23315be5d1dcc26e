package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/orgaudit/orgaudit/internal/awserr"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// claimWorld is the demo organization with the templates' IAM enforced: the store and the topic are called with the
// execution role's session, which may list the bucket only under s3:prefix conditions, so a GET of a marker that is
// gone answers 403 as on AWS.
type claimWorld struct {
	sim   *awssim.Server
	store *s3.Client
	topic *sns.Client
	now   time.Time
}

func newClaimWorld(t *testing.T, without ...awssim.PolicyAction) claimWorld {
	t.Helper()
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	org := awssim.Demo(now)
	d := testkit.DemoDeployment(org)
	for _, a := range without {
		var err error
		if d, err = d.Without(a); err != nil {
			t.Fatal(err)
		}
	}
	sim := testkit.StartEnforced(t, org, d)
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	return claimWorld{sim: sim, store: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), topic: sns.NewFromConfig(cfg), now: now}
}

func (w claimWorld) digest() delivery.Digest {
	return delivery.Digest{TopicARN: awssim.DemoTopicARN(), Subject: "orgaudit test", Body: "body", Claim: delivery.Claim{RunID: "r1", Trigger: "scheduled",
		Bucket: awssim.DemoBucket, MarkerKey: delivery.MarkerKey("orgaudit", w.now, "scheduled", "r1"), Now: func() time.Time { return w.now }}}
}

// holdClaim writes a marker as another invocation of the run does when it claims the digest, age before now.
func (w claimWorld) holdClaim(t *testing.T, d delivery.Digest, age time.Duration, state string) {
	t.Helper()
	m := delivery.Marker{RunID: d.RunID, Trigger: d.Trigger, State: state, ClaimedAt: w.now.Add(-age)}
	body, _ := json.Marshal(m)
	if err := w.sim.PutObject(d.Bucket, d.MarkerKey, body); err != nil {
		t.Fatal(err)
	}
}

func (w claimWorld) marker(t *testing.T, d delivery.Digest) delivery.Marker {
	t.Helper()
	body, err := w.sim.Object(d.Bucket, d.MarkerKey)
	var m delivery.Marker
	if err != nil || json.Unmarshal(body, &m) != nil {
		t.Fatalf("marker: %s (%v)", body, err)
	}
	return m
}

// TestClaimOfAHolderThatDiedIsTakenOver: another invocation claimed the digest a minute ago and died before
// publishing. Reporting "in progress" and succeeding would leave the run without a digest for good (the holder never
// comes back); the run waits out the rest of the lease, finds the claim unchanged, takes it over and publishes once.
func TestClaimOfAHolderThatDiedIsTakenOver(t *testing.T) {
	t.Parallel()
	w := newClaimWorld(t)
	d := w.digest()
	w.holdClaim(t, d, time.Minute, delivery.StatePublishing)
	var waited []time.Duration
	d.Wait = func(_ context.Context, dur time.Duration) error { waited = append(waited, dur); return nil }
	sent, err := delivery.PublishOnce(context.Background(), w.store, w.topic, d)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Outcome != delivery.Published || !sent.TookOver || len(w.sim.Published()) != 1 {
		t.Fatalf("a claim whose holder died: %+v, %d digests published, want published once by taking it over", sent, len(w.sim.Published()))
	}
	if len(waited) != 1 || waited[0] != delivery.DefaultLease-time.Minute {
		t.Errorf("waited %v, want once for the rest of the lease (%v)", waited, delivery.DefaultLease-time.Minute)
	}
	if m := w.marker(t, d); m.State != delivery.StatePublished || m.MessageID != w.sim.Published()[0].MessageID {
		t.Errorf("marker after the takeover: %+v", m)
	}
}

// TestHolderThatPublishesDuringTheWaitIsNotRepeated: the holder is alive and publishes while this run waits; the run
// sends nothing and says the digest went out.
func TestHolderThatPublishesDuringTheWaitIsNotRepeated(t *testing.T) {
	t.Parallel()
	w := newClaimWorld(t)
	d := w.digest()
	w.holdClaim(t, d, 10*time.Second, delivery.StatePublishing)
	d.Wait = func(context.Context, time.Duration) error {
		w.holdClaim(t, d, 0, delivery.StatePublished)
		return nil
	}
	sent, err := delivery.PublishOnce(context.Background(), w.store, w.topic, d)
	if err != nil || sent.Outcome != delivery.AlreadyPublished || len(w.sim.Published()) != 0 {
		t.Fatalf("holder published during the wait: %+v, %v, %d digests sent by this run", sent, err, len(w.sim.Published()))
	}
}

// TestHolderThatReleasesDuringTheWaitLeavesTheDigestToUs: the holder's publish failed and it removed its claim while
// this run waited. The execution role cannot list the bucket unconditionally, so the GET of the vanished marker is
// 403, not NoSuchKey; the run claims afresh and publishes.
func TestHolderThatReleasesDuringTheWaitLeavesTheDigestToUs(t *testing.T) {
	t.Parallel()
	w := newClaimWorld(t)
	d := w.digest()
	w.holdClaim(t, d, 10*time.Second, delivery.StatePublishing)
	d.Wait = func(ctx context.Context, _ time.Duration) error {
		_, err := w.store.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(d.MarkerKey)})
		return err
	}
	sent, err := delivery.PublishOnce(context.Background(), w.store, w.topic, d)
	if err != nil || sent.Outcome != delivery.Published || sent.TookOver || len(w.sim.Published()) != 1 {
		t.Fatalf("holder released during the wait: %+v, %v, %d digests", sent, err, len(w.sim.Published()))
	}
}

// vanishingStore removes the marker right after a claim finds it taken, as a holder whose publish failed does: the
// read that follows races the release.
type vanishingStore struct {
	*s3.Client
	vanished bool
}

func (v *vanishingStore) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	out, err := v.Client.PutObject(ctx, in, opts...)
	if awserr.ConditionFailed(err) && !v.vanished {
		v.vanished = true
		if _, derr := v.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: in.Bucket, Key: in.Key}); derr != nil {
			return nil, derr
		}
	}
	return out, err
}

// TestMarkerThatVanishesBeforeItIsReadIsClaimed: the claim finds a marker, which is released before it is read. S3
// answers that read 403 (no unconditioned s3:ListBucket), which is the race, not a refusal: the run claims afresh.
func TestMarkerThatVanishesBeforeItIsReadIsClaimed(t *testing.T) {
	t.Parallel()
	w := newClaimWorld(t)
	d := w.digest()
	w.holdClaim(t, d, 10*time.Second, delivery.StatePublishing)
	d.Wait = func(context.Context, time.Duration) error { t.Error("waited for a claim that was gone"); return nil }
	store := &vanishingStore{Client: w.store}
	sent, err := delivery.PublishOnce(context.Background(), store, w.topic, d)
	if err != nil || sent.Outcome != delivery.Published || len(w.sim.Published()) != 1 {
		t.Fatalf("a marker released before it was read: %+v, %v, %d digests", sent, err, len(w.sim.Published()))
	}
	if !store.vanished {
		t.Fatal("the race was not played")
	}
}

// TestLiveClaimPastTheDeadlineFailsTheRun: when the lease outlasts the invocation, waiting is pointless; the run
// fails with ClaimHeldError (so Lambda retries it, and the alarms say so) and sends nothing.
func TestLiveClaimPastTheDeadlineFailsTheRun(t *testing.T) {
	t.Parallel()
	w := newClaimWorld(t)
	d := w.digest()
	w.holdClaim(t, d, 10*time.Second, delivery.StatePublishing)
	d.Wait = func(context.Context, time.Duration) error { t.Error("waited past the deadline"); return nil }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sent, err := delivery.PublishOnce(ctx, w.store, w.topic, d)
	var held *delivery.ClaimHeldError
	if !errors.As(err, &held) || sent.Outcome == delivery.Published || len(w.sim.Published()) != 0 {
		t.Fatalf("a live claim past the deadline: %+v, %v, %d digests", sent, err, len(w.sim.Published()))
	}
	if m := w.marker(t, d); m.State != delivery.StatePublishing || !m.ClaimedAt.Equal(w.now.Add(-10*time.Second)) {
		t.Errorf("the holder's marker was changed: %+v", m)
	}
}

// TestRefusedMarkerReadIsNoSuccess: a role that may not read the marker gets 403 for it whether it exists or not, as
// for a marker that vanished. The claim's bounded rounds end that with an error, never a success nor a second digest.
func TestRefusedMarkerReadIsNoSuccess(t *testing.T) {
	t.Parallel()
	w := newClaimWorld(t, awssim.PolicyAction{Template: "management.yaml", Role: "ExecutionRole", Sid: "SettleDigestMarker", Action: "s3:GetObject"})
	d := w.digest()
	w.holdClaim(t, d, 10*time.Second, delivery.StatePublishing)
	d.Wait = func(context.Context, time.Duration) error {
		t.Error("waited for a claim it could not read")
		return nil
	}
	sent, err := delivery.PublishOnce(context.Background(), w.store, w.topic, d)
	if err == nil || sent.Outcome != "" || len(w.sim.Published()) != 0 || !awserr.IsAccessDenied(err) {
		t.Fatalf("an unreadable marker: %+v, %v, %d digests; want the refusal as the error", sent, err, len(w.sim.Published()))
	}
	t.Log(err)
}

// An alert's marker is the event's own, per channel, dated by the event: two channels of one event, or one event on
// two days' prefixes, never share one.
func TestAlertMarkerKey(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 6, 23, 59, 0, 0, time.FixedZone("x", -3600))
	if got, want := delivery.AlertMarkerKey("/orgaudit/", at, "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "topic"),
		"orgaudit/published/alerts/2026/12/07/6a7e8feb-b491-4cf7-a9f1-bf3703467718/topic.json"; got != want {
		t.Errorf("key %q, want %q", got, want)
	}
	if got := delivery.AlertMarkerKey("", at, "e", "email"); got != "published/alerts/2026/12/07/e/email.json" {
		t.Errorf("key without a prefix %q", got)
	}
}
