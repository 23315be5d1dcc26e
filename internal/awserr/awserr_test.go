package awserr_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

func TestClasses(t *testing.T) {
	t.Parallel()
	wrapped := func(err error) error {
		return fmt.Errorf("list stacks: operation error CloudFormation: ListStacks, https response error StatusCode: 403, RequestID: x, api error: %w", err)
	}
	cases := map[string]struct {
		err                                   error
		code, message                         string
		denied, orgUnreadable, conditionFails bool
	}{
		"query access denied": {err: wrapped(apiErr("AccessDenied", "User: x is not authorized")), code: "AccessDenied",
			message: "list stacks: User: x is not authorized", denied: true, orgUnreadable: true},
		"json access denied":                          {err: apiErr("AccessDeniedException", "no"), code: "AccessDeniedException", message: "no", denied: true, orgUnreadable: true},
		"ec2 unauthorized":                            {err: apiErr("UnauthorizedOperation", "no"), code: "UnauthorizedOperation", message: "no", denied: true, orgUnreadable: true},
		"not in organization":                         {err: apiErr("AWSOrganizationsNotInUseException", "none"), code: "AWSOrganizationsNotInUseException", message: "none", orgUnreadable: true},
		"throttled is a failure, not a smaller scope": {err: apiErr("TooManyRequestsException", "slow"), code: "TooManyRequestsException", message: "slow"},
		"lost conditional write":                      {err: apiErr("PreconditionFailed", "exists"), code: "PreconditionFailed", message: "exists", conditionFails: true},
		"conditional write race":                      {err: apiErr("ConditionalRequestConflict", "busy"), code: "ConditionalRequestConflict", message: "busy", conditionFails: true},
		"deadline":                                    {err: fmt.Errorf("x: %w", context.DeadlineExceeded), code: "DeadlineExceeded", message: "x: context deadline exceeded"},
		"plain":                                       {err: errors.New("boom"), code: "Error", message: "boom"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := awserr.Code(c.err); got != c.code {
				t.Errorf("code %q, want %q", got, c.code)
			}
			if got := awserr.Message(c.err); got != c.message {
				t.Errorf("message %q, want %q", got, c.message)
			}
			if got := awserr.IsAccessDenied(c.err); got != c.denied {
				t.Errorf("access denied %v", got)
			}
			if got := awserr.OrganizationUnreadable(c.err); got != c.orgUnreadable {
				t.Errorf("organization unreadable %v", got)
			}
			if got := awserr.ConditionFailed(c.err); got != c.conditionFails {
				t.Errorf("condition failed %v", got)
			}
		})
	}
}
