package awssim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// SNS speaks the query protocol (botocore sns 2010-03-31). It refuses with AuthorizationError (HTTP 403) and
// throttles with Throttled (botocore: ThrottledException, HTTP 429). Publish acts on its topic.
func init() {
	registerService("sns", protocol{namespace: "http://sns.amazonaws.com/doc/2010-03-31/", denied: Fault{Status: 403, Code: "AuthorizationError"}},
		Fault{Status: 429, Code: "Throttled", Message: "Rate exceeded"})
	registerOperationOn("sns", "Publish", func(r *request) (string, string) { return "sns:Publish", r.form.Get("TopicArn") }, publish)
}

// maxMessageBytes is SNS's limit on a message: 256 KiB, "all parts of the message attribute, including name, type,
// and value, are included in the message size restriction" (botocore's MessageAttributeValue; the subject is apart).
const maxMessageBytes = 262144

// publish keeps what it accepts so tests and the demo can read it, and enforces the limits AWS enforces on email
// subjects and message size.
func publish(s *Server, r *request) (any, *Fault) {
	topic := r.form.Get("TopicArn")
	parsed, err := arn.Parse(topic)
	if err != nil || parsed.Service != "sns" {
		return nil, &Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: TopicArn"}
	}
	// SNS answers only for topics of its own region; a client in another region gets the same answer as for a
	// malformed ARN.
	if parsed.Region != r.call.Region {
		return nil, &Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: TopicArn"}
	}
	owner := s.org.account(parsed.AccountID)
	if owner == nil || owner.Regions[parsed.Region] == nil || !slices.Contains(owner.Regions[parsed.Region].Topics, parsed.Resource) {
		return nil, &Fault{Status: 404, Code: "NotFound", Message: "Topic does not exist"}
	}
	if parsed.AccountID != r.caller.accountID {
		return nil, &Fault{Status: 403, Code: "AuthorizationError", Message: fmt.Sprintf("User: %s is not authorized to perform: SNS:Publish on resource: %s", r.caller.arn, topic)}
	}
	subject, body := r.form.Get("Subject"), r.form.Get("Message")
	if body == "" {
		return nil, &Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: Empty message"}
	}
	attrs, size, fault := messageAttributes(r)
	if fault != nil {
		return nil, fault
	}
	if len(body)+size > maxMessageBytes {
		return nil, &Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: Message too long"}
	}
	if len(subject) >= 100 || !printableASCII(subject) {
		return nil, &Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: Subject"}
	}
	m := Message{TopicARN: topic, Subject: subject, Body: body, Raw: body, Attributes: attrs}
	switch st := r.form.Get("MessageStructure"); st {
	case "":
	case "json":
		bodies, fault := structuredBodies(body)
		if fault != nil {
			return nil, fault
		}
		m.Structure, m.Bodies = st, bodies
		m.Body = m.For("email")
	default:
		return nil, &Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: MessageStructure"}
	}
	m.MessageID = pseudoUUID(topic + subject + randomHex(8))
	s.mu.Lock()
	s.published = append(s.published, m)
	s.mu.Unlock()
	return struct{ MessageId string }{m.MessageID}, nil
}

