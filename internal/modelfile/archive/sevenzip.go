package archive

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/bits"

	"github.com/bodgit/sevenzip"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/ulikunitz/xz/lzma"
)

// 7z archives are read by github.com/bodgit/sevenzip, after the header has
// been parsed here once more, with limits. The library sizes its tables by
// counts in the header (up to 2^32 entries, hundreds of gigabytes for a
// forged count), lets decoders allocate the dictionaries the header asks
// for, and indexes its tables with numbers from the header unchecked. The
// parser below follows the library's reading of the header byte for byte,
// so the values it checks are the values the library will use; an archive
// it rejects is reported as malformed and not given to the library. What
// is left to chance (a decoder's panic on forged data) is recovered.

// Header limits, beyond Limits.Entries for counts of files and streams.
const (
	maxHeader7z = 64 << 20 // bytes of (decoded) header: 100,000 files with long names take ~20 MiB
	maxCoders7z = 32       // coders in a folder, and streams of one coder: 7-Zip writes at most 4
	maxProps7z  = 256      // bytes of coder properties: the largest, AES's, take 18
	sig7zLen    = 32       // signature header
)

// Property ids of the 7z header (7zFormat.txt).
const (
	k7End = iota
	k7Header
	k7ArchiveProperties
	k7AdditionalStreamsInfo
	k7MainStreamsInfo
	k7FilesInfo
	k7PackInfo
	k7UnpackInfo
	k7SubStreamsInfo
	k7Size
	k7CRC
	k7Folder
	k7CodersUnpackSize
	k7NumUnpackStream
	k7EmptyStream
	k7EmptyFile
	k7Anti
	k7Name
	k7CTime
	k7ATime
	k7MTime
	k7WinAttributes
	k7Comment
	k7EncodedHeader
	k7StartPos
	k7Dummy
)

// methods7z are the coders the library decodes, by method id.
var methods7z = map[string]string{
	"\x00": "copy", "\x03": "delta", "\x03\x01\x01": "lzma", "\x21": "lzma2", "\x03\x04\x01": "ppmd",
	"\x03\x03\x01\x03": "bcj", "\x03\x03\x01\x1b": "bcj2", "\x03\x03\x02\x05": "ppc", "\x03\x03\x05\x01": "arm",
	"\x03\x03\x08\x05": "sparc", "\x0a": "arm64", "\x04\x01\x08": "deflate", "\x04\x02\x02": "bzip2",
	"\x04\xf7\x11\x01": "zstd", "\x04\xf7\x11\x02": "brotli", "\x04\xf7\x11\x04": "lz4",
}

const aes7z = "\x06\xf1\x07\x01"

// errFormat7z is wrapped by every header error.
var errFormat7z = errors.New("7z header")

func bad7z(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errFormat7z}, a...)...)
}

type coder7 struct {
	id      string
	in, out uint64
	props   []byte
}

type folder7 struct {
	coders  []coder7
	in, out uint64
	bind    [][2]uint64 // in, out
	packed  []uint64
	sizes   []uint64
}

// unpackSize is the size of the folder's output: the last output stream
// no bind pair consumes, as the library takes it.
func (f *folder7) unpackSize() uint64 {
	for i := len(f.sizes) - 1; i >= 0; i-- {
		bound := false
		for _, b := range f.bind {
			bound = bound || b[1] == uint64(i)
		}
		if !bound {
			return f.sizes[i]
		}
	}
	if len(f.sizes) > 0 {
		return f.sizes[len(f.sizes)-1]
	}
	return 0
}

type streams7 struct {
	pack      bool
	packPos   uint64
	packSizes []uint64
	folders   []folder7 // nil without unpack info
	folderCRC []uint32  // nil, or one per folder (0 undefined)
	sub       bool
	numStream []uint64 // per folder
	subSizes  bool
	substream uint64 // sum of numStream
}

type header7 struct {
	end          int64 // where the packed streams must end: the header's offset
	streams      *streams7
	files        uint64
	emptyStreams uint64
}

