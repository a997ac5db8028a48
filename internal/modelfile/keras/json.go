package keras

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON reader is Python's json module's grammar, not Go's: Keras reads
// configs with json.loads, which takes NaN, Infinity and -Infinity, keeps
// the last of duplicate keys, and — given bytes — decodes UTF-16 and
// UTF-32 as well as UTF-8. A scanner stricter than that would call files
// malformed that Keras loads; one laxer would not matter. Nodes keep their
// offsets, so findings can point into the file.

// ErrJSON is returned for text json.loads would reject.
var ErrJSON = errors.New("keras: invalid JSON")

type jsonKind uint8

const (
	jNull jsonKind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// A node is one JSON value.
type node struct {
	kind jsonKind
	off  int    // offset of its first byte in the text parsed
	b    bool   // jBool
	s    string // jString; the literal of a jNumber
	// keys and items hold an object's keys and values in order, duplicate
	// keys included, or an array's items.
	keys  []string
	items []*node
}

// get returns the value of key, the last one as Python keeps it, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != jObject {
		return nil
	}
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i] == key {
			return n.items[i]
		}
	}
	return nil
}

// str returns the value of key when it is a string.
func (n *node) str(key string) (string, bool) {
	v := n.get(key)
	if v == nil || v.kind != jString {
		return "", false
	}
	return v.s, true
}

// decodeText turns the bytes of a file into the UTF-8 text json.loads
// would parse, as its detect_encoding does: BOMs, then the pattern of NUL
// bytes at the start. It reports whether offsets in the result are
// offsets in b.
func decodeText(b []byte) ([]byte, bool, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0, 0, 0xfe, 0xff}), bytes.HasPrefix(b, []byte{0xff, 0xfe, 0, 0}):
		return utf32(b, false)
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}), bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return utf16Text(b, false)
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		// utf-8-sig: the BOM goes, offsets shift by 3; report them as
		// unknown rather than off by three.
		return b[3:], false, nil
	case len(b) >= 4 && b[0] == 0:
		if b[1] != 0 {
			return utf16Text(b, true)
		}
		return utf32(b, true)
	case len(b) >= 4 && b[1] == 0:
		if b[2] != 0 || b[3] != 0 {
			return utf16Text(b, true)
		}
		return utf32(b, true)
	case len(b) == 2 && b[0] == 0:
		return utf16Text(b, true)
	case len(b) == 2 && b[1] == 0:
		return utf16Text(b, true)
	}
	return b, true, nil
}

