package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/history"
)

// runFlags are the flags of `audit run`, parsed into Settings.
type runFlags struct {
	settings config.Settings
	out      string
	json     bool
	failOn   failOn
}

func parseRunFlags(args []string, stderr io.Writer) (*runFlags, error) {
	s := config.Defaults()
	rf := &runFlags{}
	fs := flag.NewFlagSet("audit run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var regions, accounts, exclude, checkNames, expiry, asOf, stateDir, emailTo string
	fs.StringVar(&s.RoleName, "role", s.RoleName, "role to assume in member accounts")
	fs.StringVar(&s.ExternalID, "external-id", "", "ExternalId the member role's trust policy requires")
	fs.StringVar(&s.SessionName, "session-name", s.SessionName, "role session name, as member accounts' CloudTrail shows it")
	fs.StringVar(&regions, "regions", "", `regions to audit, comma-separated, or "all" for each account's enabled regions (default: the SDK configuration's region)`)
	fs.StringVar(&accounts, "accounts", "", "audit only these account ids, comma-separated")
	fs.StringVar(&exclude, "exclude-accounts", "", "skip these account ids, comma-separated")
	fs.StringVar(&checkNames, "checks", "", "checks to run, comma-separated (default all: "+config.KnownChecks()+")")
	fs.StringVar(&expiry, "expiry-days", "7/30/60", "reservation expiry thresholds in days: critical/warning/notice")
	fs.DurationVar(&s.StuckAfter, "stuck-after", s.StuckAfter, "how long a Service Catalog change or a CloudFormation rollback, cleanup, delete or review may run before it is stuck")
	fs.IntVar(&s.LapsedDays, "lapsed-days", s.LapsedDays, "report a reservation that ended unrenewed for this many days after its end")
	fs.StringVar(&asOf, "as-of", "", "audit as of this UTC date (2026-11-22) or RFC 3339 time (default: now)")
	fs.IntVar(&s.Concurrency, "concurrency", s.Concurrency, "most tasks (role set-ups and checks) at once")
	fs.StringVar(&rf.out, "out", "", "also write the workbook to this file (default audit-report.xlsx with -dry-run or without -bucket)")
	fs.StringVar(&s.Bucket, "bucket", "", "S3 bucket for the workbook")
	fs.StringVar(&s.Prefix, "prefix", s.Prefix, "S3 key prefix for the workbook")
	fs.StringVar(&s.KMSKeyID, "kms-key-id", "", "KMS key for the workbook's server-side encryption (default SSE-S3)")
	fs.StringVar(&s.TopicARN, "topic", "", "SNS topic ARN for the digest")
	fs.StringVar(&s.OwnerTopicARN, "owner-topic", "", "SNS topic ARN for owners' digests (default: the digest topic, told apart by the audience attribute)")
	fs.DurationVar(&s.URLExpiry, "url-expiry", s.URLExpiry, "how long the presigned workbook link should work (at most 168h)")
	fs.StringVar(&s.BucketRegion, "bucket-region", "", "the bucket's region (default: asked of S3 with HeadBucket)")
	fs.StringVar(&s.LinkRoleARN, "link-role-arn", "", "role to assume for signing the workbook link, which then lives as long as its session (default: sign with your own credentials)")
	fs.BoolVar(&s.S3PathStyle, "s3-path-style", false, "address the bucket by path (S3-compatible endpoints)")
	fs.StringVar(&s.RunID, "run-id", "", "run id (default: the start time)")
	fs.BoolVar(&s.DryRun, "dry-run", false, "deliver nothing; write the workbook locally")
	fs.DurationVar(&s.Timeout, "timeout", 0, "stop auditing before this much time has passed, deliver what was audited and mark the rest (0: no limit)")
	fs.StringVar(&s.RetryMode, "retry-mode", s.RetryMode, "SDK retry mode: standard or adaptive")
	fs.IntVar(&s.MaxAttempts, "max-attempts", s.MaxAttempts, "attempts per API call before a cell is recorded as failed")
	fs.BoolVar(&rf.json, "json", false, "print the JSON result instead of the digest")
	fs.Var(failOnFlag{&rf.failOn}, "fail-on", "exit 3 when the run has an open finding at or above this severity, or (incomplete) left a cell or account unaudited: "+failOnValues()+", or a severity and incomplete comma-separated")
	fs.BoolVar(&s.AlertRecords, "alert-records", false, "with -bucket, read the event-driven alerts' records (<prefix>/alerts/) so the digest says what was alerted and what recovered (a -state-dir run always reads its directory's)")
	fs.StringVar(&stateDir, "state-dir", "", "keep run history in this directory (default "+history.DefaultStateDir+" without -bucket; with -bucket, history is in the bucket)")
	fs.BoolVar(&s.NoHistory, "no-history", false, "ignore run history: no comparison with the previous run, nothing stored")
	fs.BoolVar(&s.OnDemand, "on-demand", false, "read each expiring EC2 and RDS reservation's on-demand rate from the AWS Price List (pricing:GetProducts) and report what lapsing would cost")
	fs.StringVar(&s.Suppressions, "suppressions", "", "suppressions file (YAML): a path or s3://bucket/key")
	fs.StringVar(&s.Digest, "digest", s.Digest, "digest form: full, or changes (open items only as counts per check)")
	fs.IntVar(&s.OwnerDigests, "owner-digests", s.OwnerDigests, "most owner digests a run publishes beside the organization's, most severe owners first (0: none)")
	fs.StringVar(&s.EmailFrom, "email-from", "", `send the digest with the workbook through SES from this verified address ("orgaudit <audit@example.com>"); with -email-to`)
	fs.StringVar(&emailTo, "email-to", "", "email the digest and workbook to these addresses, comma-separated; owners whose owner is an address get their own")
	fs.StringVar(&s.EmailRegion, "email-region", "", "the SES region the sender's identity is verified in (default: the SDK configuration's region)")
	fs.StringVar(&s.OwnerTagKey, "owner-tag", s.OwnerTagKey, `account tag naming each account's owner ("" reads no tags: owners are OU paths)`)
	fs.IntVar(&s.OwnerTagBudget, "owner-tag-budget", s.OwnerTagBudget, "most owner tags read in one run (oldest first; the rest come from run history)")
	fs.Float64Var(&s.OwnerTagRate, "owner-tag-rate", s.OwnerTagRate, "owner tag reads per second")
	fs.StringVar(&s.AccessPortalURL, "access-portal-url", s.AccessPortalURL, "IAM Identity Center access portal (https://<id>.awsapps.com/start): console links go through it to the finding's account; with -portal-role-name")
	fs.StringVar(&s.PortalRoleName, "portal-role-name", s.PortalRoleName, "the permission set the console links sign in with; with -access-portal-url")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), runExamples)
		printGroupedFlags(fs.Output(), fs, runFlagGroups)
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	s.Regions, s.Accounts, s.ExcludeAccounts, s.Checks = config.SplitList(regions), config.SplitList(accounts), config.SplitList(exclude), config.SplitList(checkNames)
	s.EmailTo = config.SplitList(emailTo)
	d, err := checks.ParseExpiryDays(expiry)
	if err != nil {
		return nil, usageError{err}
	}
	s.ExpiryDays = d
	if asOf != "" {
		t, err := config.ParseAsOf(asOf)
		if err != nil {
			return nil, usageError{err}
		}
		s.AsOf = t
	}
	s.StateDir = stateDir
	if stateDir == "" && s.Bucket == "" {
		// One directory per organization under it: a working directory may audit several.
		s.StateDir, s.StateDirByOrganization = history.DefaultStateDir, true
	}
	if err := s.Validate(); err != nil {
		return nil, usageError{err}
	}
	if err := config.CheckRegionsExist(s, config.RegionSettings{Regions: "-regions", Email: "-email-region", Bucket: "-bucket-region"}); err != nil {
		return nil, usageError{err}
	}
	// With nowhere else to go, the workbook is written locally rather than built and dropped.
	if rf.out == "" && (s.DryRun || s.Bucket == "") {
		rf.out = "audit-report.xlsx"
	}
	if rf.out != "" {
		if err := checkWritable(rf.out); err != nil {
			return nil, usageError{fmt.Errorf("-out: %w", err)}
		}
	}
	rf.settings = s
	return rf, nil
}

// checkWritable proves path can be written before the audit, so a typo in -out costs a second, not a whole audit:
// it opens the file for writing without truncating it, and removes it again if it did not exist.
func checkWritable(path string) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		return os.Remove(path)
	}
	return nil
}