// snsProtocols are the keys of a json message SNS delivers; any other key is ignored.
// https://docs.aws.amazon.com/sns/latest/dg/sns-send-custom-platform-specific-payloads-mobile-devices.html
var snsProtocols = []string{"default", "email", "email-json", "http", "https", "sqs", "lambda", "sms", "firehose",
	"APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "MACOS", "MACOS_SANDBOX", "GCM", "ADM", "BAIDU", "MPNS", "WNS"}

// structuredBodies reads a MessageStructure json message as SNS does (botocore's Publish documentation): a JSON
// object with a string "default"; a protocol's key must hold a string (other values make SNS ignore the key), a key
// that is no protocol is ignored, and a duplicate key is an error, as is anything that does not parse. The messages
// are SNS's own answers.
func structuredBodies(body string) (map[string]string, *Fault) {
	unparsable := &Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: Message Structure - JSON message body failed to parse"}
	dec := json.NewDecoder(strings.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, unparsable
	}
	bodies, seen := map[string]string{}, map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok || seen[key] {
			return nil, unparsable
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, unparsable
		}
		var text string
		if slices.Contains(snsProtocols, key) && bytes.HasPrefix(bytes.TrimSpace(value), []byte(`"`)) && json.Unmarshal(value, &text) == nil {
			bodies[key] = text
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') || dec.More() {
		return nil, unparsable
	}
	if _, trailing := dec.Token(); trailing == nil {
		return nil, unparsable
	}
	if _, ok := bodies["default"]; !ok {
		return nil, &Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: Message Structure - No default entry in JSON message body"}
	}
	return bodies, nil
}

// messageAttributes reads the query protocol's map (MessageAttributes.entry.N.Name, .Value.DataType,
// .Value.StringValue, .Value.BinaryValue) and checks it as SNS does, returning the bytes it counts against the
// message size: name, type and value. The rules are the SNS developer guide's (sns-message-attributes.html): a name
// of at most 256 characters of A-Z a-z 0-9 _ - ., neither starting nor ending with a period nor holding two in a
// row, not starting with AWS. or Amazon. in any case; a type of String, Number or Binary, optionally with a custom
// suffix (String.Array is one), at most 256 bytes; a value that is not empty, a number for Number, a JSON array for
// String.Array. The wording of the answers is moto's, which copies SNS's where it knows it.
func messageAttributes(r *request) (map[string]MessageAttribute, int, *Fault) {
	invalid := func(format string, a ...any) *Fault {
		return &Fault{Status: 400, Code: "InvalidParameter", Message: fmt.Sprintf(format, a...)}
	}
	var attrs map[string]MessageAttribute
	size := 0
	for i := 1; ; i++ {
		prefix := "MessageAttributes.entry." + strconv.Itoa(i) + "."
		name, ok := r.form[prefix+"Name"]
		if !ok {
			break
		}
		n := name[0]
		a := MessageAttribute{DataType: r.form.Get(prefix + "Value.DataType"), StringValue: r.form.Get(prefix + "Value.StringValue")}
		if v := r.form.Get(prefix + "Value.BinaryValue"); v != "" {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, 0, invalid("Invalid parameter: MessageAttributes: the binary value of '%s' is not base64", n)
			}
			a.BinaryValue = b
		}
		lower := strings.ToLower(n)
		if n == "" || len(n) > 256 || strings.Trim(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") != "" ||
			strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".") || strings.Contains(n, "..") ||
			strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
			return nil, 0, invalid("Invalid parameter: MessageAttributes: the message attribute name '%s' is invalid", n)
		}
		if _, dup := attrs[n]; dup {
			return nil, 0, invalid("Invalid parameter: MessageAttributes: the message attribute name '%s' is given twice", n)
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch {
		case a.DataType == "":
			return nil, 0, invalid("The message attribute '%s' must contain non-empty message attribute type.", n)
		case len(a.DataType) > 256 || base != "String" && base != "Number" && base != "Binary":
			return nil, 0, invalid("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", n)
		case base == "Binary" && len(a.BinaryValue) == 0 || base != "Binary" && a.StringValue == "":
			return nil, 0, invalid("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", n, base)
		case base != "Binary" && !utf8.ValidString(a.StringValue):
			return nil, 0, invalid("Invalid parameter: MessageAttributes: the value of '%s' is not UTF-8", n)
		}
		if base == "Number" {
			if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
				return nil, 0, &Fault{Status: 400, Code: "ParameterValueInvalid", Message: fmt.Sprintf("Could not cast message attribute '%s' value to number.", n)}
			}
		}
		if a.DataType == "String.Array" {
			var arr []any
			if json.Unmarshal([]byte(a.StringValue), &arr) != nil {
				return nil, 0, invalid("Invalid parameter: MessageAttributes: the value of '%s' is not a JSON array", n)
			}
		}
		if attrs == nil {
			attrs = map[string]MessageAttribute{}
		}
		attrs[n] = a
		size += len(n) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return attrs, size, nil
}

