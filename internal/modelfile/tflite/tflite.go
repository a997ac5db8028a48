// Package tflite reads what a TensorFlow Lite model (a FlatBuffer with the
// identifier "TFL3") declares: its operator codes — builtin and custom —,
// its subgraphs' tensors, and its description, without reading buffers.
//
// The FlatBuffer is walked through an io.ReaderAt in small reads, checking
// every offset against the file; counts of operator codes, subgraphs and
// tensors are bounded. Field ids are those of TFLite's schema.fbs.
package tflite

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Identifier is the FlatBuffer file identifier of TFLite models, at offset 4.
const Identifier = "TFL3"

// CustomCode is the builtin code of custom operators.
const CustomCode = 32

// Errors wrapped by what Parse returns.
var (
	ErrMalformed = errors.New("tflite: malformed flatbuffer")
	ErrLimit     = errors.New("tflite: limit reached")
)

// Limits bound Parse.
type Limits struct {
	// OperatorCodes, Subgraphs and Tensors bound the vectors read.
	OperatorCodes int
	Subgraphs     int
	Tensors       int
	// Name is the longest string kept.
	Name int
	// Dims is the most dimensions of a tensor shape.
	Dims int
}

// DefaultLimits are far above real models (a few hundred operator codes,
// a few thousand tensors).
var DefaultLimits = Limits{OperatorCodes: 1 << 12, Subgraphs: 1 << 10, Tensors: 1 << 20, Name: 1 << 10, Dims: 16}

// A Model is what a TFLite flatbuffer declares.
type Model struct {
	Version     uint32
	Description string
	Operators   []OperatorCode
	Subgraphs   int
	Tensors     int
	// Parameters sums the elements of tensors backed by a non-empty buffer.
	Parameters uint64
	DTypes     []string
}

// An OperatorCode is one entry of operator_codes.
type OperatorCode struct {
	Builtin int32
	Custom  string // set for custom operators
	Version int32
	Offset  int64
}

// IsCustom reports whether the operator is a custom one.
func (o OperatorCode) IsCustom() bool { return o.Builtin == CustomCode }

// Is reports whether head starts like a TFLite model.
func Is(head []byte) bool { return len(head) >= 8 && string(head[4:8]) == Identifier }

var tensorTypes = []string{"F32", "F16", "I32", "U8", "I64", "STRING", "BOOL", "I16", "C64", "I8", "F64",
	"C128", "U64", "RESOURCE", "VARIANT", "U32", "U16", "I4", "BF16"}

func typeName(t int) string {
	if t >= 0 && t < len(tensorTypes) {
		return tensorTypes[t]
	}
	return "type" + strconv.Itoa(t)
}

// reader reads little-endian values at checked offsets.
type reader struct {
	ctx  context.Context
	r    io.ReaderAt
	size int64
	page []byte
	at   int64
	n    int
}

// pageSize is the unit of reads: tables, vectors and strings of a model's
// header sit close together.
const pageSize = 4 << 10

func (rd *reader) bytes(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > rd.size || int64(n) > rd.size-off {
		return nil, fmt.Errorf("%w: %d bytes at offset %d past the end (%d bytes)", ErrMalformed, n, off, rd.size)
	}
	rd.n++
	if rd.n&0xfff == 0 && rd.ctx.Err() != nil {
		return nil, rd.ctx.Err()
	}
	if rd.page != nil && off >= rd.at && off+int64(n) <= rd.at+int64(len(rd.page)) {
		return rd.page[off-rd.at : off-rd.at+int64(n)], nil
	}
	want := max(n, pageSize)
	want = int(min(int64(want), rd.size-off))
	b := make([]byte, want)
	got, err := rd.r.ReadAt(b, off)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: file ends early at offset %d", ErrMalformed, off+int64(got))
		}
		return nil, fmt.Errorf("tflite: reading at offset %d: %w", off, err)
	}
	if n <= pageSize {
		rd.page, rd.at = b[:got], off
	}
	return b[:n], nil
}

