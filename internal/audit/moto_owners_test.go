package audit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/mototest"
	"github.com/orgaudit/orgaudit/internal/report"
)

// The owners' world in moto 5.2.1, what the owner routing (issue 11) is tested against. What moto does, read in its
// source (moto/organizations, moto/sns, moto/sesv2 and moto/ses models.py and responses.py), and where it is kinder
// than AWS:
//
// Organizations
//   - OUs nest under any parent; ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent walk them and
//     paginate (ListAccountsForParent 20 a page by default, as AWS's maximum). CreateOrganizationalUnit checks neither
//     the parent nor a duplicate name under it (AWS: ParentNotFoundException, DuplicateOrganizationalUnitException).
//   - CreateAccount succeeds at once (AWS: IN_PROGRESS, then SUCCEEDED minutes later) and puts the account in the root;
//     MoveAccount moves it. The management account ("master", 123456789012 for credentials moto did not issue) sits
//     in the root.
//   - TagResource and ListTagsForResource work on account ids, OUs, roots and policies; an account never tagged lists
//     no tags. No request rate is enforced (AWS throttles Organizations at a few requests a second), so the bounded tag
//     rate is not exercised here but by the simulator.
//
// SNS
//   - Subscriptions of every protocol are confirmed at once (PendingConfirmation false): an http or https endpoint
//     never receives the SubscriptionConfirmation AWS sends first.
//   - A filter policy applies to message attributes by default (FilterPolicyScope MessageAttributes), as in AWS.
//   - With MessageStructure=json each subscription gets the body under its protocol's own key, else "default": an sqs
//     queue the "sqs" body, an https endpoint the "https" body, an http endpoint the "http" body. A chat card under
//     "https" therefore never reaches a plain-http listener (AWS behaves the same), so the chat listener here speaks
//     TLS, and moto (Python requests) is told to trust its certificate through REQUESTS_CA_BUNDLE.
//   - Delivery happens inside Publish, synchronously: once Publish returns, the queues hold the message. To SQS moto
//     wraps it in the JSON envelope with MessageAttributes ({"Type","Value"}); to http(s) it POSTs the envelope with
//     Content-Type text/plain but without AWS's x-amz-sns-message-type/-message-id/-topic-arn headers, and without
//     MessageAttributes. A failed POST fails the Publish call itself (AWS retries by its delivery policy instead).
//   - The 256 KiB limit is checked on the message's length in characters (Python len), not in bytes as AWS does.
//
// SES
//   - sesv2 SendEmail with Content.Raw goes to the SES v1 backend's send_raw_email. The sender (FromEmailAddress or the
//     From header) must be an identity created by CreateEmailIdentity (or its domain), else MessageRejected; an
//     identity counts as verified as soon as it is created (AWS: after the link in the mail is followed), and the
//     sandbox's verified-recipient rule is not enforced. moto adds the To/Cc/Bcc headers' addresses to
//     Destination's, so a recipient named in both is listed (and counted against the quota) twice; AWS sends to
//     Destination's addresses only when it is given.
//   - The raw bytes are decoded as UTF-8 (a message that is not valid UTF-8 fails) and kept whole: GET
//     /moto-api/data.json lists them under ses.RawMessage (id, source, destinations, raw_data). No size limit is
//     enforced (AWS: 40 MB a message through sesv2).

// motoAccount is one account of the world: its OU path and its owner tag ("" untagged, so its OU path owns it).
type motoAccount struct {
	Name, OU, Tag string
	ID            string
}

func (a motoAccount) owner() string {
	if a.Tag != "" {
		return a.Tag
	}
	return a.OU
}

// motoOwnerTag is the tag key the job reads owners from by default.
const motoOwnerTag = "orgaudit:owner"

