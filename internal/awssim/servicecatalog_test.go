package awssim

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicecatalog"
	sctypes "github.com/aws/aws-sdk-go-v2/service/servicecatalog/types"
)

// TestSearchProvisionedProductsDefaultsAndSorting: today's API reference (and botocore) documents Account as the
// default access level; SortBy/SortOrder are honoured, and unsorted paging promises nothing.
func TestSearchProvisionedProductsDefaultsAndSorting(t *testing.T) {
	t.Parallel()
	s := start(t)
	cfg, err := assume(t, s, "222222222222", DemoExternalID)
	if err != nil {
		t.Fatal(err)
	}
	client := servicecatalog.NewFromConfig(cfg)
	list := func(in servicecatalog.SearchProvisionedProductsInput) ([]string, error) {
		var ids []string
		pages := servicecatalog.NewSearchProvisionedProductsPaginator(client, &in)
		for pages.HasMorePages() {
			p, err := pages.NextPage(context.Background())
			if err != nil {
				return ids, err
			}
			for _, pp := range p.ProvisionedProducts {
				ids = append(ids, aws.ToString(pp.Id))
			}
		}
		return ids, nil
	}
	var want []string
	for _, pp := range Demo(asOf).account("222222222222").Regions["us-east-1"].ProvisionedProducts {
		want = append(want, pp.ID)
	}
	slices.Sort(want)

	asc, err := list(servicecatalog.SearchProvisionedProductsInput{SortBy: aws.String("id")})
	if err != nil || !slices.Equal(asc, want) {
		t.Errorf("no access level filter, sorted by id: %v %v; want every product of the account %v", asc, err, want)
	}
	desc, err := list(servicecatalog.SearchProvisionedProductsInput{SortBy: aws.String("id"), SortOrder: sctypes.SortOrderDescending})
	slices.Reverse(desc)
	if err != nil || !slices.Equal(desc, want) {
		t.Errorf("descending: %v %v", desc, err)
	}
	unsorted, err := list(servicecatalog.SearchProvisionedProductsInput{})
	slices.Sort(unsorted)
	if err != nil || slices.Equal(unsorted, want) {
		t.Errorf("unsorted paging came out whole (%v, %v): the simulator must not promise an order AWS does not", unsorted, err)
	}
	if _, err := list(servicecatalog.SearchProvisionedProductsInput{SortBy: aws.String("createdTime")}); code(err) != "InvalidParametersException" {
		t.Errorf("undocumented sort field: %v", err)
	}
}

// TestSearchProvisionedProductsSearchQuery: Filters' one key, SearchQuery, searches the documented fields ("id:…",
// "status:…") or all of them (free text); a field matches when it contains the text, so a search by id can answer
// more than the one product, and every term must match. Another key, or a field it does not search, is refused.
func TestSearchProvisionedProductsSearchQuery(t *testing.T) {
	t.Parallel()
	s := start(t)
	cfg, err := assume(t, s, "222222222222", DemoExternalID)
	if err != nil {
		t.Fatal(err)
	}
	client := servicecatalog.NewFromConfig(cfg)
	search := func(filters map[string][]string) ([]string, error) {
		out, err := client.SearchProvisionedProducts(context.Background(), &servicecatalog.SearchProvisionedProductsInput{
			Filters: filters, SortBy: aws.String("id")})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, pp := range out.ProvisionedProducts {
			ids = append(ids, aws.ToString(pp.Id))
		}
		return ids, nil
	}
	for _, tc := range []struct {
		query []string
		want  []string
	}{
		{[]string{"id:pp-sharederr0002"}, []string{"pp-sharederr0002"}},
		{[]string{"id:pp-sharedok"}, []string{"pp-sharedok00003", "pp-sharedok00005"}},
		{[]string{"status:ERROR"}, []string{"pp-sharederr0002"}},
		{[]string{"status:AVAILABLE", "name:dns"}, []string{"pp-sharedok00003"}},
		{[]string{"egress"}, []string{"pp-sharedtnt0004"}},
		{[]string{"id:pp-nothere"}, nil},
	} {
		got, err := search(map[string][]string{"SearchQuery": tc.query})
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v %v, want %v", tc.query, got, err, tc.want)
		}
	}
	for name, filters := range map[string]map[string][]string{
		"another key":      {"Query": {"id:pp-sharederr0002"}},
		"an unknown field": {"SearchQuery": {"colour:red"}},
	} {
		if _, err := search(filters); code(err) != "InvalidParametersException" {
			t.Errorf("%s: %v, want InvalidParametersException", name, err)
		}
	}
}
