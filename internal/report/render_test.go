//go:build unix

package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// requireRenderEnv makes missing LibreOffice or poppler a test failure instead of a skip; CI sets it.
const requireRenderEnv = "ORGAUDIT_REQUIRE_RENDER"

const renderInstallHint = "apt-get install -y --no-install-recommends libreoffice-calc-nogui poppler-utils fonts-dejavu-core fonts-crosextra-carlito"

// TestWorkbookAsAPersonSeesIt opens the workbook the way a person does, in a spreadsheet application (LibreOffice,
// headless, printing to PDF), and reads what is on the page. An .xlsx can hold every value correctly and still show
// ### for a date, cut a status mid-word or print one column per portrait page: only a render shows that.
func TestWorkbookAsAPersonSeesIt(t *testing.T) {
	t.Parallel()
	tools := renderTools(t)
	r, long := renderScenario()
	b, err := Workbook(r, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	xlsx := filepath.Join(dir, "report.xlsx")
	if err := os.WriteFile(xlsx, b, 0o644); err != nil {
		t.Fatal(err)
	}
	pdf := renderPDF(t, tools["soffice"], dir, xlsx)
	text := run(t, tools["pdftotext"], "-layout", pdf, "-")
	if keep := os.Getenv("ORGAUDIT_KEEP_RENDER"); keep != "" { // to look at the pages: pdftoppm -png -r 60 <file> page
		if err := os.WriteFile(keep, mustRead(t, pdf), 0o644); err != nil {
			t.Error(err)
		}
	}
	lines := strings.Split(text, "\n")

	if strings.Contains(text, "###") {
		t.Errorf("a cell too narrow for its number or date shows ###:\n%s", linesWith(lines, "###"))
	}
	asOfShown := r.AsOf.Format("2006-01-02 15:04")
	if l := linesWith(lines, "As of (UTC)"); !strings.Contains(l, asOfShown) {
		t.Errorf("the as-of date must show as %s; the Summary's line reads %q", asOfShown, l)
	}
	for _, fd := range r.Findings {
		if fd.ExpiresAt != nil && !strings.Contains(text, fd.ExpiresAt.UTC().Format("2006-01-02 15:04")) {
			t.Errorf("%s %s: expiry %s not shown as a date", fd.Check, fd.ResourceID, fd.ExpiresAt.UTC().Format("2006-01-02 15:04"))
		}
	}

	// The memory: every finding's first-seen date, the resolved and unverified findings' last-seen dates, the
	// suppression's last day, each run of the trend, and the chart's title.
	for _, fd := range r.Findings {
		if !strings.Contains(text, fd.FirstSeen.UTC().Format("2006-01-02 15:04")) {
			t.Errorf("%s %s: first seen %s not shown as a date", fd.Check, fd.ResourceID, fd.FirstSeen.UTC().Format("2006-01-02 15:04"))
		}
	}
	for _, want := range []string{r.Resolved[0].LastSeen.Format("2006-01-02 15:04"), r.Suppressed[0].Suppression.Expires, "Findings per run", monthChartTitle,
		"matched nothing (stale)", "expired since the previous run", "expires within 7 days"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q is not on any page", want)
		}
	}
	for _, s := range r.Trend {
		if !strings.Contains(text, s.RunTime.Format("2006-01-02 15:04")) {
			t.Errorf("trend run %s at %s not shown", s.RunID, s.RunTime.Format("2006-01-02 15:04"))
		}
	}

	// The money, as the money format shows it: each commitment's USD per hour, per month and at risk, a price in
	// euros beside its currency, the Summary's total at risk by severity and the month table's total row.
	for _, fd := range r.Findings {
		m := fd.Money
		if m == nil {
			continue
		}
		var want []string
		if m.USDPerMonth != nil {
			want = append(want, moneyShown(m.Price.PerHour), moneyShown(*m.USDPerMonth), moneyShown(*m.USDPerMonthAtRisk))
		} else if m.Price != nil {
			want = append(want, moneyShown(m.Price.PerMonth), m.Price.Currency)
		}
		// A sheet wider than a page prints on pages side by side, each repeating the resource: each figure is on a
		// line with it, though not all on one.
		for _, v := range want {
			if !hasLineWithAll(lines, v, fd.ResourceID) {
				t.Errorf("%s %s: no line shows %q with the resource (of %q)", fd.Check, fd.ResourceID, v, want)
			}
		}
	}
	a := r.USDPerMonthAtRisk
	if a == nil || a.Total.usd == 0 || !a.Total.known || !hasLineWithAll(lines, "Total", moneyShown(a.Total.usd), "USD") {
		t.Errorf("the Summary's total at risk %+v is not on a line of its own:\n%s", a, linesWith(lines, "Total"))
	}
	months, total := endingByMonth(r.AsOf, commitments(r, checks.All()))
	if len(months) == 0 || !hasLineWithAll(lines, "Total", moneyShown(total.usd), moneyShown(total.atRisk), moneyShown(total.covered)) {
		t.Errorf("the month table's total %+v is not shown:\n%s", total, linesWith(lines, "Total"))
	}
	for _, want := range []string{"At risk by severity", "At risk by owner", PriceNoteColumn, "priced in EUR", "the offering reported no price"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q is not on any page", want)
		}
	}

	// Every status, of a stack, a provisioned product or its last record, is shown whole: a cut one leaves a
	// different word behind (UPDATE_ROLLBACK_ for UPDATE_ROLLBACK_FAILED).
	shown := countWords(text)
	written := map[string]int{}
	var statuses []string
	for i := range r.Findings {
		fd := &r.Findings[i]
		for _, s := range []string{fd.Status, fd.Detail("record_status")} {
			if s != "" && written[s] == 0 {
				statuses = append(statuses, s)
			}
		}
		for _, col := range FindingColumns(checkByName(fd.Check)) {
			if s, ok := FindingValue(fd, col).(string); ok && col != "Console" {
				for w, n := range countWords(s) {
					written[w] += n
				}
			}
		}
	}
	for _, s := range statuses {
		if shown[s] < written[s] {
			t.Errorf("status %s shown whole %d times, written %d times", s, shown[s], written[s])
		}
	}

	// Long text wraps inside its cell instead of being cut at the column's edge: every word is on the page, and the
	// text spans more than one line. A finding's text is on its check's sheet and on the Findings sheet.
	onFindings := map[string]int{}
	for i := range r.Findings {
		for _, col := range FindingsColumns {
			if s, ok := FindingValue(&r.Findings[i], col).(string); ok && col != "Console" {
				for w, n := range countWords(s) {
					onFindings[w] += n
				}
			}
		}
	}
	for _, words := range long {
		first, last := -1, -1
		for _, w := range words {
			if want := 1 + onFindings[w]; shown[w] != want {
				t.Errorf("word %s of a long text is shown %d times, want %d (a cut cell loses its tail)", w, shown[w], want)
			}
		}
		for i, l := range lines {
			if strings.Contains(l, words[0]) {
				first = i
			}
			if strings.Contains(l, words[len(words)-1]) {
				last = i
			}
		}
		if first >= 0 && last >= 0 && first == last {
			t.Errorf("long text %s…%s is on one line, not wrapped: %q", words[0], words[len(words)-1], lines[first])
		}
	}

	// Printed landscape, each sheet fitted to the page's width: its first and last column headers share a line.
	pages := pageSizes(t, run(t, tools["pdfinfo"], "-f", "1", "-l", "1000", pdf))
	for i, p := range pages {
		if p[0] <= p[1] {
			t.Errorf("page %d is %.0f x %.0f pt: portrait, want landscape", i+1, p[0], p[1])
		}
	}
	sheets := map[string][]string{CommitmentsSheet: CommitmentColumns, CoverageSheet: CoverageColumns, ResolvedSheet: ResolvedColumns,
		UnverifiedSheet: UnverifiedColumns, SuppressedSheet: SuppressedColumns, TrendSheet: TrendColumns, FindingsSheet: FindingsColumns}
	for _, c := range checks.All() {
		sheets[c.Name()] = FindingColumns(c)
	}
	for name, cols := range sheets {
		if !hasLineWithAll(lines, cols[0], cols[len(cols)-1]) {
			t.Errorf("sheet %s: headers %q and %q are never on one line: the sheet is not fitted to the page width", name, cols[0], cols[len(cols)-1])
		}
	}
	t.Logf("%d pages; first page %.0f x %.0f pt", len(pages), pages[0][0], pages[0][1])
}

