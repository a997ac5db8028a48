package jinja

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokData
	tokVarBegin
	tokVarEnd
	tokBlockBegin
	tokBlockEnd
	tokName
	tokString
	tokInt
	tokFloat
	tokOp
)

var tokNames = [...]string{
	tokEOF: "end of template", tokData: "template data", tokVarBegin: "begin of print statement",
	tokVarEnd: "end of print statement", tokBlockBegin: "begin of statement block",
	tokBlockEnd: "end of statement block", tokName: "name", tokString: "string",
	tokInt: "integer", tokFloat: "float", tokOp: "operator",
}

// A token is one lexeme of the template. For data, [pos, end) is the text
// after whitespace control.
type token struct {
	kind     tokKind
	pos, end int
	text     string // names, operators and numbers as written; data text
	str      string // a string literal's value
	strOK    bool   // str is the literal's whole value (not so for \N{...} escapes we cannot name)
}

func (t token) describe() string {
	switch t.kind {
	case tokName, tokOp, tokInt, tokFloat:
		return "'" + t.text + "'"
	}
	return tokNames[t.kind]
}

// A syntaxError is where and why Jinja would refuse the template.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return "offset " + strconv.Itoa(e.pos) + ": " + e.msg }

const (
	stateRoot = iota
	stateBlock
	stateVar
)

// A lexer splits a template into tokens as Jinja's default lexer does
// ({{ }}, {% %}, {# #} with '-' and '+' whitespace control, raw blocks),
// one token at a time so that memory stays proportional to the tree.
type lexer struct {
	src      string
	pos      int
	state    int
	stack    []byte  // open brackets inside a tag
	pending  []token // tokens found ahead, in order
	err      *syntaxError
	errState int // the state the error was found in
	// no holds, for each closer a search failed to find ("#}", endraw,
	// quotes), the offset past which there is none: a lexer resumed after
	// an error does not search again (see scanTokens).
	no *closers
}

type closers struct {
	comment, raw, single, double int
	work                         int // bytes searched for closers
}

func newClosers() *closers {
	return &closers{comment: -1, raw: -1, single: -1, double: -1}
}

// absent reports whether a search from pos is known to fail.
func absent(known, pos int) bool { return known >= 0 && pos >= known }

func (l *lexer) fail(pos int, msg string) token {
	if l.err == nil {
		l.err = &syntaxError{pos, msg}
		l.errState = l.state
	}
	l.pos = len(l.src)
	l.pending = l.pending[:0]
	return token{kind: tokEOF, pos: len(l.src), end: len(l.src)}
}

// next returns the next token; after an error it returns tokEOF and l.err
// says why.
func (l *lexer) next() token {
	if len(l.pending) > 0 {
		return l.pop()
	}
	if l.err != nil {
		return token{kind: tokEOF, pos: len(l.src), end: len(l.src)}
	}
	if l.state == stateRoot {
		return l.root()
	}
	return l.inTag()
}

// pop takes the first pending token, reusing the queue's storage once it
// is empty.
func (l *lexer) pop() token {
	t := l.pending[0]
	if len(l.pending) == 1 {
		l.pending = l.pending[:0]
	} else {
		l.pending = l.pending[1:]
	}
	return t
}

