package history

import (
	"bytes"
	"compress/gzip"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// TestOwnerTagsAreKeptAndOlderStatesStillLoad: a state's owner tags (values long, unicode or holding control
// characters, and accounts without the tag) come back exactly, whole or read alone by ReadOwnerTags; a state written
// before owners were kept (no owner_tags) still loads, with none; and the store hands the previous run's tags over
// without its findings.
func TestOwnerTagsAreKeptAndOlderStatesStillLoad(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	tags := []OwnerTag{
		{AccountID: "111111111111", Value: "platform-team", Found: true, ReadAt: at.Add(-48 * time.Hour)},
		{AccountID: "222222222222", ReadAt: at},
		{AccountID: "333333333333", Value: strings.Repeat("é", 256) + "\x1b[2J\u202e\u2028\x00\"\\", Found: true, ReadAt: at.Add(123456789)},
	}
	s := stateAt("run-1", at, finding("ec2-reserved-instances", "111111111111", "us-east-1", "ri-1", checks.Warning))
	s.OwnerTags = tags
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.OwnerTags, tags) || len(back.Findings) != 1 {
		t.Fatalf("owner tags %+v, findings %d", back.OwnerTags, len(back.Findings))
	}
	alone, err := ReadOwnerTags(bytes.NewReader(buf.Bytes()))
	if err != nil || !reflect.DeepEqual(alone, tags) {
		t.Fatalf("ReadOwnerTags: %+v %v", alone, err)
	}

	// A state of the same version written before owner_tags existed: exactly what this build writes without them.
	older := stateAt("run-0", at.Add(-24*time.Hour))
	buf.Reset()
	if err := Encode(&buf, older); err != nil {
		t.Fatal(err)
	}
	zr, _ := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	var text bytes.Buffer
	_, _ = text.ReadFrom(zr)
	if strings.Contains(text.String(), "owner_tags") {
		t.Fatalf("a state without owner tags writes none: %s", text.String()[:200])
	}
	if st, err := Decode(bytes.NewReader(buf.Bytes())); err != nil || st.OwnerTags != nil {
		t.Fatalf("an older state: %+v %v", st, err)
	}
	if none, err := ReadOwnerTags(bytes.NewReader(buf.Bytes())); err != nil || none != nil {
		t.Fatalf("owner tags of an older state: %+v %v", none, err)
	}

	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store, _ := mk(t)
			ctx := context.Background()
			if err := store.Put(ctx, s); err != nil {
				t.Fatal(err)
			}
			got, err := store.PreviousOwnerTags(ctx, at.Add(24*time.Hour), "run-2", Organization{})
			if err != nil || !reflect.DeepEqual(got, tags) {
				t.Fatalf("previous owner tags %+v %v", got, err)
			}
			if _, err := store.PreviousOwnerTags(ctx, at, "run-1", Organization{}); err == nil {
				t.Error("a run's own state is not its previous one")
			}
		})
	}
}
