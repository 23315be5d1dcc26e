package history

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// refused asserts the file is an *InvalidError whose text holds every want.
func refused(t *testing.T, file string, wants ...string) {
	t.Helper()
	s, err := ParseSuppressions([]byte(file), runAt, nil)
	var inv *InvalidError
	if !errors.As(err, &inv) || s != nil {
		t.Fatalf("want *InvalidError and no rules, got %v, %.300v", s, err)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %.300q lacks %q", err, w)
		}
	}
}

// TestSuppressionsNestingIsBoundedBeforeParsing: a file of nested brackets once needed 1.6 GB at 64 KB deep; its
// depth is judged before a parser sees it, in every construct that nests.
func TestSuppressionsNestingIsBoundedBeforeParsing(t *testing.T) {
	deep := MaxSuppressionsDepth + 1
	var indented strings.Builder
	indented.WriteString("suppressions:\n")
	for i := range deep {
		fmt.Fprintf(&indented, "%sk%d:\n", strings.Repeat(" ", 2*(i+1)), i)
	}
	cases := map[string]string{
		"flow sequences":  "suppressions: " + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "\n",
		"flow mappings":   "suppressions: " + strings.Repeat("{a: ", deep) + "b" + strings.Repeat("}", deep) + "\n",
		"unclosed":        strings.Repeat("[", 2000),
		"block indented":  indented.String(),
		"compact entries": "suppressions:\n  " + strings.Repeat("- ", deep) + "a\n",
		"explicit keys":   strings.Repeat("? ", deep) + "a\n",
		"on a later line": "suppressions:\n  - check: ec2-reserved-instances\n    reason: " + strings.Repeat("[", deep) + "\n",
	}
	for name, file := range cases {
		t.Run(name, func(t *testing.T) {
			refused(t, file, "nests deeper than", "line ")
		})
	}
}

// TestSuppressionsNodeCountIsBoundedBeforeParsing: a wide file costs the parser memory per node; a file of more
// entries than any suppressions file needs is refused before it is parsed.
func TestSuppressionsNodeCountIsBoundedBeforeParsing(t *testing.T) {
	n := MaxSuppressionsEntries + 1
	refused(t, "suppressions: ["+strings.Repeat("a,", n)+"a]\n", "more than", "entries")
	refused(t, "suppressions:\n"+strings.Repeat("- a\n", n), "more than", "entries")
}

// TestSuppressionsBracketsInTextAreNotNesting: brackets, quotes and indicators inside scalars and comments are text,
// not structure; a real file with them is read.
func TestSuppressionsBracketsInTextAreNotNesting(t *testing.T) {
	open := strings.Repeat("[", MaxSuppressionsDepth+5)
	file := "# " + open + "\nsuppressions:\n" +
		"  - check: ec2-reserved-instances # {{{{ " + open + "\n" +
		"    resource_id: \"ri-" + open + "*\"\n" +
		"    reason: see " + open + " and {\n" +
		"    owner: 'it''s [ours'\n" +
		"    expires: 2026-12-31\n" +
		"  - check: ec2-reserved-instances\n" +
		"    reason: |\n      " + open + "\n      - - - - - - - - - - - - - - - - - - - - x\n" +
		"    owner: \"a \\\" [ b\"\n" +
		"    expires: 2026-12-31\n"
	s, err := ParseSuppressions([]byte(file), runAt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules) != 2 || s.Rules[0].ResourceID != "ri-"+open+"*" || s.Rules[0].Reason != "see "+open+" and {" ||
		s.Rules[0].Owner != "it's [ours" || !strings.HasPrefix(s.Rules[1].Reason, open+"\n- - -") || s.Rules[1].Owner != `a " [ b` {
		t.Errorf("rules = %+v", s.Rules)
	}
}

// TestSuppressionsAliasesAreRefused: a rule's field is a single value written out; an alias (the "billion laughs"
// expansion) is refused where it stands, never expanded.
func TestSuppressionsAliasesAreRefused(t *testing.T) {
	var lol strings.Builder
	lol.WriteString("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&lol, "a%d: &a%[1]d [*a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d]\n", i, i-1)
	}
	bomb := strings.ReplaceAll(lol.String(), "a0: &a0", "x0: &a0")
	file := "suppressions:\n  - check: ec2-reserved-instances\n    reason: *a8\n    owner: o\n    expires: 2026-12-31\n"
	// The anchors sit in an unknown top-level field: refused as unknown, the alias as an alias.
	refused(t, bomb+file, "alias", "unknown field")
	refused(t, "x: &r renewal\n"+strings.Replace(file, "*a8", "*r", 1), "line 4: rule 1: reason is an alias")
	refused(t, "x: &list []\nsuppressions: *list\n", "line 2: suppressions is an alias")
}

