package pricing_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/pricing"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

const (
	mgmt    = "111111111111"
	member  = "222222222222"
	chinese = "333333333333"
)

// priceOrg is an organization of three accounts (one in aws-cn) with products in its price list.
func priceOrg(products ...awssim.PriceListProduct) *awssim.Organization {
	acct := func(id string) *awssim.Account { return &awssim.Account{ID: id, Name: "a" + id, State: "ACTIVE"} }
	return &awssim.Organization{ID: "o-a1b2c3d4e5", ManagementAccountID: mgmt, Accounts: []*awssim.Account{acct(mgmt), acct(member), acct(chinese)},
		PriceList: products}
}

// config is the SDK configuration the job would pass, signed as the management account, in a region the price list
// has no endpoint in (the client must go to us-east-1 itself), with retries that do not sleep.
func config(sim *awssim.Server) aws.Config {
	cfg := sim.Config(mgmt, "eu-west-1")
	cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxBackoffDelay(retry.NewStandard(), time.Millisecond) }
	return cfg
}

func partitions(id string) string {
	if id == chinese {
		return "aws-cn"
	}
	return "aws"
}

func ec2Finding(account, region, typ string, count int) checks.Finding {
	f := checks.Finding{Check: "ec2-reserved-instances", AccountID: account, Region: region, ResourceID: fmt.Sprintf("ri-%s-%s-%d", account, typ, count)}
	f.SetDetail("instance_type", typ)
	f.SetDetail("count", strconv.Itoa(count))
	f.SetDetail("platform", "Linux/UNIX")
	f.SetDetail("tenancy", "default")
	return f
}

func rdsFinding(account, region, class string, count int, multiAZ bool) checks.Finding {
	f := checks.Finding{Check: "rds-reserved-instances", AccountID: account, Region: region, ResourceID: "ri-" + class}
	f.SetDetail("db_instance_class", class)
	f.SetDetail("count", strconv.Itoa(count))
	f.SetDetail("engine", "postgresql")
	f.SetDetail("multi_az", strconv.FormatBool(multiAZ))
	return f
}

func onDemand(t *testing.T, f checks.Finding) *checks.OnDemand {
	t.Helper()
	if f.Money == nil || f.Money.OnDemand == nil {
		t.Fatalf("%s %s: no on-demand figures", f.Check, f.ResourceID)
	}
	return f.Money.OnDemand
}

