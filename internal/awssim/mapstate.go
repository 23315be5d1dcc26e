package awssim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Step Functions' payload quota: a state's input or output, a task's result, at most 262,144 bytes of UTF-8. Past
// it the execution fails with States.DataLimitExceeded, which States.ALL does not catch: the execution ends there.
// https://docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html
// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
const PayloadQuota = 262144

// StatesError is an error as Step Functions names it.
type StatesError struct {
	Name  string
	Cause string
}

func (e *StatesError) Error() string { return e.Name + ": " + e.Cause }

// DataLimitExceeded is Step Functions' terminal error for a payload past the quota.
const DataLimitExceeded = "States.DataLimitExceeded"

// CheckPayload fails as Step Functions does when what (a state's input or output, named for the cause) passes the
// payload quota.
func CheckPayload(what string, payload []byte) error {
	if !utf8.Valid(payload) {
		return &StatesError{Name: "States.Runtime", Cause: what + " is not UTF-8"}
	}
	if len(payload) > PayloadQuota {
		return &StatesError{Name: DataLimitExceeded, Cause: fmt.Sprintf("%s is %d bytes, over the %d-byte payload quota", what, len(payload), PayloadQuota)}
	}
	return nil
}

// Child is how one item's task ended in a Map's item processor: its result (the task's output, after its
// OutputPath), or its error and cause.
type Child struct {
	Output json.RawMessage
	Error  string
	Cause  string
}

