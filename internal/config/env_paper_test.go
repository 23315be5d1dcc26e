package config

import (
	"strings"
	"testing"
)

// A paper the workbook cannot print on is refused when the settings are read, before any account is audited.
func TestFromEnvRefusesAnUnknownPaper(t *testing.T) {
	env := map[string]string{"AUDIT_PAPER": "tabloid"}
	if _, err := FromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "AUDIT_PAPER") {
		t.Fatalf("AUDIT_PAPER=tabloid: err %v, want one naming AUDIT_PAPER", err)
	}
	for _, v := range []string{"", "a4", "Letter"} {
		env["AUDIT_PAPER"] = v
		if _, err := FromEnv(func(k string) string { return env[k] }); err != nil {
			t.Errorf("AUDIT_PAPER=%q: %v", v, err)
		}
	}
}
