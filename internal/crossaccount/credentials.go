package crossaccount

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Role says which role to assume in member accounts.
type Role struct {
	Name        string // OrgAuditReadOnly by default
	ExternalID  string
	SessionName string // shows in the member accounts' CloudTrail
}

// RoleARN builds the role's ARN in account, in the account's own partition.
func (r Role) RoleARN(account Account) string {
	return arn.ARN{Partition: account.Partition, Service: "iam", AccountID: account.ID, Resource: "role/" + r.Name}.String()
}

// accountConfig returns base with credentials for account: its own for the account the job runs in, else the assumed
// role behind a credentials cache. The first Retrieve happens here so a broken trust policy is one error per account,
// not one per region and check.
func accountConfig(ctx context.Context, base aws.Config, stsClient *sts.Client, role Role, account Account) (aws.Config, error) {
	cfg := base.Copy()
	if account.Self {
		return cfg, nil
	}
	roleARN := role.RoleARN(account)
	provider := stscreds.NewAssumeRoleProvider(stsClient, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = role.SessionName
		if role.ExternalID != "" {
			o.ExternalID = aws.String(role.ExternalID)
		}
	})
	cfg.Credentials = aws.NewCredentialsCache(provider)
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("assume %s: %w", roleARN, err)
	}
	return cfg, nil
}

// AccountConfig is base with credentials for account as the audit has them: its own for the account the job runs in
// (account.Self), else role assumed there. The event-driven alerts read a member account's Service Catalog products
// with it, as the check does.
func AccountConfig(ctx context.Context, base aws.Config, role Role, account Account) (aws.Config, error) {
	return accountConfig(ctx, base, sts.NewFromConfig(base), role, account)
}
