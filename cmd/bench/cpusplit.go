package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The job's CPU profile, split by who spends it: `go run ./cmd/bench cpusplit -calls N BINARY PROFILE` reads the
// profile's stacks (`go tool pprof -traces`) and puts each sample in the first class that fits, in this order:
//
//   - garbage collection: the collector's own goroutines (background marking, sweeping, scavenging);
//   - allocation: anything under runtime.mallocgc, which includes the mark work the collector makes an allocating
//     goroutine do (assists), whoever allocated;
//   - HTTP: net/http's client and the network below it (the SDK's transport, connection reads and writes);
//   - otherwise the innermost frame outside the standard library: the SDK's signing (aws/signer/v4), the rest of
//     the SDK (middleware, endpoint and auth resolution, retries, (de)serialising: encoding/xml and encoding/json
//     called by the SDK count as the SDK's), orgaudit's own code (standard library it calls included), other
//     modules (excelize for the workbook), and the Go runtime's scheduler when no such frame is on the stack.
//
// orgaudit's share is split again into the audit (stacks through internal/crossaccount) and what follows it.
const (
	classGC       = "garbage collection (background)"
	classAlloc    = "allocation (mallocgc, GC assists included)"
	classHTTP     = "HTTP client and network (net/http, syscalls)"
	classSigning  = "SDK signing (SigV4)"
	classSDK      = "SDK middleware, endpoints, retries, (de)serialising"
	classOwnAudit = "orgaudit: the audit (crossaccount, checks)"
	classOwnAfter = "orgaudit: after the audit (report, history, delivery)"
	classOther    = "other modules (excelize, x/sync, ...)"
	classRuntime  = "Go runtime: scheduler, timers, stacks (and the bench's heap sampler)"
)

var cpuClasses = []string{classSDK, classSigning, classHTTP, classAlloc, classGC, classOwnAudit, classOwnAfter, classOther, classRuntime}

type cpuSplit struct {
	Total   time.Duration
	ByClass map[string]time.Duration
}

func cpuSplitCommand(args []string) int {
	fs := flag.NewFlagSet("bench cpusplit", flag.ContinueOnError)
	calls := fs.Int("calls", 0, "API calls the profiled run made (the bench prints them), for the per-call column")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: bench cpusplit -calls N BINARY PROFILE")
		return 2
	}
	cmd := exec.Command("go", "tool", "pprof", "-traces", fs.Arg(0), fs.Arg(1))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil || cmd.Start() != nil {
		fmt.Fprintln(os.Stderr, "bench cpusplit: go tool pprof:", err)
		return 1
	}
	split, err := splitTraces(out)
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench cpusplit:", err)
		return 1
	}
	fmt.Println("| where the job's CPU goes | CPU | share | per API call |")
	fmt.Println("|---|---:|---:|---:|")
	for _, c := range cpuClasses {
		d := split.ByClass[c]
		fmt.Printf("| %s | %s | %.1f%% | %.0f µs |\n", c, d.Round(10*time.Millisecond), 100*d.Seconds()/split.Total.Seconds(), perCall(d, *calls))
	}
	fmt.Printf("| total | %s | 100%% | %.0f µs |\n", split.Total.Round(10*time.Millisecond), perCall(split.Total, *calls))
	return 0
}

// splitTraces reads `go tool pprof -traces` output: samples separated by dashed lines, each a value then the stack
// from leaf to root, one frame a line.
func splitTraces(r io.Reader) (cpuSplit, error) {
	split := cpuSplit{ByClass: map[string]time.Duration{}}
	var value time.Duration
	var stack []string
	flush := func() {
		if len(stack) > 0 {
			split.ByClass[classify(stack)] += value
			split.Total += value
		}
		stack, value = nil, 0
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inSamples := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			flush()
			inSamples = true
			continue
		}
		if !inSamples || strings.TrimSpace(line) == "" {
			continue
		}
		if len(stack) == 0 && value == 0 {
			f := strings.Fields(line)
			if len(f) < 2 {
				return split, fmt.Errorf("sample line %q", line)
			}
			d, err := parseSampleValue(f[0])
			if err != nil {
				return split, err
			}
			value, stack = d, []string{f[1]}
			continue
		}
		stack = append(stack, strings.TrimSpace(line))
	}
	flush()
	if split.Total == 0 {
		return split, fmt.Errorf("no samples")
	}
	return split, sc.Err()
}

// parseSampleValue reads pprof's "10ms", "1.20s", "500us".
func parseSampleValue(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	n, err := strconv.ParseFloat(strings.TrimRight(s, "a-z"), 64)
	if err != nil {
		return 0, fmt.Errorf("sample value %q", s)
	}
	return time.Duration(n * float64(time.Millisecond)), nil
}

// classify puts one stack (leaf first) in its class; the order is the package comment's.
func classify(stack []string) string {
	has := func(prefix string) bool {
		return slices.ContainsFunc(stack, func(f string) bool { return strings.HasPrefix(f, prefix) })
	}
	switch {
	case has("runtime.gcBgMarkWorker") || has("runtime.bgsweep") || has("runtime.bgscavenge"):
		return classGC
	case has("runtime.mallocgc"):
		return classAlloc
	case has("net/http.") || has("net.") || has("internal/poll."):
		return classHTTP
	}
	for _, f := range stack {
		if isStdlib(f) {
			continue
		}
		switch {
		case strings.HasPrefix(f, "github.com/aws/aws-sdk-go-v2/aws/signer/v4."):
			return classSigning
		case strings.HasPrefix(f, "github.com/aws/"):
			return classSDK
		case strings.HasPrefix(f, "github.com/orgaudit/"):
			if has("github.com/orgaudit/orgaudit/internal/crossaccount.") {
				return classOwnAudit
			}
			return classOwnAfter
		default:
			return classOther
		}
	}
	return classRuntime
}

// isStdlib: the standard library's import paths have no dot in their first element ("net/http", "runtime"); a
// frame without a slash is a standard package's function ("runtime.mallocgc") or the bench's own (main).
func isStdlib(frame string) bool {
	first, _, slash := strings.Cut(frame, "/")
	return !slash || !strings.Contains(first, ".")
}
