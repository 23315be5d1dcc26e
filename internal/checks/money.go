package checks

import (
	"math"
)

// HoursPerMonth is the month every figure per month is counted in: 730 hours, as AWS's own pricing pages and Cost
// Explorer's recommendations count one (8,760 hours a year over 12).
const HoursPerMonth = 730

// Money is what a commitment finding costs and what of it no renewal covers, per month of HoursPerMonth hours, for
// all its units. Every commitment finding (Layout.Expiry) carries one; other findings carry none, and their JSON
// has none of these fields (Finding embeds a pointer, so encoding/json writes the fields only when it is set).
//
// The two USD figures are null, never a silent 0, when the audit cannot say: the price is unknown, or it is in
// another currency (Price holds it then, in that currency, and no USD sum adds it), or what is at risk cannot be
// told (a state the rules do not know). PriceUnknown and AtRiskUnknown say why.
type Money struct {
	// USDPerMonth is what the commitment costs per month in USD: the upfront price amortised over the term, plus
	// the usage price, plus recurring hourly charges, for all its units. For a Savings Plan, its hourly commitment
	// (upfront and recurring payments are parts of it) × HoursPerMonth.
	USDPerMonth *float64 `json:"usd_per_month"`
	// USDPerMonthAtRisk is the part of USDPerMonth no renewal covers: 0 when a renewal commits as much or more, the
	// shortfall when it commits less, all of it when nothing renews it.
	USDPerMonthAtRisk *float64 `json:"usd_per_month_at_risk"`
	// PriceUnknown says why USDPerMonth is null; AtRiskUnknown why USDPerMonthAtRisk is, when the price is known.
	PriceUnknown  string `json:"price_unknown,omitempty"`
	AtRiskUnknown string `json:"at_risk_unknown,omitempty"`
	// Price is the commitment in its own currency, whatever that is: set whenever its price is known.
	Price *Price `json:"price,omitempty"`
	// OnDemand is what the capacity would cost at the public on-demand rate (audit -on-demand); nil when not asked.
	*OnDemand
}

// Price is a commitment's price in its own currency (ISO 4217: USD, EUR, CNY), for all its units.
type Price struct {
	Currency string `json:"currency"`
	// PerHour is the effective hourly rate: upfront amortised over the term's hours, plus usage and recurring hourly
	// charges (a Savings Plan's commitment).
	PerHour float64 `json:"per_hour"`
	// PerMonth is PerHour × HoursPerMonth, in cents; PerMonthAtRisk the part no renewal covers (null as
	// Money.USDPerMonthAtRisk is).
	PerMonth       float64  `json:"per_month"`
	PerMonthAtRisk *float64 `json:"per_month_at_risk"`
	// Upfront is what was paid upfront for the whole commitment (every unit).
	Upfront float64 `json:"upfront"`
	// Term is the term as sold ("1 year", "3 years"); PaymentOption as AWS names it ("All Upfront", "No Upfront").
	Term          string `json:"term,omitempty"`
	PaymentOption string `json:"payment_option,omitempty"`
}

// OnDemand is the public on-demand rate of a commitment's capacity, from the AWS Price List (pricing:GetProducts).
type OnDemand struct {
	// USDPerMonthOnDemand is what the same units would cost per month on demand; null when the price list could not
	// say (OnDemandUnknown says why).
	USDPerMonthOnDemand *float64 `json:"usd_per_month_on_demand"`
	// USDPerMonthIncrease is what the month would cost more if the commitment lapsed: on demand minus its own
	// USDPerMonth; null when either is unknown.
	USDPerMonthIncrease *float64 `json:"usd_per_month_increase_if_lapsed"`
	OnDemandUnknown     string   `json:"on_demand_unknown,omitempty"`
}

// Cents rounds an amount to the cent, as every per-month figure is kept, so sums of them are sums of what is shown.
func Cents(v float64) float64 { return math.Round(v*100) / 100 }

// USD is an amount for a Money field.
func USD(v float64) *float64 { return &v }

// AtRiskUSD is f's USD per month at risk, and whether it is known; false for a finding without Money.
func (f *Finding) AtRiskUSD() (float64, bool) {
	if f.Money == nil || f.Money.USDPerMonthAtRisk == nil {
		return 0, false
	}
	return *f.Money.USDPerMonthAtRisk, true
}
