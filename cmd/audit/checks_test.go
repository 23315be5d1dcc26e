package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// TestChecksListsEveryCheckAndAction: `audit checks` prints one row per registered check, its name and title on the
// same line, and every IAM action it calls on a line of that check's block.
func TestChecksListsEveryCheckAndAction(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := runCLI(context.Background(), []string{"checks"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(stdout.String(), "\n")
	if !strings.HasPrefix(lines[0], "CHECK ") {
		t.Errorf("no header: %q", lines[0])
	}
	all := checks.All()
	for i, c := range all {
		start := -1
		for j, l := range lines {
			if strings.HasPrefix(l, c.Name()+" ") && strings.Contains(l, c.Title()) {
				start = j
			}
		}
		if start < 0 {
			t.Errorf("no row for %s (%q)", c.Name(), c.Title())
			continue
		}
		// The check's block runs to the next check's row.
		block := lines[start:]
		if i+1 < len(all) {
			for j, l := range block[1:] {
				if strings.HasPrefix(l, all[i+1].Name()+" ") {
					block = block[:j+1]
					break
				}
			}
		}
		if len(c.Actions()) == 0 {
			t.Errorf("%s declares no actions", c.Name())
		}
		for _, a := range c.Actions() {
			if !strings.Contains(strings.Join(block, "\n"), " "+a) {
				t.Errorf("%s: action %s not in its rows\n%s", c.Name(), a, strings.Join(block, "\n"))
			}
		}
	}
	if code := runCLI(context.Background(), []string{"checks", "extra"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("checks with an argument: exit %d, want %d", code, exitUsage)
	}
}
