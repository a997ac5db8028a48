package modelcard

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Kind is what a YAML node holds.
type Kind uint8

// The kinds of node.
const (
	Scalar Kind = iota
	List
	Map
)

// A Node is a parsed YAML value. Scalars are kept as text: the subset model
// cards use needs no typing beyond that.
type Node struct {
	Kind  Kind
	Value string // a scalar's text, unquoted
	Items []*Node
	// Keys and Values are a mapping's entries, in order.
	Keys   []string
	Values []*Node
	Line   int
}

// Get returns the value of key in a mapping, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Map {
		return nil
	}
	for i, k := range n.Keys {
		if k == key {
			return n.Values[i]
		}
	}
	return nil
}

// Strings returns a scalar as one string, or a list's scalar items, without
// YAML's nulls.
func (n *Node) Strings() []string {
	if n == nil {
		return nil
	}
	var out []string
	add := func(s *Node) {
		if s.Kind == Scalar && !isNull(s.Value) {
			out = append(out, s.Value)
		}
	}
	switch n.Kind {
	case Scalar:
		add(n)
	case List:
		for _, it := range n.Items {
			add(it)
		}
	}
	return out
}

func isNull(s string) bool { return s == "" || s == "~" || s == "null" || s == "Null" || s == "NULL" }

// SyntaxError says where the YAML stopped being the subset this parser
// reads.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("modelcard: line %d: %s", e.Line, e.Msg) }

// line is one line of the source: its indentation, its content without the
// indentation and any comment, and its raw text for block scalars.
type line struct {
	n       int
	indent  int
	content string
	raw     string
}

type parser struct {
	lines []line
	pos   int
	lim   Limits
	nodes int
	err   error
}

func (p *parser) fail(n int, format string, args ...any) {
	if p.err == nil {
		p.err = &SyntaxError{Line: n, Msg: fmt.Sprintf(format, args...)}
	}
}

// limit records that a limit stopped the parse.
func (p *parser) limit(n int, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("modelcard: line %d: %s: %w", n, fmt.Sprintf(format, args...), ErrLimit)
	}
}

func (p *parser) node(kind Kind, n int) *Node {
	p.nodes++
	if p.nodes > p.lim.Nodes {
		p.limit(n, "more than %d values", p.lim.Nodes)
	}
	return &Node{Kind: kind, Line: n}
}

// parse reads a block YAML document. first is the line number of src's
// first line in the file.
func parse(src string, first int, lim Limits) (*Node, error) {
	p := &parser{lim: lim}
	for i, raw := range strings.Split(src, "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		n := first + i
		if !utf8.ValidString(raw) {
			return nil, &SyntaxError{Line: n, Msg: "not UTF-8"}
		}
		ind := 0
		for ind < len(raw) && raw[ind] == ' ' {
			ind++
		}
		content := strings.TrimRight(stripComment(raw[ind:]), " \t")
		if ind < len(raw) && raw[ind] == '\t' && content != "" {
			return nil, &SyntaxError{Line: n, Msg: "tab in indentation"}
		}
		p.lines = append(p.lines, line{n: n, indent: ind, content: content, raw: raw})
	}
	p.skipBlank()
	if p.pos == len(p.lines) {
		return p.node(Map, first), nil
	}
	root := p.block(p.lines[p.pos].indent, 0)
	p.skipBlank()
	if p.err == nil && p.pos < len(p.lines) {
		p.fail(p.lines[p.pos].n, "unexpected indentation")
	}
	if p.err != nil {
		return nil, p.err
	}
	return root, nil
}

func (p *parser) skipBlank() {
	for p.pos < len(p.lines) && p.lines[p.pos].content == "" {
		p.pos++
	}
}

// stripComment cuts a " #" comment, outside quoted scalars.
func stripComment(s string) string {
	var quote byte
	start := true // at a place a scalar may begin
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					quote = 0
				}
			}
		case quote == '"':
			if c == '\\' {
				i++
			} else if c == '"' {
				quote = 0
			}
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		case start && (c == '"' || c == '\''):
			quote = c
		}
		switch c {
		case ' ', '\t', '[', '{', ',', '-':
			start = true
		case ':':
			start = i+1 == len(s) || s[i+1] == ' '
		default:
			start = false
		}
	}
	return s
}