// TestOneQueryPerDistinctRate: findings looked up in parallel, many sharing a rate, send one GetProducts per distinct
// (service, type, region, platform or engine, tenancy or deployment), counted at the simulator; the figures are
// worked by hand from the declared prices, and a commitment's own price gives the increase.
func TestOneQueryPerDistinctRate(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, priceOrg(
		awssim.EC2Product("eu-west-1", "m6i.large", "0.107"),
		awssim.EC2Product("us-east-1", "m6i.large", "0.096"),
		awssim.RDSProduct("us-east-1", "db.r6g.large", "Single-AZ", "0.225"),
		awssim.RDSProduct("us-east-1", "db.r6g.large", "Multi-AZ", "0.45"),
	))
	var findings []checks.Finding
	for i := 1; i <= 12; i++ { // twelve reservations of one type in one region, in two accounts
		findings = append(findings, ec2Finding([]string{mgmt, member}[i%2], "eu-west-1", "m6i.large", i))
	}
	findings = append(findings, ec2Finding(member, "us-east-1", "m6i.large", 2),
		rdsFinding(mgmt, "us-east-1", "db.r6g.large", 1, false), rdsFinding(member, "us-east-1", "db.r6g.large", 1, false),
		rdsFinding(mgmt, "us-east-1", "db.r6g.large", 3, true))
	findings[0].Money = &checks.Money{USDPerMonth: checks.USD(50)}
	notCommitment := checks.Finding{Check: "cloudformation-failed-stacks", AccountID: mgmt, Region: "eu-west-1", ResourceID: "stack"}
	findings = append(findings, notCommitment)

	warning := pricing.Apply(context.Background(), pricing.NewFromConfig(config(sim)), findings, pricing.Options{PartitionOf: partitions, Concurrency: 8})
	if warning != "" {
		t.Fatalf("warning %q", warning)
	}
	const distinct = 4 // EC2 eu-west-1, EC2 us-east-1, RDS Single-AZ, RDS Multi-AZ
	if got := sim.Calls()["pricing.GetProducts"]; got != distinct {
		t.Errorf("%d GetProducts calls for %d distinct rates", got, distinct)
	}
	for i := 0; i < 12; i++ {
		count := i + 1
		want := checks.Cents(0.107 * float64(count) * 730)
		if od := onDemand(t, findings[i]); od.USDPerMonthOnDemand == nil || *od.USDPerMonthOnDemand != want {
			t.Errorf("%d × m6i.large in eu-west-1: on demand %v, want %v (%s)", count, od.USDPerMonthOnDemand, want, od.OnDemandUnknown)
		}
	}
	// 1 × 0.107 × 730 = 78.11 on demand against 50 committed: 28.11 more a month if it lapsed.
	if od := onDemand(t, findings[0]); od.USDPerMonthIncrease == nil || *od.USDPerMonthIncrease != 28.11 || od.OnDemandUnknown != "" {
		t.Errorf("increase %v (%q), want 28.11", od.USDPerMonthIncrease, od.OnDemandUnknown)
	}
	// Without the commitment's own price the increase is null, and says why; the on-demand figure stands.
	if od := onDemand(t, findings[1]); od.USDPerMonthIncrease != nil || !strings.Contains(od.OnDemandUnknown, "increase if it lapsed is unknown") {
		t.Errorf("increase without a price: %v %q", od.USDPerMonthIncrease, od.OnDemandUnknown)
	}
	for i, want := range map[int]float64{12: 2 * 0.096 * 730, 13: 0.225 * 730, 14: 0.225 * 730, 15: 3 * 0.45 * 730} {
		if od := onDemand(t, findings[i]); od.USDPerMonthOnDemand == nil || *od.USDPerMonthOnDemand != checks.Cents(want) {
			t.Errorf("%s: on demand %v, want %v (%s)", findings[i].ResourceID, od.USDPerMonthOnDemand, checks.Cents(want), od.OnDemandUnknown)
		}
	}
	if findings[len(findings)-1].Money != nil {
		t.Error("a finding that is no commitment was given money")
	}
}

