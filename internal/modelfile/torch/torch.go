// Package torch recognises PyTorch's file layouts: the zip archive of
// torch.save and torch.jit.save, torch.export's .pt2, the legacy stream of
// concatenated pickles, and the oldest tar format.
//
// It says which parts of a file are pickles that torch.load unpickles and
// which are raw tensor storage, which a scanner need never read.
package torch

import (
	"bytes"
	"path"
	"strings"
)

// Formats, as reported in a component's "format" property.
const (
	FormatZip         = "pytorch-zip"
	FormatTorchScript = "torchscript"
	FormatPT2         = "pytorch-pt2"
	FormatLegacy      = "pytorch-legacy"
	FormatTar         = "pytorch-tar"
)

// LegacyPickles is how many pickles start a legacy (non-zip) torch.save
// file: the magic number, the protocol version, sys_info, the object, and
// the list of storage keys. Raw storage bytes follow the last.
const LegacyPickles = 5

// legacyMagic is the payload of the LONG1 opcode that pickles torch's
// magic number 0x1950a86a20f9469cfc6c, the first pickle of a legacy file.
var legacyMagic = []byte{0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// IsLegacy reports whether head starts with the magic-number pickle of a
// legacy torch.save file, in any protocol (protocol 4 puts a FRAME first).
func IsLegacy(head []byte) bool {
	if len(head) < 2 || head[0] != 0x80 {
		return false
	}
	return bytes.Contains(head[:min(len(head), 32)], legacyMagic)
}

// A Layout describes a PyTorch archive found by its member names.
type Layout struct {
	Format string
	// Prefix is the archive's top folder, with a trailing slash ("archive/").
	Prefix string
}

// Zip recognises the layout of a zip archive from its member names. All
// of torch's archives keep their members under one top folder.
func Zip(names []string) (Layout, bool) {
	var l Layout
	has := map[string]bool{}
	for _, n := range names {
		dir, rest, ok := strings.Cut(n, "/")
		if !ok {
			continue
		}
		has[rest] = true
		if l.Prefix == "" && (rest == "data.pkl" || rest == "constants.pkl" || rest == "serialized_exported_program.json" || strings.HasPrefix(rest, "models/")) {
			l.Prefix = dir + "/"
		}
	}
	switch {
	case l.Prefix == "":
		return Layout{}, false
	case has["constants.pkl"] || hasPrefix(has, "code/"):
		l.Format = FormatTorchScript
	case has["data.pkl"]:
		l.Format = FormatZip
	default:
		l.Format = FormatPT2
	}
	return l, true
}

func hasPrefix(set map[string]bool, p string) bool {
	for k := range set {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// Storage reports whether the member named name of an archive of layout l
// holds raw tensor bytes, which torch reads as data and never unpickles.
func (l Layout) Storage(name string) bool {
	rest, ok := strings.CutPrefix(name, l.Prefix)
	if !ok {
		return false
	}
	switch l.Format {
	case FormatZip, FormatTorchScript:
		// data/<key> holds storages; TorchScript keeps tensor constants
		// in constants/<key> too.
		dir, file := path.Split(rest)
		return (dir == "data/" || dir == "constants/") && file != "" && !strings.HasSuffix(file, ".pkl")
	case FormatPT2:
		return strings.HasPrefix(rest, "data/weights/") || strings.HasPrefix(rest, "data/constants/")
	}
	return false
}

// Tar recognises the oldest torch.save format: a tar holding sys_info,
// pickle, storages and tensors.
func Tar(names []string) bool {
	want := map[string]bool{"sys_info": false, "pickle": false, "storages": false}
	for _, n := range names {
		if _, ok := want[n]; ok {
			want[n] = true
		}
	}
	return want["sys_info"] && want["pickle"] && want["storages"]
}

// The members of the tar format that interleave pickles with raw bytes.
const (
	// TarStorages holds a pickle of the storage count, then for each
	// storage a pickle of (key, location, storage type) followed by an
	// int64 element count and the elements, then a pickle of the views
	// into those storages.
	TarStorages = "storages"
	// TarTensors holds a pickle of the tensor count, then for each tensor
	// a pickle of (key, storage id, tensor type) followed by an int32
	// ndim, 4 bytes of padding, ndim int64 sizes, ndim int64 strides and
	// an int64 storage offset.
	TarTensors = "tensors"
)

// elementSizes are the bytes per element of the storage types the tar
// format names (torch/storage.py's typed storages).
var elementSizes = map[string]int64{
	"DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2,
	"LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1,
	"ByteStorage": 1, "BoolStorage": 1, "ComplexDoubleStorage": 16, "ComplexFloatStorage": 8,
	"QUInt8Storage": 1, "QInt8Storage": 1, "QInt32Storage": 4, "QUInt4x2Storage": 1, "QUInt2x4Storage": 1,
}

// ElementSize returns the size of one element of a storage type named by
// its dotted path, such as torch.FloatStorage or torch.cuda.FloatStorage.
func ElementSize(storageType string) (int64, bool) {
	if !strings.HasPrefix(storageType, "torch.") {
		return 0, false
	}
	n, ok := elementSizes[storageType[strings.LastIndexByte(storageType, '.')+1:]]
	return n, ok
}
