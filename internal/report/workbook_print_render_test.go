//go:build unix

package report

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// printedText is the smallest text each wide sheet of the render scenario prints, in points: the 11 pt font at
// minPrintScale. Fitted to one A4 page's width these sheets printed at 3.5 to 4 pt (ids, statuses, dates and money
// cannot wrap, and their widths alone pass the page's); they now print two or more pages wide instead.
var printedText = map[string]float64{"service-catalog-products": 11 * minPrintScale, SuppressedSheet: 11 * minPrintScale, CommitmentsSheet: 11 * minPrintScale}

// TestWorkbookWideSheetsPrintReadably prints each wide sheet alone with LibreOffice, on A4, and measures its words
// (a word's box is about 1.2 times its font's size): it prints no smaller than printedText, on as many pages across as
// the sheet declares, each page with the columns that say whose its rows are (through Account name).
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
		t.Cleanup(func() { f.Close() })
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
		layout, err := f.GetPageLayout(sheet)
		if err != nil || layout.FitToWidth == nil {
			t.Fatalf("%s: page layout %+v: %v", sheet, layout, err)
		}
		pages := strings.Split(strings.TrimRight(run(t, tools["pdftotext"], "-layout", pdf, "-"), "\f\n"), "\f")
		if len(pages) < *layout.FitToWidth {
			t.Errorf("%s: %d printed pages, fewer than the %d across it declares", sheet, len(pages), *layout.FitToWidth)
		}
		for k, page := range pages {
			if !strings.Contains(page, "Account name") || !strings.Contains(page, "Resource ID") {
				t.Errorf("%s: page %d of %d does not say which its rows are (no Account name and Resource ID columns):\n%s", sheet, k+1, len(pages), page)
			}
		}
		if dir := os.Getenv("ORGAUDIT_KEEP_RENDER"); dir != "" { // a directory: pdftoppm -png -r 60 <file> page
			if err := os.WriteFile(filepath.Join(dir, sheet+".pdf"), mustRead(t, pdf), 0o644); err != nil {
				t.Error(err)
			}
		}
	}
}
