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
