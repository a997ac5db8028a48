package archive

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ulikunitz/xz/lzma"
)

// zfHeaderLen is the length of joblib's old "ZF" header: the prefix, then
// the uncompressed length as a "0x…" hex string padded with spaces to the
// length of hex(2**64). joblib ≤ 0.8.4 wrote one more space.
const zfHeaderLen = 2 + 19

// compressionExts map a compressed file's extension to the one its content
// has (tar for the t* short forms), by kind.
var compressionExts = map[Kind][][2]string{
	KindGzip:  {{".gz", ""}, {".tgz", ".tar"}},
	KindBzip2: {{".bz2", ""}, {".bz", ""}, {".tbz2", ".tar"}, {".tbz", ".tar"}},
	KindXz:    {{".xz", ""}, {".txz", ".tar"}},
	KindLzma:  {{".lzma", ""}, {".tlz", ".tar"}},
	KindZlib:  {{".zlib", ""}, {".zz", ""}, {".z", ""}},
}

// streamName names the one member of a compressed stream: the file's name
// without its compression extension, or "data".
func streamName(name string, k Kind) string {
	lower := strings.ToLower(name)
	for _, ext := range compressionExts[k] {
		if strings.HasSuffix(lower, ext[0]) && len(name) > len(ext[0]) {
			return name[:len(name)-len(ext[0])] + ext[1]
		}
	}
	return "data"
}

// stream expands a compressed stream of one member.
func (x *expander) stream(k Kind) error {
	f := x.f
	sec := io.NewSectionReader(f, 0, f.Size)
	br := bufio.NewReaderSize(sec, chunk)
	var (
		r        io.Reader
		name     string
		err      error
		declared int64 = -1 // the length a ZF header gives
		xr       *xzReader
	)
	switch k {
	case KindGzip:
		var gz *gzip.Reader
		if gz, err = gzip.NewReader(br); err == nil {
			name, r = gz.Name, gz
		}
	case KindBzip2:
		r = bzip2.NewReader(br)
	case KindXz:
		xr = newXZReader(br, x.lim.Window)
		r = xr
	case KindLzma:
		r, err = lzmaAlone(br, x.lim.Window)
	case KindZlib:
		if declared, err = skipZF(br); err == nil {
			r, err = zlib.NewReader(br)
		}
	}
	if name == "" {
		name = streamName(f.Name, k)
	}
	p := memberPath(f, name)
	if err != nil {
		if le := (*limitError)(nil); errors.As(err, &le) {
			x.report(ruleLimit, f.Path, 0, le.Error(),
				"the stream's decoder asks for more memory than the limit: it was not scanned",
				"reject the file unless it is expected; raise the window limit to scan it")
			return nil
		}
		x.report(ruleMalformed, f.Path, 0, fmt.Sprintf("%s header: %v", k, err),
			"the compressed stream's header is invalid: its content was not scanned",
			"obtain an intact copy")
		return nil
	}
	sp, err := fill(x.ctx, r, f.Size, x.lim, x.b)
	if err != nil {
		return err
	}
	defer sp.release()
	switch {
	case errors.Is(sp.err, gzip.ErrChecksum), errors.Is(sp.err, zlib.ErrChecksum):
		x.report(ruleCRC, p, -1, fmt.Sprintf("%s checksum does not match the %d bytes inflated", k, sp.size),
			"the stream's checksum does not match its content: strict readers reject it, lenient ones use it; it was scanned",
			"obtain an intact copy; treat a deliberate mismatch as an attempt to hide the content from scanners")
		sp.err = nil
	case xr != nil && xr.bad != "":
		x.report(ruleCRC, p, -1, xr.bad,
			"the stream's integrity check does not match its content: it was scanned",
			"obtain an intact copy; treat a deliberate mismatch as an attempt to hide the content from scanners")
	}
	bad := x.spoolFindings(p, sp, "decompressing "+k.String())
	if !bad && declared >= 0 && sp.size != declared {
		x.report(ruleMalformed, p, -1, fmt.Sprintf("joblib ZF header declares %d bytes; the stream inflates to %d", declared, sp.size),
			"the file's header and content disagree: its content was scanned",
			"obtain an intact copy")
	}
	if !bad && (k == KindZlib || k == KindLzma) {
		// These streams end on their own; bytes after them are hidden
		// from a reader that stops there.
		pos, _ := sec.Seek(0, io.SeekCurrent)
		if rest := f.Size - (pos - int64(br.Buffered())); rest > 0 {
			x.report(ruleMalformed, f.Path, f.Size-rest, fmt.Sprintf("%d bytes follow the end of the %s stream", rest, k),
				"data follows the compressed stream: readers that stop at its end do not see it",
				"find out what the trailing data is; rebuild the file without it")
		}
	}
	if k == KindGzip {
		x.checkName(name, p, -1)
	}
	return x.hand(name, sp.ra, sp.size)
}

// lzmaAlone starts a decoder for the lzma-alone format: properties byte,
// 32-bit dictionary size, 64-bit uncompressed size (all ones: unknown).
// The dictionary is trimmed to the output size, as xz does, before it is
// held to the window limit.
func lzmaAlone(br *bufio.Reader, window int64) (io.Reader, error) {
	var h [13]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, truncated(err)
	}
	dict := int64(le32(h[1:]))
	if size := le64(h[5:]); size != ^uint64(0) {
		dict = min(dict, int64(max(min(size, 1<<40), lzma.MinDictCap)))
	}
	if dict > window {
		return nil, windowLimit("lzma dictionary", dict, window)
	}
	binary.LittleEndian.PutUint32(h[1:], uint32(max(dict, lzma.MinDictCap)))
	return lzma.ReaderConfig{DictCap: int(max(window, lzma.MinDictCap))}.NewReader(io.MultiReader(bytes.NewReader(h[:]), br))
}

// skipZF skips joblib's "ZF" header, if the stream has one, and returns
// the length it declares, or -1.
func skipZF(br *bufio.Reader) (int64, error) {
	h, _ := br.Peek(zfHeaderLen + 1)
	if len(h) < zfHeaderLen || string(h[:2]) != "ZF" {
		return -1, nil
	}
	n, err := strconv.ParseInt(strings.TrimRight(string(h[2:zfHeaderLen]), " "), 0, 64)
	if err != nil || n < 0 {
		return -1, fmt.Errorf("joblib ZF header length %q: not a hex number", h[2:zfHeaderLen])
	}
	skip := zfHeaderLen
	if len(h) > zfHeaderLen && h[zfHeaderLen] == ' ' {
		skip++
	}
	br.Discard(skip)
	return n, nil
}
