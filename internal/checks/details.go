package checks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Detail is one detail of a finding: the ID of the check's column that holds it, and its text.
type Detail struct {
	ID    string
	Value string
}

// Details are a finding's details, keyed by column ID (Column.ID), never by header: a header may be renamed, and a
// detail read back from history must still land in its column. They are a short slice sorted by ID rather than a
// map: a finding holds a dozen at most, and a map per finding was a large part of the report step's memory at
// 300,000 findings.
//
// The JSON result carries details by header (Column.Name), as one object sorted by header, exactly as the map keyed
// by header that Details replaced was written; history (internal/history) carries them by ID. MarshalJSON and
// UnmarshalJSON map one to the other through the check's layout in the registry (ByName).
//
// A Details decoded from JSON is keyed by header until its check is known: encoding/json decodes it apart from the
// finding's "check". Finding.BindDetails maps it to IDs (the distributed partial reader does so for every finding);
// Finding's accessors map it as they read. A header no column has, nor had (Column.Formerly), is kept under
// UnknownHeaderID(header) rather than refused or dropped: a stored finding outlives the column that showed it, and
// an auditor never loses what it was told. Such a detail is written back to JSON under its header.
type Details struct {
	// check is whose columns the IDs are: the finding's check when a detail was set.
	check string
	// list is sorted by ID (by header while byHeader), each key once.
	list []Detail
	// byHeader says the list is keyed by header: decoded from JSON, not yet bound to the finding's check.
	byHeader bool
}

// unknownHeaderPrefix starts the ID of a detail whose header no column has; an ID is snake_case, so it cannot.
const unknownHeaderPrefix = "header:"

// UnknownHeaderID is the ID a detail keeps when its header (from JSON, or from a state of version 2) is no column's
// of its check, nor was: kept, not dropped, and written back under that header.
func UnknownHeaderID(header string) string { return unknownHeaderPrefix + header }

// NewDetails holds list as check's details, by ID: for decoders (internal/history) that build many findings' details
// in one allocation. list is sorted by ID here if it is not already; it is kept, not copied, so its capacity must
// end at its length (list[a:b:b]) for a later SetDetail not to write over a neighbour.
func NewDetails(check string, list []Detail) Details {
	if len(list) == 0 {
		return Details{}
	}
	if !slices.IsSortedFunc(list, compareDetails) {
		slices.SortStableFunc(list, compareDetails)
	}
	return Details{check: check, list: list}
}

func compareDetails(a, b Detail) int { return strings.Compare(a.ID, b.ID) }

// IsZero says the finding holds no detail: the JSON then has no "details" key (omitzero), as with an empty map.
func (d Details) IsZero() bool { return len(d.list) == 0 }

// Len is how many details there are.
func (d Details) Len() int { return len(d.list) }

// bound says the list is keyed by ID.
func (d Details) bound() bool { return !d.byHeader }

func (d Details) find(key string) (int, bool) {
	return slices.BinarySearchFunc(d.list, key, func(e Detail, k string) int { return strings.Compare(e.ID, k) })
}

// Detail is the detail in the column of that ID, "" when the finding has none.
func (f *Finding) Detail(id string) string {
	v, _ := f.LookupDetail(id)
	return v
}

// LookupDetail is the detail in the column of that ID, and whether the finding has one (an empty one is one).
func (f *Finding) LookupDetail(id string) (string, bool) {
	d := f.Details
	if !d.bound() {
		d = bindDetails(f.Check, slices.Clone(d.list))
	}
	if i, ok := d.find(id); ok {
		return d.list[i].Value, true
	}
	return "", false
}

// SetDetail sets the detail in the column of that ID: a check's column (CheckDeclared says whether it is).
func (f *Finding) SetDetail(id, value string) {
	f.BindDetails()
	f.Details.check = f.Check
	i, ok := f.Details.find(id)
	if ok {
		f.Details.list[i].Value = value
		return
	}
	if f.Details.list == nil {
		// Sized for every column of the check at once: a check fills most of them, and appending one at a time
		// would leave up to half of a doubled array unused in each of 300,000 findings.
		if idx := columnsOf(f.Check); idx != nil {
			f.Details.list = make([]Detail, 0, len(idx.headers))
		}
	}
	f.Details.list = slices.Insert(f.Details.list, i, Detail{ID: id, Value: value})
}

// DetailsByID lists the finding's details sorted by ID. The slice is the finding's own: do not change it.
func (f *Finding) DetailsByID() []Detail {
	if !f.Details.bound() {
		return bindDetails(f.Check, slices.Clone(f.Details.list)).list
	}
	return f.Details.list
}

// BindDetails keys details decoded from JSON (by header) by column ID, through f.Check's layout: see Details.
func (f *Finding) BindDetails() {
	if !f.Details.bound() {
		f.Details = bindDetails(f.Check, f.Details.list)
	}
}

// bindDetails maps list's headers to check's column IDs, in place. Where two headers map to one column (its header
// and a former one), the current header's value takes the ID, or else the first header's in order, and the other
// keeps its header (UnknownHeaderID): one value an ID, none lost. A check this build does not register has no layout
// to map through: its keys are kept as they are, which is also how MarshalJSON wrote them.
func bindDetails(check string, list []Detail) Details { return bindWith(columnsOf(check), check, list) }

