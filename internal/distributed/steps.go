package distributed

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/report"
)

// Options are the parts of a step that are not settings.
type Options struct {
	Logger *slog.Logger
	// Now is the wall clock; tests fix it.
	Now func() time.Time
	// RequestID names a manual run that names none, as the single mode does (config.RequestRunID).
	RequestID string
}

func (o Options) job() audit.Options {
	return audit.Options{Logger: o.Logger, Now: o.Now}
}

// PlanOutput is what plan hands the state machine: far under its 256 KB payload limit whatever the organization.
type PlanOutput struct {
	Step     string `json:"step"`
	Run      Run    `json:"run"`
	Manifest Object `json:"manifest"`
	Shards   int    `json:"shards"`
	Accounts int    `json:"accounts"`
}

// planObject is what the manifest cannot say, for the report: the listing's scope, skipped accounts, named accounts
// not in the organization, a listing failure, and the owner tags to keep.
type planObject struct {
	Run    Run                 `json:"run"`
	Shards int                 `json:"shards"`
	Rest   crossaccount.Result `json:"rest"`
}

// Plan lists the organization, writes the manifest of shards and the plan object, and fixes the run. Its errors
// are the single mode's: *config.InvalidEventError, *audit.InvalidSettingsError, *audit.NothingAuditedError, and
// *audit.DeliveryFailedError when the run's objects cannot be written.
func Plan(ctx context.Context, cfg aws.Config, base config.Settings, ev PlanEvent, opts Options) (*PlanOutput, error) {
	inner, err := config.DecodeEvent(ev.Event)
	if err != nil {
		return nil, err
	}
	s, err := inner.Apply(base)
	if err != nil {
		return nil, err
	}
	if s.RunID == "" && s.RunTime.IsZero() && opts.RequestID != "" {
		s.RunID = config.RequestRunID(opts.RequestID)
	}
	// The run's own objects are how one step hands its work to the next, so they are written even in a dry run,
	// which the report step honours as the single mode does: no workbook, history or digest goes out.
	if s.Bucket == "" {
		return nil, &audit.InvalidSettingsError{Err: errors.New("a distributed run keeps its manifest and partial results in the report bucket: AUDIT_BUCKET is required")}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	s.RunID, s.RunTime = s.Identity(now())
	j, err := audit.Prepare(ctx, cfg, s, opts.job())
	if err != nil {
		return nil, err
	}
	log := j.Logger()
	run := Run{RunID: j.RunID, RunTime: j.RunTime, AsOf: j.AsOf, Trigger: j.Settings().Trigger, Regions: j.Regions}
	for _, c := range j.Checks {
		run.Checks = append(run.Checks, c.Name())
	}
	if inner.Kind == "manual" {
		o := inner.Override
		run.Override = &o
	}
	listing, err := j.List(ctx)
	if err != nil {
		return nil, err
	}
	size := j.Settings().ShardSize
	var shards []Shard
	for i := 0; i < len(listing.Audit); i += size {
		accounts := listing.Audit[i:min(i+size, len(listing.Audit))]
		for k := range accounts {
			accounts[k].Self = false // each shard knows its own caller
		}
		shards = append(shards, Shard{Index: len(shards), Accounts: accounts})
	}
	if shards == nil {
		shards = []Shard{} // the Map reads an empty array, never null
	}
	client, err := j.Bucket()
	if err != nil {
		return nil, &audit.DeliveryFailedError{Err: err}
	}
	st := store{client: client, bucket: s.Bucket, kmsKeyID: s.KMSKeyID}
	// The plan object first: a manifest, which the Map reads, never exists without it.
	if err := st.putJSON(ctx, PlanKey(s.Prefix, run), planObject{Run: run, Shards: len(shards), Rest: listing.Rest}); err != nil {
		return nil, &audit.DeliveryFailedError{Err: err}
	}
	manifest := ManifestKey(s.Prefix, run)
	if err := st.putJSON(ctx, manifest, shards); err != nil {
		return nil, &audit.DeliveryFailedError{Err: err}
	}
	log.InfoContext(ctx, "run planned", "accounts", len(listing.Audit), "shards", len(shards), "shard_size", size, "manifest", manifest)
	return &PlanOutput{Step: StepPlan, Run: run, Manifest: Object{Bucket: s.Bucket, Key: manifest}, Shards: len(shards), Accounts: len(listing.Audit)}, nil
}

// ShardOutput is the shard step's answer: where its partial result is, and its counts.
type ShardOutput struct {
	Step     string `json:"step"`
	Index    int    `json:"index"`
	Partial  Object `json:"partial"`
	Cells    int    `json:"cells"`
	Findings int    `json:"findings"`
	Failures int    `json:"failures"`
}

// AuditShard audits exactly the shard's accounts through the fan-out and writes its partial result. A retry
// rewrites the same object. Its errors are *config.InvalidEventError, *audit.InvalidSettingsError,
// *audit.NothingAuditedError (the caller's identity unknown) and *audit.DeliveryFailedError.
func AuditShard(ctx context.Context, cfg aws.Config, base config.Settings, ev ShardEvent, opts Options) (*ShardOutput, error) {
	s, err := ev.Run.Settings(base)
	if err != nil {
		return nil, err
	}
	j, err := audit.Prepare(ctx, cfg, s, opts.job())
	if err != nil {
		return nil, err
	}
	fan, err := j.AuditAccounts(ctx, ev.Shard.Accounts)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if err := WritePartial(&body, ev.Run.RunID, ev.Shard.Index, fan); err != nil {
		return nil, &audit.DeliveryFailedError{Err: err}
	}
	client, err := j.Bucket()
	if err != nil {
		return nil, &audit.DeliveryFailedError{Err: err}
	}
	key := PartialKey(s.Prefix, ev.Run, ev.Shard.Index)
	st := store{client: client, bucket: s.Bucket, kmsKeyID: s.KMSKeyID}
	if err := st.put(ctx, key, "application/gzip", body.Bytes()); err != nil {
		return nil, &audit.DeliveryFailedError{Err: err}
	}
	j.Logger().InfoContext(ctx, "shard audited", "index", ev.Shard.Index, "accounts", len(ev.Shard.Accounts), "cells", fan.Cells.Len(),
		"findings", len(fan.Findings), "failures", len(fan.Failures), "partial", fan.Partial, "key", key)
	return &ShardOutput{Step: StepShard, Index: ev.Shard.Index, Partial: Object{Bucket: s.Bucket, Key: key},
		Cells: fan.Cells.Len(), Findings: len(fan.Findings), Failures: len(fan.Failures)}, nil
}

// ReportOutput is the report step's answer: small, whatever the run.
type ReportOutput struct {
	Step             string                `json:"step"`
	RunID            string                `json:"run_id"`
	Partial          bool                  `json:"partial"`
	Shards           int                   `json:"shards"`
	ShardsFailed     int                   `json:"shards_failed"`
	Accounts         report.AccountCounts  `json:"accounts"`
	Coverage         report.CoverageCounts `json:"coverage"`
	Findings         int                   `json:"findings"`
	Published        bool                  `json:"published"`
	AlreadyPublished bool                  `json:"already_published"`
	Report           *report.Location      `json:"report,omitempty"`
}

// Report merges the shards' partial results and finishes the run as the single mode does. A shard without a
// readable partial result has its accounts reported not audited (CodeShardFailed), with the Map's error where the
// event gives it. It returns the job's output beside the summary; its errors are audit.Run's and
// *config.InvalidEventError.
func Report(ctx context.Context, cfg aws.Config, base config.Settings, ev ReportEvent, opts Options) (*ReportOutput, *audit.Output, error) {
	s, err := ev.Run.Settings(base)
	if err != nil {
		return nil, nil, err
	}
	if ev.Manifest.Bucket != s.Bucket || ev.Manifest.Key != ManifestKey(s.Prefix, ev.Run) {
		return nil, nil, &config.InvalidEventError{Err: fmt.Errorf("manifest s3://%s/%s is not run %s's (s3://%s/%s)",
			ev.Manifest.Bucket, ev.Manifest.Key, ev.Run.RunID, s.Bucket, ManifestKey(s.Prefix, ev.Run))}
	}
	causes, written, err := decodeMap(ev.Map)
	if err != nil {
		return nil, nil, &config.InvalidEventError{Err: err}
	}
	if written != nil {
		dir := MapResultsPrefix(s.Prefix) + "/"
		if written.Bucket != s.Bucket || !strings.HasPrefix(written.Key, dir) || path.Clean(written.Key) != written.Key ||
			path.Base(written.Key) != "manifest.json" {
			return nil, nil, &config.InvalidEventError{Err: fmt.Errorf("the Map's results s3://%s/%s are not under s3://%s/%s",
				written.Bucket, written.Key, s.Bucket, dir)}
		}
	}
	j, err := audit.Prepare(ctx, cfg, s, opts.job())
	if err != nil {
		return nil, nil, err
	}
	log := j.Logger()
	client, err := j.Bucket()
	if err != nil {
		return nil, nil, &audit.DeliveryFailedError{Err: err}
	}
	st := store{client: client, bucket: s.Bucket, kmsKeyID: s.KMSKeyID}
	if written != nil {
		// Unreadable results lose only the causes: a shard without a partial result is still reported not audited.
		read, err := st.mapCauses(ctx, written.Key)
		if err != nil {
			log.WarnContext(ctx, "the Map's results are unreadable; failed shards are reported without the causes not read", "key", written.Key, "err", err)
		}
		maps.Copy(causes, read)
	}
	var plan planObject
	if err := st.getJSON(ctx, PlanKey(s.Prefix, ev.Run), &plan); err != nil {
		return nil, nil, &audit.NothingAuditedError{Err: err}
	}
	if plan.Run.RunID != ev.Run.RunID {
		return nil, nil, &config.InvalidEventError{Err: fmt.Errorf("the plan object is run %s's, not %s's", plan.Run.RunID, ev.Run.RunID)}
	}
	m := NewMerger(ev.Run.RunID, j.Regions, j.Checks, plan.Rest)
	m.ExpectShards(plan.Shards)
	shards := 0
	err = st.eachShard(ctx, ev.Manifest.Key, func(sh Shard) {
		shards++
		if err := m.addFrom(ctx, st, PartialKey(s.Prefix, ev.Run, sh.Index), sh); err != nil {
			why := causes[sh.Index]
			switch {
			case why != "":
			case ev.MapError != nil:
				why = "the Map failed: " + statesCause(ev.MapError.Error, ev.MapError.Cause)
			default:
				why = "no partial result: " + statesCause(err.Error(), "")
			}
			log.WarnContext(ctx, "shard not audited", "index", sh.Index, "accounts", len(sh.Accounts), "cause", why, "err", err)
			m.Failed(sh, why)
		}
	})
	if err != nil {
		return nil, nil, &audit.NothingAuditedError{Err: err}
	}
	if shards != plan.Shards {
		return nil, nil, &audit.NothingAuditedError{Err: fmt.Errorf("the manifest holds %d shards; the plan wrote %d", shards, plan.Shards)}
	}
	out, runErr := j.Finish(ctx, m.Result())
	if out == nil {
		return nil, nil, runErr
	}
	r := out.Result
	sum := &ReportOutput{Step: StepReport, RunID: r.RunID, Partial: r.Partial, Shards: shards, ShardsFailed: m.ShardsFailed(),
		Accounts: r.Accounts, Coverage: r.Coverage, Findings: len(r.Findings), Published: r.Published,
		AlreadyPublished: r.AlreadyPublished, Report: r.Report}
	return sum, out, runErr
}

// Bounds on what the ResultWriter wrote: its manifest lists a few files; one child's entry holds its input and
// output, each under Step Functions' 256 KiB payload quota, and its error.
const (
	maxResultManifestBytes = 1 << 20
	maxResultEntryBytes    = 1 << 20
)

// resultManifest is the ResultWriter's manifest.json: the result files by the children's status.
type resultManifest struct {
	DestinationBucket string `json:"DestinationBucket"`
	MapRunArn         string `json:"MapRunArn"`
	ResultFiles       map[string][]struct {
		Key  string `json:"Key"`
		Size int64  `json:"Size"`
	} `json:"ResultFiles"`
}

// resultEntry is one child execution in a result file: its input and output as JSON text, and, had it failed, its
// error. The shard it ran names its index in the output (the shard step's answer, or the ShardFailed state's) or,
// failing that, in its input (the shard event).
type resultEntry struct {
	Input  string `json:"Input"`
	Output string `json:"Output"`
	Error  string `json:"Error"`
	Cause  string `json:"Cause"`
}

// mapCauses reads the causes of the failed shards from the ResultWriter's results: the manifest at key, then each
// result file it lists, one entry at a time.
func (st store) mapCauses(ctx context.Context, key string) (map[int]string, error) {
	body, err := st.get(ctx, key)
	if err != nil {
		return nil, err
	}
	var man resultManifest
	err = json.NewDecoder(io.LimitReader(body, maxResultManifestBytes)).Decode(&man)
	body.Close()
	if err != nil {
		return nil, fmt.Errorf("decode s3://%s/%s: %w", st.bucket, key, err)
	}
	dir := path.Dir(key) + "/"
	causes := map[int]string{}
	for _, status := range []string{"FAILED", "SUCCEEDED"} {
		for _, f := range man.ResultFiles[status] {
			if !strings.HasPrefix(f.Key, dir) || path.Clean(f.Key) != f.Key {
				return causes, fmt.Errorf("result file %s is not beside its manifest %s", f.Key, key)
			}
			if err := st.eachResult(ctx, f.Key, func(e resultEntry) { addCause(causes, e) }); err != nil {
				return causes, err
			}
		}
	}
	return causes, nil
}

// eachResult streams a result file (a JSON array of child executions), refusing an entry past maxResultEntryBytes.
func (st store) eachResult(ctx context.Context, key string, fn func(resultEntry)) error {
	body, err := st.get(ctx, key)
	if err != nil {
		return err
	}
	defer body.Close()
	return eachEntry(body, "s3://"+st.bucket+"/"+key, fn)
}

// eachEntry decodes the result file named name from r, one entry at a time. The decoder holds a whole entry, so the
// reader under it stops at maxResultEntryBytes past the entry's start: an entry past the bound is refused before it
// is buffered whole.
func eachEntry(r io.Reader, name string, fn func(resultEntry)) error {
	lim := &entryLimit{r: bufio.NewReaderSize(r, 64<<10), max: maxResultEntryBytes}
	dec := json.NewDecoder(lim)
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return fmt.Errorf("result file %s is not a JSON array", name)
	}
	for i := 0; ; i++ {
		lim.start = dec.InputOffset()
		if !dec.More() {
			break
		}
		var e resultEntry
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("result file %s entry %d: %w", name, i, err)
		}
		fn(e)
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("result file %s: %w", name, err)
	}
	return nil
}

