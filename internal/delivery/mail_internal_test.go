package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/mail/mailtest"
	"github.com/orgaudit/orgaudit/internal/report"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// isAddress stands for the settings' rule (audit.IsEmailAddress) in these tests: every owner here that holds an @
// is one plain address.
func isAddress(s string) bool { return strings.Count(s, "@") == 1 && !strings.ContainsAny(s, " <>") }

func ownedFinding(i int, owner string, sev checks.Severity) checks.Finding {
	return checks.Finding{Check: "cloudformation-failed-stacks", Severity: sev, AccountID: fmt.Sprintf("%012d", 200000000000+i),
		AccountName: fmt.Sprintf("acct-%d", i), Region: "us-east-1", ResourceType: "stack", ResourceID: fmt.Sprintf("stack-%d", i),
		Status: "UPDATE_ROLLBACK_FAILED", Reason: "failed", Owner: owner}
}

// ownedResult is a run over three owners' accounts: two owners whose tags are addresses (one whose domain SES has not
// verified, in the sandbox), and a team name.
func ownedResult() *report.Result {
	owners := []string{"team-a@" + awssim.DemoEmailDomain, "Team B", "ops@elsewhere.example", "team-a@" + awssim.DemoEmailDomain}
	fan := &crossaccount.Result{Scope: "organization"}
	for i, owner := range owners {
		f := ownedFinding(i, owner, checks.Severities[i%len(checks.Severities)])
		fan.Findings = append(fan.Findings, f)
		a := crossaccount.Account{ID: f.AccountID, Name: f.AccountName, Owner: owner}
		if strings.Contains(owner, "@") {
			// The owner tag holds exactly this address, as the walk found it (crossaccount's owners).
			a.OwnerEmail = owner
		}
		fan.Accounts = append(fan.Accounts, a)
		fan.Cells.Add(crossaccount.Cell{AccountID: f.AccountID, AccountName: f.AccountName, Region: f.Region, Check: f.Check,
			Outcome: crossaccount.OutcomeFindings, Findings: 1, Owner: owner})
	}
	return report.Build("owned-run", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), []string{"us-east-1"}, checks.All(), fan)
}

