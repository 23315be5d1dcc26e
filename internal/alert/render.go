package alert

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/report"
)

// An owner's group of alerts (one event, or a StackSet operation failing in 500 accounts) is one message: a headline
// with the counts, then the alerts most severe first and account by account. The text lists at most MaxListed and
// names the event id of every other, so each event the message stands for can be found in it (its record holds the
// whole alert); the chat card lists what fits in a card. AWS text is rendered with the digest's rules
// (report.Field, report.ChatCode) even though Build has cleaned it: a renderer does not trust its caller with what
// a reader sees.

// MaxListed is how many alerts the text lists in full.
const MaxListed = 50

// maxSubject is SNS's limit on a subject: "ASCII text that begins with a letter, number, or punctuation mark; must
// not include line breaks or control characters; and must be less than 100 characters long".
// https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
const maxSubject = 99

// Byte bounds of one slot of a line, so one long value cannot crowd out the rest, and no line passes the 998
// characters an email's line may hold (RFC 5322 2.1.1).
const (
	maxName    = 120
	maxStack   = 200
	maxReason  = 900
	maxLink    = 950
	maxChatRow = 200
)

// idsPerLine is how many event ids of the alerts past the listing a line names.
const idsPerLine = 4

// maxChatListed is how many alerts the chat card lists; the rest are counted.
const maxChatListed = 10

// Sorted returns the alerts in the order a message lists them: most severe first, then by account, region, stack
// and event id. alerts is not changed.
func Sorted(alerts []Alert) []Alert {
	out := slices.Clone(alerts)
	slices.SortStableFunc(out, compareAlerts)
	return out
}

func compareAlerts(a, b Alert) int {
	return cmp.Or(cmp.Compare(a.Severity.Rank(), b.Severity.Rank()), cmp.Compare(a.AccountID, b.AccountID),
		cmp.Compare(a.Region, b.Region), cmp.Compare(a.StackName, b.StackName), cmp.Compare(a.EventID, b.EventID))
}

// item is one line of a message: the alerts of one stack (account, region, stack name) as one. A StackSet failing in
// a member account is told twice, by the member's stack status change and by the administrator's stack instance
// event, and a stack may change status more than once in a batch. The stack's latest alert stands for them, with
// the instance's StackSet, status and detailed status and its reason where it says more, and the most severe
// severity of them; also are the other events' ids, each claimed and recorded on its own and named in the message
// so it can be found there.
type item struct {
	Alert
	also []string
}

// merge makes items of alerts, in the order of each stack's first alert.
func merge(alerts []Alert) []item {
	type key struct{ account, region, stack string }
	var order []key
	byKey := map[key][]Alert{}
	for _, a := range alerts {
		k := key{a.AccountID, a.Region, a.StackName}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], a)
	}
	out := make([]item, 0, len(order))
	for _, k := range order {
		out = append(out, mergeOne(byKey[k]))
	}
	return out
}

// mergeOne is one stack's alerts as one item.
func mergeOne(same []Alert) item {
	// The stand-in: a stack's alert before an instance's, then the latest, then the greatest event id.
	main := slices.MaxFunc(same, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(boolRank(a.Kind == KindStack), boolRank(b.Kind == KindStack)), a.EventTime.Compare(b.EventTime),
			cmp.Compare(a.EventID, b.EventID))
	})
	out := item{Alert: main}
	for _, a := range same {
		if a.Severity.Rank() < out.Severity.Rank() {
			out.Severity = a.Severity
		}
		if a.EventID != main.EventID {
			out.also = append(out.also, a.EventID)
		}
		if out.Product == nil && a.Product != nil {
			out.Product, out.ProductUnread = a.Product, a.ProductUnread
		}
		if a.Kind == KindInstance && out.Kind != KindInstance && out.StackSetARN == "" {
			out.StackSetARN, out.InstanceStatus, out.DetailedStatus = a.StackSetARN, a.Status, a.DetailedStatus
			if a.Reason != "" && a.Reason != out.Reason && !strings.HasPrefix(a.Reason, "stack is ") {
				out.Reason = strings.TrimPrefix(out.Reason+"; stack instance: "+a.Reason, "; ")
			}
		}
	}
	slices.Sort(out.also)
	out.also = slices.Compact(out.also)
	return out
}

