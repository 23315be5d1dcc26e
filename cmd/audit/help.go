package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/orgaudit/orgaudit/internal/config"
)

// flagGroup is one concern of a command's flags, as its help shows them together.
type flagGroup struct {
	title string
	names []string
}

// runFlagGroups orders `audit run -h` by what a person is deciding; every flag of run is in exactly one group
// (TestRunHelpGroupsEveryFlag), so a new flag has to be placed.
var runFlagGroups = []flagGroup{
	{"Scope: which accounts, regions and checks, and as of when", []string{"accounts", "exclude-accounts", "regions", "checks",
		"role", "external-id", "session-name", "as-of"}},
	{"Thresholds: what counts as a finding, and how urgent", []string{"expiry-days", "lapsed-days", "stuck-after", "on-demand", "suppressions"}},
	{"Delivery: where the results go, and the exit code", []string{"out", "json", "fail-on", "dry-run", "bucket", "prefix", "kms-key-id",
		"bucket-region", "url-expiry", "link-role-arn", "s3-path-style", "topic", "digest", "access-portal-url", "portal-role-name"}},
	{"History: what changed since the previous run", []string{"state-dir", "no-history", "run-id", "alert-records"}},
	{"Owners: who each account belongs to, and their digests", []string{"owner-tag", "owner-tag-budget", "owner-tag-rate", "owner-digests", "owner-topic"}},
	{"Email: the digest and workbook through Amazon SES", []string{"email-from", "email-to", "email-region"}},
	{"Running: concurrency, retries and time", []string{"concurrency", "timeout", "retry-mode", "max-attempts"}},
}

// runExamples open `audit run -h`: the common runs, each a line to copy.
const runExamples = `usage: audit run [flags]

Audits every account of the AWS Organization with the SDK's default configuration (profiles, SSO, AWS_* variables).

Examples:
  AWS_PROFILE=management audit run -regions all -out report.xlsx
  audit run -accounts 111122223333,444455556666 -checks rds-reserved-instances,ec2-reserved-instances -json
  audit run -bucket my-reports -topic arn:aws:sns:eu-west-1:111122223333:orgaudit     # deliver like the Lambda
  audit run -regions all -dry-run -fail-on critical,incomplete                         # in CI: exit 3 on either
`

// printGroupedFlags writes fs's flags group by group, in the flag package's own format; a flag no group names comes
// last under "Other", so none is ever hidden.
func printGroupedFlags(w io.Writer, fs *flag.FlagSet, groups []flagGroup) {
	placed := map[string]bool{}
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, name := range g.names {
			if f := fs.Lookup(name); f != nil {
				printFlag(w, f)
				placed[name] = true
			}
		}
	}
	var other []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !placed[f.Name] {
			other = append(other, f)
		}
	})
	if len(other) > 0 {
		fmt.Fprint(w, "\nOther:\n")
		for _, f := range other {
			printFlag(w, f)
		}
	}
}

// printFlag is one flag as flag.PrintDefaults shows it: name and type, then its usage and default.
func printFlag(w io.Writer, f *flag.Flag) {
	typ, usage := flag.UnquoteUsage(f)
	line := "  -" + f.Name
	if typ != "" {
		line += " " + typ
	}
	usage = strings.ReplaceAll(usage, "\n", "\n    \t")
	switch {
	case f.DefValue == "" || f.DefValue == "0" || f.DefValue == "false" || f.DefValue == "0s":
	case typ == "string":
		usage += fmt.Sprintf(" (default %q)", f.DefValue)
	default:
		usage += " (default " + f.DefValue + ")"
	}
	fmt.Fprintf(w, "%s\n    \t%s\n", line, usage)
}

// parseFlags parses args into fs. Help (-h) goes to w in full and returns flag.ErrHelp; any other mistake is returned as one error, without
// the flag package's dump of every flag, and an unknown flag close to a real one says which ("did you mean -regions?").
func parseFlags(fs *flag.FlagSet, args []string, w io.Writer) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(w)
	if errors.Is(err, flag.ErrHelp) {
		if _, werr := w.Write(buf.Bytes()); werr != nil {
			return fmt.Errorf("print the help: %w", werr)
		}
		return flag.ErrHelp
	}
	if err == nil {
		return nil
	}
	const undefined = "flag provided but not defined: -"
	if name, ok := strings.CutPrefix(err.Error(), undefined); ok {
		if best := closestFlag(fs, name); best != "" {
			return fmt.Errorf("%w (did you mean -%s?)", err, best)
		}
	}
	return fmt.Errorf("%w (%s -h lists the flags)", err, fs.Name())
}

// closestFlag is fs's flag nearest to name by edit distance, when it is near enough to be a typo: at most a third of
// the name's length, and at least 2 (a transposition).
func closestFlag(fs *flag.FlagSet, name string) string {
	best, bestDist := "", max(2, len(name)/3)+1
	fs.VisitAll(func(f *flag.Flag) {
		if d := config.EditDistance(name, f.Name); d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}
