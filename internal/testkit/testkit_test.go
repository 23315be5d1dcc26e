package testkit_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// TestBufferTakesConcurrentWrites: loggers on many goroutines write while the test reads; every line arrives whole
// (run with -race to hold the lock).
func TestBufferTakesConcurrentWrites(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	const writers, lines = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each goroutine its own handler, as separate loggers share one writer: only the buffer's lock orders them.
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			for i := range lines {
				logger.Info("line", "writer", w, "i", i)
				_ = logs.String()
			}
		}()
	}
	wg.Wait()
	got := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines, want %d", len(got), writers*lines)
	}
	for _, l := range got {
		if !strings.HasPrefix(l, "{") || !strings.HasSuffix(l, "}") {
			t.Fatalf("a torn line: %q", l)
		}
	}
}

// TestStartSimStopsWithTheTest: the simulator answers during the test that started it and is closed when it ends.
func TestStartSimStopsWithTheTest(t *testing.T) {
	t.Parallel()
	var client *sts.Client
	t.Run("uses", func(t *testing.T) {
		sim := testkit.StartSim(t, awssim.Demo(time.Now()))
		cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
		cfg.RetryMaxAttempts = 1
		client = sts.NewFromConfig(cfg)
		if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("while the test runs: %v", err)
		}
	})
	if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err == nil {
		t.Error("the simulator still answers after its test ended")
	}
}

// TestStartEnforcedEnforcesTheTemplates: the job's own role may list the organization; a principal no template role
// covers (the account the StackSet never reached) is refused.
func TestStartEnforcedEnforcesTheTemplates(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(time.Now())
	sim := testkit.StartEnforced(t, org, testkit.DemoDeployment(org))
	list := func(account string) error {
		_, err := organizations.NewFromConfig(sim.Config(account, awssim.DemoHomeRegion)).ListRoots(context.Background(), &organizations.ListRootsInput{})
		return err
	}
	if err := list(awssim.DemoManagementAccount); err != nil {
		t.Errorf("the execution role: %v", err)
	}
	if err := list(awssim.DemoMissingRole); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("no role: %v, want AccessDeniedException", err)
	}
	if len(sim.Denials()) != 1 {
		t.Errorf("denials %+v, want the one refusal", sim.Denials())
	}
}
