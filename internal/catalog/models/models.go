// Package models catalogs pickle-based model files — raw pickles, PyTorch's
// legacy stream, joblib, dill and cloudpickle output, NumPy object arrays —
// and judges what their pickles would import and call.
//
// Archives that hold models (PyTorch zips, .npz) are opened by package
// archives, which hands their pickles back here as members of the model.
package models

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
	"github.com/chainvet/chainvet/internal/modelfile/globals"
	"github.com/chainvet/chainvet/internal/modelfile/numpy"
	"github.com/chainvet/chainvet/internal/modelfile/pickle"
	"github.com/chainvet/chainvet/internal/modelfile/torch"
)

// Property keys and values set on model components.
const (
	PropFormat        = "format"
	PropFramework     = "framework"
	PropSerialization = "serialization"
	PropProtocol      = "pickle-protocol"

	// SerializationPickle marks components whose loading unpickles.
	SerializationPickle = "pickle"
)

// pickleExts are names that promise a pickle. A file so named that is not
// recognised as anything else is analysed as a pickle even when it does
// not look like one, so that a damaged or disguised stream is reported
// rather than passed over.
var pickleExts = map[string]bool{
	".pkl": true, ".pickle": true, ".pt": true, ".pth": true, ".ckpt": true,
	".joblib": true, ".dill": true, ".cloudpickle": true, ".sav": true,
}

// dataExts are names that promise a format that cannot run code. A pickle
// wearing one is disguised.
var dataExts = map[string]bool{
	".safetensors": true, ".gguf": true, ".ggml": true, ".onnx": true, ".tflite": true,
	".json": true, ".txt": true, ".md": true, ".csv": true, ".tsv": true, ".yaml": true, ".yml": true,
	".toml": true, ".xml": true, ".html": true, ".parquet": true, ".arrow": true, ".msgpack": true,
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".wav": true, ".mp3": true,
	".npy": true, ".h5": true, ".hdf5": true, ".pb": true,
}

// Pickle catalogs files whose content is a pickle stream.
type Pickle struct {
	Limits pickle.Limits
}

// Name implements inventory.Cataloger.
func (Pickle) Name() string { return "models/pickle" }

// Wants implements inventory.Cataloger: pickles by content, and files
// named as pickles that no other format claims.
func (Pickle) Wants(f *inventory.File) bool {
	if pickle.Sniff(f.Head) || torch.IsLegacy(f.Head) {
		return true
	}
	// A damaged or disguised pickle under a pickle's name is binary: the
	// text files that share these names (.pth path files) are not pickles.
	return pickleExts[strings.ToLower(path.Ext(f.Name))] && looksBinary(f.Head) &&
		!numpy.Is(f.Head) && archive.Detect(f) == archive.KindNone
}

// looksBinary reports whether head holds bytes no text file does: a NUL, or
// UTF-8 that does not decode.
func looksBinary(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	for len(head) > 0 {
		r, n := utf8.DecodeRune(head)
		if r == utf8.RuneError && n == 1 && len(head) >= utf8.UTFMax {
			return true
		}
		head = head[n:]
	}
	return false
}

// Catalog implements inventory.Cataloger.
func (p Pickle) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	if torchTarMember(f) {
		return p.tarMember(ctx, f, s)
	}
	opt := pickle.Options{Limits: p.Limits, Arguments: arguments}
	format := "pickle"
	if torch.IsLegacy(f.Head) {
		opt.Pickles, format = torch.LegacyPickles, torch.FormatLegacy
	}
	res, err := pickle.Scan(ctx, f, f.Size, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	if format == "pickle" && isJoblib(res) {
		format = "joblib"
	}
	comp := report(s, f, res, format)
	for _, fd := range judge(res, f.Path, comp, 0) {
		s.Finding(fd)
	}
	if ext := strings.ToLower(path.Ext(f.Name)); dataExts[ext] && (res.Pickles > 0 || res.PayloadOps) {
		s.Finding(inventory.Finding{
			Rule: "model/extension-mismatch", Severity: inventory.High, Component: comp, Path: f.Path,
			Offset:      inventory.At(0),
			Evidence:    fmt.Sprintf("name ends %s; content is a pickle (protocol %d)", ext, res.Protocol),
			Message:     "a pickle disguised as " + ext + ": tools that choose a loader by extension are misled",
			Remediation: "reject the file, or rename it to what it is and vet it as a pickle",
		})
	}
	return nil
}

