// Command bench measures orgaudit on the simulated organization with a fixed latency per API call. Each scenario runs
// in fresh processes (the simulator in one, the job in another) so peak RSS is the job's own:
//
//	go run ./cmd/bench                                  # 100, 1,000 and 10,000 accounts; 100 at concurrency 1; workbook
//	go run ./cmd/bench -accounts 1000 -workbook 0       # one scenario
//	go run ./cmd/bench -accounts 100 -serial 0 -workbook 0   # run history against the streamed workbook, 5 runs each
//	go run ./cmd/bench -smoke                           # a seconds-long run of every part, for CI
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
)

func main() {
	if code, ok := child(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(orchestrate(os.Args[1:]))
}

// child runs one of the processes a scenario starts, when args name one.
func child(args []string) (int, bool) {
	if len(args) < 2 {
		return 0, false
	}
	switch args[1] {
	case "sim":
		return serveSim(args[2:]), true
	case "job":
		return runJob(args[2:]), true
	case "workbook":
		return writeWorkbook(args[2:]), true
	case "history":
		return writeReadHistory(args[2:]), true
	case "shards":
		return produceShards(args[2:]), true
	case "report":
		return runReportStep(args[2:]), true
	case "cpusplit":
		return cpuSplitCommand(args[2:]), true
	}
	return 0, false
}

type scenario struct {
	accounts, concurrency int
}

func orchestrate(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	accountsFlag := fs.String("accounts", "100,1000,10000", "organization sizes, comma-separated")
	latency := fs.Duration("latency", 20*time.Millisecond, "latency of every API call")
	regions := fs.Int("regions", 4, "regions per account (at most 17, the regions enabled by default)")
	listRegions := fs.Bool("list-regions", false, `audit with regions "all", as the template's default: each account's enabled regions listed (ec2:DescribeRegions)`)
	concurrency := fs.Int("concurrency", 0, "concurrency of the job (0: the job's default)")
	serial := fs.Int("serial", 100, "accounts of the concurrency-1 run (0: skip)")
	workbookRows := fs.Int("workbook", 100000, "findings in the workbook benchmark (0: skip)")
	historyRows := fs.Int("history", 100000, "findings in the run-history benchmark (0: skip)")
	repeat := fs.Int("repeat", 5, "runs of the history benchmark and of the streamed workbook it is compared with")
	smoke := fs.Bool("smoke", false, "tiny sizes: check every part runs, measure nothing")
	functionMemory := fs.Int("function-memory", 256, "act as a Lambda function of this many MB (Go's memory limit follows, as in Lambda); 0: no limit")
	model := fs.Bool("model", false, "the latency model only: profile a real run, then single and distributed mode on a virtual clock")
	var mo modelOptions
	fs.IntVar(&mo.ProfileAccounts, "model-profile-accounts", 200, "accounts of the real run the model's profile is measured from")
	fs.IntVar(&mo.Accounts, "model-accounts", 10000, "accounts in the model")
	fs.IntVar(&mo.Regions, "model-regions", 17, "regions in the model")
	fs.DurationVar(&mo.Latency, "model-latency", 100*time.Millisecond, "latency per call in the model")
	fs.DurationVar(&mo.CPUPerCall, "model-cpu", 0, "CPU per call in the model (0: measured by the profile run)")
	fs.IntVar(&mo.MemoryMB, "model-memory", 512, "each function's memory, MB (CPU follows: 1,769 MB is one vCPU)")
	fs.IntVar(&mo.Concurrency, "model-concurrency", config.DefaultConcurrency, "each function's concurrency limit")
	fs.IntVar(&mo.ShardSize, "model-shard-size", 50, "accounts a shard")
	fs.IntVar(&mo.MaxConcurrency, "model-max-concurrency", 100, "the Map's MaxConcurrency")
	fs.DurationVar(&mo.StepOverhead, "model-step-overhead", time.Second, "assumed overhead of each Lambda step (dispatch, invoke, cold start)")
	fs.DurationVar(&mo.PlanOwnerWait, "model-plan-owner-wait", 2*time.Minute, "the plan step's wait for unread owner tags after the walk (2m: a first run, none in history; 0: all recalled)")
	fs.DurationVar(&mo.ReportCPU, "model-report-cpu", measuredReportCPU, "the whole report step's CPU, measured by -report-accounts")
	fs.IntVar(&mo.ReportCells, "model-report-cells", measuredReportCells, "the cells of the run -model-report-cpu was measured on (the model scales by cells)")
	reportAccounts := fs.Int("report-accounts", 0, "the report step benchmark: accounts of the distributed run whose partial results it merges (0: skip)")
	reportShardSize := fs.Int("report-shard-size", 0, "accounts a shard in the report step benchmark's run (0: the default, 50)")
	reportRegions := fs.Int("report-regions", 17, "regions of the report step benchmark's run (regions \"all\")")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	mo.Sizes = []int{1000, 2000, 5000, 10000, 20000}
	if *functionMemory > 0 {
		// Children inherit the environment: each acts as a function of this size.
		os.Setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", strconv.Itoa(*functionMemory))
	} else {
		os.Unsetenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
	}
	if *smoke {
		*accountsFlag, *serial, *workbookRows, *latency = "20", 10, 2000, time.Millisecond
		*historyRows, *repeat = 2000, 1
		mo.ProfileAccounts, mo.Accounts, mo.Sizes = 20, 300, []int{100, 300}
		if *reportAccounts > 0 {
			*reportAccounts, *reportRegions, *reportShardSize = 20, 2, 8
		}
	}
	if *reportAccounts > 0 {
		if err := benchReportStep(*reportAccounts, *reportRegions, *reportShardSize, *latency, true, *repeat); err != nil {
			fmt.Fprintf(os.Stderr, "bench: report step: %v\n", err)
			return 1
		}
		return 0
	}
	if *model {
		if err := benchModel(mo); err != nil {
			fmt.Fprintf(os.Stderr, "bench: model: %v\n", err)
			return 1
		}
		return 0
	}
	var scenarios []scenario
	for _, a := range strings.Split(*accountsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: -accounts %q\n", *accountsFlag)
			return 2
		}
		scenarios = append(scenarios, scenario{accounts: n, concurrency: *concurrency})
	}
	if *serial > 0 {
		scenarios = append(scenarios, scenario{accounts: *serial, concurrency: 1})
	}
	fmt.Printf("latency %s per call, %d regions, the registry's %d checks (cells and calls per check below), %s, acting as a %d MB function\n\n",
		*latency, *regions, len(checks.All()), machine(), *functionMemory)
	fmt.Println("| accounts | concurrency | cells | API calls | wall | lower bound | wall ÷ bound | peak heap | peak RSS | findings |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var results []jobResult
	for _, sc := range scenarios {
		r, err := measure(sc, *latency, *regions, *listRegions)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %d accounts: %v\n", sc.accounts, err)
			return 1
		}
		results = append(results, r)
		fmt.Printf("| %d | %d | %d | %d | %s | %s | %.2f | %s | %s | %d |\n", r.Accounts, r.Concurrency, r.Cells, r.Stats.TotalCalls,
			r.Wall.Round(time.Millisecond), r.LowerBound.Round(time.Millisecond), r.Wall.Seconds()/r.LowerBound.Seconds(),
			mib(r.PeakHeap), mib(r.PeakRSS), r.Findings)
	}
	fmt.Println()
	for _, r := range results {
		fmt.Printf("calls at %d accounts (concurrency %d): %s\n", r.Accounts, r.Concurrency, formatCalls(r.Stats.Calls))
		if err := printPerCheck(r, checks.All()); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %d accounts: %v\n", r.Accounts, err)
			return 1
		}
		fmt.Printf("  lower bound = max(%d calls × %s ÷ %d, serial chain of %d calls: GetCallerIdentity, %d calls walking the OU tree, AssumeRole, the longest per-account stream of %d)\n",
			r.Stats.TotalCalls, *latency, r.Concurrency, r.Chain, walkCalls(r.Stats.Calls), r.Stats.LongestStream)
		// The run is CPU-bound on a small machine that also hosts the simulator: the CPU both took, and how busy the
		// machine was, tell a slow run on a shared machine from a slower job.
		fmt.Printf("  CPU: job %s (%.0f µs and %.1f KiB allocated per call), simulator %s (%.0f µs per call), of %s wall on %s; load average %s before the run\n",
			r.JobCPU.Round(time.Millisecond), perCall(r.JobCPU, r.Stats.TotalCalls), float64(r.Allocated)/1024/float64(max(r.Stats.TotalCalls, 1)), r.SimCPU.Round(time.Millisecond), perCall(r.SimCPU, r.Stats.TotalCalls),
			r.Wall.Round(time.Millisecond), machine(), r.LoadBefore)
	}
	speedup(results)
	if *workbookRows > 0 {
		if err := benchWorkbook(*workbookRows); err != nil {
			fmt.Fprintf(os.Stderr, "bench: workbook: %v\n", err)
			return 1
		}
	}
	if *historyRows > 0 && *repeat > 0 {
		if err := benchHistory(*historyRows, *repeat); err != nil {
			fmt.Fprintf(os.Stderr, "bench: history: %v\n", err)
			return 1
		}
	}
	return 0
}

