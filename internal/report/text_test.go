package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestInline(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ in, want string }{
		"plain":                  {"stack-1", "stack-1"},
		"line breaks fold":       {"a\nCRITICAL (0)\r\nWorkbook: x", "a CRITICAL (0) Workbook: x"},
		"unicode line breaks":    {"a\u2028b\u2029c\u0085d\ve\ff", "a b c d e f"},
		"runs of space fold":     {"a \t\n\u00a0\u3000 b", "a b"},
		"leading and trailing":   {"\n\t a b \r\n", "a b"},
		"terminal escapes":       {"\x1b[2J\x1b[31mred\x1b[0m \x1b]8;;https://e\x07link\x1b]8;;\x07", "[2J[31mred[0m ]8;;https://elink]8;;"},
		"C1 CSI and DEL":         {"a\u009b31mb\x7fc", "a31mbc"},
		"NUL and other C0":       {"a\x00b\x01c\x08d", "abcd"},
		"bidi overrides":         {"\u202eexe.txt\u202c \u202a\u202b\u202d\u2066\u2067\u2068\u2069x", "exe.txt x"},
		"bidi marks":             {"a\u200eb\u200fc\u061cd", "abcd"},
		"zero width":             {"p\u200ba\u200cy\u200dp\u2060a\ufeffl", "paypal"},
		"soft hyphen and tags":   {"in\u00advoice\U000E0041", "invoice"},
		"hangul filler":          {"\u3164\u115fname", "name"},
		"invalid UTF-8 replaced": {"a\xffb\xc3", "a\uFFFDb\uFFFD"},
		"only invisible":         {"\u200b\u202e\x00\n", ""},
		"letters and emoji kept": {"Zürich データ 🚀 ٱلعربية", "Zürich データ 🚀 ٱلعربية"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Inline(c.in); got != c.want {
				t.Errorf("Inline(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestInlineEveryRune: no code point, alone or between letters, survives Inline as a line break, control or format
// character.
func TestInlineEveryRune(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		got := Inline("a" + string(r) + "b")
		if bad := forbiddenRunes(got); bad != "" || strings.ContainsRune(got, '\n') {
			t.Fatalf("Inline(a %U b) = %q holds %s", r, got, bad)
		}
	}
	for b := 0x80; b <= 0xff; b++ { // every byte that cannot start a UTF-8 sequence alone
		if got := Inline("a" + string([]byte{byte(b)}) + "b"); !utf8.ValidString(got) {
			t.Fatalf("Inline(a %#x b) = %q is not valid UTF-8", b, got)
		}
	}
}

func TestTruncateStaysWithinBytes(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"hello world", "héllo wörld", "データベース"} {
		for n := 0; n <= len(s)+1; n++ {
			got := truncate(s, n)
			if len(got) > n && len(s) > n || !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d) = %q", s, n, got)
			}
		}
	}
}

func TestEscapeJSONKeepsTheValue(t *testing.T) {
	t.Parallel()
	in := map[string]any{"name": "a\u202eb\u200b\u009b\x7f\u0085c\x1b\x00\n\U000E0041d", "plain": "Zürich 🚀", "n": 1}
	raw, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out := EscapeJSON(raw)
	for _, r := range string(out) {
		if r != '\n' && hidden(r) {
			t.Errorf("escaped JSON holds %U: %s", r, out)
		}
	}
	var back map[string]any
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if back["name"] != in["name"] || back["plain"] != in["plain"] || back["n"] != float64(1) {
		t.Errorf("value changed: %q", back)
	}
	if !bytes.Contains(out, []byte(`Zürich 🚀`)) || !bytes.Contains(out, []byte(`\u202e`)) || !bytes.Contains(out, []byte(`\udb40\udc41`)) {
		t.Errorf("escapes: %s", out)
	}
}
