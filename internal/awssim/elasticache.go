package awssim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// ElastiCache speaks the query protocol: its answers sit in DescribeReservedCacheNodesResult under the namespace of
// botocore's model (elasticache 2015-02-02). Like the other query services it throttles with Throttling, HTTP 400.
func init() {
	const year = 365 * 24 * 3600
	registerService("elasticache", protocol{namespace: "http://elasticache.amazonaws.com/doc/2015-02-02/"},
		Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	registerOperation("elasticache", "DescribeReservedCacheNodes", "elasticache:DescribeReservedCacheNodes", describeReservedCacheNodes)

	DemoFindings["elasticache-reserved-nodes"] = map[string]string{
		"444444444444/eu-west-1/ec-data-redis-004": "critical", "444444444444/eu-west-1/ec-data-redis-012": "notice",
		"444444444444/eu-west-1/ec-data-valkey-045": "notice", "444444444444/eu-west-1/ec-data-redis-lapsd": "critical",
		"444444444444/eu-west-1/ec-data-memc-020": "warning",
	}
	DemoRenewals["elasticache-reserved-nodes/444444444444/eu-west-1/ec-data-redis-012"] = "ec-data-redis-012r"
	registerDemo(func(org *Organization, day func(int) time.Time) {
		// Prices per node, one year in eu-west-1, illustrative (near AWS's list prices): Partial Upfront unless said.
		partial := map[string]Price{
			"cache.r7g.large": Upfront(642, 0.073), "cache.r7g.xlarge": Upfront(1284, 0.146),
			"cache.m7g.large": Upfront(448, 0.051), "cache.t4g.medium": Upfront(131, 0.015),
		}
		node := func(id, typ, engine string, count, endDay int, state string) Reservation {
			return Reservation{ID: id, OfferingID: "offer-" + id, Type: typ, Count: count, Start: day(endDay).Add(-year * time.Second),
				Duration: year, State: state, ProductDescription: engine, OfferingType: "Partial Upfront", Price: partial[typ]}
		}
		renewal := node("ec-data-redis-012r", "cache.r7g.xlarge", "redis", 3, 0, "payment-pending")
		renewal.Start = day(-2) // bought outright two days ago for the one ending in 12 days
		memcached := node("ec-data-memc-020", "cache.m7g.large", "memcached", 1, 20, "active")
		memcached.OfferingType, memcached.Price = "No Upfront", Hourly(0.108)
		valkey := node("ec-data-valkey-045", "cache.m7g.large", "valkey", 6, 45, "active")
		valkey.OfferingType, valkey.Price = "All Upfront", Upfront(702, 0) // Valkey is priced below Redis OSS
		holdReservations(org.account("444444444444").Regions["eu-west-1"], "elasticache",
			node("ec-data-redis-004", "cache.r7g.large", "redis", 2, 4, "active"),
			node("ec-data-redis-012", "cache.r7g.xlarge", "redis", 3, 12, "active"),
			memcached, valkey,
			node("ec-data-redis-lapsd", "cache.t4g.medium", "redis", 1, -9, "retired"), // lapsed nine days ago, not renewed
			node("ec-data-memc-300", "cache.m7g.large", "memcached", 2, 300, "active"),
			node("ec-data-redis-old", "cache.t4g.medium", "redis", 1, -60, "retired"), // lapsed too long ago to be news
			renewal,
		)
	})
	registerGenerated(generated{service: "elasticache", perRegion: func(r *rand.Rand, a *Account, region string, day func(int) time.Time) {
		for k := 0; k < r.IntN(3); k++ {
			end := day(r.IntN(400) - 5)
			holdReservations(a.Regions[region], "elasticache", Reservation{ID: fmt.Sprintf("ec-%s-%s-%d", a.ID[6:], region, k),
				OfferingID: "offer-ec-generated", Type: "cache.r7g.large", Count: 1 + r.IntN(4), Start: end.Add(-year * time.Second),
				Duration: year, State: "active", ProductDescription: "redis", OfferingType: "No Upfront", Price: Hourly(0.17)})
		}
	}})
}

// holdReservations adds to a region's reservations of one service.
func holdReservations(reg *Region, service string, rs ...Reservation) {
	if reg.Reservations == nil {
		reg.Reservations = map[string][]Reservation{}
	}
	reg.Reservations[service] = append(reg.Reservations[service], rs...)
}

type xmlRecurringCharge struct {
	RecurringChargeAmount    float64
	RecurringChargeFrequency string
}

// xmlRecurringCharges are the query services' RecurringCharges>RecurringCharge (RDS, ElastiCache, Redshift).
func xmlRecurringCharges(cs []RecurringCharge) []xmlRecurringCharge {
	var out []xmlRecurringCharge
	for _, c := range cs {
		out = append(out, xmlRecurringCharge{RecurringChargeAmount: c.Amount, RecurringChargeFrequency: c.Frequency})
	}
	return out
}

type xmlReservedCacheNode struct {
	ReservedCacheNodeId          string
	ReservedCacheNodesOfferingId string
	CacheNodeType                string
	StartTime                    string
	Duration                     int
	FixedPrice                   float64
	UsagePrice                   float64
	CacheNodeCount               int
	ProductDescription           string
	OfferingType                 string
	State                        string
	RecurringCharges             []xmlRecurringCharge `xml:"RecurringCharges>RecurringCharge"`
	ReservationARN               string
}

func describeReservedCacheNodes(s *Server, r *request) (any, *Fault) {
	max := 100
	if v := r.form.Get("MaxRecords"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 20 || n > 100 {
			return nil, &Fault{Status: 400, Code: "InvalidParameterValue", Message: "Invalid value for MaxRecords. Must be between 20 and 100"}
		}
		max = n
	}
	items, next, f := page(s, r, r.region.Reservations["elasticache"], r.form.Get("Marker"), s.org.pageSize(max))
	if f != nil {
		f.Code = "InvalidParameterValue"
		return nil, f
	}
	out := struct {
		ReservedCacheNodes []xmlReservedCacheNode `xml:"ReservedCacheNodes>ReservedCacheNode"`
		Marker             string                 `xml:",omitempty"`
	}{Marker: next}
	for _, n := range items {
		out.ReservedCacheNodes = append(out.ReservedCacheNodes, xmlReservedCacheNode{
			ReservedCacheNodeId: n.ID, ReservedCacheNodesOfferingId: n.OfferingID, CacheNodeType: n.Type, StartTime: isoTime(n.Start),
			Duration: n.Duration, FixedPrice: n.FixedPrice, UsagePrice: n.UsagePrice, CacheNodeCount: n.Count, ProductDescription: n.ProductDescription,
			OfferingType: n.OfferingType, State: n.State,
			// The demo's hourly prices travel as recurring charges, the way AWS reports its current offerings (UsagePrice
			// 0), so a client must read both.
			RecurringCharges: xmlRecurringCharges(n.Recurring),
			ReservationARN:   "arn:" + s.org.partition() + ":elasticache:" + r.call.Region + ":" + r.account.ID + ":reserved-instance:" + n.ID,
		})
	}
	return out, nil
}
