package crossaccount

import (
	"cmp"
	"iter"
	"math"
	"slices"
	"strings"
)

// Cells is every account × region × check of a run and how it ended. Only a cell with something to say (findings or
// an error) is a row with its words; a clean cell is eight bytes, its account, region and check as places in tables
// the cells share. At 10,000 accounts × 17 regions × nine checks most of the 1.37 million cells are clean, and a row
// of 152 bytes each held the report step past a 512 MB function; the clean ones now take 11 MB.
//
// The zero value is empty and ready for Add. Cells is not safe for concurrent use; the fan-out adds under its lock.
type Cells struct {
	rows  []Cell
	clean []cleanCell
	tab   *cellTables
}

// cleanCell is a clean cell: its account, region and check by their places in the tables.
type cleanCell struct {
	account       int32
	region, check uint16
}

// cellAccount is what a cell says of its account: the account's strings, shared by all its clean cells.
type cellAccount struct{ ID, Name, Owner, OU string }

// cellTables are the accounts, regions and checks that clean cells name, each once.
type cellTables struct {
	accounts  []cellAccount
	accountOf map[cellAccount]int32
	regions   []string
	regionOf  map[string]uint16
	checks    []string
	checkOf   map[string]uint16
}

// NewCells holds cs, in their order.
func NewCells(cs ...Cell) Cells {
	var out Cells
	for _, c := range cs {
		out.Add(c)
	}
	return out
}

// Add records one cell.
func (c *Cells) Add(cell Cell) {
	if cell.Outcome == OutcomeClean && cell.Findings == 0 && cell.Code == "" && cell.Message == "" {
		if cc, ok := c.tables().place(cell); ok {
			c.clean = append(c.clean, cc)
			return
		}
	}
	// Anything else, and a clean cell the tables have no room for, keeps its words.
	c.rows = append(c.rows, cell)
}

func (c *Cells) tables() *cellTables {
	if c.tab == nil {
		c.tab = &cellTables{accountOf: map[cellAccount]int32{}, regionOf: map[string]uint16{}, checkOf: map[string]uint16{}}
	}
	return c.tab
}

// place finds or makes the tables' entries for cell's account, region and check; false when a table is full.
func (t *cellTables) place(cell Cell) (cleanCell, bool) {
	a := cellAccount{ID: cell.AccountID, Name: cell.AccountName, Owner: cell.Owner, OU: cell.OU}
	ai, ok := t.accountOf[a]
	if !ok {
		if len(t.accounts) >= math.MaxInt32 {
			return cleanCell{}, false
		}
		ai = int32(len(t.accounts))
		t.accounts = append(t.accounts, a)
		t.accountOf[a] = ai
	}
	ri, ok := placeString(&t.regions, t.regionOf, cell.Region)
	if !ok {
		return cleanCell{}, false
	}
	ci, ok := placeString(&t.checks, t.checkOf, cell.Check)
	if !ok {
		return cleanCell{}, false
	}
	return cleanCell{account: ai, region: ri, check: ci}, true
}

func placeString(list *[]string, of map[string]uint16, s string) (uint16, bool) {
	if i, ok := of[s]; ok {
		return i, true
	}
	if len(*list) >= math.MaxUint16 {
		return 0, false
	}
	i := uint16(len(*list))
	*list = append(*list, s)
	of[s] = i
	return i, true
}

// Len counts every cell, clean or not.
func (c *Cells) Len() int { return len(c.rows) + len(c.clean) }

// Cap is how many cells c has room for without growing: what a merge reserved.
func (c *Cells) Cap() int { return cap(c.rows) + cap(c.clean) }

// Clean counts the clean cells.
func (c *Cells) Clean() int {
	n := len(c.clean)
	for i := range c.rows {
		if c.rows[i].Outcome == OutcomeClean {
			n++
		}
	}
	return n
}

// Rows are the cells with something to say: those with findings or an error (and, past the tables' room, a clean
// one). The caller must not change them.
func (c *Cells) Rows() []Cell { return c.rows }

func (c *Cells) cleanOf(cc cleanCell) Cell {
	a := c.tab.accounts[cc.account]
	return Cell{AccountID: a.ID, AccountName: a.Name, Owner: a.Owner, OU: a.OU, Region: c.tab.regions[cc.region],
		Check: c.tab.checks[cc.check], Outcome: OutcomeClean}
}

// All yields every cell: once sorted (Settle), by account id, region and check, exactly as a list of rows sorted so
// would hold them.
func (c *Cells) All() iter.Seq[Cell] {
	return func(yield func(Cell) bool) {
		i, j := 0, 0
		for i < len(c.rows) || j < len(c.clean) {
			var next Cell
			if j == len(c.clean) {
				next, i = c.rows[i], i+1
			} else if cl := c.cleanOf(c.clean[j]); i < len(c.rows) && compareCells(c.rows[i], cl) <= 0 {
				next, i = c.rows[i], i+1
			} else {
				next, j = cl, j+1
			}
			if !yield(next) {
				return
			}
		}
	}
}

