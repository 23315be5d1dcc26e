package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// stores gives each test a fresh store of each kind, with a way to write raw bytes under a key.
func stores(t *testing.T) map[string]func(t *testing.T) (Store, func(key string, body []byte)) {
	return map[string]func(t *testing.T) (Store, func(string, []byte)){
		"dir": func(t *testing.T) (Store, func(string, []byte)) {
			dir := t.TempDir()
			return NewDirStore(dir, 0), func(key string, body []byte) {
				p := filepath.Join(dir, filepath.FromSlash(key))
				if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, body, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		},
		"s3": func(t *testing.T) (Store, func(string, []byte)) {
			srv := httptest.NewServer(gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
			t.Cleanup(srv.Close)
			client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
				Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
			if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("reports")}); err != nil {
				t.Fatal(err)
			}
			return NewS3Store(client, S3Location{Bucket: "reports", Prefix: "/orgaudit/"}), func(key string, body []byte) {
				if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("reports"),
					Key: aws.String("orgaudit/" + key), Body: bytes.NewReader(body)}); err != nil {
					t.Fatal(err)
				}
			}
		},
	}
}

func stateAt(id string, at time.Time, fs ...checks.Finding) *State {
	run := Run{ID: id, Time: at, AsOf: at, Findings: fs, Accounts: []string{"111111111111"}}
	return NewState(run, Diff(nil, run))
}

func TestStorePrevious(t *testing.T) {
	ctx := context.Background()
	f := finding("ec2-reserved-instances", "111111111111", "us-east-1", "ri-1", checks.Warning)
	for kind, open := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			t.Run("none stored", func(t *testing.T) {
				st, _ := open(t)
				s, err := st.Previous(ctx, day2, "day2", Lineage{})
				var u *Unavailable
				if s != nil || !errors.As(err, &u) || u.Kind != NoneStored || !strings.HasPrefix(err.Error(), "no previous run to compare with: ") {
					t.Fatalf("got %v, %v", s, err)
				}
			})
			t.Run("latest earlier run, not the newest object", func(t *testing.T) {
				st, _ := open(t)
				for _, s := range []*State{
					stateAt("older", day1.Add(-time.Hour), f),
					stateAt("prev", day1.Add(time.Hour), f),        // same day, later: the previous run
					stateAt("zz-early", day2.Add(-5*time.Hour), f), // same day as the run, earlier: wins
					stateAt("later", day2.Add(time.Hour), f),       // after the run: never previous
				} {
					if err := st.Put(ctx, s); err != nil {
						t.Fatal(err)
					}
				}
				got, err := st.Previous(ctx, day2, "day2", Lineage{})
				if err != nil || got.RunID != "zz-early" {
					t.Fatalf("previous = %v, %v; want zz-early", got, err)
				}
				got, err = st.Previous(ctx, day2.Add(-6*time.Hour), "x", Lineage{})
				if err != nil || got.RunID != "prev" {
					t.Fatalf("previous = %v, %v; want prev (the day before, latest)", got, err)
				}
				if len(got.Findings) != 1 || got.Findings[0].Reason != f.Reason {
					t.Errorf("state lost its findings: %+v", got.Findings)
				}
			})
			t.Run("retried run overwrites its own entry and compares with the same run", func(t *testing.T) {
				st, _ := open(t)
				if err := st.Put(ctx, stateAt("day1", day1, f)); err != nil {
					t.Fatal(err)
				}
				for attempt := range 2 {
					prev, err := st.Previous(ctx, day2, "day2", Lineage{})
					if err != nil || prev.RunID != "day1" {
						t.Fatalf("attempt %d: previous = %v, %v", attempt, prev, err)
					}
					if err := st.Put(ctx, stateAt("day2", day2)); err != nil {
						t.Fatal(err)
					}
				}
				sums, err := st.Recent(ctx, day1.AddDate(0, 0, -1), day2.Add(time.Minute), Organization{})
				if err != nil || len(sums) != 2 || sums[0].RunID != "day1" || sums[1].RunID != "day2" {
					t.Fatalf("history should hold one entry per run: %+v, %v", sums, err)
				}
			})
			t.Run("corrupt previous state", func(t *testing.T) {
				st, raw := open(t)
				raw(Key(day1, "", "day1"), []byte("not gzip"))
				s, err := st.Previous(ctx, day2, "day2", Lineage{})
				var u *Unavailable
				if s != nil || !errors.As(err, &u) || u.Kind != Unreadable || !strings.Contains(err.Error(), "day1.json.gz") {
					t.Fatalf("got %v, %v", s, err)
				}
			})
			t.Run("other version", func(t *testing.T) {
				st, raw := open(t)
				var buf bytes.Buffer
				s := stateAt("day1", day1, f)
				if err := Encode(&buf, s); err != nil {
					t.Fatal(err)
				}
				raw(Key(day1, "", "day1"), regzipped(t, buf.Bytes(), func(b []byte) []byte {
					return bytes.Replace(b, fmt.Appendf(nil, `"version":%d`, Version), []byte(`"version":99`), 1)
				}))
				got, err := st.Previous(ctx, day2, "day2", Lineage{})
				var u *Unavailable
				if got != nil || !errors.As(err, &u) || u.Kind != OtherFormat || !strings.Contains(err.Error(), "version 99") {
					t.Fatalf("got %v, %v", got, err)
				}
			})
			t.Run("recent skips unreadable runs and names them", func(t *testing.T) {
				st, raw := open(t)
				for i := range 3 {
					if err := st.Put(ctx, stateAt(fmt.Sprint("r", i), day1.AddDate(0, 0, -i), f)); err != nil {
						t.Fatal(err)
					}
				}
				raw(Key(day1, "", "broken"), []byte("x"))
				sums, err := st.Recent(ctx, day1.AddDate(0, 0, -1), day2, Organization{})
				if len(sums) != 2 || sums[0].RunID != "r1" || sums[1].RunID != "r0" || err == nil || !strings.Contains(err.Error(), "broken") {
					t.Fatalf("recent = %+v, %v", sums, err)
				}
				if sums[1].Counts.New != 1 || sums[1].Counts.Warning != 1 {
					t.Errorf("summary counts = %+v", sums[1].Counts)
				}
			})
		})
	}
}

