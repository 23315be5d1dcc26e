package awsclient

import (
	"runtime/debug"
	"testing"
)

func TestApplyLambdaMemoryLimit(t *testing.T) {
	env := map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	if got := ApplyLambdaMemoryLimit(func(k string) string { return env[k] }); got != 176<<20 || debug.SetMemoryLimit(-1) != got {
		t.Errorf("256 MB function: limit %d, want 176 MiB (256 less the reserve)", got)
	}
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "1024"
	if got := ApplyLambdaMemoryLimit(func(k string) string { return env[k] }); got != 858993459 {
		t.Errorf("1024 MB function: limit %d, want 80%%", got)
	}
	env["GOMEMLIMIT"] = "100MiB"
	if got := ApplyLambdaMemoryLimit(func(k string) string { return env[k] }); got != 0 {
		t.Errorf("GOMEMLIMIT must win, got %d", got)
	}
	if got := ApplyLambdaMemoryLimit(func(string) string { return "" }); got != 0 {
		t.Errorf("outside Lambda: %d", got)
	}
}
