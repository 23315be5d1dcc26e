package main

import (
	"archive/zip"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/lambdapkg"
	"github.com/orgaudit/orgaudit/internal/report"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// runtimeAPI is the documented Lambda Runtime API (2018-06-01) that a provided.al2023 bootstrap polls, served on
// loopback for one test.
type runtimeAPI struct {
	queue   chan invocation
	mu      sync.Mutex
	waiters map[string]chan outcome
	initErr chan string
	url     string
}

type invocation struct {
	id       string
	body     []byte
	deadline time.Time
}

type outcome struct {
	response []byte
	errType  string // from the error body's errorType; set only for /error posts
	errBody  []byte
}

func startRuntimeAPI(t *testing.T) *runtimeAPI {
	t.Helper()
	rt := &runtimeAPI{queue: make(chan invocation), waiters: map[string]chan outcome{}, initErr: make(chan string, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rt.url = ln.Addr().String()
	srv := &http.Server{Handler: rt}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return rt
}

func (rt *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2018-06-01/runtime/"
	path := strings.TrimPrefix(r.URL.Path, prefix)
	switch {
	case r.Method == http.MethodGet && path == "invocation/next":
		select {
		case inv := <-rt.queue:
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(inv.deadline.UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:111111111111:function:orgaudit")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(inv.body)
		case <-r.Context().Done():
		}
	case r.Method == http.MethodPost && path == "init/error":
		b, _ := io.ReadAll(r.Body)
		rt.initErr <- string(b)
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		id, kind, _ := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		b, _ := io.ReadAll(r.Body)
		rt.mu.Lock()
		ch := rt.waiters[id]
		rt.mu.Unlock()
		if ch == nil || (kind != "response" && kind != "error") {
			http.Error(w, "unknown invocation", http.StatusBadRequest)
			return
		}
		o := outcome{response: b}
		if kind == "error" {
			var body struct{ ErrorType string }
			_ = json.Unmarshal(b, &body)
			o = outcome{errType: body.ErrorType, errBody: b}
			if o.errType == "" {
				o.errType = "(none)"
			}
		}
		ch <- o
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// invoke hands the bootstrap one event and waits for its response or error.
func (rt *runtimeAPI) invoke(t *testing.T, id string, event string) outcome {
	t.Helper()
	ch := make(chan outcome, 1)
	rt.mu.Lock()
	rt.waiters[id] = ch
	rt.mu.Unlock()
	select {
	case rt.queue <- invocation{id: id, body: []byte(event), deadline: time.Now().Add(5 * time.Minute)}:
	case msg := <-rt.initErr:
		t.Fatalf("bootstrap failed to start: %s", msg)
	case <-time.After(60 * time.Second):
		t.Fatal("bootstrap never asked for the next invocation")
	}
	select {
	case o := <-ch:
		return o
	case <-time.After(120 * time.Second):
		t.Fatalf("invocation %s: no response", id)
	}
	return outcome{}
}

// TestBootstrapUnderTheLambdaRuntimeAPI builds the real bootstrap the way deploy/package does and runs it as the
// Lambda service would, with every AWS endpoint pointed at the simulated organization: once for this machine's
// architecture, and once as the linux/arm64 artifact that ships, taken out of its zip and run under qemu.
func TestBootstrapUnderTheLambdaRuntimeAPI(t *testing.T) {
	t.Parallel()
	t.Run(runtime.GOARCH, func(t *testing.T) {
		t.Parallel()
		bin, err := lambdapkg.Build(context.Background(), "", t.TempDir(), runtime.GOARCH)
		if err != nil {
			t.Fatal(err)
		}
		testBootstrap(t, []string{bin})
	})
	if runtime.GOARCH == shippedArch {
		return
	}
	t.Run(shippedArch+"-artifact", func(t *testing.T) {
		t.Parallel()
		qemu := qemuFor(t, shippedArch)
		testBootstrap(t, []string{qemu, shippedBootstrap(t)})
	})
}

// shippedArch is the architecture management.yaml gives the function.
const shippedArch = "arm64"

// qemuEnv makes a missing qemu a failure rather than a skip; .ci/run sets it after installing qemu-user-static.
const qemuEnv = "ORGAUDIT_REQUIRE_QEMU"

// qemuFor finds Debian's user-mode emulator for goarch.
func qemuFor(t *testing.T, goarch string) string {
	t.Helper()
	name := map[string]string{"arm64": "qemu-aarch64-static", "amd64": "qemu-x86_64-static"}[goarch]
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(qemuEnv) != "" {
			t.Fatalf("%s is required (%s is set) but not on PATH: apt-get install qemu-user-static", name, qemuEnv)
		}
		t.Skipf("%s not on PATH (apt-get install qemu-user-static); set %s=1 to make this a failure", name, qemuEnv)
	}
	return path
}

// shippedBootstrap builds the package exactly as deploy/package does and returns the bootstrap read back out of the
// zip, so what runs is what would be uploaded.
func shippedBootstrap(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	built, err := lambdapkg.Build(context.Background(), "", dir, shippedArch)
	if err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, "orgaudit-lambda.zip")
	if _, _, err := lambdapkg.Zip(built, zipPath); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode()&0o111 == 0 {
		t.Fatalf("the package must hold one executable bootstrap, holds %v", zr.File)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := filepath.Join(t.TempDir(), "bootstrap")
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if f, err := elf.Open(out); err != nil || f.Machine != elf.EM_AARCH64 {
		t.Fatalf("the shipped bootstrap is not a linux/arm64 ELF: %v", err)
	} else {
		f.Close()
	}
	return out
}

// testBootstrap runs the bootstrap named by argv (an emulator may come first) against a Runtime API on loopback.
func testBootstrap(t *testing.T, argv []string) {
	org := awssim.Demo(time.Now())
	// IAM as deployed: the function runs as a session of its execution role.
	sim := testkit.StartEnforced(t, org, testkit.DemoDeployment(org))
	rt := startRuntimeAPI(t)
	creds := sim.Credentials(awssim.DemoManagementAccount)

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + rt.url, "AWS_LAMBDA_FUNCTION_NAME=orgaudit", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey, "AWS_SESSION_TOKEN=" + creds.SessionToken,
		"AWS_ENDPOINT_URL=" + sim.URL(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
		"AUDIT_EXTERNAL_ID=" + awssim.DemoExternalID, "AUDIT_REGIONS=all", "AUDIT_BUCKET=" + awssim.DemoBucket,
		"AUDIT_TOPIC_ARN=" + awssim.DemoTopicARN(), "AUDIT_S3_PATH_STYLE=true", "AUDIT_CONCURRENCY=8",
		"AUDIT_KMS_KEY_ID=" + awssim.DemoKMSKeyARN, "AUDIT_BUCKET_REGION=" + awssim.DemoHomeRegion, "AUDIT_LINK_ROLE_ARN=" + sim.TemplateRole("LinkSigningRole").ARN,
	}
	var logs testkit.Buffer // the child writes while the test reads
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	// The demo's declared findings: all of them for a scheduled run, the network account's stacks for the manual one.
	all, networkStacks := 0, 0
	for check, byKey := range awssim.DemoFindings {
		all += len(byKey)
		for k := range byKey {
			if check == "cloudformation-failed-stacks" && strings.HasPrefix(k, "333333333333/eu-west-1/") {
				networkStacks++
			}
		}
	}
	events := []struct {
		name, event, runID string
		findings           int
	}{
		{"scheduler", `{"source":"aws.scheduler","scheduled_time":"2026-11-22T08:00:00Z","execution_id":"d32c5kddcf5bb8c3","schedule_arn":"arn:aws:scheduler:us-east-1:111111111111:schedule/default/orgaudit"}`, "20261122T080000Z", all},
		{"eventbridge", `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"111111111111","time":"2026-11-23T08:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:111111111111:rule/orgaudit"],"detail":{}}`, "20261123T080000Z", all},
		{"manual", `{"accounts":["333333333333"],"regions":["eu-west-1"],"checks":["cloudformation-failed-stacks"],"run_id":"manual-1"}`, "manual-1", networkStacks},
	}
	for i, ev := range events {
		o := rt.invoke(t, fmt.Sprintf("req-%d", i), ev.event)
		if o.errType != "" {
			t.Fatalf("%s: error %s %s\nlogs:\n%s", ev.name, o.errType, o.errBody, logs.String())
		}
		var res report.Result
		if err := json.Unmarshal(o.response, &res); err != nil {
			t.Fatalf("%s: response is not the JSON result: %v: %s", ev.name, err, o.response)
		}
		if res.RunID != ev.runID || len(res.Findings) != ev.findings || !res.Published || res.Report == nil || res.Report.Key == "" {
			t.Errorf("%s: run %s, %d findings, published %v, report %+v", ev.name, res.RunID, len(res.Findings), res.Published, res.Report)
		}
		// The second scheduled run compares with the first, read back from the bucket as the execution role may.
		// The one warning every demo run gives is the account whose owner tag cannot be read.
		ownerOnly := len(res.Warnings) == 1 && strings.HasPrefix(res.Warnings[0], "owner tags of 1 account could not be read")
		if ev.name == "eventbridge" && (res.PreviousRunID != events[0].runID || res.Changes == nil || res.Changes.Ongoing != all || !ownerOnly) {
			t.Errorf("%s: previous run %q (no_previous %q) changes %+v warnings %q, want %s", ev.name, res.PreviousRunID, res.NoPrevious, res.Changes, res.Warnings, events[0].runID)
		}
		if resp, err := http.Get(res.Report.URL); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s: the emailed link does not download: %v %v", ev.name, resp, err)
		} else {
			resp.Body.Close()
		}
		if n, u := len(sim.Digests()), len(sim.Workbooks()); n != i+1 || u != i+1 {
			t.Errorf("%s: %d digests and %d workbooks after %d invocations", ev.name, n, u, i+1)
		}
	}

	// Each invocation's lines say its run's id, the scheduled ones' derived from their schedule's time.
	for i, ev := range events {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) != nil {
				continue // the runtime's own lines are not JSON
			}
			if l["requestId"] == fmt.Sprintf("req-%d", i) && l["run_id"] != ev.runID {
				t.Errorf("%s: log line %q says run_id %v, want %s", ev.name, l["message"], l["run_id"], ev.runID)
			}
		}
	}

	// Runs that fail say how in the errorType the Runtime API receives.
	digests, workbooks := len(sim.Digests()), len(sim.Workbooks())
	var failing sync.Map // service name → the fault it answers with
	sim.SetIntercept(func(_ context.Context, c awssim.Call) *awssim.Fault {
		if f, ok := failing.Load(c.Service); ok && (c.Service != "sns" || c.Operation == "Publish") {
			return f.(*awssim.Fault)
		}
		return nil
	})
	failing.Store("cloudformation", &awssim.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized to perform: cloudformation:ListStacks"})
	o := rt.invoke(t, "req-nothing", `{"accounts":["333333333333"],"regions":["eu-west-1"],"checks":["cloudformation-failed-stacks"],"run_id":"manual-nothing"}`)
	if o.errType != "NothingAuditedError" || !strings.Contains(string(o.errBody), "nothing could be audited") {
		t.Errorf("nothing audited: type %q body %s", o.errType, o.errBody)
	}
	digests, workbooks = digests+1, workbooks+1 // the report saying so still goes out
	failing.Delete("cloudformation")
	failing.Store("sns", &awssim.Fault{Status: 403, Code: "AuthorizationError", Message: "not authorized to perform: SNS:Publish"})
	o = rt.invoke(t, "req-undelivered", `{"accounts":["333333333333"],"regions":["eu-west-1"],"checks":["cloudformation-failed-stacks"],"run_id":"manual-undelivered"}`)
	if o.errType != "DeliveryFailedError" || !strings.Contains(string(o.errBody), "SNS:Publish") {
		t.Errorf("delivery failed: type %q body %s", o.errType, o.errBody)
	}
	workbooks++ // uploaded before the digest was refused
	sim.SetIntercept(nil)

	o = rt.invoke(t, "req-bad", `{"accounts":["33"],"regions":["mars-1"],"surprise":true}`)
	if o.errType != "InvalidEventError" || !strings.Contains(string(o.errBody), `unknown field \"surprise\"`) {
		t.Errorf("malformed event: type %q body %s", o.errType, o.errBody)
	}
	o = rt.invoke(t, "req-bad-2", `{"accounts":["33"],"regions":["mars-1"]}`)
	if o.errType != "InvalidEventError" || !strings.Contains(string(o.errBody), `account id \"33\" must be 12 digits`) || !strings.Contains(string(o.errBody), `region \"mars-1\"`) {
		t.Errorf("invalid event: type %q body %s", o.errType, o.errBody)
	}
	if d := sim.Denials(); len(d) != 0 {
		t.Errorf("the deployed roles refused the function: %+v", d)
	}
	if n, u := len(sim.Digests()), len(sim.Workbooks()); n != digests || u != workbooks {
		t.Errorf("%d digests and %d workbooks, want %d and %d: a rejected event published something", n, u, digests, workbooks)
	}
	// The function logs JSON lines through lambdacontext's handler, each with the request id.
	if !strings.Contains(logs.String(), `"requestId":"req-0"`) && !strings.Contains(logs.String(), `"requestId": "req-0"`) {
		t.Errorf("logs carry no request id:\n%.2000s", logs.String())
	}
}
