package hdf5

import (
	"bytes"
	"fmt"
)

// Header message types this reader acts on.
const (
	msgNil          = 0x0000
	msgAttribute    = 0x000C
	msgContinuation = 0x0010
	msgAttrInfo     = 0x0015
)

// Message flag bits.
const (
	flagConstant = 0x01
	flagShared   = 0x02
)

// maxHeaderBlock bounds one object header chunk: the library never writes
// more than a few KB for a group; a chunk holding large attributes stays
// under 64 KiB per message.
const maxHeaderBlock = 16 << 20

// A span is a run of header messages to read: a chunk of the header.
type span struct {
	addr   uint64
	length uint64
}

// objectHeader reads the object header at addr and the attributes in it.
func (f *file) objectHeader(addr uint64) error {
	start, err := f.abs(addr, "object header")
	if err != nil {
		return err
	}
	sig, err := f.readAbs(start, min(16, f.size-start), "object header")
	if err != nil {
		return err
	}
	if bytes.HasPrefix(sig, []byte("OHDR")) {
		return f.headerV2(addr)
	}
	return f.headerV1(addr)
}

// headerV1 reads a version 1 object header: a 16-byte prefix, then
// messages with 8-byte envelopes aligned to 8 bytes.
func (f *file) headerV1(addr uint64) error {
	pre, err := f.readAt(addr, 16, "object header prefix")
	if err != nil {
		return err
	}
	c := &cursor{b: pre, f: f}
	if v := c.u8(); v != 1 {
		return f.malformed("object header at 0x%x: version %d", addr, v)
	}
	c.skip(1)
	total := int(c.u16())
	c.skip(4) // reference count
	size := uint64(c.u32())
	queue := []span{{addr + 16, size}}
	seen := 0
	for len(queue) > 0 {
		sp := queue[0]
		queue = queue[1:]
		if err := f.block("header continuation"); err != nil {
			return err
		}
		if sp.length > maxHeaderBlock {
			return f.limit("object header chunk of %d bytes > %d", sp.length, maxHeaderBlock)
		}
		b, err := f.readAt(sp.addr, int64(sp.length), "object header chunk")
		if err != nil {
			return err
		}
		base, _ := f.abs(sp.addr, "")
		// The library covers every chunk with messages, free space with
		// NIL ones, each padded to 8 bytes, and counts them all: a chunk
		// that does not parse so is not one.
		c := &cursor{b: b, f: f}
		for c.rest() > 0 {
			if c.rest() < 8 || seen == total {
				return f.malformed("object header at 0x%x: %d bytes of chunk at 0x%x after %d of %d messages", addr, c.rest(), sp.addr, seen, total)
			}
			typ := c.u16()
			n := int(c.u16())
			flags := c.u8()
			c.skip(3)
			data := c.bytes(n)
			if c.err != nil {
				return fmt.Errorf("object header at 0x%x: message %d: %w", addr, seen, c.err)
			}
			if n%8 != 0 {
				return f.malformed("object header at 0x%x: message %d of %d bytes, not a multiple of 8", addr, seen, n)
			}
			seen++
			next, err := f.message(typ, flags, data, base+int64(c.off-n))
			if err != nil {
				return err
			}
			queue = append(queue, next...)
		}
	}
	if seen < total {
		return f.malformed("object header at 0x%x: %d of %d messages found", addr, seen, total)
	}
	return nil
}

