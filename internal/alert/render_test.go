package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/delivery"
)

var renderTime = time.Date(2026, 12, 6, 8, 14, 0, 0, time.UTC)

func sampleAlert(i int, sev checks.Severity, account string) Alert {
	return Alert{EventID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), EventTime: renderTime, Kind: KindStack, Severity: sev,
		AccountID: account, AccountName: "acct-" + account, Region: "eu-west-1",
		StackName: fmt.Sprintf("stack-%d", i), StackID: "arn:aws:cloudformation:eu-west-1:" + account + ":stack/s/1",
		Status: "UPDATE_ROLLBACK_FAILED", Reason: "resource failed",
		ConsoleURL: "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks"}
}

func TestTextNamesEveryFieldAndTheProduct(t *testing.T) {
	a := sampleAlert(1, checks.Critical, "111111111111")
	a.Product = &Product{ID: "pp-abc123", Name: "web-app", Product: "Web", Version: "v3"}
	b := sampleAlert(2, checks.Warning, "222222222222")
	b.Kind, b.StackSetARN, b.Status, b.DetailedStatus = KindInstance, "arn:aws:cloudformation:eu-west-1:999999999999:stackset/base:1", "OUTDATED", "FAILED"
	b.ProductUnread = "AccessDenied: not authorized"
	text := Text("team-a", []Alert{b, a})
	for _, want := range []string{"orgaudit alert: 2 failed stacks in 2 accounts (1 critical, 1 warning)", "Owner: team-a",
		"1. CRITICAL stack in account acct-111111111111 (111111111111), eu-west-1", "Stack: stack-1", "Status: UPDATE_ROLLBACK_FAILED",
		"Reason: resource failed", "Product: pp-abc123 web-app, product Web, version v3", "Console: https://eu-west-1.console",
		"2. WARNING StackSet stack instance", "Status: OUTDATED (FAILED)", "Product: not read: AccessDenied: not authorized",
		"StackSet: arn:aws:cloudformation:eu-west-1:999999999999:stackset/base:1", "Event: " + a.EventID + " at 2026-12-06T08:14:00Z"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "stack-1") > strings.Index(text, "stack-2") {
		t.Errorf("the critical alert is not listed first:\n%s", text)
	}
}

func TestAManyAlertGroupListsTheCapAndAccountsForEveryEvent(t *testing.T) {
	var alerts []Alert
	n := MaxListed + 30
	for i := range n {
		sev := checks.Warning
		if i%7 == 0 {
			sev = checks.Critical
		}
		alerts = append(alerts, sampleAlert(i, sev, fmt.Sprintf("%012d", 100000000000+n-i)))
	}
	text := Text("team-a", alerts)
	if got := strings.Count(text, "   Stack: "); got != MaxListed {
		t.Errorf("%d alerts listed, want %d", got, MaxListed)
	}
	if !strings.Contains(text, fmt.Sprintf("... and %d more, by event id:\n", n-MaxListed)) {
		t.Errorf("the rest is not counted:\n%s", text)
	}
	for _, a := range alerts {
		if !strings.Contains(text, a.EventID) {
			t.Errorf("event %s is not in the text", a.EventID)
		}
	}
	for _, l := range strings.Split(text, "\n") {
		if len(l) > 998 {
			t.Errorf("a line of %d characters, over an email's 998", len(l))
		}
	}
	// Most severe first, then by account.
	sorted := Sorted(alerts)
	for i := 1; i < len(sorted); i++ {
		p, q := sorted[i-1], sorted[i]
		if p.Severity.Rank() > q.Severity.Rank() || p.Severity == q.Severity && p.AccountID > q.AccountID {
			t.Fatalf("not sorted at %d: %s %s before %s %s", i, p.Severity, p.AccountID, q.Severity, q.AccountID)
		}
	}
	card := Chat("team-a", alerts)
	if !strings.Contains(card.Content.Description, fmt.Sprintf("and %d more", n-maxChatListed)) {
		t.Errorf("card does not count the rest: %s", card.Content.Description)
	}
	if s := Subject("team-a", alerts); s != fmt.Sprintf("orgaudit alert: %d failed stacks (%d critical) for team-a", n, (n+6)/7) {
		t.Errorf("subject %q", s)
	}
}

func TestSubjectIsASCIIUnderSNSLimit(t *testing.T) {
	a := sampleAlert(1, checks.Critical, "111111111111")
	a.StackName, a.AccountName = strings.Repeat("ß-long-stack-", 20), "名前\nSubject: forged"
	for _, s := range []string{Subject("équipe\r\nBcc: x@example.com", []Alert{a}), Subject(strings.Repeat("o", 300), []Alert{a, a})} {
		if len(s) >= 100 {
			t.Errorf("subject of %d bytes: %q", len(s), s)
		}
		for _, c := range []byte(s) {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("subject %q holds byte %#x", s, c)
			}
		}
	}
}