// speedup compares each concurrent run with the sequential one, scaled by accounts.
func speedup(results []jobResult) {
	var serial *jobResult
	for i := range results {
		if results[i].Concurrency == 1 {
			serial = &results[i]
		}
	}
	if serial == nil {
		return
	}
	perAccount := serial.Wall.Seconds() / float64(serial.Accounts)
	fmt.Printf("\nconcurrency 1 at %d accounts: %s (%.1f ms per account)\n", serial.Accounts, serial.Wall.Round(time.Millisecond), perAccount*1000)
	for _, r := range results {
		if r.Concurrency != 1 {
			fmt.Printf("  %d accounts at concurrency %d: %.1f× faster than concurrency 1 scaled to %d accounts (%s)\n", r.Accounts, r.Concurrency,
				perAccount*float64(r.Accounts)/r.Wall.Seconds(), r.Accounts, (time.Duration(perAccount * float64(r.Accounts) * 1e9)).Round(time.Second))
		}
	}
}

// jobResult is what a job child reports.
type jobResult struct {
	Accounts, Audited, Concurrency, Cells, Findings, Errors int
	// CellsByCheck counts the run's cells per check: a regional check has one per account and region, a global one
	// (Savings Plans) one per account.
	CellsByCheck      map[string]int
	Wall              time.Duration
	PeakHeap, PeakRSS uint64
	WorkbookBytes     int
	// JobCPU is the job process's user and system time; Allocated its heap allocations, in bytes.
	JobCPU     time.Duration
	Allocated  uint64
	Stats      simStats      `json:"-"`
	SimCPU     time.Duration `json:"-"`
	LoadBefore string        `json:"-"`
	Chain      int           `json:"-"`
	LowerBound time.Duration `json:"-"`
}

