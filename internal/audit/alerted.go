package audit

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/history"
	"github.com/orgaudit/orgaudit/internal/report"
)

// The daily digest remembers the event-driven alerts (internal/alert): a finding an alert told of says when, and a
// stack that failed and was fixed before the run is listed once as recovered. The alerts of a run are those whose
// records were written in its window (Record.RecordedAt, else the object's last change: a record written on a
// retry after a run is the next run's, though its alert went out before; AlertedAt is only shown), (previous run's time, this run's time]: the next run's window starts where this one ends, so no alert
// is shown by two runs, and two manual runs on one day each show only what came between them. An alert is shown by
// the first run after it that audits its account with the failed-stacks check: a run narrowed to other accounts, or
// to other checks, leaves it to the next one, whose window for that account reaches back to the run that last
// audited it (alertWindow). A run without a previous one looks back as far as the history does.
//
// Nothing here fails the run, and nothing is dropped in silence: a record that cannot be read (too large, not a
// record) is a warning, not a partial reason. Partial says the audit did not read something it set out to audit;
// an unreadable record leaves the audit's findings whole, and costs only the note beside one of them (or one line
// of the recovered list), which the warning says may be missing.

const (
	// maxAlertRecordBytes bounds one record: an alert is a few hundred bytes of cleaned text and the ids of the
	// grouped message it went out in. A larger object is not one the alert path wrote, and is refused unread.
	maxAlertRecordBytes = 64 << 10
	// maxAlertRecords bounds the records one run reads: a StackSet failing in 500 accounts is 500 records, and a day
	// of such operations a few thousand. Past the bound the run says how many it did not read.
	maxAlertRecords = 5_000
	// alertRecordSlack is how long before its alert an event may be dated. A record's key is dated by its event and
	// its window by when the record was written: an event the function retried (the queue keeps a message 14 days at
	// most) is sent, and recorded, under an earlier day.
	alertRecordSlack = 14 * 24 * time.Hour
	// alertWriteSkew is the clock difference allowed between the function that stamps RecordedAt and the store that
	// stamps the object's last change: an object last changed before the window opened (less this) holds an alert
	// sent before it, and is not read.
	alertWriteSkew = 5 * time.Minute
	// maxAlertKeys bounds the keys a run keeps of its listing (the window's days and the slack before them, less
	// those written before the window): the listing is held in memory, and a prefix filled by something other than
	// the alert path must not grow it without end.
	maxAlertKeys = 10 * maxAlertRecords
)

// alertObject is one stored record as its listing shows it.
type alertObject struct {
	key      string
	modified time.Time // zero when not known
	size     int64
}

// alertRecordSource is where a run reads alert records: the report bucket, or the state directory of a CLI run.
type alertRecordSource interface {
	where(key string) string
	// list returns the records keyed by the days from's through to's, at most maxAlertKeys+1 of them, leaving out
	// those last changed before since: an earlier window's alerts of the slack's days must not use up the bound
	// before this window's are listed.
	list(ctx context.Context, from, to, since time.Time) ([]alertObject, error)
	open(ctx context.Context, key string) (io.ReadCloser, error)
}

// alertsRoot is the folder the records' keys begin with, as alert.RecordKey makes them.
func alertsRoot(prefix string) string {
	return strings.TrimSuffix(alert.RecordKey(prefix, time.Time{}, "x"), "0001/01/01/x.json")
}

// recordDay is the day a record key under root names, "2006/01/02", or false for a key that is not a record's.
func recordDay(root, key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, root)
	if !ok || len(rest) < len("2006/01/02/x.json") || rest[10] != '/' || !strings.HasSuffix(rest, ".json") ||
		strings.Contains(rest[11:], "/") {
		return "", false
	}
	if _, err := time.Parse("2006/01/02", rest[:10]); err != nil {
		return "", false
	}
	return rest[:10], true
}

// alertS3API is what reading records calls: s3:ListBucket on <prefix>/alerts/ and s3:GetObject on its objects.
type alertS3API interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

