package main

import (
	"bytes"
	"context"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionPrintsTheBuildInfo: `audit version` names the module and the Go release from the binary's build info,
// and the commit line either carries the VCS stamp or says it was not recorded.
func TestVersionPrintsTheBuildInfo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := runCLI(context.Background(), []string{"version"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary has no build info")
	}
	out := stdout.String()
	want := regexp.MustCompile(`^orgaudit \S+\nmodule:   ` + regexp.QuoteMeta(info.Main.Path) + `\ngo:       go\S+\ncommit:   \S`)
	if info.Main.Path == "" || !want.MatchString(out) || !strings.Contains(out, info.GoVersion) {
		t.Errorf("version printed\n%s\nwant module %q and %s", out, info.Main.Path, info.GoVersion)
	}
	if code := runCLI(context.Background(), []string{"version", "extra"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("version with an argument: exit %d, want %d", code, exitUsage)
	}
}

// TestVersionTextCarriesTheVCSStamp: with the settings `go build` records in a checkout, every one is printed, and a
// build of uncommitted changes says so.
func TestVersionTextCarriesTheVCSStamp(t *testing.T) {
	t.Parallel()
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/orgaudit/orgaudit", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "048a9c3f00"},
			{Key: "vcs.time", Value: "2026-12-06T08:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "orgaudit v1.4.0\nmodule:   github.com/orgaudit/orgaudit\ngo:       go1.26.8\ncommit:   048a9c3f00\n" +
		"time:     2026-12-06T08:00:00Z\nmodified: yes (uncommitted changes were built)\n"
	if got := versionText(info); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	info.Settings, info.Main.Version = nil, ""
	if got := versionText(info); !strings.Contains(got, "orgaudit (unknown)\n") || !strings.Contains(got, "commit:   not recorded") {
		t.Errorf("without a VCS stamp:\n%s", got)
	}
}
