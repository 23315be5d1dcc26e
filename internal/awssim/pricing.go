package awssim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The AWS Price List Query API speaks awsJson1_1 (X-Amz-Target AWSPriceListService.GetProducts; botocore
// pricing/2017-10-15 service-2.json) under the signing name "pricing". Its data is public and the same for every
// caller, so it is global here: the organization's PriceList, whoever asks. Its endpoints are in us-east-1,
// eu-central-1 and ap-south-1 only (Billing User Guide, "Using the AWS Price List Query API"); a call signed for any
// other region is refused. Its model names ThrottlingException and AccessDeniedException, both HTTP 400 in awsJson1_1.
func init() {
	registerService("pricing", protocol{json: true, global: true, denied: Fault{Status: 400, Code: "AccessDeniedException"}},
		Fault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"})
	registerOperation("pricing", "GetProducts", "pricing:GetProducts", getProducts)
	registerDemo(demoPriceList)
}

// PriceListProduct is one product of the simulated AWS Price List: its service code, SKU, product family and
// attributes (what GetProducts' filters match), and its on-demand price per hour in USD, as a decimal string as the
// price list writes it. An empty USDPerHour is a product sold with no on-demand term.
type PriceListProduct struct {
	ServiceCode, SKU, ProductFamily string
	Attributes                      map[string]string
	USDPerHour                      string
}

// pricingEndpointRegions are the regions the Price List Query API answers in (the aws partition's).
var pricingEndpointRegions = []string{"us-east-1", "eu-central-1", "ap-south-1"}

// onDemandTermCode and hourlyRateCode are the offer term and rate codes of an on-demand hourly price, as the API
// reference's GetProducts example shows them (JRTCKXETXF is on demand; the rate code is per dimension).
const (
	onDemandTermCode = "JRTCKXETXF"
	hourlyRateCode   = "6YS6EN2CT7"
)

// maxPriceListResults is GetProductsMaxResults' bound (1 to 100) and the page size when none is asked for.
const maxPriceListResults = 100

func getProducts(s *Server, r *request) (any, *Fault) {
	if !slices.Contains(pricingEndpointRegions, r.call.Region) {
		return nil, &Fault{Status: 400, Code: "UnrecognizedClientException",
			Message: fmt.Sprintf("awssim: the Price List Query API has no endpoint in %s (only %s)", r.call.Region, strings.Join(pricingEndpointRegions, ", "))}
	}
	var in struct {
		ServiceCode string `json:"ServiceCode"`
		Filters     []struct {
			Type, Field, Value string
		} `json:"Filters"`
		FormatVersion string `json:"FormatVersion"`
		NextToken     string `json:"NextToken"`
		MaxResults    *int   `json:"MaxResults"`
	}
	if f := decodeJSON(r.body, &in); f != nil {
		return nil, f
	}
	invalid := func(msg string) *Fault { return &Fault{Status: 400, Code: "InvalidParameterException", Message: msg} }
	switch {
	case in.ServiceCode == "":
		return nil, invalid("ServiceCode is required")
	case in.FormatVersion != "" && in.FormatVersion != "aws_v1":
		return nil, invalid("Invalid FormatVersion: " + in.FormatVersion + " (valid: aws_v1)")
	case len(in.Filters) > 50:
		return nil, invalid("at most 50 filters are accepted")
	case in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > maxPriceListResults):
		return nil, invalid(fmt.Sprintf("MaxResults must be between 1 and %d", maxPriceListResults))
	}
	var matched []PriceListProduct
	for _, p := range s.org.PriceList {
		if p.ServiceCode != in.ServiceCode {
			continue
		}
		ok := true
		for _, f := range in.Filters {
			value := p.Attributes[f.Field]
			if f.Field == "ServiceCode" {
				value = p.ServiceCode
			}
			switch f.Type {
			case "TERM_MATCH", "EQUALS":
				ok = ok && value == f.Value
			default:
				// CONTAINS, ANY_OF and NONE_OF are in the model; nothing of ours sends them, so the simulator does not
				// pretend to know their exact rules.
				return nil, invalid("awssim implements only TERM_MATCH and EQUALS filters, not " + f.Type)
			}
		}
		if ok {
			matched = append(matched, p)
		}
	}
	slices.SortFunc(matched, func(a, b PriceListProduct) int { return strings.Compare(a.SKU, b.SKU) })
	size := maxPriceListResults
	if in.MaxResults != nil {
		size = *in.MaxResults
	}
	items, next, f := page(s, r, matched, in.NextToken, s.org.pageSize(size))
	if f != nil {
		return nil, f // InvalidNextTokenException, as GetProducts' model names it
	}
	out := struct {
		FormatVersion string   `json:"FormatVersion"`
		PriceList     []string `json:"PriceList"`
		NextToken     string   `json:"NextToken,omitempty"`
	}{FormatVersion: "aws_v1", PriceList: []string{}, NextToken: next}
	for _, p := range items {
		b, err := json.Marshal(priceListEntry(p, r.now))
		if err != nil {
			return nil, &Fault{Status: 500, Code: "InternalErrorException", Message: err.Error()}
		}
		// Each entry is a JSON document sent as a string (SynthesizedJsonPriceListJsonItem), not an object.
		out.PriceList = append(out.PriceList, string(b))
	}
	return out, nil
}

// priceListEntry is p as the price list writes a product: its attributes (with servicecode, as AWS's carry it), and
// its on-demand term, keyed by "<sku>.<offerTermCode>", whose one price dimension is keyed by
// "<sku>.<offerTermCode>.<rateCode>", in the shape of the API reference's example.
func priceListEntry(p PriceListProduct, now time.Time) map[string]any {
	attrs := map[string]string{"servicecode": p.ServiceCode}
	for k, v := range p.Attributes {
		attrs[k] = v
	}
	terms := map[string]any{}
	if p.USDPerHour != "" {
		term := p.SKU + "." + onDemandTermCode
		rate := term + "." + hourlyRateCode
		terms["OnDemand"] = map[string]any{term: map[string]any{
			"priceDimensions": map[string]any{rate: map[string]any{
				"unit": "Hrs", "endRange": "Inf", "beginRange": "0", "appliesTo": []string{}, "rateCode": rate,
				"description":  fmt.Sprintf("$%s per On Demand %s Hrs", p.USDPerHour, p.Attributes["instanceType"]),
				"pricePerUnit": map[string]string{"USD": p.USDPerHour},
			}},
			"sku": p.SKU, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": onDemandTermCode, "termAttributes": map[string]string{},
		}}
	}
	return map[string]any{
		"product":     map[string]any{"productFamily": p.ProductFamily, "attributes": attrs, "sku": p.SKU},
		"serviceCode": p.ServiceCode, "terms": terms,
		"version": "20261101000000", "publicationDate": now.UTC().Format("2006-01-02T15:04:05Z"),
	}
}

// EC2Product is an AmazonEC2 compute instance of the price list: the attributes orgaudit filters on, Linux, shared
// tenancy, no pre-installed software, no licence, the instance's own usage (capacitystatus Used).
func EC2Product(region, instanceType, usdPerHour string) PriceListProduct {
	return PriceListProduct{ServiceCode: "AmazonEC2", SKU: pseudoSKU("ec2", region, instanceType), ProductFamily: "Compute Instance", USDPerHour: usdPerHour,
		Attributes: map[string]string{"instanceType": instanceType, "regionCode": region, "operatingSystem": "Linux", "tenancy": "Shared",
			"preInstalledSw": "NA", "licenseModel": "No License required", "capacitystatus": "Used", "locationType": "AWS Region"}}
}

// RDSProduct is an AmazonRDS database instance of the price list: PostgreSQL, in the deployment given.
func RDSProduct(region, instanceType, deployment, usdPerHour string) PriceListProduct {
	return PriceListProduct{ServiceCode: "AmazonRDS", SKU: pseudoSKU("rds", region, instanceType, deployment), ProductFamily: "Database Instance", USDPerHour: usdPerHour,
		Attributes: map[string]string{"instanceType": instanceType, "regionCode": region, "databaseEngine": "PostgreSQL", "deploymentOption": deployment,
			"licenseModel": "No license required", "locationType": "AWS Region"}}
}

// pseudoSKU is a stable SKU for a product: AWS's are 16 upper-case letters and digits.
func pseudoSKU(parts ...string) string {
	return strings.ToUpper(strings.ReplaceAll(pseudoUUID("sku/"+strings.Join(parts, "/")), "-", ""))[:16]
}

// DemoOnDemandRates are the demo's declared on-demand rates, USD per hour, by "<region>/<instance type>" (EC2, Linux,
// shared tenancy) or "<region>/<DB instance class>/<deployment>" (RDS PostgreSQL). The demo's af-south-1 DB class has
// none on purpose: its reservation's on-demand rate is unknown, with the reason.
var DemoOnDemandRates = map[string]string{
	"eu-west-1/c6i.large": "0.096", "eu-west-1/c6i.xlarge": "0.192", "eu-west-1/c6i.2xlarge": "0.384", "eu-west-1/c7i.large": "0.1008",
	"eu-west-1/m5.large": "0.107", "eu-west-1/m6i.large": "0.107", "eu-west-1/m6i.xlarge": "0.214", "eu-west-1/r6i.large": "0.141",
	"eu-west-1/r6i.2xlarge": "0.564", "eu-west-1/t3.medium": "0.0456", "eu-west-1/t3.xlarge": "0.1824",
	"ap-southeast-2/c6g.large": "0.0888", "ap-southeast-2/m6g.large": "0.0992", "ap-southeast-2/r6g.large": "0.1312",
	"us-east-1/t3.large":               "0.0832",
	"us-east-1/db.m6g.large/Single-AZ": "0.159", "us-east-1/db.r6g.large/Single-AZ": "0.225", "us-east-1/db.r6g.xlarge/Single-AZ": "0.45",
	"us-east-1/db.r6g.2xlarge/Single-AZ": "0.899", "us-east-1/db.t4g.medium/Single-AZ": "0.065", "us-east-1/db.r6g.large/Multi-AZ": "0.45",
}

// demoPriceList puts DemoOnDemandRates in the price list, with neighbours a filter must tell apart: the same EC2 type
// on Windows, and as an unused Capacity Reservation (capacitystatus UnusedCapacityReservation), at other prices.
func demoPriceList(org *Organization, _ func(n int) time.Time) {
	keys := make([]string, 0, len(DemoOnDemandRates))
	for k := range DemoOnDemandRates {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts := strings.Split(k, "/")
		if len(parts) == 3 {
			org.PriceList = append(org.PriceList, RDSProduct(parts[0], parts[1], parts[2], DemoOnDemandRates[k]))
			continue
		}
		p := EC2Product(parts[0], parts[1], DemoOnDemandRates[k])
		windows := EC2Product(parts[0], parts[1], "9.99")
		windows.SKU, windows.Attributes = pseudoSKU("ec2-windows", k), cloneWith(p.Attributes, "operatingSystem", "Windows")
		unused := EC2Product(parts[0], parts[1], "8.88")
		unused.SKU, unused.Attributes = pseudoSKU("ec2-unused", k), cloneWith(p.Attributes, "capacitystatus", "UnusedCapacityReservation")
		org.PriceList = append(org.PriceList, p, windows, unused)
	}
}

func cloneWith(m map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	out[key] = value
	return out
}
