package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestRunHelpGroupsEveryFlag: `audit run -h` exits 0 with examples, then the flags by concern in the groups' order;
// every flag run defines is in exactly one group, so none lands under "Other".
func TestRunHelpGroupsEveryFlag(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := runCLI(context.Background(), []string{"run", "-h"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	help := stdout.String() + stderr.String()
	if !strings.HasPrefix(help, "usage: audit run [flags]") || !strings.Contains(help, "\nExamples:\n  AWS_PROFILE=management audit run") {
		t.Errorf("help does not open with the usage and examples:\n%s", help)
	}
	if strings.Contains(help, "\nOther:\n") {
		t.Errorf("a flag is in no group:\n%s", help)
	}
	last := -1
	for _, g := range runFlagGroups {
		at := strings.Index(help, "\n"+g.title+":\n")
		if at < last {
			t.Errorf("group %q missing or out of order", g.title)
		}
		last = at
	}
	for _, want := range []string{"Scope", "Thresholds", "Delivery", "History", "Owners", "Email"} {
		if !slices.ContainsFunc(runFlagGroups, func(g flagGroup) bool { return strings.HasPrefix(g.title, want+":") }) {
			t.Errorf("no %s group", want)
		}
	}
	// Every flag the help lists (all of run's: an unplaced one would be under "Other") in one group, and no group
	// names a flag that is not one.
	var defined []string
	if _, err := parseRunFlags([]string{"-h"}, io.Discard); err == nil {
		t.Fatal("-h parsed as settings")
	}
	placed := map[string]int{}
	for _, g := range runFlagGroups {
		for _, n := range g.names {
			placed[n]++
		}
	}
	for _, line := range strings.Split(help, "\n") {
		if name, ok := strings.CutPrefix(line, "  -"); ok {
			name, _, _ = strings.Cut(name, " ")
			defined = append(defined, name)
		}
	}
	for _, n := range defined {
		if placed[n] != 1 {
			t.Errorf("flag -%s is in %d groups, want 1", n, placed[n])
		}
	}
	for n := range placed {
		if !slices.Contains(defined, n) {
			t.Errorf("a group names -%s, which run does not define", n)
		}
	}
	if len(defined) < 40 {
		t.Errorf("help lists %d flags: %v", len(defined), defined)
	}
}

// TestMistypedFlagSaysDidYouMean: an unknown flag near a real one names it; one near none says where the flags are;
// either is one line on stderr and exit 2, not the whole list of flags.
func TestMistypedFlagSaysDidYouMean(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"did you mean -regions?":         {"run", "-regoins", "all"},
		"did you mean -concurrency?":     {"run", "-concurency", "3"},
		"did you mean -fail-on?":         {"run", "--failon=critical"},
		"did you mean -owners?":          {"demo", "-owner"},
		"(audit run -h lists the flags)": {"run", "-zzz"},
	}
	for want, args := range cases {
		var stdout, stderr bytes.Buffer
		code := runCLI(context.Background(), args, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q, want %q on one line", args, code, stderr.String(), want)
		}
	}
}
