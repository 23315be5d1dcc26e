package history

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonWriter and jsonReader are the small part of JSON the state needs, written by hand: encoding/json's reflection
// cost more than the whole budget for 100,000 findings (BenchmarkEncodeDecode100k). Both stream through a buffer, so
// neither the encoded nor the decoded text is ever whole in memory.

// jsonWriter appends to a buffer and hands it to w when it fills. The first write error sticks and is returned by
// flush.
type jsonWriter struct {
	w   io.Writer
	buf []byte
	err error
}

const jsonBufferSize = 64 << 10

func newJSONWriter(w io.Writer) *jsonWriter {
	return &jsonWriter{w: w, buf: make([]byte, 0, jsonBufferSize+1024)}
}

func (w *jsonWriter) spill() {
	if len(w.buf) >= jsonBufferSize {
		w.flush()
	}
}

func (w *jsonWriter) flush() error {
	if w.err == nil && len(w.buf) > 0 {
		_, w.err = w.w.Write(w.buf)
	}
	w.buf = w.buf[:0]
	return w.err
}

// raw writes JSON text as it is.
func (w *jsonWriter) raw(s string) {
	w.buf = append(w.buf, s...)
	w.spill()
}

func (w *jsonWriter) str(s string) {
	w.buf = appendJSONString(w.buf, s)
	w.spill()
}

func (w *jsonWriter) bytes(b []byte) {
	w.buf = appendJSONBytes(w.buf, b)
	w.spill()
}

func (w *jsonWriter) int(v int64) {
	w.buf = strconv.AppendInt(w.buf, v, 10)
	w.spill()
}

func (w *jsonWriter) uint(v uint64) {
	w.buf = strconv.AppendUint(w.buf, v, 10)
	w.spill()
}

