package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/orgaudit/orgaudit/internal/delivery"
)

// Delivery is where a run's report goes: the bucket and its link, the topics and the digest's form.
type Delivery struct {
	Bucket   string
	Prefix   string
	KMSKeyID string
	// BucketRegion is the report bucket's region when the deployment knows it (the template sets the stack's); empty
	// finds it with HeadBucket, as the CLI does for a bucket in another region.
	BucketRegion string
	// S3PathStyle addresses buckets by path, for S3-compatible endpoints such as the simulator and moto.
	S3PathStyle bool
	TopicARN    string
	// OwnerTopicARN takes owners' digests, apart from the organization's on TopicARN, whose subscribers (the
	// operator) must not get them; empty: TopicARN, where only their message attributes tell them apart.
	OwnerTopicARN string
	URLExpiry     time.Duration
	// LinkRoleARN is a role assumed to sign the workbook's link, so the link lives as long as that session, which STS
	// states; empty signs with the run's own credentials.
	LinkRoleARN string
	// Digest is full (every open item) or changes (open items only as counts per check).
	Digest string
	// OwnerDigests caps the owners' digests of their own a run publishes beside the organization's (most severe
	// owners first); the organization's digest names the owners past it. 0 sends none.
	OwnerDigests int
	DryRun       bool
}

// Digest forms.
const (
	DigestFull    = "full"
	DigestChanges = "changes"
)

// DefaultOwnerDigests is the default cap on owner digests a run: a hundred publishes and claims fit in the delivery
// margin, and an organization with more owners than that reads their names in its own digest.
const DefaultOwnerDigests = 100

// maxOwnerDigests bounds the cap: every owner digest is a claim and a publish, one after another, within the
// invocation's delivery margin.
const maxOwnerDigests = 1000

var (
	// kmsKeyID is a key id: a UUID, or mrk- and 32 hex digits for a multi-Region key; kmsAlias an alias name.
	kmsKeyID = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	kmsAlias = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]{1,250}$`)
)

// Validate checks where the report goes and reports all its problems at once.
func (d Delivery) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if d.OwnerDigests < 0 || d.OwnerDigests > maxOwnerDigests {
		bad("owner digests must be between 0 and %d, got %d", maxOwnerDigests, d.OwnerDigests)
	}
	if d.BucketRegion != "" && !regionName.MatchString(d.BucketRegion) {
		bad("bucket region %q is not a region name like eu-west-1", d.BucketRegion)
	}
	if d.Bucket != "" && !bucketName.MatchString(d.Bucket) {
		bad("bucket %q is not a valid S3 bucket name", d.Bucket)
	}
	if err := validPrefix(d.Prefix); err != nil {
		errs = append(errs, err)
	}
	if d.KMSKeyID != "" && !validKMSKey(d.KMSKeyID) {
		bad("KMS key %q must be a key id, a multi-Region key id (mrk-...), an alias/name, or the ARN of one", d.KMSKeyID)
	}
	if d.TopicARN != "" {
		if a, err := arn.Parse(d.TopicARN); err != nil || a.Service != "sns" || a.Resource == "" {
			bad("topic %q is not an SNS topic ARN", d.TopicARN)
		}
	}
	if d.OwnerTopicARN != "" {
		// One SNS client publishes both, and SNS answers only for topics of its own region.
		a, err := arn.Parse(d.OwnerTopicARN)
		t, terr := arn.Parse(d.TopicARN)
		switch {
		case err != nil || a.Service != "sns" || a.Resource == "":
			bad("owner topic %q is not an SNS topic ARN", d.OwnerTopicARN)
		case d.TopicARN == "":
			bad("owner topic %q is set without a digest topic", d.OwnerTopicARN)
		case terr == nil && (a.Region != t.Region || a.AccountID != t.AccountID):
			bad("owner topic %q must be in the digest topic's account and region (%s, %s)", d.OwnerTopicARN, t.AccountID, t.Region)
		default:
			// A topic of its own beside the digest topic (a malformed digest topic is reported above).
		}
	}
	if d.LinkRoleARN != "" {
		if a, err := arn.Parse(d.LinkRoleARN); err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
			bad("link role %q is not an IAM role ARN", d.LinkRoleARN)
		}
	}
	if d.URLExpiry < time.Minute || d.URLExpiry > delivery.MaxPresignExpiry {
		bad("link expiry must be between 1m and %s", delivery.MaxPresignExpiry)
	}
	if d.Digest != DigestFull && d.Digest != DigestChanges {
		bad("digest %q must be %s or %s", d.Digest, DigestFull, DigestChanges)
	}
	return errors.Join(errs...)
}

// OwnerDigestTopic is where owners' digests go: their own topic, so that the operator's subscription to the digest
// topic, which must take every alarm and so can have no filter policy (SNS matches none against an alarm, which
// carries no attributes), never gets them. Without one they share the digest topic, told apart by the audience
// attribute, as before the template had a topic for them.
func (d Delivery) OwnerDigestTopic() string {
	if d.OwnerTopicARN != "" {
		return d.OwnerTopicARN
	}
	return d.TopicARN
}

// validPrefix refuses a report prefix that would put the workbooks and markers outside the folder it names: S3 keys
// are built with path.Join, which reads "." and ".." as directories, so "." writes beside the prefix the policies
// grant and ".." above it. Leading and trailing slashes are dropped, as the keys drop them.
func validPrefix(prefix string) error {
	trimmed := strings.Trim(prefix, "/")
	if trimmed == "" {
		return fmt.Errorf("report prefix %q is empty: name a folder such as orgaudit", prefix)
	}
	for _, seg := range strings.Split(trimmed, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf(`report prefix %q: no part of it may be empty, "." or ".."`, prefix)
		}
	}
	return nil
}

// validKMSKey accepts what S3 takes as SSEKMSKeyId: a key id, an alias name, or the ARN of either.
func validKMSKey(id string) bool {
	if a, err := arn.Parse(id); err == nil {
		if a.Service != "kms" {
			return false
		}
		if k, ok := strings.CutPrefix(a.Resource, "key/"); ok {
			return kmsKeyID.MatchString(k)
		}
		return kmsAlias.MatchString(a.Resource)
	}
	return kmsKeyID.MatchString(id) || kmsAlias.MatchString(id)
}