type s3AlertRecords struct {
	client       alertS3API
	bucket, root string
}

func (o s3AlertRecords) where(key string) string { return "s3://" + o.bucket + "/" + key }

// list reads the alerts prefix from the first day's keys on and stops past the last day, as the history's listing.
func (o s3AlertRecords) list(ctx context.Context, from, to, since time.Time) ([]alertObject, error) {
	last := to.UTC().Format("2006/01/02")
	p := s3.NewListObjectsV2Paginator(o.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(o.bucket), Prefix: aws.String(o.root),
		// Keys of the first day ("…/2026/12/05/x.json") sort after the bare date.
		StartAfter: aws.String(o.root + from.UTC().Format("2006/01/02")),
	}, func(po *s3.ListObjectsV2PaginatorOptions) { po.StopOnDuplicateToken = true })
	var out []alertObject
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", o.where(o.root), err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			day, ok := recordDay(o.root, key)
			if !ok {
				continue // not a record's key (a folder marker, another tool's file)
			}
			if day > last || len(out) > maxAlertKeys {
				return out, nil
			}
			if obj.LastModified != nil && obj.LastModified.Before(since) {
				continue
			}
			out = append(out, alertObject{key: key, modified: aws.ToTime(obj.LastModified), size: aws.ToInt64(obj.Size)})
		}
	}
	return out, nil
}

func (o s3AlertRecords) open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := o.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

// dirAlertRecords reads records from a state directory, in the bucket's layout beneath it (alerts/YYYY/MM/DD/), as
// a CLI run without a bucket keeps its history there.
type dirAlertRecords struct{ dir string }

func (d dirAlertRecords) path(key string) string {
	return filepath.Join(d.dir, filepath.FromSlash(key))
}

func (d dirAlertRecords) where(key string) string { return d.path(key) }

func (d dirAlertRecords) list(ctx context.Context, from, to, since time.Time) ([]alertObject, error) {
	root := alertsRoot("")
	var out []alertObject
	last := to.UTC().Format("2006/01/02")
	for day := from.UTC().Truncate(24 * time.Hour); day.Format("2006/01/02") <= last; day = day.AddDate(0, 0, 1) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rel := root + day.Format("2006/01/02")
		entries, err := os.ReadDir(d.path(rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if len(out) > maxAlertKeys {
				return out, nil
			}
			key := rel + "/" + e.Name()
			if _, ok := recordDay(root, key); !ok || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			obj := alertObject{key: key}
			if info, err := e.Info(); err == nil {
				obj.modified, obj.size = info.ModTime(), info.Size()
			}
			if !obj.modified.IsZero() && obj.modified.Before(since) {
				continue
			}
			out = append(out, obj)
		}
	}
	return out, nil
}

func (d dirAlertRecords) open(_ context.Context, key string) (io.ReadCloser, error) {
	return os.Open(d.path(key))
}

// alertSource is where this run's settings keep alert records, as historyStore keeps its history: the state
// directory when one is set, else the report bucket when the deployment lets the run read them (AlertRecords); nil
// otherwise.
func alertSource(s config.Settings, bucket func() (*s3.Client, error)) (alertRecordSource, error) {
	switch {
	case s.StateDir != "":
		// The directory itself, not an organization's directory beneath it: an alert names its account, not its
		// organization, and matching keeps only the accounts this run set out to audit.
		return dirAlertRecords{dir: s.StateDir}, nil
	case s.Bucket != "" && s.AlertRecords:
		client, err := bucket()
		if err != nil {
			return nil, fmt.Errorf("report bucket %s: %w", s.Bucket, err)
		}
		return s3AlertRecords{client: client, bucket: s.Bucket, root: alertsRoot(s.Prefix)}, nil
	}
	return nil, nil
}

// alertReading is what readAlertRecords found: the records of the window, the ones it could not read (each with
// why), and, when a bound stopped it, what it left unread.
type alertReading struct {
	records []alert.Record
	unread  []string
	cut     string
}

