package hdf5

import (
	"bytes"
	"math/bits"
)

// Dense attribute storage: attribute messages kept as objects of a fractal
// heap, found through a version 2 B-tree indexed by name. The library uses
// it when an object has more attributes than fit compactly (8 by default)
// or one too large for the header, in files written with libver 1.8 or
// later.

// maxTreeDepth bounds B-tree and indirect-block recursion; a depth of 8
// already indexes more records than any file holds.
const maxTreeDepth = 16

// A fractalHeap is what this reader needs of a fractal heap header.
type fractalHeap struct {
	addr       uint64
	idLen      int
	filtered   bool
	maxManaged uint64
	width      uint64
	startBlock uint64
	maxDirect  uint64
	maxBits    int // log2 of the heap's address space
	root       uint64
	rootRows   int
	hugeTree   uint64               // B-tree of huge objects
	offBytes   int                  // size of a block offset and of a heap ID's offset
	lenBytes   int                  // size of a heap ID's length
	directRows int                  // rows of any indirect block that hold direct blocks
	blocks     map[uint64][]byte    // direct and indirect blocks read
	huge       map[uint64][2]uint64 // huge object ID → address, length
}

// dense reads the attributes kept in the fractal heap at heapAddr through
// the name-index B-tree at treeAddr.
func (f *file) dense(heapAddr, treeAddr uint64) error {
	h, err := f.fractalHeap(heapAddr)
	if err != nil {
		return err
	}
	if treeAddr == undefined {
		return f.malformed("dense attribute storage without a name index")
	}
	return f.walkTree(treeAddr, func(rec []byte) error {
		if len(rec) < h.idLen {
			return f.malformed("B-tree record shorter than a heap ID")
		}
		obj, at, err := f.heapObject(h, rec[:h.idLen])
		if err != nil {
			return err
		}
		return f.attribute(obj, at, true)
	})
}

// fractalHeap reads a fractal heap header.
func (f *file) fractalHeap(addr uint64) (*fractalHeap, error) {
	if err := f.block("fractal heap header"); err != nil {
		return nil, err
	}
	start, err := f.abs(addr, "fractal heap")
	if err != nil {
		return nil, err
	}
	// Fixed fields, then the filter information the flag announces.
	n := int64(4 + 1 + 2 + 2 + 1 + 4 + 12*f.lenSize + 3*f.offsetSize + 2 + 2 + 2 + 2 + 4)
	b, err := f.readAbs(start, min(n, f.size-start), "fractal heap header")
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte("FRHP")) {
		return nil, f.malformed("fractal heap at 0x%x lacks its FRHP signature", addr)
	}
	c := &cursor{b: b, off: 4, f: f}
	if v := c.u8(); v != 0 {
		return nil, f.malformed("fractal heap version %d", v)
	}
	h := &fractalHeap{addr: addr}
	h.idLen = int(c.u16())
	filterLen := int(c.u16())
	c.u8() // flags
	h.maxManaged = uint64(c.u32())
	c.length() // next huge object ID
	h.hugeTree = c.addr()
	c.length() // free space in managed blocks
	c.addr()   // free-space manager
	for range 7 {
		c.length() // managed space, allocated space, iterator offset, managed count, huge size and count, tiny size
	}
	c.length() // tiny count
	h.width = uint64(c.u16())
	h.startBlock = c.length()
	h.maxDirect = c.length()
	h.maxBits = int(c.u16())
	c.u16() // starting rows of the root indirect block
	h.root = c.addr()
	h.rootRows = int(c.u16())
	if c.err != nil {
		return nil, c.err
	}
	if filterLen > 0 {
		// A filtered heap compresses its blocks: out of scope.
		return nil, f.unsupported("fractal heap with I/O filters")
	}
	end := c.off
	sum := c.u32()
	if c.err != nil {
		return nil, c.err
	}
	if got := checksum(b[:end]); got != sum {
		return nil, f.malformed("fractal heap header checksum %08x, stored %08x", got, sum)
	}
	pow2 := func(v uint64) bool { return v != 0 && v&(v-1) == 0 }
	if !pow2(h.width) || !pow2(h.startBlock) || !pow2(h.maxDirect) || h.maxDirect < h.startBlock ||
		h.maxBits < 1 || h.maxBits > 64 || h.idLen < 1 || h.idLen > 64 || h.maxDirect > 1<<30 || h.rootRows > 64 {
		return nil, f.malformed("fractal heap parameters: width %d, start block %d, max direct block %d, %d bits, ID of %d bytes, %d root rows",
			h.width, h.startBlock, h.maxDirect, h.maxBits, h.idLen, h.rootRows)
	}
	h.offBytes = (h.maxBits + 7) / 8
	h.lenBytes = min((log2(h.maxDirect)+7)/8, log2(h.maxManaged)/8+1)
	h.directRows = log2(h.maxDirect) - log2(h.startBlock) + 2
	h.blocks = map[uint64][]byte{}
	return h, nil
}

