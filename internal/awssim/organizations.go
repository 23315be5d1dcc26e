package awssim

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// Organizations as botocore's model (organizations 2016-11-28) describes it: one root, a tree of OUs below it, the
// accounts in the root or an OU, and tags on accounts. Every read operation here is answered only for the management
// account or a delegated administrator; any other caller gets AccessDeniedException, as AWS answers a member account.
// List operations take MaxResults 1 to 20 (the model's MaxResults shape); ListTagsForResource takes none, and pages
// only by NextToken.
//
// It speaks awsJson1_1, is global, refuses with AccessDeniedException and throttles with TooManyRequestsException,
// both HTTP 400.
func init() {
	registerService("organizations", protocol{json: true, global: true, denied: Fault{Status: 400, Code: "AccessDeniedException"}},
		Fault{Status: 400, Code: "TooManyRequestsException", Message: "AWS Organizations can't complete your request because another request is already in progress."})
	registerOperation("organizations", "ListAccounts", "organizations:ListAccounts", listAccounts)
	registerOperation("organizations", "ListRoots", "organizations:ListRoots", listRoots)
	registerOperation("organizations", "ListOrganizationalUnitsForParent", "organizations:ListOrganizationalUnitsForParent", listOUsForParent)
	registerOperation("organizations", "ListAccountsForParent", "organizations:ListAccountsForParent", listAccountsForParent)
	registerOperationOn("organizations", "ListTagsForResource", orgTagResource, listTagsForResource)
	registerOperationOn("organizations", "DescribeAccount", orgAccountResource, describeAccount)
	// An intercept tells the accounts' tag reads apart by the account they read.
	registerReach("organizations", "ListTagsForResource", func(r *request) {
		var in struct {
			ResourceID string `json:"ResourceId"`
		}
		if decodeJSON(r.body, &in) == nil {
			r.call.Resource = in.ResourceID
		}
	})
}

// orgTagResource is the resource ListTagsForResource acts on: the account's ARN for an account id, else any.
func orgTagResource(r *request) (string, string) {
	var in struct {
		ResourceID string `json:"ResourceId"`
	}
	_ = decodeJSON(r.body, &in)
	if r.org != nil && accountIDPattern.MatchString(in.ResourceID) {
		return "organizations:ListTagsForResource", r.org.accountARN(in.ResourceID)
	}
	return "organizations:ListTagsForResource", "*"
}

// orgAccountResource is the resource DescribeAccount acts on: the account's ARN (the Service Authorization
// Reference's "account" resource type), else any for an id that is not one, which the call then refuses.
func orgAccountResource(r *request) (string, string) {
	var in struct {
		AccountID string `json:"AccountId"`
	}
	_ = decodeJSON(r.body, &in)
	if r.org != nil && accountIDPattern.MatchString(in.AccountID) {
		return "organizations:DescribeAccount", r.org.accountARN(in.AccountID)
	}
	return "organizations:DescribeAccount", "*"
}

// describeAccount answers one account of the organization (botocore's DescribeAccountResponse), only to the
// management account or a delegated administrator. An id that is not 12 digits is InvalidInputException; one the
// organization does not hold, AccountNotFoundException.
func describeAccount(s *Server, r *request) (any, *Fault) {
	var in struct {
		AccountID string `json:"AccountId"`
	}
	if f := decodeJSON(r.body, &in); f != nil {
		return nil, f
	}
	if f := s.orgReader(r); f != nil {
		return nil, f
	}
	if !accountIDPattern.MatchString(in.AccountID) {
		return nil, &Fault{Status: 400, Code: "InvalidInputException", Message: "You provided a value that does not match the required pattern."}
	}
	a := s.org.account(in.AccountID)
	if a == nil {
		return nil, &Fault{Status: 400, Code: "AccountNotFoundException", Message: "You specified an account that doesn't exist."}
	}
	method := "INVITED"
	if a.ID != s.org.ManagementAccountID {
		method = "CREATED"
	}
	return struct{ Account jsonAccount }{jsonAccount{Id: a.ID, Name: a.Name, Email: a.Email, State: a.State, JoinedMethod: method,
		JoinedTimestamp: epochPtr(a.JoinedAt), Arn: s.org.accountARN(a.ID)}}, nil
}

// RootName is what AWS names an organization's root.
const RootName = "Root"

type jsonAccount struct {
	Id, Arn, Email, Name, State, JoinedMethod string
	JoinedTimestamp                           *epoch `json:",omitempty"`
}