// readAlertRecords reads the records of the alerts sent in (from, to]; the error is set when they could not be
// listed at all.
func readAlertRecords(ctx context.Context, src alertRecordSource, from, to time.Time) (alertReading, error) {
	var out alertReading
	objs, err := src.list(ctx, from.Add(-alertRecordSlack), to, from.Add(-alertWriteSkew))
	if err != nil {
		return out, err
	}
	if len(objs) > maxAlertKeys {
		objs = objs[:maxAlertKeys]
		out.cut = fmt.Sprintf("more than %d alert records are kept from %s on; the later ones were not read", maxAlertKeys,
			from.Add(-alertRecordSlack).UTC().Format("2006-01-02"))
	}
	read := 0
	for _, obj := range objs {
		if !obj.modified.IsZero() && obj.modified.Before(from.Add(-alertWriteSkew)) {
			continue // written before the window opened, so sent before it: an earlier run's
		}
		if read == maxAlertRecords {
			out.cut = fmt.Sprintf("more than %d alert records since %s; the rest were not read", maxAlertRecords,
				from.UTC().Format("2006-01-02 15:04 UTC"))
			break
		}
		read++
		rec, err := readAlertRecord(ctx, src, obj)
		if err != nil {
			out.unread = append(out.unread, fmt.Sprintf("%s: %v", src.where(obj.key), err))
			continue
		}
		// A run reads the records written by its time: one written later (its write retried after the alert went
		// out) is the next run's, whenever the alert was sent.
		if rec.RecordedAt.After(from) && !rec.RecordedAt.After(to) {
			out.records = append(out.records, rec)
		}
	}
	return out, nil
}

// readAlertRecord reads and checks one record, refusing one larger than maxAlertRecordBytes before reading it.
func readAlertRecord(ctx context.Context, src alertRecordSource, obj alertObject) (alert.Record, error) {
	var rec alert.Record
	if obj.size > maxAlertRecordBytes {
		return rec, fmt.Errorf("%d bytes, more than the %d an alert record may be; not read", obj.size, maxAlertRecordBytes)
	}
	body, err := src.open(ctx, obj.key)
	if err != nil {
		return rec, fmt.Errorf("read: %w", err)
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxAlertRecordBytes+1))
	if err != nil {
		return rec, fmt.Errorf("read: %w", err)
	}
	if len(b) > maxAlertRecordBytes {
		return rec, fmt.Errorf("more than the %d bytes an alert record may be; not read", maxAlertRecordBytes)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, fmt.Errorf("not an alert record: %w", err)
	}
	a := rec.Alert
	switch {
	case rec.AlertedAt.IsZero():
		return rec, errors.New("not an alert record: no alerted_at")
	case a.AccountID == "" || a.Region == "" || a.StackName == "":
		return rec, errors.New("not an alert record: the account, region or stack is missing")
	}
	if rec.RecordedAt.IsZero() {
		// Written before the sender kept recorded_at: the object's last change is when it was written; without one,
		// the alert's time, as before.
		rec.RecordedAt = cmp.Or(obj.modified, rec.AlertedAt)
	}
	return rec, nil
}

// alertKey is an alert's finding as matching sees it: Alert.Identity's four parts.
type alertKey struct{ check, account, region, stack string }

func keyOfAlert(a alert.Alert) alertKey {
	c, acc, reg, id := a.Identity()
	return alertKey{c, acc, reg, id}
}

func keyOfFinding(f *checks.Finding) alertKey {
	return alertKey{f.Check, f.AccountID, f.Region, f.ResourceID}
}

// nestedKeys are the alert keys of the failed nested stacks the check folded into f, its failed root's finding, as
// its nested_stacks detail names them. nested_failures is not read: its reasons are AWS's free text, and a reason
// such as "lock held; prod-db UPDATE_FAILED: see ticket" would name a stack that is not nested.
func nestedKeys(f *checks.Finding) []alertKey {
	if f.Check != failedStacksCheck {
		return nil
	}
	var out []alertKey
	for name := range strings.SplitSeq(f.Detail("nested_stacks"), checks.NestedStacksSeparator) {
		if name != "" {
			out = append(out, alertKey{f.Check, f.AccountID, f.Region, name})
		}
	}
	return out
}

