package repo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pickle"
)

// A content is what a file's leading bytes say it is.
type content int

const (
	cUnknown content = iota
	cText
	cBinary // NUL bytes, no format recognised
	cSafetensors
	cGGUF
	cZip
	cGzip
	c7z
	cXz
	cBzip2
	cHDF5
	cNumpy
	cTFLite
	cELF
	cMachO
	cPE
	cPickle
	cLFS
)

var contentNames = map[content]string{
	cText: "text", cBinary: "binary data", cSafetensors: "a safetensors header", cGGUF: "GGUF",
	cZip: "a zip archive", cGzip: "gzip", c7z: "a 7z archive", cXz: "xz", cBzip2: "bzip2",
	cHDF5: "HDF5", cNumpy: "a NumPy array", cTFLite: "TFLite", cELF: "an ELF executable",
	cMachO: "a Mach-O executable", cPE: "a Windows PE executable", cPickle: "a pickle",
	cLFS: "a Git LFS pointer",
}

func (c content) String() string { return contentNames[c] }

func (c content) native() bool { return c == cELF || c == cMachO || c == cPE }

// maxSafetensorsHeader is the largest header length believed in a
// safetensors sniff: the reference implementation refuses more than 100 MB.
const maxSafetensorsHeader = 100 << 20

// lfsPrefixes start every Git LFS pointer file; "hawser" is LFS's name
// before its first release, still accepted by git-lfs.
var lfsPrefixes = []string{"version https://git-lfs.github.com/spec/v1\n", "version https://hawser.github.com/spec/v1\n"}

// maxLFSPointer is the largest file taken for a pointer: git-lfs itself
// only considers files under 1024 bytes.
const maxLFSPointer = 1024

// sniff names f's content by its first bytes. It does not look for
// pickles, which need more than magic bytes (see pickle.Sniff): a pickle
// is text or binary to sniff.
func sniff(f *inventory.File) content {
	h := f.Head
	switch {
	case f.Size <= maxLFSPointer && hasAnyPrefix(h, lfsPrefixes):
		return cLFS
	case bytes.HasPrefix(h, []byte("\x7fELF")):
		return cELF
	case isMachO(h):
		return cMachO
	case isPE(h):
		return cPE
	case bytes.HasPrefix(h, []byte("GGUF")):
		return cGGUF
	case bytes.HasPrefix(h, []byte("\x89HDF\r\n\x1a\n")):
		return cHDF5
	case bytes.HasPrefix(h, []byte("\x93NUMPY")):
		return cNumpy
	case bytes.HasPrefix(h, []byte("PK\x03\x04")) || bytes.HasPrefix(h, []byte("PK\x05\x06")):
		return cZip
	case bytes.HasPrefix(h, []byte{0x1f, 0x8b}):
		return cGzip
	case bytes.HasPrefix(h, []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}):
		return c7z
	case bytes.HasPrefix(h, []byte("\xfd7zXZ\x00")):
		return cXz
	case bytes.HasPrefix(h, []byte("BZh")) && len(h) > 3 && h[3] >= '1' && h[3] <= '9':
		return cBzip2
	case len(h) >= 8 && string(h[4:8]) == "TFL3":
		return cTFLite
	case isSafetensors(f):
		return cSafetensors
	case bytes.IndexByte(h, 0) >= 0 && !bytes.HasPrefix(h, []byte{0xff, 0xfe}) && !bytes.HasPrefix(h, []byte{0xfe, 0xff}):
		return cBinary
	case len(h) > 0:
		return cText
	}
	return cUnknown
}

func hasAnyPrefix(b []byte, ps []string) bool {
	for _, p := range ps {
		if bytes.HasPrefix(b, []byte(p)) {
			return true
		}
	}
	return false
}

// isSafetensors reports a header length that fits the file, followed by
// the start of a JSON object.
func isSafetensors(f *inventory.File) bool {
	h := f.Head
	if len(h) < 9 {
		return false
	}
	n := binary.LittleEndian.Uint64(h)
	return n >= 2 && n <= maxSafetensorsHeader && int64(n) <= f.Size-8 && h[8] == '{'
}

func isMachO(h []byte) bool {
	if len(h) < 8 {
		return false
	}
	switch binary.BigEndian.Uint32(h) {
	case 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe:
		return true
	case 0xcafebabe, 0xcafebabf:
		// Universal binaries share their magic with Java class files; a
		// class file's next word is its version, 45 or more, a universal
		// binary's is its count of architectures.
		n := binary.BigEndian.Uint32(h[4:])
		return n >= 1 && n < 45
	}
	return false
}

// isPE reports an MZ header whose e_lfanew points at "PE\0\0" within the head.
func isPE(h []byte) bool {
	if len(h) < 0x40 || h[0] != 'M' || h[1] != 'Z' {
		return false
	}
	off := int(binary.LittleEndian.Uint32(h[0x3c:]))
	return off >= 0x40 && off+4 <= len(h) && string(h[off:off+4]) == "PE\x00\x00"
}

