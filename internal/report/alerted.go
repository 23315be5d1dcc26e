package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// What the run says of the event-driven alerts sent since the previous run (internal/alert): a finding an alert told
// of says when, and a stack that failed and was fixed before this run is listed once.

// alertedWords says when an alert told of f: "alerted at 08:14 UTC" on the run's own day, with the date on another;
// "" when none did.
func (r *Result) alertedWords(f *checks.Finding) string {
	if f.AlertedAt == nil {
		return ""
	}
	return "alerted at " + r.alertTime(*f.AlertedAt)
}

// alertTime is an alert's time in UTC, to the minute, dated when it is not the run's day.
func (r *Result) alertTime(at time.Time) string {
	at = at.UTC()
	if y, m, d := at.Date(); y == r.AsOf.UTC().Year() && m == r.AsOf.UTC().Month() && d == r.AsOf.UTC().Day() {
		return at.Format("15:04 UTC")
	}
	return at.Format("2006-01-02 15:04 UTC")
}

// withAlerted adds f's alert to what a line already says of it.
func (r *Result) withAlerted(what string, f *checks.Finding) string {
	a := r.alertedWords(f)
	switch {
	case a == "":
		return what
	case what == "":
		return a
	default:
		return what + ", " + a
	}
}

// alertedStackLine is one stack of the recovered or not re-checked lists, its AWS text cleaned as a finding's.
func (r *Result) alertedStackLine(s *AlertedStack) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- %s (%s) %s [%s] %s: %s, alerted at %s", nameOr(field(s.AccountName, maxNameBytes), "-"),
		field(s.AccountID, maxNameBytes), field(s.Region, maxNameBytes), checks.CloudFormationFailedStacks{}.Name(),
		field(s.StackName, maxNameBytes), s.statusWords(), r.alertTime(s.AlertedAt))
	if reason := field(s.Reason, maxReasonBytes); reason != "" {
		fmt.Fprintf(&b, " - %s", reason)
	}
	if s.NotRechecked != "" {
		fmt.Fprintf(&b, "; this run: %s", field(s.NotRechecked, maxMessageBytes))
	}
	b.WriteString("\n")
	return b.String()
}

// statusWords is the stack's status, and for a stack instance's alert the StackSet it belongs to, cleaned.
func (s *AlertedStack) statusWords() string {
	if s.StackSet == "" {
		return field(s.Status, maxNameBytes)
	}
	return field(s.Status, maxNameBytes) + ", instance of StackSet " + field(s.StackSet, maxNameBytes)
}

// alertsSinceWords says since when the recovered and not re-checked lists hold alerts: "the last run" when their
// window starts at the previous run, else the window's start ("2026-12-03 06:00 UTC"), which is further back when
// the previous run left an account out, or the history's lookback when there was none.
func (r *Result) alertsSinceWords() string {
	if s := r.AlertsSince; s != nil && (r.PreviousRunTime == nil || !s.Equal(*r.PreviousRunTime)) {
		return s.UTC().Format("2006-01-02 15:04 UTC")
	}
	return "the last run"
}

// recoveredSection lists the alerted stacks this run found fixed, then those it could not look at again.
func recoveredSection(r *Result, budget int) string {
	var b strings.Builder
	if n := len(r.RecoveredSinceLastRun); n > 0 {
		fmt.Fprintf(&b, "\nFAILED AND RECOVERED SINCE %s (%d, alerted when they failed)\n", strings.ToUpper(r.alertsSinceWords()), n)
		writeLines(&b, n, func(i int) string { return r.alertedStackLine(&r.RecoveredSinceLastRun[i]) }, budget/2,
			func(n int) string {
				return fmt.Sprintf("... %d more in the JSON result (recovered_since_last_run)\n", n)
			})
	}
	if n := len(r.AlertedNotRechecked); n > 0 {
		fmt.Fprintf(&b, "\nALERTED SINCE %s, COULD NOT RE-CHECK (%d; not found failing, but this run could not look at them again, so they are not called recovered)\n",
			strings.ToUpper(r.alertsSinceWords()), n)
		writeLines(&b, n, func(i int) string { return r.alertedStackLine(&r.AlertedNotRechecked[i]) }, budget,
			func(n int) string { return fmt.Sprintf("... %d more in the JSON result (alerted_not_rechecked)\n", n) })
	}
	return b.String()
}

// recoveredHTML is recoveredSection's email sections.
func (r *Result) recoveredHTML(rows int) []htmlSection {
	var out []htmlSection
	lists := []struct {
		list        []AlertedStack
		title, note string
		color, tint string
		json        string
		withRecheck bool
	}{
		{r.RecoveredSinceLastRun, "Failed and recovered since " + r.alertsSinceWords(), "An alert told of each when it failed; this run found it no longer failing.",
			goodColor, goodTint, "recovered_since_last_run", false},
		{r.AlertedNotRechecked, "Alerted since " + r.alertsSinceWords() + ", could not re-check", "Not found failing, but this run could not look at them again, so they are not called recovered.",
			severityColors[checks.Warning][0], severityColors[checks.Warning][1], "alerted_not_rechecked", true},
	}
	for _, l := range lists {
		if len(l.list) == 0 {
			continue
		}
		s := htmlSection{Title: fmt.Sprintf("%s (%d)", l.title, len(l.list)), Color: l.color, Tint: l.tint, Note: l.note,
			Columns: []string{"Account", "Region", "Stack", "Status", "Alerted at", "Reason"}}
		if l.withRecheck {
			s.Columns = append(s.Columns, "This run")
		}
		for i := range l.list {
			if len(s.Rows) == rows {
				s.More = fmt.Sprintf("%d more in the JSON result (%s)", len(l.list)-rows, l.json)
				break
			}
			a := &l.list[i]
			row := []htmlCell{{Text: accountText(a.AccountName, a.AccountID)}, {Text: field(a.Region, maxNameBytes), NoWrap: true},
				{Text: field(a.StackName, maxNameBytes)}, {Text: a.statusWords()}, {Text: r.alertTime(a.AlertedAt), NoWrap: true},
				{Text: field(a.Reason, maxReasonBytes)}}
			if l.withRecheck {
				row = append(row, htmlCell{Text: field(a.NotRechecked, maxMessageBytes)})
			}
			s.Rows = append(s.Rows, row)
		}
		out = append(out, s)
	}
	return out
}
