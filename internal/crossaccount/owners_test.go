package crossaccount_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// generated starts a simulator for a generated organization.
func generated(t *testing.T, o awssim.GenerateOptions) (*awssim.Server, *awssim.Organization) {
	t.Helper()
	org := awssim.Generate(o)
	sim := testkit.StartSim(t, org)
	return sim, org
}

// TestWalkCallsGrowWithOUsNotAccounts: the walk asks once for the roots, once per parent (the root and each OU) for
// its OUs, and once per page of 20 accounts per parent: doubling the accounts adds only pages of accounts, and
// doubling the OUs adds one listing of OUs and one of accounts per OU, never a call per account. Every account is
// audited with its OU path.
func TestWalkCallsGrowWithOUsNotAccounts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ accounts, ous int }{{1000, 10}, {2000, 10}, {1000, 20}} {
		t.Run(fmt.Sprintf("%d accounts in %d OUs", c.accounts, c.ous), func(t *testing.T) {
			t.Parallel()
			sim, org := generated(t, awssim.GenerateOptions{Accounts: c.accounts, Regions: []string{"us-east-1"}, AsOf: asOf, OUs: c.ous})
			o := options(32)
			o.Checks, o.Regions = nil, []string{"us-east-1"}
			r, err := crossaccount.Run(context.Background(), sim.Config(awssim.GeneratedManagementAccount, "us-east-1"), o)
			if err != nil {
				t.Fatal(err)
			}
			perOU := map[string]int{}
			for _, a := range org.Accounts {
				perOU[a.OU]++
			}
			accountPages := 0
			for _, n := range perOU {
				accountPages += (n + 19) / 20
			}
			calls := sim.Calls()
			got := map[string]int{"ListRoots": calls["organizations.ListRoots"], "ListOrganizationalUnitsForParent": calls["organizations.ListOrganizationalUnitsForParent"],
				"ListAccountsForParent": calls["organizations.ListAccountsForParent"], "ListAccounts": calls["organizations.ListAccounts"], "ListTagsForResource": calls["organizations.ListTagsForResource"]}
			want := map[string]int{"ListRoots": 1, "ListOrganizationalUnitsForParent": c.ous + 1, "ListAccountsForParent": accountPages, "ListAccounts": 0, "ListTagsForResource": 0}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("calls %v, want %v", got, want)
			}
			t.Logf("%d accounts in %d OUs: %d Organizations calls (%v)", c.accounts, c.ous, 1+c.ous+1+accountPages, got)
			if len(r.Accounts) != c.accounts {
				t.Fatalf("%d accounts audited of %d", len(r.Accounts), c.accounts)
			}
			for _, a := range r.Accounts {
				want := awssim.RootName
				if ou := org.Accounts[0]; a.ID != ou.ID {
					want = "Root/Unit-"
				}
				if !strings.HasPrefix(a.OU, want) || a.Owner != a.OU {
					t.Fatalf("account %+v: want OU %s… and, with no owner tag, its OU as owner", a, want)
				}
			}
		})
	}
}

func ownerOptions(budget int, cached map[string]crossaccount.OwnerTag) crossaccount.Options {
	o := options(8)
	// The default rate: under what the demo's Organizations allows beside the walk (awssim.Demo's RequestRate).
	o.Owners = crossaccount.OwnerOptions{TagKey: awssim.DemoOwnerTagKey, Budget: budget, Cached: cached,
		Now: func() time.Time { return asOf.Add(time.Hour) }}
	return o
}

// TestOwnersComeFromTagsElseTheOU: the demo's tagged accounts are owned by their tag's value, the others by their OU
// path; the account whose tags are refused is owned by its OU and says why; every cell, failure and finding of an
// account carries its owner and OU, and a skipped account its own.
func TestOwnersComeFromTagsElseTheOU(t *testing.T) {
	t.Parallel()
	_, cfg := setup(t)
	r, err := crossaccount.Run(context.Background(), cfg, ownerOptions(crossaccount.DefaultOwnerTagBudget, nil))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]crossaccount.Account{}
	for _, a := range r.Accounts {
		byID[a.ID] = a
		if a.Owner != awssim.DemoOwners[a.ID] {
			t.Errorf("account %s (%s) owned by %q, want %q", a.ID, a.OU, a.Owner, awssim.DemoOwners[a.ID])
		}
	}
	if len(byID) != len(awssim.DemoOwners) {
		t.Errorf("%d accounts, the demo has %d active", len(byID), len(awssim.DemoOwners))
	}
	unreadable := byID[awssim.DemoUnreadableTags]
	if unreadable.OU != "Root/Workloads/Prod" || !strings.Contains(unreadable.OwnerNote, "AccessDeniedException") || !strings.Contains(unreadable.OwnerNote, "owned by its OU") {
		t.Errorf("the account whose tags are refused: %+v", unreadable)
	}
	for id, a := range byID {
		if id != awssim.DemoUnreadableTags && a.OwnerNote != "" {
			t.Errorf("account %s has a note though its tags were read: %q", id, a.OwnerNote)
		}
	}
	if st := r.OwnerStats; st.Read != len(byID)-1 || st.Failed != 1 || st.Unknown != 1 || st.OverBudget != 0 {
		t.Errorf("stats %+v: every active account's tags read once, one refused", st)
	}
	for c := range r.Cells.All() {
		if a := byID[c.AccountID]; c.Owner != a.Owner || c.OU != a.OU {
			t.Fatalf("cell %+v: its account is owned by %q in %q", c, a.Owner, a.OU)
		}
	}
	for _, f := range r.Failures {
		if a := byID[f.AccountID]; f.Owner != a.Owner || f.OU != a.OU {
			t.Errorf("failure %+v: its account is owned by %q in %q", f, a.Owner, a.OU)
		}
	}
	if len(r.Findings) == 0 {
		t.Fatal("no findings: the stamp is not shown")
	}
	for _, f := range r.Findings {
		if a := byID[f.AccountID]; f.Owner != a.Owner || f.OU != a.OU || f.OU == "" {
			t.Fatalf("finding %s/%s: owner %q OU %q, its account's %q %q", f.AccountID, f.ResourceID, f.Owner, f.OU, a.Owner, a.OU)
		}
	}
	if len(r.Skipped) != 1 || r.Skipped[0].OU != "Root/Sandbox" || r.Skipped[0].Owner != "Root/Sandbox" {
		t.Errorf("skipped %+v: its OU, and as its tag was not read, its OU as owner", r.Skipped)
	}
}

