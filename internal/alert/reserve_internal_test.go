package alert

import (
	"testing"
	"time"
)

// TestTheDeliveryReserveKeepsTheWholeMargin: when building used all its time, delivery has maxDeliverReserve, of
// which the sender keeps at most a quarter as its margin: that quarter must be the whole DefaultDeadlineMargin, which
// covers marking a publish (delivery's 5 s bound), or a publish could end with no time left to mark it.
func TestTheDeliveryReserveKeepsTheWholeMargin(t *testing.T) {
	if maxDeliverReserve/4 < DefaultDeadlineMargin || DefaultDeadlineMargin <= 5*time.Second {
		t.Errorf("delivery reserve %s gives a margin of %s, want at least %s, more than delivery's 5 s to mark a publish",
			maxDeliverReserve, maxDeliverReserve/4, DefaultDeadlineMargin)
	}
}