// TestUnknownRatesSayWhy: no matching product, products that disagree, a partition without the API, and every kind
// orgaudit does not look up are unknown with the reason, never a 0; products that agree are one rate.
func TestUnknownRatesSayWhy(t *testing.T) {
	t.Parallel()
	windows := awssim.EC2Product("eu-west-1", "c6i.large", "0.18")
	windows.Attributes["operatingSystem"] = "Windows" // a neighbour the filters must leave out
	twinA, twinB := awssim.EC2Product("eu-west-1", "r6i.large", "0.141"), awssim.EC2Product("eu-west-1", "r6i.large", "0.152")
	twinB.SKU = "TWINB0000000000B"
	sameA, sameB := awssim.EC2Product("eu-west-1", "t3.medium", "0.0456"), awssim.EC2Product("eu-west-1", "t3.medium", "0.0456")
	sameB.SKU = "SAMEB0000000000B"
	org := priceOrg(awssim.EC2Product("eu-west-1", "c6i.large", "0.096"), windows, twinA, twinB, sameA, sameB)
	org.PageSize = 1 // every product its own page: the client reads them all before it decides
	sim := testkit.StartSim(t, org)

	findings := []checks.Finding{
		ec2Finding(mgmt, "eu-west-1", "m7i.large", 1),    // no product
		ec2Finding(mgmt, "eu-west-1", "r6i.large", 1),    // two at different rates
		ec2Finding(mgmt, "eu-west-1", "t3.medium", 2),    // two at one rate
		ec2Finding(chinese, "cn-north-1", "t3.large", 1), // another partition
		ec2Finding(mgmt, "eu-west-1", "c6i.large", 1),    // one, beside its Windows neighbour
		{Check: "savings-plans", AccountID: mgmt, Region: "global", ResourceID: "sp"},
		{Check: "elasticache-reserved-nodes", AccountID: mgmt, Region: "eu-west-1", ResourceID: "ec"},
		{Check: "redshift-reserved-nodes", AccountID: mgmt, Region: "eu-west-1", ResourceID: "rs"},
	}
	if w := pricing.Apply(context.Background(), pricing.NewFromConfig(config(sim)), findings, pricing.Options{PartitionOf: partitions, Concurrency: 4}); w != "" {
		t.Fatalf("warning %q", w)
	}
	for i, want := range []string{"no product in the AWS price list matches AmazonEC2 instanceType=m7i.large",
		"2 products in the AWS price list match AmazonEC2 instanceType=r6i.large", "", `partition "aws-cn"`, "",
		"Savings Plans cover no single instance type", "not looked up", "not looked up"} {
		od := onDemand(t, findings[i])
		if want == "" {
			if od.USDPerMonthOnDemand == nil {
				t.Errorf("%s: unknown: %s", findings[i].ResourceID, od.OnDemandUnknown)
			}
			continue
		}
		if od.USDPerMonthOnDemand != nil || od.USDPerMonthIncrease != nil || !strings.Contains(od.OnDemandUnknown, want) {
			t.Errorf("%s: on demand %v, reason %q, want null with %q", findings[i].ResourceID, od.USDPerMonthOnDemand, od.OnDemandUnknown, want)
		}
	}
	if od := onDemand(t, findings[1]); !strings.Contains(od.OnDemandUnknown, "USD 0.141, 0.152") || !strings.Contains(od.OnDemandUnknown, "ambiguous") {
		t.Errorf("ambiguous reason %q does not name the rates", od.OnDemandUnknown)
	}
	if got := *onDemand(t, findings[2]).USDPerMonthOnDemand; got != checks.Cents(2*0.0456*730) {
		t.Errorf("t3.medium × 2: %v", got)
	}
	if got := *onDemand(t, findings[4]).USDPerMonthOnDemand; got != checks.Cents(0.096*730) {
		t.Errorf("c6i.large on Linux: %v, not its Windows neighbour's rate", got)
	}
}

