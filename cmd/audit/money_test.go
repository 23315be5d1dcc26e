package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
)

// declared is what one commitment of the demo scenario costs, worked out here from the prices the scenario declares:
// the figures the audit must report for it.
type declared struct {
	severity string
	// perMonth is USD per month for all units; atRisk what no renewal covers, nil when it cannot be told (a state no
	// document names).
	perMonth float64
	atRisk   *float64
	// upfront is what was paid upfront for all units.
	upfront float64
	// how is the sum written out, for a failure message.
	how string
}

// demoUnit is one reservation of the scenario as the test reads it: per-unit prices, count, term.
type demoUnit struct {
	count    int
	duration int64 // seconds
	price    awssim.Price
}

// perUnitHour is one unit's hourly price: the upfront spread over the term's hours, plus the usage price, plus the
// hourly recurring charges.
func (u demoUnit) perUnitHour(t *testing.T, id string) float64 {
	t.Helper()
	h := u.price.FixedPrice/(float64(u.duration)/3600) + u.price.UsagePrice
	for _, c := range u.price.Recurring {
		if c.Frequency != "Hourly" {
			t.Fatalf("%s: the demo declares a %s charge; this test prices hourly ones", id, c.Frequency)
		}
		h += c.Amount
	}
	return h
}

// demoUnits indexes every reservation and plan of the demo scenario by check and account/region/id, as DemoFindings
// keys them; plans by their hourly commitment as count-free units.
func demoUnits(t *testing.T, org *awssim.Organization) (map[string]demoUnit, map[string]awssim.SavingsPlan) {
	t.Helper()
	units, plans := map[string]demoUnit{}, map[string]awssim.SavingsPlan{}
	for _, a := range org.Accounts {
		for _, p := range a.SavingsPlans {
			plans["savings-plans/"+a.ID+"/global/"+p.ID] = p
		}
		for name, reg := range a.Regions {
			at := a.ID + "/" + name + "/"
			for _, ri := range reg.ReservedInstances {
				units["ec2-reserved-instances/"+at+ri.ID] = demoUnit{ri.Count, ri.Duration, ri.Price}
			}
			for _, ri := range reg.ReservedDBInstances {
				units["rds-reserved-instances/"+at+ri.ID] = demoUnit{ri.Count, int64(ri.Duration), ri.Price}
			}
			for service, check := range map[string]string{"elasticache": "elasticache-reserved-nodes", "redshift": "redshift-reserved-nodes",
				"es": "opensearch-reserved-instances", "memorydb": "memorydb-reserved-nodes"} {
				for _, n := range reg.Reservations[service] {
					units[check+"/"+at+n.ID] = demoUnit{n.Count, int64(n.Duration), n.Price}
				}
			}
		}
	}
	return units, plans
}

