package crossaccount

import "testing"

// TestOwnerTagIsOneAddress: only a value that is exactly one address, as RFC 5322 reads it, is mailed.
func TestOwnerTagIsOneAddress(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"finops@example.com":              true,
		"Root/Workloads/ops@evil.example": true, // as a tag's value it is an address; as an OU path it never is (finish)
		"Ops <ops@example.com>":           false,
		"a@example.com, b@example.com":    false,
		"platform team":                   false,
		"ops@example.com (night shift)":   false,
		"<ops@example.com>":               false,
		"":                                false,
	} {
		if got := isOneAddress(v); got != want {
			t.Errorf("isOneAddress(%q) = %v, want %v", v, got, want)
		}
	}
}
