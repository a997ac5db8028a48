// Package onnx catalogs ONNX models: their identity (IR version, opsets,
// producer, parameter count) and what loading them would reach outside the
// model file — external data paths and custom-domain operators.
//
// Only the protobuf structure is read; tensor data, inline or external, is
// never read. External data files are checked by name and with os.Lstat,
// os.Stat and filepath.EvalSymlinks when the model is a file on disk.
package onnx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	onnxfile "github.com/chainvet/chainvet/internal/modelfile/onnx"
	"github.com/chainvet/chainvet/internal/modelfile/protowire"
)

// Rule ids this cataloger reports, besides model/malformed and scan/limit.
const (
	RuleExternalPath    = "onnx/external-data-path"
	RuleExternalInvalid = "onnx/external-data-invalid"
	RuleExternalMissing = "onnx/external-data-missing"
	RuleCustomDomain    = "onnx/custom-domain"
	ruleMalformed       = "model/malformed"
)

// standardDomains are the operator sets the ONNX standard defines.
var standardDomains = map[string]bool{
	"": true, "ai.onnx.ml": true, "ai.onnx.training": true, "ai.onnx.preview.training": true,
	"ai.onnx.preview": true,
}

// runtimeDomains hold operators compiled into onnxruntime itself (its
// contrib and layout-internal ops, and the ATen fallback): they load no
// library, so they are noted at info.
var runtimeDomains = map[string]bool{
	"com.microsoft": true, "com.microsoft.nchwc": true, "com.microsoft.experimental": true,
	"com.microsoft.dml": true, "com.ms.internal.nhwc": true, "org.pytorch.aten": true,
}

// libraryDomains belong to well-known op libraries that ship apart from the
// runtime (onnxruntime-extensions): native code, but a known project's.
var libraryDomains = map[string]bool{
	"ai.onnx.contrib": true, "com.microsoft.extensions": true,
}

// maxOpsInEvidence bounds the op types a custom-domain finding lists.
const maxOpsInEvidence = 8

// maxPropertyValue bounds a metadata value copied into a property.
const maxPropertyValue = 256

// maxMetadataProps bounds the metadata_props copied into properties.
const maxMetadataProps = 16

// maxValuesShown bounds the graph inputs and outputs listed as properties.
const maxValuesShown = 16

// ONNX catalogs ONNX model files.
type ONNX struct {
	Limits onnxfile.Limits
}

// Name implements inventory.Cataloger.
func (ONNX) Name() string { return "models/onnx" }

// Wants implements inventory.Cataloger: files that start like a ModelProto,
// and files named .onnx, so that a broken one is reported.
func (ONNX) Wants(f *inventory.File) bool {
	return onnxfile.Identify(f.Head, f.Size) || strings.EqualFold(path.Ext(f.Name), ".onnx")
}

// Catalog implements inventory.Cataloger.
func (c ONNX) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	m, err := onnxfile.Parse(ctx, f, f.Size, c.Limits)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	id := f.Component
	if id == "" {
		id = inventory.FileComponentID(inventory.KindModel, f.Path)
		s.Component(inventory.Component{
			ID: id, Kind: inventory.KindModel, Name: f.Name,
			Locations:  []inventory.Location{{Path: f.Path}},
			Properties: properties(m),
		})
	} else {
		s.Component(inventory.Component{ID: id, Properties: properties(m)})
	}
	r := reporter{s: s, f: f, id: id}
	if err != nil {
		if ferr := r.parseError(err); ferr != nil {
			return ferr
		}
	}
	for _, p := range m.Problems {
		r.finding(ruleMalformed, inventory.Medium, p.Offset, p.Msg,
			"the model's header is inconsistent: loaders and scanners may disagree on its tensors",
			"re-export the model with its framework's exporter, or reject it")
	}
	if m.ParametersOverflow {
		r.finding(ruleMalformed, inventory.Medium, 0, "initializer element counts overflow 64 bits",
			"the initializers' dims cannot be real", "reject the model")
	}
	r.customDomains(m)
	r.externalData(m)
	return nil
}

// parseError reports why the parse stopped. Errors that are neither broken
// wire format nor a limit (I/O) are returned for the pipeline to report.
func (r *reporter) parseError(err error) error {
	var off int64
	var pe *protowire.Error
	if errors.As(err, &pe) {
		off = pe.Offset
	}
	switch {
	case errors.Is(err, protowire.ErrLimit):
		r.finding(inventory.RuleScanLimit, inventory.High, off, err.Error(),
			"a limit cut the scan of this ONNX model short: it is not known to be clean",
			"inspect the model by hand, or reject it")
	case errors.Is(err, protowire.ErrMalformed), errors.Is(err, onnxfile.ErrNotModel):
		r.finding(ruleMalformed, inventory.Medium, off, err.Error(),
			"the ONNX protobuf is malformed: loaders and scanners may disagree on what it holds",
			"re-export the model, or reject it")
	default:
		return fmt.Errorf("%s: %w", r.f.Path, err)
	}
	return nil
}

