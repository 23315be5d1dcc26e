// Package awssim is a simulated AWS Organization behind one loopback HTTP server that the real aws-sdk-go-v2 clients
// talk to through their endpoint settings. It answers the operations orgaudit calls in each service's own wire
// protocol (awsJson1_1, query, ec2 query) and S3 through gofakes3. The calling account is found from the access key
// in the SigV4 credential scope, so every account sees only its own data. It imports nothing of ours.
package awssim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Call names one API call as the server sees it, for the fault seam and the call counts.
type Call struct {
	Service   string // the SigV4 signing name: sts, organizations, servicecatalog, cloudformation, ec2, rds, sns, s3
	Operation string
	AccountID string // the calling account; empty when the access key is unknown
	Region    string
	// Target is the account a call reaches into when it is not the caller's own: the role's account for AssumeRole.
	Target string
	// Resource is the one resource a call names, where an intercept needs to tell calls apart by it: the account
	// whose tags ListTagsForResource reads.
	Resource string
}

// Fault is an error answer in the service's own protocol.
type Fault struct {
	Status  int
	Code    string
	Message string
}

func (f *Fault) Error() string { return f.Code + ": " + f.Message }

// KeyResolver identifies credentials the server did not issue: the account and principal ARN behind an access key
// and session token. It lets another implementation (moto's STS in the contract tests) vend the credentials while
// this server answers as the account they belong to.
type KeyResolver func(ctx context.Context, accessKeyID, sessionToken string) (accountID, principalARN string, err error)

// Intercept runs before every call is answered: the seam for injected latency and faults. It may sleep (it should
// honour ctx) and returns a Fault to fail the call, or nil to let it through.
type Intercept func(ctx context.Context, c Call) *Fault

// Message is one SNS Publish the server accepted. Body is what an email subscription receives: the message, or with
// MessageStructure json its "email" body, else its "default". Raw is the Message parameter as published.
type Message struct {
	TopicARN, Subject, Body, MessageID string
	Raw                                string
	// Structure is the MessageStructure ("json" or empty); Bodies are the per-protocol bodies of a json message, by
	// protocol ("default", "email", "sqs", "lambda", "https", ...).
	Structure string
	Bodies    map[string]string
	// Attributes are the message attributes, by name.
	Attributes map[string]MessageAttribute
}

// MessageAttribute is one SNS message attribute as published.
type MessageAttribute struct {
	DataType, StringValue string
	BinaryValue           []byte
}

// For is the body a subscription of protocol receives: its own body of a json message, else the default.
func (m Message) For(protocol string) string {
	if m.Structure != "json" {
		return m.Raw
	}
	if b, ok := m.Bodies[protocol]; ok {
		return b
	}
	return m.Bodies["default"]
}

// Upload is one S3 PutObject the server accepted, with the encryption the client asked for.
type Upload struct {
	Bucket, Key, ServerSideEncryption string
}

type principal struct {
	accountID, arn, userID, secret, token string
	// roleARN is the IAM ARN, path included, of the role a session is of; empty for a user.
	roleARN string
	expires time.Time
}

// Server answers as the simulated organization. Create it with New, then Start.
type Server struct {
	org       *Organization
	s3        http.Handler
	s3backend *s3mem.Backend
	intercept atomic.Pointer[Intercept]
	resolver  KeyResolver
	iam       *iamState    // nil: no IAM enforcement
	skew      atomic.Int64 // Advance moves the clock this many nanoseconds ahead of the wall clock

	mu        sync.Mutex
	keys      map[string]principal // access key id → principal
	published []Message
	// subscriptions are the topics' subscriptions (Subscribe, or the enforced templates').
	subscriptions []Subscription
	alarms        []TemplateAlarm // the enforced management template's
	emails        []Email
	uploads       []Upload
	events        eventState
	calls         map[string]int // service.Operation → count
	streams       map[string]int // service/account/region → count: the longest is the chain no concurrency shortens
	orgMeter
	treeOnce sync.Once
	orgTree  *orgTree
	requestN atomic.Uint64
	conns    atomic.Int64

	ln  net.Listener
	srv *http.Server
	url string
}

// eventState is what EventBridge and SQS hold: the events put on buses, and the enforced management template's
// queues, each its messages by queue URL.
type eventState struct {
	busEvents []BusEvent
	queues    map[string][]queueMessage
	failed    []FailedInvocation // rules' deliveries their targets refused
}

