package rules

import "github.com/chainvet/chainvet/internal/inventory"

// kerasRules are the findings of the Keras cataloger, for .keras archives
// and legacy .h5 models alike.
var kerasRules = []Rule{
	{"keras/lambda", inventory.High,
		"A Keras model carries Python bytecode (a Lambda layer or a __lambda__ object).",
		"Keras runs it when the model is loaded with safe_mode=False, and legacy .h5 loading always does. The code object is decoded, never run, and the names and strings it references are listed; critical when they name process, exec, import, file or network primitives (os, system, eval, __import__, subprocess). Do not load the model; rebuild it without Lambda layers, or load it with safe_mode=True."},
	{"keras/foreign-object", inventory.High,
		"A Keras configuration names a class or function from outside Keras and TensorFlow, or a dangerous one within them.",
		"Keras imports the module and calls the object while loading (CVE-2025-1550 before Keras 3.9; legacy Lambda functions by name always). Critical when the name is a known-dangerous callable such as os.system, builtins.eval, tf.io.gfile or Keras's func_load. Load the model only if you trust that module and supply it yourself."},
	{"keras/external-resource", inventory.High,
		"Loading a Keras model fetches or reads something outside it: get_file, a URL, a vocabulary file, a TFSMLayer path.",
		"What is fetched is chosen by the model's author and can change after you vetted the model (CVE-2025-8747). Keep assets inside the archive; reject models that fetch at load time."},
	{"keras/malformed", inventory.Medium,
		"A Keras model's configuration or HDF5 root group cannot be read, so what loading it does is not known.",
		"Invalid JSON, a config.json that is not a Keras configuration, or an HDF5 structure that is damaged or that this scanner does not read. Re-save the model with Keras, or reject it."},
}
