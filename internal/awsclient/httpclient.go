package awsclient

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// SharedHTTPClient gives every SDK client of a run one connection pool. A service client clones any
// *awshttp.BuildableClient it is given, transport and all, so a run that builds a client per account, region and
// check would open a pool per client: thousands of idle connections, and "too many open files" (Lambda allows
// 1,024). A plain *http.Client is used as it is. Its transport comes from the configured buildable client, so proxy
// and CA-bundle settings survive; an HTTP client of the caller's own is left alone.
func SharedHTTPClient(configured aws.HTTPClient, concurrency int) aws.HTTPClient {
	buildable, ok := configured.(*awshttp.BuildableClient)
	if configured != nil && !ok {
		return configured
	}
	if buildable == nil {
		buildable = awshttp.NewBuildableClient()
	}
	transport := buildable.WithTransportOptions(func(t *http.Transport) {
		// Every task may hold a connection to one host; keep that many idle for reuse and no more.
		t.MaxIdleConnsPerHost = concurrency + 4
		t.MaxIdleConns = 4 * (concurrency + 4)
	}).GetTransport()
	return &http.Client{Transport: transport}
}
