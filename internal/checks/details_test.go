package checks

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"unicode/utf8"
)

// TestColumnIDsAreStable: every column names a snake_case ID, unique within its check, and no header (current or
// former) names two columns of a check, so a header read from JSON or a state of version 2 has one column.
func TestColumnIDsAreStable(t *testing.T) {
	t.Parallel()
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	for _, c := range All() {
		ids, headers := map[string]bool{}, map[string]string{}
		for _, col := range c.Layout().Columns {
			if !snake.MatchString(col.ID) || ids[col.ID] {
				t.Errorf("%s: column %q has ID %q: not snake_case, or twice", c.Name(), col.Name, col.ID)
			}
			ids[col.ID] = true
			for _, h := range append([]string{col.Name}, col.Formerly...) {
				if other, ok := headers[h]; ok && other != col.ID {
					t.Errorf("%s: header %q names columns %s and %s", c.Name(), h, other, col.ID)
				}
				headers[h] = col.ID
			}
		}
	}
}

// awkward are detail values that encoding/json writes in its own ways: HTML characters (escaped or not, as the
// encoder is set), line and paragraph separators, quotes, control characters and bytes that are not UTF-8.
var awkward = []string{"a<b>&c", "line\u2028para\u2029", `quo"te\`, "tab\tnul\x00", "bad\xffutf8", "", "日本"}

// fullFinding is a finding of c with a value in each of its columns, and the map keyed by header that held them
// before details were keyed by ID.
func fullFinding(c Check, awkward []string) (Finding, map[string]string) {
	f := Finding{Check: c.Name()}
	byHeader := map[string]string{}
	for i, col := range c.Layout().Columns {
		v := awkward[i%len(awkward)] + col.ID
		f.SetDetail(col.ID, v)
		byHeader[col.Name] = v
	}
	return f, byHeader
}

// TestDetailsJSONIsTheMapByHeader: the JSON of details is byte for byte the JSON of the map keyed by header they
// replaced, with and without HTML escaping and indented, and an empty one is left out as the map was.
func TestDetailsJSONIsTheMapByHeader(t *testing.T) {
	t.Parallel()
	type byID struct {
		D Details `json:"details,omitzero"`
	}
	type byHeader struct {
		D map[string]string `json:"details,omitempty"`
	}
	encode := func(v any, escape bool, indent string) []byte {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escape)
		enc.SetIndent("", indent)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, c := range All() {
		f, m := fullFinding(c, awkward)
		for _, escape := range []bool{true, false} {
			for _, indent := range []string{"", "  "} {
				got, want := encode(byID{f.Details}, escape, indent), encode(byHeader{m}, escape, indent)
				if !bytes.Equal(got, want) {
					t.Errorf("%s (escape %v, indent %q):\n got %s\nwant %s", c.Name(), escape, indent, got, want)
				}
			}
		}
	}
	if got := encode(byID{}, true, ""); string(got) != "{}\n" {
		t.Errorf("no details: %s", got)
	}
}

// TestDetailsJSONReadsBack: details decoded from JSON are keyed by header until their finding binds them; bound, they
// are the details that were written. A header no column has is kept under UnknownHeaderID and written back under
// that header; a check this build does not register keeps its keys as they are.
func TestDetailsJSONReadsBack(t *testing.T) {
	t.Parallel()
	// JSON writes bytes that are not UTF-8 as U+FFFD: TestDetailsJSONIsTheMapByHeader has them.
	valid := slices.DeleteFunc(slices.Clone(awkward), func(s string) bool { return !utf8.ValidString(s) })
	for _, c := range All() {
		f, _ := fullFinding(c, valid)
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		var got Finding
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		// Read before binding, through the layout.
		for _, col := range c.Layout().Columns {
			if v, ok := got.LookupDetail(col.ID); !ok || v != f.Detail(col.ID) {
				t.Errorf("%s: unbound %s = %q, %v; want %q", c.Name(), col.ID, v, ok, f.Detail(col.ID))
			}
		}
		got.BindDetails()
		if !reflect.DeepEqual(got.Details, f.Details) {
			t.Errorf("%s: read back %v, want %v", c.Name(), got.DetailsByID(), f.DetailsByID())
		}
	}

	var f Finding
	in := `{"check":"ec2-reserved-instances","details":{"Colour":"blue","Count":"4"}}`
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	f.BindDetails()
	want := []Detail{{ID: "count", Value: "4"}, {ID: UnknownHeaderID("Colour"), Value: "blue"}}
	slices.SortFunc(want, compareDetails)
	if !slices.Equal(f.DetailsByID(), want) {
		t.Errorf("details %v, want %v", f.DetailsByID(), want)
	}
	if b, err := json.Marshal(f.Details); err != nil || string(b) != `{"Colour":"blue","Count":"4"}` {
		t.Errorf("written back as %s, %v", b, err)
	}

	// A detail kept under a header that a column has since taken is written under its ID, not over the column's.
	clash := Finding{Check: "ec2-reserved-instances"}
	clash.SetDetail("count", "4")
	clash.SetDetail(UnknownHeaderID("Count"), "5")
	clash.SetDetail("platform", "Linux")
	if b, err := json.Marshal(clash.Details); err != nil || string(b) != `{"Count":"4","Platform":"Linux","header:Count":"5"}` {
		t.Errorf("a header twice written as %s, %v", b, err)
	}

	var other Finding
	if err := json.Unmarshal([]byte(`{"check":"not-registered","details":{"Some header":"x"}}`), &other); err != nil {
		t.Fatal(err)
	}
	if other.Detail("Some header") != "x" {
		t.Errorf("a check this build does not register: %v", other.DetailsByID())
	}
	if err := json.Unmarshal([]byte(`{"details":{"a":1}}`), &other); err == nil {
		t.Error("details that are not text decoded")
	}
}

// TestSetDetail keeps one value an ID, sorted by ID, and an empty value is one the finding has.
func TestSetDetail(t *testing.T) {
	t.Parallel()
	f := Finding{Check: "ec2-reserved-instances"}
	f.SetDetail("start", "x")
	f.SetDetail("count", "1")
	f.SetDetail("count", "2")
	f.SetDetail("renewal", "")
	want := []Detail{{"count", "2"}, {"renewal", ""}, {"start", "x"}}
	if !slices.Equal(f.DetailsByID(), want) || f.Details.Len() != 3 {
		t.Errorf("details %v, want %v", f.DetailsByID(), want)
	}
	if v, ok := f.LookupDetail("renewal"); !ok || v != "" {
		t.Errorf("an empty detail: %q, %v", v, ok)
	}
	if _, ok := f.LookupDetail("platform"); ok {
		t.Error("a detail the finding does not have")
	}
}

// TestBindRenamedHeaders: details read from JSON under a column's former header land in the column; where one
// finding holds the column under two headers, the current one takes it and the other keeps its header, never lost.
func TestBindRenamedHeaders(t *testing.T) {
	t.Parallel()
	// The column product is "Product name" now, "Product" and "Name" before.
	idx := &columnIndex{headers: map[string]string{"product": "Product name", "version": "Version"},
		ids: map[string]string{"Product name": "product", "Product": "product", "Name": "product", "Version": "version"}}
	for name, c := range map[string]struct {
		in, want []Detail
	}{
		"former":             {[]Detail{{"Product", "a"}}, []Detail{{"product", "a"}}},
		"current after":      {[]Detail{{"Product", "old"}, {"Product name", "new"}}, []Detail{{UnknownHeaderID("Product"), "old"}, {"product", "new"}}},
		"current before":     {[]Detail{{"Product name", "new"}, {"Product", "old"}}, []Detail{{UnknownHeaderID("Product"), "old"}, {"product", "new"}}},
		"two former":         {[]Detail{{"Name", "n"}, {"Product", "p"}}, []Detail{{UnknownHeaderID("Product"), "p"}, {"product", "n"}}},
		"unknown and others": {[]Detail{{"Colour", "blue"}, {"Version", "v1"}}, []Detail{{UnknownHeaderID("Colour"), "blue"}, {"version", "v1"}}},
	} {
		got := bindWith(idx, "renamed", slices.Clone(c.in))
		if !slices.Equal(got.list, c.want) {
			t.Errorf("%s: bound %v, want %v", name, got.list, c.want)
		}
	}
}
