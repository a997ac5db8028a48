// Package hdf5 reads the attributes of an HDF5 file's root group — where
// legacy Keras keeps a model's configuration — without reading datasets.
//
// It understands superblocks of versions 0 to 3 (after a user block of any
// power-of-two size from 512 bytes), object headers of versions 1 and 2
// with their continuation blocks, attribute messages of versions 1 to 3
// stored in the header or densely (a fractal heap indexed by a version 2
// B-tree), and attribute values that are integers, floats, fixed-length
// strings and variable-length strings (read from the global heap). Other
// datatypes come back as raw bytes. The checksums of version 2 structures
// are verified, as the HDF5 library verifies them (fractal-heap direct
// blocks excepted).
//
// Every read is bounded by [Limits]. Malformed structures wrap
// [ErrMalformed], structures this reader does not implement (shared
// messages, filtered heaps, tiny heap objects) [ErrUnsupported], and limits
// [ErrLimit]: in each case the attributes read before are returned with
// the error, and the caller must not treat the file as fully read.
package hdf5

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits bound the work one RootAttributes call does. A zero field takes
// its value from DefaultLimits.
type Limits struct {
	// Bytes is the most bytes read from the file, metadata and values.
	Bytes int64
	// Value is the largest attribute value, in bytes.
	Value int64
	// Attributes is the most attributes read.
	Attributes int
	// Messages is the most object header messages, over all blocks.
	Messages int
	// Blocks is the most header continuation blocks, heap blocks and
	// B-tree nodes visited.
	Blocks int
}

// DefaultLimits take the root group of any Keras file — a model_config of
// some megabytes — and keep a hostile file to a fraction of a second.
var DefaultLimits = Limits{
	// The configuration of the largest Keras models is a few MB of JSON.
	Bytes: 256 << 20,
	Value: 64 << 20,
	// Keras writes a handful; HDF5 tools rarely more than hundreds.
	Attributes: 4096,
	Messages:   1 << 16,
	Blocks:     4096,
}

func (l Limits) withDefaults() Limits {
	if l.Bytes <= 0 {
		l.Bytes = DefaultLimits.Bytes
	}
	if l.Value <= 0 {
		l.Value = DefaultLimits.Value
	}
	if l.Attributes <= 0 {
		l.Attributes = DefaultLimits.Attributes
	}
	if l.Messages <= 0 {
		l.Messages = DefaultLimits.Messages
	}
	if l.Blocks <= 0 {
		l.Blocks = DefaultLimits.Blocks
	}
	return l
}

// Errors RootAttributes returns, wrapped with where and why.
var (
	ErrMalformed   = errors.New("hdf5: malformed file")
	ErrUnsupported = errors.New("hdf5: unsupported structure")
	ErrLimit       = errors.New("hdf5: limit reached")
	// ErrNotHDF5 says there is no signature at all: the file is not HDF5.
	// It comes wrapped together with ErrMalformed.
	ErrNotHDF5 = errors.New("hdf5: no signature")
)

// Signature starts every HDF5 superblock.
var Signature = []byte("\x89HDF\r\n\x1a\n")

// maxUserBlock is the largest user block searched past for a superblock.
// The format allows any power of two from 512; HDF5 tools write a few KB.
const maxUserBlock = 1 << 30

// Is reports whether head, the first bytes of a file, starts an HDF5 file:
// the signature at 0 or after a user block of 512, 1024, 2048… bytes that
// head holds.
func Is(head []byte) bool {
	if bytes.HasPrefix(head, Signature) {
		return true
	}
	for off := 512; off+len(Signature) <= len(head); off *= 2 {
		if bytes.Equal(head[off:off+len(Signature)], Signature) {
			return true
		}
	}
	return false
}

