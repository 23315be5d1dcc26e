package distributed_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/distributed"
)

// auditedPartial is a partial result of shard index that audited accounts in eu-west-1, every cell clean.
func auditedPartial(t testing.TB, index int, accounts ...crossaccount.Account) []byte {
	t.Helper()
	res := &crossaccount.Result{Accounts: accounts}
	for _, a := range accounts {
		for _, c := range checks.All() {
			res.Cells.Add(crossaccount.Cell{AccountID: a.ID, Region: "eu-west-1", Check: c.Name(), Outcome: crossaccount.OutcomeClean})
		}
	}
	var b bytes.Buffer
	if err := distributed.WritePartial(&b, "run-1", index, res); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func acct(id string) crossaccount.Account {
	return crossaccount.Account{ID: id, Name: "account " + id, Partition: "aws", OU: "Root"}
}

// TestMergeRefusesAPartialOfOtherAccounts: two overlapping executions of one run wrote shard 1's partial from two
// manifests, so the partial the report finds may hold accounts the report's manifest puts in another shard. A partial
// must hold exactly its shard's accounts; anything else marks the shard not audited, so no account is counted twice
// and none is reported audited that was not.
func TestMergeRefusesAPartialOfOtherAccounts(t *testing.T) {
	t.Parallel()
	a, b, c := acct("111111111111"), acct("222222222222"), acct("333333333333")
	shard := distributed.Shard{Index: 1, Accounts: []crossaccount.Account{a, b}}
	for name, body := range map[string][]byte{
		"another account":     auditedPartial(t, 1, a, c),
		"one account short":   auditedPartial(t, 1, a),
		"an extra account":    auditedPartial(t, 1, a, b, c),
		"an account twice":    auditedPartial(t, 1, a, a),
		"cells of a stranger": withCellOf(t, auditedPartial(t, 1, a, b), c),
	} {
		m := distributed.NewMerger("run-1", []string{"eu-west-1"}, checks.All(), crossaccount.Result{Scope: "organization"})
		m.ExpectShards(2)
		if err := m.Add(shard, bytes.NewReader(body)); err == nil {
			t.Errorf("%s: merged into shard %d of %s and %s", name, shard.Index, a.ID, b.ID)
			continue
		}
		m.Failed(shard, "unreadable")
		got := m.Result()
		if len(got.Accounts) != 2 || got.Accounts[0].ID != a.ID || got.Accounts[1].ID != b.ID {
			t.Errorf("%s: accounts %+v after the shard failed", name, got.Accounts)
		}
	}
	// An account that an earlier shard's partial already held is not merged again.
	m := distributed.NewMerger("run-1", []string{"eu-west-1"}, checks.All(), crossaccount.Result{Scope: "organization"})
	if err := m.Add(distributed.Shard{Index: 0, Accounts: []crossaccount.Account{a}}, bytes.NewReader(auditedPartial(t, 0, a))); err != nil {
		t.Fatal(err)
	}
	if err := m.Add(distributed.Shard{Index: 1, Accounts: []crossaccount.Account{a}}, bytes.NewReader(auditedPartial(t, 1, a))); err == nil {
		t.Error("account merged from two shards")
	}
}

// withCellOf re-encodes a partial with one more cell, of account stranger, and its header counting it.
func withCellOf(t testing.TB, gz []byte, stranger crossaccount.Account) []byte {
	t.Helper()
	plain := gunzip(t, gz)
	lines := bytes.SplitN(plain, []byte("\n"), 2)
	var head map[string]map[string]any
	if err := json.Unmarshal(lines[0], &head); err != nil {
		t.Fatal(err)
	}
	head["header"]["cells"] = head["header"]["cells"].(float64) + 1
	h, _ := json.Marshal(head)
	cell, _ := json.Marshal(map[string]any{"cell": crossaccount.Cell{AccountID: stranger.ID, Region: "eu-west-1", Check: checks.All()[0].Name(), Outcome: crossaccount.OutcomeClean}})
	return gz2(t, bytes.Join([][]byte{h, lines[1], cell, nil}, []byte("\n")))
}

func gunzip(t testing.TB, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz2(t testing.TB, plain []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestPartialHeaderIsCheckedBeforeItSizesAnything: a header's counts are a claim; a partial claiming 2^40 cells (or a
// negative count) is refused before the merge allocates anything for it, and the shard is reported failed.
func TestPartialHeaderIsCheckedBeforeItSizesAnything(t *testing.T) {
	t.Parallel()
	a := acct("111111111111")
	shard := distributed.Shard{Index: 0, Accounts: []crossaccount.Account{a}}
	for name, header := range map[string]string{
		"2^40 cells":       `{"run_id":"run-1","index":0,"accounts":1,"cells":1099511627776,"findings":0,"failures":0}`,
		"2^40 findings":    `{"run_id":"run-1","index":0,"accounts":1,"cells":0,"findings":1099511627776,"failures":0}`,
		"2^40 failures":    `{"run_id":"run-1","index":0,"accounts":1,"cells":0,"findings":0,"failures":1099511627776}`,
		"2^40 accounts":    `{"run_id":"run-1","index":0,"accounts":1099511627776,"cells":0,"findings":0,"failures":0}`,
		"negative cells":   `{"run_id":"run-1","index":0,"accounts":1,"cells":-5,"findings":0,"failures":0}`,
		"max int findings": fmt.Sprintf(`{"run_id":"run-1","index":0,"accounts":1,"cells":1,"findings":%d,"failures":0}`, int64(^uint64(0)>>1)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := gz2(t, []byte(`{"header":`+header+`}`+"\n"+`{"account":{"id":"111111111111"}}`+"\n"))
			m := distributed.NewMerger("run-1", []string{"eu-west-1"}, checks.All(), crossaccount.Result{})
			m.ExpectShards(2000)
			err := m.Add(shard, bytes.NewReader(body))
			if err == nil || !strings.Contains(err.Error(), "header") {
				t.Fatalf("merged, or refused for another reason: %v", err)
			}
			if got := m.Result(); got.Cells.Cap() > 1<<20 || cap(got.Findings) > 1<<20 || cap(got.Failures) > 1<<20 {
				t.Errorf("sized for %d cells, %d findings, %d failures", got.Cells.Cap(), cap(got.Findings), cap(got.Failures))
			}
		})
	}
}

// FuzzPartialReader: whatever a partial result holds, the merge neither panics nor allocates from its header
// unchecked, and what it merges is exactly the shard's accounts. The input is the partial's text; the fuzz
// compresses it, so mutations reach the JSON lines rather than break the gzip framing. Its seeds run with go test.
func FuzzPartialReader(f *testing.F) {
	a, b := acct("111111111111"), acct("222222222222")
	shard := distributed.Shard{Index: 0, Accounts: []crossaccount.Account{a, b}}
	whole := gunzip(f, auditedPartial(f, 0, a, b))
	f.Add(whole)
	f.Add(gunzip(f, auditedPartial(f, 0, a)))
	f.Add(gunzip(f, auditedPartial(f, 0, a, a)))
	f.Add(whole[:len(whole)/2])
	f.Add([]byte(`{"header":{"run_id":"run-1","index":0,"accounts":2,"cells":1099511627776,"findings":1099511627776,"failures":0}}` + "\n"))
	f.Add([]byte(`{"header":{"run_id":"run-1","index":0,"accounts":2,"cells":0,"findings":0,"failures":-1}}` + "\n"))
	f.Add([]byte(`{"header":{"run_id":"run-1","index":0,"accounts":2}}` + "\n" + `{"account":{"id":"111111111111"},"cell":{"account_id":"111111111111"}}` + "\n"))
	f.Add([]byte(`{"header":null}`))
	f.Add([]byte(`{"account":{"id":"111111111111"}}`))
	f.Add([]byte("{\"header\":{\"run_id\":\"run-1\",\"index\":0,\"accounts\":2}}\n\"" + strings.Repeat("x", 2<<20) + "\"\n"))
	f.Fuzz(func(t *testing.T, plain []byte) {
		m := distributed.NewMerger("run-1", []string{"eu-west-1"}, checks.All(), crossaccount.Result{})
		m.ExpectShards(3)
		err := m.Add(shard, bytes.NewReader(gz2(t, plain)))
		res := m.Result()
		if err != nil {
			if len(res.Accounts)+res.Cells.Len()+len(res.Findings)+len(res.Failures) != 0 {
				t.Fatalf("refused (%v) but kept %d accounts, %d cells", err, len(res.Accounts), res.Cells.Len())
			}
			return
		}
		if len(res.Accounts) != 2 || res.Accounts[0].ID == res.Accounts[1].ID {
			t.Fatalf("merged accounts %+v, want exactly the shard's", res.Accounts)
		}
		for c := range res.Cells.All() {
			if c.AccountID != a.ID && c.AccountID != b.ID {
				t.Fatalf("merged a cell of %q", c.AccountID)
			}
		}
		if res.Cells.Cap() > 1<<21 || cap(res.Findings) > 1<<21 {
			t.Fatalf("sized %d cells, %d findings", res.Cells.Cap(), cap(res.Findings))
		}
	})
}

// TestPartialClaimingTooManyFindingsIsRefusedFirst: no header bounds findings by its cells (a cell may have many), so a
// corrupt partial claiming 10^9 of them, streamed from a few kilobytes of gzip, was merged finding by finding until
// its count ran out. It is refused at its header, before any finding is merged, and the shard is reported failed.
// Not parallel: it measures the process's allocations.
func TestPartialClaimingTooManyFindingsIsRefusedFirst(t *testing.T) {
	a := acct("111111111111")
	shard := distributed.Shard{Index: 0, Accounts: []crossaccount.Account{a}}
	var plain bytes.Buffer
	plain.WriteString(`{"header":{"run_id":"run-1","index":0,"accounts":1,"cells":1,"findings":1000000000,"failures":0}}` + "\n")
	plain.WriteString(`{"account":{"id":"111111111111"}}` + "\n")
	plain.WriteString(`{"cell":{"account_id":"111111111111","region":"eu-west-1","check":"savings-plans","outcome":"findings","findings":1000000000}}` + "\n")
	for i := range 50_000 {
		fmt.Fprintf(&plain, `{"finding":{"check":"savings-plans","account_id":"111111111111","region":"eu-west-1","resource_id":"sp-%d"}}`+"\n", i)
	}
	body := gz2(t, plain.Bytes())
	m := distributed.NewMerger("run-1", []string{"eu-west-1"}, checks.All(), crossaccount.Result{})
	m.ExpectShards(1)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := m.Add(shard, bytes.NewReader(body))
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d-byte partial: %v; %d bytes allocated", len(body), err, alloc)
	if err == nil || !strings.Contains(err.Error(), "header says 1000000000 findings") {
		t.Errorf("merged, or refused for another reason: %v", err)
	}
	if alloc > 4<<20 {
		t.Errorf("allocated %d bytes before refusing the partial", alloc)
	}
	if res := m.Result(); len(res.Findings) != 0 {
		t.Errorf("kept %d findings of a refused partial", len(res.Findings))
	}
}
