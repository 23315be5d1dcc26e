package awssim

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/aws/smithy-go"
)

// TestGetProductsWire: the real SDK client reads the demo's price list over awsJson1_1: each PriceList entry a JSON
// document in a string, in the documented shape, paged by NextToken; the filters keep a product's neighbours out;
// the model's InvalidParameterException, InvalidNextTokenException answer bad input, and a region without the API's
// endpoint is refused.
func TestGetProductsWire(t *testing.T) {
	t.Parallel()
	s := start(t)
	client := pricing.NewFromConfig(s.Config(DemoManagementAccount, "us-east-1"))
	ctx := context.Background()
	filters := func(kv ...string) []types.Filter {
		var out []types.Filter
		for i := 0; i < len(kv); i += 2 {
			out = append(out, types.Filter{Type: types.FilterTypeTermMatch, Field: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		return out
	}
	// m6i.large in eu-west-1: Linux, its Windows neighbour and its unused Capacity Reservation: three products, one
	// page each.
	var entries []string
	pages := pricing.NewGetProductsPaginator(client, &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), MaxResults: aws.Int32(1),
		Filters: filters("instanceType", "m6i.large", "regionCode", "eu-west-1")})
	calls := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if aws.ToString(page.FormatVersion) != "aws_v1" || len(page.PriceList) != 1 {
			t.Fatalf("page %d: format %q, %d entries", calls, aws.ToString(page.FormatVersion), len(page.PriceList))
		}
		entries = append(entries, page.PriceList...)
	}
	if calls != 3 {
		t.Errorf("%d pages for 3 products of one per page", calls)
	}
	var linux int
	for _, e := range entries {
		var doc struct {
			Product struct {
				ProductFamily string            `json:"productFamily"`
				Attributes    map[string]string `json:"attributes"`
				SKU           string            `json:"sku"`
			} `json:"product"`
			ServiceCode string `json:"serviceCode"`
			Terms       struct {
				OnDemand map[string]struct {
					PriceDimensions map[string]struct {
						Unit         string            `json:"unit"`
						PricePerUnit map[string]string `json:"pricePerUnit"`
					} `json:"priceDimensions"`
					OfferTermCode string `json:"offerTermCode"`
				} `json:"OnDemand"`
			} `json:"terms"`
		}
		if err := json.Unmarshal([]byte(e), &doc); err != nil {
			t.Fatalf("an entry is not a JSON document in a string: %v: %s", err, e)
		}
		term, ok := doc.Terms.OnDemand[doc.Product.SKU+"."+onDemandTermCode]
		if doc.ServiceCode != "AmazonEC2" || doc.Product.Attributes["servicecode"] != "AmazonEC2" || !ok || term.OfferTermCode != onDemandTermCode {
			t.Fatalf("entry not in the documented shape: %s", e)
		}
		dim, ok := term.PriceDimensions[doc.Product.SKU+"."+onDemandTermCode+"."+hourlyRateCode]
		if !ok || dim.Unit != "Hrs" {
			t.Fatalf("price dimension not keyed <sku>.<term>.<rate>: %s", e)
		}
		if doc.Product.Attributes["operatingSystem"] == "Linux" && doc.Product.Attributes["capacitystatus"] == "Used" {
			linux++
			if dim.PricePerUnit["USD"] != DemoOnDemandRates["eu-west-1/m6i.large"] {
				t.Errorf("m6i.large Linux at %q, declared %q", dim.PricePerUnit["USD"], DemoOnDemandRates["eu-west-1/m6i.large"])
			}
		}
	}
	if linux != 1 {
		t.Errorf("%d Linux products among %d", linux, len(entries))
	}
	// Every filter narrows: the Linux instance alone.
	out, err := client.GetProducts(ctx, &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"),
		Filters: filters("instanceType", "m6i.large", "regionCode", "eu-west-1", "operatingSystem", "Linux", "capacitystatus", "Used", "tenancy", "Shared")})
	if err != nil || len(out.PriceList) != 1 || out.NextToken != nil {
		t.Errorf("narrowed: %v entries, token %v, err %v", len(out.PriceList), out.NextToken, err)
	}

	for name, c := range map[string]struct {
		client *pricing.Client
		in     *pricing.GetProductsInput
		code   string
	}{
		"max results":   {client, &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), MaxResults: aws.Int32(101)}, "InvalidParameterException"},
		"format":        {client, &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), FormatVersion: aws.String("aws_v2")}, "InvalidParameterException"},
		"token":         {client, &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), NextToken: aws.String("not-issued")}, "InvalidNextTokenException"},
		"no endpoint":   {pricing.NewFromConfig(s.Config(DemoManagementAccount, "eu-west-1")), &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2")}, "UnrecognizedClientException"},
		"other filters": {client, &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), Filters: []types.Filter{{Type: types.FilterTypeContains, Field: aws.String("instanceType"), Value: aws.String("m6")}}}, "InvalidParameterException"},
	} {
		_, err := c.client.GetProducts(ctx, c.in)
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != c.code {
			t.Errorf("%s: err %v, want %s", name, err, c.code)
		}
	}
}
