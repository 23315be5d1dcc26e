package awssim

import (
	"sort"
	"strings"
)

// Service Catalog speaks awsJson1_1; it refuses with AccessDeniedException and throttles with ThrottlingException,
// both HTTP 400.
func init() {
	registerService("servicecatalog", protocol{json: true, denied: Fault{Status: 400, Code: "AccessDeniedException"}},
		Fault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"})
	registerOperation("servicecatalog", "SearchProvisionedProducts", "servicecatalog:SearchProvisionedProducts", searchProvisionedProducts)
	registerOperation("servicecatalog", "DescribeRecord", "servicecatalog:DescribeRecord", describeRecord)
	registerOperation("servicecatalog", "DescribeProvisioningArtifact", "servicecatalog:DescribeProvisioningArtifact", describeProvisioningArtifact)
}

type jsonProvisionedProduct struct {
	Id, Name, Arn, Type, Status                        string
	StatusMessage                                      string `json:",omitempty"`
	ProductId, ProductName                             string
	ProvisioningArtifactId, ProvisioningArtifactName   string
	LastRecordId, LastProvisioningRecordId, PhysicalId string `json:",omitempty"`
	UserArn                                            string `json:",omitempty"`
	CreatedTime                                        *epoch `json:",omitempty"`
}

// searchProvisionedProducts honours AccessLevelFilter as today's API reference documents it: the default and
// Account/self return everything in the account, User/self and Role/self only what the caller's role provisioned.
// Without SortBy the results are "not sorted": here each page is cut from an order that depends on the page token,
// so a client that pages unsorted sees products twice and misses others, as nothing promises it would not.
func searchProvisionedProducts(s *Server, r *request) (any, *Fault) {
	var in struct {
		AccessLevelFilter *struct{ Key, Value string }
		Filters           map[string][]string
		SortBy, SortOrder string
		PageSize          int
		PageToken         string
	}
	if f := decodeJSON(r.body, &in); f != nil {
		return nil, f
	}
	if in.PageSize < 0 || in.PageSize > 100 {
		return nil, &Fault{Status: 400, Code: "InvalidParametersException", Message: "PageSize must be between 0 and 100"}
	}
	accountWide := true
	if in.AccessLevelFilter != nil {
		accountWide = false
		switch in.AccessLevelFilter.Key {
		case "Account":
			accountWide = true
		case "User", "Role":
		default:
			return nil, &Fault{Status: 400, Code: "InvalidParametersException", Message: "AccessLevelFilter Key must be Account, Role or User"}
		}
		if in.AccessLevelFilter.Value != "self" {
			return nil, &Fault{Status: 400, Code: "InvalidParametersException", Message: "AccessLevelFilter Value must be self"}
		}
	}
	match, f := searchQuery(in.Filters)
	if f != nil {
		return nil, f
	}
	var visible []ProvisionedProduct
	for _, pp := range r.region.ProvisionedProducts {
		if (accountWide || sameRole(pp.UserARN, r.caller.arn)) && match(pp) {
			visible = append(visible, pp)
		}
	}
	if f := sortProducts(visible, in.SortBy, in.SortOrder, in.PageToken); f != nil {
		return nil, f
	}
	items, next, f := page(s, r, visible, in.PageToken, s.org.pageSize(in.PageSize))
	if f != nil {
		f.Code = "InvalidParametersException"
		return nil, f
	}
	out := struct {
		ProvisionedProducts []jsonProvisionedProduct
		TotalResultsCount   int
		NextPageToken       string `json:",omitempty"`
	}{ProvisionedProducts: []jsonProvisionedProduct{}, TotalResultsCount: len(visible), NextPageToken: next}
	for _, pp := range items {
		out.ProvisionedProducts = append(out.ProvisionedProducts, jsonProvisionedProduct{
			Id: pp.ID, Name: pp.Name, Type: pp.Type, Status: pp.Status, StatusMessage: pp.StatusMessage,
			Arn:       "arn:" + s.org.partition() + ":servicecatalog:" + r.call.Region + ":" + r.account.ID + ":stack/" + pp.Name + "/" + pp.ID,
			ProductId: pp.ProductID, ProductName: pp.ProductName, ProvisioningArtifactId: pp.ArtifactID, ProvisioningArtifactName: pp.ArtifactName,
			LastRecordId: pp.LastRecordID, LastProvisioningRecordId: pp.LastRecordID, PhysicalId: pp.PhysicalID, UserArn: pp.UserARN,
			CreatedTime: epochPtr(pp.Created),
		})
	}
	return out, nil
}

// searchQuery is SearchProvisionedProducts' Filters: one key, SearchQuery (the model's ProvisionedProductViewFilterBy),
// whose values are "field:text" over the documented searchable fields (those modelled here) or free text over all of
// them. Every value must match. It is a search, not an equality: a field matches when it contains the text, case
// aside, so a caller wanting one product must hold the answer to its id itself.
func searchQuery(filters map[string][]string) (func(ProvisionedProduct) bool, *Fault) {
	fields := map[string]func(ProvisionedProduct) string{
		"id": func(p ProvisionedProduct) string { return p.ID }, "name": func(p ProvisionedProduct) string { return p.Name },
		"status": func(p ProvisionedProduct) string { return p.Status }, "type": func(p ProvisionedProduct) string { return p.Type },
		"productId": func(p ProvisionedProduct) string { return p.ProductID }, "productName": func(p ProvisionedProduct) string { return p.ProductName },
		"provisioningArtifactId":   func(p ProvisionedProduct) string { return p.ArtifactID },
		"provisioningArtifactName": func(p ProvisionedProduct) string { return p.ArtifactName },
		"lastRecordId":             func(p ProvisionedProduct) string { return p.LastRecordID },
		"physicalId":               func(p ProvisionedProduct) string { return p.PhysicalID }, "userArn": func(p ProvisionedProduct) string { return p.UserARN },
	}
	type term struct {
		field func(ProvisionedProduct) string // nil: any field
		text  string
	}
	var terms []term
	for key, values := range filters {
		if key != "SearchQuery" {
			return nil, &Fault{Status: 400, Code: "InvalidParametersException", Message: "Filters key must be SearchQuery"}
		}
		for _, v := range values {
			name, text, ok := strings.Cut(v, ":")
			if !ok {
				terms = append(terms, term{text: strings.ToLower(v)})
				continue
			}
			field := fields[name]
			if field == nil {
				return nil, &Fault{Status: 400, Code: "InvalidParametersException", Message: "SearchQuery field " + name + " is not searchable (simulated)"}
			}
			terms = append(terms, term{field: field, text: strings.ToLower(text)})
		}
	}
	return func(p ProvisionedProduct) bool {
		contains := func(field func(ProvisionedProduct) string, text string) bool {
			return strings.Contains(strings.ToLower(field(p)), text)
		}
		for _, t := range terms {
			found := t.field != nil && contains(t.field, t.text)
			for _, field := range fields {
				found = found || (t.field == nil && contains(field, t.text))
			}
			if !found {
				return false
			}
		}
		return true
	}, nil
}

// sortProducts orders products in place by one of the documented sort fields, or, with none, by a hash of each id
// and the page token: an order that holds for one page only.
func sortProducts(pps []ProvisionedProduct, by, order, token string) *Fault {
	key := map[string]func(ProvisionedProduct) string{
		"id": func(p ProvisionedProduct) string { return p.ID }, "name": func(p ProvisionedProduct) string { return p.Name },
		"arn": func(p ProvisionedProduct) string { return p.Name + "/" + p.ID }, "lastRecordId": func(p ProvisionedProduct) string { return p.LastRecordID },
	}
	if order != "" && order != "ASCENDING" && order != "DESCENDING" {
		return &Fault{Status: 400, Code: "InvalidParametersException", Message: "SortOrder must be ASCENDING or DESCENDING"}
	}
	field := key[by]
	switch {
	case by == "":
		field = func(p ProvisionedProduct) string { return pseudoUUID(p.ID + "\x00" + token) }
	case field == nil:
		return &Fault{Status: 400, Code: "InvalidParametersException", Message: "SortBy must be one of arn, id, name, lastRecordId"}
	}
	sort.SliceStable(pps, func(i, j int) bool {
		if order == "DESCENDING" {
			return field(pps[i]) > field(pps[j])
		}
		return field(pps[i]) < field(pps[j])
	})
	return nil
}

// sameRole compares an assumed-role session ARN with a provisioning user's ARN by role, ignoring the session name.
func sameRole(userARN, callerARN string) bool {
	trim := func(a string) string {
		if i := strings.LastIndex(a, "/"); strings.Contains(a, ":assumed-role/") && i > 0 {
			return a[:i]
		}
		return a
	}
	return userARN != "" && trim(userARN) == trim(callerARN)
}

func describeRecord(s *Server, r *request) (any, *Fault) {
	var in struct{ Id string }
	if f := decodeJSON(r.body, &in); f != nil {
		return nil, f
	}
	for _, rec := range r.region.Records {
		if rec.ID != in.Id {
			continue
		}
		type recordError struct{ Code, Description string }
		detail := struct {
			RecordId, RecordType, Status                 string
			ProvisionedProductId, ProvisionedProductName string
			ProductId, ProvisioningArtifactId            string
			ProvisionedProductType                       string
			CreatedTime, UpdatedTime                     *epoch `json:",omitempty"`
			RecordErrors                                 []recordError
		}{RecordId: rec.ID, RecordType: rec.Type, Status: rec.Status, ProvisionedProductId: rec.ProvisionedProductID,
			ProvisionedProductName: rec.ProvisionedProductName, ProductId: rec.ProductID, ProvisioningArtifactId: rec.ArtifactID,
			ProvisionedProductType: "CFN_STACK", CreatedTime: epochPtr(rec.Created), UpdatedTime: epochPtr(rec.Updated), RecordErrors: []recordError{}}
		for _, e := range rec.Errors {
			detail.RecordErrors = append(detail.RecordErrors, recordError(e))
		}
		return struct {
			RecordDetail  any
			RecordOutputs []any
		}{detail, []any{}}, nil
	}
	return nil, &Fault{Status: 400, Code: "ResourceNotFoundException", Message: "Record " + in.Id + " not found"}
}

func describeProvisioningArtifact(s *Server, r *request) (any, *Fault) {
	var in struct{ ProductId, ProvisioningArtifactId string }
	if f := decodeJSON(r.body, &in); f != nil {
		return nil, f
	}
	for _, a := range r.region.Artifacts {
		if a.ProductID == in.ProductId && a.ID == in.ProvisioningArtifactId {
			return struct {
				ProvisioningArtifactDetail any
				Status                     string
			}{struct {
				Id, Name, Description, Type, Guidance string
				Active                                bool
				CreatedTime                           *epoch `json:",omitempty"`
			}{a.ID, a.Name, a.Description, "CLOUD_FORMATION_TEMPLATE", "DEFAULT", true, epochPtr(a.Created)}, "AVAILABLE"}, nil
		}
	}
	return nil, &Fault{Status: 400, Code: "ResourceNotFoundException", Message: "Provisioning artifact " + in.ProvisioningArtifactId + " of product " + in.ProductId + " not found"}
}
