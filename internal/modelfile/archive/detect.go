package archive

import (
	"bytes"
	"compress/flate"
	"io"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

var (
	magic7z    = []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}
	magicGzip  = []byte{0x1f, 0x8b, 0x08}
	bzipBlock  = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59} // BCD pi: a compressed block
	bzipEnd    = []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90} // sqrt(pi): end of an empty stream
	zlibSuffix = []string{".joblib", ".z", ".zlib", ".zz"}
)

// Detect names the container f's content is, or KindNone. It looks at f.Head
// and f.Tail only, never at the name alone, and does no I/O. Where a file
// fits several formats (a polyglot) Detect gives the likeliest; Kinds gives
// them all.
func Detect(f *inventory.File) Kind {
	if ks := Kinds(f); len(ks) > 0 {
		return ks[0]
	}
	return KindNone
}

// Kinds returns every container format f's content fits, the likeliest
// first:
//
//   - 7z, xz, gzip and bzip2 by their magic bytes at offset 0;
//   - zip by a local header at offset 0;
//   - tar by "ustar" at offset 257, or a first header block whose checksum
//     is right (old v7 archives have no magic);
//   - zip by an end-of-central-directory record within the last 64 KiB +
//     22 bytes whose sizes are plausible, wherever the archive starts (a
//     zip appended to a pickle is a zip). After tar: a tar whose last
//     member is a zip has that zip's end record in its tail;
//   - lzma-alone, which has no magic, by a properties byte below 225, a
//     dictionary size of 2^n or 2^n+2^(n-1) as LZMA encoders write, a
//     size that is unknown or below 1 TiB, and the range coder's first
//     byte, which is always 0;
//   - zlib, whose two-byte header is too weak alone (1 in 31 of random
//     pairs starting 0x78 pass), by that header and either a name joblib
//     and others give zlib files (.joblib, .z, .zlib, .zz) or a deflate
//     stream in Head that begins with a pickle's PROTO opcode; and joblib's
//     older "ZF" files by their prefix, hex length and zlib header.
func Kinds(f *inventory.File) []Kind {
	h := f.Head
	var ks []Kind
	add := func(k Kind) {
		for _, have := range ks {
			if have == k {
				return
			}
		}
		ks = append(ks, k)
	}
	switch {
	case bytes.HasPrefix(h, magic7z):
		add(KindSevenZip)
	case bytes.HasPrefix(h, xzMagic):
		add(KindXz)
	case bytes.HasPrefix(h, magicGzip):
		add(KindGzip)
	case isBzip2(h):
		add(KindBzip2)
	case bytes.HasPrefix(h, []byte(sigLocal)), bytes.HasPrefix(h, []byte(sigEnd)):
		add(KindZip)
	}
	if isTar(h) {
		add(KindTar)
	}
	if hasZipEnd(f) {
		add(KindZip)
	}
	if isLzma(h) {
		add(KindLzma)
	}
	if isZlib(f) {
		add(KindZlib)
	}
	return ks
}

func isBzip2(h []byte) bool {
	return len(h) >= 10 && string(h[:3]) == "BZh" && '1' <= h[3] && h[3] <= '9' &&
		(bytes.Equal(h[4:10], bzipBlock) || bytes.Equal(h[4:10], bzipEnd))
}

// tailView returns the last bytes of f that Head and Tail hold, and the
// offset of the first of them.
func tailView(f *inventory.File) ([]byte, int64) {
	switch {
	case f.Whole():
		return f.Head, 0
	case int64(len(f.Head)+len(f.Tail)) == f.Size:
		return append(append([]byte(nil), f.Head...), f.Tail...), 0
	}
	return f.Tail, f.Size - int64(len(f.Tail))
}

// hasZipEnd reports whether f ends with a plausible zip end record: its
// directory fits before it, with room for the entries it counts.
func hasZipEnd(f *inventory.File) bool {
	b, base := tailView(f)
	i := findEnd(b)
	if i < 0 {
		return false
	}
	if i >= locator64Len && string(b[i-locator64Len:i-locator64Len+4]) == sigLocator64 {
		return true
	}
	r := b[i:]
	count, size := int64(le16(r[10:])), int64(le32(r[12:]))
	pos := base + int64(i)
	return size <= pos && count*centralLen <= size && (count == 0) == (size == 0)
}

// isTar reports whether h begins with a tar header block.
func isTar(h []byte) bool {
	if len(h) < 512 {
		return false
	}
	b := h[:512]
	if string(b[257:262]) == "ustar" {
		return true
	}
	if b[0] == 0 {
		return false
	}
	want, err := strconv.ParseUint(strings.Trim(string(b[148:156]), " \x00"), 8, 32)
	if err != nil {
		return false
	}
	// Unsigned as POSIX says, or signed as some old tars summed.
	var unsigned, signed int64
	for i, c := range b {
		if 148 <= i && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return int64(want) == unsigned || int64(want) == signed
}

// isLzma reports whether h begins with an lzma-alone header.
func isLzma(h []byte) bool {
	if len(h) < 14 || h[0] >= 9*5*5 || h[13] != 0 {
		return false
	}
	d := le32(h[1:])
	if d != 0xffffffff {
		// 2^n or 2^n + 2^(n-1), at least 4 KiB.
		low := d & -d
		if d < 1<<12 || d != low && d != low*3 {
			return false
		}
	}
	size := le64(h[5:])
	return size == ^uint64(0) || size < 1<<40
}

// zlibHeader reports whether b begins with a zlib header: deflate, a
// window of at most 32 KiB, no preset dictionary, and a valid FCHECK.
func zlibHeader(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && b[1]&0x20 == 0 &&
		(uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// zfStart returns where the zlib stream of a joblib "ZF" file begins, or -1.
func zfStart(h []byte) int {
	if len(h) < zfHeaderLen+2 || string(h[:4]) != "ZF0x" {
		return -1
	}
	digits := strings.TrimRight(string(h[4:zfHeaderLen]), " ")
	if digits == "" || strings.Trim(digits, "0123456789abcdefABCDEF") != "" {
		return -1
	}
	for _, at := range []int{zfHeaderLen, zfHeaderLen + 1} {
		if zlibHeader(h[at:]) {
			return at
		}
	}
	return -1
}

func isZlib(f *inventory.File) bool {
	h := f.Head
	if zfStart(h) >= 0 {
		return true
	}
	if !zlibHeader(h) {
		return false
	}
	name := strings.ToLower(f.Name)
	for _, s := range zlibSuffix {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	var out [2]byte
	fr := flate.NewReader(bytes.NewReader(h[2:]))
	defer fr.Close()
	if _, err := io.ReadFull(fr, out[:]); err != nil {
		return false
	}
	return out[0] == 0x80 && 2 <= out[1] && out[1] <= 5
}
