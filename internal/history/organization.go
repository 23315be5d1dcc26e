package history

import (
	"fmt"
	"regexp"
	"slices"
)

// Organization is whose history a state is. A run that listed its organization knows the organization's id and
// management account (from the root's ARN); a run that could not (the caller's own account only, or named accounts
// with the organization unreadable) knows only the account it ran as. States are compared only within one
// organization: accounts absent from another organization's run did not leave this one, and its findings were never
// this organization's to call fixed.
type Organization struct {
	// ID is the organization's id, o-…; empty when the run could not list its organization.
	ID string `json:"id,omitempty"`
	// ManagementAccountID is the organization's management account; empty with ID.
	ManagementAccountID string `json:"management_account_id,omitempty"`
	// CallerAccountID is the account the run ran as: the management account or a delegated administrator, or, when
	// the organization is unknown, the account whose history this is.
	CallerAccountID string `json:"caller_account_id,omitempty"`
}

// organizationIDPattern is the id's pattern in the Organizations API reference (Organization.Id); account ids are
// accountIDPattern (suppress.go).
var organizationIDPattern = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)

// Key names the organization's history: its id, or account-<id> for a run that could not list its organization, or
// "" when nothing is known (a state written before states named their organization).
func (o Organization) Key() string {
	switch {
	case o.ID != "":
		return o.ID
	case o.CallerAccountID != "":
		return "account-" + o.CallerAccountID
	}
	return ""
}

// String says whose history it is, for messages: o-… or "account 111122223333 (organization unknown)".
func (o Organization) String() string {
	switch {
	case o.ID != "":
		return o.ID
	case o.CallerAccountID != "":
		return "account " + o.CallerAccountID + " (organization unknown)"
	}
	return "no organization recorded"
}

// validate checks what a stored state says, before a message quotes it or a directory is named by it.
func (o Organization) validate() error {
	if o.ID != "" && !organizationIDPattern.MatchString(o.ID) {
		return fmt.Errorf("organization id %q is not o- and 10 to 32 lowercase letters or digits", o.ID)
	}
	for _, id := range []string{o.ManagementAccountID, o.CallerAccountID} {
		if id != "" && !accountIDPattern.MatchString(id) {
			return fmt.Errorf("account id %q is not 12 digits", id)
		}
	}
	return nil
}

// Lineage is what a run tells Previous about itself, so only its own organization's runs are its previous run.
type Lineage struct {
	Organization Organization
	// Accounts are the accounts this run set out to audit. A state that names no organization (written before
	// states did) is taken as this organization's when it holds one of them: an account id is unique across AWS and
	// belongs to one organization at a time. The state this run writes names the organization, so such a state is
	// taken once.
	Accounts []string
}

// whose says whether a stored run of organization stored may be a run's previous run: mine for the same
// organization, legacy for a state that names none, neither for another organization's. A run that knows nothing of
// itself (an empty Key) takes any.
func (l Lineage) whose(stored Organization) (mine, legacy bool) {
	switch {
	case l.Organization.Key() == "":
		return true, false
	case stored.Key() == "":
		return false, true
	case l.Organization.ID == "" && stored.ID != "" && stored.ManagementAccountID == l.Organization.CallerAccountID:
		// The management account, whose listing of the roots failed this run: the organization it manages is its own.
		return true, false
	}
	return stored.Key() == l.Organization.Key(), false
}

// sharesAccount says whether s holds one of the run's accounts.
func (l Lineage) sharesAccount(s *State) bool {
	mine := make(map[string]bool, len(l.Accounts))
	for _, id := range l.Accounts {
		mine[id] = true
	}
	return slices.ContainsFunc(s.Accounts, func(id string) bool { return mine[id] })
}
