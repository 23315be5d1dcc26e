package awssim

import (
	"context"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultPlan injects the trouble real organizations give, deterministically: which calls fail is decided by a hash of
// the seed and the call's service, operation, account and region, so two runs with one plan fail the same way.
// Install it with Server.SetIntercept(plan.Intercept).
type FaultPlan struct {
	Seed uint64
	// Latency is added to every call.
	Latency time.Duration
	// ThrottleRate is the share of call streams (service × operation × account × region) that are throttled with the
	// service's own code: every call in such a stream fails ThrottleBurst times before it is answered, so a client
	// that retries more often than that gets exactly the fault-free answer.
	ThrottleRate  float64
	ThrottleBurst int
	// ThrottleOps are operations whose every stream is throttled that way, whatever ThrottleRate says.
	ThrottleOps []string
	// ServerErrorRate is the share of check streams that answer 500 or 503 on every attempt: what a retrying client
	// must still record as failed. Organizations, STS, SNS and S3 are spared, so the run as a whole can succeed.
	ServerErrorRate float64
	// DenyAssumeRate is the share of accounts whose AssumeRole is denied, as a missing role or a wrong ExternalId is.
	DenyAssumeRate float64

	mu       sync.Mutex
	attempts map[string]int
	injected map[string]int
}

// expiredToken is the answer to an expired session: ExpiredTokenException for the awsJson services (the common
// errors of their API references), ExpiredToken for the query ones, HTTP 403 both.
func expiredToken(service string) *Fault {
	code := "ExpiredToken"
	if protocolOf(service).isJSON() {
		code = "ExpiredTokenException"
	}
	return &Fault{Status: 403, Code: code, Message: "The security token included in the request is expired"}
}

// spared services never get persistent server errors: they carry the run itself rather than one cell.
var spared = map[string]bool{"organizations": true, "sts": true, "sns": true, "s3": true}

func (p *FaultPlan) chance(parts ...string) float64 {
	h := fnv.New64a()
	var seed [8]byte
	for i := range seed {
		seed[i] = byte(p.Seed >> (8 * i))
	}
	h.Write(seed[:])
	h.Write([]byte(strings.Join(parts, "\x00")))
	return float64(h.Sum64()%1_000_000) / 1_000_000
}

// Intercept is the plan as the server's fault seam.
func (p *FaultPlan) Intercept(ctx context.Context, c Call) *Fault {
	if p.Latency > 0 {
		t := time.NewTimer(p.Latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return &Fault{Status: 499, Code: "RequestCanceled", Message: "client went away"}
		}
	}
	account := c.AccountID
	if c.Target != "" {
		account = c.Target
	}
	if c.Operation == "AssumeRole" && p.DenyAssumeRate > 0 && p.chance("deny", account) < p.DenyAssumeRate {
		return p.inject(&Fault{Status: 403, Code: "AccessDenied", Message: "User is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::" + account + ":role/*"})
	}
	stream := []string{c.Service, c.Operation, account, c.Region}
	if !spared[c.Service] && p.ServerErrorRate > 0 && p.chance(append([]string{"5xx"}, stream...)...) < p.ServerErrorRate {
		if p.chance(append([]string{"503"}, stream...)...) < 0.5 {
			return p.inject(&Fault{Status: 503, Code: "ServiceUnavailable", Message: "Service is unavailable, please try again later."})
		}
		code := "InternalFailure"
		if c.Service == "ec2" {
			code = "InternalError"
		}
		return p.inject(&Fault{Status: 500, Code: code, Message: "An internal error occurred."})
	}
	throttled := slices.Contains(p.ThrottleOps, c.Operation) || p.ThrottleRate > 0 && p.chance(append([]string{"throttle"}, stream...)...) < p.ThrottleRate
	if throttled && p.ThrottleBurst > 0 {
		// Calls of one stream are sequential (one check pages one operation), so the attempt count is exact.
		key := strings.Join(stream, "/")
		p.mu.Lock()
		if p.attempts == nil {
			p.attempts = map[string]int{}
		}
		n := p.attempts[key]
		p.attempts[key]++
		p.mu.Unlock()
		if n%(p.ThrottleBurst+1) < p.ThrottleBurst {
			f := throttleOf(c.Service)
			return p.inject(&f)
		}
	}
	return nil
}

func (p *FaultPlan) inject(f *Fault) *Fault {
	p.mu.Lock()
	if p.injected == nil {
		p.injected = map[string]int{}
	}
	p.injected[f.Code]++
	p.mu.Unlock()
	return f
}

// Injected counts the faults answered so far, by code.
func (p *FaultPlan) Injected() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.injected {
		out[k] = v
	}
	return out
}

// SortedCounts formats a count map as "a=1 b=2", sorted by key.
func SortedCounts(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(m[k]))
	}
	return b.String()
}
