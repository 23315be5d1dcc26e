package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
)

// checkCredentials gets the run's credentials before it starts, so that none, or an expired SSO session, is said
// as what to do rather than as the last link of the SDK's chain (the EC2 instance metadata service, on a laptop).
// The credentials are cached in cfg: the audit's first call uses them. The error is the SDK's; the hint goes on a
// line of its own.
func checkCredentials(ctx context.Context, cfg aws.Config) (hint string, err error) {
	if cfg.Credentials == nil {
		return credentialsHint(cfg), errors.New("no AWS credentials provider")
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return credentialsHint(cfg), fmt.Errorf("get AWS credentials: %w", err)
	}
	return "", nil
}

// credentialsHint says how to sign in: with an SSO profile, its login; otherwise the ways the SDK's default chain
// finds credentials on a laptop.
func credentialsHint(cfg aws.Config) string {
	profile := os.Getenv("AWS_PROFILE")
	var sso *ssocreds.Provider
	if cfg.Credentials != nil && aws.IsCredentialsProvider(cfg.Credentials, sso) {
		if profile == "" {
			return "the SSO session has expired or was never started: run `aws sso login` and try again"
		}
		return fmt.Sprintf("the SSO session has expired or was never started: run `aws sso login --profile %s` and try again", profile)
	}
	if profile != "" {
		return fmt.Sprintf("profile %q (AWS_PROFILE) gave no credentials: for an IAM Identity Center profile run `aws sso login --profile %s`; check the profile in ~/.aws/config", profile, profile)
	}
	return "no credentials in the environment or ~/.aws: set AWS_PROFILE to a profile of ~/.aws/config (for IAM Identity Center, `aws configure sso`, then `aws sso login --profile NAME`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
}

// configHint says what to do about an AWS configuration that did not load, or "" when it knows nothing to add.
func configHint(err error) string {
	var missing awsconfig.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		return fmt.Sprintf("AWS_PROFILE names %q, which ~/.aws/config does not hold: `aws configure list-profiles` lists them", missing.Profile)
	}
	return ""
}

// hintedError is an AWS configuration or credentials failure with what to do about it, for commands whose failure
// is told further up than where the configuration is loaded.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// loadCheckedConfig loads the SDK's default configuration and gets its credentials, each failure with its hint.
func loadCheckedConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := loadAWSConfig()
	if err != nil {
		return cfg, &hintedError{fmt.Errorf("load AWS configuration: %w", err), configHint(err)}
	}
	if hint, err := checkCredentials(ctx, cfg); err != nil {
		return cfg, &hintedError{err, hint}
	}
	return cfg, nil
}

// printHint writes err's hint, when it has one, on a line of its own after the error.
func printHint(w io.Writer, command string, err error) {
	var h *hintedError
	if errors.As(err, &h) && h.hint != "" {
		fmt.Fprintf(w, "audit %s: hint: %s\n", command, errText(errors.New(h.hint)))
	}
}
