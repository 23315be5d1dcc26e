package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
)

// TestDemoOnDemand runs the demo with -on-demand, the template deployed with OnDemandRates=true, and works every EC2
// and RDS finding's on-demand figure out by hand from the rates the simulated price list declares
// (awssim.DemoOnDemandRates): rate × count × 730 hours, to the cent. The demo's af-south-1 DB class has no declared
// rate, so its finding is null with the reason; other kinds say why they are not looked up.
func TestDemoOnDemand(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "demo.xlsx")
	var stdout, stderr bytes.Buffer
	if code := runCLI(context.Background(), []string{"demo", "-json", "-on-demand", "-out", out, "-as-of", "2026-11-22"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"usd_per_month_on_demand": `) {
		t.Fatalf("the JSON result carries no usd_per_month_on_demand")
	}
	r := decodeResult(t, stdout.String())
	for _, w := range r.Warnings {
		if strings.Contains(w, "on-demand") {
			t.Errorf("warning %q: the template granted the price list", w)
		}
	}
	known := map[string]int{}
	for i := range r.Findings {
		f := &r.Findings[i]
		c, _ := checks.ByName(f.Check)
		if c == nil || !c.Layout().Expiry {
			if f.Money != nil {
				t.Errorf("%s %s is no commitment but carries money", f.Check, f.ResourceID)
			}
			continue
		}
		if f.Money == nil || f.Money.OnDemand == nil {
			t.Errorf("%s %s: no on-demand figures", f.Check, f.ResourceID)
			continue
		}
		od := f.Money.OnDemand
		var key string
		switch f.Check {
		case "ec2-reserved-instances":
			key = f.Region + "/" + f.Detail("instance_type")
		case "rds-reserved-instances":
			key = f.Region + "/" + f.Detail("db_instance_class") + "/Single-AZ"
			if f.Detail("multi_az") == "true" {
				key = f.Region + "/" + f.Detail("db_instance_class") + "/Multi-AZ"
			}
		default:
			if od.USDPerMonthOnDemand != nil || od.OnDemandUnknown == "" {
				t.Errorf("%s %s: on demand %v without a reason", f.Check, f.ResourceID, od.USDPerMonthOnDemand)
			}
			continue
		}
		rate, declared := awssim.DemoOnDemandRates[key]
		if !declared {
			if od.USDPerMonthOnDemand != nil || !strings.Contains(od.OnDemandUnknown, "no product in the AWS price list matches") {
				t.Errorf("%s %s (%s, no declared rate): %v %q", f.Check, f.ResourceID, key, od.USDPerMonthOnDemand, od.OnDemandUnknown)
			}
			continue
		}
		perHour, _ := strconv.ParseFloat(rate, 64)
		count, _ := strconv.Atoi(f.Detail("count"))
		want := checks.Cents(perHour * float64(count) * 730)
		if od.USDPerMonthOnDemand == nil || *od.USDPerMonthOnDemand != want {
			t.Errorf("%s %s: %d × %s at %s/h: on demand %v, want %v (%s)", f.Check, f.ResourceID, count, key, rate, od.USDPerMonthOnDemand, want, od.OnDemandUnknown)
			continue
		}
		known[f.Check]++
		switch {
		case f.Money.USDPerMonth != nil:
			if od.USDPerMonthIncrease == nil || *od.USDPerMonthIncrease != checks.Cents(want-*f.Money.USDPerMonth) {
				t.Errorf("%s %s: increase %v, want %v − %v", f.Check, f.ResourceID, od.USDPerMonthIncrease, want, *f.Money.USDPerMonth)
			}
		case od.USDPerMonthIncrease != nil || !strings.Contains(od.OnDemandUnknown, "increase if it lapsed is unknown"):
			t.Errorf("%s %s: increase %v without the commitment's price, reason %q", f.Check, f.ResourceID, od.USDPerMonthIncrease, od.OnDemandUnknown)
		}
	}
	if known["ec2-reserved-instances"] == 0 || known["rds-reserved-instances"] == 0 {
		t.Errorf("priced findings by check %v: the demo must price EC2 and RDS reservations", known)
	}
}
