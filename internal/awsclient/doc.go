// Package awsclient is the SDK plumbing every run shares: the retryer that bounds and counts retries, the one HTTP
// connection pool, and the Go memory limit a Lambda function's size allows. It
// knows nothing of settings: callers pass the few values it needs. It imports only awserr of ours.
package awsclient
