package checks

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// The commitment rules, shared by every check of reservations and plans (EC2, RDS, ElastiCache, Redshift,
// OpenSearch, MemoryDB, Savings Plans): what a state means, when a commitment is expiring, lapsed, ended early or
// unpaid, what renews it, and how a renewal changes the verdict. A check reads its listing, maps each item onto a
// commitment and says what is particular to its service (commitmentKind); commitmentFindings decides the rest.

// commitment is one reservation or plan as the rules read it.
type commitment struct {
	ID   string
	Role termRole
	// Start and End are when its term starts and ends; nil when AWS did not report them. A service that reports a
	// Duration instead of an end has no End when either its StartTime or its Duration is missing.
	Start, End *time.Time
}

func (c commitment) dated() bool { return c.Start != nil && c.End != nil }

// commitmentKind is what the rules need to know of one service's commitments.
type commitmentKind struct {
	check, resourceType string
	// missing names what AWS did not report when an item has no end: "End", "StartTime or Duration".
	missing string
	// purchase names one in paymentFailed's words: "purchase", "plan".
	purchase string
	// queuedFirst matches queued renewals before those bought outright: a queued one says what it replaces.
	queuedFirst bool
	// sameKind says whether item j could renew item i (same type, and whatever else the service requires).
	sameKind func(i, j int) bool
	// covers says whether renewal j covers as much as item i.
	covers func(i, j int) bool
	// endedEarly says whether retired item i ended before its term on purpose (modified, exchanged); nil when the
	// service reports such an item with its term's end, which lapsedWithin already tells from a lapse.
	endedEarly func(i int) bool
	// renewal words renewal j of item i: its Renewal detail, how it was bought, and, when it does not cover item i,
	// how far it falls short ("for only 2 of 4 instances").
	renewal func(i, j int) (detail, how, shortfall string)
	// price reads item i's price for all its units in its own currency (commitment_money.go), and why it is unknown
	// ("" when known); the units are set whenever they are known, so a renewal's shortfall can be measured.
	price func(i int) (priced, string)
}

// termRole is what a state means to the commitment rules.
type termRole int

const (
	// roleActive: in effect; it expires, and it can be the renewal of another.
	roleActive termRole = iota + 1
	// rolePending: bought, payment not yet confirmed; a renewal, but not a settled one.
	rolePending
	// roleQueued: bought to start later (EC2, Savings Plans); a renewal that takes over when the one it renews ends.
	roleQueued
	// roleRetired: no longer in effect; a lapse when it ended at the end of its term.
	roleRetired
	// roleFailed: the purchase's payment failed; never in effect, reported while recent.
	roleFailed
	// roleWithdrawn: ended or being ended on purpose (being exchanged, a queued purchase deleted, a plan returned);
	// neither expiring nor a renewal.
	roleWithdrawn
)

// termStates are a service's state names and what each means; the services spell them differently (ElastiCache's
// payment-pending is Redshift's pending-payment). A state not named here is reported as not recognised.
type termStates map[string]termRole

// termFinding is one commitment to report: its finding with severity, status, reason, expiry and Renewal detail set,
// and the positions in the listing of it and of its renewal (-1 for none), so the check can fill its own details.
type termFinding struct {
	Finding
	item, renewal int
}

