package report

import (
	"bytes"
	"reflect"
	"unsafe"

	"github.com/xuri/excelize/v2"
)

// releaseSpill gives back the memory a flushed stream writer keeps for nothing. excelize (v2.11.0) buffers a
// sheet's rows in memory and, past 16 MiB, moves them to a temporary file; the buffer is then emptied but keeps its
// 16 to 32 MiB of capacity until the whole archive is written, one such buffer per large sheet. At ten thousand
// accounts that is most of what a 512 MB function lacks (BENCHMARKS.md). excelize offers no way to drop it, so the
// emptied buffer of a sheet that moved to its file is replaced by a new one; a sheet still in memory is left alone
// (its buffer is its data). TestReleaseSpill holds the fields this relies on, so an excelize that changes them fails
// the tests rather than silently keeping the memory.
func releaseSpill(sw *excelize.StreamWriter) bool {
	buf, spilled, ok := spillBuffer(sw)
	if !ok || !spilled || buf.Len() != 0 {
		return false
	}
	*buf = bytes.Buffer{}
	return true
}

// spillBuffer is sw's in-memory buffer and whether its rows moved to a temporary file; ok is false when excelize's
// StreamWriter is not shaped as releaseSpill expects.
func spillBuffer(sw *excelize.StreamWriter) (buf *bytes.Buffer, spilled, ok bool) {
	raw := reflect.ValueOf(sw).Elem().FieldByName("rawData")
	if !raw.IsValid() || raw.Kind() != reflect.Struct {
		return nil, false, false
	}
	b, tmp := raw.FieldByName("buf"), raw.FieldByName("tmp")
	if !b.IsValid() || b.Type() != reflect.TypeFor[bytes.Buffer]() || !tmp.IsValid() || tmp.Kind() != reflect.Pointer {
		return nil, false, false
	}
	return (*bytes.Buffer)(unsafe.Pointer(b.UnsafeAddr())), !tmp.IsNil(), true
}
