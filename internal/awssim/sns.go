package awssim

import (
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

func init() { register("sns", "Publish", publish) }

// maxMessageBytes is SNS's limit on a message body: 256 KiB.
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
	if len(body) > maxMessageBytes {
		return nil, &Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: Message too long"}
	}
	if len(subject) >= 100 || !printableASCII(subject) {
		return nil, &Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: Subject"}
	}
	id := pseudoUUID(topic + subject + randomHex(8))
	s.mu.Lock()
	s.published = append(s.published, Message{TopicARN: topic, Subject: subject, Body: body, MessageID: id})
	s.mu.Unlock()
	return struct{ MessageId string }{id}, nil
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
