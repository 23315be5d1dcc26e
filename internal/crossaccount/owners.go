package crossaccount

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"golang.org/x/time/rate"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

// An account's owner is the value of its owner tag (an email address or a team name), read from Organizations with
// ListTagsForResource, one call per account. Organizations meters every caller's requests and AWS does not publish the
// rate of its read operations, so the reads go through a token bucket well below what one management account gets,
// beside the audit, and no run reads more than a budget of them: the tags are kept in the run history, and each run
// refreshes the oldest. An account whose tag is not known (never read within a budget, or the read failed) is owned
// by its OU path, and its OwnerNote says why; an unreadable tag never fails the audit.

// DefaultOwnerTagKey is the account tag whose value names the account's owner.
const DefaultOwnerTagKey = "orgaudit:owner"

// DefaultOwnerTagBudget is how many accounts' tags one run reads at most: 10,000 accounts cost 20 runs to read once,
// and never 10,000 calls in one run.
const DefaultOwnerTagBudget = 500

// DefaultOwnerTagRate is the reads per second, after a first burst of ownerTagBurst. Organizations answers
// TooManyRequestsException ("another request is already in progress") to callers that go faster than it meters, and
// the meter is shared with every other tool the management account runs (Control Tower, account factories, SSO), so
// the job keeps to a few a second. The reads run beside the audit and stop when it ends (after ownerTagGrace, when
// that finishes them): a small organization is read whole in its first run, a large one a part per run (140 reads in
// a 14 s audit of 1,000 accounts), never lengthening the run by more than the grace.
const DefaultOwnerTagRate = 10.0

// ownerTagBurst reads start at once: a small organization's tags are read before its audit ends.
const ownerTagBurst = 5

// ownerTagGrace is how long reads may go on once the audit has ended, when that is enough to finish them; otherwise
// they stop with the audit, and those not done wait for the next run. Five seconds at the default rate finish the
// reads of an organization of up to about 55 accounts in its first run, however quickly its audit ran; a second
// left a small organization's owners to how fast the machine happened to be (a loaded one cut some reads short, so
// the same organization got other owners from one run to the next).
const ownerTagGrace = 5 * time.Second

// ownerTagAttempts bounds the SDK's attempts per read: a tag that still throttles after them waits for another run
// rather than holding this one.
const ownerTagAttempts = 3

// ownerReaders is how many reads may wait on the limiter at once, so one slow answer does not idle the rate.
const ownerReaders = 4

// maxOwnerLen is the longest owner kept, in characters: AWS's tag value limit (TagValue, 256).
const maxOwnerLen = 256

// OwnerTag is what the run knows of one account's owner tag: its value when the account has the tag (Found), and
// when it was read. The run history keeps these between runs.
type OwnerTag struct {
	AccountID string
	Value     string
	Found     bool
	ReadAt    time.Time
}

// OwnerOptions configure how owners are found.
type OwnerOptions struct {
	// TagKey is the owner tag's key; empty reads no tags and every account is owned by its OU path.
	TagKey string
	// Budget is the most ListTagsForResource calls this run makes (0: none; accounts then keep their cached tags).
	Budget int
	// Rate is the reads per second (DefaultOwnerTagRate when 0), after a first Burst (ownerTagBurst when 0).
	Rate  float64
	Burst int
	// Cached are the tags earlier runs read, by account id.
	Cached map[string]OwnerTag
	// Now stamps what is read; time.Now when nil.
	Now func() time.Time
}

// OwnerStats say what the run did about owner tags.
// Why an account's owner tag is not known this run (Account.OwnerUnknown).
const (
	OwnerUnreadable = "unreadable" // its read failed, with nothing cached
	OwnerUnread     = "unread"     // no budget or time was left to read it
)

// OwnerStatsOf counts, of accounts, those whose owner tag is not known and why: the stats of a narrower set than the
// run's (one owner's accounts). Read and Failed, counts of calls, are left zero.
func OwnerStatsOf(accounts []Account) OwnerStats {
	var st OwnerStats
	for _, a := range accounts {
		switch a.OwnerUnknown {
		case OwnerUnreadable:
			st.Unknown++
		case OwnerUnread:
			st.Unknown++
			st.OverBudget++
		}
	}
	return st
}

type OwnerStats struct {
	// Read counts the ListTagsForResource reads that answered; Failed those that did not.
	Read, Failed int
	// Unknown counts the accounts owned by their OU path because their tag is not known: never read within a
	// budget, or its read failed with nothing cached.
	Unknown int
	// OverBudget counts accounts of Unknown that this run had no budget (or time) left to read.
	OverBudget int
}

// owners reads owner tags beside the audit: never-read accounts as they arrive, then, once the walk has ended, the
// cached ones, oldest first, while the budget lasts.
type owners struct {
	opts    OwnerOptions
	api     organizations.ListTagsForResourceAPIClient
	limiter *rate.Limiter
	log     *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	pending []string // accounts to read, in order
	walked  bool     // the walk has ended: no account is still to arrive
	left    int      // budget not yet spent
	read    map[string]OwnerTag
	failed  map[string]error
	seen    map[string]bool // active accounts in scope
	inOrg   map[string]bool // every account the walk listed
	stats   OwnerStats
	wg      sync.WaitGroup
	stop    context.CancelFunc // ends the reads: ownerTagGrace after the audit
}