type jsonParented struct {
	Id, Arn, Name string
	Path          string `json:",omitempty"` // OUs only: o-…/r-…/ou-…/
	PolicyTypes   *[]any `json:",omitempty"` // roots only
}

// ouNode is one node of the tree: the root or an OU.
type ouNode struct {
	id, name, arn, path string // path: the model's Path, o-…/r-…/ou-…/
	// under is the node's OU path below the root, as Account.OU names it: "" for the root.
	under    string
	children []*ouNode
	accounts []*Account
}

// orgTree is the organization's OU tree, built once from the accounts' OU paths (Account.OU) and Organization.OUs.
type orgTree struct {
	root  *ouNode
	nodes map[string]*ouNode // by id
}

// tree builds the OU tree on first use: the Organization is read-only once the server starts.
func (s *Server) tree() *orgTree {
	s.treeOnce.Do(func() { s.orgTree = buildTree(s.org) })
	return s.orgTree
}

func buildTree(o *Organization) *orgTree {
	rootID := o.RootID()
	prefix := fmt.Sprintf("arn:%s:organizations::%s:", o.partition(), o.ManagementAccountID)
	t := &orgTree{nodes: map[string]*ouNode{}}
	t.root = &ouNode{id: rootID, name: RootName, arn: prefix + "root/" + o.ID + "/" + rootID, path: o.ID + "/" + rootID + "/"}
	t.nodes[rootID] = t.root
	byPath := map[string]*ouNode{"": t.root}
	var place func(path string) *ouNode
	place = func(path string) *ouNode {
		if n, ok := byPath[path]; ok {
			return n
		}
		parentPath, name := "", path
		if i := strings.LastIndex(path, "/"); i >= 0 {
			parentPath, name = path[:i], path[i+1:]
		}
		parent := place(parentPath)
		id := o.OUID(path)
		n := &ouNode{id: id, name: name, arn: prefix + "ou/" + o.ID + "/" + id, path: parent.path + id + "/", under: path}
		parent.children = append(parent.children, n)
		byPath[path], t.nodes[id] = n, n
		return n
	}
	for _, p := range o.OUs {
		place(p)
	}
	for _, a := range o.Accounts {
		n := place(a.OU)
		n.accounts = append(n.accounts, a)
	}
	for _, n := range t.nodes {
		slices.SortFunc(n.children, func(a, b *ouNode) int { return strings.Compare(a.name, b.name) })
	}
	return t
}

// RootID is the organization's root id: r- and 4 to 32 lowercase letters or digits, derived from the organization id.
func (o *Organization) RootID() string { return "r-" + hashID(o.ID, 4) }

// OUID is the id of the OU at path ("Workloads/Prod"): ou-, the root's suffix, -, and 8 to 32 lowercase letters or
// digits (the model's OrganizationalUnitId pattern).
func (o *Organization) OUID(path string) string {
	return "ou-" + strings.TrimPrefix(o.RootID(), "r-") + "-" + hashID(o.ID+"/"+path, 8)
}

func hashID(s string, n int) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	v := h.Sum64()
	out := make([]byte, n)
	for i := range out {
		out[i] = digits[v%36]
		v /= 36
	}
	return string(out)
}

// orgReader is the gate every Organizations read passes: only the management account or a delegated administrator
// may read the organization, and no account faster than the organization's request rate.
func (s *Server) orgReader(r *request) *Fault {
	if r.caller.accountID != s.org.ManagementAccountID && !slices.Contains(s.org.DelegatedAdmins, r.caller.accountID) {
		return &Fault{Status: 400, Code: "AccessDeniedException", Message: "You don't have permissions to access this resource."}
	}
	if !s.orgAllow(r.caller.accountID) {
		f := throttleOf("organizations")
		return &f
	}
	return nil
}

// orgAllow takes a token from the calling account's bucket. Organizations meters the requests of each account that
// calls it and answers TooManyRequestsException (HTTP 400, botocore's model) past its rate; AWS does not publish the
// rate of the read operations (awsdocs/aws-organizations-docs issue #39), so the simulated organization names its own
// (Organization.RequestRate, RequestBurst). Zero means no limit.
func (s *Server) orgAllow(account string) bool {
	if s.org.RequestRate <= 0 {
		return true
	}
	s.orgRateMu.Lock()
	defer s.orgRateMu.Unlock()
	if s.limiters == nil {
		s.limiters = map[string]*rate.Limiter{}
	}
	l := s.limiters[account]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.org.RequestRate), max(s.org.RequestBurst, 1))
		s.limiters[account] = l
	}
	if l.Allow() {
		return true
	}
	s.orgThrottled++
	return false
}

