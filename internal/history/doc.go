// Package history is the job's memory: each run's state (S3 or a local directory), the diff with the run before
// (new, escalated, ongoing, resolved, unverified) and the suppressions file. It imports internal/checks (the Finding
// type) and nothing else of ours; the job converts crossaccount cells into Cells and the report renders the results.
//
// A run uses it in this order:
//
//	rules, err := history.ReadSuppressions(r, runTime, checks.Names()) // err: *InvalidError; go on with rules == nil
//	prev, err := store.Previous(ctx, runTime, runID, history.Lineage{Organization: org, Accounts: ids})
//		// err: *Unavailable, never fatal, prev == nil; or *Caveats beside prev: entries passed over, to warn of
//	delta := history.Diff(prev, history.Run{ID: runID, Time: runTime, AsOf: asOf, Findings: fan.Findings,
//		Cells: cells, Accounts: ids, Scope: scope, Suppressions: rules, Organization: org})
//	state := history.NewState(run, delta)
//	trend, err := store.Recent(ctx, runTime.Add(-history.DefaultLookback), runTime, org) // then append state.Summary()
//	err = store.Put(ctx, state) // not on a dry run
//
// Identity is check + account + region + resource type + resource id. A finding gone from a cell that ran (clean or
// with other findings) is resolved; gone from a cell that failed, was cut by the deadline or did not run, it is
// unverified and carried in the state until a run settles it. Of an account the run did not audit, only one that a
// whole listing of the organization no longer holds, or lists closed, resolves its findings ("account no longer in
// scope: left the organization", "...: suspended (state SUSPENDED)"); one the listing did not reach, or that the run
// left out by choice, carries them as unverified (Scope). Diff is a pure function, so a retried run (same run id and time, same
// previous state) computes the same diff and Put overwrites the same entry.
//
// States are gzip JSON at history/YYYY/MM/DD/<run id>.json.gz (dated by the run time, UTC), column-wise by check
// (wire.go) so 100,000 findings fit in under 5 MB. The head (version, run id, run time, as-of, counts) comes first, so
// Previous and Recent learn a run's time and counts from the first bytes of each object (a ranged GET) and read only
// the chosen previous state whole. The key cannot hold the run time (a run id need not be a time), hence the heads.
package history
