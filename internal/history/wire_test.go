package history

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// roundTrip encodes s, checks the text is JSON, decodes it and compares every field. Findings come back grouped by
// check, in the order each check first appears, and in their order within a check.
func roundTrip(t *testing.T, s *State) {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(raw) {
		t.Fatalf("the state is not JSON: %.200q", raw)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) != len(s.Findings) {
		t.Fatalf("%d findings back, %d stored", len(got.Findings), len(s.Findings))
	}
	var want []Entry
	for _, c := range checksInOrder(s.Findings) {
		for _, e := range s.Findings {
			if e.Check == c {
				want = append(want, e)
			}
		}
	}
	for i := range want {
		if !reflect.DeepEqual(got.Findings[i], want[i]) {
			t.Fatalf("finding %d changed:\n got %+v\nwant %+v", i, got.Findings[i], want[i])
		}
	}
	g, w := *got, *s
	g.Findings, w.Findings = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("state changed:\n got %+v\nwant %+v", g, w)
	}
}

func checksInOrder(es []Entry) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range es {
		if !seen[e.Check] {
			seen[e.Check] = true
			out = append(out, e.Check)
		}
	}
	return out
}

// The size test's 100,000 findings come back exactly: dictionaries, plain values, references and shared prefixes
// all at full scale.
func TestRoundTrip100k(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 findings")
	}
	roundTrip(t, bigState(100_000))
}

// Random findings, with the bytes the layout treats specially (the reference mark, quotes, control characters,
// multi-byte text) and values that repeat each other's parts, come back exactly.
func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	alphabet := []string{"a", "b", "-", "/", ":", "\x7f", "\x7fi", "\x7f\x7f", "\"", "\\", "\n", "\x00", "\x1f", "é", "日本", "\u2028",
		"us-east-1", "111111111111", "ri-1", "arn:aws:", "%3A"}
	text := func(max int) string {
		var b strings.Builder
		for range rng.IntN(max + 1) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	for round := range 40 {
		s := &State{Version: Version, RunID: fmt.Sprint("r", round), RunTime: day2, AsOf: day2.Add(-time.Hour), PreviousRunID: text(3),
			Counts: Counts{Critical: rng.IntN(9), Resolved: rng.IntN(9)}, Accounts: []string{text(4), "111111111111"}}
		for range rng.IntN(40) {
			s.Cells = append(s.Cells, Cell{AccountID: pick("111111111111", text(3)), Region: pick("us-east-1", AllRegions),
				Check: pick(checks.Names()...), Outcome: Outcome(pick("clean", "error", "findings")), Code: pick("", "AccessDenied"), Message: text(5)})
		}
		// Enough rows, sometimes, for columns to give up their dictionaries and for references to be tried and dropped.
		n := rng.IntN(30)
		if round%8 == 0 {
			n = 3000
		}
		for i := range n {
			f := checks.Finding{Check: pick("c1", "c2", text(2)), Severity: checks.Severity(pick("critical", "warning", text(2))),
				AccountID: pick("111111111111", "222222222222", text(3)), AccountName: text(3), Region: pick("us-east-1", "eu-west-1", text(2)),
				ResourceType: pick("AWS::X", text(2)), ResourceID: pick(fmt.Sprint("ri-", i), text(4), ""), Status: pick("active", text(2))}
			f.ResourceName = pick("", f.ResourceID+text(2), text(6))
			f.Reason = pick(text(8), "stack "+f.ResourceID+" in "+f.Region+" of "+f.AccountID+text(3), strings.Repeat(f.Region, 2))
			f.ConsoleURL = pick("", "https://console/"+f.Region+"/"+f.ResourceID+"/"+text(3), "https://console/"+text(2))
			if rng.IntN(2) == 0 {
				exp := day2.Add(time.Duration(rng.IntN(1e6)) * time.Second)
				days := rng.IntN(100) - 50
				f.ExpiresAt, f.DaysLeft = &exp, &days
			}
			if rng.IntN(5) > 0 {
				for range rng.IntN(5) {
					f.SetDetail(pick("Stack ID", "Count", "\x7f", "", "é\"k", "region"), pick("", text(5), f.ResourceID+"/"+text(3), "arn:aws:"+f.Region+":"+f.AccountID))
				}
			}
			e := Entry{Finding: f, FirstSeen: day1.Add(time.Duration(rng.IntN(1e9))), LastSeen: day2, Unverified: rng.IntN(7) == 0, Suppressed: rng.IntN(7) == 0}
			if rng.IntN(9) == 0 {
				e.FirstSeen = time.Time{}
			}
			s.Findings = append(s.Findings, e)
		}
		roundTrip(t, s)
	}
}

// A damaged state is a *FormatError, never a panic or a state that silently differs.
func TestDecodeDamaged(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, bigState(200)); err != nil {
		t.Fatal(err)
	}
	zr, _ := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	raw, _ := io.ReadAll(zr)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		damaged := bytes.Clone(raw)
		switch i % 3 {
		case 0:
			damaged = damaged[:rng.IntN(len(damaged))]
		case 1:
			damaged[rng.IntN(len(damaged))] = "0123456789\",[]{}:\x7fx"[rng.IntN(19)]
		case 2:
			p := rng.IntN(len(damaged))
			damaged = append(damaged[:p:p], damaged[p+rng.IntN(min(50, len(damaged)-p)):]...)
		}
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(damaged)
		zw.Close()
		s, err := Decode(&out)
		var fe *FormatError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("damage %d: error %v is not a *FormatError", i, err)
		}
		_ = s
	}
}