// utf16Text decodes UTF-16; without a BOM, noBOM gives the byte order by
// where the NULs are.
func utf16Text(b []byte, noBOM bool) ([]byte, bool, error) {
	big := false
	switch {
	case !noBOM:
		big = b[0] == 0xfe
		b = b[2:]
	default:
		big = b[0] == 0
	}
	if len(b)%2 != 0 {
		return nil, false, fmt.Errorf("UTF-16 text of odd length: %w", ErrJSON)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if big {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return []byte(string(utf16.Decode(u))), false, nil
}

func utf32(b []byte, noBOM bool) ([]byte, bool, error) {
	big := b[0] == 0
	if !noBOM {
		b = b[4:]
	}
	if len(b)%4 != 0 {
		return nil, false, fmt.Errorf("UTF-32 text of a length not a multiple of 4: %w", ErrJSON)
	}
	var out strings.Builder
	for i := 0; i < len(b); i += 4 {
		var r uint32
		if big {
			r = uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		} else {
			r = uint32(b[i+3])<<24 | uint32(b[i+2])<<16 | uint32(b[i+1])<<8 | uint32(b[i])
		}
		if r > utf8.MaxRune {
			return nil, false, fmt.Errorf("UTF-32 code point 0x%x: %w", r, ErrJSON)
		}
		out.WriteRune(rune(r))
	}
	return []byte(out.String()), false, nil
}

// A parser reads one JSON document within limits.
type parser struct {
	b      []byte
	off    int
	depth  int
	values int
	lim    Limits
}

// errLimit says a JSON limit was reached.
var errLimit = errors.New("keras: limit reached")

func (p *parser) fail(format string, a ...any) error {
	return fmt.Errorf("offset %d: %s: %w", p.off, fmt.Sprintf(format, a...), ErrJSON)
}

// parseJSON parses one document, allowing only whitespace after it.
func parseJSON(b []byte, lim Limits) (*node, error) {
	p := &parser{b: b, lim: lim}
	p.space()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.off != len(p.b) {
		return nil, p.fail("extra data after the document")
	}
	return n, nil
}

func (p *parser) space() {
	for p.off < len(p.b) {
		switch p.b[p.off] {
		case ' ', '\t', '\n', '\r':
			p.off++
		default:
			return
		}
	}
}

func (p *parser) value() (*node, error) {
	p.values++
	if p.values > p.lim.Values {
		return nil, fmt.Errorf("offset %d: more than %d JSON values: %w", p.off, p.lim.Values, errLimit)
	}
	if p.off >= len(p.b) {
		return nil, p.fail("document ends where a value should be")
	}
	start := p.off
	switch c := p.b[p.off]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return &node{kind: jString, off: start, s: s}, nil
	case c == 'n' && p.literal("null"):
		return &node{kind: jNull, off: start}, nil
	case c == 't' && p.literal("true"):
		return &node{kind: jBool, off: start, b: true}, nil
	case c == 'f' && p.literal("false"):
		return &node{kind: jBool, off: start}, nil
	case c == 'N' && p.literal("NaN"), c == 'I' && p.literal("Infinity"), c == '-' && p.literal("-Infinity"):
		return &node{kind: jNumber, off: start, s: string(p.b[start:p.off])}, nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, p.fail("unexpected %q", p.b[p.off])
}

func (p *parser) literal(s string) bool {
	if bytes.HasPrefix(p.b[p.off:], []byte(s)) {
		p.off += len(s)
		return true
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, as
// Python's scanner does.
func (p *parser) number() (*node, error) {
	start := p.off
	digits := func() int {
		n := 0
		for p.off < len(p.b) && p.b[p.off] >= '0' && p.b[p.off] <= '9' {
			p.off++
			n++
		}
		return n
	}
	if p.b[p.off] == '-' {
		p.off++
	}
	if p.off < len(p.b) && p.b[p.off] == '0' {
		p.off++
	} else if digits() == 0 {
		return nil, p.fail("malformed number")
	}
	if p.off+1 < len(p.b) && p.b[p.off] == '.' && p.b[p.off+1] >= '0' && p.b[p.off+1] <= '9' {
		p.off++
		digits()
	}
	if p.off < len(p.b) && (p.b[p.off] == 'e' || p.b[p.off] == 'E') {
		save := p.off
		p.off++
		if p.off < len(p.b) && (p.b[p.off] == '+' || p.b[p.off] == '-') {
			p.off++
		}
		if digits() == 0 {
			p.off = save // Python leaves an 'e' without digits to the caller
		}
	}
	return &node{kind: jNumber, off: start, s: string(p.b[start:p.off])}, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > p.lim.Depth {
		return fmt.Errorf("offset %d: JSON nested deeper than %d: %w", p.off, p.lim.Depth, errLimit)
	}
	return nil
}

func (p *parser) object() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	n := &node{kind: jObject, off: p.off}
	p.off++
	p.space()
	if p.off < len(p.b) && p.b[p.off] == '}' {
		p.off++
		return n, nil
	}
	for {
		if p.off >= len(p.b) || p.b[p.off] != '"' {
			return nil, p.fail("object key expected")
		}
		k, err := p.string()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.off >= len(p.b) || p.b[p.off] != ':' {
			return nil, p.fail("':' expected")
		}
		p.off++
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, k)
		n.items = append(n.items, v)
		p.space()
		if p.off >= len(p.b) {
			return nil, p.fail("object not closed")
		}
		switch p.b[p.off] {
		case ',':
			p.off++
			p.space()
		case '}':
			p.off++
			return n, nil
		default:
			return nil, p.fail("',' or '}' expected")
		}
	}
}

func (p *parser) array() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	n := &node{kind: jArray, off: p.off}
	p.off++
	p.space()
	if p.off < len(p.b) && p.b[p.off] == ']' {
		p.off++
		return n, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.items = append(n.items, v)
		p.space()
		if p.off >= len(p.b) {
			return nil, p.fail("array not closed")
		}
		switch p.b[p.off] {
		case ',':
			p.off++
			p.space()
		case ']':
			p.off++
			return n, nil
		default:
			return nil, p.fail("',' or ']' expected")
		}
	}
}

// string reads a string literal. Control characters are rejected, as
// json.loads does by default; a lone surrogate, which Python keeps,
// becomes U+FFFD.
func (p *parser) string() (string, error) {
	p.off++ // opening quote
	var sb strings.Builder
	for {
		i := p.off
		for i < len(p.b) && p.b[i] != '"' && p.b[i] != '\\' && p.b[i] >= 0x20 {
			i++
		}
		sb.Write(p.b[p.off:i])
		p.off = i
		if p.off >= len(p.b) {
			return "", p.fail("string not closed")
		}
		switch c := p.b[p.off]; {
		case c == '"':
			p.off++
			return sb.String(), nil
		case c < 0x20:
			return "", p.fail("control character 0x%02x in a string", c)
		}
		// A backslash escape.
		if p.off+1 >= len(p.b) {
			return "", p.fail("string not closed")
		}
		e := p.b[p.off+1]
		p.off += 2
		switch e {
		case '"', '\\', '/':
			sb.WriteByte(e)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) && r < 0xdc00 && bytes.HasPrefix(p.b[p.off:], []byte(`\u`)) {
				save := p.off
				p.off += 2
				r2, err := p.hex4()
				if err == nil && r2 >= 0xdc00 && r2 <= 0xdfff {
					sb.WriteRune(utf16.DecodeRune(r, r2))
					continue
				}
				p.off = save
			}
			sb.WriteRune(r) // a lone surrogate writes U+FFFD
		default:
			return "", p.fail("invalid escape \\%c", e)
		}
	}
}

func (p *parser) hex4() (rune, error) {
	if p.off+4 > len(p.b) {
		return 0, p.fail("truncated \\u escape")
	}
	v, err := strconv.ParseUint(string(p.b[p.off:p.off+4]), 16, 16)
	if err != nil {
		return 0, p.fail("invalid \\u escape %q", p.b[p.off:p.off+4])
	}
	p.off += 4
	return rune(v), nil
}
