// Package mototest starts moto_server, the independent AWS emulator, for contract tests: the one copy of the moto
// fixtures. Tests import it; the product does not. Of ours it imports only testkit, the other test helpers.
package mototest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgaudit/orgaudit/internal/testkit"
)

// DefaultAccount is the account moto answers as for credentials it did not issue: any access key a test makes up.
const DefaultAccount = "123456789012"

// Credentials are made-up static credentials moto accepts as DefaultAccount. Each test names its own access key, so
// a key in moto's logs says which test sent the call.
func Credentials(accessKeyID string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(accessKeyID, "moto-secret", "")
}

// Config is an SDK configuration that sends every service to moto at url, in region, signed with Credentials.
func Config(url, region, accessKeyID string) aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(url), Credentials: Credentials(accessKeyID)}
}

// RequireEnv makes a missing moto_server a test failure instead of a skip; CI sets it.
const RequireEnv = "ORGAUDIT_REQUIRE_MOTO"

// Start runs moto_server on a free loopback port and stops it when the test ends. It returns the endpoint URL. env
// ("KEY=value") is added to moto_server's environment: REQUESTS_CA_BUNDLE, for one, makes moto's HTTPS deliveries
// (SNS to an https endpoint, through Python requests) trust a test's own certificate.
func Start(t testing.TB, env ...string) string {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("moto_server is required (%s is set) but not on PATH: %v", RequireEnv, err)
		}
		t.Skipf("moto_server not on PATH: %v", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		url, stop, err := launch(path, env)
		if err == nil {
			t.Cleanup(stop)
			return url
		}
		lastErr = err
	}
	t.Fatalf("start moto_server: %v", lastErr)
	return ""
}

// launch picks a free port, starts moto on it and waits until it answers. The port can be taken between picking and
// binding, so Start retries.
func launch(path string, env []string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var logs testkit.Buffer // moto writes while launch reads, on failure
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// moto's own clients (Step Functions' interpreter reading S3 or sending to SQS, for one) call the server on
	// MOTO_PORT, 5000 unless told.
	cmd.Env = append(append(os.Environ(), fmt.Sprintf("MOTO_PORT=%d", port)), env...)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return "", nil, fmt.Errorf("moto_server exited: %v: %s", err, logs.String())
		default:
		}
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url, stop, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("moto_server did not answer on %s within 60s: %s", url, logs.String())
}