// root reads template data up to the next tag, and the tag's opening.
func (l *lexer) root() token {
	for {
		start := l.pos
		if start >= len(l.src) {
			return token{kind: tokEOF, pos: len(l.src), end: len(l.src)}
		}
		i := l.findTag(start)
		if i < 0 {
			l.pos = len(l.src)
			return token{kind: tokData, pos: start, end: len(l.src), text: l.src[start:]}
		}
		kind := l.src[i+1]
		mod := byte(0)
		after := i + 2
		if after < len(l.src) && (l.src[after] == '-' || l.src[after] == '+') {
			mod = l.src[after]
			after++
		}
		dataEnd := i
		if mod == '-' {
			dataEnd = start + len(strings.TrimRightFunc(l.src[start:i], isSpace))
		}
		var data token
		if dataEnd > start {
			data = token{kind: tokData, pos: start, end: dataEnd, text: l.src[start:dataEnd]}
		}
		switch kind {
		case '#':
			j := -1
			if !absent(l.no.comment, after) {
				j = strings.Index(l.src[after:], "#}")
				l.no.work += max(j, len(l.src)-after)
			}
			if j < 0 {
				l.no.comment = after
				return l.fail(i, "missing end of comment tag")
			}
			j += after
			l.pos = j + 2
			if j > after && l.src[j-1] == '-' {
				l.pos = skipSpace(l.src, l.pos)
			}
		case '%':
			if end, ok := rawBegin(l.src, after); ok {
				ok = false
				var cs, ce, next int
				if !absent(l.no.raw, end) {
					cs, ce, next, ok = rawEnd(l.src, end)
					l.no.work += max(next, len(l.src)) - end
				}
				if !ok {
					l.no.raw = end
					return l.fail(i, "missing end of raw directive")
				}
				l.pos = next
				if data.kind == tokData {
					l.pending = append(l.pending, data)
				}
				if ce > cs {
					l.pending = append(l.pending, token{kind: tokData, pos: cs, end: ce, text: l.src[cs:ce]})
				}
			} else {
				l.state = stateBlock
				l.pos = after
				l.stack = l.stack[:0]
				if data.kind == tokData {
					l.pending = append(l.pending, data)
				}
				l.pending = append(l.pending, token{kind: tokBlockBegin, pos: i, end: after, text: l.src[i:after]})
			}
		default: // '{'
			l.state = stateVar
			l.pos = after
			l.stack = l.stack[:0]
			if data.kind == tokData {
				l.pending = append(l.pending, data)
			}
			l.pending = append(l.pending, token{kind: tokVarBegin, pos: i, end: after, text: l.src[i:after]})
		}
		if kind == '#' && data.kind == tokData {
			return data
		}
		if len(l.pending) > 0 {
			return l.pop()
		}
	}
}

// findTag returns the offset of the next "{{", "{%" or "{#" at or after
// from, or -1.
func (l *lexer) findTag(from int) int {
	for {
		j := strings.IndexByte(l.src[from:], '{')
		if j < 0 || from+j+1 >= len(l.src) {
			return -1
		}
		i := from + j
		switch l.src[i+1] {
		case '{', '%', '#':
			return i
		}
		from = i + 1
	}
}

// rawBegin matches `\s*raw\s*(-%}\s*|%})` at i, just past "{%" and its
// modifier, and returns where the raw content starts.
func rawBegin(src string, i int) (int, bool) {
	j := skipSpace(src, i)
	if !strings.HasPrefix(src[j:], "raw") {
		return 0, false
	}
	j = skipSpace(src, j+3)
	switch {
	case strings.HasPrefix(src[j:], "-%}"):
		return skipSpace(src, j+3), true
	case strings.HasPrefix(src[j:], "%}"):
		return j + 2, true
	}
	return 0, false
}

// rawEnd finds the `{% endraw %}` closing a raw block whose content starts
// at from: it returns the content's span after whitespace control and the
// offset just past the tag.
func rawEnd(src string, from int) (cs, ce, next int, ok bool) {
	for i := from; ; {
		j := strings.Index(src[i:], "{%")
		if j < 0 {
			return 0, 0, 0, false
		}
		j += i
		k := j + 2
		mod := byte(0)
		if k < len(src) && (src[k] == '-' || src[k] == '+') {
			mod = src[k]
			k++
		}
		k = skipSpace(src, k)
		if strings.HasPrefix(src[k:], "endraw") {
			k = skipSpace(src, k+6)
			end := -1
			switch {
			case strings.HasPrefix(src[k:], "+%}"):
				end = k + 3
			case strings.HasPrefix(src[k:], "-%}"):
				end = skipSpace(src, k+3)
			case strings.HasPrefix(src[k:], "%}"):
				end = k + 2
			}
			if end >= 0 {
				ce := j
				if mod == '-' {
					ce = from + len(strings.TrimRightFunc(src[from:j], isSpace))
				}
				return from, ce, end, true
			}
		}
		i = j + 2
	}
}

