package archive

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/chainvet/chainvet/internal/inventory"
	"io"
	"io/fs"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"
)

// maxLink is the most bytes of a link member read for its target.
const maxLink = 4096

// walkLocal reads the members in [a, b) by their local headers alone, as a
// streaming reader does: where the directory is missing, or where bytes
// that no directory entry accounts for hold a member. hidden says the
// directory exists, so that each member found is itself a finding.
func (z *Zip) walkLocal(ctx context.Context, a, b int64, hidden bool) error {
	f := z.f
	for off := a; off+localLen <= b; {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(z.Entries) >= z.lim.Entries {
			z.entryLimit(off)
			return nil
		}
		h, err := readAt(f, off, localLen)
		if err != nil {
			return fmt.Errorf("reading zip local header: %w", err)
		}
		if len(h) < localLen || string(h[:4]) != sigLocal {
			if off != a {
				z.malformed(f.Path, off, fmt.Sprintf("%d bytes at offset %d belong to no member", b-off, off))
			}
			return nil
		}
		n, m := int(le16(h[26:])), int(le16(h[28:]))
		nm, err := readAt(f, off+localLen, n+m)
		if err != nil {
			return fmt.Errorf("reading zip local header: %w", err)
		}
		if len(nm) < n+m || off+localLen+int64(n+m) > b {
			z.malformed(f.Path, off, fmt.Sprintf("local header at offset %d is truncated", off))
			return nil
		}
		e := &Entry{
			Name: string(nm[:n]), LocalName: string(nm[:n]),
			Flags: le16(h[6:]), Method: le16(h[8:]), CRC32: le32(h[14:]),
			CompressedSize: int64(le32(h[18:])), Size: int64(le32(h[22:])),
			HeaderOffset: off, DataOffset: off + localLen + int64(n+m), Directory: -1, Mode: 0o644,
		}
		wide := zip64Extra(e, nm[n:], le32(h[18:]), le32(h[22:]), 0, false)
		next := e.DataOffset + e.CompressedSize
		if e.Flags&0x8 != 0 && e.CompressedSize == 0 {
			// The sizes follow the data, in a descriptor: only deflate
			// data says where it ends.
			c := int64(-1)
			if e.Method == 8 {
				if c, err = z.deflateEnd(ctx, e.DataOffset, b); err != nil {
					return err
				}
			}
			if c < 0 {
				e.CompressedSize = b - e.DataOffset
				next = b
				z.malformed(memberPath(f, e.Name), off, fmt.Sprintf("member at offset %d gives no sizes and its end cannot be found: the rest of the file was taken as its data", off))
			} else {
				e.CompressedSize = c
				next = e.DataOffset + c + z.readDescriptor(e, e.DataOffset+c, wide)
			}
		}
		if next > b {
			z.malformed(memberPath(f, e.Name), off, fmt.Sprintf("member data [%d, %d) runs past the end of the region it lies in (%d)", e.DataOffset, next, b))
			e.CompressedSize = max(0, b-e.DataOffset)
			next = b
		}
		z.Entries = append(z.Entries, e)
		z.note(e)
		if hidden {
			z.malformed(memberPath(f, e.Member), off,
				fmt.Sprintf("local header at offset %d (%s) is not in the central directory", off, quote(e.Name)))
		}
		off = max(next, off+1)
	}
	return nil
}

// readDescriptor reads the data descriptor at off into e and returns its
// length.
func (z *Zip) readDescriptor(e *Entry, off int64, wide bool) int64 {
	d, err := readAt(z.f, off, 24)
	if err != nil {
		return 0
	}
	n := int64(0)
	if len(d) >= 4 && string(d[:4]) == sigDescriptor {
		d, n = d[4:], 4
	}
	if wide && len(d) >= 20 {
		e.CRC32, e.Size = le32(d), int64(min(le64(d[12:]), 1<<62))
		return n + 20
	}
	if len(d) >= 12 {
		e.CRC32, e.Size = le32(d), int64(le32(d[8:]))
		return n + 12
	}
	return 0
}

