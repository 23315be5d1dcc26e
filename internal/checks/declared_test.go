package checks

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CheckDeclared reports what in f its check c did not declare: a detail that is not one of c's columns, a value its
// column's kind cannot read, an expiry on a check that does not report one. Reports rely on all three.
func CheckDeclared(c Check, f *Finding) error {
	l := c.Layout()
	var problems []string
	if f.Check != c.Name() {
		problems = append(problems, fmt.Sprintf("finding of check %q", f.Check))
	}
	keys := make([]string, 0, len(f.Details))
	for k := range f.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := f.Details[k]
		col := l.Column(k)
		if col == nil {
			problems = append(problems, fmt.Sprintf("detail %q is not a declared column", k))
			continue
		}
		if v == "" {
			continue
		}
		switch col.Kind {
		case KindDate:
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				problems = append(problems, fmt.Sprintf("date column %q holds %q, not RFC 3339", k, v))
			}
		case KindNumber:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				problems = append(problems, fmt.Sprintf("number column %q holds %q", k, v))
			}
		case KindLink:
			if !strings.HasPrefix(v, "https://") {
				problems = append(problems, fmt.Sprintf("link column %q holds %q, not an https URL", k, v))
			}
		}
	}
	if !l.Expiry && (f.ExpiresAt != nil || f.DaysLeft != nil) {
		problems = append(problems, "an expiry on a check whose Layout says it reports none")
	}
	if len(problems) > 0 {
		return fmt.Errorf("check %s, %s: %s", c.Name(), f.ResourceID, strings.Join(problems, "; "))
	}
	return nil
}
