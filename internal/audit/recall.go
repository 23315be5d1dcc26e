package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/report"
)

// The job's memory: between the fan-out and the report, the run reads the previous run's state and the suppressions
// file, diffs, and stores its own state. Nothing here fails a run: an unreadable history is a first run that says
// why, a bad suppressions file is no suppressions and a warning, a failed write is a warning.

// recall is what the memory stage learned, laid onto the result once report.Build has counted.
type recall struct {
	store    history.Store // nil: no history kept
	run      history.Run
	delta    history.Delta
	used     bool // history was read (Changes are meaningful)
	noPrev   string
	warnings []string
	trend    []history.Summary
	// suppressed are the suppressed findings and escalatedFrom the severities the escalated ones had, in the diff's
	// order: taken from the diff's findings, which are dropped once the state is built.
	suppressed    []report.SuppressedFinding
	escalatedFrom map[history.Identity]checks.Severity
	// recovered and notRechecked are the alerted stacks of the run's window it did not find failing (alerted.go).
	recovered, notRechecked []report.AlertedStack
	// lineage says whose runs are this run's earlier ones; prevCover is what the previous run spoke of among the
	// alerts (alerted.go), nil on a first run.
	lineage   history.Lineage
	prevCover *runCover
	// prevUnreadable says why the previous run, stored, could not be read ("" when it was, or when none is stored):
	// the alert window cannot start at it, and the run cannot tell which alerts it spoke of.
	prevUnreadable string
	// alertsFrom is where the alert window started, set when recovered or notRechecked lists a stack.
	alertsFrom *time.Time
}

// recallOwnerTags reads the owner tags the previous run kept, before the audit, which reads only a budget of them
// afresh. Nothing here fails the run: without them every tag is due, and the budget bounds the reads.
func (j *Job) recallOwnerTags(ctx context.Context) map[string]crossaccount.OwnerTag {
	s, bucket, runTime, runID, log := j.s, j.bucket, j.RunTime, j.RunID, j.log
	if s.NoHistory || s.OwnerTagKey == "" {
		return nil
	}
	// The organization is not known before the walk: the latest run's tags, of whichever organization, are kept
	// by account id and the fan-out keeps only those of accounts its walk lists.
	store, err := historyStore(s, bucket, history.Organization{})
	if err != nil || store == nil {
		return nil
	}
	tags, err := store.PreviousOwnerTags(ctx, runTime, runID, history.Organization{})
	if err != nil {
		log.InfoContext(ctx, "no owner tags from run history", "err", err)
		return nil
	}
	out := make(map[string]crossaccount.OwnerTag, len(tags))
	for _, t := range tags {
		out[t.AccountID] = crossaccount.OwnerTag{AccountID: t.AccountID, Value: t.Value, Found: t.Found, ReadAt: t.ReadAt}
	}
	return out
}

// historyOwnerTags are the tags to keep, as the history stores them.
func historyOwnerTags(tags []crossaccount.OwnerTag) []history.OwnerTag {
	out := make([]history.OwnerTag, len(tags))
	for i, t := range tags {
		out[i] = history.OwnerTag{AccountID: t.AccountID, Value: t.Value, Found: t.Found, ReadAt: t.ReadAt}
	}
	return out
}

