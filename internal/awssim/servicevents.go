package awssim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/micahhausler/aws-iam-policy/policy"
)

// ServiceEvent is an event an AWS service puts on an account's default bus, such as CloudFormation's stack status
// changes. No caller can put one with PutEvents (an aws.* source is refused); EmitServiceEvent plays the service.
type ServiceEvent struct {
	Source, DetailType, Detail string
	// Time is when the service says it happened (the envelope's "time"); the simulator's clock when zero.
	Time time.Time
	// Resources are the ARNs the event concerns (for a stack's status change, the stack).
	Resources []string
}

// FailedInvocation is one delivery of a rule to its target that the target refused: what EventBridge counts in the
// rule's FailedInvocations metric and, after its retries, puts on the target's dead-letter queue when the rule names
// one, or drops.
type FailedInvocation struct {
	Rule, Target, EventID string
	// Code and Message are the target service's refusal, as the rule's role was answered.
	Code, Message string
	// DeadLetterQueue is the ARN of the queue the event now waits on; "" when the rule has none, or one whose policy
	// does not let the rule send to it: the event is lost.
	DeadLetterQueue string
}

// memberRule is one EventBridge rule of the member template as deployed in one account and region.
type memberRule struct {
	arn     string
	pattern map[string]any
	targets []ruleTarget
}

// ruleTarget is a rule's target: the event bus it delivers to, the role it delivers with, its dead-letter queue.
type ruleTarget struct {
	arn, roleARN, deadLetter string
}

// EmitServiceEvent is an AWS service putting an event on the default bus of account in region, and EventBridge
// delivering it by the rules the templates deployed there. In a member account, the member template's: a rule whose
// pattern matches delivers to its target bus with its target's role, so the role's policy (events:PutEvents on the
// bus) and the target bus's policy apply, as when the role calls PutEvents itself, and the event keeps its AWS source.
// In the account and region of the management stack, the management template's default-bus rules (its own failed
// stacks, its StackSets' instances) put it on their queue, whose policy must admit the rule. A refusal is not the
// emitter's to see: it is a FailedInvocation. The member template's stack instances are the StackSet's: in every
// account holding the audit role, in the deployment's region. An account or region where neither template is
// deployed is the caller's mistake, an error: no rule could see the event there, and a test emitting it would pass
// without exercising any. It returns the event's id, which a delivered copy keeps.
func (s *Server) EmitServiceEvent(account, region string, e ServiceEvent) (string, error) {
	if s.iam == nil {
		return "", fmt.Errorf("awssim: service events need EnforceTemplates")
	}
	if s.org.account(account) == nil {
		return "", fmt.Errorf("awssim: %s is no account of the organization", account)
	}
	if !strings.HasPrefix(e.Source, "aws.") || e.DetailType == "" || !json.Valid([]byte(e.Detail)) {
		return "", fmt.Errorf("awssim: %q / %q is no AWS service's event", e.Source, e.DetailType)
	}
	d := s.iam.deployment
	management := account == d.home(s.org) && region == d.Region
	rules, member, err := s.iam.memberRules(account, region)
	if err != nil {
		return "", err
	}
	if !management && !member {
		return "", fmt.Errorf("awssim: neither template is deployed in account %s, region %s (the management stack is in %s, %s; the StackSet's instances in %s): no rule sees an event there",
			account, region, d.home(s.org), d.Region, d.Region)
	}
	bus := fmt.Sprintf("arn:%s:events:%s:%s:event-bus/default", s.org.partition(), region, account)
	at := e.Time
	if at.IsZero() {
		at = s.now()
	}
	ev := BusEvent{Bus: bus, EventID: pseudoUUID(fmt.Sprintf("service-event/%d", s.requestN.Add(1))), Source: e.Source,
		DetailType: e.DetailType, Detail: e.Detail, Account: account, Time: at, Resources: e.Resources}
	s.mu.Lock()
	s.events.busEvents = append(s.events.busEvents, ev)
	s.mu.Unlock()
	if management {
		s.routeEvent(ev, region)
	}
	doc := eventDocument(ev, region)
	for _, rule := range rules {
		if !patternMatches(rule.pattern, doc) {
			continue
		}
		for _, tg := range rule.targets {
			if f := s.deliverToBus(ev, tg); f != nil {
				s.mu.Lock()
				s.events.failed = append(s.events.failed, FailedInvocation{Rule: rule.arn, Target: tg.arn, EventID: ev.EventID,
					Code: f.Code, Message: f.Message, DeadLetterQueue: tg.deadLetter})
				s.mu.Unlock()
			}
		}
	}
	return ev.EventID, nil
}

// FailedInvocations lists the rules' deliveries their targets refused, oldest first.
func (s *Server) FailedInvocations() []FailedInvocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]FailedInvocation(nil), s.events.failed...)
}

