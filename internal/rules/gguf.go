package rules

import "github.com/chainvet/chainvet/internal/inventory"

// ggufRules are the findings of the GGUF cataloger. Template findings
// (template/…) are listed with the Jinja checker's rules.
var ggufRules = []Rule{
	{"gguf/malformed", inventory.Medium,
		"A GGUF header is malformed: a bad magic, version, count, length, key, value type, alignment or tensor info.",
		"Readers refuse such a file or read it differently; a count or length larger than the file is how parsers are driven to allocate or read out of bounds. A tensor type GGUF has since dropped is reported at low. Re-create the file with llama.cpp's tools, or reject it."},
	{"gguf/duplicate-key", inventory.Medium,
		"A GGUF file holds the same metadata key or tensor name twice.",
		"llama.cpp refuses the file while other readers keep the first or the last value: a scanner and a loader can see different metadata, such as two chat templates. Reject the file."},
	{"gguf/offset-out-of-range", inventory.Medium,
		"A GGUF tensor's data runs past the end of the file.",
		"The file is truncated or its header lies. Do not load it; fetch it again from a source you trust and compare digests."},
	{"gguf/misaligned", inventory.Medium,
		"A GGUF tensor's offset is not a multiple of the file's alignment.",
		"llama.cpp refuses the file and readers that map it misread it. Re-create the file with llama.cpp's tools."},
	{"gguf/overlap", inventory.Medium,
		"Two tensors of a GGUF file share bytes.",
		"llama.cpp refuses the file; readers that allow it see one tensor's bytes as another's. Re-create the file with llama.cpp's tools."},
	{"gguf/hidden-data", inventory.Medium,
		"Bytes between or after the tensors of a GGUF file, beyond alignment padding, belong to no tensor.",
		"The format has no place for them. High when they start like a pickle, archive, model or executable: content hidden for a second-stage loader to find. Do not use the file; inspect the bytes at the offset shown."},
}