type simStats struct {
	Calls         map[string]int `json:"calls"`
	TotalCalls    int            `json:"total_calls"`
	LongestStream int            `json:"longest_stream"`
}

// measure runs one scenario: the simulator in one child process, the job in another.
func measure(sc scenario, latency time.Duration, regions int, listRegions bool) (jobResult, error) {
	self, err := os.Executable()
	if err != nil {
		return jobResult{}, err
	}
	sim := exec.Command(self, "sim", "-accounts", fmt.Sprint(sc.accounts), "-latency", latency.String(), "-regions", fmt.Sprint(regions))
	sim.Stderr = os.Stderr
	stdin, _ := sim.StdinPipe()
	stdout, _ := sim.StdoutPipe()
	if err := sim.Start(); err != nil {
		return jobResult{}, err
	}
	defer func() { stdin.Close(); _ = sim.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return jobResult{}, fmt.Errorf("simulator did not start: %w", err)
	}
	var ready simReady
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		return jobResult{}, err
	}
	// The simulator's CPU counts from here: building the organization is not answering the job.
	loadBefore, simCPUBefore := loadAverage(), processCPU(sim.Process.Pid)
	job := exec.Command(self, "job", "-url", ready.URL, "-concurrency", fmt.Sprint(sc.concurrency), "-regions", strings.Join(ready.Regions, ","),
		"-list-regions="+strconv.FormatBool(listRegions))
	job.Env = append(os.Environ(), "BENCH_ACCESS_KEY="+ready.AccessKey, "BENCH_SECRET_KEY="+ready.SecretKey)
	job.Stderr = os.Stderr
	out, err := job.Output()
	if err != nil {
		return jobResult{}, fmt.Errorf("job: %w", err)
	}
	var r jobResult
	if err := json.Unmarshal(out, &r); err != nil {
		return jobResult{}, fmt.Errorf("job output %q: %w", out, err)
	}
	resp, err := http.Get(ready.URL + "/__awssim/stats")
	if err != nil {
		return jobResult{}, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&r.Stats); err != nil {
		return jobResult{}, err
	}
	r.SimCPU, r.LoadBefore = processCPU(sim.Process.Pid)-simCPUBefore, loadBefore
	// Deliveries (two S3 writes and a publish) follow the audit and are part of the chain too.
	r.Chain = 1 + walkCalls(r.Stats.Calls) + 1 + r.Stats.LongestStream + r.Stats.Calls["s3.PutObject"] + r.Stats.Calls["sns.Publish"]
	byWork := time.Duration(r.Stats.TotalCalls) * latency / time.Duration(r.Concurrency)
	r.LowerBound = max(byWork, time.Duration(r.Chain)*latency)
	return r, nil
}

