// Package delivery is every AWS write of a run and its record: the workbook in S3 and its link, the organization's
// and the owners' digests on SNS (routing to owners), email through SES, each message exactly once. Run.Deliver
// returns what it sent (report.Delivered) and changes nothing of the audit's facts. It imports internal/awserr, which
// classifies AWS's errors, internal/report (the result's types and its renderers) and internal/mail, never
// internal/audit.
package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

// Actions are the IAM actions delivery calls with a deployment's role; KMSActions are added when the workbook is
// encrypted with a KMS key. BucketRegion's HeadBucket is not among them: a deployment names its bucket's region, and
// S3 names it even in a refusal.
var (
	Actions    = []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "sns:Publish"}
	KMSActions = []string{"kms:GenerateDataKey"}
	// TopicKMSActions are what SNS needs of the publisher on the key of a topic encrypted with KMS: it encrypts the
	// message with the publisher's permissions. https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
	TopicKMSActions = []string{"kms:Decrypt", "kms:GenerateDataKey"}
)

// MaxPresignExpiry is the longest a SigV4 presigned URL may live.
const MaxPresignExpiry = 7 * 24 * time.Hour

// ContentType is the workbook's media type.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Upload says where to put a workbook.
type Upload struct {
	Bucket, Key string
	KMSKeyID    string // server-side encryption with this key; AES256 (SSE-S3) when empty
	Filename    string // the name browsers save it under
	URLExpiry   time.Duration
}

// Uploaded is where the workbook went and how long its link works.
type Uploaded struct {
	Bucket, Key, URL, ConsoleURL string
	URLExpiresAt                 time.Time
	// URLNote says why the link dies before the expiry asked for.
	URLNote string
}

// Key is prefix/YYYY/MM/DD/orgaudit-<trigger>-<run id>.xlsx. The trigger is in it as in the digest's MarkerKey, so a
// manual run given the scheduled run's id never writes where the scheduled run's digest links.
func Key(prefix string, runDate time.Time, trigger, runID string) string {
	return path.Join(strings.Trim(prefix, "/"), runDate.UTC().Format("2006/01/02"), "orgaudit-"+trigger+"-"+runID+".xlsx")
}

// MaxWorkbookCopies bounds the workbooks one run keeps beside each other: its first, and one for each later
// invocation of the same run (a Lambda retry, a duplicate delivery, a replayed schedule).
const MaxWorkbookCopies = 20

// besideKey is the key of a run's n-th workbook: "….xlsx", then "…(2).xlsx", "…(3).xlsx". Parentheses are among
// S3's safe key characters and never in a run id, so a copy's key is never another run's first.
func besideKey(key string, n int) string {
	if n <= 1 {
		return key
	}
	return strings.TrimSuffix(key, ".xlsx") + "(" + strconv.Itoa(n) + ").xlsx"
}

// PutWorkbook uploads body with server-side encryption and returns a presigned GET link. A workbook is never
// replaced: a digest or an email may already link it. It is written only where no object is (If-None-Match: *), and
// when the run's key is taken, by an earlier invocation of the same run, it goes beside it (besideKey), so each
// digest's link opens the workbook that digest describes. The link's stated expiry is the true one, read back from
// the signed URL: a URL signed with temporary credentials stops working when they expire, so it is signed for no
// longer than they have left.
func PutWorkbook(ctx context.Context, client *s3.Client, creds aws.CredentialsProvider, up Upload, body []byte) (*Uploaded, error) {
	key, filename, err := putNew(ctx, client, up, body)
	if err != nil {
		return nil, err
	}
	up.Key, up.Filename = key, filename
	return presign(ctx, client, creds, up)
}

// putNew writes body at the first of up.Key's copies (besideKey) that holds nothing yet, and returns that key and the
// name browsers save it under.
func putNew(ctx context.Context, client *s3.Client, up Upload, body []byte) (key, filename string, err error) {
	for n := 1; n <= MaxWorkbookCopies; n++ {
		key, filename = besideKey(up.Key, n), up.Filename
		if n > 1 {
			filename = strings.TrimSuffix(filename, ".xlsx") + "(" + strconv.Itoa(n) + ").xlsx"
		}
		in := &s3.PutObjectInput{
			Bucket: aws.String(up.Bucket), Key: aws.String(key), Body: bytes.NewReader(body), IfNoneMatch: aws.String("*"),
			ContentType:          aws.String(ContentType),
			ContentDisposition:   aws.String(fmt.Sprintf("attachment; filename=%q", filename)),
			ServerSideEncryption: s3types.ServerSideEncryptionAes256,
		}
		if up.KMSKeyID != "" {
			in.ServerSideEncryption, in.SSEKMSKeyId = s3types.ServerSideEncryptionAwsKms, aws.String(up.KMSKeyID)
		}
		_, err = client.PutObject(ctx, in)
		if err == nil {
			return key, filename, nil
		}
		// 412: the key holds a workbook. 409: another write to it was in flight, which may have taken it; the next
		// key is as good, and never overwrites.
		if !awserr.ConditionFailed(err) {
			return "", "", fmt.Errorf("put s3://%s/%s: %w", up.Bucket, key, err)
		}
	}
	return "", "", fmt.Errorf("put s3://%s/%s: the run already has %d workbooks there, none of which may be replaced; give the run a new id", up.Bucket, up.Key, MaxWorkbookCopies)
}