// motoWorldAccounts: nested OUs, two accounts of one owner in different OUs, an owner that is an email address (who
// gets an email of their own), and one untagged account, owned by its OU path.
func motoWorldAccounts() []motoAccount {
	return []motoAccount{
		{Name: "master", OU: "Root", Tag: "platform", ID: motoManagementAccount},
		{Name: "payments-prod", OU: "Root/Workloads/Prod", Tag: "payments"},
		{Name: "analytics-prod", OU: "Root/Workloads/Prod", Tag: "data@example.com"},
		{Name: "dev", OU: "Root/Workloads/Dev"},
		{Name: "payments-sandbox", OU: "Root/Sandbox", Tag: "payments"},
	}
}

type motoWorld struct {
	URL         string
	Mgmt        aws.Config
	Endpoints   mototest.ServiceEndpoints
	RootID      string
	OUs         map[string]string // path → id
	Accounts    []motoAccount
	TopicARN    string
	OwnerQueues map[string]string // owner → queue URL
	OrgQueue    string
	Chat        *snsListener // https, audience = organization
	Sender      string       // a verified SES identity
	Recipient   string
}

func (w *motoWorld) owners() []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range w.Accounts {
		if !seen[a.owner()] {
			seen[a.owner()] = true
			out = append(out, a.owner())
		}
	}
	sort.Strings(out)
	return out
}

// newMotoWorld starts moto and builds the world in it.
func newMotoWorld(t *testing.T) *motoWorld {
	t.Helper()
	ctx := context.Background()
	chat := startSNSListener(t, true)
	// NO_PROXY: a proxy set for CI must not carry moto's POST to a loopback listener.
	url := mototest.Start(t, "REQUESTS_CA_BUNDLE="+chat.CAFile, "NO_PROXY=127.0.0.1")
	w := &motoWorld{URL: url, OUs: map[string]string{}, Accounts: motoWorldAccounts(), OwnerQueues: map[string]string{}, Chat: chat,
		Sender: "orgaudit@example.com", Recipient: "cloud-team@example.com"}
	w.Endpoints = mototest.ServiceEndpoints{"Organizations": url, "STS": url, "CloudFormation": url, "SNS": url, "S3": url, "SQS": url, "SESv2": url}
	base := aws.NewConfig()
	base.Region = "us-east-1"
	base.Credentials = mototest.Credentials("AKIAMOTOMANAGEMENT01")
	w.Mgmt = mototest.WithServiceEndpoints(*base, w.Endpoints)

	org := organizations.NewFromConfig(w.Mgmt)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("roots %+v %v", roots, err)
	}
	w.RootID = aws.ToString(roots.Roots[0].Id)
	w.OUs["Root"] = w.RootID
	ouID := func(path string) string {
		parts := strings.Split(path, "/")
		for i := 2; i <= len(parts); i++ {
			p := strings.Join(parts[:i], "/")
			if w.OUs[p] != "" {
				continue
			}
			ou, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(w.OUs[strings.Join(parts[:i-1], "/")]), Name: aws.String(parts[i-1])})
			if err != nil {
				t.Fatal(err)
			}
			w.OUs[p] = aws.ToString(ou.OrganizationalUnit.Id)
		}
		return w.OUs[path]
	}
	for i := range w.Accounts {
		a := &w.Accounts[i]
		if a.ID == "" {
			created, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(a.Name), Email: aws.String(a.Name + "@example.com")})
			if err != nil {
				t.Fatal(err)
			}
			a.ID = aws.ToString(created.CreateAccountStatus.AccountId)
		}
		if dest := ouID(a.OU); dest != w.RootID {
			if _, err := org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(a.ID), SourceParentId: aws.String(w.RootID), DestinationParentId: aws.String(dest)}); err != nil {
				t.Fatal(err)
			}
		}
		if a.Tag != "" {
			if _, err := org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(a.ID), Tags: []orgtypes.Tag{{Key: aws.String(motoOwnerTag), Value: aws.String(a.Tag)}}}); err != nil {
				t.Fatal(err)
			}
		}
	}

	topic, err := sns.NewFromConfig(w.Mgmt).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orgaudit-digest")})
	if err != nil {
		t.Fatal(err)
	}
	w.TopicARN = aws.ToString(topic.TopicArn)
	for i, owner := range w.owners() {
		w.OwnerQueues[owner] = w.subscribeFilteredQueue(t, "owner-"+string(rune('a'+i)), map[string][]string{"audience": {"owner"}, "owner": {owner}})
	}
	w.OrgQueue = w.subscribeFilteredQueue(t, "organization", map[string][]string{"audience": {"organization"}})
	w.subscribe(t, "https", chat.URL, map[string][]string{"audience": {"organization"}})

	if _, err := sesv2.NewFromConfig(w.Mgmt).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(w.Sender)}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *motoWorld) subscribeFilteredQueue(t *testing.T, name string, filter map[string][]string) string {
	t.Helper()
	ctx := context.Background()
	q := sqs.NewFromConfig(w.Mgmt)
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: created.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	w.subscribe(t, "sqs", attrs.Attributes["QueueArn"], filter)
	return aws.ToString(created.QueueUrl)
}

