package config

import (
	"strings"
	"testing"
)

func TestPortalValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, url, role, want string // want: "" valid, else a fragment of the error
	}{
		{"neither", "", "", ""},
		{"both", "https://d-1234567890.awsapps.com/start", "AuditReadOnly", ""},
		{"both, China", "https://d-1234567890.awsapps.cn/start", "AuditReadOnly", ""},
		{"both, dual-stack", "https://ssoins-0123456789abcdef.portal.eu-west-1.app.aws", "Audit.Read@x", ""},
		{"url only", "https://d-1234567890.awsapps.com/start", "", "give both or neither"},
		{"role only", "", "AuditReadOnly", "give both or neither"},
		{"http", "http://d-1234567890.awsapps.com/start", "AuditReadOnly", "must be https://"},
		{"other domain", "https://evil.example.com/start", "AuditReadOnly", "must be https://"},
		{"lookalike domain", "https://d-1.awsapps.com.evil.example/start", "AuditReadOnly", "must be https://"},
		{"user info", "https://x@d-1234567890.awsapps.com/start", "AuditReadOnly", "must be https://"},
		{"fragment", "https://d-1234567890.awsapps.com/start#/x", "AuditReadOnly", "must be https://"},
		{"bad role character", "https://d-1234567890.awsapps.com/start", "Audit&x=1", "permission set's name"},
		{"role too long", "https://d-1234567890.awsapps.com/start", strings.Repeat("a", 33), "permission set's name"},
	} {
		err := Portal{AccessPortalURL: c.url, PortalRoleName: c.role}.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	// The environment reaches the group, and Settings.Validate asks it.
	s, err := FromEnv(func(n string) string {
		return map[string]string{"AUDIT_ACCESS_PORTAL_URL": "https://d-1234567890.awsapps.com/start"}[n]
	})
	if err == nil {
		err = s.Validate()
	}
	if s.AccessPortalURL != "https://d-1234567890.awsapps.com/start" || err == nil || !strings.Contains(err.Error(), "give both or neither") {
		t.Errorf("AUDIT_ACCESS_PORTAL_URL alone: %q, %v", s.AccessPortalURL, err)
	}
}
