package crossaccount

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// Account is one account to audit.
type Account struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Partition string `json:"partition"`
	// OU is the account's path in the organization, "Root/Workloads/Prod"; empty when the organization was not
	// walked (named accounts, own account only).
	OU string `json:"ou"`
	// Owner is whom the account's findings go to: its owner tag's value (an email address or a team name), else its
	// OU path. OwnerNote says why the tag was not used when it could not be read.
	Owner     string `json:"owner"`
	OwnerNote string `json:"owner_note,omitempty"`
	// OwnerUnknown says why the owner tag is not known this run, so the OU stands as owner: OwnerUnreadable or
	// OwnerUnread; empty when the tag is known or there is none to read.
	OwnerUnknown string `json:"owner_unknown,omitempty"`
	// OwnerEmail is Owner when the owner tag's value is exactly one email address, so the owner may be mailed;
	// empty otherwise, and always for an OU path, which reads as an address when an OU is named like one.
	OwnerEmail string `json:"owner_email,omitempty"`
	// Self marks the account the job runs in: audited with the job's own credentials, never by assuming a role
	// into itself.
	Self bool `json:"self,omitempty"`
}

// Filter narrows the organization to the accounts a run should see.
type Filter struct {
	Only    []string // when set, only these account ids
	Exclude []string
}

func (f Filter) allows(id string) bool {
	if len(f.Only) > 0 && !slices.Contains(f.Only, id) {
		return false
	}
	return !slices.Contains(f.Exclude, id)
}

// organizationAPI is what the walk calls: the organization's roots, each parent's OUs and each parent's accounts.
type organizationAPI interface {
	organizations.ListRootsAPIClient
	organizations.ListOrganizationalUnitsForParentAPIClient
	organizations.ListAccountsForParentAPIClient
}

// walkOrganization walks the OU tree depth first from each root and hands over each account as its page arrives, with
// its OU path ("Root/Workloads/Prod"), so auditing starts before the walk ends. Its calls grow with the OUs (one
// listing of OUs and one of accounts per parent, 20 to a page), never with a call per account. Accounts not ACTIVE are
// reported as skipped; the retired Status field is never read. The first listing that fails ends the walk: what
// arrived is audited, and the error says the account list is incomplete.
func walkOrganization(ctx context.Context, api organizationAPI, filter Filter, sink walkSink) error {
	roots := organizations.NewListRootsPaginator(api, &organizations.ListRootsInput{})
	tokens := checks.NewPageTokens("ListRoots")
	for roots.HasMorePages() {
		page, err := roots.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list roots: %w", err)
		}
		for _, root := range page.Roots {
			if sink.root != nil {
				sink.root(aws.ToString(root.Arn))
			}
			if err := walkParent(ctx, api, aws.ToString(root.Id), cleanText(aws.ToString(root.Name)), filter, sink); err != nil {
				return err
			}
		}
		if err := tokens.Next(page.NextToken); err != nil {
			return fmt.Errorf("list roots: %w", err)
		}
	}
	return nil
}

// walkSink is told of what the walk finds: every account id the organization holds with its state (listed, whatever
// the filter), and, of those the filter allows, each active account and each skipped one.
type walkSink struct {
	// root is told each root's ARN, which names the organization.
	root    func(arn string)
	listed  func(id string, state orgtypes.AccountState)
	active  func(Account)
	skipped func(Skipped)
}

// walkParent lists the accounts of one root or OU at path, then walks its OUs. An OU's children are listed whole
// before the first is walked: a few names per OU, while its accounts stream.
func walkParent(ctx context.Context, api organizationAPI, parentID, path string, filter Filter, sink walkSink) error {
	accounts := organizations.NewListAccountsForParentPaginator(api, &organizations.ListAccountsForParentInput{ParentId: aws.String(parentID)})
	tokens := checks.NewPageTokens("ListAccountsForParent")
	for accounts.HasMorePages() {
		page, err := accounts.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list accounts of %s: %w", path, err)
		}
		for _, a := range page.Accounts {
			id := aws.ToString(a.Id)
			sink.listed(id, a.State)
			if !filter.allows(id) {
				continue
			}
			if a.State != orgtypes.AccountStateActive {
				state := string(a.State)
				if state == "" {
					state = "unknown"
				}
				sink.skipped(Skipped{AccountID: id, AccountName: aws.ToString(a.Name), OU: path, Reason: "account state is " + state})
				continue
			}
			sink.active(Account{ID: id, Name: aws.ToString(a.Name), Partition: partitionOf(aws.ToString(a.Arn)), OU: path})
		}
		// The page itself is sound; only the way on is not, so its accounts are audited before the walk fails.
		if err := tokens.Next(page.NextToken); err != nil {
			return fmt.Errorf("list accounts of %s: %w", path, err)
		}
	}
	type child struct{ id, name string }
	var children []child
	ous := organizations.NewListOrganizationalUnitsForParentPaginator(api, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parentID)})
	tokens = checks.NewPageTokens("ListOrganizationalUnitsForParent")
	for ous.HasMorePages() {
		page, err := ous.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list OUs of %s: %w", path, err)
		}
		for _, ou := range page.OrganizationalUnits {
			children = append(children, child{aws.ToString(ou.Id), aws.ToString(ou.Name)})
		}
		if err := tokens.Next(page.NextToken); err != nil {
			return fmt.Errorf("list OUs of %s: %w", path, err)
		}
	}
	for _, c := range children {
		if err := walkParent(ctx, api, c.id, path+"/"+cleanText(c.name), filter, sink); err != nil {
			return err
		}
	}
	return nil
}

func partitionOf(s string) string {
	if a, err := arn.Parse(s); err == nil && a.Partition != "" {
		return a.Partition
	}
	return "aws"
}

// AccountOUs are the OU paths ("Root/Workloads/Prod") of the accounts ids names, found by walking the organization as
// the audit does (its calls grow with the OUs, not the accounts); an account the organization does not hold is not
// in the map. The event-driven alerts route by it when an account has no owner tag.
func AccountOUs(ctx context.Context, cfg aws.Config, ids []string) (map[string]string, error) {
	out := map[string]string{}
	record := func(id, ou string) {
		if slices.Contains(ids, id) {
			out[id] = ou
		}
	}
	err := walkOrganization(ctx, organizations.NewFromConfig(cfg), Filter{Only: ids}, walkSink{
		listed:  func(string, orgtypes.AccountState) {},
		active:  func(a Account) { record(a.ID, a.OU) },
		skipped: func(s Skipped) { record(s.AccountID, s.OU) },
	})
	return out, err
}