func newOwners(ctx context.Context, base aws.Config, opts OwnerOptions, log *slog.Logger) *owners {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rate <= 0 {
		opts.Rate = DefaultOwnerTagRate
	}
	if opts.Burst <= 0 {
		opts.Burst = ownerTagBurst
	}
	o := &owners{opts: opts, log: log, left: opts.Budget, read: map[string]OwnerTag{}, failed: map[string]error{}, seen: map[string]bool{}, inOrg: map[string]bool{},
		limiter: rate.NewLimiter(rate.Limit(opts.Rate), opts.Burst)}
	ctx, o.stop = context.WithCancel(ctx)
	o.cond = sync.NewCond(&o.mu)
	if opts.TagKey == "" || opts.Budget <= 0 {
		o.left = 0
		return o
	}
	o.api = organizations.NewFromConfig(base, func(op *organizations.Options) { op.RetryMaxAttempts = ownerTagAttempts })
	for range ownerReaders {
		o.wg.Add(1)
		go o.reader(ctx)
	}
	return o
}

// see is told of each account the walk finds: one never read is read as soon as the budget and the rate allow.
func (o *owners) see(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen[id] = true
	if _, cached := o.opts.Cached[id]; !cached && o.left > 0 {
		o.left--
		o.pending = append(o.pending, id)
		o.cond.Signal()
	}
}

// listed records an account the organization holds, in scope or not, so its cached tag is kept.
func (o *owners) listed(id string) {
	o.mu.Lock()
	o.inOrg[id] = true
	o.mu.Unlock()
}

// walkEnded spends what is left of the budget on the cached tags of the accounts the walk found, oldest first.
func (o *owners) walkEnded() {
	o.mu.Lock()
	defer o.mu.Unlock()
	var stale []OwnerTag
	for id := range o.seen {
		if t, ok := o.opts.Cached[id]; ok {
			stale = append(stale, t)
		}
	}
	slices.SortFunc(stale, func(a, b OwnerTag) int {
		if c := a.ReadAt.Compare(b.ReadAt); c != 0 {
			return c
		}
		return strings.Compare(a.AccountID, b.AccountID)
	})
	for _, t := range stale[:min(o.left, len(stale))] {
		o.pending = append(o.pending, t.AccountID)
	}
	o.left -= min(o.left, len(stale))
	o.walked = true
	o.cond.Broadcast()
}

func (o *owners) reader(ctx context.Context) {
	defer o.wg.Done()
	stop := context.AfterFunc(ctx, func() { o.mu.Lock(); o.cond.Broadcast(); o.mu.Unlock() })
	defer stop()
	for {
		o.mu.Lock()
		for len(o.pending) == 0 && !o.walked && ctx.Err() == nil {
			o.cond.Wait()
		}
		if len(o.pending) == 0 || ctx.Err() != nil {
			o.mu.Unlock()
			return
		}
		id := o.pending[0]
		o.pending = o.pending[1:]
		o.mu.Unlock()
		if err := o.limiter.Wait(ctx); err != nil {
			return
		}
		tag, err := o.readTag(ctx, id)
		o.mu.Lock()
		if ctx.Err() != nil {
			// Cut off by the end of the audit, not refused: it waits for the next run.
			o.pending = append(o.pending, id)
			o.mu.Unlock()
			return
		}
		if err != nil {
			o.failed[id] = err
			o.stats.Failed++
		} else {
			o.read[id] = tag
			o.stats.Read++
		}
		o.mu.Unlock()
		if err != nil {
			o.log.WarnContext(ctx, "owner tag not read", "account_id", id, "code", awserr.Code(err), "err", err)
		}
	}
}

// readTag pages the account's tags for the owner key.
func (o *owners) readTag(ctx context.Context, id string) (OwnerTag, error) {
	tag := OwnerTag{AccountID: id, ReadAt: o.opts.Now().UTC()}
	pages := organizations.NewListTagsForResourcePaginator(o.api, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)},
		func(po *organizations.ListTagsForResourcePaginatorOptions) { po.StopOnDuplicateToken = true })
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return tag, fmt.Errorf("list tags of account %s: %w", id, err)
		}
		for _, t := range page.Tags {
			if aws.ToString(t.Key) == o.opts.TagKey {
				tag.Value, tag.Found = aws.ToString(t.Value), true
			}
		}
	}
	return tag, nil
}

