package report

import (
	"encoding"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// contractDoc is the result's contract: every JSON path of Result, with its type and whether it is always present.
const contractDoc = "../../docs/result.md"

// contractField is one JSON path of the result as encoding/json writes it.
type contractField struct {
	Path string
	// Type is the JSON type in the doc's words; "" for a type with its own MarshalJSON, whose shape the doc states
	// and this walk cannot see.
	Type string
	// Presence is "always" (written even when empty), "omitempty" (left out when empty) or "grouped" (written, null
	// included, whenever the embedded pointer that holds it is set: a commitment finding's money).
	Presence string
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	timeType      = reflect.TypeFor[time.Time]()
)

// contractType words t as a JSON type, and says whether its contents are walked further.
func contractType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem() // a nil pointer is null, or left out with omitempty: the presence says which
	}
	switch {
	case t == timeType:
		return "time"
	case t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler):
		return "" // its own shape: the doc says it, the walk cannot
	case t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler):
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		if e := contractType(t.Elem()); e != "" {
			return "array of " + e
		}
		return ""
	case reflect.Map:
		if e := contractType(t.Elem()); e != "" {
			return "map of " + e
		}
		return ""
	default:
		return "unsupported " + t.Kind().String()
	}
}

// leaf says whether the walk stops at t: a scalar, a time, or a type that marshals itself.
func leaf(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType || t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		return true
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Slice, reflect.Array, reflect.Map:
		return false
	}
	return true
}

// jsonField is a field encoding/json writes, found at depth levels of embedding.
type jsonField struct {
	name      string
	tagged    bool
	omitempty bool
	// grouped: promoted from an embedded pointer, so written only when that pointer is set.
	grouped bool
	depth   int
	typ     reflect.Type
}

// jsonFields lists the fields encoding/json writes for struct type t, by its rules: embedded structs without a
// name in their tag are flattened into t (also unexported ones, for their exported fields), and of several fields
// with one name the shallowest wins, then the one tagged; a tie drops them all.
func jsonFields(t reflect.Type) []jsonField {
	var all []jsonField
	var walk func(t reflect.Type, depth int, grouped bool, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, depth int, grouped bool, seen map[reflect.Type]bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := range t.NumField() {
			sf := t.Field(i)
			ft := sf.Type
			viaPointer := grouped
			if sf.Anonymous {
				if ft.Kind() == reflect.Pointer {
					viaPointer = true
					ft = ft.Elem()
				}
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
				walk(ft, depth+1, viaPointer, seen)
				continue
			}
			f := jsonField{name: name, tagged: name != "", depth: depth, typ: sf.Type, grouped: grouped,
				omitempty: strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")}
			if f.name == "" {
				f.name = sf.Name
			}
			all = append(all, f)
		}
	}
	walk(t, 0, false, map[reflect.Type]bool{})
	byName := map[string][]jsonField{}
	var names []string
	for _, f := range all {
		if byName[f.name] == nil {
			names = append(names, f.name)
		}
		byName[f.name] = append(byName[f.name], f)
	}
	var out []jsonField
	for _, n := range names {
		fs := byName[n]
		sort.SliceStable(fs, func(i, j int) bool { return fs[i].depth < fs[j].depth })
		top := fs[:1]
		for _, f := range fs[1:] {
			if f.depth == fs[0].depth {
				top = append(top, f)
			}
		}
		var tagged []jsonField
		for _, f := range top {
			if f.tagged {
				tagged = append(tagged, f)
			}
		}
		switch {
		case len(top) == 1:
			out = append(out, top[0])
		case len(tagged) == 1:
			out = append(out, tagged[0])
		}
	}
	return out
}

// contractFields walks t as encoding/json writes it: a struct's fields as "prefix.name", a slice's elements as
// "prefix[]", a map's values as "prefix.*". Pointers are followed; types that marshal themselves are leaves.
func contractFields(t reflect.Type) []contractField {
	var out []contractField
	var walk func(t reflect.Type, prefix string, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, prefix string, seen map[reflect.Type]bool) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if leaf(t) || seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		switch t.Kind() {
		case reflect.Slice, reflect.Array:
			walk(t.Elem(), prefix+"[]", seen)
		case reflect.Map:
			walk(t.Elem(), prefix+".*", seen)
		case reflect.Struct:
			for _, f := range jsonFields(t) {
				path := f.name
				if prefix != "" {
					path = prefix + "." + f.name
				}
				presence := "always"
				switch {
				case f.omitempty:
					presence = "omitempty"
				case f.grouped:
					presence = "grouped"
				}
				out = append(out, contractField{Path: path, Type: contractType(f.typ), Presence: presence})
				walk(f.typ, path, seen)
			}
		}
	}
	walk(t, "", map[reflect.Type]bool{})
	return out
}

