package audit_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/mail/mailtest"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestEmailCarriesTheWorkbook: with -email-from and -email-to the run mails the digest through SES as text and HTML
// with the workbook attached, byte for byte the one uploaded; a retried invocation of the run does not mail again.
func TestEmailCarriesTheWorkbook(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.RunTime = demoAsOf.Add(8 * time.Hour)
	s.EmailFrom, s.EmailTo = awssim.DemoEmailFrom, []string{awssim.DemoEmailTo}
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	// The demo's owners whose owner tag is an address get their own email beside the organization's.
	sent := emailsTo(sim, awssim.DemoEmailTo)
	if len(sent) != 1 || sent[0].From != awssim.DemoEmailFrom {
		t.Fatalf("%d emails to %s, want 1 from %s", len(sent), awssim.DemoEmailTo, awssim.DemoEmailFrom)
	}
	total := len(sim.Emails())
	e := mailtest.Read(t, sent[0].Raw)
	if e.Subject != out.Subject || e.Header.Get("From") != `"orgaudit" <`+awssim.DemoEmailFrom+`>` {
		t.Errorf("subject %q from %q", e.Subject, e.Header.Get("From"))
	}
	name := "orgaudit-" + out.Result.RunID + ".xlsx"
	book := e.Attachments[name]
	if !bytes.Equal(book, out.Workbook) {
		t.Fatalf("attachment %q is %d bytes, the workbook %d", name, len(book), len(out.Workbook))
	}
	f, err := excelize.OpenReader(bytes.NewReader(book))
	if err != nil {
		t.Fatalf("the attached workbook does not open: %v", err)
	}
	if idx, _ := f.GetSheetIndex("Summary"); idx < 0 {
		t.Errorf("the attached workbook has no Summary sheet: %v", f.GetSheetList())
	}
	f.Close()
	wantText := report.EmailText(out.Result, report.MailOptions{Attached: name})
	if e.Text != wantText || !strings.Contains(e.Text, "Findings: ") {
		t.Errorf("text part:\n%.800s\nwant:\n%.800s", e.Text, wantText)
	}
	for _, want := range []string{"The workbook is attached:", "CRITICAL (", "Download the workbook", "Not audited ("} {
		if !strings.Contains(e.HTML, want) {
			t.Errorf("the HTML part lacks %q", want)
		}
	}
	em := out.Result.Emailed
	if len(em) != total || em[0].Outcome != report.EmailSent || em[0].MessageID != sent[0].MessageID || !em[0].Attached || em[0].Audience != report.AudienceOrganization {
		t.Errorf("%d emails sent, result says %+v", total, em)
	}
	for _, e := range em[1:] {
		if e.Audience != report.AudienceOwner || e.Outcome != report.EmailSent || !slices.Equal(e.To, []string{e.Owner}) {
			t.Errorf("owner email: %+v", e)
		}
	}
	t.Logf("email %d bytes (%d encoded), workbook %d bytes attached; %d owner emails", len(sent[0].Raw), em[0].Bytes, len(book), total-1)

	again, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Emails()); n != total {
		t.Errorf("the retry sent %d emails, want none", n-total)
	}
	for _, e := range again.Result.Emailed {
		if e.Outcome != report.EmailAlreadySent {
			t.Errorf("the retry says %+v", e)
		}
	}
}

// emailsTo are the emails the simulated SES was given for exactly these recipients.
func emailsTo(sim *awssim.Server, to ...string) []awssim.Email {
	var out []awssim.Email
	for _, e := range sim.Emails() {
		if slices.Equal(e.To, to) {
			out = append(out, e)
		}
	}
	return out
}

// TestEmailFailureFailsDeliveryAfterTheDigest: SES refusing the message (a recipient the sandboxed account has not
// verified) fails the run as a DeliveryFailedError with SES's own error, after the digest and workbook went out.
func TestEmailFailureFailsDeliveryAfterTheDigest(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	s := demoSettings()
	s.EmailFrom, s.EmailTo = awssim.DemoEmailFrom, []string{"cto@elsewhere.example"}
	out, err := audit.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s, audit.Options{Logger: quietLogger()})
	var failed *audit.DeliveryFailedError
	var rejected *sestypes.MessageRejected
	if !errors.As(err, &failed) || !errors.As(err, &rejected) || !strings.Contains(err.Error(), "cto@elsewhere.example") {
		t.Fatalf("err %v, want a DeliveryFailedError from SES's MessageRejected", err)
	}
	if len(sim.Digests()) != 1 || len(sim.Workbooks()) != 1 || !out.Result.Published {
		t.Errorf("the digest and workbook must go out first: %d published, %d workbooks", len(sim.Digests()), len(sim.Workbooks()))
	}
	// The organization's email failed; each owner's went out all the same.
	em := out.Result.Emailed
	if len(em) < 2 || em[0].Audience != report.AudienceOrganization || em[0].Outcome != report.EmailFailed || !strings.Contains(em[0].Error, "MessageRejected") {
		t.Errorf("result says %+v", em)
	}
	for _, e := range em[1:] {
		if e.Outcome != report.EmailSent || len(emailsTo(sim, e.Owner)) != 1 {
			t.Errorf("owner email: %+v", e)
		}
	}
}
