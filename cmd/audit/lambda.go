package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awsclient"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/distributed"
	"github.com/orgaudit/orgaudit/internal/report"
)

// newLambdaHandler reads the deployment settings and the SDK configuration once per cold start. A bad setting
// fails every invocation with the same clear error rather than crashing the runtime.
// maxResponseBytes stays under Lambda's 6 MB limit on a synchronous invocation's response.
const maxResponseBytes = 5_500_000

func newLambdaHandler(getenv func(string) string, loadConfig func() (aws.Config, error)) func(context.Context, json.RawMessage) (json.RawMessage, error) {
	logger := lambdacontext.NewLogger()
	slog.SetDefault(logger)
	return lambdaHandler(logger, os.Stdout, getenv, loadConfig)
}

// lambdaHandler is the handler logging to logger and writing each run's partial-run metric to metrics (standard
// output under Lambda, which the embedded metric format needs: audit.WritePartialMetric).
func lambdaHandler(logger *slog.Logger, metrics io.Writer, getenv func(string) string, loadConfig func() (aws.Config, error)) func(context.Context, json.RawMessage) (json.RawMessage, error) {
	if limit := awsclient.ApplyLambdaMemoryLimit(getenv); limit > 0 {
		logger.Info("memory limit set from the function's memory size", "limit_bytes", limit)
	}
	base, envErr := config.FromEnv(getenv)
	functionName := getenv("AWS_LAMBDA_FUNCTION_NAME")
	var cfg aws.Config
	var cfgErr error
	if envErr == nil {
		cfg, cfgErr = loadConfig()
	}
	return func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		// Errors are returned as their own types, unwrapped: Lambda's errorType is the Go type's name.
		if envErr != nil {
			return nil, &audit.InvalidSettingsError{Err: fmt.Errorf("function configuration: %w", envErr)}
		}
		if cfgErr != nil {
			return nil, &audit.InvalidSettingsError{Err: fmt.Errorf("load AWS configuration: %w", cfgErr)}
		}
		if alert.IsQueueBatch(raw) || alert.IsEvent(raw) {
			// A failure event, from the alert queue in batches or given directly: alerted now, not at the next run.
			return handleAlerts(ctx, logger, cfg, base, raw)
		}
		if distributed.IsStepEvent(raw) {
			// One step of a distributed run, as the state machine asks for it.
			opts := distributed.Options{Logger: logger}
			if lc, ok := lambdacontext.FromContext(ctx); ok {
				opts.RequestID = lc.AwsRequestID
			}
			out, err := distributed.HandleStep(ctx, cfg, base, raw, opts)
			if err != nil {
				logger.ErrorContext(ctx, "step failed", "err", err)
				return nil, err
			}
			// The report step finishes a distributed run: its metric is the run's, as a single run's is.
			var step struct {
				Step    string `json:"step"`
				RunID   string `json:"run_id"`
				Partial bool   `json:"partial"`
			}
			if json.Unmarshal(out, &step) == nil && step.Step == distributed.StepReport {
				writePartialMetric(ctx, logger, metrics, audit.PartialRun{FunctionName: functionName, RunID: step.RunID, Partial: step.Partial})
			}
			return out, nil
		}
		ev, err := config.DecodeEvent(raw)
		if err != nil {
			logger.ErrorContext(ctx, "rejected event", "err", err)
			return nil, err
		}
		s, err := ev.Apply(base)
		if err != nil {
			logger.ErrorContext(ctx, "rejected event", "kind", ev.Kind, "err", err)
			return nil, err
		}
		if lc, ok := lambdacontext.FromContext(ctx); ok && s.RunID == "" && s.RunTime.IsZero() {
			// A manual run is named after its request, which Lambda keeps when it retries: the retry is the same run.
			s.RunID = config.RequestRunID(lc.AwsRequestID)
		}
		// Named once, here, so every line this invocation logs carries the id the result and the workbook carry.
		s.RunID, s.RunTime = s.Identity(time.Now())
		log := logger.With("run_id", s.RunID) // audit.Run adds the same to its own lines
		attrs := []any{"kind", ev.Kind}
		if ev.ReplayName != "" {
			// A replay of an archived schedule event is that day's run again; the log says which replay sent it.
			attrs = append(attrs, "replay_name", ev.ReplayName)
		}
		log.InfoContext(ctx, "invocation", attrs...)
		opts := audit.Options{Logger: logger}
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			// A retry of this invocation finds the date its first attempt recorded under the request id.
			opts.RequestID = lc.AwsRequestID
		}
		out, err := audit.Run(ctx, cfg, s, opts)
		if out != nil {
			// Whatever became of delivery: the operator learns of a partial run from the alarm on this metric.
			r := out.Result
			p := audit.PartialRun{FunctionName: functionName, RunID: r.RunID, Partial: r.Partial}
			for _, reason := range r.PartialReasons {
				p.Reasons = append(p.Reasons, reason.Reason)
			}
			writePartialMetric(ctx, log, metrics, p)
		}
		if err != nil {
			return nil, err
		}
		b, omitted, err := report.FitJSON(out.Result, maxResponseBytes)
		if err != nil {
			// The run is delivered: failing now would only make Lambda run it again. Answer with the counts alone.
			log.ErrorContext(ctx, "result does not fit Lambda's response limit even trimmed; answering with its counts", "err", err)
			r := out.Result
			return json.Marshal(map[string]any{"run_id": r.RunID, "partial": r.Partial, "partial_reasons": r.PartialReasons, "accounts": r.Accounts, "coverage": r.Coverage,
				"counts": r.Counts, "published": r.Published, "already_published": r.AlreadyPublished, "error": err.Error()})
		}
		if omitted.Any() {
			log.WarnContext(ctx, "rows left out of the response to fit Lambda's limit; the workbook has them all",
				"findings_omitted", omitted.Findings, "errors_omitted", omitted.Errors, "skipped_omitted", omitted.Skipped)
		}
		return b, nil
	}
}

