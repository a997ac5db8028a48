// Package protowire walks protocol buffer wire format field by field,
// without a schema and within limits, for the parsers of model formats that
// are protobufs (ONNX, TensorFlow SavedModel).
//
// Messages are read in place from an io.ReaderAt: a length-delimited field
// is a range of the file, and a parser that skips it (tensor data) never
// reads its bytes. Nesting depth, the number of fields and the length of
// strings a parser takes are bounded; a limit reached is an error wrapping
// ErrLimit, broken wire format an error wrapping ErrMalformed, and both say
// at which offset.
package protowire

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Type is a wire type.
type Type uint8

// The wire types. Groups (3 and 4) are deprecated and used by none of the
// formats read here; they are reported as malformed.
const (
	Varint  Type = 0
	Fixed64 Type = 1
	Bytes   Type = 2
	Fixed32 Type = 5
)

// maxFieldNumber is the largest field number protobuf allows (2^29 - 1).
const maxFieldNumber = 1<<29 - 1

// chunk is how many bytes are read from the source at a time. Small, so
// that the read after a skipped tensor takes in little of the next one.
const chunk = 8 << 10

// Errors wrapped by every error a Message returns.
var (
	ErrMalformed = errors.New("malformed protobuf")
	ErrLimit     = errors.New("protobuf limit reached")
)

// An Error says where in the file the wire format broke or a limit was hit.
type Error struct {
	Offset int64
	Msg    string
	Err    error // ErrMalformed or ErrLimit
}

func (e *Error) Error() string { return fmt.Sprintf("%v at offset %d: %s", e.Err, e.Offset, e.Msg) }
func (e *Error) Unwrap() error { return e.Err }

func malformed(off int64, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...), Err: ErrMalformed}
}

func limit(off int64, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...), Err: ErrLimit}
}

// Limits bound a Decoder's work.
type Limits struct {
	// Depth is the deepest nesting of messages. Protobuf's own parsers
	// stop at 100.
	Depth int
	// Fields is the most fields read in all, at every depth: it bounds the
	// time a file can cost.
	Fields int64
}

// DefaultLimits are generous for real models: a large ONNX graph has a few
// million fields.
var DefaultLimits = Limits{Depth: 100, Fields: 1 << 26}

// A Decoder holds what the messages of one file share: the source, the
// field budget and a small read buffer.
type Decoder struct {
	ctx    context.Context
	src    io.ReaderAt
	size   int64
	lim    Limits
	fields int64
	buf    []byte
	bufOff int64
}

// NewDecoder reads protobuf from src, which holds size bytes. Zero fields
// of lim take their value from DefaultLimits.
func NewDecoder(ctx context.Context, src io.ReaderAt, size int64, lim Limits) *Decoder {
	if lim.Depth <= 0 {
		lim.Depth = DefaultLimits.Depth
	}
	if lim.Fields <= 0 {
		lim.Fields = DefaultLimits.Fields
	}
	return &Decoder{ctx: ctx, src: src, size: size, lim: lim, bufOff: -1}
}

// Fields is the number of fields read so far.
func (d *Decoder) Fields() int64 { return d.fields }

// Root is the message that is the whole file.
func (d *Decoder) Root() *Message {
	return &Message{d: d, start: 0, end: d.size, pos: 0}
}

// byteAt returns the byte at off, which must be below d.size.
func (d *Decoder) byteAt(off int64) (byte, error) {
	if d.bufOff < 0 || off < d.bufOff || off >= d.bufOff+int64(len(d.buf)) {
		n := min(int64(chunk), d.size-off)
		if cap(d.buf) < int(n) {
			d.buf = make([]byte, chunk)
		}
		d.buf = d.buf[:n]
		got, err := d.src.ReadAt(d.buf, off)
		if got <= 0 {
			d.bufOff = -1
			if err == nil || errors.Is(err, io.EOF) {
				return 0, malformed(off, "file ends early")
			}
			return 0, fmt.Errorf("reading at offset %d: %w", off, err)
		}
		d.buf, d.bufOff = d.buf[:got], off
	}
	return d.buf[off-d.bufOff], nil
}

// read copies n bytes at off.
func (d *Decoder) read(off int64, n int) ([]byte, error) {
	b := make([]byte, n)
	if d.bufOff >= 0 && off >= d.bufOff && off+int64(n) <= d.bufOff+int64(len(d.buf)) {
		copy(b, d.buf[off-d.bufOff:])
		return b, nil
	}
	got, err := d.src.ReadAt(b, off)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, malformed(off, "file ends early")
		}
		return nil, fmt.Errorf("reading at offset %d: %w", off, err)
	}
	return b, nil
}

// A Field is one field of a message. For Bytes fields the payload is not
// read: Start and Len say where it is.
type Field struct {
	Num  int32
	Type Type
	// Offset is where the field's tag starts in the file.
	Offset int64
	// Value holds a Varint, Fixed64 or Fixed32 field's value.
	Value uint64
	// Start and Len place a Bytes field's payload in the file.
	Start, Len int64
}

// A Message is a range of the file read as a sequence of fields.
type Message struct {
	d          *Decoder
	start, end int64
	pos        int64
	depth      int
}

// Start is the offset of the message's first byte in the file.
func (m *Message) Start() int64 { return m.start }

// Len is the message's length in bytes.
func (m *Message) Len() int64 { return m.end - m.start }

