package safetensors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
)

// A walker reads the JSON header token by token. A token walk, rather than
// json.Unmarshal into a map, sees every duplicate key and every value of
// the wrong type where it stands, and never holds more than one token.
type walker struct {
	ctx context.Context
	dec *json.Decoder
	src *utf8Reader
	h   *Header
	lim Limits
	n   int // tokens read, for cheap cancellation checks
	// dropped is set when an entry could not be used: the tensors then do
	// not cover what the header describes.
	dropped bool
}

// offset is the file offset just past the last token read.
func (w *walker) offset() int64 { return 8 + w.dec.InputOffset() }

// token reads the next token. On failure it records why and returns false:
// nothing after a syntax error can be trusted.
func (w *walker) token() (json.Token, bool) {
	w.n++
	if w.n&0xfff == 0 && w.ctx.Err() != nil {
		return nil, false
	}
	off := w.offset()
	tok, err := w.dec.Token()
	if err == nil {
		return tok, true
	}
	if w.src.err != nil {
		return nil, false // an I/O error: Read returns it
	}
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		w.h.malformed(w.offset(), fmt.Sprintf("header JSON ends early, at header byte %d", w.dec.InputOffset()),
			"the header is cut short: it is not valid JSON")
	case errors.As(err, &se):
		w.h.malformed(8+se.Offset, fmt.Sprintf("invalid JSON at header byte %d: %v", se.Offset, err),
			"the header is not valid JSON")
	default:
		w.h.malformed(off, fmt.Sprintf("invalid JSON after header byte %d: %v", off-8, err),
			"the header is not valid JSON")
	}
	return nil, false
}

// header walks the top-level object. It sets Complete when the whole
// header was read and every tensor entry kept.
func (w *walker) header() {
	tok, ok := w.token()
	if !ok {
		return
	}
	if tok != json.Delim('{') {
		w.h.malformed(8, "header is "+describe(tok)+", not a JSON object", "the header must be a JSON object")
		return
	}
	seen := map[string]bool{}
	for w.dec.More() {
		off := w.offset()
		tok, ok := w.token()
		if !ok {
			return
		}
		key, _ := tok.(string) // the decoder only returns string keys in an object
		if seen[key] {
			w.h.add(Problem{Rule: RuleDuplicateKey, Severity: inventory.Medium, Offset: off,
				Evidence: fmt.Sprintf("key %s appears twice in the header", quote(key)),
				Message:  "JSON parsers differ on which duplicate they keep: a scanner and a loader can see different tensors"})
		}
		seen[key] = true
		if key == "__metadata__" {
			ok = w.metadata(off)
		} else {
			if len(w.h.Tensors) >= w.lim.Tensors {
				w.h.add(Problem{Rule: inventory.RuleScanLimit, Severity: inventory.High, Offset: off,
					Evidence: fmt.Sprintf("more than %d tensors in the header", w.lim.Tensors),
					Message:  "the header lists more tensors than the limit: the rest were not checked"})
				return
			}
			ok = w.tensor(key, off)
		}
		if !ok {
			return
		}
	}
	if _, ok := w.token(); !ok { // the closing brace
		return
	}
	// Only whitespace may follow; writers pad with spaces.
	if tok, err := w.dec.Token(); !errors.Is(err, io.EOF) {
		if w.src.err != nil {
			return
		}
		what := "invalid JSON"
		if err == nil {
			what = describe(tok)
		}
		w.h.malformed(w.offset(), "header continues after its JSON object with "+what,
			"the header holds more than one JSON value: readers disagree on which counts")
		return
	}
	w.h.Complete = !w.dropped
}

