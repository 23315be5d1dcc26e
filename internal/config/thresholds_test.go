package config

import (
	"strings"
	"testing"
	"time"
)

// TestAsOfIsBounded: an as-of date before 2000 or more than ten years ahead is a typo, not an
func TestAsOfIsBounded(t *testing.T) {
	t.Parallel()
	for _, asOf := range []time.Time{time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), time.Now().AddDate(10, 0, 2), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)} {
		s := Defaults()
		s.AsOf = asOf
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "as-of") {
			t.Errorf("as-of %s: %v", asOf, err)
		}
	}
	for _, asOf := range []time.Time{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().AddDate(9, 11, 0)} {
		s := Defaults()
		s.AsOf = asOf
		if err := s.Validate(); err != nil {
			t.Errorf("as-of %s: %v", asOf, err)
		}
	}
}