func (w *motoWorld) subscribe(t *testing.T, protocol, endpoint string, filter map[string][]string) {
	t.Helper()
	policy, err := json.Marshal(filter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(w.Mgmt).Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: aws.String(w.TopicARN), Protocol: aws.String(protocol),
		Endpoint: aws.String(endpoint), Attributes: map[string]string{"FilterPolicy": string(policy)}}); err != nil {
		t.Fatal(err)
	}
}

// snsDelivery is the envelope SNS delivers to SQS and POSTs to http(s), with the attributes moto adds for SQS.
type snsDelivery struct {
	Type, MessageId, TopicArn, Subject, Message string
	MessageAttributes                           map[string]struct{ Type, Value string }
}

// drainQueue returns every message on the queue, deleting none: a second receive within the visibility timeout
// returns nothing, so "exactly one" is exact.
func drainQueue(t *testing.T, cfg aws.Config, queueURL string) []snsDelivery {
	t.Helper()
	var out []snsDelivery
	for {
		got, err := sqs.NewFromConfig(cfg).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, VisibilityTimeout: 300})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Messages) == 0 {
			return out
		}
		for _, m := range got.Messages {
			var env snsDelivery
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatalf("queue %s: not an SNS envelope: %v: %s", queueURL, err, aws.ToString(m.Body))
			}
			out = append(out, env)
		}
	}
}

// snsListener is an http(s) endpoint on loopback that records what SNS POSTs to it.
type snsListener struct {
	URL    string
	CAFile string // the PEM of its certificate, for moto to trust; "" for http
	mu     sync.Mutex
	posts  []snsDelivery
	heads  []http.Header
}

func startSNSListener(t *testing.T, useTLS bool) *snsListener {
	t.Helper()
	l := &snsListener{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var env snsDelivery
		if err == nil {
			err = json.Unmarshal(body, &env)
		}
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		l.mu.Lock()
		l.posts, l.heads = append(l.posts, env), append(l.heads, r.Header.Clone())
		l.mu.Unlock()
	}))
	if useTLS {
		// httptest's certificate names 127.0.0.1, the address moto connects to.
		srv.StartTLS()
		l.CAFile = filepath.Join(t.TempDir(), "listener.pem")
		if err := os.WriteFile(l.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	l.URL = srv.URL
	return l
}

func (l *snsListener) received() []snsDelivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]snsDelivery(nil), l.posts...)
}

// motoRawEmail is one message moto's SES kept, as /moto-api/data.json lists it.
type motoRawEmail struct {
	ID           string   `json:"id"`
	Source       string   `json:"source"`
	Destinations []string `json:"destinations"`
	RawData      string   `json:"raw_data"`
}

