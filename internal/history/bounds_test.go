package history

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// gzipMembers compresses each part as its own gzip member: a reader inflates the concatenation as one stream, so a
// member that inflates to a mebibyte of one byte, repeated, makes an object of about a megabyte that inflates to a
// gibibyte, built without deflating the gibibyte.
func gzipMembers(t testing.TB, parts ...[]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, p := range parts {
		zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write(p); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

// stringBomb is a state whose field (a JSON key) holds a string of mib mebibytes of "a", after head.
func stringBomb(t testing.TB, head string, mib int) []byte {
	t.Helper()
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	_, _ = zw.Write(bytes.Repeat([]byte("a"), 1<<20))
	_ = zw.Close()
	var out bytes.Buffer
	out.Write(gzipMembers(t, []byte(head+`"`)))
	for range mib {
		out.Write(one.Bytes())
	}
	out.Write(gzipMembers(t, []byte(`"}`)))
	return out.Bytes()
}

// measure runs read and reports how long it took, how much it allocated and its error.
func measure(read func() error) (took time.Duration, allocated uint64, err error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	err = read()
	took = time.Since(start)
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc, err
}

// TestDecodeRefusesStringBomb: an object of about a megabyte whose one string inflates to a gibibyte is refused as
// unreadable, having inflated and kept only a bounded part of it, by every reader of a state. The time is logged,
// not asserted: the allocation is the bound that does not depend on the machine.
func TestDecodeRefusesStringBomb(t *testing.T) {
	mib := 1024
	if testing.Short() {
		mib = 64
	}
	for name, c := range map[string]struct {
		head string
		// headSound: the bomb follows a sound head, which ReadSummary reads and stops after.
		headSound bool
	}{
		"run_id":  {head: `{"version":2,"run_id":`},
		"account": {head: `{"version":2,"run_id":"r","run_time":"2026-12-01T08:00:00Z","as_of":"2026-12-01T00:00:00Z","counts":{},"accounts":[`, headSound: true},
		"skipped": {head: `{"version":2,"unknown_key":`},
	} {
		head := c.head
		t.Run(name, func(t *testing.T) {
			obj := stringBomb(t, head, mib)
			t.Logf("object of %d bytes inflating to more than %d MiB", len(obj), mib)
			for reader, read := range map[string]func() error{
				"Decode":        func() error { _, err := Decode(bytes.NewReader(obj)); return err },
				"ReadSummary":   func() error { _, err := ReadSummary(bytes.NewReader(obj)); return err },
				"ReadOwnerTags": func() error { _, err := ReadOwnerTags(bytes.NewReader(obj)); return err },
			} {
				t.Run(reader, func(t *testing.T) {
					took, allocated, err := measure(read)
					t.Logf("%s: %v in %v, %d MiB allocated", reader, err, took, allocated>>20)
					var fe *FormatError
					if reader == "ReadSummary" && c.headSound && err == nil {
						// The head is all it reads.
					} else if !errors.As(err, &fe) {
						t.Errorf("%s: error %v, want a *FormatError", reader, err)
					}
					if allocated > 64<<20 {
						t.Errorf("%s allocated %d MiB to refuse the object, want at most 64", reader, allocated>>20)
					}
				})
			}
		})
	}
}

// TestDecodeChargesSharedPrefixes: a plain value that shares a prefix with the one before it is rebuilt from that
// prefix, new memory the decoder must charge before it copies: a few kilobytes of plain_shared claiming the whole
// previous value, again and again and without plain_bytes, may not grow the arena past the decoded limit.
func TestDecodeChargesSharedPrefixes(t *testing.T) {
	const rows = 20000
	long := strings.Repeat("a", fuzzLimits.str-96)
	var b strings.Builder
	fmt.Fprintf(&b, `{"version":2,"run_id":"r","run_time":"2026-11-22T08:00:00Z","cells":{"n":%d,"columns":[{"name":"account_id","plain":true}],"plain_shared":[0`, rows)
	for range rows - 1 {
		fmt.Fprintf(&b, ",%d", len(long))
	}
	b.WriteString(`],"plain":["` + long + `"`)
	for range rows - 1 {
		b.WriteString(`,""`)
	}
	b.WriteString(`]}}`)
	raw := []byte(b.String())
	_, allocated, err := measure(func() error { _, err := readState(bytes.NewReader(raw), fuzzLimits); return err })
	t.Logf("%d bytes claiming %d MiB of shared prefixes: %v, %d MiB allocated", len(raw), rows*len(long)>>20, err, allocated>>20)
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "decoded") {
		t.Errorf("error %v, want a *FormatError for the decoded limit", err)
	}
	// The arena grows by append, a quarter at a time once large, so it allocates about five times what it ends
	// holding; unbounded, the copies allocated 546 MiB here.
	if limit := 8 * fuzzLimits.decoded; allocated > uint64(limit) {
		t.Errorf("allocated %d MiB to refuse it, want at most %d", allocated>>20, limit>>20)
	}
}
