package checks

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	memorydbtypes "github.com/aws/aws-sdk-go-v2/service/memorydb/types"
	ostypes "github.com/aws/aws-sdk-go-v2/service/opensearch/types"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
	sptypes "github.com/aws/aws-sdk-go-v2/service/savingsplans/types"
)

// The money of every commitment kind, worked by hand. Every reservation below has a one-year term: 31,536,000 s =
// 8,760 hours, so a month of 730 hours carries one twelfth of the upfront price, and an hourly charge h costs h × 730.

// moneyWant is what one finding's Money must hold. For a USD commitment the price's own figures are the USD ones;
// for another currency usd and risk are null and perMonth, riskIn hold the amounts in that currency. Reasons are
// matched as substrings; an empty one must be empty.
type moneyWant struct {
	usd, risk         *float64
	currency          string // "" when the price is unknown: no Price at all
	perMonth          float64
	riskIn            *float64
	upfront           float64
	term, payment     string
	priceWhy, riskWhy string
	severity          Severity
}

func usd(v float64) *float64 { return &v }

// inUSD is a USD commitment's want: per month and at risk (nil: unknown, why in riskWhy).
func inUSD(sev Severity, perMonth float64, risk *float64, upfront float64, payment string) moneyWant {
	return moneyWant{usd: usd(perMonth), risk: risk, currency: "USD", perMonth: perMonth, riskIn: risk, upfront: upfront, term: "1 year",
		payment: payment, severity: sev}
}

func assertMoney(t *testing.T, got []Finding, want map[string]moneyWant) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range got {
		seen[f.ResourceID] = true
		w, ok := want[f.ResourceID]
		if !ok {
			t.Errorf("%s: unexpected finding %s %q", f.ResourceID, f.Severity, f.Reason)
			continue
		}
		if f.Severity != w.severity {
			t.Errorf("%s: severity %s (%s), want %s", f.ResourceID, f.Severity, f.Reason, w.severity)
		}
		m := f.Money
		if m == nil {
			t.Errorf("%s: no Money", f.ResourceID)
			continue
		}
		sameAmount(t, f.ResourceID+" usd_per_month", m.USDPerMonth, w.usd)
		sameAmount(t, f.ResourceID+" usd_per_month_at_risk", m.USDPerMonthAtRisk, w.risk)
		sameReason(t, f.ResourceID+" price_unknown", m.PriceUnknown, w.priceWhy)
		sameReason(t, f.ResourceID+" at_risk_unknown", m.AtRiskUnknown, w.riskWhy)
		if w.currency == "" {
			if m.Price != nil {
				t.Errorf("%s: price %+v, want none (unknown)", f.ResourceID, *m.Price)
			}
			continue
		}
		p := m.Price
		if p == nil {
			t.Errorf("%s: no price", f.ResourceID)
			continue
		}
		if p.Currency != w.currency || p.PerMonth != w.perMonth || p.Upfront != w.upfront || p.Term != w.term || p.PaymentOption != w.payment {
			t.Errorf("%s: price %s %v/month, upfront %v, %q %q; want %s %v, %v, %q %q", f.ResourceID, p.Currency, p.PerMonth, p.Upfront, p.Term,
				p.PaymentOption, w.currency, w.perMonth, w.upfront, w.term, w.payment)
		}
		if math.Abs(p.PerHour*HoursPerMonth-w.perMonth) > 0.005 {
			t.Errorf("%s: per hour %v × 730 is not %v", f.ResourceID, p.PerHour, w.perMonth)
		}
		sameAmount(t, f.ResourceID+" price.per_month_at_risk", p.PerMonthAtRisk, w.riskIn)
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("%s: no finding", id)
		}
	}
}

func sameAmount(t *testing.T, what string, got, want *float64) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, deref(got), deref(want))
	case *got != *want:
		t.Errorf("%s = %v, want %v", what, *got, *want)
	}
}

func deref(p *float64) any {
	if p == nil {
		return "null"
	}
	return *p
}

