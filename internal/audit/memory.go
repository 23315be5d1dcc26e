package audit

import (
	"runtime/debug"
	"sync"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/report"
)

// workbookGCPercent is how far the collector lets the heap grow past what is live while the workbook is built. Every
// finding and cell is live then, and excelize holds each sheet's XML in memory until it writes the archive: the run's
// peak, about half a second long. At a thousand accounts and nine checks the default of 100 let some 65 MB live
// become a 100 MB heap (159 MiB peak RSS); at 25 the heap peaks near 80 MB (about 145 MiB RSS) for a few dozen
// milliseconds of collection. Run for run, the audit's own phase keeps the default: there the collector's CPU is
// what a tighter setting would cost, on every call.
const workbookGCPercent = 25

// workbookGC counts the workbooks being built in this process, so that overlapping jobs (tests run them side by side)
// restore the collector's setting once, when the last one is done, and to what it was before the first.
var workbookGC struct {
	sync.Mutex
	building, previous int
}

// buildWorkbook renders the workbook under the tighter collector.
func buildWorkbook(res *report.Result, cs []checks.Check) ([]byte, error) {
	workbookGC.Lock()
	if workbookGC.building == 0 {
		workbookGC.previous = debug.SetGCPercent(workbookGCPercent)
	}
	workbookGC.building++
	workbookGC.Unlock()
	defer func() {
		workbookGC.Lock()
		defer workbookGC.Unlock()
		if workbookGC.building--; workbookGC.building == 0 {
			debug.SetGCPercent(workbookGC.previous)
		}
	}()
	return report.Workbook(res, cs)
}