// recallRun reads history and suppressions and diffs fan against them. It takes the suppressed findings out of
// fan.Findings and gives the rest their memory (change, first seen, age), so that report.Build, which counts
// fan.Findings, counts only what is open; memory then makes the result's memory of it.
func (j *Job) recallRun(ctx context.Context, fan *crossaccount.Result) *recall {
	s, bucket, runID, runTime, asOf, log := j.s, j.bucket, j.RunID, j.RunTime, j.AsOf, j.log
	m := &recall{}
	rules, warn := j.loadSuppressions(ctx)
	if warn != "" {
		log.WarnContext(ctx, "suppressions not applied", "file", s.Suppressions, "err", warn)
		m.warnings = append(m.warnings, "suppressions not applied: "+warn)
	}
	m.run = history.Run{ID: runID, Time: runTime, AsOf: asOf, Findings: fan.Findings, CellSource: historyCells{&fan.Cells},
		Accounts: accountIDs(fan), Scope: historyScope(fan, s), Suppressions: rules,
		Organization: history.Organization(fan.Organization)}
	lineage := history.Lineage{Organization: m.run.Organization, Accounts: m.run.Accounts}
	m.lineage = lineage

	var prev *history.State
	if !s.NoHistory {
		store, err := historyStore(s, bucket, m.run.Organization)
		switch {
		case err != nil:
			m.used, m.noPrev = true, "no previous run to compare with: "+err.Error()
			log.ErrorContext(ctx, "run history unavailable", "err", err)
		case store != nil:
			m.store, m.used = store, true
			prev, err = store.Previous(ctx, runTime, runID, lineage)
			// Entries passed over for an earlier run (unreadable, another organization's) are said in the digest.
			var caveats *history.Caveats
			if errors.As(err, &caveats) {
				for _, note := range caveats.Notes {
					log.WarnContext(ctx, "stored run passed over", "previous_run_id", caveats.RunID, "note", note)
					m.warnings = append(m.warnings, "run history: compared with run "+caveats.RunID+": "+note)
				}
				if caveats.Unreadable {
					// A later run could not be read: which alerts it already told of is not known, as when the
					// previous run itself is unreadable.
					m.prevUnreadable = caveats.Error()
				}
				err = nil
			}
			if err != nil {
				m.noPrev = err.Error()
				var un *history.Unavailable
				switch {
				case errors.As(err, &un) && un.Kind == history.NoneStored:
					log.InfoContext(ctx, "no previous run", "where", store.Where())
				case errors.As(err, &un) && un.Kind == history.OtherOrganization:
					// Another organization's runs: none of this one's, as when none is stored.
					log.WarnContext(ctx, "no previous run of this organization; comparing with nothing", "err", err)
				default:
					m.prevUnreadable = err.Error()
					log.WarnContext(ctx, "previous run unreadable; comparing with nothing", "err", err)
				}
			}
		}
	}
	m.delta = history.Diff(prev, m.run)
	if prev != nil {
		c := coverOf(prev)
		m.prevCover = &c
	}

	// The open findings are kept in place, in fan.Findings' own array: the diff holds its own copy of each (Tracked),
	// and a third array of 292,775 findings (77 MB at 10,000 accounts × 17 regions) would be live beside both at the
	// report step's peak. The diff is in fan.Findings' order and nothing reads the run's findings after it.
	kept := fan.Findings[:0]
	for _, t := range m.delta.Findings {
		if t.Change == history.ChangeEscalated && t.Suppression == nil && m.used {
			if m.escalatedFrom == nil {
				m.escalatedFrom = map[history.Identity]checks.Severity{}
			}
			m.escalatedFrom[history.IdentityOf(t.Finding)] = t.PreviousSeverity
		}
		if t.Suppression != nil {
			m.suppressed = append(m.suppressed, report.SuppressedFinding{Finding: t.Finding, Suppression: t.Suppression})
			continue
		}
		f := t.Finding
		if m.used {
			first, age := t.FirstSeen, t.AgeDays
			f.Change, f.FirstSeen, f.AgeDays = string(t.Change), &first, &age
		}
		kept = append(kept, f)
	}
	clear(fan.Findings[len(kept):])
	fan.Findings, m.run.Findings = kept, nil
	j.recallAlerts(ctx, fan, m)

	// The diff's copy of every finding (Tracked, about 336 bytes each: 98 MB at 10,000 accounts × 17 regions) is
	// dropped once the state is built from it, before the state is written: what the result needs of it is taken
	// above (the suppressed findings, the severities escalated from).
	if m.store == nil {
		m.delta.Findings = nil
		return m
	}
	state := history.NewState(m.run, m.delta)
	m.delta.Findings = nil
	state.OwnerTags = historyOwnerTags(fan.OwnerTags)
	state.Trigger = s.Trigger
	trend, err := m.store.Recent(ctx, runTime.Add(-history.DefaultLookback), runTime, m.run.Organization)
	if err != nil {
		log.WarnContext(ctx, "trend incomplete", "err", err)
		m.warnings = append(m.warnings, "trend incomplete: "+err.Error())
	}
	m.trend = append(trend, state.Summary())
	if !s.DryRun {
		// Stored before the digest is published, so a retried invocation of this run (after a failed publish)
		// reads the same previous run and overwrites this same entry. A failed write does not fail the run: the
		// audit and its digest are right today, and failing would hold the digest back (or make Lambda audit the
		// organization again); tomorrow's run compares with the last run stored, and this warning says why.
		if err := m.store.Put(ctx, state); err != nil {
			log.ErrorContext(ctx, "run history not stored", "err", err)
			m.warnings = append(m.warnings, "run history not stored, so the next run compares with an earlier one: "+err.Error())
		} else {
			log.InfoContext(ctx, "run history stored", "where", m.store.Where(), "findings", len(state.Findings))
		}
	}
	return m
}

// memory is the result's memory: what the run knew of the one before it. warnings are those report.Build gave (the
// owner tags'), which come first. The result was built from the fan-out recallRun filtered, so its counts leave out
// the suppressed findings.
func (m *recall) memory(warnings []string, s config.Settings) report.Memory {
	d := m.delta
	mem := report.Memory{Warnings: append(warnings, m.warnings...), DigestChangesOnly: s.Digest == config.DigestChanges,
		SuppressionRules: d.Suppressions}
	mem.Suppressed = m.suppressed
	if !m.used {
		return mem
	}
	changes := d.Changes
	mem.Changes = &changes
	mem.NoPrevious = m.noPrev
	mem.PreviousRunID = d.PreviousRunID
	if !d.PreviousRunTime.IsZero() {
		t := d.PreviousRunTime
		mem.PreviousRunTime = &t
	}
	mem.Resolved, mem.Unverified, mem.Trend = d.Resolved, d.Unverified, m.trend
	mem.EscalatedFrom = m.escalatedFrom
	mem.RecoveredSinceLastRun, mem.AlertedNotRechecked, mem.AlertsSince = m.recovered, m.notRechecked, m.alertsFrom
	return mem
}

