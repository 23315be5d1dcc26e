package pricing

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/orgaudit/orgaudit/internal/awserr"
	"github.com/orgaudit/orgaudit/internal/checks"
)

// Checks whose findings this package prices, by the check's name as the registry gives it.
var (
	ec2Check = checks.EC2ReservedInstances{}.Name()
	rdsCheck = checks.RDSReservedInstances{}.Name()
)

// notPriced says, by check, why a commitment of that kind gets no on-demand rate. Only EC2 and RDS reservations are
// looked up: their reservation names the one product it covers (instance type, platform or engine, tenancy or
// deployment), and the price list's attributes for those were read from AWS's own documentation and answers. The
// others are not, for the reasons given (README, "On-demand rates").
var notPriced = map[string]string{
	checks.SavingsPlans{}.Name(): "Savings Plans cover no single instance type: the commitment is USD per hour across many products, so no one on-demand rate is what lapsing would cost",
	checks.ElastiCacheReservedNodes{}.Name(): "not looked up: which price list product a reserved node's engine family (its product description) matches, " +
		"now that nodes run Redis OSS or Valkey, was not verified against AWS's documentation: no rate rather than a guessed one",
	checks.MemoryDBReservedNodes{}.Name(): "not looked up: which price list product a MemoryDB reserved node matches, now that nodes run Redis OSS or Valkey, " +
		"was not verified against AWS's documentation: no rate rather than a guessed one",
	checks.RedshiftReservedNodes{}.Name():       "not looked up: orgaudit reads on-demand rates for EC2 and RDS reservations only",
	checks.OpenSearchReservedInstances{}.Name(): "not looked up: orgaudit reads on-demand rates for EC2 and RDS reservations only",
}

// QueryFor is the price list query for the capacity finding f reserves and how many units it reserves, or why there
// is none (unknown), from the details its check recorded.
func QueryFor(f *checks.Finding) (q Query, units int, unknown string) {
	switch f.Check {
	case ec2Check:
		return ec2Query(f)
	case rdsCheck:
		return rdsQuery(f)
	default:
		if why, ok := notPriced[f.Check]; ok {
			return Query{}, 0, why
		}
		return Query{}, 0, fmt.Sprintf("not looked up: no price list query is known for check %q", f.Check)
	}
}

// ec2OS maps a reservation's ProductDescription (ReservedInstances.productDescription, RIProductDescription:
// "Linux/UNIX", "SUSE Linux", "Red Hat Enterprise Linux", "Windows", each also with " (Amazon VPC)") to the price
// list's operatingSystem attribute, whose values AmazonEC2's GetAttributeValues lists as Linux, RHEL, SUSE, Windows
// (with "Red Hat Enterprise Linux with HA" and "Ubuntu Pro", which no plain reservation description names). A
// description that includes SQL Server or another licence is not here: its product also needs preInstalledSw and
// licence attributes this lookup does not map.
var ec2OS = map[string]string{
	"Linux/UNIX":               "Linux",
	"Red Hat Enterprise Linux": "RHEL",
	"SUSE Linux":               "SUSE",
	"Windows":                  "Windows",
}

// ec2Tenancy maps a reservation's InstanceTenancy (Tenancy: default, dedicated, host) to the price list's tenancy
// attribute (Shared, Dedicated). A host reservation pays for Dedicated Hosts, which are priced per host, not per
// instance.
var ec2Tenancy = map[string]string{"default": "Shared", "dedicated": "Dedicated"}

// ec2Query filters AmazonEC2 with the set the providers' documented example of one instance's hourly rate uses
// (instanceType, operatingSystem, preInstalledSw NA, licenseModel "No License required", tenancy Shared, capacitystatus
// Used: the aws_pricing_product data source, https://www.pulumi.com/registry/packages/aws/api-docs/pricing/getproduct),
// with regionCode (the region's code, us-east-1, which every product of the price list carries) in place of location
// (its display name, "US East (N. Virginia)"), so no table of display names is needed. capacitystatus Used is the
// instance's own usage, apart from the Capacity Reservation products that share the instance type. Whatever else
// the list holds for the same filters (another market option, say) at another rate makes the rate ambiguous, never
// a pick.
func ec2Query(f *checks.Finding) (Query, int, string) {
	typ, units, why := typeAndUnits(f, "instance_type")
	if why != "" {
		return Query{}, 0, why
	}
	platform := f.Detail("platform")
	os, ok := ec2OS[strings.TrimSuffix(platform, " (Amazon VPC)")]
	if !ok {
		return Query{}, 0, fmt.Sprintf("platform %q has no single operating system in the price list (only Linux/UNIX, Red Hat Enterprise Linux, SUSE Linux and Windows are mapped)", platform)
	}
	tenancyDetail, recorded := f.LookupDetail("tenancy")
	if !recorded {
		return Query{}, 0, "the reservation's tenancy was not recorded"
	}
	tenancy, ok := ec2Tenancy[tenancyDetail]
	if !ok {
		return Query{}, 0, fmt.Sprintf("tenancy %q is not priced per instance (only default and dedicated are mapped)", tenancyDetail)
	}
	return Query{ServiceCode: "AmazonEC2", Filters: []Filter{
		{"instanceType", typ}, {"regionCode", f.Region}, {"operatingSystem", os}, {"tenancy", tenancy},
		{"preInstalledSw", "NA"}, {"licenseModel", "No License required"}, {"capacitystatus", "Used"},
	}}, units, ""
}