// An Attribute is one attribute of the root group.
type Attribute struct {
	Name string
	// Value is a string, []string, int64, []int64, float64, []float64, or
	// []byte (the raw elements of any other datatype); nil for an empty
	// dataspace.
	Value any
	// Offset is where the first element's bytes are in the file: in the
	// object header or heap for fixed-size values, in the global heap for
	// variable-length strings. -1 when unknown.
	Offset int64
	// Dense reports an attribute kept in the fractal heap rather than in
	// the object header.
	Dense bool
}

// RootAttributes reads the attributes of the root group of the HDF5 file
// that r holds (size bytes). It returns the attributes read so far with
// any error.
func RootAttributes(ctx context.Context, r io.ReaderAt, size int64, lim Limits) ([]Attribute, error) {
	f := &file{ctx: ctx, r: r, size: size, lim: lim.withDefaults()}
	if err := f.superblock(); err != nil {
		return nil, err
	}
	err := f.objectHeader(f.root)
	return f.attrs, err
}

// undefined is the address that means "none".
const undefined = ^uint64(0)

// file is the state of one RootAttributes call.
type file struct {
	ctx  context.Context
	r    io.ReaderAt
	size int64
	lim  Limits
	read int64

	base                int64 // absolute offset addresses are relative to
	offsetSize, lenSize int
	root                uint64 // address of the root group's object header

	attrs    []Attribute
	messages int
	blocks   int
	heaps    map[uint64]*heapCollection // global heap collections read
}

func (f *file) malformed(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), ErrMalformed)
}

func (f *file) unsupported(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), ErrUnsupported)
}

func (f *file) limit(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), ErrLimit)
}

// readAbs reads n bytes at absolute offset off.
func (f *file) readAbs(off int64, n int64, what string) ([]byte, error) {
	if err := f.ctx.Err(); err != nil {
		return nil, err
	}
	if n < 0 || off < 0 || off > f.size || n > f.size-off {
		return nil, f.malformed("%s: %d bytes at offset %d run past the end of the file (%d bytes)", what, n, off, f.size)
	}
	if f.read+n > f.lim.Bytes {
		return nil, f.limit("%s: reading %d more bytes would pass the limit of %d", what, n, f.lim.Bytes)
	}
	f.read += n
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, f.malformed("%s: file ends at %d", what, f.size)
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}

// abs turns a file address into an absolute offset.
func (f *file) abs(addr uint64, what string) (int64, error) {
	if addr == undefined || addr >= uint64(f.size) || int64(addr) > f.size-f.base {
		return 0, f.malformed("%s: address 0x%x outside the file", what, addr)
	}
	return f.base + int64(addr), nil
}

// readAt reads n bytes at file address addr.
func (f *file) readAt(addr uint64, n int64, what string) ([]byte, error) {
	off, err := f.abs(addr, what)
	if err != nil {
		return nil, err
	}
	return f.readAbs(off, n, what)
}

// block counts one more structure visited against the limit.
func (f *file) block(what string) error {
	f.blocks++
	if f.blocks > f.lim.Blocks {
		return f.limit("more than %d blocks (at %s)", f.lim.Blocks, what)
	}
	return nil
}

