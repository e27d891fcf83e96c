package jobfile

import (
	"strconv"
	"strings"
)

// The toml library gives positions for syntax errors only: its per-key
// positions are private and name every [[job]] table alike. Errors found
// after decoding (a bad cron field, an unknown key in the third job) are
// placed by scanning the source for the tables and keys it defines. The
// scan runs while the library decodes, so before anything says the source
// is valid TOML: it must end, without panicking, on any input (FuzzParse),
// and its positions are used only when the library accepted the source.

// keyPositions maps the path of every table header and key written in src to
// where it starts. Paths index arrays of tables from 0, as in
// "job[2].cron.hour"; keys inside inline tables and arrays are not recorded
// (at lookup they fall back to the key holding them).
func keyPositions(src string) map[string]Position {
	s := &scanner{src: src, line: 1, col: 1}
	pos := make(map[string]Position)
	count := make(map[string]int) // array of tables -> elements so far
	var table string              // the path keys are under
	// resolve turns header segments into a path, indexing each prefix
	// that is an array of tables by its latest element.
	resolve := func(segs []string, last bool) string {
		path := ""
		for i, seg := range segs {
			path = joinPath(path, seg)
			if n, ok := count[path]; ok && !(last && i == len(segs)-1) {
				path += "[" + strconv.Itoa(n-1) + "]"
			}
		}
		return path
	}
	for !s.eof() {
		s.skipSpaceAndComments()
		if s.eof() {
			break
		}
		at := Position{Line: s.line, Col: s.col}
		if s.peek() == '[' {
			array := strings.HasPrefix(s.src[s.i:], "[[")
			s.advance(1)
			if array {
				s.advance(1)
			}
			segs := s.key()
			s.skipLine()
			if array {
				base := resolve(segs, true)
				n := count[base]
				count[base] = n + 1
				table = base + "[" + strconv.Itoa(n) + "]"
			} else {
				table = resolve(segs, false)
			}
			pos[table] = at
			continue
		}
		segs := s.key()
		path := table
		for _, seg := range segs {
			path = joinPath(path, seg)
			if _, ok := pos[path]; !ok {
				pos[path] = at
			}
		}
		s.skipValue()
	}
	return pos
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// scanner walks TOML source, tracking line and column (in runes). Its
// positions are right for valid TOML; on any other input it ends without
// failing (it runs while the TOML decoder finds what is wrong).
type scanner struct {
	src       string
	i         int
	line, col int
}

func (s *scanner) eof() bool  { return s.i >= len(s.src) }
func (s *scanner) peek() byte { return s.src[s.i] }

func (s *scanner) advance(n int) {
	for ; n > 0 && !s.eof(); n-- {
		c := s.src[s.i]
		s.i++
		switch {
		case c == '\n':
			s.line++
			s.col = 1
		case c&0xC0 != 0x80: // not a UTF-8 continuation byte
			s.col++
		}
	}
}

func (s *scanner) skipSpaceAndComments() {
	for !s.eof() {
		switch s.peek() {
		case ' ', '\t', '\r', '\n':
			s.advance(1)
		case '#':
			s.skipLine()
		default:
			return
		}
	}
}

func (s *scanner) skipLine() {
	for !s.eof() && s.peek() != '\n' {
		s.advance(1)
	}
}

// key reads a dotted key (bare or quoted parts) and the "=" or "]" after it.
func (s *scanner) key() []string {
	var segs []string
	for !s.eof() {
		for !s.eof() && (s.peek() == ' ' || s.peek() == '\t') {
			s.advance(1)
		}
		if s.eof() {
			break
		}
		switch c := s.peek(); c {
		case '"', '\'':
			start := s.i
			s.skipString()
			text := s.src[start:s.i]
			if u, err := strconv.Unquote(text); c == '"' && err == nil {
				text = u
			} else {
				// An unclosed string (invalid TOML) has no closing quote.
				text = strings.TrimSuffix(text[1:], string(c))
			}
			segs = append(segs, text)
		case '.':
			s.advance(1)
		case '=', ']':
			s.advance(1)
			return segs
		default:
			start := s.i
			for !s.eof() && isBare(s.peek()) {
				s.advance(1)
			}
			if s.i == start { // not valid TOML; stop rather than loop
				s.advance(1)
			}
			segs = append(segs, s.src[start:s.i])
		}
	}
	return segs
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// skipString skips a basic, literal or multi-line string starting at s.i.
func (s *scanner) skipString() {
	q := s.src[s.i : s.i+1]
	if strings.HasPrefix(s.src[s.i:], q+q+q) {
		s.advance(3)
		for !s.eof() {
			if q == `"` && s.peek() == '\\' {
				s.advance(2)
				continue
			}
			if strings.HasPrefix(s.src[s.i:], q+q+q) {
				s.advance(3)
				// Up to two more quotes may close the string ("""a"""").
				for k := 0; k < 2 && !s.eof() && s.src[s.i:s.i+1] == q; k++ {
					s.advance(1)
				}
				return
			}
			s.advance(1)
		}
		return
	}
	s.advance(1)
	for !s.eof() && s.src[s.i:s.i+1] != q && s.peek() != '\n' {
		if q == `"` && s.peek() == '\\' {
			s.advance(1)
		}
		s.advance(1)
	}
	s.advance(1)
}

// skipValue skips a value, with any arrays and inline tables spanning lines.
func (s *scanner) skipValue() {
	depth := 0
	for !s.eof() {
		switch s.peek() {
		case '"', '\'':
			s.skipString()
			continue
		case '#':
			s.skipLine()
			continue
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case '\n':
			if depth <= 0 {
				return
			}
		}
		s.advance(1)
	}
}
