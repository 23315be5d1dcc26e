package awsclient

import (
	"math"
	"runtime/debug"
	"strconv"
)

// Go may use 80% of a function's memory, and always leaves lambdaReserve for what the limit does not count or the
// collector overshoots: the binary's mapped pages, goroutine stacks, the runtime's own structures (about 50 MiB
// measured at ten thousand accounts). Without a limit the collector lets the heap grow to twice what is live, which a
// 256 MB function running ten thousand accounts does not have.
const (
	lambdaMemoryShare = 0.8
	lambdaReserve     = 80 << 20
)

// ApplyLambdaMemoryLimit sets Go's soft memory limit from AWS_LAMBDA_FUNCTION_MEMORY_SIZE (MB), unless GOMEMLIMIT
// already says otherwise. It returns the limit set, or 0.
func ApplyLambdaMemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	mb, err := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if err != nil || mb <= 0 {
		return 0
	}
	total := int64(mb) << 20
	limit := min(int64(math.Round(float64(total)*lambdaMemoryShare)), total-lambdaReserve)
	if limit < 32<<20 {
		return 0 // too small a function to steer; the collector's defaults do better
	}
	debug.SetMemoryLimit(limit)
	return limit
}