// inTag reads one token inside {{ }} or {% %}.
func (l *lexer) inTag() token {
	l.pos = skipSpace(l.src, l.pos)
	src, i := l.src, l.pos
	if i >= len(src) {
		return token{kind: tokEOF, pos: i, end: i}
	}
	if len(l.stack) == 0 {
		if l.state == stateBlock {
			switch {
			case strings.HasPrefix(src[i:], "+%}"):
				return l.endTag(tokBlockEnd, i, i+3, i+3)
			case strings.HasPrefix(src[i:], "-%}"):
				return l.endTag(tokBlockEnd, i, i+3, skipSpace(src, i+3))
			case strings.HasPrefix(src[i:], "%}"):
				return l.endTag(tokBlockEnd, i, i+2, i+2)
			}
		} else {
			switch {
			case strings.HasPrefix(src[i:], "-}}"):
				return l.endTag(tokVarEnd, i, i+3, skipSpace(src, i+3))
			case strings.HasPrefix(src[i:], "}}"):
				return l.endTag(tokVarEnd, i, i+2, i+2)
			}
		}
	}
	c := src[i]
	switch {
	case c >= '0' && c <= '9':
		if e, ok := matchFloat(src, i); ok {
			l.pos = e
			return token{kind: tokFloat, pos: i, end: e, text: src[i:e]}
		}
		e := matchInt(src, i)
		l.pos = e
		return token{kind: tokInt, pos: i, end: e, text: src[i:e]}
	case c == '\'' || c == '"':
		known := &l.no.single
		if c == '"' {
			known = &l.no.double
		}
		j := i + 1
		if absent(*known, j) {
			j = len(src)
		}
		for j < len(src) && src[j] != c {
			if src[j] == '\\' {
				j++
			}
			j++
		}
		l.no.work += j - i
		if j >= len(src) {
			// Escapes aside, no quote c follows i+1.
			if strings.IndexByte(src[i+1:], c) < 0 {
				*known = i + 1
			}
			return l.fail(i, "unterminated string")
		}
		v, ok, err := unescape(src[i+1 : j])
		if err != "" {
			return l.fail(i, err)
		}
		l.pos = j + 1
		return token{kind: tokString, pos: i, end: j + 1, text: src[i : j+1], str: v, strOK: ok}
	}
	if r, _ := utf8.DecodeRuneInString(src[i:]); isWord(r) {
		j := i
		for j < len(src) {
			r, n := utf8.DecodeRuneInString(src[j:])
			if !isWord(r) {
				break
			}
			j += n
		}
		if !isIdentifier(src[i:j]) {
			return l.fail(i, "invalid character in identifier")
		}
		l.pos = j
		return token{kind: tokName, pos: i, end: j, text: src[i:j]}
	}
	op := ""
	if i+1 < len(src) {
		switch two := src[i : i+2]; two {
		case "**", "//", "==", "!=", ">=", "<=":
			op = two
		}
	}
	if op == "" && strings.IndexByte("+-/*%~[](){}><=.:|,;", c) >= 0 {
		op = src[i : i+1]
	}
	if op == "" {
		r, _ := utf8.DecodeRuneInString(src[i:])
		return l.fail(i, "unexpected char "+strconv.QuoteRune(r))
	}
	switch op {
	case "(", "[", "{":
		l.stack = append(l.stack, op[0])
	case ")", "]", "}":
		open := byte('{')
		switch op {
		case ")":
			open = '('
		case "]":
			open = '['
		}
		if len(l.stack) == 0 {
			return l.fail(i, "unexpected '"+op+"'")
		}
		if top := l.stack[len(l.stack)-1]; top != open {
			return l.fail(i, "unexpected '"+op+"', expected '"+closer(top)+"'")
		}
		l.stack = l.stack[:len(l.stack)-1]
	}
	l.pos = i + len(op)
	return token{kind: tokOp, pos: i, end: i + len(op), text: op}
}