// sortedItems are alerts merged into items, in Sorted's order.
func sortedItems(alerts []Alert) []item {
	items := merge(alerts)
	slices.SortStableFunc(items, func(a, b item) int { return compareAlerts(a.Alert, b.Alert) })
	return items
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// counts is the group's headline: how many stacks failed (items, not events), in how many accounts, by severity.
type counts struct {
	alerts, accounts int
	bySeverity       map[checks.Severity]int
}

func countOf(items []item) counts {
	c := counts{alerts: len(items), bySeverity: map[checks.Severity]int{}}
	accounts := map[string]bool{}
	for _, a := range items {
		accounts[a.AccountID] = true
		c.bySeverity[a.Severity]++
	}
	c.accounts = len(accounts)
	return c
}

// severities says the counts by severity, most severe first, and any severity the checks do not name with them:
// every switch has a default, and an alert is never left out of the count.
func (c counts) severities() string {
	var parts []string
	for _, s := range checks.Severities {
		if n := c.bySeverity[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	var unknown []string
	for s := range c.bySeverity {
		if s.Rank() == len(checks.Severities) {
			unknown = append(unknown, string(s))
		}
	}
	slices.Sort(unknown)
	for _, s := range unknown {
		parts = append(parts, fmt.Sprintf("%d of severity %q, which this job does not know", c.bySeverity[checks.Severity(s)], report.Field(s, 30)))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// headline is the group's first line: what failed, in how many accounts, how severe.
func (c counts) headline() string {
	return fmt.Sprintf("%s in %s (%s)", plural(c.alerts, "failed stack", "failed stacks"), plural(c.accounts, "account", "accounts"), c.severities())
}

// Subject is the group's subject line for SNS and email: printable ASCII under SNS's 100 characters, naming the
// owner where it fits.
func Subject(owner string, alerts []Alert) string {
	items := merge(alerts)
	c := countOf(items)
	s := "orgaudit alert: " + plural(c.alerts, "failed stack", "failed stacks")
	if c.alerts == 1 {
		a := items[0]
		s = fmt.Sprintf("orgaudit alert: %s %s in %s", strings.ToUpper(string(a.Severity)), a.StackName, nameOr(a.AccountName, a.AccountID))
	} else if crit := c.bySeverity[checks.Critical]; crit > 0 {
		s += fmt.Sprintf(" (%d critical)", crit)
	}
	s = report.ASCIILine(s, maxSubject)
	if o := report.ASCIILine(owner, 30); o != "" && len(s)+len(" for ")+len(o) <= maxSubject {
		s += " for " + o
	}
	return s
}

func nameOr(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

// Text is the group as a plain-text message (SNS's default and email bodies, the CLI's output).
func Text(owner string, alerts []Alert) string { return textListing(owner, alerts, MaxListed) }

// textListing is Text listing at most n alerts in full.
func textListing(owner string, alerts []Alert, n int) string {
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	sorted := sortedItems(alerts)
	c := countOf(sorted)
	line("orgaudit alert: %s", c.headline())
	if owner != "" {
		line("Owner: %s", report.Field(owner, maxName))
	}
	listed := sorted[:min(len(sorted), n)]
	for i, a := range listed {
		line("")
		line("%d. %s %s in account %s (%s), %s", i+1, strings.ToUpper(report.Field(string(a.Severity), 30)), kindWord(a.Kind),
			report.Field(nameOr(a.AccountName, "-"), maxName), report.Field(a.AccountID, 20), report.Field(a.Region, 30))
		line("   Stack: %s", report.Field(a.StackName, maxStack))
		line("   Status: %s", statusText(a.Alert, func(s string) string { return report.Field(s, 60) }))
		if a.Reason != "" {
			line("   Reason: %s", report.Field(a.Reason, maxReason))
		}
		if p := productLine(a.Alert, func(s string, n int) string { return report.Field(s, n) }); p != "" {
			line("   Product: %s", p)
		}
		if a.StackSetARN != "" {
			line("   StackSet: %s", report.Field(a.StackSetARN, maxStack))
		}
		if a.ConsoleURL != "" {
			line("   Console: %s", report.Field(a.ConsoleURL, maxLink))
		}
		line("   Event: %s at %s", report.Field(a.EventID, 80), a.EventTime.UTC().Format(time.RFC3339))
		idLines(line, "   Also events:", a.also)
	}
	if rest := sorted[len(listed):]; len(rest) > 0 {
		line("")
		line("... and %d more, by event id:", len(rest))
		var ids []string
		for _, a := range rest {
			ids = append(append(ids, a.EventID), a.also...)
		}
		idLines(line, "  ", ids)
	}
	return b.String()
}

// idLines writes event ids after lead, a few a line: an email's line may not pass 998 characters (RFC 5322 2.1.1).
func idLines(line func(string, ...any), lead string, ids []string) {
	for i := 0; i < len(ids); i += idsPerLine {
		part := make([]string, 0, idsPerLine)
		for _, id := range ids[i:min(i+idsPerLine, len(ids))] {
			part = append(part, report.Field(id, 80))
		}
		line("%s %s", lead, strings.Join(part, " "))
	}
}

// statusText is an alert's status, its detailed status, and for a stack's alert merged with its instance's, the
// instance's; field renders AWS text for the medium.
func statusText(a Alert, field func(string) string) string {
	s := field(a.Status)
	switch {
	case a.InstanceStatus != "":
		s += "; stack instance " + field(a.InstanceStatus)
		if a.DetailedStatus != "" {
			s += " (" + field(a.DetailedStatus) + ")"
		}
	case a.DetailedStatus != "":
		s += " (" + field(a.DetailedStatus) + ")"
	}
	return s
}

// kindWord names what failed, and says so of a kind this job does not know rather than dropping it.
func kindWord(k Kind) string {
	switch k {
	case KindStack:
		return "stack"
	case KindInstance:
		return "StackSet stack instance"
	default:
		return fmt.Sprintf("%q (a kind this job does not know)", report.Field(string(k), 30))
	}
}

// productLine names the Service Catalog product behind the stack, or says why it could not be read; empty for a
// stack no product made. clean renders AWS text for the medium.
func productLine(a Alert, clean func(string, int) string) string {
	switch {
	case a.Product != nil:
		p := a.Product
		s := clean(p.ID, 60)
		if p.Name != "" {
			s += " " + clean(p.Name, maxName)
		}
		if p.Product != "" {
			s += ", product " + clean(p.Product, maxName)
		}
		if p.Version != "" {
			s += ", version " + clean(p.Version, maxName)
		}
		return s
	case a.ProductUnread != "":
		return "not read: " + clean(a.ProductUnread, maxReason)
	}
	return ""
}

// Chat is the group as a chat card (SNS's https body, which Amazon Q Developer in chat applications shows), written
// as the digest's card is: AWS text in code spans.
func Chat(owner string, alerts []Alert) report.ChatNotification {
	var d strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&d, format+"\n", a...) }
	sorted := sortedItems(alerts)
	c := countOf(sorted)
	if owner != "" {
		line("*Owner:* %s", report.ChatCode(owner, maxName))
	}
	line("*Failed:* %s", c.headline())
	listed := 0
	for _, a := range sorted[:min(len(sorted), maxChatListed)] {
		l := fmt.Sprintf("• %s %s (%s) %s: %s %s", chatSeverity(a.Severity), report.ChatCode(nameOr(a.AccountName, "-"), 60),
			report.ChatCode(a.AccountID, 20), report.ChatCode(a.Region, 30), report.ChatCode(a.StackName, maxChatRow),
			report.ChatCode(statusOf(a.Alert), 60))
		if a.Reason != "" {
			l += " - " + report.ChatCode(a.Reason, maxChatRow)
		}
		if p := productLine(a.Alert, func(s string, n int) string { return report.Field(s, n) }); p != "" {
			l += " product " + report.ChatCode(p, maxChatRow)
		}
		l += "\n"
		// Room is kept for the line that counts the rest.
		if utf8.RuneCountInString(d.String())+utf8.RuneCountInString(l)+60 > report.MaxChatDescription {
			break
		}
		d.WriteString(l)
		listed++
	}
	if rest := len(sorted) - listed; rest > 0 {
		line("_... and %d more in the email and the topic's text message_", rest)
	}
	card := report.ChatContent{Title: "orgaudit alert: " + plural(c.alerts, "failed stack", "failed stacks"),
		Description: strings.TrimSuffix(d.String(), "\n"), Keywords: []string{"orgaudit", "alert"}}
	if owner != "" {
		card.Title = report.ChatCode(owner, 60) + " " + card.Title
		card.Keywords = append(card.Keywords, owner)
	}
	if c.bySeverity[checks.Critical] > 0 {
		card.Keywords = append(card.Keywords, "critical")
	}
	// A console link is ours (Build makes it from the account, region and stack id), and a step is not markdown the
	// card renders as a link of another's choosing: only one that is a plain https URL on one line is offered.
	if len(sorted) > 0 {
		if u := sorted[0].ConsoleURL; strings.HasPrefix(u, "https://") && u == report.Field(u, maxLink) && !strings.ContainsAny(u, " <>()[]`") {
			card.NextSteps = append(card.NextSteps, "Open the stack in the console: "+u)
		}
	}
	return report.NewChat(card)
}

// chatSeverity is a severity for the card: one the checks name as it is, any other in a code span, as AWS text is.
func chatSeverity(s checks.Severity) string {
	if s.Rank() < len(checks.Severities) {
		return string(s)
	}
	return report.ChatCode(string(s), 30)
}

func statusOf(a Alert) string { return statusText(a, func(s string) string { return s }) }

// ChatJSON is the group's chat card as JSON.
func ChatJSON(owner string, alerts []Alert) ([]byte, error) {
	return marshal(Chat(owner, alerts))
}

// Notice is the group as data, for the topic's sqs and lambda subscribers: the owner, the first alerts in the
// text's order, and the event ids of the rest (their records hold them whole).
type Notice struct {
	Kind   string  `json:"kind"`
	Owner  string  `json:"owner,omitempty"`
	Alerts []Alert `json:"alerts"`
	// More are the event ids of the alerts past the listing.
	More []string `json:"more_event_ids,omitempty"`
	// Merged are, by a listed alert's event id, the other events of its stack it stands for (its stack instance's
	// event, another status change): each is recorded on its own.
	Merged map[string][]string `json:"merged_event_ids,omitempty"`
}

// NoticeJSON is the group's notice as JSON listing at most MaxListed alerts, hidden characters escaped as the
// digest's notice escapes them.
func NoticeJSON(owner string, alerts []Alert) ([]byte, error) {
	return noticeListing(owner, alerts, MaxListed)
}

func noticeListing(owner string, alerts []Alert, n int) ([]byte, error) {
	sorted := sortedItems(alerts)
	notice := Notice{Kind: "orgaudit-alert", Owner: owner, Alerts: make([]Alert, 0, min(len(sorted), n))}
	for i, a := range sorted {
		switch {
		case i >= n:
			notice.More = append(append(notice.More, a.EventID), a.also...)
		default:
			notice.Alerts = append(notice.Alerts, a.Alert)
			if len(a.also) > 0 {
				if notice.Merged == nil {
					notice.Merged = map[string][]string{}
				}
				notice.Merged[a.EventID] = a.also
			}
		}
	}
	b, err := marshal(notice)
	if err != nil {
		return nil, err
	}
	return report.EscapeJSON(b), nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
