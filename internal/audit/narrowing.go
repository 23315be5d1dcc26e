package audit

import (
	"fmt"
	"strings"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// Narrowing says in words how s narrows the run by choice: named accounts, excluded accounts, some of the checks; ""
// when it audits the whole organization with every check. A narrowed run is not partial: it audited what it was asked
// to, and every output says its scope was narrowed (report.Result.Narrowed), so that "3/3 accounts" never reads as the
// whole organization. Regions are not in it: the scope line lists them in full whatever was asked.
func (s Settings) Narrowing(selected []checks.Check) string {
	var parts []string
	if n := len(s.Accounts); n > 0 {
		parts = append(parts, fmt.Sprintf("only the %d named %s", n, plural(n, "account")))
	}
	if n := len(s.ExcludeAccounts); n > 0 {
		parts = append(parts, fmt.Sprintf("%d %s excluded", n, plural(n, "account")))
	}
	if all := len(checks.All()); len(selected) < all {
		parts = append(parts, fmt.Sprintf("%d of %d checks", len(selected), all))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