// parser7 reads a 7z header from memory the way the library does.
type parser7 struct {
	b     []byte
	off   int
	limit uint64 // Limits.Entries
}

// errLimit7 says the header is past a limit: more files or streams than
// Limits.Entries, or more bytes than maxHeader7z.
var errLimit7 = errors.New("7z header past a limit")

func (p *parser7) byte() (byte, error) {
	if p.off >= len(p.b) {
		return 0, bad7z("truncated at %d", p.off)
	}
	c := p.b[p.off]
	p.off++
	return c, nil
}

func (p *parser7) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(p.b)-p.off) {
		return nil, bad7z("truncated at %d", p.off)
	}
	b := p.b[p.off : p.off+int(n)]
	p.off += int(n)
	return b, nil
}

// number reads the 7z variable-length integer: the count of leading one
// bits of the first byte is the count of bytes that follow.
func (p *parser7) number() (uint64, error) {
	c, err := p.byte()
	if err != nil {
		return 0, err
	}
	l := bits.LeadingZeros8(^c)
	var v uint64
	if l < 7 {
		v = uint64(c&(1<<(8-l)-1)) << (8 * l)
	}
	for i := range l {
		d, err := p.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(d) << (8 * i)
	}
	return v, nil
}

// count reads a number the library sizes a table by, held to most: past
// it the header is malformed.
func (p *parser7) count(what string, nonZero bool, most uint64) (uint64, error) {
	v, err := p.number()
	if err != nil {
		return 0, err
	}
	if nonZero && v == 0 {
		return 0, bad7z("%s is zero", what)
	}
	if v > most {
		return 0, bad7z("%s %d > %d", what, v, most)
	}
	return v, nil
}

// entries reads a count of files or streams, held to Limits.Entries: past
// it the archive is too large to scan.
func (p *parser7) entries(what string, nonZero bool) (uint64, error) {
	v, err := p.number()
	if err != nil {
		return 0, err
	}
	if nonZero && v == 0 {
		return 0, bad7z("%s is zero", what)
	}
	if v > p.limit {
		return 0, fmt.Errorf("%w: %s %d > %d", errLimit7, what, v, p.limit)
	}
	return v, nil
}

func (p *parser7) want(id byte, where string) error {
	c, err := p.byte()
	if err != nil {
		return err
	}
	if c != id {
		return bad7z("%s: property 0x%02x, want 0x%02x", where, c, id)
	}
	return nil
}

// bools reads n bits, high bit first.
func (p *parser7) bools(n uint64) ([]bool, error) {
	if n == 0 {
		return nil, bad7z("empty bit vector")
	}
	raw, err := p.bytes((n + 7) / 8)
	if err != nil {
		return nil, err
	}
	v := make([]bool, n)
	for i := range v {
		v[i] = raw[i/8]&(0x80>>(i%8)) != 0
	}
	return v, nil
}

// optionalBools reads an "all defined" byte, then the bits if it is 0.
func (p *parser7) optionalBools(n uint64) ([]bool, error) {
	if n == 0 {
		return nil, bad7z("empty bit vector")
	}
	all, err := p.byte()
	if err != nil {
		return nil, err
	}
	if all == 0 {
		return p.bools(n)
	}
	v := make([]bool, n)
	for i := range v {
		v[i] = true
	}
	return v, nil
}

func (p *parser7) crcs(n uint64) ([]uint32, error) {
	defined, err := p.optionalBools(n)
	if err != nil {
		return nil, err
	}
	out := make([]uint32, n)
	for i, d := range defined {
		if d {
			b, err := p.bytes(4)
			if err != nil {
				return nil, err
			}
			out[i] = le32(b)
		}
	}
	return out, nil
}

