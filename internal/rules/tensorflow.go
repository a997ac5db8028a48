package rules

import "github.com/chainvet/chainvet/internal/inventory"

// tensorflowRules are reported by the TensorFlow cataloger
// (internal/catalog/tensorflow) for SavedModels, frozen GraphDefs and
// TFLite models. A broken protobuf or flatbuffer is model/malformed.
var tensorflowRules = []Rule{
	{"tensorflow/python-op", inventory.Critical,
		"A TensorFlow graph or function holds PyFunc, PyFuncStateless or EagerPyFunc, which call back into Python.",
		"Running the graph runs whatever Python function the op's token names in the loading process. Do not load the model."},
	{"tensorflow/io-op", inventory.High,
		"A TensorFlow graph or function reads or writes files or reaches the network on its own (ReadFile, WriteFile, MatchingFiles, file readers and datasets, summary writers, PrintV2 to a file, RPC).",
		"A model has no need to touch the file system or the network when it runs; the checkpoint ops every SavedModel has (SaveV2, RestoreV2) are not reported. Find out why the op is there and reject the model unless it is expected."},
	{"tensorflow/custom-op", inventory.High,
		"A TensorFlow graph uses ops that TensorFlow does not register, which need a custom op library of native code.",
		"Loading the model needs tf.load_op_library of a shared library first: native code of someone's choosing. Use only libraries you trust, never one that came with the model."},
	{"tensorflow/asset-path", inventory.High,
		"A SavedModel asset's filename is absolute, a URL, or leaves the assets folder (.. or a symbolic link).",
		"Loading the SavedModel hands that path to the graph, whose table initializers read it: a file outside the model. Reject the model."},
	{"tflite/custom-op", inventory.Medium,
		"A TFLite model uses a custom operator, whose native kernel the application must register.",
		"Info for kernels TFLite ships (detection post-processing, audio ops) and for Flex ops TensorFlow provides; medium otherwise. Make sure the kernel comes from a library you trust."},
}
