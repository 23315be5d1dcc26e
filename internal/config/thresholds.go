package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// Thresholds are when a finding is reported, and the day the run judges by.
type Thresholds struct {
	ExpiryDays [3]int
	StuckAfter time.Duration
	LapsedDays int       // how long after its end an unrenewed reservation is still reported
	AsOf       time.Time // zero = now
}

// minAsOf and maxAsOfYearsAhead bound -as-of: anything outside is a typo (a year 20266, a day 0026), not an audit.
var minAsOf = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const maxAsOfYearsAhead = 10

// Validate checks the as-of day and the checks' limits and reports all their problems at once.
func (t Thresholds) Validate() error {
	var errs []error
	if !t.AsOf.IsZero() && (t.AsOf.Before(minAsOf) || t.AsOf.After(time.Now().AddDate(maxAsOfYearsAhead, 0, 0))) {
		errs = append(errs, fmt.Errorf("as-of %s must lie between %s and %d years from now", t.AsOf.Format(time.RFC3339), minAsOf.Format("2006-01-02"), maxAsOfYearsAhead))
	}
	if err := t.Limits().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Limits are the thresholds the checks apply.
func (t Thresholds) Limits() checks.Limits {
	return checks.Limits{Expiry: t.ExpiryDays, StuckAfter: t.StuckAfter, LapsedDays: t.LapsedDays}
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