func closer(open byte) string {
	switch open {
	case '(':
		return ")"
	case '[':
		return "]"
	}
	return "}"
}

func (l *lexer) endTag(kind tokKind, pos, end, next int) token {
	l.state = stateRoot
	l.pos = next
	return token{kind: kind, pos: pos, end: end, text: l.src[pos:end]}
}

// matchDigits matches `(\d+_)*\d+` at i.
func matchDigits(s string, i int) (int, bool) {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i {
		return i, false
	}
	for j+1 < len(s) && s[j] == '_' && isDigit(s[j+1]) {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	return j, true
}

// matchExp matches `e[+-]?(\d+_)*\d+` at i.
func matchExp(s string, i int) (int, bool) {
	if i >= len(s) || (s[i] != 'e' && s[i] != 'E') {
		return i, false
	}
	j := i + 1
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	return matchDigits(s, j)
}

// matchFloat matches Jinja's float literal at i: digits with a fraction,
// an exponent or both, not directly after a '.' (so that x.0.1 is two
// subscripts).
func matchFloat(s string, i int) (int, bool) {
	if i > 0 && s[i-1] == '.' {
		return i, false
	}
	j, ok := matchDigits(s, i)
	if !ok {
		return i, false
	}
	frac, hasFrac := j, false
	if j < len(s) && s[j] == '.' {
		frac, hasFrac = matchDigits(s, j+1)
	}
	if hasFrac {
		if e, ok := matchExp(s, frac); ok {
			return e, true
		}
		return frac, true
	}
	return matchExp(s, j)
}

// matchInt matches Jinja's integer literal at i, where s[i] is a digit:
// 0b, 0o and 0x forms, decimals with single underscores, and zeros.
func matchInt(s string, i int) int {
	if s[i] == '0' && i+1 < len(s) {
		var ok func(byte) bool
		switch s[i+1] | 0x20 {
		case 'b':
			ok = func(c byte) bool { return c == '0' || c == '1' }
		case 'o':
			ok = func(c byte) bool { return c >= '0' && c <= '7' }
		case 'x':
			ok = func(c byte) bool { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f' }
		}
		if ok != nil {
			j := i + 2
			for {
				k := j
				if k < len(s) && s[k] == '_' {
					k++
				}
				if k < len(s) && ok(s[k]) {
					j = k + 1
					continue
				}
				break
			}
			if j > i+2 {
				return j
			}
		}
	}
	var ok func(byte) bool
	if s[i] == '0' {
		ok = func(c byte) bool { return c == '0' }
	} else {
		ok = isDigit
	}
	j := i + 1
	for {
		k := j
		if k < len(s) && s[k] == '_' {
			k++
		}
		if k < len(s) && ok(s[k]) {
			j = k + 1
			continue
		}
		return j
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isSpace is Python's str.isspace, which Jinja's \s and strip follow.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f' && (c < 0x1c || c > 0x1f) {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isSpace(r) {
			return i
		}
		i += n
	}
	return i
}

// isWord is a rune of Python's \w (plus combining marks), which Jinja's
// name pattern matches before checking the name is an identifier.
func isWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) ||
		unicode.In(r, unicode.Mn, unicode.Mc, unicode.Pc)
}

// isIdentifier approximates Python's str.isidentifier.
func isIdentifier(s string) bool {
	for i, r := range s {
		start := r == '_' || unicode.IsLetter(r) || unicode.Is(unicode.Nl, r)
		if i == 0 && !start {
			return false
		}
		if !start && !unicode.In(r, unicode.Nd, unicode.Mn, unicode.Mc, unicode.Pc) {
			return false
		}
	}
	return s != ""
}

