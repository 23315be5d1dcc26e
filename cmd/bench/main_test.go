package main

import (
	"os"
	"testing"
)

// TestMain lets this test binary serve as the bench's child processes, so the smoke run below needs no build of its own.
func TestMain(m *testing.M) {
	if code, ok := child(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestSmoke runs every part of the benchmark at tiny sizes: the simulator and job processes, the lower bound, the
// concurrency-1 comparison and both workbook writers. It measures nothing; BENCHMARKS.md has the figures.
func TestSmoke(t *testing.T) {
	if code := orchestrate([]string{"-smoke"}); code != 0 {
		t.Fatalf("bench -smoke exited %d", code)
	}
}
