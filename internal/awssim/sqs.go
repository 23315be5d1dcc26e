package awssim

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// SQS speaks awsJson1_0 (X-Amz-Target AmazonSQS.<Operation>; botocore sqs/2012-11-05, query-compatible). The simulator
// answers what Lambda calls with the function's execution role to read the alert queue for the function's event
// source mapping (GetQueueAttributes, ReceiveMessage, DeleteMessage; the Lambda developer guide's three), on the
// queues the management template creates, which hold what the template's rules route to them (see routeEvent). The
// API reference's Common Errors give AccessDeniedException, HTTP 400; the model names RequestThrottled.
//
// A received message stays hidden until deleted: the simulator has no visibility timeout, so it never hands one out
// twice, which a test of IAM does not need.
func init() {
	registerService("sqs", protocol{json: true, denied: Fault{Status: 400, Code: "AccessDeniedException"}},
		Fault{Status: 400, Code: "RequestThrottled", Message: "Rate exceeded"})
	for op, action := range map[string]string{"GetQueueAttributes": "sqs:GetQueueAttributes", "ReceiveMessage": "sqs:ReceiveMessage", "DeleteMessage": "sqs:DeleteMessage"} {
		registerOperationOn("sqs", op, queueAction(action), sqsHandlers[op])
	}
}

var sqsHandlers = map[string]handler{"GetQueueAttributes": getQueueAttributes, "ReceiveMessage": receiveMessage, "DeleteMessage": deleteMessage}

// queueMessage is one message a simulated queue holds.
type queueMessage struct {
	id, body, receipt string
}

// queueARNOf is the ARN of the queue a URL names (https://sqs.<region>.amazonaws.com/<account>/<name>), or "".
func queueARNOf(partition, queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	host := strings.Split(u.Host, ".")
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(host) < 3 || host[0] != "sqs" || len(parts) != 2 {
		return ""
	}
	return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", partition, host[1], parts[0], parts[1])
}

func queueAction(action string) iamAction {
	return func(r *request) (string, string) {
		var in struct{ QueueUrl string }
		_ = decodeJSON(r.body, &in)
		return action, queueARNOf(r.org.partition(), in.QueueUrl)
	}
}

// queueOf finds the queue a request names, as its URL: one the enforced management template creates.
func (s *Server) queueOf(r *request) (string, *Fault) {
	var in struct{ QueueUrl string }
	if f := decodeJSON(r.body, &in); f != nil {
		return "", f
	}
	s.mu.Lock()
	_, ok := s.events.queues[in.QueueUrl]
	s.mu.Unlock()
	if !ok {
		return "", &Fault{Status: 400, Code: "QueueDoesNotExist", Message: "The specified queue does not exist."}
	}
	return in.QueueUrl, nil
}

func getQueueAttributes(s *Server, r *request) (any, *Fault) {
	q, f := s.queueOf(r)
	if f != nil {
		return nil, f
	}
	s.mu.Lock()
	n := 0
	for _, m := range s.events.queues[q] {
		if m.receipt == "" {
			n++
		}
	}
	s.mu.Unlock()
	return map[string]any{"Attributes": map[string]string{"QueueArn": queueARNOf(s.org.partition(), q), "ApproximateNumberOfMessages": fmt.Sprint(n)}}, nil
}

func receiveMessage(s *Server, r *request) (any, *Fault) {
	q, f := s.queueOf(r)
	if f != nil {
		return nil, f
	}
	var in struct{ MaxNumberOfMessages *int }
	_ = decodeJSON(r.body, &in)
	max := 1
	if in.MaxNumberOfMessages != nil {
		if *in.MaxNumberOfMessages < 1 || *in.MaxNumberOfMessages > 10 {
			return nil, &Fault{Status: 400, Code: "InvalidParameterValue",
				Message: fmt.Sprintf("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", *in.MaxNumberOfMessages)}
		}
		max = *in.MaxNumberOfMessages
	}
	type message struct{ MessageId, ReceiptHandle, MD5OfBody, Body string }
	var out []message
	s.mu.Lock()
	for i := range s.events.queues[q] {
		m := &s.events.queues[q][i]
		if m.receipt != "" || len(out) == max {
			continue
		}
		m.receipt = randomHex(32)
		sum := md5.Sum([]byte(m.body))
		out = append(out, message{MessageId: m.id, ReceiptHandle: m.receipt, MD5OfBody: hex.EncodeToString(sum[:]), Body: m.body})
	}
	s.mu.Unlock()
	return map[string]any{"Messages": out}, nil
}

func deleteMessage(s *Server, r *request) (any, *Fault) {
	q, f := s.queueOf(r)
	if f != nil {
		return nil, f
	}
	var in struct{ ReceiptHandle string }
	_ = decodeJSON(r.body, &in)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.events.queues[q] {
		if m.receipt != "" && m.receipt == in.ReceiptHandle {
			s.events.queues[q] = append(s.events.queues[q][:i], s.events.queues[q][i+1:]...)
			return map[string]any{}, nil
		}
	}
	return nil, &Fault{Status: 400, Code: "ReceiptHandleIsInvalid", Message: "The input receipt handle \"" + in.ReceiptHandle + "\" is not a valid receipt handle."}
}

// eventRule is one of the management template's EventBridge rules, as deployed: the bus it is on, its pattern, its
// ARN, and the queue its target is (URL and ARN), with whether the queue's policy lets the rule send to it and the
// target's dead-letter queue ("" when it has none or its policy does not admit the rule).
type eventRule struct {
	id, bus, arn, queue, queueARN, deadLetter string
	admitted                                  bool
	pattern                                   map[string]any
}

// routeEvent puts an event accepted on a bus on the queue of every rule of that bus whose pattern matches it, as
// EventBridge delivers to an SQS target: the message's body is the event. EventBridge sends as events.amazonaws.com
// for the rule, so the queue's policy must allow sqs:SendMessage with the rule's ARN as aws:SourceArn
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions); a queue
// whose policy does not is a failed invocation, sent to the target's dead-letter queue without a retry, as the
// EventBridge user guide says of "errors that result from missing permissions to a target".
func (s *Server) routeEvent(e BusEvent, region string) {
	if s.iam == nil {
		return
	}
	event := eventDocument(e, region)
	body, _ := json.Marshal(event)
	for _, rule := range s.iam.rules {
		if rule.bus != e.Bus || !patternMatches(rule.pattern, event) {
			continue
		}
		s.mu.Lock()
		if rule.admitted {
			s.events.queues[rule.queue] = append(s.events.queues[rule.queue], queueMessage{id: pseudoUUID("message/" + e.EventID + "/" + rule.id), body: string(body)})
		} else {
			s.events.failed = append(s.events.failed, FailedInvocation{Rule: rule.arn, Target: rule.queueARN, EventID: e.EventID, Code: "AccessDenied",
				Message: "the policy of " + rule.queueARN + " does not allow events.amazonaws.com sqs:SendMessage for " + rule.arn, DeadLetterQueue: rule.deadLetter})
		}
		s.mu.Unlock()
	}
}

// patternMatches is EventBridge's matching for the patterns the templates write: every key of the pattern present in
// the event, a nested object matching the event's object, a list matching when the event's value equals one of its
// strings. A field the event lacks never matches. checkPattern refuses any other kind of pattern at load time.
func patternMatches(pattern map[string]any, event map[string]any) bool {
	for k, want := range pattern {
		got, present := event[k]
		if !present {
			return false
		}
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !patternMatches(w, sub) {
				return false
			}
		case []any:
			s, ok := got.(string)
			if !ok || !containsString(w, s) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func containsString(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkPattern accepts only what patternMatches reads: objects and lists of strings.
func checkPattern(p map[string]any) error {
	for k, v := range p {
		switch w := v.(type) {
		case map[string]any:
			if err := checkPattern(w); err != nil {
				return err
			}
		case []any:
			for _, item := range w {
				if _, ok := item.(string); !ok {
					return fmt.Errorf("the simulator matches only exact strings; %s holds %v", k, item)
				}
			}
		default:
			return fmt.Errorf("the simulator cannot read the pattern's %s: %v", k, v)
		}
	}
	return nil
}

// Queues lists the URLs of the enforced management template's queues, sorted.
func (s *Server) Queues() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for u := range s.events.queues {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}
