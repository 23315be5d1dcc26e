package audit

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAlertListingLeavesOutEarlierWindows: the listing covers the window's days and the slack before them, and keeps
// at most maxAlertKeys keys. Records written before the window are an earlier run's; left in, a burst of them in the
// slack's days would use up the bound before this window's records are listed (the oldest days come first), and
// every digest for two weeks would lose its "alerted at" notes. The listing leaves them out.
func TestAlertListingLeavesOutEarlierWindows(t *testing.T) {
	dir := t.TempDir()
	from := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	write := func(day time.Time, name string, modified time.Time) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(alertsRoot("")+day.Format("2006/01/02")), name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, modified, modified); err != nil {
			t.Fatal(err)
		}
	}
	old := from.Add(-10 * 24 * time.Hour)
	for _, name := range []string{"0b7d7a4e-0000-4000-8000-000000000001.json", "0b7d7a4e-0000-4000-8000-000000000002.json"} {
		write(old, name, old.Add(time.Hour))
	}
	// Dated by an old event, written in the window (a retried send): listed.
	write(old, "0b7d7a4e-0000-4000-8000-000000000003.json", from.Add(time.Hour))
	write(from.Add(2*time.Hour), "0b7d7a4e-0000-4000-8000-000000000004.json", from.Add(2*time.Hour))
	objs, err := dirAlertRecords{dir: dir}.list(context.Background(), from.Add(-alertRecordSlack), to, from.Add(-alertWriteSkew))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, filepath.Base(o.key))
	}
	if len(keys) != 2 || keys[0] != "0b7d7a4e-0000-4000-8000-000000000003.json" || keys[1] != "0b7d7a4e-0000-4000-8000-000000000004.json" {
		t.Errorf("listed %v, want only the two written in the window", keys)
	}
}
