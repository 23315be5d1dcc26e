package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/report"
)

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	rf, err := parseRunFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "audit run: %v\n", err)
		return exitUsage
	}
	cfg, err := loadAWSConfig()
	if err != nil {
		fmt.Fprintf(stderr, "audit run: load AWS configuration: %s\n", errText(err))
		if hint := configHint(err); hint != "" {
			fmt.Fprintf(stderr, "audit run: hint: %s\n", errText(errors.New(hint)))
		}
		return exitFail
	}
	if cfg.Region == "" && !(len(rf.settings.Regions) > 0) {
		fmt.Fprintln(stderr, "audit run: no region: set AWS_REGION, a profile region, or -regions")
		return exitUsage
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if hint, err := checkCredentials(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "audit run: %s\n", errText(err))
		fmt.Fprintf(stderr, "audit run: hint: %s\n", errText(errors.New(hint)))
		return exitFail
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := audit.Options{Logger: logger, WorkbookPath: rf.out, Progress: progressPrinter(stderr)}
	out, err := audit.Run(ctx, cfg, rf.settings, opts)
	if opts.Progress != nil {
		fmt.Fprintln(stderr)
	}
	return finish(out, err, rf.json, rf.failOn, stdout, stderr)
}

// finish prints the result and maps the outcome to an exit code: a run that failed keeps exit 1 whatever -fail-on
// says, and one that went through exits 3 when it meets a -fail-on condition.
func finish(out *audit.Output, err error, asJSON bool, fail failOn, stdout, stderr io.Writer) int {
	if out == nil {
		fmt.Fprintf(stderr, "audit: %s\n", errText(err))
		return exitFail
	}
	if asJSON {
		if werr := writeJSON(stdout, out.Result); werr != nil {
			fmt.Fprintf(stderr, "audit: write result: %s\n", errText(werr))
			return exitFail
		}
	} else {
		fmt.Fprintf(stdout, "Subject: %s\n\n%s", out.Subject, out.Digest)
	}
	// The digest leaves the local path out (it may be mailed); the person at the terminal still learns it.
	if loc := out.Result.Report; loc != nil && loc.Path != "" {
		fmt.Fprintf(stderr, "audit: workbook written to %s\n", loc.Path)
	}
	if err != nil {
		fmt.Fprintf(stderr, "audit: %s\n", errText(err))
		return exitFail
	}
	return failOnExit(out.Result, fail, stderr)
}

// failOnExit is exitFailOn, saying why on stderr, when r meets a -fail-on condition, and exitOK otherwise.
func failOnExit(r *report.Result, fail failOn, stderr io.Writer) int {
	if why := fail.why(r); why != "" {
		fmt.Fprintf(stderr, "audit: -fail-on %s: %s\n", fail, why)
		return exitFailOn
	}
	return exitOK
}

// errText is an error for the terminal. Errors from a run carry AWS's messages, which may hold line breaks and
// escape, bidi or zero-width characters (some echo names customers chose): folded to one line behind our prefix,
// they cannot forge a line of output or drive the terminal.
func errText(err error) string { return report.Inline(err.Error()) }

// progressPrinter reports finished cells on stderr when it is a terminal, and stays silent in pipes and logs.
func progressPrinter(stderr io.Writer) func(int) {
	f, ok := stderr.(*os.File)
	if !ok {
		return nil
	}
	if info, err := f.Stat(); err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return func(done int) {
		if done%10 == 0 {
			fmt.Fprintf(f, "\raudited %d cells ", done)
		}
	}
}
