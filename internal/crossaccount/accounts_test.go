package crossaccount_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// TestRepeatedAccountPageTokenIsSaid: ListAccounts handing a page's token back must end the listing with a recorded
// failure and an "incomplete" scope, never loop and never pass for the whole organization.
func TestRepeatedAccountPageTokenIsSaid(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(asOf)
	org.RepeatToken = []string{"ListAccounts"}
	sim := awssim.New(org)
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := crossaccount.Run(ctx, sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), options(4))
	if err != nil {
		t.Fatal(err)
	}
	if calls := sim.Calls()["organizations.ListAccounts"]; calls != 2 {
		t.Errorf("%d ListAccounts calls: the second page's repeated token must stop the listing", calls)
	}
	// The first two pages arrived before the repeat was seen: those accounts are audited.
	if pages := 2 * org.PageSize; len(r.Accounts)+len(r.Skipped) != pages || !strings.Contains(r.Scope, "account list incomplete") {
		t.Errorf("accounts %d skipped %d scope %q: the pages that arrived are audited and the gap is said", len(r.Accounts), len(r.Skipped), r.Scope)
	}
	var listing *crossaccount.Failure
	for i, f := range r.Failures {
		if f.AccountID == "" {
			listing = &r.Failures[i]
		}
	}
	if listing == nil || listing.Code != "RepeatedPageToken" || !strings.Contains(listing.Message, "ListAccounts") {
		t.Errorf("listing failure %+v (of %d failures)", listing, len(r.Failures))
	}
}
