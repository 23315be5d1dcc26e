package checks

import "github.com/orgaudit/orgaudit/internal/awserr"

// PageTokens remembers the tokens one listing has been given, so a token handed back again stops the listing with an
// *awserr.RepeatedTokenError instead of looping. Not safe for concurrent use: one listing pages serially.
type PageTokens struct {
	operation string
	seen      map[string]bool
}

// NewPageTokens starts the record for one listing of operation.
func NewPageTokens(operation string) *PageTokens {
	return &PageTokens{operation: operation, seen: map[string]bool{}}
}

// Next records the token a page handed back; one already seen is an *awserr.RepeatedTokenError. Call it after every
// page, before asking for the next.
func (p *PageTokens) Next(token *string) error {
	if token == nil || *token == "" {
		return nil
	}
	if p.seen[*token] {
		return &awserr.RepeatedTokenError{Operation: p.operation}
	}
	p.seen[*token] = true
	return nil
}