// historyStore is where org's history lives: a state directory when one is set (the CLI without a bucket, the
// demo; a directory per organization under the CLI's default), else the report bucket, else nowhere (nil).
func historyStore(s config.Settings, bucket func() (*s3.Client, error), org history.Organization) (history.Store, error) {
	switch {
	case s.StateDir != "" && s.StateDirByOrganization:
		return history.NewOrganizationDirStore(s.StateDir, org, 0), nil
	case s.StateDir != "":
		return history.NewDirStore(s.StateDir, 0), nil
	case s.Bucket != "":
		client, err := bucket()
		if err != nil {
			return nil, fmt.Errorf("report bucket %s: %w", s.Bucket, err)
		}
		return history.NewS3Store(client, history.S3Location{Bucket: s.Bucket, Prefix: s.Prefix, KMSKeyID: s.KMSKeyID}), nil
	}
	return nil, nil
}

// loadSuppressions reads the suppressions file. It returns nil rules and why when the file cannot be used; a missing
// file that need not exist (SuppressionsIfExists) is no rules and no warning.
func (j *Job) loadSuppressions(ctx context.Context) (*history.Suppressions, string) {
	s := j.s
	if s.Suppressions == "" {
		return nil, ""
	}
	body, err := j.openSuppressions(ctx)
	if err != nil {
		return nil, s.Suppressions + ": " + err.Error()
	}
	if body == nil {
		return nil, ""
	}
	defer body.Close()
	rules, err := history.ReadSuppressions(body, j.RunTime, checks.Names())
	if err != nil {
		return nil, s.Suppressions + ": " + err.Error()
	}
	return rules, ""
}

// openSuppressions opens the file; nil and no error when it is missing and need not exist.
func (j *Job) openSuppressions(ctx context.Context) (io.ReadCloser, error) {
	s := j.s
	b, key, isS3 := config.ParseS3Location(s.Suppressions)
	if !isS3 {
		f, err := os.Open(s.Suppressions)
		if errors.Is(err, fs.ErrNotExist) && s.SuppressionsIfExists {
			return nil, nil
		}
		return f, err
	}
	client, err := j.suppressionsClient(ctx, b)
	if err != nil {
		return nil, err
	}
	if s.SuppressionsIfExists {
		// Asked by listing its exact name, not by a GET: without s3:ListBucket S3 answers a GET of a missing key
		// with 403 AccessDenied, not 404, and a deployment without the file would warn every day. The role may
		// list only this name and the history prefix.
		out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String(key), MaxKeys: aws.Int32(1)})
		if err != nil {
			return nil, err
		}
		if len(out.Contents) == 0 || aws.ToString(out.Contents[0].Key) != key {
			return nil, nil
		}
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

// suppressionsClient is an S3 client for the suppressions file's bucket: the report bucket's own client, or one in
// the other bucket's region.
func (j *Job) suppressionsClient(ctx context.Context, b string) (*s3.Client, error) {
	if b == j.s.Bucket && j.bucket != nil {
		return j.bucket()
	}
	o := j.deliverySettings()
	o.Bucket, o.BucketRegion = b, ""
	return delivery.BucketClient(ctx, j.cfg, o)
}

// historyCells are the fan-out's cells as the history reads them, converted one at a time as it reads them: a copy
// of every cell as a history.Cell would be 131 MB at 10,000 accounts × 17 regions.
type historyCells struct{ cells *crossaccount.Cells }

func (h historyCells) Len() int { return h.cells.Len() }

func (h historyCells) All() iter.Seq[history.Cell] {
	return func(yield func(history.Cell) bool) {
		for c := range h.cells.All() {
			if !yield(history.Cell{AccountID: c.AccountID, Region: c.Region, Check: c.Check, Outcome: history.Outcome(c.Outcome), Code: c.Code, Message: c.Message}) {
				return
			}
		}
	}
}

// historyScope is how this run chose its accounts, so the diff resolves the findings only of an account a whole
// listing no longer holds, or holds closed, and carries those of an account this run did not look at: one the
// broken listing did not reach, or one left out by choice.
func historyScope(fan *crossaccount.Result, s config.Settings) history.Scope {
	return history.Scope{ListedWhole: fan.ListedWhole, Listed: fan.Listed, ListingError: fan.ListingIncomplete,
		Only: s.Accounts, Exclude: s.ExcludeAccounts}
}

// accountIDs are the accounts the run set out to audit: those it audited and those it failed to; skipped ones
// (suspended, closed) are out of scope, and so is an account named with -accounts that a whole listing of the
// organization did not hold: it left, and its findings are resolved as such rather than carried run after run.
func accountIDs(fan *crossaccount.Result) []string {
	out := make([]string, 0, len(fan.Accounts))
	for _, a := range fan.Accounts {
		if _, listed := fan.Listed[a.ID]; fan.ListedWhole && !listed {
			continue
		}
		out = append(out, a.ID)
	}
	return out
}
