package hdf5

import (
	"bytes"
	"encoding/binary"
	"math"
)

// Datatype classes.
const (
	classFixed  = 0
	classFloat  = 1
	classString = 3
	classVlen   = 9
)

// A datatype is what an attribute's elements are.
type datatype struct {
	class     int
	size      uint32
	bigEndian bool
	signed    bool
	vlenStr   bool // variable-length string (class 9, type 1)
}

// attribute reads an attribute message whose data starts at absolute
// offset at, and appends the attribute.
func (f *file) attribute(data []byte, at int64, dense bool) error {
	if len(f.attrs) >= f.lim.Attributes {
		return f.limit("more than %d attributes", f.lim.Attributes)
	}
	c := &cursor{b: data, f: f}
	version := c.u8()
	var flags uint8
	switch version {
	case 1:
		c.skip(1)
	case 2, 3:
		flags = c.u8()
	default:
		return f.malformed("attribute message version %d", version)
	}
	nameSize := int(c.u16())
	typeSize := int(c.u16())
	spaceSize := int(c.u16())
	if version == 3 {
		c.skip(1) // name encoding
	}
	pad := func(n int) int {
		if version == 1 {
			return (n + 7) &^ 7
		}
		return n
	}
	name := c.bytes(pad(nameSize))
	tb := c.bytes(pad(typeSize))
	sb := c.bytes(pad(spaceSize))
	if c.err != nil {
		return c.err
	}
	if flags&0x03 != 0 {
		return f.unsupported("attribute %q: shared datatype or dataspace", cstring(name))
	}
	if nameSize == 0 || nameSize > len(name) || typeSize > len(tb) || spaceSize > len(sb) {
		return f.malformed("attribute message: sizes out of range")
	}
	a := Attribute{Name: cstring(name[:nameSize]), Offset: -1, Dense: dense}
	dt, err := f.datatype(tb[:typeSize])
	if err != nil {
		return err
	}
	count, scalar, err := f.dataspace(sb[:spaceSize])
	if err != nil {
		return err
	}
	if count > 0 {
		if uint64(dt.size) == 0 {
			return f.malformed("attribute %q: datatype of size 0", a.Name)
		}
		if count > uint64(f.lim.Value)/uint64(dt.size) {
			return f.limit("attribute %q: %d elements of %d bytes > %d bytes", a.Name, count, dt.size, f.lim.Value)
		}
		n := int(count) * int(dt.size)
		raw := c.bytes(n)
		if c.err != nil {
			return f.malformed("attribute %q: %d bytes of data, %d in the message", a.Name, n, len(data)-c.off)
		}
		a.Offset = at + int64(c.off-n)
		if a.Value, err = f.value(dt, raw, int(count), scalar, &a); err != nil {
			return err
		}
	}
	f.attrs = append(f.attrs, a)
	return nil
}

// cstring is b up to its first NUL.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// datatype reads a datatype message.
func (f *file) datatype(b []byte) (datatype, error) {
	c := &cursor{b: b, f: f}
	cv := c.u8()
	bits := c.bytes(3)
	size := c.u32()
	if c.err != nil {
		return datatype{}, c.err
	}
	dt := datatype{class: int(cv & 0x0f), size: size}
	switch dt.class {
	case classFixed:
		dt.bigEndian = bits[0]&0x01 != 0
		dt.signed = bits[0]&0x08 != 0
	case classFloat:
		dt.bigEndian = bits[0]&0x01 != 0
		if bits[0]&0x40 != 0 {
			return dt, f.unsupported("VAX-order floating point")
		}
	case classVlen:
		dt.vlenStr = bits[0]&0x0f == 1
		if want := uint32(4 + f.offsetSize + 4); size != want {
			return dt, f.malformed("variable-length datatype of size %d, want %d", size, want)
		}
	}
	return dt, nil
}

// maxRank is the most dimensions a dataspace may have (the library's limit).
const maxRank = 32

// dataspace reads a dataspace message and returns its element count, and
// whether it is a scalar rather than an array.
func (f *file) dataspace(b []byte) (uint64, bool, error) {
	c := &cursor{b: b, f: f}
	version := c.u8()
	rank := int(c.u8())
	c.skip(1) // flags: the maximum dimensions that follow do not change the count
	null := false
	switch version {
	case 1:
		c.skip(5)
	case 2:
		switch c.u8() {
		case 0, 1: // scalar, simple
		case 2:
			null = true
		default:
			return 0, false, f.malformed("dataspace type")
		}
	default:
		return 0, false, f.malformed("dataspace version %d", version)
	}
	if rank > maxRank {
		return 0, false, f.malformed("dataspace of rank %d", rank)
	}
	count := uint64(1)
	for range rank {
		d := c.length()
		if d != 0 && count > math.MaxUint64/d {
			return 0, false, f.limit("dataspace of more than 2^64 elements")
		}
		count *= d
	}
	if c.err != nil {
		return 0, false, c.err
	}
	if null {
		return 0, false, nil
	}
	return count, rank == 0, nil
}

