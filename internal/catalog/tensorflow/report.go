package tensorflow

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/protowire"
	"github.com/chainvet/chainvet/internal/modelfile/tfsaved"
)

// maxOpsInEvidence bounds the ops one custom-op finding lists.
const maxOpsInEvidence = 8

// reporter turns what was found in one file into a component and findings.
type reporter struct {
	s      inventory.Sink
	f      *inventory.File
	id     string
	name   string
	format string
	loc    string
	// side reports a file that adds to the SavedModel beside it.
	side bool
}

func newReporter(s inventory.Sink, f *inventory.File, format, name string) *reporter {
	id := f.Component
	if id == "" {
		id = inventory.FileComponentID(inventory.KindModel, f.Path)
	}
	return &reporter{s: s, f: f, id: id, name: name, format: format, loc: f.Path}
}

// sibling makes a side file of a SavedModel on disk report to the
// component of the saved_model.pb beside it, when there is one.
func (r *reporter) sibling() {
	if r.f.Component != "" || r.f.Depth > 0 {
		return
	}
	sm := filepath.Join(filepath.Dir(r.f.Path), savedModelFile)
	if fi, err := os.Stat(sm); err == nil && fi.Mode().IsRegular() {
		r.id, r.loc, r.side = inventory.FileComponentID(inventory.KindModel, sm), sm, true
	}
}

func (r *reporter) component(props map[string]string) {
	if !r.side {
		if _, ok := props["format"]; !ok {
			props["format"] = r.format
		}
		if _, ok := props["framework"]; !ok {
			props["framework"] = "tensorflow"
		}
	}
	if r.f.Component != "" {
		r.s.Component(inventory.Component{ID: r.id, Properties: props})
		return
	}
	r.s.Component(inventory.Component{
		ID: r.id, Kind: inventory.KindModel, Name: r.name,
		Locations:  []inventory.Location{{Path: r.loc}},
		Properties: props,
	})
}

func (r *reporter) finding(rule string, sev inventory.Severity, off int64, evidence, msg, fix string) {
	r.s.Finding(inventory.Finding{
		Rule: rule, Severity: sev, Component: r.id, Path: r.f.Path, Offset: inventory.At(off),
		Evidence: evidence, Message: msg, Remediation: fix,
	})
}

// parseError reports why a parse stopped; I/O errors are returned for the
// pipeline to report.
func (r *reporter) parseError(err error, what string) error {
	var off int64
	var pe *protowire.Error
	if errors.As(err, &pe) {
		off = pe.Offset
	}
	switch {
	case errors.Is(err, protowire.ErrLimit):
		r.finding(inventory.RuleScanLimit, inventory.High, off, err.Error(),
			"a limit cut the scan of this "+what+" short: it is not known to be clean",
			"inspect the model by hand, or reject it")
	case errors.Is(err, protowire.ErrMalformed), errors.Is(err, tfsaved.ErrNotSavedModel):
		r.finding(ruleMalformed, inventory.Medium, off, err.Error(),
			"the "+what+" protobuf is malformed: loaders and scanners may disagree on what it holds",
			"re-export the model with TensorFlow, or reject it")
	default:
		return fmt.Errorf("%s: %w", r.f.Path, err)
	}
	return nil
}

// place says where a node is, for evidence.
func place(ref tfsaved.NodeRef) string {
	if ref.Function == "" {
		return fmt.Sprintf("node %q in the main graph", ref.Node)
	}
	return fmt.Sprintf("node %q in function %q", ref.Node, ref.Function)
}

