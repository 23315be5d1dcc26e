package delivery

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"
)

// claimWorkers bounds the S3 calls SendOnceEach makes at once.
const claimWorkers = 16

// AlertMarkerKey is where the event-driven path records that one event's alert went out on one channel (the topic,
// an email): prefix/published/alerts/YYYY/MM/DD/<event id>/<channel>.json, dated by the event. Each event has a
// marker of its own, so that a retry of a batch of events sends only those whose alert did not go out. The event id
// is EventBridge's, which the decoder checks before a key is made of it.
func AlertMarkerKey(prefix string, eventTime time.Time, eventID, channel string) string {
	return path.Join(strings.Trim(prefix, "/"), "published", "alerts", eventTime.UTC().Format("2006/01/02"), eventID, channel+".json")
}

// SendOnceEach sends one message for several claims (one grouped alert for many events) and answers for each claim
// as SendOnce does. Each claim is taken as SendOnce takes it; those another invocation published are
// AlreadyPublished, those that cannot be taken get their error; send is called once, with the indexes of the claims
// this invocation holds, and only when it holds any. A failed send releases every claim it held, so a retry sends
// those events again, and no other; a successful one marks each published. A claim without a bucket is sent
// unguarded, as SendOnce sends it.
func SendOnceEach(ctx context.Context, store MarkerStore, claims []Claim, send func(ctx context.Context, held []int) (string, error)) ([]Sent, []error) {
	sents, errs := make([]Sent, len(claims)), make([]error, len(claims))
	etags, at := make([]string, len(claims)), make([]time.Time, len(claims))
	mine := make([]bool, len(claims))
	lease := DefaultLease
	for i := range claims {
		claims[i].setDefaults()
		lease = min(lease, claims[i].Lease)
	}
	// The claims are independent objects: taken side by side, a burst of hundreds of events costs a few rounds of S3
	// calls rather than hundreds.
	var g errgroup.Group
	g.SetLimit(claimWorkers)
	for i := range claims {
		g.Go(func() error {
			d := claims[i]
			if d.Bucket == "" {
				mine[i] = true
				return nil
			}
			etag, claimedAt, outcome, tookOver, err := claim(ctx, store, d)
			switch {
			case err != nil:
				errs[i] = err
			case outcome != "":
				sents[i].Outcome = outcome
			default:
				etags[i], at[i], sents[i].TookOver, mine[i] = etag, claimedAt, tookOver, true
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines record their errors by claim and return nil
	var held []int
	for i, ok := range mine {
		if ok {
			held = append(held, i)
		}
	}
	if len(held) == 0 {
		return sents, errs
	}
	// Every holder gives up well within the shortest lease, so none of its claims is taken over while it publishes.
	pubCtx, cancel := context.WithTimeout(ctx, lease/2)
	id, err := send(pubCtx, held)
	cancel()
	settle, cancelSettle := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancelSettle()
	for _, i := range held {
		g.Go(func() error {
			d := claims[i]
			if err != nil {
				errs[i] = err
				if d.Bucket != "" {
					if rerr := release(settle, store, d); rerr != nil {
						errs[i] = errors.Join(err, rerr)
					}
				}
				return nil
			}
			sents[i].Outcome, sents[i].MessageID = Published, id
			if d.Bucket == "" {
				return nil
			}
			publishedAt := d.Now().UTC()
			done := Marker{RunID: d.RunID, Trigger: d.Trigger, State: StatePublished, ClaimedAt: at[i], PublishedAt: &publishedAt, MessageID: id}
			if _, merr := putMarker(settle, store, d, done, aws.String(etags[i]), nil); merr != nil {
				sents[i].MarkErr = fmt.Errorf("mark s3://%s/%s published: %w", d.Bucket, d.MarkerKey, merr)
			}
			return nil
		})
	}
	_ = g.Wait()
	return sents, errs
}
