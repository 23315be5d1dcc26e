package config

import (
	"errors"
	"strings"
	"testing"
)

// TestIncludedAndExcludedIsInvalid: an account both named and excluded is a contradiction, not a silent choice.
func TestIncludedAndExcludedIsInvalid(t *testing.T) {
	t.Parallel()
	ev, err := DecodeEvent([]byte(`{"accounts":["333333333333","444444444444"],"exclude_accounts":["444444444444"]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ev.Apply(Defaults())
	var invalid *InvalidEventError
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "444444444444") || !strings.Contains(err.Error(), "both") {
		t.Errorf("err = %v", err)
	}
}