// checkCalls attributes the simulator's calls ("service.Operation") to the checks whose IAM actions
// ("service:Operation") name them; the rest (listing, roles, history, delivery) are the job's own.
func checkCalls(calls map[string]int, cs []checks.Check) (byCheck map[string]int, own int) {
	byCheck = map[string]int{}
	owner := map[string]string{}
	for _, c := range cs {
		for _, a := range c.Actions() {
			owner[strings.Replace(a, ":", ".", 1)] = c.Name()
		}
	}
	for op, n := range calls {
		if name, ok := owner[op]; ok {
			byCheck[name] += n
		} else {
			own += n
		}
	}
	return byCheck, own
}

// printPerCheck shows where a run's cells and calls went, check by check, from the registry and the simulator's
// counts. A check with no cells or no calls did not run as the bench means it to: an error, not a quiet table.
func printPerCheck(r jobResult, cs []checks.Check) error {
	byCheck, own := checkCalls(r.Stats.Calls, cs)
	fmt.Printf("  per check (%d audited accounts): ", r.Audited)
	var parts, missing []string
	for _, c := range cs {
		cells, calls := r.CellsByCheck[c.Name()], byCheck[c.Name()]
		if cells == 0 || calls == 0 {
			missing = append(missing, fmt.Sprintf("%s (%d cells, %d calls)", c.Name(), cells, calls))
		}
		parts = append(parts, fmt.Sprintf("%s %d cells / %d calls", c.Name(), cells, calls))
	}
	fmt.Printf("%s; the job's own calls (organization, roles, history, delivery) %d\n", strings.Join(parts, ", "), own)
	if len(missing) > 0 {
		return fmt.Errorf("checks that made no cells or no calls: %s", strings.Join(missing, ", "))
	}
	return nil
}

func perCall(d time.Duration, calls int) float64 {
	if calls == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(calls)
}

// processCPU is a live process's user and system time so far, from /proc/<pid>/stat (utime and stime, fields 14 and
// 15, in clock ticks of 1/100 s on Linux); zero where it cannot be read.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// loadAverage is the machine's 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func formatCalls(calls map[string]int) string {
	var parts []string
	for _, op := range sortedKeys(calls) {
		parts = append(parts, fmt.Sprintf("%s=%d", op, calls[op]))
	}
	return strings.Join(parts, " ")
}

func machine() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	cpus := strings.Count(string(b), "processor\t:")
	return fmt.Sprintf("%d CPUs", cpus)
}

// walkCalls are the calls walking the OU tree: one serial chain, which feeds the audit its accounts. The owner tag
// reads beside it are not on the chain: they stop when the audit ends.
func walkCalls(calls map[string]int) int {
	return calls["organizations.ListRoots"] + calls["organizations.ListOrganizationalUnitsForParent"] + calls["organizations.ListAccountsForParent"]
}
