package cloudformation_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/deploy/cloudformation"
	"github.com/orgaudit/orgaudit/internal/awssim"
)

// TestPairedParametersAreSetTogether: the management template's Rules refuse half of a pair of parameters (email
// sender and recipients; access portal and permission set), as CloudFormation refuses a stack whose rule assertion is
// false, naming the assertion's description; both or neither deploy. The simulator evaluates the Rules
// (awssim.parseTemplate): moto's CloudFormation ignores a template's Rules section, so the contract tests on moto
// cannot hold them.
func TestPairedParametersAreSetTogether(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	for _, pair := range []struct {
		a, b, va, vb, description string
	}{
		{"EmailFrom", "EmailTo", awssim.DemoEmailFrom, awssim.DemoEmailTo, "EmailFrom and EmailTo are set together, or neither."},
		{"AccessPortalUrl", "PortalRoleName", "https://d-1234567890.awsapps.com/start", "AuditReadOnly",
			"AccessPortalUrl and PortalRoleName are set together, or neither."},
	} {
		for _, c := range []struct {
			a, b string
			ok   bool
		}{{pair.va, pair.vb, true}, {"", "", true}, {pair.va, "", false}, {"", pair.vb, false}} {
			d := awssim.DemoDeployment(org, cloudformation.Management, cloudformation.MemberRole, awssim.DemoKMSKeyARN)
			d.ManagementParameters = maps.Clone(d.ManagementParameters)
			d.ManagementParameters[pair.a], d.ManagementParameters[pair.b] = c.a, c.b
			_, err := awssim.LoadTemplateRoles(org, d)
			switch {
			case c.ok && err != nil:
				t.Errorf("%s=%q %s=%q refused: %v", pair.a, c.a, pair.b, c.b, err)
			case !c.ok && (err == nil || !strings.Contains(err.Error(), pair.description)):
				t.Errorf("%s=%q %s=%q: error %v, want %q", pair.a, c.a, pair.b, c.b, err, pair.description)
			}
		}
	}
}
