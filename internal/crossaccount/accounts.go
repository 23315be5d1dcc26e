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

// listAccounts pages through the organization and hands over each account as its page arrives, so auditing starts
// before the last page. Accounts not ACTIVE are reported as skipped; the retired Status field is never read.
func listAccounts(ctx context.Context, api organizations.ListAccountsAPIClient, filter Filter, active func(Account), skipped func(Skipped)) error {
	pages := organizations.NewListAccountsPaginator(api, &organizations.ListAccountsInput{})
	tokens := checks.NewPageTokens("ListAccounts")
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list accounts: %w", err)
		}
		for _, a := range page.Accounts {
			id := aws.ToString(a.Id)
			if !filter.allows(id) {
				continue
			}
			if a.State != orgtypes.AccountStateActive {
				state := string(a.State)
				if state == "" {
					state = "unknown"
				}
				skipped(Skipped{AccountID: id, AccountName: aws.ToString(a.Name), Reason: "account state is " + state})
				continue
			}
			active(Account{ID: id, Name: aws.ToString(a.Name), Partition: partitionOf(aws.ToString(a.Arn))})
		}
		// The page itself is sound; only the way on is not, so its accounts are audited before the listing fails.
		if err := tokens.Next(page.NextToken); err != nil {
			return fmt.Errorf("list accounts: %w", err)
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
