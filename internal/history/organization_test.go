package history

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

var (
	orgA = Organization{ID: "o-aaaaaaaaaa", ManagementAccountID: "111111111111", CallerAccountID: "111111111111"}
	orgB = Organization{ID: "o-bbbbbbbbbb", ManagementAccountID: "222222222222", CallerAccountID: "222222222222"}
)

func orgStateAt(id string, at time.Time, org Organization, accounts ...string) *State {
	f := finding("ec2-reserved-instances", accounts[0], "us-east-1", "ri-"+id, checks.Warning)
	run := Run{ID: id, Time: at, AsOf: at, Findings: []checks.Finding{f}, Accounts: accounts, Organization: org}
	return NewState(run, Diff(nil, run))
}

// TestPreviousIsOfTheRunsOrganization: in one store holding two organizations' runs, each run compares with its own
// organization's latest, and says it passed the other's over; an organization with no run of its own has none, and
// says whose the stored run is.
func TestPreviousIsOfTheRunsOrganization(t *testing.T) {
	ctx := context.Background()
	for kind, open := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			st, _ := open(t)
			for _, s := range []*State{
				orgStateAt("a1", day1, orgA, "111111111111", "333333333333"),
				orgStateAt("b1", day1.Add(time.Hour), orgB, "222222222222"),
			} {
				if err := st.Put(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			got, err := st.Previous(ctx, day2, "a2", Lineage{Organization: orgA})
			var cav *Caveats
			if got == nil || got.RunID != "a1" || got.Organization != orgA {
				t.Fatalf("previous of A = %v, %v; want a1", got, err)
			}
			if !errors.As(err, &cav) || !strings.Contains(err.Error(), "the stored run is o-bbbbbbbbbb's") {
				t.Errorf("B's run passed over without a word: %v", err)
			}
			got, err = st.Previous(ctx, day2, "b2", Lineage{Organization: orgB})
			if got == nil || got.RunID != "b1" || err != nil {
				t.Fatalf("previous of B = %v, %v; want b1 and nothing passed over", got, err)
			}
			orgC := Organization{ID: "o-cccccccccc", ManagementAccountID: "444444444444", CallerAccountID: "444444444444"}
			got, err = st.Previous(ctx, day2, "c1", Lineage{Organization: orgC, Accounts: []string{"111111111111"}})
			var u *Unavailable
			if got != nil || !errors.As(err, &u) || u.Kind != OtherOrganization ||
				!strings.HasPrefix(err.Error(), "no previous run to compare with: ") || !strings.Contains(err.Error(), "the stored run is o-bbbbbbbbbb's") {
				t.Fatalf("previous of C = %v, %v; want none, saying whose the stored run is", got, err)
			}
			// A run that could not list its organization is its caller account's history, apart from both (a member
			// account's: the management account's own organization stays its own, see below).
			unknown := Organization{CallerAccountID: "333333333333"}
			if got, err = st.Previous(ctx, day2, "u1", Lineage{Organization: unknown}); got != nil || !errors.As(err, &u) || u.Kind != OtherOrganization {
				t.Fatalf("previous of an unknown organization = %v, %v", got, err)
			}
			sums, err := st.Recent(ctx, day1.AddDate(0, 0, -1), day2, orgA)
			if err != nil || len(sums) != 1 || sums[0].RunID != "a1" {
				t.Errorf("A's trend = %+v, %v; want a1 only", sums, err)
			}
		})
	}
}

// TestPreviousTakesAStateWithoutOrganizationOnce: a state written before states named their organization is taken
// by a run that shares one of its accounts, with a note, and refused by one that shares none; the state the run
// writes names the organization.
func TestPreviousTakesAStateWithoutOrganizationOnce(t *testing.T) {
	ctx := context.Background()
	st := NewDirStore(t.TempDir(), 0)
	if err := st.Put(ctx, orgStateAt("old", day1, Organization{}, "111111111111", "333333333333")); err != nil {
		t.Fatal(err)
	}
	got, err := st.Previous(ctx, day2, "b", Lineage{Organization: orgB, Accounts: []string{"222222222222"}})
	var u *Unavailable
	if got != nil || !errors.As(err, &u) || u.Kind != OtherOrganization || !strings.Contains(err.Error(), "holds none of this run's accounts") {
		t.Fatalf("B took A's unnamed state: %v, %v", got, err)
	}
	got, err = st.Previous(ctx, day2, "a", Lineage{Organization: orgA, Accounts: []string{"111111111111"}})
	var cav *Caveats
	if got == nil || got.RunID != "old" || !errors.As(err, &cav) || !strings.Contains(err.Error(), "taken as o-aaaaaaaaaa's") {
		t.Fatalf("A's own unnamed state: %v, %v", got, err)
	}
	run := Run{ID: "a", Time: day2, AsOf: day2, Accounts: []string{"111111111111"}, Organization: orgA}
	if err := st.Put(ctx, NewState(run, Diff(got, run))); err != nil {
		t.Fatal(err)
	}
	got, err = st.Previous(ctx, day2.Add(24*time.Hour), "a3", Lineage{Organization: orgA, Accounts: []string{"111111111111"}})
	if got == nil || got.RunID != "a" || got.Organization != orgA || err != nil {
		t.Fatalf("the next run: %v, %v; want run a, named A's, with no note", got, err)
	}
}

// TestStoredOrganizationIsChecked: an organization id that is not one is refused like any damage, before a message
// quotes it.
func TestStoredOrganizationIsChecked(t *testing.T) {
	for _, bad := range []Organization{{ID: "o-x\n<b>"}, {ID: "o-aaaaaaaaaa", ManagementAccountID: "12"}, {CallerAccountID: "abc"}} {
		s := orgStateAt("x", day1, bad, "111111111111")
		var buf bytes.Buffer
		if err := Encode(&buf, s); err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(bytes.NewReader(buf.Bytes())); err == nil {
			t.Errorf("Decode took organization %+v", bad)
		}
		if _, err := ReadSummary(bytes.NewReader(buf.Bytes())); err == nil {
			t.Errorf("ReadSummary took organization %+v", bad)
		}
	}
}

// TestManagementAccountKnowsItsOrganizationsRuns: a run from the management account whose listing of the roots failed
// knows no organization id, only its caller; the runs of the organization that account manages are still its own,
// never "another organization's", while another organization's stay apart.
func TestManagementAccountKnowsItsOrganizationsRuns(t *testing.T) {
	t.Parallel()
	unknown := Lineage{Organization: Organization{CallerAccountID: orgA.ManagementAccountID}}
	if mine, legacy := unknown.whose(orgA); !mine || legacy {
		t.Errorf("the management account's own organization: mine %v legacy %v, want mine", mine, legacy)
	}
	if mine, _ := unknown.whose(orgB); mine {
		t.Errorf("another organization's run taken as the management account's own")
	}
	member := Lineage{Organization: Organization{CallerAccountID: "333333333333"}}
	if mine, _ := member.whose(orgA); mine {
		t.Errorf("a member account's run took the organization's run as its own")
	}
}
