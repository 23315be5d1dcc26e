//go:build unix

package report

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// keepPhoneRenderEnv names a directory the phone test also writes screenshots of each email to, at each width, to
// look at them.
const keepPhoneRenderEnv = "ORGAUDIT_KEEP_HTML_PHONE"

// layout is what a script in the page measured once it had loaded, at one window width.
type layout struct {
	// Viewport is the window's inner width: the width the page was laid out for.
	Viewport int `json:"viewport"`
	// Width is the page's layout width (the root's scrollWidth): wider than Viewport scrolls sideways or, shrunk
	// to fit, makes the text tiny.
	Width int `json:"width"`
	// Tables is the computed display of each findings table: "table" as rows under their headers, "block" as cards.
	Tables []string `json:"tables"`
	// Text is the page's rendered text (innerText: what CSS hides is not in it).
	Text string `json:"text"`
}

// frame lays the email out in an iframe as wide as a phone's or a desktop's screen: headless Chromium will not make
// its window narrower than 500 px, but an iframe is a viewport of its own, media queries and all, of any width. The
// script runs once everything has loaded, grows the frame to the page's height (so no scrollbar takes width from it;
// the host page shows no scrollbars of its own, which would narrow a screenshot), and writes what it measured into the
// DOM, which --dump-dom prints.
const frame = `<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body style="margin:0;overflow:hidden;">
<iframe id="email" style="display:block;border:0;width:%dpx;height:900px;" srcdoc="%s"></iframe>
<script>addEventListener("load", function () {
  var f = document.getElementById("email"), w = f.contentWindow, d = f.contentDocument;
  f.style.height = d.documentElement.scrollHeight + "px";
  var m = {viewport: w.innerWidth, width: d.documentElement.scrollWidth,
    tables: Array.prototype.map.call(d.querySelectorAll("table.oa-rows"), function (t) { return w.getComputedStyle(t).display; }),
    text: d.body.innerText};
  var pre = document.createElement("pre");
  pre.id = "orgaudit-measure";
  pre.textContent = JSON.stringify(m);
  document.body.appendChild(pre);
});</script>
</body></html>
`

var measured = regexp.MustCompile(`(?s)<pre id="orgaudit-measure">(.*?)</pre>`)

// measure lays page out in headless Chromium width pixels wide and reads what the frame's script measured; with shot
// set, it also takes a screenshot of it there.
func measure(t *testing.T, chromium, dir, page string, width int, shot string) layout {
	t.Helper()
	file := filepath.Join(dir, fmt.Sprintf("measure-%d.html", width))
	if err := os.WriteFile(file, []byte(fmt.Sprintf(frame, width, html.EscapeString(page))), 0o644); err != nil {
		t.Fatal(err)
	}
	profile, err := os.MkdirTemp(dir, "chromium-profile")
	if err != nil {
		t.Fatal(err)
	}
	out := runGroup(t, 2*time.Minute, dir, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+profile,
		fmt.Sprintf("--window-size=%d,900", max(width, 500)), "--dump-dom", "file://"+file)
	m := measured.FindSubmatch(out)
	if m == nil {
		t.Fatalf("the page's measure is not in Chromium's DOM at %d px:\n%.2000s", width, out)
	}
	var l layout
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &l); err != nil {
		t.Fatalf("the page's measure at %d px: %v", width, err)
	}
	if l.Viewport != width {
		t.Fatalf("Chromium laid the page out %d px wide, asked for %d", l.Viewport, width)
	}
	l.Text = strings.Join(strings.Fields(l.Text), " ")
	if shot != "" {
		headless(t, chromium, dir, fmt.Sprintf("--window-size=%d,2400", width), "--screenshot="+shot, "file://"+file)
	}
	return l
}

// phoneScenarios are results whose emails are as wide as they come: the memory scenario (new or worse with its
// Change column, fixed, could not re-check, not audited, suppression rules) with resource ids as long as AWS's ARNs
// and a long account name, and the money scenario (a Per month column).
func phoneScenarios(t *testing.T) map[string]*Result {
	t.Helper()
	memory := memoryScenario(t).r
	arn := func(id string) string {
		return "arn:aws:cloudformation:eu-west-1:111122223333:stack/" + id + "/5f0e9a40-1b2c-11ef-9c3d-0a1b2c3d4e5f"
	}
	for i := range memory.Findings {
		memory.Findings[i].ResourceID = arn(memory.Findings[i].ResourceID)
	}
	for i := range memory.Resolved {
		memory.Resolved[i].ResourceID = arn(memory.Resolved[i].ResourceID)
	}
	for i := range memory.Unverified {
		memory.Unverified[i].ResourceID = arn(memory.Unverified[i].ResourceID)
	}
	memory.Findings[0].AccountName = "shared-services-production-eu-west-1-networking"
	memory.Report = &Location{ConsoleURL: "https://s3.console.aws.amazon.com/s3/object/b?prefix=k",
		URL: "https://b.s3.amazonaws.com/k?X-Amz-Signature=" + strings.Repeat("f", 64)}
	return map[string]*Result{"memory": memory, "money": moneyScenario()}
}

// TestHTMLEmailFitsAPhoneInChromium lays the HTML email out in headless Chromium as a phone (390 px) and a desktop
// (1,200 px) show it: on the phone the page is no wider than the screen, each findings table is a stack of cards;
// on the desktop they are tables; at both widths every finding's account, resource, state and reason is on the page.
// It fails, never skips, without Chromium: CI installs it (.ci/run).
func TestHTMLEmailFitsAPhoneInChromium(t *testing.T) {
	t.Parallel()
	chromium := lookTool(t, "chromium", "apt-get install -y --no-install-recommends chromium")
	keep := os.Getenv(keepPhoneRenderEnv)
	for name, r := range phoneScenarios(t) {
		t.Run(name, func(t *testing.T) {
			page, err := HTML(r, MailOptions{Attached: "orgaudit.xlsx"})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for _, width := range []int{390, 1200} {
				shot := ""
				if keep != "" {
					shot = filepath.Join(keep, fmt.Sprintf("%s-%d.png", name, width))
				}
				l := measure(t, chromium, dir, page, width, shot)
				t.Logf("%s at %d px: laid out %d px wide, findings tables %v", name, width, l.Width, l.Tables)
				if l.Width > width {
					t.Errorf("at %d px the email lays out %d px wide", width, l.Width)
				}
				want := "table"
				if width < 600 {
					want = "block"
				}
				if len(l.Tables) == 0 {
					t.Errorf("at %d px no findings table", width)
				}
				for i, d := range l.Tables {
					if d != want {
						t.Errorf("at %d px findings table %d is displayed as %q, want %q", width, i, d, want)
					}
				}
				for i := range r.Findings {
					f := &r.Findings[i]
					for _, s := range []string{accountText(f.AccountName, f.AccountID), f.ResourceID, f.Reason, f.Check} {
						if !strings.Contains(l.Text, strings.Join(strings.Fields(s), " ")) {
							t.Errorf("at %d px %q (finding %s) is not on the page", width, s, f.ResourceID)
						}
					}
				}
				for _, f := range r.Resolved {
					if !strings.Contains(l.Text, f.ResourceID) {
						t.Errorf("at %d px the fixed %q is not on the page", width, f.ResourceID)
					}
				}
			}
		})
	}
}
