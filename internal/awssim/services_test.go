package awssim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// simtest is a service registered the way a new service's file registers itself: a global restJson1 service with its
// own refusal and throttling answers, two operations, and data in the demo and the generated organizations.
func init() {
	registerService("simtest", protocol{global: true, rest: map[string]string{"POST /ListThings": "ListThings", "GET /2021-01-01/things": "GetThings"},
		denied: Fault{Status: 403, Code: "AccessDeniedException"}}, Fault{Status: 429, Code: "TooManyRequestsException", Message: "Rate exceeded"})
	registerOperation("simtest", "ListThings", "simtest:ListThings", func(s *Server, r *request) (any, *Fault) {
		var in struct {
			NextToken string `json:"nextToken"`
		}
		if f := decodeJSON(r.body, &in); f != nil {
			return nil, f
		}
		if in.NextToken == "bad" {
			return nil, &Fault{Status: 400, Code: "ValidationException", Message: "bad token"}
		}
		return map[string]any{"account": r.account.ID, "regional": r.region != nil, "token": in.NextToken}, nil
	})
	registerOperation("simtest", "GetThings", "simtest:GetThings", func(s *Server, r *request) (any, *Fault) {
		return map[string]any{"maxResults": r.form.Get("maxResults")}, nil
	})
	registerDemo(func(org *Organization, day func(int) time.Time) {
		reg := org.account("555555555555").Regions["eu-west-1"]
		reg.Reservations = map[string][]Reservation{"simtest": {{ID: "thing-1", Start: day(-365), Duration: 31536000, State: "active"}}}
	})
	registerGenerated(generated{service: "simtest", perRegion: func(r *rand.Rand, a *Account, region string, day func(int) time.Time) {
		reg := a.Regions[region]
		reg.Reservations = map[string][]Reservation{"simtest": {{ID: a.ID + "-" + region, Count: 1 + r.IntN(9), Start: day(-1)}}}
	}})
}

// TestRegisteredServiceAnswersInItsProtocol: a service registered from its own file is answered in restJson1 (the
// operation named by method and path, the query string as the form, errors named in X-Amzn-ErrorType), in any region
// when it is global, with its own refusal, throttling answer and IAM action.
func TestRegisteredServiceAnswersInItsProtocol(t *testing.T) {
	t.Parallel()
	s := start(t)
	creds := s.Credentials("555555555555")
	call := func(method, path, body string) (*http.Response, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(body))
		// A region the account has not enabled: a global service answers anyway.
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "simtest", "af-south-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
		return resp, out
	}
	resp, out := call("POST", "/ListThings", `{"nextToken":"page-1"}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || out["account"] != "555555555555" || out["regional"] != false ||
		out["token"] != "page-1" {
		t.Errorf("ListThings: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), out)
	}
	if _, out := call("GET", "/2021-01-01/things?maxResults=5", ""); out["maxResults"] != "5" {
		t.Errorf("GetThings: the query string is not the form: %v", out)
	}
	resp, out = call("POST", "/ListThings", `{"nextToken":"bad"}`)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" || out["message"] != "bad token" || out["__type"] != nil {
		t.Errorf("a fault: %d %q %v", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), out)
	}
	if resp, _ := call("DELETE", "/ListThings", ""); resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "InvalidAction" {
		t.Errorf("no operation at DELETE /ListThings: %d %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}

	if f := accessDenied("simtest", "no"); f.Code != "AccessDeniedException" || f.Status != 403 || f.Message != "no" {
		t.Errorf("refusal %+v", f)
	}
	if f := throttleOf("simtest"); f.Code != "TooManyRequestsException" || f.Status != 429 {
		t.Errorf("throttling %+v", f)
	}
	if o, _ := operationOf("simtest", "GetThings"); o.iam == nil {
		t.Error("GetThings: no IAM action registered")
	} else if action, resource := o.iam(nil); action != "simtest:GetThings" || resource != "*" {
		t.Errorf("IAM: %s on %s", action, resource)
	}
}

// TestRegisteredServiceData: a service's file adds to the demo and to every generated region, deterministically.
func TestRegisteredServiceData(t *testing.T) {
	t.Parallel()
	if got := Demo(asOf).account("555555555555").Regions["eu-west-1"].Reservations["simtest"]; len(got) != 1 || got[0].ID != "thing-1" {
		t.Errorf("demo: %+v", got)
	}
	o := GenerateOptions{Accounts: 3, Regions: []string{"us-east-1", "eu-west-1"}, AsOf: asOf, Seed: 7}
	a, b := Generate(o), Generate(o)
	for i, acct := range a.Accounts {
		for name, reg := range acct.Regions {
			if got := reg.Reservations["simtest"]; len(got) != 1 || got[0].ID != acct.ID+"-"+name {
				t.Errorf("generated %s %s: %+v", acct.ID, name, got)
			}
			if !reflect.DeepEqual(reg, b.Accounts[i].Regions[name]) {
				t.Errorf("generated %s %s differs between two runs of one seed", acct.ID, name)
			}
		}
	}
}