func (p *parser7) packInfo(s *streams7) error {
	var err error
	if s.packPos, err = p.number(); err != nil {
		return err
	}
	n, err := p.entries("pack streams", true)
	if err != nil {
		return err
	}
	id, err := p.byte()
	if err != nil {
		return err
	}
	if id == k7Size {
		s.packSizes = make([]uint64, n)
		for i := range s.packSizes {
			if s.packSizes[i], err = p.number(); err != nil {
				return err
			}
		}
		if id, err = p.byte(); err != nil {
			return err
		}
	}
	if id == k7CRC {
		if _, err = p.crcs(n); err != nil {
			return err
		}
		if id, err = p.byte(); err != nil {
			return err
		}
	}
	if id != k7End {
		return bad7z("pack info: property 0x%02x", id)
	}
	s.pack = true
	return nil
}

func (p *parser7) folder() (folder7, error) {
	var f folder7
	n, err := p.count("coders", true, maxCoders7z)
	if err != nil {
		return f, err
	}
	for range n {
		v, err := p.byte()
		if err != nil {
			return f, err
		}
		id, err := p.bytes(uint64(v & 0xf))
		if err != nil {
			return f, err
		}
		c := coder7{id: string(id), in: 1, out: 1}
		if v&0x10 != 0 {
			if c.in, err = p.count("coder inputs", true, maxCoders7z); err != nil {
				return f, err
			}
			if c.out, err = p.count("coder outputs", true, maxCoders7z); err != nil {
				return f, err
			}
		}
		if v&0x20 != 0 {
			size, err := p.count("coder properties", true, maxProps7z)
			if err != nil {
				return f, err
			}
			if c.props, err = p.bytes(size); err != nil {
				return f, err
			}
		}
		f.coders = append(f.coders, c)
		f.in += c.in
		f.out += c.out
	}
	if f.in < f.out {
		return f, bad7z("folder has %d inputs < %d outputs", f.in, f.out)
	}
	for range f.out - 1 {
		in, err := p.count("bind pair input", false, f.in-1)
		if err != nil {
			return f, err
		}
		out, err := p.count("bind pair output", false, f.out-1)
		if err != nil {
			return f, err
		}
		f.bind = append(f.bind, [2]uint64{in, out})
	}
	packed := f.in - (f.out - 1)
	if packed == 1 {
		for i := range f.in {
			bound := false
			for _, b := range f.bind {
				bound = bound || b[0] == i
			}
			if !bound {
				f.packed = append(f.packed, i)
			}
		}
		if len(f.packed) == 0 {
			return f, bad7z("folder has no unbound input")
		}
	} else {
		for range packed {
			i, err := p.count("packed stream index", false, f.in-1)
			if err != nil {
				return f, err
			}
			f.packed = append(f.packed, i)
		}
	}
	return f, nil
}

