package checks

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/orgaudit/orgaudit/internal/awserr"
)

type fakeStacks struct {
	pages   [][]cfntypes.StackSummary
	err     error
	filters [][]cfntypes.StackStatus
}

func (f *fakeStacks) ListStacks(_ context.Context, in *cloudformation.ListStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.ListStacksOutput, error) {
	f.filters = append(f.filters, in.StackStatusFilter)
	if f.err != nil {
		return nil, f.err
	}
	out := &cloudformation.ListStacksOutput{}
	out.StackSummaries, out.NextToken = fakePage(f.pages, in.NextToken)
	return out, nil
}

func stack(name string, status cfntypes.StackStatus, reason, root string) cfntypes.StackSummary {
	id := "arn:aws:cloudformation:eu-west-1:123456789012:stack/" + name + "/0000"
	s := cfntypes.StackSummary{StackId: aws.String(id), StackName: aws.String(name), StackStatus: status, StackStatusReason: aws.String(reason)}
	if root != "" {
		rid := "arn:aws:cloudformation:eu-west-1:123456789012:stack/" + root + "/0000"
		s.RootId, s.ParentId = aws.String(rid), aws.String(rid)
	}
	return s
}

// at sets when a stack last changed: its update time, or its creation time when it was never updated.
func at(s cfntypes.StackSummary, created, updated time.Time) cfntypes.StackSummary {
	s.CreationTime = aws.Time(created)
	if !updated.IsZero() {
		s.LastUpdatedTime = aws.Time(updated)
	}
	return s
}

