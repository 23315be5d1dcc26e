// Package cloudformation holds the deployment templates, embedded, so that tests and `audit demo` can hand the very
// files a deployer ships to the simulator, which enforces the IAM policies they grant. It imports nothing of ours.
package cloudformation

import _ "embed"

// Management is management.yaml: the function, its execution role, the link-signing role, bucket, topic, schedule.
//
//go:embed management.yaml
var Management []byte

// MemberRole is member-role.yaml: the read-only audit role in every member account.
//
//go:embed member-role.yaml
var MemberRole []byte
