package main

import (
	"os"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
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

// TestSmokeModel runs the latency model at tiny sizes: its profile run against the simulator, both modes, the table.
func TestSmokeModel(t *testing.T) {
	if code := orchestrate([]string{"-smoke", "-model"}); code != 0 {
		t.Fatalf("bench -smoke -model exited %d", code)
	}
}

// TestSmokeReportStep runs the report step benchmark at tiny sizes: plan and shards against the simulator, then the
// merge alone and the whole report step in fresh processes.
func TestSmokeReportStep(t *testing.T) {
	if code := orchestrate([]string{"-smoke", "-report-accounts", "1"}); code != 0 {
		t.Fatalf("bench -smoke -report-accounts exited %d", code)
	}
}

// TestCheckCalls: every call the simulator counts goes to the check whose IAM action names it, or to the job's own
// (organization, roles, delivery); the registry decides, so a new check is counted without an edit here.
func TestCheckCalls(t *testing.T) {
	cs := checks.All()
	calls := map[string]int{"organizations.ListAccountsForParent": 3, "organizations.ListTagsForResource": 4, "sts.AssumeRole": 5, "s3.PutObject": 2}
	wantOwn := 3 + 4 + 5 + 2
	want := map[string]int{}
	for i, c := range cs {
		for _, a := range c.Actions() {
			calls[strings.Replace(a, ":", ".", 1)] += 10 + i
			want[c.Name()] += 10 + i
		}
	}
	byCheck, own := checkCalls(calls, cs)
	if own != wantOwn || len(byCheck) != len(cs) {
		t.Fatalf("own %d, want %d; per check %v", own, wantOwn, byCheck)
	}
	for name, n := range want {
		if byCheck[name] != n {
			t.Errorf("%s: %d calls, want %d", name, byCheck[name], n)
		}
	}
}
