package audit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/report"
)

// operatorEmail is the stack's NotificationEmail in these tests.
const operatorEmail = "platform-team@example.com"

// TestOperatorGetsEveryAlarmAndTheOrganizationsDigest deploys the management template with a NotificationEmail,
// runs the job (whose demo organization has owners, so owners' digests go out too) and fires every alarm the
// template creates, in both modes. SNS delivers to the operator's address, through the subscription as the
// template makes it, every alarm and the organization's digest, and no owner's digest. CloudWatch publishes an
// alarm without message attributes, which no filter policy matches, so a filter on the email subscription drops
// every alarm.
func TestOperatorGetsEveryAlarmAndTheOrganizationsDigest(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"single", "distributed"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			org := awssim.Demo(demoAsOf)
			d := demoDeployment(org)
			d.ManagementParameters["NotificationEmail"] = operatorEmail
			d.ManagementParameters["Mode"] = mode
			sim := startSimWith(t, org, d)
			wantDigests := 0
			if mode == "single" {
				s := operatorSettings()
				out, err := audit.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s, audit.Options{Logger: quietLogger()})
				if err != nil {
					t.Fatal(err)
				}
				if od := out.Result.OwnerDigests; od == nil || od.Sent == 0 {
					t.Fatalf("the demo run sent no owner digest (%+v): the test would prove nothing about them", od)
				}
				wantDigests = 1
			}
			alarms := sim.TemplateAlarms()
			if len(alarms) == 0 {
				t.Fatal("the template creates no alarm")
			}
			for _, a := range alarms {
				if len(a.Actions) == 0 {
					t.Errorf("alarm %s notifies nobody", a.LogicalID)
				}
				if err := sim.AlarmFired(a.LogicalID, a.Actions...); err != nil {
					t.Fatal(err)
				}
			}
			got := sim.Delivered("email", operatorEmail)
			alarmsGot, digests := map[string]int{}, 0
			for _, m := range got {
				switch aud := m.Attributes["audience"].StringValue; {
				case len(m.Attributes) == 0 && strings.HasPrefix(m.Subject, "ALARM: "):
					for _, a := range alarms {
						if strings.Contains(m.Body, `"`+a.LogicalID+`"`) {
							alarmsGot[a.LogicalID]++
						}
					}
				case aud == report.AudienceOrganization:
					digests++
				default:
					t.Errorf("the operator received %q (audience %q, owner %q)", m.Subject, aud, m.Attributes["owner"].StringValue)
				}
			}
			for _, a := range alarms {
				if alarmsGot[a.LogicalID] != 1 {
					t.Errorf("alarm %s reached the operator %d times, want once", a.LogicalID, alarmsGot[a.LogicalID])
				}
			}
			if digests != wantDigests {
				t.Errorf("the operator received %d organization digests, want %d", digests, wantDigests)
			}
		})
	}
}

// operatorSettings are the demo settings as the template configures the function: the digest topic and the
// owners' digest topic.
func operatorSettings() audit.Settings {
	s := demoSettings()
	s.OwnerTopicARN = awssim.DemoOwnerTopicARN()
	return s
}