func sameReason(t *testing.T, what, got, want string) {
	t.Helper()
	if (want == "") != (got == "") || !strings.Contains(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// moneyDay is noon n days after the test's date, 2026-11-22.
func moneyDay(n int) time.Time {
	return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC).AddDate(0, 0, n)
}

const moneyYear = 365 * 24 * time.Hour

func TestEC2ReservedInstancesMoney(t *testing.T) {
	t.Parallel()
	ri := func(id, typ string, state ec2types.ReservedInstanceState, end time.Time, count int32, offering ec2types.OfferingTypeValues,
		fixed, usage float32, hourly float64) ec2types.ReservedInstances {
		r := ec2RI(id, state, end.Add(-moneyYear), end, count)
		r.InstanceType, r.OfferingType, r.FixedPrice, r.UsagePrice, r.CurrencyCode = ec2types.InstanceType(typ), offering, aws.Float32(fixed),
			aws.Float32(usage), ec2types.CurrencyCodeValuesUsd
		if hourly != 0 {
			r.RecurringCharges = []ec2types.RecurringCharge{{Amount: aws.Float64(hourly), Frequency: ec2types.RecurringChargeFrequencyHourly}}
		}
		return r
	}
	partialNext := ri("ri-partial-next", "m5.large", "queued", moneyDay(20).Add(moneyYear), 4, ec2types.OfferingTypeValuesPartialUpfront, 482.6, 0, 0.0209)
	partialNext.Start = aws.Time(moneyDay(20))
	noUpNext := ri("ri-no-up-next", "r6i.large", "queued", moneyDay(5).Add(moneyYear), 2, ec2types.OfferingTypeValuesNoUpfront, 0, 0, 0.05)
	noUpNext.Start = aws.Time(moneyDay(5))
	unpriced := ri("ri-unpriced", "t3.small", "active", moneyDay(15), 2, ec2types.OfferingTypeValuesAllUpfront, 0, 0, 0)
	unpriced.FixedPrice = nil
	failed := ri("ri-failed", "t3.medium", "payment-failed", moneyDay(-1).Add(moneyYear), 1, ec2types.OfferingTypeValuesNoUpfront, 0, 0, 0.01)
	undated := ri("ri-undated", "t3.micro", "active", moneyDay(9), 1, ec2types.OfferingTypeValuesNoUpfront, 0, 0.02, 0)
	undated.End = nil
	fake := &fakeEC2{ris: []ec2types.ReservedInstances{
		ri("ri-all-up", "c6i.large", "active", moneyDay(10), 3, ec2types.OfferingTypeValuesAllUpfront, 876, 0, 0),
		ri("ri-partial", "m5.large", "active", moneyDay(20), 6, ec2types.OfferingTypeValuesPartialUpfront, 482.6, 0, 0.0209), partialNext,
		ri("ri-no-up", "r6i.large", "active", moneyDay(5), 2, ec2types.OfferingTypeValuesNoUpfront, 0, 0, 0.05), noUpNext,
		ri("ri-lapsed", "t3.large", "retired", moneyDay(-5), 1, ec2types.OfferingTypeValuesAllUpfront, 1752, 0, 0),
		unpriced, failed, undated,
		ri("ri-frozen", "t3.nano", "frozen", moneyDay(40), 1, ec2types.OfferingTypeValuesNoUpfront, 0, 0.03, 0),
	}}
	got, err := EC2ReservedInstances{}.run(context.Background(), fake, testTarget(t, "2026-11-22T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	declared(t, EC2ReservedInstances{}, got)
	assertMoney(t, got, map[string]moneyWant{
		// All Upfront, 3 × 876 USD: 876 / 12 = 73 a month each, × 3 = 219.00; no renewal: all at risk.
		"ri-all-up": inUSD(Warning, 219.00, usd(219.00), 2628, "All Upfront"),
		// Partial Upfront, 6 × (482.6 upfront + 0.0209/h), AWS's own figures: 482.6 / 12 = 40.216667 + 0.0209 × 730 =
		// 15.257 → 55.473667 each, × 6 = 332.842 → 332.84. Upfront 6 × 482.6 = 2,895.60. Renewed by 4 of 6:
		// 332.84 × 2/6 = 110.946667 → 110.95 at risk.
		"ri-partial": inUSD(Warning, 332.84, usd(110.95), 2895.6, "Partial Upfront"),
		// No Upfront, 2 × 0.05/h = 0.10/h × 730 = 73.00; renewed by as many: 0 at risk.
		"ri-no-up": inUSD(Notice, 73.00, usd(0), 0, "No Upfront"),
		// Lapsed 5 days ago, unrenewed: 1,752 / 12 = 146.00, all at risk.
		"ri-lapsed": inUSD(Critical, 146.00, usd(146.00), 1752, "All Upfront"),
		// FixedPrice not reported: unknown, never 0.
		"ri-unpriced": {priceWhy: "AWS reported no FixedPrice", severity: Warning},
		// Payment failed: never in effect, 0.01 × 730 = 7.30 all at risk.
		"ri-failed": inUSD(Critical, 7.30, usd(7.30), 0, "No Upfront"),
		// No End: 0.02 × 730 = 14.60 a month, what is at risk cannot be told.
		"ri-undated": withRiskWhy(inUSD(Warning, 14.60, nil, 0, "No Upfront"), "its end is unknown"),
		// A state no document names: 0.03 × 730 = 21.90, at risk unknown.
		"ri-frozen": withRiskWhy(inUSD(Warning, 21.90, nil, 0, "No Upfront"), `its state "frozen" is not one the audit knows`),
	})
}

func withRiskWhy(w moneyWant, why string) moneyWant {
	w.riskWhy = why
	return w
}

// inOther is a commitment priced in another currency: no USD figures, the amounts kept in their own.
func inOther(sev Severity, currency string, perMonth float64, risk *float64, upfront float64, payment string) moneyWant {
	return moneyWant{currency: currency, perMonth: perMonth, riskIn: risk, upfront: upfront, term: "1 year", payment: payment,
		priceWhy: "priced in " + currency + ", not added into USD", severity: sev}
}

func TestRDSReservedInstancesMoney(t *testing.T) {
	t.Parallel()
	ri := func(id, class, state string, end time.Time, count int32, offering string, fixed, usage, hourly float64) rdstypes.ReservedDBInstance {
		r := rdsRI(id, state, end.Add(-moneyYear), 31536000)
		r.DBInstanceClass, r.DBInstanceCount, r.OfferingType = aws.String(class), aws.Int32(count), aws.String(offering)
		r.FixedPrice, r.UsagePrice, r.CurrencyCode = aws.Float64(fixed), aws.Float64(usage), aws.String("USD")
		if hourly != 0 {
			r.RecurringCharges = []rdstypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(hourly), RecurringChargeFrequency: aws.String("Hourly")}}
		}
		return r
	}
	renewal := func(r rdstypes.ReservedDBInstance, id string, start time.Time, count int32) rdstypes.ReservedDBInstance {
		r.ReservedDBInstanceId, r.State, r.StartTime, r.DBInstanceCount = aws.String(id), aws.String("active"), aws.Time(start), aws.Int32(count)
		return r
	}
	partial := ri("rds-partial", "db.m6g.large", "active", moneyDay(25), 4, "Partial Upfront", 1200, 0, 0.1)
	noUp := ri("rds-no-up", "db.t4g.large", "active", moneyDay(3), 3, "No Upfront", 0, 0, 0.2)
	eur := ri("rds-eur", "db.m5.large", "active", moneyDay(45), 2, "All Upfront", 1200, 0, 0)
	eur.CurrencyCode = aws.String("EUR")
	unpriced := ri("rds-unpriced", "db.t3.small", "active", moneyDay(8), 1, "All Upfront", 1000, 0, 0)
	unpriced.CurrencyCode = nil
	fake := &fakeRDS{pages: [][]rdstypes.ReservedDBInstance{{
		ri("rds-all-up", "db.r6g.large", "active", moneyDay(10), 2, "All Upfront", 2400, 0, 0),
		partial, renewal(partial, "rds-partial-next", moneyDay(-2), 3),
		noUp, renewal(noUp, "rds-no-up-next", moneyDay(-1), 5),
		ri("rds-lapsed", "db.r5.large", "retired", moneyDay(-3), 1, "All Upfront", 3650, 0, 0),
		eur, unpriced,
		ri("rds-frozen", "db.r6g.xlarge", "frozen", moneyDay(40), 2, "No Upfront", 0, 0.25, 0),
	}}}
	got, err := RDSReservedInstances{}.run(context.Background(), fake, testTarget(t, "2026-11-22T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	declared(t, RDSReservedInstances{}, got)
	assertMoney(t, got, map[string]moneyWant{
		// All Upfront, 2 × 2,400: 2,400 / 12 = 200 a month each, × 2 = 400.00, unrenewed: all at risk.
		"rds-all-up": inUSD(Warning, 400.00, usd(400.00), 4800, "All Upfront"),
		// Partial Upfront, 4 × (1,200 + 0.10/h): 100 + 73 = 173 each, × 4 = 692.00. Renewed by 3 of 4: 692 × 1/4 = 173.00.
		"rds-partial": inUSD(Warning, 692.00, usd(173.00), 4800, "Partial Upfront"),
		// No Upfront, 3 × 0.20/h = 0.60/h × 730 = 438.00; renewed by 5: covered, 0 at risk.
		"rds-no-up": inUSD(Notice, 438.00, usd(0), 0, "No Upfront"),
		// Lapsed 3 days ago: 3,650 / 12 = 304.1667 → 304.17, all at risk.
		"rds-lapsed": inUSD(Critical, 304.17, usd(304.17), 3650, "All Upfront"),
		// In EUR: 2 × 1,200 / 12 = 200.00 EUR a month, all at risk, in EUR only.
		"rds-eur": inOther(Notice, "EUR", 200.00, usd(200.00), 2400, "All Upfront"),
		// No CurrencyCode: an amount without its currency is no price.
		"rds-unpriced": {priceWhy: "AWS reported no CurrencyCode", severity: Warning},
		// Unknown state: 2 × 0.25 × 730 = 365.00; at risk unknown.
		"rds-frozen": withRiskWhy(inUSD(Warning, 365.00, nil, 0, "No Upfront"), `its state "frozen"`),
	})
}

func TestElastiCacheReservedNodesMoney(t *testing.T) {
	t.Parallel()
	node := func(id, typ, state string, end time.Time, count int32, offering string, fixed, usage, hourly float64) ectypes.ReservedCacheNode {
		n := cacheNode(id, state, end.Add(-moneyYear), 31536000)
		n.CacheNodeType, n.CacheNodeCount, n.OfferingType = aws.String(typ), aws.Int32(count), aws.String(offering)
		n.FixedPrice, n.UsagePrice, n.RecurringCharges = aws.Float64(fixed), aws.Float64(usage), nil
		if hourly != 0 {
			n.RecurringCharges = []ectypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(hourly), RecurringChargeFrequency: aws.String("Hourly")}}
		}
		return n
	}
	renewal := func(n ectypes.ReservedCacheNode, id string, start time.Time, count int32) ectypes.ReservedCacheNode {
		n.ReservedCacheNodeId, n.State, n.StartTime, n.CacheNodeCount = aws.String(id), aws.String("active"), aws.Time(start), aws.Int32(count)
		return n
	}
	partial := node("ec-partial", "cache.m7g.large", "active", moneyDay(20), 4, "Partial Upfront", 1014, 0, 0.116)
	noUp := node("ec-no-up", "cache.t4g.medium", "active", moneyDay(6), 2, "No Upfront", 0, 0.05, 0.05)
	unpriced := node("ec-unpriced", "cache.t4g.small", "active", moneyDay(12), 1, "All Upfront", 0, 0, 0)
	unpriced.FixedPrice = nil
	monthly := node("ec-monthly", "cache.t3.small", "active", moneyDay(14), 1, "Heavy Utilization", 100, 0, 0)
	monthly.RecurringCharges = []ectypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(12), RecurringChargeFrequency: aws.String("Monthly")}}
	listing := [][]ectypes.ReservedCacheNode{{
		node("ec-all-up", "cache.r7g.large", "active", moneyDay(10), 2, "All Upfront", 2190, 0, 0),
		partial, renewal(partial, "ec-partial-next", moneyDay(-1), 1),
		noUp, renewal(noUp, "ec-no-up-next", moneyDay(-1), 2),
		node("ec-lapsed", "cache.r6g.large", "retired", moneyDay(-2), 1, "All Upfront", 1460, 0, 0),
		unpriced, monthly,
	}}
	got, err := ElastiCacheReservedNodes{}.run(context.Background(), &fakeElastiCache{pages: listing}, testTarget(t, "2026-11-22T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	declared(t, ElastiCacheReservedNodes{}, got)
	assertMoney(t, got, map[string]moneyWant{
		// ElastiCache reports no currency; in the aws partition its price list is in USD.
		// All Upfront, 2 × 2,190: 182.50 each, × 2 = 365.00, all at risk.
		"ec-all-up": inUSD(Warning, 365.00, usd(365.00), 4380, "All Upfront"),
		// Partial Upfront, 4 × (1,014 + 0.116/h): 84.50 + 84.68 = 169.18 each, × 4 = 676.72. Renewed by 1 of 4:
		// 676.72 × 3/4 = 507.54.
		"ec-partial": inUSD(Warning, 676.72, usd(507.54), 4056, "Partial Upfront"),
		// No Upfront, 2 × (UsagePrice 0.05 + recurring 0.05) = 0.20/h × 730 = 146.00; renewed by 2: 0.
		"ec-no-up": inUSD(Notice, 146.00, usd(0), 0, "No Upfront"),
		// Lapsed 2 days ago: 1,460 / 12 = 121.6667 → 121.67, all at risk.
		"ec-lapsed":   inUSD(Critical, 121.67, usd(121.67), 1460, "All Upfront"),
		"ec-unpriced": {priceWhy: "AWS reported no FixedPrice", severity: Warning},
		// A charge billed monthly is not an hourly rate the audit can add: unknown, not dropped.
		"ec-monthly": {priceWhy: "billed Monthly", severity: Warning},
	})

	// In the China Regions the same listing has no currency the audit can name.
	cn := testTarget(t, "2026-11-22T00:00:00Z")
	cn.Partition, cn.Region = "aws-cn", "cn-north-1"
	got, err = ElastiCacheReservedNodes{}.run(context.Background(), &fakeElastiCache{pages: listing[:1:1]}, cn)
	if err != nil {
		t.Fatal(err)
	}
	chinaUnpriced(t, got)
}

func TestRedshiftReservedNodesMoney(t *testing.T) {
	t.Parallel()
	node := func(id, typ, state string, end time.Time, count int32, offering string, fixed, usage, hourly float64) rstypes.ReservedNode {
		n := redshiftNode(id, state, end.Add(-moneyYear), 31536000)
		n.NodeType, n.NodeCount, n.OfferingType = aws.String(typ), aws.Int32(count), aws.String(offering)
		n.FixedPrice, n.UsagePrice, n.RecurringCharges = aws.Float64(fixed), aws.Float64(usage), nil
		if hourly != 0 {
			n.RecurringCharges = []rstypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(hourly), RecurringChargeFrequency: aws.String("Hourly")}}
		}
		return n
	}
	renewal := func(n rstypes.ReservedNode, id, state string, start time.Time, count int32) rstypes.ReservedNode {
		n.ReservedNodeId, n.State, n.StartTime, n.NodeCount = aws.String(id), aws.String(state), aws.Time(start), aws.Int32(count)
		return n
	}
	partial := node("rs-partial", "dc2.large", "active", moneyDay(18), 8, "Partial Upfront", 600, 0, 0.1)
	noUp := node("rs-no-up", "ra3.xlplus", "active", moneyDay(4), 2, "No Upfront", 0, 0, 0.25)
	eur := node("rs-eur", "dc2.8xlarge", "active", moneyDay(50), 2, "No Upfront", 0, 0, 1.0)
	eur.CurrencyCode = aws.String("EUR")
	failed := node("rs-failed", "ra3.16xlarge", "payment-failed", moneyDay(-1).Add(moneyYear), 1, "No Upfront", 0, 0.1, 0)
	listing := [][]rstypes.ReservedNode{{
		node("rs-all-up", "ra3.4xlarge", "active", moneyDay(10), 3, "All Upfront", 18000, 0, 0),
		partial, renewal(partial, "rs-partial-next", "active", moneyDay(-3), 6),
		noUp, renewal(noUp, "rs-no-up-next", "pending-payment", moneyDay(-1), 2),
		node("rs-lapsed", "ds2.xlarge", "retired", moneyDay(-6), 1, "All Upfront", 2400, 0, 0),
		eur, failed,
		node("rs-unpriced", "dc2.xlarge", "active", moneyDay(20), 1, "No Upfront", 0, 0, 0),
	}}
	got, err := RedshiftReservedNodes{}.run(context.Background(), &fakeRedshift{pages: listing}, testTarget(t, "2026-11-22T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	declared(t, RedshiftReservedNodes{}, got)
	assertMoney(t, got, map[string]moneyWant{
		// All Upfront, 3 × 18,000: 1,500 a month each, × 3 = 4,500.00 (not 0 USD/h), all at risk.
		"rs-all-up": inUSD(Warning, 4500.00, usd(4500.00), 54000, "All Upfront"),
		// Partial Upfront, 8 × (600 + 0.10/h): 50 + 73 = 123 each, × 8 = 984.00. Renewed by 6 of 8: 984 × 2/8 = 246.00.
		"rs-partial": inUSD(Warning, 984.00, usd(246.00), 4800, "Partial Upfront"),
		// No Upfront, 2 × 0.25/h × 730 = 365.00; renewed by 2, payment pending: covered, 0.
		"rs-no-up": inUSD(Notice, 365.00, usd(0), 0, "No Upfront"),
		// Lapsed: 2,400 / 12 = 200.00, all at risk.
		"rs-lapsed": inUSD(Critical, 200.00, usd(200.00), 2400, "All Upfront"),
		// In EUR: 2 × 1.00/h × 730 = 1,460.00 EUR, never added into USD.
		"rs-eur": inOther(Notice, "EUR", 1460.00, usd(1460.00), 0, "No Upfront"),
		// Payment failed: 0.10 × 730 = 73.00, all at risk.
		"rs-failed": inUSD(Critical, 73.00, usd(73.00), 0, "No Upfront"),
		// Every price 0: AWS reported no price, which is not a free reservation.
		"rs-unpriced": {priceWhy: "AWS reported no price", severity: Warning},
	})
}

func TestOpenSearchReservedInstancesMoney(t *testing.T) {
	t.Parallel()
	ri := func(id, typ, state string, end time.Time, count int32, payment ostypes.ReservedInstancePaymentOption, fixed, usage, hourly float64) ostypes.ReservedInstance {
		r := osRI(id, state, end.Add(-moneyYear), 31536000, count)
		r.InstanceType, r.PaymentOption = ostypes.OpenSearchPartitionInstanceType(typ), payment
		r.FixedPrice, r.UsagePrice = aws.Float64(fixed), aws.Float64(usage)
		if hourly != 0 {
			r.RecurringCharges = []ostypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(hourly), RecurringChargeFrequency: aws.String("Hourly")}}
		}
		return r
	}
	renewal := func(r ostypes.ReservedInstance, id string, start time.Time, count int32) ostypes.ReservedInstance {
		r.ReservedInstanceId, r.State, r.StartTime, r.InstanceCount = aws.String(id), aws.String("active"), aws.Time(start), count
		return r
	}
	partial := ri("os-partial", "m6g.large.search", "active", moneyDay(22), 5, ostypes.ReservedInstancePaymentOptionPartialUpfront, 876, 0, 0.05)
	noUp := ri("os-no-up", "c6g.large.search", "active", moneyDay(2), 2, ostypes.ReservedInstancePaymentOptionNoUpfront, 0, 0.15, 0)
	eur := ri("os-eur", "r6g.2xlarge.search", "active", moneyDay(33), 1, ostypes.ReservedInstancePaymentOptionNoUpfront, 0, 0.2, 0)
	eur.CurrencyCode = aws.String("EUR")
	undated := ri("os-undated", "t3.medium.search", "active", moneyDay(10), 1, ostypes.ReservedInstancePaymentOptionAllUpfront, 1752, 0, 0)
	undated.StartTime = nil
	got, err := OpenSearchReservedInstances{}.run(context.Background(), &fakeOpenSearch{pages: [][]ostypes.ReservedInstance{{
		ri("os-all-up", "r6g.large.search", "active", moneyDay(10), 3, ostypes.ReservedInstancePaymentOptionAllUpfront, 1314, 0, 0),
		partial, renewal(partial, "os-partial-next", moneyDay(-2), 2),
		noUp, renewal(noUp, "os-no-up-next", moneyDay(-1), 3),
		ri("os-lapsed", "r6g.xlarge.search", "retired", moneyDay(-7), 2, ostypes.ReservedInstancePaymentOptionAllUpfront, 2628, 0, 0),
		eur, undated,
	}}}, testTarget(t, "2026-11-22T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	declared(t, OpenSearchReservedInstances{}, got)
	assertMoney(t, got, map[string]moneyWant{
		// ALL_UPFRONT, 3 × 1,314: 109.50 each, × 3 = 328.50, all at risk.
		"os-all-up": inUSD(Warning, 328.50, usd(328.50), 3942, "All Upfront"),
		// PARTIAL_UPFRONT, 5 × (876 + 0.05/h): 73 + 36.50 = 109.50 each, × 5 = 547.50. Renewed by 2 of 5:
		// 547.50 × 3/5 = 328.50.
		"os-partial": inUSD(Warning, 547.50, usd(328.50), 4380, "Partial Upfront"),
		// NO_UPFRONT, 2 × 0.15/h = 0.30/h × 730 = 219.00; renewed by 3: 0.
		"os-no-up": inUSD(Notice, 219.00, usd(0), 0, "No Upfront"),
		// Lapsed: 2 × 2,628 / 12 = 438.00, all at risk.
		"os-lapsed": inUSD(Critical, 438.00, usd(438.00), 5256, "All Upfront"),
		// EUR: 0.20 × 730 = 146.00 EUR.
		"os-eur": inOther(Notice, "EUR", 146.00, usd(146.00), 0, "No Upfront"),
		// No StartTime, so no end: 1,752 / 12 = 146.00 a month, at risk unknown.
		"os-undated": withRiskWhy(inUSD(Warning, 146.00, nil, 1752, "All Upfront"), "its end is unknown (AWS did not report its StartTime or Duration)"),
	})
}

func TestMemoryDBReservedNodesMoney(t *testing.T) {
	t.Parallel()
	node := func(id, typ, state string, end time.Time, count int32, offering string, fixed, hourly float64) memorydbtypes.ReservedNode {
		n := mdbNode(id, state, end.Add(-moneyYear), 31536000)
		n.NodeType, n.NodeCount, n.OfferingType, n.FixedPrice, n.RecurringCharges = aws.String(typ), count, aws.String(offering), fixed, nil
		if hourly != 0 {
			n.RecurringCharges = []memorydbtypes.RecurringCharge{{RecurringChargeAmount: hourly, RecurringChargeFrequency: aws.String("Hourly")}}
		}
		return n
	}
	renewal := func(n memorydbtypes.ReservedNode, id string, start time.Time, count int32) memorydbtypes.ReservedNode {
		n.ReservationId, n.State, n.StartTime, n.NodeCount = aws.String(id), aws.String("active"), aws.Time(start), count
		return n
	}
	partial := node("mdb-partial", "db.r7g.large", "active", moneyDay(12), 4, "Partial Upfront", 1200, 0.1)
	noUp := node("mdb-no-up", "db.t4g.medium", "active", moneyDay(1), 1, "No Upfront", 0, 0.05)
	listing := [][]memorydbtypes.ReservedNode{{
		node("mdb-all-up", "db.r6g.large", "active", moneyDay(4), 2, "All Upfront", 2721.6, 0),
		partial, renewal(partial, "mdb-partial-next", moneyDay(-2), 2),
		noUp, renewal(noUp, "mdb-no-up-next", moneyDay(-1), 1),
		node("mdb-lapsed", "db.r6g.xlarge", "retired", moneyDay(-9), 3, "All Upfront", 3650, 0),
		node("mdb-unpriced", "db.t4g.small", "active", moneyDay(30), 1, "All Upfront", 0, 0),
		node("mdb-held", "db.r6g.2xlarge", "on-hold", moneyDay(90), 1, "No Upfront", 0, 0.4),
	}}
	got, err := MemoryDBReservedNodes{}.run(context.Background(), &fakeMemoryDB{pages: listing}, testTarget(t, "2026-11-22T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	declared(t, MemoryDBReservedNodes{}, got)
	assertMoney(t, got, map[string]moneyWant{
		// MemoryDB reports no currency; in the aws partition its price list is in USD. FixedPrice is per node:
		// 2 × 2,721.60: 226.80 each, × 2 = 453.60, all at risk.
		"mdb-all-up": inUSD(Critical, 453.60, usd(453.60), 5443.2, "All Upfront"),
		// Partial Upfront, 4 × (1,200 + 0.10/h): 100 + 73 = 173 each, × 4 = 692.00. Renewed by 2 of 4: 346.00.
		"mdb-partial": inUSD(Warning, 692.00, usd(346.00), 4800, "Partial Upfront"),
		// No Upfront, 0.05 × 730 = 36.50; renewed by 1 of 1: 0.
		"mdb-no-up": inUSD(Notice, 36.50, usd(0), 0, "No Upfront"),
		// Lapsed: 3 × 3,650 / 12 = 912.50, all at risk.
		"mdb-lapsed": inUSD(Critical, 912.50, usd(912.50), 10950, "All Upfront"),
		// FixedPrice 0 and no charge: no price, not a free node.
		"mdb-unpriced": {priceWhy: "AWS reported no price", severity: Warning},
		// A state no document names: 0.40 × 730 = 292.00, at risk unknown.
		"mdb-held": withRiskWhy(inUSD(Warning, 292.00, nil, 0, "No Upfront"), `its state "on-hold"`),
	})

	cn := testTarget(t, "2026-11-22T00:00:00Z")
	cn.Partition, cn.Region = "aws-cn", "cn-northwest-1"
	got, err = MemoryDBReservedNodes{}.run(context.Background(), &fakeMemoryDB{pages: listing}, cn)
	if err != nil {
		t.Fatal(err)
	}
	chinaUnpriced(t, got)
}

func TestSavingsPlansMoney(t *testing.T) {
	t.Parallel()
	// Each plan its own EC2 Instance family, so a queued renewal is matched to the plan it was bought for only.
	plan := func(id, family string, state sptypes.SavingsPlanState, start, end time.Time, commitment string, payment sptypes.SavingsPlanPaymentOption,
		upfront string) sptypes.SavingsPlan {
		p := sp(id, state, start, end, commitment)
		p.SavingsPlanType, p.Ec2InstanceFamily, p.Region = sptypes.SavingsPlanTypeEc2Instance, aws.String(family), aws.String("eu-west-1")
		p.PaymentOption, p.UpfrontPaymentAmount = payment, aws.String(upfront)
		return p
	}
	ending := func(id, family string, state sptypes.SavingsPlanState, end time.Time, commitment string, payment sptypes.SavingsPlanPaymentOption,
		upfront string) sptypes.SavingsPlan {
		return plan(id, family, state, end.Add(-moneyYear), end, commitment, payment, upfront)
	}
	queued := func(id, family string, start time.Time, commitment string) sptypes.SavingsPlan {
		return plan(id, family, sptypes.SavingsPlanStateQueued, start, start.Add(moneyYear), commitment, sptypes.SavingsPlanPaymentOptionNoUpfront, "0.0")
	}
	eur := ending("sp-eur", "r5", "active", moneyDay(40), "3.0", sptypes.SavingsPlanPaymentOptionNoUpfront, "0.0")
	eur.Currency = sptypes.CurrencyCodeEur
	got, err := SavingsPlans{}.run(context.Background(), &fakeSavingsPlans{pages: [][]sptypes.SavingsPlan{{
		ending("sp-all-up", "m6i", "active", moneyDay(10), "1.5", sptypes.SavingsPlanPaymentOptionAllUpfront, "13140"),
		ending("sp-partial", "c6i", "active", moneyDay(20), "2.0", sptypes.SavingsPlanPaymentOptionPartialUpfront, "8760"),
		queued("sp-partial-next", "c6i", moneyDay(20), "1.5"),
		ending("sp-no-up", "r6i", "active", moneyDay(5), "0.8", sptypes.SavingsPlanPaymentOptionNoUpfront, "0.0"),
		queued("sp-no-up-next", "r6i", moneyDay(5), "1.0"),
		ending("sp-lapsed", "t3", "retired", moneyDay(-4), "0.5", sptypes.SavingsPlanPaymentOptionNoUpfront, "0.0"),
		eur,
		ending("sp-unpriced", "m5", "active", moneyDay(15), "n/a", sptypes.SavingsPlanPaymentOptionNoUpfront, "0.0"),
		plan("sp-failed", "c5", "payment-failed", moneyDay(-1), moneyDay(-1).Add(moneyYear), "0.25", sptypes.SavingsPlanPaymentOptionNoUpfront, "0.0"),
	}}}, testTarget(t, "2026-11-22T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	declared(t, SavingsPlans{}, got)
	assertMoney(t, got, map[string]moneyWant{
		// The commitment is the whole hourly figure, upfront included: 1.50 × 730 = 1,095.00 (the 13,140 upfront =
		// 1.50 × 8,760 is a part of it, not added), all at risk.
		"sp-all-up": inUSD(Warning, 1095.00, usd(1095.00), 13140, "All Upfront"),
		// 2.00 × 730 = 1,460.00; a queued renewal commits 1.50 of 2.00: 1,460 × 0.5/2 = 365.00 at risk.
		"sp-partial": inUSD(Warning, 1460.00, usd(365.00), 8760, "Partial Upfront"),
		// 0.80 × 730 = 584.00; renewed with 1.00: covered, 0.
		"sp-no-up": inUSD(Notice, 584.00, usd(0), 0, "No Upfront"),
		// Lapsed: 0.50 × 730 = 365.00, all at risk.
		"sp-lapsed": inUSD(Critical, 365.00, usd(365.00), 0, "No Upfront"),
		// In EUR: 3.00 × 730 = 2,190.00 EUR, never added into USD.
		"sp-eur": inOther(Notice, "EUR", 2190.00, usd(2190.00), 0, "No Upfront"),
		// A commitment that is no number: unknown.
		"sp-unpriced": {priceWhy: `its commitment "n/a" does not read as an amount`, severity: Warning},
		// Payment failed: 0.25 × 730 = 182.50, all at risk.
		"sp-failed": inUSD(Critical, 182.50, usd(182.50), 0, "No Upfront"),
	})
}

// chinaUnpriced: in the China Regions a service that reports no currency has no price the audit can name; the
// listing's unpriced items keep their own reason.
func chinaUnpriced(t *testing.T, got []Finding) {
	t.Helper()
	n := 0
	for _, f := range got {
		if strings.HasSuffix(f.ResourceID, "-unpriced") || strings.HasSuffix(f.ResourceID, "-monthly") {
			continue
		}
		n++
		if f.Money == nil || f.Money.USDPerMonth != nil || f.Money.USDPerMonthAtRisk != nil || f.Money.Price != nil ||
			!strings.Contains(f.Money.PriceUnknown, "China Regions price in CNY") {
			t.Errorf("aws-cn %s: %+v, want the price unknown, naming CNY", f.ResourceID, f.Money)
		}
	}
	if n < 4 {
		t.Errorf("aws-cn: %d priced findings, want the listing's", n)
	}
}

// TestReservationPriceRefusesWhatIsNoPrice: a price AWS reports as NaN, ±Inf or below 0 (the query protocols' float
// parsers read "NaN" and "Infinity") is no price: unknown with the reason, never a NaN that encoding/json refuses (and
// the whole result with it) nor a negative amount taken off the month.
func TestReservationPriceRefusesWhatIsNoPrice(t *testing.T) {
	t.Parallel()
	hourly := "Hourly"
	for name, bad := range map[string]float64{"NaN": math.NaN(), "+Inf": math.Inf(1), "-Inf": math.Inf(-1), "negative": -100} {
		for _, field := range []string{"fixed", "usage", "recurring"} {
			fixed, usage, amount := 100.0, 0.01, 0.02
			switch field {
			case "fixed":
				fixed = bad
			case "usage":
				usage = bad
			default:
				amount = bad
			}
			p, why := reservationPrice(unitPrices{count: 2, countField: "InstanceCount", seconds: 31536000, fixed: &fixed, usage: &usage,
				recurring: []recurringCharge{{amount: &amount, frequency: &hourly}}, currency: "USD", payment: "Partial Upfront"})
			if why == "" {
				t.Errorf("%s %s: priced at %v/h, upfront %v, not unknown", field, name, p.perHour, p.upfront)
			}
		}
	}
}

// TestMoneyOfAPriceTooLargeIsUnknown: a finite price whose month overflows (1e308 × 730) is unknown, never +Inf,
// which encoding/json refuses along with the whole result.
func TestMoneyOfAPriceTooLargeIsUnknown(t *testing.T) {
	t.Parallel()
	k := commitmentKind{price: func(int) (priced, string) {
		return priced{currency: "USD", perHour: 1e308, units: 1}, ""
	}}
	m := k.money(0, wholly)
	if m.USDPerMonth != nil || m.Price != nil || m.PriceUnknown == "" {
		t.Errorf("a month of 1e308 × 730: usd_per_month %v, price %+v, price_unknown %q", deref(m.USDPerMonth), m.Price, m.PriceUnknown)
	}
}

// TestRDSMultiAZUnreportedIsNotFalse: a reservation whose MultiAZ AWS did not report records no Multi-AZ detail,
// rather than "false": the on-demand lookup (internal/pricing) would price it as Single-AZ, half a Multi-AZ rate.
func TestRDSMultiAZUnreportedIsNotFalse(t *testing.T) {
	t.Parallel()
	unreported := rdsRI("rds-unreported", "active", moneyDay(10).Add(-moneyYear), 31536000)
	multi := rdsRI("rds-multi", "active", moneyDay(12).Add(-moneyYear), 31536000)
	multi.MultiAZ = aws.Bool(true)
	got, err := RDSReservedInstances{}.run(context.Background(), &fakeRDS{pages: [][]rdstypes.ReservedDBInstance{{unreported, multi}}},
		testTarget(t, "2026-11-22T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"rds-unreported": "", "rds-multi": "true"}
	for _, f := range got {
		v, recorded := f.LookupDetail("multi_az")
		if w := want[f.ResourceID]; v != w || recorded != (w != "") {
			t.Errorf("%s: multi_az %q (recorded %v), want %q", f.ResourceID, v, recorded, w)
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d findings, want 2", len(got))
	}
}
