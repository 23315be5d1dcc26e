package audit_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// TestDeliveryGoesToTheRegionsOfTopicAndBucket: the topic and the bucket live in eu-west-1 while the SDK's region is
// us-east-1, as for a CLI user whose profile names another region. SNS and S3 answer only in their own region.
func TestDeliveryGoesToTheRegionsOfTopicAndBucket(t *testing.T) {
	t.Parallel()
	const home, bucket = "eu-west-1", "orgaudit-reports-eu"
	org := awssim.Demo(demoAsOf)
	for _, a := range org.Accounts {
		if a.ID == awssim.DemoManagementAccount {
			a.Regions["us-east-1"].Topics, a.Regions["us-east-1"].Buckets = nil, nil
			a.Regions[home].Topics, a.Regions[home].Buckets = []string{awssim.DemoTopicName}, []string{bucket}
		}
	}
	sim := startSim(t, org)
	cfg := sim.Config(awssim.DemoManagementAccount, "us-east-1")
	s := demoSettings()
	s.Regions, s.Checks = []string{"us-east-1"}, []string{"cloudformation-failed-stacks"}
	s.Bucket, s.TopicARN = bucket, "arn:aws:sns:"+home+":"+awssim.DemoManagementAccount+":"+awssim.DemoTopicName
	s.BucketRegion = "" // as the CLI: S3 is asked
	s.LinkRoleARN = sim.TemplateRole("LinkSigningRole").ARN
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("delivery to another region: %v", err)
	}
	if !out.Result.Published || len(sim.Digests()) != 1 || len(sim.Workbooks()) != 1 {
		t.Fatalf("published %v, %d digests, %d workbooks", out.Result.Published, len(sim.Digests()), len(sim.Workbooks()))
	}
	link, err := url.Parse(out.Result.Report.URL)
	if err != nil || !strings.Contains(link.Query().Get("X-Amz-Credential"), "/"+home+"/s3/") {
		t.Fatalf("link not signed for the bucket's region: %s", out.Result.Report.URL)
	}
	resp, err := http.Get(out.Result.Report.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) != len(out.Workbook) {
		t.Errorf("link: HTTP %d, %d bytes", resp.StatusCode, len(body))
	}
	if !strings.Contains(out.Result.Report.ConsoleURL, "region="+home) {
		t.Errorf("console link %s", out.Result.Report.ConsoleURL)
	}
}

// TestDuplicatesCountOnce: a region, an account and a check named twice are audited once.
func TestDuplicatesCountOnce(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.Bucket, s.TopicARN = "", ""
	s.Regions = []string{"us-east-1", "eu-west-1", "us-east-1"}
	s.Accounts = []string{"333333333333", "333333333333"}
	s.Checks = []string{"cloudformation-failed-stacks", "cloudformation-failed-stacks"}
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Result
	if want := 1 * 2 * 1; r.Coverage.Cells != want || r.Accounts.Total != 1 || len(r.Regions) != 2 || len(r.Checks) != 1 {
		t.Errorf("cells %d (want %d), accounts %+v, regions %v, checks %v", r.Coverage.Cells, want, r.Accounts, r.Regions, r.Checks)
	}
}

// TestNamedAccountOutsideTheOrganization: an account id the organization does not hold is reported as not audited,
// with why, and counted, never silently dropped nor tried as if it were a member.
func TestNamedAccountOutsideTheOrganization(t *testing.T) {
	t.Parallel()
	const stranger = "123456789012" // in no account list of the demo
	sim := startSim(t, awssim.Demo(demoAsOf))
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.Bucket, s.TopicARN = "", ""
	s.Regions = []string{"eu-west-1", "us-east-1"}
	s.Accounts = []string{"333333333333", stranger}
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Result
	strangerCells := 0
	for c := range r.Cells.All() {
		if c.AccountID == stranger {
			strangerCells++
			if c.Outcome != crossaccount.OutcomeError || c.Code != crossaccount.CodeNotInOrganization {
				t.Errorf("cell %+v", c)
			}
		}
	}
	perAccount := crossaccount.CellsPerAccount(checks.All(), len(s.Regions))
	if strangerCells != perAccount || r.Accounts.Total != 2 || r.Accounts.Failed != 1 || r.Coverage.Errors != perAccount {
		t.Errorf("%d cells of the stranger (want %d), accounts %+v, coverage %+v", strangerCells, perAccount, r.Accounts, r.Coverage)
	}
	if !strings.Contains(out.Digest, stranger) || !strings.Contains(out.Digest, "not in the organization") {
		t.Errorf("digest does not say why %s was not audited:\n%s", stranger, out.Digest)
	}
	if n := sim.Calls()["sts.AssumeRole"]; n != 1 {
		t.Errorf("%d AssumeRole calls, want only the member's", n)
	}
}