// finish waits for the reads (bounded by the budget, the rate, grace and ctx), then gives each account its owner and returns
// the tags to keep: this run's reads, and the cached ones of accounts still in the organization. listed says the walk
// saw the whole organization, so a cached account it did not see has left.
func (o *owners) finish(accounts []Account, skipped []Skipped, listed bool, limit time.Duration) ([]OwnerTag, OwnerStats) {
	o.mu.Lock()
	if !o.walked {
		o.walked = true
		o.cond.Broadcast()
	}
	// Reads that the grace can finish are waited for; more than that wait for the next run, cut off now.
	wait := limit
	if time.Duration(float64(len(o.pending))/o.opts.Rate*float64(time.Second)) > limit {
		wait = 0
	}
	o.mu.Unlock()
	done := make(chan struct{})
	go func() { o.wg.Wait(); close(done) }()
	grace := time.NewTimer(wait)
	select {
	case <-done:
	case <-grace.C:
		o.stop()
		<-done
	}
	grace.Stop()
	o.stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	// What was still pending when ctx ended was never read: over budget in time rather than in count.
	notRead := map[string]bool{}
	for _, id := range o.pending {
		notRead[id] = true
	}
	known := func(id string) (OwnerTag, bool) {
		if t, ok := o.read[id]; ok {
			return t, true
		}
		t, ok := o.opts.Cached[id]
		return t, ok
	}
	for i := range accounts {
		a := &accounts[i]
		if a.OU == "" {
			// Named accounts of an organization that could not be read, or the caller's own account: no tree,
			// no tags.
			a.OwnerNote = "no owner: the organization could not be read"
			continue
		}
		t, ok := known(a.ID)
		switch {
		case o.opts.TagKey == "":
			a.Owner = a.OU
		case ok && t.Found && cleanText(t.Value) != "":
			a.Owner, a.OwnerEmail = TagOwner(t)
			if err := o.failed[a.ID]; err != nil {
				a.OwnerNote = fmt.Sprintf("owner tag as read %s; this run's read failed: %s", t.ReadAt.UTC().Format(time.DateOnly), awserr.Code(err))
			}
		case ok && t.Found:
			a.Owner, a.OwnerNote = a.OU, "owner tag "+o.opts.TagKey+" is empty: owned by its OU"
		case ok:
			a.Owner = a.OU
		case o.failed[a.ID] != nil:
			err := o.failed[a.ID]
			a.Owner, a.OwnerNote = a.OU, "owner tag unreadable ("+awserr.Code(err)+": "+awserr.Message(err)+"): owned by its OU"
			a.OwnerUnknown = OwnerUnreadable
			o.stats.Unknown++
		default:
			a.Owner, a.OwnerNote = a.OU, "owner tag not read yet (this run's budget of tag reads was spent): owned by its OU"
			if o.opts.Budget <= 0 {
				a.OwnerNote = "owner tag not read (no tag reads this run): owned by its OU"
			}
			if notRead[a.ID] {
				a.OwnerNote = "owner tag not read yet (the audit ended first): owned by its OU"
			}
			a.OwnerUnknown = OwnerUnread
			o.stats.Unknown++
			o.stats.OverBudget++
		}
	}
	for i := range skipped {
		s := &skipped[i]
		s.Owner = s.OU
		if t, ok := known(s.AccountID); ok && t.Found && cleanText(t.Value) != "" {
			s.Owner = cleanText(t.Value)
		}
	}
	var keep []OwnerTag
	for id, t := range o.opts.Cached {
		if _, fresh := o.read[id]; !fresh && (!listed || o.inOrg[id]) {
			keep = append(keep, t)
		}
	}
	for _, t := range o.read {
		keep = append(keep, t)
	}
	slices.SortFunc(keep, func(a, b OwnerTag) int { return strings.Compare(a.AccountID, b.AccountID) })
	return keep, o.stats
}

// TagOwner is the owner an account's tag names: its value as one clean line, and that value again as the owner's
// email address when it is exactly one address. Both are empty when the tag is missing or empty: the account is then
// owned by its OU path. The audit and the event-driven alerts route by this one rule.
func TagOwner(t OwnerTag) (owner, email string) {
	if !t.Found {
		return "", ""
	}
	owner = cleanText(t.Value)
	if owner != "" && isOneAddress(owner) {
		email = owner
	}
	return owner, email
}

// isOneAddress says whether an owner tag's value is exactly one email address, as RFC 5322 reads it: not a list,
// not a display name with an address in it ("Ops <ops@example.com>" names a person, and mailing the address inside
// would be a guess).
func isOneAddress(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Name == "" && a.Address == v
}

// cleanText is a name from Organizations (a tag value, an OU name) as one line a person reads and a routing key can
// hold, at most maxOwnerLen characters.
func cleanText(s string) string { return CleanText(s, maxOwnerLen) }

// CleanText is AWS's text (a name, a status reason) as one line a person reads, the rule the digest's report.Inline
// applies: white space folded to single spaces and trimmed, control and format characters (bidi overrides,
// zero-width) dropped, invalid UTF-8 replaced; at most limit characters. It lives here, below report, so the alert
// path (which report renders) cleans as the digest does without importing it.
func CleanText(s string, limit int) string {
	var b strings.Builder
	space, n := false, 0
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		default:
			if n == limit {
				return b.String()
			}
			if space {
				b.WriteByte(' ')
				space = false
				n++
			}
			if r == utf8.RuneError {
				r = unicode.ReplacementChar
			}
			b.WriteRune(r)
			n++
		}
	}
	return b.String()
}
