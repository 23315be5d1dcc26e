package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// The metric every run under Lambda writes, 1 when it was partial (report.Result.Partial) and 0 when it audited all
// it set out to, in the namespace and with the dimension the stack's PartialRunsAlarm watches
// (deploy/cloudformation/management.yaml; its test reads these constants).
//
// Why a metric and not a failed invocation: a partial run has delivered what it could read, and a failed asynchronous
// invocation makes Lambda run the whole audit twice more (MaximumRetryAttempts), mailing nothing new and burning the
// same throttling budget against the same denied role or disabled region, before the event lands in the failed-runs
// queue. The metric is written in CloudWatch's embedded metric format on standard output, which Lambda sends to the
// function's log group and CloudWatch Logs turns into a metric: no API call and no IAM permission beyond the log
// writes the function already has, so least privilege holds.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
const (
	MetricNamespace   = "orgaudit"
	MetricPartialRuns = "PartialRuns"
	// MetricDimension is the function's name (AWS_LAMBDA_FUNCTION_NAME), so two stacks in one account alarm apart.
	MetricDimension = "FunctionName"
)

// PartialRun is what one run's metric line says.
type PartialRun struct {
	FunctionName string
	RunID        string
	Partial      bool
	// Reasons are the report's reason codes (report.PartialReason.Reason), for whoever reads the log line.
	Reasons []string
	At      time.Time
}

// WritePartialMetric writes p as one line in the embedded metric format.
func WritePartialMetric(w io.Writer, p PartialRun) error {
	value := 0
	if p.Partial {
		value = 1
	}
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	type directive struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []metric   `json:"Metrics"`
	}
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": p.At.UnixMilli(),
			"CloudWatchMetrics": []directive{{Namespace: MetricNamespace, Dimensions: [][]string{{MetricDimension}},
				Metrics: []metric{{Name: MetricPartialRuns, Unit: "Count"}}}},
		},
		MetricDimension:   p.FunctionName,
		MetricPartialRuns: value,
		"run_id":          p.RunID,
		"partial_reasons": append([]string{}, p.Reasons...),
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode the partial-run metric: %w", err)
	}
	// One write of one line: the log line CloudWatch Logs reads the metric from.
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write the partial-run metric: %w", err)
	}
	return nil
}
