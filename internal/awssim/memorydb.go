package awssim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// MemoryDB speaks awsJson1_1 (X-Amz-Target AmazonMemoryDB.<Operation>; botocore memorydb/2021-01-01). Its model
// declares no throttling or access shapes: the API reference's Common Errors give ThrottlingException and
// AccessDeniedException, both HTTP 400.
func init() {
	registerService("memorydb", protocol{json: true, denied: Fault{Status: 400, Code: "AccessDeniedException"}},
		Fault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"})
	registerOperation("memorydb", "DescribeReservedNodes", "memorydb:DescribeReservedNodes", describeMemoryDBReservedNodes)
	registerDemo(memorydbDemo)
	registerGenerated(generated{service: "memorydb", perRegion: memorydbGenerated})
	DemoFindings["memorydb-reserved-nodes"] = map[string]string{
		"444444444444/eu-west-1/mdb-data-004d": "critical", "444444444444/eu-west-1/mdb-data-021d": "warning",
		"444444444444/eu-west-1/mdb-data-055d": "notice", "444444444444/eu-west-1/mdb-data-renew": "notice",
		"444444444444/eu-west-1/mdb-data-lapsd": "critical",
		// MemoryDB documents no states: one its reservations do not share with ElastiCache's is not recognised.
		"444444444444/eu-west-1/mdb-data-held": "warning",
	}
	DemoRenewals["memorydb-reserved-nodes/444444444444/eu-west-1/mdb-data-renew"] = "mdb-data-renewal"
	DemoStateNotRecognised["memorydb-reserved-nodes/444444444444/eu-west-1/mdb-data-held"] = true
}

type jsonMemoryDBReservedNode struct {
	ReservationId           string
	ReservedNodesOfferingId string
	NodeType                string
	StartTime               *epoch `json:",omitempty"`
	Duration                int
	FixedPrice              float64
	NodeCount               int
	OfferingType            string
	State                   string
	RecurringCharges        []jsonRecurringCharge
	ARN                     string
}

type jsonRecurringCharge struct {
	RecurringChargeAmount    float64
	RecurringChargeFrequency string
}

// jsonRecurringCharges are the JSON services' RecurringCharges (OpenSearch, MemoryDB): a list, never null.
func jsonRecurringCharges(cs []RecurringCharge) []jsonRecurringCharge {
	out := []jsonRecurringCharge{}
	for _, c := range cs {
		out = append(out, jsonRecurringCharge{RecurringChargeAmount: c.Amount, RecurringChargeFrequency: c.Frequency})
	}
	return out
}

func describeMemoryDBReservedNodes(s *Server, r *request) (any, *Fault) {
	var in struct {
		ReservationId, ReservedNodesOfferingId, NodeType, OfferingType string
		MaxResults                                                     *int
		NextToken                                                      string
	}
	if f := decodeJSON(r.body, &in); f != nil {
		return nil, f
	}
	max := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, &Fault{Status: 400, Code: "InvalidParameterValueException", Message: "MaxResults must be between 1 and 100"}
		}
		max = *in.MaxResults
	}
	var all []Reservation
	for _, n := range r.region.Reservations["memorydb"] {
		if (in.ReservationId == "" || n.ID == in.ReservationId) && (in.ReservedNodesOfferingId == "" || n.OfferingID == in.ReservedNodesOfferingId) &&
			(in.NodeType == "" || n.Type == in.NodeType) && (in.OfferingType == "" || n.OfferingType == in.OfferingType) {
			all = append(all, n)
		}
	}
	if in.ReservationId != "" && len(all) == 0 {
		return nil, &Fault{Status: 400, Code: "ReservedNodeNotFoundFault", Message: "Reserved node " + in.ReservationId + " not found"}
	}
	items, next, f := page(s, r, all, in.NextToken, s.org.pageSize(max))
	if f != nil {
		f.Code = "InvalidParameterValueException"
		return nil, f
	}
	out := struct {
		ReservedNodes []jsonMemoryDBReservedNode
		NextToken     string `json:",omitempty"`
	}{ReservedNodes: []jsonMemoryDBReservedNode{}, NextToken: next}
	for _, n := range items {
		out.ReservedNodes = append(out.ReservedNodes, jsonMemoryDBReservedNode{
			ReservationId: n.ID, ReservedNodesOfferingId: n.OfferingID, NodeType: n.Type, StartTime: epochPtr(n.Start),
			Duration: n.Duration, FixedPrice: n.FixedPrice, NodeCount: n.Count, OfferingType: n.OfferingType, State: n.State,
			// MemoryDB's model has no UsagePrice and no currency: the hourly price is a recurring charge.
			RecurringCharges: jsonRecurringCharges(n.Recurring),
			ARN:              fmt.Sprintf("arn:%s:memorydb:%s:%s:reservednode/%s", s.org.partition(), r.call.Region, r.account.ID, n.ID),
		})
	}
	return out, nil
}

