package awssim

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestFilterPolicyNeverMatchesAnEmptyAttributeSet: SNS matches no filter policy against a message without
// attributes, not even {"exists": false} ("exists": false only matches if at least one attribute is present; the SNS
// developer guide, Key matching). A CloudWatch alarm carries no attributes, so such a filter drops every alarm.
func TestFilterPolicyNeverMatchesAnEmptyAttributeSet(t *testing.T) {
	t.Parallel()
	s := New(Demo(time.Now()))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const list, all = "ops@example.com", "everything@example.com"
	for _, sub := range []Subscription{
		{TopicARN: DemoTopicARN(), Protocol: "email", Endpoint: list, FilterPolicyScope: "MessageAttributes",
			FilterPolicy: `{"audience":[{"exists":false},"organization"]}`},
		{TopicARN: DemoTopicARN(), Protocol: "email", Endpoint: all},
	} {
		if err := s.Subscribe(sub); err != nil {
			t.Fatal(err)
		}
	}
	client := sns.NewFromConfig(s.Config(DemoManagementAccount, DemoHomeRegion))
	attr := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	for body, attrs := range map[string]map[string]snstypes.MessageAttributeValue{
		"organization digest":  {"audience": attr("organization")},
		"owner digest":         {"audience": attr("owner"), "owner": attr("payments")},
		"other attribute only": {"source": attr("test")},
		"no attributes":        nil,
	} {
		if _, err := client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(DemoTopicARN()), Message: aws.String(body), MessageAttributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AlarmFired("orgaudit-errors", DemoTopicARN()); err != nil {
		t.Fatal(err)
	}
	bodies := func(endpoint string) []string {
		var out []string
		for _, m := range s.Delivered("email", endpoint) {
			out = append(out, m.Body)
		}
		slices.Sort(out)
		return out
	}
	if got, want := bodies(list), []string{"organization digest", "other attribute only"}; !slices.Equal(got, want) {
		t.Errorf("the filtered list received %q, want %q: neither the attribute-less message nor the alarm", got, want)
	}
	if got := bodies(all); len(got) != 5 {
		t.Errorf("the unfiltered subscription received %d messages, want all 5: %q", len(got), got)
	}
	for _, bad := range []string{`{"n":[{"numeric":[">",1]}]}`, `{"a":[{"anything-but":"x"}]}`, `{"a":{"b":["c"]}}`, `{"a":[]}`, `[]`} {
		if err := s.Subscribe(Subscription{TopicARN: DemoTopicARN(), Protocol: "email", Endpoint: "x@example.com", FilterPolicy: bad}); err == nil {
			t.Errorf("filter policy %s was taken, which the simulator does not model", bad)
		}
	}
}
