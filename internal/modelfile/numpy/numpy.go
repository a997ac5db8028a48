// Package numpy reads the header of NumPy .npy files: the array's dtype,
// shape and order, and whether its data is a pickle.
//
// The header is a Python dict literal. It is parsed by a small bounded
// reader of literals, never evaluated. An array whose dtype holds Python
// objects is stored as a pickle after the header: np.load(allow_pickle=True)
// runs it.
package numpy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Magic starts every .npy file.
const Magic = "\x93NUMPY"

// MaxHeader bounds the header dict. NumPy itself refuses headers over
// 10000 bytes unless told otherwise; 1 MiB leaves room for huge
// structured dtypes and still bounds the parse.
const MaxHeader = 1 << 20

// maxDepth bounds nesting in the header literal (structured dtypes nest).
const maxDepth = 32

// ErrMalformed is wrapped by every error about the header's content.
var ErrMalformed = errors.New("numpy: malformed header")

// Header is what an .npy header says.
type Header struct {
	Major, Minor int
	Descr        string // the dtype as written: '<f4', or a structured list
	Fortran      bool
	Shape        []int64
	// Object reports whether the dtype holds Python objects: the data is
	// then a pickle.
	Object bool
	// DataOffset is where the array data (or the pickle) starts.
	DataOffset int64
}

// Is reports whether head starts like an .npy file.
func Is(head []byte) bool { return len(head) >= 8 && string(head[:6]) == Magic }

// ReadHeader parses the header from the start of an .npy file. b must hold
// at least the header; HeaderLen tells how much that is.
func ReadHeader(b []byte) (*Header, error) {
	n, off, err := HeaderLen(b)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) < off+n {
		return nil, fmt.Errorf("%w: header of %d bytes is truncated", ErrMalformed, n)
	}
	h := &Header{Major: int(b[6]), Minor: int(b[7]), DataOffset: off + n}
	text := string(b[off : off+n])
	p := &parser{s: text}
	v, err := p.value(0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	d, ok := v.(dict)
	if !ok {
		return nil, fmt.Errorf("%w: header is not a dict", ErrMalformed)
	}
	descr, ok := d["descr"]
	if !ok {
		return nil, fmt.Errorf("%w: no 'descr'", ErrMalformed)
	}
	h.Descr = p.s[p.spans["descr"][0]:p.spans["descr"][1]]
	h.Object = hasObject(descr)
	if fo, ok := d["fortran_order"].(bool); ok {
		h.Fortran = fo
	} else {
		return nil, fmt.Errorf("%w: 'fortran_order' is not a bool", ErrMalformed)
	}
	shape, ok := d["shape"].(tuple)
	if !ok {
		return nil, fmt.Errorf("%w: 'shape' is not a tuple", ErrMalformed)
	}
	for _, s := range shape {
		i, ok := s.(int64)
		if !ok || i < 0 {
			return nil, fmt.Errorf("%w: 'shape' holds %v", ErrMalformed, s)
		}
		h.Shape = append(h.Shape, i)
	}
	return h, nil
}

// HeaderLen returns the length of the header dict and where it starts.
func HeaderLen(b []byte) (n, off int64, err error) {
	if !Is(b) {
		return 0, 0, fmt.Errorf("%w: no magic", ErrMalformed)
	}
	switch b[6] {
	case 1:
		if len(b) < 10 {
			return 0, 0, fmt.Errorf("%w: truncated", ErrMalformed)
		}
		n, off = int64(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return 0, 0, fmt.Errorf("%w: truncated", ErrMalformed)
		}
		n, off = int64(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return 0, 0, fmt.Errorf("%w: unknown version %d.%d", ErrMalformed, b[6], b[7])
	}
	if n > MaxHeader {
		return 0, 0, fmt.Errorf("%w: header of %d bytes exceeds the %d-byte limit", ErrMalformed, n, MaxHeader)
	}
	return n, off, nil
}

// hasObject reports whether a dtype description holds an object type
// anywhere: '|O', or a field of a structured dtype whose type is one.
// Field names are the first element of each field tuple and are skipped.
func hasObject(v any) bool {
	switch v := v.(type) {
	case string:
		t := strings.TrimLeft(v, "<>|=")
		return strings.HasPrefix(t, "O") && strings.Trim(t[1:], "0123456789") == ""
	case list:
		for _, f := range v {
			if t, ok := f.(tuple); ok && len(t) >= 2 {
				if hasObject(t[1]) {
					return true
				}
			} else if hasObject(f) {
				return true
			}
		}
	case dict: // {'names': [...], 'formats': [...], ...}
		return hasObject(v["formats"])
	}
	return false
}

// The literal values the header may hold.
type (
	dict  map[string]any
	list  []any
	tuple []any
)

// parser reads the subset of Python literals np.save writes: dicts with
// string keys, lists, tuples, strings, integers, True, False and None.
type parser struct {
	s     string
	i     int
	spans map[string][2]int // where each top-level key's value is in s
}

func (p *parser) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deep")
	}
	p.skip()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.dict(depth)
	case c == '[':
		l, err := p.seq(depth, ']')
		return list(l), err
	case c == '(':
		t, err := p.seq(depth, ')')
		return tuple(t), err
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		j := p.i + 1
		for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] == 'L') {
			j++
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(p.s[p.i:j], "L"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer at %d", p.i)
		}
		p.i = j
		return n, nil
	}
	for _, w := range []struct {
		word string
		v    any
	}{{"True", true}, {"False", false}, {"None", nil}} {
		if strings.HasPrefix(p.s[p.i:], w.word) {
			p.i += len(w.word)
			return w.v, nil
		}
	}
	return nil, fmt.Errorf("unexpected %q at %d", p.s[p.i], p.i)
}

func (p *parser) str() (string, error) {
	q := p.s[p.i]
	var b strings.Builder
	for j := p.i + 1; j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == q:
			p.i = j + 1
			return b.String(), nil
		case c == '\\' && j+1 < len(p.s):
			j++
			b.WriteByte(p.s[j])
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("unterminated string")
}

func (p *parser) seq(depth int, end byte) ([]any, error) {
	p.i++
	var out []any
	for {
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return out, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return out, nil
		}
		return nil, fmt.Errorf("expected ',' or %q at %d", end, p.i)
	}
}

func (p *parser) dict(depth int) (dict, error) {
	p.i++
	d := dict{}
	for {
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return d, nil
		}
		if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
			return nil, fmt.Errorf("expected a string key at %d", p.i)
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, fmt.Errorf("expected ':' at %d", p.i)
		}
		p.i++
		p.skip()
		start := p.i
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, dup := d[k]; dup {
			return nil, fmt.Errorf("duplicate key %q", k)
		}
		d[k] = v
		if depth == 0 {
			if p.spans == nil {
				p.spans = map[string][2]int{}
			}
			p.spans[k] = [2]int{start, p.i}
		}
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return d, nil
		}
		return nil, fmt.Errorf("expected ',' or '}' at %d", p.i)
	}
}