// A reason, stack or account name is AWS text anyone who can name a stack or fail one chooses: it cannot start a
// line of the text, nor make a link or a mention in the card.
func TestHostileTextForgesNoLineOrLink(t *testing.T) {
	a := sampleAlert(1, checks.Critical, "111111111111")
	a.Reason = "boom\nSubject: you are fired\r\n\r\n[click](https://evil.example/x) <!channel> `code` \u202eevil"
	a.StackName = "s\nConsole: https://evil.example"
	a.AccountName = "acct\u2028Reason: fake"
	a.ProductUnread = "denied\nProduct: pp-forged"
	text := Text("owner\nOwner: someone-else", []Alert{a})
	for _, l := range strings.Split(text, "\n") {
		for _, forged := range []string{"Subject:", "Console: https://evil", "Reason: fake", "Product: pp-forged", "Owner: someone-else"} {
			if strings.HasPrefix(strings.TrimSpace(l), forged) {
				t.Errorf("a line of the text starts with forged %q: %q", forged, l)
			}
		}
		if strings.ContainsRune(l, '\u202e') || strings.ContainsRune(l, '\r') {
			t.Errorf("hidden character kept: %q", l)
		}
	}
	body, err := ChatJSON("owner", []Alert{a})
	if err != nil {
		t.Fatal(err)
	}
	var card struct {
		Content struct{ Title, Description string }
	}
	if err := json.Unmarshal(body, &card); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<!channel>", "\u202e"} {
		if strings.Contains(card.Content.Description, bad) {
			t.Errorf("card keeps %q: %s", bad, card.Content.Description)
		}
	}
	// The link's markdown may stay as text, but only inside a code span, where neither Slack nor Teams renders it.
	i := strings.Index(card.Content.Description, "[click](https://evil.example/x)")
	if i < 0 || strings.Count(card.Content.Description[:i], "`")%2 != 1 {
		t.Errorf("the reason's link is not inside a code span: %s", card.Content.Description)
	}
	for _, l := range strings.Split(card.Content.Description, "\n") {
		if strings.HasPrefix(l, "Subject:") || strings.HasPrefix(l, "Console:") {
			t.Errorf("card line forged: %q", l)
		}
	}
}

func TestNoLineIsLongerThanAnEmailTakes(t *testing.T) {
	a := sampleAlert(1, checks.Critical, "111111111111")
	long := strings.Repeat("x", 5_000)
	a.Reason, a.StackName, a.AccountName, a.ConsoleURL, a.ProductUnread, a.StackSetARN, a.Status, a.DetailedStatus = long, long, long, long, long, long, long, long
	b := a
	b.ProductUnread, b.Product = "", &Product{ID: long, Name: long, Product: long, Version: long}
	for _, l := range strings.Split(Text(long, []Alert{a, b}), "\n") {
		if len(l) > 998 {
			t.Errorf("a line of %d characters, over an email's 998: %.60s", len(l), l)
		}
	}
}

func TestUnknownSeverityAndKindAreSaidNotDropped(t *testing.T) {
	a := sampleAlert(1, "catastrophic", "111111111111")
	a.Kind = "stack-drift"
	text := Text("", []Alert{a})
	for _, want := range []string{`1 of severity "catastrophic", which this job does not know`, `"stack-drift" (a kind this job does not know)`} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

// A burst of 500 alerts with AWS text at its longest still goes out as one message within SNS's limit, naming every
// event.
func TestABurstFitsOneSNSMessage(t *testing.T) {
	long := strings.Repeat("y", 4_000)
	var alerts []Alert
	for i := range 500 {
		a := sampleAlert(i, checks.Critical, fmt.Sprintf("%012d", 400000000000+i))
		a.Reason, a.ProductUnread = long, long
		alerts = append(alerts, a)
	}
	m, err := (&Sender{}).message("arn:aws:sns:eu-west-1:111122223333:orgaudit", "team-a", alerts)
	if err != nil {
		t.Fatal(err)
	}
	if size, err := m.Size(); err != nil || size > delivery.MaxMessageBytes {
		t.Fatalf("message of %d bytes (%v), over SNS's %d", size, err, delivery.MaxMessageBytes)
	}
	for _, a := range alerts {
		if !strings.Contains(m.Bodies[delivery.ProtocolDefault], a.EventID) || !strings.Contains(m.Bodies[delivery.ProtocolSQS], a.EventID) {
			t.Fatalf("event %s is not in the message", a.EventID)
		}
	}
}

// TestAPanickingFillIsAnErrorToEveryCaller: a cache fill that panics (an account's name, a session) gives its error
// to the caller and to every later one, never a zero value as if it had been read.
func TestAPanickingFillIsAnErrorToEveryCaller(t *testing.T) {
	var c memo[string]
	fills := 0
	get := func() (v string, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("the panic reached the caller: %v", r)
			}
		}()
		return c.get("k", func() (string, error) { fills++; panic("fill went wrong") })
	}
	for i := range 3 {
		v, err := get()
		if err == nil || strings.Contains(err.Error(), "reached the caller") || v != "" {
			t.Errorf("call %d: %q, %v: want the fill's panic as the entry's error", i, v, err)
		}
	}
	if fills != 1 {
		t.Errorf("filled %d times, want once", fills)
	}
}