func (rd *reader) u32(off int64) (uint32, error) {
	b, err := rd.bytes(off, 4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (rd *reader) u16(off int64) (uint16, error) {
	b, err := rd.bytes(off, 2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

// deref follows the uoffset stored at off.
func (rd *reader) deref(off int64) (int64, error) {
	v, err := rd.u32(off)
	if err != nil {
		return 0, err
	}
	return off + int64(v), nil
}

// table is a table's position and its vtable.
type table struct {
	rd     *reader
	pos    int64
	vtable int64
	vtLen  uint16
}

func (rd *reader) table(pos int64) (table, error) {
	so, err := rd.u32(pos)
	if err != nil {
		return table{}, err
	}
	vt := pos - int64(int32(so))
	n, err := rd.u16(vt)
	if err != nil {
		return table{}, err
	}
	if n < 4 || n%2 != 0 {
		return table{}, fmt.Errorf("%w: vtable at %d has length %d", ErrMalformed, vt, n)
	}
	return table{rd: rd, pos: pos, vtable: vt, vtLen: n}, nil
}

// field returns the absolute offset of field id, or 0 if it is absent.
func (t table) field(id int) (int64, error) {
	slot := int64(4 + 2*id)
	if slot+2 > int64(t.vtLen) {
		return 0, nil
	}
	o, err := t.rd.u16(t.vtable + slot)
	if err != nil || o == 0 {
		return 0, err
	}
	return t.pos + int64(o), nil
}

func (t table) scalar(id, size int) (uint64, bool, error) {
	at, err := t.field(id)
	if err != nil || at == 0 {
		return 0, false, err
	}
	b, err := t.rd.bytes(at, size)
	if err != nil {
		return 0, false, err
	}
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, true, nil
}

// vector returns the position of a vector field's first element and its
// length; 0, 0 if absent.
func (t table) vector(id int, max int, what string) (int64, int, error) {
	at, err := t.field(id)
	if err != nil || at == 0 {
		return 0, 0, err
	}
	v, err := t.rd.deref(at)
	if err != nil {
		return 0, 0, err
	}
	n, err := t.rd.u32(v)
	if err != nil {
		return 0, 0, err
	}
	if int64(n) > int64(max) {
		return 0, 0, fmt.Errorf("%w: %d %s, more than %d", ErrLimit, n, what, max)
	}
	return v + 4, int(n), nil
}

// str reads a string field, keeping at most max bytes.
func (t table) str(id, max int) (string, error) {
	at, err := t.field(id)
	if err != nil || at == 0 {
		return "", err
	}
	v, err := t.rd.deref(at)
	if err != nil {
		return "", err
	}
	n, err := t.rd.u32(v)
	if err != nil {
		return "", err
	}
	if int64(n) > t.rd.size-v-4 {
		return "", fmt.Errorf("%w: string of %d bytes at %d runs past the end", ErrMalformed, n, v)
	}
	cut := ""
	if int(n) > max {
		n, cut = uint32(max), "…"
	}
	b, err := t.rd.bytes(v+4, int(n))
	return string(b) + cut, err
}

// elem returns the table that element i of a vector of tables refers to.
func (rd *reader) elem(vec int64, i int) (table, error) {
	p, err := rd.deref(vec + 4*int64(i))
	if err != nil {
		return table{}, err
	}
	return rd.table(p)
}

// Field ids of schema.fbs.
const (
	modelVersion       = 0
	modelOperatorCodes = 1
	modelSubgraphs     = 2
	modelDescription   = 3
	modelBuffers       = 4

	codeDeprecatedBuiltin = 0
	codeCustom            = 1
	codeVersion           = 2
	codeBuiltin           = 3

	subgraphTensors = 0
	tensorShape     = 0
	tensorType      = 1
	tensorBuffer    = 2
	bufferData      = 0
	bufferSize      = 2
)

// Parse reads the model in r, which holds size bytes. It returns what
// parsed even with an error; errors wrap ErrMalformed or ErrLimit.
func Parse(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (*Model, error) {
	lim = withDefaults(lim)
	rd := &reader{ctx: ctx, r: r, size: size}
	m := &Model{}
	head, err := rd.bytes(0, 8)
	if err != nil {
		return m, err
	}
	if string(head[4:8]) != Identifier {
		return m, fmt.Errorf("%w: identifier %q, not %q", ErrMalformed, head[4:8], Identifier)
	}
	root, err := rd.table(int64(binary.LittleEndian.Uint32(head)))
	if err != nil {
		return m, err
	}
	if v, ok, err := root.scalar(modelVersion, 4); err != nil {
		return m, err
	} else if ok {
		m.Version = uint32(v)
	}
	if m.Description, err = root.str(modelDescription, lim.Name); err != nil {
		return m, err
	}
	if err := operatorCodes(rd, root, m, lim); err != nil {
		return m, err
	}
	return m, tensors(rd, root, m, lim)
}

func withDefaults(l Limits) Limits {
	d := DefaultLimits
	for _, f := range []struct{ dst, src *int }{
		{&d.OperatorCodes, &l.OperatorCodes}, {&d.Subgraphs, &l.Subgraphs}, {&d.Tensors, &l.Tensors},
		{&d.Name, &l.Name}, {&d.Dims, &l.Dims},
	} {
		if *f.src > 0 {
			*f.dst = *f.src
		}
	}
	return d
}

func operatorCodes(rd *reader, root table, m *Model, lim Limits) error {
	vec, n, err := root.vector(modelOperatorCodes, lim.OperatorCodes, "operator codes")
	if err != nil {
		return err
	}
	for i := range n {
		t, err := rd.elem(vec, i)
		if err != nil {
			return err
		}
		oc := OperatorCode{Offset: t.pos, Version: 1}
		dep, _, err := t.scalar(codeDeprecatedBuiltin, 1)
		if err != nil {
			return err
		}
		bc, _, err := t.scalar(codeBuiltin, 4)
		if err != nil {
			return err
		}
		// The runtime takes the larger of the two codes: builtin_code was
		// added when the int8 deprecated_builtin_code ran out.
		oc.Builtin = max(int32(int8(dep)), int32(bc))
		if v, ok, err := t.scalar(codeVersion, 4); err != nil {
			return err
		} else if ok {
			oc.Version = int32(v)
		}
		if oc.Custom, err = t.str(codeCustom, lim.Name); err != nil {
			return err
		}
		m.Operators = append(m.Operators, oc)
	}
	return nil
}

// tensors counts the tensors of every subgraph and the parameters of those
// with data. Buffer contents are never read: only their lengths.
func tensors(rd *reader, root table, m *Model, lim Limits) error {
	bufVec, nBuf, err := root.vector(modelBuffers, lim.Tensors, "buffers")
	if err != nil {
		return err
	}
	sgVec, nSG, err := root.vector(modelSubgraphs, lim.Subgraphs, "subgraphs")
	if err != nil {
		return err
	}
	m.Subgraphs = nSG
	dtypes := map[string]bool{}
	for s := range nSG {
		sg, err := rd.elem(sgVec, s)
		if err != nil {
			return err
		}
		tv, nT, err := sg.vector(subgraphTensors, lim.Tensors-m.Tensors, "tensors")
		if err != nil {
			return err
		}
		for i := range nT {
			m.Tensors++
			t, err := rd.elem(tv, i)
			if err != nil {
				return err
			}
			b, ok, err := t.scalar(tensorBuffer, 4)
			if err != nil {
				return err
			}
			if !ok || b == 0 {
				continue // buffer 0 is the empty sentinel: an activation
			}
			if b >= uint64(nBuf) {
				return fmt.Errorf("%w: tensor %d of subgraph %d refers to buffer %d of %d", ErrMalformed, i, s, b, nBuf)
			}
			if full, err := bufferFull(rd, bufVec, int(b)); err != nil || !full {
				if err != nil {
					return err
				}
				continue
			}
			typ, _, err := t.scalar(tensorType, 1)
			if err != nil {
				return err
			}
			dtypes[typeName(int(int8(typ)))] = true
			sv, nd, err := t.vector(tensorShape, lim.Dims, "dimensions")
			if err != nil {
				return err
			}
			count := uint64(1)
			for d := range nd {
				v, err := rd.u32(sv + 4*int64(d))
				if err != nil {
					return err
				}
				if int32(v) < 0 {
					count = 0 // a dynamic dimension: a constant has none
					break
				}
				count *= uint64(v)
				if count > 1<<62 {
					return fmt.Errorf("%w: tensor %d of subgraph %d has a shape too large", ErrMalformed, i, s)
				}
			}
			m.Parameters += count
		}
	}
	for t := range dtypes {
		m.DTypes = append(m.DTypes, t)
	}
	slices.Sort(m.DTypes)
	return nil
}

// bufferFull reports whether buffer i holds data, inline or at an offset.
func bufferFull(rd *reader, vec int64, i int) (bool, error) {
	t, err := rd.elem(vec, i)
	if err != nil {
		return false, err
	}
	if at, err := t.field(bufferData); err != nil || at != 0 {
		if err != nil {
			return false, err
		}
		v, err := rd.deref(at)
		if err != nil {
			return false, err
		}
		n, err := rd.u32(v)
		return n > 0, err
	}
	size, ok, err := t.scalar(bufferSize, 8)
	return ok && size > 0, err
}