// declaredMoney works out, from the demo scenario's declared prices and renewals, what every commitment finding of
// DemoFindings costs per month and puts at risk. Nothing here calls the checks' code: the arithmetic is the issue's,
// (FixedPrice ÷ term hours + UsagePrice + hourly recurring charges) × count × 730 for a reservation, its hourly
// commitment × 730 for a Savings Plan, and at risk all of it without a renewal, none with a renewal as large, the
// share a smaller renewal lacks (of the count, or of the hourly commitment).
//
// One line by hand, ri-0compute000000025: 6 × r6i.large, Partial Upfront, 482.60 upfront and 0.055/h per instance,
// one year (8,760 h): (482.60 ÷ 8,760 + 0.055) × 6 × 730 = 241.30 + 240.90 = 482.20 per month; renewed by a queued
// reservation of only 4, so 2 of 6 are at risk: 482.20 × 2 ÷ 6 = 160.73. And ri-0staging00lapsed: 3 × m6i.large,
// No Upfront 0.068/h, lapsed unrenewed: 0.068 × 3 × 730 = 148.92, all of it at risk.
func declaredMoney(t *testing.T, org *awssim.Organization) map[string]declared {
	t.Helper()
	units, plans := demoUnits(t, org)
	out := map[string]declared{}
	for check, byKey := range awssim.DemoFindings {
		for key, sev := range byKey {
			if !commitmentCheck(check) {
				continue
			}
			id := check + "/" + key
			var d declared
			d.severity = sev
			share, renewed := 1.0, awssim.DemoRenewals[id]
			if check == "savings-plans" {
				p, ok := plans[id]
				if !ok {
					t.Fatalf("%s: no such plan in the scenario", id)
				}
				c := amount(t, id, p.Commitment)
				d.perMonth = checks.Cents(c * 730)
				d.upfront = amount(t, id, p.Upfront)
				d.how = fmt.Sprintf("%s/h × 730", p.Commitment)
				if renewed != "" {
					q, ok := plans[strings.TrimSuffix(id, p.ID)+renewed]
					if !ok {
						t.Fatalf("%s: renewal %s is not in the scenario", id, renewed)
					}
					share = math.Max(0, (c-amount(t, id, q.Commitment))/c)
					d.how += fmt.Sprintf(", renewed for %s/h", q.Commitment)
				}
			} else {
				u, ok := units[id]
				if !ok {
					t.Fatalf("%s: no such reservation in the scenario", id)
				}
				h := u.perUnitHour(t, id)
				d.perMonth = checks.Cents(h * float64(u.count) * 730)
				d.upfront = u.price.FixedPrice * float64(u.count)
				d.how = fmt.Sprintf("(%g ÷ %d h + %g + %v) × %d × 730", u.price.FixedPrice, u.duration/3600, u.price.UsagePrice, u.price.Recurring, u.count)
				if renewed != "" {
					q, ok := units[id[:strings.LastIndex(id, "/")+1]+renewed]
					if !ok {
						t.Fatalf("%s: renewal %s is not in the scenario", id, renewed)
					}
					share = math.Max(0, float64(u.count-q.count)/float64(u.count))
					d.how += fmt.Sprintf(", renewed for %d of %d", q.count, u.count)
				}
			}
			if !awssim.DemoStateNotRecognised[id] {
				d.atRisk = checks.USD(checks.Cents(d.perMonth * share))
			}
			out[id] = d
		}
	}
	return out
}

func commitmentCheck(name string) bool {
	switch name {
	case "ec2-reserved-instances", "rds-reserved-instances", "elasticache-reserved-nodes", "redshift-reserved-nodes",
		"opensearch-reserved-instances", "memorydb-reserved-nodes", "savings-plans":
		return true
	default:
		return false
	}
}

func amount(t *testing.T, id, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: amount %q: %v", id, s, err)
	}
	return v
}

// near compares money figures worked out two ways to the cent: the audit and this test may round a product in a
// different order, which moves a figure by at most a cent.
func near(got, want float64) bool { return math.Abs(got-want) <= 0.0100001 }