// value decodes n elements of dt from raw.
func (f *file) value(dt datatype, raw []byte, n int, scalar bool, a *Attribute) (any, error) {
	size := int(dt.size)
	switch {
	case dt.class == classString:
		out := make([]string, n)
		for i := range n {
			// As NumPy reads fixed-length byte strings: trailing NULs go.
			out[i] = string(bytes.TrimRight(raw[i*size:(i+1)*size], "\x00"))
		}
		if scalar {
			return out[0], nil
		}
		return out, nil
	case dt.class == classVlen && dt.vlenStr:
		out := make([]string, n)
		for i := range n {
			s, at, err := f.vlenString(raw[i*size : (i+1)*size])
			if err != nil {
				return nil, err
			}
			if i == 0 {
				a.Offset = at
			}
			out[i] = s
		}
		if scalar {
			return out[0], nil
		}
		return out, nil
	case dt.class == classFixed && (size == 1 || size == 2 || size == 4 || size == 8):
		out := make([]int64, n)
		for i := range n {
			out[i] = integer(raw[i*size:(i+1)*size], dt)
		}
		if scalar {
			return out[0], nil
		}
		return out, nil
	case dt.class == classFloat && (size == 4 || size == 8):
		out := make([]float64, n)
		for i := range n {
			e := raw[i*size : (i+1)*size]
			var order binary.ByteOrder = binary.LittleEndian
			if dt.bigEndian {
				order = binary.BigEndian
			}
			if size == 4 {
				out[i] = float64(math.Float32frombits(order.Uint32(e)))
			} else {
				out[i] = math.Float64frombits(order.Uint64(e))
			}
		}
		if scalar {
			return out[0], nil
		}
		return out, nil
	}
	return bytes.Clone(raw), nil
}

func integer(b []byte, dt datatype) int64 {
	var u uint64
	for i := range b {
		j := i
		if !dt.bigEndian {
			j = len(b) - 1 - i
		}
		u = u<<8 | uint64(b[j])
	}
	if dt.signed && len(b) < 8 && u&(1<<(8*len(b)-1)) != 0 {
		u |= ^uint64(0) << (8 * len(b))
	}
	return int64(u)
}

// maxCollection bounds one global heap collection. The library makes them
// 4 KiB, or as large as the one object that needs more.
const maxCollection = 256 << 20

// vlenString reads a variable-length string element: its length, then the
// global heap collection and object index that hold its bytes. It returns
// the string and the absolute offset of its bytes.
func (f *file) vlenString(e []byte) (string, int64, error) {
	c := &cursor{b: e, f: f}
	n := uint64(c.u32())
	addr := c.addr()
	index := c.u32()
	if c.err != nil {
		return "", -1, c.err
	}
	if n == 0 && (addr == 0 || addr == undefined) {
		return "", -1, nil
	}
	if n > uint64(f.lim.Value) {
		return "", -1, f.limit("variable-length string of %d bytes > %d", n, f.lim.Value)
	}
	coll, err := f.collection(addr)
	if err != nil {
		return "", -1, err
	}
	obj, ok := coll.objects[index]
	if !ok {
		return "", -1, f.malformed("global heap collection at 0x%x has no object %d", addr, index)
	}
	if n > uint64(obj.size) {
		return "", -1, f.malformed("variable-length string of %d bytes in a heap object of %d", n, obj.size)
	}
	return string(coll.data[obj.off : obj.off+int(n)]), coll.start + int64(obj.off), nil
}

// A heapCollection is a global heap collection, read whole and indexed.
type heapCollection struct {
	data    []byte
	start   int64 // absolute offset of data
	objects map[uint32]heapObject
}

type heapObject struct{ off, size int }

// collection reads and indexes the global heap collection at addr, once
// per call of RootAttributes.
func (f *file) collection(addr uint64) (*heapCollection, error) {
	if hc, ok := f.heaps[addr]; ok {
		return hc, nil
	}
	start, err := f.abs(addr, "global heap collection")
	if err != nil {
		return nil, err
	}
	hdr, err := f.readAbs(start, min(int64(8+f.lenSize), f.size-start), "global heap collection")
	if err != nil {
		return nil, err
	}
	if len(hdr) < 8+f.lenSize || !bytes.HasPrefix(hdr, []byte("GCOL")) || hdr[4] != 1 {
		return nil, f.malformed("global heap collection at 0x%x lacks its GCOL signature", addr)
	}
	size := (&cursor{b: hdr, off: 8, f: f}).length()
	if size < uint64(8+f.lenSize) || size > maxCollection || size > uint64(f.size-start) {
		return nil, f.malformed("global heap collection at 0x%x of %d bytes", addr, size)
	}
	if err := f.block("global heap collection"); err != nil {
		return nil, err
	}
	b, err := f.readAbs(start, int64(size), "global heap collection")
	if err != nil {
		return nil, err
	}
	hc := &heapCollection{data: b, start: start, objects: map[uint32]heapObject{}}
	c := &cursor{b: b, off: 8 + f.lenSize, f: f}
	for c.rest() >= 8+f.lenSize {
		if len(hc.objects) >= f.lim.Messages {
			return nil, f.limit("global heap collection of more than %d objects", f.lim.Messages)
		}
		idx := c.u16()
		c.skip(2 + 4) // reference count, reserved
		n := c.length()
		if idx == 0 {
			break // free space: the rest of the collection
		}
		if n > uint64(c.rest()) {
			return nil, f.malformed("global heap object %d of %d bytes overruns its collection", idx, n)
		}
		if _, dup := hc.objects[uint32(idx)]; !dup {
			hc.objects[uint32(idx)] = heapObject{c.off, int(n)}
		}
		// Objects are padded to 8 bytes; the last one's padding may be
		// cut by the collection's end.
		c.off = min(c.off+int((n+7)&^7), len(b))
	}
	if f.heaps == nil {
		f.heaps = map[uint64]*heapCollection{}
	}
	f.heaps[addr] = hc
	return hc, nil
}