// entryLimit serves its reader's bytes up to max past start (the offset where the entry being decoded begins), then
// fails: a decoder asking for more holds an entry longer than max.
type entryLimit struct {
	r           io.Reader
	read, start int64
	max         int64
}

func (l *entryLimit) Read(p []byte) (int, error) {
	room := l.start + l.max - l.read
	if room <= 0 {
		return 0, fmt.Errorf("an entry longer than %d bytes", l.max)
	}
	n, err := l.r.Read(p[:min(int64(len(p)), room)])
	l.read += int64(n)
	return n, err
}

// addCause records the error of a child that failed, or whose shard step failed and was caught, under its shard.
func addCause(causes map[int]string, e resultEntry) {
	var out struct {
		Index *int   `json:"index"`
		Error string `json:"Error"`
		Cause string `json:"Cause"`
	}
	_ = json.Unmarshal([]byte(e.Output), &out)
	name, cause := e.Error, e.Cause
	if name == "" && cause == "" {
		name, cause = out.Error, out.Cause
	}
	if name == "" && cause == "" {
		return // a shard that answered: its partial result says the rest
	}
	idx := out.Index
	if idx == nil {
		var in struct {
			Shard struct {
				Index *int `json:"index"`
			} `json:"shard"`
		}
		_ = json.Unmarshal([]byte(e.Input), &in)
		idx = in.Shard.Index
	}
	if idx != nil {
		causes[*idx] = statesCause(name, cause)
	}
}

// addFrom streams the partial result at key into the merge.
func (m *Merger) addFrom(ctx context.Context, st store, key string, sh Shard) error {
	body, err := st.get(ctx, key)
	if err != nil {
		return err
	}
	defer body.Close()
	return m.Add(sh, body)
}

// HandleStep runs the step raw asks for and answers with its JSON output: the Lambda handler's distributed mode.
func HandleStep(ctx context.Context, cfg aws.Config, base config.Settings, raw []byte, opts Options) (json.RawMessage, error) {
	ev, err := DecodeStep(raw)
	if err != nil {
		return nil, err
	}
	var out any
	switch ev := ev.(type) {
	case *PlanEvent:
		out, err = Plan(ctx, cfg, base, *ev, opts)
	case *ShardEvent:
		out, err = AuditShard(ctx, cfg, base, *ev, opts)
	case *ReportEvent:
		out, _, err = Report(ctx, cfg, base, *ev, opts)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// store reads and writes a run's objects in the report bucket, encrypted as the workbook is.
type store struct {
	client   *s3.Client
	bucket   string
	kmsKeyID string
}

func (st store) putJSON(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return st.put(ctx, key, "application/json", b)
}

// put writes body; a partial result is stored as gzip, not with Content-Encoding, so no client on the way
// decompresses it unasked.
func (st store) put(ctx context.Context, key, contentType string, body []byte) error {
	return delivery.PutRunObject(ctx, st.client, delivery.RunObject{Bucket: st.bucket, Key: key, KMSKeyID: st.kmsKeyID,
		ContentType: contentType}, body)
}

func (st store) get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := st.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(st.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", st.bucket, key, err)
	}
	return out.Body, nil
}

func (st store) getJSON(ctx context.Context, key string, v any) error {
	body, err := st.get(ctx, key)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return fmt.Errorf("decode s3://%s/%s: %w", st.bucket, key, err)
	}
	return nil
}

// eachShard streams the manifest's shards, one item at a time.
func (st store) eachShard(ctx context.Context, key string, fn func(Shard)) error {
	body, err := st.get(ctx, key)
	if err != nil {
		return err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return fmt.Errorf("manifest s3://%s/%s is not a JSON array", st.bucket, key)
	}
	for i := 0; dec.More(); i++ {
		var sh Shard
		if err := dec.Decode(&sh); err != nil {
			return fmt.Errorf("manifest s3://%s/%s item %d: %w", st.bucket, key, i, err)
		}
		if sh.Index != i {
			return fmt.Errorf("manifest s3://%s/%s item %d says it is shard %d", st.bucket, key, i, sh.Index)
		}
		fn(sh)
	}
	_, err = dec.Token()
	return err
}
