package models

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/globals"
	"github.com/chainvet/chainvet/internal/modelfile/pickle"
)

// judge turns what the pickle VM saw into findings. base is the offset of
// the pickle stream within the file at path (non-zero for .npy object
// arrays), comp the ID of the component the findings are about.
//
// The severities follow one line: a known-dangerous callable reached by a
// call is critical; any other call of something not on the reviewed list,
// an unknowable callee, or a sign of evasion is high; an unreviewed import
// that nothing calls is medium; objects of unreviewed classes re-created
// without running their constructors — what whole-model checkpoints hold —
// are low.
func judge(res *pickle.Result, path, comp string, base int64) []inventory.Finding {
	j := judgement{path: path, comp: comp, base: base, seen: map[string]int{}}
	for _, c := range res.Calls {
		j.call(c)
	}
	for _, im := range res.Imports {
		j.imp(im)
	}
	for _, a := range res.Anomalies {
		j.anomaly(a)
	}
	if b := res.Malformed; b != nil {
		sev, note := inventory.Medium, ""
		if res.PayloadOps {
			sev, note = inventory.High, "; opcodes that import or call came before the break, and run before a loader fails"
		}
		what := "malformed"
		if b.Truncated {
			what = "truncated"
		}
		j.add(inventory.Finding{
			Rule: "pickle/malformed", Severity: sev, Offset: inventory.At(base + b.Offset),
			Evidence: fmt.Sprintf("%s at 0x%x: %s", what, base+b.Offset, b.Reason),
			Message:  "the pickle stream is " + what + "; everything before the break was analysed" + note,
			Remediation: "do not load the file; if it should be a model, fetch it again from a source you trust " +
				"and compare digests",
		}, "")
	}
	if res.Limit != "" {
		j.add(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Offset: inventory.At(base + res.End),
			Evidence:    fmt.Sprintf("pickle %s limit reached after %d opcodes", res.Limit, res.Opcodes),
			Message:     "the pickle analysis was cut short by a limit: the rest of the stream is not known to be clean",
			Remediation: "raise the limit (see chainvet scan --help) if the file is legitimate, or reject it",
		}, "")
	}
	return j.out
}

type judgement struct {
	path, comp string
	base       int64
	out        []inventory.Finding
	seen       map[string]int // rule+subject → index in out, to fold repeats
}

// add appends f, or, when subject is not empty and a finding of the same
// rule about the same subject exists, counts it there instead.
func (j *judgement) add(f inventory.Finding, subject string) {
	f.Path, f.Component = j.path, j.comp
	if subject != "" {
		key := f.Rule + "\x00" + subject
		if i, ok := j.seen[key]; ok {
			j.out[i].Message = bumpCount(j.out[i].Message)
			return
		}
		j.seen[key] = len(j.out)
	}
	j.out = append(j.out, f)
}

// bumpCount appends or raises a "(×N)" count at the end of a message.
func bumpCount(m string) string {
	n := 1
	if i := strings.LastIndex(m, " (×"); i >= 0 && strings.HasSuffix(m, ")") {
		fmt.Sscanf(m[i+len(" (×"):], "%d", &n)
		m = m[:i]
	}
	return fmt.Sprintf("%s (×%d)", m, n+1)
}

// worst classifies name and every global it was derived from, and returns
// the most dangerous verdict.
func worst(name string, origin []string) (globals.Class, string) {
	c, who := globals.Class{}, ""
	if name != "" {
		c, who = globals.Classify(name), name
	}
	for _, o := range origin {
		if oc := globals.Classify(o); oc.Verdict == globals.Dangerous && c.Verdict != globals.Dangerous {
			c, who = oc, o
		}
	}
	return c, who
}

