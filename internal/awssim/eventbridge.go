package awssim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/micahhausler/aws-iam-policy/policy"
)

// EventBridge speaks awsJson1_1 (X-Amz-Target AWSEvents.<Operation>; botocore events/2015-10-07). The simulator
// answers PutEvents only. A call needs events:PutEvents on the bus in the caller's identity policy and, when the bus is
// another account's, the bus's resource policy (management.yaml's AlertBusPolicy) too, as for every cross-account
// request. The model names only InternalException; the API reference's Common Errors give AccessDeniedException and
// ThrottlingException, HTTP 400.
//
// Where AWS might refuse one entry of several for want of a permission, the simulator refuses the whole request:
// never kinder. An entry with an AWS service's source (aws.*) is refused on its own, NotAuthorizedForSourceException in
// the result's Entries, as PutEventsResultEntry documents it: a member's failed stack reaches the alert bus only as
// CloudFormation's event delivered by the member template's rule, which EmitServiceEvent plays (servicevents.go).
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html
func init() {
	registerService("events", protocol{json: true, denied: Fault{Status: 400, Code: "AccessDeniedException"}},
		Fault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"})
	registerOperationOn("events", "PutEvents", putEventsAction, putEvents)
}

// notAuthorizedForSource is EventBridge's ErrorMessage for an entry whose source is an AWS service's.
const notAuthorizedForSource = "You do not have permissions to publish events with this source onto this event bus."

// BusEvent is one event the simulator accepted on an event bus.
type BusEvent struct {
	Bus, EventID, Source, DetailType, Detail string
	// Account is the account that put it.
	Account string
	// Time and Resources are the envelope's "time" and "resources", which every event carries (EventBridge's event
	// structure reference): the entry's, or when it was put and none.
	Time      time.Time
	Resources []string
}

type putEventsEntry struct {
	Source, DetailType, Detail, EventBusName string
	Resources                                []string
	Time                                     any
	TraceHeader                              string
}

type putEventsInput struct {
	Entries    []putEventsEntry
	EndpointId string
}

// busARN is the event bus an entry names (a name in the caller's account and region, or an ARN); the caller's
// default bus when it names none.
func busARN(r *request, nameOrARN string) string {
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN
	}
	if nameOrARN == "" {
		nameOrARN = "default"
	}
	return fmt.Sprintf("arn:%s:events:%s:%s:event-bus/%s", r.org.partition(), r.call.Region, r.call.AccountID, nameOrARN)
}

// putEventsAction is events:PutEvents on the first entry's bus; putEvents checks the others'.
func putEventsAction(r *request) (string, string) {
	var in putEventsInput
	if decodeJSON(r.body, &in) != nil || len(in.Entries) == 0 {
		return "events:PutEvents", busARN(r, "")
	}
	return "events:PutEvents", busARN(r, in.Entries[0].EventBusName)
}