// TestSuppressionsIndexMatchesTheRuleDefinition: the compiled index picks, for every finding, the first active rule
// that Rule.Matches names, over rules that overlap every way.
func TestSuppressionsIndexMatchesTheRuleDefinition(t *testing.T) {
	accounts := []string{"", "111111111111", "222222222222"}
	regions := []string{"", "us-east-1", "eu-west-1"}
	ids := []string{"", "ri-1", "ri-12", "ri-*", "*2", "*-1*", "ri-1*2", "*", "**", "r*i*-*1", "ri-12*2"}
	checksOf := []string{"ec2-reserved-instances", "rds-reserved-instances"}
	var rules []Rule
	n := 0
	for _, c := range checksOf {
		for _, a := range accounts {
			for _, r := range regions {
				for _, id := range ids {
					n++
					exp := runAt.AddDate(0, 0, n%5-1) // some expired
					rules = append(rules, Rule{Check: c, AccountID: a, Region: r, ResourceID: id, Reason: fmt.Sprint(n), Owner: "o", Expires: dayOf(exp)})
				}
			}
		}
	}
	// Several orders, so that the first matching rule is a different kind each time.
	orders := [][]Rule{rules, reversed(rules), interleaved(rules)}
	for oi, rs := range orders {
		s := &Suppressions{Rules: rs}
		m := s.matcher(runAt)
		for _, c := range checksOf {
			for _, a := range accounts[1:] {
				for _, r := range regions[1:] {
					for _, id := range []string{"ri-1", "ri-12", "ri-122", "x2", "ri-", "", "ri-13", "a-1b"} {
						f := finding(c, a, r, id, checks.Warning)
						want := s.Match(f, runAt)
						got := m.match(f)
						switch {
						case want == nil && got != nil, want != nil && got == nil:
							t.Fatalf("order %d, %+v: index %+v, definition %+v", oi, f, got, want)
						case want != nil && got.Reason != want.Reason:
							t.Fatalf("order %d, %+v: index chose rule %s, definition %s", oi, f, got.Reason, want.Reason)
						}
					}
				}
			}
		}
	}
}

func reversed(rs []Rule) []Rule {
	out := make([]Rule, len(rs))
	for i, r := range rs {
		out[len(rs)-1-i] = r
	}
	return out
}

func interleaved(rs []Rule) []Rule {
	var out []Rule
	for i := 0; i < len(rs); i += 2 {
		out = append(out, rs[i])
	}
	for i := 1; i < len(rs); i += 2 {
		out = append(out, rs[i])
	}
	return out
}

// TestSuppressionsProblemsAreBounded: a file of thousands of bad rules names the first few problems and counts the
// rest: the reasons become the digest's warning.
func TestSuppressionsProblemsAreBounded(t *testing.T) {
	file := "suppressions:\n" + strings.Repeat("- a\n", 5000)
	_, err := ParseSuppressions([]byte(file), runAt, nil)
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("want *InvalidError, got %v", err)
	}
	if len(inv.Problems) != MaxSuppressionsProblems+1 || inv.Problems[MaxSuppressionsProblems].Message != fmt.Sprintf("and %d more problems", 5000-MaxSuppressionsProblems) {
		t.Errorf("%d problems, the last %+v", len(inv.Problems), inv.Problems[len(inv.Problems)-1])
	}
}

// TestSuppressionsLinesAfterABlockScalarAreScanned: a block scalar holds only the lines indented at least as far as
// its content (YAML 1.2 §8.1.1.1: from the first non-empty line, or from the header's indentation indicator); a line
// indented less ends it and is structure. In `- a: |` the scalar's owner is the key at column 2, so a line at column 2
// is the next key, not text: a 1 MB flow sequence there once went past the scan and cost the parser 121 MB.
func TestSuppressionsLinesAfterABlockScalarAreScanned(t *testing.T) {
	deep := MaxSuppressionsDepth + 1
	bomb := strings.Repeat("[", deep) + strings.Repeat("]", deep)
	wide := "[" + strings.Repeat("a,", MaxSuppressionsEntries+1) + "a]"
	cases := map[string]string{
		"compact key, detected":        "- a: |\n   text\n  b: " + bomb + "\n",
		"compact key, empty scalar":    "- a: |\n  b: " + bomb + "\n",
		"compact key, indicator":       "- a: |1\n   text\n  b: " + bomb + "\n",
		"indicator after chomping":     "- a: >-1\n   text\n  b: " + bomb + "\n",
		"spaces before the first line": "a: |\n      \n    text\n  b: " + bomb + "\n",
		"comment ends it":              "a: |\n  text\n# c\n b: " + bomb + "\n",
		"nested compact entries":       "- - |\n    text\n  - " + bomb + "\n",
		"top level":                    "|\n text\n" + bomb + "\n",
	}
	for name, file := range cases {
		t.Run(name, func(t *testing.T) {
			refused(t, file, "nests deeper than", "line ")
		})
	}
	t.Run("entries", func(t *testing.T) {
		refused(t, "- a: |\n   text\n  b: "+wide, "more than", "entries")
	})
	// The other side: every line indented as far as the content is text, blank or less indented ones too, and an
	// indicator below the first line's indentation keeps the less indented lines that follow.
	t.Run("text", func(t *testing.T) {
		open := strings.Repeat("[", deep)
		file := "suppressions:\n  - check: ec2-reserved-instances\n" +
			"    reason: |2-\n          " + open + "\n\n  \n        - - - - - - - - - - - - - - - - - - - - x\n      " + open + "\n" +
			"    owner: >\n\n        " + open + "\n        # " + open + "\n" +
			"    expires: 2026-12-31\n"
		s, err := ParseSuppressions([]byte(file), runAt, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Rules) != 1 || s.Rules[0].Reason != open+"\n\n\n  - - - - - - - - - - - - - - - - - - - - x\n"+open ||
			s.Rules[0].Owner != open+" # "+open {
			t.Errorf("rules = %+v", s.Rules)
		}
	})
}