// commitmentFindings applies the commitment rules to a whole listing (a renewal can sit on any page): an active
// commitment expiring within the thresholds, one retired at its end within Limits.LapsedDays and not bought again
// (critical), one without a known end (a warning, never a silent skip), a recent purchase whose payment failed
// (critical), and one in a state the rules do not know (a warning). A retired commitment whose term is still ahead, or
// that the service says ended early, was ended on purpose (exchanged, modified): its capacity lives on in another,
// judged on its own. A renewal is a dated commitment of the same kind, queued to start at the old one's end or bought
// outright (active or pending payment) within renewalWindow and outlasting it; it lowers the old one to a notice when
// it covers as much, and to a warning only while the old one has lapsed and the renewal is not yet in effect.
// statuses are the items' states as AWS spells them. Every finding carries its Money (k.money): what it costs per
// month, and what of that no renewal covers.
func commitmentFindings(t Target, k commitmentKind, items []commitment, statuses []string) []termFinding {
	var ending, renewals, failed, unknown []int
	for i, c := range items {
		switch c.Role {
		case roleActive:
			ending = append(ending, i)
			if c.dated() {
				renewals = append(renewals, i)
			}
		case rolePending, roleQueued:
			if c.dated() {
				renewals = append(renewals, i)
			}
		case roleRetired:
			// Undated, it is reported with its expiry unknown; a term still ahead, or ended early, is no lapse.
			if c.End == nil || lapsedWithin(t.AsOf, *c.End, t.Limits) && (k.endedEarly == nil || !k.endedEarly(i)) {
				ending = append(ending, i)
			}
		case roleFailed:
			if c.Start == nil || recentPurchase(t, *c.Start) {
				failed = append(failed, i)
			}
		case roleWithdrawn:
		default:
			unknown = append(unknown, i)
		}
	}
	// Earliest end first, so each renewal is matched to the commitment it was most likely bought for; undated last.
	sort.SliceStable(ending, func(i, j int) bool {
		a, b := items[ending[i]], items[ending[j]]
		if (a.End != nil) != (b.End != nil) {
			return a.End != nil
		}
		return a.End != nil && a.End.Before(*b.End)
	})
	used := map[int]bool{}
	var out []termFinding
	for _, i := range ending {
		c := items[i]
		f := t.finding(k.check, k.resourceType, c.ID)
		f.Status = statuses[i]
		renewal := -1
		if c.End != nil {
			renewal = k.renewalFor(i, items, renewals, used, t)
		}
		if !endingFinding(&f, t, k, items, i, renewal) {
			continue
		}
		f.Money = k.money(i, k.endingExposure(items, i, renewal))
		out = append(out, termFinding{Finding: f, item: i, renewal: renewal})
	}
	for _, i := range failed {
		f := t.finding(k.check, k.resourceType, items[i].ID)
		f.Status = statuses[i]
		paymentFailed(&f, k.purchase, items[i].Start)
		f.Money = k.money(i, wholly) // never in effect: nothing it was bought to cover is covered
		out = append(out, termFinding{Finding: f, item: i, renewal: -1})
	}
	for _, i := range unknown {
		f := t.finding(k.check, k.resourceType, items[i].ID)
		f.Status = statuses[i]
		stateNotRecognised(&f, statuses[i], items[i].End)
		f.Money = k.money(i, exposure{unknown: fmt.Sprintf("its state %q is not one the audit knows, so whether it is in effect cannot be told", statuses[i])})
		out = append(out, termFinding{Finding: f, item: i, renewal: -1})
	}
	return out
}

// endingFinding judges items[i], in effect or retired at its end, with its renewal (-1 for none), into f; false
// when there is nothing to report.
func endingFinding(f *Finding, t Target, k commitmentKind, items []commitment, i, renewal int) bool {
	c := items[i]
	ended := c.End != nil && !c.End.After(t.AsOf)
	covered := renewal >= 0 && k.covers(i, renewal)
	pending := renewal >= 0 && items[renewal].Role != roleActive // queued to start later, or its payment pending
	switch {
	case c.End == nil:
		unknownExpiry(f, k.missing)
	case ended && covered && !pending:
		return false // lapsed and bought again: nothing to do
	case ended:
		notRenewed(f, t.AsOf, *c.End)
	case !expiryFinding(f, t.AsOf, *c.End, t.Limits):
		return false
	}
	if renewal < 0 {
		return true
	}
	detail, how, shortfall := k.renewal(i, renewal)
	id := items[renewal].ID
	f.SetDetail("renewal", detail)
	f.Reason = strings.TrimSuffix(f.Reason, ", not renewed") // renewed, if only in part
	switch {
	case covered && ended:
		f.Severity = Warning // lapsed: covered only once the renewal is in effect
		f.Reason += fmt.Sprintf("; renewal %s (%s)", how, id)
	case covered:
		f.Severity = Notice
		f.Reason += fmt.Sprintf("; renewal %s (%s)", how, id)
	default:
		f.Reason += fmt.Sprintf("; renewal %s %s (%s)", how, shortfall, id)
	}
	return true
}

// renewalFor finds an unused renewal of items[i] among candidates (dated, active, pending or queued), and marks it
// used; -1 when there is none. With queuedFirst the queued ones are tried first.
func (k commitmentKind) renewalFor(i int, items []commitment, candidates []int, used map[int]bool, t Target) int {
	r := items[i]
	passes := []func(commitment) bool{func(commitment) bool { return true }}
	if k.queuedFirst {
		passes = []func(commitment) bool{
			func(q commitment) bool { return q.Role == roleQueued },
			func(q commitment) bool { return q.Role != roleQueued },
		}
	}
	for _, pass := range passes {
		for _, j := range candidates {
			q := items[j]
			if used[j] || j == i || q.ID == r.ID || !pass(q) || !k.sameKind(i, j) {
				continue
			}
			if renews(t, *r.End, q) {
				used[j] = true
				return j
			}
		}
	}
	return -1
}

// renews says whether dated commitment q takes over from one ending at end: queued, it starts within a day of that
// end (or, once the end has passed, any time after); bought outright, it started within renewalWindow and outlasts it.
func renews(t Target, end time.Time, q commitment) bool {
	if q.Role == roleQueued {
		gap := q.Start.Sub(end)
		return gap > -24*time.Hour && (gap < 24*time.Hour || !end.After(t.AsOf))
	}
	from, to := renewalWindow(t.AsOf, end, t.Limits)
	return !q.Start.Before(from) && !q.Start.After(to) && q.End.After(end)
}
