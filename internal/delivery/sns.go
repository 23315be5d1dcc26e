package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// MaxMessageBytes is SNS's limit on one message: 256 KiB over the message and its attributes' names, types and
// values; the subject is apart. https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
const MaxMessageBytes = 262_144

// Protocols a message carries a body for (MessageStructure json): SNS gives each subscription its protocol's body,
// and the default to every other.
const (
	ProtocolDefault = "default"
	ProtocolEmail   = "email"
	ProtocolSQS     = "sqs"
	ProtocolLambda  = "lambda"
	ProtocolHTTPS   = "https"
)

// Message attributes subscriptions filter on, and their values.
const (
	AttrAudience         = "audience"
	AttrOwner            = "owner"
	AudienceOrganization = "organization"
	AudienceOwner        = "owner"
)

// Message is one publish: a body per protocol, sent with MessageStructure json, and String attributes a
// subscription's filter policy (FilterPolicyScope MessageAttributes) picks its messages by.
type Message struct {
	TopicARN, Subject string
	// Bodies are by protocol; ProtocolDefault is required.
	Bodies     map[string]string
	Attributes map[string]string
}

// Structured is the Message parameter of a json message: the bodies as one JSON object. HTML is not escaped: SNS
// unescapes the values before delivery, and \u003c for every < would only spend the size limit.
func (m Message) Structured() (string, error) {
	if _, ok := m.Bodies[ProtocolDefault]; !ok {
		return "", fmt.Errorf("message to %s has no %q body", m.TopicARN, ProtocolDefault)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m.Bodies); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Size is what SNS counts against MaxMessageBytes: the structured message and each attribute's name, type and value.
func (m Message) Size() (int, error) {
	s, err := m.Structured()
	if err != nil {
		return 0, err
	}
	return len(s) + AttributesSize(m.Attributes), nil
}

// SizeWithout is Size with the bodies of protocols left out: what the rest of the message costs.
func (m Message) SizeWithout(protocols ...string) int {
	rest := m
	rest.Bodies = map[string]string{}
	for p, b := range m.Bodies {
		if !slices.Contains(protocols, p) {
			rest.Bodies[p] = b
		}
	}
	rest.Bodies[ProtocolDefault] = ""
	n, _ := rest.Size()
	return n
}

// AttributesSize is what String attributes count against MaxMessageBytes.
func AttributesSize(attrs map[string]string) int {
	n := 0
	for name, v := range attrs {
		n += len(name) + len("String") + len(v)
	}
	return n
}

// AttributeValue makes s a value SNS takes for a String attribute: valid UTF-8 and not empty (SNS refuses both).
// An owner is a tag value or an OU path, so this changes nothing a filter policy could have named.
func AttributeValue(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if s == "" {
		return "-"
	}
	return s
}

// PublishMessage sends m and returns SNS's message id. A message over SNS's limit is an error before any call.
func PublishMessage(ctx context.Context, api Publisher, m Message) (string, error) {
	body, err := m.Structured()
	if err != nil {
		return "", err
	}
	if n := len(body) + AttributesSize(m.Attributes); n > MaxMessageBytes {
		return "", fmt.Errorf("publish to %s: the message is %d bytes with its attributes, over SNS's %d", m.TopicARN, n, MaxMessageBytes)
	}
	in := &sns.PublishInput{TopicArn: aws.String(m.TopicARN), Subject: aws.String(m.Subject), Message: aws.String(body),
		MessageStructure: aws.String("json")}
	if len(m.Attributes) > 0 {
		in.MessageAttributes = map[string]snstypes.MessageAttributeValue{}
		for name, v := range m.Attributes {
			in.MessageAttributes[name] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	out, err := api.Publish(ctx, in)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", m.TopicARN, err)
	}
	return aws.ToString(out.MessageId), nil
}
