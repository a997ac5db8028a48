package pysource

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind is a token's sort. The tokenizer keeps only what finding imports
// and calls needs: indentation, operators other than brackets and a few
// separators, and the literal parts of f-strings are not tokens.
type kind uint8

const (
	tName    kind = iota + 1
	tNumber       // any numeric literal
	tString       // a string or bytes literal without replacement fields
	tFString      // an f- or t-string: its replacement fields follow as tokens, then tFEnd
	tFEnd         // the end of an f-string's fields
	tOp           // one operator character; "..." is one token
	tNewline      // the end of a logical line
)

// A token is a span of the source. Strings carry their decoded value in
// the lexer's side table, indexed by val.
type token struct {
	kind       kind
	start, end int32
	line       int32
	val        int32 // index into lexer.vals for tString, -1 otherwise
}

// SyntaxError says where the source stopped making sense to the tokenizer.
// Python refuses such a file too, but a tokenizer that disagrees with
// Python's could be shown one thing while Python runs another, so it is
// reported, never passed.
type SyntaxError struct {
	Line   int
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("pysource: line %d: %s", e.Line, e.Msg)
}

type lexer struct {
	ctx  context.Context
	src  []byte
	lim  Limits
	i    int
	line int
	// depth is the bracket nesting: newlines inside brackets join lines.
	depth int
	// opens are the lines and offsets of the open brackets, innermost
	// last, for the error an unclosed one gets.
	opens [][2]int
	// nest is the f-string nesting, bounded by lim.Depth.
	nest   int
	toks   []token
	vals   []string
	err    *SyntaxError
	limit  string
	ctxErr error
}

// maxValue is the most bytes of a string literal's value kept: values are
// evidence and paths, not data.
const maxValue = 512

func (l *lexer) fail(msg string) { l.failAt(l.line, l.i, msg) }

func (l *lexer) failAt(line, off int, msg string) {
	if l.err == nil {
		l.err = &SyntaxError{Line: line, Offset: off, Msg: msg}
	}
}

// stopped reports whether lexing must end: a limit, the context, or a
// syntax error the lexer cannot resync after.
func (l *lexer) stopped() bool { return l.limit != "" || l.ctxErr != nil }

func (l *lexer) emit(k kind, start int, line int, val int32) {
	if len(l.toks) >= l.lim.Tokens {
		l.limit = fmt.Sprintf("more than %d tokens", l.lim.Tokens)
		return
	}
	if len(l.toks)&0xffff == 0 && l.ctx.Err() != nil {
		l.ctxErr = l.ctx.Err()
		return
	}
	l.toks = append(l.toks, token{kind: k, start: int32(start), end: int32(l.i), line: int32(line), val: val})
}

// run tokenizes until the end of the source, or, inside an f-string's
// replacement field, until the '}', ':' or '!' that ends the expression.
// It returns the byte that stopped it (0 at the end of the source).
func (l *lexer) run(inField bool) byte {
	base := l.depth
	for l.i < len(l.src) && !l.stopped() {
		c := l.src[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\f':
			l.i++
		case c == '\r' || c == '\n':
			start, line := l.i, l.line
			l.newline()
			if l.depth == 0 && !inField {
				// Blank lines and repeated newlines are one token.
				if n := len(l.toks); n > 0 && l.toks[n-1].kind != tNewline {
					l.emit(tNewline, start, line, -1)
				}
			}
		case c == '\\':
			// A line continuation; a stray backslash is an error in Python.
			l.i++
			if l.i < len(l.src) && (l.src[l.i] == '\n' || l.src[l.i] == '\r') {
				l.newline()
			} else {
				l.fail("backslash not at the end of a line")
			}
		case c == '#':
			for l.i < len(l.src) && l.src[l.i] != '\n' && l.src[l.i] != '\r' {
				l.i++
			}
		case c == '"' || c == '\'':
			l.str(l.i, "")
		case c >= '0' && c <= '9' || c == '.' && l.i+1 < len(l.src) && l.src[l.i+1] >= '0' && l.src[l.i+1] <= '9':
			l.number()
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			l.name()
		default:
			if inField && l.depth == base {
				switch {
				case c == '}' || c == ':':
					return c
				case c == '!' && (l.i+1 >= len(l.src) || l.src[l.i+1] != '='):
					return c
				case c == ')' || c == ']':
					l.fail(fmt.Sprintf("unmatched %q in f-string", c))
					l.i++
					return 0
				}
			}
			l.op()
		}
	}
	return 0
}