// printableASCII is SNS's rule for subjects: ASCII text, no line breaks or control characters.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Subscription is one subscription to a simulated topic: what the templates create (AWS::SNS::Subscription) or a
// test adds. Delivery is computed from what was published, so a subscription sees every message of its topic.
type Subscription struct {
	TopicARN, Protocol, Endpoint string
	// FilterPolicy is the subscription's filter policy as JSON, empty for none. Only FilterPolicyScope
	// MessageAttributes (SNS's default) is modelled.
	FilterPolicy, FilterPolicyScope string

	filter []attributeFilter
}

// attributeFilter is one key of a filter policy: the attribute's name and the conditions, any of which matches.
type attributeFilter struct {
	name       string
	conditions []filterCondition
}

// filterCondition is one entry of a key's list: an exact string, {"prefix": s}, or {"exists": b}.
type filterCondition struct {
	equals, prefix *string
	exists         *bool
}

// parseFilterPolicy reads a MessageAttributes filter policy. Operators the simulator does not model (numeric,
// anything-but, suffix, equals-ignore-case, cidr, $or, nested keys) are an error rather than a guess.
// https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html
func parseFilterPolicy(policy string) ([]attributeFilter, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(policy), &raw); err != nil {
		return nil, fmt.Errorf("filter policy is not a JSON object: %w", err)
	}
	var out []attributeFilter
	for name, v := range raw {
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil || len(list) == 0 {
			return nil, fmt.Errorf("filter policy key %q: want a non-empty list of conditions (nested keys are not modelled)", name)
		}
		f := attributeFilter{name: name}
		for _, c := range list {
			var s string
			if json.Unmarshal(c, &s) == nil {
				f.conditions = append(f.conditions, filterCondition{equals: &s})
				continue
			}
			var op map[string]json.RawMessage
			if json.Unmarshal(c, &op) != nil || len(op) != 1 {
				return nil, fmt.Errorf("filter policy key %q: condition %s is not modelled by the simulator", name, c)
			}
			var cond filterCondition
			switch {
			case op["exists"] != nil:
				var b bool
				if json.Unmarshal(op["exists"], &b) != nil {
					return nil, fmt.Errorf("filter policy key %q: exists takes true or false", name)
				}
				cond.exists = &b
			case op["prefix"] != nil:
				var p string
				if json.Unmarshal(op["prefix"], &p) != nil {
					return nil, fmt.Errorf("filter policy key %q: prefix takes a string", name)
				}
				cond.prefix = &p
			default:
				return nil, fmt.Errorf("filter policy key %q: condition %s is not modelled by the simulator", name, c)
			}
			f.conditions = append(f.conditions, cond)
		}
		out = append(out, f)
	}
	return out, nil
}