// TestEmailsGoToEachOwnerWithOnlyTheirAccounts: beside the organization's email, each owner that is an address gets
// one email with a workbook of only their accounts, under a claim of its own; an owner SES refuses (an unverified
// recipient in the sandbox) fails alone, and a retry of the run sends only what was not sent.
func TestEmailsGoToEachOwnerWithOnlyTheirAccounts(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	sim := testkit.StartEnforced(t, org, testkit.DemoDeployment(org))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	bucket := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	s := Settings{Bucket: awssim.DemoBucket, Prefix: "orgaudit", Trigger: "cli",
		Email: Email{From: &mail.Address{Address: awssim.DemoEmailFrom}, To: []string{awssim.DemoEmailTo}, IsAddress: isAddress}}
	runTime := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	d := &Run{Settings: s, Config: cfg, RunID: "owned-run", RunTime: runTime, Now: func() time.Time { return runTime },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	send := func() ([]report.Emailed, error) {
		res := ownedResult()
		wb, err := report.Workbook(res, checks.All())
		if err != nil {
			t.Fatal(err)
		}
		return d.emailAll(context.Background(), bucket, res, Workbook{Body: wb, ForOwner: func(r *report.Result) ([]byte, error) { return report.Workbook(r, checks.All()) }})
	}
	emailed, err := send()
	var rejected *sestypes.MessageRejected
	if !errors.As(err, &rejected) || !strings.Contains(err.Error(), "the email to owner ops@elsewhere.example") {
		t.Fatalf("err %v, want the unverified owner's MessageRejected", err)
	}
	outcomes := map[string]string{}
	for _, e := range emailed {
		outcomes[e.Audience+"/"+e.Owner] = e.Outcome
	}
	want := map[string]string{"organization/": report.EmailSent, "owner/team-a@example.com": report.EmailSent, "owner/ops@elsewhere.example": report.EmailFailed}
	if fmt.Sprint(outcomes) != fmt.Sprint(want) {
		t.Fatalf("emailed %v, want %v", outcomes, want)
	}
	sent := sim.Emails()
	if len(sent) != 2 {
		t.Fatalf("%d emails, want the organization's and team-a's", len(sent))
	}
	team := mailtest.Read(t, sent[1].Raw)
	if sent[1].To[0] != "team-a@example.com" || team.Header.Get("To") != "<team-a@example.com>" {
		t.Errorf("owner email to %v, header %q", sent[1].To, team.Header.Get("To"))
	}
	book := team.Attachments["orgaudit-owned-run.xlsx"]
	f, err := excelize.OpenReader(bytes.NewReader(book))
	if err != nil {
		t.Fatalf("the owner's workbook does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("cloudformation-failed-stacks")
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprint(rows)
	if !strings.Contains(text, "stack-0") || !strings.Contains(text, "stack-3") || strings.Contains(text, "stack-1") || strings.Contains(text, "stack-2") {
		t.Errorf("team-a's workbook holds other owners' stacks or lacks its own: %v", rows)
	}
	if strings.Contains(team.Text, "stack-1") || strings.Contains(team.HTML, "stack-2") || !strings.Contains(team.HTML, "stack-3") {
		t.Errorf("team-a's digest names other owners' accounts")
	}
	for _, marker := range []string{"email/organization", "email/owner/team-a@example.com"} {
		key := MessageMarkerKey(s.Prefix, runTime, s.Trigger, "owned-run", marker)
		if _, err := bucket.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}); err != nil {
			t.Errorf("no marker for %s: %v", marker, err)
		}
	}
	t.Logf("organization email %d bytes, team-a's %d bytes (workbook %d bytes)", len(sent[0].Raw), len(sent[1].Raw), len(book))

	// The retry: the owner's address is verified now. Only its email goes out.
	org.Accounts[0].Regions[awssim.DemoHomeRegion].EmailIdentities = append(org.Accounts[0].Regions[awssim.DemoHomeRegion].EmailIdentities, "ops@elsewhere.example")
	emailed, err = send()
	if err != nil {
		t.Fatal(err)
	}
	outcomes = map[string]string{}
	for _, e := range emailed {
		outcomes[e.Audience+"/"+e.Owner] = e.Outcome
	}
	want = map[string]string{"organization/": report.EmailAlreadySent, "owner/team-a@example.com": report.EmailAlreadySent, "owner/ops@elsewhere.example": report.EmailSent}
	if fmt.Sprint(outcomes) != fmt.Sprint(want) || len(sim.Emails()) != 3 {
		t.Errorf("retry emailed %v (%d emails in all), want %v", outcomes, len(sim.Emails()), want)
	}
}

// TestEmailWithoutTheAttachmentWhenTooLarge: a workbook that would take the message past the limit stays out; both
// parts say so and point at the link; a message that still does not fit lists fewer rows.
func TestEmailWithoutTheAttachmentWhenTooLarge(t *testing.T) {
	t.Parallel()
	res := ownedResult()
	link := "https://orgaudit-reports.s3.amazonaws.com/orgaudit/2026/11/22/orgaudit-owned-run.xlsx?X-Amz-Signature=abc"
	res.Report = &report.Location{URL: link}
	wb, err := report.Workbook(res, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	e := email{audience: report.AudienceOrganization, to: []string{awssim.DemoEmailTo}, res: res, workbook: wb}
	from := mail.Address{Name: "orgaudit", Address: awssim.DemoEmailFrom}
	full, opts, err := composeEmail(from, e, time.Now(), MaxEmailBytes)
	if err != nil || opts.Attached == "" {
		t.Fatalf("a small workbook is attached: %v %+v", err, opts)
	}
	limit := len(full) // the workbook attached, the message is 4/3 of its raw size: past the limit
	raw, opts, err := composeEmail(from, e, time.Now(), limit)
	if err != nil {
		t.Fatal(err)
	}
	got := mailtest.Read(t, raw)
	if len(got.Attachments) != 0 || opts.Attached != "" || !strings.Contains(opts.NotAttached, "over the") {
		t.Fatalf("attached %v, options %+v", len(got.Attachments), opts)
	}
	if !strings.HasPrefix(got.Text, "The workbook is not attached (with it the message would be") || !strings.Contains(got.Text, link) {
		t.Errorf("the text part must say why and give the link:\n%.600s", got.Text)
	}
	if !strings.Contains(got.HTML, "The workbook is not attached</b>") || !strings.Contains(got.HTML, "Download the workbook") {
		t.Errorf("the HTML part must say why and give the link")
	}
	if _, _, err := composeEmail(from, e, time.Now(), 100); err == nil {
		t.Error("a limit nothing fits in must be an error")
	}
	t.Logf("with the workbook %d bytes encoded; without it %d (limit %d)", mailEncoded(full), mailEncoded(raw), limit)
}

func mailEncoded(raw []byte) int { return base64.StdEncoding.EncodedLen(len(raw)) }
