// Package mailtest reads an email back as a mail client does, for the tests of the packages that send one
// (internal/delivery, internal/audit). Only tests import it.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
)

// Message is a message read back as a mail client reads it.
type Message struct {
	Header      mail.Header
	Subject     string
	Text, HTML  string
	Attachments map[string][]byte
}

// Read parses raw with net/mail and mime/multipart: headers, the text and HTML alternatives (quoted-printable
// decoded) and the base64 attachments by file name.
func Read(t testing.TB, raw []byte) Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read the email: %v", err)
	}
	e := Message{Header: msg.Header, Attachments: map[string][]byte{}}
	if e.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	var walk func(r io.Reader, contentType string)
	walk = func(r io.Reader, contentType string) {
		mt, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(mt, "multipart/") {
			t.Fatalf("unexpected %s", mt)
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ct := part.Header.Get("Content-Type")
			pt, _, _ := mime.ParseMediaType(ct)
			switch {
			case strings.HasPrefix(pt, "multipart/"):
				walk(part, ct)
			case part.FileName() != "":
				data, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, part))
				if err != nil {
					t.Fatal(err)
				}
				e.Attachments[part.FileName()] = data
			default:
				body, err := io.ReadAll(part)
				if err != nil {
					t.Fatal(err)
				}
				if pt == "text/html" {
					e.HTML = string(body)
				} else {
					e.Text = strings.ReplaceAll(string(body), "\r\n", "\n")
				}
			}
		}
	}
	walk(msg.Body, msg.Header.Get("Content-Type"))
	return e
}
