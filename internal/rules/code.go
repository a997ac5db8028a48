package rules

import "github.com/chainvet/chainvet/internal/inventory"

// codeRules are reported on Python sources and notebooks by the
// code-references cataloger (internal/catalog/aicode): calls that load
// code-capable files, run a hub repository's code, or hand a model's
// output to an interpreter, a shell or a database.
var codeRules = []Rule{
	{ID: "code/torch-load-unsafe", Severity: inventory.High,
		Summary: "torch.load is called without weights_only=True (high: weights_only=False or decided at run time; medium: left out)",
		Help: "torch.load with weights_only=False unpickles the checkpoint, and a malicious one runs code. Left out, it is safe only on PyTorch 2.6 and later, where weights_only defaults to True. " +
			"Pass weights_only=True; keep weights in safetensors."},
	{ID: "code/torch-jit-load", Severity: inventory.Medium,
		Summary: "torch.jit.load loads a TorchScript program, whose code comes from the file",
		Help:    "A TorchScript file is a program: its code runs when the model is called. Load only files you built; for weights from elsewhere use safetensors and your own model code."},
	{ID: "code/pickle-load", Severity: inventory.High,
		Summary: "Code unpickles what it reads: pickle, _pickle, cPickle, dill, cloudpickle, joblib, pandas.read_pickle, shelve, jsonpickle, numpy.load(allow_pickle=True), FAISS.load_local(allow_dangerous_deserialization=True)",
		Help: "Unpickling runs whatever the file says. Load only files you wrote yourself; store data as JSON, Parquet or plain arrays and weights as safetensors; " +
			"drop allow_pickle=True; for scikit-learn models use skops.io."},
	{ID: "code/hub-unpinned", Severity: inventory.Medium,
		Summary: "A model or dataset is loaded from the Hugging Face hub by name with no revision, or at a branch or tag, not a commit",
		Help: "What is loaded is whatever the repository holds that day: a takeover or a careless push changes the model under you. " +
			`Add revision="<40-hex commit>" to from_pretrained, pipeline, hf_hub_download, snapshot_download, load_dataset, SentenceTransformer. ` +
			"Only literal hub ids are judged: local paths and names held in variables are not."},
	{ID: "code/trust-remote-code", Severity: inventory.High,
		Summary: "A call passes trust_remote_code=True (medium: a value decided at run time)",
		Help: "The loader imports and runs the repository's own Python files, as they are when downloaded. " +
			`Use a model whose architecture the library implements; if you cannot, pin revision="<40-hex commit>" and review that commit's code.`},
	{ID: "code/torch-hub-load", Severity: inventory.High,
		Summary: "torch.hub.load downloads a GitHub repository and runs its hubconf.py (medium when pinned to a commit)",
		Help: "The repository's code runs on this machine, at whatever its branch or tag points to. " +
			`Pin "owner/repo:<40-hex commit>" after reviewing it, or vendor the code and load it with source="local".`},
	{ID: "code/keras-unsafe-load", Severity: inventory.High,
		Summary: "A Keras model is loaded with safe_mode=False, or keras.config.enable_unsafe_deserialization() is called",
		Help:    "Without safe mode, Lambda layers' Python bytecode is deserialised and runs on load. Remove the setting; rebuild models without Lambda layers."},
	{ID: "code/langchain-dangerous-tool", Severity: inventory.High,
		Summary: "An agent is given a shell or Python tool (PythonREPLTool, ShellTool, load_tools terminal or python_repl), or allow_dangerous_code/allow_dangerous_requests (medium: LLMMathChain)",
		Help: "A prompt injection in anything the agent reads becomes code execution or request forgery. " +
			"Remove the tool or the flag, or run the agent in a sandbox with no credentials, no network and a read-only filesystem."},
	{ID: "code/llm-output-exec", Severity: inventory.Critical,
		Summary: "A language model's output reaches eval, exec, compile, a shell or process call (critical) or a SQL statement (high) in the same function",
		Help: "Whoever controls the model's input controls what runs. Parse the output into data and map it to a fixed set of allowed actions; pass SQL values as parameters; run generated code only in a sandbox. " +
			"The analysis follows assignments within one function; it does not follow values across calls."},
	{ID: "code/notebook-pip-unpinned", Severity: inventory.Medium,
		Summary: "A notebook's !pip, %pip, !uv pip or !conda install names a requirement without an exact version (low: installs from a requirements file)",
		Help:    "Each run may install a different release, or a hijacked one. Pin every requirement with == (VCS links to a commit), or install from a requirements file with == pins and --require-hashes."},
}
