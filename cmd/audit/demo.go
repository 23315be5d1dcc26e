//go:build !lambda.norpc

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/orgaudit/orgaudit/deploy/cloudformation"
	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/config"
	"github.com/orgaudit/orgaudit/internal/report"
)

// demoCommand starts the simulated organization in-process and runs the whole job against it through the real
// SDK: role assumption, every check, the workbook to S3 and the digest to SNS. What it prints is what SNS received.
func demoCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "audit-report.xlsx", "write the workbook to this file")
	asJSON := fs.Bool("json", false, "print the JSON result instead of the digest")
	asOfFlag := fs.String("as-of", "", "audit as of this UTC date or RFC 3339 time (default: now); the demo's data moves with it")
	concurrency := fs.Int("concurrency", config.DefaultConcurrency, "most tasks at once")
	verbose := fs.Bool("v", false, "log every failed cell on stderr")
	var fail failOn
	fs.Var(failOnFlag{&fail}, "fail-on", "exit 3 when the run has an open finding at or above this severity, or (incomplete) left a cell or account unaudited: "+failOnValues())
	showOwners := fs.Bool("owners", false, "also print each owner's digest, as SNS received it, after the organization's")
	onDemand := fs.Bool("on-demand", false, "read the expiring EC2 and RDS reservations' on-demand rates from the simulated AWS Price List (the template deployed with OnDemandRates=true)")
	var portal config.Portal
	fs.StringVar(&portal.AccessPortalURL, "access-portal-url", "", "send the console links through this IAM Identity Center access portal, as run does; with -portal-role-name")
	fs.StringVar(&portal.PortalRoleName, "portal-role-name", "", "the permission set the console links sign in with; with -access-portal-url")
	if err := parseFlags(fs, args, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "audit demo: %v\n", err)
		return exitUsage
	}
	if err := portal.Validate(); err != nil {
		fmt.Fprintf(stderr, "audit demo: %v\n", err)
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
		t, err := config.ParseAsOf(*asOfFlag)
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

	// The organization as it was yesterday, then as it is today, with history in a temporary directory: today's
	// digest shows what changed overnight.
	stateDir, err := os.MkdirTemp("", "orgaudit-demo-")
	if err != nil {
		fmt.Fprintf(stderr, "audit demo: %v\n", err)
		return exitFail
	}
	defer os.RemoveAll(stateDir)
	d := demo{stateDir: stateDir, concurrency: *concurrency, logger: logger, onDemand: *onDemand, portal: portal}
	yesterday := asOf.AddDate(0, 0, -1)
	if _, err := d.runYesterday(ctx, awssim.DemoYesterday(asOf), yesterday, asOf); err != nil {
		fmt.Fprintf(stderr, "audit demo: yesterday's run: %s\n", errText(err))
		return exitFail
	}
	sim, err := d.startDemo(awssim.Demo(asOf), asOf)
	if err != nil {
		fmt.Fprintf(stderr, "audit demo: %v\n", err)
		return exitFail
	}
	defer sim.Close()
	res, runErr := audit.Run(ctx, sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion),
		d.settings(sim, asOf), audit.Options{Logger: logger, WorkbookPath: *out})
	if res == nil {
		fmt.Fprintf(stderr, "audit demo: %s\n", errText(runErr))
		return exitFail
	}
	// The organization's email as the simulated SES received it, for a person to open in a mail reader.
	emailPath := strings.TrimSuffix(*out, filepath.Ext(*out)) + ".eml"
	wroteEmail := false
	for _, m := range sim.Emails() {
		if slices.Contains(m.To, awssim.DemoEmailTo) {
			if err := os.WriteFile(emailPath, m.Raw, 0o644); err != nil {
				fmt.Fprintf(stderr, "audit demo: write the email: %v\n", err)
				return exitFail
			}
			wroteEmail = true
			break
		}
	}
	if !*asJSON {
		// Print the digest as SNS received it, not as we meant to send it: the organization's, then, when asked,
		// each owner's.
		var owners []awssim.Message
		for _, m := range sim.Published() {
			if a, ok := m.Attributes["audience"]; ok && a.StringValue != report.AudienceOrganization {
				owners = append(owners, m)
				continue
			}
			fmt.Fprintf(stdout, "Subject: %s\n\n%s\n", m.Subject, m.Body)
		}
		if *showOwners {
			for _, m := range owners {
				fmt.Fprintf(stdout, "Subject: %s\n\n%s\n", m.Subject, m.Body)
			}
		}
		files := []demoFile{{*out, "the workbook (today's run; also uploaded to the simulated S3 bucket)"}}
		if wroteEmail {
			files = append(files, demoFile{emailPath, "the email SES received: HTML digest, workbook attached; open it in a mail reader"})
		}
		fmt.Fprint(stdout, demoFooter(res.Result, files, len(owners), *showOwners))
		if runErr != nil {
			fmt.Fprintf(stderr, "audit demo: %s\n", errText(runErr))
			return exitFail
		}
		return failOnExit(res.Result, fail, stderr)
	}
	return finish(res, runErr, true, fail, stdout, stderr)
}

// demoFile is a file the demo wrote, and what it holds.
type demoFile struct{ path, what string }

