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

func TestParseAsOf(t *testing.T) {
	t.Parallel()
	d, err := ParseAsOf("2026-11-22")
	if err != nil || !d.Equal(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date: %v %v", d, err)
	}
	r, err := ParseAsOf("2026-11-22T10:00:00+02:00")
	if err != nil || !r.Equal(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)) || r.Location() != time.UTC {
		t.Errorf("rfc3339: %v %v", r, err)
	}
	for _, in := range []string{"", "yesterday", "2026-13-01", "22.11.2026", "0001-01-01", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "9999-12-31"} {
		if _, err := ParseAsOf(in); err == nil {
			t.Errorf("ParseAsOf(%q) accepted", in)
		}
	}
}
