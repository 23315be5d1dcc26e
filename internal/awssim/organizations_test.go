package awssim

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

func orgSim(t *testing.T, org *Organization) *Server {
	t.Helper()
	s := New(org)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// noRetry is a client that shows the server's first answer.
func noRetry(s *Server, account string) *organizations.Client {
	cfg := s.Config(account, DemoHomeRegion)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	return organizations.NewFromConfig(cfg)
}

// TestOrganizationTreeAnswersInTheModelsShapes walks a generated organization of 45 accounts in 4 OUs with the SDK's
// paginators: the root is Root with an r- id, each OU has an ou- id, an ARN and a Path as the model's patterns give,
// every account is in exactly one parent, and pages hold at most MaxResults (never more than 20).
func TestOrganizationTreeAnswersInTheModelsShapes(t *testing.T) {
	t.Parallel()
	org := Generate(GenerateOptions{Accounts: 45, Regions: []string{"us-east-1"}, AsOf: asOf, OUs: 4, PageSize: 100})
	s := orgSim(t, org)
	ctx := context.Background()
	client := noRetry(s, GeneratedManagementAccount)
	roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("roots %+v %v", roots, err)
	}
	root := roots.Roots[0]
	if aws.ToString(root.Name) != RootName || !regexp.MustCompile(`^r-[0-9a-z]{4,32}$`).MatchString(aws.ToString(root.Id)) ||
		!regexp.MustCompile(`^arn:aws:organizations::\d{12}:root/o-[a-z0-9]{10,32}/r-[0-9a-z]{4,32}`).MatchString(aws.ToString(root.Arn)) {
		t.Errorf("root %+v", root)
	}
	ous := organizations.NewListOrganizationalUnitsForParentPaginator(client, &organizations.ListOrganizationalUnitsForParentInput{ParentId: root.Id, MaxResults: aws.Int32(3)})
	var parents []string
	pages := 0
	for ous.HasMorePages() {
		p, err := ous.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(p.OrganizationalUnits) > 3 {
			t.Errorf("a page of %d OUs for MaxResults 3", len(p.OrganizationalUnits))
		}
		for _, ou := range p.OrganizationalUnits {
			if !regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`).MatchString(aws.ToString(ou.Id)) ||
				!strings.HasPrefix(aws.ToString(ou.Path), org.ID+"/"+aws.ToString(root.Id)+"/"+aws.ToString(ou.Id)) || !strings.HasPrefix(aws.ToString(ou.Name), "Unit-") {
				t.Errorf("ou %+v", ou)
			}
			parents = append(parents, aws.ToString(ou.Id))
		}
	}
	if len(parents) != 4 || pages != 2 {
		t.Fatalf("%d OUs in %d pages, want 4 in 2", len(parents), pages)
	}
	seen := map[string]int{}
	for _, parent := range append(parents, aws.ToString(root.Id)) {
		accounts := organizations.NewListAccountsForParentPaginator(client, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent)})
		for accounts.HasMorePages() {
			p, err := accounts.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Accounts) > 20 {
				t.Errorf("a page of %d accounts: ListAccountsForParent pages hold at most 20", len(p.Accounts))
			}
			for _, a := range p.Accounts {
				seen[aws.ToString(a.Id)]++
				if a.State == "" || a.Status != "" {
					t.Errorf("account %+v: State set, the retired Status absent", a)
				}
			}
		}
	}
	if len(seen) != len(org.Accounts) {
		t.Errorf("%d accounts under the parents, the organization holds %d", len(seen), len(org.Accounts))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("account %s under %d parents", id, n)
		}
	}
	for name, call := range map[string]func() error{
		"MaxResults 21": func() error {
			_, err := client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: root.Id, MaxResults: aws.Int32(21)})
			return err
		},
		"a malformed parent": func() error {
			_, err := client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("Workloads")})
			return err
		},
		"a token it never issued": func() error {
			_, err := client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: root.Id, NextToken: aws.String("forged")})
			return err
		},
	} {
		if err := call(); code(err) != "InvalidInputException" {
			t.Errorf("%s: %v, want InvalidInputException", name, err)
		}
	}
	_, err = client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(org.OUID("Nowhere"))})
	if code(err) != "ParentNotFoundException" {
		t.Errorf("an unknown OU: %v, want ParentNotFoundException", err)
	}
}

// TestOnlyTheManagementAccountOrADelegatedAdminReadsTheOrganization: a member account is refused every read with
// AccessDeniedException; one registered as delegated administrator is answered.
func TestOnlyTheManagementAccountOrADelegatedAdminReadsTheOrganization(t *testing.T) {
	t.Parallel()
	org := Demo(asOf)
	org.DelegatedAdmins = []string{"888888888888"}
	s := orgSim(t, org)
	ctx := context.Background()
	reads := map[string]func(c *organizations.Client) error{
		"ListRoots": func(c *organizations.Client) error { _, err := c.ListRoots(ctx, nil); return err },
		"ListOrganizationalUnitsForParent": func(c *organizations.Client) error {
			_, err := c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(org.RootID())})
			return err
		},
		"ListAccountsForParent": func(c *organizations.Client) error {
			_, err := c.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(org.RootID())})
			return err
		},
		"ListTagsForResource": func(c *organizations.Client) error {
			_, err := c.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("222222222222")})
			return err
		}, "DescribeAccount": func(c *organizations.Client) error {
			_, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("333333333333")})
			return err
		},
	}
	for op, read := range reads {
		if err := read(noRetry(s, "222222222222")); code(err) != "AccessDeniedException" {
			t.Errorf("member %s: %v, want AccessDeniedException", op, err)
		}
		for _, reader := range []string{DemoManagementAccount, "888888888888"} {
			if err := read(noRetry(s, reader)); err != nil {
				t.Errorf("%s %s: %v", reader, op, err)
			}
		}
	}
}

// TestAccountTagsPageAndCanBeHostileOrUnreadable: tags page by NextToken alone, values come back exactly as the
// scenario holds them (long, unicode, control characters), an unknown account is TargetNotFoundException, and an
// account's tags can be refused or throttled on every attempt.
func TestAccountTagsPageAndCanBeHostileOrUnreadable(t *testing.T) {
	t.Parallel()
	org := Demo(asOf)
	org.PageSize = 2
	hostile := strings.Repeat("ü", 300) + "\x1b[31m\u202e\u2028end"
	org.account("222222222222").Tags = map[string]string{"a": "1", "b": "2", "c": "3", "orgaudit:owner": hostile}
	org.account("333333333333").TagFault = "AccessDeniedException"
	org.account("444444444444").TagFault = "TooManyRequestsException"
	s := orgSim(t, org)
	ctx := context.Background()
	client := noRetry(s, DemoManagementAccount)
	tags := organizations.NewListTagsForResourcePaginator(client, &organizations.ListTagsForResourceInput{ResourceId: aws.String("222222222222")})
	got, pages := map[string]string{}, 0
	for tags.HasMorePages() {
		p, err := tags.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tag := range p.Tags {
			got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	}
	if pages != 2 || len(got) != 4 || got["orgaudit:owner"] != hostile {
		t.Errorf("%d pages, tags %q", pages, got)
	}
	for id, want := range map[string]string{"333333333333": "AccessDeniedException", "444444444444": "TooManyRequestsException", "000000000000": "TargetNotFoundException"} {
		if _, err := client.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)}); code(err) != want {
			t.Errorf("tags of %s: %v, want %s", id, err, want)
		}
	}
}

// TestOrganizationsThrottlesPastItsRate: asked faster than its rate, Organizations answers TooManyRequestsException
// (HTTP 400, which the SDK's retryer knows as throttling); a client that retries gets every answer in the end.
func TestOrganizationsThrottlesPastItsRate(t *testing.T) {
	t.Parallel()
	org := Demo(asOf)
	org.RequestRate, org.RequestBurst = 20, 2
	s := orgSim(t, org)
	ctx := context.Background()
	client := noRetry(s, DemoManagementAccount)
	throttled := 0
	for range 10 {
		if _, err := client.ListRoots(ctx, nil); code(err) == "TooManyRequestsException" {
			throttled++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if throttled == 0 || s.OrganizationsThrottled() != throttled {
		t.Fatalf("10 calls at once past a burst of 2: %d throttled (server counted %d)", throttled, s.OrganizationsThrottled())
	}
	cfg := s.Config(DemoManagementAccount, DemoHomeRegion)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 20
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 50 * time.Millisecond, nil })
		})
	}
	retrying := organizations.NewFromConfig(cfg)
	for range 10 {
		if _, err := retrying.ListRoots(ctx, nil); err != nil {
			t.Fatalf("a retrying client: %v", err)
		}
	}
}

// TestListingFaultBreaksOneParentPartWay: a ListingFault fails one parent's listing from a given page on and leaves
// every other parent alone. A ServiceException is HTTP 500 on every attempt, so a retrying client still fails after
// the page before it arrived; a repeated token hands the asked-for token back, which a client must catch itself.
func TestListingFaultBreaksOneParentPartWay(t *testing.T) {
	t.Parallel()
	org := Demo(asOf)
	org.ListingFaults = map[string]ListingFault{
		"Workloads/Prod": {Operation: "ListAccountsForParent", Code: "ServiceException", Page: 1},
		"":               {Operation: "ListOrganizationalUnitsForParent", Page: 1, RepeatToken: true},
	}
	s := orgSim(t, org)
	ctx := context.Background()
	cfg := s.Config(DemoManagementAccount, DemoHomeRegion)
	const attempts = 3
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts, o.MaxBackoff = attempts, time.Millisecond })
	}
	client := organizations.NewFromConfig(cfg)

	prod := organizations.NewListAccountsForParentPaginator(client, &organizations.ListAccountsForParentInput{ParentId: aws.String(org.OUID("Workloads/Prod"))})
	first, err := prod.NextPage(ctx)
	if err != nil || len(first.Accounts) != org.PageSize {
		t.Fatalf("the page before the fault: %d accounts, err %v; want a whole page of %d", len(first.Accounts), err, org.PageSize)
	}
	before := s.Calls()["organizations.ListAccountsForParent"]
	_, err = prod.NextPage(ctx)
	var status interface{ HTTPStatusCode() int }
	if code(err) != "ServiceException" || !errors.As(err, &status) || status.HTTPStatusCode() != 500 {
		t.Fatalf("the broken page: err %v, want ServiceException with HTTP 500", err)
	}
	if n := s.Calls()["organizations.ListAccountsForParent"] - before; n != attempts {
		t.Errorf("%d attempts at the broken page, want the SDK's %d: the fault persists past its retries", n, attempts)
	}
	dev, err := client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(org.OUID("Workloads/Dev"))})
	if err != nil || len(dev.Accounts) != 2 {
		t.Errorf("another OU: %d accounts, err %v", len(dev.Accounts), err)
	}

	root := aws.String(org.RootID())
	p0, err := client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: root})
	if err != nil || p0.NextToken == nil {
		t.Fatalf("the root's first page of OUs: %+v, err %v", p0, err)
	}
	p1, err := client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: root, NextToken: p0.NextToken})
	if err != nil || aws.ToString(p1.NextToken) != aws.ToString(p0.NextToken) || len(p1.OrganizationalUnits) == 0 {
		t.Errorf("the repeated page: %d OUs, token %q after %q, err %v", len(p1.OrganizationalUnits), aws.ToString(p1.NextToken), aws.ToString(p0.NextToken), err)
	}
}

// TestDescribeAccountAnswersInTheModelsShape: one account of the organization, with its name, ARN and State (the
// retired Status absent); an account id the organization does not hold is AccountNotFoundException, and one that is
// not 12 digits InvalidInputException (the model's AccountId pattern).
func TestDescribeAccountAnswersInTheModelsShape(t *testing.T) {
	t.Parallel()
	org := Demo(asOf)
	s := orgSim(t, org)
	ctx := context.Background()
	client := noRetry(s, DemoManagementAccount)
	out, err := client.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("333333333333")})
	if err != nil {
		t.Fatal(err)
	}
	a := out.Account
	if aws.ToString(a.Id) != "333333333333" || aws.ToString(a.Name) != "network" || a.State != "ACTIVE" || a.Status != "" ||
		aws.ToString(a.Arn) != org.accountARN("333333333333") || a.JoinedTimestamp == nil {
		t.Errorf("account %+v", a)
	}
	for id, want := range map[string]string{"123456789012": "AccountNotFoundException", "3333": "InvalidInputException"} {
		if _, err := client.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)}); code(err) != want {
			t.Errorf("%s: %v, want %s", id, err, want)
		}
	}
}
