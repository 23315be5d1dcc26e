// Package audit is the job: it validates settings, runs the fan-out, builds the report and delivers it. cmd/audit
// is a thin shell over it for the CLI, the demo and Lambda. It imports every internal package below it.
package audit

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
)

// DefaultConcurrency is how many tasks run at once. An audit is latency-bound (one check is one to three calls of
// tens of milliseconds each), so 64 in flight keep a thousand accounts under ten seconds while each member account
// sees only a few calls at a time.
const DefaultConcurrency = 64

// DefaultRoleName is the role deploy/cloudformation creates in every member account.
const DefaultRoleName = "OrgAuditReadOnly"

// Settings are everything one run needs. Deployment defaults come from the environment (Lambda) or flags (CLI);
// a manual event may override some. Validate before any AWS call.
type Settings struct {
	RoleName        string
	ExternalID      string
	SessionName     string
	Regions         []string // names, or ["all"]; empty = the SDK configuration's region
	Accounts        []string
	ExcludeAccounts []string
	Checks          []string // empty = all
	ExpiryDays      [3]int
	StuckAfter      time.Duration
	LapsedDays      int       // how long after its end an unrenewed reservation is still reported
	AsOf            time.Time // zero = now
	Concurrency     int
	Bucket          string
	Prefix          string
	KMSKeyID        string
	TopicARN        string
	URLExpiry       time.Duration
	DryRun          bool
	RunID           string // empty = derived from RunTime or the start time
	// RunTime is when the run was meant to happen: a schedule's fire time. It names the run and dates its object key,
	// so a retried invocation is the same run. Zero = the start time.
	RunTime time.Time
	// Timeout bounds the run (CLI -timeout); under Lambda the invocation deadline does. Zero = none.
	Timeout time.Duration
	// DeliveryMargin is kept free before the deadline for delivery. Zero = a fifth of the time, at most 60s.
	DeliveryMargin time.Duration
	RetryMode      string // standard or adaptive
	MaxAttempts    int    // per API call, first attempt included
	MaxBackoff     time.Duration
	// S3PathStyle addresses buckets by path, for S3-compatible endpoints such as the simulator and moto.
	S3PathStyle bool
	// LinkRoleARN is a role assumed to sign the workbook's link, so the link lives as long as that session, which STS
	// states; empty signs with the run's own credentials.
	LinkRoleARN string
	// BucketRegion is the report bucket's region when the deployment knows it (the template sets the stack's); empty
	// finds it with HeadBucket, as the CLI does for a bucket in another region.
	BucketRegion string
	// AllowOwnAccountFallback lets a run that cannot list the organization audit the caller's own account, saying
	// "own account only". The CLI allows it; under Lambda (FromEnv) it is off, so a lost organizations:ListAccounts
	// fails the run and its alarm fires instead of mailing "1/1 accounts".
	AllowOwnAccountFallback bool
	// Trigger is what started the run: scheduled, manual (a Lambda invocation with an override) or cli. It is part
	// of the digest's exactly-once marker, so a manual run never answers for a scheduled one.
	Trigger string
	// StateDir keeps run history in this local directory instead of the report bucket (the CLI's -state-dir, by
	// default .orgaudit when there is no -bucket; the demo's is temporary). Empty with no bucket: no history.
	StateDir string
	// StateDirByOrganization keeps each organization's history in a directory of its own under StateDir
	// (history.NewOrganizationDirStore): the CLI's default directory, shared by whatever is audited from one working
	// directory.
	StateDirByOrganization bool
	// NoHistory ignores history: nothing read, nothing stored, no diff (Result.Changes nil).
	NoHistory bool
	// Suppressions is the suppressions file: a local path or s3://bucket/key; empty for none.
	Suppressions string
	// SuppressionsIfExists makes a missing Suppressions file mean "no suppressions" rather than a warning: the
	// Lambda's default, <prefix>/suppressions.yaml in the report bucket, need not exist.
	SuppressionsIfExists bool
	// Digest is full (every open item) or changes (open items only as counts per check).
	Digest string
	// OwnerDigests caps the owners' digests of their own a run publishes beside the organization's (most severe
	// owners first); the organization's digest names the owners past it. 0 sends none.
	OwnerDigests int
	// OwnerTopicARN takes owners' digests, apart from the organization's on TopicARN, whose subscribers (the
	// operator) must not get them; empty: TopicARN, where only their message attributes tell them apart.
	OwnerTopicARN string
	// EmailFrom and EmailTo turn on email through SES: the organization's email, with the workbook, goes from
	// EmailFrom (an address, optionally with a display name, of a verified SES identity) to EmailTo, and each owner
	// whose owner value is an email address gets an email of their own. Email is off unless both are set.
	EmailFrom string
	EmailTo   []string
	// EmailRegion is the SES region the identity is verified in; empty is the SDK configuration's region.
	EmailRegion string
	// OwnerTagKey is the account tag naming each account's owner; empty reads no tags (every account is owned by its
	// OU path). OwnerTagBudget bounds the tag reads of one run, OwnerTagRate their pace (per second).
	OwnerTagKey    string
	OwnerTagBudget int
	OwnerTagRate   float64
	// ShardSize is how many accounts one shard of a distributed run audits (internal/distributed).
	ShardSize int
}