// deliverToBus is EventBridge putting ev on the target bus as a session of the target's role, which EventBridge
// assumes as events.amazonaws.com: the role must exist and trust it, its policy allow events:PutEvents on the bus,
// and the bus's policy admit it when the bus is another account's.
func (s *Server) deliverToBus(ev BusEvent, tg ruleTarget) *Fault {
	st := s.iam
	bus, err := arn.Parse(tg.arn)
	if err != nil || bus.Service != "events" || !strings.HasPrefix(bus.Resource, "event-bus/") {
		return &Fault{Status: 400, Code: "ValidationException", Message: "the simulator delivers only to event buses, not " + tg.arn}
	}
	role, err := arn.Parse(tg.roleARN)
	name := role.Resource[strings.LastIndex(role.Resource, "/")+1:]
	r, ok := st.assumable(role.AccountID, name)
	if err != nil || !ok || evaluate([]*policy.Policy{r.trust}, evalRequest{action: "sts:AssumeRole", resource: tg.roleARN,
		principal: func(entry string) bool { return entry == "events.amazonaws.com" }, context: map[string]string{}}) != allowed {
		return &Fault{Status: 403, Code: "AccessDenied", Message: "EventBridge could not assume " + tg.roleARN}
	}
	p := principal{accountID: role.AccountID, roleARN: tg.roleARN,
		arn: fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", s.org.partition(), role.AccountID, name, ev.EventID)}
	if f := st.check("events", p, "events:PutEvents", tg.arn); f != nil {
		return f
	}
	if f := st.busAdmits(p, tg.arn); f != nil {
		return f
	}
	if !s.busExists(tg.arn) {
		return &Fault{Status: 400, Code: "ResourceNotFoundException", Message: "Event bus " + bus.Resource[len("event-bus/"):] + " does not exist."}
	}
	delivered := ev
	delivered.Bus = tg.arn
	s.mu.Lock()
	s.events.busEvents = append(s.events.busEvents, delivered)
	s.mu.Unlock()
	s.routeEvent(delivered, bus.Region)
	return nil
}

// memberRules reads the member template's EventBridge rules as its stack instance in account and region has them,
// and whether the StackSet deployed an instance there (false: none, and no rules).
func (st *iamState) memberRules(account, region string) ([]memberRule, bool, error) {
	d := st.deployment
	audit := st.memberAudit()
	if region != d.Region || audit == nil || !st.roleIn(audit, account) {
		return nil, false, nil
	}
	rules, err := st.readMemberRules(account, region)
	return rules, err == nil, err
}

// readMemberRules reads the member template's rules as deployed in account and region.
func (st *iamState) readMemberRules(account, region string) ([]memberRule, error) {
	d := st.deployment
	pseudo := map[string]string{"AWS::Partition": st.org.partition(), "AWS::Region": region, "AWS::URLSuffix": "amazonaws.com",
		"AWS::StackName": "orgaudit", "AWS::AccountId": account}
	t, err := parseTemplate("member-role.yaml", d.MemberRole, d.MemberParameters, pseudo)
	if err != nil {
		return nil, err
	}
	t.physical = physicalIDs(st.org, d)
	ids, err := t.resourcesOfType("AWS::Events::Rule")
	if err != nil {
		return nil, err
	}
	var out []memberRule
	for _, id := range ids {
		if name, err := t.property(id, "EventBusName"); err != nil || name != nil {
			return nil, fmt.Errorf("member-role.yaml: %s: the simulator delivers service events from the default bus only (%v)", id, err)
		}
		_, attrs, err := t.physical(t, id)
		if err != nil {
			return nil, err
		}
		rule := memberRule{arn: attrs["Arn"]}
		pattern, err := t.property(id, "EventPattern")
		if err != nil {
			return nil, err
		}
		var ok bool
		if rule.pattern, ok = pattern.(map[string]any); !ok {
			return nil, fmt.Errorf("member-role.yaml: %s has no event pattern the simulator can read", id)
		}
		if err := checkPattern(rule.pattern); err != nil {
			return nil, fmt.Errorf("member-role.yaml: %s: %w", id, err)
		}
		targets, err := t.property(id, "Targets")
		if err != nil {
			return nil, err
		}
		list, _ := targets.([]any)
		for _, target := range list {
			m, _ := target.(map[string]any)
			tg := ruleTarget{arn: fmt.Sprint(m["Arn"]), roleARN: fmt.Sprint(m["RoleArn"])}
			if dl, ok := m["DeadLetterConfig"].(map[string]any); ok {
				q := fmt.Sprint(dl["Arn"])
				if admits, err := queueAdmitsRule(t, q, rule.arn); err != nil {
					return nil, err
				} else if admits {
					tg.deadLetter = q
				}
			}
			rule.targets = append(rule.targets, tg)
		}
		out = append(out, rule)
	}
	return out, nil
}

// memberAudit is the member template's audit role.
func (st *iamState) memberAudit() *TemplateRole {
	for _, r := range st.roles {
		if r.Member && r.LogicalID == memberAuditRole {
			return r
		}
	}
	return nil
}

// eventDocument is an event as EventBridge hands it to rules and targets.
func eventDocument(e BusEvent, region string) map[string]any {
	var detail any
	_ = json.Unmarshal([]byte(e.Detail), &detail)
	resources := []any{}
	for _, r := range e.Resources {
		resources = append(resources, r)
	}
	return map[string]any{"version": "0", "id": e.EventID, "detail-type": e.DetailType, "source": e.Source, "account": e.Account,
		"time": e.Time.UTC().Format("2006-01-02T15:04:05Z"), "region": region, "resources": resources, "detail": detail}
}

// queueAdmitsRule says whether the template's policy of the queue queueARN lets EventBridge (events.amazonaws.com)
// send the dead letters of rule: without it EventBridge cannot write them, and the event is lost.
func queueAdmitsRule(t *cfnTemplate, queueARN, rule string) (bool, error) {
	ids, err := t.resourcesOfType("AWS::SQS::QueuePolicy")
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		doc, err := t.property(id, "PolicyDocument")
		if err != nil {
			return false, err
		}
		pol, err := parsePolicy(doc)
		if err != nil {
			return false, fmt.Errorf("%s: %s: %w", t.name, id, err)
		}
		if evaluate([]*policy.Policy{pol}, evalRequest{action: "sqs:SendMessage", resource: queueARN,
			principal: func(entry string) bool { return entry == "events.amazonaws.com" }, context: map[string]string{"aws:SourceArn": rule}}) == allowed {
			return true, nil
		}
	}
	return false, nil
}
