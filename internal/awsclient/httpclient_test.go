package awsclient

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TestSharedHTTPClientPoolsForTheConcurrency: the SDK's buildable client becomes one plain client whose pool keeps an
// idle connection per task, so service clients built from it share it instead of cloning a pool each; a client of the
// caller's own is left as it is.
func TestSharedHTTPClientPoolsForTheConcurrency(t *testing.T) {
	t.Parallel()
	for name, configured := range map[string]aws.HTTPClient{"none": nil, "buildable": awshttp.NewBuildableClient()} {
		got := SharedHTTPClient(configured, 16)
		c, ok := got.(*http.Client)
		if !ok {
			t.Fatalf("%s: %T, want a plain *http.Client", name, got)
		}
		tr, ok := c.Transport.(*http.Transport)
		if !ok || tr.MaxIdleConnsPerHost != 20 || tr.MaxIdleConns != 80 {
			t.Errorf("%s: transport %T; want an *http.Transport keeping 20 idle per host, 80 in all", name, c.Transport)
		}
	}
	own := &http.Client{}
	if got := SharedHTTPClient(own, 16); got != own {
		t.Errorf("the caller's own client was replaced by %T", got)
	}
}
