package pricing

import (
	"strings"
	"testing"
)

// TestPriceListEntriesAreBounded: what the price list sends is read only in its documented shape: an entry over the
// bound, one that is not JSON, and prices that are not one non-negative hourly USD figure are refused or leave the
// rate unknown, never a number made up.
func TestPriceListEntriesAreBounded(t *testing.T) {
	t.Parallel()
	entry := func(dims string) string {
		return `{"product":{"sku":"SKU1"},"terms":{"OnDemand":{"SKU1.JRTCKXETXF":{"priceDimensions":{` + dims + `}}}}}`
	}
	dim := func(code, unit, usd string) string {
		return `"SKU1.JRTCKXETXF.` + code + `":{"unit":"` + unit + `","pricePerUnit":{"USD":"` + usd + `"}}`
	}
	if _, err := parseProduct(strings.Repeat(" ", maxEntryBytes+1)); err == nil {
		t.Error("an entry over the bound was read")
	}
	if _, err := parseProduct(`{"product":`); err == nil {
		t.Error("an entry that is not JSON was read")
	}
	q := Query{ServiceCode: "AmazonEC2", Filters: []Filter{{"instanceType", "m6i.large"}}}
	for name, c := range map[string]struct {
		raw     string
		rate    float64
		unknown string
	}{
		"hourly":         {raw: entry(dim("A", "Hrs", "0.107")), rate: 0.107},
		"not a number":   {raw: entry(dim("A", "Hrs", "NaN")), unknown: "other than by one hourly USD figure"},
		"infinite":       {raw: entry(dim("A", "Hrs", "Inf")), unknown: "other than by one hourly USD figure"},
		"negative":       {raw: entry(dim("A", "Hrs", "-1")), unknown: "other than by one hourly USD figure"},
		"another unit":   {raw: entry(dim("A", "Quantity", "100")), unknown: "other than by one hourly USD figure"},
		"two dimensions": {raw: entry(dim("A", "Hrs", "0.1") + "," + dim("B", "Hrs", "0.2")), unknown: "other than by one hourly USD figure"},
		"no on-demand":   {raw: `{"product":{"sku":"SKU1"},"terms":{}}`, unknown: "has an on-demand price"},
		"another currency": {raw: `{"product":{"sku":"SKU1"},"terms":{"OnDemand":{"SKU1.T":{"priceDimensions":{"SKU1.T.R":{"unit":"Hrs","pricePerUnit":{"CNY":"0.7"}}}}}}}`,
			unknown: "other than by one hourly USD figure"},
	} {
		p, err := parseProduct(c.raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := rateOf(q, []product{p})
		if r.Unknown == "" && (c.unknown != "" || r.USDPerHour != c.rate) || c.unknown != "" && !strings.Contains(r.Unknown, c.unknown) {
			t.Errorf("%s: rate %v, unknown %q; want %v, %q", name, r.USDPerHour, r.Unknown, c.rate, c.unknown)
		}
	}
}
