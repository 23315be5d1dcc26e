package distributed

import (
	"io"
	"runtime"
	"strings"
	"testing"
)

// filler is n bytes of 'x', made as they are read, so the test itself holds none of them.
type filler struct{ n int64 }

func (f *filler) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), f.n)]
	for i := range p {
		p[i] = 'x'
	}
	f.n -= int64(len(p))
	return len(p), nil
}

// resultFile is a ResultWriter result file whose entries' inputs are strings of the given lengths.
func resultFile(inputs ...int64) io.Reader {
	parts := []io.Reader{strings.NewReader("[")}
	for i, n := range inputs {
		if i > 0 {
			parts = append(parts, strings.NewReader(","))
		}
		parts = append(parts, strings.NewReader(`{"Input":"`), &filler{n: n}, strings.NewReader(`","Output":"{}"}`))
	}
	return io.MultiReader(append(parts, strings.NewReader("]"))...)
}

// TestResultEntryIsRefusedBeforeItIsRead: a result file is the Map's, read from S3; one entry of 64 MiB is refused
// once the reader is maxResultEntryBytes past its start, not decoded whole first. Entries up to the bound still read.
// Not parallel: it measures the process's allocations.
func TestResultEntryIsRefusedBeforeItIsRead(t *testing.T) {
	const huge = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	read := 0
	err := eachEntry(resultFile(10, huge, 10), "results", func(resultEntry) { read++ })
	runtime.ReadMemStats(&after)
	t.Logf("refused with %v, %d bytes allocated", err, after.TotalAlloc-before.TotalAlloc)
	if err == nil || !strings.Contains(err.Error(), "entry 1") {
		t.Errorf("a %d-byte entry: %v, want it refused as entry 1", huge, err)
	}
	if read != 1 {
		t.Errorf("%d entries read before the refusal, want 1", read)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*maxResultEntryBytes {
		t.Errorf("allocated %d bytes to refuse a %d-byte entry, bound %d", alloc, huge, maxResultEntryBytes)
	}

	// An entry just under the bound, between small ones, is read like them.
	read = 0
	if err := eachEntry(resultFile(10, maxResultEntryBytes-64, 10), "results", func(e resultEntry) { read++ }); err != nil || read != 3 {
		t.Errorf("entries up to the bound: %d read, %v; want 3", read, err)
	}
}