// demoFooter tells the person at the terminal what they just watched, where its files are (paths first, to copy), and
// what to try next. The digest above it carries the simulated S3's link, which dies with the demo: the files do not.
func demoFooter(r *report.Result, files []demoFile, ownerDigests int, ownersShown bool) string {
	var b strings.Builder
	b.WriteString("----\n")
	day := r.AsOf.Format(time.DateOnly)
	fmt.Fprintf(&b, "What happened: a simulated organization of %d accounts was audited twice through the real AWS SDK,\n",
		r.Accounts.Total+len(r.Skipped))
	fmt.Fprintf(&b, "as of %s (yesterday, for history) and %s (today). Above is today's organization digest\n",
		r.AsOf.AddDate(0, 0, -1).Format(time.DateOnly), day)
	b.WriteString("as SNS received it; its workbook link worked only while the demo ran, the files below stay.\n")
	switch {
	case ownerDigests == 0:
	case ownersShown:
		fmt.Fprintf(&b, "The %d owners' digests published beside it are printed after it.\n", ownerDigests)
	default:
		fmt.Fprintf(&b, "%d owners' digests were published beside it (-owners prints them).\n", ownerDigests)
	}
	b.WriteString("\nFiles written:\n")
	width := 0
	for _, f := range files {
		width = max(width, len(f.path))
	}
	for _, f := range files {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, f.path, f.what)
	}
	b.WriteString("\nTry next:\n")
	for _, t := range [][2]string{
		{"audit demo -owners", "also print each owner's digest"},
		{"audit demo -json", "the JSON result a script or the Lambda's caller reads"},
		{"audit checks", "what each check finds, and the IAM actions it needs"},
		{"audit run -h", "audit your own organization (README: Usage, IAM, Deploy)"},
	} {
		fmt.Fprintf(&b, "  %-20s %s\n", t[0], t[1])
	}
	return b.String()
}

// demo is what the demo's two days share: the history in stateDir, the fan-out's limit and the log.
type demo struct {
	stateDir    string
	concurrency int
	logger      *slog.Logger
	// onDemand reads on-demand rates, with the template deployed to grant them.
	onDemand bool
	// portal sends the console links through an IAM Identity Center access portal (as -access-portal-url on run).
	portal config.Portal
}

// runYesterday runs the job once against yesterday's org as of asOf, in a simulator of its own, keeping history in
// stateDir for today's run to compare with; its workbook is not kept.
func (d demo) runYesterday(ctx context.Context, org *awssim.Organization, asOf, suppressionsAsOf time.Time) (*audit.Output, error) {
	sim, err := d.startDemo(org, suppressionsAsOf)
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	return audit.Run(ctx, sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), d.settings(sim, asOf), audit.Options{Logger: d.logger})
}

// startDemo starts the simulator of org, with the demo's suppressions file in the report bucket, enforcing IAM as
// the templates deploy it (with on-demand rates granted when the demo reads them).
func (d demo) startDemo(org *awssim.Organization, suppressionsAsOf time.Time) (*awssim.Server, error) {
	sim := awssim.New(org)
	// IAM as the templates deploy it: every call is allowed or refused by the roles a real deployment would have.
	dep := awssim.DemoDeployment(org, cloudformation.Management, cloudformation.MemberRole, awssim.DemoKMSKeyARN)
	if d.onDemand {
		dep.ManagementParameters["OnDemandRates"] = "true"
	}
	if err := sim.EnforceTemplates(dep); err != nil {
		return nil, fmt.Errorf("deploy the templates in the simulated organization: %w", err)
	}
	if err := sim.Start(); err != nil {
		return nil, fmt.Errorf("start simulated organization: %w", err)
	}
	if err := sim.PutObject(awssim.DemoBucket, config.SuppressionsKey(config.Defaults().Prefix), []byte(awssim.DemoSuppressions(suppressionsAsOf))); err != nil {
		sim.Close()
		return nil, fmt.Errorf("put the suppressions file: %w", err)
	}
	return sim, nil
}

// demoSettings are a deployment's, as the template sets them: the suppressions file where the Lambda looks for it.
// History is kept in stateDir rather than the bucket, which lives only as long as one day's simulator.
func (d demo) settings(sim *awssim.Server, asOf time.Time) config.Settings {
	s := config.Defaults()
	s.RoleName = awssim.DemoRoleName
	s.ExternalID = awssim.DemoExternalID
	s.Regions = []string{"all"}
	s.Bucket = awssim.DemoBucket
	s.TopicARN, s.OwnerTopicARN = awssim.DemoTopicARN(), awssim.DemoOwnerTopicARN()
	s.S3PathStyle = true
	s.KMSKeyID = awssim.DemoKMSKeyARN
	s.LinkRoleARN = sim.TemplateRole("LinkSigningRole").ARN
	s.AsOf, s.RunTime = asOf, asOf
	s.Concurrency = d.concurrency
	s.OnDemand = d.onDemand
	s.Portal = d.portal
	s.StateDir = d.stateDir
	s.Suppressions, s.SuppressionsIfExists = "s3://"+s.Bucket+"/"+config.SuppressionsKey(s.Prefix), true
	// Email through the simulated SES, whose sandboxed account has verified the demo's domain.
	s.EmailFrom, s.EmailTo = awssim.DemoEmailFrom, []string{awssim.DemoEmailTo}
	return s
}