var failedStacksCheck = checks.CloudFormationFailedStacks{}.Name()

// stackSetName reads the name out of arn:aws:cloudformation:region:account:stackset/NAME:uuid; the ARN itself when
// it is not one.
func stackSetName(a string) string {
	parsed, err := arn.Parse(a)
	if err != nil {
		return a
	}
	name, ok := strings.CutPrefix(parsed.Resource, "stackset/")
	if !ok || name == "" {
		return a
	}
	name, _, _ = strings.Cut(name, ":")
	return name
}

// alertFacts is what matching reads of the run: its findings (the open ones, which it marks; the suppressed ones,
// still failing), its cells, the accounts it set out to audit, and the history's resolved and unverified lists.
type alertFacts struct {
	findings   []checks.Finding
	suppressed []report.SuppressedFinding
	cells      *crossaccount.Cells
	inScope    map[string]bool
	resolved   []history.Resolved
	unverified []history.Unverified
}

// matchAlerts lays the alerts onto the run. A finding an alert told of gets its AlertedAt (the first alert of the
// window); a failed nested stack's alert is its failed root's finding's, which names it (nested_stacks), as the
// check folds the one into the other. A stack alerted but not found failing is recovered when its cell ran (clean,
// or with other findings), and not re-checked when its cell failed or was not audited: an auditor never calls fixed
// what it could not read. Nor is a StackSet stack instance's alert ever recovered: no check reads instances, only
// their stacks, so unless its stack's finding matches, it is not re-checked, even when its stack's own alert is
// recovered.
// A stack the history already lists as resolved or unverified is left to that list, so it appears once; an account
// the run did not set out to audit (another organization's, one narrowed out) is not this run's to speak of.
func matchAlerts(records []alert.Record, run alertFacts) (recovered, notRechecked []report.AlertedStack) {
	// A stack's alert and its StackSet instance's alert share a finding's key, but not what the audit knows of
	// them: the check reads the stack's status, no check the instance's. They are kept apart (byKind), so the
	// stack's record may be recovered while the instance's is not re-checked.
	type byKind struct {
		alertKey
		kind alert.Kind
	}
	first := map[byKind]*alert.Record{}
	for i := range records {
		r := &records[i]
		k := byKind{keyOfAlert(r.Alert), r.Alert.Kind}
		if prev, ok := first[k]; !ok || r.AlertedAt.Before(prev.AlertedAt) ||
			(r.AlertedAt.Equal(prev.AlertedAt) && r.Alert.EventID < prev.Alert.EventID) {
			first[k] = r
		}
	}
	if len(first) == 0 {
		return nil, nil
	}
	// notReread says why no check re-reads what an alert of a kind told of; "" for a stack, whose status the check
	// reads.
	notReread := func(kind alert.Kind) string {
		switch kind {
		case alert.KindStack:
			return ""
		case alert.KindInstance:
			return "no check of the daily audit reads StackSet instances"
		default:
			return fmt.Sprintf("no check of the daily audit reads what an alert of kind %q told of", kind)
		}
	}
	kindsOf := map[alertKey][]alert.Kind{}
	for k := range first {
		kindsOf[k.alertKey] = append(kindsOf[k.alertKey], k.kind)
	}
	settled := map[byKind]bool{}
	// settle settles every kind's record of k, still failing (its finding is open or suppressed) or listed by the
	// history as unverified.
	settle := func(k alertKey) {
		for _, kind := range kindsOf[k] {
			settled[byKind{k, kind}] = true
		}
	}
	mark := func(f *checks.Finding, k alertKey) {
		for _, kind := range kindsOf[k] {
			r := first[byKind{k, kind}]
			if at := r.AlertedAt.UTC(); f.AlertedAt == nil || at.Before(*f.AlertedAt) {
				f.AlertedAt = &at
			}
		}
		settle(k)
	}
	for i := range run.findings {
		f := &run.findings[i]
		mark(f, keyOfFinding(f))
		// A failed nested stack of a failed root is in the root's finding: its alert is that finding's.
		for _, k := range nestedKeys(f) {
			mark(f, k)
		}
	}
	for i := range run.suppressed {
		f := &run.suppressed[i].Finding
		settle(keyOfFinding(f)) // still failing, held back by a rule
		for _, k := range nestedKeys(f) {
			settle(k)
		}
	}
	for i := range run.resolved {
		// A resolved stack settles its stack's alert, and says nothing of its instance's: the stack is fixed, the
		// instance unread.
		settled[byKind{keyOfFinding(&run.resolved[i].Finding), alert.KindStack}] = true
	}
	for i := range run.unverified {
		settle(keyOfFinding(&run.unverified[i].Finding))
	}
	type cellKey struct{ account, region, check string }
	wanted := map[cellKey]bool{}
	for k := range first {
		if !settled[k] && run.inScope[k.account] {
			wanted[cellKey{k.account, k.region, k.check}] = true
			wanted[cellKey{k.account, crossaccount.AllRegions, k.check}] = true
		}
	}
	if len(wanted) == 0 {
		return nil, nil
	}
	// One pass over the cells, keeping only those of alerted stacks: at 10,000 accounts most of the cells are clean.
	cells := map[cellKey]crossaccount.Cell{}
	if run.cells != nil {
		for c := range run.cells.All() {
			if k := (cellKey{c.AccountID, c.Region, c.Check}); wanted[k] {
				cells[k] = c
			}
		}
	}
	for k, r := range first {
		if settled[k] || !run.inScope[k.account] {
			continue
		}
		a := r.Alert
		s := report.AlertedStack{AccountID: a.AccountID, AccountName: a.AccountName, Region: a.Region, StackName: a.StackName,
			Status: a.Status, Reason: a.Reason, AlertedAt: r.AlertedAt.UTC()}
		if a.DetailedStatus != "" {
			s.Status += " (" + a.DetailedStatus + ")"
		}
		if a.StackSetARN != "" {
			s.StackSet = stackSetName(a.StackSetARN)
		}
		if why := notReread(k.kind); why != "" {
			s.NotRechecked = why
			notRechecked = append(notRechecked, s)
			continue
		}
		c, ok := cells[cellKey{k.account, k.region, k.check}]
		if !ok {
			// The account's regions could not be listed: its cells are one per check, in no region.
			c, ok = cells[cellKey{k.account, crossaccount.AllRegions, k.check}]
		}
		switch {
		case !ok:
			s.NotRechecked = "not audited (its region or check was not in this run)"
			notRechecked = append(notRechecked, s)
		case c.Outcome == crossaccount.OutcomeError:
			s.NotRechecked = strings.TrimPrefix(c.Code+" - "+c.Message, " - ")
			notRechecked = append(notRechecked, s)
		default: // clean, or findings of other stacks: the check read the account's stacks and this one was not failing
			recovered = append(recovered, s)
		}
	}
	order := func(a, b report.AlertedStack) int {
		return cmp.Or(a.AlertedAt.Compare(b.AlertedAt), cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.Region, b.Region),
			cmp.Compare(a.StackName, b.StackName))
	}
	slices.SortFunc(recovered, order)
	slices.SortFunc(notRechecked, order)
	return recovered, notRechecked
}

