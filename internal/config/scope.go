package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// DefaultConcurrency is how many tasks run at once. An audit is latency-bound (one check is one to three calls of
// tens of milliseconds each), so 64 in flight keep a thousand accounts under ten seconds while each member account
// sees only a few calls at a time.
const DefaultConcurrency = 64

// DefaultRoleName is the role deploy/cloudformation creates in every member account.
const DefaultRoleName = "OrgAuditReadOnly"

// Scope is what a run audits and how: the role it assumes in each account, the accounts, regions and checks, and how
// many tasks run at once.
type Scope struct {
	RoleName        string
	ExternalID      string
	SessionName     string
	Regions         []string // names, or ["all"]; empty = the SDK configuration's region
	Accounts        []string
	ExcludeAccounts []string
	Checks          []string // empty = all
	Concurrency     int
	// AllowOwnAccountFallback lets a run that cannot list the organization audit the caller's own account, saying
	// "own account only". The CLI allows it; under Lambda (FromEnv) it is off, so a lost organizations:ListAccounts
	// fails the run and its alarm fires instead of mailing "1/1 accounts".
	AllowOwnAccountFallback bool
}

var (
	accountID  = regexp.MustCompile(`^\d{12}$`)
	roleName   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	externalID = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// Validate checks the scope and reports all its problems at once.
func (s Scope) Validate() error {
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
	if _, err := checks.Select(s.Checks); err != nil {
		errs = append(errs, err)
	}
	if s.Concurrency < 1 || s.Concurrency > 512 {
		bad("concurrency must be between 1 and 512, got %d", s.Concurrency)
	}
	return errors.Join(errs...)
}

// Narrowing says in words how s narrows the run by choice: named accounts, excluded accounts, some of the checks; ""
// when it audits the whole organization with every check. A narrowed run is not partial: it audited what it was asked
// to, and every output says its scope was narrowed (report.Result.Narrowed), so that "3/3 accounts" never reads as the
// whole organization. Regions are not in it: the scope line lists them in full whatever was asked.
func (s Scope) Narrowing(selected []checks.Check) string {
	var parts []string
	if n := len(s.Accounts); n > 0 {
		parts = append(parts, fmt.Sprintf("only the %d named %s", n, plural(n, "account")))
	}
	if n := len(s.ExcludeAccounts); n > 0 {
		parts = append(parts, fmt.Sprintf("%d %s excluded", n, plural(n, "account")))
	}
	if all := len(checks.All()); len(selected) < all {
		parts = append(parts, fmt.Sprintf("%d of %d checks", len(selected), all))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