// moneyShown is v as the money format (moneyFormat, "#,##0.00##") shows it: thousands separated, two to four places.
func moneyShown(v float64) string {
	s := strconv.FormatFloat(v, 'f', 4, 64)
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return whole + "." + frac
}

var wordRE = regexp.MustCompile(`[A-Za-z0-9_]+`)

func countWords(s string) map[string]int {
	n := map[string]int{}
	for _, w := range wordRE.FindAllString(s, -1) {
		n[w]++
	}
	return n
}

func linesWith(lines []string, s string) string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func hasLineWithAll(lines []string, words ...string) bool {
	for _, l := range lines {
		all := true
		for _, w := range words {
			all = all && strings.Contains(l, w)
		}
		if all {
			return true
		}
	}
	return false
}

var pageSizeRE = regexp.MustCompile(`(?m)^Page\s+\d+\s+size:\s+([0-9.]+) x ([0-9.]+) pts`)

func pageSizes(t *testing.T, info string) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, m := range pageSizeRE.FindAllStringSubmatch(info, -1) {
		w, _ := strconv.ParseFloat(m[1], 64)
		h, _ := strconv.ParseFloat(m[2], 64)
		out = append(out, [2]float64{w, h})
	}
	if len(out) == 0 {
		t.Fatalf("pdfinfo listed no page sizes:\n%s", info)
	}
	return out
}

