package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awsclient"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/report"
)

// allRegions are the 17 regions enabled by default in every account (those that need no opt-in), the first six in
// the order earlier figures used: https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
var allRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-1", "us-west-2", "ap-northeast-1",
	"us-east-2", "us-west-1", "ca-central-1", "eu-west-2", "eu-west-3", "eu-north-1", "ap-south-1", "ap-northeast-2",
	"ap-northeast-3", "ap-southeast-1", "sa-east-1"}

type simReady struct {
	URL, AccessKey, SecretKey string
	Regions                   []string
}

// serveSim serves a generated organization with a fixed latency per call until stdin closes.
func serveSim(args []string) int {
	fs := flag.NewFlagSet("bench sim", flag.ExitOnError)
	accounts := fs.Int("accounts", 100, "accounts")
	latency := fs.Duration("latency", 20*time.Millisecond, "latency per call")
	regions := fs.Int("regions", 4, "regions per account")
	_ = fs.Parse(args)
	if *regions < 1 || *regions > len(allRegions) {
		fmt.Fprintf(os.Stderr, "bench sim: -regions must be 1 to %d\n", len(allRegions))
		return 2
	}
	o := awssim.GenerateOptions{Accounts: *accounts, Regions: allRegions[:*regions], AsOf: time.Now(), Seed: 42}
	sim := awssim.New(awssim.Generate(o))
	if err := sim.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sim.Close()
	sim.SetIntercept((&awssim.FaultPlan{Latency: *latency}).Intercept)
	creds := sim.Credentials(awssim.GeneratedManagementAccount)
	b, _ := json.Marshal(simReady{URL: sim.URL(), AccessKey: creds.AccessKeyID, SecretKey: creds.SecretAccessKey, Regions: o.Regions})
	fmt.Println(string(b))
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// runJob runs the whole job once (audit, workbook, delivery) and reports wall time and memory as JSON.
func runJob(args []string) int {
	fs := flag.NewFlagSet("bench job", flag.ExitOnError)
	url := fs.String("url", "", "simulator endpoint")
	concurrency := fs.Int("concurrency", 0, "0: the default")
	regions := fs.String("regions", "", "the organization's regions, the first its home")
	listRegions := fs.Bool("list-regions", false, `audit regions "all"`)
	_ = fs.Parse(args)
	cfg, s := jobSettings(*url, *regions, *listRegions, *concurrency)
	// As the Lambda entry point does, from the function memory the bench was told to act as.
	awsclient.ApplyLambdaMemoryLimit(os.Getenv)
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	stop := samplePeakHeap()
	began := time.Now()
	// BENCH_LOG=1 prints the job's phases with the time since start, to see where wall time beyond the bound goes.
	var logOut io.Writer = io.Discard
	if os.Getenv("BENCH_LOG") != "" {
		logOut = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Duration("since_start", time.Since(began).Round(time.Millisecond))
		}
		return a
	}}))
	out, err := audit.Run(context.Background(), *cfg, s, audit.Options{Logger: logger})
	wall := time.Since(began)
	peakHeap := stop()
	if path := os.Getenv("BENCH_MEMPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench job:", err)
		return 1
	}
	r := out.Result
	cellsByCheck := map[string]int{}
	for c := range r.Cells.All() {
		cellsByCheck[c.Check]++
	}
	_ = json.NewEncoder(os.Stdout).Encode(jobResult{Accounts: r.Accounts.Total, Audited: r.Accounts.Audited, Concurrency: s.Concurrency,
		Cells: r.Coverage.Cells, CellsByCheck: cellsByCheck, Findings: len(r.Findings), Errors: r.Coverage.Errors, Wall: wall,
		PeakHeap: peakHeap, PeakRSS: peakRSS(), WorkbookBytes: len(out.Workbook), JobCPU: selfCPU(), Allocated: allocatedBytes()})
	return 0
}

// jobSettings are the job's configuration and settings against the bench's simulator, as a deployment's would be.
func jobSettings(url, regions string, listRegions bool, concurrency int) (*aws.Config, config.Settings) {
	cfg := aws.NewConfig()
	cfg.Region = "us-east-1"
	cfg.BaseEndpoint = aws.String(url)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(os.Getenv("BENCH_ACCESS_KEY"), os.Getenv("BENCH_SECRET_KEY"), "")
	s := config.Defaults()
	s.RoleName, s.ExternalID = awssim.DemoRoleName, awssim.DemoExternalID
	s.Regions = config.SplitList(regions)
	o := awssim.GenerateOptions{Regions: s.Regions}
	s.Bucket, s.TopicARN, s.S3PathStyle = awssim.GeneratedBucket, awssim.GeneratedTopicARN(o), true
	if listRegions {
		s.Regions = []string{crossaccount.AllRegions}
	}
	if concurrency > 0 {
		s.Concurrency = concurrency
	}
	return cfg, s
}

// samplePeakHeap samples the live heap every 2ms until stopped; it returns the highest value seen.
func samplePeakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	// BENCH_HEAPPROFILE: a heap profile each time the heap passes its last profiled peak by a tenth, so the file
	// left is the one nearest the peak (its in-use figures are the last collection's live objects).
	heapProfile, profiled := os.Getenv("BENCH_HEAPPROFILE"), uint64(0)
	go func() {
		defer close(finished)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
				if heapProfile != "" && v > profiled+profiled/10 {
					profiled = v
					writeHeapProfile(heapProfile)
				}
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}

// writeHeapProfile writes the heap profile to path, through a temporary file so a profile is never half written.
func writeHeapProfile(path string) {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return
	}
	err = pprof.Lookup("heap").WriteTo(f, 0)
	if f.Close() == nil && err == nil {
		_ = os.Rename(path+".tmp", path)
	}
}

