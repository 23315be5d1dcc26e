package cloudformation_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/mototest"
	"github.com/orgaudit/orgaudit/internal/report"
)

// TestEmailSubscriptionFilterPassesAlarms applies the template's email subscription (its filter policy and scope) to
// a queue on moto's SNS and publishes what reaches the digest topic: the organization's digest and a CloudWatch
// alarm, which carries no message attributes; an owner's digest goes to the owners' topic. The list must get the
// digest and the alarm, never an owner's digest.
//
// moto is kinder than SNS here (see TestMotoMatchesFiltersAgainstNoAttributes): it lets an attribute-less message
// through {"exists": false}, which SNS never does, so this test alone could not catch a filter that drops the alarms.
// The simulator applies SNS's rule, and TestOperatorGetsEveryAlarmAndTheOrganizationsDigest (internal/audit) runs
// the job and every alarm of the template through it.
func TestEmailSubscriptionFilterPassesAlarms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := mototest.Start(t)
	cfg := mototest.Config(url, "eu-west-1", "AKIAMOTOFILTER000001")

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
	digestTopic, list := motoTopicWithQueue(t, snsc, sqsc, "orgaudit-digest", "the-list", map[string]string{"FilterPolicy": string(policyJSON), "FilterPolicyScope": scope.Value})
	ownerTopic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orgaudit-owner-digests")})
	if err != nil {
		t.Fatal(err)
	}
	attr := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	for _, m := range []struct {
		topic, body string
		attrs       map[string]snstypes.MessageAttributeValue
	}{
		{aws.ToString(digestTopic), "organization digest", map[string]snstypes.MessageAttributeValue{delivery.AttrAudience: attr(report.AudienceOrganization)}},
		{aws.ToString(ownerTopic.TopicArn), "owner digest", map[string]snstypes.MessageAttributeValue{delivery.AttrAudience: attr(report.AudienceOwner), delivery.AttrOwner: attr("payments")}},
		{aws.ToString(digestTopic), "alarm", nil},
	} {
		if _, err := snsc.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(m.topic), Message: aws.String(m.body), MessageAttributes: m.attrs}); err != nil {
			t.Fatal(err)
		}
	}
	got := drainBodies(t, sqsc, list)
	if want := []string{"alarm", "organization digest"}; !slices.Equal(got, want) {
		t.Errorf("with the template's filter policy %s the list received %q, want %q", policyJSON, got, want)
	}
}

// TestMotoMatchesFiltersAgainstNoAttributes records where moto 5.2.1 is kinder than SNS: it delivers a message
// without attributes through the filter {"audience": [{"exists": false}, "organization"]}, which SNS never does
// ("exists": false only matches if at least one attribute is present; an empty set of attributes matches no filter:
// https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html). The template once relied on that filter
// and every alarm was lost on AWS while the moto test passed. Should moto learn SNS's rule, this test fails: then
// moto alone can guard the email subscription again.
func TestMotoMatchesFiltersAgainstNoAttributes(t *testing.T) {
	t.Parallel()
	url := mototest.Start(t)
	cfg := mototest.Config(url, "eu-west-1", "AKIAMOTOFILTER000002")
	snsc, sqsc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	topic, queue := motoTopicWithQueue(t, snsc, sqsc, "old-filter", "old-list",
		map[string]string{"FilterPolicy": `{"audience":[{"exists":false},"organization"]}`, "FilterPolicyScope": "MessageAttributes"})
	if _, err := snsc.Publish(context.Background(), &sns.PublishInput{TopicArn: topic, Message: aws.String("alarm")}); err != nil {
		t.Fatal(err)
	}
	if got := drainBodies(t, sqsc, queue); !slices.Equal(got, []string{"alarm"}) {
		t.Errorf("moto delivered %q through exists:false to a message without attributes; it used to deliver it (SNS does not): "+
			"the deviation recorded here and in TestEmailSubscriptionFilterPassesAlarms is gone", got)
	}
}

// motoTopicWithQueue creates a topic and a queue subscribed to it raw, with the subscription's attributes.
func motoTopicWithQueue(t *testing.T, snsc *sns.Client, sqsc *sqs.Client, topicName, queueName string, attrs map[string]string) (topicARN, queueURL *string) {
	t.Helper()
	ctx := context.Background()
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(topicName)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queueName)})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	subAttrs := map[string]string{"RawMessageDelivery": "true"}
	for k, v := range attrs {
		subAttrs[k] = v
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qa.Attributes["QueueArn"]),
		Attributes: subAttrs}); err != nil {
		t.Fatalf("moto refused the subscription %v: %v", attrs, err)
	}
	return topic.TopicArn, q.QueueUrl
}

// drainBodies receives every message of a queue, sorted.
func drainBodies(t *testing.T, sqsc *sqs.Client, queueURL *string) []string {
	t.Helper()
	ctx := context.Background()
	var got []string
	for {
		out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queueURL, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			got = append(got, aws.ToString(m.Body))
			if _, err := sqsc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: queueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(got)
	return got
}