// countReader counts the bytes a decoder takes from it. It is an
// io.ByteReader, so flate reads no further than the stream's end.
type countReader struct {
	r *bufio.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// deflateEnd returns the length of the deflate stream at off, ending at or
// before b, or -1 if it does not end cleanly. The output is thrown away,
// and bounded by the ratio limit.
func (z *Zip) deflateEnd(ctx context.Context, off, b int64) (int64, error) {
	cr := &countReader{r: bufio.NewReader(io.NewSectionReader(z.f, off, b-off))}
	fr := flate.NewReader(cr)
	defer fr.Close()
	most := (b-off)*z.lim.Ratio + ratioFloor
	buf := make([]byte, chunk)
	for out := int64(0); out <= most; {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := fr.Read(buf)
		out += int64(n)
		if err == io.EOF {
			return cr.n, nil
		}
		if err != nil {
			return -1, nil
		}
	}
	return -1, nil
}

// methodNames names the zip compression methods Open reads.
var methodNames = map[uint16]string{0: "stored", 8: "deflate", 12: "bzip2", 14: "lzma", 93: "zstd", 95: "xz"}

// Open returns the content of e. A stored member is a section of the file,
// neither read nor copied; its CRC-32 is checked if it is read from start
// to end, and a mismatch then joins z.Findings. Other members are
// decompressed into memory or a temporary file, within the limits, and
// checked at once. The func releases the temporary file.
//
// Open reports what it finds in e's data to z.Findings, which Report hands
// on. When e's content cannot be produced at all (its local header is
// unreadable, or its method unsupported) the error wraps ErrUnreadable and
// the reason is among the findings; other errors are I/O errors and ctx.
// Bytes are returned for damaged data and for members cut short by a limit:
// a payload before the break is still a payload.
func (z *Zip) Open(ctx context.Context, e *Entry) (io.ReaderAt, int64, func(), error) {
	f := z.f
	p := memberPath(f, e.Member)
	nop := func() {}
	if e.DataOffset < 0 {
		return nil, 0, nop, fmt.Errorf("%s: no local header: %w", e.Name, ErrUnreadable)
	}
	avail := max(0, min(e.CompressedSize, f.Size-e.DataOffset))
	sec := io.NewSectionReader(f, e.DataOffset, avail)
	var r io.Reader
	switch e.Method {
	case 0:
		if e.CompressedSize != e.Size {
			z.malformed(p, e.HeaderOffset, fmt.Sprintf("stored member declares %d compressed and %d uncompressed bytes; the %d stored bytes were scanned", e.CompressedSize, e.Size, avail))
			return sec, avail, nop, nil
		}
		if avail == 0 {
			if e.CRC32 != 0 {
				z.crcMismatch(p, e, 0)
			}
			return sec, 0, nop, nil
		}
		return &crcReader{r: sec, size: avail, want: e.CRC32, bad: func(got uint32) { z.crcMismatch(p, e, got) }}, avail, nop, nil
	case 8:
		fr := flate.NewReader(sec)
		defer fr.Close()
		r = fr
	case 12:
		r = bzip2.NewReader(sec)
	case 14:
		lr, err := zipLZMA(sec, e, z.lim.Window)
		if err != nil {
			z.decoderFailed(p, e, err)
			return nil, 0, nop, fmt.Errorf("%s: %w", e.Name, ErrUnreadable)
		}
		r = lr
	case 93:
		d, err := zstd.NewReader(sec, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(uint64(max(z.lim.Window, zstd.MinWindowSize))))
		if err != nil {
			z.decoderFailed(p, e, err)
			return nil, 0, nop, fmt.Errorf("%s: %w", e.Name, ErrUnreadable)
		}
		defer d.Close()
		r = d
	case 95:
		r = newXZReader(bufio.NewReader(sec), z.lim.Window)
	default:
		z.malformed(p, e.HeaderOffset, fmt.Sprintf("compression method %d is not supported: the member was not scanned", e.Method))
		return nil, 0, nop, fmt.Errorf("%s: method %d: %w", e.Name, e.Method, ErrUnreadable)
	}
	sp, err := fill(ctx, r, e.CompressedSize, z.lim, z.b)
	if err != nil {
		return nil, 0, nop, err
	}
	what := "decompressing (" + methodNames[e.Method] + ")"
	if e.Flags&0x41 != 0 {
		what = "encrypted member: " + what
	}
	switch {
	case reportSpool(z.add, f, p, sp, what):
	case sp.size != e.Size:
		z.malformed(p, e.HeaderOffset, fmt.Sprintf("member inflates to %d bytes; the directory says %d", sp.size, e.Size))
	case sp.crc != e.CRC32:
		z.crcMismatch(p, e, sp.crc)
	}
	return sp.ra, sp.size, sp.release, nil
}

func (z *Zip) crcMismatch(p string, e *Entry, got uint32) {
	z.add(finding(z.f, ruleCRC, p, e.HeaderOffset, fmt.Sprintf("CRC-32 of content %08x ≠ %08x in the directory", got, e.CRC32),
		"the member's checksum does not match its content: strict readers reject it, lenient loaders use it; it was scanned",
		"obtain an intact copy; treat a deliberate mismatch as an attempt to hide the member from scanners"))
}

// decoderFailed reports a decoder that would not start: a limit on its
// window, or a malformed header.
func (z *Zip) decoderFailed(p string, e *Entry, err error) {
	if le := (*limitError)(nil); errors.As(err, &le) {
		z.add(finding(z.f, ruleLimit, p, e.HeaderOffset, le.Error(),
			"the member's decoder asks for more memory than the limit: it was not scanned",
			"reject the file unless it is expected; raise the window limit to scan it"))
		return
	}
	z.malformed(p, e.HeaderOffset, fmt.Sprintf("%s: %v: the member was not scanned", methodNames[e.Method], err))
}

// A limitError is a decoder parameter past a limit.
type limitError struct{ what string }

func (e *limitError) Error() string { return e.what }

func windowLimit(what string, size, limit int64) error {
	return &limitError{fmt.Sprintf("%s of %d bytes > limit %d", what, size, limit)}
}

// zipLZMA reads method 14: a 4-byte version and properties-size header,
// the LZMA properties, then the raw stream, ending with an end marker when
// flag bit 1 is set and after e.Size bytes otherwise.
func zipLZMA(r io.Reader, e *Entry, window int64) (io.Reader, error) {
	var h [9]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("lzma header: %w", err)
	}
	if n := le16(h[2:]); n != 5 {
		return nil, fmt.Errorf("lzma properties size %d, want 5", n)
	}
	dict := int64(le32(h[5:]))
	size := uint64(e.Size)
	if e.Flags&0x2 != 0 {
		size = ^uint64(0) // unknown: the stream has an end marker
	} else {
		// The decoder needs no more window than there is output.
		dict = min(dict, max(e.Size, lzma.MinDictCap))
	}
	if dict > window {
		return nil, windowLimit("lzma dictionary", dict, window)
	}
	var hdr [13]byte
	hdr[0] = h[4]
	binary.LittleEndian.PutUint32(hdr[1:], uint32(dict))
	binary.LittleEndian.PutUint64(hdr[5:], size)
	return lzma.ReaderConfig{DictCap: int(window)}.NewReader(io.MultiReader(bytes.NewReader(hdr[:]), r))
}

