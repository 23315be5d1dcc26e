package awssim

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"
	"github.com/aws/smithy-go"
)

// TestSavingsPlansWire: the real SDK client reads an account's plans through restJson1 pages whose tokens keep the
// documented pattern, from any region (Savings Plans is global), and a bad maxResults is the model's
// ValidationException.
func TestSavingsPlansWire(t *testing.T) {
	t.Parallel()
	s := start(t)
	want := Demo(asOf).account("555555555555").SavingsPlans
	// af-south-1 is not enabled in the account: a global service answers regardless.
	client := savingsplans.NewFromConfig(s.Config("555555555555", "af-south-1"))
	token := regexp.MustCompile(`^[A-Za-z0-9/=\+]+$`)
	in := &savingsplans.DescribeSavingsPlansInput{}
	var ids []string
	pages := 0
	for {
		out, err := client.DescribeSavingsPlans(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range out.SavingsPlans {
			ids = append(ids, aws.ToString(p.SavingsPlanId))
			if p.End == nil || p.Commitment == nil || p.SavingsPlanType == "" || p.TermDurationInSeconds == 0 {
				t.Errorf("plan without its end, commitment, type or term: %+v", p)
			}
		}
		if out.NextToken == nil {
			break
		}
		if !token.MatchString(*out.NextToken) {
			t.Errorf("token %q breaks the documented pattern", *out.NextToken)
		}
		in.NextToken = out.NextToken
	}
	if len(ids) != len(want) || pages < 2 || ids[0] != want[0].ID {
		t.Errorf("%d plans over %d pages, want %d over more than one page", len(ids), pages, len(want))
	}
	_, err := client.DescribeSavingsPlans(context.Background(), &savingsplans.DescribeSavingsPlansInput{MaxResults: aws.Int32(5000)})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" {
		t.Errorf("maxResults 5000: %v", err)
	}
	if f := throttleOf("savingsplans"); f.Code != "ThrottlingException" {
		t.Errorf("throttling %+v", f)
	}
}

// TestOpenSearchReservedInstancesWire: GET with paging in the query string, StartTime as epoch seconds, the
// reservationId filter, and the model's error codes.
func TestOpenSearchReservedInstancesWire(t *testing.T) {
	t.Parallel()
	s := start(t)
	want := Demo(asOf).account("444444444444").Regions["us-east-1"].Reservations["es"]
	client := opensearch.NewFromConfig(s.Config("444444444444", "us-east-1"))
	pages := opensearch.NewDescribeReservedInstancesPaginator(client, &opensearch.DescribeReservedInstancesInput{})
	n, calls := 0, 0
	for pages.HasMorePages() {
		out, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		calls++
		for _, ri := range out.ReservedInstances {
			w := want[n]
			if aws.ToString(ri.ReservedInstanceId) != w.ID || !aws.ToTime(ri.StartTime).Equal(w.Start) || int(ri.Duration) != w.Duration ||
				int(ri.InstanceCount) != w.Count || string(ri.InstanceType) != w.Type || aws.ToString(ri.State) != w.State {
				t.Errorf("reservation %d: %+v, want %+v", n, ri, w)
			}
			n++
		}
	}
	if n != len(want) || calls < 2 {
		t.Errorf("%d reservations in %d pages, want %d over more than one page", n, calls, len(want))
	}
	one, err := client.DescribeReservedInstances(context.Background(), &opensearch.DescribeReservedInstancesInput{ReservedInstanceId: aws.String(want[1].ID)})
	if err != nil || len(one.ReservedInstances) != 1 || aws.ToString(one.ReservedInstances[0].ReservationName) != want[1].Name {
		t.Errorf("reservationId filter: %+v %v", one, err)
	}
	_, err = client.DescribeReservedInstances(context.Background(), &opensearch.DescribeReservedInstancesInput{MaxResults: 500})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" {
		t.Errorf("maxResults 500: %v", err)
	}
	if f := accessDenied("es", "no"); f.Code != "AccessDeniedException" || f.Status != 403 {
		t.Errorf("refusal %+v", f)
	}
	if f := throttleOf("es"); f.Code != "ThrottlingException" || f.Status != 429 {
		t.Errorf("throttling %+v", f)
	}
}
