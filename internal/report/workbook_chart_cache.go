package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// chartCache is what a chart's references hold, by reference as the chart names it ('Trend'!$B$2:$B$11): the texts
// of a category or series name, the numbers of a series (nil for an empty cell). excelize writes a chart's references
// with empty caches, and a viewer that does not recalculate (a mail or file preview, a phone) draws such a chart
// empty; a chart carrying its values draws them.
type chartCache struct {
	text    map[string][]string
	numbers map[string][]*float64
}

// fill writes c's values into the caches of the chart that holds its references, once excelize has added it.
func (c chartCache) fill(f *excelize.File) error {
	var name string
	var content []byte
	f.Pkg.Range(func(k, v any) bool {
		key, _ := k.(string)
		b, _ := v.([]byte)
		if !strings.HasPrefix(key, "xl/charts/chart") {
			return true
		}
		for ref := range c.numbers {
			if bytes.Contains(b, []byte("<f>"+escapeXML(ref)+"</f>")) {
				name, content = key, b
				return false
			}
		}
		return true
	})
	if name == "" {
		return fmt.Errorf("no chart holds the references %v", c.numbers)
	}
	for ref, texts := range c.text {
		var cache strings.Builder
		fmt.Fprintf(&cache, `<strCache><ptCount val="%d"></ptCount>`, len(texts))
		for i, s := range texts {
			fmt.Fprintf(&cache, `<pt idx="%d"><v>%s</v></pt>`, i, escapeXML(s))
		}
		cache.WriteString("</strCache>")
		from := "<strRef><f>" + escapeXML(ref) + "</f></strRef>"
		content = bytes.ReplaceAll(content, []byte(from), []byte("<strRef><f>"+escapeXML(ref)+"</f>"+cache.String()+"</strRef>"))
	}
	for ref, xs := range c.numbers {
		var cache strings.Builder
		fmt.Fprintf(&cache, `<numCache><formatCode>General</formatCode><ptCount val="%d"></ptCount>`, len(xs))
		for i, x := range xs {
			if x != nil {
				fmt.Fprintf(&cache, `<pt idx="%d"><v>%s</v></pt>`, i, strconv.FormatFloat(*x, 'f', -1, 64))
			}
		}
		cache.WriteString("</numCache>")
		from := "<numRef><f>" + escapeXML(ref) + "</f><numCache><formatCode></formatCode></numCache></numRef>"
		if !bytes.Contains(content, []byte(from)) {
			return fmt.Errorf("chart %s: no empty cache for %s", name, ref)
		}
		content = bytes.ReplaceAll(content, []byte(from), []byte("<numRef><f>"+escapeXML(ref)+"</f>"+cache.String()+"</numRef>"))
	}
	f.Pkg.Store(name, content)
	return nil
}

// escapeXML is s as encoding/xml writes it in text.
func escapeXML(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// cacheNumbers are the numbers of values for a chart's cache: an int or a float64, nil for anything else (an unknown
// sum, "").
func cacheNumbers(values []any) []*float64 {
	out := make([]*float64, len(values))
	for i, v := range values {
		switch v := v.(type) {
		case int:
			x := float64(v)
			out[i] = &x
		case float64:
			out[i] = &v
		}
	}
	return out
}
