package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/report"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// emfLine is one line in CloudWatch's embedded metric format, as CloudWatch Logs reads it.
type emfLine struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
	Root map[string]any `json:"-"`
}

// partialMetrics reads the metric lines out of what the handler wrote, checking each is what the embedded metric
// format needs for CloudWatch to extract the metric: a directive naming the namespace, the dimension set and the metric,
// and each of them a member of the line itself.
func partialMetrics(t *testing.T, out string) []emfLine {
	t.Helper()
	var lines []emfLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e emfLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		if err := json.Unmarshal([]byte(l), &e.Root); err != nil {
			t.Fatal(err)
		}
		d := e.AWS.CloudWatchMetrics
		if e.AWS.Timestamp <= 0 || len(d) != 1 || d[0].Namespace != audit.MetricNamespace || len(d[0].Dimensions) != 1 ||
			!slices.Equal(d[0].Dimensions[0], []string{audit.MetricDimension}) || len(d[0].Metrics) != 1 ||
			d[0].Metrics[0].Name != audit.MetricPartialRuns || d[0].Metrics[0].Unit != "Count" {
			t.Fatalf("not an embedded-metric-format line for %s/%s: %s", audit.MetricNamespace, audit.MetricPartialRuns, l)
		}
		if _, ok := e.Root[audit.MetricDimension].(string); !ok {
			t.Fatalf("the dimension %s is no string member of the line: %s", audit.MetricDimension, l)
		}
		if _, ok := e.Root[audit.MetricPartialRuns].(float64); !ok {
			t.Fatalf("the metric %s is no number member of the line: %s", audit.MetricPartialRuns, l)
		}
		lines = append(lines, e)
	}
	return lines
}

// TestLambdaWritesThePartialRunMetric: under Lambda a partial run writes 1 on the metric the stack's alarm watches, and
// a complete run writes 0. The demo's account without the audit role makes a run partial (its cells fail); excluding
// it by choice narrows the run, which is complete for what it set out to audit.
func TestLambdaWritesThePartialRunMetric(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)))
	const function = "orgaudit-test"
	env := map[string]string{"AUDIT_EXTERNAL_ID": awssim.DemoExternalID, "AUDIT_REGIONS": awssim.DemoHomeRegion, "AUDIT_BUCKET": awssim.DemoBucket,
		"AUDIT_TOPIC_ARN": awssim.DemoTopicARN(), "AUDIT_S3_PATH_STYLE": "true", "AWS_LAMBDA_FUNCTION_NAME": function}
	var stdout bytes.Buffer
	handle := lambdaHandler(slog.New(slog.NewTextHandler(io.Discard, nil)), &stdout, func(k string) string { return env[k] }, func() (aws.Config, error) {
		return sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), nil
	})

	cases := []struct {
		name, event string
		partial     bool
		reasons     []string
		narrowed    string
	}{
		{"partial", `{"run_id":"partial-1","no_history":true}`, true, []string{report.PartialCellsFailed}, ""},
		{"complete", `{"run_id":"complete-1","no_history":true,"exclude_accounts":["` + awssim.DemoMissingRole + `"]}`, false, nil,
			"1 account excluded"},
	}
	for _, c := range cases {
		stdout.Reset()
		raw, err := handle(context.Background(), json.RawMessage(c.event))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		res := decodeResult(t, string(raw))
		lines := partialMetrics(t, stdout.String())
		if len(lines) != 1 || res.Partial != c.partial || res.Narrowed != c.narrowed {
			t.Fatalf("%s: result partial %v narrowed %q, %d metric lines:\n%s", c.name, res.Partial, res.Narrowed, len(lines), stdout.String())
		}
		want := 0.0
		if c.partial {
			want = 1
		}
		root := lines[0].Root
		var reasons []string
		for _, r := range root["partial_reasons"].([]any) {
			reasons = append(reasons, r.(string))
		}
		if root[audit.MetricPartialRuns] != want || root[audit.MetricDimension] != function || root["run_id"] != res.RunID ||
			!slices.Equal(reasons, c.reasons) {
			t.Errorf("%s: metric line %v, want %s %v for %s, reasons %v", c.name, root, audit.MetricPartialRuns, want, function, c.reasons)
		}
	}
}
