package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestUnknownRegionIsRefused: a region shaped like one that AWS does not have is a usage error before any AWS call,
// naming the nearest real one; every region of the list is accepted, and -bucket-region is left to an S3-compatible
// store's own names with -s3-path-style.
func TestUnknownRegionIsRefused(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		`-regions: "eu-west-9" is not an AWS region (did you mean eu-west-1?`:      {"run", "-regions", "us-east-1,eu-west-9"},
		`-regions: "us-east-3" is not an AWS region (did you mean us-east-1?`:      {"run", "-regions", "us-east-3"},
		`-bucket-region: "ap-southeast-9" is not an AWS region (did you mean ap-s`: {"run", "-bucket", "my-reports", "-bucket-region", "ap-southeast-9"},
		`-email-region: "eu-middle-1" is not an AWS region`: {"run", "-email-from", "a@example.com", "-email-to", "b@example.com",
			"-email-region", "eu-middle-1"},
	}
	for want, args := range cases {
		var stdout, stderr bytes.Buffer
		args = append(args, "-out", filepath.Join(t.TempDir(), "r.xlsx"))
		if code := runCLI(context.Background(), args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", args, code, stderr.String(), want)
		}
	}
	out := filepath.Join(t.TempDir(), "r.xlsx")
	for _, regions := range knownRegions {
		for _, r := range regions {
			if _, err := parseRunFlags([]string{"-regions", r, "-out", out}, io.Discard); err != nil && strings.Contains(err.Error(), "not an AWS region") {
				t.Errorf("%s refused: %v", r, err)
			}
		}
	}
	if _, err := parseRunFlags([]string{"-bucket", "my-reports", "-bucket-region", "xx-store-1", "-s3-path-style", "-out", out}, io.Discard); err != nil {
		t.Errorf("an S3-compatible store's region refused: %v", err)
	}
}

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
