package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLambdaBuildLinksNoSimulator holds the function's artifact to the real job: built as deploy/package builds it
// (-tags lambda.norpc), cmd/audit depends on no package of the simulated organization, nor on a test helper.
func TestLambdaBuildLinksNoSimulator(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var ours []string
	for _, pkg := range strings.Fields(string(out)) {
		if !strings.HasPrefix(pkg, "github.com/orgaudit/orgaudit/") {
			continue
		}
		ours = append(ours, pkg)
		if strings.Contains(pkg, "awssim") || strings.HasSuffix(pkg, "test") || strings.Contains(pkg, "testkit") {
			t.Errorf("the Lambda build links %s", pkg)
		}
	}
	if len(ours) < 5 {
		t.Errorf("the Lambda build's packages of ours are %v: go list did not list the build", ours)
	}
}