// zip expands a zip archive.
func (x *expander) zip() error {
	z, err := OpenZip(x.ctx, x.f, x.lim)
	if err != nil {
		return err
	}
	return x.zipEntries(z, nil)
}

// ExpandZip is Expand for a zip already opened with OpenZip, for
// catalogers that look at the directory first. Entries for which skip
// returns true are passed over unread, unless they are links, which are
// always reported.
func ExpandZip(ctx context.Context, f *inventory.File, z *Zip, lim Limits, s inventory.Sink, skip func(*Entry) bool) error {
	lim = lim.withDefaults()
	ctx, b := withBudget(ctx, lim)
	x := &expander{ctx: ctx, f: f, lim: lim, s: s, b: b, names: newNamer()}
	if err := x.zipEntries(z, skip); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return nil
}

func (x *expander) zipEntries(z *Zip, skip func(*Entry) bool) error {
	z.Report(x.s)
	for _, e := range z.Entries {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		if e.IsDir() && e.CompressedSize == 0 && e.Size == 0 {
			continue
		}
		if skip != nil && skip(e) && e.Mode&fs.ModeSymlink == 0 {
			continue
		}
		if err := x.zipMember(z, e); err != nil {
			return err
		}
		z.Report(x.s)
	}
	return nil
}

func (x *expander) zipMember(z *Zip, e *Entry) error {
	p := memberPath(x.f, e.Member)
	ra, n, release, err := z.Open(x.ctx, e)
	defer release()
	if errors.Is(err, ErrUnreadable) {
		z.Report(x.s)
		return nil
	}
	if err != nil {
		return err
	}
	if e.Mode&fs.ModeSymlink != 0 {
		target := make([]byte, min(n, maxLink))
		k, _ := ra.ReadAt(target, 0)
		x.report(ruleLink, p, e.HeaderOffset, fmt.Sprintf("symbolic link %s → %s", quote(e.Name), quote(string(target[:k]))),
			"the archive holds a symbolic link: extracting it can make later members write outside the folder; it was not followed",
			"extract with a tool that refuses links, or remove the link from the archive")
		return nil
	}
	if strings.HasSuffix(e.Name, "/") {
		x.report(ruleMalformed, p, e.HeaderOffset, fmt.Sprintf("directory entry %s holds %d bytes of data", quote(e.Name), n),
			"a directory entry carries data that extractors drop: it was scanned",
			"rebuild the archive; find out what the data is")
	}
	return x.hand(e.Member, ra, n)
}