// log2 is the floor of log2 v, and 0 for 0.
func log2(v uint64) int {
	if v == 0 {
		return 0
	}
	return bits.Len64(v) - 1
}

// rowSize is the size of each block in row r of the doubling table.
func (h *fractalHeap) rowSize(r int) uint64 {
	if r == 0 {
		return h.startBlock
	}
	return h.startBlock << (r - 1)
}

// heapObject returns the bytes of the managed object id names, and their
// absolute offset.
func (f *file) heapObject(h *fractalHeap, id []byte) ([]byte, int64, error) {
	switch typ := id[0] >> 4 & 3; {
	case id[0]>>6 != 0:
		return nil, 0, f.malformed("heap ID version %d", id[0]>>6)
	case typ == 1:
		return f.hugeObject(h, id)
	case typ == 2:
		return nil, 0, f.unsupported("attribute stored as a tiny heap object")
	case typ != 0:
		return nil, 0, f.malformed("heap ID type %d", typ)
	}
	c := &cursor{b: id, off: 1, f: f}
	off := c.uint(h.offBytes)
	n := c.uint(h.lenBytes)
	if c.err != nil {
		return nil, 0, c.err
	}
	if n == 0 || n > h.maxDirect {
		return nil, 0, f.malformed("heap object of %d bytes", n)
	}
	if h.rootRows == 0 {
		return f.directObject(h, h.root, 0, h.startBlock, off, n)
	}
	return f.indirectObject(h, h.root, 0, h.rootRows, off, n, 0)
}

// hugeObject returns the bytes of a huge object: one too large for the
// heap's blocks, stored on its own and found through the heap's huge-object
// B-tree, or directly from the ID when the ID is wide enough to hold its
// address and length.
func (f *file) hugeObject(h *fractalHeap, id []byte) ([]byte, int64, error) {
	c := &cursor{b: id, off: 1, f: f}
	var addr, n uint64
	if len(id) >= 1+f.offsetSize+f.lenSize {
		addr, n = c.addr(), c.length()
	} else {
		want := c.uint(min(len(id)-1, 8))
		if h.huge == nil {
			// Index the huge-object B-tree once.
			h.huge = map[uint64][2]uint64{}
			err := f.walkTree(h.hugeTree, func(rec []byte) error {
				r := &cursor{b: rec, f: f}
				a, l, k := r.addr(), r.length(), r.length()
				if r.err != nil {
					return f.malformed("huge object record of %d bytes", len(rec))
				}
				if _, dup := h.huge[k]; !dup {
					h.huge[k] = [2]uint64{a, l}
				}
				return nil
			})
			if err != nil {
				return nil, 0, err
			}
		}
		loc, ok := h.huge[want]
		if !ok {
			return nil, 0, f.malformed("huge heap object %d not in its B-tree", want)
		}
		addr, n = loc[0], loc[1]
	}
	if c.err != nil {
		return nil, 0, c.err
	}
	if n > uint64(f.lim.Value) {
		return nil, 0, f.limit("attribute message of %d bytes > %d", n, f.lim.Value)
	}
	b, err := f.readAt(addr, int64(n), "huge heap object")
	if err != nil {
		return nil, 0, err
	}
	start, _ := f.abs(addr, "")
	return b, start, nil
}