// properties are the model's identity, as far as it parsed.
func properties(m *onnxfile.Model) map[string]string {
	p := map[string]string{"format": "onnx", "framework": "onnx"}
	if m.IRVersion > 0 {
		p["ir-version"] = strconv.FormatInt(m.IRVersion, 10)
	}
	if m.Producer != "" {
		p["producer"] = strings.TrimSpace(m.Producer + " " + m.ProducerVersion)
	}
	var opsets []string
	for _, o := range m.Opsets {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		opsets = append(opsets, d+":"+strconv.FormatInt(o.Version, 10))
	}
	if len(opsets) > 0 {
		p["opset"] = strings.Join(opsets, ",")
	}
	if m.HasGraph {
		p["tensors"] = strconv.Itoa(m.Initializers)
		if !m.ParametersOverflow {
			p["parameters"] = strconv.FormatUint(m.Parameters, 10)
		}
		p["nodes"] = strconv.Itoa(m.Nodes)
	}
	if len(m.DTypes) > 0 {
		p["dtype"] = strings.Join(m.DTypes, ",")
	}
	if m.Domain != "" {
		p["model-domain"] = m.Domain
	}
	if m.ModelVersion != 0 {
		p["model-version"] = strconv.FormatInt(m.ModelVersion, 10)
	}
	if v := values(m.Inputs); v != "" {
		p["inputs"] = v
	}
	if v := values(m.Outputs); v != "" {
		p["outputs"] = v
	}
	for i, kv := range m.Metadata {
		if i == maxMetadataProps {
			break
		}
		p["metadata."+kv.Key] = clip(kv.Value, maxPropertyValue)
	}
	return p
}

