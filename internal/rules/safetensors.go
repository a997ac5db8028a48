package rules

import "github.com/chainvet/chainvet/internal/inventory"

// safetensorsRules are the findings of the safetensors cataloger.
var safetensorsRules = []Rule{
	{"safetensors/malformed", inventory.Medium,
		"A safetensors header is malformed: its length, UTF-8, JSON, dtypes or shapes are not what the format allows.",
		"The reference reader refuses such a file while lenient readers may read something else. A tensor entry with fields the format does not define is reported at low. Re-create the file with the safetensors library from weights you trust, or reject it."},
	{"safetensors/duplicate-key", inventory.Medium,
		"A safetensors header names the same tensor, tensor field or metadata key twice.",
		"JSON parsers differ on which duplicate they keep, so a scanner and a loader can see different tensors. No writer produces this: reject the file."},
	{"safetensors/size-mismatch", inventory.Medium,
		"A safetensors tensor's byte range disagrees with its dtype and shape.",
		"Readers either refuse the file or read other bytes than the header describes. Fetch the file again from a source you trust and compare digests."},
	{"safetensors/offset-out-of-range", inventory.Medium,
		"A safetensors tensor's data_offsets are reversed or run past the data section.",
		"The file is truncated or its header lies. Do not load it; fetch it again from a source you trust."},
	{"safetensors/overlap", inventory.Medium,
		"Two tensors of a safetensors file share bytes.",
		"The reference reader refuses overlapping tensors; readers that allow them see one tensor's bytes as another's. Re-export the file with the safetensors library."},
	{"safetensors/hidden-data", inventory.Medium,
		"Bytes between or after the tensors of a safetensors file belong to no tensor.",
		"The format has no place for them. High when they start like a pickle, archive, model or executable: content hidden for a second-stage loader to find. Do not use the file; inspect the bytes at the offset shown."},
}