// docRow is a row of the contract's field tables: | `path` | type | presence | meaning |.
var docRow = regexp.MustCompile("^\\|\\s*`([^`]+)`\\s*\\|([^|]*)\\|([^|]*)\\|(.*)\\|\\s*$")

// readContract returns the fields the doc names, in its order, and fails on a path named twice or a row with no
// meaning.
func readContract(t *testing.T) []contractField {
	t.Helper()
	b, err := os.ReadFile(contractDoc)
	if err != nil {
		t.Fatalf("read the result's contract: %v", err)
	}
	var out []contractField
	seen := map[string]int{}
	for i, line := range strings.Split(string(b), "\n") {
		m := docRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := contractField{Path: m[1], Type: strings.TrimSpace(m[2]), Presence: strings.TrimSpace(m[3])}
		if prev, dup := seen[f.Path]; dup {
			t.Errorf("%s:%d: %s is documented twice (first on line %d)", contractDoc, i+1, f.Path, prev)
		}
		seen[f.Path] = i + 1
		if strings.TrimSpace(m[4]) == "" {
			t.Errorf("%s:%d: %s has no meaning", contractDoc, i+1, f.Path)
		}
		out = append(out, f)
	}
	return out
}

// TestContractDocumentsEveryField holds docs/result.md to Result: every JSON path the result can carry is
// documented with its type and presence, and the doc names no path the result no longer has. A field added to
// Result (or to anything it holds) fails here until the doc says what it means.
func TestContractDocumentsEveryField(t *testing.T) {
	code := contractFields(reflect.TypeFor[Result]())
	doc := readContract(t)
	if len(code) == 0 || len(doc) == 0 {
		t.Fatalf("the walk found %d paths and the doc %d: neither may be empty", len(code), len(doc))
	}
	documented := map[string]contractField{}
	for _, f := range doc {
		documented[f.Path] = f
	}
	inCode := map[string]bool{}
	for _, f := range code {
		inCode[f.Path] = true
		d, ok := documented[f.Path]
		if !ok {
			t.Errorf("%s is in the JSON result but not in %s: add | `%s` | %s | %s | meaning |", f.Path, contractDoc, f.Path, f.Type, f.Presence)
			continue
		}
		if f.Type != "" && d.Type != f.Type {
			t.Errorf("%s: the doc says type %q, the result writes %q", f.Path, d.Type, f.Type)
		}
		if d.Presence != f.Presence {
			t.Errorf("%s: the doc says presence %q, the result's tag says %q", f.Path, d.Presence, f.Presence)
		}
	}
	for _, f := range doc {
		if !inCode[f.Path] {
			t.Errorf("%s names %s, which the JSON result no longer has", contractDoc, f.Path)
		}
	}
}

