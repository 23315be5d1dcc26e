package awssim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Redshift speaks the query protocol: its answers sit in DescribeReservedNodesResult under the namespace of
// botocore's model (redshift 2012-12-01). Like the other query services it throttles with Throttling, HTTP 400.
func init() {
	const year = 365 * 24 * 3600
	registerService("redshift", protocol{namespace: "http://redshift.amazonaws.com/doc/2012-12-01/"},
		Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	registerOperation("redshift", "DescribeReservedNodes", "redshift:DescribeReservedNodes", describeReservedNodes)

	DemoFindings["redshift-reserved-nodes"] = map[string]string{
		"121212121212/us-east-1/rs-analytics-006": "critical", "121212121212/us-east-1/rs-analytics-018": "notice",
		"121212121212/us-east-1/rs-analytics-040": "notice", "121212121212/us-east-1/rs-analytics-lapsd": "critical",
		"121212121212/us-east-1/rs-analytics-009":  "notice",   // renewed by a purchase spelled payment-pending
		"121212121212/us-east-1/rs-analytics-unpd": "critical", // payment failed yesterday
	}
	DemoRenewals["redshift-reserved-nodes/121212121212/us-east-1/rs-analytics-018"] = "rs-analytics-018r"
	DemoRenewals["redshift-reserved-nodes/121212121212/us-east-1/rs-analytics-009"] = "rs-analytics-009r"
	// The DC2 node the DC1 exchange brought in ten days ago is, to the rules, a renewal bought outright of the eight
	// Upgradable dc2.large nodes ending in 40 days, for only 2 of them: 6 of 8 at risk.
	DemoRenewals["redshift-reserved-nodes/121212121212/us-east-1/rs-analytics-040"] = "rs-analytics-dc2"
	registerDemo(func(org *Organization, day func(int) time.Time) {
		// All Upfront per node for one year in us-east-1, illustrative (near AWS's list prices).
		allUpfront := map[string]float64{"ra3.large": 3090, "ra3.xlplus": 6180, "ra3.4xlarge": 18560, "ra3.16xlarge": 74240,
			"dc1.large": 1300, "dc2.large": 1300, "dc2.8xlarge": 25000}
		node := func(id, typ string, count, endDay int, state string) Reservation {
			return Reservation{ID: id, OfferingID: pseudoUUID("offer-" + id), Type: typ, Count: count, Start: day(endDay).Add(-year * time.Second),
				Duration: year, State: state, OfferingType: "All Upfront", Price: Upfront(allUpfront[typ], 0), Class: "Regular"}
		}
		// Bought outright yesterday for the one ending in 18 days: pending-payment, as the API reference spells it.
		renewal := node("rs-analytics-018r", "ra3.xlplus", 2, 0, "pending-payment")
		renewal.Start = day(-1)
		// And for the one ending in 9 days, payment-pending, as the CLI's own examples spell it.
		renewal9 := node("rs-analytics-009r", "ra3.large", 2, 0, "payment-pending")
		renewal9.Start = day(-2)
		unpaid := node("rs-analytics-unpd", "ra3.large", 2, 0, "payment-failed")
		unpaid.Start = day(-1)
		// A DC1 node exchanged ten days ago (AcceptReservedNodeExchange: same term, payment and node count): retired
		// with its term still ahead, its capacity carried on by the DC2 node that replaced it.
		dc1 := node("rs-analytics-dc1", "dc1.large", 2, 250, "retired")
		dc1.Class = "Upgradable"
		dc2 := node("rs-analytics-dc2", "dc2.large", 2, 250, "active")
		dc2.Start = day(-10)
		dc2.Duration = int(day(250).Sub(day(-10)) / time.Second)
		upgradable := node("rs-analytics-040", "dc2.large", 8, 40, "active")
		upgradable.Class, upgradable.OfferingType, upgradable.Price = "Upgradable", "No Upfront", Hourly(0.188)
		// Partial Upfront, four nodes: upfront and hourly both count.
		partial := node("rs-analytics-006", "ra3.4xlarge", 4, 6, "active")
		partial.OfferingType, partial.Price = "Partial Upfront", Upfront(9280, 1.06)
		holdReservations(org.account("121212121212").Regions["us-east-1"], "redshift",
			partial,
			node("rs-analytics-018", "ra3.xlplus", 2, 18, "active"),
			upgradable,
			node("rs-analytics-lapsd", "ra3.16xlarge", 2, -12, "retired"), // lapsed twelve days ago, not renewed
			node("rs-analytics-250", "ra3.4xlarge", 4, 250, "active"),
			node("rs-analytics-xchg", "dc2.8xlarge", 2, 10, "exchanging"), // being exchanged: the new one carries on
			renewal,
			node("rs-analytics-009", "ra3.large", 2, 9, "active"), renewal9, unpaid, dc1, dc2,
		)
	})
	registerGenerated(generated{service: "redshift", perRegion: func(r *rand.Rand, a *Account, region string, day func(int) time.Time) {
		for k := 0; k < r.IntN(2); k++ {
			end := day(r.IntN(400) - 5)
			holdReservations(a.Regions[region], "redshift", Reservation{ID: fmt.Sprintf("rs-%s-%s-%d", a.ID[6:], region, k),
				OfferingID: "offer-rs-generated", Type: "ra3.xlplus", Count: 1 + r.IntN(4), Start: end.Add(-year * time.Second),
				Duration: year, State: "active", OfferingType: "All Upfront", Price: Upfront(6180, 0), Class: "Regular"})
		}
	}})
}

type xmlReservedNode struct {
	ReservedNodeId           string
	ReservedNodeOfferingId   string
	NodeType                 string
	StartTime                string
	Duration                 int
	FixedPrice               float64
	UsagePrice               float64
	CurrencyCode             string
	NodeCount                int
	State                    string
	OfferingType             string
	RecurringCharges         []xmlRecurringCharge `xml:"RecurringCharges>RecurringCharge"`
	ReservedNodeOfferingType string               `xml:",omitempty"`
}

func describeReservedNodes(s *Server, r *request) (any, *Fault) {
	max := 100
	if v := r.form.Get("MaxRecords"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 20 || n > 100 {
			return nil, &Fault{Status: 400, Code: "InvalidParameterValue", Message: "MaxRecords must be between 20 and 100"}
		}
		max = n
	}
	items, next, f := page(s, r, r.region.Reservations["redshift"], r.form.Get("Marker"), s.org.pageSize(max))
	if f != nil {
		f.Code = "InvalidParameterValue"
		return nil, f
	}
	out := struct {
		ReservedNodes []xmlReservedNode `xml:"ReservedNodes>ReservedNode"`
		Marker        string            `xml:",omitempty"`
	}{Marker: next}
	for _, n := range items {
		node := xmlReservedNode{ReservedNodeId: n.ID, ReservedNodeOfferingId: n.OfferingID, NodeType: n.Type, StartTime: isoTime(n.Start),
			Duration: n.Duration, FixedPrice: n.FixedPrice, UsagePrice: n.UsagePrice, CurrencyCode: n.currency(), NodeCount: n.Count, State: n.State,
			OfferingType: n.OfferingType, ReservedNodeOfferingType: n.Class, RecurringCharges: xmlRecurringCharges(n.Recurring)}
		out.ReservedNodes = append(out.ReservedNodes, node)
	}
	return out, nil
}
