package history

import (
	"bytes"
	"compress/gzip"
	"errors"
	"runtime"
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

// measure runs read and reports its error, how long it took and how much it allocated.
func measure(read func() error) (err error, took time.Duration, allocated uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	err = read()
	took = time.Since(start)
	runtime.ReadMemStats(&after)
	return err, took, after.TotalAlloc - before.TotalAlloc
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
					err, took, allocated := measure(read)
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
