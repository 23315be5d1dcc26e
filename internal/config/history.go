package config

import (
	"errors"
	"fmt"
	"strings"
)

// History is where a run's memory lives and what it is told to overlook.
type History struct {
	// StateDir keeps run history in this local directory instead of the report bucket (the CLI's -state-dir, by
	// default .orgaudit when there is no -bucket; the demo's is temporary). Empty with no bucket: no history.
	StateDir string
	// StateDirByOrganization keeps each organization's history in a directory of its own under StateDir
	// (history.NewOrganizationDirStore): the CLI's default directory, shared by whatever is audited from one working
	// directory.
	StateDirByOrganization bool
	// NoHistory ignores history: nothing read, nothing stored, no diff (Result.Changes nil).
	NoHistory bool
	// AlertRecords reads the event-driven alerts' records from the report bucket (<prefix>/alerts/), so the digest
	// says which findings were alerted and which alerted stacks recovered (AUDIT_ALERT_RECORDS). Off unless the
	// deployment grants the read (s3:ListBucket for that prefix, s3:GetObject on it), as AUDIT_ON_DEMAND is for the
	// price list: a role without it would have every digest warn that the records were refused. A state directory's
	// records are read whenever there is one: no grant is needed.
	AlertRecords bool
	// Suppressions is the suppressions file: a local path or s3://bucket/key; empty for none.
	Suppressions string
	// SuppressionsIfExists makes a missing Suppressions file mean "no suppressions" rather than a warning: the
	// Lambda's default, <prefix>/suppressions.yaml in the report bucket, need not exist.
	SuppressionsIfExists bool
}

// SuppressionsKey is the Lambda's default suppressions file, under the report prefix.
func SuppressionsKey(prefix string) string { return strings.Trim(prefix, "/") + "/suppressions.yaml" }

// Validate checks the suppressions file's location and the state directory and reports all their problems at once.
func (h History) Validate() error {
	var errs []error
	if h.Suppressions != "" {
		if err := validSuppressionsLocation(h.Suppressions); err != nil {
			errs = append(errs, err)
		}
	}
	if h.StateDir != "" && strings.ContainsFunc(h.StateDir, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		errs = append(errs, fmt.Errorf("state directory %q holds a control character", h.StateDir))
	}
	return errors.Join(errs...)
}

// validSuppressionsLocation accepts a local path or s3://bucket/key.
func validSuppressionsLocation(loc string) error {
	if strings.ContainsFunc(loc, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("suppressions file %q holds a control character", loc)
	}
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		if strings.Contains(loc, "://") {
			return fmt.Errorf("suppressions file %q: want a local path or s3://bucket/key", loc)
		}
		return nil
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if !bucketName.MatchString(bucket) || key == "" || strings.HasSuffix(key, "/") {
		return fmt.Errorf("suppressions file %q: want s3://bucket/key naming one object", loc)
	}
	return nil
}

// ParseS3Location splits s3://bucket/key; ok is false for a local path.
func ParseS3Location(loc string) (bucket, key string, ok bool) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key, true
}