func (j *judgement) call(c pickle.Call) {
	at := inventory.At(j.base + c.Offset)
	ev := evidence(c, j.base)
	name := c.Callee
	if c.Op == "BUILD" {
		// BUILD hands state to an object; what matters is what made it.
		name = strings.TrimSuffix(name, ".__setstate__")
	}
	class, who := worst(name, c.Origin)
	if c.SetAttr {
		sev := inventory.High
		if class.Verdict == globals.Dangerous {
			sev = inventory.Critical
		}
		j.add(inventory.Finding{
			Rule: "pickle/build-gadget", Severity: sev, Offset: at, Evidence: ev,
			Message:     fmt.Sprintf("sets attributes or items on %s itself: loading this file patches code", c.Callee),
			Remediation: "do not load this file",
		}, "")
		return
	}
	if class.Verdict == globals.Dangerous {
		reason := cmp.Or(class.Reason, class.Category)
		j.add(inventory.Finding{
			Rule: "pickle/dangerous-call", Severity: inventory.Critical, Offset: at, Evidence: ev,
			Message:     fmt.Sprintf("loading this file calls %s (%s)", who, reason),
			Remediation: "do not load this file: it runs code. Get the model from a trusted source, in safetensors",
		}, "")
		return
	}
	switch {
	case c.Callee == "":
		j.add(inventory.Finding{
			Rule: "pickle/unresolved-call", Severity: inventory.High, Offset: at, Evidence: ev,
			Message:     "a call whose target cannot be known without running the pickle",
			Remediation: "do not load this file; callables assembled at load time are a way to evade scanners",
		}, "")
	case class.Verdict == globals.Safe || class.Verdict == globals.Construct:
	case c.Construct:
		cls := name
		j.add(inventory.Finding{
			Rule: "pickle/custom-class", Severity: inventory.Low, Offset: at, Evidence: ev,
			Message:     fmt.Sprintf("re-creates objects of class %s, which is not on the reviewed list", cls),
			Remediation: "make sure " + cls + " comes from code you trust; prefer saving a state_dict in safetensors",
		}, "custom-class\x00"+cls)
	case c.Op == "BUILD":
		j.add(inventory.Finding{
			Rule: "pickle/build-gadget", Severity: inventory.High, Offset: at, Evidence: ev,
			Message:     fmt.Sprintf("BUILD hands state to an object made by %s, which is not on the reviewed list", name),
			Remediation: "do not load this file unless you trust the code behind " + name,
		}, "build\x00"+name)
	default:
		j.add(inventory.Finding{
			Rule: "pickle/unknown-call", Severity: inventory.High, Offset: at, Evidence: ev,
			Message:     fmt.Sprintf("loading this file calls %s, which is not on the reviewed list of safe globals", c.Callee),
			Remediation: "review what " + c.Callee + " does before loading the file; prefer safetensors",
		}, "call\x00"+c.Callee)
	}
}

func (j *judgement) imp(im pickle.Import) {
	if im.Called {
		return // its calls were judged
	}
	name := im.Module + "." + im.Name
	class := globals.Classify(name)
	ev := fmt.Sprintf("%s via %s at 0x%x", name, im.Op, j.base+im.Offset)
	switch class.Verdict {
	case globals.Dangerous:
		j.add(inventory.Finding{
			Rule: "pickle/dangerous-import", Severity: inventory.High, Offset: inventory.At(j.base + im.Offset), Evidence: ev,
			Message:     fmt.Sprintf("imports %s (%s), though no call reaches it", name, cmp.Or(class.Reason, class.Category)),
			Remediation: "do not load this file: no model needs this global",
		}, "")
	case globals.Unknown:
		j.add(inventory.Finding{
			Rule: "pickle/unknown-import", Severity: inventory.Medium, Offset: inventory.At(j.base + im.Offset), Evidence: ev,
			Message:     fmt.Sprintf("imports %s, which is not on the reviewed list; nothing calls it", name),
			Remediation: "importing runs the module's code: review " + im.Module,
		}, "import\x00"+name)
	}
}

func (j *judgement) anomaly(a pickle.Anomaly) {
	at := inventory.At(j.base + a.Offset)
	switch {
	case strings.HasPrefix(a.Kind, "frame-"):
		j.add(inventory.Finding{
			Rule: "pickle/frame-anomaly", Severity: inventory.High, Offset: at,
			Evidence:    fmt.Sprintf("%s at 0x%x: %s", a.Kind, j.base+a.Offset, a.Detail),
			Message:     "FRAME lengths disagree with the opcodes: Python's two unpicklers read this stream differently",
			Remediation: "do not load the file; no pickler writes such frames",
		}, "")
	case a.Kind == "trailing-data":
		j.add(inventory.Finding{
			Rule: "pickle/trailing-data", Severity: inventory.Medium, Offset: at,
			Evidence:    fmt.Sprintf("trailing data at 0x%x: %s", j.base+a.Offset, a.Detail),
			Message:     "bytes that are not a pickle follow the last pickle",
			Remediation: "review where the file came from; a loader that reads on gets these bytes",
		}, "")
	}
	// Other anomalies (missing memo keys, unregistered extension codes,
	// joblib arrays of unknown size) stop the VM and are reported with the
	// break that follows them.
}

// evidence renders a call as "os.system('true') via REDUCE at 0x2a", with
// how the callee was reached.
func evidence(c pickle.Call, base int64) string {
	var b strings.Builder
	b.WriteString(cmp.Or(c.Callee, "<unresolved>"))
	b.WriteString(c.Args)
	fmt.Fprintf(&b, " via %s at 0x%x", c.Op, base+c.Offset)
	if c.Via != "" {
		b.WriteString(" — ")
		b.WriteString(c.Via)
	}
	if c.Popped {
		b.WriteString("; result discarded")
	}
	if len(c.Origin) > 0 && c.Callee == "" {
		b.WriteString("; built from ")
		b.WriteString(strings.Join(slices.Compact(slices.Sorted(slices.Values(c.Origin))), ", "))
	}
	return b.String()
}
