// Package audit is the job: it validates settings, runs the fan-out, builds the report and delivers it. cmd/audit
// is a thin shell over it for the CLI, the demo and Lambda. It imports every internal package below it; settings and
// events are internal/config's, the SDK plumbing internal/awsclient's.
package audit
