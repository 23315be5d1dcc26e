package config

import (
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"AUDIT_ROLE_NAME": "OrganizationAccountAccessRole", "AUDIT_EXTERNAL_ID": "ext-123", "AUDIT_REGIONS": "eu-west-1, us-east-1",
		"AUDIT_EXPIRY_DAYS": "14/45/90", "AUDIT_CONCURRENCY": "32", "AUDIT_BUCKET": "reports-bucket", "AUDIT_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:t",
		"AUDIT_DRY_RUN": "false", "AUDIT_STUCK_AFTER": "12h", "AUDIT_LAPSED_DAYS": "14",
	}
	s, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s.RoleName != "OrganizationAccountAccessRole" || s.ExternalID != "ext-123" || len(s.Regions) != 2 || s.ExpiryDays != [3]int{14, 45, 90} ||
		s.Concurrency != 32 || s.Bucket != "reports-bucket" || s.StuckAfter != 12*time.Hour || s.LapsedDays != 14 {
		t.Errorf("settings %+v", s)
	}
	bad := map[string]string{"AUDIT_CONCURRENCY": "many", "AUDIT_EXPIRY_DAYS": "7", "AUDIT_DRY_RUN": "maybe", "AUDIT_TOPIC_ARN": "not-an-arn", "AUDIT_LAPSED_DAYS": "a month"}
	_, err = FromEnv(func(k string) string { return bad[k] })
	for _, want := range []string{"AUDIT_CONCURRENCY", "AUDIT_EXPIRY_DAYS", "AUDIT_DRY_RUN", "AUDIT_LAPSED_DAYS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	// History and suppressions: the bucket's own suppressions.yaml when it exists, unless one is named or "none".
	if s.Suppressions != "s3://reports-bucket/orgaudit/suppressions.yaml" || !s.SuppressionsIfExists || s.NoHistory || s.Digest != DigestFull {
		t.Errorf("suppressions %q if exists %v no history %v digest %q", s.Suppressions, s.SuppressionsIfExists, s.NoHistory, s.Digest)
	}
	for value, want := range map[string]string{"s3://other-bucket/team/rules.yaml": "s3://other-bucket/team/rules.yaml", "none": ""} {
		env["AUDIT_SUPPRESSIONS"], env["AUDIT_DIGEST"], env["AUDIT_NO_HISTORY"] = value, "changes", "true"
		s, err := FromEnv(func(k string) string { return env[k] })
		if err != nil || s.Suppressions != want || s.SuppressionsIfExists || !s.NoHistory || s.Digest != DigestChanges {
			t.Errorf("AUDIT_SUPPRESSIONS=%s: %q if exists %v no history %v digest %q, err %v", value, s.Suppressions, s.SuppressionsIfExists, s.NoHistory, s.Digest, err)
		}
	}
	for _, c := range []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"AUDIT_SUPPRESSIONS": "s3://Bad_Bucket/x", "AUDIT_DIGEST": "brief"}, []string{`suppressions file "s3://Bad_Bucket/x"`, `digest "brief"`}},
		{map[string]string{"AUDIT_SUPPRESSIONS": "https://example.com/rules.yaml"}, []string{"want a local path or s3://bucket/key"}},
		{map[string]string{"AUDIT_NO_HISTORY": "sometimes"}, []string{"AUDIT_NO_HISTORY"}},
	} {
		_, err = FromEnv(func(k string) string { return c.env[k] })
		for _, want := range c.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%v: error %v does not name %s", c.env, err, want)
			}
		}
	}
	defaults, err := FromEnv(func(string) string { return "" })
	if err != nil || defaults.RoleName != DefaultRoleName || defaults.ExpiryDays != [3]int{7, 30, 60} || defaults.LapsedDays != 30 {
		t.Errorf("defaults %+v %v", defaults, err)
	}
}
