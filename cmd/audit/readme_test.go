package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/report"
	"github.com/orgaudit/orgaudit/internal/testkit/grants"
)

// readmeActions reads the actions listed between <!-- name:start --> and <!-- name:end -->.
func readmeActions(t *testing.T, readme, name string) []string {
	t.Helper()
	start, end := strings.Index(readme, "<!-- "+name+":start -->"), strings.Index(readme, "<!-- "+name+":end -->")
	if start < 0 || end < start {
		t.Fatalf("README has no %s section", name)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?m)^- `([a-z0-9]+:[A-Za-z]+)`").FindAllStringSubmatch(readme[start:end], -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}

func TestReadmeListsExactlyTheIAMActionsTheCodeCalls(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	member := grants.MemberRoleActions()
	if got := readmeActions(t, readme, "iam-member"); !slices.Equal(got, member) {
		t.Errorf("README member actions %v, code calls %v", got, member)
	}
	// The README lists what the execution role needs beyond the member reads; the logs belong to the runtime.
	var mgmt []string
	for _, a := range grants.ExecutionRoleActions(true) {
		if !slices.Contains(member, a) && !slices.Contains(grants.LambdaLogActions, a) {
			mgmt = append(mgmt, a)
		}
	}
	if got := readmeActions(t, readme, "iam-management"); !slices.Equal(got, mgmt) {
		t.Errorf("README management actions %v, code calls %v", got, mgmt)
	}
	if got, want := readmeActions(t, readme, "iam-link"), grants.LinkRoleActions(true); !slices.Equal(got, want) {
		t.Errorf("README link-signing role actions %v, code needs %v", got, want)
	}
	if !strings.Contains(readme, "go run ./cmd/audit demo") || !strings.Contains(readme, "./.ci/run") {
		t.Error("README must open with the demo and test commands")
	}
}

// TestReadmeCheckTableIsTheRegistry: the README's table of checks names every registered check, in the registry's
// order, and nothing else, so a new check cannot land undocumented.
func TestReadmeCheckTableIsTheRegistry(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "| check | finds |")
	if start < 0 {
		t.Fatal("README has no table headed | check | finds |")
	}
	var got []string
	for _, line := range strings.Split(readme[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		m := regexp.MustCompile("^\\| `([a-z0-9-]+)` \\|").FindStringSubmatch(line)
		if m == nil {
			t.Errorf("README check table row does not start with a check name: %q", line)
			continue
		}
		got = append(got, m[1])
	}
	if want := checks.Names(); !slices.Equal(got, want) {
		t.Errorf("README's check table lists %v, the registry %v", got, want)
	}
}

// readmeFindingsWords are the words README's "What it delivers" uses for each of the Findings sheet's columns.
var readmeFindingsWords = map[string]string{"Severity": "severity", report.ChangeColumn: "change", "Account name": "account name",
	"Account ID": "account ID", "Resource ID": "resource ID", report.OwnerColumn: "owner", report.OUColumn: "OU", "Region": "region",
	report.CheckColumn: "check", report.ResourceTypeColumn: "resource type", "Resource name": "resource name", "Status": "status",
	"Reason": "reason", "Days left": "days left", "Expires (UTC)": "expiry", report.USDPerMonthColumn: "USD per month",
	report.AtRiskColumn: "at risk", report.AlertedColumn: "when alerted", "Console": "console link"}

// TestReadmeListsTheFindingsColumnsInOrder: README's description of the Findings sheet names its columns in the
// workbook's order (report.FindingsColumns), so a moved or new column cannot leave it stale.
func TestReadmeListsTheFindingsColumnsInOrder(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(b)), " ")
	const lead = "a Findings sheet (every open finding of every check in one table to sort and filter: "
	start := strings.Index(readme, lead)
	if start < 0 {
		t.Fatalf("README does not describe the Findings sheet with %q", lead)
	}
	list := readme[start+len(lead):]
	list = list[:strings.Index(list, ")")]
	var got []string
	for _, w := range strings.Split(list, ", ") {
		got = append(got, strings.TrimPrefix(w, "and "))
	}
	var want []string
	for _, col := range report.FindingsColumns {
		w, ok := readmeFindingsWords[col]
		if !ok {
			t.Fatalf("the Findings sheet's column %q has no README wording here", col)
		}
		want = append(want, w)
	}
	if !slices.Equal(got, want) {
		t.Errorf("README lists the Findings columns as\n%q\nthe workbook's are\n%q", got, want)
	}
}