// TestOwnerTagBudgetRefreshesTheOldestFirst: of 10,000 accounts, 300 never read and the rest cached at times a
// minute apart, a budget of 500 costs exactly 500 ListTagsForResource calls: the 300 never read, then the 200 cached
// longest ago. Every cached account keeps its owner; the tags to keep hold all 10,000.
func TestOwnerTagBudgetRefreshesTheOldestFirst(t *testing.T) {
	t.Parallel()
	const accounts, neverRead, budget = 10_000, 300, 500
	sim, org := generated(t, awssim.GenerateOptions{Accounts: accounts, Regions: []string{"us-east-1"}, AsOf: asOf, OUs: 10, OwnerTagKey: awssim.DemoOwnerTagKey})
	cached := map[string]crossaccount.OwnerTag{}
	readAt := map[string]time.Time{}
	for i, a := range org.Accounts {
		if i < neverRead {
			continue
		}
		// Newest first in the organization's order, so oldest-first is not the order the walk meets them.
		at := asOf.Add(-time.Duration(i) * time.Minute)
		cached[a.ID] = crossaccount.OwnerTag{AccountID: a.ID, Value: "cached-" + a.ID, Found: true, ReadAt: at}
		readAt[a.ID] = at
	}
	var mu sync.Mutex
	calls := 0
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation == "ListTagsForResource" {
			mu.Lock()
			calls++
			mu.Unlock()
		}
		return nil
	})
	o := ownerOptions(budget, cached)
	o.Checks, o.Regions, o.Concurrency = nil, []string{"us-east-1"}, 64
	o.Owners.Rate = 1000 // a generated organization meters nothing
	r, err := crossaccount.Run(context.Background(), sim.Config(awssim.GeneratedManagementAccount, "us-east-1"), o)
	if err != nil {
		t.Fatal(err)
	}
	if calls != budget || r.OwnerStats.Read != budget {
		t.Fatalf("%d ListTagsForResource calls, %d read: want the budget, %d", calls, r.OwnerStats.Read, budget)
	}
	oldestKept := time.Time{}
	refreshed := 0
	for _, tag := range r.OwnerTags {
		if tag.ReadAt.Equal(asOf.Add(time.Hour)) {
			refreshed++
			continue
		}
		if oldestKept.IsZero() || tag.ReadAt.Before(oldestKept) {
			oldestKept = tag.ReadAt
		}
	}
	newestRefreshed := time.Time{}
	for _, tag := range r.OwnerTags {
		if at, ok := readAt[tag.AccountID]; ok && tag.ReadAt.Equal(asOf.Add(time.Hour)) && at.After(newestRefreshed) {
			newestRefreshed = at
		}
	}
	if len(r.OwnerTags) != accounts || refreshed != budget || !newestRefreshed.Before(oldestKept) {
		t.Errorf("%d tags kept, %d refreshed; the newest refreshed was read %s, the oldest not refreshed %s: want the oldest refreshed",
			len(r.OwnerTags), refreshed, newestRefreshed, oldestKept)
	}
	for _, a := range r.Accounts {
		if tag, ok := cached[a.ID]; ok && tag.ReadAt.After(newestRefreshed) && a.Owner != tag.Value {
			t.Fatalf("account %s owned by %q: its cached tag says %q", a.ID, a.Owner, tag.Value)
		}
	}
	t.Logf("%d accounts, budget %d: %d ListTagsForResource calls (%d never read, %d oldest refreshed)", accounts, budget, calls, neverRead, budget-neverRead)
}

