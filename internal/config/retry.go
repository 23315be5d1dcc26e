package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/orgaudit/orgaudit/internal/awsclient"
)

// Retry is how the SDK retries a call that failed for a reason worth retrying.
type Retry struct {
	RetryMode   string // standard or adaptive
	MaxAttempts int    // per API call, first attempt included
	MaxBackoff  time.Duration
}

// Validate checks the retry settings and reports all their problems at once.
func (r Retry) Validate() error {
	var errs []error
	if r.RetryMode != awsclient.RetryStandard && r.RetryMode != awsclient.RetryAdaptive {
		errs = append(errs, fmt.Errorf("retry mode %q must be %s or %s", r.RetryMode, awsclient.RetryStandard, awsclient.RetryAdaptive))
	}
	if r.MaxAttempts < 1 || r.MaxAttempts > 20 {
		errs = append(errs, fmt.Errorf("max attempts must be between 1 and 20, got %d", r.MaxAttempts))
	}
	if r.MaxBackoff < time.Millisecond || r.MaxBackoff > 5*time.Minute {
		errs = append(errs, fmt.Errorf("max backoff must be between 1ms and 5m, got %s", r.MaxBackoff))
	}
	return errors.Join(errs...)
}

// RetryOptions are the settings the SDK's retryer is built from.
func (r Retry) RetryOptions() awsclient.RetryOptions {
	return awsclient.RetryOptions{Mode: r.RetryMode, MaxAttempts: r.MaxAttempts, MaxBackoff: r.MaxBackoff}
}
