package distributed_test

import (
	"bytes"
	"reflect"
	"testing"
	"unsafe"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/distributed"
)

// mergeShards writes one partial result a shard, each of one account audited in regions by every check with one
// finding a cell, and merges them as the report step does.
func mergeShards(t *testing.T, shards int, regions []string) (*distributed.Merger, int) {
	t.Helper()
	m := distributed.NewMerger("run-1", regions, checks.All(), crossaccount.Result{Scope: "organization"})
	m.ExpectShards(shards)
	cells := 0
	for i := range shards {
		acct := crossaccount.Account{ID: "22222222222" + string(rune('0'+i)), Name: "account", Partition: "aws", OU: "Root/Workloads", Owner: "team@example.com"}
		res := &crossaccount.Result{Accounts: []crossaccount.Account{acct}}
		for _, r := range regions {
			for _, c := range checks.All() {
				res.Cells.Add(crossaccount.Cell{AccountID: acct.ID, AccountName: acct.Name, Owner: acct.Owner, OU: acct.OU,
					Region: r, Check: c.Name(), Outcome: crossaccount.OutcomeFindings, Findings: 1})
				res.Findings = append(res.Findings, checks.Finding{Check: c.Name(), Severity: checks.Warning, AccountID: acct.ID,
					AccountName: acct.Name, Owner: acct.Owner, OU: acct.OU, Region: r, ResourceType: "thing", ResourceID: "id-" + r + c.Name(),
					Status: "active", Reason: "expires soon"})
			}
		}
		cells += res.Cells.Len()
		var b bytes.Buffer
		if err := distributed.WritePartial(&b, "run-1", i, res); err != nil {
			t.Fatal(err)
		}
		if err := m.Add(distributed.Shard{Index: i, Accounts: []crossaccount.Account{acct}}, &b); err != nil {
			t.Fatal(err)
		}
	}
	return m, cells
}

// TestMergeKeepsOneCopyOfEachRepeatedString: every record decodes its account's id and name, its region and check
// afresh; the merge keeps one copy of each, or 10,000 accounts' 1.37 million cells hold six strings apiece.
func TestMergeKeepsOneCopyOfEachRepeatedString(t *testing.T) {
	t.Parallel()
	regions := []string{"eu-west-1", "us-east-1"}
	m, _ := mergeShards(t, 3, regions)
	res := m.Result()
	ids := map[string]*byte{}
	for _, a := range res.Accounts {
		ids[a.ID] = unsafe.StringData(a.ID)
	}
	same := map[string]*byte{} // the first copy of each string seen in the rows
	shared := func(what, s string) {
		t.Helper()
		if p, ok := same[s]; !ok {
			same[s] = unsafe.StringData(s)
		} else if p != unsafe.StringData(s) {
			t.Errorf("%s %q: a second copy", what, s)
		}
	}
	for c := range res.Cells.All() {
		if ids[c.AccountID] != unsafe.StringData(c.AccountID) {
			t.Errorf("cell's account id %s is not its account's copy", c.AccountID)
		}
		shared("cell's account name", c.AccountName)
		shared("cell's region", c.Region)
		shared("cell's check", c.Check)
		shared("cell's outcome", string(c.Outcome))
	}
	for _, f := range res.Findings {
		if ids[f.AccountID] != unsafe.StringData(f.AccountID) {
			t.Errorf("finding's account id %s is not its account's copy", f.AccountID)
		}
		shared("finding's account name", f.AccountName)
		shared("finding's region", f.Region)
		shared("finding's check", f.Check)
		shared("finding's severity", string(f.Severity))
		shared("finding's status", f.Status)
	}
}

// TestMergeSizesItsRowsOnce: with the shard count known, the first partial result's header sizes the merged rows for
// every shard, so no slice is grown (and copied, its old array live beside the new) by appending.
func TestMergeSizesItsRowsOnce(t *testing.T) {
	t.Parallel()
	m, cells := mergeShards(t, 4, []string{"eu-west-1"})
	res := m.Result()
	if res.Cells.Len() != cells || res.Cells.Cap() != cells || cap(res.Findings) != len(res.Findings) {
		t.Errorf("%d cells (capacity %d), %d findings (capacity %d): want each sized exactly for %d cells", res.Cells.Len(), res.Cells.Cap(),
			len(res.Findings), cap(res.Findings), cells)
	}
}

// TestMergeKeepsDetailsByID: a partial carries a finding's details by header, as the JSON result does; merged, each
// is under its column's ID again, so history stores it by ID and the reports find it.
func TestMergeKeepsDetailsByID(t *testing.T) {
	t.Parallel()
	acct := crossaccount.Account{ID: "222222222220", Name: "account", Partition: "aws"}
	res := &crossaccount.Result{Accounts: []crossaccount.Account{acct}}
	for _, c := range checks.All() {
		res.Cells.Add(crossaccount.Cell{AccountID: acct.ID, AccountName: acct.Name, Region: "eu-west-1", Check: c.Name(),
			Outcome: crossaccount.OutcomeFindings, Findings: 1})
		f := checks.Finding{Check: c.Name(), Severity: checks.Warning, AccountID: acct.ID, AccountName: acct.Name, Region: "eu-west-1",
			ResourceType: "thing", ResourceID: "id-" + c.Name(), Status: "active", Reason: "expires soon"}
		for _, col := range c.Layout().Columns {
			f.SetDetail(col.ID, "value of "+col.ID+" <&>")
		}
		res.Findings = append(res.Findings, f)
	}
	var b bytes.Buffer
	if err := distributed.WritePartial(&b, "run-1", 0, res); err != nil {
		t.Fatal(err)
	}
	m := distributed.NewMerger("run-1", []string{"eu-west-1"}, checks.All(), crossaccount.Result{Scope: "organization"})
	m.ExpectShards(1)
	if err := m.Add(distributed.Shard{Index: 0, Accounts: []crossaccount.Account{acct}}, &b); err != nil {
		t.Fatal(err)
	}
	got := map[string]*checks.Finding{}
	merged := m.Result()
	for i := range merged.Findings {
		got[merged.Findings[i].Check] = &merged.Findings[i]
	}
	for _, want := range res.Findings {
		f, ok := got[want.Check]
		if !ok {
			t.Errorf("%s: its finding was not merged", want.Check)
			continue
		}
		if !reflect.DeepEqual(f.Details, want.Details) {
			t.Errorf("%s: details %v, want %v", want.Check, f.DetailsByID(), want.DetailsByID())
		}
	}
}
