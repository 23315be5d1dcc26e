package report

import (
	"cmp"
	"slices"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
)

// Owners are the owners who get a digest of their own: those with findings or failed cells, most severe first (by
// critical findings, then warnings, notices and failed cells), then by name. An account without an owner (Owner
// empty: the organization was not walked) is the organization's digest's alone.
func Owners(res *Result) []string {
	type weight struct{ critical, warning, notice, failed int }
	by := map[string]*weight{}
	get := func(owner string) *weight {
		w := by[owner]
		if w == nil {
			w = &weight{}
			by[owner] = w
		}
		return w
	}
	for _, f := range res.Findings {
		if f.Owner == "" {
			continue
		}
		switch w := get(f.Owner); f.Severity {
		case checks.Critical:
			w.critical++
		case checks.Warning:
			w.warning++
		default:
			w.notice++
		}
	}
	for c := range res.Cells.All() {
		if c.Owner != "" && c.Outcome == crossaccount.OutcomeError {
			get(c.Owner).failed++
		}
	}
	owners := make([]string, 0, len(by))
	for o := range by {
		owners = append(owners, o)
	}
	slices.SortFunc(owners, func(a, b string) int {
		wa, wb := by[a], by[b]
		return cmp.Or(cmp.Compare(wb.critical, wa.critical), cmp.Compare(wb.warning, wa.warning),
			cmp.Compare(wb.notice, wa.notice), cmp.Compare(wb.failed, wa.failed), cmp.Compare(a, b))
	})
	return owners
}

