package crossaccount_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// mixedCells are accounts × regions × checks, one cell each, every third with findings and every seventh failed, in a
// shuffled order: what the fan-out's workers append.
func mixedCells(accounts, regions, checkCount int) []crossaccount.Cell {
	var out []crossaccount.Cell
	n := 0
	for a := range accounts {
		for r := range regions {
			for c := range checkCount {
				cell := crossaccount.Cell{AccountID: fmt.Sprintf("%012d", 999-a), AccountName: fmt.Sprintf("acct-%d", a),
					Region: fmt.Sprintf("region-%d", regions-r), Check: fmt.Sprintf("check-%c", 'z'-c), Outcome: crossaccount.OutcomeClean}
				switch {
				case n%7 == 0:
					cell.Outcome, cell.Code, cell.Message = crossaccount.OutcomeError, "AccessDenied", "denied"
				case n%3 == 0:
					cell.Outcome, cell.Findings = crossaccount.OutcomeFindings, n%5+1
				}
				out = append(out, cell)
				n++
			}
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func sortedCells(cs []crossaccount.Cell) []crossaccount.Cell {
	out := slices.Clone(cs)
	slices.SortFunc(out, func(a, b crossaccount.Cell) int {
		return cmp.Or(strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.Region, b.Region), strings.Compare(a.Check, b.Check))
	})
	return out
}

// TestCellsYieldEveryCellInOrder: clean cells held as places in tables come back as the very rows a sorted list of
// every cell held, with their owners stamped, and only the cells with something to say are rows.
func TestCellsYieldEveryCellInOrder(t *testing.T) {
	t.Parallel()
	const accounts, regions, checkCount = 6, 4, 5
	in := mixedCells(accounts, regions, checkCount)
	res := &crossaccount.Result{Cells: crossaccount.NewCells(in...)}
	for a := range accounts {
		res.Accounts = append(res.Accounts, crossaccount.Account{ID: fmt.Sprintf("%012d", 999-a), Owner: fmt.Sprintf("team-%d", a%2), OU: "Root"})
	}
	crossaccount.Settle(res)

	want := sortedCells(in)
	for i := range want {
		want[i].Owner, want[i].OU = fmt.Sprintf("team-%d", (999-atoi(t, want[i].AccountID))%2), "Root"
	}
	got := slices.Collect(res.Cells.All())
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("cell %d: %+v, want %+v (%d cells, want %d)", i, got[i], want[i], len(got), len(want))
			}
		}
		t.Fatalf("%d cells, want %d", len(got), len(want))
	}
	clean := 0
	for _, c := range in {
		if c.Outcome == crossaccount.OutcomeClean {
			clean++
		}
	}
	if res.Cells.Len() != len(in) || res.Cells.Clean() != clean || len(res.Cells.Rows()) != len(in)-clean {
		t.Errorf("%d cells, %d clean, %d rows; want %d, %d, %d", res.Cells.Len(), res.Cells.Clean(), len(res.Cells.Rows()), len(in), clean, len(in)-clean)
	}
	for _, r := range res.Cells.Rows() {
		if r.Outcome == crossaccount.OutcomeClean {
			t.Errorf("a clean cell kept as a row: %+v", r)
		}
	}

	// Keep: an owner's cells, in the same order.
	mine := res.Cells.Keep(func(id string) bool { return id == want[0].AccountID })
	var wantMine []crossaccount.Cell
	for _, c := range want {
		if c.AccountID == want[0].AccountID {
			wantMine = append(wantMine, c)
		}
	}
	if got := slices.Collect(mine.All()); !slices.Equal(got, wantMine) {
		t.Errorf("kept %v, want %v", got, wantMine)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCellsCutDropsWhatWasAdded: a merge that refuses a partial result cuts its cells back to the mark, clean and not.
func TestCellsCutDropsWhatWasAdded(t *testing.T) {
	t.Parallel()
	in := mixedCells(2, 2, 3)
	var cs crossaccount.Cells
	for _, c := range in[:5] {
		cs.Add(c)
	}
	mark := cs.Mark()
	for _, c := range in[5:] {
		cs.Add(c)
	}
	cs.Cut(mark)
	res := &crossaccount.Result{Cells: cs}
	crossaccount.Settle(res)
	if got, want := slices.Collect(res.Cells.All()), sortedCells(in[:5]); !slices.Equal(got, want) {
		t.Errorf("after the cut %v, want %v", got, want)
	}
}
