package audit_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestOwnerEmailOnlyToAnOwnerTagThatIsOneAddress: an owner is mailed only when its owner tag says it is an address
// and it is exactly one. An OU path is never an address, however it reads: whoever may name an OU
// "ops@evil.example" must not receive the digest of the accounts in it.
func TestOwnerEmailOnlyToAnOwnerTagThatIsOneAddress(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(demoAsOf)
	const (
		ouOwner      = "Root/Workloads/ops@evil.example"
		twoAddresses = "a@example.com, b@example.com"
		named        = "Ops Team <ops-team@example.com>"
	)
	tagged := map[string]string{}
	for _, a := range org.Accounts {
		switch a.ID {
		case awssim.DemoUnreadableTags: // its tags are refused: owned by its OU
			a.OU = "Workloads/ops@evil.example"
		case "777777777777":
			a.Tags = map[string]string{awssim.DemoOwnerTagKey: twoAddresses}
			tagged[twoAddresses] = a.ID
		case "888888888888":
			a.Tags = map[string]string{awssim.DemoOwnerTagKey: named}
			tagged[named] = a.ID
		}
	}
	if len(tagged) != 2 {
		t.Fatalf("the demo lacks the accounts this test tags: %v", tagged)
	}
	sim := startSim(t, org)
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	s := demoSettings()
	s.RunTime = demoAsOf.Add(8 * time.Hour)
	s.EmailFrom, s.EmailTo = awssim.DemoEmailFrom, []string{awssim.DemoEmailTo}
	out, err := audit.Run(context.Background(), cfg, s, audit.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	owners := report.Owners(out.Result)
	for _, o := range []string{ouOwner, twoAddresses, named} {
		if !slices.Contains(owners, o) {
			t.Fatalf("owner %q has no digest of its own, so this test shows nothing: owners %q", o, owners)
		}
	}
	mailed := 0
	for _, e := range sim.Emails() {
		for _, to := range e.To {
			switch to {
			case ouOwner, "ops@evil.example", "a@example.com", "b@example.com", "ops-team@example.com", twoAddresses, named:
				t.Errorf("emailed %q (all recipients %q): not an owner tag that is one address", to, e.To)
			}
		}
		mailed++
	}
	for _, e := range out.Result.Emailed {
		if e.Audience == report.AudienceOwner && (e.Owner == ouOwner || e.Owner == twoAddresses || e.Owner == named) {
			t.Errorf("the result lists an email to %q: %+v", e.Owner, e)
		}
	}
	if mailed < 2 {
		t.Errorf("%d emails: the owners whose tag is one address must still be mailed", mailed)
	}
}
