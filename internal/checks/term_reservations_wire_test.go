package checks_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// TestReservedNodesOverTheWire runs the ElastiCache and Redshift checks through the real SDK against the demo's
// simulated query answers: every page is read, and what a buyer needs arrives from the wire shapes (the recurring
// hourly charge, the offering class, the currency), not only from the fakes' Go values.
func TestReservedNodesOverTheWire(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	sim := testkit.StartSim(t, awssim.Demo(asOf))
	cases := []struct {
		check           checks.Check
		account, region string
		id              string
		want            map[string]string
	}{
		{checks.ElastiCacheReservedNodes{}, "444444444444", "eu-west-1", "ec-data-redis-004", map[string]string{
			"Cache node type": "cache.r7g.large", "Count": "2", "Engine": "redis", "Offering": "Partial Upfront", "Term": "1 year",
			"Upfront per node (USD)": "642", "Hourly per node (USD)": "0.073", "Commitment (USD/h)": "0.146", "Offering ID": "offer-ec-data-redis-004"}},
		{checks.RedshiftReservedNodes{}, "121212121212", "us-east-1", "rs-analytics-040", map[string]string{
			"Node type": "dc2.large", "Count": "8", "Offering": "No Upfront", "Offering class": "Upgradable", "Term": "1 year",
			"Upfront per node": "0", "Hourly per node": "0.188", "Currency": "USD", "Commitment (USD/h)": "1.504"}},
	}
	for _, c := range cases {
		tg := checks.Target{AccountID: c.account, Partition: "aws", Region: c.region, Config: sim.Config(c.account, c.region), AsOf: asOf,
			Limits: checks.DefaultLimits()}
		got, err := c.check.Run(context.Background(), tg)
		if err != nil {
			t.Fatalf("%s: %v", c.check.Name(), err)
		}
		want := awssim.DemoFindings[c.check.Name()]
		found := map[string]checks.Finding{}
		for _, f := range got {
			found[f.ResourceID] = f
			if err := checks.CheckDeclared(c.check, &f); err != nil {
				t.Error(err)
			}
			if sev, ok := want[c.account+"/"+c.region+"/"+f.ResourceID]; !ok || sev != string(f.Severity) {
				t.Errorf("%s: %s is %s (%s), the demo declares %q", c.check.Name(), f.ResourceID, f.Severity, f.Reason, sev)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d findings, the demo declares %d", c.check.Name(), len(got), len(want))
		}
		f := found[c.id]
		for k, v := range c.want {
			col := c.check.Layout().ByHeader(k)
			if col == nil {
				t.Errorf("%s has no column %q", c.check.Name(), k)
				continue
			}
			if got := f.Detail(col.ID); got != v {
				t.Errorf("%s %s: %s = %q, want %q", c.check.Name(), c.id, k, got, v)
			}
		}
	}
}

// TestCommitmentsOverTheWireMatchTheDemo: the commitment checks, through the real SDK against the demo, find exactly
// what the demo declares in the accounts that hold every documented state, an unknown one, a modified and an
// exchanged reservation (neither reported) and lapses renewed only pending payment.
func TestCommitmentsOverTheWireMatchTheDemo(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	sim := testkit.StartSim(t, awssim.Demo(asOf))
	cases := []struct {
		check           checks.Check
		account, region string
	}{
		{checks.EC2ReservedInstances{}, "555555555555", "eu-west-1"},
		{checks.EC2ReservedInstances{}, "777777777777", "eu-west-1"},
		{checks.EC2ReservedInstances{}, "888888888888", "ap-southeast-2"},
		{checks.SavingsPlans{}, "777777777777", "us-east-1"},
		{checks.SavingsPlans{}, "121212121212", "us-east-1"},
		{checks.RedshiftReservedNodes{}, "121212121212", "us-east-1"},
		{checks.MemoryDBReservedNodes{}, "444444444444", "eu-west-1"},
	}
	for _, c := range cases {
		tg := checks.Target{AccountID: c.account, Partition: "aws", Region: c.region, Config: sim.Config(c.account, c.region), AsOf: asOf,
			Limits: checks.DefaultLimits()}
		got, err := c.check.Run(context.Background(), tg)
		if err != nil {
			t.Fatalf("%s: %v", c.check.Name(), err)
		}
		region := c.region
		if c.check.Layout().AccountWide {
			region = "global"
		}
		want := map[string]string{}
		for k, sev := range awssim.DemoFindings[c.check.Name()] {
			if strings.HasPrefix(k, c.account+"/"+region+"/") {
				want[strings.TrimPrefix(k, c.account+"/"+region+"/")] = sev
			}
		}
		for _, f := range got {
			if err := checks.CheckDeclared(c.check, &f); err != nil {
				t.Error(err)
			}
			if sev, ok := want[f.ResourceID]; !ok || sev != string(f.Severity) {
				t.Errorf("%s %s: %s is %s (%s), the demo declares %q", c.check.Name(), c.account, f.ResourceID, f.Severity, f.Reason, sev)
			}
			delete(want, f.ResourceID)
		}
		for id, sev := range want {
			t.Errorf("%s %s: %s (%s) not found", c.check.Name(), c.account, id, sev)
		}
	}
}

// TestGeneratedModificationsAreNotLapses: in a generated organization, every reservation AWS retired at a
// modification is left out and its replacement judged on its own, and every one retired at its end is reported.
func TestGeneratedModificationsAreNotLapses(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	org := awssim.Generate(awssim.GenerateOptions{Accounts: 100, Regions: []string{"eu-west-1"}, AsOf: asOf, Seed: 7})
	sim := testkit.StartSim(t, org)
	modified, lapsed := 0, 0
	for _, a := range org.Accounts {
		reg := a.Regions["eu-west-1"]
		if reg == nil || len(reg.ReservedInstances) == 0 || a.State != "ACTIVE" {
			continue
		}
		tg := checks.Target{AccountID: a.ID, Partition: "aws", Region: "eu-west-1", Config: sim.Config(a.ID, "eu-west-1"), AsOf: asOf,
			Limits: checks.DefaultLimits()}
		got, err := checks.EC2ReservedInstances{}.Run(context.Background(), tg)
		if err != nil {
			t.Fatalf("%s: %v", a.ID, err)
		}
		found := map[string]checks.Finding{}
		for _, f := range got {
			found[f.ResourceID] = f
		}
		for _, ri := range reg.ReservedInstances {
			if ri.State != "retired" {
				continue
			}
			f, reported := found[ri.ID]
			if ri.End.Before(ri.Start.Add(time.Duration(ri.Duration)*time.Second - time.Hour)) {
				modified++
				if reported {
					t.Errorf("%s: %s retired at a modification, reported %s %q", a.ID, ri.ID, f.Severity, f.Reason)
				}
			} else if lapsed++; !reported || f.Severity != checks.Critical {
				t.Errorf("%s: %s lapsed at its end, reported %v %+v", a.ID, ri.ID, reported, f)
			}
		}
	}
	if modified == 0 {
		t.Errorf("the generated organization holds no modified reservation (and %d lapsed ones)", lapsed)
	}
}

// TestEveryCommitmentFindingCarriesMoney: through the real SDK against the demo, every finding of every commitment
// check carries Money, whole and consistent (a null figure always says why; the USD figures are the price's own when it
// is in USD; what is at risk is never more than the month), and no other check's finding carries any.
func TestEveryCommitmentFindingCarriesMoney(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	sim := testkit.StartSim(t, awssim.Demo(asOf))
	for _, c := range checks.All() {
		where := map[[2]string]bool{}
		for k := range awssim.DemoFindings[c.Name()] {
			parts := strings.SplitN(k, "/", 3)
			if parts[1] == "global" {
				parts[1] = "us-east-1"
			}
			where[[2]string{parts[0], parts[1]}] = true
		}
		if len(where) == 0 {
			t.Errorf("%s: the demo declares no finding of it", c.Name())
		}
		n := 0
		for ar := range where {
			tg := checks.Target{AccountID: ar[0], Partition: "aws", Region: ar[1], Config: sim.Config(ar[0], ar[1]), AsOf: asOf,
				Limits: checks.DefaultLimits()}
			got, err := c.Run(context.Background(), tg)
			if err != nil {
				t.Fatalf("%s %s %s: %v", c.Name(), ar[0], ar[1], err)
			}
			for _, f := range got {
				n++
				if !c.Layout().Expiry {
					if f.Money != nil {
						t.Errorf("%s %s: not a commitment, yet carries money %+v", c.Name(), f.ResourceID, *f.Money)
					}
					continue
				}
				if err := moneyWhole(f.Money); err != "" {
					t.Errorf("%s %s (%s): %s: %+v", c.Name(), f.ResourceID, f.Status, err, f.Money)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no finding over the demo", c.Name())
		}
	}
}

// moneyWhole says what is wrong with a commitment finding's Money; "" when nothing.
func moneyWhole(m *checks.Money) string {
	switch {
	case m == nil:
		return "no money"
	case m.USDPerMonth == nil && m.PriceUnknown == "":
		return "usd_per_month null without a reason"
	case m.USDPerMonthAtRisk == nil && m.PriceUnknown == "" && m.AtRiskUnknown == "":
		return "usd_per_month_at_risk null without a reason"
	case m.Price == nil:
		if m.USDPerMonth != nil || m.USDPerMonthAtRisk != nil {
			return "USD figures without a price"
		}
		return ""
	case m.Price.PerMonth != checks.Cents(m.Price.PerHour*checks.HoursPerMonth) && math.Abs(m.Price.PerMonth-m.Price.PerHour*checks.HoursPerMonth) > 0.01:
		return "per_month is not per_hour × 730"
	case m.Price.PerMonth <= 0:
		return "a price of 0 or less"
	case (m.Price.PerMonthAtRisk == nil) != (m.AtRiskUnknown != ""):
		return "at risk null exactly when at_risk_unknown says why"
	case m.Price.PerMonthAtRisk != nil && (*m.Price.PerMonthAtRisk < 0 || *m.Price.PerMonthAtRisk > m.Price.PerMonth):
		return "at risk outside 0 to the month"
	case m.Price.Currency == "USD" && (m.USDPerMonth == nil || *m.USDPerMonth != m.Price.PerMonth || m.PriceUnknown != ""):
		return "a USD price whose usd_per_month is not its per_month"
	case m.Price.Currency == "USD" && (m.USDPerMonthAtRisk == nil) != (m.Price.PerMonthAtRisk == nil):
		return "a USD price whose at risk differs from its own"
	case m.Price.Currency == "USD" && m.USDPerMonthAtRisk != nil && *m.USDPerMonthAtRisk != *m.Price.PerMonthAtRisk:
		return "a USD price whose at risk differs from its own"
	case m.Price.Currency != "USD" && (m.USDPerMonth != nil || m.USDPerMonthAtRisk != nil):
		return "another currency added into USD"
	}
	return ""
}

// TestSimulatedReservationsPricePerUnit: the simulator prices reserved nodes and instances as their API references do,
// per unit: an offering has one FixedPrice whatever the count bought (ElastiCache, OpenSearch, Redshift and MemoryDB
// each word it as the price "for this reserved node" or instance, and their offerings carry it with no count). A price
// scaled by the count would multiply every commitment's money by its count once more.
func TestSimulatedReservationsPricePerUnit(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	orgs := map[string]*awssim.Organization{
		"demo":      awssim.Demo(asOf),
		"generated": awssim.Generate(awssim.GenerateOptions{Accounts: 60, Regions: []string{"eu-west-1", "us-east-1"}, AsOf: asOf, Seed: 11}),
	}
	for name, org := range orgs {
		type offering struct{ service, id, payment string }
		type seen struct {
			price float64
			count int
			id    string
		}
		prices := map[offering]seen{}
		counts := map[offering]map[int]bool{}
		for _, a := range org.Accounts {
			for _, reg := range a.Regions {
				for service, rs := range reg.Reservations {
					for _, r := range rs {
						o := offering{service, r.OfferingID, r.OfferingType}
						if counts[o] == nil {
							counts[o] = map[int]bool{}
						}
						counts[o][r.Count] = true
						if s, ok := prices[o]; !ok {
							prices[o] = seen{r.FixedPrice, r.Count, r.ID}
						} else if s.price != r.FixedPrice {
							t.Errorf("%s %s offering %s: %s (× %d) costs %v upfront, %s (× %d) %v: a price per reservation, not per unit",
								name, service, r.OfferingID, s.id, s.count, s.price, r.ID, r.Count, r.FixedPrice)
						}
					}
				}
			}
		}
		varied := 0
		for _, c := range counts {
			if len(c) > 1 {
				varied++
			}
		}
		if name == "generated" && varied == 0 {
			t.Errorf("%s: no offering bought in two counts, so the test proves nothing", name)
		}
	}
}