// matches applies the filter to a message's attributes as SNS does: every key must match, a key by any of its
// conditions. A message without attributes matches no filter policy at all, not even {"exists": false}: "exists":
// false only matches if at least one attribute is present (the SNS developer guide, Key matching). String and
// String.Array attributes are matched by value; other types match only exists.
// https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html
func (sub Subscription) matches(attrs map[string]MessageAttribute) bool {
	if len(sub.filter) == 0 {
		return true
	}
	if len(attrs) == 0 {
		return false
	}
	for _, f := range sub.filter {
		a, present := attrs[f.name]
		values := attributeValues(a)
		ok := false
		for _, c := range f.conditions {
			switch {
			case c.exists != nil:
				ok = present == *c.exists
			case c.equals != nil:
				ok = slices.Contains(values, *c.equals)
			case c.prefix != nil:
				ok = slices.ContainsFunc(values, func(v string) bool { return strings.HasPrefix(v, *c.prefix) })
			default:
				ok = false
			}
			if ok {
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// attributeValues are the string values a filter compares an attribute with: a String's value, each string of a
// String.Array, none for other types.
func attributeValues(a MessageAttribute) []string {
	switch a.DataType {
	case "String":
		return []string{a.StringValue}
	case "String.Array":
		var arr []any
		_ = json.Unmarshal([]byte(a.StringValue), &arr)
		var out []string
		for _, v := range arr {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	default:
		return nil
	}
}

// Subscribe adds a subscription to a topic the organization's data holds, with its filter policy checked.
func (s *Server) Subscribe(sub Subscription) error {
	parsed, err := arn.Parse(sub.TopicARN)
	if err != nil || parsed.Service != "sns" {
		return fmt.Errorf("subscribe: %q is not a topic ARN", sub.TopicARN)
	}
	if owner := s.org.account(parsed.AccountID); owner == nil || owner.Regions[parsed.Region] == nil || !slices.Contains(owner.Regions[parsed.Region].Topics, parsed.Resource) {
		return fmt.Errorf("subscribe: topic %s does not exist", sub.TopicARN)
	}
	switch sub.FilterPolicyScope {
	case "", "MessageAttributes":
	default:
		return fmt.Errorf("subscribe %s to %s: FilterPolicyScope %q is not modelled by the simulator", sub.Endpoint, sub.TopicARN, sub.FilterPolicyScope)
	}
	if sub.FilterPolicy != "" {
		if sub.filter, err = parseFilterPolicy(sub.FilterPolicy); err != nil {
			return fmt.Errorf("subscribe %s to %s: %w", sub.Endpoint, sub.TopicARN, err)
		}
	}
	s.mu.Lock()
	s.subscriptions = append(s.subscriptions, sub)
	s.mu.Unlock()
	return nil
}

// Subscriptions lists the topics' subscriptions, in the order they were made.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Subscription(nil), s.subscriptions...)
}

// Delivered is what SNS delivered to one endpoint of a protocol, oldest first: every published message of a topic it
// subscribes to that its filter policy lets through, with Body the protocol's body.
func (s *Server) Delivered(protocol, endpoint string) []Message {
	var out []Message
	subs := s.Subscriptions()
	for _, m := range s.Published() {
		for _, sub := range subs {
			if sub.Protocol == protocol && sub.Endpoint == endpoint && sub.TopicARN == m.TopicARN && sub.matches(m.Attributes) {
				m.Body = m.For(protocol)
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// AlarmFired publishes what CloudWatch sends to each of an alarm's actions when it goes to ALARM: a JSON body, the
// subject "ALARM: ...", and no message attributes at all.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
func (s *Server) AlarmFired(alarmName string, topicARNs ...string) error {
	for _, topic := range topicARNs {
		parsed, err := arn.Parse(topic)
		if err != nil || parsed.Service != "sns" {
			return fmt.Errorf("alarm %s: action %q is not a topic ARN", alarmName, topic)
		}
		if owner := s.org.account(parsed.AccountID); owner == nil || owner.Regions[parsed.Region] == nil || !slices.Contains(owner.Regions[parsed.Region].Topics, parsed.Resource) {
			return fmt.Errorf("alarm %s: topic %s does not exist", alarmName, topic)
		}
		body, _ := json.Marshal(map[string]string{"AlarmName": alarmName, "NewStateValue": "ALARM", "OldStateValue": "OK"})
		subject := fmt.Sprintf("ALARM: %q in %s", alarmName, parsed.Region)
		m := Message{TopicARN: topic, Subject: subject, Body: string(body), Raw: string(body), MessageID: pseudoUUID(topic + subject + randomHex(8))}
		s.mu.Lock()
		s.published = append(s.published, m)
		s.mu.Unlock()
	}
	return nil
}
