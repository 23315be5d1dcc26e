package history

import (
	"fmt"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// suppressionsFileOfSize writes rules until the file is just under size bytes. Every rule names the findings' check
// in every account and region with a glob none of them matches, so each finding is held against every rule: the
// matcher's worst case. pattern gives rule i's resource id.
func suppressionsFileOfSize(size int, pattern func(i int) string) string {
	var b strings.Builder
	b.WriteString("suppressions:\n")
	for i := 0; ; i++ {
		rule := fmt.Sprintf("  - check: ec2-reserved-instances\n    resource_id: \"%s\"\n    reason: r\n    owner: o\n    expires: 2026-12-31\n", pattern(i))
		if b.Len()+len(rule) > size {
			return b.String()
		}
		b.WriteString(rule)
	}
}

// BenchmarkSuppressionsMatch10000Findings1MiB: 10,000 findings against a 1 MiB file must take at most 2 s (it took
// 46-113 s when every rule was re-read for every finding).
//
// "own bytes" globs are runs of zeros, every byte triple of which each id holds, so the literal fingerprint passes
// and every pattern is tried: the cost an author who knows the ids can force. A few ids end in enough zeros to match.
func BenchmarkSuppressionsMatch10000Findings1MiB(b *testing.B) {
	for name, pattern := range map[string]func(int) string{
		"other bytes": func(i int) string { return fmt.Sprintf("*%d-x*", i) },
		"own bytes": func(i int) string {
			return "*" + strings.Repeat("0", 5+i%100) + "*" + strings.Repeat("0", 1+i/100) + "*"
		},
		"exact ids": func(i int) string { return fmt.Sprintf("ri-0abc%08dx", i) },
	} {
		b.Run(name, func(b *testing.B) {
			s, err := ParseSuppressions([]byte(suppressionsFileOfSize(MaxSuppressionsBytes, pattern)), runAt, nil)
			if err != nil {
				b.Fatal(err)
			}
			findings := make([]checks.Finding, 10_000)
			for i := range findings {
				findings[i] = finding("ec2-reserved-instances", "222222222222", "us-east-1", fmt.Sprintf("ri-0abc%08d", i), checks.Warning)
			}
			for b.Loop() {
				rep := s.Report(findings, runAt, runAt.AddDate(0, 0, -1))
				if name != "own bytes" && len(rep.Stale) != len(s.Rules) {
					b.Fatalf("%d stale rules of %d: a rule matched", len(rep.Stale), len(s.Rules))
				}
			}
			b.ReportMetric(float64(len(s.Rules)), "rules")
		})
	}
}

// BenchmarkParseSuppressions1MiB: the parse of a full-size file of valid rules.
func BenchmarkParseSuppressions1MiB(b *testing.B) {
	data := []byte(suppressionsFileOfSize(MaxSuppressionsBytes, func(i int) string { return fmt.Sprintf("*%d-x*", i) }))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSuppressions(data, runAt, nil); err != nil {
			b.Fatal(err)
		}
	}
}
