// Command audit audits every account of an AWS Organization: `audit demo` against the built-in simulated
// organization, `audit run` against real AWS, and, when started by the Lambda runtime, the scheduled job.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgaudit/orgaudit/internal/report"
)

// Exit codes: 0 the audit ran (findings or not), 1 nothing could be audited or delivery failed, 2 bad usage.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usage = `usage: audit <command> [flags]

commands:
  demo   run the whole job against a built-in simulated organization (no AWS account needed)
  run    audit a real AWS Organization with the SDK's default configuration (profiles, SSO, env)
  simulate  run the job on a generated organization of any size with injected faults, and print the figures
  suppressions check FILE  validate a suppressions file offline

Run "audit <command> -h" for the command's flags. Under AWS Lambda the binary serves the scheduled job instead.
`

func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		lambda.Start(newLambdaHandler(os.Getenv, loadAWSConfig))
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runCLI(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func runCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "demo":
		return demoCommand(ctx, args[1:], stdout, stderr)
	case "run":
		return runCommand(ctx, args[1:], stdout, stderr)
	case "simulate":
		return simulateCommand(ctx, args[1:], stdout, stderr)
	case "suppressions":
		return suppressionsCommand(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "audit: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// writeJSON prints v as indented JSON whose strings cannot carry a terminal escape, bidi or zero-width character
// raw: AWS text in the result is escaped, not changed.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(report.EscapeJSON(b.Bytes()))
	return err
}

// isUsage reports whether err came from bad flags or settings rather than from running.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}
