package crossaccount

import "testing"

// TestOrganizationOfRoot: the root's ARN as the Organizations API reference gives it (Root.Arn) names the
// organization and its management account, in any partition; anything else names none.
func TestOrganizationOfRoot(t *testing.T) {
	t.Parallel()
	for arn, want := range map[string]Organization{
		"arn:aws:organizations::111122223333:root/o-exampleorgid/r-examplerootid111": {ID: "o-exampleorgid", ManagementAccountID: "111122223333"},
		"arn:aws-us-gov:organizations::111122223333:root/o-abcdefghij/r-ab12":        {ID: "o-abcdefghij", ManagementAccountID: "111122223333"},
		"arn:aws:organizations::111122223333:account/o-exampleorgid/444455556666":    {},
		"arn:aws:organizations::111122223333:ou/o-exampleorgid/ou-ab12-abcdefgh":     {},
		"arn:aws:iam::111122223333:root/o-exampleorgid/r-ab12":                       {},
		"arn:aws:organizations:::root/o-exampleorgid/r-ab12":                         {},
		// Not Organization.Id's pattern, which the history holds stored states to: no organization.
		"arn:aws:organizations::111122223333:root/o-Short/r-ab12": {},
		"arn:aws:organizations::111122223333:root/o-/r-ab12":      {},
		"r-ab12": {},
		"":       {},
	} {
		got, ok := organizationOfRoot(arn)
		if got != want || ok != (want != Organization{}) {
			t.Errorf("%q: %+v %v, want %+v", arn, got, ok, want)
		}
	}
}
