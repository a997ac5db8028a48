// Package keras finds what loading a Keras model would run, import or
// fetch, from its configuration alone: config.json of a Keras 3 .keras
// archive, or the model_config and training_config attributes of a legacy
// .h5 file.
//
// Check walks the whole configuration — nested models, layers, wrappers,
// build and compile configs — and reports:
//
//   - Lambda layers and __lambda__ objects: Python bytecode, which Keras
//     runs when loading with safe_mode=False (and legacy .h5 loading
//     always). The code object is decoded with package marshal, never run,
//     and the names and strings it references are reported; it is critical
//     when they name process, exec, import, file or network primitives.
//   - Objects whose module is outside Keras and TensorFlow, which Keras
//     imports to load them (CVE-2025-1550), and functions named by module
//     and name, judged with package globals.
//   - What loading fetches or reads from outside the model: get_file, URLs,
//     vocabulary files, TFSMLayer paths (CVE-2025-8747).
//
// The JSON is read as Python's json.loads reads it, within [Limits].
package keras

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/marshal"
)

// The rule ids this package reports; internal/rules describes them.
const (
	RuleLambda    = "keras/lambda"
	RuleForeign   = "keras/foreign-object"
	RuleExternal  = "keras/external-resource"
	RuleMalformed = "keras/malformed"
	RuleLimit     = inventory.RuleScanLimit
)

// Limits bound the work of one Check. A zero field takes its value from
// DefaultLimits.
type Limits struct {
	// ConfigBytes is the largest configuration read, in bytes.
	ConfigBytes int64
	// Depth is the deepest JSON nesting.
	Depth int
	// Values is the most JSON values in one configuration.
	Values int
	// Problems is the most problems reported for one configuration; a
	// model with thousands of Lambda layers says so in one more.
	Problems int
	// Marshal bounds the decoding of each Lambda's code.
	Marshal marshal.Limits
}

// DefaultLimits take the configuration of any real model.
var DefaultLimits = Limits{
	// The largest Keras configs (hundreds of layers, inline vocabularies)
	// are a few MB.
	ConfigBytes: 64 << 20,
	// Real configs nest some 20 levels; Python's own json stops near 1000.
	Depth: 512,
	// About 150 bytes each when parsed: some 600 MiB at worst, which a
	// 64 MiB config of tiny values can reach; real ones use a fraction.
	Values:   4 << 20,
	Problems: 100,
}

func (l Limits) withDefaults() Limits {
	if l.ConfigBytes <= 0 {
		l.ConfigBytes = DefaultLimits.ConfigBytes
	}
	if l.Depth <= 0 {
		l.Depth = DefaultLimits.Depth
	}
	if l.Values <= 0 {
		l.Values = DefaultLimits.Values
	}
	if l.Problems <= 0 {
		l.Problems = DefaultLimits.Problems
	}
	return l
}

// A Problem is one thing found in a configuration.
type Problem struct {
	Rule     string
	Severity inventory.Severity
	// Offset is the byte offset of the value in the configuration's own
	// bytes, or -1 when it cannot be told (text that was transcoded).
	Offset int64
	// Line is the 1-based line of Offset, or 0.
	Line int
	// Pointer says where in the configuration, e.g.
	// "config.layers[2].config.function".
	Pointer     string
	Evidence    string
	Message     string
	Remediation string
}

// A Model is what a configuration says about the model's identity.
type Model struct {
	// ClassName and Name are the top-level object's, e.g. "Sequential"
	// and "tiny_mlp".
	ClassName, Name string
	// Layers counts the layer configs in every "layers" list, nested
	// models' included.
	Layers int
	// DTypes are the weight dtypes of the layers' dtype policies, in
	// safetensors' spelling ("F32", "BF16"), sorted.
	DTypes []string
}

// Architecture is ClassName with Name in parentheses, or "".
func (m *Model) Architecture() string {
	switch {
	case m == nil || m.ClassName == "":
		return ""
	case m.Name == "":
		return m.ClassName
	}
	return m.ClassName + "(" + m.Name + ")"
}

// A Result is what Check found in one configuration.
type Result struct {
	// Model is nil when the configuration could not be read.
	Model    *Model
	Problems []Problem
}

// Worst is the highest severity among the problems, and false if none.
func (r *Result) Worst() (inventory.Severity, bool) {
	if len(r.Problems) == 0 {
		return inventory.Info, false
	}
	w := inventory.Info
	for _, p := range r.Problems {
		w = max(w, p.Severity)
	}
	return w, true
}

