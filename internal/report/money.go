package report

import (
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
	// Critical, Warning and Notice are present when the run has commitment findings of that severity, 0 included.
	Critical *float64 `json:"critical,omitempty"`
	Warning  *float64 `json:"warning,omitempty"`
	Notice   *float64 `json:"notice,omitempty"`
	Total    float64  `json:"total"`
	// Unknown counts commitment findings whose USD at risk is null (price unknown, state not recognised, or priced
	// in another currency): none of them is in the sums, and the outputs say so rather than imply the sum is all.
	Unknown int `json:"unknown,omitempty"`
	// OtherCurrencies are the amounts at risk priced in another currency, one entry per currency, never converted.
	OtherCurrencies []CurrencyAtRisk `json:"other_currencies,omitempty"`
}

// CurrencyAtRisk is what commitments priced in one currency other than USD put at risk per month.
type CurrencyAtRisk struct {
	Currency string  `json:"currency"`
	Total    float64 `json:"total"`
}

// Of is the sum at risk of severity sev, and whether the run has commitments of that severity.
func (a *AtRisk) Of(sev checks.Severity) (float64, bool) {
	if a == nil {
		return 0, false
	}
	var p *float64
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
	return *p, true
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
		*slot = checks.Cents(*slot + v)
		a.Total = checks.Cents(a.Total + v)
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

// slot is where a finding of severity sev is summed, made present; nil for a severity the sums do not know.
func (a *AtRisk) slot(sev checks.Severity) *float64 {
	var p **float64
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
		*p = new(float64)
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
