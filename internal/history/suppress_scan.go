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
//   - Text is skipped: comments, quoted scalars (which may span lines) and block scalars (| and >, whose lines are
//     anything more indented than the line that opened them). A bracket inside a plain scalar in block context
//     (`reason: see [ticket`) is text too.
//
// Anchors and aliases are not expanded by the parser the file meets (gopkg.in/yaml.v3 keeps an alias as a node) and
// the reader refuses an alias wherever it stands, so "billion laughs" costs one node per alias written: the entry
// count bounds it.
func scanShape(data []byte) *Problem {
	s := shapeScanner{data: data, line: 1, blockParent: -1}
	return s.scan()
}

type shapeScanner struct {
	data    []byte
	i, line int
	flow    int   // open flow collections
	indents []int // open block indentations, strictly increasing
	compact int   // compact "- " and "? " entries on this line
	entries int
	// blockParent is the indentation of the line that opened a block scalar, -1 when none is open.
	blockParent int
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
	blank := rest == len(s.data) || s.data[rest] == '\n' || s.data[rest] == '\r' || s.data[rest] == '#'
	if s.blockParent >= 0 {
		if blank || col > s.blockParent {
			s.skipLine()
			return nil
		}
		s.blockParent = -1
	}
	if blank {
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
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\n':
			s.i++
			s.line++
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
			s.blockParent = col
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

func (s *shapeScanner) skipLine() {
	for s.i < len(s.data) && s.data[s.i] != '\n' {
		s.i++
	}
	if s.i < len(s.data) {
		s.i++
		s.line++
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
				s.line++
			}
			s.i += 2
			continue
		case '\n':
			s.line++
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
			s.line++
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
