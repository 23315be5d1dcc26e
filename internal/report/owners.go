package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// OwnerCounts are one owner's figures: their accounts, their findings by severity, their failed cells, and how many
// of their accounts are theirs only by OU because the owner tag could not be read.
type OwnerCounts struct {
	Owner       string `json:"owner"`
	Accounts    int    `json:"accounts"`
	Critical    int    `json:"critical"`
	Warning     int    `json:"warning"`
	Notice      int    `json:"notice"`
	FailedCells int    `json:"failed_cells"`
	TagUnread   int    `json:"tag_unread,omitempty"`
}

// ownerCounts counts fan's accounts, findings and failed cells by owner, most critical findings first, then most
// warnings, notices and failed cells, then by name. Accounts without an owner (the organization could not be read)
// are left out.
func ownerCounts(fan *crossaccount.Result, findings []checks.Finding) []OwnerCounts {
	by := map[string]*OwnerCounts{}
	get := func(owner string) *OwnerCounts {
		if by[owner] == nil {
			by[owner] = &OwnerCounts{Owner: owner}
		}
		return by[owner]
	}
	for _, a := range fan.Accounts {
		if a.Owner == "" {
			continue
		}
		oc := get(a.Owner)
		oc.Accounts++
		if a.Owner == a.OU && a.OwnerNote != "" {
			oc.TagUnread++
		}
	}
	for i := range findings {
		f := &findings[i]
		if f.Owner == "" {
			continue
		}
		switch oc := get(f.Owner); f.Severity {
		case checks.Critical:
			oc.Critical++
		case checks.Warning:
			oc.Warning++
		case checks.Notice:
			oc.Notice++
		}
	}
	for _, c := range fan.Cells.Rows() {
		if c.Owner != "" && c.Outcome == crossaccount.OutcomeError {
			get(c.Owner).FailedCells++
		}
	}
	out := make([]OwnerCounts, 0, len(by))
	for _, oc := range by {
		out = append(out, *oc)
	}
	slices.SortFunc(out, func(a, b OwnerCounts) int {
		return cmp.Or(cmp.Compare(b.Critical, a.Critical), cmp.Compare(b.Warning, a.Warning), cmp.Compare(b.Notice, a.Notice),
			cmp.Compare(b.FailedCells, a.FailedCells), strings.Compare(a.Owner, b.Owner))
	})
	return out
}

// ownerWarning says how many accounts are owned by their OU only because their owner tag is not known, and why.
func ownerWarning(st crossaccount.OwnerStats) string {
	if st.Unknown == 0 {
		return ""
	}
	why := []string{}
	if n := st.Unknown - st.OverBudget; n > 0 {
		why = append(why, fmt.Sprintf("%d unreadable", n))
	}
	if st.OverBudget > 0 {
		why = append(why, fmt.Sprintf("%d not read yet within this run's budget", st.OverBudget))
	}
	accounts := "accounts"
	if st.Unknown == 1 {
		accounts = "account"
	}
	return fmt.Sprintf("owner tags of %d %s could not be read (%s): their OU path stands as their owner", st.Unknown, accounts, strings.Join(why, ", "))
}
