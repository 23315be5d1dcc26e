package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicecatalog"
	sctypes "github.com/aws/aws-sdk-go-v2/service/servicecatalog/types"
	"github.com/aws/smithy-go"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

type fakeServiceCatalog struct {
	pages     [][]sctypes.ProvisionedProductAttribute
	searchErr error
	records   map[string]sctypes.RecordDetail
	artifacts map[string]sctypes.ProvisioningArtifactDetail
	artErr    error

	filters       []*sctypes.AccessLevelFilter
	sorts         []string
	artifactCalls int
	recordCalls   map[string]int
}

func (f *fakeServiceCatalog) SearchProvisionedProducts(_ context.Context, in *servicecatalog.SearchProvisionedProductsInput, _ ...func(*servicecatalog.Options)) (*servicecatalog.SearchProvisionedProductsOutput, error) {
	f.filters = append(f.filters, in.AccessLevelFilter)
	f.sorts = append(f.sorts, aws.ToString(in.SortBy)+" "+string(in.SortOrder))
	if f.searchErr != nil {
		return nil, f.searchErr
	}
	out := &servicecatalog.SearchProvisionedProductsOutput{}
	out.ProvisionedProducts, out.NextPageToken = fakePage(f.pages, in.PageToken)
	return out, nil
}

func (f *fakeServiceCatalog) DescribeRecord(_ context.Context, in *servicecatalog.DescribeRecordInput, _ ...func(*servicecatalog.Options)) (*servicecatalog.DescribeRecordOutput, error) {
	if f.recordCalls == nil {
		f.recordCalls = map[string]int{}
	}
	f.recordCalls[aws.ToString(in.Id)]++
	r, ok := f.records[aws.ToString(in.Id)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no record"}
	}
	return &servicecatalog.DescribeRecordOutput{RecordDetail: &r}, nil
}

func (f *fakeServiceCatalog) DescribeProvisioningArtifact(_ context.Context, in *servicecatalog.DescribeProvisioningArtifactInput, _ ...func(*servicecatalog.Options)) (*servicecatalog.DescribeProvisioningArtifactOutput, error) {
	f.artifactCalls++
	if f.artErr != nil {
		return nil, f.artErr
	}
	d := f.artifacts[aws.ToString(in.ProductId)+"/"+aws.ToString(in.ProvisioningArtifactId)]
	return &servicecatalog.DescribeProvisioningArtifactOutput{ProvisioningArtifactDetail: &d}, nil
}

func pp(id string, status sctypes.ProvisionedProductStatus, record string) sctypes.ProvisionedProductAttribute {
	return sctypes.ProvisionedProductAttribute{Id: aws.String(id), Name: aws.String("name-" + id), Status: status,
		ProductId: aws.String("prod-1"), ProductName: aws.String("VPC baseline"), ProvisioningArtifactId: aws.String("pa-1"),
		ProvisioningArtifactName: aws.String("v1"), LastRecordId: aws.String(record), Type: aws.String("CFN_STACK")}
}