// TestRefusedPriceListWarnsOnce: without the grant (the template deployed with OnDemandRates false, its default) the
// price list answers AccessDeniedException; the run gets one warning with AWS's words, every finding says so, and
// after the first refusal no more queries are sent.
func TestRefusedPriceListWarnsOnce(t *testing.T) {
	t.Parallel()
	org := awssim.Demo(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	sim := testkit.StartEnforced(t, org, testkit.DemoDeployment(org))
	findings := []checks.Finding{ec2Finding(awssim.DemoManagementAccount, "eu-west-1", "m6i.large", 1),
		ec2Finding(awssim.DemoManagementAccount, "eu-west-1", "c6i.large", 1), rdsFinding(awssim.DemoManagementAccount, "us-east-1", "db.r6g.large", 1, false)}
	cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
	warning := pricing.Apply(context.Background(), pricing.NewFromConfig(cfg), findings, pricing.Options{PartitionOf: partitions, Concurrency: 1})
	if !strings.Contains(warning, "AccessDeniedException") || !strings.Contains(warning, "pricing:GetProducts") {
		t.Errorf("warning %q does not carry AWS's refusal", warning)
	}
	for _, f := range findings {
		if od := onDemand(t, f); od.USDPerMonthOnDemand != nil || !strings.Contains(od.OnDemandUnknown, "AccessDeniedException") {
			t.Errorf("%s: %v %q", f.ResourceID, od.USDPerMonthOnDemand, od.OnDemandUnknown)
		}
	}
	if got := sim.Calls()["pricing.GetProducts"]; got != 1 {
		t.Errorf("%d GetProducts calls after the first refusal, want 1", got)
	}
}

// TestRepeatedTokenAndThrottling: a price list that hands a page's token back is an error, not a loop; one that
// throttles is retried by the SDK to the answer.
func TestRepeatedTokenAndThrottling(t *testing.T) {
	t.Parallel()
	a, b := awssim.EC2Product("eu-west-1", "m6i.large", "0.107"), awssim.EC2Product("eu-west-1", "m6i.large", "0.107")
	b.SKU = "TWINB0000000000B"
	org := priceOrg(a, b, awssim.EC2Product("eu-west-1", "t3.large", "0.0832"))
	org.PageSize, org.RepeatToken = 1, []string{"GetProducts"}
	sim := testkit.StartSim(t, org)
	findings := []checks.Finding{ec2Finding(mgmt, "eu-west-1", "m6i.large", 1)}
	warning := pricing.Apply(context.Background(), pricing.NewFromConfig(config(sim)), findings, pricing.Options{PartitionOf: partitions, Concurrency: 1})
	if !strings.Contains(warning, "RepeatedPageToken") || !strings.Contains(onDemand(t, findings[0]).OnDemandUnknown, "RepeatedPageToken") {
		t.Errorf("warning %q, reason %q", warning, onDemand(t, findings[0]).OnDemandUnknown)
	}
	if got := sim.Calls()["pricing.GetProducts"]; got > 3 {
		t.Errorf("%d calls: the repeated token was followed", got)
	}

	throttled := testkit.StartSim(t, priceOrg(awssim.EC2Product("eu-west-1", "t3.large", "0.0832")))
	plan := &awssim.FaultPlan{ThrottleOps: []string{"GetProducts"}, ThrottleBurst: 2}
	throttled.SetIntercept(plan.Intercept)
	findings = []checks.Finding{ec2Finding(mgmt, "eu-west-1", "t3.large", 1)}
	if w := pricing.Apply(context.Background(), pricing.NewFromConfig(config(throttled)), findings, pricing.Options{PartitionOf: partitions, Concurrency: 1}); w != "" {
		t.Fatalf("throttled twice, then answered: warning %q", w)
	}
	if od := onDemand(t, findings[0]); od.USDPerMonthOnDemand == nil || *od.USDPerMonthOnDemand != checks.Cents(0.0832*730) {
		t.Errorf("after throttling: %v %q", od.USDPerMonthOnDemand, od.OnDemandUnknown)
	}
	if got := throttled.Calls()["pricing.GetProducts"]; got != 3 {
		t.Errorf("%d calls, want 2 throttled and 1 answered", got)
	}
}

// TestQueryFor maps each reservation's recorded details to the price list's attributes, or says why it cannot.
func TestQueryFor(t *testing.T) {
	t.Parallel()
	ec2 := func(platform, tenancy string) checks.Finding {
		f := ec2Finding(mgmt, "eu-west-1", "m6i.large", 2)
		f.SetDetail("platform", platform)
		f.SetDetail("tenancy", tenancy)
		return f
	}
	rds := func(engine, multiAZ string) checks.Finding {
		f := rdsFinding(mgmt, "us-east-1", "db.r6g.large", 1, false)
		f.SetDetail("engine", engine)
		f.SetDetail("multi_az", multiAZ)
		return f
	}
	noTenancy := checks.Finding{Check: "ec2-reserved-instances", AccountID: mgmt, Region: "eu-west-1"}
	noTenancy.SetDetail("instance_type", "m6i.large")
	noTenancy.SetDetail("count", "1")
	noTenancy.SetDetail("platform", "Linux/UNIX")
	ec2Rest := "preInstalledSw=NA, licenseModel=No License required, capacitystatus=Used"
	cases := map[string]struct {
		f       checks.Finding
		query   string
		unknown string
	}{
		"linux":           {f: ec2("Linux/UNIX", "default"), query: "AmazonEC2 instanceType=m6i.large, regionCode=eu-west-1, operatingSystem=Linux, tenancy=Shared, " + ec2Rest},
		"linux vpc":       {f: ec2("Linux/UNIX (Amazon VPC)", "default"), query: "operatingSystem=Linux, tenancy=Shared"},
		"windows":         {f: ec2("Windows", "default"), query: "operatingSystem=Windows"},
		"rhel dedicated":  {f: ec2("Red Hat Enterprise Linux", "dedicated"), query: "operatingSystem=RHEL, tenancy=Dedicated"},
		"suse":            {f: ec2("SUSE Linux", "default"), query: "operatingSystem=SUSE"},
		"sql server":      {f: ec2("Windows with SQL Server Standard", "default"), unknown: `platform "Windows with SQL Server Standard" has no single operating system`},
		"host tenancy":    {f: ec2("Linux/UNIX", "host"), unknown: `tenancy "host" is not priced per instance`},
		"tenancy missing": {f: noTenancy, unknown: "tenancy was not recorded"},
		"postgresql":      {f: rds("postgresql", "false"), query: "AmazonRDS instanceType=db.r6g.large, regionCode=us-east-1, databaseEngine=PostgreSQL, deploymentOption=Single-AZ"},
		"mysql multi-az":  {f: rds("mysql", "true"), query: "databaseEngine=MySQL, deploymentOption=Multi-AZ"},
		"mariadb":         {f: rds("mariadb", "false"), query: "databaseEngine=MariaDB"},
		"aurora pg":       {f: rds("aurora-postgresql", "false"), query: "databaseEngine=Aurora PostgreSQL"},
		"aurora mysql":    {f: rds("aurora-mysql", "false"), query: "databaseEngine=Aurora MySQL"},
		"oracle":          {f: rds("oracle-se2(li)", "false"), unknown: "priced by edition and licence model"},
		"sql server rds":  {f: rds("sqlserver-ex(li)", "false"), unknown: "priced by edition and licence model"},
		"engine unknown":  {f: rds("db2", "false"), unknown: `engine "db2" is not mapped`},
		"multi-az blank":  {f: rds("postgresql", ""), unknown: "Multi-AZ"},
	}
	for name, c := range cases {
		q, units, unknown := pricing.QueryFor(&c.f)
		if c.unknown != "" {
			if !strings.Contains(unknown, c.unknown) || q.ServiceCode != "" {
				t.Errorf("%s: query %v, unknown %q, want %q", name, q, unknown, c.unknown)
			}
			continue
		}
		if unknown != "" || !strings.Contains(q.String(), c.query) || units < 1 {
			t.Errorf("%s: query %q (%d units), unknown %q, want %q", name, q, units, unknown, c.query)
		}
	}
}

// TestOnDemandMonthThatOverflowsIsUnknown: an hourly rate the price list writes as a finite number whose month is not
// (1e308 × 730) leaves the figure unknown, never +Inf, which encoding/json refuses along with the whole result.
func TestOnDemandMonthThatOverflowsIsUnknown(t *testing.T) {
	t.Parallel()
	sim := testkit.StartSim(t, priceOrg(awssim.EC2Product("eu-west-1", "c6i.large", "1e308")))
	findings := []checks.Finding{ec2Finding(mgmt, "eu-west-1", "c6i.large", 1)}
	findings[0].Money = &checks.Money{USDPerMonth: checks.USD(50), USDPerMonthAtRisk: checks.USD(50)}
	pricing.Apply(context.Background(), pricing.NewFromConfig(config(sim)), findings, pricing.Options{PartitionOf: partitions, Concurrency: 1})
	od := onDemand(t, findings[0])
	if od.USDPerMonthOnDemand != nil || od.USDPerMonthIncrease != nil || od.OnDemandUnknown == "" {
		t.Errorf("on demand %v, increase %v, reason %q: want null with a reason", *od.USDPerMonthOnDemand, od.USDPerMonthIncrease, od.OnDemandUnknown)
	}
}
