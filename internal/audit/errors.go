package audit

import (
	"errors"
	"fmt"
)

// A failed run ends in one of four error types, beside InvalidEventError. Under Lambda the invocation's errorType is
// the returned error's Go type name (aws-lambda-go, lambda/errors.go), so these are returned as they are, never
// wrapped, and an alarm, an on-failure destination or a log query tells "fix the deployment" from "fix the event",
// "nothing could be read" and "the report did not go out". Each unwraps to its cause, so errors.Is and errors.As
// still reach AWS's error and crossaccount's.

// InvalidSettingsError is a deployment whose settings cannot run: a malformed environment variable, an AWS
// configuration that does not load, settings that do not validate.
type InvalidSettingsError struct{ Err error }

func (e *InvalidSettingsError) Error() string { return e.Err.Error() }
func (e *InvalidSettingsError) Unwrap() error { return e.Err }

// ErrNothingAudited matches every NothingAuditedError with errors.Is.
var ErrNothingAudited = errors.New("nothing could be audited")

// NothingAuditedError is a run in which not one cell could be read: every cell failed (Cells of them; the report
// says why and was delivered when it could be), or the run stopped before any cell (Err: the caller's identity
// unknown, or the organization unreadable with nothing to fall back to, a *crossaccount.OrganizationUnreadableError).
type NothingAuditedError struct {
	Cells int
	Err   error
}

func (e *NothingAuditedError) Error() string {
	if e.Err != nil {
		return ErrNothingAudited.Error() + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s: all %d cells failed", ErrNothingAudited, e.Cells)
}
func (e *NothingAuditedError) Unwrap() error        { return e.Err }
func (e *NothingAuditedError) Is(target error) bool { return target == ErrNothingAudited }

// DeliveryFailedError is a run whose workbook or digest did not go out. The audit itself may have succeeded: the
// result says what it found.
type DeliveryFailedError struct{ Err error }

func (e *DeliveryFailedError) Error() string { return "delivery: " + e.Err.Error() }
func (e *DeliveryFailedError) Unwrap() error { return e.Err }
