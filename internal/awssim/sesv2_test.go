package awssim

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

func rawEmail(from, to, body string) []byte {
	return []byte("From: " + from + "\r\nTo: " + to + "\r\nSubject: test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

func sendRaw(client *sesv2.Client, from string, to []string, raw []byte) (*sesv2.SendEmailOutput, error) {
	return client.SendEmail(context.Background(), &sesv2.SendEmailInput{FromEmailAddress: aws.String(from),
		Destination: &types.Destination{ToAddresses: to}, Content: &types.EmailContent{Raw: &types.RawMessage{Data: raw}}})
}

// TestSESv2SendEmailWire: the real SDK client sends raw MIME over restJson1; SES keeps it byte for byte, and refuses
// as SES does an unverified sender, a sandboxed account's unverified recipient, a line over 1,000 characters and a
// message over 40 MB, each in the model's own error type.
func TestSESv2SendEmailWire(t *testing.T) {
	t.Parallel()
	s := start(t)
	client := sesv2.NewFromConfig(s.Config(DemoManagementAccount, DemoHomeRegion))
	raw := rawEmail(DemoEmailFrom, DemoEmailTo, "hello")
	out, err := sendRaw(client, DemoEmailFrom, []string{DemoEmailTo, "success@" + sesMailboxSimulator}, raw)
	if err != nil {
		t.Fatal(err)
	}
	sent := s.Emails()
	if len(sent) != 1 || !bytes.Equal(sent[0].Raw, raw) || sent[0].From != DemoEmailFrom || sent[0].MessageID != aws.ToString(out.MessageId) ||
		len(sent[0].To) != 2 || sent[0].Region != DemoHomeRegion {
		t.Fatalf("kept %+v for message id %s", sent, aws.ToString(out.MessageId))
	}
	rejected := func(name string, err error, want string) {
		t.Helper()
		var mr *types.MessageRejected
		if !errors.As(err, &mr) || !strings.Contains(mr.ErrorMessage(), want) {
			t.Errorf("%s: %v, want MessageRejected saying %q", name, err, want)
		}
	}
	_, err = sendRaw(client, "someone@elsewhere.example", []string{DemoEmailTo}, rawEmail("someone@elsewhere.example", DemoEmailTo, "x"))
	rejected("unverified sender", err, "Email address is not verified. The following identities failed the check in region US-EAST-1: someone@elsewhere.example")
	_, err = sendRaw(client, DemoEmailFrom, []string{DemoEmailTo, "cto@elsewhere.example"}, raw)
	rejected("sandboxed recipient", err, "failed the check in region US-EAST-1: cto@elsewhere.example")
	_, err = sendRaw(client, DemoEmailFrom, []string{DemoEmailTo}, rawEmail(DemoEmailFrom, DemoEmailTo, strings.Repeat("x", 1001)))
	rejected("long line", err, "longer than 1,000 characters")
	// The sender's own address verified, not its domain: it sends too.
	s.org.account(DemoManagementAccount).Regions[DemoHomeRegion].EmailIdentities = []string{"orgaudit@other.example", DemoEmailDomain}
	if _, err := sendRaw(client, "orgaudit@other.example", []string{DemoEmailTo}, rawEmail("orgaudit@other.example", DemoEmailTo, "x")); err != nil {
		t.Errorf("a verified address: %v", err)
	}
	// Base64 of 31.5 MB passes 40 MiB.
	big := rawEmail(DemoEmailFrom, DemoEmailTo, strings.Repeat(strings.Repeat("y", 76)+"\r\n", 31_500_000/78))
	_, err = sendRaw(client, DemoEmailFrom, []string{DemoEmailTo}, big)
	rejected("over 40 MB", err, "Message length is more than 41943040 bytes")
	if len(s.Emails()) != 2 {
		t.Errorf("%d emails kept, want the 2 accepted", len(s.Emails()))
	}
	if f := throttleOf("ses"); f.Code != "TooManyRequestsException" || f.Status != 429 {
		t.Errorf("throttling %+v", f)
	}
}