// TestDemoMoneyFromDeclaredPrices: `audit demo` (the same code path, today's run after yesterday's) reports for every
// commitment finding what it costs per month and what of it is at risk exactly as the scenario's declared prices
// and renewals work out, and the run's usd_per_month_at_risk sums them by severity.
func TestDemoMoneyFromDeclaredPrices(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var stdout, stderr bytes.Buffer
	code := runCLI(context.Background(), []string{"demo", "-json", "-out", filepath.Join(t.TempDir(), "demo.xlsx"), "-as-of", asOf.Format(time.DateOnly)},
		&stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	r := decodeResult(t, stdout.String())
	want := declaredMoney(t, awssim.Demo(asOf))
	// The lines worked by hand in declaredMoney's comment, so the comment cannot drift from the scenario.
	for id, hand := range map[string][2]float64{
		"ec2-reserved-instances/555555555555/eu-west-1/ri-0compute000000025": {482.20, 160.73},
		"ec2-reserved-instances/777777777777/eu-west-1/ri-0staging00lapsed":  {148.92, 148.92},
	} {
		if w := want[id]; w.atRisk == nil || w.perMonth != hand[0] || *w.atRisk != hand[1] {
			t.Errorf("%s: worked out as %.2f, %v at risk from the scenario; by hand %v", id, w.perMonth, w.atRisk, hand)
		}
	}

	bySeverity := map[string]float64{}
	unknown, seen := 0, map[string]bool{}
	for _, f := range r.Findings {
		id := f.Check + "/" + f.AccountID + "/" + f.Region + "/" + f.ResourceID
		w, ok := want[id]
		if !ok {
			if f.Money != nil {
				t.Errorf("%s: money on a finding that is not one of the demo's commitments: %+v", id, f.Money)
			}
			continue
		}
		seen[id] = true
		if string(f.Severity) != w.severity {
			t.Errorf("%s: severity %s, the scenario declares %s", id, f.Severity, w.severity)
		}
		m := f.Money
		if m == nil || m.USDPerMonth == nil {
			t.Errorf("%s: no usd_per_month (%+v), want %.2f = %s", id, m, w.perMonth, w.how)
			continue
		}
		if !near(*m.USDPerMonth, w.perMonth) {
			t.Errorf("%s: usd_per_month %.2f, want %.2f = %s", id, *m.USDPerMonth, w.perMonth, w.how)
		}
		if m.Price == nil || m.Price.Currency != "USD" || !near(m.Price.PerMonth, w.perMonth) || !near(m.Price.Upfront, w.upfront) {
			t.Errorf("%s: price %+v, want USD %.2f per month, %.2f upfront", id, m.Price, w.perMonth, w.upfront)
		}
		switch {
		case w.atRisk == nil:
			unknown++
			if m.USDPerMonthAtRisk != nil || m.AtRiskUnknown == "" {
				t.Errorf("%s: in a state no document names, yet at risk %v (reason %q): it cannot be told", id, m.USDPerMonthAtRisk, m.AtRiskUnknown)
			}
		case m.USDPerMonthAtRisk == nil:
			t.Errorf("%s: no usd_per_month_at_risk (%q), want %.2f of %s", id, m.AtRiskUnknown, *w.atRisk, w.how)
		default:
			if !near(*m.USDPerMonthAtRisk, *w.atRisk) {
				t.Errorf("%s: usd_per_month_at_risk %.2f, want %.2f of %s", id, *m.USDPerMonthAtRisk, *w.atRisk, w.how)
			}
			bySeverity[w.severity] += *w.atRisk
		}
	}
	var missing []string
	for id := range want {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("commitments the scenario holds and the demo did not report: %v", missing)
	}

	a := r.USDPerMonthAtRisk
	if a == nil {
		t.Fatalf("the result has no usd_per_month_at_risk; want %v", bySeverity)
	}
	var total float64
	for _, sev := range []checks.Severity{checks.Critical, checks.Warning, checks.Notice} {
		w := checks.Cents(bySeverity[string(sev)])
		total += w
		got, ok := a.Of(sev)
		// Each finding may be a cent off in the audit's rounding; the sum by as many cents as it has findings.
		n := float64(awssim.DemoSeverityCounts()[string(sev)])
		if !ok || math.Abs(got-w) > 0.0100001*n {
			t.Errorf("usd_per_month_at_risk %s: %.2f (present %v), worked out from the declared prices %.2f", sev, got, ok, w)
		}
	}
	gotTotal, known := a.Total.Value()
	if !known || math.Abs(gotTotal-total) > 0.0100001*float64(len(want)) || a.Unknown != unknown || unknown == 0 || len(a.OtherCurrencies) != 0 {
		t.Errorf("usd_per_month_at_risk total %.2f (known %v), unknown %d, other currencies %v; want %.2f, %d unknown, all USD", gotTotal, known, a.Unknown,
			a.OtherCurrencies, total, unknown)
	}
	t.Logf("demo at risk per month: critical %.2f, warning %.2f, notice %.2f, total %.2f (%d not told)",
		checks.Cents(bySeverity["critical"]), checks.Cents(bySeverity["warning"]), checks.Cents(bySeverity["notice"]), checks.Cents(total), unknown)
}
