package delivery

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

// LinkActions are what the link-signing role needs: the signed GET is evaluated as that role's session.
// LinkKMSActions are added when the workbook is encrypted with a KMS key.
var (
	LinkActions    = []string{"s3:GetObject"}
	LinkKMSActions = []string{"kms:Decrypt"}
)

// Session lengths STS allows: a role's MaxSessionDuration is at most 12 hours, and a session assumed with another
// role session's credentials ("role chaining", which is what a Lambda function's own credentials are) at most
// 1 hour, whatever the role allows.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
const (
	MaxRoleSession     = 12 * time.Hour
	RoleChainingLimit  = time.Hour
	chainingRefusalKey = "role chaining"
)

// LinkSigner is a session of the link-signing role: credentials whose end STS states, so the link's stated expiry
// is the true one.
type LinkSigner struct {
	Credentials aws.Credentials
	// Note says in the digest why the link lives as long as it does.
	Note string
}

// AssumeLinkSigner assumes roleARN for the longest session STS grants: 12 hours from long-term credentials, 1 hour
// when the caller is itself a role session (role chaining; STS refuses a longer request with a ValidationError).
func AssumeLinkSigner(ctx context.Context, client stscreds.AssumeRoleAPIClient, roleARN, sessionName string) (*LinkSigner, error) {
	assume := func(d time.Duration) (aws.Credentials, error) {
		p := stscreds.NewAssumeRoleProvider(client, roleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName, o.Duration = sessionName, d
		})
		return p.Retrieve(ctx)
	}
	creds, err := assume(MaxRoleSession)
	note := "the link-signing role's session ends then (its 12-hour maximum)"
	if awserr.APICode(err) == "ValidationError" && strings.Contains(awserr.APIMessage(err), chainingRefusalKey) {
		creds, err = assume(RoleChainingLimit)
		note = "the link-signing role's session ends then: AWS allows 1 hour to a role assumed from another role's session, as a Lambda function's are"
	}
	if err != nil {
		return nil, fmt.Errorf("assume link-signing role %s: %w", roleARN, err)
	}
	return &LinkSigner{Credentials: creds, Note: note}, nil
}

// Retrieve makes a LinkSigner the credentials provider PutWorkbook signs with.
func (l *LinkSigner) Retrieve(context.Context) (aws.Credentials, error) { return l.Credentials, nil }
