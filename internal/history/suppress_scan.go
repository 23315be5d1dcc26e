package history

import "fmt"

// scanShape judges how deep the suppressions file nests and how many entries it holds, before a parser sees it: a
// parser's memory grows with both (64 KB of brackets took 1.6 GB, 1 MB of "- " compact entries over 20 GB), and the
// file is written by people, or by anyone who can write to the bucket.
//
// It is a reading of YAML's indicators, not a parser, and it errs on the side of counting: every construct that
// nests is counted where it opens.
//   - Flow collections: '[' and '{' at the start of a node, and anywhere inside a flow collection, where a plain
//     scalar cannot hold them.
//   - Block collections: each deeper indentation on the stack of open indentations, plus each compact "- " entry
//     and "? " key on the line (`- - - x` nests three lists on one line).
//   - Text is skipped: comments, quoted scalars (which may span lines) and block scalars (| and >: the lines indented
//     at least as far as their content, as the parser reads them). A bracket inside a plain scalar in block context
//     (`reason: see [ticket`) is text too.
//
// Anchors and aliases are not expanded by the parser the file meets (gopkg.in/yaml.v3 keeps an alias as a node) and
// the reader refuses an alias wherever it stands, so "billion laughs" costs one node per alias written: the entry
// count bounds it.
func scanShape(data []byte) *Problem {
	s := shapeScanner{data: data, line: 1}
	return s.scan()
}

type shapeScanner struct {
	data      []byte
	i, line   int
	lineStart int   // where the current line begins in data
	flow      int   // open flow collections
	indents   []int // open block indentations, strictly increasing
	compact   int   // compact "- " and "? " entries on this line
	entries   int
	block     blockScalar
}

// blockScalar is the open block scalar, whose lines the scan skips. It follows YAML 1.2 §8.1.1 as gopkg.in/yaml.v3
// reads it: the content is indented owner+m, m from the header's indentation indicator, or else as far as the first
// non-empty line or the widest empty line before it, at least owner+1 and at least 1. The first line indented less
// ends the scalar and is structure. Skipping a line the parser reads as structure would let it past the limits, so
// where the scan cannot know the owner exactly it takes a column no less than the parser's: lines it then scans
// that were text only count for more.
type blockScalar struct {
	open    bool
	owner   int // indentation of the collection that holds the scalar, or a column past it
	indent  int // the content's indentation, 0 until known
	leading int // the widest empty line before the first non-empty one
}

// holds says whether a line indented col belongs to the scalar, and closes the scalar at the first that does not.
func (b *blockScalar) holds(col int, empty bool) bool {
	if b.indent == 0 {
		if empty {
			b.leading = max(b.leading, col)
			return true
		}
		b.indent = max(b.leading, col, b.owner+1, 1)
	}
	if empty || col >= b.indent {
		return true
	}
	b.open = false
	return false
}

func (s *shapeScanner) scan() *Problem {
	for s.i < len(s.data) {
		if p := s.scanLine(); p != nil {
			return p
		}
	}
	return nil
}

// scanLine reads from the start of a line to the start of the next.
func (s *shapeScanner) scanLine() *Problem {
	col := 0
	for s.i+col < len(s.data) && s.data[s.i+col] == ' ' {
		col++
	}
	rest := s.i + col
	empty := rest == len(s.data) || s.data[rest] == '\n' || s.data[rest] == '\r'
	if s.block.open && s.block.holds(col, empty) {
		s.skipLine()
		return nil
	}
	if empty || s.data[rest] == '#' {
		s.skipLine()
		return nil
	}
	s.i = rest
	if s.flow == 0 {
		for len(s.indents) > 0 && s.indents[len(s.indents)-1] >= col {
			s.indents = s.indents[:len(s.indents)-1]
		}
		s.indents = append(s.indents, col)
		s.compact = 0
		if p := s.checkDepth(); p != nil {
			return p
		}
	}
	return s.scanTokens(col)
}

