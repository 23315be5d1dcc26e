package crossaccount

import (
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Organization is whose accounts a run audited, as the walk learned it from the root's ARN, so the run's history is
// kept and compared within one organization. A run that could not list its organization (own account only, named
// accounts) knows only its caller: ID and ManagementAccountID are empty, and its history is the caller account's.
type Organization struct {
	// ID is the organization's id (o-…), from the root's ARN.
	ID string `json:"id,omitempty"`
	// ManagementAccountID is the account the root's ARN names: Organizations' ARNs carry the management account.
	ManagementAccountID string `json:"management_account_id,omitempty"`
	// CallerAccountID is the account the run ran as (sts:GetCallerIdentity).
	CallerAccountID string `json:"caller_account_id,omitempty"`
}

// organizationID is Organization.Id's pattern in the Organizations API reference: the history refuses a state whose
// organization does not match it, so an id that does not is no organization's here either.
var organizationID = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)

// organizationOfRoot reads the organization from a root's ARN,
// arn:<partition>:organizations::<management account id>:root/o-<id>/r-<id> (the Organizations API reference,
// Root.Arn); ok is false for anything else.
func organizationOfRoot(rootARN string) (o Organization, ok bool) {
	a, err := arn.Parse(rootARN)
	if err != nil || a.Service != "organizations" || len(a.AccountID) != 12 {
		return Organization{}, false
	}
	parts := strings.Split(a.Resource, "/")
	if len(parts) != 3 || parts[0] != "root" || !organizationID.MatchString(parts[1]) || !strings.HasPrefix(parts[2], "r-") {
		return Organization{}, false
	}
	return Organization{ID: parts[1], ManagementAccountID: a.AccountID}, true
}
