package history

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// fuzzLimits are the decoder's limits scaled down, so an input that gets past a check shows at the fuzzer's speed
// and within its memory; the checks are the same.
var fuzzLimits = decodeLimits{stream: 1 << 20, str: 4 << 10, decoded: 8 << 20}

// inflated is the JSON text of s as Encode writes it.
func inflated(t testing.TB, s *State) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// FuzzDecodeState: any JSON text given to the state decoder (the inflated form: gzip's checksum would turn most
// mutations away before they reach it) is a state or a *FormatError, never a panic or a decode past the limits; a
// state it accepts encodes and decodes again. The seeds run in every go test.
func FuzzDecodeState(f *testing.F) {
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	fs := manyFindings(40, at, 7)
	fs = append(fs, finding("ec2-reserved-instances", "111111111111", "us-east-1", "ri-\x7fi", checks.Critical))
	run := Run{ID: "seed", Time: at, AsOf: at, Findings: fs, Accounts: []string{"111111111111", "222222222222"},
		Cells:        []Cell{{AccountID: "111111111111", Region: "us-east-1", Check: "ec2-reserved-instances", Outcome: OutcomeError, Code: "AccessDenied", Message: "no"}},
		Organization: Organization{ID: "o-aaaaaaaaaa", ManagementAccountID: "111111111111", CallerAccountID: "111111111111"}}
	full := NewState(run, Diff(nil, run))
	full.OwnerTags = []OwnerTag{{AccountID: "111111111111", Value: "ops@example.com", Found: true, ReadAt: at}}
	seeds := [][]byte{
		inflated(f, full),
		inflated(f, stateAt("empty", at)),
		[]byte(`{"version":2,"run_id":"r","run_time":"2026-11-22T08:00:00Z","as_of":"2026-11-22T00:00:00Z","counts":{},"finding_count":0,"findings":[]}`),
		// Claims the stream does not back: rows, plain bytes, finding counts.
		[]byte(`{"version":2,"run_id":"r","run_time":"2026-11-22T08:00:00Z","counts":{},"cells":{"n":9999999,"columns":[]},"finding_count":0,"findings":[]}`),
		[]byte(`{"version":2,"run_id":"r","run_time":"2026-11-22T08:00:00Z","finding_count":9999999,"findings":[{"check":"c","n":9999999,"columns":[]}]}`),
		[]byte(`{"version":2,"run_id":"r","run_time":"2026-11-22T08:00:00Z","cells":{"n":2,"columns":[{"name":"account_id","plain":true}],"plain_bytes":1073741824,"plain_shared":[0,9],"plain":["aaaaaaaaaa",""]}}`),
		[]byte(`{"version":2,"run_id":"` + strings.Repeat("a", 5000) + `"}`),
		[]byte(`{"version":2,"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`),
		[]byte(`{"version":2,"organization":{"id":"o-x\u2028"}}`),
		// Version 2, whose details are keyed by header: a known one, an unknown one, and two of one column.
		v2State(v2Group("ec2-reserved-instances", "ri-1", [][2]string{{"Count", "4"}, {"Colour", "blue"}, {"Instance type", ""}})),
		v2State(v2Group("service-catalog-products", "pp-1", [][2]string{{"Product", "a"}, {"Version", "b"}})),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := readState(bytes.NewReader(raw), fuzzLimits)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || err.Error() == "" {
				t.Fatalf("bad input must be a *FormatError with a message, got %T %v", err, err)
			}
			return
		}
		if s.RunID == "" || s.RunTime.IsZero() {
			return // Decode refuses it after reading
		}
		var buf bytes.Buffer
		if err := Encode(&buf, s); err != nil {
			t.Fatalf("accepted state does not encode: %v", err)
		}
		if _, err := Decode(&buf); err != nil {
			t.Fatalf("accepted state does not decode again: %v", err)
		}
	})
}
