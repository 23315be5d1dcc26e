package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

// Attempt is what the first attempt of an invocation records, so that Lambda's retries of it (the same request id,
// the same event, minutes or hours later) are the same run: the same id and the same date in every key, even when
// a retry comes after midnight UTC. A manual event carries no time of its own; this record is the run's.
type Attempt struct {
	RequestID string    `json:"request_id"`
	Trigger   string    `json:"trigger"`
	RunID     string    `json:"run_id"`
	RunTime   time.Time `json:"run_time"`
}

// AttemptKey is where an invocation's first attempt is recorded: prefix/published/requests/<trigger>-<request id>.json,
// beside the digest's markers (the same permissions, the same expiry). A request id is kept readable where S3 keys
// are safe; the record holds it whole.
func AttemptKey(prefix, trigger, requestID string) string {
	safe := []byte(requestID)
	for i, c := range safe {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			safe[i] = '-'
		}
	}
	return path.Join(strings.Trim(prefix, "/"), "published", "requests", trigger+"-"+string(safe[:min(len(safe), 200)])+".json")
}

// maxAttemptBytes bounds what is read back of a record: a few hundred bytes when this job wrote it.
const maxAttemptBytes = 4 << 10

// FirstAttempt records a as its request's first attempt, unless one was recorded already (If-None-Match: *), and
// returns the record that stands: a itself, or the first attempt's, with retried set. A record that is not this
// request's (another request whose id reads the same once made safe for a key, or a damaged object) is an error:
// the caller keeps its own identity.
func FirstAttempt(ctx context.Context, store MarkerStore, bucket, key string, a Attempt) (first Attempt, retried bool, err error) {
	body, err := json.Marshal(a)
	if err != nil {
		return Attempt{}, false, err
	}
	// A duplicate delivery of the event may be writing the record at this moment: its write done, the record reads.
	for range 3 {
		_, err = store.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), IfNoneMatch: aws.String("*"),
			Body: strings.NewReader(string(body)), ContentType: aws.String("application/json"),
			ServerSideEncryption: s3types.ServerSideEncryptionAes256,
		})
		if err == nil {
			return a, false, nil
		}
		if !awserr.ConditionFailed(err) {
			return Attempt{}, false, fmt.Errorf("record the first attempt at s3://%s/%s: %w", bucket, key, err)
		}
		first, err = readAttempt(ctx, store, bucket, key)
		// Without s3:ListBucket a key that is not there (yet) answers 403, not 404.
		if isNotFound(err) || awserr.IsAccessDenied(err) {
			continue
		}
		if err != nil {
			return Attempt{}, false, fmt.Errorf("read the first attempt at s3://%s/%s: %w", bucket, key, err)
		}
		if first.RequestID != a.RequestID || first.Trigger != a.Trigger || first.RunID != a.RunID || first.RunTime.IsZero() {
			return Attempt{}, false, fmt.Errorf("s3://%s/%s records request %q (%s run %q at %s), not this one", bucket, key,
				first.RequestID, first.Trigger, first.RunID, first.RunTime.Format(time.RFC3339))
		}
		return first, true, nil
	}
	return Attempt{}, false, fmt.Errorf("record the first attempt at s3://%s/%s: %w", bucket, key, err)
}

func readAttempt(ctx context.Context, store MarkerStore, bucket, key string) (Attempt, error) {
	out, err := store.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return Attempt{}, err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, maxAttemptBytes+1))
	if err != nil {
		return Attempt{}, err
	}
	if len(body) > maxAttemptBytes {
		return Attempt{}, fmt.Errorf("the record is over %d bytes", maxAttemptBytes)
	}
	var a Attempt
	if err := json.Unmarshal(body, &a); err != nil {
		return Attempt{}, errors.Join(errors.New("the record is not an attempt's"), err)
	}
	return a, nil
}