// directObject reads n bytes at heap offset off from the direct block at
// addr, which starts at heap offset blockOff and holds size bytes.
func (f *file) directObject(h *fractalHeap, addr, blockOff, size, off, n uint64) ([]byte, int64, error) {
	rel := off - blockOff
	if off < blockOff || rel >= size || n > size-rel {
		return nil, 0, f.malformed("heap object at %d+%d outside its direct block", off, n)
	}
	b, ok := h.blocks[addr]
	if ok && (uint64(len(b)) != size || !bytes.HasPrefix(b, []byte("FHDB"))) {
		// The same address given two sizes, or as two kinds of block.
		return nil, 0, f.malformed("heap block at 0x%x used twice, differently", addr)
	}
	if !ok {
		if err := f.block("fractal heap direct block"); err != nil {
			return nil, 0, err
		}
		var err error
		if b, err = f.readAt(addr, int64(size), "fractal heap direct block"); err != nil {
			return nil, 0, err
		}
		if !bytes.HasPrefix(b, []byte("FHDB")) {
			return nil, 0, f.malformed("direct block at 0x%x lacks its FHDB signature", addr)
		}
		h.blocks[addr] = b
	}
	// The object must lie past the block's own header.
	if hdr := uint64(5 + f.offsetSize + h.offBytes); rel < hdr {
		return nil, 0, f.malformed("heap object at %d inside its block's header", off)
	}
	start, _ := f.abs(addr, "")
	return b[rel : rel+n], start + int64(rel), nil
}

// indirectObject finds the block holding heap offset off below the
// indirect block at addr, which starts at heap offset blockOff and has
// rows rows.
func (f *file) indirectObject(h *fractalHeap, addr, blockOff uint64, rows int, off, n uint64, depth int) ([]byte, int64, error) {
	if depth > maxTreeDepth {
		return nil, 0, f.limit("fractal heap nested deeper than %d", maxTreeDepth)
	}
	directRows := min(rows, h.directRows)
	entries := uint64(rows) * h.width
	size := uint64(4+1+f.offsetSize+h.offBytes) + entries*uint64(f.offsetSize) + 4
	b, ok := h.blocks[addr]
	if ok && (uint64(len(b)) != size || !bytes.HasPrefix(b, []byte("FHIB"))) {
		return nil, 0, f.malformed("heap block at 0x%x used twice, differently", addr)
	}
	if !ok {
		if err := f.block("fractal heap indirect block"); err != nil {
			return nil, 0, err
		}
		var err error
		if b, err = f.readAt(addr, int64(size), "fractal heap indirect block"); err != nil {
			return nil, 0, err
		}
		if !bytes.HasPrefix(b, []byte("FHIB")) {
			return nil, 0, f.malformed("indirect block at 0x%x lacks its FHIB signature", addr)
		}
		if err := f.verify(b, "fractal heap indirect block"); err != nil {
			return nil, 0, err
		}
		h.blocks[addr] = b
	}
	rel := off - blockOff
	if off < blockOff {
		return nil, 0, f.malformed("heap offset %d before its indirect block", off)
	}
	var rowStart uint64
	for r := range rows {
		span := h.width * h.rowSize(r)
		if rel >= rowStart+span {
			rowStart += span
			continue
		}
		col := (rel - rowStart) / h.rowSize(r)
		c := &cursor{b: b, off: 5 + f.offsetSize + h.offBytes + int(uint64(r)*h.width+col)*f.offsetSize, f: f}
		child := c.addr()
		if c.err != nil {
			return nil, 0, c.err
		}
		if child == undefined {
			return nil, 0, f.malformed("heap offset %d in an unallocated block", off)
		}
		childOff := blockOff + rowStart + col*h.rowSize(r)
		if r < directRows {
			return f.directObject(h, child, childOff, h.rowSize(r), off, n)
		}
		childRows := log2(h.rowSize(r)) - log2(h.startBlock*h.width) + 1
		if childRows < 1 || childRows > rows {
			return nil, 0, f.malformed("indirect block of %d rows", childRows)
		}
		return f.indirectObject(h, child, childOff, childRows, off, n, depth+1)
	}
	return nil, 0, f.malformed("heap offset %d past its indirect block", off)
}

