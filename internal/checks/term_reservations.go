package checks

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// termReservation is what the commitment checks need of a reservation whose service reports StartTime and Duration
// (seconds) but no end, as ElastiCache and Redshift do: the check maps its SDK type onto it and this file decides
// what is expiring, lapsed or renewed, the same way for every such service (and the way RDS does).
type termReservation struct {
	ID, Type, State string
	// Match is what else a renewal must share beside Type (ElastiCache's engine); "" when nothing.
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

// termStates are a service's names for the states that matter; the services spell them differently (ElastiCache's
// payment-pending is Redshift's pending-payment). Any other state (payment-failed, exchanging) neither expires nor
// renews anything.
type termStates struct{ active, pending, retired string }

// termFinding is one reservation to report: its finding with severity, status, reason, expiry and Renewal detail set,
// and the positions in the listing of it and of its renewal (-1 for none), so the check can fill its own details.
type termFinding struct {
	Finding
	item, renewal int
}

// termFindings applies the commitment rules to a whole listing (a renewal can sit on any page): an active reservation
// expiring within the thresholds, one retired at its end within Limits.LapsedDays and not bought again (critical),
// one without a StartTime or Duration (a warning, never a silent skip). A renewal is a reservation of the same type
// (and Match) bought outright, active or pending payment, within renewalWindow and outlasting the old one; it lowers
// the old one to a notice when it covers as many nodes. unit names what is counted in a reason: "nodes".
func termFindings(t Target, check, resourceType, unit string, states termStates, items []termReservation) []termFinding {
	var ending, renewals []int
	for i, r := range items {
		switch r.State {
		case states.active:
			ending = append(ending, i)
			if r.dated() {
				renewals = append(renewals, i)
			}
		case states.pending:
			if r.dated() {
				renewals = append(renewals, i)
			}
		case states.retired:
			if r.dated() && lapsedWithin(t.AsOf, r.end(), t.Limits) {
				ending = append(ending, i)
			}
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
		switch {
		case !r.dated():
			unknownExpiry(&f, "StartTime or Duration")
		case ended && renewal >= 0 && items[renewal].Count >= r.Count:
			continue // lapsed and bought again: nothing to do
		case ended:
			notRenewed(&f, t.AsOf, r.end())
		case !expiryFinding(&f, t.AsOf, r.end(), t.Limits):
			continue
		}
		if renewal >= 0 {
			q := items[renewal]
			f.Details["Renewal"] = fmt.Sprintf("%s: %d × %s from %s (%s)", q.ID, q.Count, q.Type, q.Start.UTC().Format("2006-01-02"), q.State)
			f.Reason = strings.TrimSuffix(f.Reason, ", not renewed") // renewed, if only in part
			if q.Count >= r.Count {
				f.Severity = Notice
				f.Reason += fmt.Sprintf("; renewal bought (%s)", q.ID)
			} else {
				f.Reason += fmt.Sprintf("; renewal bought for only %d of %d %s (%s)", q.Count, r.Count, unit, q.ID)
			}
		}
		out = append(out, termFinding{Finding: f, item: i, renewal: renewal})
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
