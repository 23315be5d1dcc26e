package awssim

import "fmt"

func init() { register("organizations", "ListAccounts", listAccounts) }

type jsonAccount struct {
	Id, Arn, Email, Name, State, JoinedMethod string
	JoinedTimestamp                           *epoch `json:",omitempty"`
}

// listAccounts answers only the management account, as AWS does for a caller without a delegated-admin policy. The
// retired Status field is not sent: clients must read State.
func listAccounts(s *Server, r *request) (any, *Fault) {
	var in struct {
		NextToken  string
		MaxResults int
	}
	if f := decodeJSON(r.body, &in); f != nil {
		return nil, f
	}
	if r.caller.accountID != s.org.ManagementAccountID {
		return nil, &Fault{Status: 400, Code: "AccessDeniedException", Message: "You don't have permissions to access this resource."}
	}
	if in.MaxResults < 0 || in.MaxResults > 20 {
		return nil, &Fault{Status: 400, Code: "InvalidInputException", Message: "MaxResults must be between 1 and 20"}
	}
	// ListAccounts pages hold at most 20 accounts, whatever the organization's page size.
	items, next, f := page(s, r, s.org.Accounts, in.NextToken, min(s.org.pageSize(in.MaxResults), 20))
	if f != nil {
		f.Code = "InvalidInputException"
		return nil, f
	}
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
			Arn: fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", s.org.partition(), s.org.ManagementAccountID, s.org.ID, a.ID),
		})
	}
	return out, nil
}
