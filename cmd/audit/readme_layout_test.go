package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeLayoutNamesEveryPackage: the README's Layout table names every package of the module, so a new room
// cannot appear without saying what it holds, and names none that is gone.
func TestReadmeLayoutNamesEveryPackage(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "\n## Layout\n")
	if start < 0 {
		t.Fatal("README has no Layout section")
	}
	section := readme[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	named := map[string]bool{}
	for _, row := range regexp.MustCompile(`(?m)^\| (.*?) \|`).FindAllStringSubmatch(section, -1) {
		for _, m := range regexp.MustCompile("`([a-z0-9/_.-]+)`").FindAllStringSubmatch(row[1], -1) {
			named[m[1]] = true
		}
	}
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "github.com/orgaudit/orgaudit/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root = strings.TrimSuffix(root, "/cmd/audit")
	listed := map[string]bool{}
	for _, dir := range strings.Fields(string(out)) {
		pkg := strings.TrimPrefix(strings.TrimPrefix(dir, root), "/")
		listed[pkg] = true
		if !named[pkg] {
			t.Errorf("README's Layout table does not name %s", pkg)
		}
	}
	if len(listed) < 10 {
		t.Fatalf("go list named %d packages: %v", len(listed), listed)
	}
	for pkg := range named {
		if !listed[pkg] {
			t.Errorf("README's Layout table names %s, which is no package", pkg)
		}
	}
}