func sentEmails(t *testing.T, motoURL string) []motoRawEmail {
	t.Helper()
	resp, err := http.Get(motoURL + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var data struct {
		SES struct {
			RawMessage []motoRawEmail
		} `json:"ses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		t.Fatal(err)
	}
	return data.SES.RawMessage
}

// mimeAttachments parses a raw MIME message and returns its attachments by file name, decoded, and its headers.
func mimeAttachments(t *testing.T, raw string) (mail.Header, map[string][]byte) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var walk func(contentType string, body io.Reader, encoding, disposition string)
	walk = func(contentType string, body io.Reader, encoding, disposition string) {
		mediaType, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			t.Fatalf("content type %q: %v", contentType, err)
		}
		if strings.HasPrefix(mediaType, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p, p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"))
			}
		}
		_, dparams, err := mime.ParseMediaType(disposition)
		if err != nil || dparams["filename"] == "" {
			return
		}
		if !strings.EqualFold(encoding, "base64") {
			t.Fatalf("attachment %s encoded %q", dparams["filename"], encoding)
		}
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, body))
		if err != nil {
			t.Fatalf("attachment %s: %v", dparams["filename"], err)
		}
		out[dparams["filename"]] = b
	}
	walk(msg.Header.Get("Content-Type"), msg.Body, msg.Header.Get("Content-Transfer-Encoding"), msg.Header.Get("Content-Disposition"))
	return msg.Header, out
}

// TestMotoOwnersWorld checks, with direct SDK calls, what the owner-routing contract test relies on moto to do: the
// OU walk and account tags, filter policies and per-protocol bodies, and SES keeping what was sent.
func TestMotoOwnersWorld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newMotoWorld(t)

	t.Run("organizations walk and tags", func(t *testing.T) {
		org := organizations.NewFromConfig(w.Mgmt)
		calls := 0
		paths := map[string]string{} // account id → OU path, as the walk finds it
		var walk func(id, path string)
		walk = func(id, path string) {
			accounts := organizations.NewListAccountsForParentPaginator(org, &organizations.ListAccountsForParentInput{ParentId: aws.String(id), MaxResults: aws.Int32(1)})
			for accounts.HasMorePages() {
				page, err := accounts.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				calls++
				for _, a := range page.Accounts {
					paths[aws.ToString(a.Id)] = path
				}
			}
			ous := organizations.NewListOrganizationalUnitsForParentPaginator(org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(id)})
			for ous.HasMorePages() {
				page, err := ous.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				calls++
				for _, ou := range page.OrganizationalUnits {
					walk(aws.ToString(ou.Id), path+"/"+aws.ToString(ou.Name))
				}
			}
		}
		walk(w.RootID, "Root")
		for _, a := range w.Accounts {
			if paths[a.ID] != a.OU {
				t.Errorf("%s (%s): walked to %q, want %q", a.Name, a.ID, paths[a.ID], a.OU)
			}
			tags, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(a.ID)})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, tag := range tags.Tags {
				if aws.ToString(tag.Key) == motoOwnerTag {
					got = aws.ToString(tag.Value)
				}
			}
			if got != a.Tag {
				t.Errorf("%s: owner tag %q, want %q", a.Name, got, a.Tag)
			}
		}
		// One page of OUs per node and one page of accounts per account (MaxResults 1) or per empty node: moto pages.
		nodes := len(w.OUs)
		pages := 0
		perNode := map[string]int{}
		for _, a := range w.Accounts {
			perNode[a.OU]++
		}
		for path := range w.OUs {
			pages += max(1, perNode[path])
		}
		if len(paths) != len(w.Accounts) || calls != nodes+pages {
			t.Errorf("walk found %d accounts in %d calls, want %d in %d", len(paths), calls, len(w.Accounts), nodes+pages)
		}
		t.Logf("moto organization: %d OUs with root, %d accounts, walked in %d calls", nodes, len(paths), calls)
	})

	t.Run("sns filter policies and bodies per protocol", func(t *testing.T) {
		// A plain-http listener on the same topic shows which key an http endpoint is given.
		plain := startSNSListener(t, false)
		w.subscribe(t, "http", plain.URL, map[string][]string{"audience": {"organization"}})
		owners := w.owners()
		publish := func(attrs map[string]string, bodies map[string]string) {
			t.Helper()
			msg, err := json.Marshal(bodies)
			if err != nil {
				t.Fatal(err)
			}
			in := &sns.PublishInput{TopicArn: aws.String(w.TopicARN), Subject: aws.String("orgaudit"), Message: aws.String(string(msg)), MessageStructure: aws.String("json"),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{}}
			for k, v := range attrs {
				in.MessageAttributes[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
			}
			if _, err := sns.NewFromConfig(w.Mgmt).Publish(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		for _, owner := range owners {
			publish(map[string]string{"audience": "owner", "owner": owner}, map[string]string{"default": "default " + owner, "sqs": "sqs " + owner, "https": "https " + owner})
		}
		publish(map[string]string{"audience": "organization"}, map[string]string{"default": "default org", "sqs": "sqs org", "https": "https org"})

		for _, owner := range owners {
			got := drainQueue(t, w.Mgmt, w.OwnerQueues[owner])
			if len(got) != 1 || got[0].Message != "sqs "+owner || got[0].MessageAttributes["owner"].Value != owner || got[0].MessageAttributes["audience"].Value != "owner" {
				t.Errorf("queue of %s: %+v", owner, got)
			}
		}
		if got := drainQueue(t, w.Mgmt, w.OrgQueue); len(got) != 1 || got[0].Message != "sqs org" {
			t.Errorf("organization queue: %+v", got)
		}
		if got := w.Chat.received(); len(got) != 1 || got[0].Message != "https org" || got[0].Type != "Notification" {
			t.Errorf("https listener: %+v", got)
		}
		if got := plain.received(); len(got) != 1 || got[0].Message != "default org" {
			t.Errorf("http listener: %+v", got)
		}
		w.Chat.mu.Lock()
		h := w.Chat.heads[0]
		w.Chat.mu.Unlock()
		t.Logf("moto https POST: Content-Type %q, x-amz-sns-message-type %q", h.Get("Content-Type"), h.Get("x-amz-sns-message-type"))
		t.Logf("moto sns: %d owner queues, 1 organization queue, each received exactly its own message", len(owners))
	})

	t.Run("ses keeps raw emails", func(t *testing.T) {
		ses := sesv2.NewFromConfig(w.Mgmt)
		attachment := []byte("PK\x03\x04 not really a workbook, bytes only")
		var raw bytes.Buffer
		mw := multipart.NewWriter(&raw)
		header := "From: " + w.Sender + "\r\nTo: " + w.Recipient + "\r\nSubject: moto check\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=" + mw.Boundary() + "\r\n\r\n"
		text, _ := mw.CreatePart(map[string][]string{"Content-Type": {"text/plain; charset=utf-8"}})
		io.WriteString(text, "hello")
		att, _ := mw.CreatePart(map[string][]string{"Content-Type": {"application/octet-stream"}, "Content-Transfer-Encoding": {"base64"},
			"Content-Disposition": {`attachment; filename="audit.xlsx"`}})
		io.WriteString(att, base64.StdEncoding.EncodeToString(attachment))
		mw.Close()
		message := append([]byte(header), raw.Bytes()...)

		_, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("stranger@example.org"), Destination: &sestypes.Destination{ToAddresses: []string{w.Recipient}},
			Content: &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: message}}})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "MessageRejected" {
			t.Errorf("unverified sender: %v, want MessageRejected", err)
		}
		sent, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String(w.Sender), Destination: &sestypes.Destination{ToAddresses: []string{w.Recipient}},
			Content: &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: message}}})
		if err != nil {
			t.Fatal(err)
		}
		emails := sentEmails(t, w.URL)
		if len(emails) != 1 || emails[0].ID != aws.ToString(sent.MessageId) || emails[0].Source != w.Sender || emails[0].RawData != string(message) {
			t.Fatalf("moto kept %+v", emails)
		}
		h, files := mimeAttachments(t, emails[0].RawData)
		if h.Get("Subject") != "moto check" || !bytes.Equal(files["audit.xlsx"], attachment) {
			t.Errorf("read back: subject %q attachments %v", h.Get("Subject"), files)
		}
		t.Logf("moto ses: message %s kept whole (%d bytes), destinations %v", emails[0].ID, len(emails[0].RawData), emails[0].Destinations)
	})
}

// motoJob is the job's configuration against the world: Organizations, STS, CloudFormation, SNS, S3, SQS and SESv2
// answered by moto, every other service by the simulator, which holds a reservation ending in three days in every
// account (so every owner has a finding) and identifies moto's credentials through moto's STS.
func motoJob(t *testing.T, w *motoWorld) (aws.Config, config.Settings, *awssim.Server) {
	t.Helper()
	ctx := context.Background()
	const bucket = "orgaudit-reports-owners"
	if _, err := s3.NewFromConfig(w.Mgmt, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	simOrg := &awssim.Organization{ID: "o-motoowners", ManagementAccountID: motoManagementAccount, PageSize: 2}
	day := func(n int) time.Time { return demoAsOf.AddDate(0, 0, n).Add(12 * time.Hour) }
	for _, a := range w.Accounts {
		simOrg.Accounts = append(simOrg.Accounts, &awssim.Account{ID: a.ID, State: "ACTIVE", Regions: map[string]*awssim.Region{"us-east-1": {
			ReservedInstances: []awssim.ReservedInstance{{ID: "ri-" + a.ID, InstanceType: "m6i.large", State: "active", Count: 1, Scope: "Region",
				ProductDescription: "Linux/UNIX", Tenancy: "default", Start: day(-362), End: day(3), Duration: 31536000}},
		}}})
	}
	d := demoDeployment(simOrg)
	d.Region, d.Bucket, d.TopicARN = "us-east-1", bucket, w.TopicARN
	// The owners' world routes every digest on one topic by filter policies (the job without an owner topic, as the
	// CLI's default): the template's owners' topic is that topic too.
	d.OwnerTopicARN = w.TopicARN
	roles, err := awssim.LoadTemplateRoles(simOrg, d)
	if err != nil {
		t.Fatal(err)
	}
	d.Aliases = map[string]string{"OrganizationAccountAccessRole": awssim.DemoRoleName}
	for _, r := range roles {
		if r.LogicalID == "ExecutionRole" {
			d.Aliases["arn:aws:sts::"+motoManagementAccount+":user/moto"] = r.Name
		}
	}
	sim := startSimWith(t, simOrg, d)
	sim.SetKeyResolver(func(ctx context.Context, key, token string) (string, string, error) {
		cfg := w.Mgmt.Copy()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(key, "unused-by-moto", token)
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", "", err
		}
		return aws.ToString(id.Account), aws.ToString(id.Arn), nil
	})
	cfg := w.Mgmt.Copy()
	cfg.ConfigSources = append([]interface{}{splitEndpoints{moto: w.Endpoints, rest: sim.URL()}}, cfg.ConfigSources...)

	s := config.Defaults()
	s.RoleName = "OrganizationAccountAccessRole"
	s.Regions = []string{"us-east-1"}
	s.Bucket, s.TopicARN, s.S3PathStyle = bucket, w.TopicARN, true
	s.AsOf, s.RunTime = demoAsOf, demoAsOf.Add(8*time.Hour)
	return cfg, s, sim
}

// chatCard is a custom notification as the Amazon Q Developer in chat applications guide defines it
// (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html), written here from the guide and not
// from our renderer, so a field the renderer misnames fails the strict decode.
type chatCard struct {
	Version string `json:"version"`
	Source  string `json:"source"`
	ID      string `json:"id,omitempty"`
	Content struct {
		TextType    string   `json:"textType"`
		Title       string   `json:"title"`
		Description string   `json:"description"`
		NextSteps   []string `json:"nextSteps,omitempty"`
		Keywords    []string `json:"keywords,omitempty"`
	} `json:"content"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

func decodeStrict(t *testing.T, what, body string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, body)
	}
}

// TestContractWithMotoOwners runs the job against the owners' world in moto: the OU walk and owner tags from moto's
// Organizations, one digest per owner routed by moto's SNS filter policies to that owner's queue in the sqs shape,
// the organization's to its queue and, in the chat shape, to an https listener, and the emails with their workbooks
// kept by moto's SES.
func TestContractWithMotoOwners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newMotoWorld(t)
	cfg, s, sim := motoJob(t, w)
	s.EmailFrom, s.EmailTo = w.Sender, []string{w.Recipient}
	out, err := audit.Run(ctx, cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Result
	if den := sim.Denials(); len(den) != 0 {
		t.Errorf("denied %+v", den)
	}
	if r.Accounts.Total != len(w.Accounts) || r.Accounts.Audited != len(w.Accounts) || len(r.Errors) != 0 {
		t.Fatalf("accounts %+v errors %+v", r.Accounts, r.Errors)
	}

	// Owners and OUs as moto's tags and tree give them: every account has one finding (its reservation).
	accountsOf := map[string]map[string]bool{} // owner → account ids
	ownerOf := map[string]string{}
	for _, a := range w.Accounts {
		if accountsOf[a.owner()] == nil {
			accountsOf[a.owner()] = map[string]bool{}
		}
		accountsOf[a.owner()][a.ID] = true
		ownerOf[a.ID] = a.owner()
	}
	byAccount := map[string]motoAccount{}
	for _, a := range w.Accounts {
		byAccount[a.ID] = a
	}
	if len(r.Findings) != len(w.Accounts) {
		t.Fatalf("%d findings, want one per account (%d)", len(r.Findings), len(w.Accounts))
	}
	for _, f := range r.Findings {
		if a := byAccount[f.AccountID]; f.Owner != a.owner() || f.OU != a.OU {
			t.Errorf("finding in %s (%s): owner %q ou %q, want %q %q", a.Name, f.AccountID, f.Owner, f.OU, a.owner(), a.OU)
		}
	}

	// Each owner's queue: exactly its owner's notice, with only its accounts.
	received := map[string]int{}
	for _, owner := range w.owners() {
		got := drainQueue(t, w.Mgmt, w.OwnerQueues[owner])
		received[owner] = len(got)
		if len(got) != 1 {
			t.Errorf("queue of %s: %d messages, want 1: %+v", owner, len(got), got)
			continue
		}
		m := got[0]
		if m.MessageAttributes["audience"].Value != "owner" || m.MessageAttributes["owner"].Value != owner {
			t.Errorf("queue of %s: attributes %+v", owner, m.MessageAttributes)
		}
		var n report.Notice
		decodeStrict(t, "notice of "+owner, m.Message, &n)
		seen := map[string]bool{}
		for _, f := range n.TopFindings {
			seen[f.AccountID] = true
			if ownerOf[f.AccountID] != owner || f.Owner != owner {
				t.Errorf("notice of %s holds a finding of %s (owner %q)", owner, f.AccountID, f.Owner)
			}
		}
		if n.Schema != report.NoticeSchema || n.RunID != r.RunID || n.Audience != report.AudienceOwner || n.Owner != owner ||
			n.Accounts.Total != len(accountsOf[owner]) || len(seen) != len(accountsOf[owner]) || n.TopFindingsOmitted != 0 {
			t.Errorf("notice of %s: %+v, want its %d accounts", owner, n, len(accountsOf[owner]))
		}
	}

	// The organization's queue: exactly the organization's notice, every account in it.
	orgMsgs := drainQueue(t, w.Mgmt, w.OrgQueue)
	if len(orgMsgs) != 1 {
		t.Fatalf("organization queue: %d messages, want 1: %+v", len(orgMsgs), orgMsgs)
	}
	var orgNotice report.Notice
	decodeStrict(t, "organization notice", orgMsgs[0].Message, &orgNotice)
	if orgMsgs[0].MessageId != r.MessageID || orgMsgs[0].Subject != out.Subject || orgNotice.Audience != report.AudienceOrganization ||
		orgNotice.Owner != "" || orgNotice.RunID != r.RunID || orgNotice.Accounts != r.Accounts || len(orgNotice.TopFindings) != len(w.Accounts) {
		t.Errorf("organization notice %+v (message %s, want %s)", orgNotice, orgMsgs[0].MessageId, r.MessageID)
	}
	if od := r.OwnerDigests; od == nil || od.Sent != len(w.owners()) || len(od.Failed) != 0 || len(od.PastCap) != 0 {
		t.Errorf("owner digests %+v, want %d sent", od, len(w.owners()))
	}

	// The https listener, subscribed to the organization's audience: exactly the organization's chat card.
	posts := w.Chat.received()
	if len(posts) != 1 {
		t.Fatalf("chat listener: %d posts, want 1: %+v", len(posts), posts)
	}
	var card chatCard
	decodeStrict(t, "chat card", posts[0].Message, &card)
	if card.Version != "1.0" || card.Source != "custom" || card.Content.TextType != "client-markdown" || card.Content.Description == "" ||
		card.Content.Title != report.ChatOf(r).Content.Title || posts[0].MessageId != r.MessageID {
		t.Errorf("chat card %+v (message %s, want %s)", card, posts[0].MessageId, r.MessageID)
	}

	// SES: the organization's email and the one owner whose owner is an address, each with a workbook that opens.
	emails := sentEmails(t, w.URL)
	want := map[string]string{w.Recipient: ""} // recipient → owner
	for _, owner := range w.owners() {
		if strings.Contains(owner, "@") {
			want[owner] = owner
		}
	}
	if len(emails) != len(want) || len(r.Emailed) != len(want) {
		t.Fatalf("moto's SES holds %d emails, the result lists %+v; want %d", len(emails), r.Emailed, len(want))
	}
	sizes := map[string]int{}
	for _, e := range emails {
		h, files := mimeAttachments(t, e.RawData)
		to, err := mail.ParseAddress(h.Get("To"))
		if err != nil {
			t.Fatal(err)
		}
		owner, ok := want[to.Address]
		if !ok || e.Source != w.Sender || h.Get("X-Orgaudit-Run-Id") != r.RunID {
			t.Errorf("email %s from %s to %s (run %s): not one the run sends", e.ID, e.Source, to.Address, h.Get("X-Orgaudit-Run-Id"))
			continue
		}
		delete(want, to.Address)
		if len(files) != 1 {
			t.Errorf("email to %s: attachments %v, want the workbook", to.Address, files)
			continue
		}
		for name, wb := range files {
			if owner == "" && !bytes.Equal(wb, out.Workbook) {
				t.Errorf("organization's email: attachment %s is not the run's workbook (%d bytes, want %d)", name, len(wb), len(out.Workbook))
			}
			x, err := excelize.OpenReader(bytes.NewReader(wb))
			if err != nil {
				t.Fatalf("email to %s: %s does not open: %v", to.Address, name, err)
			}
			cov, err := x.GetRows("Coverage")
			x.Close()
			if err != nil {
				t.Fatalf("email to %s: %s: %v", to.Address, name, err)
			}
			// Owners' workbooks hold only their accounts: the Coverage sheet names each account it covers.
			for id, o := range ownerOf {
				if holds := strings.Contains(fmt.Sprint(cov), id); owner != "" && holds != (o == owner) {
					t.Errorf("workbook of %s: account %s (owner %s) present %v", owner, id, o, holds)
				}
			}
			sizes[to.Address] = len(wb)
		}
	}

	t.Logf("queues: %d owner queues + 1 organization queue; messages received per owner: %v; organization queue: %d; chat posts: %d",
		len(w.OwnerQueues), received, len(orgMsgs), len(posts))
	t.Logf("emails in moto's SES: %d; attachment sizes (bytes): %v", len(emails), sizes)
}
