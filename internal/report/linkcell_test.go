package report

import (
	"strings"
	"testing"
)

// A link Excel would not take as a formula's text (over 255 characters, as a console link through an access portal
// can be) is written as text, whole; a shorter one stays the HYPERLINK formula.
func TestLinkCellLongLinkIsText(t *testing.T) {
	t.Parallel()
	st := &styles{link: 7, linkGap: 8}
	short := "https://console.aws.amazon.com/ec2/home"
	if c := linkCell(short, st, false); c.Formula != `HYPERLINK("`+short+`","open")` || c.StyleID != 7 {
		t.Errorf("short link: %+v", c)
	}
	long := "https://d-1234567890.awsapps.com/start/#/console?account_id=111122223333&role_name=AuditReadOnly&destination=" +
		"https%3A%2F%2Fconsole.aws.amazon.com%2F" + strings.Repeat("a", 150)
	if c := linkCell(long, st, true); c.Formula != "" || c.Value != long || c.StyleID != 8 {
		t.Errorf("long link (%d characters): %+v, want the link as text", len(long), c)
	}
	edge := "https://x/" + strings.Repeat("a", maxFormulaText-len("https://x/"))
	if c := linkCell(edge, st, false); c.Formula == "" {
		t.Errorf("a link of exactly %d characters lost its formula", len(edge))
	}
}