// presign signs a GET of up.Key for as long as up asks and the signing credentials allow.
func presign(ctx context.Context, client *s3.Client, creds aws.CredentialsProvider, up Upload) (*Uploaded, error) {
	expiry := up.URLExpiry
	if expiry <= 0 || expiry > MaxPresignExpiry {
		expiry = MaxPresignExpiry
	}
	// Sign with the very credentials whose lifetime we check, so a refresh in between cannot change the answer.
	signing, err := creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials for presigning: %w", err)
	}
	note := ""
	// The signer reads the wall clock, so the session's remaining life is measured against it too.
	if left := time.Until(signing.Expires).Truncate(time.Second); signing.CanExpire && left < expiry {
		if left < time.Minute {
			return nil, fmt.Errorf("presign s3://%s/%s: the signing credentials expire in %s", up.Bucket, up.Key, left)
		}
		expiry, note = left, "signed with temporary credentials, the link expires with their session"
	}
	presigner := s3.NewPresignClient(client, func(o *s3.PresignOptions) {
		o.Expires = expiry
		o.ClientOptions = append(o.ClientOptions, func(co *s3.Options) { co.Credentials = staticProvider{signing} })
	})
	req, err := presigner.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(up.Bucket), Key: aws.String(up.Key)})
	if err != nil {
		return nil, fmt.Errorf("presign s3://%s/%s: %w", up.Bucket, up.Key, err)
	}
	expiresAt, err := linkExpiry(req.URL)
	if err != nil {
		return nil, fmt.Errorf("presign s3://%s/%s: %w", up.Bucket, up.Key, err)
	}
	region := client.Options().Region
	return &Uploaded{
		Bucket: up.Bucket, Key: up.Key, URL: req.URL, URLExpiresAt: expiresAt, URLNote: note,
		ConsoleURL: fmt.Sprintf("https://s3.console.aws.amazon.com/s3/object/%s?region=%s&prefix=%s", up.Bucket, region, url.QueryEscape(up.Key)),
	}, nil
}

// linkExpiry reads X-Amz-Date + X-Amz-Expires out of a SigV4 presigned URL.
func linkExpiry(link string) (time.Time, error) {
	u, err := url.Parse(link)
	if err != nil {
		return time.Time{}, err
	}
	q := u.Query()
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("presigned URL has no valid X-Amz-Date: %w", err)
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil {
		return time.Time{}, fmt.Errorf("presigned URL has no valid X-Amz-Expires: %w", err)
	}
	return signed.Add(time.Duration(secs) * time.Second).UTC(), nil
}

type staticProvider struct{ c aws.Credentials }

func (p staticProvider) Retrieve(context.Context) (aws.Credentials, error) { return p.c, nil }

// Publisher is the one SNS call delivery needs.
type Publisher interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// MarkerKey is where a run records that its digest went out: prefix/published/YYYY/MM/DD/<trigger>-<run id>.json.
// The run's date and trigger are in it so a manual run id reused on another day mails again, and a manual run can
// never answer for a scheduled run that happens to share its id.
func MarkerKey(prefix string, runDate time.Time, trigger, runID string) string {
	return path.Join(strings.Trim(prefix, "/"), "published", runDate.UTC().Format("2006/01/02"), trigger+"-"+runID+".json")
}

// MessageMarkerKey is where a run records that one more of its messages went out (an owner's digest, an email):
// beside the run's MarkerKey, prefix/published/YYYY/MM/DD/<trigger>-<run id>/<message>.json. A message name may be
// anything (an owner is an email address or a team name), so it is kept readable where S3 keys are safe and made
// unique by a hash of the whole name.
func MessageMarkerKey(prefix string, runDate time.Time, trigger, runID, message string) string {
	safe := []byte(message)
	for i, c := range safe {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '@') {
			safe[i] = '-'
		}
	}
	sum := sha256.Sum256([]byte(message))
	name := string(safe[:min(len(safe), 100)]) + "-" + hex.EncodeToString(sum[:6]) + ".json"
	return path.Join(strings.Trim(prefix, "/"), "published", runDate.UTC().Format("2006/01/02"), trigger+"-"+runID, name)
}

// BucketRegion finds the region a bucket lives in, for clients and presigned links addressed there rather than the
// SDK's default region. S3 names it in x-amz-bucket-region on every HeadBucket answer, the 301 a client in the wrong
// region gets included, so an error that carries the header still answers. An endpoint that answers 200 without it
// (an S3-compatible store) has one region: the client's.
func BucketRegion(ctx context.Context, client *s3.Client, bucket string) (string, error) {
	out, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		if r := aws.ToString(out.BucketRegion); r != "" {
			return r, nil
		}
		return client.Options().Region, nil
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.Response != nil {
		if r := respErr.Response.Header.Get("X-Amz-Bucket-Region"); r != "" {
			return r, nil
		}
	}
	return "", fmt.Errorf("find the region of bucket %s: %w", bucket, err)
}

// RunObject is one of a distributed run's own objects: its manifest, plan or a shard's partial result.
type RunObject struct {
	Bucket, Key, KMSKeyID, ContentType string
}

// PutRunObject writes body with server-side encryption, as the workbook is written.
func PutRunObject(ctx context.Context, client *s3.Client, o RunObject, body []byte) error {
	in := &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key), Body: bytes.NewReader(body),
		ContentType: aws.String(o.ContentType), ServerSideEncryption: s3types.ServerSideEncryptionAes256}
	if o.KMSKeyID != "" {
		in.ServerSideEncryption, in.SSEKMSKeyId = s3types.ServerSideEncryptionAwsKms, aws.String(o.KMSKeyID)
	}
	if _, err := client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	return nil
}
