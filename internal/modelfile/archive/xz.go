package archive

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"slices"

	"github.com/ulikunitz/xz/lzma"
)

// The xz container is decoded here, and only the LZMA2 data by the lzma
// package: the xz package sizes each block's dictionary from its header,
// up to 4 GiB, and allocates it before reading a byte, with no way to
// refuse. Here each block's dictionary is checked against the window limit
// first. Only the LZMA2 filter is read, as in the xz package.

var (
	xzMagic       = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	xzFooterMagic = []byte{'Y', 'Z'}
	crc64Table    = crc64.MakeTable(crc64.ECMA)
)

// errXZ is wrapped by every xz format error.
var errXZ = errors.New("xz")

func xzErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errXZ}, a...)...)
}

// xzCheckSize is the length of each integrity check type.
var xzCheckSize = [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}

// xzReader decodes the streams of an .xz file one after another.
type xzReader struct {
	cr     *countReader
	window int64
	err    error

	streams   int
	inStream  bool
	flags     [2]byte
	checkType byte
	records   [][2]int64 // unpadded and uncompressed size of each block

	block      io.Reader // the current block's LZMA2 data, or nil
	check      hash.Hash
	blockStart int64
	dataStart  int64
	declared   [2]int64 // compressed and uncompressed size from the header; -1 unknown
	out        int64

	// bad is the evidence of the first failed integrity check; the data is
	// handed over all the same.
	bad string
}

func newXZReader(r *bufio.Reader, window int64) *xzReader {
	return &xzReader{cr: &countReader{r: r}, window: window}
}

func (x *xzReader) Read(p []byte) (int, error) {
	for {
		if x.err != nil {
			return 0, x.err
		}
		if x.block == nil {
			x.err = x.next()
			continue
		}
		n, err := x.block.Read(p)
		if n > 0 {
			x.check.Write(p[:n])
			x.out += int64(n)
			if x.declared[1] >= 0 && x.out > x.declared[1] {
				x.err = xzErr("block at offset %d holds more than the %d bytes its header declares", x.blockStart, x.declared[1])
				return n, nil
			}
		}
		switch {
		case err == io.EOF:
			x.block = nil
			x.err = x.endBlock()
		case err != nil:
			if err == io.ErrUnexpectedEOF {
				x.err = io.ErrUnexpectedEOF
			} else {
				x.err = xzErr("block at offset %d: %v", x.blockStart, err)
			}
		}
		if n > 0 {
			return n, nil
		}
	}
}