// ForOwner is res narrowed to owner's accounts: their findings, errors, cells and skipped accounts, the previous
// run's findings resolved or unverified in them, their suppressed findings and the suppression rules that name them
// (or no account), with every count (accounts, coverage, per check, changes) recomputed from what is left. An
// account is the owner's when the run stamped it so (Account, Cell, Failure, Skipped, Finding); a previous run's
// finding carries the owner of its day, so resolved and unverified ones go by account id. The workbook's presigned
// link is left out: the workbook holds every owner's accounts, and the link opens it for anyone who has it; the
// bucket, key and console link stay, which only those allowed to read the bucket can follow. Nothing run-wide that
// would tell of other owners' accounts stays (the trend); the run's warnings do, as they change what the digest can
// say. res is not changed; the lists of the result are new, the findings themselves shared.
func ForOwner(res *Result, owner string) *Result {
	mine := map[string]bool{}
	for _, a := range res.AccountList {
		if a.Owner == owner {
			mine[a.ID] = true
		}
	}
	for c := range res.Cells.All() {
		if c.Owner == owner {
			mine[c.AccountID] = true
		}
	}
	for _, f := range res.Findings {
		if f.Owner == owner {
			mine[f.AccountID] = true
		}
	}
	for _, e := range res.Errors {
		if e.Owner == owner {
			mine[e.AccountID] = true
		}
	}
	for _, s := range res.Skipped {
		if s.Owner == owner {
			mine[s.AccountID] = true
		}
	}

	r := &Result{
		Facts: Facts{
			RunID: res.RunID, Owner: owner, AsOf: res.AsOf, Scope: res.Scope, Narrowed: res.Narrowed, OwnAccountOnly: res.OwnAccountOnly,
			Checks: res.Checks, Regions: res.Regions, checks: res.checks,
			Findings:    keepMine(res.Findings, mine, func(f checks.Finding) string { return f.AccountID }),
			Errors:      keepMine(res.Errors, mine, func(e crossaccount.Failure) string { return e.AccountID }),
			Skipped:     keepMine(res.Skipped, mine, func(s crossaccount.Skipped) string { return s.AccountID }),
			Cells:       res.Cells.Keep(func(id string) bool { return mine[id] }),
			AccountList: keepMine(res.AccountList, mine, func(a crossaccount.Account) string { return a.ID }),
		},
		APIRetries: res.APIRetries, RetriesByCode: res.RetriesByCode,
		Memory: Memory{
			PreviousRunID: res.PreviousRunID, PreviousRunTime: res.PreviousRunTime, NoPrevious: res.NoPrevious,
			DigestChangesOnly:     res.DigestChangesOnly,
			Resolved:              keepMine(res.Resolved, mine, func(x history.Resolved) string { return x.AccountID }),
			Unverified:            keepMine(res.Unverified, mine, func(x history.Unverified) string { return x.AccountID }),
			Suppressed:            keepMine(res.Suppressed, mine, func(x SuppressedFinding) string { return x.AccountID }),
			RecoveredSinceLastRun: keepMine(res.RecoveredSinceLastRun, mine, func(x AlertedStack) string { return x.AccountID }),
			AlertedNotRechecked:   keepMine(res.AlertedNotRechecked, mine, func(x AlertedStack) string { return x.AccountID }),
			AlertsSince:           res.AlertsSince,
		},
	}
	// The run's warnings stay, as they change what the digest can say, but the count of unknown owner tags is the
	// owner's own: another owner's unreadable tag is not this owner's concern.
	for _, w := range res.Warnings {
		if w != res.ownerWarning {
			r.Warnings = append(r.Warnings, w)
		}
	}
	if w := ownerWarning(crossaccount.OwnerStatsOf(r.AccountList)); w != "" {
		r.Warnings = append(r.Warnings, w)
		r.ownerWarning = w
	}
	if loc := res.Report; loc != nil {
		r.Report = &Location{Bucket: loc.Bucket, Key: loc.Key, ConsoleURL: loc.ConsoleURL, Path: loc.Path, NotUploaded: loc.NotUploaded}
	}
	for id, sev := range res.EscalatedFrom {
		if mine[id.AccountID] {
			if r.EscalatedFrom == nil {
				r.EscalatedFrom = map[history.Identity]checks.Severity{}
			}
			r.EscalatedFrom[id] = sev
		}
	}
	rule := func(x history.Rule) string { return x.AccountID }
	mineOrAll := map[string]bool{"": true}
	for id := range mine {
		mineOrAll[id] = true
	}
	sr := res.SuppressionRules
	r.SuppressionRules = history.SuppressionReport{Expired: keepMine(sr.Expired, mineOrAll, rule),
		ExpiredSinceLast: keepMine(sr.ExpiredSinceLast, mineOrAll, rule),
		ExpiringSoon:     keepMine(sr.ExpiringSoon, mineOrAll, rule), Stale: keepMine(sr.Stale, mineOrAll, rule)}

	r.Counts = make([]CheckCounts, len(res.Counts))
	for i, c := range res.Counts {
		r.Counts[i] = CheckCounts{Check: c.Check, Title: c.Title}
	}
	r.countFindings()
	r.USDPerMonthAtRisk = SumAtRisk(r.Findings)
	accounts := r.AccountList
	if len(res.AccountList) == 0 {
		// A result built without its accounts (decoded from JSON): the accounts are those its cells name.
		accounts = nil
		seen := map[string]bool{}
		for c := range r.Cells.All() {
			if !seen[c.AccountID] {
				seen[c.AccountID] = true
				accounts = append(accounts, crossaccount.Account{ID: c.AccountID})
			}
		}
	}
	r.countCoverage(accounts)
	// Partial for this owner's cells, and for what concerns every owner (the organization listed in part or not at
	// all); another owner's failed cells are not this owner's gap. A result decoded from JSON has no cells to judge
	// by, so it keeps the run's verdict.
	if res.Cells.Len() == 0 {
		r.Partial, r.PartialReasons = res.Partial, res.PartialReasons
	} else {
		r.setPartial(runWide(res.PartialReasons))
	}
	if res.Changes != nil {
		ch := Changes{Resolved: len(r.Resolved), Unverified: len(r.Unverified), Suppressed: len(r.Suppressed)}
		for _, f := range r.Findings {
			switch history.Change(f.Change) {
			case history.ChangeNew:
				ch.New++
			case history.ChangeEscalated:
				ch.Escalated++
			default:
				ch.Ongoing++
			}
		}
		r.Changes = &ch
	}
	return r
}

// keepMine returns the items whose account is in mine, as a new slice: never nil where the JSON wants a list.
func keepMine[T any](items []T, mine map[string]bool, account func(T) string) []T {
	out := make([]T, 0)
	for _, x := range items {
		if mine[account(x)] {
			out = append(out, x)
		}
	}
	return out
}