// Numpy catalogs .npy files. An array of Python objects is a pickle after
// the header, and is judged as one.
type Numpy struct {
	Limits pickle.Limits
}

// Name implements inventory.Cataloger.
func (Numpy) Name() string { return "models/numpy" }

// Wants implements inventory.Cataloger.
func (Numpy) Wants(f *inventory.File) bool { return numpy.Is(f.Head) }

// Catalog implements inventory.Cataloger.
func (n Numpy) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	hb := f.Head
	if hl, off, err := numpy.HeaderLen(f.Head); err == nil && off+hl > int64(len(hb)) {
		hb = make([]byte, min(off+hl, f.Size))
		if _, err := f.ReadAt(hb, 0); err != nil && err != io.EOF {
			return fmt.Errorf("%s: reading header: %w", f.Path, err)
		}
	}
	h, err := numpy.ReadHeader(hb)
	id := f.Component
	if id == "" {
		id = inventory.FileComponentID(inventory.KindModel, f.Path)
		s.Component(inventory.Component{
			ID: id, Kind: inventory.KindModel, Name: f.Name,
			Locations:  []inventory.Location{{Path: f.Path}},
			Properties: map[string]string{PropFormat: "numpy-npy", PropFramework: "numpy"},
		})
	}
	if err != nil {
		s.Finding(inventory.Finding{
			Rule: "model/malformed", Severity: inventory.Medium, Component: id, Path: f.Path, Offset: inventory.At(0),
			Evidence:    err.Error(),
			Message:     "the .npy header cannot be read: NumPy's loader and this scanner may disagree on what follows",
			Remediation: "re-create the file with np.save, or reject it",
		})
		return nil
	}
	props := map[string]string{"dtype": h.Descr, "shape": fmt.Sprint(h.Shape)}
	if !h.Object {
		s.Component(inventory.Component{ID: id, Properties: props})
		return nil
	}
	props[PropSerialization] = SerializationPickle
	s.Component(inventory.Component{ID: id, Properties: props})
	// np.load reads exactly one pickle after the header.
	body := io.NewSectionReader(f, h.DataOffset, f.Size-h.DataOffset)
	res, err := pickle.Scan(ctx, body, f.Size-h.DataOffset, pickle.Options{Limits: n.Limits, Pickles: 1, Arguments: arguments})
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	for _, fd := range judge(res, f.Path, id, h.DataOffset) {
		s.Finding(fd)
	}
	return nil
}

// report describes the pickle's component to s and returns its ID. A
// pickle inside a model archive adds to that archive's component; any
// other pickle is a model of its own.
func report(s inventory.Sink, f *inventory.File, res *pickle.Result, format string) string {
	props := map[string]string{
		PropSerialization: SerializationPickle,
		PropProtocol:      fmt.Sprint(res.Protocol),
	}
	if fw := framework(res); fw != "" {
		props[PropFramework] = fw
	}
	if f.Component != "" {
		s.Component(inventory.Component{ID: f.Component, Properties: props})
		return f.Component
	}
	props[PropFormat] = format
	id := inventory.FileComponentID(inventory.KindModel, f.Path)
	s.Component(inventory.Component{
		ID: id, Kind: inventory.KindModel, Name: f.Name,
		Locations:  []inventory.Location{{Path: f.Path}},
		Properties: props,
	})
	return id
}

// frameworks maps the top-level module of imported globals to the
// framework that wrote the file, most specific first.
var frameworks = []struct{ module, name string }{
	{"sklearn", "scikit-learn"},
	{"transformers", "transformers"},
	{"torch", "pytorch"},
	{"joblib", "joblib"},
	{"numpy", "numpy"},
}

func framework(res *pickle.Result) string {
	seen := map[string]bool{}
	for _, im := range res.Imports {
		top, _, _ := strings.Cut(im.Module, ".")
		seen[top] = true
	}
	for _, fw := range frameworks {
		if seen[fw.module] {
			return fw.name
		}
	}
	return ""
}

// arguments tells the pickle VM which arguments reviewed-safe callables
// call or construct, so that what they are handed is judged too.
func arguments(callee string) (calls, builds []int) {
	c := globals.Classify(callee)
	if c.Verdict != globals.Safe && c.Verdict != globals.Construct {
		return nil, nil
	}
	return c.Calls, c.Builds
}

