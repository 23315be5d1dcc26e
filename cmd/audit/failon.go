package main

import (
	"fmt"
	"strings"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/report"
)

// exitFailOn is the exit code of a run that went through but met a -fail-on condition: apart from 1 (nothing
// audited, delivery failed) so a pipeline can tell "the audit found this" from "the audit broke".
const exitFailOn = 3

// failIncomplete is the -fail-on value for a run that left a cell or an account unaudited.
const failIncomplete = "incomplete"

// failOn is what makes a finished run exit 3: open findings at or above a severity, an incomplete run, or both.
// The zero value fails on nothing: the exit codes stay as README documents them.
type failOn struct {
	// severity is the least urgent severity that fails the run; "" for none.
	severity   checks.Severity
	incomplete bool
}

// failOnValues is the flag's help: every value it takes.
func failOnValues() string {
	var v []string
	for _, s := range checks.Severities {
		v = append(v, string(s))
	}
	return strings.Join(append(v, failIncomplete), "|")
}

// parseFailOn reads -fail-on: one value, or a severity and incomplete comma-separated ("warning,incomplete").
func parseFailOn(s string) (failOn, error) {
	var f failOn
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		switch {
		case v == "":
		case v == failIncomplete:
			f.incomplete = true
		case checks.Severity(v).Rank() < len(checks.Severities):
			if f.severity != "" {
				return failOn{}, fmt.Errorf("two severities %q and %q: give the least urgent that should fail the run", f.severity, v)
			}
			f.severity = checks.Severity(v)
		default:
			return failOn{}, fmt.Errorf("unknown value %q (want %s)", v, failOnValues())
		}
	}
	return f, nil
}

// String is the flag's value as given, for flag.Value.
func (f failOn) String() string {
	var v []string
	if f.severity != "" {
		v = append(v, string(f.severity))
	}
	if f.incomplete {
		v = append(v, failIncomplete)
	}
	return strings.Join(v, ",")
}

// failOnFlag is a flag.Value that parses -fail-on as it is set, so a wrong value is a usage error naming the flag.
type failOnFlag struct{ f *failOn }

func (v failOnFlag) String() string {
	if v.f == nil {
		return ""
	}
	return v.f.String()
}

func (v failOnFlag) Set(s string) error {
	f, err := parseFailOn(s)
	if err != nil {
		return err
	}
	*v.f = f
	return nil
}

// why says which condition r meets, or "" when it meets none. It reads the counts per check, which hold every open
// finding even when the JSON left some out, and suppressed findings are in none of them.
func (f failOn) why(r *report.Result) string {
	var reasons []string
	if f.severity != "" {
		open := map[checks.Severity]int{}
		for _, c := range r.Counts {
			open[checks.Critical] += c.Critical
			open[checks.Warning] += c.Warning
			open[checks.Notice] += c.Notice
		}
		var parts []string
		for _, s := range checks.Severities[:f.severity.Rank()+1] {
			if open[s] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", open[s], s))
			}
		}
		if len(parts) > 0 {
			reasons = append(reasons, "open findings at or above "+string(f.severity)+": "+strings.Join(parts, ", "))
		}
	}
	if f.incomplete {
		if n := r.Accounts.Failed + r.Accounts.Partial; r.Partial || n > 0 || r.Coverage.Errors > 0 {
			reasons = append(reasons, fmt.Sprintf("the run is incomplete: %d of %d accounts not fully audited, %d cells not audited",
				n, r.Accounts.Total, r.Coverage.Errors))
		}
	}
	return strings.Join(reasons, "; ")
}
