package report

import (
	"encoding/json"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
)

func TestSumAtRiskBySeverityKeepsOtherCurrenciesApart(t *testing.T) {
	usd := func(sev checks.Severity, month, risk float64) checks.Finding {
		return checks.Finding{Severity: sev, Money: &checks.Money{USDPerMonth: checks.USD(month), USDPerMonthAtRisk: checks.USD(risk),
			Price: &checks.Price{Currency: "USD", PerMonth: month, PerMonthAtRisk: checks.USD(risk)}}}
	}
	eur := checks.Finding{Severity: checks.Critical, Money: &checks.Money{PriceUnknown: "priced in EUR",
		Price: &checks.Price{Currency: "EUR", PerMonth: 812.5, PerMonthAtRisk: checks.USD(812.5)}}}
	unpriced := checks.Finding{Severity: checks.Warning, Money: &checks.Money{PriceUnknown: "no price reported"}}
	findings := []checks.Finding{
		usd(checks.Critical, 511, 511), usd(checks.Critical, 100.25, 50.13), usd(checks.Warning, 73, 0),
		eur, unpriced, {Severity: checks.Critical}, // not a commitment: in no sum
	}
	got := SumAtRisk(findings)
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	// 511 + 50.13 = 561.13 critical; the warning's renewal covers it all (0, present); no notice commitments.
	want := `{"critical":561.13,"warning":0,"total":561.13,"unknown":2,"other_currencies":[{"currency":"EUR","total":812.5}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if u := got.Urgent(); u != 561.13 {
		t.Errorf("urgent = %v, want 561.13", u)
	}
	if SumAtRisk([]checks.Finding{{Severity: checks.Critical}}) != nil {
		t.Error("a run without commitment findings has a sum at risk")
	}
}

func TestDollarsReadTheSameEverywhere(t *testing.T) {
	for v, want := range map[float64]string{3066.4: "$3,066", 3066.5: "$3,067", 0: "$0", 7.3: "$7.30", 12.49: "$12", 1234567: "$1,234,567", -511: "-$511", 100: "$100",
		// Beyond int64 (a price AWS reported absurdly high): the figure as it is, never int64's overflow.
		1e19: "$10,000,000,000,000,000,000"} {
		if got := dollars(v); got != want {
			t.Errorf("dollars(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestSumAtRiskOfNothingKnownIsNull: a severity whose commitments all have no USD figure at risk (price unknown,
// another currency, a state not recognised) sums to null, not 0 (what "nothing at risk" reads as) nor left out (which
// the contract reads as 0); the total is null when no commitment of the run has one. Read back, it stays null.
func TestSumAtRiskOfNothingKnownIsNull(t *testing.T) {
	t.Parallel()
	unpriced := func(sev checks.Severity) checks.Finding {
		return checks.Finding{Severity: sev, Money: &checks.Money{PriceUnknown: "AWS reported no FixedPrice"}}
	}
	known := checks.Finding{Severity: checks.Notice, Money: &checks.Money{USDPerMonth: checks.USD(73), USDPerMonthAtRisk: checks.USD(73)}}
	for _, c := range []struct {
		findings []checks.Finding
		want     string
	}{
		{[]checks.Finding{unpriced(checks.Critical), unpriced(checks.Warning)}, `{"critical":null,"warning":null,"total":null,"unknown":2}`},
		{[]checks.Finding{unpriced(checks.Critical), known}, `{"critical":null,"notice":73,"total":73,"unknown":1}`},
	} {
		a := SumAtRisk(c.findings)
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("got  %s\nwant %s", b, c.want)
		}
		var back AtRisk
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if again, err := json.Marshal(&back); err != nil || string(again) != c.want {
			t.Errorf("read back and written again: %s (%v), want %s", again, err, c.want)
		}
		if _, ok := a.Of(checks.Critical); ok {
			t.Error("Of(critical) says a sum of no known figure is known")
		}
	}
}
