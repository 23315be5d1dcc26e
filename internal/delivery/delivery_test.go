package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

func TestKey(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for prefix, want := range map[string]string{"orgaudit": "orgaudit/2026/11/22/orgaudit-manual-r1.xlsx", "/a/b/": "a/b/2026/11/22/orgaudit-manual-r1.xlsx", "": "2026/11/22/orgaudit-manual-r1.xlsx"} {
		if got := delivery.Key(prefix, at, "manual", "r1"); got != want {
			t.Errorf("Key(%q) = %q, want %q", prefix, got, want)
		}
	}
}

func TestLinkExpiryIsTheTrueOne(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(time.Now()))
	ctx := context.Background()
	base := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	client := s3.NewFromConfig(base, func(o *s3.Options) { o.UsePathStyle = true })

	// Long-term credentials: the link lives as long as asked.
	up, err := delivery.PutWorkbook(ctx, client, base.Credentials, delivery.Upload{Bucket: awssim.DemoBucket, Key: "a.xlsx", Filename: "a.xlsx", URLExpiry: 48 * time.Hour}, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(up.URLExpiresAt); d > 48*time.Hour || d < 47*time.Hour || up.URLNote != "" || expiresParam(t, up.URL) != 48*3600 {
		t.Errorf("long-term: %+v", up)
	}

	// Role credentials for 15 minutes: the link dies with the session, and says so.
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), "arn:aws:iam::222222222222:role/"+awssim.DemoRoleName, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID, o.Duration, o.RoleSessionName = aws.String(awssim.DemoExternalID), 15*time.Minute, "presign"
	})
	session := aws.NewCredentialsCache(provider)
	creds, err := session.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	up, err = delivery.PutWorkbook(ctx, client, session, delivery.Upload{Bucket: awssim.DemoBucket, Key: "b.xlsx", Filename: "b.xlsx", URLExpiry: 7 * 24 * time.Hour, KMSKeyID: "alias/orgaudit"}, []byte("y"))
	if err != nil {
		t.Fatal(err)
	}
	if d := up.URLExpiresAt.Sub(creds.Expires); d > time.Second || d < -2*time.Second || up.URLNote == "" {
		t.Errorf("role session: link expires %v, session %v, note %q", up.URLExpiresAt, creds.Expires, up.URLNote)
	}
	if got := expiresParam(t, up.URL); got > 15*60 || got < 14*60 {
		t.Errorf("X-Amz-Expires %d, want the session's remaining ~900s", got)
	}
	if u := sim.Uploads(); len(u) != 2 || u[0].ServerSideEncryption != "AES256" || u[1].ServerSideEncryption != "aws:kms" {
		t.Errorf("uploads %+v", u)
	}
}

func expiresParam(t *testing.T, link string) int {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(u.Query().Get("X-Amz-Expires"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTakersOfAStaleClaimCannotBothWin: a dead invocation left its claim; several retries find it stale at once.
// The conditional overwrite lets exactly one of them publish; the others find the winner's live claim, wait out its
// lease (by whose end a live holder has settled: here, until the marker says published) and send nothing.
func TestTakersOfAStaleClaimCannotBothWin(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	sim := testkit.StartSim(t, awssim.Demo(now))
	ctx := context.Background()
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	store := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	d := delivery.Digest{TopicARN: awssim.DemoTopicARN(), Subject: "orgaudit test", Body: "body", Claim: delivery.Claim{RunID: "r1", Trigger: "scheduled",
		Bucket: awssim.DemoBucket, MarkerKey: delivery.MarkerKey("orgaudit", now, "scheduled", "r1"),
		Now: func() time.Time { return now.Add(delivery.DefaultLease + time.Second) }}}
	d.Wait = func(ctx context.Context, _ time.Duration) error {
		for ctx.Err() == nil {
			var m delivery.Marker
			if body, err := sim.Object(d.Bucket, d.MarkerKey); err == nil && json.Unmarshal(body, &m) == nil && m.State == delivery.StatePublished {
				return nil
			}
			time.Sleep(time.Millisecond)
		}
		return ctx.Err()
	}
	stale, _ := json.Marshal(delivery.Marker{RunID: "r1", Trigger: "scheduled", State: delivery.StatePublishing, ClaimedAt: now})
	if _, err := store.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(d.MarkerKey), Body: bytes.NewReader(stale)}); err != nil {
		t.Fatal(err)
	}
	const takers = 8
	outcomes := make([]delivery.Sent, takers)
	var wg sync.WaitGroup
	for i := range takers {
		wg.Go(func() {
			var err error
			if outcomes[i], err = delivery.PublishOnce(ctx, store, sns.NewFromConfig(cfg), d); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	won := 0
	for _, o := range outcomes {
		switch o.Outcome {
		case delivery.Published:
			won++
			if !o.TookOver || o.MarkErr != nil {
				t.Errorf("winner %+v", o)
			}
		case delivery.AlreadyPublished:
		default:
			t.Errorf("a taker ended %+v, want published or already published", o)
		}
	}
	if won != 1 || len(sim.Published()) != 1 {
		t.Fatalf("%d takers won, %d digests: %+v", won, len(sim.Published()), outcomes)
	}
	body, err := sim.Object(d.Bucket, d.MarkerKey)
	var m delivery.Marker
	if err != nil || json.Unmarshal(body, &m) != nil || m.State != delivery.StatePublished || m.MessageID != sim.Published()[0].MessageID {
		t.Errorf("marker after publishing: %s (%v)", body, err)
	}
}

func TestMessageMarkerKeysAreDistinctAndSafe(t *testing.T) {
	day := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	seen := map[string]string{delivery.MarkerKey("orgaudit", day, "scheduled", "r1"): "the run's digest"}
	for _, m := range []string{"owner/team-a", "owner/Team A", "owner/team_a", "owner/ops@example.com", "email/organization", "owner/../../x", "owner/" + strings.Repeat("é", 200)} {
		k := delivery.MessageMarkerKey("orgaudit/", day, "scheduled", "r1", m)
		if prev, dup := seen[k]; dup {
			t.Fatalf("%q and %q share marker key %s", m, prev, k)
		}
		seen[k] = m
		if !strings.HasPrefix(k, "orgaudit/published/2026/11/23/scheduled-r1/") || strings.Contains(k, "..") || len(k) > 1024 {
			t.Errorf("marker key for %q is %q: want it under the run's folder, with no '..', within S3's 1024 bytes", m, k)
		}
	}
}
