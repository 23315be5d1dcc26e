package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/report"
)

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
	str("AUDIT_ACCESS_PORTAL_URL", &s.AccessPortalURL)
	str("AUDIT_PORTAL_ROLE_NAME", &s.PortalRoleName)
	// The workbook reads its paper itself (report.PaperEnv); checked here so a bad value stops the run before it audits.
	if err := report.CheckPaper(getenv(report.PaperEnv)); err != nil {
		errs = append(errs, err)
	}
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
	for name, dst := range map[string]*bool{"AUDIT_DRY_RUN": &s.DryRun, "AUDIT_S3_PATH_STYLE": &s.S3PathStyle, "AUDIT_NO_HISTORY": &s.NoHistory,
		"AUDIT_ON_DEMAND": &s.OnDemand, "AUDIT_ALERT_RECORDS": &s.AlertRecords} {
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
	if err := s.Validate(); err != nil {
		return s, err
	}
	// Refused at start-up, as the CLI refuses them: an audit of a region that does not exist comes back clean.
	return s, CheckRegionsExist(s, RegionSettings{Regions: "AUDIT_REGIONS", Email: "AUDIT_EMAIL_REGION", Bucket: "AUDIT_BUCKET_REGION"})
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
