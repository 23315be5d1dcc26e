package history

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// FuzzParseSuppressions: any bytes give either rules that each hold what a rule must, or an *InvalidError with a
// reason; never a panic, never rules and an error. The seeds run with every `go test`.
func FuzzParseSuppressions(f *testing.F) {
	for _, seed := range []string{
		goodFile, "", "---\n", "# only\n", "suppressions:\n", "suppressions: []\n", "suppressions: yes\n",
		"suppressions:\n  - check: [unclosed\n",
		"suppressions:\n  - {check: ec2-reserved-instances, reason: r, owner: o, expires: 2026-12-31}\n",
		"suppressions:\n  - check: ec2-reserved-instances\n    reason: |\n      [[[[\n    owner: o\n    expires: 2026-12-31\n",
		"suppressions:\n  - check: ec2-reserved-instances\n    reason: \"a\\\" [\"\n    owner: 'it''s'\n    expires: 2026-12-31\n",
		"x: &a [lol, lol]\ny: &b [*a, *a]\nsuppressions:\n  - check: ec2-reserved-instances\n    reason: *b\n",
		"a: b\n---\nc: d\n",
		strings.Repeat("[", 40) + strings.Repeat("]", 40),
		strings.Repeat("- ", 40) + "a\n",
		strings.Repeat("? ", 40) + "a\n",
		"suppressions:\n" + strings.Repeat("  ", 30) + "- a\n",
		"suppressions:\n  - check: ec2-reserved-instances\n    check: ec2-reserved-instances\n",
		"\tsuppressions: []\n", "suppressions: !!map {}\n", "%YAML 1.2\n---\nsuppressions: []\n",
	} {
		f.Add([]byte(seed))
	}
	known := checks.Names()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuppressions(data, runAt, nil)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || len(inv.Problems) == 0 || s != nil {
				t.Fatalf("error %v (%T) with rules %v: want an *InvalidError with reasons and no rules", err, err, s)
			}
			for _, p := range inv.Problems {
				if strings.TrimSpace(p.Message) == "" {
					t.Fatalf("a problem without a message: %+v", inv.Problems)
				}
			}
			return
		}
		if s == nil {
			t.Fatal("no error and no rules")
		}
		for _, r := range s.Rules {
			if !slices.Contains(known, r.Check) || r.Reason == "" || r.Owner == "" || r.Expires.IsZero() || r.Line < 1 {
				t.Fatalf("accepted a rule that lacks what a rule must hold: %+v", r)
			}
		}
		// The index answers as the rules' definition does for a finding each rule names.
		m := s.matcher(runAt)
		for _, r := range s.Rules {
			id := strings.ReplaceAll(r.ResourceID, "*", "x")
			fd := finding(r.Check, r.AccountID, r.Region, id, checks.Warning)
			want, got := s.Match(fd, runAt), m.match(fd)
			if (want == nil) != (got == nil) || want != nil && want.Line != got.Line {
				t.Fatalf("finding %+v: index %+v, definition %+v", fd, got, want)
			}
		}
	})
}