// OrganizationsThrottled counts the Organizations calls answered TooManyRequestsException for going too fast.
func (s *Server) OrganizationsThrottled() int {
	s.orgRateMu.Lock()
	defer s.orgRateMu.Unlock()
	return s.orgThrottled
}

type orgMeter struct {
	orgRateMu    sync.Mutex
	limiters     map[string]*rate.Limiter
	orgThrottled int
}

func decodeListInput(r *request) (parentID, token string, maxResults int, f *Fault) {
	var in struct {
		ParentID   string `json:"ParentId"`
		NextToken  string
		MaxResults int
	}
	if f := decodeJSON(r.body, &in); f != nil {
		return "", "", 0, f
	}
	if in.MaxResults < 0 || in.MaxResults > 20 {
		return "", "", 0, &Fault{Status: 400, Code: "InvalidInputException", Message: "MaxResults must be between 1 and 20"}
	}
	return in.ParentID, in.NextToken, in.MaxResults, nil
}

// listPage pages items at most 20 to a page (the MaxResults shape's bound), whatever the organization's page size;
// a token it did not issue is InvalidInputException (reason INVALID_NEXT_TOKEN) on Organizations.
func listPage[T any](s *Server, r *request, items []T, token string, maxResults int) ([]T, string, *Fault) {
	out, next, f := page(s, r, items, token, min(s.org.pageSize(maxResults), 20))
	if f != nil {
		f.Code = "InvalidInputException"
	}
	return out, next, f
}

// listAccounts is ListAccounts. The retired Status field is not sent: clients must read State.
func listAccounts(s *Server, r *request) (any, *Fault) {
	_, token, maxResults, f := decodeListInput(r)
	if f != nil {
		return nil, f
	}
	if f := s.orgReader(r); f != nil {
		return nil, f
	}
	items, next, f := listPage(s, r, s.org.Accounts, token, maxResults)
	if f != nil {
		return nil, f
	}
	return accountsOut(s, items, next), nil
}

func accountsOut(s *Server, items []*Account, next string) any {
	out := struct {
		Accounts  []jsonAccount
		NextToken string `json:",omitempty"`
	}{Accounts: []jsonAccount{}, NextToken: next}
	for _, a := range items {
		method := "INVITED"
		if a.ID != s.org.ManagementAccountID {
			method = "CREATED"
		}
		out.Accounts = append(out.Accounts, jsonAccount{
			Id: a.ID, Name: a.Name, Email: a.Email, State: a.State, JoinedMethod: method, JoinedTimestamp: epochPtr(a.JoinedAt),
			Arn: s.org.accountARN(a.ID),
		})
	}
	return out
}

func (o *Organization) accountARN(id string) string {
	return fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", o.partition(), o.ManagementAccountID, o.ID, id)
}

func listRoots(s *Server, r *request) (any, *Fault) {
	_, token, maxResults, f := decodeListInput(r)
	if f != nil {
		return nil, f
	}
	if f := s.orgReader(r); f != nil {
		return nil, f
	}
	root := s.tree().root
	items, next, f := listPage(s, r, []*ouNode{root}, token, maxResults)
	if f != nil {
		return nil, f
	}
	out := struct {
		Roots     []jsonParented
		NextToken string `json:",omitempty"`
	}{Roots: []jsonParented{}, NextToken: next}
	for _, n := range items {
		out.Roots = append(out.Roots, jsonParented{Id: n.id, Arn: n.arn, Name: n.name, PolicyTypes: &[]any{}})
	}
	return out, nil
}

