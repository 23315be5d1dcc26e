package audit

import (
	"errors"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestBuildWorkbookRestoresTheCollector: the workbook is built under a tighter collector, and the setting the process
// had is back once the last of several overlapping builds is done.
func TestBuildWorkbookRestoresTheCollector(t *testing.T) {
	prev := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prev)
	res := &report.Result{Facts: report.Facts{RunID: "gc", AsOf: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := buildWorkbook(res, checks.All())
			if err == nil && len(b) == 0 {
				err = errors.New("empty workbook")
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GC percent after the builds: %d, want the 150 set before them", got)
	}
}
