package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
)

// TestAlertedEverywhere: a finding an alert told of says when in the digest, the email, the chat card and the
// notice, dated when the alert was not on the run's day; the recovered list is in each, hostile text cleaned.
func TestAlertedEverywhere(t *testing.T) {
	today := time.Date(2026, 12, 6, 8, 14, 0, 0, time.UTC)
	yesterday := time.Date(2026, 12, 5, 23, 50, 0, 0, time.UTC)
	finding := func(stack string, at *time.Time) checks.Finding {
		return checks.Finding{Check: "cloudformation-failed-stacks", Severity: checks.Critical, AccountID: "111111111111",
			Region: "us-east-1", ResourceType: "AWS::CloudFormation::Stack", ResourceID: stack, Status: "CREATE_FAILED",
			Change: string(history.ChangeNew), AlertedAt: at}
	}
	r := &Result{Facts: Facts{RunID: "r", AsOf: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC),
		Findings: []checks.Finding{finding("today-stack", &today), finding("late-stack", &yesterday)}},
		Memory: Memory{Changes: &Changes{New: 2}, PreviousRunID: "p",
			RecoveredSinceLastRun: []AlertedStack{{AccountID: "222222222222", Region: "eu-west-1", StackName: "fixed-stack",
				Status: "UPDATE_ROLLBACK_FAILED", Reason: "boom\nWarning: forged line", AlertedAt: today}}}}

	text := Digest(r, MaxDigestBytes)
	for _, want := range []string{"critical, new, alerted at 08:14 UTC: ", "critical, new, alerted at 2026-12-05 23:50 UTC: ",
		"FAILED AND RECOVERED SINCE THE LAST RUN (1", "fixed-stack: UPDATE_ROLLBACK_FAILED, alerted at 08:14 UTC - boom Warning: forged line"} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\nWarning: forged line") {
		t.Errorf("a record's reason forged a line:\n%s", text)
	}
	html, err := HTML(r, MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"critical, new, alerted at 08:14 UTC", "Failed and recovered since the last run (1)", "fixed-stack"} {
		if !strings.Contains(html, want) {
			t.Errorf("email lacks %q", want)
		}
	}
	chat, err := ChatJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(alerted at 08:14 UTC)", "1 failed and recovered"} {
		if !strings.Contains(string(chat), want) {
			t.Errorf("chat card lacks %q: %s", want, chat)
		}
	}
	n, err := json.Marshal(NoticeOf(r))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"alerted_at":"2026-12-06T08:14:00Z"`, `"recovered_since_last_run":1`} {
		if !strings.Contains(string(n), want) {
			t.Errorf("notice lacks %s: %s", want, n)
		}
	}
	b, err := Workbook(r, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for row, want := range map[int]string{2: "2026-12-06 08:14", 3: "2026-12-05 23:50"} {
		if got, _ := f.GetCellValue(FindingsSheet, cellAt(t, f, FindingsSheet, AlertedColumn, row)); got != want {
			t.Errorf("Findings sheet row %d %s: %q, want %q", row, AlertedColumn, got, want)
		}
	}

	// An owner's digest keeps only its own accounts' alerted stacks.
	r.AccountList = []crossaccount.Account{{ID: "222222222222", Owner: "team-b"}, {ID: "111111111111", Owner: "team-a"}}
	if got := ForOwner(r, "team-b").RecoveredSinceLastRun; len(got) != 1 || got[0].StackName != "fixed-stack" {
		t.Errorf("team-b's recovered: %+v, want fixed-stack", got)
	}
	if got := ForOwner(r, "team-a").RecoveredSinceLastRun; len(got) != 0 {
		t.Errorf("team-a's recovered: %+v, want none (another owner's account)", got)
	}
}

// TestAlertedStackInstanceNotRechecked: a StackSet instance alerted alone is listed as not re-checked, saying which
// StackSet and why (no check reads instances), the heading true of it too: not "their checks did not run".
func TestAlertedStackInstanceNotRechecked(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 15, 0, 0, time.UTC)
	r := &Result{Facts: Facts{RunID: "r", AsOf: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)},
		Memory: Memory{Changes: &Changes{}, PreviousRunID: "p",
			AlertedNotRechecked: []AlertedStack{{AccountID: "222222222222", Region: "us-east-1", StackName: "StackSet-baseline-bbbb",
				StackSet: "baseline\nWarning: forged", Status: "OUTDATED (FAILED)", Reason: "Account 222222222222 should have 'x' role",
				AlertedAt: at, NotRechecked: "no check of the daily audit reads StackSet instances"}}}}
	text := Digest(r, MaxDigestBytes)
	for _, want := range []string{
		"ALERTED SINCE THE LAST RUN, COULD NOT RE-CHECK (1; not found failing, but this run could not look at them again, so they are not called recovered)",
		"(222222222222) us-east-1 [cloudformation-failed-stacks] StackSet-baseline-bbbb: OUTDATED (FAILED), instance of StackSet baseline Warning: forged, " +
			"alerted at 08:15 UTC - Account 222222222222 should have 'x' role; this run: no check of the daily audit reads StackSet instances",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q:\n%s", want, text)
		}
	}
	html, err := HTML(r, MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"this run could not look at them again", "instance of StackSet baseline Warning: forged"} {
		if !strings.Contains(html, want) {
			t.Errorf("email lacks %q", want)
		}
	}
}

// TestAlertedSinceWhen: the recovered and not re-checked sections say since when they hold alerts: "the last run"
// when their window starts at it, the window's start when it reached back past it (the previous run left an account
// out) or there was no previous run, in the text, the email and the chat card alike.
func TestAlertedSinceWhen(t *testing.T) {
	asOf := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	prev, since := asOf.Add(-24*time.Hour), time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	stack := AlertedStack{AccountID: "222222222222", Region: "us-east-1", StackName: "gone-stack", Status: "CREATE_FAILED", AlertedAt: since.Add(time.Hour)}
	unread := stack
	unread.StackName, unread.NotRechecked = "unread-stack", "AccessDenied"
	result := func(since *time.Time) *Result {
		return &Result{Facts: Facts{RunID: "r", AsOf: asOf}, Memory: Memory{Changes: &Changes{}, PreviousRunID: "p", PreviousRunTime: &prev,
			RecoveredSinceLastRun: []AlertedStack{stack}, AlertedNotRechecked: []AlertedStack{unread}, AlertsSince: since}}
	}
	for _, c := range []struct {
		since *time.Time
		words string
	}{{&since, "2026-12-03 08:00 UTC"}, {&prev, "the last run"}, {nil, "the last run"}} {
		r := result(c.since)
		text := Digest(r, MaxDigestBytes)
		for _, want := range []string{"FAILED AND RECOVERED SINCE " + strings.ToUpper(c.words) + " (1,",
			"ALERTED SINCE " + strings.ToUpper(c.words) + ", COULD NOT RE-CHECK (1;"} {
			if !strings.Contains(text, want) {
				t.Errorf("since %v: digest lacks %q:\n%s", c.since, want, text)
			}
		}
		html, err := HTML(r, MailOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(html, "Failed and recovered since "+c.words) || !strings.Contains(html, "Alerted since "+c.words+", could not re-check") {
			t.Errorf("since %v: email does not head its sections since %s", c.since, c.words)
		}
		if b, err := ChatJSON(r); err != nil || !strings.Contains(string(b), "*Alerted since "+c.words+":* 1 failed and recovered") {
			t.Errorf("since %v: chat card does not say since %s (%v):\n%s", c.since, c.words, err, b)
		}
	}
}