// next reads what comes between blocks: a stream header, a block header,
// or an index and stream footer.
func (x *xzReader) next() error {
	if !x.inStream {
		return x.streamHeader()
	}
	x.blockStart = x.cr.n
	b, err := x.cr.ReadByte()
	if err != nil {
		return truncated(err)
	}
	if b == 0 {
		return x.index()
	}
	hdr := make([]byte, (int(b)+1)*4)
	hdr[0] = b
	if _, err := io.ReadFull(x.cr, hdr[1:]); err != nil {
		return truncated(err)
	}
	body := hdr[:len(hdr)-4]
	if crc32.ChecksumIEEE(body) != le32(hdr[len(hdr)-4:]) {
		return xzErr("block header at offset %d: bad CRC-32", x.blockStart)
	}
	flags := body[1]
	if flags&0x3c != 0 {
		return xzErr("block header at offset %d: reserved flags 0x%02x", x.blockStart, flags)
	}
	rest := bytes.NewReader(body[2:])
	x.declared = [2]int64{-1, -1}
	for i, bit := range []byte{0x40, 0x80} {
		if flags&bit != 0 {
			v, err := xzVarint(rest)
			if err != nil {
				return xzErr("block header at offset %d: %v", x.blockStart, err)
			}
			x.declared[i] = int64(min(v, 1<<62))
		}
	}
	var ids []uint64
	var props []byte
	for range int(flags&3) + 1 {
		id, err := xzVarint(rest)
		if err != nil {
			return xzErr("block header at offset %d: %v", x.blockStart, err)
		}
		n, err := xzVarint(rest)
		if err != nil || n > uint64(rest.Len()) {
			return xzErr("block header at offset %d: bad filter properties", x.blockStart)
		}
		props = make([]byte, n)
		rest.Read(props)
		ids = append(ids, id)
	}
	for rest.Len() > 0 {
		if c, _ := rest.ReadByte(); c != 0 {
			return xzErr("block header at offset %d: nonzero padding", x.blockStart)
		}
	}
	if len(ids) != 1 || ids[0] != 0x21 || len(props) != 1 {
		return xzErr("block at offset %d uses filters %#x: only LZMA2 alone is supported", x.blockStart, ids)
	}
	if props[0] > 40 {
		return xzErr("block at offset %d: LZMA2 dictionary property %d > 40", x.blockStart, props[0])
	}
	dict := lzma2Dict(props[0])
	if dict > x.window {
		return windowLimit("xz LZMA2 dictionary", dict, x.window)
	}
	rd, err := lzma.Reader2Config{DictCap: int(max(dict, lzma.MinDictCap))}.NewReader2(x.cr)
	if err != nil {
		return xzErr("block at offset %d: %v", x.blockStart, err)
	}
	x.dataStart, x.out, x.block = x.cr.n, 0, rd
	switch x.checkType {
	case 1:
		x.check = crc32.NewIEEE()
	case 4:
		x.check = crc64.New(crc64Table)
	case 10:
		x.check = sha256.New()
	default:
		x.check = nopHash{}
	}
	return nil
}

// lzma2Dict is the dictionary size an LZMA2 property byte (≤ 40) stands for.
func lzma2Dict(p byte) int64 {
	if p == 40 {
		return 1<<32 - 1
	}
	return int64(2|p&1) << (p/2 + 11)
}

// endBlock checks a finished block: its sizes, padding and check.
func (x *xzReader) endBlock() error {
	comp := x.cr.n - x.dataStart
	if x.declared[0] >= 0 && comp != x.declared[0] || x.declared[1] >= 0 && x.out != x.declared[1] {
		return xzErr("block at offset %d: sizes %d/%d differ from its header's %d/%d", x.blockStart, comp, x.out, x.declared[0], x.declared[1])
	}
	unpadded := x.cr.n - x.blockStart
	if err := x.padding(x.cr.n - x.blockStart); err != nil {
		return err
	}
	n := xzCheckSize[x.checkType]
	sum := make([]byte, n)
	if _, err := io.ReadFull(x.cr, sum); err != nil {
		return truncated(err)
	}
	if got := x.check.Sum(nil); len(got) == n {
		if x.checkType == 1 || x.checkType == 4 {
			// CRC-32 and CRC-64 are stored little-endian; Sum is big-endian.
			slices.Reverse(got)
		}
		if !bytes.Equal(got, sum) && x.bad == "" {
			x.bad = fmt.Sprintf("xz block at offset %d: check %x ≠ %x stored", x.blockStart, got, sum)
		}
	}
	x.records = append(x.records, [2]int64{unpadded + int64(n), x.out})
	return nil
}

// padding skips the zero bytes that align what precedes, length bytes
// long, to four bytes.
func (x *xzReader) padding(length int64) error {
	for ; length%4 != 0; length++ {
		c, err := x.cr.ReadByte()
		if err != nil {
			return truncated(err)
		}
		if c != 0 {
			return xzErr("nonzero padding at offset %d", x.cr.n-1)
		}
	}
	return nil
}

