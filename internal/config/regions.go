package config

import (
	"errors"
	"fmt"
	"slices"

	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// regionsSDKVersion is the aws-sdk-go-v2 release knownRegions was copied from (go.mod's; TestKnownRegionsAreTheSDKs
// compares the two lists).
const regionsSDKVersion = "v1.47.7"

// knownRegions are the regions of every AWS partition as aws-sdk-go-v2 lists them in
// internal/endpoints/awsrulesfn/partitions.go, generated from AWS's partitions.json. The package is internal to the
// SDK's module, so the list is copied here, without the pseudo-regions ("aws-global") that name no place. A region
// AWS opens after that release is refused until the list and the SDK are updated: the error says so.
var knownRegions = map[string][]string{
	"aws": {"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
		"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
		"ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2",
		"eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1",
		"us-west-2"},
	"aws-cn":     {"cn-north-1", "cn-northwest-1"},
	"aws-eusc":   {"eusc-de-east-1"},
	"aws-iso":    {"us-iso-east-1", "us-iso-west-1"},
	"aws-iso-b":  {"us-isob-east-1", "us-isob-west-1"},
	"aws-iso-e":  {"eu-isoe-west-1"},
	"aws-iso-f":  {"us-isof-east-1", "us-isof-south-1"},
	"aws-us-gov": {"us-gov-east-1", "us-gov-west-1"},
}

// KnownRegions are the names of every region of every partition, sorted.
func KnownRegions() []string {
	var all []string
	for _, regions := range knownRegions {
		all = append(all, regions...)
	}
	slices.Sort(all)
	return all
}

// CheckRegionExists refuses a region name no partition has, naming the nearest that exists when one is close
// (eu-west-9, us-east-3): an audit of a region that does not exist would come back clean, and say nothing. setting
// is the flag or variable the name came from.
func CheckRegionExists(setting, region string) error {
	best, bestDist := "", 3
	for _, regions := range knownRegions {
		if slices.Contains(regions, region) {
			return nil
		}
		for _, r := range regions {
			if d := EditDistance(region, r); d < bestDist || d == bestDist && r < best {
				best, bestDist = r, d
			}
		}
	}
	hint := ""
	if best != "" {
		hint = fmt.Sprintf("did you mean %s? ", best)
	}
	return fmt.Errorf("%s: %q is not an AWS region (%sthe regions are those of the AWS SDK for Go %s; one AWS opened since needs a newer build)",
		setting, region, hint, regionsSDKVersion)
}

// RegionSettings names, for the errors, where each region setting came from: a flag of the CLI or a variable of the
// function.
type RegionSettings struct{ Regions, Email, Bucket string }

// CheckRegionsExist refuses a region of s that is shaped like one but that AWS does not have. A bucket's region is
// left to S3 when S3PathStyle points at an S3-compatible store, whose regions are its own.
func CheckRegionsExist(s Settings, names RegionSettings) error {
	var errs []error
	for _, r := range s.Regions {
		if r != crossaccount.AllRegions {
			errs = append(errs, CheckRegionExists(names.Regions, r))
		}
	}
	if s.EmailRegion != "" {
		errs = append(errs, CheckRegionExists(names.Email, s.EmailRegion))
	}
	if s.BucketRegion != "" && !s.S3PathStyle {
		errs = append(errs, CheckRegionExists(names.Bucket, s.BucketRegion))
	}
	return errors.Join(errs...)
}

// EditDistance counts the single-character insertions, deletions and substitutions that turn a into b (Levenshtein),
// for "did you mean" in the CLI's flags and the regions.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
