package main

import (
	"fmt"
	"slices"
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

// checkRegionExists refuses a region name no partition has, naming the nearest that exists when one is close
// (eu-west-9, us-east-3): an audit of a region that does not exist would come back clean, and say nothing.
func checkRegionExists(flagName, region string) error {
	best, bestDist := "", 3
	for _, regions := range knownRegions {
		if slices.Contains(regions, region) {
			return nil
		}
		for _, r := range regions {
			if d := levenshtein(region, r); d < bestDist || d == bestDist && r < best {
				best, bestDist = r, d
			}
		}
	}
	hint := ""
	if best != "" {
		hint = fmt.Sprintf("did you mean %s? ", best)
	}
	return fmt.Errorf("%s: %q is not an AWS region (%sthe regions are those of the AWS SDK for Go %s; one AWS opened since needs a newer build)",
		flagName, region, hint, regionsSDKVersion)
}