func values(vs []onnxfile.Value) string {
	var out []string
	for i, v := range vs {
		if i == maxValuesShown {
			out = append(out, fmt.Sprintf("… %d more", len(vs)-i))
			break
		}
		out = append(out, v.Name+":"+v.Type)
	}
	return strings.Join(out, "; ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// reporter turns what was found into findings on one component.
type reporter struct {
	s  inventory.Sink
	f  *inventory.File
	id string
}

func (r *reporter) finding(rule string, sev inventory.Severity, off int64, evidence, msg, fix string) {
	r.s.Finding(inventory.Finding{
		Rule: rule, Severity: sev, Component: r.id, Path: r.f.Path, Offset: inventory.At(off),
		Evidence: evidence, Message: msg, Remediation: fix,
	})
}

// customDomains reports, per domain, the operators that need an op library.
func (r *reporter) customDomains(m *onnxfile.Model) {
	byDomain := map[string][]onnxfile.Op{}
	var domains []string
	for _, op := range m.Ops {
		if standardDomains[op.Domain] || m.Function(op.Domain, op.Type) {
			continue
		}
		if _, ok := byDomain[op.Domain]; !ok {
			domains = append(domains, op.Domain)
		}
		byDomain[op.Domain] = append(byDomain[op.Domain], op)
	}
	for _, d := range domains {
		ops := byDomain[d]
		var names []string
		for i, op := range ops {
			if i == maxOpsInEvidence {
				names = append(names, fmt.Sprintf("… %d more", len(ops)-i))
				break
			}
			names = append(names, fmt.Sprintf("%s (%d×, first node %q in %s)", op.Type, op.Count, op.First.Name, op.First.Scope))
		}
		evidence := fmt.Sprintf("domain %s: %s", d, strings.Join(names, "; "))
		switch {
		case runtimeDomains[d]:
			r.finding(RuleCustomDomain, inventory.Info, ops[0].First.Offset, evidence,
				"operators of "+d+" are built into onnxruntime; other runtimes cannot load this model",
				"nothing to do unless the model must run outside onnxruntime")
		case libraryDomains[d]:
			r.finding(RuleCustomDomain, inventory.Medium, ops[0].First.Offset, evidence,
				"operators of "+d+" come from onnxruntime-extensions, a native library that must be registered to load the model",
				"install onnxruntime-extensions from its official source; do not load op libraries shipped with the model")
		default:
			r.finding(RuleCustomDomain, inventory.High, ops[0].First.Offset, evidence,
				"operators of the custom domain "+d+" need a native op library registered with the runtime: code outside the model format",
				"find out which library implements "+d+" and whether you trust it; never load a library that came with the model")
		}
	}
}

// scheme matches a URL scheme of two letters or more (one letter is a
// Windows drive).
var scheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]+:`)

// drive matches a Windows drive prefix.
var drive = regexp.MustCompile(`^[A-Za-z]:`)

// LocationProblem says why an external_data location would make a loader
// read outside the model's folder, or "" if it names a file inside it.
func LocationProblem(loc string) string {
	switch {
	case strings.ContainsRune(loc, 0):
		return "contains a NUL byte, which cuts the path short in native code"
	case scheme.MatchString(loc):
		return "is a URL"
	case strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, `\`) || drive.MatchString(loc):
		return "is an absolute path"
	}
	depth := 0
	for _, part := range strings.FieldsFunc(loc, func(r rune) bool { return r == '/' || r == '\\' }) {
		switch part {
		case ".":
		case "..":
			depth--
			if depth < 0 {
				return "climbs out of the model's folder through .."
			}
		default:
			depth++
		}
	}
	return ""
}

// externalData checks every tensor whose data lives in another file.
func (r *reporter) externalData(m *onnxfile.Model) {
	onDisk := r.f.Depth == 0
	dir := filepath.Dir(r.f.Path)
	var missing []string
	var missingOff int64
	for i := range m.External {
		t := &m.External[i]
		where := "tensor " + quote(t.Name)
		if t.Scope != "" {
			where += " in " + t.Scope
		}
		loc, ok := t.Get("location")
		if !ok || loc == "" {
			r.finding(RuleExternalInvalid, inventory.Medium, t.Offset, where+": external data with no location",
				"a tensor's data is said to be external but no file is named", "re-export the model, or reject it")
			continue
		}
		// Loaders take the last location given; a scanner that took
		// another could be shown a harmless one. Judge every one.
		escaped := false
		for _, l := range t.All("location") {
			if why := LocationProblem(l); why != "" {
				r.finding(RuleExternalPath, inventory.High, t.Offset, fmt.Sprintf("%s: location %s %s", where, quote(l), why),
					"loading this model reads a file outside the model's folder into a tensor (CVE-2024-27318)",
					"reject the model; external data files belong beside the model, named relatively")
				escaped = true
				break
			}
		}
		if escaped {
			continue
		}
		off, length, bad := rangeOf(t)
		if bad != "" {
			r.finding(RuleExternalInvalid, inventory.Medium, t.Offset, fmt.Sprintf("%s: %s", where, bad),
				"an external data entry is not what loaders expect", "re-export the model, or reject it")
			continue
		}
		if !onDisk {
			continue // an archive member: its neighbours are not files to check
		}
		full := filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(loc, `\`, "/")))
		if _, err := os.Lstat(full); err != nil {
			if len(missing) == 0 {
				missingOff = t.Offset
			}
			if !slices.Contains(missing, loc) {
				missing = append(missing, loc)
			}
			continue
		}
		if why := escapes(dir, full); why != "" {
			r.finding(RuleExternalPath, inventory.High, t.Offset, fmt.Sprintf("%s: location %s %s", where, quote(loc), why),
				"loading this model reads a file outside the model's folder into a tensor, through a symbolic link",
				"replace the link with the data file itself, or reject the model")
			continue
		}
		fi, err := os.Stat(full)
		switch {
		case err != nil:
			r.finding(RuleExternalInvalid, inventory.Medium, t.Offset, fmt.Sprintf("%s: location %s: %v", where, quote(loc), err),
				"an external data file cannot be read", "fetch the complete model again")
		case !fi.Mode().IsRegular():
			r.finding(RuleExternalInvalid, inventory.Medium, t.Offset, fmt.Sprintf("%s: location %s is not a regular file", where, quote(loc)),
				"an external data location names a folder or device", "reject the model")
		case off > fi.Size() || length >= 0 && off+length > fi.Size():
			r.finding(RuleExternalInvalid, inventory.Medium, t.Offset,
				fmt.Sprintf("%s: range offset %d length %d runs past the end of %s (%d bytes)", where, off, length, quote(loc), fi.Size()),
				"the external data range lies outside its file", "fetch the complete model again, or reject it")
		}
	}
	if len(missing) > 0 {
		r.finding(RuleExternalMissing, inventory.Low, missingOff,
			fmt.Sprintf("missing beside the model: %s", strings.Join(missing, ", ")),
			"the model's external data files are missing: it cannot load as it is",
			"fetch the complete model, with its data files, from its source")
	}
}

// rangeOf reads a tensor's offset and length (-1 when absent), or says
// what is wrong with them.
func rangeOf(t *onnxfile.Tensor) (off, length int64, bad string) {
	length = -1
	if v, ok := t.Get("offset"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, fmt.Sprintf("offset %q is not a non-negative integer", v)
		}
		off = n
	}
	if v, ok := t.Get("length"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, fmt.Sprintf("length %q is not a non-negative integer", v)
		}
		if off > 1<<62 || n > 1<<62 {
			return 0, 0, fmt.Sprintf("offset %d and length %d are past any file", off, n)
		}
		length = n
	}
	return off, length, ""
}

// escapes reports whether full, inside dir by name, resolves outside it
// through symbolic links.
func escapes(dir, full string) string {
	base, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return ""
	}
	target, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "is a symbolic link that cannot be resolved: " + err.Error()
	}
	rel, err := filepath.Rel(base, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "resolves through a symbolic link to " + target + ", outside the model's folder"
	}
	return ""
}

// quote puts s in double quotes as it is, escaping it only when it holds
// quotes or characters that do not print: evidence shows exact bytes.
func quote(s string) string {
	for _, r := range s {
		if r == '"' || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return `"` + s + `"`
}
