//go:build unix

package report

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// TestContinuedSheetsRender opens a workbook whose lists continue on further sheets in LibreOffice: it takes the
// sheets' names and prints each, the line naming the next sheet included.
func TestContinuedSheetsRender(t *testing.T) {
	const limit = 50
	lowerSheetRows(t, limit)
	tools := renderTools(t)
	r := bigResult(limit)
	b, err := Workbook(r, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	xlsx := filepath.Join(dir, "continued.xlsx")
	if err := os.WriteFile(xlsx, b, 0o644); err != nil {
		t.Fatal(err)
	}
	text := run(t, tools["pdftotext"], "-layout", renderPDF(t, tools["soffice"], dir, xlsx), "-")
	for _, want := range []string{"The list continues on sheet Coverage (2)", "The list continues on sheet Coverage (3)",
		"The list continues on sheet Resolved (2)", monthChartTitle, slices.Collect(r.Cells.All())[r.Cells.Len()-1].AccountID} {
		if !strings.Contains(text, want) {
			t.Errorf("%q is not on any page", want)
		}
	}
}
