package mail

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func workbook(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetCellValue("Sheet1", "A1", "Zürich データ"); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// parsed is a message read back the way a mail client reads it.
type parsed struct {
	header      mail.Header
	subject     string
	text, html  string
	attachments map[string][]byte
	types       map[string]string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v\n%.2000s", err, raw)
	}
	p := parsed{header: msg.Header, attachments: map[string][]byte{}, types: map[string]string{}}
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("top-level type %q %v", mt, err)
	}
	mixed := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mixed.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		mt, params, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		if mt == "multipart/alternative" {
			alt := multipart.NewReader(part, params["boundary"])
			for {
				sub, err := alt.NextPart() // decodes quoted-printable
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(sub)
				if err != nil {
					t.Fatal(err)
				}
				st, sp, _ := mime.ParseMediaType(sub.Header.Get("Content-Type"))
				if sp["charset"] != "utf-8" {
					t.Errorf("%s part charset %q", st, sp["charset"])
				}
				switch st {
				case "text/plain":
					p.text = string(body)
				case "text/html":
					p.html = string(body)
				default:
					t.Errorf("unexpected alternative %s", st)
				}
			}
			continue
		}
		_, disp, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if err != nil {
			t.Fatal(err)
		}
		if enc := part.Header.Get("Content-Transfer-Encoding"); enc != "base64" {
			t.Errorf("attachment encoded %q", enc)
		}
		data, err := io.ReadAll(base64Reader(part))
		if err != nil {
			t.Fatal(err)
		}
		p.attachments[disp["filename"]], p.types[disp["filename"]] = data, mt
	}
	return p
}

func TestMessageReadsBackAsAClientReadsIt(t *testing.T) {
	t.Parallel()
	book := workbook(t)
	subject := "orgaudit 2026-11-22: 3 new, 1 fixed | Zürich データ 🚀 " + strings.Repeat("long subject ", 8)
	text := "Findings: 1 critical\n- acct (111122223333) eu-west-1 [check] " + strings.Repeat("x", 300) + "\nZürich\n"
	html := "<!DOCTYPE html><html><body><p>" + strings.Repeat("Zürich ", 200) + "</p></body></html>"
	m := Message{
		From:    mail.Address{Name: "orgaudit", Address: "audit@example.com"},
		To:      []mail.Address{{Address: "platform@example.com"}, {Name: "Équipe FinOps", Address: "finops@example.com"}},
		Subject: subject, Date: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), Text: text, HTML: html,
		Attachments: []Attachment{{Filename: "orgaudit-20261122T080000Z.xlsx", ContentType: xlsxType, Data: book}},
		Headers:     [][2]string{{"X-Orgaudit-Run-Id", "20261122T080000Z"}},
	}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d characters: SES refuses lines over 1,000", i+1, len(line))
		}
		if strings.Contains(line, "\n") || strings.Contains(line, "\r") {
			t.Errorf("line %d holds a bare line break: %q", i+1, line)
		}
		for _, c := range []byte(line) {
			if c >= 0x80 {
				t.Fatalf("line %d holds a byte that is not 7-bit: %q", i+1, line)
			}
		}
		// RFC 5322 asks for 78 characters where a line can be folded: only one word too long to break (an
		// encoded-word of 75, a media type) may pass it.
		if len(line) > 78 && strings.Count(strings.TrimSpace(line), " ") > 1 {
			t.Errorf("line %d is %d characters, more than the 78 RFC 5322 asks for: %q", i+1, len(line), line)
		}
	}
	p := parse(t, raw)
	if p.subject != subject {
		t.Errorf("subject %q, want %q", p.subject, subject)
	}
	if !strings.Contains(p.header.Get("Subject"), "=?utf-8?q?") {
		t.Errorf("a non-ASCII subject must be encoded-words: %q", p.header.Get("Subject"))
	}
	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 2 || to[1].Name != "Équipe FinOps" || to[1].Address != "finops@example.com" {
		t.Errorf("To %v %v", to, err)
	}
	if from, err := p.header.AddressList("From"); err != nil || from[0].Address != "audit@example.com" {
		t.Errorf("From %v %v", from, err)
	}
	if _, err := p.header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if p.header.Get("MIME-Version") != "1.0" || p.header.Get("X-Orgaudit-Run-Id") != "20261122T080000Z" || p.header.Get("Message-Id") == "" {
		t.Errorf("headers %v", p.header)
	}
	if want := strings.ReplaceAll(text, "\n", "\r\n"); p.text != want {
		t.Errorf("text part %q, want %q", p.text, want)
	}
	if p.html != html {
		t.Errorf("html part differs:\n%q", p.html)
	}
	got := p.attachments["orgaudit-20261122T080000Z.xlsx"]
	if !bytes.Equal(got, book) || p.types["orgaudit-20261122T080000Z.xlsx"] != xlsxType {
		t.Fatalf("attachment %d bytes of %q, want %d bytes", len(got), p.types["orgaudit-20261122T080000Z.xlsx"], len(book))
	}
	f, err := excelize.OpenReader(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("the attached workbook does not open: %v", err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue("Sheet1", "A1"); v != "Zürich データ" {
		t.Errorf("attached workbook A1 %q", v)
	}
	if n := EncodedSize(raw); n != (len(raw)+2)/3*4 {
		t.Errorf("encoded size %d for %d bytes", n, len(raw))
	}
}

func TestMessageRefusesWhatWouldForgeHeaders(t *testing.T) {
	t.Parallel()
	base := Message{From: mail.Address{Address: "a@example.com"}, To: []mail.Address{{Address: "b@example.com"}}, Text: "t", HTML: "h"}
	cases := map[string]Message{
		"no recipient":          {From: base.From, Subject: "s"},
		"line break in subject": {From: base.From, To: base.To, Subject: "ok\r\nBcc: victim@example.com"},
		"header line break":     {From: base.From, To: base.To, Headers: [][2]string{{"X-A", "b\r\nBcc: victim@example.com"}}},
		"non-ASCII header":      {From: base.From, To: base.To, Headers: [][2]string{{"X-A", "Zürich"}}},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if raw, err := m.Bytes(); err == nil {
				t.Errorf("accepted:\n%s", raw)
			}
		})
	}
	if _, err := base.Bytes(); err != nil {
		t.Errorf("the plain message is refused: %v", err)
	}
}

// base64Reader decodes a base64 body whose lines end in CRLF.
func base64Reader(r io.Reader) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, newlineDropper{r})
}

type newlineDropper struct{ r io.Reader }

func (d newlineDropper) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	out := p[:0]
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			out = append(out, c)
		}
	}
	return len(out), err
}
