package awssim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// OpenSearch Service speaks restJson1 and signs as es, its IAM prefix too. DescribeReservedInstances is a GET whose
// paging sits in the query string; StartTime goes out as epoch seconds. Throttling and refusal are the model's own
// ThrottlingException (HTTP 429) and AccessDeniedException (HTTP 403).
func init() {
	registerService("es", protocol{rest: map[string]string{"GET /2021-01-01/opensearch/reservedInstances": "DescribeReservedInstances"},
		denied: Fault{Status: 403, Code: "AccessDeniedException"}}, Fault{Status: 429, Code: "ThrottlingException", Message: "Rate exceeded"})
	registerOperation("es", "DescribeReservedInstances", "es:DescribeReservedInstances", describeOpenSearchReservedInstances)
	registerDemo(demoOpenSearch)
	DemoFindings["opensearch-reserved-instances"] = map[string]string{
		"444444444444/us-east-1/" + demoOpenSearchID("search-r6g-05"): "notice", // renewed by a purchase on a later page
		"444444444444/us-east-1/" + demoOpenSearchID("search-m6g-25"): "warning",
		"444444444444/us-east-1/" + demoOpenSearchID("search-c6g-50"): "notice",
		"444444444444/us-east-1/" + demoOpenSearchID("search-lapsed"): "critical", // ended six days ago, not renewed
		"121212121212/eu-west-1/" + demoOpenSearchID("logs-or1-03"):   "critical",
	}
	DemoRenewals["opensearch-reserved-instances/444444444444/us-east-1/"+demoOpenSearchID("search-r6g-05")] = demoOpenSearchID("search-r6g-05-renewal")
	registerGenerated(generated{service: "es", perRegion: generateOpenSearch})
}

// demoOpenSearchID is a demo reservation's id: AWS's are GUIDs; its ReservationName is the name given here.
func demoOpenSearchID(name string) string { return pseudoUUID("opensearch-ri/" + name) }

type jsonOpenSearchReservedInstance struct {
	ReservationName            string                `json:"ReservationName,omitempty"`
	ReservedInstanceID         string                `json:"ReservedInstanceId"`
	BillingSubscriptionID      int64                 `json:"BillingSubscriptionId"`
	ReservedInstanceOfferingID string                `json:"ReservedInstanceOfferingId"`
	InstanceType               string                `json:"InstanceType"`
	StartTime                  *epoch                `json:"StartTime,omitempty"`
	Duration                   int                   `json:"Duration"`
	FixedPrice                 float64               `json:"FixedPrice"`
	UsagePrice                 float64               `json:"UsagePrice"`
	CurrencyCode               string                `json:"CurrencyCode"`
	InstanceCount              int                   `json:"InstanceCount"`
	State                      string                `json:"State"`
	PaymentOption              string                `json:"PaymentOption"`
	RecurringCharges           []jsonRecurringCharge `json:"RecurringCharges"`
}

func describeOpenSearchReservedInstances(s *Server, r *request) (any, *Fault) {
	max := 100
	if v := r.form.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return nil, &Fault{Status: 400, Code: "ValidationException", Message: "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"}
		}
		if n > 0 {
			max = n
		}
	}
	all := r.region.Reservations["es"]
	if id := r.form.Get("reservationId"); id != "" {
		var one []Reservation
		for _, ri := range all {
			if ri.ID == id {
				one = append(one, ri)
			}
		}
		if one == nil {
			return nil, &Fault{Status: 409, Code: "ResourceNotFoundException", Message: "Reserved instance " + id + " not found"}
		}
		all = one
	}
	items, next, f := page(s, r, all, r.form.Get("nextToken"), s.org.pageSize(max))
	if f != nil {
		f.Code = "ValidationException"
		return nil, f
	}
	out := struct {
		NextToken         string                           `json:"NextToken,omitempty"`
		ReservedInstances []jsonOpenSearchReservedInstance `json:"ReservedInstances"`
	}{NextToken: next, ReservedInstances: []jsonOpenSearchReservedInstance{}}
	for i, ri := range items {
		j := jsonOpenSearchReservedInstance{ReservationName: ri.Name, ReservedInstanceID: ri.ID, BillingSubscriptionID: int64(1000 + i),
			ReservedInstanceOfferingID: ri.OfferingID, InstanceType: ri.Type, StartTime: epochPtr(ri.Start), Duration: ri.Duration,
			FixedPrice: ri.FixedPrice, UsagePrice: ri.UsagePrice, CurrencyCode: ri.currency(), InstanceCount: ri.Count, State: ri.State,
			PaymentOption: ri.OfferingType, RecurringCharges: jsonRecurringCharges(ri.Recurring)}
		out.ReservedInstances = append(out.ReservedInstances, j)
	}
	return out, nil
}