// superblock finds and reads the superblock.
func (f *file) superblock() error {
	at := int64(-1)
	for off := int64(0); off+int64(len(Signature)) <= f.size && off <= maxUserBlock; {
		b, err := f.readAbs(off, int64(len(Signature)), "signature")
		if err != nil {
			return err
		}
		if bytes.Equal(b, Signature) {
			at = off
			break
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	if at < 0 {
		return fmt.Errorf("%w at 0 or after a user block: %w", ErrNotHDF5, ErrMalformed)
	}
	// The fixed part of every version fits in 24 bytes; read the largest
	// superblock (version 0/1 with 8-byte fields) or what the file holds.
	n := min(f.size-at, 8+16+4+4*8+40)
	b, err := f.readAbs(at, n, "superblock")
	if err != nil {
		return err
	}
	if len(b) < 12 {
		return f.malformed("superblock: truncated")
	}
	c := &cursor{b: b, off: 8, f: f}
	version := c.u8()
	switch version {
	case 0, 1:
		c.skip(4) // free-space, root symbol table entry, reserved, shared header versions
		f.offsetSize, f.lenSize = int(c.u8()), int(c.u8())
		c.skip(1 + 2 + 2 + 4) // reserved, group leaf and internal node K, consistency flags
		if version == 1 {
			c.skip(4) // indexed storage internal node K, reserved
		}
		if err := f.checkSizes(); err != nil {
			return err
		}
		base := c.addr()
		c.addr() // free-space info
		c.addr() // end of file
		c.addr() // driver information block
		c.addr() // root symbol table entry: link name offset
		f.root = c.addr()
		if c.err != nil {
			return c.err
		}
		if err := f.setBase(base, at); err != nil {
			return err
		}
	case 2, 3:
		f.offsetSize, f.lenSize = int(c.u8()), int(c.u8())
		c.skip(1) // consistency flags
		if err := f.checkSizes(); err != nil {
			return err
		}
		base := c.addr()
		c.addr() // superblock extension
		c.addr() // end of file
		f.root = c.addr()
		end := c.off
		sum := c.u32()
		if c.err != nil {
			return c.err
		}
		if got := checksum(b[:end]); got != sum {
			return f.malformed("superblock checksum %08x, stored %08x", got, sum)
		}
		if err := f.setBase(base, at); err != nil {
			return err
		}
	default:
		return f.unsupported("superblock version %d", version)
	}
	return nil
}

func (f *file) checkSizes() error {
	ok := func(n int) bool { return n == 2 || n == 4 || n == 8 }
	if !ok(f.offsetSize) || !ok(f.lenSize) {
		return f.malformed("superblock: size of offsets %d, of lengths %d (want 2, 4 or 8)", f.offsetSize, f.lenSize)
	}
	return nil
}

// setBase records the base address that addresses are relative to. The
// library takes the superblock's own offset, whatever the field says, so
// that a file stays readable after a user block is put in front of it
// with or without the field adjusted: so does this reader.
func (f *file) setBase(base uint64, at int64) error {
	if base == undefined {
		return f.malformed("superblock: undefined base address")
	}
	f.base = at
	return nil
}

// A cursor reads little-endian fields from a block, recording the first
// overrun instead of returning it from every call.
type cursor struct {
	b   []byte
	off int
	f   *file
	err error
}

func (c *cursor) need(n int) bool {
	if c.err != nil {
		return false
	}
	if n < 0 || n > len(c.b)-c.off {
		c.err = c.f.malformed("structure truncated: %d bytes wanted at %d of %d", n, c.off, len(c.b))
		return false
	}
	return true
}

func (c *cursor) skip(n int) {
	if c.need(n) {
		c.off += n
	}
}

func (c *cursor) bytes(n int) []byte {
	if !c.need(n) {
		return nil
	}
	p := c.b[c.off : c.off+n]
	c.off += n
	return p
}

func (c *cursor) u8() uint8 {
	if !c.need(1) {
		return 0
	}
	v := c.b[c.off]
	c.off++
	return v
}

func (c *cursor) u16() uint16 {
	if !c.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(c.b[c.off:])
	c.off += 2
	return v
}

func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(c.b[c.off:])
	c.off += 4
	return v
}

// uint reads an n-byte little-endian unsigned integer (n ≤ 8).
func (c *cursor) uint(n int) uint64 {
	if !c.need(n) {
		return 0
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(c.b[c.off+i])
	}
	c.off += n
	return v
}

// addr reads an address; all ones (of its size) is undefined.
func (c *cursor) addr() uint64 {
	n := c.f.offsetSize
	v := c.uint(n)
	if n < 8 && v == 1<<(8*n)-1 {
		return undefined
	}
	return v
}

// length reads a length field.
func (c *cursor) length() uint64 { return c.uint(c.f.lenSize) }

func (c *cursor) rest() int { return len(c.b) - c.off }
