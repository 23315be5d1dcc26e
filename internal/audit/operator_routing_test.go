package audit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
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
				checkOwnersTopic(t, sim, out.Result.OwnerDigests.Sent)
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
			for _, m := range got {
				t.Logf("%s received %q (audience %q)", operatorEmail, m.Subject, m.Attributes["audience"].StringValue)
			}
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
func operatorSettings() config.Settings {
	s := demoSettings()
	s.OwnerTopicARN = awssim.DemoOwnerTopicARN()
	return s
}

// checkOwnersTopic: every owner's digest went to the owners' topic, where an owner's filtered subscription gets its
// own digest and nobody else's; the operator's topic carries none.
func checkOwnersTopic(t *testing.T, sim *awssim.Server, sent int) {
	t.Helper()
	var owners []string
	for _, m := range sim.Published() {
		aud := m.Attributes["audience"].StringValue
		switch {
		case aud == report.AudienceOwner && m.TopicARN == awssim.DemoOwnerTopicARN():
			owners = append(owners, m.Attributes["owner"].StringValue)
		case aud == report.AudienceOwner:
			t.Errorf("an owner's digest went to %s, not the owners' topic", m.TopicARN)
		case m.TopicARN != awssim.DemoTopicARN():
			t.Errorf("%q (audience %q) went to %s", m.Subject, aud, m.TopicARN)
		}
	}
	if len(owners) != sent || sent == 0 {
		t.Fatalf("%d owners' digests on the owners' topic, the run sent %d", len(owners), sent)
	}
	const team = "owner-subscriber@example.com"
	if err := sim.Subscribe(awssim.Subscription{TopicARN: awssim.DemoOwnerTopicARN(), Protocol: "email", Endpoint: team,
		FilterPolicyScope: "MessageAttributes", FilterPolicy: `{"owner":["` + owners[0] + `"]}`}); err != nil {
		t.Fatal(err)
	}
	got := sim.Delivered("email", team)
	if len(got) != 1 || got[0].Attributes["owner"].StringValue != owners[0] {
		t.Errorf("the subscriber of owner %q received %d messages, want its own digest once", owners[0], len(got))
	}
}

// TestOwnerTopicIsValidated: the owners' topic is read from AUDIT_OWNER_TOPIC_ARN, and must be an SNS topic beside
// the digest topic (one client publishes both, and SNS answers only for its own region).
func TestOwnerTopicIsValidated(t *testing.T) {
	t.Parallel()
	s, err := config.FromEnv(func(k string) string {
		return map[string]string{"AUDIT_TOPIC_ARN": awssim.DemoTopicARN(), "AUDIT_OWNER_TOPIC_ARN": awssim.DemoOwnerTopicARN()}[k]
	})
	if err != nil || s.OwnerTopicARN != awssim.DemoOwnerTopicARN() {
		t.Fatalf("AUDIT_OWNER_TOPIC_ARN: %q, %v", s.OwnerTopicARN, err)
	}
	for name, c := range map[string]struct{ topic, owner, want string }{
		"not an ARN":       {awssim.DemoTopicARN(), "owners", "is not an SNS topic ARN"},
		"not SNS":          {awssim.DemoTopicARN(), "arn:aws:sqs:us-east-1:111111111111:owners", "is not an SNS topic ARN"},
		"no digest topic":  {"", awssim.DemoOwnerTopicARN(), "without a digest topic"},
		"another region":   {awssim.DemoTopicARN(), "arn:aws:sns:eu-west-1:111111111111:owners", "must be in the digest topic's account and region"},
		"another account":  {awssim.DemoTopicARN(), "arn:aws:sns:us-east-1:222222222222:owners", "must be in the digest topic's account and region"},
		"beside the topic": {awssim.DemoTopicARN(), awssim.DemoOwnerTopicARN(), ""},
	} {
		s := demoSettings()
		s.TopicARN, s.OwnerTopicARN = c.topic, c.owner
		err := s.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}