func (p *parser7) unpackInfo(s *streams7) error {
	if err := p.want(k7Folder, "unpack info"); err != nil {
		return err
	}
	n, err := p.entries("folders", true)
	if err != nil {
		return err
	}
	if ext, err := p.byte(); err != nil || ext != 0 {
		return cmpErr(err, bad7z("external folders"))
	}
	s.folders = make([]folder7, 0, n)
	for range n {
		f, err := p.folder()
		if err != nil {
			return err
		}
		s.folders = append(s.folders, f)
	}
	if err := p.want(k7CodersUnpackSize, "unpack info"); err != nil {
		return err
	}
	for i := range s.folders {
		f := &s.folders[i]
		f.sizes = make([]uint64, f.out)
		for j := range f.sizes {
			if f.sizes[j], err = p.number(); err != nil {
				return err
			}
		}
	}
	id, err := p.byte()
	if err != nil {
		return err
	}
	if id == k7CRC {
		if s.folderCRC, err = p.crcs(n); err != nil {
			return err
		}
		if id, err = p.byte(); err != nil {
			return err
		}
	}
	if id != k7End {
		return bad7z("unpack info: property 0x%02x", id)
	}
	return nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

func (p *parser7) subStreamsInfo(s *streams7) error {
	if s.folders == nil {
		return bad7z("substreams without unpack info")
	}
	s.sub = true
	s.numStream = make([]uint64, len(s.folders))
	for i := range s.numStream {
		s.numStream[i] = 1
	}
	id, err := p.byte()
	if err != nil {
		return err
	}
	if id == k7NumUnpackStream {
		for i := range s.numStream {
			if s.numStream[i], err = p.entries("streams in a folder", false); err != nil {
				return err
			}
		}
		if id, err = p.byte(); err != nil {
			return err
		}
	}
	for _, n := range s.numStream {
		if s.substream += n; s.substream > p.limit {
			return fmt.Errorf("%w: more than %d streams", errLimit7, p.limit)
		}
	}
	if id == k7Size {
		s.subSizes = true
		for i, n := range s.numStream {
			var total uint64
			for range max(n, 1) - 1 {
				v, err := p.number()
				if err != nil {
					return err
				}
				if total += v; total < v || total > s.folders[i].unpackSize() {
					return bad7z("substream sizes exceed folder %d's size", i)
				}
			}
		}
		if id, err = p.byte(); err != nil {
			return err
		}
	}
	if id == k7CRC {
		if s.substream == 0 {
			return bad7z("checksums of no streams")
		}
		if _, err = p.crcs(s.substream); err != nil {
			return err
		}
		if id, err = p.byte(); err != nil {
			return err
		}
	}
	if id != k7End {
		return bad7z("substreams info: property 0x%02x", id)
	}
	return nil
}

func (p *parser7) streamsInfo() (*streams7, error) {
	s := &streams7{}
	id, err := p.byte()
	if err != nil {
		return nil, err
	}
	if id == k7PackInfo {
		if err := p.packInfo(s); err != nil {
			return nil, err
		}
		if id, err = p.byte(); err != nil {
			return nil, err
		}
	}
	if id == k7UnpackInfo {
		if err := p.unpackInfo(s); err != nil {
			return nil, err
		}
		if id, err = p.byte(); err != nil {
			return nil, err
		}
	}
	if id == k7SubStreamsInfo {
		if err := p.subStreamsInfo(s); err != nil {
			return nil, err
		}
		if id, err = p.byte(); err != nil {
			return nil, err
		}
	}
	if id != k7End {
		return nil, bad7z("streams info: property 0x%02x", id)
	}
	return s, nil
}

// filesInfo reads the file properties the library knows; each must fill
// exactly the length it declares, as 7-Zip reads them.
func (p *parser7) filesInfo(h *header7) error {
	var err error
	if h.files, err = p.entries("files", true); err != nil {
		return err
	}
	for {
		prop, err := p.byte()
		if err != nil {
			return err
		}
		if prop == k7End {
			return nil
		}
		length, err := p.number()
		if err != nil {
			return err
		}
		if length > uint64(len(p.b)-p.off) {
			return bad7z("file property 0x%02x of %d bytes runs past the header", prop, length)
		}
		start := p.off
		switch prop {
		case k7EmptyStream:
			empty, err := p.bools(h.files)
			if err != nil {
				return err
			}
			h.emptyStreams = 0
			for _, e := range empty {
				if e {
					h.emptyStreams++
				}
			}
		case k7EmptyFile:
			if _, err := p.bools(h.emptyStreams); err != nil {
				return err
			}
		case k7CTime, k7ATime, k7MTime, k7WinAttributes:
			defined, err := p.optionalBools(h.files)
			if err != nil {
				return err
			}
			if ext, err := p.byte(); err != nil || ext != 0 {
				return cmpErr(err, bad7z("external file property"))
			}
			size := uint64(8)
			if prop == k7WinAttributes {
				size = 4
			}
			for _, d := range defined {
				if d {
					if _, err := p.bytes(size); err != nil {
						return err
					}
				}
			}
		case k7Name:
			if ext, err := p.byte(); err != nil || ext != 0 {
				return cmpErr(err, bad7z("external names"))
			}
			if length == 0 {
				return bad7z("names of length 0")
			}
			if _, err := p.bytes(length - 1); err != nil {
				return err
			}
		case k7Dummy:
			if _, err := p.bytes(length); err != nil {
				return err
			}
		default:
			return bad7z("file property 0x%02x is not supported", prop)
		}
		if uint64(p.off-start) != length {
			return bad7z("file property 0x%02x declares %d bytes, holds %d", prop, length, p.off-start)
		}
	}
}

// header reads a (decoded) header, after its k7Header byte.
func (p *parser7) header() (*header7, error) {
	h := &header7{}
	id, err := p.byte()
	if err != nil {
		return nil, err
	}
	switch id {
	case k7ArchiveProperties, k7AdditionalStreamsInfo:
		return nil, bad7z("property 0x%02x is not supported", id)
	}
	if id == k7MainStreamsInfo {
		if h.streams, err = p.streamsInfo(); err != nil {
			return nil, err
		}
		if id, err = p.byte(); err != nil {
			return nil, err
		}
	}
	if id == k7FilesInfo {
		if err := p.filesInfo(h); err != nil {
			return nil, err
		}
		if id, err = p.byte(); err != nil {
			return nil, err
		}
	}
	if id != k7End {
		return nil, bad7z("header: property 0x%02x", id)
	}
	return h, nil
}

// check holds the tables to the uses the library makes of them, so that
// its unchecked indexing cannot go out of range.
func (s *streams7) check(nonEmpty uint64) error {
	var packed uint64
	for i, f := range s.folders {
		packed += uint64(len(f.packed))
		if f.out > 1 && f.coders[len(f.coders)-1].out != 1 {
			return bad7z("folder %d: coder with several outputs", i)
		}
	}
	if len(s.folders) > 0 && (!s.pack || uint64(len(s.packSizes)) < packed) {
		return bad7z("folders use %d packed streams; the pack info gives sizes for %d", packed, len(s.packSizes))
	}
	if nonEmpty == 0 {
		return nil
	}
	if len(s.folders) == 0 {
		return bad7z("%d files with data but no folders", nonEmpty)
	}
	if s.sub {
		if nonEmpty != s.substream {
			return bad7z("%d files with data but %d streams", nonEmpty, s.substream)
		}
		for _, n := range s.numStream {
			if n > 1 && !s.subSizes {
				return bad7z("folder of %d streams without their sizes", n)
			}
		}
	} else if nonEmpty != uint64(len(s.folders)) {
		return bad7z("%d files with data but %d folders", nonEmpty, len(s.folders))
	}
	return nil
}

// A problem7 is why a folder's members cannot be read.
type problem7 struct {
	rule     string
	evidence string
}

// vet checks a folder's coders: known, not encrypted, and within the
// window limit.
func (f *folder7) vet(window int64) *problem7 {
	for i, c := range f.coders {
		name, ok := methods7z[c.id]
		switch {
		case c.id == aes7z:
			return &problem7{ruleEncrypted, "7z folder encrypted with AES-256"}
		case !ok:
			return &problem7{ruleMalformed, fmt.Sprintf("7z method % x is not supported", c.id)}
		}
		var need int64
		switch name {
		case "lzma":
			if len(c.props) < 5 {
				return &problem7{ruleMalformed, "7z lzma coder without its properties"}
			}
			// The library gives the decoder the size of output i (the
			// coder's index, as it counts), and the decoder trims its
			// dictionary to it.
			need = int64(le32(c.props[1:]))
			if i < len(f.sizes) {
				need = min(need, int64(min(f.sizes[i], 1<<40)))
			}
			need = max(need, lzma.MinDictCap)
		case "lzma2":
			if len(c.props) != 1 || c.props[0] > 40 {
				return &problem7{ruleMalformed, "7z lzma2 coder with bad properties"}
			}
			need = lzma2Dict(c.props[0])
		case "ppmd":
			if len(c.props) < 5 {
				return &problem7{ruleMalformed, "7z ppmd coder without its properties"}
			}
			need = int64(le32(c.props[1:]))
		}
		if need > window {
			return &problem7{ruleLimit, fmt.Sprintf("7z %s window of %d bytes > limit %d", name, need, window)}
		}
	}
	return nil
}

// read7zHeader reads, checks and parses the header of the 7z archive f.
func (x *expander) read7zHeader() (*header7, error) {
	f := x.f
	sig, err := readAt(f, 0, sig7zLen)
	if err != nil {
		return nil, err
	}
	if len(sig) < sig7zLen || !bytes.HasPrefix(sig, magic7z) {
		return nil, bad7z("truncated signature header")
	}
	if crc32.ChecksumIEEE(sig[12:32]) != le32(sig[8:]) {
		return nil, bad7z("signature header CRC-32 mismatch")
	}
	next, size := le64(sig[12:]), le64(sig[20:])
	if next > uint64(f.Size) || size > uint64(f.Size)-next || sig7zLen+next+size > uint64(f.Size) {
		return nil, bad7z("header [%d, +%d) lies past the end of the file (size %d): truncated", sig7zLen+next, size, f.Size)
	}
	if size > maxHeader7z {
		return nil, fmt.Errorf("%w: header of %d bytes > %d", errLimit7, size, maxHeader7z)
	}
	raw, err := readAt(f, sig7zLen+int64(next), int(size))
	if err != nil {
		return nil, err
	}
	if crc32.ChecksumIEEE(raw) != le32(sig[28:]) {
		return nil, bad7z("header CRC-32 mismatch")
	}
	p := &parser7{b: raw, limit: uint64(x.lim.Entries)}
	id, err := p.byte()
	if err != nil {
		return nil, err
	}
	if id == k7EncodedHeader {
		s, err := p.streamsInfo()
		if err != nil {
			return nil, err
		}
		if raw, err = x.decode7zHeader(s, int64(sig7zLen+next)); err != nil {
			return nil, err
		}
		p = &parser7{b: raw, limit: uint64(x.lim.Entries)}
		if id, err = p.byte(); err != nil {
			return nil, err
		}
	}
	if id != k7Header {
		return nil, bad7z("header starts with property 0x%02x", id)
	}
	h, err := p.header()
	if err != nil {
		return nil, err
	}
	h.end = int64(sig7zLen + next)
	if h.streams == nil {
		h.streams = &streams7{}
	}
	var nonEmpty uint64
	if h.files > 0 {
		nonEmpty = h.files - h.emptyStreams
	}
	if err := h.streams.check(nonEmpty); err != nil {
		return nil, err
	}
	return h, nil
}

// decode7zHeader decodes an encoded header: one folder of LZMA or LZMA2,
// as 7-Zip writes it, within the header limit.
func (x *expander) decode7zHeader(s *streams7, end int64) ([]byte, error) {
	if len(s.folders) != 1 || !s.pack || len(s.packSizes) < 1 {
		return nil, bad7z("encoded header with %d folders", len(s.folders))
	}
	f := &s.folders[0]
	if pr := f.vet(x.lim.Window); pr != nil {
		if pr.rule == ruleEncrypted {
			return nil, errEncryptedHeader
		}
		if pr.rule == ruleLimit {
			return nil, &limitError{pr.evidence}
		}
	}
	if len(f.coders) != 1 || len(f.sizes) != 1 {
		return nil, bad7z("encoded header with %d coders: only LZMA or LZMA2 alone is supported", len(f.coders))
	}
	c := f.coders[0]
	size := f.sizes[0]
	if size > maxHeader7z {
		return nil, fmt.Errorf("%w: header of %d bytes > %d", errLimit7, size, maxHeader7z)
	}
	at, n := sig7zLen+s.packPos, s.packSizes[0]
	if at > uint64(end) || n > uint64(end)-at {
		return nil, bad7z("encoded header's data lies outside the archive")
	}
	src := io.NewSectionReader(x.f, int64(at), int64(n))
	var r io.Reader
	var err error
	switch methods7z[c.id] {
	case "lzma":
		if len(c.props) != 5 {
			return nil, bad7z("lzma properties of %d bytes", len(c.props))
		}
		var h [13]byte
		copy(h[:], c.props)
		dict := max(min(int64(le32(c.props[1:])), int64(size)), lzma.MinDictCap)
		h[1], h[2], h[3], h[4] = byte(dict), byte(dict>>8), byte(dict>>16), byte(dict>>24)
		for i := range 8 {
			h[5+i] = byte(size >> (8 * i))
		}
		r, err = lzma.ReaderConfig{DictCap: int(max(dict, lzma.MinDictCap))}.NewReader(io.MultiReader(bytes.NewReader(h[:]), src))
	case "lzma2":
		r, err = lzma.Reader2Config{DictCap: int(max(lzma2Dict(c.props[0]), lzma.MinDictCap))}.NewReader2(src)
	default:
		return nil, bad7z("encoded header uses %s: only LZMA or LZMA2 is supported", methods7z[c.id])
	}
	if err != nil {
		return nil, bad7z("encoded header: %v", err)
	}
	out := make([]byte, size)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, bad7z("decoding header: %v", err)
	}
	if len(s.folderCRC) == 1 && s.folderCRC[0] != 0 && crc32.ChecksumIEEE(out) != s.folderCRC[0] {
		return nil, bad7z("decoded header CRC-32 mismatch")
	}
	return out, nil
}

