//go:build unix

package report

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// printedText is the smallest text each wide sheet of the render scenario prints, in points, fitted to one A4 page's
// width. The 6.6 pt that minPrintScale aims at is out of reach while a sheet keeps 18 to 25 columns on one page
// wide: ids, statuses, dates and money do not wrap, and their widths alone pass the page's. Narrowing the prose to
// wrap took the Service Catalog sheet from 3.5 pt to 4; these hold that.
var printedText = map[string]float64{"service-catalog-products": 3.9, SuppressedSheet: 3.9, CommitmentsSheet: 3.4}

// TestWorkbookWideSheetsPrintReadably prints each wide sheet alone with LibreOffice, on A4, and measures its words
// (a word's box is about 1.2 times its font's size): the prose columns wrap rather than widen the sheet, so it
// prints no smaller than printedText.
func TestWorkbookWideSheetsPrintReadably(t *testing.T) {
	t.Setenv(PaperEnv, "a4") // the paper is set, not inherited from the locale (so this test does not run in parallel)
	tools := renderTools(t)
	r, _ := renderScenario()
	b, err := Workbook(r, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	word := regexp.MustCompile(`<word xMin="[0-9.]+" yMin="([0-9.]+)" xMax="[0-9.]+" yMax="([0-9.]+)">`)
	for sheet, want := range printedText {
		f, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, other := range f.GetSheetList() {
			if other != sheet {
				if err := f.DeleteSheet(other); err != nil {
					t.Fatal(err)
				}
			}
		}
		dir := t.TempDir()
		xlsx := filepath.Join(dir, "sheet.xlsx")
		if err := f.SaveAs(xlsx); err != nil {
			t.Fatal(err)
		}
		f.Close()
		pdf := renderPDF(t, tools["soffice"], dir, xlsx)
		var heights []float64
		for _, m := range word.FindAllStringSubmatch(run(t, tools["pdftotext"], "-bbox", pdf, "-"), -1) {
			y0, _ := strconv.ParseFloat(m[1], 64)
			y1, _ := strconv.ParseFloat(m[2], 64)
			heights = append(heights, y1-y0)
		}
		if len(heights) == 0 {
			t.Fatalf("%s: no words on the printed pages", sheet)
		}
		slices.Sort(heights)
		size := heights[len(heights)/2] / 1.2
		t.Logf("%s: %d words, median text %.2f pt", sheet, len(heights), size)
		if size < want {
			t.Errorf("%s prints its text at %.2f pt, want at least %.1f pt", sheet, size, want)
		}
		if os.Getenv("ORGAUDIT_KEEP_RENDER") != "" {
			t.Logf("kept %s", pdf)
		}
	}
}