func isJoblib(res *pickle.Result) bool {
	for _, im := range res.Imports {
		if strings.HasSuffix(im.Module, "numpy_pickle") && strings.HasPrefix(im.Name, "NumpyArrayWrapper") {
			return true
		}
	}
	return false
}

// torchTarMember reports whether f is the storages or tensors member of an
// archive package archives recognised as PyTorch's tar layout: those
// interleave pickles with raw bytes.
func torchTarMember(f *inventory.File) bool {
	if f.Name != torch.TarStorages && f.Name != torch.TarTensors {
		return false
	}
	tarPath, ok := strings.CutPrefix(f.Component, string(inventory.KindModel)+":")
	return ok && f.Path == tarPath+"!"+f.Name
}

// tarMember judges every pickle of a tar checkpoint's storages or tensors
// member, stepping over the raw bytes between them as torch reads them.
func (p Pickle) tarMember(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	var off int64
	one := func() (*pickle.Result, error) {
		res, err := pickle.Scan(ctx, io.NewSectionReader(f, off, f.Size-off), f.Size-off,
			pickle.Options{Limits: p.Limits, Pickles: 1, Arguments: arguments})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		for _, fd := range judge(res, f.Path, f.Component, off) {
			s.Finding(fd)
		}
		if res.Malformed != nil || res.Limit != "" || res.Pickles != 1 {
			return nil, nil // reported; what follows cannot be located
		}
		off += res.End
		return res, nil
	}
	bad := func(why string) error {
		s.Finding(inventory.Finding{
			Rule: "model/malformed", Severity: inventory.Medium, Component: f.Component, Path: f.Path,
			Offset: inventory.At(off), Evidence: why,
			Message:     "the PyTorch tar member does not have the layout torch reads: the rest was not analysed",
			Remediation: "re-save the checkpoint with a current torch.save, or reject it",
		})
		return nil
	}
	res, err := one()
	if res == nil {
		return err
	}
	count, err := strconv.ParseInt(res.Value, 10, 64)
	if err != nil || count < 0 {
		return bad(fmt.Sprintf("entry count is %s, not a count", res.Value))
	}
	var word [8]byte
	readInt := func(n int) (int64, bool) {
		if _, err := f.ReadAt(word[:n], off); err != nil {
			return 0, false
		}
		off += int64(n)
		if n == 4 {
			return int64(int32(binary.LittleEndian.Uint32(word[:4]))), true
		}
		return int64(binary.LittleEndian.Uint64(word[:8])), true
	}
	for i := int64(0); i < count; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if off >= f.Size {
			return bad(fmt.Sprintf("data ends after %d of %d entries", i, count))
		}
		res, err := one()
		if res == nil {
			return err
		}
		if f.Name == torch.TarStorages {
			var size int64
			if n := len(res.Imports); n > 0 {
				size, _ = torch.ElementSize(res.Imports[n-1].Module + "." + res.Imports[n-1].Name)
			}
			numel, ok := readInt(8)
			if size == 0 || !ok || numel < 0 || numel > (f.Size-off)/size {
				return bad(fmt.Sprintf("storage %d (%s): cannot size its data", i, res.Value))
			}
			off += numel * size
			continue
		}
		ndim, ok := readInt(4)
		if !ok || ndim < 0 || ndim > 64 {
			return bad(fmt.Sprintf("tensor %d: ndim %d", i, ndim))
		}
		off += 4 + 16*ndim + 8
		if off > f.Size {
			return bad(fmt.Sprintf("tensor %d: header runs past the end", i))
		}
	}
	if f.Name == torch.TarStorages {
		// Then a pickle of the views into those storages.
		if res, err := one(); res == nil {
			return err
		}
	}
	if off < f.Size {
		s.Finding(inventory.Finding{
			Rule: "pickle/trailing-data", Severity: inventory.Medium, Component: f.Component, Path: f.Path,
			Offset: inventory.At(off), Evidence: fmt.Sprintf("%d bytes after the last of %d entries", f.Size-off, count),
			Message:     "bytes that torch does not read follow the last entry",
			Remediation: "review where the file came from",
		})
	}
	return nil
}
