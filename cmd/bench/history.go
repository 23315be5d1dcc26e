package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/orgaudit/orgaudit/internal/awsclient"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/history"
)

type historyResult struct {
	Rows        int
	Write, Read time.Duration
	Bytes       int
	PeakHeap    uint64
}

// writeReadHistory stores the workbook benchmark's N findings as a run's state and reads it back, in a fresh process:
// what each run of the job adds to read the previous run and store its own.
func writeReadHistory(args []string) int {
	fs := flag.NewFlagSet("bench history", flag.ExitOnError)
	n := fs.Int("findings", 100000, "findings")
	_ = fs.Parse(args)
	awsclient.ApplyLambdaMemoryLimit(os.Getenv)
	res := syntheticResult(*n)
	var accounts []string
	var cells []history.Cell
	for _, f := range res.Findings {
		if len(accounts) == 0 || accounts[len(accounts)-1] != f.AccountID {
			accounts = append(accounts, f.AccountID)
			for _, region := range allRegions[:4] {
				for _, c := range checks.Names() {
					cells = append(cells, history.Cell{AccountID: f.AccountID, Region: region, Check: c, Outcome: history.OutcomeFindings})
				}
			}
		}
	}
	run := history.Run{ID: res.RunID, Time: res.AsOf, AsOf: res.AsOf, Findings: res.Findings, Cells: cells, Accounts: accounts}
	state := history.NewState(run, history.Diff(nil, run))
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	stop := samplePeakHeap()
	began := time.Now()
	var buf bytes.Buffer
	if err := history.Encode(&buf, state); err != nil {
		fmt.Fprintln(os.Stderr, "bench history:", err)
		return 1
	}
	wrote := time.Now()
	back, err := history.Decode(bytes.NewReader(buf.Bytes()))
	read := time.Now()
	peak := stop()
	if err != nil || len(back.Findings) != len(state.Findings) {
		fmt.Fprintln(os.Stderr, "bench history: read back:", err)
		return 1
	}
	_ = json.NewEncoder(os.Stdout).Encode(historyResult{Rows: *n, Write: wrote.Sub(began), Read: read.Sub(wrote), Bytes: buf.Len(), PeakHeap: peak})
	return 0
}

// benchHistory measures the state of n findings against the streamed workbook of the same findings, alternating
// the two, repeat times each, so both see the same machine.
func benchHistory(n, repeat int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var books []time.Duration
	var states []historyResult
	for range repeat {
		out, err := exec.Command(self, "workbook", "-findings", fmt.Sprint(n), "-mode", "stream").Output()
		if err != nil {
			return fmt.Errorf("workbook: %w", err)
		}
		var wb workbookResult
		if err := json.Unmarshal(out, &wb); err != nil {
			return err
		}
		books = append(books, wb.Elapsed)
		cmd := exec.Command(self, "history", "-findings", fmt.Sprint(n))
		cmd.Stderr = os.Stderr
		if out, err = cmd.Output(); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		var h historyResult
		if err := json.Unmarshal(out, &h); err != nil {
			return err
		}
		states = append(states, h)
	}
	total := func(h historyResult) time.Duration { return h.Write + h.Read }
	slices.SortFunc(states, func(a, b historyResult) int { return int(total(a) - total(b)) })
	slices.Sort(books)
	minH, medH, minB, medB := states[0], states[len(states)/2], books[0], books[len(books)/2]
	fmt.Printf("\nrun history with %d findings (write + read of one state), %d runs each, alternating with the streamed workbook:\n", n, repeat)
	fmt.Println("| | min | median |")
	fmt.Println("|---|---:|---:|")
	fmt.Printf("| streamed workbook | %s | %s |\n", minB.Round(time.Millisecond), medB.Round(time.Millisecond))
	fmt.Printf("| history write + read | %s | %s |\n", total(minH).Round(time.Millisecond), total(medH).Round(time.Millisecond))
	fmt.Printf("| of which write | %s | %s |\n", minH.Write.Round(time.Millisecond), medH.Write.Round(time.Millisecond))
	fmt.Printf("| of which read | %s | %s |\n", minH.Read.Round(time.Millisecond), medH.Read.Round(time.Millisecond))
	fmt.Printf("history ÷ workbook: %.3f (min), %.3f (median); state %s compressed, peak heap %s (median run)\n",
		total(minH).Seconds()/minB.Seconds(), total(medH).Seconds()/medB.Seconds(), kib(medH.Bytes), mib(medH.PeakHeap))
	return nil
}

func kib(b int) string { return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10)) }
