package crossaccount_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// TestRepeatedWalkPageTokenIsSaid: a listing of the walk handing a page's token back must end the walk with a recorded
// failure naming the operation and an "incomplete" scope, never loop and never pass for the whole organization. The
// root's four OUs come in two pages of three, so a repeated token there stops the walk before any OU is entered; the
// Prod OU's four accounts too, after both its pages arrived.
func TestRepeatedWalkPageTokenIsSaid(t *testing.T) {
	t.Parallel()
	for op, arrived := range map[string]func(a *awssim.Account) bool{
		"ListOrganizationalUnitsForParent": func(a *awssim.Account) bool { return a.OU == "" },
		"ListAccountsForParent":            func(a *awssim.Account) bool { return true },
	} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			org := awssim.Demo(asOf)
			org.RepeatToken = []string{op}
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
			want := 0
			for _, a := range org.Accounts {
				if arrived(a) {
					want++
				}
			}
			if len(r.Accounts)+len(r.Skipped) != want || !strings.Contains(r.Scope, "account list incomplete") {
				t.Errorf("accounts %d skipped %d scope %q: the %d that arrived are audited and the gap is said", len(r.Accounts), len(r.Skipped), r.Scope, want)
			}
			if calls := sim.Calls()["organizations."+op]; calls > 10 {
				t.Errorf("%d %s calls: the repeated token must stop the listing", calls, op)
			}
			var listing *crossaccount.Failure
			for i, f := range r.Failures {
				if f.AccountID == "" {
					listing = &r.Failures[i]
				}
			}
			if listing == nil || listing.Code != "RepeatedPageToken" || !strings.Contains(listing.Message, op) {
				t.Errorf("listing failure %+v (of %d failures)", listing, len(r.Failures))
			}
		})
	}
}
