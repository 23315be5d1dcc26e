package checks

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// termReservation is what the commitment checks need of a reservation whose service reports StartTime and Duration
// (seconds) but no end, as RDS, ElastiCache, Redshift, OpenSearch and MemoryDB do: the check maps its SDK type onto it
// and this file decides what is expiring, lapsed, ended early or renewed, the same way for every such service.
type termReservation struct {
	ID, Type, State string
	// Match is what else a renewal must share beside Type (ElastiCache's engine, RDS's engine and deployment); ""
	// when nothing.
	Match    string
	Count    int32
	Start    *time.Time
	Duration *int32
}

func (r termReservation) dated() bool { return r.Start != nil && r.Duration != nil }

// end is StartTime + Duration seconds: none of these services reports an end.
func (r termReservation) end() time.Time {
	return r.Start.Add(time.Duration(*r.Duration) * time.Second)
}

// termRole is what a state means to the commitment rules.
type termRole int

const (
	// roleActive: in effect; it expires, and it can be the renewal of another.
	roleActive termRole = iota + 1
	// rolePending: bought, payment not yet confirmed; a renewal, but not a settled one.
	rolePending
	// roleRetired: no longer in effect; a lapse when it ended at the end of its term.
	roleRetired
	// roleFailed: the purchase's payment failed; never in effect, reported while recent.
	roleFailed
	// roleWithdrawn: ended or being ended on purpose (being exchanged, a queued purchase deleted); neither expiring
	// nor a renewal.
	roleWithdrawn
)

// termStates are a service's state names and what each means; the services spell them differently (ElastiCache's
// payment-pending is Redshift's pending-payment). A state not named here is reported as not recognised.
type termStates map[string]termRole

// termFinding is one reservation to report: its finding with severity, status, reason, expiry and Renewal detail set,
// and the positions in the listing of it and of its renewal (-1 for none), so the check can fill its own details.
type termFinding struct {
	Finding
	item, renewal int
}