// TestOwnerTagsOverBudgetAreOwnedByTheirOU: with no budget and nothing cached, no tag is read and every account is
// owned by its OU, saying the budget was spent; the counts say how many.
func TestOwnerTagsOverBudgetAreOwnedByTheirOU(t *testing.T) {
	t.Parallel()
	sim, cfg := setup(t)
	r, err := crossaccount.Run(context.Background(), cfg, ownerOptions(4, nil))
	if err != nil {
		t.Fatal(err)
	}
	if n := sim.Calls()["organizations.ListTagsForResource"]; n != 4 {
		t.Errorf("%d tag reads on a budget of 4", n)
	}
	over := 0
	for _, a := range r.Accounts {
		if strings.Contains(a.OwnerNote, "budget") {
			over++
			if a.Owner != a.OU {
				t.Errorf("account %+v over budget: owned by its OU", a)
			}
		}
	}
	if over != len(r.Accounts)-4 || r.OwnerStats.OverBudget != over || r.OwnerStats.Unknown < over {
		t.Errorf("%d accounts over budget of %d, stats %+v", over, len(r.Accounts), r.OwnerStats)
	}
}

// TestOwnerTagReadsAreRateBoundedAndThrottlingIsRetried: reads keep to their rate (13 reads at 20 a second take at
// least 12 intervals), and a read Organizations answers TooManyRequestsException is retried and still counts; an
// account whose tags throttle on every attempt is owned by its OU with a note, and the audit goes on.
func TestOwnerTagReadsAreRateBoundedAndThrottlingIsRetried(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(asOf)
	org.Accounts[2].TagFault = "TooManyRequestsException" // network: throttles on every attempt
	org.RequestRate = 0                                   // the intercept below is the throttle here
	sim := testkit.StartSim(t, org)
	_, cfg := setup(t)
	base := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	base.Retryer = cfg.Retryer
	// Each account's first read is throttled and its retry answered, whatever order a loaded machine runs them in.
	var mu sync.Mutex
	var times []time.Time
	attempts := map[string]int{}
	sim.SetIntercept(func(ctx context.Context, c awssim.Call) *awssim.Fault {
		if c.Operation != "ListTagsForResource" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		attempts[c.Resource]++
		if attempts[c.Resource] == 1 {
			return &awssim.Fault{Status: 400, Code: "TooManyRequestsException", Message: "AWS Organizations can't complete your request because another request is already in progress."}
		}
		times = append(times, time.Now())
		return nil
	})
	const rate = 20.0
	o := ownerOptions(crossaccount.DefaultOwnerTagBudget, nil)
	o.Owners.Rate, o.Owners.Burst = rate, 1 // one read started at a time
	r, err := crossaccount.Run(context.Background(), base, o)
	if err != nil {
		t.Fatal(err)
	}
	reads := len(r.Accounts)
	if span := times[len(times)-1].Sub(times[0]); span < time.Duration(float64(reads-3)/rate*float64(time.Second)) {
		t.Errorf("%d answered reads in %s: faster than %v a second", len(times), span, rate)
	}
	var network crossaccount.Account
	for _, a := range r.Accounts {
		if a.ID == "333333333333" {
			network = a
		}
	}
	if network.Owner != "Root/Infrastructure" || !strings.Contains(network.OwnerNote, "TooManyRequestsException") {
		t.Errorf("the account whose tags always throttle: %+v", network)
	}
	for _, a := range r.Accounts {
		if a.OwnerNote != "" {
			t.Logf("%s %s", a.ID, a.OwnerNote)
		}
	}
	// Every read was answered on its second attempt: one throttled, one retried.
	if st := r.OwnerStats; st.Read != reads-2 || st.Failed != 2 {
		t.Errorf("stats %+v over %d accounts: all but the throttling and the refused account read", st, reads)
	}
	calls := 0
	for _, k := range attempts {
		calls += k
	}
	t.Logf("%d accounts: %d tag calls, %d answered over %s at %v a second", reads, calls, len(times), times[len(times)-1].Sub(times[0]).Round(time.Millisecond), rate)
}

// TestHostileOwnerTagIsOneCleanLine: a tag value with line separators, escape sequences, bidi overrides and more
// than AWS's 256 characters becomes one line a person and a routing key can hold; an empty one leaves the OU.
func TestHostileOwnerTagIsOneCleanLine(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(asOf)
	org.RequestRate = 0
	for _, a := range org.Accounts {
		switch a.ID {
		case "777777777777":
			a.Tags = map[string]string{awssim.DemoOwnerTagKey: " ops\u2028team\x1b[31m\u202e\u200b " + strings.Repeat("é", 300)}
		case "888888888888":
			a.Tags = map[string]string{awssim.DemoOwnerTagKey: " \t\u200b"}
		}
	}
	sim := testkit.StartSim(t, org)
	r, err := crossaccount.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), ownerOptions(100, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range r.Accounts {
		switch a.ID {
		case "777777777777":
			if want := "ops team[31m " + strings.Repeat("é", 256-len("ops team[31m ")); a.Owner != want {
				t.Errorf("owner %q, want %q", a.Owner, want)
			}
		case "888888888888":
			if a.Owner != "Root/Security" || !strings.Contains(a.OwnerNote, "empty") {
				t.Errorf("an empty owner tag: %+v", a)
			}
		}
	}
}
