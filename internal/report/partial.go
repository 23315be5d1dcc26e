package report

import (
	"fmt"
	"strings"

	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// A run is partial when something it set out to audit was not audited. These are the reasons, in the order every
// output gives them: what the run could not even list first, then the cells that did not run.
const (
	// PartialOwnAccountOnly: the organization could not be listed, so only the caller's own account was audited.
	PartialOwnAccountOnly = "own_account_only"
	// PartialAccountList: the walk of the organization stopped part way; the accounts it did not reach were not
	// audited, and are not counted among the accounts in scope.
	PartialAccountList = "account_list_incomplete"
	// PartialDeadline: the deadline stopped the audit; its cells carry the code crossaccount.CodeDeadline.
	PartialDeadline = "deadline"
	// PartialCellsFailed: cells ended in an error (a role not assumed, a region not enabled, a call denied).
	PartialCellsFailed = "cells_failed"
)

// PartialReason is one reason a run is partial. Narrowing the run by choice (-accounts, -exclude-accounts, -checks) is
// never one: the run audited what it was asked to, and says so as its narrowed scope (Result.Narrowed).
type PartialReason struct {
	Reason string `json:"reason"`
	// Cells counts the cells this reason left unaudited (deadline, cells_failed).
	Cells int `json:"cells,omitempty"`
	// Error is AWS's error behind the reason: the listing's code and message (account_list_incomplete).
	Error string `json:"error,omitempty"`
	// Detail is the reason in the words every output uses.
	Detail string `json:"detail"`
}

// runWideReasons are the reasons that concern the whole run rather than some of its cells: that the organization
// could not be listed, or was listed only in part.
func runWideReasons(listingIncomplete string, ownAccountOnly bool) []PartialReason {
	var out []PartialReason
	if ownAccountOnly {
		out = append(out, PartialReason{Reason: PartialOwnAccountOnly})
	}
	if listingIncomplete != "" {
		out = append(out, PartialReason{Reason: PartialAccountList, Error: listingIncomplete})
	}
	return out
}

// cellReasons counts the cells that did not run: those the deadline stopped apart from those that failed, so that the
// deadline, which a longer timeout or distributed mode cures, stays visible.
func cellReasons(cells *crossaccount.Cells) []PartialReason {
	deadline, failed := 0, 0
	// A clean cell has nothing to say here, so only the rows are read.
	for _, c := range cells.Rows() {
		switch {
		case c.Outcome == crossaccount.OutcomeFindings || c.Outcome == crossaccount.OutcomeClean:
		case c.Code == crossaccount.CodeDeadline:
			deadline++
		default:
			// countCoverage counts every other outcome as failed; so does this.
			failed++
		}
	}
	var out []PartialReason
	if deadline > 0 {
		out = append(out, PartialReason{Reason: PartialDeadline, Cells: deadline})
	}
	if failed > 0 {
		out = append(out, PartialReason{Reason: PartialCellsFailed, Cells: failed})
	}
	return out
}

// runWide are the run-wide ones of reasons (runWideReasons): every owner's digest has them.
func runWide(reasons []PartialReason) []PartialReason {
	var out []PartialReason
	for _, p := range reasons {
		if p.Reason == PartialOwnAccountOnly || p.Reason == PartialAccountList {
			out = append(out, p)
		}
	}
	return out
}

// setPartial fills Partial and PartialReasons, the one definition every output reads: the run-wide reasons given, and
// those of r's own cells.
func (r *Result) setPartial(wide []PartialReason) {
	r.PartialReasons = append(append([]PartialReason(nil), wide...), cellReasons(&r.Cells)...)
	for i := range r.PartialReasons {
		r.PartialReasons[i].Detail = r.PartialReasons[i].words(r.Cells.Len(), field)
	}
	r.Partial = len(r.PartialReasons) > 0
}

// words says p in words, AWS's text quoted by quote (field for the digests and the workbook, chatCode for the card),
// out of total cells.
func (p PartialReason) words(total int, quote func(string, int) string) string {
	switch p.Reason {
	case PartialOwnAccountOnly:
		return "only the caller's own account was audited: the organization could not be listed"
	case PartialAccountList:
		return fmt.Sprintf("the account list is incomplete (%s): the accounts the walk did not reach were not audited",
			quote(p.Error, maxMessageBytes))
	case PartialDeadline:
		return fmt.Sprintf("the deadline stopped the audit: %d of %d cells not audited (code %s)", p.Cells, total, crossaccount.CodeDeadline)
	case PartialCellsFailed:
		return fmt.Sprintf("%d of %d cells failed and were not audited", p.Cells, total)
	default:
		// A reason this version does not know (a result decoded from a newer one): say what it said.
		return "not audited: " + quote(p.Reason, maxNameBytes) + " " + quote(p.Detail, maxReasonBytes)
	}
}

// partialStatement is the verdict on what r did not audit, the same on every output after its "PARTIAL: "; empty when
// r is complete.
func (r *Result) partialStatement(quote func(string, int) string) string {
	if !r.Partial {
		return ""
	}
	if len(r.PartialReasons) == 0 {
		return "not everything in scope was audited"
	}
	total := max(r.Cells.Len(), r.Coverage.Cells)
	parts := make([]string, len(r.PartialReasons))
	for i, p := range r.PartialReasons {
		parts[i] = p.words(total, quote)
	}
	return strings.Join(parts, "; ")
}

// listingIncomplete says the account list is incomplete, so a count of accounts is not the organization's.
func (r *Result) listingIncomplete() bool {
	for _, p := range r.PartialReasons {
		if p.Reason == PartialAccountList {
			return true
		}
	}
	return false
}

// scopeWords is the scope, narrowed by choice when it was.
func (r *Result) scopeWords() string {
	s := field(r.Scope, maxScopeBytes)
	if r.Narrowed != "" {
		s += ", narrowed by choice (" + field(r.Narrowed, maxScopeBytes) + ")"
	}
	return s
}

// noFindingsWords replaces "No findings." on a partial run, where it would read as a clean organization: the findings
// are none only in what ran, and what did not is said above them.
func (r *Result) noFindingsWords(none string) string {
	if !r.Partial {
		return none
	}
	return strings.TrimSuffix(none, ".") + " in what was audited; what was not is above."
}
