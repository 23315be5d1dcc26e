package history

import (
	"bytes"
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
