package audit

import (
	"testing"
	"time"
)

func TestDefaultMargin(t *testing.T) {
	t.Parallel()
	for left, want := range map[time.Duration]time.Duration{
		900 * time.Second: time.Minute, 120 * time.Second: 24 * time.Second, 30 * time.Second: 10 * time.Second,
		8 * time.Second: 4 * time.Second, time.Second: 500 * time.Millisecond,
	} {
		if got := defaultMargin(left); got != want {
			t.Errorf("defaultMargin(%s) = %s, want %s", left, got, want)
		}
	}
}
