package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// versionCommand prints the module's version and the commit it was built from, as the Go toolchain recorded them:
// enough to tell which build a report came from.
func versionCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "audit version: unexpected argument %q\n", args[0])
		return exitUsage
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(stderr, "audit version: this binary carries no build information")
		return exitFail
	}
	fmt.Fprint(stdout, versionText(info))
	return exitOK
}

// versionText is the build's module, version, Go release and VCS stamp. A build outside a checkout (go install
// module@version, or -buildvcs=false) has no VCS settings: it says so rather than leaving the lines out.
func versionText(info *debug.BuildInfo) string {
	version := info.Main.Version
	if version == "" {
		version = "(unknown)"
	}
	vcs := map[string]string{}
	for _, s := range info.Settings {
		vcs[s.Key] = s.Value
	}
	text := fmt.Sprintf("orgaudit %s\nmodule:   %s\ngo:       %s\n", version, info.Main.Path, info.GoVersion)
	rev, ok := vcs["vcs.revision"]
	if !ok {
		return text + "commit:   not recorded (built outside a checkout or with -buildvcs=false)\n"
	}
	text += "commit:   " + rev + "\n"
	if t := vcs["vcs.time"]; t != "" {
		text += "time:     " + t + "\n"
	}
	switch vcs["vcs.modified"] {
	case "true":
		text += "modified: yes (uncommitted changes were built)\n"
	case "false":
		text += "modified: no\n"
	default:
		text += "modified: not recorded\n"
	}
	return text
}
