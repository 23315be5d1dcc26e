package checks

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// CloudFormationFailedStacks finds stacks left in a failed state, or stuck in a rollback, cleanup, delete or review for
// longer than Limits.StuckAfter, one finding per root stack with its failed nested stacks folded in, because the
// nested stack's reason is usually the real cause of the root's failure.
type CloudFormationFailedStacks struct{}

func (CloudFormationFailedStacks) Name() string      { return "cloudformation-failed-stacks" }
func (CloudFormationFailedStacks) Title() string     { return "CloudFormation stacks failed or stuck" }
func (CloudFormationFailedStacks) Actions() []string { return []string{"cloudformation:ListStacks"} }
func (CloudFormationFailedStacks) Layout() Layout {
	return Layout{Kind: "stack", Columns: []Column{
		textColumn("stack_id", "Stack ID"), textColumn("root_stack", "Root stack"), textColumn("nested_stacks", "Nested stacks").wide(40), textColumn("nested_failures", "Nested failures").wide(60), textColumn("service_catalog_product", "Service Catalog product"),
		dateColumn("last_updated", "Last updated")}}
}
func (CloudFormationFailedStacks) DigestDetail(*Finding) string { return "" }

// NestedStacksSeparator joins the names in a failed root's nested_stacks detail: a stack name ([A-Za-z][-A-Za-z0-9]*)
// holds neither a comma nor a space.
const NestedStacksSeparator = ", "

// stackSeverity is the explicit failure filter. UPDATE_ROLLBACK_COMPLETE and IMPORT_ROLLBACK_COMPLETE are healthy
// stacks whose last update or import failed, so they are only notices. The transitional statuses are findings only
// once the stack has sat in them past the stuck threshold (see stuckStatuses).
var stackSeverity = map[cfntypes.StackStatus]Severity{
	cfntypes.StackStatusCreateFailed:           Critical,
	cfntypes.StackStatusRollbackFailed:         Critical,
	cfntypes.StackStatusDeleteFailed:           Critical,
	cfntypes.StackStatusUpdateFailed:           Critical,
	cfntypes.StackStatusUpdateRollbackFailed:   Critical,
	cfntypes.StackStatusImportRollbackFailed:   Critical,
	cfntypes.StackStatusRollbackComplete:       Warning,
	cfntypes.StackStatusImportRollbackComplete: Notice,
	cfntypes.StackStatusUpdateRollbackComplete: Notice,

	cfntypes.StackStatusRollbackInProgress:                      Warning,
	cfntypes.StackStatusUpdateRollbackInProgress:                Warning,
	cfntypes.StackStatusUpdateRollbackCompleteCleanupInProgress: Warning,
	cfntypes.StackStatusImportRollbackInProgress:                Warning,
	cfntypes.StackStatusDeleteInProgress:                        Warning,
	cfntypes.StackStatusReviewInProgress:                        Warning,
}

// stuckStatuses are the states a stack passes through on its way to failing or going away. A stack left in one (a
// rollback blocked on a resource, a change set created and never executed) is a finding after Limits.StuckAfter,
// measured from its last update or, if it never had one, its creation.
var stuckStatuses = map[cfntypes.StackStatus]bool{
	cfntypes.StackStatusRollbackInProgress:                      true,
	cfntypes.StackStatusUpdateRollbackInProgress:                true,
	cfntypes.StackStatusUpdateRollbackCompleteCleanupInProgress: true,
	cfntypes.StackStatusImportRollbackInProgress:                true,
	cfntypes.StackStatusDeleteInProgress:                        true,
	cfntypes.StackStatusReviewInProgress:                        true,
}

// StackFailure is the check's rule for one stack status, for the event-driven alerts as for the daily audit: ok
// when the status is a finding, its severity, and stuck when it is a finding only once the stack has sat in it past
// Limits.StuckAfter (an event announcing it is the start of a rollback, not yet a failure).
func StackFailure(status string) (sev Severity, stuck, ok bool) {
	sev, ok = stackSeverity[cfntypes.StackStatus(status)]
	return sev, stuckStatuses[cfntypes.StackStatus(status)], ok
}

// StackInstanceFailure is the rule for a StackSet stack instance, as its status change event reports it: an instance
// OUTDATED or INOPERABLE whose detailed status is FAILED is a failed deployment in that account, critical like a
// stack that failed to create or update. Other combinations are operations under way, cancelled, skipped or done.
func StackInstanceFailure(status, detailedStatus string) (Severity, bool) {
	switch cfntypes.StackInstanceStatus(status) {
	case cfntypes.StackInstanceStatusOutdated, cfntypes.StackInstanceStatusInoperable:
		if cfntypes.StackInstanceDetailedStatus(detailedStatus) == cfntypes.StackInstanceDetailedStatusFailed {
			return Critical, true
		}
	default:
	}
	return "", false
}

// serviceCatalogStack matches the stack name Service Catalog gives the stack of a provisioned product.
var serviceCatalogStack = regexp.MustCompile(`^SC-\d{12}-(pp-[a-z0-9]+)$`)

// ServiceCatalogProductOf is the provisioned product id behind a stack Service Catalog named, SC-<account>-pp-<id>;
// ok is false for any other stack.
func ServiceCatalogProductOf(stackName string) (id string, ok bool) {
	if m := serviceCatalogStack.FindStringSubmatch(stackName); m != nil {
		return m[1], true
	}
	return "", false
}

// StackConsoleURL is the console's page of a stack, as the check's findings link it.
func StackConsoleURL(partition, region, stackID string) string {
	return fmt.Sprintf("https://%s/cloudformation/home?region=%s#/stacks/stackinfo?stackId=%s", consoleHost(partition), region, url.QueryEscape(stackID))
}

