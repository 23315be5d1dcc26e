package history

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3API is what the S3 store calls: s3:PutObject and s3:GetObject on <prefix>/history/*, s3:ListBucket limited to
// that prefix (and kms:GenerateDataKey / kms:Decrypt with a KMS key). *s3.Client satisfies it.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	s3.ListObjectsV2APIClient
}

// S3Location says where history lives in the report bucket and how it is encrypted.
type S3Location struct {
	Bucket string
	Prefix string // the report prefix; history goes under <prefix>/history/
	// KMSKeyID encrypts with this key (aws:kms); AES256 (SSE-S3) when empty, as the workbook.
	KMSKeyID string
	// Lookback bounds how far back Previous looks; 0 means DefaultLookback.
	Lookback time.Duration
}

// NewS3Store keeps history in the report bucket.
func NewS3Store(client S3API, loc S3Location) Store {
	if loc.Lookback <= 0 {
		loc.Lookback = DefaultLookback
	}
	base := strings.Trim(loc.Prefix, "/")
	if base != "" {
		base += "/"
	}
	return &store{objects: s3Objects{client: client, loc: loc, base: base}, lookback: loc.Lookback}
}

type s3Objects struct {
	client S3API
	loc    S3Location
	base   string
}

func (o s3Objects) where(key string) string { return "s3://" + o.loc.Bucket + "/" + o.base + key }

// list reads the history prefix from the first day's keys on, and stops past the last day: one listing serves a
// window of any length, and days without runs cost nothing.
func (o s3Objects) list(ctx context.Context, from, to time.Time) ([]string, error) {
	prefix := o.base + "history/"
	last := dayOf(to).Format("2006/01/02")
	p := s3.NewListObjectsV2Paginator(o.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(o.loc.Bucket), Prefix: aws.String(prefix),
		// Keys of the first day ("…/2026/11/20/x") sort after the bare date.
		StartAfter: aws.String(prefix + dayOf(from).Format("2006/01/02")),
	}, func(po *s3.ListObjectsV2PaginatorOptions) { po.StopOnDuplicateToken = true })
	var keys []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, obj := range page.Contents {
			k := strings.TrimPrefix(aws.ToString(obj.Key), o.base)
			if day, ok := dayOfKey(k); ok && day > last {
				return keys, nil
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func (o s3Objects) open(ctx context.Context, key string, head bool) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(o.loc.Bucket), Key: aws.String(o.base + key)}
	if head {
		in.Range = aws.String(fmt.Sprintf("bytes=0-%d", headBytes-1))
	}
	out, err := o.client.GetObject(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

func (o s3Objects) put(ctx context.Context, key string, body []byte) error {
	in := &s3.PutObjectInput{
		Bucket: aws.String(o.loc.Bucket), Key: aws.String(o.base + key), Body: bytes.NewReader(body),
		// Not Content-Encoding: gzip, which some clients would inflate on download and leave misnamed.
		ContentType:          aws.String("application/gzip"),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256,
	}
	if o.loc.KMSKeyID != "" {
		in.ServerSideEncryption, in.SSEKMSKeyId = s3types.ServerSideEncryptionAwsKms, aws.String(o.loc.KMSKeyID)
	}
	_, err := o.client.PutObject(ctx, in)
	return err
}
