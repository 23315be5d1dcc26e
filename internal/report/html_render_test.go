//go:build unix

package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// keepHTMLRenderEnv names a .png file the HTML render test also writes a screenshot of the email to, to look at it.
const keepHTMLRenderEnv = "ORGAUDIT_KEEP_HTML_RENDER"

// TestHTMLDigestAsAPersonSeesItInChromium opens the HTML email in a browser (headless Chromium, printing to PDF) and
// reads what is on the page: the money at risk in the counts, the headline and each commitment's figure, as a person
// reading the mail sees them. It fails, never skips, without Chromium or poppler: CI installs both (.ci/run).
func TestHTMLDigestAsAPersonSeesItInChromium(t *testing.T) {
	t.Parallel()
	chromium := lookTool(t, "chromium", "apt-get install -y --no-install-recommends chromium")
	pdftotext := lookTool(t, "pdftotext", "apt-get install -y --no-install-recommends poppler-utils")
	page, err := HTML(moneyScenario(), MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "digest.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(dir, "digest.pdf")
	headless(t, chromium, dir, "--no-pdf-header-footer", "--print-to-pdf="+pdf, "file://"+file)
	if keep := os.Getenv(keepHTMLRenderEnv); keep != "" {
		headless(t, chromium, dir, "--window-size=1200,2000", "--screenshot="+keep, "file://"+file)
	}
	// A table cell wraps its text over lines; the words, in order, are what a reader reads.
	text := strings.Join(strings.Fields(run(t, pdftotext, pdf, "-")), " ")

	for _, want := range []string{
		// The counts' box, and the headline under them (moneyScenario works the figures out by hand).
		"$3,066", "a month at risk (critical and warning)",
		"Money: $3,066/mo at risk in 4 critical and warning commitments; $512/mo more in 1 notice commitment; " +
			"2 commitments with no USD figure at risk, in no sum (EUR 812/mo at risk apart)",
		"Per month",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("%q is not on the page:\n%s", want, text)
		}
	}
	// Each commitment's figure, once: ri-a-lapsing, ri-a-smaller, os-b-eur, ri-b-big, sp-b-renewed, ri-b-unpriced,
	// ri-a-later.
	for _, want := range []string{"3 days left $511/mo, all at risk", "5 days left $1,022/mo, $511 at risk",
		"6 days left EUR 812/mo, all at risk, in no USD sum", "20 days left $2,044/mo, all at risk", "25 days left $730/mo, none at risk",
		"28 days left price unknown: the reservation reports no price", "60 days left $512/mo, all at risk"} {
		if n := strings.Count(text, want); n != 1 {
			t.Errorf("%q is on the page %d times, want once:\n%s", want, n, text)
		}
	}
}

// lookTool is the path of a tool the test needs; a missing one fails the test, saying how to install it.
func lookTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not on PATH (%v); install it: %s", name, err, install)
	}
	return p
}

// headless runs Chromium headless on what args say, with a profile of its own in dir and nothing that reaches the
// network. Chromium starts child processes, so on timeout the whole process group is killed.
func headless(t *testing.T, chromium, dir string, args ...string) {
	t.Helper()
	profile, err := os.MkdirTemp(dir, "chromium-profile")
	if err != nil {
		t.Fatal(err)
	}
	runGroup(t, 2*time.Minute, dir, chromium, append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile}, args...)...)
}