// termFindings applies the commitment rules to a whole listing (a renewal can sit on any page): an active reservation
// expiring within the thresholds, one retired at its end within Limits.LapsedDays and not bought again (critical),
// one without a StartTime or Duration (a warning, never a silent skip), a recent purchase whose payment failed
// (critical), and one in a state the rules do not know (a warning). A retired reservation whose term is still ahead
// ended early on purpose (exchanged): its capacity lives on in another reservation, judged on its own. A renewal is a
// reservation of the same type (and Match) bought outright, active or pending payment, within renewalWindow and
// outlasting the old one; it lowers the old one to a notice when it covers as many nodes, and to a warning only while
// the old one has lapsed and the renewal's payment is still pending. unit names what is counted in a reason: "nodes".
func termFindings(t Target, check, resourceType, unit string, states termStates, items []termReservation) []termFinding {
	var ending, renewals, failed, unknown []int
	for i, r := range items {
		switch states[r.State] {
		case roleActive:
			ending = append(ending, i)
			if r.dated() {
				renewals = append(renewals, i)
			}
		case rolePending:
			if r.dated() {
				renewals = append(renewals, i)
			}
		case roleRetired:
			// Undated, it is reported with its expiry unknown; a term still ahead means it ended early.
			if !r.dated() || lapsedWithin(t.AsOf, r.end(), t.Limits) {
				ending = append(ending, i)
			}
		case roleFailed:
			if !r.dated() || recentPurchase(t, *r.Start) {
				failed = append(failed, i)
			}
		case roleWithdrawn:
		default:
			unknown = append(unknown, i)
		}
	}
	// Earliest end first, so each renewal is matched to the reservation it was most likely bought for; undated last.
	sort.SliceStable(ending, func(i, j int) bool {
		a, b := items[ending[i]], items[ending[j]]
		if a.dated() != b.dated() {
			return a.dated()
		}
		return a.dated() && a.end().Before(b.end())
	})
	used := map[int]bool{}
	var out []termFinding
	for _, i := range ending {
		r := items[i]
		f := t.finding(check, resourceType, r.ID)
		f.Status = r.State
		renewal := -1
		if r.dated() {
			renewal = termRenewalFor(i, items, renewals, used, t)
		}
		ended := r.dated() && !r.end().After(t.AsOf)
		covered := renewal >= 0 && items[renewal].Count >= r.Count
		pending := renewal >= 0 && states[items[renewal].State] == rolePending
		switch {
		case !r.dated():
			unknownExpiry(&f, "StartTime or Duration")
		case ended && covered && !pending:
			continue // lapsed and bought again: nothing to do
		case ended:
			notRenewed(&f, t.AsOf, r.end())
		case !expiryFinding(&f, t.AsOf, r.end(), t.Limits):
			continue
		}
		if renewal >= 0 {
			q := items[renewal]
			f.SetDetail("renewal", fmt.Sprintf("%s: %d × %s from %s (%s)", q.ID, q.Count, q.Type, q.Start.UTC().Format("2006-01-02"), q.State))
			f.Reason = strings.TrimSuffix(f.Reason, ", not renewed") // renewed, if only in part
			how := "bought"
			if pending {
				how = "bought, payment pending"
			}
			switch {
			case covered && ended:
				f.Severity = Warning // lapsed: covered only once the renewal's payment goes through
				f.Reason += fmt.Sprintf("; renewal %s (%s)", how, q.ID)
			case covered:
				f.Severity = Notice
				f.Reason += fmt.Sprintf("; renewal %s (%s)", how, q.ID)
			default:
				f.Reason += fmt.Sprintf("; renewal %s for only %d of %d %s (%s)", how, q.Count, r.Count, unit, q.ID)
			}
		}
		out = append(out, termFinding{Finding: f, item: i, renewal: renewal})
	}
	for _, i := range failed {
		r := items[i]
		f := t.finding(check, resourceType, r.ID)
		f.Status = r.State
		paymentFailed(&f, r.Start)
		out = append(out, termFinding{Finding: f, item: i, renewal: -1})
	}
	for _, i := range unknown {
		r := items[i]
		f := t.finding(check, resourceType, r.ID)
		f.Status = r.State
		var end *time.Time
		if r.dated() {
			e := r.end()
			end = &e
		}
		stateNotRecognised(&f, r.State, end)
		out = append(out, termFinding{Finding: f, item: i, renewal: -1})
	}
	return out
}

// termRenewalFor finds an unused, dated reservation of the same type and Match that was bought within renewalWindow
// and outlasts items[i], and marks it used; -1 when there is none.
func termRenewalFor(i int, items []termReservation, candidates []int, used map[int]bool, t Target) int {
	r := items[i]
	end := r.end()
	from, to := renewalWindow(t.AsOf, end, t.Limits)
	for _, j := range candidates {
		q := items[j]
		if used[j] || j == i || q.ID == r.ID || q.Type != r.Type || q.Match != r.Match {
			continue
		}
		if !q.Start.Before(from) && !q.Start.After(to) && q.end().After(end) {
			used[j] = true
			return j
		}
	}
	return -1
}

// termText words a Duration in seconds as the term AWS sells: 1 or 3 years of 365 days, else whole days.
func termText(seconds *int32) string {
	if seconds == nil {
		return ""
	}
	const year = 365 * 24 * 3600
	switch s := *seconds; {
	case s == year:
		return "1 year"
	case s > 0 && s%year == 0:
		return fmt.Sprintf("%d years", s/year)
	default:
		return fmt.Sprintf("%d days", s/(24*3600))
	}
}

// recurringCharge is a reservation's recurring charge, as every SDK's RecurringCharge holds it.
type recurringCharge struct {
	amount    *float64
	frequency *string
}

// hourlyCharges sums what a reservation bills per hour and node: its usage price and its recurring charges of
// frequency Hourly (the one frequency these reservations are sold with).
func hourlyCharges(usage *float64, recurring []recurringCharge) float64 {
	sum := 0.0
	if usage != nil {
		sum += *usage
	}
	for _, c := range recurring {
		if c.amount != nil && c.frequency != nil && strings.EqualFold(*c.frequency, "Hourly") {
			sum += *c.amount
		}
	}
	return sum
}

// priceText writes a price for a KindNumber detail without float noise.
func priceText(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", v), "0"), ".")
}