// New builds a server for org. It does not listen yet.
func New(org *Organization) *Server {
	backend := s3mem.New()
	s := &Server{
		org:       org,
		s3backend: backend,
		s3:        gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()), gofakes3.WithoutVersioning()).Server(),
		keys:      map[string]principal{},
		calls:     map[string]int{},
		streams:   map[string]int{},
	}
	return s
}

// SetKeyResolver installs a resolver for foreign credentials. Call it before Start.
func (s *Server) SetKeyResolver(r KeyResolver) { s.resolver = r }

// SetIntercept installs (or, with nil, removes) the fault seam. Safe to call while serving.
func (s *Server) SetIntercept(f Intercept) {
	if f == nil {
		s.intercept.Store(nil)
		return
	}
	s.intercept.Store(&f)
}

// Start listens on a free port of 127.0.0.1 and serves until Close.
func (s *Server) Start() error {
	for _, a := range s.org.Accounts {
		for _, r := range a.Regions {
			for _, b := range r.Buckets {
				if err := s.s3backend.CreateBucket(b); err != nil {
					return fmt.Errorf("create bucket %s: %w", b, err)
				}
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ConnState: func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// URL is the endpoint to give the SDK clients, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// Close stops the server at once. Shutdown would wait up to 5s for connections the SDK dialled but never used.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// Credentials issues long-term credentials for a principal of accountID (an IAM user named orgaudit, or the Lambda's
// execution role in spirit): what the job starts with.
//
// Under EnforceTemplates they are instead a session of the template role the job runs as in that account, with no
// expiry the SDK can see: what Lambda puts in the function's environment.
func (s *Server) Credentials(accountID string) aws.Credentials {
	if s.iam != nil {
		if r := s.iam.jobRole(accountID); r != nil {
			return s.issueSession(accountID, r.Name, "orgaudit", time.Time{})
		}
	}
	p := principal{accountID: accountID, arn: fmt.Sprintf("arn:%s:iam::%s:user/orgaudit", s.org.partition(), accountID),
		userID: "AIDA" + strings.ToUpper(randomHex(8)), secret: randomHex(20)}
	key := "AKIA" + strings.ToUpper(randomHex(8))
	s.mu.Lock()
	s.keys[key] = p
	s.mu.Unlock()
	return aws.Credentials{AccessKeyID: key, SecretAccessKey: p.secret, Source: "awssim"}
}

// Config returns an SDK configuration pointed at this server, signed as a principal of accountID, in region.
func (s *Server) Config(accountID, region string) aws.Config {
	cfg := aws.NewConfig()
	cfg.Region = region
	cfg.Credentials = aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: s.Credentials(accountID)})
	cfg.BaseEndpoint = aws.String(s.url)
	return *cfg
}

// IssuedSecrets lists every access key id, secret key and session token this server has handed out, for tests that
// prove none of them leaks into logs.
func (s *Server) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for key, p := range s.keys {
		out = append(out, key)
		if p.secret != "" {
			out = append(out, p.secret)
		}
		if p.token != "" {
			out = append(out, p.token)
		}
	}
	return out
}

// Connections counts the TCP connections accepted so far: a client that reuses its pool opens few.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// Published returns the SNS messages accepted so far, oldest first.
func (s *Server) Published() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.published...)
}

// Digests are the published messages meant for the whole organization (attribute audience=organization, or none at
// all): the digest its list reads, beside each owner's own.
func (s *Server) Digests() []Message {
	var out []Message
	for _, m := range s.Published() {
		if a, ok := m.Attributes["audience"]; !ok || a.StringValue == "organization" {
			out = append(out, m)
		}
	}
	return out
}

// Repeated names every audience (the organization, or "owner <value>") that received more than one message, with
// how many: what exactly-once forbids within a run.
func (s *Server) Repeated() map[string]int {
	seen := map[string]int{}
	for _, m := range s.Published() {
		who := "organization"
		if m.Attributes["audience"].StringValue == "owner" {
			who = "owner " + m.Attributes["owner"].StringValue
		}
		seen[who]++
	}
	for who, n := range seen {
		if n < 2 {
			delete(seen, who)
		}
	}
	return seen
}

// Uploads returns the S3 objects written so far, oldest first.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Upload(nil), s.uploads...)
}

