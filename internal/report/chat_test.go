package report

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// hostileResult is a large result whose AWS text tries every trick: markdown, Slack control sequences, line breaks,
// backticks, and lengths far past any bound.
func hostileResult(t *testing.T) *Result {
	t.Helper()
	cs := checks.All()
	evil := "`<!channel>` *bold* _it_ ~strike~ [link](https://evil.example) # heading\n> quote <https://evil.example|click>"
	var fs []checks.Finding
	for i := range 5000 {
		f := finding(i, checks.Severities[i%3], cs[i%len(cs)].Name())
		f.AccountName, f.ResourceID, f.Reason = strings.Repeat(evil, 20), strings.Repeat("id", 500), strings.Repeat(evil, 200)
		f.Owner, f.Change = "team", "new"
		fs = append(fs, f)
	}
	checks.SortFindings(fs)
	var cells []crossaccount.Cell
	for i := range 100 {
		cells = append(cells, crossaccount.Cell{AccountID: fs[i].AccountID, Region: "eu-west-1", Check: cs[0].Name(), Outcome: crossaccount.OutcomeError,
			Code: crossaccount.CodeDeadline, Owner: "team"})
	}
	r := Build("run-hostile", asOf, []string{"eu-west-1"}, cs, fanOut(fs, cells, nil))
	r.Partial = true
	r.Changes, r.PreviousRunID = &Changes{New: 5000}, "run-before"
	r.Report = &Location{ConsoleURL: "https://s3.console.aws.amazon.com/s3/object/b?prefix=k", URL: "https://b.s3.amazonaws.com/k?X-Amz-Signature=" + strings.Repeat("f", 2000)}
	r.OwnerDigests = &OwnerDigests{Owners: 300, Cap: 100, PastCap: []string{"x"}}
	return r
}

func TestChatCardStaysWithinLimits(t *testing.T) {
	t.Parallel()
	r := hostileResult(t)
	for _, res := range []*Result{r, ForOwner(r, "team")} {
		b, err := ChatJSON(res)
		if err != nil {
			t.Fatal(err)
		}
		var card ChatNotification
		if err := json.Unmarshal(b, &card); err != nil {
			t.Fatal(err)
		}
		c := card.Content
		if card.Version != "1.0" || card.Source != "custom" || c.TextType != "client-markdown" {
			t.Errorf("envelope %+v", card)
		}
		if n := utf8.RuneCountInString(c.Title); n > maxChatTitle || n == 0 {
			t.Errorf("title %d characters: %q", n, c.Title)
		}
		if n := utf8.RuneCountInString(c.Description); n > maxChatDescription || !strings.Contains(c.Description, "more in the workbook") {
			t.Errorf("description %d characters:\n%s", n, c.Description)
		}
		if len(c.NextSteps) == 0 || len(c.NextSteps) > maxChatNextSteps || len(c.Keywords) == 0 || len(c.Keywords) > maxChatKeywords {
			t.Errorf("next steps %q keywords %q", c.NextSteps, c.Keywords)
		}
		for _, s := range c.NextSteps {
			if utf8.RuneCountInString(s) > maxChatNextStep || strings.Contains(s, "X-Amz-Signature") {
				t.Errorf("next step %q", s)
			}
		}
		for _, k := range c.Keywords {
			if utf8.RuneCountInString(k) > maxChatKeyword {
				t.Errorf("keyword %q", k)
			}
		}
		// AWS text never shapes the card: no Slack control sequence, and every line's code spans closed, so the
		// markdown around them is ours.
		for _, line := range strings.Split(c.Description, "\n") {
			if strings.ContainsAny(line, "<>") || strings.Count(line, "`")%2 != 0 {
				t.Errorf("line %q", line)
			}
		}
		if len(b) > 16_000 {
			t.Errorf("chat card %d bytes", len(b))
		}
	}
}

