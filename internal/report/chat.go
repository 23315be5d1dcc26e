package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/history"
)

// The chat body (the https protocol's) is a custom notification of Amazon Q Developer in chat applications (formerly
// AWS Chatbot), which shows it in Slack or Microsoft Teams:
// https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html. version must be "1.0", source "custom",
// and client-markdown is the only textType: the client's own markdown. The parts of the guide we could read name no
// length limit for its fields, so these bounds are our own, chosen small enough that no client should cut or drop
// the card: the description within Slack's 3,000 characters for one block of text, a title of 150 characters, at
// most 3 next steps of 300 and at most 5 keywords of 30. Check them against the guide's schema when it can be read.
const (
	chatVersion        = "1.0"
	chatSource         = "custom"
	chatTextType       = "client-markdown"
	maxChatTitle       = 150
	maxChatDescription = 3_000
	maxChatNextSteps   = 3
	maxChatNextStep    = 300
	maxChatKeywords    = 5
	maxChatKeyword     = 30
	// maxChatFindings is how many of the most severe findings the card lists.
	maxChatFindings = 5
)

// ChatNotification is a custom notification of Amazon Q Developer in chat applications.
type ChatNotification struct {
	Version string      `json:"version"`
	Source  string      `json:"source"`
	Content ChatContent `json:"content"`
}

// ChatContent is what the card shows.
type ChatContent struct {
	TextType    string   `json:"textType"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	NextSteps   []string `json:"nextSteps,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
}

// ChatOf is r as a chat card: the subject as title (with the sum at risk); the counts, the run's money, the changes,
// the coverage and the most severe findings (a commitment with its money) as description; what to do next (open the workbook, read why cells failed, fix or suppress what is new).
// Text from AWS sits in code spans, where neither Slack's nor Teams' markdown acts on it, with the characters that
// could end the span or open a Slack control sequence (` < >) replaced by look-alikes.
func ChatOf(r *Result) ChatNotification {
	crit, warn, notice := r.Totals()
	var d strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&d, format+"\n", a...) }
	if r.Partial {
		line("*PARTIAL*: %s", r.partialStatement(chatCode))
	}
	if r.Owner != "" {
		line("*Owner:* %s (only this owner's accounts)", chatCode(r.Owner, maxNameBytes))
	}
	if r.Narrowed != "" {
		// The job's own words (Settings.Narrowing: counts of accounts and checks), no AWS text.
		line("*Scope:* narrowed by choice (%s)", field(r.Narrowed, maxScopeBytes))
	}
	line("*Findings:* %d critical, %d warning, %d notice", crit, warn, notice)
	if m := r.moneyHeadline(); m != "" {
		line("*Money:* %s", m)
	}
	if r.compared() {
		ch := r.Changes
		line("*Since %s:* %d new, %d worse, %d fixed, %d could not be re-checked", r.previousWhen("2006-01-02"), ch.New, ch.Escalated, ch.Resolved, ch.Unverified)
	}
	if n, m := len(r.RecoveredSinceLastRun), len(r.AlertedNotRechecked); n+m > 0 {
		line("*Alerted since %s:* %d failed and recovered, %d not found failing but could not be re-checked", r.alertsSinceWords(), n, m)
	}
	line("*Coverage:* %d of %d accounts fully audited, %d partly, %d not; %d of %d cells failed",
		r.Accounts.Audited, r.Accounts.Total, r.Accounts.Partial, r.Accounts.Failed, r.Coverage.Errors, r.Coverage.Cells)
	if od := r.OwnerDigests; od != nil && r.Owner == "" && len(od.PastCap) > 0 {
		line("*Owner digests:* %d owners past the cap of %d got none of their own; the email digest names them", len(od.PastCap), od.Cap)
	}
	if len(r.Findings) > 0 {
		line("*Most severe:*")
		listed := 0
		for _, i := range chatOrder(r.Findings)[:min(len(r.Findings), maxChatFindings)] {
			f := &r.Findings[i]
			money := ""
			if m := findingMoney(f, chatCode); m != "" {
				money = " (" + m + ")"
			}
			if a := r.alertedWords(f); a != "" {
				money += " (" + a + ")"
			}
			l := fmt.Sprintf("• %s %s %s (%s) %s: %s%s - %s\n", f.Severity, chatCode(f.Check, maxNameBytes), chatCode(nameOr(f.AccountName, "-"), 60),
				chatCode(f.AccountID, maxNameBytes), chatCode(f.Region, maxNameBytes), chatCode(f.ResourceID, 120), money, chatCode(f.Reason, 200))
			// Room is kept for the line that counts the rest.
			if utf8.RuneCountInString(d.String())+utf8.RuneCountInString(l)+60 > maxChatDescription {
				break
			}
			d.WriteString(l)
			listed++
		}
		if rest := len(r.Findings) - listed; rest > 0 {
			line("_... %d more in the workbook_", rest)
		}
	}
	// The subject is ASCII and ours but for an owner's name, which goes in a code span of its own.
	unowned := *r
	unowned.Owner = ""
	title := Subject(&unowned)
	if r.Owner != "" {
		title = chatCode(r.Owner, 60) + " " + title
	}
	c := ChatContent{TextType: chatTextType, Title: truncateRunes(title, maxChatTitle),
		Description: truncateRunes(strings.TrimSuffix(d.String(), "\n"), maxChatDescription)}

	step := func(s string) {
		if len(c.NextSteps) < maxChatNextSteps {
			c.NextSteps = append(c.NextSteps, truncateRunes(s, maxChatNextStep))
		}
	}
	if loc := r.Report; loc != nil {
		switch {
		case loc.ConsoleURL != "" && utf8.RuneCountInString(loc.ConsoleURL) < maxChatNextStep-40:
			step("Open the workbook in the S3 console: " + loc.ConsoleURL)
		case loc.NotUploaded != "":
			step("The workbook was not uploaded: " + chatCode(loc.NotUploaded, 200))
		}
	}
	if r.Coverage.Errors > 0 {
		step(fmt.Sprintf("See why %d cells could not be read: the workbook's %s", r.Coverage.Errors, r.coverageSheets()))
	}
	if r.compared() && r.Changes.New+r.Changes.Escalated > 0 {
		step(fmt.Sprintf("Fix or suppress the %d new or worse findings", r.Changes.New+r.Changes.Escalated))
	}
	c.Keywords = append(c.Keywords, "orgaudit")
	if crit > 0 {
		c.Keywords = append(c.Keywords, "critical")
	}
	if r.Partial {
		c.Keywords = append(c.Keywords, "partial")
	}
	if r.Owner != "" {
		// A keyword is not a code span: the owner tag's value is cleaned of what could end one or open a control
		// sequence, as AWS text in the card is.
		if k := truncateRunes(chatSafe.Replace(Inline(r.Owner)), maxChatKeyword); k != "" {
			c.Keywords = append(c.Keywords, k)
		}
	}
	c.Keywords = c.Keywords[:min(len(c.Keywords), maxChatKeywords)]
	return ChatNotification{Version: chatVersion, Source: chatSource, Content: c}
}

