package checks

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// What a commitment costs and what of it no renewal covers (Money), computed here for every commitment kind from what
// the kind's price hook (commitmentKind.price) reads of its listing and what the commitment rules decided.

// priced is one commitment's price for all its units, in its own currency, as its kind reads it.
type priced struct {
	// currency is the ISO 4217 code the service priced it in.
	currency string
	// perHour is the effective rate per hour for all units: the upfront price spread over the term's hours, plus the
	// usage price and the recurring hourly charges (a Savings Plan's hourly commitment).
	perHour float64
	// upfront is what was paid upfront for all units.
	upfront float64
	// term and paymentOption as AWS sells them: "1 year", "All Upfront".
	term, paymentOption string
	// units is what a renewal is measured against: the count of instances or nodes, a Savings Plan's hourly
	// commitment. Set whenever it is known, even when the price is not; 0 when unknown.
	units float64
}

// exposure is the share of a commitment no renewal covers, from 0 to 1, or why it cannot be told.
type exposure struct {
	share   float64
	unknown string
}

var wholly = exposure{share: 1}

// endingExposure is what of items[i], in effect or retired at its end, renewal (-1 for none) leaves uncovered: all of
// it without a renewal, none when the renewal covers it (k.covers), else the part of its units the renewal lacks.
func (k commitmentKind) endingExposure(items []commitment, i, renewal int) exposure {
	switch {
	case items[i].End == nil:
		return exposure{unknown: "its end is unknown (AWS did not report its " + k.missing + "), so whether a renewal covers it cannot be told"}
	case renewal < 0:
		return wholly
	case k.covers(i, renewal):
		return exposure{}
	}
	have, _ := k.priceOf(i)
	got, _ := k.priceOf(renewal)
	if have.units <= 0 || got.units <= 0 {
		return exposure{unknown: "the size of it or of its renewal " + items[renewal].ID + " cannot be read"}
	}
	return exposure{share: math.Max(0, (have.units-got.units)/have.units)}
}

// priceOf is items[i]'s price from the kind's hook, and why it is unknown ("" when known).
func (k commitmentKind) priceOf(i int) (priced, string) {
	if k.price == nil {
		return priced{}, "the audit does not read this service's prices"
	}
	return k.price(i)
}

// money is the Money of items[i] with exposure e: every figure per month for all units; USD figures only for a
// commitment priced in USD, another currency's kept apart in Price; nothing unknown written as 0.
func (k commitmentKind) money(i int, e exposure) *Money {
	p, why := k.priceOf(i)
	m := &Money{}
	if why != "" {
		m.PriceUnknown = why
		return m
	}
	perMonth := Cents(p.perHour * HoursPerMonth)
	if math.IsInf(perMonth, 0) || math.IsInf(p.upfront, 0) {
		m.PriceUnknown = "AWS reported a price too large to be an amount"
		return m
	}
	price := &Price{Currency: p.currency, PerHour: math.Round(p.perHour*1e6) / 1e6, PerMonth: perMonth, Upfront: Cents(p.upfront),
		Term: p.term, PaymentOption: p.paymentOption}
	if e.unknown != "" {
		m.AtRiskUnknown = e.unknown
	} else {
		price.PerMonthAtRisk = USD(Cents(perMonth * e.share))
	}
	m.Price = price
	if p.currency != "USD" {
		m.PriceUnknown = fmt.Sprintf("priced in %s, not added into USD", p.currency)
		return m
	}
	m.USDPerMonth = USD(perMonth)
	if price.PerMonthAtRisk != nil {
		m.USDPerMonthAtRisk = USD(*price.PerMonthAtRisk)
	}
	return m
}

// unitPrices is a reservation's prices as its service reports them: per instance or node (each check says where its
// API reference shows that), for count units.
type unitPrices struct {
	// count and countField: how many units, and the field AWS reports it in ("InstanceCount").
	count      int32
	countField string
	// seconds is the term (Duration); 0 when not reported.
	seconds int64
	// fixed is the upfront price per unit (FixedPrice), usage the hourly price per unit (UsagePrice), nil when not
	// reported; recurring the recurring charges per unit.
	fixed, usage *float64
	recurring    []recurringCharge
	// currency as the service reports it, or as the check knows it; noCurrency says why it is unknown when "".
	currency, noCurrency string
	payment              string
}

