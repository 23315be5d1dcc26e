package report

import (
	"fmt"
	"strings"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// The words every output (subject, text and HTML digests, chat card) gives the money of issue 18, so a figure reads
// the same wherever it is shown. Money is shown only where a finding carries it: a run without prices reads as
// before.

// subjectAtRisk is the subject's money piece, "$3,066/mo at risk": the at-risk sum of the critical and warning
// commitments; "" when it is zero or the run has no commitment findings. When some critical or warning commitment's
// USD at risk is not known (price unknown, another currency, a state the audit does not know), the sum is a floor and
// says so, "$3,066+/mo at risk": a subject never reads as the whole of what it could not count.
func subjectAtRisk(r *Result) string {
	u := r.USDPerMonthAtRisk.Urgent()
	if u == 0 {
		return ""
	}
	floor := ""
	for i := range r.Findings {
		f := &r.Findings[i]
		if _, known := f.AtRiskUSD(); f.Money != nil && !known && (f.Severity == checks.Critical || f.Severity == checks.Warning) {
			floor = "+"
			break
		}
	}
	return dollars(u) + floor + "/mo at risk"
}

// moneyHeadline is the run's money in one line: what the critical and warning commitments put at risk, what the
// notice ones add, and how many commitments are in no USD sum (price unknown, another currency, at risk not known),
// with the other currencies' sums apart. "" when the run has no commitment findings. It holds no AWS text but
// currency codes, which are shown only when they are ISO 4217 codes (isoCurrency).
//
//	$3,066/mo at risk in 7 critical and warning commitments; $512/mo more in 3 notice commitments;
//	2 commitments with no USD figure at risk, in no sum (EUR 812/mo at risk apart)
func (r *Result) moneyHeadline() string {
	a := r.USDPerMonthAtRisk
	if a == nil {
		return ""
	}
	urgentN, noticeN := r.pricedAtRisk()
	var parts []string
	if urgentN > 0 {
		parts = append(parts, fmt.Sprintf("%s/mo at risk in %d critical and warning %s", dollars(a.Urgent()), urgentN, commitmentWord(urgentN)))
	}
	if n, ok := a.Of(checks.Notice); ok && noticeN > 0 {
		what := "at risk"
		if urgentN > 0 {
			what = "more"
		}
		parts = append(parts, fmt.Sprintf("%s/mo %s in %d notice %s", dollars(n), what, noticeN, commitmentWord(noticeN)))
	}
	if a.Unknown > 0 {
		s := fmt.Sprintf("%d %s with no USD figure at risk, in no sum", a.Unknown, commitmentWord(a.Unknown))
		var other []string
		for _, c := range a.OtherCurrencies {
			other = append(other, amount(c.Currency, c.Total)+"/mo")
		}
		if len(other) > 0 {
			s += " (" + strings.Join(other, ", ") + " at risk apart)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// pricedAtRisk counts the critical and warning commitments, and the notice ones, whose USD at risk is known: only they
// are in the sums, so only they are counted with them, and a sum none of them is in is no figure but unknown.
func (r *Result) pricedAtRisk() (urgent, notice int) {
	for i := range r.Findings {
		f := &r.Findings[i]
		if _, ok := f.AtRiskUSD(); !ok {
			continue
		}
		switch f.Severity {
		case checks.Critical, checks.Warning:
			urgent++
		case checks.Notice:
			notice++
		default:
		}
	}
	return urgent, notice
}

func commitmentWord(n int) string {
	if n == 1 {
		return "commitment"
	}
	return "commitments"
}

// findingMoney is what a commitment finding costs per month and what of it is at risk, for its line in a digest:
// "$511/mo, all at risk", "$1,022/mo, $511 at risk", "$73/mo, none at risk", "price unknown: <reason>", or in
// another currency "EUR 1,624/mo, EUR 812 at risk, in no USD sum". "" for a finding without Money. quote holds the
// reasons, which a check words but may carry AWS text, as each output holds AWS text (field, chatCode).
func findingMoney(f *checks.Finding, quote func(string, int) string) string {
	m := f.Money
	if m == nil {
		return ""
	}
	if m.USDPerMonth == nil {
		if p := m.Price; p != nil && p.Currency != "USD" {
			return perMonth(p.Currency, p.PerMonth, p.PerMonthAtRisk, m.AtRiskUnknown, quote) + ", in no USD sum"
		}
		return "price unknown: " + quote(nameOr(m.PriceUnknown, "no reason given"), maxMoneyReasonBytes)
	}
	return perMonth("USD", *m.USDPerMonth, m.USDPerMonthAtRisk, nameOr(m.AtRiskUnknown, m.PriceUnknown), quote) + onDemand(m)
}

// onDemand words what the commitment's units would cost on demand (audit -on-demand), after its price:
// "; on demand $734/mo, +$223 if it lapses". "" when the run did not read on-demand rates or the price list could
// not say: the JSON and the workbook carry why, and a line is no place for it.
func onDemand(m *checks.Money) string {
	if m.OnDemand == nil || m.USDPerMonthOnDemand == nil {
		return ""
	}
	s := "; on demand " + dollars(*m.USDPerMonthOnDemand) + "/mo"
	if inc := m.USDPerMonthIncrease; inc != nil && checks.Cents(*inc) > 0 {
		s += ", +" + dollars(*inc) + " if it lapses"
	}
	return s
}

// maxMoneyReasonBytes bounds why a price or what is at risk is unknown, on a finding's line.
const maxMoneyReasonBytes = 200

// perMonth words a month's price in currency and what of it is at risk (nil: unknown, why says why).
func perMonth(currency string, month float64, risk *float64, why string, quote func(string, int) string) string {
	s := amount(currency, month) + "/mo"
	switch {
	case risk == nil:
		return s + ", at risk unknown: " + quote(nameOr(why, "no reason given"), maxMoneyReasonBytes)
	case checks.Cents(*risk) == 0:
		return s + ", none at risk"
	case checks.Cents(*risk) >= checks.Cents(month):
		return s + ", all at risk"
	default:
		return s + ", " + amount(currency, *risk) + " at risk"
	}
}

// amount words v in currency: dollars() for USD, else the ISO code and the same digits ("EUR 812"), never converted.
func amount(currency string, v float64) string {
	if currency == "USD" {
		return dollars(v)
	}
	return isoCurrency(currency) + " " + strings.Replace(dollars(v), "$", "", 1)
}

// isoCurrency is c when it is an ISO 4217 code (three letters A-Z), which is what AWS reports; anything else is AWS
// text no output should print as ours, and reads "another currency".
func isoCurrency(c string) string {
	if len(c) == 3 && isUpper(c[0]) && isUpper(c[1]) && isUpper(c[2]) {
		return c
	}
	return "another currency"
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }
