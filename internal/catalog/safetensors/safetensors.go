// Package safetensors catalogs safetensors model files: one model component
// per file, identified from its header (tensors, parameters, dtypes,
// __metadata__), and a finding for each way the header disagrees with the
// file. Tensor data is never read.
package safetensors

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
	"github.com/chainvet/chainvet/internal/modelfile/gguf"
	"github.com/chainvet/chainvet/internal/modelfile/numpy"
	"github.com/chainvet/chainvet/internal/modelfile/pickle"
	st "github.com/chainvet/chainvet/internal/modelfile/safetensors"
)

// Safetensors catalogs safetensors files.
type Safetensors struct {
	Limits st.Limits
}

// Name implements inventory.Cataloger.
func (Safetensors) Name() string { return "models/safetensors" }

// Wants implements inventory.Cataloger: files whose head is a header length
// and a JSON object, and files named .safetensors that no other format
// claims, so that a damaged or disguised header is reported rather than
// passed over. (A pickle so named is the pickle cataloger's, which reports
// the disguise.)
func (Safetensors) Wants(f *inventory.File) bool {
	if st.Is(f.Head) {
		return true
	}
	return strings.EqualFold(path.Ext(f.Name), ".safetensors") && !Claimed(f)
}

// Claimed reports whether another format's cataloger recognises f by its
// content: a pickle, a NumPy array, GGUF or a container.
func Claimed(f *inventory.File) bool {
	return pickle.Sniff(f.Head) || numpy.Is(f.Head) || gguf.Is(f.Head) || st.Is(f.Head) ||
		archive.Detect(f) != archive.KindNone
}

// frameworks maps __metadata__["format"], which the writers of each
// framework's safetensors binding set, to the framework.
var frameworks = map[string]string{
	"pt": "pytorch", "tf": "tensorflow", "flax": "flax", "jax": "jax",
	"np": "numpy", "numpy": "numpy", "mlx": "mlx", "paddle": "paddlepaddle",
}

// Catalog implements inventory.Cataloger.
func (c Safetensors) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	h, err := st.Read(ctx, f, f.Size, c.Limits)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	props := map[string]string{"format": "safetensors"}
	if h.Complete {
		props["tensors"] = strconv.Itoa(len(h.Tensors))
		props["parameters"] = strconv.FormatUint(h.Parameters, 10)
		if ds := h.DTypes(); len(ds) > 0 {
			props["dtype"] = strings.Join(ds, ",")
		}
	}
	for _, e := range h.Metadata {
		props["metadata."+Clean(e.Key)] = Clean(e.Value)
		if e.Key == "format" {
			if fw, ok := frameworks[e.Value]; ok {
				props["framework"] = fw
			}
		}
	}
	id := Component(s, f, props)
	for _, p := range h.Problems {
		s.Finding(inventory.Finding{
			Rule: p.Rule, Severity: p.Severity, Component: id, Path: f.Path, Offset: inventory.At(p.Offset),
			Evidence: p.Evidence, Message: p.Message, Remediation: remediation[p.Rule],
		})
	}
	return nil
}

var remediation = map[string]string{
	st.RuleMalformed:        "re-create the file with the safetensors library from weights you trust, or reject it",
	st.RuleDuplicateKey:     "reject the file: the safetensors library never writes duplicate keys; re-export it from weights you trust",
	st.RuleSizeMismatch:     "do not load the file; fetch it again from a source you trust and compare digests",
	st.RuleOutOfRange:       "do not load the file; fetch it again from a source you trust and compare digests",
	st.RuleOverlap:          "do not load the file; re-export it with the safetensors library from weights you trust",
	st.RuleHiddenData:       "do not use the file: inspect the unclaimed bytes at the offset shown, and obtain the model from a source you trust",
	inventory.RuleScanLimit: "raise the limit if the file is legitimate, or reject it",
}

// Component reports the model component f is, or adds props to the
// component it is part of, and returns the component's ID.
func Component(s inventory.Sink, f *inventory.File, props map[string]string) string {
	if f.Component != "" {
		s.Component(inventory.Component{ID: f.Component, Properties: props})
		return f.Component
	}
	id := inventory.FileComponentID(inventory.KindModel, f.Path)
	s.Component(inventory.Component{
		ID: id, Kind: inventory.KindModel, Name: f.Name,
		Locations:  []inventory.Location{{Path: f.Path}},
		Properties: props,
	})
	return id
}

// maxProperty bounds a property value taken from a file.
const maxProperty = 256

// Clean makes text from a file fit to show as a property: control
// characters become U+FFFD, so that a value cannot rewrite a terminal, and
// it is cut to a bounded length.
func Clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) > maxProperty {
		i := maxProperty
		for i > 0 && s[i]&0xc0 == 0x80 {
			i--
		}
		s = s[:i] + "…"
	}
	return s
}
