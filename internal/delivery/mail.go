package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	orgmail "github.com/orgaudit/orgaudit/internal/mail"
	"github.com/orgaudit/orgaudit/internal/report"
)

// maxOwnerEmails bounds the owner emails of one run: each builds a workbook of its own, and SES's sandbox sends 200
// messages a day. Owners past it are named in the result as not emailed.
const maxOwnerEmails = 100

// email is one message of the run: its audience, recipients and the result it reports.
type email struct {
	audience, owner, marker string
	to                      []string
	res                     *report.Result
	workbook                []byte
}

// emailAll sends the organization's email of res and then each owner's (an owner whose value is an email address
// gets the digest of their own accounts, with a workbook of only those), each under its own exactly-once claim, and
// returns what became of each. One failure stops nothing: every email is attempted and the errors are returned
// together.
func (d *Run) emailAll(ctx context.Context, bucket *s3.Client, res *report.Result, wb Workbook) ([]report.Emailed, error) {
	s := d.Settings.Email
	from := *s.From
	if from.Name == "" {
		from.Name = "orgaudit" // what the inbox lists as the sender, rather than the bare address
	}
	client := sesv2.NewFromConfig(d.Config, func(o *sesv2.Options) {
		if s.Region != "" {
			o.Region = s.Region
		}
	})
	var emailed []report.Emailed
	emails := []email{{audience: report.AudienceOrganization, marker: "email/organization", to: s.To, res: res, workbook: wb.Body}}
	addresses := ownerAddresses(res)
	for _, owner := range report.Owners(res) {
		if !addresses[owner] || s.IsAddress == nil || !s.IsAddress(owner) {
			continue
		}
		e := email{audience: report.AudienceOwner, owner: owner, marker: "email/owner/" + owner, to: []string{owner}}
		if len(emails) > maxOwnerEmails {
			emailed = append(emailed, report.Emailed{Audience: e.audience, Owner: owner, To: e.to, Outcome: report.EmailFailed,
				Error: fmt.Sprintf("not emailed: a run emails at most %d owners", maxOwnerEmails)})
			continue
		}
		emails = append(emails, e)
	}
	var errs []error
	for _, e := range emails {
		if e.res == nil {
			e.res = report.ForOwner(res, e.owner)
			var err error
			if e.workbook, err = wb.ForOwner(e.res); err != nil {
				errs = append(errs, fmt.Errorf("email to owner %s: build workbook: %w", e.owner, err))
				emailed = append(emailed, report.Emailed{Audience: e.audience, Owner: e.owner, To: e.to, Outcome: report.EmailFailed, Error: err.Error()})
				continue
			}
		}
		rec, err := d.sendEmailOnce(ctx, client, bucket, from, e)
		emailed = append(emailed, rec)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return emailed, errors.Join(errs...)
}

// ownerAddresses are the owners that may be mailed: those whose every account is owned through an owner tag that
// is exactly that one address (crossaccount.Account.OwnerEmail). An owner named by an OU path is never one, nor one
// whose name an OU path shares with a tag: the accounts under that OU would be mailed to it.
func ownerAddresses(res *report.Result) map[string]bool {
	out := map[string]bool{}
	for _, a := range res.AccountList {
		if ok, seen := out[a.Owner]; !seen || ok {
			out[a.Owner] = a.OwnerEmail != "" && a.OwnerEmail == a.Owner
		}
	}
	return out
}

// sendEmailOnce composes e and hands it to SES unless another invocation of the run has or is doing so, and says
// what became of it.
//
// The claim is dated by the clock as it runs (it may follow a wait for another invocation's lease), the email by the
// time it is composed.
func (d *Run) sendEmailOnce(ctx context.Context, client *sesv2.Client, bucket *s3.Client, from mail.Address, e email) (report.Emailed, error) {
	log := d.Log
	rec := report.Emailed{Audience: e.audience, Owner: e.owner, To: e.to}
	raw, opts, err := composeEmail(from, e, d.Now(), MaxEmailBytes)
	rec.Attached, rec.NotAttached, rec.Bytes = opts.Attached != "", opts.NotAttached, orgmail.EncodedSize(raw)
	if err == nil {
		claim := Claim{RunID: d.RunID, Trigger: d.Settings.Trigger, Now: d.Now}
		if d.Settings.Bucket != "" && bucket != nil {
			claim.Bucket, claim.MarkerKey = d.Settings.Bucket, MessageMarkerKey(d.Settings.Prefix, d.RunTime, d.Settings.Trigger, d.RunID, e.marker)
		}
		var sent Sent
		sent, err = SendOnce(ctx, bucket, claim, func(ctx context.Context) (string, error) {
			return SendEmail(ctx, client, from.Address, e.to, raw)
		})
		if err == nil {
			rec.MessageID = sent.MessageID
			switch sent.Outcome {
			case Published:
				rec.Outcome = report.EmailSent
				log.InfoContext(ctx, "email sent", "audience", e.audience, "owner", e.owner, "to", e.to, "message_id", sent.MessageID,
					"attached", rec.Attached, "bytes", rec.Bytes, "took_over_stale_claim", sent.TookOver)
				if sent.MarkErr != nil {
					log.WarnContext(ctx, "email sent but its marker not marked sent", "marker", claim.MarkerKey, "err", sent.MarkErr)
				}
			case AlreadyPublished:
				rec.Outcome = report.EmailAlreadySent
				log.InfoContext(ctx, "email already sent by another invocation of this run", "audience", e.audience, "owner", e.owner)
			default:
				err = fmt.Errorf("sending it ended %q, which this job does not know", sent.Outcome)
			}
		}
	}
	if err != nil {
		who := "the organization's email"
		if e.owner != "" {
			who = "the email to owner " + e.owner
		}
		err = fmt.Errorf("%s: %w", who, err)
		rec.Outcome, rec.Error = report.EmailFailed, err.Error()
		log.ErrorContext(ctx, "email failed", "audience", e.audience, "owner", e.owner, "err", err)
	}
	return rec, err
}

// composeEmail renders e as a MIME message of at most limit bytes base64-encoded (SES's measure): with the workbook
// attached when it fits, else without it (both parts say so and point at the link), and, should even that be too
// large, with fewer rows in the HTML.
func composeEmail(from mail.Address, e email, now time.Time, limit int) ([]byte, report.MailOptions, error) {
	filename := "orgaudit-" + e.res.RunID + ".xlsx"
	to := make([]mail.Address, len(e.to))
	for i, addr := range e.to {
		to[i] = mail.Address{Address: addr}
	}
	subject := report.Subject(e.res)
	attempts := []report.MailOptions{{Attached: filename}, {}, {MaxRows: 1_000}, {MaxRows: 100}, {MaxRows: 10}}
	notAttached := ""
	for i, opts := range attempts {
		var attachments []orgmail.Attachment
		if opts.Attached != "" {
			attachments = []orgmail.Attachment{{Filename: filename, ContentType: ContentType, Data: e.workbook}}
		} else {
			opts.NotAttached = notAttached
		}
		html, err := report.HTML(e.res, opts)
		if err != nil {
			return nil, opts, err
		}
		raw, err := orgmail.Message{From: from, To: to, Subject: subject, Date: now, Text: report.EmailText(e.res, opts), HTML: html,
			Attachments: attachments, Headers: [][2]string{{"X-Orgaudit-Run-Id", e.res.RunID}}}.Bytes()
		if err != nil {
			return nil, opts, err
		}
		n := orgmail.EncodedSize(raw)
		if n <= limit {
			return raw, opts, nil
		}
		if i == 0 {
			notAttached = fmt.Sprintf("with it the message would be %s, over the %s SES takes", megabytes(n), megabytes(limit))
		}
		if i == len(attempts)-1 {
			return raw, opts, fmt.Errorf("the email is %d bytes encoded even with 10 rows a section, over SES's %d", n, limit)
		}
	}
	panic("unreachable")
}

// megabytes is n bytes in decimal megabytes, as SES states its limit.
func megabytes(n int) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