// strings writes a JSON array of strings.
func (w *jsonWriter) strings(ss []string) {
	w.buf = append(w.buf, '[')
	for i, s := range ss {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.str(s)
	}
	w.buf = append(w.buf, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as JSON. Like encoding/json, it writes invalid UTF-8 as U+FFFD, so the text stays JSON;
// unlike it, it leaves <, > and & alone (links are full of &).
func appendJSONString(b []byte, s string) []byte {
	mark := len(b)
	b = append(b, '"')
	start, wide := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			wide = wide || c >= utf8.RuneSelf
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	if wide && !utf8.ValidString(s) {
		return appendJSONString(b[:mark], strings.ToValidUTF8(s, "\uFFFD"))
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendJSONBytes(b []byte, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return appendJSONString(b, string(s))
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// decodeLimits bound what a stored state can make a reader inflate, hold and spend time on. Anyone who may write the
// history prefix (or a local state directory) writes what the next run decodes, and a megabyte of gzip inflates to a
// gibibyte: every limit is checked before the memory it guards is allocated, and a state past one is refused as
// unreadable (the run falls back to the run before it). Each is several times what the largest state the writer makes
// needs: 100,000 findings inflate to 16 MB of JSON, decode to about 100 MB, and hold no string over a few kilobytes.
type decodeLimits struct {
	// stream is the most inflated bytes of JSON one state may hold.
	stream int64
	// str is the longest string, after escapes and references are expanded.
	str int
	// decoded is the most memory the decoded state may hold, as charge estimates it from each allocation.
	decoded int64
}

var defaultLimits = decodeLimits{stream: 128 << 20, str: 1 << 20, decoded: 384 << 20}

// headLimit bounds the inflated bytes ReadSummary reads: the head is a few hundred bytes.
const headLimit = 1 << 20

// maxLiteral is the longest number or true/false/null: 20 digits and a sign hold any int64.
const maxLiteral = 32

// jsonReader reads JSON text from a stream through a buffer that grows only to hold one token. Errors stick: after
// the first, every method returns zero values and err says what went wrong where.
type jsonReader struct {
	src  io.Reader
	buf  []byte
	pos  int
	base int64 // offset of buf[0] in the stream
	eof  bool
	err  error
	// arena is reused by readers of many strings (plain values, expanded templates), which copy it out once.
	arena []byte
	lim   decodeLimits
	// used is the memory charged so far against lim.decoded; rows the table rows read so far (rowsBacked).
	used, rows int64
}

func newJSONReader(r io.Reader, lim decodeLimits) *jsonReader {
	return &jsonReader{src: r, buf: make([]byte, 0, 256<<10), lim: lim}
}

// read is how many bytes of the stream have been consumed.
func (r *jsonReader) read() int64 { return r.base + int64(r.pos) }

// charge counts n bytes of memory the decoded state is about to hold, and fails (reporting false) past the limit, so
// the caller allocates nothing.
func (r *jsonReader) charge(n int64) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || n > r.lim.decoded-r.used {
		r.fail("the state would hold more than %d MiB decoded", r.lim.decoded>>20)
		return false
	}
	r.used += n
	return true
}

func (r *jsonReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: %s", r.base+int64(r.pos), fmt.Sprintf(format, args...))
	}
}

// fill reads more of the stream, keeping the unread part; it reports whether anything was added.
func (r *jsonReader) fill() bool {
	if r.eof || r.err != nil {
		return false
	}
	if r.pos > 0 {
		n := copy(r.buf, r.buf[r.pos:])
		r.base += int64(r.pos)
		r.buf, r.pos = r.buf[:n], 0
	}
	if len(r.buf) == cap(r.buf) {
		r.buf = append(r.buf, make([]byte, len(r.buf))...)[:len(r.buf)]
	}
	for tries := 0; tries < 100; tries++ {
		n, err := r.src.Read(r.buf[len(r.buf):cap(r.buf)])
		r.buf = r.buf[:len(r.buf)+n]
		if r.lim.stream > 0 && r.base+int64(len(r.buf)) > r.lim.stream {
			r.err = fmt.Errorf("the state inflates past %d MiB", r.lim.stream>>20)
			return false
		}
		if err == io.EOF {
			r.eof = true
			return n > 0
		}
		if err != nil {
			r.err = err
			return false
		}
		if n > 0 {
			return true
		}
	}
	r.err = io.ErrNoProgress
	return false
}

// peek skips white space and returns the next byte without reading it; 0 at the end of the stream.
func (r *jsonReader) peek() byte {
	for {
		for r.pos < len(r.buf) {
			switch c := r.buf[r.pos]; c {
			case ' ', '\t', '\n', '\r':
				r.pos++
			default:
				return c
			}
		}
		if !r.fill() {
			return 0
		}
	}
}

func (r *jsonReader) expect(c byte) {
	if got := r.peek(); got != c {
		if got == 0 && r.err == nil {
			r.fail("unexpected end of state, want %q", c)
			return
		}
		r.fail("found %q, want %q", got, c)
		return
	}
	r.pos++
}

// more steps through an array or object: it reads the separator before every element but the first and reports
// false (having read the closing bracket) at the end or after an error.
func (r *jsonReader) more(end byte, first *bool) bool {
	c := r.peek()
	if r.err != nil {
		return false
	}
	if c == end {
		r.pos++
		return false
	}
	if !*first {
		r.expect(',')
	}
	*first = false
	return r.err == nil
}

// key reads an object key and its colon into scratch.
func (r *jsonReader) key(scratch []byte) []byte {
	k := r.appendString(scratch[:0])
	r.expect(':')
	return k
}

// appendString reads a JSON string and appends its value to dst.
func (r *jsonReader) appendString(dst []byte) []byte {
	r.expect('"')
	start := len(dst)
	for r.err == nil {
		i := r.pos
		for i < len(r.buf) {
			if c := r.buf[i]; c == '"' || c == '\\' || c < 0x20 {
				break
			}
			i++
		}
		// Checked before the bytes are kept: a gibibyte string is refused at its first megabyte.
		if len(dst)-start+(i-r.pos) > r.lim.str {
			r.fail("a string longer than %d bytes", r.lim.str)
			return dst
		}
		dst = append(dst, r.buf[r.pos:i]...)
		r.pos = i
		if i == len(r.buf) {
			if !r.fill() {
				r.fail("unexpected end of state in a string")
			}
			continue
		}
		switch c := r.buf[i]; {
		case c == '"':
			r.pos++
			return dst
		case c < 0x20:
			r.fail("control character in a string")
		default:
			dst = r.appendEscape(dst)
		}
	}
	return dst
}

// ensure makes n bytes readable from pos, or reports false at the end of the stream.
func (r *jsonReader) ensure(n int) bool {
	for len(r.buf)-r.pos < n {
		if !r.fill() {
			return false
		}
	}
	return true
}

func (r *jsonReader) appendEscape(dst []byte) []byte {
	if !r.ensure(2) {
		r.fail("unexpected end of state in an escape")
		return dst
	}
	c := r.buf[r.pos+1]
	r.pos += 2
	switch c {
	case '"', '\\', '/':
		return append(dst, c)
	case 'b':
		return append(dst, '\b')
	case 'f':
		return append(dst, '\f')
	case 'n':
		return append(dst, '\n')
	case 'r':
		return append(dst, '\r')
	case 't':
		return append(dst, '\t')
	case 'u':
		rn := r.hex4()
		if !utf16.IsSurrogate(rn) {
			return utf8.AppendRune(dst, rn)
		}
		// A surrogate pair is two escapes; a lone surrogate reads as U+FFFD, as in encoding/json.
		if !r.ensure(6) || r.buf[r.pos] != '\\' || r.buf[r.pos+1] != 'u' {
			return utf8.AppendRune(dst, utf8.RuneError)
		}
		r.pos += 2
		rn2 := r.hex4()
		if pair := utf16.DecodeRune(rn, rn2); pair != utf8.RuneError {
			return utf8.AppendRune(dst, pair)
		}
		dst = utf8.AppendRune(dst, utf8.RuneError)
		if utf16.IsSurrogate(rn2) {
			rn2 = utf8.RuneError
		}
		return utf8.AppendRune(dst, rn2)
	}
	r.fail("invalid escape \\%c", c)
	return dst
}

func (r *jsonReader) hex4() rune {
	if !r.ensure(4) {
		r.fail("unexpected end of state in an escape")
		return utf8.RuneError
	}
	var v rune
	for _, c := range r.buf[r.pos : r.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			r.fail("invalid \\u escape")
			return utf8.RuneError
		}
	}
	r.pos += 4
	return v
}

// string reads a JSON string as a new string, charged to the decoded state.
func (r *jsonReader) string(scratch *[]byte) string {
	*scratch = r.appendString((*scratch)[:0])
	if !r.charge(int64(len(*scratch)) + stringHeader) {
		return ""
	}
	return string(*scratch)
}

// stringHeader is what a string costs beside its bytes.
const stringHeader = 16

// literal reads a number or true/false/null as its text.
func (r *jsonReader) literal(scratch []byte) []byte {
	r.peek()
	for r.err == nil {
		for r.pos < len(r.buf) {
			c := r.buf[r.pos]
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E') {
				return scratch
			}
			if len(scratch) == maxLiteral {
				r.fail("a literal longer than %d bytes", maxLiteral)
				return scratch
			}
			scratch = append(scratch, c)
			r.pos++
		}
		if !r.fill() {
			break
		}
	}
	return scratch
}

// digits reads an unsigned decimal integer straight from the buffer: index columns are most of a state's numbers.
func (r *jsonReader) digits() (v uint64, ok bool) {
	n := 0
	for r.err == nil {
		for r.pos < len(r.buf) {
			c := r.buf[r.pos]
			if c < '0' || c > '9' {
				return v, n > 0
			}
			d := uint64(c - '0')
			if n == maxLiteral {
				r.fail("a number longer than %d digits", maxLiteral)
				return 0, false
			}
			if v > (math.MaxUint64-d)/10 {
				r.fail("integer out of range")
				return 0, false
			}
			v = v*10 + d
			n++
			r.pos++
		}
		if !r.fill() {
			break
		}
	}
	return v, n > 0
}

// int reads an integer that fits in bits.
func (r *jsonReader) int(bits int) int64 {
	neg := r.peek() == '-'
	if neg {
		r.pos++
	}
	v, ok := r.digits()
	limit := uint64(1) << (bits - 1)
	switch {
	case r.err != nil:
		return 0
	case !ok:
		r.fail("expected an integer")
	case neg && v <= limit:
		return -int64(v)
	case !neg && v < limit:
		return int64(v)
	default:
		r.fail("integer out of range")
	}
	return 0
}

func (r *jsonReader) uint64() uint64 {
	r.peek()
	v, ok := r.digits()
	if !ok {
		r.fail("expected an unsigned integer")
	}
	return v
}

func (r *jsonReader) bool() bool {
	var tmp [8]byte
	switch text := r.literal(tmp[:0]); string(text) {
	case "true":
		return true
	case "false":
		return false
	default:
		r.fail("%q is not a boolean", text)
		return false
	}
}

// skip reads one value of any kind and discards it: a key this build does not know.
func (r *jsonReader) skip(depth int) {
	if depth > 64 {
		r.fail("nested too deep")
		return
	}
	var scratch [64]byte
	switch r.peek() {
	case '"':
		r.appendString(scratch[:0])
	case '[':
		r.pos++
		for first := true; r.more(']', &first); {
			r.skip(depth + 1)
		}
	case '{':
		r.pos++
		for first := true; r.more('}', &first); {
			r.key(scratch[:0])
			r.skip(depth + 1)
		}
	default:
		if len(r.literal(scratch[:0])) == 0 {
			r.fail("expected a value")
		}
	}
}

// end checks that nothing but white space follows the value, reading the stream to its end (which is when gzip
// verifies its checksum).
func (r *jsonReader) end() {
	if c := r.peek(); r.err == nil && c != 0 {
		r.fail("%q after the state", c)
	}
}