// reservationPrice prices a reservation from its per-unit prices: (FixedPrice ÷ term hours + UsagePrice + hourly
// recurring charges) × count. A price AWS did not report, a recurring charge billed other than hourly, or a reservation
// that would cost nothing at all is unknown, with the reason: never a silent 0.
func reservationPrice(r unitPrices) (priced, string) {
	p := priced{term: termTextSeconds(r.seconds), paymentOption: r.payment}
	if r.count <= 0 {
		return p, "AWS reported no " + r.countField
	}
	p.units = float64(r.count)
	if r.fixed == nil {
		return p, "AWS reported no FixedPrice"
	}
	// The query protocols' parsers read "NaN" and "Infinity" as floats: neither is a price (nor encodes as JSON), and
	// no price is below 0.
	amounts := []*float64{r.fixed, r.usage}
	for _, c := range r.recurring {
		amounts = append(amounts, c.amount)
	}
	for _, v := range amounts {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0) {
			return p, fmt.Sprintf("AWS reported a price of %v, which is no amount", *v)
		}
	}
	for _, c := range r.recurring {
		if c.amount == nil || c.frequency == nil {
			return p, "AWS reported a recurring charge without its amount or frequency"
		}
		if *c.amount != 0 && !strings.EqualFold(*c.frequency, "Hourly") {
			return p, fmt.Sprintf("a recurring charge is billed %s, which the audit does not price", *c.frequency)
		}
	}
	perUnit := hourlyCharges(r.usage, r.recurring)
	if *r.fixed != 0 {
		if r.seconds <= 0 {
			return p, "AWS reported no Duration to spread the upfront price over"
		}
		perUnit += *r.fixed / (float64(r.seconds) / 3600)
	}
	if perUnit <= 0 {
		return p, "AWS reported no price (no FixedPrice, UsagePrice or hourly recurring charge above 0)"
	}
	if r.currency == "" {
		why := r.noCurrency
		if why == "" {
			why = "AWS reported no CurrencyCode"
		}
		return p, why
	}
	p.currency = r.currency
	p.perHour = perUnit * p.units
	p.upfront = *r.fixed * p.units
	return p, ""
}

// partitionCurrency is the currency of a service that reports none (ElastiCache, MemoryDB), from the partition the
// account is in. The public price lists of both services are in USD for the commercial and GovCloud (US) Regions
// (aws.amazon.com/elasticache/pricing, aws.amazon.com/memorydb/pricing, and their GovCloud entries), while the China
// Regions sell and bill in CNY (amazonaws.cn/en/elasticache/pricing: prices in ¥): a partition other than aws and
// aws-us-gov is not assumed to be USD.
func partitionCurrency(partition, service string) (currency, why string) {
	switch partition {
	case "aws", "aws-us-gov":
		return "USD", ""
	case "aws-cn":
		return "", service + " reports no currency, and the China Regions price in CNY: the amount's currency cannot be told"
	default:
		return "", fmt.Sprintf("%s reports no currency, and partition %q has no known price list currency", service, partition)
	}
}

// float32Price is a price the EC2 SDK holds as float32, read as the decimal AWS sent ("482.6", not 482.600006...).
func float32Price(v *float32) *float64 {
	if v == nil {
		return nil
	}
	f, err := strconv.ParseFloat(strconv.FormatFloat(float64(*v), 'g', -1, 32), 64)
	if err != nil {
		f = float64(*v)
	}
	return &f
}

// paymentOptionName words an upper-case payment option (OpenSearch's ALL_UPFRONT) as AWS's other services and its
// console name it: "All Upfront". An unknown one is kept as reported.
func paymentOptionName(s string) string {
	switch s {
	case "ALL_UPFRONT":
		return "All Upfront"
	case "PARTIAL_UPFRONT":
		return "Partial Upfront"
	case "NO_UPFRONT":
		return "No Upfront"
	default:
		return s
	}
}
