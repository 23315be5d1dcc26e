package audit_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestBrokenWalkIsPartialInWhatIsPublished: Organizations answers the first ListAccountsForParent and then fails every
// later one with ServiceException (a fault: 5xx), past the SDK's retries, so the walk stops part way. The accounts it
// listed are audited cleanly, apart from the demo's account without the role if it was reached; the published digest
// and notice say the run is partial because the account list is incomplete, and the subject does not let the count of
// accounts read as the organization's.
func TestBrokenWalkIsPartialInWhatIsPublished(t *testing.T) {
	t.Parallel()
	sim := startSim(t, awssim.Demo(demoAsOf))
	var listings atomic.Int32
	sim.SetIntercept(func(_ context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "ListAccountsForParent" && listings.Add(1) > 1 {
			return &awssim.Fault{Status: 500, Code: "ServiceException", Message: "Organizations can't complete your request because of an internal service error."}
		}
		return nil
	})
	s := demoSettings()
	s.Regions, s.NoHistory, s.MaxAttempts = []string{awssim.DemoHomeRegion}, true, 2
	out, err := audit.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	res := out.Result
	if len(res.PartialReasons) == 0 || res.PartialReasons[0].Reason != report.PartialAccountList ||
		!strings.HasPrefix(res.PartialReasons[0].Error, "ServiceException") || !res.Partial {
		t.Fatalf("partial %v, reasons %+v; want the account list incomplete first", res.Partial, res.PartialReasons)
	}
	if res.Accounts.Total == 0 || res.Accounts.Total >= len(awssim.Demo(demoAsOf).Accounts) {
		t.Fatalf("%d accounts in scope; the scenario wants a walk that stopped part way", res.Accounts.Total)
	}
	digests := sim.Digests()
	if len(digests) != 1 {
		t.Fatalf("%d digests published", len(digests))
	}
	d := digests[0]
	if d.Subject != out.Subject || !strings.HasPrefix(d.Subject, "PARTIAL orgaudit ") || !strings.Contains(d.Subject, " accounts, list incomplete") {
		t.Errorf("published subject %q", d.Subject)
	}
	if lines := strings.SplitN(d.Bodies["email"], "\n", 3); len(lines) < 2 ||
		!strings.HasPrefix(lines[1], "PARTIAL: the account list is incomplete (ServiceException") {
		t.Errorf("the published digest does not lead with the incomplete account list:\n%.800s", d.Bodies["email"])
	}
	var notice report.Notice
	if err := json.Unmarshal([]byte(d.Bodies["sqs"]), &notice); err != nil {
		t.Fatalf("the sqs body is no notice: %v\n%s", err, d.Bodies["sqs"])
	}
	if !notice.Partial || len(notice.PartialReasons) == 0 || notice.PartialReasons[0].Reason != report.PartialAccountList {
		t.Errorf("the published notice says partial %v, reasons %+v", notice.Partial, notice.PartialReasons)
	}
	t.Logf("subject: %s", d.Subject)
}
