package history

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOrganizationDirStore: the CLI's default directory keeps each organization apart, finds a state kept in the
// directory itself before (once, and only for the organization it shares an account with), and reads owner tags of
// every organization before the audit, when the organization is not known yet.
func TestOrganizationDirStore(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	old := orgStateAt("old", day1, Organization{}, "111111111111", "333333333333")
	old.OwnerTags = []OwnerTag{{AccountID: "333333333333", Value: "old@example.com", Found: true, ReadAt: day1}}
	if err := NewDirStore(base, 0).Put(ctx, old); err != nil {
		t.Fatal(err)
	}
	b := NewOrganizationDirStore(base, orgB, 0)
	got, err := b.Previous(ctx, day2, "b1", Lineage{Organization: orgB, Accounts: []string{"222222222222"}})
	var u *Unavailable
	if got != nil || !errors.As(err, &u) || u.Kind != OtherOrganization {
		t.Fatalf("B took the old state of A's accounts: %v, %v", got, err)
	}
	bState := orgStateAt("b1", day2, orgB, "222222222222")
	bState.OwnerTags = []OwnerTag{{AccountID: "222222222222", Value: "b@example.com", Found: true, ReadAt: day2}}
	if err := b.Put(ctx, bState); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base, orgB.ID, Key(day2, "", "b1"))); err != nil {
		t.Fatalf("B's state is not in B's directory: %v", err)
	}

	a := NewOrganizationDirStore(base, orgA, 0)
	lineageA := Lineage{Organization: orgA, Accounts: []string{"111111111111", "333333333333"}}
	got, err = a.Previous(ctx, day2, "a1", lineageA)
	var cav *Caveats
	if got == nil || got.RunID != "old" || !errors.As(err, &cav) {
		t.Fatalf("A's old state in the directory itself: %v, %v", got, err)
	}
	if err := a.Put(ctx, orgStateAt("a1", day2, orgA, "111111111111")); err != nil {
		t.Fatal(err)
	}
	got, err = a.Previous(ctx, day2.Add(24*time.Hour), "a2", lineageA)
	if got == nil || got.RunID != "a1" || err != nil {
		t.Fatalf("A's next run: %v, %v; want a1 from A's directory", got, err)
	}

	tags, err := NewOrganizationDirStore(base, Organization{}, 0).PreviousOwnerTags(ctx, day2.Add(24*time.Hour), "x", Organization{})
	if err != nil || len(tags) != 2 || tags[0].Value != "b@example.com" || tags[1].Value != "old@example.com" {
		t.Fatalf("owner tags before the audit = %+v, %v; want B's and the old state's", tags, err)
	}
	if err := NewOrganizationDirStore(base, Organization{}, 0).Put(ctx, orgStateAt("z", day2, Organization{}, "111111111111")); err == nil ||
		!strings.Contains(err.Error(), "not known") {
		t.Errorf("a store of no organization stored a state: %v", err)
	}
}
