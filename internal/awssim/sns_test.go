package awssim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// TestPublishStructuredMessage: a MessageStructure json message through the SDK is read as SNS reads it, each
// protocol's body and the attributes recorded; what SNS refuses is refused with its answer.
func TestPublishStructuredMessage(t *testing.T) {
	t.Parallel()
	s := start(t)
	client := sns.NewFromConfig(s.Config(DemoManagementAccount, DemoHomeRegion))
	str := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	publish := func(structure, body string, attrs map[string]snstypes.MessageAttributeValue) error {
		in := &sns.PublishInput{TopicArn: aws.String(DemoTopicARN()), Subject: aws.String("s"), Message: aws.String(body), MessageAttributes: attrs}
		if structure != "" {
			in.MessageStructure = aws.String(structure)
		}
		_, err := client.Publish(context.Background(), in)
		return err
	}
	bodies := map[string]any{"default": "plain", "email": "mail text", "sqs": `{"schema":"x"}`, "https": "chat", "unknown": "ignored", "lambda": 7}
	raw, _ := json.Marshal(bodies)
	if err := publish("json", string(raw), map[string]snstypes.MessageAttributeValue{"audience": str("owner"), "owner": str("team-α@example.com")}); err != nil {
		t.Fatal(err)
	}
	got := s.Published()
	if len(got) != 1 {
		t.Fatalf("%d published", len(got))
	}
	m := got[0]
	if m.Body != "mail text" || m.For("sqs") != `{"schema":"x"}` || m.For("https") != "chat" || m.For("lambda") != "plain" || m.For("sms") != "plain" {
		t.Errorf("bodies %+v: email %q sqs %q lambda (not a string, so the default) %q", m.Bodies, m.Body, m.For("sqs"), m.For("lambda"))
	}
	if _, ok := m.Bodies["unknown"]; ok {
		t.Errorf("a key that is no protocol was kept: %+v", m.Bodies)
	}
	if a := m.Attributes; a["audience"].StringValue != "owner" || a["owner"].StringValue != "team-α@example.com" || a["owner"].DataType != "String" {
		t.Errorf("attributes %+v", a)
	}

	// The whole message counts, attributes included: a body that fits alone is too long with them.
	big := strings.Repeat("x", maxMessageBytes-len("audience")-len("String")-len("organization")+1)
	for name, tc := range map[string]struct {
		structure, body string
		attrs           map[string]snstypes.MessageAttributeValue
		code, message   string
	}{
		"no default":          {"json", `{"email":"x"}`, nil, "InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body"},
		"default not string":  {"json", `{"default":1}`, nil, "InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body"},
		"not json":            {"json", `default: x`, nil, "InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse"},
		"not an object":       {"json", `["default"]`, nil, "InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse"},
		"duplicate key":       {"json", `{"default":"a","default":"b"}`, nil, "InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse"},
		"trailing text":       {"json", `{"default":"a"} x`, nil, "InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse"},
		"other structure":     {"xml", `<a/>`, nil, "InvalidParameter", "Invalid parameter: MessageStructure"},
		"too long with attrs": {"", big, map[string]snstypes.MessageAttributeValue{"audience": str("organization")}, "InvalidParameter", "Invalid parameter: Message too long"},
		"reserved name":       {"", "b", map[string]snstypes.MessageAttributeValue{"AWS.owner": str("x")}, "InvalidParameter", ""},
		"amazon prefix":       {"", "b", map[string]snstypes.MessageAttributeValue{"amazon.x": str("x")}, "InvalidParameter", ""},
		"leading period":      {"", "b", map[string]snstypes.MessageAttributeValue{".owner": str("x")}, "InvalidParameter", ""},
		"double period":       {"", "b", map[string]snstypes.MessageAttributeValue{"a..b": str("x")}, "InvalidParameter", ""},
		"space in name":       {"", "b", map[string]snstypes.MessageAttributeValue{"team owner": str("x")}, "InvalidParameter", ""},
		"long name":           {"", "b", map[string]snstypes.MessageAttributeValue{strings.Repeat("n", 257): str("x")}, "InvalidParameter", ""},
		"empty value":         {"", "b", map[string]snstypes.MessageAttributeValue{"owner": str("")}, "InvalidParameter", "The message attribute 'owner' must contain non-empty message attribute value for message attribute type 'String'."},
		"unknown type":        {"", "b", map[string]snstypes.MessageAttributeValue{"owner": {DataType: aws.String("Text"), StringValue: aws.String("x")}}, "InvalidParameter", ""},
		"not a number":        {"", "b", map[string]snstypes.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("ten")}}, "ParameterValueInvalid", ""},
		"not an array":        {"", "b", map[string]snstypes.MessageAttributeValue{"a": {DataType: aws.String("String.Array"), StringValue: aws.String("x")}}, "InvalidParameter", ""},
	} {
		err := publish(tc.structure, tc.body, tc.attrs)
		if code(err) != tc.code || tc.message != "" && !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: %v, want %s %q", name, err, tc.code, tc.message)
		}
	}
	// Exactly at the limit, attributes included, is accepted.
	if err := publish("", big[1:], map[string]snstypes.MessageAttributeValue{"audience": str("organization")}); err != nil {
		t.Errorf("a message of exactly 256 KiB with its attributes: %v", err)
	}
	if n := len(s.Published()); n != 2 {
		t.Errorf("%d published; the refused ones must not be", n)
	}
}