func TestPutRejectsUnsafeRunID(t *testing.T) {
	st := NewDirStore(t.TempDir(), 0)
	for _, id := range []string{"", "../x", "a/b", "a\x00"} {
		if err := st.Put(context.Background(), stateAt(id, day1)); err == nil {
			t.Errorf("run id %q accepted", id)
		}
	}
}

// Every field of a finding survives the round trip, including empty details and values that repeat the id; a field
// added to checks.Finding without a place in the encoding fails here.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	exp := time.Date(2026, 12, 1, 12, 30, 0, 5, time.UTC)
	days := -3
	full := checks.Finding{}
	v := reflect.ValueOf(&full).Elem()
	for i := range v.NumField() {
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(v.Type().Field(i).Name + " of ri-1 in us-east-1 for 111111111111 \x1c\x1f")
		}
	}
	full.Check, full.Severity, full.AccountID, full.Region, full.ResourceID = "ec2-reserved-instances", checks.Critical, "111111111111", "us-east-1", "ri-1"
	full.ExpiresAt, full.DaysLeft = &exp, &days
	age := 9
	full.FirstSeen, full.AgeDays = &exp, &age
	full.ConsoleURL = "https://console.aws.amazon.com/ec2/home?region=us-east-1#ReservedInstances:reservedInstancesId=ri-1&x=1"
	full.Details = checks.Details{}
	full.SetDetail("renewal", "ri-1 renewed")
	full.SetDetail("empty", "")
	full.SetDetail("stack_id", "arn:aws:cloudformation:us-east-1:111111111111:stack/ri-1/u")
	// Findings without details (a nil map and an empty one, when details were a map).
	other := finding("cloudformation-failed-stacks", "222222222222", "eu-west-1", "s", checks.Notice)
	other.Details = checks.Details{}
	noEmpty := finding("cloudformation-failed-stacks", "222222222222", "eu-west-1", "t", checks.Notice)
	noEmpty.Details = checks.Details{}
	s := &State{Version: Version, RunID: "r", RunTime: day2, AsOf: day2.Add(-time.Hour), PreviousRunID: "p",
		Counts: Counts{Critical: 1, New: 2, AccountsAudited: 3}, Accounts: []string{"111111111111"},
		Cells: []Cell{{AccountID: "111111111111", Region: "us-east-1", Check: "ec2-reserved-instances", Outcome: OutcomeError, Code: "AccessDenied", Message: "no"},
			{AccountID: "111111111111", Region: "eu-west-1", Check: "ec2-reserved-instances", Outcome: OutcomeClean}},
		Findings: []Entry{{Finding: full, FirstSeen: day1, LastSeen: day2, Suppressed: true},
			{Finding: other, FirstSeen: day1, LastSeen: day1, Unverified: true}, {Finding: noEmpty, FirstSeen: day2, LastSeen: day2}}}
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	// The finding's memory fields are one run's view of the history, derived anew each run (Entry keeps FirstSeen):
	// they are not stored.
	want := *s
	want.Findings = append([]Entry(nil), s.Findings...)
	want.Findings[0].Finding.Change, want.Findings[0].Finding.FirstSeen, want.Findings[0].Finding.AgeDays = "", nil, nil
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("round trip changed the state:\n got %+v\nwant %+v", got, &want)
	}
	sum, err := ReadSummary(bytes.NewReader(buf.Bytes()))
	if err != nil || sum != s.Summary() {
		t.Errorf("summary = %+v, %v; want %+v", sum, err, s.Summary())
	}
	empty := &State{Version: Version, RunID: "e", RunTime: day1, AsOf: day1}
	buf.Reset()
	if err := Encode(&buf, empty); err != nil {
		t.Fatal(err)
	}
	if got, err := Decode(&buf); err != nil || got.RunID != "e" || len(got.Findings)+len(got.Cells) != 0 {
		t.Errorf("empty state: %+v, %v", got, err)
	}
}
