package awssim

import (
	"fmt"
	"strconv"
)

// CloudFormation speaks the query protocol (botocore cloudformation 2010-05-15) and throttles with Throttling, HTTP 400.
func init() {
	registerService("cloudformation", protocol{namespace: "http://cloudformation.amazonaws.com/doc/2010-05-15/"},
		Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	registerOperation("cloudformation", "ListStacks", "cloudformation:ListStacks", listStacks)
}

type xmlStackSummary struct {
	StackId, StackName, StackStatus string
	StackStatusReason               string `xml:",omitempty"`
	CreationTime                    string
	LastUpdatedTime                 string `xml:",omitempty"`
	ParentId                        string `xml:",omitempty"`
	RootId                          string `xml:",omitempty"`
}

// StackARN is the stack id AWS gives a stack: arn:aws:cloudformation:region:account:stack/name/uuid.
func StackARN(partition, region, account, name string) string {
	return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/%s", partition, region, account, name, pseudoUUID(name+region+account))
}

func pseudoUUID(seed string) string {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(seed); i++ {
		h = (h ^ uint64(seed[i])) * 1099511628211
	}
	s := fmt.Sprintf("%016x%016x", h, h*31+7)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

func listStacks(s *Server, r *request) (any, *Fault) {
	want := map[string]bool{}
	for i := 1; ; i++ {
		v := r.form.Get("StackStatusFilter.member." + strconv.Itoa(i))
		if v == "" {
			break
		}
		want[v] = true
	}
	var matched []Stack
	for _, st := range r.region.Stacks {
		if len(want) == 0 || want[st.Status] {
			matched = append(matched, st)
		}
	}
	items, next, f := page(s, r, matched, r.form.Get("NextToken"), s.org.pageSize(0))
	if f != nil {
		f.Code = "ValidationError"
		return nil, f
	}
	out := struct {
		StackSummaries []xmlStackSummary `xml:"StackSummaries>member"`
		NextToken      string            `xml:",omitempty"`
	}{NextToken: next}
	for _, st := range items {
		out.StackSummaries = append(out.StackSummaries, xmlStackSummary{
			StackId: s.stackID(r, st), StackName: st.Name, StackStatus: st.Status, StackStatusReason: st.Reason,
			CreationTime: isoTime(st.Created), LastUpdatedTime: isoTime(st.Updated),
			ParentId: s.stackRef(r, st.ParentID), RootId: s.stackRef(r, st.RootID),
		})
	}
	return out, nil
}

func (s *Server) stackID(r *request, st Stack) string {
	if st.ID != "" {
		return st.ID
	}
	return StackARN(s.org.partition(), r.call.Region, r.account.ID, st.Name)
}

// stackRef turns a parent or root given by name in the scenario into its stack id.
func (s *Server) stackRef(r *request, nameOrID string) string {
	if nameOrID == "" || len(nameOrID) > 4 && nameOrID[:4] == "arn:" {
		return nameOrID
	}
	return StackARN(s.org.partition(), r.call.Region, r.account.ID, nameOrID)
}
