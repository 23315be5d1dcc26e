package awssim

import (
	"fmt"
	"sort"
	"time"
)

// EC2 speaks its own query protocol (answers without a Result wrapper, botocore ec2 2016-11-15). It refuses with
// UnauthorizedOperation (HTTP 403) and throttles with RequestLimitExceeded (HTTP 503).
func init() {
	registerService("ec2", protocol{ec2: true, namespace: "http://ec2.amazonaws.com/doc/2016-11-15/",
		denied: Fault{Status: 403, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation. "}},
		Fault{Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."})
	registerOperation("ec2", "DescribeReservedInstances", "ec2:DescribeReservedInstances", describeReservedInstances)
	registerOperation("ec2", "DescribeRegions", "ec2:DescribeRegions", describeRegions)
}

type ec2Filter struct {
	name   string
	values map[string]bool
}

// ec2Filters reads Filter.N.Name / Filter.N.Value.M.
func ec2Filters(r *request) []ec2Filter {
	var out []ec2Filter
	for i := 1; ; i++ {
		name := r.form.Get(fmt.Sprintf("Filter.%d.Name", i))
		if name == "" {
			return out
		}
		f := ec2Filter{name: name, values: map[string]bool{}}
		for j := 1; ; j++ {
			v := r.form.Get(fmt.Sprintf("Filter.%d.Value.%d", i, j))
			if v == "" {
				break
			}
			f.values[v] = true
		}
		out = append(out, f)
	}
}

type xmlReservedInstance struct {
	ReservedInstancesId string  `xml:"reservedInstancesId"`
	InstanceType        string  `xml:"instanceType"`
	AvailabilityZone    string  `xml:"availabilityZone,omitempty"`
	Start               string  `xml:"start"`
	End                 string  `xml:"end"`
	Duration            int64   `xml:"duration"`
	UsagePrice          float64 `xml:"usagePrice"`
	FixedPrice          float64 `xml:"fixedPrice"`
	InstanceCount       int     `xml:"instanceCount"`
	ProductDescription  string  `xml:"productDescription"`
	State               string  `xml:"state"`
	InstanceTenancy     string  `xml:"instanceTenancy"`
	CurrencyCode        string  `xml:"currencyCode"`
	OfferingType        string  `xml:"offeringType"`
	OfferingClass       string  `xml:"offeringClass"`
	Scope               string  `xml:"scope"`
	// recurringCharges: a list of item, each amount and frequency (botocore ec2 RecurringCharge).
	RecurringCharges []xmlEC2RecurringCharge `xml:"recurringCharges>item"`
}

type xmlEC2RecurringCharge struct {
	Amount    float64 `xml:"amount"`
	Frequency string  `xml:"frequency"`
}

func describeReservedInstances(s *Server, r *request) (any, *Fault) {
	filters := ec2Filters(r)
	for _, f := range filters {
		switch f.name {
		case "state", "instance-type", "scope", "availability-zone":
		default:
			return nil, &Fault{Status: 400, Code: "InvalidParameterValue", Message: fmt.Sprintf("The filter '%s' is invalid", f.name)}
		}
	}
	out := reservedInstancesOut{}
	for _, ri := range r.region.ReservedInstances {
		attrs := map[string]string{"state": ri.State, "instance-type": ri.InstanceType, "scope": ri.Scope, "availability-zone": ri.AvailabilityZone}
		match := true
		for _, f := range filters {
			if !f.values[attrs[f.name]] || f.name == "state" && !documentedRIStates[ri.State] {
				match = false
			}
		}
		if !match {
			continue
		}
		out.Items = append(out.Items, xmlReservedInstance{
			ReservedInstancesId: ri.ID, InstanceType: ri.InstanceType, AvailabilityZone: ri.AvailabilityZone,
			Start: isoTime(ri.Start), End: isoTime(ri.End), Duration: ri.Duration, InstanceCount: ri.Count,
			ProductDescription: ri.ProductDescription, State: ri.State, InstanceTenancy: ri.Tenancy, CurrencyCode: ri.currency(),
			OfferingType: ri.OfferingType, OfferingClass: ri.OfferingClass, Scope: ri.Scope,
			// Per instance, as the offering is priced: a reservation of 6 reports the one instance's fixedPrice.
			UsagePrice: ri.UsagePrice, FixedPrice: ri.FixedPrice, RecurringCharges: ec2RecurringCharges(ri.Recurring),
		})
	}
	return out, nil
}

func ec2RecurringCharges(cs []RecurringCharge) []xmlEC2RecurringCharge {
	var out []xmlEC2RecurringCharge
	for _, c := range cs {
		out = append(out, xmlEC2RecurringCharge(c))
	}
	return out
}

// modifyReservation does to ri what a successful ModifyReservedInstances (or a Convertible exchange) does, at the
// moment at (EC2 User Guide, "Modify Reserved Instances"): the original is retired, its end date becoming the start
// date of the new reservation, and each new reservation starts then and ends when the original would have. The new
// ones keep the full Duration of the original's term, so their End lies before Start + Duration, as does the
// retired original's. into gives each new reservation's id, instance type and count; the rest is the original's, and
// its price per instance is the original's scaled by the counts, so the reservation is worth what it was (a
// modification changes the shape of a reservation, not what was paid for it).
func modifyReservation(ri ReservedInstance, at time.Time, into ...ReservedInstance) []ReservedInstance {
	retired := ri
	retired.State, retired.End = "retired", at
	out := []ReservedInstance{retired}
	for _, n := range into {
		m := ri
		m.ID, m.InstanceType, m.Count = n.ID, n.InstanceType, n.Count
		m.State, m.Start = "active", at
		if n.Count > 0 && n.Count != ri.Count {
			scale := float64(ri.Count) / float64(n.Count)
			m.FixedPrice, m.UsagePrice = ri.FixedPrice*scale, ri.UsagePrice*scale
			m.Recurring = nil
			for _, c := range ri.Recurring {
				m.Recurring = append(m.Recurring, RecurringCharge{Amount: c.Amount * scale, Frequency: c.Frequency})
			}
		}
		out = append(out, m)
	}
	return out
}

// documentedRIStates are the values the API reference gives for the state filter. queued and queued-deleted are
// states a reservation has but not documented filter values: here they match nothing, the strictest reading, so a
// client that relies on them fails in the tests rather than in the field.
var documentedRIStates = map[string]bool{"payment-pending": true, "active": true, "payment-failed": true, "retired": true}

// xml.Marshal needs named types for the documents it wraps.
type reservedInstancesOut struct {
	Items []xmlReservedInstance `xml:"reservedInstancesSet>item"`
}

type regionsOut struct {
	Items []xmlRegion `xml:"regionInfo>item"`
}

type xmlRegion struct {
	RegionName     string `xml:"regionName"`
	RegionEndpoint string `xml:"regionEndpoint"`
	OptInStatus    string `xml:"optInStatus"`
}

// optInRegions are the regions AWS ships disabled; the rest are "opt-in-not-required".
var optInRegions = map[string]bool{"af-south-1": true, "ap-east-1": true, "ap-south-2": true, "ap-southeast-3": true,
	"ap-southeast-4": true, "eu-south-1": true, "eu-south-2": true, "eu-central-2": true, "me-south-1": true,
	"me-central-1": true, "il-central-1": true, "ca-west-1": true}

// describeRegions lists the regions enabled in the calling account.
func describeRegions(s *Server, r *request) (any, *Fault) {
	var names []string
	for name := range r.account.Regions {
		names = append(names, name)
	}
	sort.Strings(names)
	out := regionsOut{}
	for _, n := range names {
		status := "opt-in-not-required"
		if optInRegions[n] {
			status = "opted-in"
		}
		out.Items = append(out.Items, xmlRegion{RegionName: n, RegionEndpoint: "ec2." + n + ".amazonaws.com", OptInStatus: status})
	}
	return out, nil
}
