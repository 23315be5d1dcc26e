package checks

import (
	"fmt"
	"strings"
	"time"
)

// termReservation is what the commitment checks need of a reservation whose service reports StartTime and Duration
// (seconds) but no end, as RDS, ElastiCache, Redshift, OpenSearch and MemoryDB do: the check maps its SDK type onto it,
// and termFindings onto the commitment rules (commitment_rules.go), which decide what is expiring, lapsed, ended early
// or renewed the same way for every service, EC2's reservations and Savings Plans included.
type termReservation struct {
	ID, Type, State string
	// Match is what else a renewal must share beside Type (ElastiCache's engine, RDS's engine and deployment); ""
	// when nothing.
	Match    string
	Count    int32
	Start    *time.Time
	Duration *int32
	// Prices are its prices per unit as the check reads them (its count, term and count field are filled here).
	Prices unitPrices
}

func (r termReservation) dated() bool { return r.Start != nil && r.Duration != nil }

// end is StartTime + Duration seconds: none of these services reports an end.
func (r termReservation) end() time.Time {
	return r.Start.Add(time.Duration(*r.Duration) * time.Second)
}

// termFindings applies the commitment rules (commitmentFindings) to a listing of reservations that report a StartTime
// and a Duration: a renewal is a reservation of the same type (and Match) bought outright, active or pending payment;
// unit names what is counted in a reason: "nodes".
func termFindings(t Target, check, resourceType, unit string, states termStates, items []termReservation) []termFinding {
	cs := make([]commitment, len(items))
	statuses := make([]string, len(items))
	for i, r := range items {
		cs[i] = commitment{ID: r.ID, Role: states[r.State], Start: r.Start} // a state not named: 0, not recognised
		if r.dated() {
			end := r.end()
			cs[i].End = &end
		}
		statuses[i] = r.State
	}
	k := commitmentKind{check: check, resourceType: resourceType, missing: "StartTime or Duration", purchase: "purchase",
		sameKind: func(i, j int) bool { return items[i].Type == items[j].Type && items[i].Match == items[j].Match },
		covers:   func(i, j int) bool { return items[j].Count >= items[i].Count },
		renewal: func(i, j int) (detail, how, shortfall string) {
			r, q := items[i], items[j]
			how = "bought"
			if cs[j].Role == rolePending {
				how = "bought, payment pending"
			}
			detail = fmt.Sprintf("%s: %d × %s from %s (%s)", q.ID, q.Count, q.Type, q.Start.UTC().Format("2006-01-02"), q.State)
			return detail, how, fmt.Sprintf("for only %d of %d %s", q.Count, r.Count, unit)
		},
		price: func(i int) (priced, string) {
			r := items[i]
			p := r.Prices
			p.count = r.Count
			if r.Duration != nil {
				p.seconds = int64(*r.Duration)
			}
			return reservationPrice(p)
		}}
	return commitmentFindings(t, k, cs, statuses)
}

// termText words a Duration in seconds as the term AWS sells: 1 or 3 years of 365 days, else whole days.
func termText(seconds *int32) string {
	if seconds == nil {
		return ""
	}
	return termTextSeconds(int64(*seconds))
}

// termTextSeconds words a term of seconds as termText does; "" for none.
func termTextSeconds(s int64) string {
	const year = 365 * 24 * 3600
	switch {
	case s <= 0:
		return ""
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