// chatOrder returns the indexes of fs in the order the card lists them: most severe first; within a severity what
// is new, then what is worse, before what was already known (the card is read for what changed); then the fewest
// days left, findings without an end last; among equals, fs' own order (SortFindings': account by account).
func chatOrder(fs []checks.Finding) []int {
	idx := bySeverity(len(fs), func(i int) checks.Severity { return fs[i].Severity }, nil)
	change := func(f *checks.Finding) int {
		switch f.Change {
		case string(history.ChangeNew):
			return 0
		case string(history.ChangeEscalated):
			return 1
		default: // ongoing, or no history to compare with
			return 2
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		fa, fb := &fs[idx[a]], &fs[idx[b]]
		if ra, rb := fa.Severity.Rank(), fb.Severity.Rank(); ra != rb {
			return ra < rb
		}
		if ca, cb := change(fa), change(fb); ca != cb {
			return ca < cb
		}
		if (fa.DaysLeft == nil) != (fb.DaysLeft == nil) {
			return fb.DaysLeft == nil
		}
		return fa.DaysLeft != nil && *fa.DaysLeft < *fb.DaysLeft
	})
	return idx
}

// ChatJSON is r's chat card as JSON.
func ChatJSON(r *Result) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ChatOf(r)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// chatCode is AWS text as an inline code span: one line (Inline), at most n bytes, with ` (which would end the span)
// and < > (Slack's control sequences, <!channel> among them, are read even in code) replaced by look-alikes.
func chatCode(s string, n int) string {
	s = field(s, n)
	if s == "" {
		return "`-`"
	}
	return "`" + chatSafe.Replace(s) + "`"
}

// chatSafe replaces, in text from AWS, the characters that would end a code span (`) or open a Slack control
// sequence (< >) with look-alikes.
var chatSafe = strings.NewReplacer("`", "'", "<", "‹", ">", "›")

// truncateRunes cuts s to at most n characters, marking the cut: the chat clients count characters, not bytes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(n-3, 0)]) + "..."
}