// block parses the node whose lines start at the current line, indented
// by indent.
func (p *parser) block(indent, depth int) *Node {
	if depth > p.lim.Depth {
		p.limit(p.lines[p.pos].n, "nested more than %d deep", p.lim.Depth)
		return nil
	}
	l := p.lines[p.pos]
	switch {
	case isItem(l.content):
		return p.seq(indent, depth)
	case mapKey(l.content) >= 0:
		return p.mapping(indent, depth)
	}
	p.pos++
	return p.scalarLines(l.content, l.n, indent-1, depth)
}

func isItem(s string) bool { return s == "-" || strings.HasPrefix(s, "- ") }

// mapKey returns the index of the ':' that ends a mapping key in s, or -1.
func mapKey(s string) int {
	if s == "" || s[0] == '[' || s[0] == '{' {
		return -1
	}
	if s[0] == '"' || s[0] == '\'' {
		end := closeQuote(s)
		if end < 0 || end+1 >= len(s) || s[end+1] != ':' || end+2 < len(s) && s[end+2] != ' ' {
			return -1
		}
		return end + 1
	}
	for i := 0; i < len(s); i++ {
		if s[i] == ':' && (i+1 == len(s) || s[i+1] == ' ') {
			return i
		}
	}
	return -1
}

// closeQuote returns the index of the quote closing the scalar s starts
// with, or -1.
func closeQuote(s string) int {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q && q == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == q:
			return i
		}
	}
	return -1
}

func (p *parser) seq(indent, depth int) *Node {
	n := p.node(List, p.lines[p.pos].n)
	for p.skipBlank(); p.err == nil && p.pos < len(p.lines); p.skipBlank() {
		l := p.lines[p.pos]
		if l.indent != indent || !isItem(l.content) {
			break
		}
		rest := strings.TrimLeft(strings.TrimPrefix(l.content, "-"), " ")
		if rest == "" {
			p.pos++
			n.Items = append(n.Items, p.child(indent, depth))
			continue
		}
		// "- key: value" and "- - x" open a node at the column of rest.
		col := indent + len(l.content) - len(rest)
		if isItem(rest) || mapKey(rest) >= 0 {
			p.lines[p.pos].indent, p.lines[p.pos].content = col, rest
			n.Items = append(n.Items, p.block(col, depth+1))
			continue
		}
		p.pos++
		n.Items = append(n.Items, p.scalarLines(rest, l.n, indent, depth))
	}
	return n
}

// child parses the value after a "key:" or "-" with nothing on its line:
// a block indented deeper, or null.
func (p *parser) child(indent, depth int) *Node {
	p.skipBlank()
	if p.pos < len(p.lines) && p.lines[p.pos].indent > indent {
		return p.block(p.lines[p.pos].indent, depth+1)
	}
	return p.node(Scalar, p.lines[min(p.pos, len(p.lines)-1)].n)
}

func (p *parser) mapping(indent, depth int) *Node {
	n := p.node(Map, p.lines[p.pos].n)
	seen := map[string]bool{}
	for p.skipBlank(); p.err == nil && p.pos < len(p.lines); p.skipBlank() {
		l := p.lines[p.pos]
		if l.indent != indent || isItem(l.content) {
			break
		}
		i := mapKey(l.content)
		if i < 0 {
			p.fail(l.n, "expected \"key: value\"")
			return n
		}
		key := strings.TrimRight(l.content[:i], " ")
		if key == "" {
			p.fail(l.n, "empty key")
			return n
		}
		if key[0] == '"' || key[0] == '\'' {
			var ok bool
			if key, ok = unquote(key); !ok {
				p.fail(l.n, "bad quoted key")
				return n
			}
		}
		if seen[key] {
			// Readers differ on which value wins: keep neither silently.
			p.fail(l.n, "duplicate key %q", key)
			return n
		}
		seen[key] = true
		rest := strings.TrimLeft(l.content[i+1:], " ")
		p.pos++
		var v *Node
		switch {
		case rest == "":
			p.skipBlank()
			if p.pos < len(p.lines) && p.lines[p.pos].indent == indent && isItem(p.lines[p.pos].content) {
				v = p.seq(indent, depth+1) // a list may sit at its key's indentation
			} else {
				v = p.child(indent, depth)
			}
		default:
			v = p.scalarLines(rest, l.n, indent, depth)
		}
		n.Keys = append(n.Keys, key)
		n.Values = append(n.Values, v)
	}
	return n
}

