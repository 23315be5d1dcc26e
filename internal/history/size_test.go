package history

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

func TestSize100k(t *testing.T) {
	s := bigState(100_000)
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	t.Logf("compressed %d bytes", buf.Len())
	if buf.Len() > 5_000_000 {
		t.Fatalf("100,000 findings' state is %d bytes compressed, the budget is 5,000,000", buf.Len())
	}
}

func BenchmarkEncodeDecode100k(b *testing.B) {
	s := bigState(100_000)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Encode(&buf, s); err != nil {
			b.Fatal(err)
		}
		if _, err := Decode(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes")
}

// regzipped inflates gz, applies edit to the JSON and compresses it again.
func regzipped(t *testing.T, gz []byte, edit func([]byte) []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(edit(raw)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
