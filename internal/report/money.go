package report

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// AtRisk sums what the open commitment findings put at risk per month (checks.Money.USDPerMonthAtRisk), by severity:
// the run's usd_per_month_at_risk. Suppressed findings are not in the sums (the result's findings leave them out).
type AtRisk struct {
	// Critical, Warning and Notice are present when the run has commitment findings of that severity: the sum of
	// those whose USD at risk is known, 0 included, or null when none of them is (never 0 for what is not known).
	Critical *Sum `json:"critical,omitempty"`
	Warning  *Sum `json:"warning,omitempty"`
	Notice   *Sum `json:"notice,omitempty"`
	// Total is the severities' sum; null when no commitment's USD at risk is known.
	Total Sum `json:"total"`
	// Unknown counts commitment findings whose USD at risk is null (price unknown, state not recognised, or priced
	// in another currency): none of them is in the sums, and the outputs say so rather than imply the sum is all.
	Unknown int `json:"unknown,omitempty"`
	// OtherCurrencies are the amounts at risk priced in another currency, one entry per currency, never converted.
	OtherCurrencies []CurrencyAtRisk `json:"other_currencies,omitempty"`
}

// Sum is a sum of USD per month over the commitments whose figure is known; with none known it is unknown, written
// null, never 0 (which reads as nothing at risk).
type Sum struct {
	usd   float64
	known bool
}

// KnownSum is a sum of v.
func KnownSum(v float64) Sum { return Sum{usd: v, known: true} }

// Value is the sum, and whether any of its commitments' figures is known.
func (s Sum) Value() (float64, bool) { return s.usd, s.known }

func (s *Sum) add(v float64) { s.usd, s.known = checks.Cents(s.usd+v), true }

// MarshalJSON writes the sum as a number, or null when unknown.
func (s Sum) MarshalJSON() ([]byte, error) {
	if !s.known {
		return []byte("null"), nil
	}
	return json.Marshal(s.usd)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Sum) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = Sum{}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("a sum at risk: %w", err)
	}
	*s = KnownSum(v)
	return nil
}

// UnmarshalJSON reads an AtRisk as it is written: a severity's null sum (commitments, none of their figures known) is
// kept present and unknown, as encoding/json would otherwise read it as no commitments of that severity at all.
func (a *AtRisk) UnmarshalJSON(b []byte) error {
	type plain AtRisk // no methods: the fields as tagged
	var w struct {
		plain
		Critical json.RawMessage `json:"critical,omitempty"`
		Warning  json.RawMessage `json:"warning,omitempty"`
		Notice   json.RawMessage `json:"notice,omitempty"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = AtRisk(w.plain)
	for _, f := range []struct {
		raw json.RawMessage
		dst **Sum
	}{{w.Critical, &a.Critical}, {w.Warning, &a.Warning}, {w.Notice, &a.Notice}} {
		if f.raw == nil {
			continue
		}
		*f.dst = &Sum{}
		if err := (*f.dst).UnmarshalJSON(f.raw); err != nil {
			return err
		}
	}
	return nil
}

// CurrencyAtRisk is what commitments priced in one currency other than USD put at risk per month.
type CurrencyAtRisk struct {
	Currency string  `json:"currency"`
	Total    float64 `json:"total"`
}

// Of is the sum at risk of severity sev, and whether it is known: the run has commitments of that severity and the
// USD at risk of one of them at least is known.
func (a *AtRisk) Of(sev checks.Severity) (float64, bool) {
	if a == nil {
		return 0, false
	}
	var p *Sum
	switch sev {
	case checks.Critical:
		p = a.Critical
	case checks.Warning:
		p = a.Warning
	case checks.Notice:
		p = a.Notice
	default:
		return 0, false
	}
	if p == nil {
		return 0, false
	}
	return p.Value()
}

// Urgent is the sum at risk of critical and warning commitments: the figure the subject names.
func (a *AtRisk) Urgent() float64 {
	c, _ := a.Of(checks.Critical)
	w, _ := a.Of(checks.Warning)
	return checks.Cents(c + w)
}

// SumAtRisk sums findings' money at risk; nil when none of them is a commitment (carries Money).
func SumAtRisk(findings []checks.Finding) *AtRisk {
	var a *AtRisk
	other := map[string]float64{}
	for i := range findings {
		f := &findings[i]
		if f.Money == nil {
			continue
		}
		if a == nil {
			a = &AtRisk{}
		}
		slot := a.slot(f.Severity)
		if slot == nil {
			continue
		}
		v, ok := f.AtRiskUSD()
		if !ok {
			a.Unknown++
			if p := f.Money.Price; p != nil && p.PerMonthAtRisk != nil && p.Currency != "USD" {
				other[p.Currency] = checks.Cents(other[p.Currency] + *p.PerMonthAtRisk)
			}
			continue
		}
		slot.add(v)
		a.Total.add(v)
	}
	if a == nil {
		return nil
	}
	for c, v := range other {
		a.OtherCurrencies = append(a.OtherCurrencies, CurrencyAtRisk{Currency: c, Total: v})
	}
	slices.SortFunc(a.OtherCurrencies, func(x, y CurrencyAtRisk) int {
		if x.Currency < y.Currency {
			return -1
		}
		if x.Currency > y.Currency {
			return 1
		}
		return 0
	})
	return a
}

// slot is where a finding of severity sev is summed, made present (unknown until a figure is added); nil for a
// severity the sums do not know.
func (a *AtRisk) slot(sev checks.Severity) *Sum {
	var p **Sum
	switch sev {
	case checks.Critical:
		p = &a.Critical
	case checks.Warning:
		p = &a.Warning
	case checks.Notice:
		p = &a.Notice
	default:
		return nil
	}
	if *p == nil {
		*p = &Sum{}
	}
	return *p
}

// dollars words a USD amount as every text output shows it: whole dollars with thousands separators ("$3,066"),
// cents only below ten dollars ("$7.30"), so a figure reads the same in the subject, the digests and the chat card.
func dollars(v float64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if v < 10 && v != float64(int64(v)) {
		return fmt.Sprintf("%s$%.2f", sign, v)
	}
	// FormatFloat, not int64: a figure beyond int64 (an absurd price AWS reported) is written as it is, not overflowed.
	whole := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + "$" + b.String()
}
