package awssim

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/memorydb"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"
)

// wirePrice is a reservation's price as a real SDK client decoded it, per unit, beside its count.
type wirePrice struct {
	count              int
	fixed, usage       float64
	recurring          []RecurringCharge
	currency, offering string
}

func (w wirePrice) matches(want Price, count int, offering string) bool {
	if w.count != count || w.fixed != want.FixedPrice || w.usage != want.UsagePrice || w.offering != offering ||
		len(w.recurring) != len(want.Recurring) || w.currency != "" && w.currency != want.currency() {
		return false
	}
	for i, c := range want.Recurring {
		if w.recurring[i] != c {
			return false
		}
	}
	return true
}

// TestReservationPricesWire: every reservation API serves the scenario's prices per unit, beside the count, in the
// fields and shapes of its model, read by the real SDK clients: EC2's fixedPrice, usagePrice, currencyCode and
// recurringCharges items (amount, frequency); RDS's, ElastiCache's and Redshift's RecurringCharges>RecurringCharge;
// OpenSearch's and MemoryDB's JSON lists (MemoryDB has no UsagePrice or currency). The demo holds every payment
// option and counts above one, so a price multiplied by the count on either side shows.
func TestReservationPricesWire(t *testing.T) {
	t.Parallel()
	s := start(t)
	ctx := context.Background()
	org := Demo(asOf)
	got := map[string]wirePrice{}
	check := func(kind, id string, want Price, count int, offering string) {
		t.Helper()
		w, ok := got[id]
		if !ok {
			t.Errorf("%s %s not served", kind, id)
			return
		}
		if !w.matches(want, count, offering) {
			t.Errorf("%s %s on the wire %+v, want %d × %+v %s", kind, id, w, count, want, offering)
		}
		if want.FixedPrice == 0 && len(want.Recurring) == 0 && want.UsagePrice == 0 {
			t.Errorf("%s %s: the scenario declares no price", kind, id)
		}
	}

	ec2out, err := ec2.NewFromConfig(s.Config("555555555555", "eu-west-1")).DescribeReservedInstances(ctx, &ec2.DescribeReservedInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ri := range ec2out.ReservedInstances {
		w := wirePrice{count: int(aws.ToInt32(ri.InstanceCount)), fixed: float64(aws.ToFloat32(ri.FixedPrice)), usage: float64(aws.ToFloat32(ri.UsagePrice)),
			currency: string(ri.CurrencyCode), offering: string(ri.OfferingType)}
		for _, c := range ri.RecurringCharges {
			w.recurring = append(w.recurring, RecurringCharge{Amount: aws.ToFloat64(c.Amount), Frequency: string(c.Frequency)})
		}
		got[aws.ToString(ri.ReservedInstancesId)] = w
	}
	for _, ri := range org.account("555555555555").Regions["eu-west-1"].ReservedInstances {
		// EC2's fixedPrice and usagePrice are floats (32 bits) in its model: compare as the client holds them.
		want := ri.Price
		want.FixedPrice, want.UsagePrice = float64(float32(want.FixedPrice)), float64(float32(want.UsagePrice))
		check("EC2", ri.ID, want, ri.Count, ri.OfferingType)
	}
	if w := got["ri-0compute000000025"]; w.count != 6 || w.fixed != float64(float32(482.6)) {
		t.Errorf("six r6i.large Partial Upfront: %+v, want 482.6 upfront per instance", w)
	}

	rdsout, err := rds.NewFromConfig(s.Config("444444444444", "us-east-1")).DescribeReservedDBInstances(ctx, &rds.DescribeReservedDBInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ri := range rdsout.ReservedDBInstances {
		w := wirePrice{count: int(aws.ToInt32(ri.DBInstanceCount)), fixed: aws.ToFloat64(ri.FixedPrice), usage: aws.ToFloat64(ri.UsagePrice),
			currency: aws.ToString(ri.CurrencyCode), offering: aws.ToString(ri.OfferingType)}
		for _, c := range ri.RecurringCharges {
			w.recurring = append(w.recurring, RecurringCharge{Amount: aws.ToFloat64(c.RecurringChargeAmount), Frequency: aws.ToString(c.RecurringChargeFrequency)})
		}
		got[aws.ToString(ri.ReservedDBInstanceId)] = w
	}
	for _, ri := range org.account("444444444444").Regions["us-east-1"].ReservedDBInstances[:3] { // the first page (PageSize 3)
		check("RDS", ri.ID, ri.Price, ri.Count, ri.OfferingType)
	}

	ecout, err := elasticache.NewFromConfig(s.Config("444444444444", "eu-west-1")).DescribeReservedCacheNodes(ctx, &elasticache.DescribeReservedCacheNodesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ecout.ReservedCacheNodes {
		w := wirePrice{count: int(aws.ToInt32(n.CacheNodeCount)), fixed: aws.ToFloat64(n.FixedPrice), usage: aws.ToFloat64(n.UsagePrice), offering: aws.ToString(n.OfferingType)}
		for _, c := range n.RecurringCharges {
			w.recurring = append(w.recurring, RecurringCharge{Amount: aws.ToFloat64(c.RecurringChargeAmount), Frequency: aws.ToString(c.RecurringChargeFrequency)})
		}
		got[aws.ToString(n.ReservedCacheNodeId)] = w
	}
	for _, n := range org.account("444444444444").Regions["eu-west-1"].Reservations["elasticache"][:3] {
		check("ElastiCache", n.ID, n.Price, n.Count, n.OfferingType)
	}

	rsout, err := redshift.NewFromConfig(s.Config("121212121212", "us-east-1")).DescribeReservedNodes(ctx, &redshift.DescribeReservedNodesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rsout.ReservedNodes {
		w := wirePrice{count: int(aws.ToInt32(n.NodeCount)), fixed: aws.ToFloat64(n.FixedPrice), usage: aws.ToFloat64(n.UsagePrice),
			currency: aws.ToString(n.CurrencyCode), offering: aws.ToString(n.OfferingType)}
		for _, c := range n.RecurringCharges {
			w.recurring = append(w.recurring, RecurringCharge{Amount: aws.ToFloat64(c.RecurringChargeAmount), Frequency: aws.ToString(c.RecurringChargeFrequency)})
		}
		got[aws.ToString(n.ReservedNodeId)] = w
	}
	for _, n := range org.account("121212121212").Regions["us-east-1"].Reservations["redshift"][:3] {
		check("Redshift", n.ID, n.Price, n.Count, n.OfferingType)
	}

	osout, err := opensearch.NewFromConfig(s.Config("444444444444", "us-east-1")).DescribeReservedInstances(ctx, &opensearch.DescribeReservedInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ri := range osout.ReservedInstances {
		w := wirePrice{count: int(ri.InstanceCount), fixed: aws.ToFloat64(ri.FixedPrice), usage: aws.ToFloat64(ri.UsagePrice),
			currency: aws.ToString(ri.CurrencyCode), offering: string(ri.PaymentOption)}
		for _, c := range ri.RecurringCharges {
			w.recurring = append(w.recurring, RecurringCharge{Amount: aws.ToFloat64(c.RecurringChargeAmount), Frequency: aws.ToString(c.RecurringChargeFrequency)})
		}
		got[aws.ToString(ri.ReservedInstanceId)] = w
	}
	for _, ri := range org.account("444444444444").Regions["us-east-1"].Reservations["es"][:3] {
		check("OpenSearch", ri.ID, ri.Price, ri.Count, ri.OfferingType)
	}

	mdbout, err := memorydb.NewFromConfig(s.Config("444444444444", "eu-west-1")).DescribeReservedNodes(ctx, &memorydb.DescribeReservedNodesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range mdbout.ReservedNodes {
		w := wirePrice{count: int(n.NodeCount), fixed: n.FixedPrice, offering: aws.ToString(n.OfferingType)}
		for _, c := range n.RecurringCharges {
			w.recurring = append(w.recurring, RecurringCharge{Amount: c.RecurringChargeAmount, Frequency: aws.ToString(c.RecurringChargeFrequency)})
		}
		got[aws.ToString(n.ReservationId)] = w
	}
	for _, n := range org.account("444444444444").Regions["eu-west-1"].Reservations["memorydb"][:3] {
		check("MemoryDB", n.ID, n.Price, n.Count, n.OfferingType)
	}
	// Two db.r6g.large nodes All Upfront: 1950 per node on the wire, not the reservation's 3900.
	if w := got["mdb-data-004d"]; w.count != 2 || w.fixed != memorydbAllUpfront["db.r6g.large"] {
		t.Errorf("MemoryDB reports FixedPrice per node: %+v", w)
	}
}

// TestSavingsPlanPaymentsWire: a plan's recurring payment is what its hourly commitment leaves once the upfront
// payment is spread over the term: the commitment for No Upfront, 0 for All Upfront, the rest for Partial Upfront.
func TestSavingsPlanPaymentsWire(t *testing.T) {
	t.Parallel()
	s := start(t)
	want := map[string][3]string{ // commitment, upfront, recurring
		demoPlanID("analytics-database"):  {"1.75", "7665.00", "0.875"}, // 7665 / 8760 h = 0.875 upfront per hour
		demoPlanID("analytics-sagemaker"): {"0.60", "0.0", "0.6"},
	}
	unpaid := map[string][3]string{demoPlanID("compute-unpaid"): {"4.00", "35040.00", "0"}}
	for acct, plans := range map[string]map[string][3]string{"121212121212": want, "555555555555": unpaid} {
		pages := savingsplans.NewFromConfig(s.Config(acct, "us-east-1"))
		seen := 0
		in := &savingsplans.DescribeSavingsPlansInput{}
		for {
			out, err := pages.DescribeSavingsPlans(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range out.SavingsPlans {
				w, ok := plans[aws.ToString(p.SavingsPlanId)]
				if !ok {
					continue
				}
				seen++
				if got := [3]string{aws.ToString(p.Commitment), aws.ToString(p.UpfrontPaymentAmount), aws.ToString(p.RecurringPaymentAmount)}; got != w {
					t.Errorf("plan %s: commitment, upfront, recurring %v, want %v", aws.ToString(p.Description), got, w)
				}
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
		if seen != len(plans) {
			t.Errorf("account %s: %d of %d plans seen", acct, seen, len(plans))
		}
	}
}

// TestEveryScenarioCommitmentIsPriced: the demo and generated organizations declare a price for every reservation
// (an upfront, usage or hourly recurring charge above 0, per unit) and a commitment for every plan, so an audit that
// reports a price unknown on them is wrong, not the scenario.
func TestEveryScenarioCommitmentIsPriced(t *testing.T) {
	t.Parallel()
	priced := func(p Price) bool {
		if p.FixedPrice > 0 || p.UsagePrice > 0 {
			return true
		}
		for _, c := range p.Recurring {
			if c.Amount > 0 && c.Frequency == "Hourly" {
				return true
			}
		}
		return false
	}
	for name, org := range map[string]*Organization{
		"demo": Demo(asOf), "yesterday": DemoYesterday(asOf),
		"generated": Generate(GenerateOptions{Accounts: 40, Regions: []string{"us-east-1", "eu-west-1"}, AsOf: asOf, Seed: 7}),
	} {
		n := 0
		for _, a := range org.Accounts {
			for _, p := range a.SavingsPlans {
				n++
				if c, err := strconv.ParseFloat(p.Commitment, 64); err != nil || c <= 0 || p.Currency == "" || p.PaymentOption == "" {
					t.Errorf("%s: plan %s: commitment %q %s %s", name, p.Description, p.Commitment, p.Currency, p.PaymentOption)
				}
			}
			for region, reg := range a.Regions {
				for _, ri := range reg.ReservedInstances {
					n++
					if !priced(ri.Price) || ri.OfferingType == "" {
						t.Errorf("%s: %s %s EC2 %s (%s) has no price: %+v", name, a.ID, region, ri.ID, ri.OfferingType, ri.Price)
					}
				}
				for _, ri := range reg.ReservedDBInstances {
					n++
					if !priced(ri.Price) || ri.OfferingType == "" {
						t.Errorf("%s: %s %s RDS %s (%s) has no price: %+v", name, a.ID, region, ri.ID, ri.OfferingType, ri.Price)
					}
				}
				for _, service := range []string{"elasticache", "redshift", "es", "memorydb"} { // not the registry tests' own
					for _, r := range reg.Reservations[service] {
						n++
						if !priced(r.Price) || r.OfferingType == "" {
							t.Errorf("%s: %s %s %s %s (%s) has no price: %+v", name, a.ID, region, service, r.ID, r.OfferingType, r.Price)
						}
						if service == "memorydb" && r.UsagePrice != 0 {
							t.Errorf("%s: MemoryDB %s has a UsagePrice, a field its model lacks: the wire would drop it", name, r.ID)
						}
					}
				}
			}
		}
		if n < 20 {
			t.Errorf("%s: only %d commitments: the test reads too little", name, n)
		}
	}
}
