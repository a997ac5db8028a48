package rules

import "github.com/chainvet/chainvet/internal/inventory"

// onnxRules are reported by the ONNX cataloger (internal/catalog/onnx).
// A broken ModelProto is model/malformed.
var onnxRules = []Rule{
	{"onnx/external-data-path", inventory.High,
		"An ONNX tensor's external data location is absolute, a URL, or leaves the model's folder (.. or a symbolic link).",
		"Loading the model reads that file into a tensor (CVE-2024-27318): it can read any file the loader can, and a model that round-trips its weights writes it out again. Keep external data files beside the model, named relatively, and reject the model otherwise."},
	{"onnx/external-data-invalid", inventory.Medium,
		"An ONNX tensor's external data entry is inconsistent: no location, a bad offset or length, or a range past the end of its file.",
		"Loaders and scanners may read different bytes, or fail part way. Re-export the model with onnx.save_model(..., save_as_external_data=True), or reject it."},
	{"onnx/external-data-missing", inventory.Low,
		"An ONNX tensor's external data file is not beside the model.",
		"The model cannot load as it is, and whatever is put at that path later becomes its weights. Fetch the complete model, with its data files, from its source."},
	{"onnx/custom-domain", inventory.High,
		"An ONNX model uses operators from a domain outside the ONNX standard, which need a custom-op library of native code.",
		"To load it, a runtime must register a shared library that implements those ops: native code that the model's author chose. Info for ops bundled with onnxruntime (com.microsoft), medium for onnxruntime-extensions (ai.onnx.contrib). Load only with op libraries you trust, or reject the model."},
}
