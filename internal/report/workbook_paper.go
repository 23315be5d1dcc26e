package report

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// PaperEnv names the workbook's paper explicitly: "a4" or "letter". Unset, the locale decides (paperFromEnv).
const PaperEnv = "AUDIT_PAPER"

// paper is the sheet size the workbook prints on.
type paper struct {
	name string
	// size is the OOXML paperSize code (ECMA-376 Part 1, 18.3.1.63): 1 Letter, 9 A4.
	size int
	// printable is the landscape width inside the default left and right margins of 0.7 inch, in inches.
	printable float64
}

var (
	a4     = paper{name: "A4", size: 9, printable: 11.69 - 2*0.7}
	letter = paper{name: "Letter", size: 1, printable: 11 - 2*0.7}
)

// letterTerritories are the territories whose locales print on Letter (glibc's LC_PAPER): every other prints on A4.
var letterTerritories = map[string]bool{"US": true, "CA": true, "PR": true, "PH": true, "MX": true, "CL": true, "CO": true, "VE": true,
	"CR": true, "GT": true, "NI": true, "PA": true, "SV": true, "DO": true}

// CheckPaper says whether v, AUDIT_PAPER's value, is one the workbook reads, so a deployment is refused at start-up
// rather than after the audit, when the workbook is built.
func CheckPaper(v string) error {
	_, err := paperFromEnv(func(name string) string {
		if name == PaperEnv {
			return v
		}
		return ""
	})
	return err
}

// paperFromEnv is the paper the workbook prints on: AUDIT_PAPER when set, else Letter when the process's paper locale
// (LC_ALL, else LC_PAPER, else LANG, as POSIX orders them) is of a Letter territory ("en_US.UTF-8"), else A4. A
// Lambda function's locale is unset or C: A4, unless AUDIT_PAPER says otherwise.
func paperFromEnv(getenv func(string) string) (paper, error) {
	switch v := strings.ToLower(strings.TrimSpace(getenv(PaperEnv))); v {
	case "a4":
		return a4, nil
	case "letter":
		return letter, nil
	case "":
	default:
		return paper{}, fmt.Errorf("%s=%q: want a4 or letter", PaperEnv, getenv(PaperEnv))
	}
	var locale string
	for _, name := range []string{"LC_ALL", "LC_PAPER", "LANG"} {
		if locale = getenv(name); locale != "" {
			break
		}
	}
	// language[_TERRITORY][.codeset][@modifier]
	locale, _, _ = strings.Cut(locale, "@")
	locale, _, _ = strings.Cut(locale, ".")
	if _, territory, ok := strings.Cut(locale, "_"); ok && letterTerritories[strings.ToUpper(territory)] {
		return letter, nil
	}
	return a4, nil
}

// processPaper is the paper of this process's environment.
func processPaper() (paper, error) { return paperFromEnv(os.Getenv) }

// Printing: a sheet is fitted to one page's width, so a sheet wider than the page prints smaller. minPrintScale keeps
// its 11 pt text at 6.6 pt or more: text columns wider than the page allows are narrowed to wrap instead, and a table
// still wider (ids, statuses, dates and money cannot wrap) prints on more pages side by side (printWidth).
const (
	minPrintScale = 0.6
	// minWrapWidth is the narrowest a text column is made to wrap at, in widths of the digit 0.
	minWrapWidth = 30
)

// pageWidth is how many widths of the digit 0 a sheet of n columns may take on the paper at minPrintScale: a column
// of width w is 7w+5 pixels at 96 per inch (Calibri 11).
func (p paper) pageWidth(n int) float64 {
	px := p.printable * 96 / minPrintScale
	return (px - 5*float64(n)) / 7
}

// fitPage narrows the widest text columns, to no less than minWrapWidth nor their header, until the columns fit the
// page's width at minPrintScale, or no text column can give more: their text wraps, in rows made taller for it.
// Numbers and dates keep their widths: they cannot wrap.
func (c *columnFit) fitPage(p paper) {
	n := len(c.widths)
	budget := p.pageWidth(n)
	total := func(cap float64) float64 {
		sum := 0.0
		for j := range n {
			w := c.width(j)
			if c.shrinks(j) {
				w = min(w, max(cap, c.floor(j)))
			}
			sum += w
		}
		return sum
	}
	if total(maxColumnWidth) <= budget {
		return
	}
	lo, hi := float64(minWrapWidth), float64(maxColumnWidth)
	for range 30 {
		mid := (lo + hi) / 2
		if total(mid) > budget {
			hi = mid
		} else {
			lo = mid
		}
	}
	for j := range n {
		if c.shrinks(j) && c.width(j) > max(lo, c.floor(j)) {
			c.capAt(j, max(lo, c.floor(j)))
		}
	}
}

// shrinks says whether column j may be narrowed to wrap: it holds prose, which wraps between words. An id or a
// status would break mid-word and read as another (UPDATE_ROLLBACK_ for UPDATE_ROLLBACK_FAILED).
func (c *columnFit) shrinks(j int) bool {
	return j < len(c.kinds.prose) && c.kinds.prose[j]
}

// floor is the narrowest column j is made: its header's width, what is held below the table, and minWrapWidth.
func (c *columnFit) floor(j int) float64 {
	h := 0.0
	if j < len(c.heads) {
		h = c.heads[j]
	}
	if w, ok := c.held[j]; ok {
		h = max(h, w)
	}
	return max(h, minWrapWidth)
}

// hold measures v, a value below the table that must show whole however the page narrows the column: a number of
// the month table, a second table's header, a short phrase; a longer text wraps from minWrapWidth.
func (c *columnFit) hold(j int, v any) {
	c.widen(j, v)
	if c.held == nil {
		c.held = map[int]float64{}
	}
	c.held[j] = max(c.held[j], min(valueWidth(v)+cellPadding, c.limit(j), maxHeldText))
}

// maxHeldText is the widest a short phrase below a table is held whole.
const maxHeldText = 36

// keyColumns are, in order of preference, the last of the columns that say which a row is, each with the most
// columns it may end: printed on every page of a table too wide for one, they are the table's first columns (the
// account and the resource come first for it).
var keyColumns = []struct {
	name string
	max  int
}{{"Resource ID", 6}, {"Account name", 4}}

// printWidth is how many pages wide the table prints so its text keeps minPrintScale: one when it fits, else as many
// as the columns after the key columns need, the key columns (through the first of keyColumns among its first
// columns) repeated on each.
func (c *columnFit) printWidth(p paper, header []string) printWidth {
	px := func(w float64) float64 { return 7*w + 5 }
	page := p.printable * 96 / minPrintScale
	total := 0.0
	for j := range c.widths {
		total += px(c.width(j))
	}
	if total <= page {
		return printWidth{pages: 1}
	}
	keys, key := 0, 0.0
	for _, k := range keyColumns {
		if i := slices.Index(header, k.name); i >= 0 && i < k.max {
			keys = i + 1
			break
		}
	}
	for j := range keys {
		key += px(c.width(j))
	}
	rest := page - key
	if rest < page/2 { // key columns that take half the page leave too little: print without them
		keys, rest = 0, page
	}
	return printWidth{pages: 1 + int(math.Ceil((total-page)/rest)), keys: keys}
}