// unescape decodes a string literal's body as Jinja does: newlines
// normalised, then Python's unicode-escape codec over the text with
// non-ASCII characters written as escapes. ok is false when an escape
// names a character we do not know (\N{...}); err is set when Python
// would fail.
func unescape(s string) (v string, ok bool, err string) {
	if strings.IndexByte(s, '\\') < 0 && strings.IndexByte(s, '\r') < 0 {
		return s, true, ""
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	ok = true
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", false, "\\ at end of string"
		}
		// A non-ASCII character after a backslash was first written as
		// an escape by Jinja's backslashreplace: the backslash escapes
		// that escape's own backslash.
		if s[i+1] >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i+1:])
			b.WriteByte('\\')
			switch {
			case r <= 0xff:
				b.WriteString("x" + hex(int(r), 2))
			case r <= 0xffff:
				b.WriteString("u" + hex(int(r), 4))
			default:
				b.WriteString("U" + hex(int(r), 8))
			}
			i += 1 + n
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte(11)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			n := int(e - '0')
			for k := 0; k < 2 && i < len(s) && s[i] >= '0' && s[i] <= '7'; k++ {
				n = n*8 + int(s[i]-'0')
				i++
			}
			b.WriteRune(rune(n))
		case 'x', 'u', 'U':
			width := 2
			switch e {
			case 'u':
				width = 4
			case 'U':
				width = 8
			}
			if i+width > len(s) {
				return "", false, "truncated \\" + string(e) + " escape"
			}
			n, perr := strconv.ParseUint(s[i:i+width], 16, 32)
			if perr != nil || strings.ContainsAny(s[i:i+width], "+-_") {
				return "", false, "truncated \\" + string(e) + " escape"
			}
			if n > unicode.MaxRune {
				return "", false, "illegal Unicode character"
			}
			b.WriteRune(rune(n))
			i += width
		case 'N':
			if i >= len(s) || s[i] != '{' {
				return "", false, "malformed \\N character escape"
			}
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return "", false, "malformed \\N character escape"
			}
			name := s[i+1 : i+j]
			i += j + 1
			if name == "" {
				return "", false, "malformed \\N character escape"
			}
			if r, known := unicodeName(name); known {
				b.WriteRune(r)
			} else {
				ok = false // Python may know the name; we do not
			}
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), ok, ""
}

func hex(n, width int) string {
	s := strconv.FormatInt(int64(n), 16)
	return strings.Repeat("0", max(0, width-len(s))) + s
}

// unicodeName resolves the \N{...} names that spell identifiers: ASCII
// letters, digits and the punctuation attribute names use. Python matches
// names without regard to case.
func unicodeName(name string) (rune, bool) {
	n := strings.ToUpper(strings.Join(strings.Fields(name), " "))
	switch n {
	case "LOW LINE", "SPACING UNDERSCORE":
		return '_', true
	case "FULL STOP", "PERIOD":
		return '.', true
	case "SPACE":
		return ' ', true
	case "LEFT SQUARE BRACKET":
		return '[', true
	case "RIGHT SQUARE BRACKET":
		return ']', true
	case "APOSTROPHE":
		return '\'', true
	case "QUOTATION MARK":
		return '"', true
	}
	digits := [...]string{"ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"}
	for i, d := range digits {
		if n == "DIGIT "+d {
			return rune('0' + i), true
		}
	}
	for _, p := range []struct {
		prefix string
		base   rune
	}{{"LATIN SMALL LETTER ", 'a'}, {"LATIN CAPITAL LETTER ", 'A'}} {
		if rest, found := strings.CutPrefix(n, p.prefix); found && len(rest) == 1 && rest[0] >= 'A' && rest[0] <= 'Z' {
			return p.base + rune(rest[0]-'A'), true
		}
	}
	return 0, false
}
