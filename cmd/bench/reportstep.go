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
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/orgaudit/orgaudit/internal/awsclient"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
	"github.com/orgaudit/orgaudit/internal/distributed"
)

// The report step's cost, for real: a child process plans a distributed run of the generated organization and
// audits every shard with the real code against the simulator at a low latency, leaving the partial results in the
// simulator's S3; then fresh processes, one at a time, run the report step's merge alone and the whole report step
// on them, each measuring its wall time and peak RSS as a Lambda function of the bench's memory size would.

// producedRun is what the producing child hands on: the report step's event.
type producedRun struct {
	Event         distributed.ReportEvent
	Shards, Cells int
	PartialBytes  int64
	Wall          time.Duration
}

// produceShards runs the plan step and every shard step, two shards at a time (the machine's two CPUs).
func produceShards(args []string) int {
	fs := flag.NewFlagSet("bench shards", flag.ExitOnError)
	url := fs.String("url", "", "simulator endpoint")
	regions := fs.String("regions", "", "the organization's regions")
	listRegions := fs.Bool("list-regions", false, `audit regions "all"`)
	shardSize := fs.Int("shard-size", 0, "accounts a shard (0: the default)")
	_ = fs.Parse(args)
	cfg, s := jobSettings(*url, *regions, *listRegions, 0)
	if *shardSize > 0 {
		s.ShardSize = *shardSize
	}
	ctx, began := context.Background(), time.Now()
	opts := distributed.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	plan, err := distributed.Plan(ctx, *cfg, s, distributed.PlanEvent{Step: distributed.StepPlan}, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench shards: plan:", err)
		return 1
	}
	shards, err := readManifest(ctx, *cfg, plan.Manifest)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench shards:", err)
		return 1
	}
	out := producedRun{Event: distributed.ReportEvent{Step: distributed.StepReport, Run: plan.Run, Manifest: plan.Manifest}, Shards: len(shards)}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(2)
	for _, sh := range shards {
		g.Go(func() error {
			o, err := distributed.AuditShard(ctx, *cfg, s, distributed.ShardEvent{Step: distributed.StepShard, Run: plan.Run, Shard: sh}, opts)
			if err != nil {
				return fmt.Errorf("shard %d: %w", sh.Index, err)
			}
			mu.Lock()
			out.Cells += o.Cells
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "bench shards:", err)
		return 1
	}
	out.Wall = time.Since(began)
	_ = json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

func readManifest(ctx context.Context, cfg aws.Config, m distributed.Object) ([]distributed.Shard, error) {
	var shards []distributed.Shard
	body, err := getObject(ctx, cfg, m.Bucket, m.Key)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if err := json.NewDecoder(body).Decode(&shards); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return shards, nil
}

func getObject(ctx context.Context, cfg aws.Config, bucket, key string) (io.ReadCloser, error) {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	return out.Body, nil
}

type reportStepResult struct {
	Mode string
	// Wall is on this machine; CPU (user and system) is what sets the step's time on a function's fraction of a vCPU.
	Wall, CPU         time.Duration
	PeakHeap, PeakRSS uint64
	Cells, Findings   int
	PartialBytes      int64
	Err               string
}

// runReportStep runs, in a fresh process, either the merge alone (every partial result streamed from S3 into
// distributed.Merger, as the report step does) or the whole report step (distributed.Report: merge, history,
// workbook, digest, delivery).
func runReportStep(args []string) int {
	fs := flag.NewFlagSet("bench report", flag.ExitOnError)
	url := fs.String("url", "", "simulator endpoint")
	regions := fs.String("regions", "", "the organization's regions")
	listRegions := fs.Bool("list-regions", false, `audit regions "all"`)
	mode := fs.String("mode", "merge", "merge or step")
	_ = fs.Parse(args)
	var ev distributed.ReportEvent
	if err := json.NewDecoder(os.Stdin).Decode(&ev); err != nil {
		fmt.Fprintln(os.Stderr, "bench report: event:", err)
		return 1
	}
	cfg, s := jobSettings(*url, *regions, *listRegions, 0)
	awsclient.ApplyLambdaMemoryLimit(os.Getenv)
	ctx := context.Background()
	stop := samplePeakHeap()
	began := time.Now()
	r := reportStepResult{Mode: *mode}
	switch *mode {
	case "merge":
		res, n, err := mergeOnly(ctx, *cfg, ev)
		if err != nil {
			r.Err = err.Error()
		} else {
			r.Cells, r.Findings, r.PartialBytes = res.Cells.Len(), len(res.Findings), n
		}
		// BENCH_MEMPROFILE: what the merged result holds, while it is still live.
		if path := os.Getenv("BENCH_MEMPROFILE"); path != "" {
			if f, err := os.Create(path); err == nil {
				runtime.GC()
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		runtime.KeepAlive(res)
	case "step":
		sum, _, err := distributed.Report(ctx, *cfg, s, ev, distributed.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			r.Err = err.Error()
		}
		if sum != nil {
			r.Cells, r.Findings = sum.Coverage.Cells, sum.Findings
		}
	}
	r.Wall, r.CPU = time.Since(began), selfCPU()
	r.PeakHeap, r.PeakRSS = stop(), peakRSS()
	_ = json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

// mergeOnly is the report step's merge: the plan object's rest, then each shard's partial result streamed into the
// merger in manifest order. It returns the merge and the partial results' compressed size.
func mergeOnly(ctx context.Context, cfg aws.Config, ev distributed.ReportEvent) (*crossaccount.Result, int64, error) {
	prefix := config.Defaults().Prefix
	var plan struct {
		Rest crossaccount.Result `json:"rest"`
	}
	body, err := getObject(ctx, cfg, ev.Manifest.Bucket, distributed.PlanKey(prefix, ev.Run))
	if err != nil {
		return nil, 0, err
	}
	err = json.NewDecoder(body).Decode(&plan)
	body.Close()
	if err != nil {
		return nil, 0, fmt.Errorf("plan object: %w", err)
	}
	var cs []checks.Check
	for _, name := range ev.Run.Checks {
		c, ok := checks.ByName(name)
		if !ok {
			return nil, 0, fmt.Errorf("check %q", name)
		}
		cs = append(cs, c)
	}
	shards, err := readManifest(ctx, cfg, ev.Manifest)
	if err != nil {
		return nil, 0, err
	}
	m := distributed.NewMerger(ev.Run.RunID, ev.Run.Regions, cs, plan.Rest)
	m.ExpectShards(len(shards))
	var size int64
	for _, sh := range shards {
		body, err := getObject(ctx, cfg, ev.Manifest.Bucket, distributed.PartialKey(prefix, ev.Run, sh.Index))
		if err != nil {
			return nil, 0, err
		}
		counted := &countingReader{r: body}
		err = m.Add(sh, counted)
		body.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("shard %d: %w", sh.Index, err)
		}
		size += counted.n
	}
	return m.Result(), size, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// benchReportStep produces a distributed run's partial results for accounts × regions against the simulator at
// latency, then measures the merge and the whole report step, each in a fresh process, repeat times each.
func benchReportStep(accounts, regions, shardSize int, latency time.Duration, listRegions bool, repeat int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	sim := exec.Command(self, "sim", "-accounts", fmt.Sprint(accounts), "-latency", latency.String(), "-regions", fmt.Sprint(regions))
	sim.Stderr = os.Stderr
	stdin, _ := sim.StdinPipe()
	stdout, _ := sim.StdoutPipe()
	if err := sim.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); _ = sim.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("simulator did not start: %w", err)
	}
	var ready simReady
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		return err
	}
	common := []string{"-url", ready.URL, "-regions", strings.Join(ready.Regions, ","), "-list-regions=" + fmt.Sprint(listRegions)}
	env := append(os.Environ(), "BENCH_ACCESS_KEY="+ready.AccessKey, "BENCH_SECRET_KEY="+ready.SecretKey)
	produce := exec.Command(self, append([]string{"shards", "-shard-size", fmt.Sprint(shardSize)}, common...)...)
	produce.Env, produce.Stderr = env, os.Stderr
	// The producer is not the function under measurement: no memory limit for it.
	produce.Env = append(produce.Env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=")
	out, err := produce.Output()
	if err != nil {
		return fmt.Errorf("shards: %w", err)
	}
	var run producedRun
	if err := json.Unmarshal(out, &run); err != nil {
		return err
	}
	event, _ := json.Marshal(run.Event)
	fmt.Printf("\nreport step: %d accounts × %d regions, %d shards, %d cells, produced by the plan and shard steps against the simulator at %s in %s\n",
		accounts, regions, run.Shards, run.Cells, latency, run.Wall.Round(time.Second))
	fmt.Println("| part | run | wall | CPU | peak heap | peak RSS | cells | findings | partial results | error |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	// The whole step last: it delivers, and a second delivery of the same run is (rightly) not a publish again.
	// A run that failed is printed with its error, and the benchmark fails after the table: a failure is a finding.
	var failed []string
	// BENCH_REPORT_BINARIES (paths, comma-separated) runs each part with each of those builds of the bench in turn,
	// against the same partial results: producing them takes minutes, comparing two builds needs them once. Each
	// path is read when its part runs, so a build can be made while the results are produced.
	binaries := []string{self}
	if v := os.Getenv("BENCH_REPORT_BINARIES"); v != "" {
		binaries = strings.Split(v, ",")
	}
	for _, mode := range []string{"merge", "step"} {
		for i := range repeat * len(binaries) {
			bin := binaries[i%len(binaries)]
			if len(binaries) > 1 {
				fmt.Printf("| %s: %s |\n", mode, bin)
				if err := awaitFile(bin, 40*time.Minute); err != nil {
					return err
				}
			}
			cmd := exec.Command(bin, append([]string{"report", "-mode", mode}, common...)...)
			cmd.Env, cmd.Stderr, cmd.Stdin = env, os.Stderr, strings.NewReader(string(event))
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("report %s: %w", mode, err)
			}
			var r reportStepResult
			if err := json.Unmarshal(out, &r); err != nil {
				return err
			}
			fmt.Printf("| %s | %d | %s | %s | %s | %s | %d | %d | %s | %s |\n", map[string]string{"merge": "merge alone", "step": "whole report step"}[mode], i+1,
				r.Wall.Round(time.Millisecond), r.CPU.Round(time.Millisecond), mib(r.PeakHeap), mib(r.PeakRSS), r.Cells, r.Findings, mib(uint64(r.PartialBytes)), r.Err)
			if r.Err != "" {
				failed = append(failed, fmt.Sprintf("%s run %d: %s", mode, i+1, r.Err))
			} else if mode == "merge" && r.Cells < run.Cells {
				failed = append(failed, fmt.Sprintf("merge run %d: %d cells, the shards wrote %d", i+1, r.Cells, run.Cells))
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, "; "))
	}
	return nil
}

// awaitFile waits until path exists, for at most d: a build of the bench still being made.
func awaitFile(path string, d time.Duration) error {
	for deadline := time.Now().Add(d); ; time.Sleep(5 * time.Second) {
		if _, err := os.Stat(path); err == nil || time.Now().After(deadline) {
			return err
		}
	}
}
