// Package crossaccount turns an organization into audited cells: it lists the accounts, assumes the audit role in
// each, and runs every account × region × check as one flat task list under one concurrency limit. A failure is
// recorded against exactly the cells it affects and never stops the others. It imports internal/checks and
// internal/awserr, which classifies AWS's errors.
package crossaccount

import (
	"github.com/orgaudit/orgaudit/internal/checks"
)

// Outcome is how one cell ended. There is no "skipped": a cell that was not audited is an error with its reason.
type Outcome string

const (
	OutcomeFindings Outcome = "findings"
	OutcomeClean    Outcome = "clean"
	OutcomeError    Outcome = "error"
)

// AllRegions stands for the region of a cell when the account's regions could not be listed.
const AllRegions = "all"

// Cell is one account × region × check and how it ended.
type Cell struct {
	AccountID   string  `json:"account_id"`
	AccountName string  `json:"account_name"`
	Owner       string  `json:"owner"`
	OU          string  `json:"ou"`
	Region      string  `json:"region"`
	Check       string  `json:"check"`
	Outcome     Outcome `json:"outcome"`
	Findings    int     `json:"findings"`
	Code        string  `json:"code,omitempty"`
	Message     string  `json:"message,omitempty"`
}

// Failure is one thing that went wrong, recorded once where it happened: an account's role (Region and Check
// empty), an account's region list (Check empty), or one check in one region.
type Failure struct {
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name"`
	Owner       string `json:"owner"`
	OU          string `json:"ou"`
	Region      string `json:"region"`
	Check       string `json:"check"`
	Code        string `json:"code"`
	Message     string `json:"message"`
}

// Skipped is an account of the organization that was not audited on purpose, with why.
type Skipped struct {
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name"`
	Owner       string `json:"owner"`
	OU          string `json:"ou"`
	Reason      string `json:"reason"`
}

// CodeDeadline marks cells the deadline stopped: not started, or cut off in flight.
const CodeDeadline = "Deadline"

// Result is everything the fan-out learned.
type Result struct {
	// Partial says the deadline stopped the audit; the cells it stopped carry CodeDeadline.
	Partial bool
	// Scope says in words what was audited: the organization, named accounts, or only the caller's account.
	Scope string
	// OwnAccountOnly says the organization could not be listed and only the caller's own account was audited.
	OwnAccountOnly bool
	// Organization is whose accounts these are: its id and management account once the walk listed its root, and
	// the caller's account always.
	Organization Organization
	// ListingIncomplete says why the walk of the organization stopped part way (a listing that still failed after the
	// SDK's retries, a repeated page token): the accounts it did not reach were not looked at, so they neither left
	// nor were fixed. Empty when the walk saw the whole organization, or when none was walked.
	ListingIncomplete string
	// Listed is every account the walk listed, whatever the filter, by id: its state as Organizations gives it
	// (ACTIVE, SUSPENDED, ...). ListedWhole says the walk went to the end, so an account missing from Listed is not
	// in the organization. Both let the history tell an account that left from one this run did not look at.
	Listed      map[string]string
	ListedWhole bool
	Accounts    []Account
	Skipped     []Skipped
	Cells       Cells
	Findings    []checks.Finding
	Failures    []Failure
	// OwnerTags are the owner tags to keep for the next run: those read now and those still cached, by account id.
	OwnerTags  []OwnerTag
	OwnerStats OwnerStats
}