var errEncryptedHeader = errors.New("7z header is encrypted")

// sevenZip expands a 7z archive.
func (x *expander) sevenZip() error {
	f := x.f
	h, err := x.read7zHeader()
	var le *limitError
	switch {
	case err == nil:
	case errors.Is(err, errEncryptedHeader):
		x.report(ruleEncrypted, f.Path, -1, "7z archive with encrypted headers (AES-256)",
			"the archive is encrypted, names and all: nothing in it could be scanned",
			"obtain the archive unencrypted, or decrypt it and scan the contents")
		return nil
	case errors.Is(err, errLimit7), errors.As(err, &le):
		x.report(ruleLimit, f.Path, -1, err.Error(),
			"the 7z archive's header exceeds a limit: nothing in it was scanned",
			"unpack it and scan the contents, or raise the limits if the archive is legitimate")
		return nil
	case errors.Is(err, errFormat7z), errors.Is(err, io.ErrUnexpectedEOF):
		x.malformed7z(f.Path, err.Error())
		return nil
	default:
		return err
	}
	r, err := open7z(f)
	if err != nil {
		x.malformed7z(f.Path, "7z reader: "+err.Error())
		return nil
	}
	folders := h.streams.folders
	problems := make([]*problem7, len(folders))
	packed := make([]int64, len(folders))
	k := 0
	for i := range folders {
		problems[i] = folders[i].vet(x.lim.Window)
		for range folders[i].packed {
			packed[i] += int64(min(h.streams.packSizes[k], 1<<62))
			k++
		}
	}
	var total uint64
	for _, n := range h.streams.packSizes {
		total += n
	}
	if end := sig7zLen + h.streams.packPos + total; end < total || end > uint64(h.end) {
		x.malformed7z(f.Path, fmt.Sprintf("packed streams end at %d, past the header at %d", end, h.end))
	}
	for _, zf := range r.File {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		if err := x.sevenZipMember(zf, problems, packed); err != nil {
			return err
		}
	}
	return nil
}

