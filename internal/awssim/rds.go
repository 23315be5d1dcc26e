package awssim

import "strconv"

// RDS speaks the query protocol (botocore rds 2014-10-31) and throttles with Throttling, HTTP 400.
func init() {
	registerService("rds", protocol{namespace: "http://rds.amazonaws.com/doc/2014-10-31/"}, Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	registerOperation("rds", "DescribeReservedDBInstances", "rds:DescribeReservedDBInstances", describeReservedDBInstances)
}

type xmlReservedDBInstance struct {
	ReservedDBInstanceId          string
	ReservedDBInstancesOfferingId string
	DBInstanceClass               string
	StartTime                     string
	Duration                      int
	FixedPrice                    float64
	UsagePrice                    float64
	CurrencyCode                  string
	DBInstanceCount               int
	ProductDescription            string
	OfferingType                  string
	MultiAZ                       bool
	State                         string
	ReservedDBInstanceArn         string
	LeaseId                       string
	RecurringCharges              []xmlRecurringCharge `xml:"RecurringCharges>RecurringCharge"`
}

func describeReservedDBInstances(s *Server, r *request) (any, *Fault) {
	max := 100
	if v := r.form.Get("MaxRecords"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 20 || n > 100 {
			return nil, &Fault{Status: 400, Code: "InvalidParameterValue", Message: "Invalid value for MaxRecords. Must be between 20 and 100"}
		}
		max = n
	}
	items, next, f := page(s, r, r.region.ReservedDBInstances, r.form.Get("Marker"), s.org.pageSize(max))
	if f != nil {
		f.Code = "InvalidParameterValue"
		return nil, f
	}
	out := struct {
		ReservedDBInstances []xmlReservedDBInstance `xml:"ReservedDBInstances>ReservedDBInstance"`
		Marker              string                  `xml:",omitempty"`
	}{Marker: next}
	for _, ri := range items {
		out.ReservedDBInstances = append(out.ReservedDBInstances, xmlReservedDBInstance{
			ReservedDBInstanceId: ri.ID, ReservedDBInstancesOfferingId: ri.OfferingID, DBInstanceClass: ri.Class,
			StartTime: isoTime(ri.Start), Duration: ri.Duration, CurrencyCode: ri.currency(), DBInstanceCount: ri.Count,
			// Per DB instance, as the offering is priced.
			FixedPrice: ri.FixedPrice, UsagePrice: ri.UsagePrice, RecurringCharges: xmlRecurringCharges(ri.Recurring),
			ProductDescription: ri.ProductDescription, OfferingType: ri.OfferingType, MultiAZ: ri.MultiAZ, State: ri.State,
			ReservedDBInstanceArn: "arn:" + s.org.partition() + ":rds:" + r.call.Region + ":" + r.account.ID + ":ri:" + ri.ID, LeaseId: ri.LeaseID,
		})
	}
	return out, nil
}
