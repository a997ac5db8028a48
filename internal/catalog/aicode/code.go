package aicode

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pysource"
)

// The rules this cataloger reports on Python code; internal/rules/code.go
// says what each means.
const (
	RuleTorchLoad     = "code/torch-load-unsafe"
	RuleTorchJitLoad  = "code/torch-jit-load"
	RulePickleLoad    = "code/pickle-load"
	RuleHubUnpinned   = "code/hub-unpinned"
	RuleRemoteCode    = "code/trust-remote-code"
	RuleTorchHubLoad  = "code/torch-hub-load"
	RuleKerasUnsafe   = "code/keras-unsafe-load"
	RuleAgentTool     = "code/langchain-dangerous-tool"
	RuleLLMOutputExec = "code/llm-output-exec"
	RulePipUnpinned   = "code/notebook-pip-unpinned"
)

// maxEvidence is the most bytes of a call's text kept as evidence.
const maxEvidence = 120

// place fills in where a finding is: the path, and line, column and, in a
// notebook, cell of the byte at offset off on the given line of the
// scanned source.
type place func(f *inventory.Finding, off, line int)

// column is the 1-based byte column of offset off in src.
func column(src []byte, off int) int {
	s := min(off, len(src))
	for s > 0 && src[s-1] != '\n' && src[s-1] != '\r' {
		s--
	}
	return off - s + 1
}

// filePlace places findings in a Python file.
func filePlace(path string, src []byte) place {
	return func(f *inventory.Finding, off, line int) {
		f.Path, f.Line, f.Column = path, line, column(src, off)
	}
}

// evidence is the source of a use, on one line, cut at maxEvidence bytes.
func evidence(src []byte, start, end int) string {
	end = min(end, len(src))
	if start < 0 || start > end {
		return ""
	}
	t := strings.Join(strings.Fields(string(src[start:end])), " ")
	if len(t) > maxEvidence {
		t = t[:maxEvidence] + "…"
	}
	return t
}

// hubRef is a hub model or dataset a call loads, for code/hub-unpinned.
type hubRef struct {
	call pysource.Call
	comp inventory.Component
}

// checker reports the code rules on one scanned source.
type checker struct {
	res *pysource.Result
	src []byte
	at  place
	s   inventory.Sink
}

func (k *checker) report(c pysource.Call, rule string, sev inventory.Severity, msg, fix string) {
	f := inventory.Finding{Rule: rule, Severity: sev, Evidence: evidence(k.src, c.Offset, c.End), Message: msg, Remediation: fix}
	k.at(&f, c.Offset, c.Line)
	k.s.Finding(f)
}

// argText is the source of the argument named kwName (or at position i,
// when i ≥ 0), and whether there is one.
func argText(src []byte, c pysource.Call, i int, kwName string) (string, bool) {
	n := 0
	for _, a := range c.Args {
		if kwName != "" && a.Keyword == kwName {
			t := strings.TrimSpace(string(src[a.Start:a.End])[len(kwName):])
			return strings.TrimPrefix(t, "="), true
		}
		if a.Keyword == "" {
			if n == i {
				return strings.TrimSpace(string(src[a.Start:a.End])), true
			}
			n++
		}
	}
	return "", false
}

// kwValue is the trimmed source of keyword argument name's value.
func kwValue(src []byte, c pysource.Call, name string) (string, bool) {
	v, ok := argText(src, c, -1, name)
	return strings.TrimSpace(v), ok
}

// check reports every rule on the calls of a scanned source; hubs are the
// hub references python found in it.
func (k *checker) check(hubs []hubRef) {
	for _, h := range hubs {
		k.hub(h)
	}
	for _, c := range k.res.Calls {
		if !c.Called {
			continue
		}
		k.call(c)
	}
	k.llmOutput()
}

func (k *checker) hub(h hubRef) {
	rev := h.comp.Properties["revision"]
	if h.comp.Properties["pinned"] == "true" {
		return
	}
	what := "model"
	if h.comp.Kind == inventory.KindDataset {
		what = "dataset"
	}
	msg := fmt.Sprintf("%s %q is loaded from the hub by name with no revision: whatever the repository holds at the time of loading is what runs", what, h.comp.Name)
	if rev != "" {
		msg = fmt.Sprintf("%s %q is loaded at revision %q, a branch or tag that its owner can move: it is not pinned to a commit", what, h.comp.Name, rev)
	}
	f := inventory.Finding{
		Rule: RuleHubUnpinned, Severity: inventory.Medium, Component: h.comp.ID,
		Evidence: evidence(k.src, h.call.Offset, h.call.End), Message: msg,
		Remediation: `pin it to the commit you reviewed: add revision="<40-hex commit sha>" (the hub's "Files and versions" page, or huggingface_hub.HfApi().` + what + `_info(repo).sha)`,
	}
	k.at(&f, h.call.Offset, h.call.Line)
	k.s.Finding(f)
}

