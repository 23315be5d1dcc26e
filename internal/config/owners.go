package config

import (
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"
)

// Owners is how a run learns who owns each account. OwnerTagKey is the account tag naming each account's owner;
// empty reads no tags (every account is owned by its OU path). OwnerTagBudget bounds the tag reads of one run,
// OwnerTagRate their pace (per second).
type Owners struct {
	OwnerTagKey    string
	OwnerTagBudget int
	OwnerTagRate   float64
}

// maxOwnerTagBudget and maxOwnerTagRate bound the owner tag settings: Organizations holds at most 10,000 accounts by
// quota, and a rate past a few dozen a second only buys TooManyRequestsException.
const (
	maxOwnerTagBudget = 10_000
	maxOwnerTagRate   = 50
)

// tagKey is an Organizations tag key as botocore's model gives it (TagKey: 1 to 128 characters of these).
var tagKey = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)

// Validate checks the owner tag settings and reports all their problems at once.
func (o Owners) Validate() error {
	var errs []error
	if o.OwnerTagKey != "" && (!tagKey.MatchString(o.OwnerTagKey) || utf8.RuneCountInString(o.OwnerTagKey) > 128) {
		errs = append(errs, fmt.Errorf("owner tag key %q must be 1 to 128 letters, digits, spaces or _.:/=+-@", o.OwnerTagKey))
	}
	if o.OwnerTagBudget < 0 || o.OwnerTagBudget > maxOwnerTagBudget {
		errs = append(errs, fmt.Errorf("owner tag budget %d must be 0 to %d", o.OwnerTagBudget, maxOwnerTagBudget))
	}
	if !(o.OwnerTagRate > 0 && o.OwnerTagRate <= maxOwnerTagRate) {
		errs = append(errs, fmt.Errorf("owner tag rate %v must be above 0 and at most %d a second", o.OwnerTagRate, maxOwnerTagRate))
	}
	return errors.Join(errs...)
}
