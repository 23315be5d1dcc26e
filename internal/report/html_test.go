package report

import (
	"fmt"
	"html"
	"slices"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// htmlDoc is an HTML email as a browser reads it: its elements, attributes and text.
type htmlDoc struct {
	elements map[string]int
	attrs    []xhtml.Attribute
	text     []string
	// stylesheets counts the template's own <style> block (phoneStyle) in <head>, which is not in elements or text:
	// any other <style> element is.
	stylesheets int
}

func readHTML(t *testing.T, s string) htmlDoc {
	t.Helper()
	root, err := xhtml.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	d := htmlDoc{elements: map[string]int{}}
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		switch n.Type {
		case xhtml.ElementNode:
			if n.Data == "style" && n.Parent != nil && n.Parent.Data == "head" && n.FirstChild != nil && n.FirstChild == n.LastChild &&
				strings.TrimSpace(n.FirstChild.Data) == strings.TrimSpace(phoneStyle) {
				d.stylesheets++
				return
			}
			d.elements[n.Data]++
			d.attrs = append(d.attrs, n.Attr...)
		case xhtml.TextNode:
			d.text = append(d.text, n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return d
}

func (d htmlDoc) hrefs() []string {
	var out []string
	for _, a := range d.attrs {
		if a.Key == "href" {
			out = append(out, a.Val)
		}
	}
	return out
}

// TestHTMLHostileTextCannotAddMarkup: AWS text that tries to close the cell and open markup of its own, run script, or
// smuggle a link, and carries line breaks, escapes, bidi and zero-width characters, is shown as text in its cell.
func TestHTMLHostileTextCannotAddMarkup(t *testing.T) {
	t.Parallel()
	const evil = `ok</td></tr></table><script>alert(1)</script><img src=x onerror=alert(2)><a href="https://evil.example/x.xlsx">Download the workbook</a>` +
		"\n<style>body{display:none}</style>\x1b]8;;https://evil.example\x07\u202e\u200b\x00\xff"
	f := finding(1, checks.Critical, "service-catalog-products")
	f.AccountName, f.AccountID, f.Region, f.ResourceID, f.ResourceName, f.Status, f.Reason = evil, evil, evil, evil, evil+"2", evil, evil
	f.SetDetail("product", evil)
	f.SetDetail("version", evil)
	links := []string{"javascript:alert(3)", "https://console.aws.amazon.com/x\"onmouseover=\"alert(4)", "data:text/html,<script>alert(5)</script>",
		"//evil.example/x", "https://console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks?filteringText=<b>x</b>"}
	var fs []checks.Finding
	for i, link := range links {
		g := f
		g.ResourceID = fmt.Sprintf("%s-%d", evil, i)
		g.ConsoleURL = link
		fs = append(fs, g)
	}
	fan := fanOut(fs, nil, []crossaccount.Failure{
		{AccountID: evil, AccountName: evil, Region: evil, Check: evil, Code: evil, Message: evil},
		{Code: evil, Message: evil},
	})
	fan.Scope = evil
	fan.Skipped = []crossaccount.Skipped{{AccountID: evil, AccountName: evil, Reason: evil}}
	r := Build(evil, asOf, []string{evil, "eu-west-1"}, checks.All(), fan)
	expires := asOf.Add(time.Hour)
	r.Report = &Location{URL: "javascript:alert(6)", URLExpiresAt: &expires, URLNote: evil, ConsoleURL: "https://s3.console.aws.amazon.com/s3/object/b?prefix=" + evil}
	r.Warnings = []string{evil}
	out, err := HTML(r, MailOptions{NotAttached: evil})
	if err != nil {
		t.Fatal(err)
	}
	doc := readHTML(t, out)
	if doc.stylesheets != 1 {
		t.Errorf("%d of the template's stylesheets in <head>, want 1", doc.stylesheets)
	}
	allowed := []string{"html", "head", "meta", "title", "body", "table", "tbody", "tr", "td", "th", "div", "b", "a", "span"}
	for el := range doc.elements {
		if !slices.Contains(allowed, el) {
			t.Errorf("the HTML holds a <%s> element: AWS text became markup", el)
		}
	}
	for _, a := range doc.attrs {
		if strings.HasPrefix(strings.ToLower(a.Key), "on") || a.Key == "src" {
			t.Errorf("attribute %s=%q", a.Key, a.Val)
		}
	}
	// Only the https console link survives, escaped; the others are not links at all.
	for _, h := range doc.hrefs() {
		if !strings.HasPrefix(h, "https://console.aws.amazon.com/") && !strings.HasPrefix(h, "https://s3.console.aws.amazon.com/") {
			t.Errorf("href %q", h)
		}
		if strings.ContainsAny(h, "\"<> ") {
			t.Errorf("href %q holds characters that could leave the attribute", h)
		}
	}
	if n := len(doc.hrefs()); n != 2 {
		t.Errorf("%d links, want the one https console link of a finding and the S3 console link: %v", n, doc.hrefs())
	}
	shown := false
	for _, text := range doc.text {
		if bad := forbiddenRunes(text); bad != "" && strings.TrimSpace(text) != "" {
			t.Errorf("text %q holds %s", text, bad)
		}
		if strings.Contains(text, `ok</td></tr></table><script>alert(1)</script><img src=x onerror=alert(2)>`) {
			shown = true
		}
	}
	if !shown {
		t.Errorf("the hostile text itself must still be shown, as text:\n%.3000s", out)
	}
	if strings.Contains(out, "\u202e") || strings.Contains(out, "\x1b") {
		t.Error("a bidi override or escape reached the HTML")
	}
}

// TestHTMLShowsEveryFindingOfTheTextDigest: whatever the text part lists (new, escalated, still open, fixed, could
// not re-check, not audited), the HTML part lists too, including when the text digest is cut to its limit.
func TestHTMLShowsEveryFindingOfTheTextDigest(t *testing.T) {
	t.Parallel()
	many := func(n int) *Result {
		var fs []checks.Finding
		var cells []crossaccount.Cell
		for i := range n {
			sev := checks.Severities[i%len(checks.Severities)]
			f := finding(i, sev, "cloudformation-failed-stacks")
			fs = append(fs, f)
			cells = append(cells, crossaccount.Cell{AccountID: f.AccountID, Region: f.Region, Check: f.Check, Outcome: crossaccount.OutcomeFindings})
		}
		checks.SortFindings(fs)
		return Build("run", asOf, []string{"eu-west-1"}, checks.All(), fanOut(fs, cells, []crossaccount.Failure{
			{AccountID: "999999999999", AccountName: "broken", Region: "eu-west-1", Check: "cloudformation-failed-stacks", Code: "AccessDenied", Message: "no role"}}))
	}
	cases := map[string]*Result{"with memory": memoryScenario(t).r, "first run": many(40), "cut to the limit": many(7_000)}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text := EmailText(r, MailOptions{Attached: "orgaudit-run.xlsx"})
			out, err := HTML(r, MailOptions{Attached: "orgaudit-run.xlsx"})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, f := range r.Findings {
				ids = append(ids, f.ResourceID)
			}
			for _, f := range r.Resolved {
				ids = append(ids, f.ResourceID)
			}
			for _, u := range r.Unverified {
				ids = append(ids, u.ResourceID)
			}
			listed := 0
			for _, id := range ids {
				if !strings.Contains(text, " "+id) {
					continue
				}
				listed++
				if !strings.Contains(out, ">"+html.EscapeString(id)) {
					t.Errorf("%s is in the text digest, not in the HTML", id)
				}
			}
			for _, e := range r.Errors {
				if strings.Contains(text, e.Code) && !strings.Contains(out, e.Code) {
					t.Errorf("failure %s is in the text digest, not in the HTML", e.Code)
				}
			}
			if listed == 0 {
				t.Fatalf("the text digest lists no finding:\n%.2000s", text)
			}
			if !strings.HasPrefix(text, "The workbook is attached: orgaudit-run.xlsx\n") || !strings.Contains(out, "The workbook is attached:") {
				t.Error("both parts must say the workbook is attached")
			}
			if len(text) > MaxDigestBytes {
				t.Errorf("text part %d bytes, over %d", len(text), MaxDigestBytes)
			}
			t.Logf("%d findings, %d listed in the text part (%d bytes); HTML %d bytes", len(r.Findings), listed, len(text), len(out))
		})
	}
}

