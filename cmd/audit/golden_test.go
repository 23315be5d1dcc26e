package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// -update rewrites the demo's golden files from this run's output; review the diff before committing it.
var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden from this run")

// What differs between two demo runs of the same -as-of: the simulator's port and the link's signature (so the
// whole presigned URL), the clock the link expires by, the file the CLI was told to write, the message ids SNS and SES
// hand out, and an email's size (the attached workbook is a zip whose entries carry the time it was written).
var goldenMasks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`http://127\.0\.0\.1:\d+/[^\s"]*`), "<url>"},
	{regexp.MustCompile(`"url_expires_at": "[^"]*"`), `"url_expires_at": "<time>"`},
	{regexp.MustCompile(`link valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC`), "link valid until <time>"},
	{regexp.MustCompile(`"message_id": "[^"]*"`), `"message_id": "<id>"`},
	{regexp.MustCompile(`"bytes": \d+`), `"bytes": <n>`},
}

// checkGolden holds the demo's output to testdata/name: a refactor may not change what people and scripts read
// unseen. got has the run's own file paths already replaced.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	for _, m := range goldenMasks {
		got = m.re.ReplaceAllString(got, m.with)
	}
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/audit -run Demo -update writes it)", err)
	}
	if got == string(want) {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		gl, wl := "", ""
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("%s differs from the demo's output first at line %d:\n got: %s\nwant: %s\n(-update rewrites it, when the change is meant)", path, i+1, gl, wl)
		}
	}
}