func compareCells(a, b Cell) int {
	return cmp.Or(strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.Region, b.Region), strings.Compare(a.Check, b.Check))
}

// sort orders the rows and the clean cells each by account id, region and check, so All merges them in that order.
func (c *Cells) sort() {
	// Field by field rather than on joined keys: joining allocated two strings per comparison, about 33 MB at a
	// thousand accounts, at the moment every finding and cell is live.
	slices.SortFunc(c.rows, compareCells)
	if c.tab == nil || len(c.clean) == 0 {
		return
	}
	t := c.tab
	// The clean cells compare by the ranks of their tables' strings: three integers, not three strings.
	acc := ranks(len(t.accounts), func(a, b int) int { return strings.Compare(t.accounts[a].ID, t.accounts[b].ID) })
	reg := ranks(len(t.regions), func(a, b int) int { return strings.Compare(t.regions[a], t.regions[b]) })
	chk := ranks(len(t.checks), func(a, b int) int { return strings.Compare(t.checks[a], t.checks[b]) })
	slices.SortFunc(c.clean, func(a, b cleanCell) int {
		return cmp.Or(cmp.Compare(acc[a.account], acc[b.account]), cmp.Compare(reg[a.region], reg[b.region]),
			cmp.Compare(chk[a.check], chk[b.check]))
	})
}

// ranks gives each of n entries its place in the order compare sets; equal entries share a rank.
func ranks(n int, compare func(a, b int) int) []int32 {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, compare)
	out := make([]int32, n)
	for k, i := range order {
		if k > 0 && compare(order[k-1], i) == 0 {
			out[i] = out[order[k-1]]
		} else {
			out[i] = int32(k)
		}
	}
	return out
}

// stampOwners gives every cell of an account in byID that account's owner and OU.
func (c *Cells) stampOwners(byID map[string]*Account) {
	for i := range c.rows {
		if a := byID[c.rows[i].AccountID]; a != nil {
			c.rows[i].Owner, c.rows[i].OU = a.Owner, a.OU
		}
	}
	if c.tab == nil {
		return
	}
	t := c.tab
	for i := range t.accounts {
		if a := byID[t.accounts[i].ID]; a != nil {
			t.accounts[i].Owner, t.accounts[i].OU = a.Owner, a.OU
		}
	}
	// The accounts' keys changed; two entries may now be one account, which is harmless: each keeps its cells.
	clear(t.accountOf)
	for i, a := range t.accounts {
		if _, ok := t.accountOf[a]; !ok {
			t.accountOf[a] = int32(i)
		}
	}
}

// Keep is the cells of the accounts keep says yes to, in the same order. The result shares c's tables: adding to
// either is safe (a table only grows), changing one's owners (Settle) is not.
func (c *Cells) Keep(keep func(accountID string) bool) Cells {
	out := Cells{tab: c.tab}
	for _, r := range c.rows {
		if keep(r.AccountID) {
			out.rows = append(out.rows, r)
		}
	}
	if c.tab == nil {
		return out
	}
	yes := make([]bool, len(c.tab.accounts))
	for i, a := range c.tab.accounts {
		yes[i] = keep(a.ID)
	}
	for _, cc := range c.clean {
		if yes[cc.account] {
			out.clean = append(out.clean, cc)
		}
	}
	return out
}

// CellsMark is how many cells of each kind a Cells held, for Cut.
type CellsMark struct{ rows, clean int }

// Mark is where c stands now.
func (c *Cells) Mark() CellsMark { return CellsMark{rows: len(c.rows), clean: len(c.clean)} }

// Cut drops every cell added since m, and lets go of their strings.
func (c *Cells) Cut(m CellsMark) {
	if m.rows > len(c.rows) || m.clean > len(c.clean) {
		return
	}
	clear(c.rows[m.rows:])
	c.rows = c.rows[:m.rows]
	c.clean = c.clean[:m.clean]
}

// Grow makes room for rows more cells with something to say and clean more clean ones, so a merge sized from its
// inputs' counts does not grow by appending (each growth holds the old array beside the new one).
func (c *Cells) Grow(rows, clean int) {
	c.rows = grow(c.rows, rows)
	c.clean = grow(c.clean, clean)
}

// grow makes room for n more in s, exactly: append would round the size up.
func grow[T any](s []T, n int) []T {
	if n <= 0 || cap(s)-len(s) >= n {
		return s
	}
	out := make([]T, len(s), len(s)+n)
	copy(out, s)
	return out
}