// scalarLines parses the inline value s found on line n, taking in the
// lines indented deeper than parent that continue it: block scalars,
// multi-line flow collections, quoted and plain scalars.
func (p *parser) scalarLines(s string, n, parent, depth int) *Node {
	s = stripProps(s)
	if s != "" && (s[0] == '|' || s[0] == '>') && isBlockHeader(s) {
		return p.blockScalar(s, n, parent)
	}
	// Gather continuation lines, more indented than the parent.
	for p.pos < len(p.lines) && !complete(s) {
		l := p.lines[p.pos]
		if l.content != "" && l.indent <= parent {
			break
		}
		p.pos++
		if l.content == "" {
			s += "\n"
			continue
		}
		s += " " + l.content
	}
	if s != "" && (s[0] == '[' || s[0] == '{') {
		f := flow{s: s, p: p, n: n}
		v := f.value(depth)
		f.space()
		if p.err == nil && f.i < len(f.s) {
			p.fail(n, "text after a flow collection: %q", cut(f.s[f.i:]))
		}
		return v
	}
	// A plain scalar: later lines indented deeper fold into it.
	if s != "" && s[0] != '"' && s[0] != '\'' {
		for p.pos < len(p.lines) {
			l := p.lines[p.pos]
			if l.content == "" || l.indent <= parent {
				break
			}
			s += " " + l.content
			p.pos++
		}
	}
	v := p.node(Scalar, n)
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		u, ok := unquote(strings.TrimSpace(s))
		if !ok {
			p.fail(n, "bad quoted scalar %q", cut(s))
		}
		v.Value = u
		return v
	}
	v.Value = strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
	return v
}

// complete reports whether an inline value needs no more lines: quotes
// and flow brackets closed.
func complete(s string) bool {
	if s == "" {
		return true
	}
	switch s[0] {
	case '"', '\'':
		return closeQuote(s) >= 0
	case '[', '{':
		depth := 0
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '"', '\'':
				if e := closeQuote(s[i:]); e >= 0 {
					i += e
				} else {
					return false
				}
			case '[', '{':
				depth++
			case ']', '}':
				depth--
			}
		}
		return depth <= 0
	}
	return true
}

// stripProps drops a leading tag (!!str, !foo) and anchor (&a).
func stripProps(s string) string {
	for s != "" && (s[0] == '!' || s[0] == '&') {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			return ""
		}
		s = strings.TrimLeft(s[i:], " ")
	}
	return s
}

func isBlockHeader(s string) bool {
	for _, c := range s[1:] {
		if !(c == '-' || c == '+' || c >= '1' && c <= '9') {
			return false
		}
	}
	return true
}

// blockScalar reads a | or > scalar: the following lines indented deeper
// than parent, kept raw.
func (p *parser) blockScalar(header string, n, parent int) *Node {
	var lines []string
	ind := -1
	for p.pos < len(p.lines) {
		l := p.lines[p.pos]
		blank := strings.TrimSpace(l.raw) == ""
		if !blank && l.indent <= parent {
			break
		}
		if !blank && ind < 0 {
			ind = l.indent
		}
		if blank {
			lines = append(lines, "")
		} else if l.indent < ind {
			p.fail(l.n, "block scalar line indented less than its first line")
			break
		} else {
			lines = append(lines, l.raw[ind:])
		}
		p.pos++
	}
	sep := "\n"
	if header[0] == '>' {
		sep = " "
	}
	v := p.node(Scalar, n)
	v.Value = strings.TrimRight(strings.Join(lines, sep), "\n ")
	return v
}