// metadata walks __metadata__, a map of strings to strings, or null.
func (w *walker) metadata(keyOff int64) bool {
	tok, ok := w.token()
	if !ok {
		return false
	}
	if tok == nil {
		return true
	}
	if tok != json.Delim('{') {
		w.h.malformed(keyOff, "__metadata__ is "+describe(tok)+", not an object of strings",
			"the reference reader refuses a __metadata__ that is not a map of strings")
		return w.skip(tok, 1)
	}
	seen := map[string]bool{}
	for w.dec.More() {
		off := w.offset()
		tok, ok := w.token()
		if !ok {
			return false
		}
		key, _ := tok.(string)
		if seen[key] {
			w.h.add(Problem{Rule: RuleDuplicateKey, Severity: inventory.Medium, Offset: off,
				Evidence: fmt.Sprintf("__metadata__ key %s appears twice", quote(key)),
				Message:  "JSON parsers differ on which duplicate they keep"})
		}
		seen[key] = true
		if tok, ok = w.token(); !ok {
			return false
		}
		val, isString := tok.(string)
		if !isString {
			w.h.malformed(off, fmt.Sprintf("__metadata__ %s is %s, not a string", quote(key), describe(tok)),
				"the reference reader refuses metadata values that are not strings")
			if !w.skip(tok, 1) {
				return false
			}
			continue
		}
		w.h.MetadataCount++
		if len(w.h.Metadata) < keepMetadata {
			w.h.Metadata = append(w.h.Metadata, Entry{Key: cut(key), Value: cut(val)})
		}
	}
	_, ok = w.token()
	return ok
}

// tensor walks one tensor entry: {"dtype", "shape", "data_offsets"}. An
// entry with a field missing or of the wrong type is reported and dropped.
func (w *walker) tensor(name string, off int64) bool {
	tok, ok := w.token()
	if !ok {
		return false
	}
	if tok != json.Delim('{') {
		w.h.malformed(off, fmt.Sprintf("tensor %s is %s, not an object", quote(name), describe(tok)),
			"every key but __metadata__ must describe a tensor")
		w.dropped = true
		return w.skip(tok, 1)
	}
	t := Tensor{Name: name, Offset: off}
	seen := map[string]bool{}
	invalid := false
	for w.dec.More() {
		foff := w.offset()
		tok, ok := w.token()
		if !ok {
			return false
		}
		field, _ := tok.(string)
		if seen[field] {
			w.h.add(Problem{Rule: RuleDuplicateKey, Severity: inventory.Medium, Offset: foff,
				Evidence: fmt.Sprintf("tensor %s: field %s appears twice", quote(name), quote(field)),
				Message:  "JSON parsers differ on which duplicate they keep: a scanner and a loader can see different tensors"})
		}
		seen[field] = true
		if tok, ok = w.token(); !ok {
			return false
		}
		switch field {
		case "dtype":
			s, isString := tok.(string)
			if !isString {
				w.h.malformed(foff, fmt.Sprintf("tensor %s: dtype is %s, not a string", quote(name), describe(tok)),
					"the tensor's dtype must be a string")
				invalid = true
				if !w.skip(tok, 1) {
					return false
				}
				continue
			}
			t.DType = s
		case "shape":
			dims, ok := w.uints(tok, name, field, foff)
			if !ok {
				return false
			}
			invalid = invalid || dims == nil
			t.Shape = dims
		case "data_offsets":
			offs, ok := w.uints(tok, name, field, foff)
			if !ok {
				return false
			}
			switch {
			case offs == nil:
				invalid = true
			case len(offs) != 2:
				w.h.malformed(foff, fmt.Sprintf("tensor %s: data_offsets has %d values, not 2", quote(name), len(offs)),
					"data_offsets must be [begin, end]")
				invalid = true
			default:
				t.Begin, t.End = offs[0], offs[1]
			}
		default:
			w.h.add(Problem{Rule: RuleMalformed, Severity: inventory.Low, Offset: foff,
				Evidence: fmt.Sprintf("tensor %s: unexpected field %s", quote(name), quote(field)),
				Message:  "readers ignore fields other than dtype, shape and data_offsets; no writer adds them"})
			if !w.skip(tok, 1) {
				return false
			}
		}
	}
	if _, ok := w.token(); !ok {
		return false
	}
	for _, f := range []string{"dtype", "shape", "data_offsets"} {
		if !seen[f] {
			w.h.malformed(off, fmt.Sprintf("tensor %s: no %s", quote(name), f),
				"a tensor entry needs dtype, shape and data_offsets")
			invalid = true
		}
	}
	if invalid {
		w.dropped = true
		return true
	}
	w.h.Tensors = append(w.h.Tensors, t)
	return true
}