var parentIDPattern = regexp.MustCompile(`^(r-[0-9a-z]{4,32})$|^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)

// parent finds the node ParentId names: a malformed id is InvalidInputException, an unknown one
// ParentNotFoundException, as the model's errors for both list operations say.
func (s *Server) parent(id string) (*ouNode, *Fault) {
	if !parentIDPattern.MatchString(id) {
		return nil, &Fault{Status: 400, Code: "InvalidInputException", Message: "You provided a value that does not match the required pattern."}
	}
	n := s.tree().nodes[id]
	if n == nil {
		return nil, &Fault{Status: 400, Code: "ParentNotFoundException", Message: "We can't find a root or OU with the ParentId that you specified."}
	}
	return n, nil
}

func listOUsForParent(s *Server, r *request) (any, *Fault) {
	items, next, f := childPage(s, r, func(n *ouNode) []*ouNode { return n.children })
	if f != nil {
		return nil, f
	}
	out := struct {
		OrganizationalUnits []jsonParented
		NextToken           string `json:",omitempty"`
	}{OrganizationalUnits: []jsonParented{}, NextToken: next}
	for _, c := range items {
		out.OrganizationalUnits = append(out.OrganizationalUnits, jsonParented{Id: c.id, Arn: c.arn, Name: c.name, Path: c.path})
	}
	return out, nil
}

func listAccountsForParent(s *Server, r *request) (any, *Fault) {
	items, next, f := childPage(s, r, func(n *ouNode) []*Account { return n.accounts })
	if f != nil {
		return nil, f
	}
	return accountsOut(s, items, next), nil
}

// childPage answers the two ...ForParent lists alike: the input checked, the caller allowed to read the
// organization, the parent found, and one page of what of stands under it.
func childPage[T any](s *Server, r *request, of func(*ouNode) []T) ([]T, string, *Fault) {
	parentID, token, maxResults, f := decodeListInput(r)
	if f != nil {
		return nil, "", f
	}
	if f := s.orgReader(r); f != nil {
		return nil, "", f
	}
	n, f := s.parent(parentID)
	if f != nil {
		return nil, "", f
	}
	fault, broken := s.org.ListingFaults[n.under]
	broken = broken && fault.Operation == r.call.Operation
	size := min(s.org.pageSize(maxResults), 20)
	if broken && !fault.RepeatToken && pageIndex(token, size) >= fault.Page {
		return nil, "", listingFault(fault.Code)
	}
	items, next, f := listPage(s, r, of(n), token, maxResults)
	if f == nil && broken && fault.RepeatToken && token != "" && pageIndex(token, size) >= fault.Page {
		next = token
	}
	return items, next, f
}

// pageIndex is which page (0 the first) token asks for, pages being size long; a token the server did not issue
// counts as the first, and listPage refuses it.
func pageIndex(token string, size int) int {
	n, err := strconv.Atoi(strings.TrimPrefix(token, "page-"))
	if err != nil || size <= 0 {
		return 0
	}
	return n / size
}

// listingFault is the answer of a broken listing: the model's ServiceException with HTTP 500 (a server fault, which
// the SDK retries), the organization's throttling answer, or any other code of the operation as a client error.
func listingFault(code string) *Fault {
	switch code {
	case "ServiceException":
		return &Fault{Status: 500, Code: code, Message: "Organizations can't complete your request because of an internal service error. Try again later."}
	case "TooManyRequestsException":
		f := throttleOf("organizations")
		return &f
	default:
		return &Fault{Status: 400, Code: code, Message: "You can't list this parent's children now (simulated " + code + ")."}
	}
}

var accountIDPattern = regexp.MustCompile(`^\d{12}$`)

// listTagsForResource answers an account's tags (roots, OUs and policies hold none here). An account whose TagFault
// is set answers that fault instead: AccessDeniedException (a service control policy or a permissions boundary that
// denies the read) or TooManyRequestsException (an account whose tags throttle on every attempt).
func listTagsForResource(s *Server, r *request) (any, *Fault) {
	var in struct {
		ResourceID string `json:"ResourceId"`
		NextToken  string
	}
	if f := decodeJSON(r.body, &in); f != nil {
		return nil, f
	}
	if f := s.orgReader(r); f != nil {
		return nil, f
	}
	var tags []jsonTag
	switch {
	case accountIDPattern.MatchString(in.ResourceID):
		a := s.org.account(in.ResourceID)
		if a == nil {
			return nil, &Fault{Status: 400, Code: "TargetNotFoundException", Message: "We can't find a target with the TargetId that you specified."}
		}
		switch a.TagFault {
		case "":
		case "TooManyRequestsException":
			f := throttleOf("organizations")
			return nil, &f
		default:
			return nil, &Fault{Status: 400, Code: a.TagFault, Message: "You don't have permissions to access this resource."}
		}
		keys := make([]string, 0, len(a.Tags))
		for k := range a.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			tags = append(tags, jsonTag{Key: k, Value: a.Tags[k]})
		}
	case s.tree().nodes[in.ResourceID] != nil:
	default:
		return nil, &Fault{Status: 400, Code: "InvalidInputException", Message: "You provided a value that does not match the required pattern."}
	}
	items, next, f := page(s, r, tags, in.NextToken, s.org.pageSize(0))
	if f != nil {
		f.Code = "InvalidInputException"
		return nil, f
	}
	return struct {
		Tags      []jsonTag
		NextToken string `json:",omitempty"`
	}{Tags: append([]jsonTag{}, items...), NextToken: next}, nil
}

type jsonTag struct{ Key, Value string }