// runCover is an earlier run as the alert window sees it: the accounts whose alerts it spoke of, those it set out
// to audit, when it ran the failed-stacks check (a run narrowed to other checks spoke of none).
type runCover struct {
	id       string
	time     time.Time
	accounts map[string]bool
}

func coverOf(st *history.State) runCover {
	c := runCover{id: st.RunID, time: st.RunTime}
	if !slices.ContainsFunc(st.Cells, func(cell history.Cell) bool { return cell.Check == failedStacksCheck }) {
		return c
	}
	c.accounts = make(map[string]bool, len(st.Accounts))
	for _, id := range st.Accounts {
		c.accounts[id] = true
	}
	return c
}

// spokenOf says an earlier run already spoke of r: one that ran after the record was written (readAlertRecord sets
// RecordedAt), with its account in scope. A record written after a run, of an alert sent before it, that run could
// not read.
func spokenOf(earlier []runCover, r alert.Record) bool {
	for _, c := range earlier {
		if !c.time.Before(r.RecordedAt) && c.accounts[r.Alert.AccountID] {
			return true
		}
	}
	return false
}

// maxAlertWindowRuns bounds the earlier runs a window looks back through for an account the previous run left out:
// each is a state read whole, and manual runs narrowed to other accounts are few between two daily runs. An account
// new to the organization is in no earlier run: the first run that audits it reads this many, once, and says so.
const maxAlertWindowRuns = 4