func (l *lexer) newline() {
	if l.src[l.i] == '\r' && l.i+1 < len(l.src) && l.src[l.i+1] == '\n' {
		l.i++
	}
	l.i++
	l.line++
}

func (l *lexer) op() {
	start := l.i
	c := l.src[l.i]
	if c == '.' && strings.HasPrefix(string(l.src[l.i:min(l.i+3, len(l.src))]), "...") {
		l.i += 3
		l.emit(tOp, start, l.line, -1)
		return
	}
	l.i++
	switch c {
	case '(', '[', '{':
		l.depth++
		if l.depth > l.lim.Depth {
			l.limit = fmt.Sprintf("brackets nested more than %d deep", l.lim.Depth)
			return
		}
		l.opens = append(l.opens, [2]int{l.line, start})
	case ')', ']', '}':
		if l.depth == 0 {
			l.failAt(l.line, start, fmt.Sprintf("unmatched %q", c))
		} else {
			l.depth--
			l.opens = l.opens[:len(l.opens)-1]
		}
	case '$', '?', '`':
		l.failAt(l.line, start, fmt.Sprintf("invalid character %q", c))
	default:
		if c < ' ' {
			l.failAt(l.line, start, fmt.Sprintf("control character %q", c))
		}
	}
	l.emit(tOp, start, l.line, -1)
}

func (l *lexer) number() {
	start := l.i
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.':
			l.i++
		case (c == '+' || c == '-') && (l.src[l.i-1] == 'e' || l.src[l.i-1] == 'E') && !isHexLiteral(l.src[start:l.i]):
			l.i++
		default:
			l.emit(tNumber, start, l.line, -1)
			return
		}
	}
	l.emit(tNumber, start, l.line, -1)
}

func isHexLiteral(b []byte) bool {
	return len(b) > 1 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X')
}

func (l *lexer) name() {
	start := l.i
	for l.i < len(l.src) {
		c := l.src[l.i]
		if c < 0x80 {
			if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
				l.i++
				continue
			}
			break
		}
		r, n := utf8.DecodeRune(l.src[l.i:])
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Pc, r)) {
			if l.i == start {
				// Not an identifier character at all: Python rejects it.
				l.i += max(n, 1)
				l.fail(fmt.Sprintf("invalid character %q", r))
				return
			}
			break
		}
		l.i += n
	}
	if l.i < len(l.src) && (l.src[l.i] == '"' || l.src[l.i] == '\'') && isPrefix(string(l.src[start:l.i])) {
		l.str(start, strings.ToLower(string(l.src[start:l.i])))
		return
	}
	l.emit(tName, start, l.line, -1)
}

// isPrefix reports whether p is a string prefix Python accepts: r, u, b,
// f and t (3.14 template strings) and their combinations, in any case.
func isPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "r", "u", "b", "f", "t", "br", "rb", "fr", "rf", "tr", "rt":
		return true
	}
	return false
}

// str lexes a string literal whose prefix starts at start and whose quote
// is at l.i. F-strings are lexed with their replacement fields as tokens.
func (l *lexer) str(start int, prefix string) {
	line := l.line
	raw := strings.Contains(prefix, "r")
	format := strings.ContainsAny(prefix, "ft")
	q := l.src[l.i]
	triple := l.i+2 < len(l.src) && l.src[l.i+1] == q && l.src[l.i+2] == q
	if triple {
		l.i += 3
	} else {
		l.i++
	}
	if format {
		l.nest++
		if l.nest > l.lim.Depth {
			l.limit = fmt.Sprintf("f-strings nested more than %d deep", l.lim.Depth)
			return
		}
		defer func() { l.nest-- }()
		l.emit(tFString, start, line, -1)
	}
	var val strings.Builder
	for !l.stopped() {
		if l.i >= len(l.src) {
			l.failAt(line, start, "unterminated string")
			return
		}
		c := l.src[l.i]
		switch {
		case c == q && (!triple || l.i+2 < len(l.src) && l.src[l.i+1] == q && l.src[l.i+2] == q):
			if triple {
				l.i += 3
			} else {
				l.i++
			}
			if format {
				l.emit(tFEnd, l.i, l.line, -1)
				return
			}
			l.vals = append(l.vals, val.String())
			l.emit(tString, start, line, int32(len(l.vals)-1))
			return
		case (c == '\n' || c == '\r') && !triple:
			l.failAt(line, start, "string not closed before the end of the line")
			return
		case c == '\n' || c == '\r':
			l.newline()
			keep(&val, '\n')
		case c == '\\':
			l.escape(&val, raw)
		case format && c == '{':
			if l.i+1 < len(l.src) && l.src[l.i+1] == '{' {
				l.i += 2
				continue
			}
			l.i++
			l.field()
		case format && c == '}':
			// "}}" is a literal brace; a lone one is an error.
			if l.i+1 < len(l.src) && l.src[l.i+1] == '}' {
				l.i += 2
				continue
			}
			l.i++
			l.fail("single '}' in f-string")
		default:
			keep(&val, c)
			l.i++
		}
	}
}

