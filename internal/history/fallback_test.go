package history

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// TestPreviousFallsBackPastBadEntry: an unreadable entry (a head that is not gzip, or a sound head over a broken
// body) is passed over for the run before it, and named, so one bad object never turns every later run into a first
// run.
func TestPreviousFallsBackPastBadEntry(t *testing.T) {
	ctx := context.Background()
	f := finding("ec2-reserved-instances", "111111111111", "us-east-1", "ri-1", checks.Warning)
	for kind, open := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			st, raw := open(t)
			if err := st.Put(ctx, stateAt("good", day1.Add(-24*time.Hour), f)); err != nil {
				t.Fatal(err)
			}
			// A sound head over a body cut short: the chosen previous run, unreadable past its head.
			var buf bytes.Buffer
			if err := Encode(&buf, stateAt("cut", day1.Add(time.Hour), f)); err != nil {
				t.Fatal(err)
			}
			raw(Key(day1, "", "cut"), regzipped(t, buf.Bytes(), func(b []byte) []byte { return b[:len(b)-40] }))
			raw(Key(day1, "", "garbage"), []byte("not gzip"))
			got, err := st.Previous(ctx, day2, "day2", Lineage{})
			if got == nil || got.RunID != "good" {
				t.Fatalf("previous = %v, %v; want the run before the bad entries", got, err)
			}
			var cav *Caveats
			if !errors.As(err, &cav) || cav.RunID != "good" || !strings.Contains(err.Error(), "cut.json.gz") || !strings.Contains(err.Error(), "garbage.json.gz") {
				t.Errorf("the bad entries passed over are not named: %v", err)
			}
		})
	}
}
