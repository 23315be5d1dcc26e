package checks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicecatalog"
	sctypes "github.com/aws/aws-sdk-go-v2/service/servicecatalog/types"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

// ServiceCatalogProducts finds provisioned products in ERROR or TAINTED, those whose change is already failing, and
// those stuck changing.
type ServiceCatalogProducts struct{}

type serviceCatalogAPI interface {
	servicecatalog.SearchProvisionedProductsAPIClient
	DescribeRecord(context.Context, *servicecatalog.DescribeRecordInput, ...func(*servicecatalog.Options)) (*servicecatalog.DescribeRecordOutput, error)
	DescribeProvisioningArtifact(context.Context, *servicecatalog.DescribeProvisioningArtifactInput, ...func(*servicecatalog.Options)) (*servicecatalog.DescribeProvisioningArtifactOutput, error)
}

func (ServiceCatalogProducts) Name() string  { return "service-catalog-products" }
func (ServiceCatalogProducts) Title() string { return "Service Catalog provisioned products" }
func (ServiceCatalogProducts) Actions() []string {
	return []string{"servicecatalog:SearchProvisionedProducts", "servicecatalog:DescribeRecord", "servicecatalog:DescribeProvisioningArtifact"}
}
func (ServiceCatalogProducts) Layout() Layout {
	return Layout{Kind: "provisioned product", Columns: []Column{
		textColumn("product", "Product"), textColumn("version", "Version"), textColumn("version_description", "Version description"), textColumn("type", "Type"), textColumn("last_record", "Last record"),
		textColumn("record_status", "Record status"), textColumn("record_errors", "Record errors").wide(60), dateColumn("stuck_since", "Stuck since")}}
}

// DigestDetail names the product and its version: a broken product is usually one version's fault. The name is
// quoted as it reads, not escaped: the report folds the whole to one line of the words a person would see.
func (ServiceCatalogProducts) DigestDetail(f *Finding) string {
	if p := strings.Join(strings.Fields(f.Detail("product")), " "); p != "" {
		return `product "` + p + `" ` + f.Detail("version")
	}
	return ""
}

func (c ServiceCatalogProducts) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, servicecatalog.NewFromConfig(t.Config), t)
}

func (c ServiceCatalogProducts) run(ctx context.Context, api serviceCatalogAPI, t Target) ([]Finding, error) {
	// Account/self is today's documented default, but the default has been User (only what the calling role
	// provisioned) before, so it is asked for explicitly. Unsorted results come "not sorted", in no order a page
	// token can hold to, so the listing sorts by id; products seen on an earlier page are still dropped, since one
	// that changes while the listing runs can move.
	in := &servicecatalog.SearchProvisionedProductsInput{
		AccessLevelFilter: &sctypes.AccessLevelFilter{Key: sctypes.AccessLevelFilterKeyAccount, Value: aws.String("self")},
		SortBy:            aws.String("id"),
		SortOrder:         sctypes.SortOrderAscending,
	}
	versions := map[string]artifactVersion{}
	seen := map[string]bool{}
	var out []Finding
	pages := servicecatalog.NewSearchProvisionedProductsPaginator(api, in)
	tokens := NewPageTokens("SearchProvisionedProducts")
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Next(page.NextPageToken)
		}
		if err != nil {
			return out, fmt.Errorf("search provisioned products: %w", err)
		}
		for _, pp := range page.ProvisionedProducts {
			if seen[aws.ToString(pp.Id)] {
				continue
			}
			seen[aws.ToString(pp.Id)] = true
			f, err := c.inspect(ctx, api, t, pp, versions)
			if err != nil {
				return out, err
			}
			if f != nil {
				out = append(out, *f)
			}
		}
	}
	return out, nil
}

// artifactVersion is a provisioning artifact's name and description; unread says why it could not be described.
type artifactVersion struct{ name, description, unread string }