// uints reads an array of non-negative integers whose '[' is tok. It
// returns nil, true when the value is not such an array (and reported),
// and false when the walk must stop.
func (w *walker) uints(tok json.Token, name, field string, off int64) ([]uint64, bool) {
	if tok != json.Delim('[') {
		w.h.malformed(off, fmt.Sprintf("tensor %s: %s is %s, not an array", quote(name), field, describe(tok)),
			"the tensor's "+field+" must be an array of integers")
		return nil, w.skip(tok, 1)
	}
	vals := []uint64{}
	bad := false
	for w.dec.More() {
		tok, ok := w.token()
		if !ok {
			return nil, false
		}
		num, isNum := tok.(json.Number)
		v, err := strconv.ParseUint(string(num), 10, 64)
		if !isNum || err != nil {
			if !bad {
				w.h.malformed(off, fmt.Sprintf("tensor %s: %s holds %s, not a non-negative integer", quote(name), field, describe(tok)),
					"the reference reader refuses the file")
			}
			bad = true
			if !w.skip(tok, 1) {
				return nil, false
			}
			continue
		}
		if field == "shape" && len(vals) >= w.lim.Dims {
			w.h.add(Problem{Rule: inventory.RuleScanLimit, Severity: inventory.High, Offset: off,
				Evidence: fmt.Sprintf("tensor %s: shape has more than %d dimensions", quote(name), w.lim.Dims),
				Message:  "a shape longer than the limit: the header was not checked further"})
			return nil, false
		}
		vals = append(vals, v)
	}
	if _, ok := w.token(); !ok {
		return nil, false
	}
	if bad {
		return nil, true
	}
	return vals, true
}

// skip consumes the rest of a value whose first token is tok, at nesting
// depth depth.
func (w *walker) skip(tok json.Token, depth int) bool {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return true
	}
	open := 1
	for open > 0 {
		if depth+open > maxNesting {
			w.h.malformed(w.offset(), fmt.Sprintf("header JSON nests deeper than %d", maxNesting),
				"the reference reader refuses JSON nested this deep")
			return false
		}
		tok, ok := w.token()
		if !ok {
			return false
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			open++
		case json.Delim('}'), json.Delim(']'):
			open--
		}
	}
	return true
}

// describe names a token's kind for messages, bounded.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return "'" + string(v) + "'"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + cut(string(v))
	case string:
		return "the string " + quote(v)
	}
	return fmt.Sprintf("%T", tok)
}

// cut bounds a string kept for reporting.
func cut(s string) string {
	if len(s) <= keepValue {
		return s
	}
	i := keepValue
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func quote(s string) string { return strconv.Quote(cut(s)) }

// A utf8Reader passes bytes through and notes the offset of the first
// byte that is not valid UTF-8. Go's JSON decoder replaces such bytes
// silently; the reference reader refuses the header.
type utf8Reader struct {
	r     io.Reader
	off   int64  // bytes passed through
	carry []byte // an incomplete sequence at the end of the last read
	bad   int64  // offset of the first invalid byte, or -1
	err   error  // the first read error other than io.EOF
}

func (u *utf8Reader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && u.err == nil {
		u.err = err
	}
	if u.bad < 0 {
		start := u.off - int64(len(u.carry))
		b := append(u.carry, p[:n]...)
		i := 0
		for i < len(b) {
			if b[i] < utf8.RuneSelf {
				i++
				continue
			}
			if !utf8.FullRune(b[i:]) {
				break
			}
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				u.bad = start + int64(i)
				break
			}
			i += size
		}
		u.carry = append(u.carry[:0:0], b[i:]...)
		if u.bad >= 0 {
			u.carry = nil
		} else if errors.Is(err, io.EOF) && len(u.carry) > 0 {
			u.bad = start + int64(i) // a sequence cut off by the end
		}
	}
	u.off += int64(n)
	return n, err
}
