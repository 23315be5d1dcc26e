// Package awserr classifies AWS errors: the code a report shows, the message a person can act on, and the classes
// the job decides by (throttled, access denied, no organization, a lost conditional write, a listing that repeats
// its page token). It is the one place these rules live; every room imports it and it imports nothing of ours.
package awserr

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/aws/smithy-go"
)

// APICode returns the AWS error code of err, or "" when err carries none.
func APICode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// Code classifies an error for the report: the AWS error code when there is one, else the Go error class.
func Code(err error) string {
	if code := APICode(err); code != "" {
		return code
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "DeadlineExceeded"
	case errors.Is(err, context.Canceled):
		return "Canceled"
	case errors.As(err, &netErr):
		return "NetworkError"
	}
	return "Error"
}

// Message is err in a line a person can act on: our context, then AWS's own message, without the SDK's transport
// details (request ids, attempt counts), which stay in the logs.
func Message(err error) string {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorMessage() == "" {
		return err.Error()
	}
	s := err.Error()
	for _, marker := range []string{": failed to refresh cached credentials", ": operation error"} {
		if i := strings.Index(s, marker); i >= 0 {
			return s[:i] + ": " + apiErr.ErrorMessage()
		}
	}
	return apiErr.ErrorMessage()
}

// accessDenied are the codes services answer when a policy does not allow a call: query protocols say AccessDenied,
// JSON protocols AccessDeniedException, EC2 UnauthorizedOperation.
var accessDenied = []string{"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}

// IsAccessDenied reports whether a policy refused the call.
func IsAccessDenied(err error) bool { return oneOf(APICode(err), accessDenied) }

// OrganizationUnreadable reports whether the caller cannot list the organization at all: a member account, or an
// account in no organization. Throttling or an outage is not this: those are failures, not a smaller scope.
func OrganizationUnreadable(err error) bool {
	return IsAccessDenied(err) || APICode(err) == "AWSOrganizationsNotInUseException"
}

// ExtraThrottleCodes are throttling answers the SDK's retryer does not know by default: SNS says Throttled.
var ExtraThrottleCodes = map[string]struct{}{"Throttled": {}}

// ConditionFailed reports whether an S3 conditional write lost: the object existed (If-None-Match), had changed
// (If-Match), or another conditional write to it was in flight.
func ConditionFailed(err error) bool {
	return oneOf(APICode(err), []string{"PreconditionFailed", "ConditionalRequestConflict"})
}

// APIMessage returns AWS's own message in err, or "" when err carries none.
func APIMessage(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return ""
}

// ErrRepeatedToken matches every *RepeatedTokenError with errors.Is.
var ErrRepeatedToken = errors.New("repeated page token")

// RepeatedTokenError is a listing AWS handed back a page token it had already sent. Following it would read the
// same pages forever; the SDK's StopOnDuplicateToken would stop silently on a listing that is not complete, and an
// auditor must not report a listing it could not finish as clean. It is a smithy.APIError with the code
// RepeatedPageToken, so whatever classifies AWS errors by code records it as the failure it is.
type RepeatedTokenError struct {
	Operation string
}

func (e *RepeatedTokenError) Error() string { return "RepeatedPageToken: " + e.ErrorMessage() }

func (e *RepeatedTokenError) ErrorCode() string { return "RepeatedPageToken" }

func (e *RepeatedTokenError) ErrorMessage() string {
	return e.Operation + " returned a page token it had already sent; the listing is incomplete"
}

func (e *RepeatedTokenError) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }

func (e *RepeatedTokenError) Is(target error) bool { return target == ErrRepeatedToken }

func oneOf(code string, set []string) bool {
	for _, c := range set {
		if code == c {
			return true
		}
	}
	return false
}