// DefaultShardSize is the accounts of one shard of a distributed run: at 150 calls an account and a few hundred
// milliseconds a call, fifty accounts end well inside one invocation's 15 minutes. maxShardSize keeps a shard, which
// Step Functions hands to its Lambda as the state's input, far under the 256 KB payload limit (about 150 bytes an
// account).
const (
	DefaultShardSize = 50
	maxShardSize     = 1000
)

// DefaultOwnerDigests is the default cap on owner digests a run: a hundred publishes and claims fit in the delivery
// margin, and an organization with more owners than that reads their names in its own digest.
const DefaultOwnerDigests = 100

// maxOwnerDigests bounds the cap: every owner digest is a claim and a publish, one after another, within the
// invocation's delivery margin.
const maxOwnerDigests = 1000

// EmailOn says the run emails its digest through SES.
func (s Settings) EmailOn() bool { return s.EmailFrom != "" && len(s.EmailTo) > 0 }

// Digest forms.
const (
	DigestFull    = "full"
	DigestChanges = "changes"
)

// SuppressionsKey is the Lambda's default suppressions file, under the report prefix.
func SuppressionsKey(prefix string) string { return strings.Trim(prefix, "/") + "/suppressions.yaml" }

// Triggers of a run.
const (
	TriggerScheduled = "scheduled"
	TriggerManual    = "manual"
	TriggerCLI       = "cli"
)

// Defaults returns the documented defaults.
func Defaults() Settings {
	l := checks.DefaultLimits()
	return Settings{RoleName: DefaultRoleName, SessionName: "orgaudit", ExpiryDays: l.Expiry, StuckAfter: l.StuckAfter, LapsedDays: l.LapsedDays,
		Concurrency: DefaultConcurrency, Prefix: "orgaudit", URLExpiry: delivery.MaxPresignExpiry,
		RetryMode: RetryStandard, MaxAttempts: 8, MaxBackoff: 20 * time.Second, Trigger: TriggerCLI,
		AllowOwnAccountFallback: true, Digest: DigestFull, OwnerDigests: DefaultOwnerDigests,
		ShardSize:   DefaultShardSize,
		OwnerTagKey: crossaccount.DefaultOwnerTagKey, OwnerTagBudget: crossaccount.DefaultOwnerTagBudget, OwnerTagRate: crossaccount.DefaultOwnerTagRate}
}

// maxOwnerTagBudget and maxOwnerTagRate bound the owner tag settings: Organizations holds at most 10,000 accounts by
// quota, and a rate past a few dozen a second only buys TooManyRequestsException.
const (
	maxOwnerTagBudget = 10_000
	maxOwnerTagRate   = 50
)

// tagKey is an Organizations tag key as botocore's model gives it (TagKey: 1 to 128 characters of these).
var tagKey = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)

var (
	accountID  = regexp.MustCompile(`^\d{12}$`)
	regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	roleName   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	externalID = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	runID      = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,80}$`)
	// kmsKeyID is a key id: a UUID, or mrk- and 32 hex digits for a multi-Region key; kmsAlias an alias name.
	kmsKeyID = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	kmsAlias = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]{1,250}$`)
)