// alertWindow is where the run's alert window starts, and the earlier runs within it. An alert is the business of
// the first run after it that set out to audit its account: a run narrowed to some accounts (or to other checks)
// leaves the alerts of the others to the next run that covers them. The window so starts at the previous run,
// unless that run left out an account this run audits: then it reaches back, run by run, to one that covered it,
// and the alerts an earlier run in the window spoke of are left out (spokenOf). Without a previous run it looks back
// as far as the history does. warn says when the history could not be read back far enough.
//
// A replay of a schedule event is the same run (its id and time, config.Settings.Identity): it reads the same
// previous run, so it has the same window as the first invocation, and the same digest, once.
func (j *Job) alertWindow(ctx context.Context, m *recall, inScope map[string]bool) (time.Time, []runCover, string) {
	if m.prevCover == nil {
		return j.RunTime.Add(-history.DefaultLookback), nil, ""
	}
	earlier := []runCover{*m.prevCover}
	missing := map[string]bool{}
	for id := range inScope {
		if !earlier[0].accounts[id] {
			missing[id] = true
		}
	}
	for len(missing) > 0 {
		last := earlier[len(earlier)-1]
		if len(earlier) == maxAlertWindowRuns {
			return last.time, earlier, fmt.Sprintf("alert records sent before %s to %s none of the last %d runs "+
				"audited (runs narrowed to other accounts, or accounts new to the organization) were not read, so the digest "+
				"may not say that a finding was alerted or that an alerted stack recovered",
				last.time.UTC().Format("2006-01-02 15:04 UTC"), accountsCount(len(missing)), len(earlier))
		}
		st, err := m.store.Previous(ctx, last.time, last.id, m.lineage)
		var caveats *history.Caveats
		if errors.As(err, &caveats) {
			err = nil
		}
		var none *history.Unavailable
		switch {
		case errors.As(err, &none) && none.Kind == history.NoneStored:
			// No run before it: the accounts it left out look back as far as the history does.
			return j.RunTime.Add(-history.DefaultLookback), earlier, ""
		case err != nil || st == nil:
			if err == nil {
				err = errors.New("no run read")
			}
			return last.time, earlier, fmt.Sprintf("alert records sent before %s to %s run %s did not audit were "+
				"not read, so the digest may not say that a finding was alerted or that an alerted stack recovered: the run "+
				"before it: %v", last.time.UTC().Format("2006-01-02 15:04 UTC"), accountsCount(len(missing)), last.id, err)
		}
		c := coverOf(st)
		earlier = append(earlier, c)
		for id := range missing {
			if c.accounts[id] {
				delete(missing, id)
			}
		}
	}
	return earlier[len(earlier)-1].time, earlier, ""
}

func accountsCount(n int) string {
	if n == 1 {
		return "1 account"
	}
	return fmt.Sprintf("%d accounts", n)
}