func TestCloudFormationFailedStacks(t *testing.T) {
	t.Parallel()
	asOf := mustTime(t, "2026-11-22T00:00:00Z")
	ago := func(d time.Duration) time.Time { return asOf.Add(-d) }
	var never time.Time
	cases := []struct {
		name    string
		fake    *fakeStacks
		want    map[string]Severity
		wantErr string
	}{
		{name: "empty", fake: &fakeStacks{}, want: map[string]Severity{}},
		{name: "several pages with nested stacks", fake: &fakeStacks{pages: [][]cfntypes.StackSummary{
			{stack("core", cfntypes.StackStatusUpdateRollbackComplete, "failed to update: [Vpc]", ""), stack("core-Vpc-1", cfntypes.StackStatusUpdateFailed, "CIDR conflicts", "core"),
				// A reason that reads like another entry of nested_failures: nested_stacks names only the stacks.
				stack("core-Lock-2", cfntypes.StackStatusUpdateFailed, "lock held; prod-db UPDATE_FAILED: see ticket", "core")},
			{stack("dns", cfntypes.StackStatusRollbackComplete, "HostedZone failed", ""), stack("SC-123456789012-pp-abc123", cfntypes.StackStatusDeleteFailed, "", "")},
			{stack("orphan-child", cfntypes.StackStatusCreateFailed, "bad", "healthy-root"), stack("old", cfntypes.StackStatusUpdateRollbackComplete, "", "")},
		}}, want: map[string]Severity{"core": Critical, "dns": Warning, "SC-123456789012-pp-abc123": Critical, "orphan-child": Critical, "old": Notice}},
		{name: "transitional stacks stuck past the threshold", fake: &fakeStacks{pages: [][]cfntypes.StackSummary{{
			at(stack("rb-stuck", cfntypes.StackStatusRollbackInProgress, "", ""), ago(30*24*time.Hour), ago(7*time.Hour)),
			at(stack("urb-young", cfntypes.StackStatusUpdateRollbackInProgress, "", ""), ago(30*24*time.Hour), ago(time.Hour)),
			at(stack("urb-edge", cfntypes.StackStatusUpdateRollbackInProgress, "", ""), ago(30*24*time.Hour), ago(6*time.Hour)),
			at(stack("cleanup-stuck", cfntypes.StackStatusUpdateRollbackCompleteCleanupInProgress, "", ""), ago(48*time.Hour), never),
			at(stack("import-rb-stuck", cfntypes.StackStatusImportRollbackInProgress, "", ""), ago(9*time.Hour), ago(8*time.Hour)),
		}, {
			at(stack("delete-stuck", cfntypes.StackStatusDeleteInProgress, "", ""), ago(90*24*time.Hour), ago(30*time.Hour)),
			at(stack("review-stuck", cfntypes.StackStatusReviewInProgress, "", ""), ago(10*24*time.Hour), never),
			at(stack("review-young", cfntypes.StackStatusReviewInProgress, "", ""), ago(5*time.Hour+59*time.Minute), never),
			// An old creation does not make a stack stuck when it changed recently.
			at(stack("delete-young", cfntypes.StackStatusDeleteInProgress, "", ""), ago(400*24*time.Hour), ago(10*time.Minute)),
			at(stack("import-rb-complete", cfntypes.StackStatusImportRollbackComplete, "Import rolled back", ""), ago(48*time.Hour), ago(47*time.Hour)),
		}}}, want: map[string]Severity{"rb-stuck": Warning, "urb-edge": Warning, "cleanup-stuck": Warning, "import-rb-stuck": Warning,
			"delete-stuck": Warning, "review-stuck": Warning, "import-rb-complete": Notice}},
		{name: "api error", fake: &fakeStacks{err: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}}, wantErr: "Throttling"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := CloudFormationFailedStacks{}.run(context.Background(), c.fake, testTarget(t, "2026-11-22T00:00:00Z"))
			declared(t, CloudFormationFailedStacks{}, got)
			if c.wantErr != "" {
				if awserr.APICode(err) != c.wantErr {
					t.Fatalf("err = %v, want %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range c.fake.filters {
				for _, s := range []cfntypes.StackStatus{"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED",
					"UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
					"ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
					"IMPORT_ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS", "REVIEW_IN_PROGRESS"} {
					if !slices.Contains(f, s) {
						t.Errorf("status filter lacks %s", s)
					}
				}
				if slices.Contains(f, cfntypes.StackStatusCreateComplete) || slices.Contains(f, cfntypes.StackStatusDeleteComplete) {
					t.Errorf("status filter must not ask for healthy or deleted stacks: %v", f)
				}
			}
			m := byID(got)
			if len(m) != len(c.want) {
				t.Fatalf("findings %v, want %v", keys(m), c.want)
			}
			for id, sev := range c.want {
				if m[id].Severity != sev {
					t.Errorf("%s severity %q, want %q", id, m[id].Severity, sev)
				}
			}
			if core, ok := m["core"]; ok {
				if !strings.Contains(core.Detail("nested_failures"), "core-Vpc-1 UPDATE_FAILED: CIDR conflicts") || !strings.Contains(core.Reason, "CIDR conflicts") {
					t.Errorf("nested failure not folded into its root: %+v", core)
				}
				if got := core.Detail("nested_stacks"); got != "core-Vpc-1, core-Lock-2" {
					t.Errorf("nested_stacks = %q, want the two nested stacks' names alone", got)
				}
			}
			if orphan, ok := m["orphan-child"]; ok && orphan.Detail("root_stack") != "healthy-root" {
				t.Errorf("a nested stack whose root is healthy must name its root: %v", orphan.Details)
			}
			if f, ok := m["rb-stuck"]; ok && (!strings.HasPrefix(f.Reason, "stuck for 7h (threshold 6h)") || f.Detail("last_updated") != "2026-11-21T17:00:00Z") {
				t.Errorf("stuck stack must say how long, from its last update: %q %v", f.Reason, f.Details)
			}
			if f, ok := m["cleanup-stuck"]; ok && f.Reason != "stuck for 2d0h (threshold 6h)" {
				t.Errorf("a stack never updated is measured from its creation: %q", f.Reason)
			}
			if sc, ok := m["SC-123456789012-pp-abc123"]; ok && sc.Detail("service_catalog_product") != "pp-abc123" {
				t.Errorf("Service Catalog stack not linked: %v", sc.Details)
			}
		})
	}
}
