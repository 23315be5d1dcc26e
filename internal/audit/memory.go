package audit

import (
	"math"
	"runtime/debug"
	"strconv"
)

// lambdaMemoryShare is the part of a function's memory Go may use: the rest is the binary, the runtime's own
// structures and headroom. Without a limit the collector lets the heap grow to twice what is live, which a 256 MB
// function running ten thousand accounts does not have.
const lambdaMemoryShare = 0.8

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
	limit := int64(math.Round(float64(mb) * lambdaMemoryShare * (1 << 20)))
	debug.SetMemoryLimit(limit)
	return limit
}