// handleAlerts is an invocation of the event-driven path. A batch answers with its batch item failures (the
// messages to retry); a single event with what was sent, or its error (an *alert.InvalidEventError for an event of
// another shape), which Lambda's retries take up.
func handleAlerts(ctx context.Context, logger *slog.Logger, cfg aws.Config, base config.Settings, raw json.RawMessage) (json.RawMessage, error) {
	h, err := alert.NewHandler(ctx, cfg, base, logger)
	if err != nil {
		return nil, &audit.InvalidSettingsError{Err: fmt.Errorf("alerts: %w", err)}
	}
	if alert.IsQueueBatch(raw) {
		var batch events.SQSEvent
		if err := json.Unmarshal(raw, &batch); err != nil {
			return nil, &alert.InvalidEventError{Reason: "an SQS batch that does not decode: " + err.Error()}
		}
		resp, err := h.HandleQueue(ctx, batch)
		if err != nil {
			return nil, err
		}
		return json.Marshal(resp)
	}
	d, err := h.HandleEvent(ctx, raw)
	if err != nil {
		logger.ErrorContext(ctx, "alert not sent", "err", err)
		return nil, err
	}
	return json.Marshal(map[string]any{"sent": d.Sent, "already_sent": d.AlreadySent})
}

// writePartialMetric writes the run's metric line; a failure is logged, never the invocation's: the run is delivered.
func writePartialMetric(ctx context.Context, log *slog.Logger, w io.Writer, p audit.PartialRun) {
	p.At = time.Now()
	if err := audit.WritePartialMetric(w, p); err != nil {
		log.ErrorContext(ctx, "partial-run metric not written", "err", err)
	}
}

func loadAWSConfig() (aws.Config, error) {
	return awsconfig.LoadDefaultConfig(context.Background())
}
