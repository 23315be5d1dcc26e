// Package pricing reads public on-demand rates from the AWS Price List Query API (pricing:GetProducts) and puts on each
// expiring EC2 and RDS reservation what its capacity would cost on demand (checks.OnDemand). It is asked only with
// -on-demand (config.Pricing), once per run, with the function's own credentials. It imports checks (findings and
// their details) and awserr, nothing else of ours.
package pricing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

// Action is the IAM action every lookup needs; it takes no resource-level permissions, so it is granted on "*".
const Action = "pricing:GetProducts"

// EndpointRegion is where the client sends its queries. The Price List Query API has endpoints in a few regions only
// (us-east-1, eu-central-1 and ap-south-1 for the aws partition: Billing User Guide, "Using the AWS Price List Query
// API", https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/using-price-list-query-api.html); every one of
// them serves the prices of every region, so one is enough.
const EndpointRegion = "us-east-1"

// Partition is the one partition whose prices the client reads: the endpoint above is the aws partition's.
const Partition = "aws"

// Bounds on what the price list may send back for one query, checked before it is kept: a query narrowed to one
// instance type, region and platform matches a handful of products, so more than this is not a rate but a filter that
// went wrong.
const (
	maxPages      = 10
	maxEntryBytes = 256 << 10
	pageSize      = 100 // GetProductsMaxResults: 1 to 100 (botocore pricing/2017-10-15 service-2.json)
)

// Filter is one TERM_MATCH filter: a product attribute and the value it must have.
type Filter struct{ Field, Value string }

// Query is one on-demand rate to look up: the service's code (AmazonEC2, AmazonRDS) and its filters.
type Query struct {
	ServiceCode string
	Filters     []Filter
}

// key names q for the cache: equal queries, in whatever order their filters come, share one lookup.
func (q Query) key() string {
	parts := make([]string, len(q.Filters))
	for i, f := range q.Filters {
		parts[i] = f.Field + "=" + f.Value
	}
	slices.Sort(parts)
	return q.ServiceCode + "|" + strings.Join(parts, "|")
}

// String is q as a person reads it in a reason.
func (q Query) String() string {
	parts := make([]string, len(q.Filters))
	for i, f := range q.Filters {
		parts[i] = f.Field + "=" + f.Value
	}
	return q.ServiceCode + " " + strings.Join(parts, ", ")
}

// Rate is what one unit costs per hour on demand, in USD, or why the price list could not say (Unknown).
type Rate struct {
	USDPerHour float64
	Unknown    string
}

// Client looks rates up, each distinct query once per run however many findings ask for it and however many ask at
// once: the first asker queries, the others wait for its answer. It is safe for concurrent use.
type Client struct {
	api awspricing.GetProductsAPIClient

	mu      sync.Mutex
	entries map[string]*entry
	// denied is the first refusal (AccessDenied): every later query would be refused alike, so none is sent.
	denied error
}

type entry struct {
	done chan struct{}
	rate Rate
	err  error
}

// New is a client over api (a *pricing.Client, or a fake in small tests).
func New(api awspricing.GetProductsAPIClient) *Client {
	return &Client{api: api, entries: map[string]*entry{}}
}

// NewFromConfig is a client of the Price List Query API in EndpointRegion with cfg's credentials, retries and HTTP
// client. An endpoint cfg sets (the simulator's) is kept.
func NewFromConfig(cfg aws.Config) *Client {
	cfg = cfg.Copy()
	cfg.Region = EndpointRegion
	return New(awspricing.NewFromConfig(cfg))
}

// Rate is q's hourly on-demand rate. An error is the price list not read (refused, throttled past the retries, a
// broken page); a rate the list could not give unambiguously is a Rate with Unknown set, not an error.
func (c *Client) Rate(ctx context.Context, q Query) (Rate, error) {
	k := q.key()
	c.mu.Lock()
	if e, ok := c.entries[k]; ok {
		c.mu.Unlock()
		select {
		case <-e.done:
			return e.rate, e.err
		case <-ctx.Done():
			return Rate{}, context.Cause(ctx)
		}
	}
	e := &entry{done: make(chan struct{})}
	c.entries[k] = e
	denied := c.denied
	c.mu.Unlock()
	if denied != nil {
		e.err = denied
	} else {
		e.rate, e.err = c.lookup(ctx, q)
		if awserr.IsAccessDenied(e.err) {
			c.mu.Lock()
			c.denied = e.err
			c.mu.Unlock()
		}
	}
	close(e.done)
	return e.rate, e.err
}