func (c ServiceCatalogProducts) inspect(ctx context.Context, api serviceCatalogAPI, t Target, pp sctypes.ProvisionedProductAttribute, versions map[string]artifactVersion) (*Finding, error) {
	id := aws.ToString(pp.Id)
	f := t.finding(c.Name(), "AWS::ServiceCatalog::CloudFormationProvisionedProduct", id)
	f.ResourceName = aws.ToString(pp.Name)
	f.Status = string(pp.Status)
	switch pp.Status {
	case sctypes.ProvisionedProductStatusError:
		f.Severity = Critical
	case sctypes.ProvisionedProductStatusTainted:
		f.Severity = Warning
	case sctypes.ProvisionedProductStatusUnderChange, sctypes.ProvisionedProductStatusPlanInProgress:
		// Whether a change is stuck is decided below from its record.
	default:
		return nil, nil
	}
	record, err := lastRecord(ctx, api, pp)
	if err != nil {
		return nil, fmt.Errorf("describe record %s of %s: %w", aws.ToString(pp.LastRecordId), id, err)
	}
	if f.Severity == "" && record != nil && record.Status == sctypes.RecordStatusInProgressInError {
		// The change is still running but has already failed: it will end in ERROR or TAINTED, so waiting for the
		// stuck threshold would only delay the news.
		f.Severity = Warning
		f.Reason = fmt.Sprintf("%s, its change already failing (%s)", pp.Status, record.Status)
	}
	if f.Severity == "" {
		since := aws.ToTime(pp.CreatedTime)
		if record != nil && record.CreatedTime != nil {
			since = *record.CreatedTime
		}
		age := t.AsOf.Sub(since)
		if age < t.Limits.StuckAfter {
			return nil, nil
		}
		f.Severity = Warning
		f.Reason = fmt.Sprintf("stuck for %s (threshold %s)", roundAge(age), roundAge(t.Limits.StuckAfter))
		f.SetDetail("stuck_since", DetailTime(since))
	}
	if msg := oneLine(aws.ToString(pp.StatusMessage)); msg != "" {
		f.Reason = JoinReason(f.Reason, msg)
	}
	f.SetDetail("product", aws.ToString(pp.ProductName))
	f.SetDetail("type", aws.ToString(pp.Type))
	if record != nil {
		f.SetDetail("last_record", fmt.Sprintf("%s %s", aws.ToString(record.RecordType), aws.ToString(record.RecordId)))
		f.SetDetail("record_status", string(record.Status))
		var errs []string
		for _, e := range record.RecordErrors {
			errs = append(errs, oneLine(fmt.Sprintf("%s: %s", aws.ToString(e.Code), aws.ToString(e.Description))))
		}
		f.SetDetail("record_errors", strings.Join(errs, "; "))
		if len(errs) > 0 && (f.Reason == "" || record.Status == sctypes.RecordStatusInProgressInError) {
			f.Reason = JoinReason(f.Reason, errs[0])
		}
	}
	if f.Reason == "" {
		f.Reason = "provisioned product is " + string(pp.Status)
	}
	v := artifactVersionOf(ctx, api, pp, versions)
	f.SetDetail("version", v.name)
	f.SetDetail("version_description", v.description)
	f.ConsoleURL = fmt.Sprintf("https://%s/servicecatalog/home?region=%s#/provisioned-products/%s", consoleHost(t.Partition), t.Region, url.PathEscape(id))
	return &f, nil
}

func lastRecord(ctx context.Context, api serviceCatalogAPI, pp sctypes.ProvisionedProductAttribute) (*sctypes.RecordDetail, error) {
	rid := aws.ToString(pp.LastRecordId)
	if rid == "" {
		return nil, nil
	}
	out, err := api.DescribeRecord(ctx, &servicecatalog.DescribeRecordInput{Id: aws.String(rid)})
	if err != nil {
		return nil, err
	}
	return out.RecordDetail, nil
}

