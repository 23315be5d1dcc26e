// Package testkit holds the helpers the tests of several packages share, so each has one copy: a log buffer that
// goroutines (or a child process's output) write while the test reads, and the simulated organization started for one
// test, with or without the templates' IAM, and stopped when the test ends. moto_server's fixtures are in
// internal/mototest. Only test files import it (and mototest, a test helper too); the product never does:
// cmd/audit's TestLambdaBuildLinksNoSimulator fails if the Lambda build links it.
package testkit

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	templates "github.com/orgaudit/orgaudit/deploy/cloudformation"
	"github.com/orgaudit/orgaudit/internal/awssim"
)

// Buffer collects what several goroutines write, for a test to read while they still write: give it to
// slog.NewJSONHandler or slog.NewTextHandler, or as a child process's Stdout and Stderr. The zero value is ready.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// StartSim starts a simulator of org on a free loopback port, without IAM enforcement, and closes it when the test
// (and its subtests) end.
func StartSim(t testing.TB, org *awssim.Organization) *awssim.Server {
	t.Helper()
	return start(t, awssim.New(org))
}

// StartEnforced starts a simulator of org that enforces the templates as d deploys them, and closes it when the test
// ends.
func StartEnforced(t testing.TB, org *awssim.Organization, d awssim.Deployment) *awssim.Server {
	t.Helper()
	sim := awssim.New(org)
	if err := sim.EnforceTemplates(d); err != nil {
		t.Fatal(err)
	}
	return start(t, sim)
}

// DemoDeployment deploys the shipped templates (deploy/cloudformation) for org in the single mode, the report bucket
// encrypted with the demo's KMS key: what a test of the function as deployed enforces.
func DemoDeployment(org *awssim.Organization) awssim.Deployment {
	return awssim.DemoDeployment(org, templates.Management, templates.MemberRole, awssim.DemoKMSKeyARN)
}

func start(t testing.TB, sim *awssim.Server) *awssim.Server {
	t.Helper()
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	if !strings.HasPrefix(sim.URL(), "http://127.0.0.1:") {
		t.Fatalf("the simulator must bind loopback only: %s", sim.URL())
	}
	return sim
}
