package awssim

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Savings Plans speaks restJson1 (POST /DescribeSavingsPlans, a JSON body) and is global: the SDK sends every aws
// partition region to savingsplans.amazonaws.com, signed for us-east-1, and plans belong to the account. Its model
// names no throttling or refusal errors, so both are the API reference's Common Errors, HTTP 400.
func init() {
	registerService("savingsplans", protocol{global: true, rest: map[string]string{"POST /DescribeSavingsPlans": "DescribeSavingsPlans"},
		denied: Fault{Status: 400, Code: "AccessDeniedException"}}, Fault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"})
	registerOperation("savingsplans", "DescribeSavingsPlans", "savingsplans:DescribeSavingsPlans", describeSavingsPlans)
	registerDemo(demoSavingsPlans)
	DemoFindings["savings-plans"] = map[string]string{
		"111111111111/global/" + demoPlanID("mgmt-c7g"):            "critical", // a queued renewal for only half the commitment
		"555555555555/global/" + demoPlanID("compute-2025"):        "notice",   // renewed by a queued plan on the next page
		"555555555555/global/" + demoPlanID("compute-m6i"):         "warning",
		"555555555555/global/" + demoPlanID("compute-sagemaker"):   "notice",
		"555555555555/global/" + demoPlanID("compute-unpaid"):      "critical", // payment failed
		"777777777777/global/" + demoPlanID("staging-lapsed"):      "critical", // ended nine days ago, not renewed
		"121212121212/global/" + demoPlanID("analytics-database"):  "warning",
		"121212121212/global/" + demoPlanID("analytics-sagemaker"): "warning", // lapsed; its renewal's payment is pending
		"121212121212/global/" + demoPlanID("analytics-suspended"): "warning", // a state no document names
	}
	DemoRenewals["savings-plans/111111111111/global/"+demoPlanID("mgmt-c7g")] = demoPlanID("mgmt-c7g-renewal") // 0.50 of 1.00 per hour
	DemoRenewals["savings-plans/555555555555/global/"+demoPlanID("compute-2025")] = demoPlanID("compute-2025-renewal")
	DemoRenewals["savings-plans/121212121212/global/"+demoPlanID("analytics-sagemaker")] = demoPlanID("analytics-sagemaker-renewal")
	DemoStateNotRecognised["savings-plans/121212121212/global/"+demoPlanID("analytics-suspended")] = true
	registerGenerated(generated{service: "savingsplans", perAccount: generateSavingsPlans})
}

// demoPlanID is a demo plan's id: AWS's are UUIDs; the name says which plan it is in this file.
func demoPlanID(name string) string { return pseudoUUID("savings-plan/" + name) }

type jsonSavingsPlan struct {
	OfferingID             string   `json:"offeringId,omitempty"`
	SavingsPlanID          string   `json:"savingsPlanId"`
	SavingsPlanArn         string   `json:"savingsPlanArn"`
	Description            string   `json:"description,omitempty"`
	Start                  string   `json:"start,omitempty"`
	End                    string   `json:"end,omitempty"`
	State                  string   `json:"state"`
	Region                 string   `json:"region,omitempty"`
	EC2InstanceFamily      string   `json:"ec2InstanceFamily,omitempty"`
	SavingsPlanType        string   `json:"savingsPlanType"`
	PaymentOption          string   `json:"paymentOption"`
	ProductTypes           []string `json:"productTypes,omitempty"`
	Currency               string   `json:"currency"`
	Commitment             string   `json:"commitment"`
	UpfrontPaymentAmount   string   `json:"upfrontPaymentAmount"`
	RecurringPaymentAmount string   `json:"recurringPaymentAmount"`
	TermDurationInSeconds  int64    `json:"termDurationInSeconds"`
	ReturnableUntil        string   `json:"returnableUntil,omitempty"`
}

func describeSavingsPlans(s *Server, r *request) (any, *Fault) {
	var in struct {
		NextToken  string   `json:"nextToken"`
		MaxResults *int     `json:"maxResults"`
		States     []string `json:"states"`
	}
	if f := decodeJSON(r.body, &in); f != nil {
		return nil, f
	}
	max := 0
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, &Fault{Status: 400, Code: "ValidationException", Message: "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 1000"}
		}
		max = *in.MaxResults
	}
	plans := r.account.SavingsPlans
	if len(in.States) > 0 {
		plans = slices.DeleteFunc(slices.Clone(plans), func(p SavingsPlan) bool { return !slices.Contains(in.States, p.State) })
	}
	// The token's documented pattern is [A-Za-z0-9/=+]+: the page offset goes out base64-encoded.
	token := ""
	if in.NextToken != "" {
		b, err := base64.StdEncoding.DecodeString(in.NextToken)
		if err != nil {
			return nil, &Fault{Status: 400, Code: "ValidationException", Message: "Invalid nextToken"}
		}
		token = string(b)
	}
	items, next, f := page(s, r, plans, token, s.org.pageSize(max))
	if f != nil {
		f.Code = "ValidationException"
		return nil, f
	}
	out := struct {
		SavingsPlans []jsonSavingsPlan `json:"savingsPlans"`
		NextToken    string            `json:"nextToken,omitempty"`
	}{SavingsPlans: []jsonSavingsPlan{}}
	if next != "" {
		out.NextToken = base64.StdEncoding.EncodeToString([]byte(next))
	}
	for _, p := range items {
		products := []string{"EC2", "Fargate", "Lambda"}
		switch p.Type {
		case "EC2Instance":
			products = []string{"EC2"}
		case "SageMaker":
			products = []string{"SageMaker"}
		case "Database":
			products = []string{"RDS", "DynamoDB", "ElastiCache"}
		}
		out.SavingsPlans = append(out.SavingsPlans, jsonSavingsPlan{
			OfferingID: p.OfferingID, SavingsPlanID: p.ID, SavingsPlanArn: fmt.Sprintf("arn:%s:savingsplans::%s:savingsplan/%s", s.org.partition(), r.account.ID, p.ID),
			Description: p.Description, Start: isoTime(p.Start), End: isoTime(p.End), State: p.State, Region: p.Region,
			EC2InstanceFamily: p.InstanceFamily, SavingsPlanType: p.Type, PaymentOption: p.PaymentOption, ProductTypes: products,
			Currency: p.Currency, Commitment: p.Commitment, UpfrontPaymentAmount: p.Upfront, RecurringPaymentAmount: p.recurring(),
			TermDurationInSeconds: p.Term, ReturnableUntil: isoTime(p.Start),
		})
	}
	return out, nil
}

