package checks

import (
	"errors"

	"github.com/aws/smithy-go"
)

// ErrRepeatedToken is what every paginated listing returns, wrapped, when AWS hands back a page token it has already
// sent. Following it would read the same pages forever; the SDK's StopOnDuplicateToken would stop silently on a
// listing that is not complete, and an auditor must not report a listing it could not finish as clean.
var ErrRepeatedToken = errors.New("repeated page token")

// RepeatedTokenError names the operation whose listing could not be completed. It is an smithy.APIError with the code
// RepeatedPageToken so every layer that classifies AWS errors by code records it as the cell's error without knowing
// this type; it matches ErrRepeatedToken with errors.Is.
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

// PageTokens remembers the tokens one listing has been given. Not safe for concurrent use: one listing pages serially.
type PageTokens struct {
	operation string
	seen      map[string]bool
}

// NewPageTokens starts the record for one listing of operation.
func NewPageTokens(operation string) *PageTokens {
	return &PageTokens{operation: operation, seen: map[string]bool{}}
}

// Next records the token a page handed back; one already seen is a *RepeatedTokenError. Call it after every page,
// before asking for the next.
func (p *PageTokens) Next(token *string) error {
	if token == nil || *token == "" {
		return nil
	}
	if p.seen[*token] {
		return &RepeatedTokenError{Operation: p.operation}
	}
	p.seen[*token] = true
	return nil
}