// Workbooks returns the uploads of .xlsx files: what a person downloads, without the run markers.
func (s *Server) Workbooks() []Upload {
	var out []Upload
	for _, u := range s.Uploads() {
		if strings.HasSuffix(u.Key, ".xlsx") {
			out = append(out, u)
		}
	}
	return out
}

// Object reads an object back from the simulated S3.
func (s *Server) Object(bucket, key string) ([]byte, error) {
	obj, err := s.s3backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, err
	}
	defer obj.Contents.Close()
	return io.ReadAll(obj.Contents)
}

// Keys lists the keys under prefix, as the bucket's owner sees them: no IAM, no call counted.
func (s *Server) Keys(bucket, prefix string) ([]string, error) {
	p := gofakes3.NewPrefix(&prefix, nil)
	list, err := s.s3backend.ListBucket(bucket, &p, gofakes3.ListBucketPage{})
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(list.Contents))
	for _, o := range list.Contents {
		keys = append(keys, o.Key)
	}
	return keys, nil
}

// PutObject stores an object as someone other than the job would (a person uploading the suppressions file): no
// IAM, no Upload recorded.
func (s *Server) PutObject(bucket, key string, body []byte) error {
	_, err := s.s3backend.PutObject(bucket, key, map[string]string{}, strings.NewReader(string(body)), int64(len(body)), nil)
	return err
}

// Calls returns how many calls each operation received, keyed "service.Operation".
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// request is what a handler sees of one call.
type request struct {
	call    Call
	caller  principal
	account *Account
	region  *Region // nil for global services
	form    url.Values
	body    []byte
	now     time.Time
	org     *Organization
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == StatsPath && r.Header.Get("Authorization") == "" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
		return
	}
	key, region, service := credentialScope(r)
	svc, known := services[service]
	if !known {
		http.Error(w, "awssim: cannot tell the service of this request from its SigV4 credential scope", http.StatusBadRequest)
		return
	}
	proto := svc.protocol
	if proto.serve != nil {
		proto.serve(s, w, r, key, region)
		return
	}
	limit := proto.maxBody
	if limit == 0 {
		limit = defaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		proto.writeError(w, s.requestID(), "", &Fault{Status: 400, Code: "InvalidRequest", Message: err.Error()})
		return
	}
	if int64(len(body)) > limit {
		proto.writeError(w, s.requestID(), "", &Fault{Status: 413, Code: "RequestEntityTooLarge", Message: fmt.Sprintf("awssim reads at most %d bytes of a %s request", limit, service)})
		return
	}
	op, form, err := proto.operation(r, body)
	if err != nil {
		proto.writeError(w, s.requestID(), op, &Fault{Status: 400, Code: "InvalidAction", Message: err.Error()})
		return
	}
	req := &request{call: Call{Service: service, Operation: op, Region: region}, form: form, body: body, now: s.now(), org: s.org}
	if o, ok := svc.ops[op]; ok && o.reach != nil {
		o.reach(req)
	}
	s.count(req.call)
	if f := s.authenticate(r, key, req); f != nil {
		proto.writeError(w, s.requestID(), op, f)
		return
	}
	if f := s.authorize(req); f != nil {
		proto.writeError(w, s.requestID(), op, f)
		return
	}
	s.countStream(req.call)
	if f := s.intercepted(r.Context(), req.call); f != nil {
		proto.writeError(w, s.requestID(), op, f)
		return
	}
	o, ok := svc.ops[op]
	if !ok {
		proto.writeError(w, s.requestID(), op, &Fault{Status: 400, Code: "InvalidAction", Message: fmt.Sprintf("awssim does not implement %s %s", service, op)})
		return
	}
	if !proto.global {
		req.region = req.account.Regions[region]
		if req.region == nil {
			proto.writeError(w, s.requestID(), op, regionNotEnabled(service, region))
			return
		}
	}
	out, f := o.handler(s, req)
	if f != nil {
		proto.writeError(w, s.requestID(), op, f)
		return
	}
	proto.writeResult(w, s.requestID(), op, out)
}

// regionNotEnabled is what AWS answers for a region that is not opted in: the region does not know the credentials.
func regionNotEnabled(service, region string) *Fault {
	if service == "ec2" {
		return &Fault{Status: 401, Code: "AuthFailure", Message: "AWS was not able to validate the provided access credentials"}
	}
	return unrecognizedClient(service)
}

