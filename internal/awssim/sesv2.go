package awssim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Amazon SES API v2 speaks restJson1 and signs as ses, its IAM prefix too: SendEmail is POST
// /v2/email/outbound-emails with a JSON body whose Content.Raw.Data is the whole MIME message in base64. Its errors
// are the model's (botocore sesv2 2019-09-27): MessageRejected, MailFromDomainNotVerifiedException,
// AccountSuspendedException, SendingPausedException, LimitExceededException, NotFoundException and
// BadRequestException (HTTP 400 but NotFound's 404), TooManyRequestsException (HTTP 429). A caller without the
// permission gets AccessDeniedException (HTTP 403), which the model leaves out but SES answers.
func init() {
	registerService("ses", protocol{rest: map[string]string{"POST /v2/email/outbound-emails": "SendEmail"},
		denied: Fault{Status: 403, Code: "AccessDeniedException"}, maxBody: sesMaxRequestBytes},
		Fault{Status: 429, Code: "TooManyRequestsException", Message: "Maximum sending rate exceeded."})
	registerDemo(demoSES)
	// SES authorizes a send against the identity that lets the caller use the From address. SendEmail of the v2 API
	// is ses:SendEmail in the Service Authorization Reference
	// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html), and
	// with raw content SES checks ses:SendRawEmail too: its refusal names that action ("not authorized to perform
	// 'ses:SendRawEmail' on resource 'arn:aws:ses:...:identity/...'", as django-anymail documents for its SES v2
	// backend). The simulator requires both, so a template granting one is refused as AWS would refuse it.
	registerOperationOn("ses", "SendEmail", func(r *request) (string, string) { return "ses:SendEmail", sendingIdentityARN(r) }, sendEmail,
		func(r *request) (string, string) { return "ses:SendRawEmail", sendingIdentityARN(r) })
}

// SESMaxMessageBytes is SES's limit on one message through the v2 API: "40 MB per message (after base64 encoding)"
// (https://docs.aws.amazon.com/ses/latest/dg/quotas.html). The simulator measures the message as it travels,
// base64-encoded in Content.Raw.Data, against 40 MiB.
const SESMaxMessageBytes = 40 << 20

// sesMaxRequestBytes is what the simulator reads of a SendEmail request: a message at the limit, with room for the
// JSON around it. A longer request is refused as too large.
const sesMaxRequestBytes = SESMaxMessageBytes + 1<<20

// sesMailboxSimulator is SES's domain of test recipients, which a sandboxed account may send to.
// https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html#send-email-simulator
const sesMailboxSimulator = "simulator.amazonses.com"

// Email is one message SES accepted.
type Email struct {
	Region, From string
	To           []string
	Raw          []byte
	MessageID    string
}

type sesSendEmailInput struct {
	FromEmailAddress string
	Destination      *struct{ ToAddresses, CcAddresses, BccAddresses []string }
	Content          struct {
		Raw      *struct{ Data []byte }
		Simple   any
		Template any
	}
}

// decodeSendEmail reads the request; a body that is no SendEmail is BadRequestException.
func decodeSendEmail(r *request) (sesSendEmailInput, *Fault) {
	var in sesSendEmailInput
	if f := decodeJSON(r.body, &in); f != nil {
		return in, &Fault{Status: 400, Code: "BadRequestException", Message: f.Message}
	}
	return in, nil
}

// fromAddress is the sender: FromEmailAddress, or else the raw message's From header.
func (in sesSendEmailInput) fromAddress() string {
	from := in.FromEmailAddress
	if from == "" && in.Content.Raw != nil {
		if msg, err := mail.ReadMessage(bytes.NewReader(in.Content.Raw.Data)); err == nil {
			from = msg.Header.Get("From")
		}
	}
	if a, err := mail.ParseAddress(from); err == nil {
		return a.Address
	}
	return from
}

// verifiedIdentity is the identity that lets region send from address: the address itself when it is verified,
// else its domain when that is; "" when neither is.
func verifiedIdentity(reg *Region, address string) string {
	if reg == nil {
		return ""
	}
	_, domain, _ := strings.Cut(address, "@")
	for _, id := range []string{address, domain} {
		if id != "" && slices.ContainsFunc(reg.EmailIdentities, func(v string) bool { return strings.EqualFold(v, id) }) {
			return id
		}
	}
	return ""
}