// moto's interpreter checks each state's output against the quota too, but it drops SendTaskFailure's cause, so
// failed shards there carry none of Lambda's error text, and it takes minutes for a map of 2,000 items: the quota a
// map's failures reach is shown with this model.
//
// MapStateOutput is the output of the Map state named state of definition, entered with input, whose items are
// items and whose processor's task ended as children[i] for item i: what the next state gets. It models the subset
// of the Amazon States Language the management template's map uses: ItemSelector (paths into the state's input and
// $$.Map.Item.Value), a processor of one Task whose Catch (States.ALL, with a ResultPath) leads to a Pass state with
// Parameters, the ResultWriter (the map's output is then the map run and the results' manifest, the results go to
// S3), and the map's ResultPath. Anything else of the definition is an error, not a guess. The collected results
// and the state's output are held to the payload quota: past it the error is States.DataLimitExceeded.
func MapStateOutput(definition, state string, input json.RawMessage, items []json.RawMessage, children []Child) ([]byte, error) {
	if len(items) != len(children) {
		return nil, fmt.Errorf("%d items, %d children", len(items), len(children))
	}
	var def struct {
		States map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(definition), &def); err != nil {
		return nil, fmt.Errorf("definition: %w", err)
	}
	var m struct {
		Type          string
		ItemSelector  map[string]any
		ItemProcessor struct {
			StartAt string
			States  map[string]json.RawMessage
		}
		ResultWriter *struct {
			Resource   string
			Parameters map[string]any
		}
		ResultPath *string
	}
	if err := json.Unmarshal(def.States[state], &m); err != nil || m.Type != "Map" {
		return nil, fmt.Errorf("state %s is not a Map (%v)", state, err)
	}
	var in any
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, fmt.Errorf("state input: %w", err)
	}
	var results []any
	for i, item := range items {
		var value any
		if err := json.Unmarshal(item, &value); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		itemInput, err := template(m.ItemSelector, in, value)
		if err != nil {
			return nil, fmt.Errorf("ItemSelector of item %d: %w", i, err)
		}
		out, err := runProcessor(m.ItemProcessor.States, m.ItemProcessor.StartAt, itemInput, children[i])
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		results = append(results, out)
	}
	var result any = results
	if m.ResultWriter != nil {
		// The results go to S3; the map's result is where (the run's id is Step Functions', made up here).
		bucket, _ := m.ResultWriter.Parameters["Bucket"].(string)
		prefix, _ := m.ResultWriter.Parameters["Prefix"].(string)
		if m.ResultWriter.Resource == "" || !strings.HasSuffix(m.ResultWriter.Resource, ":states:::s3:putObject") || bucket == "" {
			return nil, fmt.Errorf("state %s: a ResultWriter the model does not know: %+v", state, m.ResultWriter)
		}
		const run = "0d3b2c1a-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
		result = map[string]any{
			"MapRunArn":           "arn:aws:states:eu-west-1:111111111111:mapRun:orgaudit/" + state + ":" + run,
			"ResultWriterDetails": map[string]any{"Bucket": bucket, "Key": strings.TrimSuffix(prefix, "/") + "/" + run + "/manifest.json"},
		}
	} else {
		collected, err := json.Marshal(results)
		if err != nil {
			return nil, err
		}
		if err := CheckPayload("the result of state "+state, collected); err != nil {
			return nil, err
		}
	}
	path := "$"
	if m.ResultPath != nil {
		path = *m.ResultPath
	}
	out, err := setPath(in, path, result)
	if err != nil {
		return nil, fmt.Errorf("state %s ResultPath: %w", state, err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return b, CheckPayload("the output of state "+state, b)
}

// runProcessor runs one item through a processor of a Task, caught into a Pass state when it failed.
func runProcessor(states map[string]json.RawMessage, start string, input any, c Child) (any, error) {
	var task struct {
		Type  string
		Catch []struct {
			ErrorEquals []string
			ResultPath  *string
			Next        string
		}
		End bool
	}
	if err := json.Unmarshal(states[start], &task); err != nil || task.Type != "Task" {
		return nil, fmt.Errorf("the processor starts at %s, not a Task the model knows (%v)", start, err)
	}
	if c.Error == "" {
		if !task.End {
			return nil, errors.New("the model knows a processor whose task ends it")
		}
		var out any
		if err := json.Unmarshal(c.Output, &out); err != nil {
			return nil, fmt.Errorf("task output: %w", err)
		}
		return out, nil
	}
	for _, catch := range task.Catch {
		if len(catch.ErrorEquals) != 1 || catch.ErrorEquals[0] != "States.ALL" {
			continue
		}
		path := "$"
		if catch.ResultPath != nil {
			path = *catch.ResultPath
		}
		caught, err := setPath(input, path, map[string]any{"Error": c.Error, "Cause": c.Cause})
		if err != nil {
			return nil, err
		}
		var pass struct {
			Type       string
			Parameters map[string]any
			End        bool
		}
		if err := json.Unmarshal(states[catch.Next], &pass); err != nil || pass.Type != "Pass" || !pass.End {
			return nil, fmt.Errorf("the catch leads to %s, not an ending Pass state the model knows (%v)", catch.Next, err)
		}
		return template(pass.Parameters, caught, nil)
	}
	return nil, &StatesError{Name: c.Error, Cause: c.Cause} // uncaught: the child failed
}

// template evaluates a payload template: a field ending in ".$" takes the value of its path, "$..." in input or
// "$$.Map.Item.Value" the item; others are copied, objects recursively.
func template(t map[string]any, input, item any) (any, error) {
	if t == nil {
		return input, nil
	}
	out := map[string]any{}
	for k, v := range t {
		name, isPath := strings.CutSuffix(k, ".$")
		if !isPath {
			if sub, ok := v.(map[string]any); ok {
				r, err := template(sub, input, item)
				if err != nil {
					return nil, err
				}
				v = r
			}
			out[k] = v
			continue
		}
		p, _ := v.(string)
		var r any
		var err error
		switch {
		case p == "$$.Map.Item.Value":
			r = item
		case strings.HasPrefix(p, "$$"):
			err = fmt.Errorf("context path %s is not modelled", p)
		default:
			r, err = getPath(input, p)
		}
		if err != nil {
			return nil, &StatesError{Name: "States.Runtime", Cause: fmt.Sprintf("%s: %v", k, err)}
		}
		out[name] = r
	}
	return out, nil
}

// getPath reads a reference path of plain field names ("$", "$.a.b").
func getPath(v any, p string) (any, error) {
	if p == "$" {
		return v, nil
	}
	rest, ok := strings.CutPrefix(p, "$.")
	if !ok {
		return nil, fmt.Errorf("path %s is not modelled", p)
	}
	for _, f := range strings.Split(rest, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("path %s: %s of a non-object", p, f)
		}
		if v, ok = m[f]; !ok {
			return nil, fmt.Errorf("path %s: no field %s", p, f)
		}
	}
	return v, nil
}

// setPath is v with the value at a reference path replaced by r, as ResultPath does ("$" replaces the whole).
func setPath(v any, p string, r any) (any, error) {
	if p == "$" {
		return r, nil
	}
	rest, ok := strings.CutPrefix(p, "$.")
	if !ok || strings.Contains(rest, ".") {
		return nil, fmt.Errorf("ResultPath %s is not modelled", p)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("ResultPath %s into a non-object", p)
	}
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out[rest] = r
	return out, nil
}