func (x *expander) malformed7z(p, evidence string) {
	x.report(ruleMalformed, p, -1, evidence,
		"the 7z archive is malformed: the members read before the break were scanned",
		"obtain an intact copy; a damaged archive can hide members from some readers")
}

// open7z runs the library's reader, recovering a panic.
func open7z(f *inventory.File) (r *sevenzip.Reader, err error) {
	defer func() {
		if v := recover(); v != nil {
			r, err = nil, fmt.Errorf("panic: %v", v)
		}
	}()
	return sevenzip.NewReader(f, f.Size)
}

func (x *expander) sevenZipMember(zf *sevenzip.File, problems []*problem7, packed []int64) error {
	mode := zf.Mode()
	if mode.IsDir() {
		return nil
	}
	name, n := x.names.unique(zf.Name)
	p := memberPath(x.f, name)
	if n > 1 {
		x.report(ruleDuplicate, p, -1, fmt.Sprintf("%s appears %s time, scanned as %s", quote(zf.Name), ordinal(n), quote(name)),
			"the archive holds several members of this name: extracting it keeps one; every copy was scanned",
			"rebuild the archive with one member per name, and find out where the other copy came from")
	}
	x.checkName(zf.Name, p, -1)
	var compressed int64
	if zf.UncompressedSize > 0 && zf.Stream >= 0 && zf.Stream < len(problems) {
		if pr := problems[zf.Stream]; pr != nil {
			msg, fix := "the member cannot be decoded: it was not scanned", "repack the archive with standard methods (LZMA2)"
			switch pr.rule {
			case ruleEncrypted:
				msg, fix = "the member is encrypted: it could not be scanned", "obtain the archive unencrypted, or decrypt it and scan the contents"
			case ruleLimit:
				msg, fix = "the member's decoder asks for more memory than the limit: it was not scanned", "reject the file unless it is expected; raise the window limit to scan it"
			}
			x.report(pr.rule, p, -1, pr.evidence, msg, fix)
			return nil
		}
		compressed = packed[zf.Stream]
	}
	rc, err := open7zFile(zf)
	if err != nil {
		x.read7zFailed(p, err)
		return nil
	}
	defer close7z(rc)
	sp, err := fill(x.ctx, safeReader{rc}, compressed, x.lim, x.b)
	if err != nil {
		return err
	}
	defer sp.release()
	if mode&fs.ModeSymlink != 0 {
		target := make([]byte, min(sp.size, maxLink))
		k, _ := sp.ra.ReadAt(target, 0)
		x.report(ruleLink, p, -1, fmt.Sprintf("symbolic link %s → %s", quote(zf.Name), quote(string(target[:k]))),
			"the archive holds a symbolic link: extracting it can make later members write outside the folder; it was not followed",
			"extract with a tool that refuses links, or remove the link from the archive")
		return nil
	}
	if re := (*sevenzip.ReadError)(nil); errors.As(sp.err, &re) && re.Encrypted {
		x.read7zFailed(p, sp.err)
		sp.err = nil
	}
	switch {
	case x.spoolFindings(p, sp, "decompressing 7z member"):
	case uint64(sp.size) != zf.UncompressedSize:
		x.malformed7z(p, fmt.Sprintf("member decodes to %d bytes; the header says %d", sp.size, zf.UncompressedSize))
	case zf.CRC32 != 0 && sp.crc != zf.CRC32:
		x.report(ruleCRC, p, -1, fmt.Sprintf("CRC-32 of content %08x ≠ %08x in the header", sp.crc, zf.CRC32),
			"the member's checksum does not match its content: strict readers reject it; it was scanned",
			"obtain an intact copy; treat a deliberate mismatch as an attempt to hide the member from scanners")
	}
	return x.hand(name, sp.ra, sp.size)
}

func (x *expander) read7zFailed(p string, err error) {
	if re := (*sevenzip.ReadError)(nil); errors.As(err, &re) && re.Encrypted {
		x.report(ruleEncrypted, p, -1, "7z member is encrypted: "+err.Error(),
			"the member is encrypted: it could not be scanned",
			"obtain the archive unencrypted, or decrypt it and scan the contents")
		return
	}
	x.malformed7z(p, "7z member: "+err.Error())
}

func open7zFile(zf *sevenzip.File) (rc io.ReadCloser, err error) {
	defer func() {
		if v := recover(); v != nil {
			rc, err = nil, fmt.Errorf("panic: %v", v)
		}
	}()
	return zf.Open()
}

func close7z(rc io.Closer) {
	defer func() { recover() }()
	rc.Close()
}

// safeReader turns a decoder's panic into an error.
type safeReader struct{ r io.Reader }

func (s safeReader) Read(p []byte) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			n, err = 0, fmt.Errorf("decoder panic: %v", v)
		}
	}()
	return s.r.Read(p)
}
