package keras

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/globals"
)

// walker walks one parsed configuration.
type walker struct {
	ctx     context.Context
	lim     Limits
	text    []byte
	offsets bool // node offsets are offsets in the file
	res     *Result
	dropped int
	visited int
	lines   []int // offsets of line starts, computed when first needed
	dtypes  map[string]bool
	seen    map[string]bool // rule + pointer + evidence already reported
}

// report adds a problem about node n at pointer path.
func (w *walker) report(n *node, path, rule string, sev inventory.Severity, evidence, message, remediation string) {
	key := rule + "\x00" + path + "\x00" + evidence
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	if len(w.res.Problems) >= w.lim.Problems {
		w.dropped++
		return
	}
	p := Problem{Rule: rule, Severity: sev, Offset: -1, Pointer: path, Evidence: evidence, Message: message, Remediation: remediation}
	if w.offsets && n != nil {
		p.Offset = int64(n.off)
		p.Line = w.line(n.off)
	}
	w.res.Problems = append(w.res.Problems, p)
}

// line is the 1-based line of offset off.
func (w *walker) line(off int) int {
	if w.lines == nil {
		w.lines = []int{0}
		for i, c := range w.text {
			if c == '\n' {
				w.lines = append(w.lines, i+1)
			}
		}
	}
	i, found := slices.BinarySearch(w.lines, off)
	if found {
		return i + 1
	}
	return i
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// walk visits n and everything below it.
func (w *walker) walk(n *node, path string) error {
	w.visited++
	if w.visited&0xfff == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	switch n.kind {
	case jString:
		w.checkString(n, path)
		return nil
	case jArray:
		for i, it := range n.items {
			if err := w.walk(it, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	case jObject:
	default:
		return nil
	}
	w.object(n, path)
	for i, k := range n.keys {
		v := n.items[i]
		p := join(path, k)
		switch k {
		case "layers":
			if v.kind == jArray {
				w.res.Model.Layers += len(v.items)
			}
		case "vocabulary", "merges", "proto":
			if v.kind == jString && v.s != "" && !isURL(v.s) {
				w.report(v, p, RuleExternal, inventory.High, fmt.Sprintf("%s file %q", k, v.s),
					"the configuration names a file outside the model, which Keras reads when it loads the layer",
					"keep vocabularies and other assets inside the model archive; reject models that read local paths")
			}
		case "dtype":
			w.dtype(n, v)
		}
		if err := w.walk(v, p); err != nil {
			return err
		}
	}
	return nil
}

// object checks one JSON object for the shapes Keras deserializes into
// code: lambdas, module references, fetchers.
func (w *walker) object(n *node, path string) {
	cls, _ := n.str("class_name")
	cfg := n.get("config")
	switch cls {
	case "__lambda__":
		w.kerasLambda(n, path)
	case "Lambda":
		w.legacyLambda(cfg, join(path, "config"))
	case "TFSMLayer":
		where := cfg
		fp, _ := cfg.str("filepath")
		if fp == "" {
			where = n
		}
		w.report(where, join(path, "config.filepath"), RuleExternal, inventory.High,
			fmt.Sprintf("TFSMLayer filepath %q", fp),
			"TFSMLayer loads a TensorFlow SavedModel from outside the archive when the model loads; that SavedModel's graph runs too",
			"vet the SavedModel it names, or reject the model")
	}
	if fn := fetcher(n, cls); fn != "" {
		w.report(n, path, RuleExternal, inventory.High, fn,
			"the configuration makes Keras call "+fn+" while loading: it downloads or reads files chosen by the model's author (CVE-2025-8747)",
			"do not load the model; a legitimate model never fetches files at load time")
	}
	if _, ok := n.str("module"); ok && cls != "" {
		w.reference(n, path, cls)
	} else if reg, ok := n.str("registered_name"); ok && cls != "" {
		w.registered(n, path, reg)
	}
}

// kerasFamily reports whether module belongs to Keras or TensorFlow, or
// to the Keras team's own libraries, which Keras imports by design.
func kerasFamily(module string) bool {
	top, _, _ := strings.Cut(module, ".")
	switch top {
	case "keras", "tensorflow", "tf_keras", "keras_hub", "keras_nlp", "keras_cv", "keras_rs", "tf":
		return true
	}
	return false
}

// fetchers are Keras functions that read or download files chosen by
// their arguments: a configuration that names one makes the loader call it.
var fetchers = map[string]bool{"get_file": true, "load_model": true, "load_weights": true}

// fetcher returns the dotted name of a fetcher that object n names.
func fetcher(n *node, cls string) string {
	name := cls
	if cls == "function" {
		name, _ = n.str("config")
	}
	if !fetchers[name] {
		return ""
	}
	if module, ok := n.str("module"); ok {
		return module + "." + name
	}
	return name
}

// pythonBuiltins are the functions and types of Python's builtins module.
// Keras resolves module "builtins" functions by name in its own modules
// first ("relu", "mse"), then in builtins itself.
var pythonBuiltins = wordSet(`abs aiter all anext any ascii bin bool breakpoint bytearray bytes callable
		chr classmethod compile complex copyright credits delattr dict dir divmod enumerate eval exec exit filter
		float format frozenset getattr globals hasattr hash help hex id input int isinstance issubclass iter len
		license list locals map max memoryview min next object oct open ord pow print property quit range repr
		reversed round set setattr slice sorted staticmethod str sum super tuple type vars zip __import__
		__build_class__ __loader__ __spec__ execfile reload raw_input apply`)

// wordSet makes a set of the space-separated words in s.
func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// reference checks an object Keras 3 would import by module and name.
func (w *walker) reference(n *node, path, cls string) {
	module, _ := n.str("module")
	name := cls
	switch cls {
	case "function":
		if s, ok := n.str("config"); ok {
			name = s
		}
	case "__typespec__":
		if s, ok := n.str("spec_name"); ok {
			name = s
		}
	}
	reg, _ := n.str("registered_name")
	full := module + "." + name
	var sev inventory.Severity
	var why string
	switch {
	case module == "" || kerasFamily(module):
		// Keras imports nothing for an empty module and its own modules
		// are what it is made of, save a few functions that run code or
		// touch files. Registered names are looked up, not imported; a
		// dangerous one still says what the author meant.
		if why = familyDanger(module, name); why != "" {
			sev = inventory.Critical
			break
		}
		w.registered(n, path, reg)
		return
	case module == "builtins":
		c := globals.Classify(full)
		switch {
		case c.Verdict == globals.Dangerous:
			sev, why = inventory.Critical, c.Reason
		case pythonBuiltins[name]:
			sev, why = inventory.High, "a Python builtin used as a Keras object"
		default:
			// Keras looks bare names up among its own activations,
			// losses, metrics and the like.
			w.registered(n, path, reg)
			return
		}
	default:
		c := globals.Classify(full)
		if c.Verdict == globals.Dangerous {
			sev, why = inventory.Critical, c.Reason
		} else if c2 := globals.Classify(module); c2.Verdict == globals.Dangerous {
			sev, why = inventory.Critical, c2.Reason
		} else {
			sev, why = inventory.High, "module outside Keras and TensorFlow"
		}
	}
	ev := fmt.Sprintf("module %q, %s %q: %s (%s)", module, kind(cls), name, full, why)
	if reg != "" {
		ev += fmt.Sprintf("; registered_name %q", reg)
	}
	w.report(n, path, RuleForeign, sev, ev,
		"the configuration names "+full+", which Keras imports and calls while loading the model (CVE-2025-1550 for modules outside Keras, before Keras 3.9)",
		"do not load the model unless you trust "+module+"; Keras models need only Keras's own objects and registered custom objects you supply")
}

// familyDanger says why a Keras or TensorFlow object is dangerous to
// name in a configuration, or "": Keras's func_load builds a function from
// marshalled bytecode, and TensorFlow's file, SavedModel, native-library
// and Python-call functions are on the reviewed dangerous list. The
// Lambda layer and the fetchers have rules of their own.
func familyDanger(module, name string) string {
	if name == "func_load" {
		return "builds a Python function from marshalled bytecode"
	}
	top, _, _ := strings.Cut(module, ".")
	if top != "tensorflow" && top != "tf" || name == "Lambda" || fetchers[name] {
		return ""
	}
	if c := globals.Classify(module + "." + name); c.Verdict == globals.Dangerous {
		return c.Reason
	}
	return ""
}

func kind(cls string) string {
	if cls == "function" {
		return "function"
	}
	return "class"
}

// registered checks a registered_name ("package>name"). Keras only looks
// such names up among registered objects, so only a dangerous one, which
// shows intent, is reported. It reports whether it reported.
func (w *walker) registered(n *node, path, reg string) bool {
	pkg, name, ok := strings.Cut(reg, ">")
	if !ok || pkg == "" || name == "" || kerasFamily(pkg) {
		return false
	}
	c := globals.Classify(pkg + "." + name)
	if c.Verdict != globals.Dangerous {
		return false
	}
	w.report(n, path, RuleForeign, inventory.Critical,
		fmt.Sprintf("registered_name %q: %s.%s (%s)", reg, pkg, name, c.Reason),
		"the configuration names "+pkg+"."+name+" as a registered object: a dangerous callable has no place in a model",
		"do not load the model")
	return true
}

// remoteSchemes are URL schemes that something in the loading stack
// (urllib, tf.io.gfile, Keras Hub) fetches.
var remoteSchemes = []string{"http://", "https://", "ftp://", "ftps://", "file://", "gs://", "s3://", "hdfs://", "hf://", "kaggle://"}

// isURL reports whether s, whole, is a URL of a scheme a loader fetches.
// A sentence that mentions one is not.
func isURL(s string) bool {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, " \t\n") {
		return false
	}
	l := strings.ToLower(s)
	for _, p := range remoteSchemes {
		if strings.HasPrefix(l, p) && len(l) > len(p) {
			return true
		}
	}
	return false
}

// checkString reports a string value that is a URL.
func (w *walker) checkString(n *node, path string) {
	if !isURL(n.s) {
		return
	}
	w.report(n, path, RuleExternal, inventory.High, fmt.Sprintf("URL %q", n.s),
		"the configuration holds a URL, which a layer or function may fetch when the model loads",
		"a model should not fetch anything at load time: review what uses the URL, or reject the model")
}

// dtype records the dtype policy of a layer config: Keras 3 writes
// {"class_name": "DTypePolicy", "config": {"name": "float32"}}, Keras 2
// a string in configs that have a name and trainable.
func (w *walker) dtype(parent, v *node) {
	var name string
	switch v.kind {
	case jString:
		if parent.get("trainable") == nil {
			return // an input's or tensor's dtype, not a layer's
		}
		name = v.s
	case jObject:
		cls, _ := v.str("class_name")
		if !strings.HasSuffix(cls, "DTypePolicy") {
			return
		}
		name, _ = v.get("config").str("name")
	}
	if name == "" {
		return
	}
	if w.dtypes == nil {
		w.dtypes = map[string]bool{}
	}
	for _, d := range weightDTypes(name) {
		w.dtypes[d] = true
	}
}

// weightDTypes gives the dtypes a policy stores weights in, in
// safetensors' spelling: mixed policies keep float32 variables.
func weightDTypes(policy string) []string {
	switch policy {
	case "float16":
		return []string{"F16"}
	case "bfloat16":
		return []string{"BF16"}
	case "float32", "mixed_float16", "mixed_bfloat16":
		return []string{"F32"}
	case "float64":
		return []string{"F64"}
	}
	switch {
	case strings.HasPrefix(policy, "int8_from_"):
		return []string{"I8"}
	case strings.HasPrefix(policy, "int4_from_"):
		return []string{"I4"}
	case strings.HasPrefix(policy, "float8_from_"):
		return []string{"F8_E4M3"}
	}
	return nil
}

func (w *walker) dtypeList() []string {
	out := make([]string, 0, len(w.dtypes))
	for d := range w.dtypes {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}