// openSearchAllUpfront is what one instance of a type costs upfront for a one-year All Upfront reservation,
// illustrative (near AWS's list prices in us-east-1; eu-west-1 a little above).
var openSearchAllUpfront = map[string]float64{"r6g.large.search": 955, "r6g.xlarge.search": 1910, "m6g.large.search": 730,
	"m6g.xlarge.search": 1460, "c6g.large.search": 640, "or1.large.search": 1020}

// openSearchRI is a one-year All Upfront reservation of count × typ ending at end, priced per instance as the API
// reports it.
func openSearchRI(name, typ, state string, count int, end time.Time) Reservation {
	const year = 31536000
	return Reservation{ID: demoOpenSearchID(name), OfferingID: pseudoUUID("opensearch-offering/" + typ), Name: name, Type: typ, Count: count,
		Start: end.Add(-year * time.Second), Duration: year, State: state, OfferingType: "ALL_UPFRONT", Price: Upfront(openSearchAllUpfront[typ], 0)}
}

// addReservations appends to one service's reservations in a region, keeping the other services'.
func addReservations(reg *Region, service string, rs ...Reservation) {
	if reg.Reservations == nil {
		reg.Reservations = map[string][]Reservation{}
	}
	reg.Reservations[service] = append(reg.Reservations[service], rs...)
}

// demoOpenSearch: the data platform's search domains over two pages (PageSize 3): one expiring and renewed by a
// purchase bought outright two days ago (payment pending), one expiring in 25 and one in 50 days, one far off, one
// that lapsed unrenewed and one that lapsed too long ago to be news; and a log cluster's reservation three days from
// its end.
func demoOpenSearch(org *Organization, day func(int) time.Time) {
	renewal := openSearchRI("search-r6g-05-renewal", "r6g.large.search", "payment-pending", 3, day(-2).AddDate(1, 0, 0))
	renewal.Start = day(-2)
	// Payment options apart from All Upfront: the hourly price is a recurring charge, UsagePrice 0.
	noUpfront := openSearchRI("search-m6g-25", "m6g.large.search", "active", 2, day(25))
	noUpfront.OfferingType, noUpfront.Price = "NO_UPFRONT", Hourly(0.089)
	noUpfront.OfferingID = pseudoUUID("opensearch-offering/m6g.large.search/NO_UPFRONT") // an offering is one payment option
	partial := openSearchRI("search-lapsed", "m6g.xlarge.search", "retired", 2, day(-6))
	partial.OfferingType, partial.Price = "PARTIAL_UPFRONT", Upfront(700, 0.08)
	partial.OfferingID = pseudoUUID("opensearch-offering/m6g.xlarge.search/PARTIAL_UPFRONT")
	addReservations(org.account("444444444444").Regions["us-east-1"], "es",
		openSearchRI("search-r6g-05", "r6g.large.search", "active", 3, day(5)),
		noUpfront,
		openSearchRI("search-far", "r6g.xlarge.search", "active", 2, day(300)),
		openSearchRI("search-c6g-50", "c6g.large.search", "active", 1, day(50)),
		partial,
		openSearchRI("search-old", "m6g.xlarge.search", "retired", 2, day(-40)),
		renewal,
	)
	addReservations(org.account("121212121212").Regions["eu-west-1"], "es",
		openSearchRI("logs-or1-03", "or1.large.search", "active", 6, day(3)))
}

// generateOpenSearch gives a region up to two reservations ending within the next 400 days (or just past, retired).
func generateOpenSearch(r *rand.Rand, a *Account, region string, day func(int) time.Time) {
	for k := range r.IntN(3) {
		end := day(r.IntN(400) - 5)
		ri := openSearchRI(fmt.Sprintf("%s-%s-%d", a.ID, region, k), "r6g.large.search", "active", 1+r.IntN(4), end)
		if !end.After(day(0)) {
			ri.State = "retired"
		}
		addReservations(a.Regions[region], "es", ri)
	}
}