// StackNameFromID reads the name out of a stack ARN, arn:aws:cloudformation:region:account:stack/NAME/uuid.
func StackNameFromID(id string) string { return stackNameFromID(id) }

func (c CloudFormationFailedStacks) Run(ctx context.Context, t Target) ([]Finding, error) {
	return c.run(ctx, cloudformation.NewFromConfig(t.Config), t)
}

func (c CloudFormationFailedStacks) run(ctx context.Context, api cloudformation.ListStacksAPIClient, t Target) ([]Finding, error) {
	in := &cloudformation.ListStacksInput{}
	for s := range stackSeverity {
		in.StackStatusFilter = append(in.StackStatusFilter, s)
	}
	sort.Slice(in.StackStatusFilter, func(i, j int) bool { return in.StackStatusFilter[i] < in.StackStatusFilter[j] })

	var stacks []cfntypes.StackSummary
	pages := cloudformation.NewListStacksPaginator(api, in)
	tokens := NewPageTokens("ListStacks")
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Next(page.NextToken)
		}
		if err != nil {
			return nil, fmt.Errorf("list stacks: %w", err)
		}
		for _, st := range page.StackSummaries {
			if !stuckStatuses[st.StackStatus] || t.AsOf.Sub(lastChange(st)) >= t.Limits.StuckAfter {
				stacks = append(stacks, st)
			}
		}
	}
	return c.group(t, stacks), nil
}

// lastChange is when the stack entered its current status as far as ListStacks tells: its last update, else its
// creation. A stack AWS reports with neither is taken as changed long ago, so it is never silently young.
func lastChange(s cfntypes.StackSummary) time.Time {
	if s.LastUpdatedTime != nil {
		return *s.LastUpdatedTime
	}
	return aws.ToTime(s.CreationTime)
}

func (c CloudFormationFailedStacks) group(t Target, stacks []cfntypes.StackSummary) []Finding {
	failed := map[string]bool{}
	for _, s := range stacks {
		failed[aws.ToString(s.StackId)] = true
	}
	// A nested stack joins its root's finding when the root itself is failed; otherwise it stands alone and
	// names its root.
	children := map[string][]cfntypes.StackSummary{}
	var heads []cfntypes.StackSummary
	for _, s := range stacks {
		root := aws.ToString(s.RootId)
		if root != "" && root != aws.ToString(s.StackId) && failed[root] {
			children[root] = append(children[root], s)
			continue
		}
		heads = append(heads, s)
	}
	var out []Finding
	for _, s := range heads {
		id := aws.ToString(s.StackId)
		f := t.finding(c.Name(), "AWS::CloudFormation::Stack", aws.ToString(s.StackName))
		f.Status = string(s.StackStatus)
		f.Severity = stackSeverity[s.StackStatus]
		f.Reason = oneLine(aws.ToString(s.StackStatusReason))
		f.SetDetail("stack_id", id)
		if root := aws.ToString(s.RootId); root != "" && root != id {
			f.SetDetail("root_stack", stackNameFromID(root))
		}
		var nested, nestedNames []string
		for _, ch := range children[id] {
			nestedNames = append(nestedNames, aws.ToString(ch.StackName))
			if sev := stackSeverity[ch.StackStatus]; sev.Rank() < f.Severity.Rank() {
				f.Severity = sev
			}
			nested = append(nested, fmt.Sprintf("%s %s: %s", aws.ToString(ch.StackName), ch.StackStatus, oneLine(aws.ToString(ch.StackStatusReason))))
			// The nested stack's reason is usually the real cause; the root only names the nested resource.
			f.Reason = JoinReason(f.Reason, fmt.Sprintf("nested %s %s: %s", aws.ToString(ch.StackName), ch.StackStatus, oneLine(aws.ToString(ch.StackStatusReason))))
		}
		f.SetDetail("nested_failures", strings.Join(nested, "; "))
		if len(nestedNames) > 0 {
			// The names alone, for what matches stacks by name (the digest's alerts): nested_failures holds AWS's free
			// text, which may name other stacks. A stack name is [A-Za-z][-A-Za-z0-9]*, so ", " cannot occur in one.
			f.SetDetail("nested_stacks", strings.Join(nestedNames, NestedStacksSeparator))
		}
		if pp, ok := ServiceCatalogProductOf(aws.ToString(s.StackName)); ok {
			f.SetDetail("service_catalog_product", pp)
			f.Reason = JoinReason(f.Reason, "stack of Service Catalog provisioned product "+pp)
		}
		if stuckStatuses[s.StackStatus] {
			f.Reason = JoinReason(fmt.Sprintf("stuck for %s (threshold %s)", roundAge(t.AsOf.Sub(lastChange(s))), roundAge(t.Limits.StuckAfter)), f.Reason)
		}
		if f.Reason == "" {
			f.Reason = "stack is " + string(s.StackStatus)
		}
		updated := s.LastUpdatedTime
		if updated == nil {
			updated = s.CreationTime
		}
		if updated != nil {
			f.SetDetail("last_updated", DetailTime(*updated))
		}
		f.ConsoleURL = StackConsoleURL(t.Partition, t.Region, id)
		out = append(out, f)
	}
	return out
}

// stackNameFromID reads the name out of arn:aws:cloudformation:region:account:stack/NAME/uuid.
func stackNameFromID(id string) string {
	a, err := arn.Parse(id)
	if err != nil {
		return id
	}
	parts := strings.Split(a.Resource, "/")
	if len(parts) >= 2 {
		return parts[1]
	}
	return id
}
