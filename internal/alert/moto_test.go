package alert_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/orgaudit/orgaudit/internal/alert"
	"github.com/orgaudit/orgaudit/internal/mototest"
)

// On moto_server, the independent emulator: each owner's queue, subscribed to the topic with a filter policy on the
// owner attribute as an owner's subscription is, receives exactly its owner's grouped alert, with the attributes
// and the notice body. moto differs from AWS here in what the audit's moto tests record (moto_owners_test.go):
// delivery to SQS happens inside Publish, so the queues hold the message once Publish returns.
func TestOwnersQueuesReceiveTheirGroupedAlertOnMoto(t *testing.T) {
	t.Parallel()
	url := mototest.Start(t)
	cfg := mototest.Config(url, "eu-west-1", "AKIDALERTSEND")
	ctx := context.Background()
	bucket := "alert-reports"
	store := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := store.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orgaudit")})
	if err != nil {
		t.Fatal(err)
	}
	queues := map[string]string{}
	for _, owner := range []string{"team-a", "team-b"} {
		q := sqs.NewFromConfig(cfg)
		created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(owner)})
		if err != nil {
			t.Fatal(err)
		}
		attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: created.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		policy, _ := json.Marshal(map[string][]string{"owner": {owner}})
		if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
			Endpoint: aws.String(attrs.Attributes["QueueArn"]), Attributes: map[string]string{"FilterPolicy": string(policy)}}); err != nil {
			t.Fatal(err)
		}
		queues[owner] = aws.ToString(created.QueueUrl)
	}
	owners := map[string]string{}
	var alerts []alert.Alert
	const n = 50
	for i := range n {
		account := fmt.Sprintf("%012d", 300000000000+i)
		owners[account] = []string{"team-a", "team-b"}[i%2]
		alerts = append(alerts, failedStack(i, account))
	}
	sender := &alert.Sender{Bucket: bucket, Prefix: "orgaudit", S3: store, Topic: sns.NewFromConfig(cfg), TopicARN: aws.ToString(topic.TopicArn),
		Route: tagRoute(owners)}
	for range 2 { // the second delivery is EventBridge's duplicate: nothing more goes out
		if _, err := sender.Deliver(ctx, alerts); err != nil {
			t.Fatal(err)
		}
	}
	for owner, queue := range queues {
		got, err := sqs.NewFromConfig(cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, VisibilityTimeout: 300})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Messages) != 1 {
			t.Fatalf("%s's queue holds %d messages, want 1", owner, len(got.Messages))
		}
		var env struct {
			Subject, Message  string
			MessageAttributes map[string]struct{ Type, Value string }
		}
		if err := json.Unmarshal([]byte(aws.ToString(got.Messages[0].Body)), &env); err != nil {
			t.Fatal(err)
		}
		if env.MessageAttributes["owner"].Value != owner || env.MessageAttributes["audience"].Value != "owner" || !strings.HasSuffix(env.Subject, "for "+owner) {
			t.Errorf("%s: subject %q attributes %+v", owner, env.Subject, env.MessageAttributes)
		}
		var notice alert.Notice
		if err := json.Unmarshal([]byte(env.Message), &notice); err != nil {
			t.Fatalf("%s: the sqs body is not the notice: %v: %.200s", owner, err, env.Message)
		}
		if notice.Owner != owner || len(notice.Alerts)+len(notice.More) != n/2 {
			t.Errorf("%s: notice of %q with %d alerts and %d more", owner, notice.Owner, len(notice.Alerts), len(notice.More))
		}
		for _, a := range notice.Alerts {
			if owners[a.AccountID] != owner {
				t.Errorf("%s's notice holds account %s of %s", owner, a.AccountID, owners[a.AccountID])
			}
		}
	}
}