// artifactVersionOf looks each provisioning artifact up once per check run. A product shared through an imported
// portfolio may not be describable by the audit role; the finding then says so instead of failing the whole check.
func artifactVersionOf(ctx context.Context, api serviceCatalogAPI, pp sctypes.ProvisionedProductAttribute, cache map[string]artifactVersion) artifactVersion {
	pid, aid := aws.ToString(pp.ProductId), aws.ToString(pp.ProvisioningArtifactId)
	key := pid + "/" + aid
	if v, ok := cache[key]; ok {
		return v
	}
	v := artifactVersion{name: aws.ToString(pp.ProvisioningArtifactName)}
	if aid != "" {
		out, err := api.DescribeProvisioningArtifact(ctx, &servicecatalog.DescribeProvisioningArtifactInput{
			ProductId: pp.ProductId, ProvisioningArtifactId: pp.ProvisioningArtifactId,
		})
		switch {
		case err != nil:
			// The code says what kind of failure; AWS's message says which action on which resource, what a person fixes.
			v.unread = "version lookup failed: " + awserr.Code(err) + ": " + oneLine(awserr.Message(err))
			v.description = "(" + v.unread + ")"
		case out.ProvisioningArtifactDetail != nil:
			if n := aws.ToString(out.ProvisioningArtifactDetail.Name); n != "" {
				v.name = n
			}
			v.description = oneLine(aws.ToString(out.ProvisioningArtifactDetail.Description))
		}
	}
	cache[key] = v
	return v
}

// roundAge prints 9h, 9h30m or 3d4h: precise enough for "how long has it been stuck".
func roundAge(d time.Duration) string {
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h >= 48:
		return fmt.Sprintf("%dd%dh", h/24, h%24)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// oneLine folds the multi-line messages AWS returns so they sit in one digest line and one cell.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// JoinReason joins two parts of a reason with ": ", either possibly empty: the checks' and the alerts' one way.
func JoinReason(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ": " + b
}

// ProvisionedProductInfo is one provisioned product as the check names it: id, name, product and version.
// VersionUnread says why the version's name could not be confirmed (the name then is the one the search returned).
type ProvisionedProductInfo struct {
	ID, Name, Product, Version string
	VersionUnread              string
}

// ErrProvisionedProductNotFound: the account holds no provisioned product of that id (visible to the caller).
var ErrProvisionedProductNotFound = errors.New("provisioned product not found")

// ProvisionedProduct reads one provisioned product by id with the check's own calls and IAM actions
// (SearchProvisionedProducts at the account's access level, DescribeProvisioningArtifact for the version), for the
// event-driven alert of its stack's failure.
func ProvisionedProduct(ctx context.Context, cfg aws.Config, id string) (ProvisionedProductInfo, error) {
	return provisionedProduct(ctx, servicecatalog.NewFromConfig(cfg), id)
}

func provisionedProduct(ctx context.Context, api serviceCatalogAPI, id string) (ProvisionedProductInfo, error) {
	// SearchQuery's field filter matches as a search, not an equality, so the answer is held to the id exactly.
	out, err := api.SearchProvisionedProducts(ctx, &servicecatalog.SearchProvisionedProductsInput{
		AccessLevelFilter: &sctypes.AccessLevelFilter{Key: sctypes.AccessLevelFilterKeyAccount, Value: aws.String("self")},
		Filters:           map[string][]string{string(sctypes.ProvisionedProductViewFilterBySearchQuery): {"id:" + id}},
	})
	if err != nil {
		return ProvisionedProductInfo{}, fmt.Errorf("search provisioned products for %s: %w", id, err)
	}
	for _, pp := range out.ProvisionedProducts {
		if aws.ToString(pp.Id) != id {
			continue
		}
		v := artifactVersionOf(ctx, api, pp, map[string]artifactVersion{})
		return ProvisionedProductInfo{ID: id, Name: aws.ToString(pp.Name), Product: aws.ToString(pp.ProductName), Version: v.name,
			VersionUnread: v.unread}, nil
	}
	return ProvisionedProductInfo{}, fmt.Errorf("%s: %w", id, ErrProvisionedProductNotFound)
}