// recallAlerts reads the alerts of the run's window and lays them onto fan's open findings and m's lists. It runs
// once the diff is made (it reads the resolved and unverified lists, and the previous run's time) and before
// report.Build copies the findings.
func (j *Job) recallAlerts(ctx context.Context, fan *crossaccount.Result, m *recall) {
	if m.store == nil {
		return
	}
	src, err := alertSource(j.s, j.bucket)
	if err != nil || src == nil {
		return // the history's own warning says why the bucket could not be used
	}
	if !slices.ContainsFunc(j.Checks, func(c checks.Check) bool { return c.Name() == failedStacksCheck }) {
		// Narrowed to other checks: the alerts are left to the next run that looks at the stacks.
		j.log.InfoContext(ctx, "alert records left to a later run", "reason", "the "+failedStacksCheck+" check did not run")
		return
	}
	inScope := make(map[string]bool, len(m.run.Accounts))
	for _, id := range m.run.Accounts {
		inScope[id] = true
	}
	from, earlier, warn := j.alertWindow(ctx, m, inScope)
	if warn != "" {
		j.log.WarnContext(ctx, "alert window cut short", "err", warn)
		m.warnings = append(m.warnings, warn)
	}
	got, err := readAlertRecords(ctx, src, from, j.RunTime)
	if err != nil {
		j.log.WarnContext(ctx, "alert records not read", "err", err)
		m.warnings = append(m.warnings, "alert records not read, so the digest cannot say which findings were alerted or which "+
			"alerted stacks recovered: "+err.Error())
		return
	}
	if got.cut != "" {
		j.log.WarnContext(ctx, "alert records not all read", "err", got.cut)
		m.warnings = append(m.warnings, got.cut+", so the digest may not say that a finding was alerted or that an "+
			"alerted stack recovered")
	}
	if problems := got.unread; len(problems) > 0 {
		shown := problems[:min(len(problems), 3)]
		for _, p := range shown {
			j.log.WarnContext(ctx, "alert record not read", "err", p)
		}
		more := ""
		if n := len(problems) - len(shown); n > 0 {
			more = fmt.Sprintf(" (and %d more)", n)
		}
		records := fmt.Sprintf("%d alert records", len(problems))
		if len(problems) == 1 {
			records = "1 alert record"
		}
		m.warnings = append(m.warnings, fmt.Sprintf("%s not read, so the digest may not say that a finding was "+
			"alerted or that an alerted stack recovered: %s%s", records, strings.Join(shown, "; "), more))
	}
	got.records = slices.DeleteFunc(got.records, func(r alert.Record) bool { return spokenOf(earlier, r) })
	m.recovered, m.notRechecked = matchAlerts(got.records, alertFacts{findings: fan.Findings, suppressed: m.suppressed,
		cells: &fan.Cells, inScope: inScope, resolved: m.delta.Resolved, unverified: m.delta.Unverified})
	if m.prevUnreadable != "" && len(m.recovered)+len(m.notRechecked) > 0 {
		// The previous run is stored but unreadable: the window reached back as far as the history does, and the
		// alerts it already spoke of cannot be told from the others. The findings keep their alert times (they are
		// failing now); the lists would repeat weeks of stacks as new news, so they are left out, and said so.
		stacks := fmt.Sprintf("%d alerted stacks not found failing are", len(m.recovered)+len(m.notRechecked))
		if len(m.recovered)+len(m.notRechecked) == 1 {
			stacks = "1 alerted stack not found failing is"
		}
		warn := fmt.Sprintf("%s not listed (neither as recovered nor as not re-checked): the previous run could not be "+
			"read, so this run cannot tell which of the alerts since %s it already spoke of: %s", stacks,
			from.UTC().Format("2006-01-02 15:04 UTC"), m.prevUnreadable)
		j.log.WarnContext(ctx, "alerted stacks not listed", "err", warn)
		m.warnings = append(m.warnings, warn)
		m.recovered, m.notRechecked = nil, nil
	}
	if len(m.recovered)+len(m.notRechecked) > 0 {
		since := from.UTC()
		m.alertsFrom = &since
	}
	j.log.InfoContext(ctx, "alert records read", "records", len(got.records), "recovered", len(m.recovered),
		"not_rechecked", len(m.notRechecked), "unreadable", len(got.unread))
}
