package report

import (
	"iter"

	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// failuresFirst yields cells' failed cells (errors, the deadline's included) before the others, each group in the
// cells' order: a reader opens the Coverage sheet to see what was not audited, and at ten thousand accounts the
// failures would otherwise sit among a million clean rows. A failure is always a row with its words (a clean cell is
// only counts), so the failures come from the rows alone and nothing is materialised: the clean cells are made as
// they are yielded, on the second pass.
func failuresFirst(cells *crossaccount.Cells) iter.Seq[crossaccount.Cell] {
	return func(yield func(crossaccount.Cell) bool) {
		rows := cells.Rows()
		for i := range rows {
			if rows[i].Outcome == crossaccount.OutcomeError && !yield(rows[i]) {
				return
			}
		}
		for c := range cells.All() {
			if c.Outcome != crossaccount.OutcomeError && !yield(c) {
				return
			}
		}
	}
}