// pickleLoaders are the calls that unpickle what they read.
var pickleLoaders = map[string]string{
	"pickle.load": "pickle", "pickle.loads": "pickle", "pickle.Unpickler": "pickle",
	"_pickle.load": "pickle", "_pickle.loads": "pickle", "_pickle.Unpickler": "pickle",
	"cPickle.load": "pickle", "cPickle.loads": "pickle",
	"dill.load": "dill", "dill.loads": "dill", "cloudpickle.load": "cloudpickle", "cloudpickle.loads": "cloudpickle",
	"joblib.load": "joblib", "sklearn.externals.joblib.load": "joblib",
	"pandas.read_pickle": "pandas", "shelve.open": "shelve",
	"jsonpickle.decode": "jsonpickle", "jsonpickle.loads": "jsonpickle",
}

// pickleFix says what to use instead of each kind of pickle loader.
var pickleFix = map[string]string{
	"pickle":      "load only files you wrote yourself; store data as JSON, Parquet or NumPy arrays and model weights as safetensors",
	"dill":        "load only files you wrote yourself; store data as JSON, Parquet or NumPy arrays and model weights as safetensors",
	"cloudpickle": "load only files you wrote yourself; store data as JSON, Parquet or NumPy arrays and model weights as safetensors",
	"joblib":      "load only files you wrote yourself; for scikit-learn models use skops.io.load with trusted types, or ONNX",
	"pandas":      "read a data format instead: pandas.read_parquet or read_csv",
	"shelve":      "shelve values are pickles: open only shelves you wrote; use sqlite3 or JSON for data from elsewhere",
	"jsonpickle":  "jsonpickle.decode builds arbitrary objects: use json.loads",
	"numpy":       "drop allow_pickle=True (object arrays are pickles); save plain numeric arrays",
	"faiss":       "set allow_dangerous_deserialization=False and load only indexes you built; the docstore is a pickle",
}

// kerasLoaders are the names, by suffix, of the Keras model loaders.
var kerasLoaders = []string{"keras.models.load_model", "keras.saving.load_model"}

// agentTools are the LangChain classes that give a model a shell or a
// Python interpreter, with the severity of each.
var agentTools = map[string]inventory.Severity{
	"PythonREPLTool": inventory.High, "PythonAstREPLTool": inventory.High, "PythonREPL": inventory.High,
	"ShellTool": inventory.High, "BashProcess": inventory.High, "PALChain": inventory.High,
	// LLMMathChain evaluates model-written expressions with numexpr,
	// whose evaluation has had code-execution holes (CVE-2023-39631).
	"LLMMathChain": inventory.Medium,
}

// dangerousToolNames are load_tools names that give a model a shell or
// interpreter.
var dangerousToolNames = regexp.MustCompile(`["'](terminal|python_repl|shell|bash)["']`)