// field lexes one replacement field of an f-string, after its '{': an
// expression, an optional !conversion, an optional :format spec that may
// hold fields of its own, and the closing '}'.
func (l *lexer) field() {
	depth, opens := l.depth, len(l.opens)
	stop := l.run(true)
	if l.stopped() {
		return
	}
	l.depth, l.opens = depth, l.opens[:opens]
	if stop == '!' {
		l.i++ // the conversion character follows
		for l.i < len(l.src) && l.src[l.i] != ':' && l.src[l.i] != '}' && l.src[l.i] != '\n' {
			l.i++
		}
		if l.i < len(l.src) {
			stop = l.src[l.i]
		} else {
			stop = 0
		}
	}
	if stop == ':' {
		l.i++
		for l.i < len(l.src) && !l.stopped() {
			switch c := l.src[l.i]; c {
			case '{':
				l.i++
				l.field()
				continue
			case '}':
				l.i++
				return
			case '\n', '\r':
				l.newline()
				continue
			}
			l.i++
		}
		l.fail("unterminated format spec in f-string")
		return
	}
	if stop != '}' {
		l.fail("unterminated replacement field in f-string")
		return
	}
	l.i++
}

// escape consumes a backslash escape, keeping what it stands for.
func (l *lexer) escape(val *strings.Builder, raw bool) {
	l.i++
	if l.i >= len(l.src) {
		return
	}
	c := l.src[l.i]
	if c == '\n' || c == '\r' {
		l.newline() // a continuation inside the literal
		if raw {
			keep(val, '\\')
			keep(val, '\n')
		}
		return
	}
	l.i++
	if raw {
		keep(val, '\\')
		keep(val, c)
		return
	}
	hex := func(n int) {
		if l.i+n <= len(l.src) {
			if v, err := strconv.ParseUint(string(l.src[l.i:l.i+n]), 16, 32); err == nil {
				l.i += n
				if v < 0x80 {
					keep(val, byte(v))
				} else if val.Len() < maxValue {
					val.WriteRune(rune(v))
				}
				return
			}
		}
		keep(val, '?')
	}
	switch c {
	case 'n':
		keep(val, '\n')
	case 't':
		keep(val, '\t')
	case 'r':
		keep(val, '\r')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := int(c - '0')
		for k := 0; k < 2 && l.i < len(l.src) && l.src[l.i] >= '0' && l.src[l.i] <= '7'; k++ {
			v = v*8 + int(l.src[l.i]-'0')
			l.i++
		}
		keep(val, byte(v))
	case 'x':
		hex(2)
	case 'u':
		hex(4)
	case 'U':
		hex(8)
	case 'N':
		if l.i < len(l.src) && l.src[l.i] == '{' {
			for l.i < len(l.src) && l.src[l.i] != '}' && l.src[l.i] != '\n' {
				l.i++
			}
			if l.i < len(l.src) && l.src[l.i] == '}' {
				l.i++
			}
		}
		keep(val, '?')
	case 'a', 'b', 'f', 'v':
		keep(val, map[byte]byte{'a': 7, 'b': 8, 'f': 12, 'v': 11}[c])
	case '\\', '\'', '"':
		keep(val, c)
	default:
		keep(val, '\\')
		keep(val, c)
	}
}

func keep(b *strings.Builder, c byte) {
	if b.Len() < maxValue {
		b.WriteByte(c)
	}
}