// unrecognizedClient is a service's answer to credentials it does not know: JSON protocols say
// UnrecognizedClientException, query protocols InvalidClientTokenId, both with HTTP 403 as AWS's Common Errors
// reference gives (https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html).
func unrecognizedClient(service string) *Fault {
	if protocolOf(service).isJSON() {
		return &Fault{Status: 403, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}
	}
	return &Fault{Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
}

// principal finds who signed: a key this server issued, or one the resolver vouches for (remembered after).
func (s *Server) principal(ctx context.Context, key, token string) (principal, bool) {
	s.mu.Lock()
	p, ok := s.keys[key]
	s.mu.Unlock()
	if ok || s.resolver == nil || key == "" {
		return p, ok
	}
	account, arn, err := s.resolver(ctx, key, token)
	if err != nil || account == "" {
		return principal{}, false
	}
	p = principal{accountID: account, arn: arn, token: token}
	s.mu.Lock()
	s.keys[key] = p
	s.mu.Unlock()
	return p, true
}

func sessionToken(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Security-Token"); t != "" {
		return t
	}
	return r.URL.Query().Get("X-Amz-Security-Token")
}

func (s *Server) authenticate(r *http.Request, key string, req *request) *Fault {
	token := sessionToken(r)
	p, ok := s.principal(r.Context(), key, token)
	if !ok {
		return unrecognizedClient(req.call.Service)
	}
	if p.token != token {
		return &Fault{Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
	}
	if !p.expires.IsZero() && req.now.After(p.expires) {
		return expiredToken(req.call.Service)
	}
	req.caller = p
	req.call.AccountID = p.accountID
	req.account = s.org.account(p.accountID)
	if req.account == nil {
		return &Fault{Status: 403, Code: "AccessDenied", Message: "account " + p.accountID + " is not part of the simulated organization"}
	}
	return nil
}

func (s *Server) intercepted(ctx context.Context, c Call) *Fault {
	if f := s.intercept.Load(); f != nil {
		return (*f)(ctx, c)
	}
	return nil
}

func (s *Server) count(c Call) {
	s.mu.Lock()
	s.calls[c.Service+"."+c.Operation]++
	s.mu.Unlock()
}

// countStream records a call against its account's stream once the caller is known.
func (s *Server) countStream(c Call) {
	account := c.AccountID
	if c.Target != "" {
		account = c.Target
	}
	s.mu.Lock()
	s.streams[c.Service+"/"+account+"/"+c.Region]++
	s.mu.Unlock()
}

// Stats is what a benchmark needs from the server: calls by operation and the longest single stream of calls one
// account makes to one service in one region.
type Stats struct {
	Calls         map[string]int `json:"calls"`
	TotalCalls    int            `json:"total_calls"`
	LongestStream int            `json:"longest_stream"`
	Connections   int            `json:"connections"`
}

// Stats reports the calls so far.
func (s *Server) Stats() Stats {
	st := Stats{Calls: s.Calls(), Connections: s.Connections()}
	for _, n := range st.Calls {
		st.TotalCalls += n
	}
	s.mu.Lock()
	for k, n := range s.streams {
		// The management account's own streams (listing, assuming roles for everyone) are not one account's chain.
		if n > st.LongestStream && !strings.HasPrefix(k, "organizations/") && !strings.HasPrefix(k, "sts/"+s.org.ManagementAccountID+"/") {
			st.LongestStream = n
		}
	}
	s.mu.Unlock()
	return st
}

// StatsPath serves Stats as JSON without authentication, for a benchmark that runs the server in another process.
const StatsPath = "/__awssim/stats"

// requestID is unique per server; a counter is enough, and keeps crypto/rand off the per-call path.
func (s *Server) requestID() string {
	return "awssim-" + strconv.FormatUint(s.requestN.Add(1), 10)
}

// credentialScope reads the access key, region and service out of a SigV4 Authorization header or, for presigned
// URLs, the X-Amz-Credential query parameter: Credential=AKID/20261122/us-east-1/sts/aws4_request.
func credentialScope(r *http.Request) (key, region, service string) {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		if _, rest, ok := strings.Cut(auth, "Credential="); ok {
			cred, _, _ = strings.Cut(rest, ",")
		}
	}
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return "", "", ""
	}
	return parts[0], parts[2], parts[3]
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

var errNoOperation = errors.New("no operation named in the request")