// sendingIdentityARN is the identity the send is authorized against: the verified identity of the From address, or
// the address itself when none is verified (SES then rejects the message after authorizing it).
func sendingIdentityARN(r *request) string {
	in, _ := decodeSendEmail(r)
	from := in.fromAddress()
	var reg *Region
	if r.account != nil {
		reg = r.account.Regions[r.call.Region]
	}
	id := verifiedIdentity(reg, from)
	if id == "" {
		id = from
	}
	partition := "aws"
	if a, err := arn.Parse(r.caller.arn); err == nil {
		partition = a.Partition
	}
	return fmt.Sprintf("arn:%s:ses:%s:%s:identity/%s", partition, r.call.Region, r.caller.accountID, id)
}

// sendEmail accepts a raw message as SES does: from a verified identity, in the sandbox only to verified recipients
// (or the mailbox simulator), within the size limit, and a message a mail reader can parse. It keeps what it accepts
// so tests and the demo can read it back.
func sendEmail(s *Server, r *request) (any, *Fault) {
	in, f := decodeSendEmail(r)
	if f != nil {
		return nil, f
	}
	if in.Content.Raw == nil {
		if in.Content.Simple != nil || in.Content.Template != nil {
			return nil, &Fault{Status: 400, Code: "BadRequestException", Message: "awssim answers SendEmail with Raw content only"}
		}
		return nil, &Fault{Status: 400, Code: "BadRequestException", Message: "Content is required: one of Simple, Raw or Template"}
	}
	raw := in.Content.Raw.Data
	if len(raw) == 0 {
		return nil, &Fault{Status: 400, Code: "BadRequestException", Message: "Raw message data is required"}
	}
	if n := base64.StdEncoding.EncodedLen(len(raw)); n > SESMaxMessageBytes {
		return nil, &Fault{Status: 400, Code: "MessageRejected", Message: fmt.Sprintf("Message length is more than %d bytes long: '%d'.", SESMaxMessageBytes, n)}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, &Fault{Status: 400, Code: "MessageRejected", Message: "Illegal header or body: " + err.Error()}
	}
	// RFC 5321 4.5.3.1.6, as SES's RawMessage documentation holds every message to it.
	for i, line := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSuffix(line, []byte("\r"))) > 998 {
			return nil, &Fault{Status: 400, Code: "MessageRejected", Message: fmt.Sprintf("Line %d of the message is longer than 1,000 characters.", i+1)}
		}
	}
	var to []string
	if d := in.Destination; d != nil {
		to = append(append(append(to, d.ToAddresses...), d.CcAddresses...), d.BccAddresses...)
	} else {
		for _, h := range []string{"To", "Cc", "Bcc"} {
			if list, err := msg.Header.AddressList(h); err == nil {
				for _, a := range list {
					to = append(to, a.Address)
				}
			}
		}
	}
	if len(to) == 0 {
		return nil, &Fault{Status: 400, Code: "BadRequestException", Message: "Missing final '@domain'"}
	}
	from := in.fromAddress()
	failed := func(ids []string) *Fault {
		return &Fault{Status: 400, Code: "MessageRejected", Message: fmt.Sprintf("Email address is not verified. The following identities failed the check in region %s: %s",
			strings.ToUpper(r.call.Region), strings.Join(ids, ", "))}
	}
	if verifiedIdentity(r.region, from) == "" {
		return nil, failed([]string{from})
	}
	if !r.region.SESProductionAccess {
		var unverified []string
		for _, addr := range to {
			if !strings.HasSuffix(strings.ToLower(addr), "@"+sesMailboxSimulator) && verifiedIdentity(r.region, addr) == "" {
				unverified = append(unverified, addr)
			}
		}
		if len(unverified) > 0 {
			return nil, failed(unverified)
		}
	}
	id := "0100" + randomHex(8) + "-" + pseudoUUID(from+strings.Join(to, ",")+randomHex(8)) + "-000000"
	s.mu.Lock()
	s.emails = append(s.emails, Email{Region: r.call.Region, From: from, To: to, Raw: append([]byte(nil), raw...), MessageID: id})
	s.mu.Unlock()
	return struct{ MessageId string }{id}, nil
}

// The demo's sender and recipient: its management account has verified their domain in the home region and is still
// in the SES sandbox, where that domain's addresses are all it may send to.
const (
	DemoEmailDomain = "example.com"
	DemoEmailFrom   = "orgaudit@" + DemoEmailDomain
	DemoEmailTo     = "platform-team@" + DemoEmailDomain
)

func demoSES(org *Organization, _ func(int) time.Time) {
	home := org.account(org.ManagementAccountID).Regions[DemoHomeRegion]
	home.EmailIdentities = append(home.EmailIdentities, DemoEmailDomain)
}

// Emails returns the messages SES accepted so far, oldest first.
func (s *Server) Emails() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Email(nil), s.emails...)
}
