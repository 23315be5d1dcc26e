// Package config is what one run is asked to do: its settings by concern (scope, thresholds, history, delivery,
// email, owners, run, retry, pricing, portal), each group validated in the file that defines it, read from the environment (Lambda),
// and the events that start a run, decoded strictly and laid over the settings. It makes no AWS call. It imports
// checks, crossaccount and delivery for their names and limits, and awsclient for the retry modes.
package config

import (
	"errors"
	"regexp"
	"slices"
	"time"

	"github.com/orgaudit/orgaudit/internal/awsclient"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
)

// Settings are everything one run needs. Deployment defaults come from the environment (Lambda) or flags (CLI);
// a manual event may override some. Validate before any AWS call. The groups are embedded, so a setting reads as
// s.RoleName whichever group holds it.
type Settings struct {
	Scope
	Thresholds
	History
	Delivery
	Email
	Owners
	Run
	Retry
	Pricing
	Portal
}

// Defaults returns the documented defaults.
func Defaults() Settings {
	l := checks.DefaultLimits()
	return Settings{
		Scope:      Scope{RoleName: DefaultRoleName, SessionName: "orgaudit", Concurrency: DefaultConcurrency, AllowOwnAccountFallback: true},
		Thresholds: Thresholds{ExpiryDays: l.Expiry, StuckAfter: l.StuckAfter, LapsedDays: l.LapsedDays},
		Delivery:   Delivery{Prefix: "orgaudit", URLExpiry: delivery.MaxPresignExpiry, Digest: DigestFull, OwnerDigests: DefaultOwnerDigests},
		Owners:     Owners{OwnerTagKey: crossaccount.DefaultOwnerTagKey, OwnerTagBudget: crossaccount.DefaultOwnerTagBudget, OwnerTagRate: crossaccount.DefaultOwnerTagRate},
		Run:        Run{Trigger: TriggerCLI, ShardSize: DefaultShardSize},
		Retry:      Retry{RetryMode: awsclient.RetryStandard, MaxAttempts: 8, MaxBackoff: 20 * time.Second},
	}
}

// Normalized returns s with every list holding each item once, in first-named order: a region or account named twice
// is audited once, whichever way it came (flags, environment, event).
func (s Settings) Normalized() Settings {
	s.Regions, s.Accounts, s.ExcludeAccounts, s.Checks = dedupe(s.Regions), dedupe(s.Accounts), dedupe(s.ExcludeAccounts), dedupe(s.Checks)
	s.EmailTo = dedupe(s.EmailTo)
	return s
}

// Validate checks every setting and reports all problems at once, group by group.
func (s Settings) Validate() error {
	return errors.Join(s.Scope.Validate(), s.Thresholds.Validate(), s.Run.Validate(), s.Delivery.Validate(), s.Retry.Validate(),
		s.History.Validate(), s.Owners.Validate(), s.Email.Validate(), s.Portal.Validate())
}

// Patterns more than one group checks against.
var (
	// The partitions' shapes (aws-sdk-go-v2's partitions.go): eusc-de-east-1 starts with four letters.
	regionName = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-\d+$`)
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// IsRegionName says whether s has a region name's shape, as the settings check one: the event-driven path refuses
// an event from a region only when the settings could not name it either.
func IsRegionName(s string) bool { return regionName.MatchString(s) }

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
