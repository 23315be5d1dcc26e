package cloudformation_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/mototest"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestEmailSubscriptionFilterPassesAlarms applies the template's own filter policy of the email subscription to a
// queue on moto's SNS and publishes what reaches the topic: the organization's digest, an owner's digest, and a
// CloudWatch alarm, which carries no message attributes. The list must get the digest and the alarms (the function's
// errors, failed runs, a failed state machine), never an owner's digest: a filter on the audience attribute alone
// drops every message without it, so the alarms the template points at the topic would reach nobody.
func TestEmailSubscriptionFilterPassesAlarms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := mototest.Start(t)
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAMOTOFILTER000001", "moto-secret", "")}

	props := get(load(t, "management.yaml").root, "Resources", "DigestEmailSubscription", "Properties")
	var policy any
	if err := get(props, "FilterPolicy").Decode(&policy); err != nil {
		t.Fatal(err)
	}
	policyJSON, err := json.Marshal(policy)
	if err != nil {
		t.Fatal(err)
	}
	scope := get(props, "FilterPolicyScope")

	snsc, sqsc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orgaudit-digest")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("the-list")})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qa.Attributes["QueueArn"]),
		Attributes: map[string]string{"FilterPolicy": string(policyJSON), "FilterPolicyScope": scope.Value, "RawMessageDelivery": "true"}}); err != nil {
		t.Fatalf("moto refused the template's filter policy %s: %v", policyJSON, err)
	}

	attr := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	for body, attrs := range map[string]map[string]snstypes.MessageAttributeValue{
		"organization digest": {delivery.AttrAudience: attr(report.AudienceOrganization)},
		"owner digest":        {delivery.AttrAudience: attr(report.AudienceOwner), delivery.AttrOwner: attr("payments")},
		"alarm":               nil,
	} {
		if _, err := snsc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(body), MessageAttributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for {
		out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			got = append(got, aws.ToString(m.Body))
			if _, err := sqsc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(got)
	if want := []string{"alarm", "organization digest"}; !slices.Equal(got, want) {
		t.Errorf("with the template's filter policy %s the list received %q, want %q", policyJSON, got, want)
	}
}
