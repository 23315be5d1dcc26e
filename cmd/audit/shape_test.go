package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// Limits of the product's shape (issue 17): a function that needs more than six things to do its work, or a struct
// with more than 25 fields, is a room holding two concerns. Tests are free of them.
const (
	maxParams = 6
	maxFields = 25
)

// TestProductFunctionsAndStructsStaySmall parses every non-test file of internal/ and cmd/audit and names each
// function (or function type, or method) with more than maxParams parameters and each struct with more than
// maxFields fields (an embedded struct counts as one).
func TestProductFunctionsAndStructsStaySmall(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	files := 0
	for _, root := range []string{"../../internal", "."} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			files++
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncType:
					if c := countFields(n.Params); c > maxParams {
						t.Errorf("%s: %d parameters, more than %d: group what belongs together", fset.Position(n.Pos()), c, maxParams)
					}
				case *ast.StructType:
					if c := countFields(n.Fields); c > maxFields {
						t.Errorf("%s: a struct of %d fields, more than %d: group what belongs together", fset.Position(n.Pos()), c, maxFields)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 50 {
		t.Fatalf("parsed %d files: the walk missed the product", files)
	}
}

// countFields counts names, so `a, b string` is two; an unnamed parameter or an embedded field is one.
func countFields(l *ast.FieldList) int {
	if l == nil {
		return 0
	}
	n := 0
	for _, f := range l.List {
		n += max(len(f.Names), 1)
	}
	return n
}