// scanTokens reads the rest of one line (and past it, through a quoted scalar or an open flow collection's lines).
func (s *shapeScanner) scanTokens(col int) *Problem {
	nodeStart := true // where a new node may begin: a collection, a quoted scalar, a block scalar
	// In block context: the column where the current node began (-1 before it does), and the indentation of the
	// collection a block scalar here would belong to: the last "- " or "? " entry, or the key before the last ':'.
	// With neither on the line, the owner is indented no further than the line.
	nodeCol, owner := -1, col
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\n':
			s.lineBreakAt(s.i)
			s.i++
			if s.flow == 0 {
				return nil
			}
			// Inside a flow collection, lines carry no indentation meaning.
			continue
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
			continue
		case c == '#' && (s.i == 0 || isBreakOrSpace(s.data[s.i-1])):
			s.skipComment()
			continue
		}
		next := byte(' ')
		if s.i+1 < len(s.data) {
			next = s.data[s.i+1]
		}
		if nodeStart && s.flow == 0 && nodeCol < 0 {
			nodeCol = s.i - s.lineStart
		}
		switch {
		case nodeStart && (c == '[' || c == '{'), s.flow > 0 && (c == '[' || c == '{'):
			s.flow++
			s.i++
			if p := s.entry(); p != nil {
				return p
			}
			if p := s.checkDepth(); p != nil {
				return p
			}
			nodeStart = true
		case s.flow > 0 && (c == ']' || c == '}'):
			s.flow--
			s.i++
			nodeStart = false
		case s.flow > 0 && c == ',':
			s.i++
			if p := s.entry(); p != nil {
				return p
			}
			nodeStart = true
		case nodeStart && c == '"':
			s.skipDoubleQuoted()
			nodeStart = false
		case nodeStart && c == '\'':
			s.skipSingleQuoted()
			nodeStart = false
		case nodeStart && (c == '-' || c == '?') && isBreakOrSpace(next):
			if s.flow == 0 {
				owner, nodeCol = s.i-s.lineStart, -1
			}
			s.i++
			if c == '?' || s.flow == 0 {
				s.compact++
			}
			if p := s.entry(); p != nil {
				return p
			}
			if p := s.checkDepth(); p != nil {
				return p
			}
		case c == ':' && (isBreakOrSpace(next) || s.flow > 0 && isFlowIndicator(next)):
			if s.flow == 0 {
				owner, nodeCol = nodeCol, -1
			}
			s.i++
			if p := s.entry(); p != nil {
				return p
			}
			nodeStart = true
		case nodeStart && (c == '&' || c == '!'):
			// An anchor or a tag stands before the node it names.
			for s.i < len(s.data) && !isBreakOrSpace(s.data[s.i]) && !(s.flow > 0 && isFlowIndicator(s.data[s.i])) {
				s.i++
			}
		case nodeStart && s.flow == 0 && (c == '|' || c == '>'):
			s.block = blockScalar{open: true, owner: owner}
			if m := s.indentationIndicator(); m > 0 {
				s.block.indent = max(owner, 0) + m
			}
			s.skipLine()
			return nil
		default:
			s.i++
			nodeStart = false
		}
	}
	return nil
}

func (s *shapeScanner) entry() *Problem {
	s.entries++
	if s.entries > MaxSuppressionsEntries {
		return &Problem{Line: s.line, Message: fmt.Sprintf("the file holds more than %d entries (list items, fields, collections); a suppressions file needs far fewer", MaxSuppressionsEntries)}
	}
	return nil
}

func (s *shapeScanner) checkDepth() *Problem {
	if d := len(s.indents) + s.compact + s.flow; d > MaxSuppressionsDepth {
		return &Problem{Line: s.line, Message: fmt.Sprintf("the file nests deeper than %d levels (a suppressions file needs 3: the mapping, its list, a rule)", MaxSuppressionsDepth)}
	}
	return nil
}

// indentationIndicator reads the header of the block scalar whose indicator is at s.i: an indentation indicator (1
// to 9) and a chomping indicator (+ or -), each optional, in either order (YAML 1.2 §8.1.1). It returns the
// indentation indicator, 0 when there is none. A header the parser refuses stops it there, so what follows does not
// matter.
func (s *shapeScanner) indentationIndicator() int {
	m, chomping := 0, false
	for j := s.i + 1; j < len(s.data); j++ {
		switch c := s.data[j]; {
		case c >= '1' && c <= '9' && m == 0:
			m = int(c - '0')
		case (c == '+' || c == '-') && !chomping:
			chomping = true
		default:
			return m
		}
	}
	return m
}

// lineBreakAt counts the line break at data[at].
func (s *shapeScanner) lineBreakAt(at int) {
	s.line++
	s.lineStart = at + 1
}

func (s *shapeScanner) skipLine() {
	for s.i < len(s.data) && s.data[s.i] != '\n' {
		s.i++
	}
	if s.i < len(s.data) {
		s.lineBreakAt(s.i)
		s.i++
	}
}

// skipComment stops before the line's end, so that the caller sees it.
func (s *shapeScanner) skipComment() {
	for s.i < len(s.data) && s.data[s.i] != '\n' {
		s.i++
	}
}

func (s *shapeScanner) skipDoubleQuoted() {
	s.i++
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case '\\':
			if s.i+1 < len(s.data) && s.data[s.i+1] == '\n' {
				s.lineBreakAt(s.i + 1)
			}
			s.i += 2
			continue
		case '\n':
			s.lineBreakAt(s.i)
		case '"':
			s.i++
			return
		}
		s.i++
	}
}

func (s *shapeScanner) skipSingleQuoted() {
	s.i++
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case '\n':
			s.lineBreakAt(s.i)
		case '\'':
			if s.i+1 < len(s.data) && s.data[s.i+1] == '\'' {
				s.i += 2
				continue
			}
			s.i++
			return
		}
		s.i++
	}
}

func isBreakOrSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isFlowIndicator(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }
