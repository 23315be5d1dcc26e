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

func init() { register("sns", "Publish", publish) }

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
