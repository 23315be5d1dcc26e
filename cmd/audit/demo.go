package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgaudit/orgaudit/deploy/cloudformation"
	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
)

// demoCommand starts the simulated organization in-process and runs the whole job against it through the real
// SDK: role assumption, every check, the workbook to S3 and the digest to SNS. What it prints is what SNS received.
func demoCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "audit-report.xlsx", "write the workbook to this file")
	asJSON := fs.Bool("json", false, "print the JSON result instead of the digest")
	asOfFlag := fs.String("as-of", "", "audit as of this UTC date or RFC 3339 time (default: now); the demo's data moves with it")
	concurrency := fs.Int("concurrency", audit.DefaultConcurrency, "most tasks at once")
	verbose := fs.Bool("v", false, "log every failed cell on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "audit demo: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	// As for run: a path that cannot be written fails now, not after the audit.
	if err := checkWritable(*out); err != nil {
		fmt.Fprintf(stderr, "audit demo: -out: %s\n", errText(err))
		return exitUsage
	}
	asOf := time.Now().UTC()
	if *asOfFlag != "" {
		t, err := audit.ParseAsOf(*asOfFlag)
		if err != nil {
			fmt.Fprintf(stderr, "audit demo: %v\n", err)
			return exitUsage
		}
		asOf = t
	}
	level := slog.LevelError
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	sim, cfg, err := startDemo(asOf)
	if err != nil {
		fmt.Fprintf(stderr, "audit demo: %v\n", err)
		return exitFail
	}
	defer sim.Close()
	s := demoSettings(asOf)
	s.LinkRoleARN = sim.TemplateRole("LinkSigningRole").ARN
	s.Concurrency = *concurrency
	res, runErr := audit.Run(ctx, cfg, s, audit.Options{Logger: logger, WorkbookPath: *out})
	if res == nil {
		fmt.Fprintf(stderr, "audit demo: %s\n", errText(runErr))
		return exitFail
	}
	if !*asJSON {
		// Print the digest as SNS received it, not as we meant to send it.
		for _, m := range sim.Published() {
			fmt.Fprintf(stdout, "Subject: %s\n\n%s\n", m.Subject, m.Body)
		}
		fmt.Fprintf(stdout, "(workbook written to %s; the simulated organization's links stop working when the demo exits)\n", *out)
		if runErr != nil {
			fmt.Fprintf(stderr, "audit demo: %s\n", errText(runErr))
			return exitFail
		}
		return exitOK
	}
	return finish(res, runErr, true, stdout, stderr)
}

// startDemo starts the simulator and returns an SDK configuration pointed at it with the management account's
// credentials.
func startDemo(asOf time.Time) (*awssim.Server, aws.Config, error) {
	org := awssim.Demo(asOf)
	sim := awssim.New(org)
	// IAM as the templates deploy it: every call is allowed or refused by the roles a real deployment would have.
	if err := sim.EnforceTemplates(awssim.DemoDeployment(org, cloudformation.Management, cloudformation.MemberRole, awssim.DemoKMSKeyARN)); err != nil {
		return nil, aws.Config{}, fmt.Errorf("deploy the templates in the simulated organization: %w", err)
	}
	if err := sim.Start(); err != nil {
		return nil, aws.Config{}, fmt.Errorf("start simulated organization: %w", err)
	}
	return sim, sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), nil
}

func demoSettings(asOf time.Time) audit.Settings {
	s := audit.Defaults()
	s.RoleName = awssim.DemoRoleName
	s.ExternalID = awssim.DemoExternalID
	s.Regions = []string{"all"}
	s.Bucket = awssim.DemoBucket
	s.TopicARN = awssim.DemoTopicARN()
	s.S3PathStyle = true
	s.KMSKeyID = awssim.DemoKMSKeyARN
	s.AsOf = asOf
	return s
}
