package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Inline makes text that came from AWS safe to print inside one line of the digest or a terminal. Much of it is
// chosen by customers (account names, stack and product names, version names, reservation ids, status reasons) or
// echoes them (error messages), and none of it may shape what a reader sees:
//   - every line break and other white space becomes one space, so the text cannot start a line of its own and
//     forge a heading or a link (the caller always puts it after fixed text on the line);
//   - control characters (C0, DEL, C1: ESC and CSI start terminal escape sequences) are dropped;
//   - format characters (Unicode Cf: the bidi embeddings, overrides and isolates U+202A–U+202E, U+2066–U+2069,
//     the marks U+200E, U+200F, U+061C; the zero-width U+200B–U+200D, U+2060, U+FEFF; the soft hyphen) and the
//     other default-ignorable code points (Hangul fillers and the like) are dropped: they reorder or hide text;
//   - invalid UTF-8 becomes U+FFFD.
//
// Leading and trailing space is trimmed. What remains is the same words a person would read, on one line.
func Inline(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	// A space is owed, and written only before the next visible rune, so none leads or trails.
	space := false
	// Ranging over a string yields U+FFFD for each byte that is not valid UTF-8.
	for _, r := range s {
		switch {
		case unicode.IsSpace(r): // also U+0085, U+2028 and U+2029, which some readers break lines at
			space = b.Len() > 0
		case hidden(r):
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hidden reports whether r must never reach a reader as it is: a control character (C0, DEL, C1) or a format or
// other default-ignorable character, which reorder or hide text.
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// EscapeJSON rewrites every hidden character in JSON text as a \u escape: the same JSON value, safe to print on a
// terminal. encoding/json already escapes the C0 controls and U+2028/U+2029, but writes DEL, the C1 controls and the
// bidi and zero-width characters as they are. Outside its strings JSON holds only ASCII, so escaping every such
// character in b escapes only string contents.
func EscapeJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r < utf8.RuneSelf && r != 0x7f: // ASCII, with the C0 controls outside strings being JSON's white space
			out = append(out, b[i])
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case hidden(r):
			if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
				out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
		default:
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// field is AWS text for one slot of a digest line: inline, and cut to n bytes so one long value cannot crowd out
// the rest. Only the start of s is read, generously past n for the characters Inline drops: a digest line must not
// cost a pass over megabytes of one error message.
func field(s string, n int) string {
	if keep := 4*n + 64; len(s) > keep {
		for keep > 0 && !utf8.RuneStart(s[keep]) {
			keep--
		}
		s = s[:keep] + " ..." // so the cut shows even when Inline drops most of what was kept
	}
	return truncate(Inline(s), n)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "..."
	if n < len(mark) {
		return ""
	}
	n -= len(mark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + mark
}