// The walk must see the result as encoding/json does, or the test above holds the doc to the wrong thing.
func TestContractWalkFollowsEncodingJSON(t *testing.T) {
	type inner struct {
		Shadowed string `json:"shadowed"`
		Deep     int    `json:"deep,omitempty"`
	}
	type Exported struct {
		Promoted bool `json:"promoted"`
	}
	type custom struct{}
	type sample struct {
		inner
		*Exported
		Shadowed  time.Time           `json:"shadowed"`
		Named     Exported            `json:"named"`
		List      []*Exported         `json:"list,omitempty"`
		ByKey     map[string]inner    `json:"by_key"`
		Raw       json.RawMessage     `json:"raw"`
		Self      *custom             `json:"-"`
		hidden    string              // unexported: never written
		Untagged  string              // written under its Go name
		Marshaled map[string]jsonLeaf `json:"marshaled,omitempty"`
	}
	_ = sample{}.hidden
	got := contractFields(reflect.TypeFor[sample]())
	want := []contractField{
		{"shadowed", "time", "always"},
		{"deep", "integer", "omitempty"},
		{"promoted", "boolean", "grouped"}, // through *Exported: written only when it is set
		{"named", "object", "always"},
		{"named.promoted", "boolean", "always"},
		{"list", "array of object", "omitempty"},
		{"list[].promoted", "boolean", "always"},
		{"by_key", "map of object", "always"},
		{"by_key.*.shadowed", "string", "always"},
		{"by_key.*.deep", "integer", "omitempty"},
		{"raw", "", "always"},
		{"Untagged", "string", "always"},
		{"marshaled", "", "omitempty"},
	}
	sortFields := func(fs []contractField) {
		sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
	}
	sortFields(got)
	sortFields(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("walk:\n got %v\nwant %v", got, want)
	}
	// What encoding/json itself writes of a full sample: the same top-level names.
	b, err := json.Marshal(sample{Exported: &Exported{}, Raw: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	var names, walked []string
	for k := range top {
		names = append(names, k)
	}
	for _, f := range want {
		if !strings.ContainsAny(f.Path, ".[") && f.Presence != "omitempty" {
			walked = append(walked, f.Path)
		}
	}
	sort.Strings(names)
	sort.Strings(walked)
	if fmt.Sprint(names) != fmt.Sprint(walked) {
		t.Errorf("encoding/json writes %v, the walk says %v", names, walked)
	}
	// Without the embedded pointer, the grouped field is not written at all.
	b, err = json.Marshal(sample{Raw: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if top = nil; json.Unmarshal(b, &top) != nil || top["promoted"] != nil {
		t.Errorf("a grouped field was written without its group: %s", b)
	}
}

// jsonLeaf marshals itself, as a check's details may: the walk must stop at it.
type jsonLeaf struct{ cells []string }

func (l jsonLeaf) MarshalJSON() ([]byte, error) { return json.Marshal(l.cells) }

// TestContractCoversTheDemo reads the demo's golden JSON (cmd/audit's TestDemoJSON holds it to the demo's output):
// every path in it is one the contract documents, a map's keys standing for its ".*". This sees inside what the
// reflection walk cannot: a type that marshals itself.
func TestContractCoversTheDemo(t *testing.T) {
	b, err := os.ReadFile("../../cmd/audit/testdata/demo.json.golden")
	if err != nil {
		t.Fatalf("read the demo's golden JSON: %v", err)
	}
	// The golden file masks what differs between runs; a masked number ("bytes": <n>) is no JSON until it is a number.
	b = regexp.MustCompile(`: <[a-z]+>`).ReplaceAll(b, []byte(": 0"))
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode the demo's golden JSON: %v", err)
	}
	documented := map[string]contractField{}
	for _, f := range readContract(t) {
		documented[f.Path] = f
	}
	seen := map[string]bool{}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			isMap := strings.HasPrefix(documented[path].Type, "map of ")
			for k, e := range v {
				p := k
				switch {
				case isMap:
					p = path + ".*"
				case path != "":
					p = path + "." + k
				}
				if !isMap || documented[p].Path != "" {
					seen[p] = true
				}
				walk(e, p)
			}
		case []any:
			for _, e := range v {
				walk(e, path+"[]")
			}
		}
	}
	walk(v, "")
	if len(seen) == 0 {
		t.Fatal("the demo's JSON has no fields")
	}
	for p := range seen {
		if _, ok := documented[p]; !ok {
			t.Errorf("the demo's JSON has %s, which %s does not document", p, contractDoc)
		}
	}
}