// walkTree calls fn with every record of the version 2 B-tree at addr.
func (f *file) walkTree(addr uint64, fn func(rec []byte) error) error {
	if err := f.block("B-tree header"); err != nil {
		return err
	}
	n := int64(4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + f.offsetSize + 2 + f.lenSize + 4)
	b, err := f.readAt(addr, n, "B-tree header")
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(b, []byte("BTHD")) {
		return f.malformed("B-tree at 0x%x lacks its BTHD signature", addr)
	}
	if err := f.verify(b, "B-tree header"); err != nil {
		return err
	}
	c := &cursor{b: b, off: 4, f: f}
	if v := c.u8(); v != 0 {
		return f.malformed("B-tree version %d", v)
	}
	c.u8() // type
	t := &tree{f: f, nodeSize: uint64(c.u32()), recSize: int(c.u16())}
	depth := int(c.u16())
	c.skip(2) // split and merge percentages
	root := c.addr()
	rootRecs := int(c.u16())
	if c.err != nil {
		return c.err
	}
	if t.recSize < 1 || t.nodeSize < 16 || t.nodeSize > 1<<20 || depth > maxTreeDepth {
		return f.malformed("B-tree: node size %d, record size %d, depth %d", t.nodeSize, t.recSize, depth)
	}
	if root == undefined {
		return nil
	}
	t.sizes(depth)
	return t.node(root, depth, rootRecs, fn)
}

// A tree holds the sizes of a version 2 B-tree's nodes.
type tree struct {
	f        *file
	nodeSize uint64
	recSize  int
	// nrecSize is the size of a child's record count in internal nodes;
	// totalSize[d] the size of the total count below a child at depth d.
	nrecSize  int
	totalSize []int
}

// sizes works out the variable-width fields of internal nodes, as the
// library does from the node and record sizes.
func (t *tree) sizes(depth int) {
	const prefix = 4 + 1 + 1 + 4 // signature, version, type, checksum
	leafMax := (t.nodeSize - prefix) / uint64(t.recSize)
	t.nrecSize = log2(leafMax)/8 + 1
	t.totalSize = make([]int, depth+1)
	cum := leafMax
	for d := 1; d <= depth; d++ {
		ptr := uint64(t.f.offsetSize + t.nrecSize)
		if d > 1 {
			ptr += uint64(t.totalSize[d-1])
		}
		var max uint64
		if t.nodeSize > prefix+ptr {
			max = (t.nodeSize - prefix - ptr) / (uint64(t.recSize) + ptr)
		}
		cum = (max+1)*cum + max
		t.totalSize[d] = log2(cum)/8 + 1
	}
	t.totalSize[0] = log2(leafMax)/8 + 1
}

// node visits the node at addr, at depth (0 for a leaf), holding n records.
func (t *tree) node(addr uint64, depth, n int, fn func([]byte) error) error {
	f := t.f
	if err := f.block("B-tree node"); err != nil {
		return err
	}
	b, err := f.readAt(addr, int64(t.nodeSize), "B-tree node")
	if err != nil {
		return err
	}
	sig := "BTLF"
	if depth > 0 {
		sig = "BTIN"
	}
	if !bytes.HasPrefix(b, []byte(sig)) {
		return f.malformed("B-tree node at 0x%x lacks its %s signature", addr, sig)
	}
	c := &cursor{b: b, off: 6, f: f}
	recs := make([][]byte, 0, min(n, len(b)/t.recSize))
	for range n {
		rec := c.bytes(t.recSize)
		if c.err != nil {
			return f.malformed("B-tree node at 0x%x: %d records do not fit", addr, n)
		}
		recs = append(recs, rec)
	}
	type child struct {
		addr uint64
		n    int
	}
	var children []child
	if depth > 0 {
		for range n + 1 {
			a := c.addr()
			cn := c.uint(t.nrecSize)
			if depth > 1 {
				c.uint(t.totalSize[depth-1])
			}
			if c.err != nil {
				return f.malformed("B-tree node at 0x%x: child pointers do not fit", addr)
			}
			children = append(children, child{a, int(min(cn, uint64(len(b))))})
		}
	}
	// The checksum covers the used part of the node.
	end := c.off
	if end+4 > len(b) {
		return f.malformed("B-tree node at 0x%x: no room for its checksum", addr)
	}
	if err := f.verify(b[:end+4], "B-tree node"); err != nil {
		return err
	}
	// Records in key order: child 0, record 0, child 1, record 1, …
	for i := 0; i <= n; i++ {
		if depth > 0 {
			if err := t.node(children[i].addr, depth-1, children[i].n, fn); err != nil {
				return err
			}
		}
		if i < n {
			if err := fn(recs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
