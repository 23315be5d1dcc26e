package awsclient

import (
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

// Retry modes.
const (
	RetryStandard = "standard"
	RetryAdaptive = "adaptive"
)

// RetryCounter counts the SDK's retries by the error that caused them, for the result. The zero value is ready.
type RetryCounter struct {
	mu     sync.Mutex
	byCode map[string]int
}

func (c *RetryCounter) add(err error) {
	code := awserr.Code(err)
	c.mu.Lock()
	if c.byCode == nil {
		c.byCode = map[string]int{}
	}
	c.byCode[code]++
	c.mu.Unlock()
}

// Counts returns the retries so far: their total and their number by error code.
func (c *RetryCounter) Counts() (int, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	total, out := 0, map[string]int{}
	for k, v := range c.byCode {
		out[k], total = v, total+v
	}
	return total, out
}

// countingRetryer is the SDK's retryer, counting each retry it schedules.
type countingRetryer struct {
	aws.RetryerV2
	counter *RetryCounter
}

func (r countingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	r.counter.add(err)
	return r.RetryerV2.RetryDelay(attempt, err)
}

// RetryOptions are what the retryer needs of a run's settings.
type RetryOptions struct {
	Mode        string // RetryStandard or RetryAdaptive
	MaxAttempts int    // per API call, first attempt included
	MaxBackoff  time.Duration
}

// RetryerFor gives each SDK client its retryer: bounded attempts with jittered exponential backoff, SNS's Throttled
// code added to the retryable ones. The per-client retry quota is off: the STS and Organizations clients serve every
// account, so a throttling burst would drain it and turn retryable calls into failed cells. The one concurrency
// limit and the attempt bound already cap the load a run puts on AWS.
func RetryerFor(s RetryOptions, counter *RetryCounter) func() aws.Retryer {
	standard := func(o *retry.StandardOptions) {
		o.MaxAttempts = s.MaxAttempts
		o.MaxBackoff = s.MaxBackoff
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: awserr.ExtraThrottleCodes})
	}
	if s.Mode == RetryAdaptive {
		// Adaptive mode's client-side rate limiter learns from its own client's throttling: one each.
		return func() aws.Retryer {
			r := retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, standard)
				o.Throttles = append(o.Throttles, retry.ThrottleErrorCode{Codes: awserr.ExtraThrottleCodes})
			})
			return countingRetryer{RetryerV2: r, counter: counter}
		}
	}
	// Standard mode without a rate limiter holds no state between calls (a client already shares its retryer among
	// its concurrent calls), so every client shares one: building it per client was about 1.5% of the job's CPU,
	// since the audit builds a client per cell.
	shared := countingRetryer{RetryerV2: retry.NewStandard(standard), counter: counter}
	return func() aws.Retryer { return shared }
}