// TestHTMLSaysWhatChangedAndWhatWasNotAudited: the memory's sections, the severity colours, the workbook's link
// and the failures are all in the HTML.
func TestHTMLSaysWhatChangedAndWhatWasNotAudited(t *testing.T) {
	t.Parallel()
	r := memoryScenario(t).r
	expires := asOf.Add(7 * 24 * time.Hour)
	r.Report = &Location{URL: "https://bucket.s3.amazonaws.com/orgaudit/x.xlsx?X-Amz-Signature=abc&X-Amz-Expires=604800", URLExpiresAt: &expires,
		ConsoleURL: "https://s3.console.aws.amazon.com/s3/object/bucket?region=eu-west-1&prefix=orgaudit%2Fx.xlsx"}
	out, err := HTML(r, MailOptions{NotAttached: "42.0 MB encoded, over SES's 40 MB"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"New or worse since 2026-11-21", "critical, escalated from warning", "Fixed (2)", "Could not re-check (1)",
		"CRITICAL, STILL OPEN (1)", "Not audited (1 failures", "AccessDenied", "Suppressed: 1 findings", "expires at the end of 2026-11-25",
		"The workbook is not attached</b> (42.0 MB encoded, over SES&#39;s 40 MB)", `href="https://bucket.s3.amazonaws.com/orgaudit/x.xlsx?X-Amz-Signature=abc&amp;X-Amz-Expires=604800"`,
		"valid until 2026-11-29 08:00 UTC", "the workbook in the S3 console", severityColors[checks.Critical][0], severityColors[checks.Warning][0]} {
		if !strings.Contains(out, want) {
			t.Errorf("the HTML lacks %q", want)
		}
	}
}
