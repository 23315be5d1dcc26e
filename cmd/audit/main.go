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
	"strings"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgaudit/orgaudit/internal/report"
)

// Exit codes: 0 the audit ran (findings or not), 1 nothing could be audited or delivery failed, 2 bad usage, and
// exitFailOn (3) a run that met a -fail-on condition.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// usage lists the commands this build has: the Lambda build (-tags lambda.norpc) leaves out demo and simulate, which
// carry the simulated organization (simulator.go).
func usage() string {
	var b strings.Builder
	b.WriteString("usage: audit <command> [flags]\n\ncommands:\n")
	if simulatorCommands != nil {
		b.WriteString("  demo   run the whole job against a built-in simulated organization (no AWS account needed)\n")
	}
	b.WriteString("  run    audit a real AWS Organization with the SDK's default configuration (profiles, SSO, env)\n")
	if simulatorCommands != nil {
		b.WriteString("  simulate  run the job on a generated organization of any size with injected faults, and print the figures\n")
	}
	b.WriteString("  suppressions check FILE  validate a suppressions file offline\n")
	b.WriteString("  alert -event FILE  handle one CloudFormation failure event as the function does: print its alert, publish with -topic\n")
	b.WriteString("  checks  list each check: what it finds and the API calls (IAM actions) it makes\n")
	b.WriteString("  version print the module version and the commit this binary was built from\n\n")
	b.WriteString("Run \"audit <command> -h\" for the command's flags. Under AWS Lambda the binary serves the scheduled job instead.\n")
	return b.String()
}

// command runs one subcommand with its arguments.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// simulatorCommands are the commands that start the simulated organization, set by simulator.go in every build but
// the Lambda's: the function's artifact links no simulator.
var simulatorCommands map[string]command

func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		lambda.Start(newLambdaHandler(os.Getenv, loadAWSConfig))
		return
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go watchSignals(sigs, cancel, os.Stderr, os.Exit)
	code := runCLI(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var stopped *stoppedError
	// A signal that came after the run had finished stopped nothing: its exit code stands.
	if code != exitOK && errors.As(context.Cause(ctx), &stopped) {
		fmt.Fprintf(os.Stderr, "audit: %s\n", stopped)
		code = stopped.exitCode()
	}
	os.Exit(code)
}

// watchSignals turns the first SIGINT or SIGTERM into the run's cancellation, which every stage honours (the audit's
// calls, the owner tag reads, the report and delivery), and a second one into an exit at once: a person pressing
// Ctrl-C twice means it.
func watchSignals(sigs <-chan os.Signal, cancel context.CancelCauseFunc, stderr io.Writer, exit func(int)) {
	first := <-sigs
	fmt.Fprintf(stderr, "\naudit: %s: stopping (send it again to exit at once)\n", signalName(first))
	cancel(&stoppedError{sig: first})
	second := <-sigs
	fmt.Fprintf(stderr, "audit: %s: exiting now\n", signalName(second))
	exit((&stoppedError{sig: second}).exitCode())
}

// stoppedError is the run's cancellation by a signal.
type stoppedError struct{ sig os.Signal }

func (e *stoppedError) Error() string {
	return "stopped by " + signalName(e.sig) + " before it finished; what it had not yet delivered was not delivered"
}

// exitCode is the shell's for a process ended by the signal: 128 and its number (130 for SIGINT, 143 for SIGTERM).
func (e *stoppedError) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitFail
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	default:
		return s.String()
	}
}

func runCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	if cmd, ok := simulatorCommands[args[0]]; ok {
		return cmd(ctx, args[1:], stdout, stderr)
	}
	switch args[0] {
	case "run":
		return runCommand(ctx, args[1:], stdout, stderr)
	case "suppressions":
		return suppressionsCommand(args[1:], stdout, stderr)
	case "alert":
		return alertCommand(ctx, args[1:], stdout, stderr)
	case "checks":
		return checksCommand(args[1:], stdout, stderr)
	case "version":
		return versionCommand(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	fmt.Fprintf(stderr, "audit: unknown command %q\n\n%s", args[0], usage())
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

// usageError is an error from bad flags or settings rather than from running.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }
