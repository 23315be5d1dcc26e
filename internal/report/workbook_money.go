package report

import (
	"cmp"
	"slices"
	"strings"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// The money columns of every commitment sheet (a check whose Layout reports expiry) and of the Commitments sheet,
// read from the finding's checks.Money. The USD columns hold only USD: a commitment priced in another currency
// leaves them empty and shows its figures in the Price columns, in its own currency, which no sum adds. An unknown
// figure is an empty cell, never a 0, and Price note says why. The Price columns are named apart from what a check
// declares ("Term", "Upfront", "Currency", "Payment option"): a table's headers must be unique.
const (
	USDPerHourColumn    = "USD per hour"
	USDPerMonthColumn   = "USD per month"
	AtRiskColumn        = "At risk (USD/month)"
	OnDemandColumn      = "On demand (USD/month)"
	IncreaseColumn      = "Increase if lapsed (USD/month)"
	PriceCurrencyColumn = "Price currency"
	PricePerMonthColumn = "Price per month"
	PriceAtRiskColumn   = "Price at risk per month"
	PriceUpfrontColumn  = "Price upfront"
	PriceTermColumn     = "Price term"
	PricePaymentColumn  = "Price payment option"
	PriceNoteColumn     = "Price note"
)

// moneyColumns are the money columns in sheet order; the on-demand ones only when the run read on-demand rates
// (audit -on-demand), so a run without them has no column that is always empty.
func moneyColumns(onDemand bool) []string {
	cols := []string{USDPerHourColumn, USDPerMonthColumn, AtRiskColumn}
	if onDemand {
		cols = append(cols, OnDemandColumn, IncreaseColumn)
	}
	// The currency first, next to the USD amounts' right edge ("2,132.18 USD"), then the texts, then the amounts: a
	// right-aligned amount never touches a left-aligned text after it.
	return append(cols, PriceCurrencyColumn, PriceTermColumn, PricePaymentColumn, PriceUpfrontColumn, PricePerMonthColumn, PriceAtRiskColumn,
		PriceNoteColumn)
}

// moneyKind is how a money column's values are written: amounts as numbers, the rest as text.
func moneyKind(col string) checks.ColumnKind {
	switch col {
	case PriceCurrencyColumn, PriceTermColumn, PricePaymentColumn, PriceNoteColumn:
		return checks.KindText
	}
	return checks.KindNumber
}

// hasOnDemand says whether any finding carries on-demand figures: the run read the price list.
func hasOnDemand(fs []checks.Finding) bool {
	for i := range fs {
		if m := fs[i].Money; m != nil && m.OnDemand != nil {
			return true
		}
	}
	return false
}

// noMoney is the Price note of a commitment finding that carries no Money at all (a check that does not price its
// commitments yet): its figures are unknown, not 0.
const noMoney = "no price read for this commitment"

// moneyValue is fd's value in one of the money columns, and whether col is one: an amount is a float64 (written in
// the money format), an unknown one "".
func moneyValue(fd *checks.Finding, col string) (any, bool) {
	m := fd.Money
	amount := func(p *float64) any {
		if p == nil {
			return ""
		}
		return *p
	}
	var price *checks.Price
	if m != nil {
		price = m.Price
	}
	switch col {
	case USDPerHourColumn:
		if m == nil || m.USDPerMonth == nil {
			return "", true
		}
		if price != nil && price.Currency == "USD" {
			return price.PerHour, true
		}
		return *m.USDPerMonth / checks.HoursPerMonth, true
	case USDPerMonthColumn:
		if m == nil {
			return "", true
		}
		return amount(m.USDPerMonth), true
	case AtRiskColumn:
		if m == nil {
			return "", true
		}
		return amount(m.USDPerMonthAtRisk), true
	case OnDemandColumn:
		if m == nil || m.OnDemand == nil {
			return "", true
		}
		return amount(m.USDPerMonthOnDemand), true
	case IncreaseColumn:
		if m == nil || m.OnDemand == nil {
			return "", true
		}
		return amount(m.USDPerMonthIncrease), true
	case PriceNoteColumn:
		return priceNote(m), true
	}
	if !strings.HasPrefix(col, "Price ") {
		return nil, false
	}
	if price == nil {
		switch col {
		case PriceCurrencyColumn, PricePerMonthColumn, PriceAtRiskColumn, PriceUpfrontColumn, PriceTermColumn, PricePaymentColumn:
			return "", true
		}
		return nil, false
	}
	switch col {
	case PriceCurrencyColumn:
		return price.Currency, true
	case PricePerMonthColumn:
		return price.PerMonth, true
	case PriceAtRiskColumn:
		return amount(price.PerMonthAtRisk), true
	case PriceUpfrontColumn:
		return price.Upfront, true
	case PriceTermColumn:
		return price.Term, true
	case PricePaymentColumn:
		return price.PaymentOption, true
	}
	return nil, false
}

// priceNote says why a money column of the finding is empty, or that its price is in another currency; "" when
// every figure it has is shown.
func priceNote(m *checks.Money) string {
	if m == nil {
		return noMoney
	}
	var parts []string
	add := func(s string) {
		if s = Inline(s); s != "" && !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	add(m.PriceUnknown)
	add(m.AtRiskUnknown)
	if p := m.Price; p != nil && p.Currency != "USD" && m.USDPerMonth == nil && m.PriceUnknown == "" {
		add("priced in " + p.Currency + ": not in the USD columns or sums")
	}
	if m.OnDemand != nil && m.OnDemandUnknown != "" {
		add("on demand: " + m.OnDemandUnknown)
	}
	return strings.Join(parts, "; ")
}

// AtRiskSummaryRow heads the Summary's line of the run's total at risk per month in USD (usd_per_month_at_risk).
const AtRiskSummaryRow = "At risk per month (USD)"

// moneyAtRisk is what the Summary says of the run's money: the sums at risk by severity (the run's
// usd_per_month_at_risk) with the commitments behind each, and by owner.
type moneyAtRisk struct {
	// commitments counts the commitments of each severity, priced those whose USD at risk is known.
	commitments, priced map[checks.Severity]int
	n, unpriced         int // all commitments; those in no USD sum: no Money, price or risk unknown, another currency
	owners              []ownerAtRisk
}

// ownerAtRisk is one owner's commitments and what they put at risk in USD per month.
type ownerAtRisk struct {
	owner       string
	usd         float64
	commitments int
	unpriced    int
}

// noOwner names the owner of commitments in accounts whose owner is not known (the organization could not be read).
const noOwner = "(no owner known)"

// moneyOf counts r's open commitments: a finding that carries Money, or of a check whose Layout reports expiry.
func moneyOf(r *Result) moneyAtRisk {
	m := moneyAtRisk{commitments: map[checks.Severity]int{}, priced: map[checks.Severity]int{}}
	expiry := map[string]bool{} // by check: a handful
	byOwner := map[string]*ownerAtRisk{}
	for i := range r.Findings {
		f := &r.Findings[i]
		isCommitment, seen := expiry[f.Check]
		if !seen {
			c, ok := r.check(f.Check)
			isCommitment = ok && c.Layout().Expiry
			expiry[f.Check] = isCommitment
		}
		if f.Money == nil && !isCommitment {
			continue
		}
		m.n++
		m.commitments[f.Severity]++
		o := byOwner[f.Owner]
		if o == nil {
			o = &ownerAtRisk{owner: cmp.Or(Inline(f.Owner), noOwner)}
			byOwner[f.Owner] = o
		}
		o.commitments++
		v, ok := f.AtRiskUSD()
		if !ok {
			m.unpriced++
			o.unpriced++
			continue
		}
		m.priced[f.Severity]++
		o.usd = checks.Cents(o.usd + v)
	}
	for _, o := range byOwner {
		m.owners = append(m.owners, *o)
	}
	slices.SortFunc(m.owners, func(a, b ownerAtRisk) int {
		return cmp.Or(cmp.Compare(b.usd, a.usd), cmp.Compare(b.commitments, a.commitments), strings.Compare(a.owner, b.owner))
	})
	return m
}

// notPriced stands in a Summary sum none of whose commitments has a USD figure: unknown, not 0.
const notPriced = "not known: no commitment priced in USD"

// atRiskTotal is the run's total at risk for the Summary's line: the sum, or why there is none.
func (m moneyAtRisk) atRiskTotal(a *AtRisk) any {
	if a == nil || m.n == m.unpriced {
		return notPriced
	}
	if v, ok := a.Total.Value(); ok {
		return v
	}
	return notPriced
}

// summaryRows are the Summary's tables of money at risk per month: by severity, with the commitments in no USD sum
// and the amounts in other currencies apart, then by owner, most at risk first. None when the run has no commitment.
// A sum of commitments none of which is priced in USD says so rather than show 0.
func (m moneyAtRisk) summaryRows(a *AtRisk, t summaryTable) {
	if m.n == 0 {
		return
	}
	t.row()
	t.header("At risk by severity", "Amount", "Currency", "Commitments")
	for _, sev := range checks.Severities {
		if m.commitments[sev] == 0 {
			continue
		}
		var v any = ""
		if s, ok := a.Of(sev); ok && m.priced[sev] > 0 {
			v = s
		}
		t.row(string(sev), v, "USD", m.commitments[sev])
	}
	total := m.atRiskTotal(a)
	if _, ok := total.(string); ok {
		total = ""
	}
	t.total("Total", total, "USD", m.n)
	if m.unpriced > 0 {
		t.row("Not in the USD sums (see Price note)", "", "", m.unpriced)
	}
	if a != nil {
		for _, c := range a.OtherCurrencies {
			t.row("At risk priced in "+c.Currency+" (not converted, in no USD sum)", c.Total, c.Currency)
		}
	}
	t.row()
	t.header("At risk by owner", "USD per month", "Commitments", "Not in the USD sums")
	for _, o := range m.owners {
		var v any = o.usd
		if o.unpriced == o.commitments {
			v = ""
		}
		t.row(o.owner, v, o.commitments, o.unpriced)
	}
}

// summaryTable adds rows to the Summary sheet: a header, a row, a total row.
type summaryTable struct {
	header, row, total func(...any)
}
