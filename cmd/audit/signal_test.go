package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// TestSignalStopsEveryStage: Ctrl-C (SIGINT) or SIGTERM to `audit run` in the middle of its audit stops the run:
// no workbook, no upload, no digest, the exit status says which signal, and stderr says the run was stopped. The
// audit's calls hang until the caller gives up, so only the signal can end the run.
func TestSignalStopsEveryStage(t *testing.T) {
	t.Parallel()
	for name, sig := range map[string]syscall.Signal{"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim, env := demoChildEnv(t)
			auditing := make(chan struct{}, 1)
			sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
				if c.Service != "ec2" {
					return nil
				}
				select {
				case auditing <- struct{}{}:
				default:
				}
				<-ctx.Done() // the child hung up
				return &awssim.Fault{Status: 500, Code: "InternalError", Message: "the caller went away"}
			})
			out := filepath.Join(t.TempDir(), "run.xlsx")
			cmd, stderr := startMain(t, env, "run", "-regions", "all", "-external-id", awssim.DemoExternalID, "-as-of", "2026-11-22",
				"-bucket", awssim.DemoBucket, "-topic", awssim.DemoTopicARN(), "-s3-path-style", "-out", out, "-concurrency", "4")
			reach(t, auditing, "the audit", stderr)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			code := waitMain(t, cmd, stderr)
			if want := 128 + int(sig); code != want {
				t.Errorf("exit %d, want %d\n%s", code, want, stderr)
			}
			if !strings.Contains(stderr.String(), "stopped by "+name) {
				t.Errorf("stderr does not say the run was stopped by %s:\n%s", name, stderr)
			}
			if n, w := len(sim.Digests()), len(sim.Workbooks()); n != 0 || w != 0 {
				t.Errorf("a stopped run delivered %d digests and %d workbooks", n, w)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a stopped run wrote its workbook: %v", err)
			}
		})
	}
}

// TestSecondSignalExitsAtOnce: after the first signal the run stops its stages; a second signal exits at once,
// whatever is still running. (In a child process every stage of `audit run` now ends at the first signal, so there
// is no stage left to hold it for the second: the watcher is driven directly.)
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	sigs := make(chan os.Signal, 2)
	var stderr bytes.Buffer
	var cause error
	exited := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		watchSignals(sigs, func(err error) { cause = err }, &stderr, func(code int) { exited <- code })
		close(done)
	}()
	sigs <- syscall.SIGINT
	sigs <- syscall.SIGTERM
	code := <-exited
	<-done
	if code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit %d after a second signal (SIGTERM), want %d", code, 128+int(syscall.SIGTERM))
	}
	var stop *stoppedError
	if !errors.As(cause, &stop) || stop.sig != syscall.SIGINT {
		t.Errorf("the first signal cancelled with %v, want the stop by SIGINT", cause)
	}
	for _, want := range []string{"SIGINT: stopping", "again to exit at once", "SIGTERM: exiting now"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// reach waits for the child to reach a stage; the bound only keeps a child that never gets there from hanging the
// suite.
func reach(t *testing.T, reached <-chan struct{}, stage string, stderr fmt.Stringer) {
	t.Helper()
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatalf("the child did not reach %s in a minute:\n%s", stage, stderr)
	}
}

// startMain starts the binary's main in a child process; stderr fills as it runs.
func startMain(t *testing.T, env []string, args ...string) (*exec.Cmd, *testkit.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"ORGAUDIT_TEST_MAIN=1", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true"}, env...)
	stderr := &testkit.Buffer{}
	cmd.Stdout, cmd.Stderr = &testkit.Buffer{}, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, stderr
}

// waitMain waits for the child's exit code. The bound only keeps a hung child from hanging the suite: a child that
// honours its signal exits in well under a second.
func waitMain(t *testing.T, cmd *exec.Cmd, stderr fmt.Stringer) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the child still runs a minute after its signal:\n%s", stderr)
		return -1
	}
}