// recurring is the plan's recurring hourly payment: what its hourly commitment leaves once the upfront payment is
// spread over the term's hours (the commitment itself for No Upfront, nothing for All Upfront). Decimal text, as
// the other amounts; the commitment itself when an amount does not read as a number (a scenario's own business).
func (p SavingsPlan) recurring() string {
	c, err1 := strconv.ParseFloat(p.Commitment, 64)
	u, err2 := strconv.ParseFloat(p.Upfront, 64)
	if err1 != nil || err2 != nil || p.Term <= 0 {
		return p.Commitment
	}
	r := math.Round((c-u/(float64(p.Term)/3600))*1e6) / 1e6
	if r < 0 {
		r = 0
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

const savingsPlanYear = 365 * 24 * time.Hour

// savingsPlan is a one-year USD plan, No Upfront, ending at end.
func savingsPlan(name, typ, state string, end time.Time, commitment string) SavingsPlan {
	return SavingsPlan{ID: demoPlanID(name), OfferingID: pseudoUUID("offering/" + typ), Description: name, State: state, Type: typ,
		PaymentOption: "No Upfront", Currency: "USD", Commitment: commitment, Upfront: "0.0", Start: end.Add(-savingsPlanYear), End: end, Term: 31536000}
}

func ec2InstancePlan(p SavingsPlan, family, region string) SavingsPlan {
	p.InstanceFamily, p.Region = family, region
	return p
}

// demoSavingsPlans: an expiring plan renewed by a queued one on a later page (PageSize 3), one renewed only in part,
// one that lapsed unrenewed and one that lapsed too long ago to be news, one lapsed whose renewal's payment is
// pending, a payment that failed, plans returned, being returned and a queued purchase deleted, one in a state no
// document names, and plans far from their end: every documented state.
func demoSavingsPlans(org *Organization, day func(int) time.Time) {
	org.account("111111111111").SavingsPlans = []SavingsPlan{
		ec2InstancePlan(savingsPlan("mgmt-c7g", "EC2Instance", "active", day(2), "1.00"), "c7g", "us-east-1"),
		ec2InstancePlan(savingsPlan("mgmt-c7g-renewal", "EC2Instance", "queued", day(2).Add(savingsPlanYear), "0.50"), "c7g", "us-east-1"),
	}
	unpaid := savingsPlan("compute-unpaid", "Compute", "payment-failed", day(1).Add(savingsPlanYear), "4.00")
	unpaid.PaymentOption, unpaid.Upfront = "All Upfront", "35040.00"
	org.account("555555555555").SavingsPlans = []SavingsPlan{
		savingsPlan("compute-2025", "Compute", "active", day(6), "12.50"),
		ec2InstancePlan(savingsPlan("compute-m6i", "EC2Instance", "active", day(21), "3.20"), "m6i", "eu-west-1"),
		savingsPlan("compute-2027", "Compute", "active", day(400), "5.00"),
		unpaid,
		savingsPlan("compute-sagemaker", "SageMaker", "active", day(55), "0.80"),
		savingsPlan("compute-2025-renewal", "Compute", "queued", day(6).Add(savingsPlanYear), "12.50"),
	}
	// Returned within the return window (ReturnSavingsPlan), one on its way back, and a queued purchase deleted:
	// ended on purpose, none a lapse and none a renewal of the plan that lapsed.
	returned := savingsPlan("staging-returned", "Compute", "returned", day(-6).Add(savingsPlanYear), "2.00")
	returning := savingsPlan("staging-returning", "Compute", "pending-return", day(-1).Add(savingsPlanYear), "2.00")
	org.account("777777777777").SavingsPlans = []SavingsPlan{
		savingsPlan("staging-lapsed", "Compute", "retired", day(-9), "2.00"),
		savingsPlan("staging-old", "Compute", "retired", day(-45), "2.00"), // lapsed too long ago to be news
		returned, returning,
		savingsPlan("staging-deleted", "Compute", "queued-deleted", day(-9).Add(savingsPlanYear), "2.00"),
	}
	analytics := savingsPlan("analytics-database", "Database", "active", day(30), "1.75")
	analytics.PaymentOption, analytics.Upfront = "Partial Upfront", "7665.00"
	org.account("121212121212").SavingsPlans = []SavingsPlan{analytics,
		// Ended three days ago; bought again yesterday, payment still pending.
		savingsPlan("analytics-sagemaker", "SageMaker", "retired", day(-3), "0.60"),
		savingsPlan("analytics-sagemaker-renewal", "SageMaker", "payment-pending", day(-1).Add(savingsPlanYear), "0.60"),
		savingsPlan("analytics-suspended", "Compute", "suspended", day(120), "0.90"),
	}
}

// generateSavingsPlans gives an account up to three Compute plans ending within the next 400 days (or just past,
// retired), some with a queued renewal.
func generateSavingsPlans(r *rand.Rand, a *Account, day func(int) time.Time) {
	for k := range r.IntN(4) {
		end := day(r.IntN(400) - 5)
		p := savingsPlan(fmt.Sprintf("%s-%d", a.ID, k), "Compute", "active", end, fmt.Sprintf("%d.%02d", 1+r.IntN(20), r.IntN(100)))
		if !end.After(day(0)) {
			p.State = "retired"
		}
		a.SavingsPlans = append(a.SavingsPlans, p)
		if r.Float64() < 0.2 && end.After(day(0)) {
			q := savingsPlan(fmt.Sprintf("%s-%d-renewal", a.ID, k), "Compute", "queued", end.Add(savingsPlanYear), p.Commitment)
			a.SavingsPlans = append(a.SavingsPlans, q)
		}
	}
}
