package config

import (
	"strings"
	"testing"
)

func TestPrefixStaysInsideItsFolder(t *testing.T) {
	t.Parallel()
	for prefix, ok := range map[string]bool{
		"orgaudit": true, "team/orgaudit": true, "/orgaudit/": true, "team.reports": true, "...": true,
		".": false, "..": false, "": false, "/": false, "a/../b": false, "./a": false, "a//b": false, "orgaudit/..": false,
	} {
		s := Defaults()
		s.Prefix = prefix
		err := s.Validate()
		if ok && err != nil {
			t.Errorf("prefix %q refused: %v", prefix, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "prefix")) {
			t.Errorf("prefix %q: err %v, want a clear refusal naming the prefix", prefix, err)
		}
	}
	if _, err := FromEnv(func(k string) string { return map[string]string{"AUDIT_PREFIX": ".."}[k] }); err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("AUDIT_PREFIX=.. accepted: %v", err)
	}
}

func TestKMSKeyForms(t *testing.T) {
	t.Parallel()
	for key, ok := range map[string]bool{
		"":                                     true,
		"1234abcd-12ab-34cd-56ef-1234567890ab": true,
		"mrk-1234abcd12ab34cd56ef1234567890ab": true,
		"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab": true,
		"arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab": true,
		"alias/orgaudit-reports":                                    true,
		"arn:aws:kms:eu-west-1:111122223333:alias/orgaudit-reports": true,
		"orgaudit-reports":                                          false,
		"mrk-1234":                                                  false,
		"arn:aws:s3:::bucket":                                       false,
		"arn:aws:kms:eu-west-1:111122223333:key/":                   false,
		"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\nX-Evil: 1": false,
	} {
		s := Defaults()
		s.KMSKeyID = key
		err := s.Validate()
		if ok && err != nil {
			t.Errorf("key %q refused: %v", key, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "KMS key")) {
			t.Errorf("key %q: err %v, want a refusal naming the KMS key", key, err)
		}
	}
}
