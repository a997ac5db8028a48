// Package rules lists every rule id chainvet reports, with what it means.
//
// The list is the contract behind the README's rule table and SARIF's rule
// descriptors: an id, once listed, keeps its meaning for good.
package rules

import (
	"slices"

	"github.com/chainvet/chainvet/internal/inventory"
)

// A Rule describes one kind of finding.
type Rule struct {
	ID string
	// Severity is the usual severity; some findings of a rule are raised or
	// lowered by their evidence, and say so in their own Severity.
	Severity inventory.Severity
	// Summary is one line: what the finding means.
	Summary string
	// Help says why it matters and what to do.
	Help string
}

// All is every rule, in the order the README lists them. Each area keeps
// its rules in a file of its own.
var All = slices.Concat(
	coreRules,
	safetensorsRules,
	ggufRules,
	templateRules,
	kerasRules,
	onnxRules,
	tensorflowRules,
	repoRules,
	bomRules,
	workflowRules,
	containerRules,
	squatRules,
	pkgcodeRules,
	confusionRules,
	hygieneRules,
	advisoryRules,
	mcpRules,
	suppressRules,
	codeRules,
	secretRules,
	lockRules,
)

// coreRules are the rules of pickle-based models, archives and the scan.
var coreRules = []Rule{
	{"pickle/dangerous-call", inventory.Critical,
		"A pickle calls a known-dangerous callable (process, exec, import, network or file primitive).",
		"Loading this file runs the call. Do not load it; obtain the model from a trusted source in a format that cannot run code (safetensors)."},
	{"pickle/dangerous-import", inventory.High,
		"A pickle imports a known-dangerous callable or module without a call reaching it.",
		"Importing runs module code and readies the callable for a gadget chain; no legitimate model needs it. Do not load the file."},
	{"pickle/unknown-call", inventory.High,
		"A pickle calls a callable that is not on the reviewed list of safe reconstruction globals.",
		"The call runs arbitrary code on load unless the callable is harmless. Review it; if it is a known-good class of your framework, report it so it can be added to the list."},
	{"pickle/unresolved-call", inventory.High,
		"A pickle calls something whose identity cannot be determined statically.",
		"Callables built at load time (from the results of other calls or from missing memo entries) are how scanners are evaded. Do not load the file."},
	{"pickle/build-gadget", inventory.High,
		"A pickle's BUILD sets state on a class, module or function, or on the result of an unreviewed call.",
		"BUILD on such objects monkey-patches code or runs an arbitrary __setstate__: a gadget for code execution. Do not load the file."},
	{"pickle/unknown-import", inventory.Medium,
		"A pickle imports a global that is not on the reviewed safe list, without calling it.",
		"Importing runs the module's top-level code. Review the global."},
	{"pickle/malformed", inventory.Medium,
		"A pickle stream is malformed or truncated; analysis kept everything before the break.",
		"High when opcodes that import or call precede the break: a payload followed by a broken opcode runs before the loader fails. Do not load the file."},
	{"pickle/frame-anomaly", inventory.High,
		"A pickle's FRAME lengths disagree with its opcodes.",
		"Python's two unpicklers read such streams differently, and scanners that trust frame lengths see another stream than the loader runs. No pickler writes this."},
	{"pickle/trailing-data", inventory.Medium,
		"Bytes follow the last pickle in a file and are not a pickle.",
		"A loader that reads on finds whatever is there; a well-formed model file has no trailing data. Review where the file came from."},
	{"pickle/custom-class", inventory.Low,
		"A pickle re-creates objects of classes that are not on the reviewed list, without running their constructors.",
		"Typical of whole-model checkpoints (torch.save(model)): loading needs that class's code importable and runs its __setstate__ if it has one. Make sure the class comes from code you trust; prefer saving state_dicts."},
	{"pickle/format", inventory.Low,
		"The file uses a pickle-based format; nothing dangerous was found in it.",
		"Pickle-based formats can run code on load. Prefer safetensors (or another data-only format) and load with weights_only=True."},
	{"model/extension-mismatch", inventory.High,
		"A file's content is a code-capable format its name hides (e.g. a pickle named .safetensors or .txt).",
		"Tools that pick a loader by extension see another file than the loader runs. Rename or reject the file."},
	{"model/malformed", inventory.Medium,
		"A model file's header is malformed, so loaders and scanners may disagree on what follows.",
		"Re-create the file with its framework's own writer, or reject it."},
	{"archive/crc-mismatch", inventory.High,
		"An archive member's CRC-32 does not match its content.",
		"Strict readers reject the member while lenient loaders (such as PyTorch's) use it: a way to hide a payload from scanners."},
	{"archive/encrypted", inventory.High,
		"An archive member has an encryption or patched-data flag (bits 0x1, 0x20, 0x40) set.",
		"Scanners skip such members while some loaders ignore the flag and read them. chainvet scans the member when its bytes are stored in the clear."},
	{"archive/name-mismatch", inventory.High,
		"An archive member's local header names another file than the central directory does.",
		"Streaming readers and directory readers see different files."},
	{"archive/duplicate-name", inventory.High,
		"An archive holds two members with the same name.",
		"Readers differ on which one they use; every copy was scanned."},
	{"archive/path-traversal", inventory.High,
		"An archive member's name is absolute or climbs out of the extraction folder (..).",
		"Extracting the archive writes outside its folder."},
	{"archive/symlink", inventory.Medium,
		"An archive member is a symbolic or hard link.",
		"Extracting it can make later members write through the link, outside the folder."},
	{"archive/prefix-data", inventory.High,
		"Data precedes the first member of a zip: the file is a polyglot.",
		"Loaders that check the leading bytes see the other format (e.g. a pickle) while zip readers see the archive; both were scanned."},
	{"archive/malformed", inventory.Medium,
		"An archive is malformed or truncated; members read before the break were scanned.",
		"Review the file; a damaged archive can hide members from some readers and not others."},
	{"scan/limit", inventory.High,
		"A limit (size, count, depth, ratio or time) cut the scan of a file short.",
		"The file is not known to be clean. Raise the limit if the file is legitimate, or reject it."},
	{"scan/error", inventory.High,
		"A file could not be read to the end.",
		"The file is not known to be clean. Make it readable and complete, then scan again."},
}

// Lookup returns the rule with the given id.
func Lookup(id string) (Rule, bool) {
	for _, r := range All {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