// lookup sends q: every page of its products, then the one hourly rate they agree on.
func (c *Client) lookup(ctx context.Context, q Query) (Rate, error) {
	in := &awspricing.GetProductsInput{ServiceCode: aws.String(q.ServiceCode), FormatVersion: aws.String("aws_v1"), MaxResults: aws.Int32(pageSize)}
	for _, f := range q.Filters {
		in.Filters = append(in.Filters, pricingtypes.Filter{Type: pricingtypes.FilterTypeTermMatch, Field: aws.String(f.Field), Value: aws.String(f.Value)})
	}
	pages := awspricing.NewGetProductsPaginator(c.api, in)
	seen := map[string]bool{}
	var products []product
	for n := 0; pages.HasMorePages(); n++ {
		if n == maxPages {
			return Rate{}, fmt.Errorf("get products %s: more than %d pages of products", q, maxPages)
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return Rate{}, fmt.Errorf("get products %s: %w", q, err)
		}
		// The SDK's StopOnDuplicateToken would end quietly on a token sent twice: the products after it unread, and
		// a rate taken from part of the list. A repeated token is the error it is.
		if t := aws.ToString(page.NextToken); t != "" {
			if seen[t] {
				return Rate{}, fmt.Errorf("get products %s: %w", q, &awserr.RepeatedTokenError{Operation: "GetProducts"})
			}
			seen[t] = true
		}
		for _, raw := range page.PriceList {
			p, err := parseProduct(raw)
			if err != nil {
				return Rate{}, fmt.Errorf("get products %s: %w", q, err)
			}
			products = append(products, p)
		}
	}
	return rateOf(q, products), nil
}

// product is what a PriceList entry says of one product's on-demand price. Each entry is a JSON document of its own,
// sent as a string (GetProductsResponse.PriceList, SynthesizedJsonPriceListJsonItem in the botocore model; see the
// GetProducts example in botocore's pricing/2017-10-15/examples-1.json):
//
//	{"product":{"productFamily":…,"attributes":{…},"sku":…},"serviceCode":…,
//	 "terms":{"OnDemand":{"<sku>.<offerTermCode>":{"priceDimensions":{"<sku>.<offerTermCode>.<rateCode>":
//	   {"unit":"Hrs","pricePerUnit":{"USD":"0.138"}}}}}}}
type product struct {
	SKU string
	// Hourly are the USD prices per hour of its on-demand terms' dimensions; Other describes any dimension that is
	// not one (another unit, another currency), which makes the product's rate no single hourly figure.
	Hourly []float64
	Other  []string
}

type priceListItem struct {
	Product struct {
		SKU string `json:"sku"`
	} `json:"product"`
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

func parseProduct(raw string) (product, error) {
	if len(raw) > maxEntryBytes {
		return product{}, fmt.Errorf("a price list entry of %d bytes; at most %d are read", len(raw), maxEntryBytes)
	}
	var item priceListItem
	if err := json.Unmarshal([]byte(raw), &item); err != nil {
		return product{}, fmt.Errorf("a price list entry is not the documented JSON: %w", err)
	}
	p := product{SKU: item.Product.SKU}
	for _, term := range item.Terms.OnDemand {
		for _, d := range term.PriceDimensions {
			usd, ok := d.PricePerUnit["USD"]
			v, err := strconv.ParseFloat(usd, 64)
			// ParseFloat reads "NaN" and "Inf" without an error; neither is a price, and neither encodes as JSON.
			if d.Unit != "Hrs" || !ok || err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				p.Other = append(p.Other, fmt.Sprintf("%q per %q", usd, d.Unit))
				continue
			}
			p.Hourly = append(p.Hourly, v)
		}
	}
	return p, nil
}

// rateOf is the one hourly rate products agree on, or why there is none: no product matches, a product prices its
// hours other than by one hourly figure, or products that all match disagree (ambiguous: not a guess).
func rateOf(q Query, products []product) Rate {
	if len(products) == 0 {
		return Rate{Unknown: "no product in the AWS price list matches " + q.String()}
	}
	var rates []float64
	for _, p := range products {
		switch {
		case len(p.Hourly) == 0 && len(p.Other) == 0:
			continue // no on-demand term: a product sold only reserved
		case len(p.Hourly) != 1 || len(p.Other) > 0:
			return Rate{Unknown: fmt.Sprintf("the AWS price list prices product %s other than by one hourly USD figure (%s)", p.SKU, describe(p))}
		}
		rates = append(rates, p.Hourly[0])
	}
	if len(rates) == 0 {
		return Rate{Unknown: "no product in the AWS price list that matches " + q.String() + " has an on-demand price"}
	}
	slices.Sort(rates)
	if distinct := slices.Compact(slices.Clone(rates)); len(distinct) > 1 {
		text := make([]string, len(distinct))
		for i, r := range distinct {
			text[i] = strconv.FormatFloat(r, 'f', -1, 64)
		}
		return Rate{Unknown: fmt.Sprintf("%d products in the AWS price list match %s at different hourly rates (USD %s): ambiguous",
			len(rates), q, strings.Join(text, ", "))}
	}
	return Rate{USDPerHour: rates[0]}
}

func describe(p product) string {
	var parts []string
	for _, h := range p.Hourly {
		parts = append(parts, strconv.FormatFloat(h, 'f', -1, 64)+" USD per Hrs")
	}
	return strings.Join(append(parts, p.Other...), ", ")
}

// errNoEndpoint is a partition whose prices the client cannot read.
var errNoEndpoint = errors.New("the Price List Query API is read in the aws partition only")