func TestServiceCatalogProducts(t *testing.T) {
	t.Parallel()
	asOf := "2026-11-22T12:00:00Z"
	at := func(d time.Duration) *time.Time { v := mustTime(t, asOf).Add(-d); return &v }
	records := map[string]sctypes.RecordDetail{
		"rec-err":     {RecordId: aws.String("rec-err"), RecordType: aws.String("PROVISION_PRODUCT"), Status: sctypes.RecordStatusFailed, CreatedTime: at(30 * time.Hour), RecordErrors: []sctypes.RecordError{{Code: aws.String("CREATE_FAILED"), Description: aws.String("Bucket\nalready exists")}}},
		"rec-taint":   {RecordId: aws.String("rec-taint"), Status: sctypes.RecordStatusFailed, CreatedTime: at(2 * time.Hour)},
		"rec-stuck":   {RecordId: aws.String("rec-stuck"), Status: sctypes.RecordStatusInProgress, CreatedTime: at(7 * time.Hour)},
		"rec-edge":    {RecordId: aws.String("rec-edge"), Status: sctypes.RecordStatusInProgress, CreatedTime: at(6 * time.Hour)},
		"rec-young":   {RecordId: aws.String("rec-young"), Status: sctypes.RecordStatusInProgress, CreatedTime: at(5*time.Hour + 59*time.Minute)},
		"rec-planold": {RecordId: aws.String("rec-planold"), Status: sctypes.RecordStatusCreated, CreatedTime: at(48 * time.Hour)},
		// Failing already: the change will end in ERROR or TAINTED whatever the threshold says.
		"rec-failing": {RecordId: aws.String("rec-failing"), Status: sctypes.RecordStatusInProgressInError, CreatedTime: at(10 * time.Minute),
			RecordErrors: []sctypes.RecordError{{Code: aws.String("UPDATE_FAILED"), Description: aws.String("Subnet: CIDR conflict")}}},
	}
	artifacts := map[string]sctypes.ProvisioningArtifactDetail{"prod-1/pa-1": {Name: aws.String("v1.2.0"), Description: aws.String("With flow logs")}}
	cases := []struct {
		name      string
		fake      *fakeServiceCatalog
		want      map[string]Severity
		wantErr   string
		wantCalls int
	}{
		{name: "empty", fake: &fakeServiceCatalog{}, want: map[string]Severity{}},
		{name: "several pages", fake: &fakeServiceCatalog{records: records, artifacts: artifacts, pages: [][]sctypes.ProvisionedProductAttribute{
			{pp("pp-ok", sctypes.ProvisionedProductStatusAvailable, "rec-ok"), pp("pp-err", sctypes.ProvisionedProductStatusError, "rec-err")},
			{pp("pp-taint", sctypes.ProvisionedProductStatusTainted, "rec-taint"), pp("pp-stuck", sctypes.ProvisionedProductStatusUnderChange, "rec-stuck")},
			{pp("pp-edge", sctypes.ProvisionedProductStatusUnderChange, "rec-edge"), pp("pp-young", sctypes.ProvisionedProductStatusUnderChange, "rec-young"),
				pp("pp-planold", sctypes.ProvisionedProductStatusPlanInProgress, "rec-planold")},
		}}, want: map[string]Severity{"pp-err": Critical, "pp-taint": Warning, "pp-stuck": Warning, "pp-edge": Warning, "pp-planold": Warning}, wantCalls: 1},
		{name: "failing change at once, duplicates across pages once", fake: &fakeServiceCatalog{records: records, artifacts: artifacts, pages: [][]sctypes.ProvisionedProductAttribute{
			{pp("pp-failing", sctypes.ProvisionedProductStatusUnderChange, "rec-failing"), pp("pp-err", sctypes.ProvisionedProductStatusError, "rec-err")},
			// A product can move between pages while the listing runs: the one seen already is not reported twice.
			{pp("pp-err", sctypes.ProvisionedProductStatusError, "rec-err"), pp("pp-young", sctypes.ProvisionedProductStatusUnderChange, "rec-young")},
		}}, want: map[string]Severity{"pp-failing": Warning, "pp-err": Critical}, wantCalls: 1},
		{name: "api error", fake: &fakeServiceCatalog{searchErr: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}}, wantErr: "AccessDeniedException"},
		{name: "record lookup fails", fake: &fakeServiceCatalog{records: map[string]sctypes.RecordDetail{}, pages: [][]sctypes.ProvisionedProductAttribute{{pp("pp-err", sctypes.ProvisionedProductStatusError, "rec-missing")}}}, wantErr: "ResourceNotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ServiceCatalogProducts{}.run(context.Background(), c.fake, testTarget(t, asOf))
			declared(t, ServiceCatalogProducts{}, got)
			if c.wantErr != "" {
				if err == nil || awserr.APICode(err) != c.wantErr {
					t.Fatalf("err = %v, want code %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range c.fake.filters {
				if f == nil || f.Key != sctypes.AccessLevelFilterKeyAccount || aws.ToString(f.Value) != "self" {
					t.Fatalf("every search must use AccessLevelFilter Account/self, got %+v", f)
				}
			}
			// Unsorted results are in no promised order, so pages of one listing can overlap or miss a product.
			for _, s := range c.fake.sorts {
				if s != "id ASCENDING" {
					t.Fatalf("every search must sort by id, got %q", s)
				}
			}
			m := byID(got)
			if len(m) != len(c.want) || len(got) != len(m) {
				t.Fatalf("findings %v (%d), want %v", keys(m), len(got), c.want)
			}
			for id, n := range c.fake.recordCalls {
				if n > 1 {
					t.Errorf("record %s described %d times: a duplicate product is dropped before it is inspected", id, n)
				}
			}
			for id, sev := range c.want {
				if m[id].Severity != sev {
					t.Errorf("%s severity %q, want %q", id, m[id].Severity, sev)
				}
			}
			if c.fake.artifactCalls != c.wantCalls {
				t.Errorf("DescribeProvisioningArtifact called %d times, want %d (once per artifact)", c.fake.artifactCalls, c.wantCalls)
			}
			if f, ok := m["pp-err"]; ok {
				if f.Detail("product") != "VPC baseline" || f.Detail("version") != "v1.2.0" || f.Detail("version_description") != "With flow logs" {
					t.Errorf("product/version details: %v", f.Details)
				}
				if f.Detail("record_errors") != "CREATE_FAILED: Bucket already exists" || !strings.Contains(f.Reason, "Bucket already exists") {
					t.Errorf("record errors not carried in one line: %q / %q", f.Detail("record_errors"), f.Reason)
				}
				if f.AccountID != "123456789012" || f.Region != "eu-west-1" || f.ConsoleURL == "" {
					t.Errorf("where: %+v", f)
				}
			}
			if f, ok := m["pp-failing"]; ok && (!strings.Contains(f.Reason, "IN_PROGRESS_IN_ERROR") || !strings.Contains(f.Reason, "CIDR conflict") || f.Detail("record_status") != "IN_PROGRESS_IN_ERROR") {
				t.Errorf("failing change: %q %v", f.Reason, f.Details)
			}
			if f, ok := m["pp-stuck"]; ok && !strings.Contains(f.Reason, "stuck for 7h (threshold 6h)") {
				t.Errorf("stuck reason %q", f.Reason)
			}
		})
	}
}

