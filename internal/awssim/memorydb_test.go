package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/memorydb"
)

// TestMemoryDBReservedNodesWire: the real SDK client reads the demo's reservations over the awsJson1_1 wire, every
// field in its model's shape, across the page boundaries the demo's page size makes; a token the server did not issue
// and a MaxResults out of range are the client's errors in MemoryDB's own codes.
func TestMemoryDBReservedNodesWire(t *testing.T) {
	t.Parallel()
	s := start(t)
	client := memorydb.NewFromConfig(s.Config("444444444444", "eu-west-1"))
	want := Demo(asOf).account("444444444444").Regions["eu-west-1"].Reservations["memorydb"]
	pages := memorydb.NewDescribeReservedNodesPaginator(client, &memorydb.DescribeReservedNodesInput{})
	n, got := 0, 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.ReservedNodes {
			w := want[got]
			if aws.ToString(r.ReservationId) != w.ID || aws.ToString(r.NodeType) != w.Type || int(r.NodeCount) != w.Count ||
				!aws.ToTime(r.StartTime).Equal(w.Start.Truncate(time.Millisecond)) || int(r.Duration) != w.Duration || aws.ToString(r.State) != w.State ||
				r.FixedPrice != w.FixedPrice || aws.ToString(r.OfferingType) != w.OfferingType || aws.ToString(r.ReservedNodesOfferingId) != w.OfferingID ||
				aws.ToString(r.ARN) != "arn:aws:memorydb:eu-west-1:444444444444:reservednode/"+w.ID ||
				len(r.RecurringCharges) != len(w.Recurring) {
				t.Errorf("node %d: %+v, want %+v", got, r, w)
			}
			got++
		}
		n++
	}
	demoPageSize := Demo(asOf).PageSize
	if got != len(want) || n != (len(want)+demoPageSize-1)/demoPageSize || n < 2 {
		t.Errorf("%d reserved nodes in %d pages, want %d in pages of %d", got, n, len(want), demoPageSize)
	}
	if _, err := client.DescribeReservedNodes(context.Background(), &memorydb.DescribeReservedNodesInput{NextToken: aws.String("bogus")}); code(err) != "InvalidParameterValueException" {
		t.Errorf("bad token: %v", err)
	}
	if _, err := client.DescribeReservedNodes(context.Background(), &memorydb.DescribeReservedNodesInput{MaxResults: aws.Int32(0)}); code(err) != "InvalidParameterValueException" {
		t.Errorf("MaxResults 0: %v", err)
	}
	out, err := client.DescribeReservedNodes(context.Background(), &memorydb.DescribeReservedNodesInput{ReservationId: aws.String(want[0].ID)})
	if err != nil || len(out.ReservedNodes) != 1 || aws.ToString(out.ReservedNodes[0].ReservationId) != want[0].ID {
		t.Errorf("by ReservationId: %v %+v", err, out)
	}
	if _, err := client.DescribeReservedNodes(context.Background(), &memorydb.DescribeReservedNodesInput{ReservationId: aws.String("nope")}); code(err) != "ReservedNodeNotFoundFault" {
		t.Errorf("unknown ReservationId: %v", err)
	}
	if f := throttleOf("memorydb"); f.Code != "ThrottlingException" || f.Status != 400 {
		t.Errorf("throttling %+v", f)
	}
}