// unquote reads a whole single- or double-quoted scalar.
func unquote(s string) (string, bool) {
	if len(s) < 2 || closeQuote(s) != len(s)-1 {
		return "", false
	}
	body := s[1 : len(s)-1]
	if s[0] == '\'' {
		return strings.ReplaceAll(body, "''", "'"), true
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(body) {
			return "", false
		}
		switch e := body[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case ' ', '"', '\\', '/':
			b.WriteByte(e)
		case 'x', 'u', 'U':
			w := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+1+w > len(body) {
				return "", false
			}
			v, err := strconv.ParseUint(body[i+1:i+1+w], 16, 32)
			if err != nil || !utf8.ValidRune(rune(v)) {
				return "", false
			}
			b.WriteRune(rune(v))
			i += w
		default:
			return "", false
		}
	}
	return b.String(), true
}

func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// flow parses a flow collection ([a, b], {k: v}) held in one string.
type flow struct {
	s string
	i int
	p *parser
	n int
}

func (f *flow) space() {
	for f.i < len(f.s) && (f.s[f.i] == ' ' || f.s[f.i] == '\n' || f.s[f.i] == '\t') {
		f.i++
	}
}

func (f *flow) value(depth int) *Node {
	if depth > f.p.lim.Depth {
		f.p.limit(f.n, "nested more than %d deep", f.p.lim.Depth)
		return nil
	}
	f.space()
	if f.i >= len(f.s) {
		return f.p.node(Scalar, f.n)
	}
	switch f.s[f.i] {
	case '[':
		f.i++
		n := f.p.node(List, f.n)
		for f.p.err == nil {
			f.space()
			if f.i < len(f.s) && f.s[f.i] == ']' {
				f.i++
				return n
			}
			n.Items = append(n.Items, f.value(depth+1))
			if !f.sep(']') {
				return n
			}
		}
		return n
	case '{':
		f.i++
		n := f.p.node(Map, f.n)
		for f.p.err == nil {
			f.space()
			if f.i < len(f.s) && f.s[f.i] == '}' {
				f.i++
				return n
			}
			k := f.scalar(true)
			f.space()
			var v *Node
			if f.i < len(f.s) && f.s[f.i] == ':' {
				f.i++
				v = f.value(depth + 1)
			} else {
				v = f.p.node(Scalar, f.n)
			}
			n.Keys = append(n.Keys, k.Value)
			n.Values = append(n.Values, v)
			if !f.sep('}') {
				return n
			}
		}
		return n
	}
	return f.scalar(false)
}

// sep consumes a ',' or, without consuming it, the closing bracket; it
// fails on anything else.
func (f *flow) sep(closing byte) bool {
	f.space()
	switch {
	case f.i < len(f.s) && f.s[f.i] == ',':
		f.i++
		return true
	case f.i < len(f.s) && f.s[f.i] == closing:
		return true
	}
	f.p.fail(f.n, "expected ',' or %q in a flow collection", closing)
	return false
}

// scalar reads a quoted or plain scalar inside a flow collection. In a
// key, a plain scalar also ends at ':'.
func (f *flow) scalar(key bool) *Node {
	f.space()
	n := f.p.node(Scalar, f.n)
	if f.i < len(f.s) && (f.s[f.i] == '"' || f.s[f.i] == '\'') {
		e := closeQuote(f.s[f.i:])
		if e < 0 {
			f.p.fail(f.n, "unterminated quoted scalar")
			f.i = len(f.s)
			return n
		}
		v, ok := unquote(f.s[f.i : f.i+e+1])
		if !ok {
			f.p.fail(f.n, "bad quoted scalar")
		}
		n.Value = v
		f.i += e + 1
		return n
	}
	start := f.i
	for f.i < len(f.s) {
		c := f.s[f.i]
		if c == ',' || c == ']' || c == '}' || c == '[' || c == '{' || key && c == ':' && (f.i+1 == len(f.s) || f.s[f.i+1] == ' ') {
			break
		}
		if c == ':' && f.i+1 < len(f.s) && (f.s[f.i+1] == ' ' || f.s[f.i+1] == ',') {
			break
		}
		f.i++
	}
	if f.i < len(f.s) && (f.s[f.i] == '[' || f.s[f.i] == '{') && f.i > start {
		f.p.fail(f.n, "bracket inside a plain scalar")
	}
	n.Value = strings.TrimSpace(stripProps(f.s[start:f.i]))
	return n
}