// headerV2 reads a version 2 object header: "OHDR", a variable prefix,
// messages with 4- or 6-byte envelopes, a checksum; continuation blocks
// start "OCHK" and end with a checksum.
func (f *file) headerV2(addr uint64) error {
	start, _ := f.abs(addr, "")
	// The prefix is at most 4+1+1+16+4+8 bytes.
	pre, err := f.readAbs(start, min(34, f.size-start), "object header prefix")
	if err != nil {
		return err
	}
	c := &cursor{b: pre, f: f}
	c.skip(4)
	if v := c.u8(); v != 2 {
		return f.malformed("object header at 0x%x: OHDR version %d", addr, v)
	}
	flags := c.u8()
	if flags&0x20 != 0 {
		c.skip(16) // times
	}
	if flags&0x10 != 0 {
		c.skip(4) // attribute phase change values
	}
	size := c.uint(1 << (flags & 3))
	if c.err != nil {
		return c.err
	}
	order := flags&0x04 != 0
	prefix := uint64(c.off)
	if size > maxHeaderBlock {
		return f.limit("object header chunk of %d bytes > %d", size, maxHeaderBlock)
	}
	first, err := f.readAt(addr, int64(prefix+size+4), "object header")
	if err != nil {
		return err
	}
	if err := f.verify(first, "object header"); err != nil {
		return err
	}
	queue, err := f.messagesV2(first[prefix:prefix+size], start+int64(prefix), order)
	if err != nil {
		return err
	}
	for len(queue) > 0 {
		sp := queue[0]
		queue = queue[1:]
		if err := f.block("header continuation"); err != nil {
			return err
		}
		if sp.length > maxHeaderBlock || sp.length < 8 {
			return f.malformed("continuation block of %d bytes", sp.length)
		}
		b, err := f.readAt(sp.addr, int64(sp.length), "continuation block")
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(b, []byte("OCHK")) {
			return f.malformed("continuation block at 0x%x lacks its OCHK signature", sp.addr)
		}
		if err := f.verify(b, "continuation block"); err != nil {
			return err
		}
		base, _ := f.abs(sp.addr, "")
		next, err := f.messagesV2(b[4:len(b)-4], base+4, order)
		if err != nil {
			return err
		}
		queue = append(queue, next...)
	}
	return nil
}

// messagesV2 reads the messages of one version 2 chunk. Fewer bytes than
// an envelope at the end are a gap.
func (f *file) messagesV2(b []byte, base int64, order bool) ([]span, error) {
	env := 4
	if order {
		env = 6
	}
	var queue []span
	c := &cursor{b: b, f: f}
	for c.rest() >= env {
		typ := uint16(c.u8())
		n := int(c.u16())
		flags := c.u8()
		if order {
			c.skip(2)
		}
		data := c.bytes(n)
		if c.err != nil {
			return nil, c.err
		}
		next, err := f.message(typ, flags, data, base+int64(c.off-n))
		if err != nil {
			return nil, err
		}
		queue = append(queue, next...)
	}
	return queue, nil
}

// verify checks the lookup3 checksum in the last 4 bytes of b.
func (f *file) verify(b []byte, what string) error {
	if len(b) < 4 {
		return f.malformed("%s: too short for a checksum", what)
	}
	n := len(b) - 4
	want := uint32(b[n]) | uint32(b[n+1])<<8 | uint32(b[n+2])<<16 | uint32(b[n+3])<<24
	if got := checksum(b[:n]); got != want {
		return f.malformed("%s: checksum %08x, stored %08x", what, got, want)
	}
	return nil
}

// message acts on one header message whose data starts at absolute offset
// at, and returns any continuation it names.
func (f *file) message(typ uint16, flags uint8, data []byte, at int64) ([]span, error) {
	f.messages++
	if f.messages > f.lim.Messages {
		return nil, f.limit("more than %d header messages", f.lim.Messages)
	}
	switch typ {
	case msgContinuation:
		c := &cursor{b: data, f: f}
		sp := span{c.addr(), c.length()}
		if c.err != nil {
			return nil, c.err
		}
		return []span{sp}, nil
	case msgAttribute:
		if flags&flagShared != 0 {
			return nil, f.unsupported("attribute message shared through the shared-message table")
		}
		return nil, f.attribute(data, at, false)
	case msgAttrInfo:
		return nil, f.attributeInfo(data)
	}
	return nil, nil
}

// attributeInfo reads an attribute info message; its fractal heap, when
// there is one, holds attributes stored densely.
func (f *file) attributeInfo(data []byte) error {
	c := &cursor{b: data, f: f}
	if v := c.u8(); v != 0 {
		return f.malformed("attribute info message version %d", v)
	}
	flags := c.u8()
	if flags&1 != 0 {
		c.skip(2) // maximum creation index
	}
	heap := c.addr()
	names := c.addr()
	if c.err != nil {
		return c.err
	}
	if heap == undefined {
		return nil
	}
	return f.dense(heap, names)
}
