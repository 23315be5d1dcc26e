package delivery_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgaudit/orgaudit/internal/awserr"
	"github.com/orgaudit/orgaudit/internal/awssim"
	"github.com/orgaudit/orgaudit/internal/delivery"
	"github.com/orgaudit/orgaudit/internal/mototest"
	"github.com/orgaudit/orgaudit/internal/testkit"
)

// conditionalStores are the S3 implementations the conditional writes are checked against: our simulator and moto,
// each over HTTP through the SDK. AWS answers a PutObject with If-None-Match: * on a key that holds an object with
// 412 PreconditionFailed (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html); both do.
func conditionalStores(t *testing.T) map[string]func(t *testing.T) (*s3.Client, aws.CredentialsProvider, string) {
	return map[string]func(t *testing.T) (*s3.Client, aws.CredentialsProvider, string){
		"awssim": func(t *testing.T) (*s3.Client, aws.CredentialsProvider, string) {
			sim := testkit.StartSim(t, awssim.Demo(time.Now()))
			cfg := sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion)
			return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), cfg.Credentials, awssim.DemoBucket
		},
		"moto": func(t *testing.T) (*s3.Client, aws.CredentialsProvider, string) {
			url := mototest.Start(t)
			creds := mototest.Credentials("AKIAMOTODELIVERY0001")
			client := s3.New(s3.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(url), UsePathStyle: true})
			const bucket = "orgaudit-reports-moto"
			if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatal(err)
			}
			return client, creds, bucket
		},
	}
}

// TestWorkbookIsNeverReplaced: a second workbook of the same run goes beside the first, which keeps what it held,
// and the conditional write it relies on is refused as S3 refuses it.
func TestWorkbookIsNeverReplaced(t *testing.T) {
	t.Parallel()
	for name, start := range conditionalStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			client, creds, bucket := start(t)
			key := delivery.Key("orgaudit", time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), "scheduled", "20261122T080000Z")
			put := func(body string) *delivery.Uploaded {
				t.Helper()
				up, err := delivery.PutWorkbook(ctx, client, creds, delivery.Upload{Bucket: bucket, Key: key, Filename: "orgaudit-20261122T080000Z.xlsx"}, []byte(body))
				if err != nil {
					t.Fatal(err)
				}
				return up
			}
			read := func(key string) string {
				t.Helper()
				out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				if err != nil {
					t.Fatalf("get %s: %v", key, err)
				}
				defer out.Body.Close()
				b, _ := io.ReadAll(out.Body)
				return string(b)
			}
			if up := put("mailed"); up.Key != key {
				t.Fatalf("first workbook at %s, want %s", up.Key, key)
			}
			second, third := put("retried"), put("replayed")
			want2, want3 := strings.TrimSuffix(key, ".xlsx")+"(2).xlsx", strings.TrimSuffix(key, ".xlsx")+"(3).xlsx"
			if second.Key != want2 || third.Key != want3 {
				t.Errorf("later workbooks at %s and %s, want %s and %s", second.Key, third.Key, want2, want3)
			}
			if got := read(key); got != "mailed" {
				t.Errorf("the first workbook now holds %q", got)
			}
			if got := read(second.Key); got != "retried" {
				t.Errorf("the second workbook holds %q", got)
			}

			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), IfNoneMatch: aws.String("*"), Body: strings.NewReader("x")})
			var re *awshttp.ResponseError
			if !awserr.ConditionFailed(err) || awserr.APICode(err) != "PreconditionFailed" || !errors.As(err, &re) || re.HTTPStatusCode() != 412 {
				t.Errorf("If-None-Match: * on a taken key: %v, want 412 PreconditionFailed", err)
			}
		})
	}
}

// TestFirstAttemptIsKept: a retry of an invocation (the same request id) gets the first attempt's run time back,
// whatever its own clock says; another request's record is not taken for this one's.
func TestFirstAttemptIsKept(t *testing.T) {
	t.Parallel()
	for name, start := range conditionalStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			client, _, bucket := start(t)
			const request = "8f1c2d3e-0000-4000-8000-000000000001"
			key := delivery.AttemptKey("orgaudit", "manual", request)
			if want := "orgaudit/published/requests/manual-" + request + ".json"; key != want {
				t.Errorf("AttemptKey = %s, want %s", key, want)
			}
			firstTime := time.Date(2026, 11, 22, 23, 50, 0, 0, time.UTC)
			a := delivery.Attempt{RequestID: request, Trigger: "manual", RunID: request, RunTime: firstTime}
			got, retried, err := delivery.FirstAttempt(ctx, client, bucket, key, a)
			if err != nil || retried || !got.RunTime.Equal(firstTime) {
				t.Fatalf("first attempt: %+v retried %v err %v", got, retried, err)
			}
			a.RunTime = firstTime.Add(40 * time.Minute) // after midnight
			got, retried, err = delivery.FirstAttempt(ctx, client, bucket, key, a)
			if err != nil || !retried || !got.RunTime.Equal(firstTime) {
				t.Fatalf("retry: %+v retried %v err %v, want the first attempt's %s", got, retried, err, firstTime)
			}
			// A request whose id reads the same once made safe for a key is not this one.
			other := a
			other.RequestID = strings.Replace(request, "-", "/", 1)
			if k := delivery.AttemptKey("orgaudit", "manual", other.RequestID); k != key {
				t.Fatalf("AttemptKey(%q) = %s, want it to read as %s", other.RequestID, k, key)
			}
			if _, _, err := delivery.FirstAttempt(ctx, client, bucket, key, other); err == nil || !strings.Contains(err.Error(), "not this one") {
				t.Errorf("another request's record was taken for this one's: %v", err)
			}
		})
	}
}