func (k *checker) call(c pysource.Call) {
	name := c.Resolved
	last := name[strings.LastIndexByte(name, '.')+1:]
	src := k.src
	switch {
	case name == "torch.load":
		v, ok := kwValue(src, c, "weights_only")
		fix := "pass weights_only=True: torch.load(f, weights_only=True); keep model weights in safetensors"
		switch {
		case !ok:
			k.report(c, RuleTorchLoad, inventory.Medium,
				"torch.load without weights_only unpickles the file with the full pickle machinery on PyTorch before 2.6, where weights_only defaults to False: a malicious checkpoint runs code", fix)
		case v == "False":
			k.report(c, RuleTorchLoad, inventory.High,
				"torch.load(weights_only=False) unpickles the file with the full pickle machinery: a malicious checkpoint runs code when loaded", fix)
		case v != "True":
			k.report(c, RuleTorchLoad, inventory.High,
				fmt.Sprintf("torch.load(weights_only=%s) is decided at run time: when it is false, a malicious checkpoint runs code when loaded", v), fix)
		}
	case name == "torch.jit.load":
		k.report(c, RuleTorchJitLoad, inventory.Medium,
			"torch.jit.load loads a TorchScript program: the model's code comes from the file and runs when the model is called",
			"load TorchScript only from files you built; for weights from elsewhere use safetensors and your own model code")
	case pickleLoaders[name] != "":
		kind := pickleLoaders[name]
		k.report(c, RulePickleLoad, inventory.High,
			name+" unpickles what it reads: a malicious file runs code when loaded", pickleFix[kind])
	case name == "numpy.load":
		if v, ok := kwValue(src, c, "allow_pickle"); ok && v != "False" {
			k.report(c, RulePickleLoad, inventory.High,
				fmt.Sprintf("numpy.load(allow_pickle=%s) unpickles object arrays: a malicious .npy runs code when loaded", v), pickleFix["numpy"])
		}
	case name == "torch.hub.load":
		k.torchHub(c)
	case matchSuffix(name, kerasLoaders):
		if v, ok := kwValue(src, c, "safe_mode"); ok && v != "True" {
			k.report(c, RuleKerasUnsafe, inventory.High,
				fmt.Sprintf("%s(safe_mode=%s) deserialises Lambda layers, whose Python bytecode runs when the model is loaded", last, v),
				"remove safe_mode=False; rebuild models without Lambda layers, or load only models you saved yourself")
		}
	case strings.HasSuffix(name, "keras.config.enable_unsafe_deserialization") || name == "enable_unsafe_deserialization":
		k.report(c, RuleKerasUnsafe, inventory.High,
			"keras.config.enable_unsafe_deserialization() turns off safe mode for every later load_model: Lambda layers' bytecode runs on load",
			"remove the call; load only models you saved yourself")
	case last == "load_local" && strings.Contains(name, "FAISS"):
		if v, ok := kwValue(src, c, "allow_dangerous_deserialization"); ok && v != "False" {
			k.report(c, RulePickleLoad, inventory.High,
				"FAISS.load_local(allow_dangerous_deserialization=True) unpickles the index's docstore: a malicious index runs code when loaded", pickleFix["faiss"])
		}
	case strings.HasPrefix(name, "langchain") && agentTools[last] != inventory.Info:
		k.report(c, RuleAgentTool, agentTools[last],
			last+" lets the model run code or shell commands on this machine: a prompt injection in any input it reads becomes code execution",
			"remove the tool, or run the agent in a sandbox (a container with no credentials, no network and a read-only filesystem)")
	case strings.HasPrefix(name, "langchain") && last == "load_tools":
		if v, ok := argText(src, c, 0, "tool_names"); ok {
			if m := dangerousToolNames.FindStringSubmatch(v); m != nil {
				k.report(c, RuleAgentTool, inventory.High,
					fmt.Sprintf("load_tools gives the agent the %q tool: the model runs shell commands or Python on this machine", m[1]),
					fmt.Sprintf("remove %q from the tool list, or run the agent in a sandbox with no credentials and no network", m[1]))
			}
		}
	}
	for _, kwName := range []string{"allow_dangerous_code", "allow_dangerous_requests"} {
		if v, ok := kwValue(src, c, kwName); ok && v != "False" {
			what := "run Python the model writes"
			if kwName == "allow_dangerous_requests" {
				what = "make any HTTP request the model asks for, to internal services too"
			}
			k.report(c, RuleAgentTool, inventory.High,
				fmt.Sprintf("%s=%s lets the agent %s: a prompt injection becomes code execution or request forgery", kwName, v, what),
				fmt.Sprintf("set %s=False, or run the agent in a sandbox with no credentials and no network", kwName))
		}
	}
	if v, ok := kwValue(src, c, "trust_remote_code"); ok && v != "False" {
		sev, msg := inventory.High, "trust_remote_code=True imports and runs the Python files of the repository being loaded, as they are when it is downloaded"
		if v != "True" {
			sev, msg = inventory.Medium, fmt.Sprintf("trust_remote_code=%s is decided at run time: when true, the repository's own Python files run on load", v)
		}
		k.report(c, RuleRemoteCode, sev, msg,
			`remove trust_remote_code=True and use a model whose architecture the library implements; if you must keep it, pin revision="<40-hex commit>" and review that commit's .py files`)
	}
}

func matchSuffix(name string, suffixes []string) bool {
	for _, s := range suffixes {
		if name == s || strings.HasSuffix(name, "."+s) {
			return true
		}
	}
	return false
}

// torchHub reports a torch.hub.load: it imports the repository's
// hubconf.py. A repository pinned to a commit is medium (the code is
// fixed, but still runs); a local source is the project's own code.
func (k *checker) torchHub(c pysource.Call) {
	if v, _ := kwValue(k.src, c, "source"); v == `"local"` || v == `'local'` {
		return
	}
	repo := arg(c, 0, "repo_or_dir")
	fix := `pin the repository to a reviewed commit: torch.hub.load("owner/repo:<40-hex commit>", ...), or vendor the code and load it with source="local"`
	_, ref, _ := strings.Cut(repo, ":")
	switch {
	case repo == "":
		k.report(c, RuleTorchHubLoad, inventory.High,
			"torch.hub.load downloads a GitHub repository named at run time and runs its hubconf.py", fix)
	case commitRE.MatchString(ref):
		k.report(c, RuleTorchHubLoad, inventory.Medium,
			fmt.Sprintf("torch.hub.load runs hubconf.py of %s: pinned to a commit, but that code still runs on this machine", repo),
			"review the repository at that commit, or vendor it and load with source=\"local\"")
	case ref != "":
		k.report(c, RuleTorchHubLoad, inventory.High,
			fmt.Sprintf("torch.hub.load downloads %s and runs its hubconf.py; %q is a branch or tag its owner can move", repo, ref), fix)
	default:
		k.report(c, RuleTorchHubLoad, inventory.High,
			fmt.Sprintf("torch.hub.load downloads %s at its default branch and runs its hubconf.py", repo), fix)
	}
}