// streamHeader reads a stream header, after the padding between streams;
// io.EOF at the end of the last stream.
func (x *xzReader) streamHeader() error {
	if x.streams > 0 {
		pad := 0
		for {
			c, err := x.cr.r.Peek(1)
			if err != nil || c[0] != 0 {
				break
			}
			x.cr.ReadByte()
			pad++
		}
		if _, err := x.cr.r.Peek(1); err != nil {
			if pad%4 != 0 {
				return xzErr("stream padding of %d bytes is not a multiple of 4", pad)
			}
			return io.EOF
		}
	}
	at := x.cr.n
	var h [12]byte
	if _, err := io.ReadFull(x.cr, h[:]); err != nil {
		return truncated(err)
	}
	if !bytes.Equal(h[:6], xzMagic) {
		return xzErr("no stream header at offset %d", at)
	}
	if crc32.ChecksumIEEE(h[6:8]) != le32(h[8:]) {
		return xzErr("stream header at offset %d: bad CRC-32", at)
	}
	if h[6] != 0 || h[7]&0xf0 != 0 {
		return xzErr("stream header at offset %d: unsupported flags % x", at, h[6:8])
	}
	x.flags = [2]byte{h[6], h[7]}
	x.checkType = h[7] & 0x0f
	x.streams++
	x.inStream = true
	x.records = x.records[:0]
	return nil
}

// index reads a stream's index, whose indicator byte has been read, and
// the stream footer; it checks both against the blocks decoded.
func (x *xzReader) index() error {
	start := x.cr.n - 1
	h := crc32.NewIEEE()
	h.Write([]byte{0})
	tr := &teeByteReader{r: x.cr, h: h}
	n, err := xzVarint(tr)
	if err != nil {
		return truncatedOr(err, "index at offset %d: %v", start, err)
	}
	if n != uint64(len(x.records)) {
		return xzErr("index at offset %d lists %d blocks; the stream has %d", start, n, len(x.records))
	}
	for _, rec := range x.records {
		for _, want := range rec {
			v, err := xzVarint(tr)
			if err != nil {
				return truncatedOr(err, "index at offset %d: %v", start, err)
			}
			if int64(v) != want {
				return xzErr("index at offset %d does not match the blocks", start)
			}
		}
	}
	for (x.cr.n-start)%4 != 0 {
		c, err := tr.ReadByte()
		if err != nil {
			return truncated(err)
		}
		if c != 0 {
			return xzErr("index at offset %d: nonzero padding", start)
		}
	}
	size := x.cr.n - start
	var sum [4]byte
	if _, err := io.ReadFull(x.cr, sum[:]); err != nil {
		return truncated(err)
	}
	if h.Sum32() != le32(sum[:]) {
		return xzErr("index at offset %d: bad CRC-32", start)
	}
	var foot [12]byte
	if _, err := io.ReadFull(x.cr, foot[:]); err != nil {
		return truncated(err)
	}
	if crc32.ChecksumIEEE(foot[4:10]) != le32(foot[:]) || !bytes.Equal(foot[10:], xzFooterMagic) ||
		foot[8] != x.flags[0] || foot[9] != x.flags[1] || (int64(le32(foot[4:]))+1)*4 != size+4 {
		return xzErr("stream footer at offset %d does not match", x.cr.n-12)
	}
	x.inStream = false
	return nil
}

type teeByteReader struct {
	r *countReader
	h hash.Hash32
}

func (t *teeByteReader) ReadByte() (byte, error) {
	c, err := t.r.ReadByte()
	if err == nil {
		t.h.Write([]byte{c})
	}
	return c, err
}

// xzVarint reads a multibyte integer: seven bits a byte, low bits first,
// at most nine bytes.
func xzVarint(r io.ByteReader) (uint64, error) {
	var v uint64
	for i := 0; i < 9; i++ {
		c, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if c == 0 && i > 0 {
				return 0, errors.New("non-minimal integer")
			}
			return v, nil
		}
	}
	return 0, errors.New("integer longer than 9 bytes")
}

func truncated(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func truncatedOr(err error, format string, a ...any) error {
	if isEOF(err) {
		return io.ErrUnexpectedEOF
	}
	return xzErr(format, a...)
}

type nopHash struct{}

func (nopHash) Write(p []byte) (int, error) { return len(p), nil }
func (nopHash) Sum(b []byte) []byte         { return b }
func (nopHash) Reset()                      {}
func (nopHash) Size() int                   { return 0 }
func (nopHash) BlockSize() int              { return 1 }