// rdsEngine maps a reserved DB instance's ProductDescription (the engine it was bought for, as RDS names engines) to
// the price list's databaseEngine attribute, whose values AmazonRDS's GetAttributeValues lists as Aurora MySQL, Aurora
// PostgreSQL, MariaDB, MySQL, Oracle, PostgreSQL, SQL Server and more. Oracle and SQL Server are priced by edition
// and licence model as well, which the mapping does not read; they are unknown, with that reason.
var rdsEngine = map[string]string{
	"postgresql":        "PostgreSQL",
	"mysql":             "MySQL",
	"mariadb":           "MariaDB",
	"aurora-postgresql": "Aurora PostgreSQL",
	"aurora-mysql":      "Aurora MySQL",
}

// rdsQuery filters AmazonRDS by instanceType, regionCode, databaseEngine and deploymentOption (Single-AZ or
// Multi-AZ, the values of AmazonRDS's deploymentOption attribute for one DB instance; a Multi-AZ reservation is
// priced as a Multi-AZ instance).
func rdsQuery(f *checks.Finding) (Query, int, string) {
	typ, units, why := typeAndUnits(f, "db_instance_class")
	if why != "" {
		return Query{}, 0, why
	}
	desc := f.Detail("engine")
	engine, ok := rdsEngine[desc]
	if !ok {
		if strings.HasPrefix(desc, "oracle") || strings.HasPrefix(desc, "sqlserver") {
			return Query{}, 0, fmt.Sprintf("engine %q is priced by edition and licence model too, which the lookup does not map", desc)
		}
		return Query{}, 0, fmt.Sprintf("engine %q is not mapped to the price list (only postgresql, mysql, mariadb, aurora-postgresql and aurora-mysql are)", desc)
	}
	multiAZ, err := strconv.ParseBool(f.Detail("multi_az"))
	if err != nil {
		return Query{}, 0, fmt.Sprintf("the reservation's Multi-AZ %q was not recorded as true or false", f.Detail("multi_az"))
	}
	deployment := "Single-AZ"
	if multiAZ {
		deployment = "Multi-AZ"
	}
	return Query{ServiceCode: "AmazonRDS", Filters: []Filter{
		{"instanceType", typ}, {"regionCode", f.Region}, {"databaseEngine", engine}, {"deploymentOption", deployment},
	}}, units, ""
}

func typeAndUnits(f *checks.Finding, typeColumn string) (string, int, string) {
	typ := f.Detail(typeColumn)
	if typ == "" {
		return "", 0, "the reservation's instance type was not recorded"
	}
	units, err := strconv.Atoi(f.Detail("count"))
	if err != nil || units < 1 {
		return "", 0, fmt.Sprintf("the reservation's count %q is not a number of instances", f.Detail("count"))
	}
	return typ, units, ""
}

// Options are what Apply needs beside the findings.
type Options struct {
	// PartitionOf is the partition of an account (crossaccount.Account.Partition), by id.
	PartitionOf func(accountID string) string
	// Concurrency is how many findings are looked up at once; the client queries each distinct rate once whatever it is.
	Concurrency int
}

// Apply sets OnDemand on every commitment finding in findings: its on-demand cost per month and what lapsing would add,
// or why either is unknown. A finding without Money gets one whose own price is unknown, so the on-demand figure still
// has a place. It returns a warning for the run when the price list could not be read (refused, throttled, broken),
// naming the error once; each finding says so too. Non-commitment findings are left alone.
func Apply(ctx context.Context, c *Client, findings []checks.Finding, opts Options) (warning string) {
	limit := max(opts.Concurrency, 1)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range findings {
		f := &findings[i]
		if !isCommitment(f) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := price(ctx, c, f, opts.PartitionOf); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		return ""
	}
	return fmt.Sprintf("on-demand rates: the AWS price list could not be read (%s: %s); the findings it left unpriced say so", awserr.Code(firstErr), awserr.Message(firstErr))
}

// isCommitment says f is a commitment finding: its check's layout has an expiry (checks.Layout.Expiry).
func isCommitment(f *checks.Finding) bool {
	c, ok := checks.ByName(f.Check)
	return ok && c.Layout().Expiry
}

// price sets f's OnDemand; the error is the price list not read.
func price(ctx context.Context, c *Client, f *checks.Finding, partitionOf func(string) string) error {
	if f.Money == nil {
		f.Money = &checks.Money{PriceUnknown: "the commitment's own price was not read", AtRiskUnknown: "its price is unknown"}
	}
	od := &checks.OnDemand{}
	f.Money.OnDemand = od
	q, units, why := QueryFor(f)
	if why != "" {
		od.OnDemandUnknown = why
		return nil
	}
	if p := partitionOf(f.AccountID); p != Partition {
		od.OnDemandUnknown = fmt.Sprintf("%s (account %s is in partition %q)", errNoEndpoint, f.AccountID, p)
		return nil
	}
	rate, err := c.Rate(ctx, q)
	if err != nil {
		od.OnDemandUnknown = fmt.Sprintf("the AWS price list could not be read: %s: %s", awserr.Code(err), awserr.Message(err))
		return err
	}
	if rate.Unknown != "" {
		od.OnDemandUnknown = rate.Unknown
		return nil
	}
	monthly := checks.Cents(rate.USDPerHour * float64(units) * checks.HoursPerMonth)
	if math.IsInf(monthly, 0) {
		od.OnDemandUnknown = fmt.Sprintf("the AWS price list's rate of USD %g per hour is too large to be a month's amount", rate.USDPerHour)
		return nil
	}
	od.USDPerMonthOnDemand = checks.USD(monthly)
	switch {
	case f.Money.USDPerMonth != nil:
		od.USDPerMonthIncrease = checks.USD(checks.Cents(monthly - *f.Money.USDPerMonth))
	case f.Money.PriceUnknown != "":
		od.OnDemandUnknown = "the increase if it lapsed is unknown: " + f.Money.PriceUnknown
	default:
		od.OnDemandUnknown = "the increase if it lapsed is unknown: the commitment's own price is not in USD"
	}
	return nil
}
