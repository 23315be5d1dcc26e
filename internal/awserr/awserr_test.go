package awserr_test

import (
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
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
		"joined":                                      {err: errors.Join(errors.New("x"), apiErr("Throttling", "Rate exceeded")), code: "Throttling", message: "Rate exceeded"},
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

// TestTheOnePlaceErrorsAreClassified: only this package reads AWS's error codes (smithy's APIError), and it imports
// nothing of ours, so every room classifies an error the same way and may import it without a cycle.
func TestTheOnePlaceErrorsAreClassified(t *testing.T) {
	t.Parallel()
	const smithyPkg, module = "github.com/aws/smithy-go", "github.com/orgaudit/orgaudit/"
	root, here := filepath.Join("..", ".."), filepath.Join("..", "..", "internal", "awserr")
	var readers []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		inHere := filepath.Dir(path) == here
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == smithyPkg && !inHere:
				readers = append(readers, path)
			case inHere && strings.HasPrefix(p, module):
				t.Errorf("%s imports %s: awserr is a leaf", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(readers) > 0 {
		t.Errorf("AWS error codes are read outside internal/awserr, in %v: classify with awserr instead", readers)
	}
}