// renderTools finds LibreOffice and poppler, or skips (fails under CI) saying how to install them.
func renderTools(t *testing.T) map[string]string {
	t.Helper()
	tools := map[string]string{}
	var missing []string
	for _, name := range []string{"soffice", "pdftotext", "pdfinfo"} {
		p, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, name)
			continue
		}
		tools[name] = p
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("%s not on PATH; to render the workbook as a person sees it: %s", strings.Join(missing, ", "), renderInstallHint)
		if os.Getenv(requireRenderEnv) != "" {
			t.Fatalf("%s is set: %s", requireRenderEnv, msg)
		}
		t.Skip(msg)
	}
	return tools
}

// renderPDF converts xlsx to PDF with LibreOffice, with a profile of its own so parallel runs do not share one (a
// shared profile makes a second soffice hand its work to the first, or fail). soffice starts a child process, so on
// timeout the whole process group is killed.
func renderPDF(t *testing.T, soffice, dir, xlsx string) string {
	t.Helper()
	profile := "file://" + filepath.ToSlash(filepath.Join(dir, "lo-profile"))
	out := runGroup(t, 3*time.Minute, dir, soffice, "--headless", "--norestore", "-env:UserInstallation="+profile,
		"--convert-to", "pdf", "--outdir", dir, xlsx)
	pdf := strings.TrimSuffix(xlsx, filepath.Ext(xlsx)) + ".pdf"
	if _, err := os.Stat(pdf); err != nil {
		t.Fatalf("soffice wrote no PDF (%v):\n%s", err, out)
	}
	return pdf
}

// runGroup runs a renderer (soffice, chromium) with HOME in dir, and fails the test when it fails or overruns
// timeout. Both start child processes, so on timeout the whole process group is killed.
func runGroup(t *testing.T, timeout time.Duration, dir, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s did not finish in %s: %s", filepath.Base(name), timeout, out)
	}
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
	return out
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