// Depth is the message's nesting depth; the root is 0.
func (m *Message) Depth() int { return m.depth }

// varint reads a varint at m.pos.
func (m *Message) varint() (uint64, error) {
	var v uint64
	start := m.pos
	for i := 0; ; i++ {
		if m.pos >= m.end {
			return 0, malformed(start, "varint runs past the end of its message")
		}
		if i == 10 {
			return 0, malformed(start, "varint longer than 10 bytes")
		}
		b, err := m.d.byteAt(m.pos)
		if err != nil {
			return 0, err
		}
		m.pos++
		if i == 9 && b > 1 {
			return 0, malformed(start, "varint overflows 64 bits")
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, nil
		}
	}
}

// fixed reads n little-endian bytes at m.pos.
func (m *Message) fixed(n int) (uint64, error) {
	if m.end-m.pos < int64(n) {
		return 0, malformed(m.pos, "%d-byte value runs past the end of its message", n)
	}
	var v uint64
	for i := range n {
		b, err := m.d.byteAt(m.pos + int64(i))
		if err != nil {
			return 0, err
		}
		v |= uint64(b) << (8 * i)
	}
	m.pos += int64(n)
	return v, nil
}

// Next reads the next field. It returns io.EOF, unwrapped, at the end of
// the message.
func (m *Message) Next() (Field, error) {
	if m.pos >= m.end {
		return Field{}, io.EOF
	}
	d := m.d
	d.fields++
	if d.fields > d.lim.Fields {
		return Field{}, limit(m.pos, "more than %d fields", d.lim.Fields)
	}
	if d.fields&0xfff == 0 && d.ctx.Err() != nil {
		return Field{}, d.ctx.Err()
	}
	f := Field{Offset: m.pos}
	tag, err := m.varint()
	if err != nil {
		return Field{}, err
	}
	num := tag >> 3
	if num == 0 || num > maxFieldNumber {
		return Field{}, malformed(f.Offset, "field number %d", num)
	}
	f.Num, f.Type = int32(num), Type(tag&7)
	switch f.Type {
	case Varint:
		f.Value, err = m.varint()
	case Fixed64:
		f.Value, err = m.fixed(8)
	case Fixed32:
		f.Value, err = m.fixed(4)
	case Bytes:
		var n uint64
		if n, err = m.varint(); err != nil {
			return Field{}, err
		}
		if n > uint64(m.end-m.pos) {
			return Field{}, malformed(f.Offset, "field %d of %d bytes runs past the end of its message (%d bytes left)", f.Num, n, m.end-m.pos)
		}
		f.Start, f.Len = m.pos, int64(n)
		m.pos += int64(n)
	default:
		return Field{}, malformed(f.Offset, "field %d has wire type %d", f.Num, f.Type)
	}
	if err != nil {
		return Field{}, err
	}
	return f, nil
}

// Sub is the message held in the Bytes field f.
func (m *Message) Sub(f Field) (*Message, error) {
	if f.Type != Bytes {
		return nil, malformed(f.Offset, "field %d is not length-delimited", f.Num)
	}
	if m.depth+1 > m.d.lim.Depth {
		return nil, limit(f.Offset, "messages nested deeper than %d", m.d.lim.Depth)
	}
	return &Message{d: m.d, start: f.Start, end: f.Start + f.Len, pos: f.Start, depth: m.depth + 1}, nil
}

// Bytes reads the payload of the Bytes field f, if it is at most max bytes
// long; a longer payload is a limit error.
func (m *Message) Bytes(f Field, max int) ([]byte, error) {
	if f.Type != Bytes {
		return nil, malformed(f.Offset, "field %d is not length-delimited", f.Num)
	}
	if f.Len > int64(max) {
		return nil, limit(f.Offset, "field %d of %d bytes is longer than %d", f.Num, f.Len, max)
	}
	return m.d.read(f.Start, int(f.Len))
}

// String reads the payload of the Bytes field f as a string, keeping at
// most max bytes of it: names are evidence, and a longer one is cut short
// (truncated reports that) rather than failing the parse.
func (m *Message) String(f Field, max int) (s string, truncated bool, err error) {
	if f.Type != Bytes {
		return "", false, malformed(f.Offset, "field %d is not length-delimited", f.Num)
	}
	n := f.Len
	if n > int64(max) {
		n, truncated = int64(max), true
	}
	b, err := m.d.read(f.Start, int(n))
	return string(b), truncated, err
}

// Varints decodes a repeated integer field that may be packed (one Bytes
// field of varints) or not (one Varint field per value), appending at most
// max values to dst.
func (m *Message) Varints(dst []uint64, f Field, max int) ([]uint64, error) {
	switch f.Type {
	case Varint:
		if len(dst) >= max {
			return dst, limit(f.Offset, "more than %d values", max)
		}
		return append(dst, f.Value), nil
	case Bytes:
		p := &Message{d: m.d, start: f.Start, end: f.Start + f.Len, pos: f.Start, depth: m.depth}
		for p.pos < p.end {
			if len(dst) >= max {
				return dst, limit(f.Offset, "more than %d values", max)
			}
			v, err := p.varint()
			if err != nil {
				return dst, err
			}
			dst = append(dst, v)
		}
		return dst, nil
	}
	return dst, malformed(f.Offset, "field %d has wire type %d for integers", f.Num, f.Type)
}