// memorydbAllUpfront is what one node of a type costs upfront for a one-year All Upfront reservation, illustrative
// (near AWS's list prices in eu-west-1).
var memorydbAllUpfront = map[string]float64{"db.t4g.small": 260, "db.t4g.medium": 520, "db.r6g.large": 1950,
	"db.r6g.xlarge": 3900, "db.r6g.2xlarge": 7800, "db.r7g.large": 2050}

// memorydbNode is a one-year All Upfront reservation of count nodes. FixedPrice is per node ("the fixed price
// charged for this reserved node", as ElastiCache words its own; the offerings carry the same figure with no count),
// never the whole reservation's.
func memorydbNode(id, typ string, count int, start time.Time, state string) Reservation {
	const year = 31536000
	return Reservation{ID: id, OfferingID: pseudoUUID("offer-" + typ), Type: typ, Count: count, Start: start, Duration: year,
		State: state, OfferingType: "All Upfront", Price: Upfront(memorydbAllUpfront[typ], 0)}
}

// memorydbDemo puts nine reservations in the data platform's eu-west-1, three pages at the demo's page size: one
// for each severity, one renewed by a purchase bought outright two days ago, one that lapsed unrenewed nine days ago,
// one in a state no document names, and two no audit reports (ends in 300 days; lapsed 90 days ago).
func memorydbDemo(org *Organization, day func(int) time.Time) {
	const year = 31536000 * time.Second
	reg := org.account("444444444444").Regions["eu-west-1"]
	if reg.Reservations == nil {
		reg.Reservations = map[string][]Reservation{}
	}
	// Three nodes Partial Upfront: an upfront and an hourly charge per node.
	partial := memorydbNode("mdb-data-021d", "db.r6g.xlarge", 3, day(21).Add(-year), "active")
	partial.OfferingType, partial.Price = "Partial Upfront", Upfront(1950, 0.223)
	partial.OfferingID = pseudoUUID("offer-db.r6g.xlarge/Partial Upfront") // an offering is one payment option
	reg.Reservations["memorydb"] = []Reservation{
		memorydbNode("mdb-data-004d", "db.r6g.large", 2, day(4).Add(-year), "active"),
		memorydbNode("mdb-data-300d", "db.r6g.large", 2, day(300).Add(-year), "active"),
		partial,
		memorydbNode("mdb-data-renew", "db.r7g.large", 2, day(12).Add(-year), "active"),
		memorydbNode("mdb-data-lapsd", "db.t4g.medium", 1, day(-9).Add(-year), "retired"),
		memorydbNode("mdb-data-old", "db.t4g.small", 1, day(-90).Add(-year), "retired"),
		memorydbNode("mdb-data-055d", "db.r6g.2xlarge", 1, day(55).Add(-year), "active"),
		memorydbNode("mdb-data-renewal", "db.r7g.large", 2, day(-2), "payment-pending"),
		memorydbNode("mdb-data-held", "db.r6g.large", 1, day(-40), "on-hold"),
	}
}

// memorydbGenerated gives a region up to two reservations ending anywhere from five days ago to over a year ahead,
// retired once ended, and now and then a renewal bought outright for the first.
func memorydbGenerated(r *rand.Rand, a *Account, region string, day func(int) time.Time) {
	const year = 31536000 * time.Second
	reg := a.Regions[region]
	var nodes []Reservation
	for k := 0; k < r.IntN(3); k++ {
		endDay := r.IntN(400) - 5
		state := "active"
		if endDay <= 0 {
			state = "retired"
		}
		n := memorydbNode(fmt.Sprintf("mdb-%s-%s-%d", a.ID[6:], region, k), "db.r6g.large", 1+r.IntN(4), day(endDay).Add(-year), state)
		nodes = append(nodes, n)
		if k == 0 && endDay < 60 && r.Float64() < 0.3 {
			nodes = append(nodes, memorydbNode(n.ID+"-renewal", n.Type, n.Count, day(-1), "payment-pending"))
		}
	}
	if len(nodes) == 0 {
		return
	}
	if reg.Reservations == nil {
		reg.Reservations = map[string][]Reservation{}
	}
	reg.Reservations["memorydb"] = nodes
}
