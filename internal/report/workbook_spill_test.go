package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestReleaseSpill writes a sheet past excelize's 16 MiB in-memory chunk, so it moves to a temporary file, and holds
// releaseSpill to giving back the emptied buffer while the workbook still holds every row; a small sheet, still in
// memory, keeps its buffer (it is the sheet's data). It fails when excelize's StreamWriter changes shape.
func TestReleaseSpill(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	write := func(sheet string, rows int) *excelize.StreamWriter {
		t.Helper()
		if _, err := f.NewSheet(sheet); err != nil {
			t.Fatal(err)
		}
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			t.Fatal(err)
		}
		pad := strings.Repeat("x", 200)
		for i := range rows {
			if err := sw.SetRow(cellName(1, i+1), []any{fmt.Sprintf("row %d", i+1), pad}); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
		return sw
	}
	const big = 100_000 // about 25 MB of XML
	large := write("large", big)
	buf, spilled, ok := spillBuffer(large)
	if !ok {
		t.Fatal("excelize's StreamWriter no longer has rawData.buf and rawData.tmp: releaseSpill cannot give back its buffer")
	}
	if !spilled || buf.Cap() == 0 {
		t.Fatalf("a %d-row sheet: spilled %v, buffer capacity %d; want it moved to its file with its emptied buffer kept", big, spilled, buf.Cap())
	}
	kept := buf.Cap()
	if !releaseSpill(large) || buf.Cap() != 0 {
		t.Fatalf("releaseSpill kept %d bytes of %d", buf.Cap(), kept)
	}
	small := write("small", 10)
	if releaseSpill(small) {
		t.Fatal("releaseSpill dropped the buffer of a sheet still in memory: its rows would be lost")
	}
	var out bytes.Buffer
	if _, err := f.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	g, err := excelize.OpenReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for sheet, last := range map[string]int{"large": big, "small": 10} {
		v, err := g.GetCellValue(sheet, cellName(1, last))
		if err != nil || v != fmt.Sprintf("row %d", last) {
			t.Errorf("%s: last row reads %q (%v), want %q", sheet, v, err, fmt.Sprintf("row %d", last))
		}
	}
	t.Logf("gave back %d MiB", kept>>20)
}
