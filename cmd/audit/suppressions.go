package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/report"
)

const suppressionsUsage = `usage: audit suppressions check [-as-of DATE] FILE

Validates a suppressions file offline, as a run on DATE (default today, UTC) would read it: exit 0 and "ok: N rules"
when it is good, exit 2 with every reason and its line when it is not.
`

// suppressionsCommand is `audit suppressions check FILE`: the file a run would otherwise set aside with a warning is
// caught before it is uploaded.
func suppressionsCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(stderr, suppressionsUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("audit suppressions check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, suppressionsUsage) }
	asOfFlag := fs.String("as-of", "", "validate as a run on this UTC date or RFC 3339 time would (default: now)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, suppressionsUsage)
		return exitUsage
	}
	now := time.Now().UTC()
	if *asOfFlag != "" {
		t, err := config.ParseAsOf(*asOfFlag)
		if err != nil {
			fmt.Fprintf(stderr, "audit suppressions check: %s\n", errText(err))
			return exitUsage
		}
		now = t
	}
	name := fs.Arg(0)
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintf(stderr, "audit suppressions check: %s\n", errText(err))
		return exitUsage
	}
	defer f.Close()
	rules, err := history.ReadSuppressions(f, now, checks.Names())
	var invalid *history.InvalidError
	switch {
	case errors.As(err, &invalid):
		fmt.Fprintf(stderr, "%s is invalid (the run would apply no suppressions):\n", report.Inline(name))
		for _, p := range invalid.Problems {
			fmt.Fprintf(stderr, "  %s\n", report.Inline(p.String()))
		}
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "audit suppressions check: %s\n", errText(err))
		return exitUsage
	}
	fmt.Fprintf(stdout, "ok: %d rules\n", len(rules.Rules))
	// What a run today would say of the rules, beside the findings it cannot know offline.
	rep := rules.Report(nil, now, time.Time{})
	for _, r := range rep.Expired {
		fmt.Fprintf(stdout, "  line %d: expired %s, no longer suppresses (%s)\n", r.Line, r.Expires.Format(time.DateOnly), report.Inline(r.Check))
	}
	for _, r := range rep.ExpiringSoon {
		fmt.Fprintf(stdout, "  line %d: expires %s, within %d days (%s)\n", r.Line, r.Expires.Format(time.DateOnly), int(history.ExpiringWithin.Hours()/24), report.Inline(r.Check))
	}
	return exitOK
}
