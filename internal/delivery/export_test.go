package delivery

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// What only the tests use: a digest as a plain subject and body, published exactly once through SendOnce. The job
// sends its digests as Messages (PublishMessage), with their attributes and protocol bodies.

// Digest is one run's digest and where its marker lives.
type Digest struct {
	TopicARN, Subject, Body string
	Claim
}

// PublishOnce is SendOnce of a plain digest: the exactly-once tests drive the mechanism through it.
func PublishOnce(ctx context.Context, store MarkerStore, pub Publisher, d Digest) (Sent, error) {
	return SendOnce(ctx, store, d.Claim, func(ctx context.Context) (string, error) {
		return Publish(ctx, pub, d.TopicARN, d.Subject, d.Body)
	})
}

// Publish sends the digest to the topic and returns SNS's message id.
func Publish(ctx context.Context, api Publisher, topicARN, subject, body string) (string, error) {
	out, err := api.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN), Subject: aws.String(subject), Message: aws.String(body)})
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", topicARN, err)
	}
	return aws.ToString(out.MessageId), nil
}
