package mototest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Step Functions on moto: moto 5.2.1 carries an ASL interpreter (derived from LocalStack's) that runs a state machine
// once told to, including a Distributed Map whose ItemReader reads moto's own S3. It cannot run a Lambda function's
// code without Docker, so a test swaps each Lambda task of a definition for a task-token integration: the state
// sends the task's payload and a token to an SQS queue, and a worker in the test answers with SendTaskSuccess or
// SendTaskFailure, running the real handler in between. Everything else of the definition runs as written.

// Invoke is a Lambda function's handler as the worker calls it: the task's payload in, the function's response out.
type Invoke func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error)

// Configure posts moto's runtime configuration (POST /moto-api/config), e.g.
// {"stepfunctions":{"execute_state_machine":true},"lambda":{"use_docker":false}}.
func Configure(t testing.TB, url, config string) {
	t.Helper()
	postOK(t, url+"/moto-api/config", config)
}

// Reset forgets everything moto holds (POST /moto-api/reset). moto's interpreter runs one execution per server
// state: a second one fails unless moto is reset in between, so a test re-creates what it needs after.
func Reset(t testing.TB, url string) {
	t.Helper()
	postOK(t, url+"/moto-api/reset", "")
}

// EnableStepFunctions makes moto execute state machines, without Docker for Lambda.
func EnableStepFunctions(t testing.TB, url string) {
	t.Helper()
	Configure(t, url, `{"stepfunctions":{"execute_state_machine":true},"lambda":{"use_docker":false}}`)
}

func postOK(t testing.TB, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		t.Fatalf("POST %s: %s: %s", url, resp.Status, b.String())
	}
}

// lambdaInvoke is the optimized Lambda integration's resource; tokenTask what the swap puts in its place.
const (
	lambdaInvokeSuffix = ":states:::lambda:invoke"
	tokenTask          = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
)

// SwapLambdaTasks rewrites every Task state of definition (its map's item processors too) that invokes a Lambda
// function through the optimized integration into one that sends {"token": <task token>, "payload": <the same
// Payload>} to queueURL and waits for the token. Retry, Catch, paths and selectors stay as written; the worker
// answers {"Payload": <the response>}, the shape the Lambda integration gives, so OutputPath "$.Payload" holds. It
// returns the new definition and how many tasks it swapped.
func SwapLambdaTasks(definition, queueURL string) (string, int, error) {
	// Numbers keep their text: moto's parser wants ToleratedFailurePercentage as a decimal (100.0), which a float64
	// would write back as 100.
	var def map[string]any
	dec := json.NewDecoder(strings.NewReader(definition))
	dec.UseNumber()
	if err := dec.Decode(&def); err != nil {
		return "", 0, fmt.Errorf("definition: %w", err)
	}
	swapped := 0
	var walk func(states map[string]any) error
	walk = func(states map[string]any) error {
		for name, v := range states {
			st, _ := v.(map[string]any)
			if proc, ok := st["ItemProcessor"].(map[string]any); ok {
				inner, _ := proc["States"].(map[string]any)
				if err := walk(inner); err != nil {
					return err
				}
			}
			res, _ := st["Resource"].(string)
			if st["Type"] != "Task" || !strings.HasSuffix(res, lambdaInvokeSuffix) {
				continue
			}
			params, _ := st["Parameters"].(map[string]any)
			body := map[string]any{"token.$": "$$.Task.Token"}
			switch {
			case params["Payload"] != nil:
				body["payload"] = params["Payload"]
			case params["Payload.$"] != nil:
				body["payload.$"] = params["Payload.$"]
			default:
				return fmt.Errorf("state %s invokes Lambda without a Payload", name)
			}
			st["Resource"] = tokenTask
			st["Parameters"] = map[string]any{"QueueUrl": queueURL, "MessageBody": body}
			swapped++
		}
		return nil
	}
	states, _ := def["States"].(map[string]any)
	if err := walk(states); err != nil {
		return "", 0, err
	}
	out, err := json.Marshal(def)
	return string(out), swapped, err
}

// Worker answers the task tokens a swapped definition sends to one queue, calling invoke for each payload. A
// handler's error fails the task as Lambda's integration does: Error is the error's type name (Lambda's errorType),
// Cause the function's error response.
type Worker struct {
	SQS    *sqs.Client
	SFN    *sfn.Client
	Queue  string
	Invoke Invoke

	mu       sync.Mutex
	payloads []json.RawMessage
}

// Payloads are the payloads the worker was handed, in the order it received them.
func (w *Worker) Payloads() []json.RawMessage {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]json.RawMessage(nil), w.payloads...)
}

// Run receives until ctx ends, handling each message in its own goroutine as Lambda runs concurrent invocations, and
// returns the first error of SQS or Step Functions (a handler's error is the task's failure, not the worker's).
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, 1)
	for {
		select {
		case err := <-errs:
			return err
		default:
		}
		out, err := w.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.Queue), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, VisibilityTimeout: 900})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		for _, m := range out.Messages {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.answer(ctx, aws.ToString(m.Body)); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				if _, err := w.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(w.Queue), ReceiptHandle: m.ReceiptHandle}); err != nil && ctx.Err() == nil {
					select {
					case errs <- fmt.Errorf("delete: %w", err):
					default:
					}
				}
			}()
		}
	}
}

func (w *Worker) answer(ctx context.Context, body string) error {
	var msg struct {
		Token   string          `json:"token"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.Token == "" {
		return fmt.Errorf("message %q is no task: %v", body, err)
	}
	w.mu.Lock()
	w.payloads = append(w.payloads, msg.Payload)
	w.mu.Unlock()
	resp, err := w.Invoke(ctx, msg.Payload)
	if err != nil {
		typ := reflect.TypeOf(err)
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		cause, _ := json.Marshal(map[string]any{"errorMessage": err.Error(), "errorType": typ.Name()})
		_, err = w.SFN.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(msg.Token), Error: aws.String(typ.Name()), Cause: aws.String(string(cause))})
		if err != nil {
			return fmt.Errorf("send task failure: %w", err)
		}
		return nil
	}
	output, err := json.Marshal(map[string]json.RawMessage{"Payload": resp})
	if err != nil {
		return fmt.Errorf("handler response %q: %w", resp, err)
	}
	if _, err := w.SFN.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(msg.Token), Output: aws.String(string(output))}); err != nil {
		return fmt.Errorf("send task success: %w", err)
	}
	return nil
}

// Execute starts an execution of stateMachine with input and waits, up to timeout, until it ends.
func Execute(ctx context.Context, client *sfn.Client, stateMachine, input string, timeout time.Duration) (*sfn.DescribeExecutionOutput, error) {
	started, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(stateMachine), Input: aws.String(input)})
	if err != nil {
		return nil, fmt.Errorf("start execution: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: started.ExecutionArn})
		if err != nil {
			return nil, fmt.Errorf("describe execution: %w", err)
		}
		if out.Status != sfntypes.ExecutionStatusRunning {
			return out, nil
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("execution still running after %s", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
