package crossaccount_test

import (
	"context"
	"testing"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// TestResultNamesTheOrganization: the walk reads the organization's id and management account from the root's ARN
// as the simulator sends it (arn:aws:organizations::<management>:root/o-…/r-…), and a run that cannot list the
// organization knows only its caller.
func TestResultNamesTheOrganization(t *testing.T) {
	t.Parallel()
	sim, cfg := setup(t)
	o := options(4)
	o.Checks = nil
	r, err := crossaccount.Run(context.Background(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	want := crossaccount.Organization{ID: awssim.Demo(asOf).ID, ManagementAccountID: awssim.DemoManagementAccount, CallerAccountID: awssim.DemoManagementAccount}
	if r.Organization != want {
		t.Errorf("organization %+v, want %+v", r.Organization, want)
	}

	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "ListRoots" {
			return &awssim.Fault{Status: 400, Code: "AWSOrganizationsNotInUseException", Message: "Your account is not a member of an organization."}
		}
		return nil
	})
	o.AllowOwnAccountFallback = true
	r, err = crossaccount.Run(context.Background(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := (crossaccount.Organization{CallerAccountID: awssim.DemoManagementAccount}); !r.OwnAccountOnly || r.Organization != want {
		t.Errorf("own account only %v, organization %+v; want %+v", r.OwnAccountOnly, r.Organization, want)
	}
}
