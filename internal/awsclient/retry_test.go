package awsclient

import (
	"maps"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

// TestRetryerCountsByCode: the retryer takes its bounds from the options, retries SNS's Throttled, and counts each
// retry it schedules under the error's code; standard mode shares one retryer among clients, adaptive mode gives each
// its own, since its rate limiter learns from one client's throttling.
func TestRetryerCountsByCode(t *testing.T) {
	t.Parallel()
	throttled := &smithy.GenericAPIError{Code: "Throttled", Message: "Rate exceeded"}
	slowDown := &smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."}
	for _, mode := range []string{RetryStandard, RetryAdaptive} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var counter RetryCounter
			newRetryer := RetryerFor(RetryOptions{Mode: mode, MaxAttempts: 5, MaxBackoff: time.Second}, &counter)
			r := newRetryer()
			if r.MaxAttempts() != 5 || !r.IsErrorRetryable(throttled) {
				t.Fatalf("max attempts %d, Throttled retryable %v", r.MaxAttempts(), r.IsErrorRetryable(throttled))
			}
			for attempt, err := range []error{throttled, slowDown, throttled} {
				if d, err := r.RetryDelay(attempt+1, err); err != nil || d > time.Second {
					t.Fatalf("retry %d: delay %s err %v, want at most the 1s backoff", attempt+1, d, err)
				}
			}
			total, byCode := counter.Counts()
			if want := map[string]int{"Throttled": 2, "SlowDown": 1}; total != 3 || !maps.Equal(byCode, want) {
				t.Errorf("counted %d %v, want 3 %v", total, byCode, want)
			}
			if shared := newRetryer() == r; shared != (mode == RetryStandard) {
				t.Errorf("%s mode: second client shares the first one's retryer: %v", mode, shared)
			}
		})
	}
}