// graph judges every op of a graph and its functions.
func (r *reporter) graph(g *tfsaved.Graph, where string) {
	for _, p := range g.Problems {
		r.finding(ruleMalformed, inventory.Medium, p.Offset, where+p.Msg,
			"the graph is inconsistent: loaders and scanners may disagree on it",
			"re-export the model with TensorFlow, or reject it")
	}
	var custom []tfsaved.Op
	for _, op := range g.Ops {
		ev := fmt.Sprintf("%sop %s (%d×), first %s", where, op.Name, op.Count, place(op.First))
		switch {
		case pythonOps[op.Name]:
			r.finding(RulePythonOp, inventory.Critical, op.First.Offset, ev,
				"running this graph calls back into the Python interpreter that loaded it: "+op.Name+" runs whatever Python function its token names",
				"do not load this model; a graph that needs py_func cannot be vetted statically")
		case ioOps[op.Name] != "":
			r.finding(RuleIOOp, inventory.High, op.First.Offset, ev,
				"running this graph "+ioOps[op.Name]+": "+op.Name+" reaches outside the model",
				"find out why the model needs "+op.Name+"; reject it unless that is expected")
		case op.Name != "" && !tfsaved.Known(op.Name) && !g.HasFunction(op.Name):
			custom = append(custom, op)
		}
	}
	for _, a := range g.Attrs {
		if why := attrIO(a); why != "" {
			r.finding(RuleIOOp, inventory.High, a.At.Offset,
				fmt.Sprintf("%sop %s, %s: %s %q", where, a.Op, place(a.At), a.Key, a.Value),
				"running this graph "+why, "reject the model unless that is expected")
		}
	}
	if len(custom) > 0 {
		var names []string
		for i, op := range custom {
			if i == maxOpsInEvidence {
				names = append(names, fmt.Sprintf("… %d more", len(custom)-i))
				break
			}
			names = append(names, fmt.Sprintf("%s (first %s)", op.Name, place(op.First)))
		}
		r.finding(RuleCustomOp, inventory.High, custom[0].First.Offset,
			where+"ops TensorFlow does not register: "+strings.Join(names, "; "),
			"these ops need a custom op library, native code loaded with tf.load_op_library before the model can load",
			"find out which library provides them and whether you trust it; never load a library that came with the model")
	}
}

// scheme matches a URL scheme of two letters or more (one is a drive).
var scheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]+:`)

var drive = regexp.MustCompile(`^[A-Za-z]:`)

// escapes says why a file name, joined to a folder, would name a file
// outside it, or "".
func escapes(name string) string {
	switch {
	case strings.ContainsRune(name, 0):
		return "contains a NUL byte"
	case scheme.MatchString(name):
		return "is a URL"
	case strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || drive.MatchString(name):
		return "is an absolute path"
	}
	depth := 0
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		switch part {
		case ".":
		case "..":
			if depth--; depth < 0 {
				return "climbs out of the assets folder through .."
			}
		default:
			depth++
		}
	}
	return ""
}

// assets checks the files the graph reads from assets/.
func (r *reporter) assets(g *tfsaved.Graph, where string) {
	dir := filepath.Join(filepath.Dir(r.f.Path), "assets")
	for _, a := range g.Assets {
		if why := escapes(a.Filename); why != "" {
			r.finding(RuleAssetPath, inventory.High, a.Offset, fmt.Sprintf("%sasset filename %q %s", where, a.Filename, why),
				"loading the SavedModel hands this path to the graph (lookup-table initializers read it): a file outside the model",
				"assets belong in the SavedModel's assets/ folder, named relatively; reject the model")
			continue
		}
		if r.f.Depth > 0 {
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(a.Filename, `\`, "/")))
		if _, err := os.Lstat(full); err != nil {
			continue
		}
		base, err1 := filepath.EvalSymlinks(dir)
		target, err2 := filepath.EvalSymlinks(full)
		if err1 != nil || err2 != nil {
			continue
		}
		if rel, err := filepath.Rel(base, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			r.finding(RuleAssetPath, inventory.High, a.Offset,
				fmt.Sprintf("%sasset %q resolves through a symbolic link to %s", where, a.Filename, target),
				"loading the SavedModel reads a file outside the model through a symbolic link",
				"replace the link with the asset itself, or reject the model")
		}
	}
}