// minAsOf and maxAsOfYearsAhead bound -as-of: anything outside is a typo (a year 20266, a day 0026), not an audit.
var minAsOf = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const maxAsOfYearsAhead = 10

// Normalized returns s with every list holding each item once, in first-named order: a region or account named twice
// is audited once, whichever way it came (flags, environment, event).
func (s Settings) Normalized() Settings {
	s.Regions, s.Accounts, s.ExcludeAccounts, s.Checks = dedupe(s.Regions), dedupe(s.Accounts), dedupe(s.ExcludeAccounts), dedupe(s.Checks)
	s.EmailTo = dedupe(s.EmailTo)
	return s
}

// Validate checks every setting and reports all problems at once.
func (s Settings) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !roleName.MatchString(s.RoleName) {
		bad("role name %q is not a valid IAM role name", s.RoleName)
	}
	if s.ExternalID != "" && (len(s.ExternalID) < 2 || len(s.ExternalID) > 1224 || !externalID.MatchString(s.ExternalID)) {
		bad("external id must be 2-1224 characters of letters, digits and +=,.@:/-")
	}
	if len(s.SessionName) < 2 || len(s.SessionName) > 64 || !roleName.MatchString(s.SessionName) {
		bad("session name %q must be 2-64 characters of letters, digits and +=,.@-", s.SessionName)
	}
	for _, r := range s.Regions {
		if r == crossaccount.AllRegions {
			if len(s.Regions) > 1 {
				bad("regions: %q cannot be combined with named regions", crossaccount.AllRegions)
			}
			continue
		}
		if !regionName.MatchString(r) {
			bad("region %q is not a region name like eu-west-1", r)
		}
	}
	for _, list := range [][]string{s.Accounts, s.ExcludeAccounts} {
		for _, a := range list {
			if !accountID.MatchString(a) {
				bad("account id %q must be 12 digits", a)
			}
		}
	}
	for _, a := range dedupe(s.Accounts) {
		if slices.Contains(s.ExcludeAccounts, a) {
			bad("account %s is both included and excluded", a)
		}
	}
	if !s.AsOf.IsZero() && (s.AsOf.Before(minAsOf) || s.AsOf.After(time.Now().AddDate(maxAsOfYearsAhead, 0, 0))) {
		bad("as-of %s must lie between %s and %d years from now", s.AsOf.Format(time.RFC3339), minAsOf.Format("2006-01-02"), maxAsOfYearsAhead)
	}
	if _, err := checks.Select(s.Checks); err != nil {
		errs = append(errs, err)
	}
	if err := s.Limits().Validate(); err != nil {
		errs = append(errs, err)
	}
	if s.ShardSize < 1 || s.ShardSize > maxShardSize {
		bad("shard size must be between 1 and %d, got %d", maxShardSize, s.ShardSize)
	}
	if s.OwnerDigests < 0 || s.OwnerDigests > maxOwnerDigests {
		bad("owner digests must be between 0 and %d, got %d", maxOwnerDigests, s.OwnerDigests)
	}
	if s.Concurrency < 1 || s.Concurrency > 512 {
		bad("concurrency must be between 1 and 512, got %d", s.Concurrency)
	}
	if s.BucketRegion != "" && !regionName.MatchString(s.BucketRegion) {
		bad("bucket region %q is not a region name like eu-west-1", s.BucketRegion)
	}
	if s.Bucket != "" && !bucketName.MatchString(s.Bucket) {
		bad("bucket %q is not a valid S3 bucket name", s.Bucket)
	}
	if err := validPrefix(s.Prefix); err != nil {
		errs = append(errs, err)
	}
	if s.KMSKeyID != "" && !validKMSKey(s.KMSKeyID) {
		bad("KMS key %q must be a key id, a multi-Region key id (mrk-...), an alias/name, or the ARN of one", s.KMSKeyID)
	}
	if s.TopicARN != "" {
		if a, err := arn.Parse(s.TopicARN); err != nil || a.Service != "sns" || a.Resource == "" {
			bad("topic %q is not an SNS topic ARN", s.TopicARN)
		}
	}
	if s.OwnerTopicARN != "" {
		// One SNS client publishes both, and SNS answers only for topics of its own region.
		a, err := arn.Parse(s.OwnerTopicARN)
		d, derr := arn.Parse(s.TopicARN)
		switch {
		case err != nil || a.Service != "sns" || a.Resource == "":
			bad("owner topic %q is not an SNS topic ARN", s.OwnerTopicARN)
		case s.TopicARN == "":
			bad("owner topic %q is set without a digest topic", s.OwnerTopicARN)
		case derr == nil && (a.Region != d.Region || a.AccountID != d.AccountID):
			bad("owner topic %q must be in the digest topic's account and region (%s, %s)", s.OwnerTopicARN, d.AccountID, d.Region)
		default:
			// A topic of its own beside the digest topic (a malformed digest topic is reported above).
		}
	}
	if s.LinkRoleARN != "" {
		if a, err := arn.Parse(s.LinkRoleARN); err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
			bad("link role %q is not an IAM role ARN", s.LinkRoleARN)
		}
	}
	if s.URLExpiry < time.Minute || s.URLExpiry > delivery.MaxPresignExpiry {
		bad("link expiry must be between 1m and %s", delivery.MaxPresignExpiry)
	}
	if s.RetryMode != RetryStandard && s.RetryMode != RetryAdaptive {
		bad("retry mode %q must be %s or %s", s.RetryMode, RetryStandard, RetryAdaptive)
	}
	if s.MaxAttempts < 1 || s.MaxAttempts > 20 {
		bad("max attempts must be between 1 and 20, got %d", s.MaxAttempts)
	}
	if s.MaxBackoff < time.Millisecond || s.MaxBackoff > 5*time.Minute {
		bad("max backoff must be between 1ms and 5m, got %s", s.MaxBackoff)
	}
	if s.Timeout < 0 || s.DeliveryMargin < 0 {
		bad("timeout and delivery margin cannot be negative")
	}
	if !slices.Contains([]string{TriggerScheduled, TriggerManual, TriggerCLI}, s.Trigger) {
		bad("trigger %q must be %s, %s or %s", s.Trigger, TriggerScheduled, TriggerManual, TriggerCLI)
	}
	if s.RunID != "" && !runID.MatchString(s.RunID) {
		bad("run id %q may hold only letters, digits and _.-", s.RunID)
	}
	if s.Digest != DigestFull && s.Digest != DigestChanges {
		bad("digest %q must be %s or %s", s.Digest, DigestFull, DigestChanges)
	}
	if s.Suppressions != "" {
		if err := validSuppressionsLocation(s.Suppressions); err != nil {
			errs = append(errs, err)
		}
	}
	if s.StateDir != "" && strings.ContainsFunc(s.StateDir, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		bad("state directory %q holds a control character", s.StateDir)
	}
	if s.OwnerTagKey != "" && (!tagKey.MatchString(s.OwnerTagKey) || utf8.RuneCountInString(s.OwnerTagKey) > 128) {
		bad("owner tag key %q must be 1 to 128 letters, digits, spaces or _.:/=+-@", s.OwnerTagKey)
	}
	if s.OwnerTagBudget < 0 || s.OwnerTagBudget > maxOwnerTagBudget {
		bad("owner tag budget %d must be 0 to %d", s.OwnerTagBudget, maxOwnerTagBudget)
	}
	if !(s.OwnerTagRate > 0 && s.OwnerTagRate <= maxOwnerTagRate) {
		bad("owner tag rate %v must be above 0 and at most %d a second", s.OwnerTagRate, maxOwnerTagRate)
	}
	if err := s.validEmail(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// emailAddress is an address SES sends to or from: ASCII only (SES does not support SMTPUTF8; a domain beyond ASCII
// is written in Punycode), a local part and a domain of dot-separated labels.
var emailAddress = regexp.MustCompile("^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")

// IsEmailAddress says whether s is one plain email address SES can send to: an owner's value that is one gets an
// email of its own.
func IsEmailAddress(s string) bool { return len(s) <= 254 && emailAddress.MatchString(s) }

// ParseEmailFrom reads the sender: an address, or a display name and an address ("orgaudit <audit@example.com>").
func ParseEmailFrom(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || !IsEmailAddress(a.Address) {
		return nil, fmt.Errorf("email from %q is not an email address SES can send from (ASCII, like orgaudit@example.com or \"orgaudit <orgaudit@example.com>\")", s)
	}
	return a, nil
}

func (s Settings) validEmail() error {
	var errs []error
	switch {
	case s.EmailFrom == "" && len(s.EmailTo) == 0:
		if s.EmailRegion != "" {
			errs = append(errs, errors.New("email region given without -email-from and -email-to"))
		}
		return errors.Join(errs...)
	case s.EmailFrom == "":
		errs = append(errs, errors.New("email to is given without email from: name the sender (-email-from, AUDIT_EMAIL_FROM)"))
	case len(s.EmailTo) == 0:
		errs = append(errs, errors.New("email from is given without email to: name the recipients (-email-to, AUDIT_EMAIL_TO)"))
	}
	if s.EmailFrom != "" {
		if _, err := ParseEmailFrom(s.EmailFrom); err != nil {
			errs = append(errs, err)
		}
	}
	for _, to := range s.EmailTo {
		if !IsEmailAddress(to) {
			errs = append(errs, fmt.Errorf("email to %q is not an email address SES can send to (ASCII, like platform-team@example.com)", to))
		}
	}
	if len(s.EmailTo) > delivery.MaxEmailRecipients {
		errs = append(errs, fmt.Errorf("email to names %d addresses; SES takes at most %d per message", len(s.EmailTo), delivery.MaxEmailRecipients))
	}
	if s.EmailRegion != "" && !regionName.MatchString(s.EmailRegion) {
		errs = append(errs, fmt.Errorf("email region %q is not a region name like eu-west-1", s.EmailRegion))
	}
	return errors.Join(errs...)
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

// validSuppressionsLocation accepts a local path or s3://bucket/key.
func validSuppressionsLocation(loc string) error {
	if strings.ContainsFunc(loc, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("suppressions file %q holds a control character", loc)
	}
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		if strings.Contains(loc, "://") {
			return fmt.Errorf("suppressions file %q: want a local path or s3://bucket/key", loc)
		}
		return nil
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if !bucketName.MatchString(bucket) || key == "" || strings.HasSuffix(key, "/") {
		return fmt.Errorf("suppressions file %q: want s3://bucket/key naming one object", loc)
	}
	return nil
}

// ParseS3Location splits s3://bucket/key; ok is false for a local path.
func ParseS3Location(loc string) (bucket, key string, ok bool) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key, true
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

// Limits are the thresholds the checks apply.
func (s Settings) Limits() checks.Limits {
	return checks.Limits{Expiry: s.ExpiryDays, StuckAfter: s.StuckAfter, LapsedDays: s.LapsedDays}
}

// ParseAsOf reads a UTC date (2026-11-22, taken as its first instant) or an RFC 3339 time, within the bounds
// Validate applies: 0001-01-01 is the zero time, which Settings.AsOf holds for "now", so it must be refused here,
// where it is still a date someone typed.
func ParseAsOf(s string) (time.Time, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return time.Time{}, fmt.Errorf("as-of %q: want a date like 2026-11-22 or an RFC 3339 time", s)
		}
	}
	t = t.UTC()
	if t.Before(minAsOf) || t.After(time.Now().AddDate(maxAsOfYearsAhead, 0, 0)) {
		return time.Time{}, fmt.Errorf("as-of %s must lie between %s and %d years from now", t.Format(time.RFC3339), minAsOf.Format("2006-01-02"), maxAsOfYearsAhead)
	}
	return t, nil
}

