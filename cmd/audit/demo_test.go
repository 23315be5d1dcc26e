package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// demoMaxLines bounds what `audit demo` prints by default: the organization's digest (about 100 lines for the demo's
// 62 findings) and a footer. It printed 377 lines when every owner's digest followed the organization's.
const demoMaxLines = 130

// demoFooterFiles reads the footer's "Files written:" block: each line the path first, then what it holds. It fails
// the test when the footer is missing, is not the output's end, or leaves out "What happened" or "Try next".
func demoFooterFiles(t *testing.T, stdout string) map[string]string {
	t.Helper()
	i := strings.LastIndex(stdout, "\n----\n")
	if i < 0 {
		t.Fatalf("no footer:\n%s", stdout)
	}
	footer := stdout[i+len("\n----\n"):]
	whatHappened, filesAt, tryAt := strings.Index(footer, "What happened: "), strings.Index(footer, "\nFiles written:\n"), strings.Index(footer, "\nTry next:\n")
	if whatHappened != 0 || filesAt < 0 || tryAt < filesAt || !strings.Contains(footer, "twice") ||
		!strings.Contains(footer[tryAt:], "audit run -h") || !strings.Contains(footer[tryAt:], "-owners") {
		t.Fatalf("footer lacks what happened, its files or what to try next:\n%s", footer)
	}
	files := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(footer[filesAt+len("\nFiles written:\n"):tryAt]), "\n") {
		path, what, ok := strings.Cut(strings.TrimSpace(l), "  ")
		if !ok || !filepath.IsAbs(path) {
			t.Errorf("a file line does not start with its path: %q", l)
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("the footer names %s, which was not written: %v", path, err)
		}
		files[path] = strings.TrimSpace(what)
	}
	return files
}

// TestDemoPrintsTheOrganizationsDigestAndAFooter: by default the demo prints one digest, the organization's, then a
// footer saying what happened, its files with their paths first, and what to try next, within demoMaxLines; -owners
// adds each owner's digest, as SNS received it, before the footer.
func TestDemoPrintsTheOrganizationsDigestAndAFooter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "d.xlsx")
	var stdout, stderr bytes.Buffer
	if code := runCLI(context.Background(), []string{"demo", "-out", out, "-as-of", "2026-11-22"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	text := stdout.String()
	if n := strings.Count(text, "\n"); n > demoMaxLines {
		t.Errorf("the demo printed %d lines, want at most %d", n, demoMaxLines)
	}
	if n := strings.Count(text, "Subject: "); n != 1 || !strings.HasPrefix(text, "Subject: ") {
		t.Errorf("%d digests printed, want the organization's alone", n)
	}
	files := demoFooterFiles(t, text)
	if len(files) != 2 || !strings.HasPrefix(files[out], "the workbook") || files[filepath.Join(dir, "d.eml")] == "" {
		t.Errorf("footer files %v, want the workbook %s and the email beside it", files, out)
	}
	if !strings.Contains(text, "owners' digests were published beside it (-owners prints them)") {
		t.Errorf("the footer does not say the owners' digests are behind -owners:\n%s", text)
	}

	stdout.Reset()
	if code := runCLI(context.Background(), []string{"demo", "-owners", "-out", out, "-as-of", "2026-11-22"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("-owners: exit %d: %s", code, stderr.String())
	}
	// The owners' digests left the default output, not the goldens: -owners is held line by line as the default was.
	checkGolden(t, "demo-owners.txt.golden", strings.ReplaceAll(stdout.String(), dir, "<dir>"))
	owners := strings.Count(stdout.String(), "\nSubject: ") // the organization's is the first line
	if owners == 0 || !strings.Contains(stdout.String(), fmt.Sprintf("The %d owners' digests published beside it are printed after it.", owners)) {
		t.Errorf("-owners printed %d owners' digests\n%s", owners, stdout.String())
	}
	demoFooterFiles(t, stdout.String())
}
