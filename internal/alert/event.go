package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/orgaudit/orgaudit/internal/config"
)

// MaxEventBytes is the largest event Decode reads: EventBridge's own limit on an event (256 KB, PutEvents' entry
// size), so anything larger did not come from it.
const MaxEventBytes = 256 * 1024

var (
	// eventID is EventBridge's id: a UUID in form (8-4-4-4-12). The user guide's own examples hold letters past f
	// ("42h6hb90-hg0w-11op-b01v-0xhnh0934z09"), so any ASCII letter or digit is taken; nothing else, because the id
	// becomes part of an S3 key (RecordKey) and a claim's name.
	eventID = regexp.MustCompile(`^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}$`)
	// accountID is Organizations' AccountId pattern.
	accountID = regexp.MustCompile(`^\d{12}$`)
	// partition is aws, aws-cn, aws-us-gov, aws-iso-b and the like.
	partition = regexp.MustCompile(`^aws(-[a-z]+)*$`)
	// stackName is CloudFormation's stack name rule: a letter, then letters, digits and hyphens, 128 at most.
	stackName = regexp.MustCompile(`^[A-Za-z][-A-Za-z0-9]{0,127}$`)
	// stackSetName is the same rule for a StackSet (CreateStackSet's StackSetName).
	stackSetName = regexp.MustCompile(`^[A-Za-z][-A-Za-z0-9]{0,127}$`)
	// statusToken is the shape of CloudFormation's status and action enums. A value the code does not know is kept
	// (Build reports it as not recognised); only a value that cannot be an enum is refused.
	statusToken = regexp.MustCompile(`^[A-Z][A-Z_]{0,63}$`)
	// uuidPart is the unique suffix of a stack or StackSet ARN.
	uuidPart = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// envelope is EventBridge's event structure (the "Amazon service event metadata" of the EventBridge user guide).
// Unknown fields are allowed, not refused: AWS adds fields to its events (the stack instance event's "action" came
// after its first documented form), and refusing them would drop real failures. A field the path reads must be
// there and of its type.
type envelope struct {
	Version    *string         `json:"version"`
	ID         *string         `json:"id"`
	DetailType *string         `json:"detail-type"`
	Source     *string         `json:"source"`
	Account    *string         `json:"account"`
	Time       *string         `json:"time"`
	Region     *string         `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

type statusDetails struct {
	Status         *string `json:"status"`
	StatusReason   *string `json:"status-reason"`
	DetailedStatus *string `json:"detailed-status"`
}

// stackDetail is "CloudFormation Stack Status Change"'s detail (the user guide's "Stack Status Change event detail").
// client-request-token is optional: events of operations AWS starts itself carry none.
type stackDetail struct {
	StackID            *string        `json:"stack-id"`
	StatusDetails      *statusDetails `json:"status-details"`
	ClientRequestToken *string        `json:"client-request-token"`
}

// instanceDetail is "CloudFormation StackSet StackInstance Status Change"'s detail. action is optional: the user
// guide's example has none.
type instanceDetail struct {
	StackSetARN   *string        `json:"stack-set-arn"`
	StackID       *string        `json:"stack-id"`
	Action        *string        `json:"action"`
	StatusDetails *statusDetails `json:"status-details"`
}

// Decode reads one EventBridge event of the two shapes the path handles and checks every field it will use: an
// event refused here is answered with *InvalidEventError and never guessed at.
func Decode(raw []byte) (Event, error) {
	if len(raw) > MaxEventBytes {
		return Event{}, invalid("event is %d bytes, more than EventBridge's %d", len(raw), MaxEventBytes)
	}
	var env envelope
	if err := strictJSON(raw, &env); err != nil {
		return Event{}, invalid("not an EventBridge event: %v", err)
	}
	var missing []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"version", env.Version}, {"id", env.ID}, {"detail-type", env.DetailType}, {"source", env.Source},
		{"account", env.Account}, {"time", env.Time}, {"region", env.Region}} {
		if f.v == nil || *f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(env.Detail) == 0 || string(env.Detail) == "null" {
		missing = append(missing, "detail")
	}
	if len(missing) > 0 {
		return Event{}, invalid("missing %s", strings.Join(missing, ", "))
	}
	if *env.Source != Source {
		return Event{}, invalid("source %q is not %s", clip(*env.Source), Source)
	}
	if *env.Version != "0" {
		return Event{}, invalid("version %q is not 0", clip(*env.Version))
	}
	if !eventID.MatchString(*env.ID) {
		return Event{}, invalid("id %q is not a UUID", clip(*env.ID))
	}
	if !accountID.MatchString(*env.Account) {
		return Event{}, invalid("account %q is not 12 digits", clip(*env.Account))
	}
	// A region is what the settings take as one (us-east-1, us-gov-west-1, eusc-de-east-1): one rule, so the path
	// never refuses an event from a region the deployment can be configured for.
	if !config.IsRegionName(*env.Region) {
		return Event{}, invalid("region %q is not a region", clip(*env.Region))
	}
	at, err := time.Parse(time.RFC3339, *env.Time)
	if err != nil {
		return Event{}, invalid("time %q is not RFC 3339", clip(*env.Time))
	}
	ev := Event{ID: *env.ID, DetailType: *env.DetailType, Time: at.UTC()}
	switch *env.DetailType {
	case StackStatusChange:
		err = decodeStack(env, &ev)
	case InstanceStatusChange:
		err = decodeInstance(env, &ev)
	default:
		err = invalid("detail-type %q is neither %q nor %q", clip(*env.DetailType), StackStatusChange, InstanceStatusChange)
	}
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

func decodeStack(env envelope, ev *Event) error {
	var d stackDetail
	if err := strictJSON(env.Detail, &d); err != nil {
		return invalid("detail: %v", err)
	}
	if d.StackID == nil || *d.StackID == "" {
		return invalid("detail has no stack-id")
	}
	st, err := parseStackID(*d.StackID)
	if err != nil {
		return err
	}
	// A stack's status change is sent by the stack's own account and region; forwarded to another account's bus it
	// keeps them. A stack-id elsewhere is a forged or mangled event.
	if st.AccountID != *env.Account || st.Region != *env.Region {
		return invalid("stack-id is in %s %s, the event in %s %s", st.AccountID, st.Region, *env.Account, *env.Region)
	}
	status, reason, _, err := readStatus(d.StatusDetails, false)
	if err != nil {
		return err
	}
	ev.Account, ev.Region = st.AccountID, st.Region
	ev.Stack = &StackDetail{StackID: *d.StackID, Status: status, StatusReason: reason, ClientRequestToken: deref(d.ClientRequestToken)}
	return nil
}

func decodeInstance(env envelope, ev *Event) error {
	var d instanceDetail
	if err := strictJSON(env.Detail, &d); err != nil {
		return invalid("detail: %v", err)
	}
	if d.StackSetARN == nil || *d.StackSetARN == "" {
		return invalid("detail has no stack-set-arn")
	}
	set, err := arn.Parse(*d.StackSetARN)
	name, id, _ := strings.Cut(strings.TrimPrefix(set.Resource, "stackset/"), ":")
	if err != nil || set.Service != "cloudformation" || !partition.MatchString(set.Partition) || !strings.HasPrefix(set.Resource, "stackset/") ||
		!stackSetName.MatchString(name) || !uuidPart.MatchString(id) {
		return invalid("stack-set-arn %q is not a CloudFormation StackSet ARN", clip(*d.StackSetARN))
	}
	// The StackSet's administrator receives the event, in the StackSet's region.
	if set.AccountID != *env.Account || set.Region != *env.Region {
		return invalid("stack-set-arn is in %s %s, the event in %s %s", set.AccountID, set.Region, *env.Account, *env.Region)
	}
	if d.StackID == nil || *d.StackID == "" {
		return invalid("detail has no stack-id")
	}
	st, err := parseStackID(*d.StackID)
	if err != nil {
		return err
	}
	if st.Partition != set.Partition {
		return invalid("stack-id is in partition %s, the StackSet in %s", st.Partition, set.Partition)
	}
	action := deref(d.Action)
	if action != "" && !statusToken.MatchString(action) {
		return invalid("action %q is not a StackSet operation", clip(action))
	}
	status, reason, detailed, err := readStatus(d.StatusDetails, true)
	if err != nil {
		return err
	}
	ev.Account, ev.Region = st.AccountID, st.Region
	ev.Instance = &InstanceDetail{StackSetARN: *d.StackSetARN, StackID: *d.StackID, Action: action, Status: status,
		StatusReason: reason, DetailedStatus: detailed}
	return nil
}

// readStatus reads status-details: status always, detailed-status for a stack instance; status-reason may be absent
// or empty (AWS sends "" on success).
func readStatus(s *statusDetails, instance bool) (status, reason, detailed string, err error) {
	if s == nil {
		return "", "", "", invalid("detail has no status-details")
	}
	status = deref(s.Status)
	if !statusToken.MatchString(status) {
		return "", "", "", invalid("status-details.status %q is not a status", clip(status))
	}
	if instance {
		detailed = deref(s.DetailedStatus)
		if !statusToken.MatchString(detailed) {
			return "", "", "", invalid("status-details.detailed-status %q is not a status", clip(detailed))
		}
	}
	return status, deref(s.StatusReason), detailed, nil
}

// parseStackID checks a stack ARN: arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>. The
// user guide's stack instance example names a stack without its uuid, so the uuid may be absent; the rest may not.
func parseStackID(id string) (arn.ARN, error) {
	a, err := arn.Parse(id)
	bad := func() (arn.ARN, error) {
		return arn.ARN{}, invalid("stack-id %q is not a CloudFormation stack ARN", clip(id))
	}
	if err != nil || a.Service != "cloudformation" || !partition.MatchString(a.Partition) || !config.IsRegionName(a.Region) ||
		!accountID.MatchString(a.AccountID) || !strings.HasPrefix(a.Resource, "stack/") {
		return bad()
	}
	parts := strings.Split(strings.TrimPrefix(a.Resource, "stack/"), "/")
	if len(parts) > 2 || !stackName.MatchString(parts[0]) || (len(parts) == 2 && !uuidPart.MatchString(parts[1])) {
		return bad()
	}
	return a, nil
}

// strictJSON decodes one JSON value into v: a value of the wrong type for a field is an error, and so is anything
// after the value.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			want := te.Type.Kind().String()
			if te.Type.Kind() == reflect.Struct {
				want = "object"
			}
			if te.Field == "" {
				return fmt.Errorf("%s, not %s", te.Value, want)
			}
			return fmt.Errorf("field %s is %s, not %s", te.Field, te.Value, want)
		}
		return err
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) > 0 {
		return errors.New("text after the JSON value")
	}
	return nil
}

func invalid(format string, args ...any) *InvalidEventError {
	return &InvalidEventError{Reason: fmt.Sprintf(format, args...)}
}

// clip keeps the echo of a refused value short: it is the sender's text, quoted (%q escapes every control and
// non-printing character), and need not be whole to say what was wrong.
func clip(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