func putEvents(s *Server, r *request) (any, *Fault) {
	var in putEventsInput
	if f := decodeJSON(r.body, &in); f != nil {
		return nil, f
	}
	if len(in.Entries) < 1 || len(in.Entries) > 10 {
		return nil, &Fault{Status: 400, Code: "ValidationException",
			Message: fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1 (%d entries)", len(in.Entries))}
	}
	type result struct {
		EventId      string `json:",omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedEntryCount int
		Entries          []result
	}{}
	var accepted []BusEvent
	for i, e := range in.Entries {
		bus := busARN(r, e.EventBusName)
		if s.iam != nil {
			if i > 0 {
				if f := s.iam.check("events", r.caller, "events:PutEvents", bus); f != nil {
					return nil, f
				}
			}
			if f := s.iam.busAdmits(r.caller, bus); f != nil {
				return nil, f
			}
		}
		if !s.busExists(bus) {
			return nil, &Fault{Status: 400, Code: "ResourceNotFoundException", Message: "Event bus " + bus[strings.LastIndex(bus, "/")+1:] + " does not exist."}
		}
		// Source, DetailType and Detail are required for an entry to be sent (the model's note); Detail is a JSON object.
		var detail map[string]any
		if e.Source == "" || e.DetailType == "" || e.Detail == "" {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, result{ErrorCode: "InvalidArgument", ErrorMessage: "Parameters Source, DetailType and Detail are required."})
			continue
		}
		// AWS services' sources (aws.*) are reserved: only EventBridge delivering a service's event (EmitServiceEvent)
		// puts one on a bus. The model's PutEventsResultEntry names the code; its text is the API reference's.
		if strings.HasPrefix(e.Source, "aws.") {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, result{ErrorCode: "NotAuthorizedForSourceException", ErrorMessage: notAuthorizedForSource})
			continue
		}
		if json.Unmarshal([]byte(e.Detail), &detail) != nil {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, result{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed."})
			continue
		}
		id := pseudoUUID(fmt.Sprintf("event/%d/%d", s.requestN.Add(1), i))
		accepted = append(accepted, BusEvent{Bus: bus, EventID: id, Source: e.Source, DetailType: e.DetailType, Detail: e.Detail, Account: r.call.AccountID,
			Time: s.now(), Resources: e.Resources})
		out.Entries = append(out.Entries, result{EventId: id})
	}
	s.mu.Lock()
	s.events.busEvents = append(s.events.busEvents, accepted...)
	s.mu.Unlock()
	for _, e := range accepted {
		a, _ := arn.Parse(e.Bus)
		s.routeEvent(e, a.Region)
	}
	return out, nil
}

// BusEvents lists the events accepted on any bus, oldest first.
func (s *Server) BusEvents() []BusEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BusEvent(nil), s.events.busEvents...)
}

// busExists: a default bus exists in every account and region; a custom one only if the enforced management template
// creates it.
func (s *Server) busExists(bus string) bool {
	if strings.HasSuffix(bus, ":event-bus/default") {
		return true
	}
	if s.iam == nil {
		return false
	}
	_, ok := s.iam.buses[bus]
	return ok
}

// busAdmits applies a bus's resource policy to a caller from another account: without a statement that allows it,
// the request is refused, whatever the caller's own policy says. A caller of the bus's own account needs only its
// identity policy.
func (st *iamState) busAdmits(p principal, bus string) *Fault {
	a, err := arn.Parse(bus)
	if err != nil {
		return &Fault{Status: 400, Code: "ValidationException", Message: "invalid event bus ARN " + bus}
	}
	if a.AccountID == p.accountID {
		return nil
	}
	var pols []*policy.Policy
	if pol := st.buses[bus]; pol != nil {
		pols = append(pols, pol)
	}
	named := func(entry string) bool {
		return entry == p.arn || entry == p.arnInPolicies() || entry == p.accountID ||
			entry == fmt.Sprintf("arn:%s:iam::%s:root", st.org.partition(), p.accountID)
	}
	if evaluate(pols, evalRequest{action: "events:PutEvents", resource: bus, principal: named, context: st.requestContext(p, bus)}) == allowed {
		return nil
	}
	role := ""
	if r := st.roleOf(p); r != nil {
		role = r.Key()
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: events:PutEvents on resource: %s because no resource-based policy allows the events:PutEvents action", p.arn, bus)
	f := accessDenied("events", msg)
	st.mu.Lock()
	st.denied = append(st.denied, Denial{Principal: p.arn, Role: role + " (bus policy)", Action: "events:PutEvents", Resource: bus, Code: f.Code, Message: f.Message})
	st.mu.Unlock()
	return f
}

// loadEventRouting reads the management template's event buses with their resource policies (bus ARN → its
// AWS::Events::EventBusPolicy statements, nil for none), its rules that target a queue, and its queues (URL → ARN),
// as deployed.
func loadEventRouting(org *Organization, d Deployment) (map[string]*policy.Policy, []eventRule, map[string]string, error) {
	buses, names, err := loadBusPolicies(org, d)
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := parseDeployed(org, d, "management.yaml", d.Management, d.ManagementParameters, false)
	if err != nil {
		return nil, nil, nil, err
	}
	t.physical = physicalIDs(org, d)
	queues := map[string]string{} // URL → ARN
	byARN := map[string]string{}
	ids, err := t.resourcesOfType("AWS::SQS::Queue")
	if err != nil {
		return nil, nil, nil, err
	}
	for _, id := range ids {
		u, attrs, err := t.physical(t, id)
		if err != nil {
			return nil, nil, nil, err
		}
		queues[u], byARN[attrs["Arn"]] = attrs["Arn"], u
	}
	var rules []eventRule
	if ids, err = t.resourcesOfType("AWS::Events::Rule"); err != nil {
		return nil, nil, nil, err
	}
	for _, id := range ids {
		rule := eventRule{id: id, bus: fmt.Sprintf("arn:%s:events:%s:%s:event-bus/default", org.partition(), d.Region, d.home(org))}
		if name, err := t.property(id, "EventBusName"); err != nil {
			return nil, nil, nil, err
		} else if name != nil {
			bus, ok := names[fmt.Sprint(name)]
			if !ok {
				return nil, nil, nil, fmt.Errorf("management.yaml: %s is on event bus %v, which the template does not create", id, name)
			}
			rule.bus = bus
		}
		pattern, err := t.property(id, "EventPattern")
		if err != nil {
			return nil, nil, nil, err
		}
		p, ok := pattern.(map[string]any)
		if !ok {
			return nil, nil, nil, fmt.Errorf("management.yaml: %s has no event pattern the simulator can read", id)
		}
		if err := checkPattern(p); err != nil {
			return nil, nil, nil, fmt.Errorf("management.yaml: %s: %w", id, err)
		}
		rule.pattern = p
		_, attrs, err := t.physical(t, id)
		if err != nil {
			return nil, nil, nil, err
		}
		rule.arn = attrs["Arn"]
		targets, err := t.property(id, "Targets")
		if err != nil {
			return nil, nil, nil, err
		}
		list, _ := targets.([]any)
		for _, target := range list {
			m, _ := target.(map[string]any)
			q, ok := byARN[fmt.Sprint(m["Arn"])]
			if !ok {
				return nil, nil, nil, fmt.Errorf("management.yaml: %s targets %v, which is no queue of the template", id, m["Arn"])
			}
			r := rule
			r.queue, r.queueARN = q, fmt.Sprint(m["Arn"])
			if r.admitted, err = queueAdmitsRule(t, r.queueARN, r.arn); err != nil {
				return nil, nil, nil, err
			}
			if dl, ok := m["DeadLetterConfig"].(map[string]any); ok {
				admits, err := queueAdmitsRule(t, fmt.Sprint(dl["Arn"]), r.arn)
				if err != nil {
					return nil, nil, nil, err
				}
				if admits {
					r.deadLetter = fmt.Sprint(dl["Arn"])
				}
			}
			rules = append(rules, r)
		}
	}
	return buses, rules, queues, nil
}

// loadBusPolicies reads the buses and their policies (see loadEventRouting), and the buses' names (name → ARN).
func loadBusPolicies(org *Organization, d Deployment) (map[string]*policy.Policy, map[string]string, error) {
	t, err := parseDeployed(org, d, "management.yaml", d.Management, d.ManagementParameters, false)
	if err != nil {
		return nil, nil, err
	}
	t.physical = physicalIDs(org, d)
	out := map[string]*policy.Policy{}
	ids, err := t.resourcesOfType("AWS::Events::EventBus")
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{} // name → ARN
	for _, id := range ids {
		_, attrs, err := t.physical(t, id)
		if err != nil {
			return nil, nil, err
		}
		out[attrs["Arn"]] = nil
		names[attrs["Name"]] = attrs["Arn"]
	}
	ids, err = t.resourcesOfType("AWS::Events::EventBusPolicy")
	if err != nil {
		return nil, nil, err
	}
	statements := map[string][]any{}
	for _, id := range ids {
		name, err := t.property(id, "EventBusName")
		if err != nil {
			return nil, nil, err
		}
		bus, ok := names[fmt.Sprint(name)]
		if !ok {
			return nil, nil, fmt.Errorf("management.yaml: %s names event bus %v, which the template does not create", id, name)
		}
		st, err := t.property(id, "Statement")
		if err != nil {
			return nil, nil, err
		}
		sid, err := t.property(id, "StatementId")
		if err != nil {
			return nil, nil, err
		}
		m, ok := st.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("management.yaml: %s.Statement is not one statement", id)
		}
		m["Sid"] = sid
		statements[bus] = append(statements[bus], m)
	}
	for bus, sts := range statements {
		pol, err := parsePolicy(map[string]any{"Version": "2012-10-17", "Statement": sts})
		if err != nil {
			return nil, nil, fmt.Errorf("management.yaml: the policy of %s: %w", bus, err)
		}
		out[bus] = pol
	}
	return out, names, nil
}