// expect says, for extensions that promise a format, which contents fit.
// Names not listed promise nothing chainvet can check. Binary content no
// magic names fits a binary format's name: it is a damaged file of that
// format (whose own cataloger says so: HDF5 may also start after a user
// block), not a disguise.
var expect = map[string]func(content) bool{
	".safetensors": binaryOr(cSafetensors),
	".gguf":        binaryOr(cGGUF),
	".h5":          binaryOr(cHDF5),
	".hdf5":        binaryOr(cHDF5),
	".keras":       binaryOr(cZip, cHDF5),
	".npy":         binaryOr(cNumpy),
	".npz":         binaryOr(cZip),
	".mar":         binaryOr(cZip),
	".tflite":      only(cTFLite, cUnknown, cBinary),
	".onnx":        dataOnly,
	".pb":          dataOnly,
	".msgpack":     dataOnly,
	// Pickle-based and raw checkpoints may be many things, but never a
	// program.
	".bin": notNative, ".pt": notNative, ".pth": notNative, ".ckpt": notNative, ".pkl": notNative,
	".joblib": notNative, ".model": notNative, ".params": notNative, ".weights": notNative,
	// Text formats.
	".json": textOnly, ".jsonl": textOnly, ".txt": textOnly, ".md": textOnly, ".yaml": textOnly,
	".yml": textOnly, ".py": textOnly, ".ipynb": textOnly, ".jinja": textOnly, ".csv": textOnly,
	".tsv": textOnly, ".toml": textOnly, ".cfg": textOnly, ".ini": textOnly, ".xml": textOnly,
	".html": textOnly, ".sh": textOnly, ".gitattributes": textOnly,
}

func only(cs ...content) func(content) bool {
	return func(c content) bool {
		for _, x := range cs {
			if x == c {
				return true
			}
		}
		return false
	}
}

// binaryOr fits the given contents, and binary data no magic names.
func binaryOr(cs ...content) func(content) bool {
	return only(append(cs, cBinary, cUnknown)...)
}

// dataOnly fits protobuf and other formats without magic: anything that is
// not recognised as another format.
func dataOnly(c content) bool { return c == cUnknown || c == cBinary || c == cText }

func notNative(c content) bool { return !c.native() }

func textOnly(c content) bool { return c == cText || c == cUnknown }

// ext is the lower-case extension, or the whole name for dot files.
func ext(name string) string {
	name = strings.ToLower(name)
	if strings.HasPrefix(name, ".") && strings.Count(name, ".") == 1 {
		return name
	}
	return path.Ext(name)
}

// pickleReported are the names under which the pickle cataloger reports a
// pickle as model/extension-mismatch itself (package models' dataExts):
// reporting those here too would double the finding.
var pickleReported = map[string]bool{
	".safetensors": true, ".gguf": true, ".onnx": true, ".tflite": true, ".json": true, ".txt": true,
	".md": true, ".csv": true, ".tsv": true, ".yaml": true, ".yml": true, ".toml": true, ".xml": true,
	".html": true, ".msgpack": true, ".npy": true, ".h5": true, ".hdf5": true, ".pb": true,
}

// maybeMismatch reports, from the head alone, whether f's name promises a
// format its content may not be.
func maybeMismatch(f *inventory.File, c content) bool {
	if c == cLFS {
		return false // a rule of its own
	}
	fits, ok := expect[ext(f.Name)]
	return ok && (!fits(c) || !fits(cPickle) && !pickleReported[ext(f.Name)] && (c == cText || c == cBinary))
}

// mismatch returns what f's content is when its name promises another
// format. Pickles under the names in pickleReported are left to the pickle
// cataloger; LFS pointers have a rule of their own.
func mismatch(f *inventory.File, c content) (content, bool) {
	if !maybeMismatch(f, c) {
		return c, false
	}
	e := ext(f.Name)
	if (c == cText || c == cBinary) && pickle.Sniff(f.Head) {
		return cPickle, !pickleReported[e] && !expect[e](cPickle)
	}
	return c, !expect[e](c)
}

// nativeExts are names native code is expected under.
var nativeExts = map[string]bool{".so": true, ".dylib": true, ".dll": true, ".exe": true, ".pyd": true, ".node": true, "": true}

// weightExts name the files that hold a model's weights, for deciding
// whether a folder holds a model. Content decides what they are.
var weightExts = map[string]bool{
	".safetensors": true, ".gguf": true, ".bin": true, ".pt": true, ".pth": true, ".ckpt": true,
	".onnx": true, ".h5": true, ".hdf5": true, ".keras": true, ".tflite": true, ".msgpack": true,
	".pkl": true, ".joblib": true, ".npz": true, ".mar": true, ".pb": true, ".ggml": true, ".mlmodel": true,
}

// isWeight reports whether f looks like a weight file by its content, or
// by its name when its format has no magic.
func isWeight(f *inventory.File, c content) bool {
	switch c {
	case cSafetensors, cGGUF, cHDF5, cNumpy, cTFLite:
		return true
	case cZip:
		return weightExts[ext(f.Name)]
	case cUnknown, cBinary, cText:
		// Pickles and formats without magic: by name.
		return weightExts[ext(f.Name)] && ext(f.Name) != ".mar"
	}
	return false
}

// An lfsPointer is a parsed Git LFS pointer file.
type lfsPointer struct {
	oid  string // sha256 hex
	size int64
}

// parseLFS reads a pointer's "oid sha256:<hex>" and "size <n>" lines.
func parseLFS(b []byte) (lfsPointer, error) {
	var p lfsPointer
	p.size = -1
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(strings.TrimRight(l, "\r"), " ")
		switch k {
		case "oid":
			hex, ok := strings.CutPrefix(v, "sha256:")
			if !ok || !isHex(hex, 64) {
				return p, fmt.Errorf("oid %q is not a sha256", v)
			}
			p.oid = hex
		case "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return p, fmt.Errorf("size %q is not a byte count", v)
			}
			p.size = n
		}
	}
	if p.oid == "" || p.size < 0 {
		return p, fmt.Errorf("no oid or no size line")
	}
	return p, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