// CheckJSON checks a configuration file's bytes, decoded as json.loads
// decodes bytes (UTF-8, UTF-16 or UTF-32). A configuration that cannot be
// read is a problem in the result, never a silent pass; the error is ctx's.
func CheckJSON(ctx context.Context, b []byte, lim Limits) (*Result, error) {
	lim = lim.withDefaults()
	if int64(len(b)) > lim.ConfigBytes {
		return limitResult(fmt.Sprintf("configuration of %d bytes > limit %d", len(b), lim.ConfigBytes)), nil
	}
	text, same, err := decodeText(b)
	if err != nil {
		return malformedResult(err), nil
	}
	return check(ctx, text, same, lim)
}

// CheckString checks a configuration that is already text, as the
// model_config attribute of an .h5 file is once Keras has decoded it.
func CheckString(ctx context.Context, s string, lim Limits) (*Result, error) {
	lim = lim.withDefaults()
	if int64(len(s)) > lim.ConfigBytes {
		return limitResult(fmt.Sprintf("configuration of %d bytes > limit %d", len(s), lim.ConfigBytes)), nil
	}
	return check(ctx, []byte(s), true, lim)
}

func check(ctx context.Context, text []byte, offsets bool, lim Limits) (*Result, error) {
	root, err := parseJSON(text, lim)
	if errors.Is(err, errLimit) {
		return limitResult(err.Error()), nil
	}
	if err != nil {
		return malformedResult(err), nil
	}
	w := &walker{ctx: ctx, lim: lim, text: text, offsets: offsets, res: &Result{Model: &Model{}}}
	m := w.res.Model
	m.ClassName, _ = root.str("class_name")
	if cfg := root.get("config"); cfg != nil {
		m.Name, _ = cfg.str("name")
	}
	if err := w.walk(root, ""); err != nil {
		return nil, err
	}
	if w.dropped > 0 {
		w.res.Problems = append(w.res.Problems, Problem{
			Rule: RuleLimit, Severity: inventory.High, Offset: -1,
			Evidence:    fmt.Sprintf("%d more problems after the first %d", w.dropped, lim.Problems),
			Message:     "the configuration has more problems than are listed",
			Remediation: "review the whole configuration; raise the limit to list them all",
		})
	}
	m.DTypes = w.dtypeList()
	return w.res, nil
}

func malformedResult(err error) *Result {
	return &Result{Problems: []Problem{{
		Rule: RuleMalformed, Severity: inventory.Medium, Offset: -1, Evidence: err.Error(),
		Message:     "the Keras configuration is not valid JSON: what Keras loads from it cannot be told",
		Remediation: "re-save the model with Keras, or reject it",
	}}}
}

func limitResult(why string) *Result {
	return &Result{Problems: []Problem{{
		Rule: RuleLimit, Severity: inventory.High, Offset: -1, Evidence: why,
		Message:     "the Keras configuration was not checked to the end: it is not known to be clean",
		Remediation: "raise the limit if the model is legitimate, or reject it",
	}}}
}

// Metadata is what metadata.json of a .keras archive says.
type Metadata struct {
	KerasVersion string
	DateSaved    string
}

// ReadMetadata reads metadata.json.
func ReadMetadata(b []byte, lim Limits) (Metadata, error) {
	lim = lim.withDefaults()
	if int64(len(b)) > lim.ConfigBytes {
		return Metadata{}, fmt.Errorf("metadata of %d bytes > limit %d: %w", len(b), lim.ConfigBytes, errLimit)
	}
	text, _, err := decodeText(b)
	if err != nil {
		return Metadata{}, err
	}
	root, err := parseJSON(text, lim)
	if err != nil {
		return Metadata{}, err
	}
	if root.kind != jObject {
		return Metadata{}, fmt.Errorf("metadata is not an object: %w", ErrJSON)
	}
	var md Metadata
	md.KerasVersion, _ = root.str("keras_version")
	md.DateSaved, _ = root.str("date_saved")
	return md, nil
}

// IsLimit reports whether a problem or error is a limit reached.
func IsLimit(err error) bool { return errors.Is(err, errLimit) }

// looksLikeConfig reports whether text starts like a Keras configuration:
// a JSON object with a class_name key near its start. Used to pick
// config.json files out of other JSON.
func looksLikeConfig(head []byte) bool {
	s := strings.TrimLeft(string(head), " \t\r\n\ufeff")
	return strings.HasPrefix(s, "{") && strings.Contains(s, `"class_name"`) && strings.Contains(s, `"config"`)
}

// LooksLikeConfig reports whether head, the first bytes of a JSON file,
// look like a Keras model configuration (a class_name and a config among
// its keys). A configuration in UTF-16 or UTF-32 is decoded first.
func LooksLikeConfig(head []byte) bool {
	// A head may end mid-character: UTF-16 and UTF-32 units fit in 4.
	text, _, err := decodeText(head[:len(head)-len(head)%4])
	return err == nil && looksLikeConfig(text)
}
