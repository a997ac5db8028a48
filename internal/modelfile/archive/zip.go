package archive

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Zip record signatures and fixed lengths (PKWARE APPNOTE.TXT, 4.3).
const (
	sigLocal      = "PK\x03\x04"
	sigCentral    = "PK\x01\x02"
	sigEnd        = "PK\x05\x06"
	sigEnd64      = "PK\x06\x06"
	sigLocator64  = "PK\x06\x07"
	sigDescriptor = "PK\x07\x08"

	localLen     = 30
	centralLen   = 46
	endLen       = 22
	end64Len     = 56
	locator64Len = 20
	maxComment   = 65535
)

// maxDirectory is the most bytes of central directory read, so that a
// forged directory size cannot make OpenZip hold a file's worth of names:
// 100,000 entries with long names and extra fields need about 30 MiB.
const maxDirectory = 128 << 20

// maxLayoutFindings caps the findings about overlaps and stray bytes: an
// archive of a million overlapping entries (a "quine" bomb) needs ten of
// them to be understood, not a million.
const maxLayoutFindings = 10

// A Zip is a zip archive's directory, read tolerantly: what a strict reader
// would reject is kept, and described in Findings.
//
// Its methods may be called from several goroutines at once.
type Zip struct {
	// Entries are the members in central-directory order, then any found
	// only by their local headers, in file order.
	Entries []*Entry
	// Start is the offset of the first local header: where the archive
	// really begins. It is the length of any data put in front of it.
	Start int64
	// Findings are the anomalies found while reading the directory and the
	// local headers, and those Open finds in member data. Report hands the
	// new ones to a sink.
	Findings []inventory.Finding

	f        *inventory.File
	lim      Limits
	b        *budget
	dirStart int64 // where the central directory was read; f.Size without one
	byName   map[string][]*Entry
	names    *namer
	limited  bool // the entry limit was reached

	mu       sync.Mutex // guards Findings and reported
	reported int
}

// An Entry is one member of a Zip.
type Entry struct {
	// Name is the central-directory name: the one Python's zipfile and
	// PyTorch's reader use. For a member found only by its local header,
	// it is the local name.
	Name string
	// LocalName is the name in the member's local header.
	LocalName string
	Method    uint16
	Flags     uint16
	CRC32     uint32
	// CompressedSize and Size are the directory's (zip64 extra fields
	// applied).
	CompressedSize, Size int64
	// HeaderOffset is the absolute offset of the local header, with the
	// directory's offsets shifted by any prefix as Python's zipfile does.
	HeaderOffset int64
	// DataOffset is the absolute offset of the member's data, or -1 when
	// the local header could not be read.
	DataOffset int64
	// Mode comes from the external attributes; it tells symbolic links and
	// directories.
	Mode fs.FileMode
	// Member is the name the entry is handed over as: Name, or Name#2,
	// Name#3… for later copies of a name, so that every copy has a path.
	Member string
	// Directory is the offset of the entry's central-directory record, or
	// -1 for a member found only by its local header.
	Directory int64
}

// IsDir reports whether the entry is a directory.
func (e *Entry) IsDir() bool { return e.Mode.IsDir() || strings.HasSuffix(e.Name, "/") }

// endRecord is what the end-of-central-directory records say.
type endRecord struct {
	pos     int64 // offset of the record the directory ends at: the zip64 end record if there is one
	count   uint64
	dirSize uint64
	dirOff  uint64
	zip64   bool
}

// OpenZip reads the directory of the zip archive f: the end record (found
// in the last 64 KiB + 22 bytes, so a zip appended to anything is found),
// zip64 records, the central directory, and every member's local header,
// to compare names and find where the data starts. It never reads member
// data, except to find the end of deflated members that only their local
// headers describe. Anomalies become Findings; the error is for I/O and ctx.
func OpenZip(ctx context.Context, f *inventory.File, lim Limits) (*Zip, error) {
	lim = lim.withDefaults()
	_, b := withBudget(ctx, lim)
	z := &Zip{f: f, lim: lim, b: b, dirStart: f.Size, byName: map[string][]*Entry{}, names: newNamer()}
	end, err := z.readEnd()
	if err != nil {
		return nil, err
	}
	if end == nil {
		z.add(finding(f, ruleMalformed, f.Path, -1, "no end-of-central-directory record",
			"the zip has no directory (truncated?): members were recovered from their local headers",
			"obtain an intact copy; readers that need the directory cannot open this file, streaming readers can"))
		start := int64(bytes.Index(f.Head, []byte(sigLocal)))
		if start >= 0 {
			if err := z.walkLocal(ctx, start, f.Size, false); err != nil {
				return nil, err
			}
		}
		z.Start = max(start, 0)
		return z, nil
	}
	if err := z.readDirectory(ctx, end); err != nil {
		return nil, err
	}
	for _, e := range z.Entries {
		z.note(e)
	}
	if err := z.readLocals(ctx); err != nil {
		return nil, err
	}
	if err := z.layout(ctx); err != nil {
		return nil, err
	}
	return z, nil
}