// allocatedBytes is what the process has allocated on the heap so far: steadier than CPU on a shared machine.
func allocatedBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// selfCPU is this process's user and system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's high-water mark of resident memory (VmHWM).
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

type workbookResult struct {
	Mode    string
	Rows    int
	Elapsed time.Duration
	Bytes   int
	PeakRSS uint64
}

// writeWorkbook writes N findings either through report.Workbook (streamed) or cell by cell, in a fresh process.
func writeWorkbook(args []string) int {
	fs := flag.NewFlagSet("bench workbook", flag.ExitOnError)
	n := fs.Int("findings", 100000, "findings")
	mode := fs.String("mode", "stream", "stream or cells")
	_ = fs.Parse(args)
	awsclient.ApplyLambdaMemoryLimit(os.Getenv)
	res := syntheticResult(*n)
	began := time.Now()
	var size int
	var err error
	switch *mode {
	case "stream":
		var b []byte
		b, err = report.Workbook(res, checks.All())
		size = len(b)
	case "cells":
		size, err = cellByCell(res, checks.All())
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench workbook:", err)
		return 1
	}
	_ = json.NewEncoder(os.Stdout).Encode(workbookResult{Mode: *mode, Rows: *n, Elapsed: time.Since(began), Bytes: size, PeakRSS: peakRSS()})
	return 0
}

func syntheticResult(n int) *report.Result {
	cs := checks.All()
	res := &report.Result{Facts: report.Facts{RunID: "bench", AsOf: time.Now().UTC(), Scope: "organization"}}
	for i := 0; i < n; i++ {
		c := cs[i%len(cs)]
		days := i % 60
		end := res.AsOf.AddDate(0, 0, days)
		f := checks.Finding{Check: c.Name(), Severity: checks.Severities[i%3], AccountID: fmt.Sprintf("%012d", 300000000000+i/20),
			AccountName: fmt.Sprintf("acct-%05d", i/20), Region: allRegions[i%4], ResourceID: fmt.Sprintf("res-%07d", i),
			ResourceName: fmt.Sprintf("name-%d", i), Status: "CREATE_FAILED", Reason: "The following resource(s) failed to create: [Bucket]",
			ConsoleURL: "https://console.aws.amazon.com/cloudformation/home?region=us-east-1"}
		if c.Layout().Expiry {
			f.DaysLeft, f.ExpiresAt = &days, &end
		}
		for _, col := range c.Layout().Columns {
			switch col.Kind {
			case checks.KindDate:
				f.SetDetail(col.ID, checks.DetailTime(end))
			case checks.KindNumber:
				f.SetDetail(col.ID, fmt.Sprint(1+i%20))
			default:
				f.SetDetail(col.ID, "value of "+col.Name)
			}
		}
		res.Findings = append(res.Findings, f)
	}
	return res
}

// cellByCell is the obvious way to write the same sheets: SetCellValue and SetCellStyle per cell, which keeps every
// row in memory until the file is saved. It is here only to be measured against the streamed writer.
func cellByCell(res *report.Result, cs []checks.Check) (int, error) {
	f := excelize.NewFile()
	defer f.Close()
	style, err := f.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}})
	if err != nil {
		return 0, err
	}
	row := map[string]int{}
	for _, c := range cs {
		if _, err := f.NewSheet(c.Name()); err != nil {
			return 0, err
		}
		for j, col := range report.FindingColumns(c) {
			cell, _ := excelize.CoordinatesToCellName(j+1, 1)
			if err := f.SetCellValue(c.Name(), cell, col); err != nil {
				return 0, err
			}
		}
		row[c.Name()] = 1
	}
	byName := map[string]checks.Check{}
	for _, c := range cs {
		byName[c.Name()] = c
	}
	for _, fd := range res.Findings {
		c := byName[fd.Check]
		row[fd.Check]++
		r := row[fd.Check]
		for j, col := range report.FindingColumns(c) {
			cell, _ := excelize.CoordinatesToCellName(j+1, r)
			v := report.FindingValue(&fd, col)
			if err := f.SetCellValue(fd.Check, cell, v); err != nil {
				return 0, err
			}
		}
		first, _ := excelize.CoordinatesToCellName(1, r)
		last, _ := excelize.CoordinatesToCellName(len(report.FindingColumns(c)), r)
		if err := f.SetCellStyle(fd.Check, first, last, style); err != nil {
			return 0, err
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return 0, err
	}
	return buf.Len(), nil
}

// benchWorkbook writes the same findings both ways, each in a fresh process, and compares them.
func benchWorkbook(n int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var results []workbookResult
	for _, mode := range []string{"stream", "cells"} {
		cmd := exec.Command(self, "workbook", "-findings", fmt.Sprint(n), "-mode", mode)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		var r workbookResult
		if err := json.Unmarshal(out, &r); err != nil {
			return err
		}
		results = append(results, r)
	}
	fmt.Printf("\nworkbook with %d findings:\n", n)
	fmt.Println("| writer | time | peak RSS | size |")
	fmt.Println("|---|---:|---:|---:|")
	for _, r := range results {
		fmt.Printf("| %s | %s | %s | %s |\n", map[string]string{"stream": "StreamWriter (report.Workbook)", "cells": "cell by cell (SetCellValue)"}[r.Mode],
			r.Elapsed.Round(time.Millisecond), mib(r.PeakRSS), mib(uint64(r.Bytes)))
	}
	fmt.Printf("streamed ÷ cell by cell: %.2f of the time\n", results[0].Elapsed.Seconds()/results[1].Elapsed.Seconds())
	return nil
}

func sortedKeys(m map[string]int) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
