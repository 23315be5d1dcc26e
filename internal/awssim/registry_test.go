package awssim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	templates "github.com/orgaudit/orgaudit/deploy/cloudformation"
)

// registered is one call of a registered service as the registry test sends it.
type registered struct {
	service, op string
	iam         iamAction // nil for a service that answers whole requests (S3)
}

// everyRegisteredCall lists one call per registered operation, and one listing per service that answers whole
// requests itself (S3), in a stable order.
func everyRegisteredCall() []registered {
	var out []registered
	for name, svc := range services {
		if svc.protocol.serve != nil {
			out = append(out, registered{service: name, op: "ListObjects"})
			continue
		}
		for op, o := range svc.ops {
			out = append(out, registered{service: name, op: op, iam: o.iam})
		}
	}
	slices.SortFunc(out, func(a, b registered) int { return strings.Compare(a.service+"."+a.op, b.service+"."+b.op) })
	return out
}

// signedCall sends c as an SDK client of the service would name it in its own protocol (the operation in the path,
// X-Amz-Target or the Action field), with an empty input, signed by creds for region.
func signedCall(t *testing.T, s *Server, creds aws.Credentials, c registered, region string) (status int, code string) {
	t.Helper()
	p := services[c.service].protocol
	method, path, body := http.MethodPost, "/", ""
	header := http.Header{}
	switch {
	case p.serve != nil:
		method, path = http.MethodGet, "/orgaudit-registry-test-no-such-bucket"
	case p.rest != nil:
		for route, op := range p.rest {
			if op == c.op {
				method, path, _ = strings.Cut(route, " ")
			}
		}
		if method == http.MethodPost {
			body = "{}"
		}
	case p.json:
		header.Set("X-Amz-Target", "Registry."+c.op)
		header.Set("Content-Type", "application/x-amz-json-1.1")
		body = "{}"
	default:
		header.Set("Content-Type", "application/x-www-form-urlencoded")
		body = "Action=" + c.op + "&Version=registry"
	}
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	sum := sha256.Sum256([]byte(body))
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), c.service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if p.isJSON() {
		return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType")
	}
	if m := xmlCode.FindSubmatch(b); m != nil {
		return resp.StatusCode, string(m[1])
	}
	return resp.StatusCode, ""
}

var xmlCode = regexp.MustCompile(`<Code>([^<]*)</Code>`)

// reached is the fault seam's answer in the registry test: a call that gets it passed authentication and IAM.
const reached = "RegistryTestReached"

// seam records the calls the fault seam saw and answers each with the reached fault.
type seam struct {
	mu   sync.Mutex
	seen map[string]Call
}

func (sm *seam) intercept(_ context.Context, c Call) *Fault {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.seen[c.Service+"."+c.Operation] = c
	return &Fault{Status: 400, Code: reached, Message: "the fault seam saw this call"}
}

func (sm *seam) saw(key string) (Call, bool) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	c, ok := sm.seen[key]
	return c, ok
}

// TestEveryRegisteredServiceIsReachable: every operation of every registered service (S3 too) is dispatched through
// the one registry: counted, handed to the fault seam with its service, operation and account, answered in the
// service's protocol, and, without the seam, answered by its handler rather than refused as unknown.
func TestEveryRegisteredServiceIsReachable(t *testing.T) {
	t.Parallel()
	s := start(t)
	creds := s.Credentials(DemoManagementAccount)
	calls := everyRegisteredCall()
	if len(calls) < len(services) {
		t.Fatalf("%d calls for %d registered services", len(calls), len(services))
	}
	sm := &seam{seen: map[string]Call{}}
	s.SetIntercept(sm.intercept)
	for _, c := range calls {
		key := c.service + "." + c.op
		if status, code := signedCall(t, s, creds, c, DemoHomeRegion); status != 400 || code != reached {
			t.Errorf("%s: %d %q, want the fault seam's %s in the service's protocol", key, status, code, reached)
		}
		if got, ok := sm.saw(key); !ok || got.AccountID != DemoManagementAccount || got.Region != DemoHomeRegion {
			t.Errorf("%s: the fault seam saw %+v (%v)", key, got, ok)
		}
		if n := s.Calls()[key]; n != 1 {
			t.Errorf("%s: counted %d times, want 1", key, n)
		}
	}
	s.SetIntercept(nil)
	for _, c := range calls {
		status, code := signedCall(t, s, creds, c, DemoHomeRegion)
		if status >= 500 || code == "InvalidAction" || code == reached || code == unrecognizedClient(c.service).Code {
			t.Errorf("%s.%s: %d %q, want its handler's answer", c.service, c.op, status, code)
		}
	}
}

// TestEveryRegisteredServiceIsEnforcedAlike: under the templates, a principal no template role covers (the account
// the StackSet never reached) is refused every operation that needs a permission, each in its service's own refusal,
// before the fault seam sees the call, with the denial recorded under the operation's IAM action; an operation that
// needs none (GetCallerIdentity) reaches the seam.
func TestEveryRegisteredServiceIsEnforcedAlike(t *testing.T) {
	t.Parallel()
	org := Demo(time.Now())
	s := New(org)
	if err := s.EnforceTemplates(DemoDeployment(org, templates.Management, templates.MemberRole, DemoKMSKeyARN)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	sm := &seam{seen: map[string]Call{}}
	s.SetIntercept(sm.intercept)
	creds := s.Credentials(DemoMissingRole)
	refused := 0
	for _, c := range everyRegisteredCall() {
		key := c.service + "." + c.op
		action := "s3:ListBucket" // what a listing of a bucket needs
		if c.iam != nil {
			action, _ = c.iam(&request{call: Call{Service: c.service, Operation: c.op, Region: DemoHomeRegion, AccountID: DemoMissingRole}, org: org})
		}
		status, code := signedCall(t, s, creds, c, DemoHomeRegion)
		_, seen := sm.saw(key)
		if action == "" {
			if code != reached || !seen {
				t.Errorf("%s needs no permission: %d %q, want the fault seam's answer", key, status, code)
			}
			continue
		}
		refused++
		want := accessDenied(c.service, "")
		if status != want.Status || code != want.Code || seen {
			t.Errorf("%s: %d %q (seam saw it: %v), want %d %s before the fault seam", key, status, code, seen, want.Status, want.Code)
		}
		if n := s.Calls()[key]; n != 1 {
			t.Errorf("%s: a refused call counted %d times, want 1", key, n)
		}
		if !slices.ContainsFunc(s.Denials(), func(d Denial) bool { return d.Action == action && d.Code == want.Code }) {
			t.Errorf("%s: no denial of %s recorded", key, action)
		}
	}
	if n := len(s.Denials()); n != refused {
		t.Errorf("%d denials recorded for %d refused calls", n, refused)
	}
}
