package crossaccount_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/testkit"
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
			sim := testkit.StartSim(t, org)
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

// TestWalkSaysWhatItListed: the walk hands over every account it listed with its state, whatever the filter, and
// whether it listed the organization whole, so the history can tell an account that left from one the run did not
// look at. A listing that fails part way (ServiceException on every attempt at Workloads/Prod's second page) lists
// the accounts before it and not one after.
func TestWalkSaysWhatItListed(t *testing.T) {
	t.Parallel()
	const excluded, beyond = "444444444444", "131313131313" // beyond: on Workloads/Prod's second page
	for name, fault := range map[string]*awssim.ListingFault{
		"whole":  nil,
		"broken": {Operation: "ListAccountsForParent", Code: "ServiceException", Page: 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			org := awssim.Demo(asOf)
			if fault != nil {
				org.ListingFaults = map[string]awssim.ListingFault{"Workloads/Prod": *fault}
			}
			sim := testkit.StartSim(t, org)
			cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
			cfg.Retryer = func() aws.Retryer {
				return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts, o.MaxBackoff = 3, time.Millisecond })
			}
			opts := options(4)
			opts.Filter = crossaccount.Filter{Exclude: []string{excluded}}
			l, err := crossaccount.List(context.Background(), cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, a := range org.Accounts {
				if fault == nil || a.ID != beyond {
					want[a.ID] = a.State
				}
			}
			if got := l.Rest.Listed; !maps.Equal(got, want) || l.Rest.ListedWhole != (fault == nil) {
				t.Errorf("listed %v (whole %v), want %v (whole %v)", got, l.Rest.ListedWhole, want, fault == nil)
			}
			if fault != nil && !strings.HasPrefix(l.Rest.ListingIncomplete, "ServiceException: ") {
				t.Errorf("listing incomplete %q, want the listing's error", l.Rest.ListingIncomplete)
			}
			for _, a := range l.Audit {
				if a.ID == excluded {
					t.Errorf("excluded account %s is to be audited", a.ID)
				}
			}
		})
	}
}
