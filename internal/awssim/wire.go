package awssim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// protocol is one AWS wire protocol: how an operation is named in a request and how answers and errors are written.
type protocol struct {
	json      bool
	ec2       bool
	namespace string // XML namespace of query answers
	// rest maps a restJson1 request's method and path, "POST /DescribeSavingsPlans", to its operation. Its query
	// string is the request's form; its body, JSON, the handler's to decode.
	rest map[string]string
	// global services answer in any region and hold their data on the account, not on a region.
	global bool
	// denied is the service's refusal of a caller without the permission, its Message (if any) put before IAM's
	// words; empty for AWS's common AccessDenied (HTTP 403).
	denied Fault
	// maxBody is the most of a request the simulator reads; zero is defaultMaxBody. SES takes 40 MB messages.
	maxBody int64
	// serve, when set, answers the service's requests whole, for a protocol another implementation speaks (S3,
	// through gofakes3): it authenticates, authorizes, counts and intercepts as the server does for the others.
	serve func(s *Server, w http.ResponseWriter, r *http.Request, key, region string)
}

// defaultMaxBody bounds a request to the services whose requests are small (lists and describes, a digest).
const defaultMaxBody = 4 << 20

// isJSON says the protocol answers in JSON: awsJson1_0, awsJson1_1 or restJson1.
func (p protocol) isJSON() bool { return p.json || p.rest != nil }

// operation names the call: the X-Amz-Target suffix for awsJson1_1, the Action form field for query protocols.
func (p protocol) operation(r *http.Request, body []byte) (string, url.Values, error) {
	if p.rest != nil {
		op, ok := p.rest[r.Method+" "+r.URL.Path]
		if !ok {
			return "", nil, fmt.Errorf("%w: no operation at %s %s", errNoOperation, r.Method, r.URL.Path)
		}
		return op, r.URL.Query(), nil
	}
	if p.json {
		target := r.Header.Get("X-Amz-Target")
		_, op, ok := strings.Cut(target, ".")
		if !ok || op == "" {
			return "", nil, errNoOperation
		}
		return op, nil, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", nil, fmt.Errorf("malformed form body: %w", err)
	}
	op := form.Get("Action")
	if op == "" {
		return "", form, errNoOperation
	}
	return op, form, nil
}

func (p protocol) writeResult(w http.ResponseWriter, requestID, op string, out any) {
	switch {
	case p.isJSON():
		b, err := json.Marshal(out)
		if err != nil {
			p.writeError(w, requestID, op, &Fault{Status: 500, Code: "InternalFailure", Message: err.Error()})
			return
		}
		w.Header().Set("Content-Type", p.contentType())
		w.Header().Set("X-Amzn-RequestId", requestID)
		_, _ = w.Write(b)
	case p.ec2:
		// ec2 query answers have no Result wrapper: the fields sit in <OpResponse> beside requestId.
		var buf bytes.Buffer
		fmt.Fprintf(&buf, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<%sResponse xmlns="%s"><requestId>%s</requestId>`, op, p.namespace, requestID)
		inner, err := xml.Marshal(out)
		if err != nil {
			p.writeError(w, requestID, op, &Fault{Status: 500, Code: "InternalError", Message: err.Error()})
			return
		}
		buf.Write(stripOuter(inner))
		fmt.Fprintf(&buf, "</%sResponse>", op)
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		_, _ = w.Write(buf.Bytes())
	default:
		var buf bytes.Buffer
		fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, op, p.namespace)
		enc := xml.NewEncoder(&buf)
		if err := enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: op + "Result"}}); err != nil {
			p.writeError(w, requestID, op, &Fault{Status: 500, Code: "InternalFailure", Message: err.Error()})
			return
		}
		fmt.Fprintf(&buf, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", requestID, op)
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-RequestId", requestID)
		_, _ = w.Write(buf.Bytes())
	}
}

func (p protocol) writeError(w http.ResponseWriter, requestID, op string, f *Fault) {
	status := f.Status
	if status == 0 {
		status = 400
	}
	switch {
	case p.isJSON():
		w.Header().Set("Content-Type", p.contentType())
		w.Header().Set("X-Amzn-RequestId", requestID)
		w.Header().Set("X-Amzn-ErrorType", f.Code)
		w.WriteHeader(status)
		body := map[string]string{"__type": f.Code, "message": f.Message}
		if p.rest != nil {
			body = map[string]string{"message": f.Message} // restJson1 names the error in X-Amzn-ErrorType only
		}
		b, _ := json.Marshal(body)
		_, _ = w.Write(b)
	case p.ec2:
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			xmlEscape(f.Code), xmlEscape(f.Message), requestID)
	default:
		kind := "Sender"
		if status >= 500 {
			kind = "Receiver"
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-RequestId", requestID)
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			p.namespace, kind, xmlEscape(f.Code), xmlEscape(f.Message), requestID)
	}
}

func (p protocol) contentType() string {
	if p.rest != nil {
		return "application/json"
	}
	return "application/x-amz-json-1.1"
}

// stripOuter drops the element xml.Marshal wraps a struct in, keeping its children.
func stripOuter(b []byte) []byte {
	start := bytes.IndexByte(b, '>')
	end := bytes.LastIndexByte(b, '<')
	if start < 0 || end <= start {
		return nil
	}
	return b[start+1 : end]
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// epoch is an awsJson1_1 timestamp: seconds since the epoch, as a JSON number.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// isoTime is the query protocols' timestamp format.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// page slices items for a token that is the decimal offset of the next page; a token the server did not issue is the
// client's error, as it is on AWS. An operation the organization names in RepeatToken hands a page's own token back.
func page[T any](s *Server, r *request, items []T, token string, size int) ([]T, string, *Fault) {
	out, next, f := pageAt(items, token, size)
	if f == nil && token != "" && slices.Contains(s.org.RepeatToken, r.call.Operation) {
		next = token
	}
	return out, next, f
}

func pageAt[T any](items []T, token string, size int) ([]T, string, *Fault) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(token, "page-"))
		if err != nil || n < 0 || n > len(items) || !strings.HasPrefix(token, "page-") {
			return nil, "", &Fault{Status: 400, Code: "InvalidNextTokenException", Message: "Invalid pagination token " + token}
		}
		start = n
	}
	end := start + size
	if end >= len(items) {
		return items[start:], "", nil
	}
	return items[start:end], "page-" + strconv.Itoa(end), nil
}

func decodeJSON(body []byte, v any) *Fault {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &Fault{Status: 400, Code: "SerializationException", Message: err.Error()}
	}
	return nil
}

// handler answers one operation; out is encoded in the service's protocol.
type handler func(s *Server, r *request) (out any, f *Fault)