func bindWith(idx *columnIndex, check string, list []Detail) Details {
	if idx == nil {
		return NewDetails(check, list)
	}
	headers := make(map[string]string, len(list)) // ID → the header that took it
	for i := range list {
		h := list[i].ID
		id := idx.idOf(h)
		if prev, taken := headers[id]; taken {
			if h != idx.headers[id] {
				id = UnknownHeaderID(h)
			} else {
				// The current header arrives after a former one: it takes the ID, the former keeps its header.
				for j := range list[:i] {
					if list[j].ID == id {
						list[j].ID = UnknownHeaderID(prev)
					}
				}
			}
		}
		headers[id] = h
		list[i].ID = id
	}
	return NewDetails(check, list)
}

// MarshalJSON writes the details as one object keyed by header and sorted by header: byte for byte what the map
// keyed by header wrote before details were keyed by ID. An ID with no column in the check's layout (a column since
// removed, or a check this build does not register) is written under the ID itself, and one kept from an unknown
// header (UnknownHeaderID) under that header.
func (d Details) MarshalJSON() ([]byte, error) {
	type pair struct{ key, id, value string }
	pairs := make([]pair, len(d.list))
	var idx *columnIndex
	if d.check != "" {
		idx = columnsOf(d.check)
	}
	for i, e := range d.list {
		pairs[i] = pair{d.header(idx, e.ID), e.ID, e.Value}
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(a.key, b.key) })
	// A key written twice would lose one value to a reader: the later one keeps its ID as its key.
	renamed := false
	for i := 1; i < len(pairs); i++ {
		if pairs[i].key == pairs[i-1].key {
			pairs[i].key, renamed = pairs[i].id, true
		}
	}
	if renamed {
		slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(a.key, b.key) })
	}
	// Strings as encoding/json writes a map's, HTML escapes aside: the encoder that calls MarshalJSON adds those
	// when it is set to, as it did for the map.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	out := []byte{'{'}
	for i, p := range pairs {
		if i > 0 {
			out = append(out, ',')
		}
		for _, s := range [2]string{p.key, p.value} {
			buf.Reset()
			if err := enc.Encode(s); err != nil {
				return nil, err
			}
			out = append(out, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
			if s == p.key {
				out = append(out, ':')
			}
		}
	}
	return append(out, '}'), nil
}

// header is the JSON key of the detail with that ID.
func (d Details) header(idx *columnIndex, id string) string {
	if d.byHeader {
		return id // keyed by header already
	}
	if idx != nil {
		if h, ok := idx.headers[id]; ok {
			return h
		}
	}
	if h, ok := strings.CutPrefix(id, unknownHeaderPrefix); ok {
		return h
	}
	return id
}

// UnmarshalJSON reads an object keyed by header. The details stay keyed by header until their finding binds them
// (Finding.BindDetails): the check that maps headers to IDs is a sibling key, which encoding/json does not show here.
func (d *Details) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("details: %w", err)
	}
	list := make([]Detail, 0, len(m))
	for k, v := range m {
		list = append(list, Detail{ID: k, Value: v})
	}
	slices.SortFunc(list, compareDetails)
	*d = Details{list: list, byHeader: len(list) > 0}
	return nil
}

// columnIndex maps one registered check's column IDs to headers and back.
type columnIndex struct {
	headers map[string]string // ID → header
	ids     map[string]string // header, current or former → ID
}

// idOf is the ID of the column with that header, or the ID an unknown header is kept under.
func (c *columnIndex) idOf(header string) string {
	if id, ok := c.ids[header]; ok {
		return id
	}
	return UnknownHeaderID(header)
}

// columnIndexes are built once: Layout builds its columns afresh at every call, and JSON reads them per finding.
var columnIndexes = sync.OnceValue(func() map[string]*columnIndex {
	out := map[string]*columnIndex{}
	for _, c := range All() {
		idx := &columnIndex{headers: map[string]string{}, ids: map[string]string{}}
		for _, col := range c.Layout().Columns {
			idx.headers[col.ID] = col.Name
			for _, h := range col.Formerly {
				idx.ids[h] = col.ID
			}
		}
		// A current header wins over a former one of another column.
		for _, col := range c.Layout().Columns {
			idx.ids[col.Name] = col.ID
		}
		out[c.Name()] = idx
	}
	return out
})

func columnsOf(check string) *columnIndex { return columnIndexes()[check] }

// HeaderID is the ID of the column of a registered check shown as header, or once shown as it (Column.Formerly); ok
// is false when the check is not registered or none of its columns has or had that header.
func HeaderID(check, header string) (id string, ok bool) {
	if idx := columnsOf(check); idx != nil {
		id, ok = idx.ids[header]
	}
	return id, ok
}

// Header is what the detail of that ID is shown under: its column's header in a registered check, the header it was
// read under (UnknownHeaderID), or else the ID itself, as MarshalJSON writes it.
func Header(check, id string) string {
	return Details{check: check}.header(columnsOf(check), id)
}
