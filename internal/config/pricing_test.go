package config

import (
	"slices"
	"strings"
	"testing"
)

// TestOnDemandIsOffUnlessAsked: the on-demand lookup is opt-in, whichever way a run is configured, and every way of
// asking for it (the Lambda's variable, a manual event) turns it on; a malformed value is an error naming it.
func TestOnDemandIsOffUnlessAsked(t *testing.T) {
	t.Parallel()
	if Defaults().OnDemand {
		t.Error("on-demand rates are on by default")
	}
	env := map[string]string{}
	s, err := FromEnv(func(k string) string { return env[k] })
	if err != nil || s.OnDemand {
		t.Fatalf("no variable: on demand %v, err %v", s.OnDemand, err)
	}
	env["AUDIT_ON_DEMAND"] = "true"
	if s, err = FromEnv(func(k string) string { return env[k] }); err != nil || !s.OnDemand {
		t.Errorf("AUDIT_ON_DEMAND=true: on demand %v, err %v", s.OnDemand, err)
	}
	env["AUDIT_ON_DEMAND"] = "false"
	if s, err = FromEnv(func(k string) string { return env[k] }); err != nil || s.OnDemand {
		t.Errorf("AUDIT_ON_DEMAND=false (the template's default): on demand %v, err %v", s.OnDemand, err)
	}
	env["AUDIT_ON_DEMAND"] = "sometimes"
	if _, err = FromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "AUDIT_ON_DEMAND") {
		t.Errorf("AUDIT_ON_DEMAND=sometimes: error %v does not name the variable", err)
	}
	if !slices.Contains(EnvNames(), "AUDIT_ON_DEMAND") {
		t.Errorf("EnvNames %v lacks AUDIT_ON_DEMAND", EnvNames())
	}
	for raw, want := range map[string]bool{`{"on_demand":true}`: true, `{"on_demand":false}`: false, `{}`: true} {
		ev, err := DecodeEvent([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		base := Defaults()
		base.OnDemand = true // the deployment's setting, which only an event naming on_demand changes
		got, err := ev.Apply(base)
		if err != nil || got.OnDemand != want {
			t.Errorf("%s over a deployment with on-demand rates: on demand %v, want %v (err %v)", raw, got.OnDemand, want, err)
		}
	}
	if _, err := DecodeEvent([]byte(`{"on_demand":"yes"}`)); err == nil {
		t.Error(`{"on_demand":"yes"} was accepted`)
	}
}
