// Package mail writes one email as RFC 5322 and MIME define it: headers (non-ASCII text as RFC 2047 encoded-words),
// a multipart/alternative body of plain text and HTML, and attachments, with every line within the lengths the RFCs
// and Amazon SES require. It is a renderer of bytes only: no AWS call, no knowledge of the audit. It imports nothing
// of ours.
package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is one email.
type Message struct {
	From mail.Address
	To   []mail.Address
	// Subject may hold any text; a line break or control character in it is an error.
	Subject string
	Date    time.Time
	// Text and HTML are the two renderings of the body; a reader's client shows the HTML when it can.
	Text, HTML  string
	Attachments []Attachment
	// Headers are further headers in the order given (X-Orgaudit-Run-Id), ASCII only.
	Headers [][2]string
}

// Attachment is one file attached to the message.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// maxHeaderLine is where headers are folded: RFC 5322 2.1.1 asks for lines of at most 78 characters (998 is the hard
// limit, and SES's: "The length of any single line of text in the message can't exceed 1,000 characters").
const maxHeaderLine = 78

// base64Line is the length of a base64 body line: RFC 2045 6.8 allows at most 76.
const base64Line = 76

// Bytes renders m with CRLF line ends.
func (m Message) Bytes() ([]byte, error) {
	if len(m.To) == 0 {
		return nil, errors.New("a message needs at least one recipient")
	}
	if strings.ContainsFunc(m.Subject, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, errors.New("the subject holds a line break or control character")
	}
	var buf bytes.Buffer
	header := func(name, value string) { buf.WriteString(fold(name+": "+value) + "\r\n") }
	header("From", m.From.String())
	to := make([]string, len(m.To))
	for i, a := range m.To {
		to[i] = a.String()
	}
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+randomToken()+"@"+domainOf(m.From.Address)+">")
	for _, h := range m.Headers {
		if !ascii(h[0]+h[1]) || strings.ContainsAny(h[0]+h[1], "\r\n") {
			return nil, fmt.Errorf("header %q is not one line of ASCII", h[0])
		}
		header(h[0], h[1])
	}
	header("MIME-Version", "1.0")

	mixed := multipart.NewWriter(&buf)
	header("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mixed.Boundary()}))
	buf.WriteString("\r\n")

	var alt bytes.Buffer
	altWriter := multipart.NewWriter(&alt)
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		w, err := altWriter.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {folded("Content-Type", mime.FormatMediaType(part.typ, map[string]string{"charset": "utf-8"}))},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		// Quoted-printable keeps every line within 76 characters and any byte 7-bit, whatever the text holds.
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := altWriter.Close(); err != nil {
		return nil, err
	}
	w, err := mixed.CreatePart(textproto.MIMEHeader{
		"Content-Type": {folded("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": altWriter.Boundary()}))},
	})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(alt.Bytes()); err != nil {
		return nil, err
	}
	for _, a := range m.Attachments {
		w, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {folded("Content-Type", mime.FormatMediaType(a.ContentType, map[string]string{"name": a.Filename}))},
			"Content-Disposition":       {folded("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(base64Lines(a.Data)); err != nil {
			return nil, err
		}
	}
	if err := mixed.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EncodedSize is the size of raw as it travels to SES: SendEmail's Content.Raw.Data is base64 in the request, and SES
// counts a message's size after base64 encoding.
func EncodedSize(raw []byte) int { return base64.StdEncoding.EncodedLen(len(raw)) }

// base64Lines is data in base64, in lines of 76 characters ended by CRLF.
func base64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	var b bytes.Buffer
	b.Grow(len(enc) + len(enc)/base64Line*2 + 2)
	for len(enc) > base64Line {
		b.WriteString(enc[:base64Line] + "\r\n")
		enc = enc[base64Line:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}

// fold breaks a header line at spaces (between encoded-words, addresses or words) so no line passes maxHeaderLine
// where a space allows; a run without one stays whole, as RFC 5322 permits up to 998 characters.
func fold(line string) string {
	if len(line) <= maxHeaderLine {
		return line
	}
	var b strings.Builder
	width := 0
	for i, word := range strings.Split(line, " ") {
		if i > 0 {
			// Never right after the header's name: a folded header may not start with white space alone.
			if i > 1 && width+1+len(word) > maxHeaderLine {
				b.WriteString("\r\n")
				width = 0
			}
			b.WriteByte(' ')
			width++
		}
		b.WriteString(word)
		width += len(word)
	}
	return b.String()
}

// folded is a part header's value folded as fold folds the whole line, for multipart's writer, which writes
// "name: value" as given.
func folded(name, value string) string { return fold(name + ": " + value)[len(name)+2:] }

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// domainOf is an address's domain, for the Message-ID's right side.
func domainOf(address string) string {
	if _, d, ok := strings.Cut(address, "@"); ok && d != "" {
		return d
	}
	return "orgaudit.invalid"
}

func randomToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
