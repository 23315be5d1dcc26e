package config

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestKnownRegionsAreTheSDKs: knownRegions is the region list of the aws-sdk-go-v2 release go.mod requires, read
// from its partitions.go in the module cache; an SDK upgrade that adds a region fails here until the list follows.
func TestKnownRegionsAreTheSDKs(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}} {{.Dir}}", "github.com/aws/aws-sdk-go-v2").Output()
	if err != nil {
		t.Fatalf("go list the SDK module: %v", err)
	}
	version, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if version != regionsSDKVersion {
		t.Errorf("knownRegions is from the SDK %s, go.mod requires %s: copy its list", regionsSDKVersion, version)
	}
	src, err := os.ReadFile(filepath.Join(dir, "internal", "endpoints", "awsrulesfn", "partitions.go"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, part := range strings.Split(string(src), "\n\t{\n\t\tID:")[1:] {
		id := regexp.MustCompile(`^\s*"([^"]+)"`).FindStringSubmatch(part)
		rx := regexp.MustCompile(`RegionRegex:\s+"((?:[^"\\]|\\.)*)"`).FindStringSubmatch(part)
		if id == nil || rx == nil {
			t.Fatalf("partitions.go has changed shape: %.200s", part)
		}
		shape := regexp.MustCompile(strings.ReplaceAll(rx[1], `\\`, `\`))
		for _, m := range regexp.MustCompile(`\n\t\t\t"([a-z0-9-]+)": \{`).FindAllStringSubmatch(part, -1) {
			// "aws-global" and its kind are pseudo-regions, outside the partition's region shape.
			if shape.MatchString(m[1]) {
				got[id[1]] = append(got[id[1]], m[1])
			}
		}
	}
	for _, regions := range got {
		slices.Sort(regions)
	}
	want := map[string][]string{}
	for id, regions := range knownRegions {
		want[id] = slices.Sorted(slices.Values(regions))
	}
	if !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("the SDK's regions\n%v\nknownRegions\n%v", got, want)
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"", "abc", 3}, {"regions", "regions", 0}, {"regoins", "regions", 2}, {"region", "regions", 1}, {"kitten", "sitting", 3}} {
		if got := EditDistance(c.a, c.b); got != c.want || EditDistance(c.b, c.a) != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestFromEnvRefusesAnUnknownRegion: the function refuses at start-up, as the CLI does, a region setting shaped like
// a region that AWS does not have, naming the variable, the name and the nearest real region; a bucket region is
// left to an S3-compatible store (AUDIT_S3_PATH_STYLE), and every known region is accepted.
func TestFromEnvRefusesAnUnknownRegion(t *testing.T) {
	t.Parallel()
	for want, env := range map[string]map[string]string{
		`AUDIT_REGIONS: "eu-west-9" is not an AWS region (did you mean eu-west-1?`: {"AUDIT_REGIONS": "us-east-1,eu-west-9"},
		`AUDIT_EMAIL_REGION: "us-east-3" is not an AWS region (did you mean us-east-1?`: {"AUDIT_EMAIL_FROM": "a@example.com",
			"AUDIT_EMAIL_TO": "b@example.com", "AUDIT_EMAIL_REGION": "us-east-3"},
		`AUDIT_BUCKET_REGION: "eu-middle-1" is not an AWS region`: {"AUDIT_BUCKET": "reports-bucket", "AUDIT_BUCKET_REGION": "eu-middle-1"},
	} {
		if _, err := FromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want %q", env, err, want)
		}
	}
	store := map[string]string{"AUDIT_BUCKET": "reports-bucket", "AUDIT_BUCKET_REGION": "xx-store-1", "AUDIT_S3_PATH_STYLE": "true"}
	if _, err := FromEnv(func(k string) string { return store[k] }); err != nil {
		t.Errorf("an S3-compatible store's region refused: %v", err)
	}
	all := strings.Join(KnownRegions(), ",")
	if _, err := FromEnv(func(k string) string { return map[string]string{"AUDIT_REGIONS": all}[k] }); err != nil {
		t.Errorf("the known regions refused: %v", err)
	}
}
