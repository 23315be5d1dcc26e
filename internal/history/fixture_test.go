package history

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

var regions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"eu-central-1", "eu-north-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2", "ap-south-1",
	"ca-central-1", "sa-east-1", "af-south-1"}

// manyFindings builds n findings shaped like the four checks' output: varied ids, reasons and details, spread over
// 1,000 accounts and 17 regions, as an organization of that size would report them.
func manyFindings(n int, asOf time.Time, seed uint64) []checks.Finding {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	hex := func(k int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, k)
		for i := range b {
			b[i] = digits[rng.IntN(16)]
		}
		return string(b)
	}
	words := []string{"payments", "ledger", "search", "ingest", "billing", "auth", "gateway", "reports", "etl", "ml",
		"orders", "catalog", "inventory", "notify", "audit", "backup", "edge", "cache", "queue", "stream"}
	out := make([]checks.Finding, 0, n)
	for i := range n {
		acct := fmt.Sprintf("%012d", 100000000000+rng.IntN(1000)*7919)
		region := regions[rng.IntN(len(regions))]
		f := checks.Finding{AccountID: acct, AccountName: words[rng.IntN(len(words))] + "-" + fmt.Sprint(rng.IntN(100)), Region: region}
		switch i % 4 {
		case 0:
			f.Check, f.ResourceType = "ec2-reserved-instances", "AWS::EC2::ReservedInstances"
			f.ResourceID = hex(8) + "-" + hex(4) + "-" + hex(4) + "-" + hex(4) + "-" + hex(12)
			days := rng.IntN(90) - 30
			end := asOf.AddDate(0, 0, days)
			f.ExpiresAt, f.DaysLeft = &end, &days
			f.Severity = []checks.Severity{checks.Critical, checks.Warning, checks.Notice}[rng.IntN(3)]
			f.Status = "active"
			f.Reason = fmt.Sprintf("expires in %d days on %s", days, end.Format("2006-01-02"))
			f.SetDetail("instance_type", []string{"m5.large", "c6g.xlarge", "r6i.2xlarge", "t3.medium"}[rng.IntN(4)])
			f.SetDetail("count", fmt.Sprint(1+rng.IntN(20)))
			f.SetDetail("platform", "Linux/UNIX")
			f.SetDetail("scope", "Region")
			f.SetDetail("offering", "standard No Upfront")
			f.SetDetail("start", end.AddDate(-1, 0, 0).Format(time.RFC3339))
			f.ConsoleURL = "https://console.aws.amazon.com/ec2/home?region=" + region + "#ReservedInstances:reservedInstancesId=" + f.ResourceID
		case 1:
			f.Check, f.ResourceType = "rds-reserved-instances", "AWS::RDS::ReservedDBInstance"
			f.ResourceID = "ri-" + words[rng.IntN(len(words))] + "-" + hex(10)
			days := rng.IntN(60)
			end := asOf.AddDate(0, 0, days)
			f.ExpiresAt, f.DaysLeft = &end, &days
			f.Severity = []checks.Severity{checks.Critical, checks.Warning, checks.Notice}[rng.IntN(3)]
			f.Status = "active"
			f.Reason = fmt.Sprintf("expires in %d days on %s", days, end.Format("2006-01-02"))
			f.SetDetail("db_instance_class", []string{"db.r6g.large", "db.m5.xlarge", "db.t4g.medium"}[rng.IntN(3)])
			f.SetDetail("count", fmt.Sprint(1+rng.IntN(4)))
			f.SetDetail("engine", []string{"postgresql", "mysql", "aurora-postgresql"}[rng.IntN(3)])
			f.SetDetail("multi_az", fmt.Sprint(rng.IntN(2) == 0))
			f.SetDetail("offering", "All Upfront")
			f.SetDetail("lease_id", hex(8)+"-"+hex(4)+"-"+hex(4)+"-"+hex(4)+"-"+hex(12))
			f.ConsoleURL = "https://console.aws.amazon.com/rds/home?region=" + region + "#reserved-instances:"
		case 2:
			f.Check, f.ResourceType = "cloudformation-failed-stacks", "AWS::CloudFormation::Stack"
			f.ResourceID = words[rng.IntN(len(words))] + "-" + words[rng.IntN(len(words))] + "-" + hex(6)
			f.Severity = []checks.Severity{checks.Critical, checks.Warning}[rng.IntN(2)]
			f.Status = []string{"ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "CREATE_FAILED"}[rng.IntN(4)]
			f.Reason = fmt.Sprintf("The following resource(s) failed to create: [%sBucket%s]. Resource handler returned message: \"%s already exists (Service: S3, Status Code: 409, Request ID: %s)\"",
				words[rng.IntN(len(words))], hex(4), hex(12), hex(16))
			sid := "arn:aws:cloudformation:" + region + ":" + acct + ":stack/" + f.ResourceID + "/" + hex(8) + "-" + hex(4) + "-" + hex(4) + "-" + hex(4) + "-" + hex(12)
			f.SetDetail("stack_id", sid)
			f.SetDetail("last_updated", asOf.Add(-time.Duration(rng.IntN(1000))*time.Hour).Format("2006-01-02T15:04:05Z"))
			f.ConsoleURL = "https://console.aws.amazon.com/cloudformation/home?region=" + region + "#/stacks/stackinfo?stackId=" + sid
		default:
			f.Check, f.ResourceType = "servicecatalog-products", "AWS::ServiceCatalog::CloudFormationProvisionedProduct"
			f.ResourceID = "pp-" + hex(13)
			f.ResourceName = words[rng.IntN(len(words))] + "-" + hex(4)
			f.Severity = []checks.Severity{checks.Critical, checks.Warning}[rng.IntN(2)]
			f.Status = []string{"ERROR", "TAINTED"}[rng.IntN(2)]
			f.Reason = fmt.Sprintf("%s: Failed to provision: stack %s-%s failed", f.Status, words[rng.IntN(len(words))], hex(8))
			f.SetDetail("product", words[rng.IntN(len(words))]+" baseline")
			f.SetDetail("type", "CFN_STACK")
			f.SetDetail("last_record", "UPDATE_PROVISIONED_PRODUCT rec-"+hex(13))
			f.SetDetail("record_status", "FAILED")
			f.SetDetail("record_errors", "ValidationError: parameter "+words[rng.IntN(len(words))]+" is invalid")
			f.SetDetail("version", fmt.Sprintf("v%d.%d", rng.IntN(5), rng.IntN(20)))
			f.ConsoleURL = "https://console.aws.amazon.com/servicecatalog/home?region=" + region + "#/provisioned-products/" + f.ResourceID
		}
		out = append(out, f)
	}
	return out
}

// bigState is a state of n findings as a run would store it.
func bigState(n int) *State {
	runTime := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	fs := manyFindings(n, runTime, 1)
	s := &State{Version: Version, RunID: runTime.Format("20060102T150405Z"), RunTime: runTime, AsOf: runTime}
	seen := map[string]bool{}
	for i, f := range fs {
		first := runTime.AddDate(0, 0, -(i % 40))
		s.Findings = append(s.Findings, Entry{Finding: f, FirstSeen: first, LastSeen: runTime})
		if !seen[f.AccountID] {
			seen[f.AccountID] = true
			s.Accounts = append(s.Accounts, f.AccountID)
		}
	}
	for _, a := range s.Accounts {
		for _, r := range regions {
			for _, c := range checks.Names() {
				s.Cells = append(s.Cells, Cell{AccountID: a, Region: r, Check: c, Outcome: OutcomeClean})
			}
		}
	}
	return s
}
