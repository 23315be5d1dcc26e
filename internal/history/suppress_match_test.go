package history

import (
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// Match returns the first rule active at t that matches f, or nil: the rules read one by one, in file order. A run
// matches through its index (matching.match); this plain reading is the oracle the tests hold the index to.
func (s *Suppressions) Match(f checks.Finding, t time.Time) *Rule {
	if s == nil {
		return nil
	}
	for i, r := range s.Rules {
		if r.Active(t) && r.Matches(f) {
			return &s.Rules[i]
		}
	}
	return nil
}
