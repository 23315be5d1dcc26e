package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// checksCommand lists the registered checks: the -checks value, what each finds, and the API calls it makes, which
// are the IAM actions the member role must grant it. It reads the registry, so a new check appears without an edit.
func checksCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "audit checks: unexpected argument %q\n", args[0])
		return exitUsage
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tFINDS\tAPI CALLS (IAM ACTIONS)")
	for _, c := range checks.All() {
		actions := c.Actions()
		first := "-"
		if len(actions) > 0 {
			first = actions[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name(), c.Title(), first)
		// One action a line: a check that calls several keeps its table readable in 80 columns.
		for _, a := range actions[min(1, len(actions)):] {
			fmt.Fprintf(tw, "\t\t%s\n", a)
		}
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "audit checks: %v\n", err)
		return exitFail
	}
	fmt.Fprintln(stdout, "\nRun only some with `audit run -checks NAME,NAME`. The member role grants exactly these actions (README: IAM).")
	return exitOK
}
