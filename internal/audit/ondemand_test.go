package audit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
)

// TestOnDemandRefusedRunStillDelivers: asked for on-demand rates by a deployment that does not grant them (the
// template's OnDemandRates left false), the run audits and delivers as ever; its result warns once with AWS's
// refusal, every EC2 and RDS finding says why its on-demand figure is null, and no query is sent after the first refusal.
func TestOnDemandRefusedRunStillDelivers(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(demoAsOf)
	sim := startSim(t, org)
	s := demoSettings()
	s.OnDemand = true
	out, err := audit.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s, audit.Options{Logger: quietLogger()})
	if err != nil || out == nil || !out.Result.Published {
		t.Fatalf("the run did not deliver: %v", err)
	}
	var warned int
	for _, w := range out.Result.Warnings {
		if strings.Contains(w, "on-demand rates") {
			warned++
			if !strings.Contains(w, "AccessDeniedException") || !strings.Contains(w, "pricing:GetProducts") {
				t.Errorf("warning %q does not carry AWS's refusal", w)
			}
		}
	}
	if warned != 1 {
		t.Errorf("%d on-demand warnings in %q, want 1", warned, out.Result.Warnings)
	}
	var refused int
	for _, f := range out.Result.Findings {
		if f.Check != "ec2-reserved-instances" && f.Check != "rds-reserved-instances" {
			continue
		}
		if f.Money == nil || f.Money.OnDemand == nil || f.Money.USDPerMonthOnDemand != nil || !strings.Contains(f.Money.OnDemandUnknown, "AccessDeniedException") {
			t.Errorf("%s %s: %+v", f.Check, f.ResourceID, f.Money)
			continue
		}
		refused++
	}
	if refused == 0 {
		t.Error("no EC2 or RDS finding to say so")
	}
	if d := sim.Denials(); len(d) == 0 || d[0].Action != "pricing:GetProducts" {
		t.Errorf("denials %+v", d)
	}
	// Lookups run eight at a time (s.Concurrency is 8): those already sent when the first refusal came back are
	// refused too, and none is sent after it, although the demo has more distinct rates than that.
	if got := sim.Calls()["pricing.GetProducts"]; got < 1 || got > s.Concurrency {
		t.Errorf("%d GetProducts calls; after the first refusal none is sent, so at most the %d in flight", got, s.Concurrency)
	}
}