func TestNoticeIsSmallAndVersioned(t *testing.T) {
	t.Parallel()
	r := hostileResult(t)
	b, err := NoticeJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	var n Notice
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	if n.Schema != NoticeSchema || n.RunID != r.RunID || n.Audience != AudienceOrganization || n.Owner != "" || !n.Partial ||
		len(n.TopFindings) != maxNoticeFindings || n.TopFindingsOmitted != len(r.Findings)-maxNoticeFindings ||
		n.Changes == nil || n.Changes.New != 5000 || n.Workbook == nil || n.Workbook.URL != r.Report.URL || n.OwnersPastCap != 1 {
		t.Errorf("notice %+v", n)
	}
	crit, warn, notice := r.Totals()
	if n.Findings != (SeverityCounts{Critical: crit, Warning: warn, Notice: notice}) || n.Accounts != r.Accounts || n.Coverage != r.Coverage {
		t.Errorf("counts %+v %+v %+v", n.Findings, n.Accounts, n.Coverage)
	}
	if n.TopFindings[0].Severity != checks.Critical || len(b) > 40_000 {
		t.Errorf("first %+v; %d bytes", n.TopFindings[0], len(b))
	}
	owner, err := NoticeJSON(ForOwner(r, "team"))
	if err != nil || !strings.Contains(string(owner), `"audience":"owner","owner":"team"`) || strings.Contains(string(owner), "X-Amz-Signature") {
		t.Errorf("owner notice: %v\n%.300s", err, owner)
	}
}

// The card lists few findings, so which ones matters: the most severe, and within a severity what is new (or worse)
// before what was already known, then what has the fewest days left. SortFindings' account order decides nothing
// here: the day's only new critical sits in the last account and must still be listed first.
func TestChatMostSevereAreNewAndSoonestFirst(t *testing.T) {
	t.Parallel()
	cs := checks.All()
	days := func(n int) *int { return &n }
	var fs []checks.Finding
	for i := range 7 {
		f := finding(i, checks.Severities[0], cs[0].Name())
		f.Change = "ongoing"
		fs = append(fs, f)
	}
	fs[1].DaysLeft, fs[4].DaysLeft, fs[5].DaysLeft = days(30), days(3), days(12)
	fs[6].Change = "new"
	fs[3].Change = "escalated"
	w := finding(7, checks.Severities[1], cs[0].Name())
	w.Change, w.DaysLeft = "new", days(1)
	fs = append(fs, w)
	checks.SortFindings(fs)
	r := Build("run-sort", asOf, []string{"eu-west-1"}, cs, fanOut(fs, nil, nil))
	r.Changes, r.PreviousRunID = &Changes{New: 2, Escalated: 1}, "run-before"

	desc := ChatOf(r).Content.Description
	var listed []string
	for _, line := range strings.Split(desc, "\n") {
		if strings.HasPrefix(line, "• ") {
			for _, f := range fs {
				if strings.Contains(line, "`"+f.AccountID+"`") {
					listed = append(listed, f.AccountName)
				}
			}
		}
	}
	// new, escalated, then ongoing by days left (none last), account order only among equals.
	want := []string{"acct-6", "acct-3", "acct-4", "acct-5", "acct-1"}
	if strings.Join(listed, " ") != strings.Join(want, " ") {
		t.Fatalf("most severe listed %q, want %q\n%s", listed, want, desc)
	}
}

// The notice's top findings are the chat card's order too: the day's one new critical, last by account id among 25
// ongoing ones, leads the list rather than falling past its 20.
func TestNoticeTopFindingsAreNewAndSoonestFirst(t *testing.T) {
	t.Parallel()
	cs := checks.All()
	var fs []checks.Finding
	for i := range 25 {
		f := finding(i, checks.Critical, cs[0].Name())
		f.Change = "ongoing"
		fs = append(fs, f)
	}
	fs[24].Change = "new"
	checks.SortFindings(fs)
	r := Build("run-sort", asOf, []string{"eu-west-1"}, cs, fanOut(fs, nil, nil))
	r.Changes, r.PreviousRunID = &Changes{New: 1}, "run-before"
	n := NoticeOf(r)
	if len(n.TopFindings) != maxNoticeFindings || n.TopFindings[0].AccountID != fs[24].AccountID || n.TopFindingsOmitted != 5 {
		var got []string
		for _, f := range n.TopFindings {
			got = append(got, f.AccountName+"/"+f.Change)
		}
		t.Fatalf("top findings %v (%d omitted), want %s (new) first", got, n.TopFindingsOmitted, fs[24].AccountName)
	}
}