// SplitList reads "a,b c" into its items; empty input is an empty list.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
}

// EnvNames lists every variable FromEnv reads, for templates and docs to be checked against.
func EnvNames() []string {
	var names []string
	_, _ = FromEnv(func(name string) string { names = append(names, name); return "" })
	slices.Sort(names)
	return slices.Compact(names)
}

// FromEnv reads deployment settings from the environment (the Lambda's configuration). Every variable is optional;
// a malformed one is an error naming it.
func FromEnv(getenv func(string) string) (Settings, error) {
	s := Defaults()
	s.AllowOwnAccountFallback = false
	var errs []error
	str := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	list := func(name string, dst *[]string) {
		if v := getenv(name); strings.TrimSpace(v) != "" {
			*dst = SplitList(v)
		}
	}
	str("AUDIT_ROLE_NAME", &s.RoleName)
	str("AUDIT_EXTERNAL_ID", &s.ExternalID)
	str("AUDIT_SESSION_NAME", &s.SessionName)
	list("AUDIT_REGIONS", &s.Regions)
	list("AUDIT_ACCOUNTS", &s.Accounts)
	list("AUDIT_EXCLUDE_ACCOUNTS", &s.ExcludeAccounts)
	list("AUDIT_CHECKS", &s.Checks)
	str("AUDIT_BUCKET", &s.Bucket)
	str("AUDIT_PREFIX", &s.Prefix)
	str("AUDIT_KMS_KEY_ID", &s.KMSKeyID)
	str("AUDIT_TOPIC_ARN", &s.TopicARN)
	str("AUDIT_OWNER_TOPIC_ARN", &s.OwnerTopicARN)
	str("AUDIT_LINK_ROLE_ARN", &s.LinkRoleARN)
	str("AUDIT_BUCKET_REGION", &s.BucketRegion)
	str("AUDIT_RETRY_MODE", &s.RetryMode)
	str("AUDIT_SUPPRESSIONS", &s.Suppressions)
	str("AUDIT_DIGEST", &s.Digest)
	str("AUDIT_EMAIL_FROM", &s.EmailFrom)
	list("AUDIT_EMAIL_TO", &s.EmailTo)
	str("AUDIT_EMAIL_REGION", &s.EmailRegion)
	if v, ok := lookup(getenv, "AUDIT_OWNER_TAG"); ok {
		s.OwnerTagKey = v // "none": read no owner tags
	}
	if v := strings.TrimSpace(getenv("AUDIT_OWNER_TAG_RATE")); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("AUDIT_OWNER_TAG_RATE: %q is not a number", v))
		}
		s.OwnerTagRate = r
	}
	if v := getenv("AUDIT_EXPIRY_DAYS"); v != "" {
		d, err := checks.ParseExpiryDays(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("AUDIT_EXPIRY_DAYS: %w", err))
		}
		s.ExpiryDays = d
	}
	for name, dst := range map[string]*time.Duration{"AUDIT_STUCK_AFTER": &s.StuckAfter, "AUDIT_URL_EXPIRY": &s.URLExpiry,
		"AUDIT_MAX_BACKOFF": &s.MaxBackoff, "AUDIT_DELIVERY_MARGIN": &s.DeliveryMargin} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			*dst = d
		}
	}
	for name, dst := range map[string]*int{"AUDIT_CONCURRENCY": &s.Concurrency, "AUDIT_MAX_ATTEMPTS": &s.MaxAttempts, "AUDIT_LAPSED_DAYS": &s.LapsedDays,
		"AUDIT_OWNER_DIGESTS": &s.OwnerDigests, "AUDIT_OWNER_TAG_BUDGET": &s.OwnerTagBudget, "AUDIT_SHARD_SIZE": &s.ShardSize} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, v))
			}
			*dst = n
		}
	}
	for name, dst := range map[string]*bool{"AUDIT_DRY_RUN": &s.DryRun, "AUDIT_S3_PATH_STYLE": &s.S3PathStyle, "AUDIT_NO_HISTORY": &s.NoHistory} {
		if v := getenv(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, v))
			}
			*dst = b
		}
	}
	if err := errors.Join(errs...); err != nil {
		return s, err
	}
	switch {
	case s.Suppressions == "none":
		s.Suppressions = ""
	case s.Suppressions == "" && s.Bucket != "":
		// The deployment's own file, read only when someone has put it there.
		s.Suppressions, s.SuppressionsIfExists = "s3://"+s.Bucket+"/"+SuppressionsKey(s.Prefix), true
	}
	s = s.Normalized()
	return s, s.Validate()
}

// lookup reads a variable that may turn its feature off: "none" is set, to nothing; unset or blank is not set.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := strings.TrimSpace(getenv(name))
	switch {
	case v == "none":
		return "", true
	case v == "":
		return "", false
	}
	return v, true
}

// dedupe keeps the first of each item, in order.
func dedupe(items []string) []string {
	var out []string
	for _, it := range items {
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out
}
