package history

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// renamed makes the layout of check name the column of id header, once named formerly, for the test's length: as if
// the check's file had renamed the header since the state was written.
func renamed(t *testing.T, check, id, header string, formerly ...string) {
	t.Helper()
	before := layoutOf
	t.Cleanup(func() { layoutOf = before })
	l, ok := before(check)
	if !ok {
		t.Fatalf("no check %s", check)
	}
	l.Columns = slices.Clone(l.Columns)
	col := l.Column(id)
	if col == nil {
		t.Fatalf("%s has no column %s", check, id)
	}
	col.Name, col.Formerly = header, formerly
	layoutOf = func(c string) (checks.Layout, bool) {
		if c == check {
			return l, true
		}
		return before(c)
	}
}

// A check's column renamed between the run that stored a finding and the run that reads it back loses none of the
// finding's details: history keeps them by column ID, which a rename leaves alone.
func TestRenamedHeaderKeepsDetail(t *testing.T) {
	f := finding("service-catalog-products", "111111111111", "us-east-1", "pp-1", checks.Warning)
	f.Details = checks.Details{}
	f.SetDetail("product", "baseline")
	var buf bytes.Buffer
	if err := Encode(&buf, stateAt("day1", day1, f)); err != nil {
		t.Fatal(err)
	}
	renamed(t, "service-catalog-products", "product", "Product name", "Product")
	got, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := layoutOf("service-catalog-products")
	col := l.ByHeader("Product name")
	if v := got.Findings[0].Detail(col.ID); v != "baseline" {
		t.Errorf("the detail read back under the renamed column is %q, want %q (details: %v)", v, "baseline", got.Findings[0].DetailsByID())
	}
}

// v2Group writes one group of a version 2 state: one finding of check whose details are keyed by header.
func v2Group(check, id string, details [][2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"n":1,"columns":[`)
	fixed := map[string]string{"severity": "warning", "account_id": "111111111111", "account_name": "prod", "region": "us-east-1",
		"resource_type": "AWS::Test", "resource_id": id, "status": "ERROR", "reason": "failed", "first_seen": "2026-11-21T06:00:00Z",
		"last_seen": "2026-11-22T06:00:00Z"}
	for i, name := range findingColumns {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":%q,"dict":[%q]}`, name, fixed[name])
	}
	var has uint64
	for k, d := range details {
		fmt.Fprintf(&b, `,{"name":%q,"dict":[%q]}`, d[0], d[1])
		has |= 1 << k
	}
	fmt.Fprintf(&b, `],"check":%q,"has_detail":[%d]}`, check, has)
	return b.String()
}

// v2State is a state of version 2 as that build wrote it, inflated: its findings' details keyed by header.
func v2State(groups ...string) []byte {
	return []byte(`{"version":2,"run_id":"day1","run_time":"2026-11-22T06:00:00Z","as_of":"2026-11-22T06:00:00Z","counts":{"warning":2},` +
		`"accounts":["111111111111"],"cells":{"n":0,"columns":[{"name":"account_id","dict":[]},{"name":"region","dict":[]},` +
		`{"name":"check","dict":[]},{"name":"outcome","dict":[]},{"name":"code","dict":[]},{"name":"message","dict":[]}]},` +
		fmt.Sprintf(`"finding_count":%d,"findings":[%s]}`, len(groups), strings.Join(groups, ",")))
}

func gzipped(t *testing.T, raw []byte) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// A state of version 2 reads back with every detail under its column's ID; a header no column has is kept under
// checks.UnknownHeaderID, not dropped; the state read is one of this version, and stores and reads again as it.
func TestReadVersion2(t *testing.T) {
	raw := v2State(
		v2Group("service-catalog-products", "pp-1", [][2]string{{"Product", "baseline"}, {"Version", "v2"}, {"Record errors", ""},
			{"Colour", "blue"}}),
		v2Group("ec2-reserved-instances", "ri-1", [][2]string{{"Count", "4"}, {"Instance type", "m5.large"}, {"Start", "2025-11-22T00:00:00Z"}}))
	if sum, err := ReadSummary(gzipped(t, raw)); err != nil || sum.RunID != "day1" {
		t.Fatalf("summary of a version 2 state: %+v, %v", sum, err)
	}
	got, err := Decode(gzipped(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != Version || len(got.Findings) != 2 {
		t.Fatalf("version %d, %d findings", got.Version, len(got.Findings))
	}
	want := map[string][]checks.Detail{
		"pp-1": {{ID: checks.UnknownHeaderID("Colour"), Value: "blue"}, {ID: "product", Value: "baseline"}, {ID: "record_errors", Value: ""},
			{ID: "version", Value: "v2"}},
		"ri-1": {{ID: "count", Value: "4"}, {ID: "instance_type", Value: "m5.large"}, {ID: "start", Value: "2025-11-22T00:00:00Z"}},
	}
	for _, e := range got.Findings {
		if d := e.DetailsByID(); !slices.Equal(d, want[e.ResourceID]) {
			t.Errorf("%s: details %v, want %v", e.ResourceID, d, want[e.ResourceID])
		}
	}
	// The unknown header is written back to the JSON result under its header.
	if b, err := got.Findings[0].Details.MarshalJSON(); err != nil || !strings.Contains(string(b), `"Colour":"blue"`) {
		t.Errorf("JSON of migrated details: %s, %v", b, err)
	}
	roundTrip(t, got)
}

// A version 2 finding whose column was renamed since: its detail under the former header lands in the column; where
// one finding holds both headers, the current one's value takes the column and the former one's is kept under its
// header.
func TestReadVersion2Renamed(t *testing.T) {
	renamed(t, "service-catalog-products", "product", "Product name", "Product")
	got, err := Decode(gzipped(t, v2State(
		v2Group("service-catalog-products", "pp-1", [][2]string{{"Product", "baseline"}}),
		v2Group("service-catalog-products", "pp-2", [][2]string{{"Product", "old"}, {"Product name", "new"}, {"Version", "v1"}}))))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]checks.Detail{
		"pp-1": {{ID: "product", Value: "baseline"}},
		"pp-2": {{ID: checks.UnknownHeaderID("Product"), Value: "old"}, {ID: "product", Value: "new"}, {ID: "version", Value: "v1"}},
	}
	for _, e := range got.Findings {
		if d := e.DetailsByID(); !slices.Equal(d, want[e.ResourceID]) {
			t.Errorf("%s: details %v, want %v", e.ResourceID, d, want[e.ResourceID])
		}
	}
}

// Version 3 names the detail columns by ID and reads back every registered check's details exactly; a version 3
// state naming one detail column twice is refused.
func TestRoundTripVersion3(t *testing.T) {
	s := bigState(400)
	raw := inflated(t, s)
	for _, want := range []string{`"version":3,`, `{"name":"instance_type",`, `{"name":"stack_id",`, `{"name":"product",`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("the state holds no %s", want)
		}
	}
	if bytes.Contains(raw, []byte(`"Instance type"`)) {
		t.Error("the state names a detail column by its header")
	}
	roundTrip(t, s)

	twice := v2State(v2Group("ec2-reserved-instances", "ri-1", [][2]string{{"count", "4"}, {"count", "5"}}))
	twice = bytes.Replace(twice, []byte(`"version":2`), []byte(`"version":3`), 1)
	if _, err := Decode(gzipped(t, twice)); err == nil || !strings.Contains(err.Error(), `detail column "count" twice`) {
		t.Errorf("a detail column twice: %v", err)
	}
}