// Lookup returns the entries named name, in directory order.
func (z *Zip) Lookup(name string) []*Entry { return z.byName[name] }

// Report hands the findings not yet reported to s.
func (z *Zip) Report(s inventory.Sink) {
	z.mu.Lock()
	fs := z.Findings[z.reported:]
	z.reported = len(z.Findings)
	z.mu.Unlock()
	for _, fd := range fs {
		s.Finding(fd)
	}
}

func (z *Zip) add(fd inventory.Finding) {
	z.mu.Lock()
	z.Findings = append(z.Findings, fd)
	z.mu.Unlock()
}

func (z *Zip) malformed(p string, off int64, evidence string) {
	z.add(finding(z.f, ruleMalformed, p, off, evidence,
		"the zip archive is malformed: readers disagree on what it holds; everything readable was scanned",
		"obtain an intact copy, or rebuild the archive with a standard tool"))
}

// readAt reads up to n bytes at off; a short read at the end of the file is
// not an error. Bytes that f.Head or f.Tail hold are not read again: the
// result may alias them, and must not be changed.
func readAt(f *inventory.File, off int64, n int) ([]byte, error) {
	if off < 0 || off >= f.Size || n <= 0 {
		return nil, nil
	}
	end := min(off+int64(n), f.Size)
	if b, ok := held(f, off, end); ok {
		return b, nil
	}
	b := make([]byte, end-off)
	k, err := f.ReadAt(b, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return b[:k], nil
}

// held returns bytes [off, end) of f if Head or Tail holds them.
func held(f *inventory.File, off, end int64) ([]byte, bool) {
	if end <= int64(len(f.Head)) {
		return f.Head[off:end], true
	}
	if t := f.Size - int64(len(f.Tail)); len(f.Tail) > 0 && off >= t && end <= f.Size {
		return f.Tail[off-t : end-t], true
	}
	return nil, false
}

// section returns a reader of bytes [off, off+n) of f, from memory if
// Head or Tail holds them.
func section(f *inventory.File, off, n int64) io.Reader {
	if b, ok := held(f, off, off+n); ok {
		return bytes.NewReader(b)
	}
	return bufio.NewReaderSize(io.NewSectionReader(f, off, n), 64<<10)
}

// lastBytes returns the last n bytes of f, from Head and Tail where they
// hold them.
func lastBytes(f *inventory.File, n int64) ([]byte, error) {
	n = min(n, f.Size)
	switch {
	case f.Whole():
		return f.Head[int64(len(f.Head))-n:], nil
	case int64(len(f.Tail)) >= n:
		return f.Tail[int64(len(f.Tail))-n:], nil
	case int64(len(f.Head)+len(f.Tail)) == f.Size:
		b := append(slices.Clip(f.Head), f.Tail...)
		return b[int64(len(b))-n:], nil
	}
	b, err := readAt(f, f.Size-n, int(n))
	if err != nil {
		return nil, fmt.Errorf("reading zip end record: %w", err)
	}
	return b, nil
}

// findEnd returns the offset of the end-of-central-directory record within
// b, or -1: the last signature with room for the fixed record after it,
// as Python's zipfile takes it.
func findEnd(b []byte) int {
	for i := bytes.LastIndex(b, []byte(sigEnd)); i >= 0; i = bytes.LastIndex(b[:i], []byte(sigEnd)) {
		if i+endLen <= len(b) {
			return i
		}
	}
	return -1
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// readEnd finds the end records; nil means there is none.
func (z *Zip) readEnd() (*endRecord, error) {
	f := z.f
	b, err := lastBytes(f, endLen+maxComment)
	if err != nil {
		return nil, err
	}
	i := findEnd(b)
	if i < 0 {
		return nil, nil
	}
	pos := f.Size - int64(len(b)) + int64(i)
	r := b[i : i+endLen]
	end := &endRecord{pos: pos, count: uint64(le16(r[10:])), dirSize: uint64(le32(r[12:])), dirOff: uint64(le32(r[16:]))}
	switch clen, after := int(le16(r[20:])), len(b)-i-endLen; {
	case clen > after:
		z.malformed(f.Path, pos, fmt.Sprintf("end record's comment length %d runs past the end of the file (%d bytes left)", clen, after))
	case clen < after:
		z.malformed(f.Path, pos+endLen+int64(clen), fmt.Sprintf("%d bytes follow the end of the zip archive", after-clen))
	}
	if disk, dirDisk := le16(r[4:]), le16(r[6:]); disk != 0 || dirDisk != 0 {
		z.malformed(f.Path, pos, fmt.Sprintf("end record names disk %d (directory on disk %d): a spanned archive", disk, dirDisk))
	}
	if pos < locator64Len {
		return end, nil
	}
	loc, err := readAt(f, pos-locator64Len, locator64Len)
	if err != nil {
		return nil, fmt.Errorf("reading zip64 locator: %w", err)
	}
	if len(loc) < locator64Len || string(loc[:4]) != sigLocator64 {
		return end, nil
	}
	// Python's zipfile looks for the zip64 end record right before the
	// locator, whatever offset the locator gives; try that first.
	at := pos - locator64Len - end64Len
	r64, err := readAt(f, at, end64Len)
	if err != nil {
		return nil, fmt.Errorf("reading zip64 end record: %w", err)
	}
	if len(r64) < end64Len || string(r64[:4]) != sigEnd64 {
		at = int64(le64(loc[8:]))
		if r64, err = readAt(f, at, end64Len); err != nil {
			return nil, fmt.Errorf("reading zip64 end record: %w", err)
		}
		if len(r64) < end64Len || string(r64[:4]) != sigEnd64 {
			z.malformed(f.Path, pos-locator64Len, fmt.Sprintf("zip64 locator points to offset %d, where there is no zip64 end record", le64(loc[8:])))
			return end, nil
		}
	}
	end.pos, end.zip64 = at, true
	end.count, end.dirSize, end.dirOff = le64(r64[32:]), le64(r64[40:]), le64(r64[48:])
	return end, nil
}

// readDirectory parses the central directory. The directory is taken to
// end where the end record begins, and the offsets in it are shifted by
// the difference between where it is and where it says it is: that is how
// Python's zipfile reads an archive with data in front of it.
func (z *Zip) readDirectory(ctx context.Context, end *endRecord) error {
	f := z.f
	dirOff := int64(min(end.dirOff, uint64(f.Size)))
	size := int64(min(end.dirSize, uint64(f.Size)))
	start := end.pos - size
	if size > end.pos {
		z.malformed(f.Path, end.pos, fmt.Sprintf("central directory size %d exceeds the end record's offset %d", end.dirSize, end.pos))
		start = min(dirOff, end.pos)
		size = end.pos - start
	}
	shift := start - dirOff
	z.dirStart = start
	if size > maxDirectory {
		z.add(finding(f, ruleLimit, f.Path, start, fmt.Sprintf("central directory of %d bytes > limit %d", size, maxDirectory),
			"the zip's directory is larger than the limit: the entries past it were not scanned",
			"unpack the archive and scan the contents"))
		size = maxDirectory
	}
	r := section(f, start, size)
	off := start
	var hdr [centralLen]byte
	for off < start+size {
		if len(z.Entries)&0x3ff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if len(z.Entries) >= z.lim.Entries {
			z.entryLimit(off)
			break
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if !isEOF(err) {
				return fmt.Errorf("reading zip central directory: %w", err)
			}
			z.malformed(f.Path, off, fmt.Sprintf("central directory truncated at offset %d (%d of %d bytes)", off, off-start, end.dirSize))
			break
		}
		if string(hdr[:4]) != sigCentral {
			z.malformed(f.Path, off, fmt.Sprintf("no central-directory header at offset %d (found % x)", off, hdr[:4]))
			break
		}
		n, m, k := int(le16(hdr[28:])), int(le16(hdr[30:])), int(le16(hdr[32:]))
		rest := make([]byte, n+m+k)
		if _, err := io.ReadFull(r, rest); err != nil {
			if !isEOF(err) {
				return fmt.Errorf("reading zip central directory: %w", err)
			}
			z.malformed(f.Path, off, fmt.Sprintf("central directory truncated in the record at offset %d", off))
			break
		}
		e := &Entry{
			Name:           string(rest[:n]),
			Flags:          le16(hdr[8:]),
			Method:         le16(hdr[10:]),
			CRC32:          le32(hdr[16:]),
			CompressedSize: int64(le32(hdr[20:])),
			Size:           int64(le32(hdr[24:])),
			HeaderOffset:   int64(le32(hdr[42:])),
			Directory:      off,
		}
		e.Mode = zipMode(le16(hdr[4:]), le32(hdr[38:]))
		zip64Extra(e, rest[n:n+m], le32(hdr[20:]), le32(hdr[24:]), le32(hdr[42:]), true)
		e.HeaderOffset += shift
		z.Entries = append(z.Entries, e)
		off += int64(centralLen + n + m + k)
	}
	if got := uint64(len(z.Entries)); got != end.count && (end.zip64 || uint16(got) != uint16(end.count)) && !z.limited {
		z.malformed(f.Path, end.pos, fmt.Sprintf("central directory holds %d entries; the end record says %d", got, end.count))
	}
	return nil
}

func (z *Zip) entryLimit(off int64) {
	if z.limited {
		return
	}
	z.limited = true
	z.add(finding(z.f, ruleLimit, z.f.Path, off, fmt.Sprintf("zip archive has more than %d entries", z.lim.Entries),
		"the archive has more members than the limit: the rest were not scanned",
		"unpack it and scan the contents, or raise the archive entry limit if the archive is legitimate"))
}

func isEOF(err error) bool { return err == io.EOF || err == io.ErrUnexpectedEOF }

// zip64Extra applies a zip64 extended-information extra field: it holds
// the 64-bit values of the fields saturated at 0xFFFFFFFF, in order (a
// local header has no offset field). It reports whether there was one.
func zip64Extra(e *Entry, extra []byte, csize, size, off uint32, central bool) bool {
	for len(extra) >= 4 {
		id, n := le16(extra), int(le16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			return false
		}
		data := extra[:n]
		extra = extra[n:]
		if id != 0x0001 {
			continue
		}
		next := func() (int64, bool) {
			if len(data) < 8 {
				return 0, false
			}
			v := le64(data)
			data = data[8:]
			return int64(min(v, 1<<62)), true
		}
		if size == 0xFFFFFFFF {
			if v, ok := next(); ok {
				e.Size = v
			}
		}
		if csize == 0xFFFFFFFF {
			if v, ok := next(); ok {
				e.CompressedSize = v
			}
		}
		if central && off == 0xFFFFFFFF {
			if v, ok := next(); ok {
				e.HeaderOffset = v
			}
		}
		return true
	}
	return false
}

// zipMode reads the file type from a central-directory record's external
// attributes: Unix modes in the high 16 bits when the record was made on
// Unix, the MS-DOS directory bit otherwise.
func zipMode(madeBy uint16, ext uint32) fs.FileMode {
	const (
		unix = 3
		osx  = 19
	)
	switch madeBy >> 8 {
	case unix, osx:
		return unixMode(ext >> 16)
	}
	if ext&0x10 != 0 {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

// unixMode converts a Unix st_mode to an fs.FileMode.
func unixMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & 0xf000 {
	case 0x4000:
		mode |= fs.ModeDir
	case 0xa000:
		mode |= fs.ModeSymlink
	case 0x1000:
		mode |= fs.ModeNamedPipe
	case 0x2000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0x6000:
		mode |= fs.ModeDevice
	case 0xc000:
		mode |= fs.ModeSocket
	}
	return mode
}

// note names a new entry's member, and reports a duplicate name, a name
// that climbs out of the folder or holds a NUL byte, and encryption flags.
func (z *Zip) note(e *Entry) {
	f := z.f
	var n int
	e.Member, n = z.names.unique(e.Name)
	z.byName[e.Name] = append(z.byName[e.Name], e)
	p := memberPath(f, e.Member)
	off := e.Directory
	if off < 0 {
		off = e.HeaderOffset
	}
	if n > 1 {
		z.add(finding(f, ruleDuplicate, p, off,
			fmt.Sprintf("%s appears %s time (record at offset %d), scanned as %s", quote(e.Name), ordinal(n), off, quote(e.Member)),
			"the archive holds several members of this name: readers differ on which one they load; every copy was scanned",
			"rebuild the archive with one member per name, and find out where the other copy came from"))
	}
	if why := traversal(e.Name); why != "" {
		z.add(traversalFinding(f, p, off, why, e.Name))
	}
	if i := strings.IndexByte(e.Name, 0); i >= 0 {
		z.add(finding(f, ruleName, p, off,
			fmt.Sprintf("name %s holds a NUL byte: Python's zipfile reads it as %s", quote(e.Name), quote(e.Name[:i])),
			"readers disagree on this member's name",
			"rebuild the archive with plain names"))
	}
	if e.Flags&0x61 != 0 {
		z.add(finding(f, ruleEncrypted, p, e.HeaderOffset, fmt.Sprintf("general-purpose flags 0x%04x: %s", e.Flags, flagNames(e.Flags)),
			"the member is marked encrypted or patched: scanners skip it while some loaders ignore the flag; its bytes were scanned as stored",
			"rebuild the archive without encryption; reject the file if it should not be encrypted"))
	}
}

func traversalFinding(f *inventory.File, p string, off int64, why, name string) inventory.Finding {
	return finding(f, ruleTraversal, p, off, why+": "+quote(name),
		"the member's name points outside the extraction folder: extracting the archive writes there",
		"do not extract the archive with a tool that follows such names; reject it or rename the member")
}

func ordinal(n int) string {
	switch n {
	case 2:
		return "a 2nd"
	case 3:
		return "a 3rd"
	}
	return fmt.Sprintf("a %dth", n)
}

func flagNames(fl uint16) string {
	var s []string
	if fl&0x1 != 0 {
		s = append(s, "encrypted")
	}
	if fl&0x20 != 0 {
		s = append(s, "compressed patched data")
	}
	if fl&0x40 != 0 {
		s = append(s, "strong encryption")
	}
	return strings.Join(s, ", ")
}

// readLocals reads every entry's local header: the name in it, and where
// the data begins.
func (z *Zip) readLocals(ctx context.Context) error {
	f := z.f
	for i, e := range z.Entries {
		if i&0x3ff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		p := memberPath(f, e.Member)
		e.DataOffset = -1
		if e.HeaderOffset < 0 || e.HeaderOffset+localLen > f.Size {
			z.malformed(p, e.Directory, fmt.Sprintf("local header offset %d lies outside the file (size %d)", e.HeaderOffset, f.Size))
			continue
		}
		h, err := readAt(f, e.HeaderOffset, localLen+len(e.Name))
		if err != nil {
			return fmt.Errorf("reading zip local header: %w", err)
		}
		if len(h) < localLen || string(h[:4]) != sigLocal {
			z.malformed(p, e.HeaderOffset, fmt.Sprintf("no local header at offset %d (found % x)", e.HeaderOffset, h[:min(4, len(h))]))
			continue
		}
		n, m := int(le16(h[26:])), int64(le16(h[28:]))
		if len(h) >= localLen+n {
			e.LocalName = string(h[localLen : localLen+n])
		} else {
			ln, err := readAt(f, e.HeaderOffset+localLen, n)
			if err != nil {
				return fmt.Errorf("reading zip local header: %w", err)
			}
			e.LocalName = string(ln)
		}
		e.DataOffset = e.HeaderOffset + localLen + int64(n) + m
		if e.LocalName != e.Name {
			z.add(finding(f, ruleName, p, e.HeaderOffset,
				fmt.Sprintf("local name %s ≠ central %s", quote(e.LocalName), quote(e.Name)),
				"the local header names another file than the central directory: streaming and directory readers see different members; the central name was used",
				"rebuild the archive; find out why the names differ"))
		}
	}
	return nil
}

// span is the bytes [from, to) of an entry: local header and data.
type span struct {
	from, to int64
	e        *Entry
}

// layout checks where the members lie: data past the end of the file,
// members that overlap each other or the directory, and bytes that belong
// to no member. Bytes in front of the first member are prefix data; a
// local header among stray bytes is a member hidden from the directory,
// and is added to the entries.
func (z *Zip) layout(ctx context.Context) error {
	f := z.f
	var spans []span
	for _, e := range z.Entries {
		if e.DataOffset < 0 {
			continue
		}
		end := e.DataOffset + e.CompressedSize
		if end > f.Size {
			z.malformed(memberPath(f, e.Member), e.HeaderOffset,
				fmt.Sprintf("member data [%d, %d) runs past the end of the file (size %d)", e.DataOffset, end, f.Size))
		} else if end > z.dirStart {
			z.malformed(memberPath(f, e.Member), e.HeaderOffset,
				fmt.Sprintf("member data [%d, %d) runs into the central directory at %d", e.DataOffset, end, z.dirStart))
		}
		spans = append(spans, span{e.HeaderOffset, min(end, f.Size), e})
	}
	slices.SortStableFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })

	z.Start = z.dirStart
	if len(spans) > 0 {
		z.Start = spans[0].from
	}
	overlaps, strays := 0, 0
	at := int64(0) // everything before at is accounted for
	var prev *Entry
	gap := func(a, b int64) error {
		if a >= b || z.limited {
			// Past the entry limit, the members not read lie in gaps.
			return nil
		}
		if prev != nil && prev.Flags&0x8 != 0 {
			a += z.descriptorLen(a, b)
			if a >= b {
				return nil
			}
		}
		h, err := readAt(f, a, 4)
		if err != nil {
			return fmt.Errorf("reading zip: %w", err)
		}
		if string(h) == sigLocal {
			if a < z.Start {
				z.Start = a
			}
			return z.walkLocal(ctx, a, b, true)
		}
		if prev == nil {
			return nil // prefix data: reported below
		}
		if strays++; strays <= maxLayoutFindings {
			z.malformed(f.Path, a, fmt.Sprintf("%d bytes at offset %d belong to no member", b-a, a))
		}
		return nil
	}
	for _, s := range spans {
		if s.from < at && prev != nil {
			if overlaps++; overlaps <= maxLayoutFindings {
				z.malformed(memberPath(f, s.e.Member), s.from,
					fmt.Sprintf("member at offset %d overlaps %s, which ends at %d", s.from, quote(prev.Member), at))
			}
		} else if err := gap(at, s.from); err != nil {
			return err
		}
		if s.to > at {
			at, prev = s.to, s.e
		}
	}
	if err := gap(at, z.dirStart); err != nil {
		return err
	}
	if overlaps > maxLayoutFindings || strays > maxLayoutFindings {
		z.malformed(f.Path, -1, fmt.Sprintf("%d overlapping members and %d runs of stray bytes in all", overlaps, strays))
	}
	if z.Start > 0 {
		head, err := readAt(f, 0, int(min(z.Start, 16)))
		if err != nil {
			return fmt.Errorf("reading zip: %w", err)
		}
		z.add(finding(f, rulePrefix, f.Path, 0,
			fmt.Sprintf("%d bytes before the first local header (starting % x)", z.Start, head),
			"data precedes the zip archive: the file is a polyglot that other loaders read as another format; both were scanned",
			"reject the file unless the prefix is expected (a self-extracting stub); do not load it with a loader that checks the leading bytes"))
	}
	return nil
}

// descriptorLen returns the length of the data descriptor at a, which
// follows a member whose sizes were not known when its header was written.
func (z *Zip) descriptorLen(a, b int64) int64 {
	h, err := readAt(z.f, a, 28)
	if err != nil {
		return 0
	}
	// With or without its optional signature; with 32- or 64-bit sizes.
	// The right length is the one after which the next record starts.
	for _, n := range []int64{16, 24, 12, 20} {
		if n > b-a || int64(len(h)) < n {
			continue
		}
		if (n == 16 || n == 24) && string(h[:4]) != sigDescriptor {
			continue
		}
		if a+n == b || int64(len(h)) >= n+4 && string(h[n:n+4]) == sigLocal {
			return n
		}
	}
	return 0
}