func TestServiceCatalogArtifactLookupFailureIsShown(t *testing.T) {
	t.Parallel()
	// AWS's message names what to fix; the code alone does not.
	const refusal = "User: arn:aws:sts::123456789012:assumed-role/OrgAuditReadOnly/orgaudit is not authorized to perform: " +
		"servicecatalog:DescribeProvisioningArtifact on resource: arn:aws:catalog:eu-west-1:123456789012:product/prod-1\nbecause no identity-based policy allows it"
	fake := &fakeServiceCatalog{artErr: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: refusal},
		records: map[string]sctypes.RecordDetail{"r": {RecordId: aws.String("r")}},
		pages:   [][]sctypes.ProvisionedProductAttribute{{pp("pp-1", sctypes.ProvisionedProductStatusError, "r"), pp("pp-2", sctypes.ProvisionedProductStatusError, "r")}}}
	got, err := ServiceCatalogProducts{}.run(context.Background(), fake, testTarget(t, "2026-11-22T00:00:00Z"))
	declared(t, ServiceCatalogProducts{}, got)
	if err != nil || len(got) != 2 {
		t.Fatalf("got %d findings, %v", len(got), err)
	}
	want := "(version lookup failed: AccessDeniedException: " + strings.Join(strings.Fields(refusal), " ") + ")"
	if d := got[0].Detail("version_description"); d != want || got[0].Detail("version") != "v1" {
		t.Errorf("failed lookup must say so in AWS's words, on one line, and keep the search's version name:\n got %q\nwant %q", d, want)
	}
	if fake.artifactCalls != 1 {
		t.Errorf("failed lookups are cached too: %d calls", fake.artifactCalls)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
