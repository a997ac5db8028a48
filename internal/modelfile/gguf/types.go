package gguf

import "fmt"

// A TensorType is a ggml tensor type, as a tensor info names it.
type TensorType uint32

// A typeInfo says how a ggml type stores its elements: in blocks of Block
// elements taking Bytes bytes each.
type typeInfo struct {
	Name         string
	Block, Bytes uint64
	// Removed types were once written to GGUF files; current ggml
	// refuses them, but their sizes are known.
	Removed bool
}

// ggmlTypes is ggml's type table (enum ggml_type in ggml.h, block sizes from
// ggml-common.h). Ids 4 and 5 (Q4_2, Q4_3) predate GGUF and are unknown.
var ggmlTypes = map[TensorType]typeInfo{
	0:  {Name: "F32", Block: 1, Bytes: 4},
	1:  {Name: "F16", Block: 1, Bytes: 2},
	2:  {Name: "Q4_0", Block: 32, Bytes: 18},
	3:  {Name: "Q4_1", Block: 32, Bytes: 20},
	6:  {Name: "Q5_0", Block: 32, Bytes: 22},
	7:  {Name: "Q5_1", Block: 32, Bytes: 24},
	8:  {Name: "Q8_0", Block: 32, Bytes: 34},
	9:  {Name: "Q8_1", Block: 32, Bytes: 36},
	10: {Name: "Q2_K", Block: 256, Bytes: 84},
	11: {Name: "Q3_K", Block: 256, Bytes: 110},
	12: {Name: "Q4_K", Block: 256, Bytes: 144},
	13: {Name: "Q5_K", Block: 256, Bytes: 176},
	14: {Name: "Q6_K", Block: 256, Bytes: 210},
	15: {Name: "Q8_K", Block: 256, Bytes: 292},
	16: {Name: "IQ2_XXS", Block: 256, Bytes: 66},
	17: {Name: "IQ2_XS", Block: 256, Bytes: 74},
	18: {Name: "IQ3_XXS", Block: 256, Bytes: 98},
	19: {Name: "IQ1_S", Block: 256, Bytes: 50},
	20: {Name: "IQ4_NL", Block: 32, Bytes: 18},
	21: {Name: "IQ3_S", Block: 256, Bytes: 110},
	22: {Name: "IQ2_S", Block: 256, Bytes: 82},
	23: {Name: "IQ4_XS", Block: 256, Bytes: 136},
	24: {Name: "I8", Block: 1, Bytes: 1},
	25: {Name: "I16", Block: 1, Bytes: 2},
	26: {Name: "I32", Block: 1, Bytes: 4},
	27: {Name: "I64", Block: 1, Bytes: 8},
	28: {Name: "F64", Block: 1, Bytes: 8},
	29: {Name: "IQ1_M", Block: 256, Bytes: 56},
	30: {Name: "BF16", Block: 1, Bytes: 2},
	31: {Name: "Q4_0_4_4", Block: 32, Bytes: 18, Removed: true},
	32: {Name: "Q4_0_4_8", Block: 32, Bytes: 18, Removed: true},
	33: {Name: "Q4_0_8_8", Block: 32, Bytes: 18, Removed: true},
	34: {Name: "TQ1_0", Block: 256, Bytes: 54},
	35: {Name: "TQ2_0", Block: 256, Bytes: 66},
	36: {Name: "IQ4_NL_4_4", Block: 32, Bytes: 18, Removed: true},
	37: {Name: "IQ4_NL_4_8", Block: 32, Bytes: 18, Removed: true},
	38: {Name: "IQ4_NL_8_8", Block: 32, Bytes: 18, Removed: true},
	39: {Name: "MXFP4", Block: 32, Bytes: 17},
	40: {Name: "NVFP4", Block: 64, Bytes: 36},
	41: {Name: "Q1_0", Block: 128, Bytes: 18},
	42: {Name: "Q2_0", Block: 64, Bytes: 18},
}

// String returns the type's ggml name, or "type(N)" for an unknown one.
func (t TensorType) String() string {
	if ti, ok := ggmlTypes[t]; ok {
		return ti.Name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Known reports whether ggml defines the type, now or formerly.
func (t TensorType) Known() bool {
	_, ok := ggmlTypes[t]
	return ok
}

// fileTypes names general.file_type values (enum llama_ftype in llama.h)
// as llama.cpp's quantize tool does. 5 and 6 predate GGUF.
var fileTypes = map[uint64]string{
	0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 4: "Q4_1_SOME_F16",
	7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
	11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L",
	14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
	19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS",
	24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
	29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
	33: "Q4_0_4_4", 34: "Q4_0_4_8", 35: "Q4_0_8_8",
	36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE", 39: "NVFP4",
}

// FileTypeName names a general.file_type value, e.g. 15 → "Q4_K_M", and
// returns "" for a value llama.cpp does not define.
func FileTypeName(v uint64) string { return fileTypes[v] }

// A ValueType is the type of a metadata value.
type ValueType uint32

// The metadata value types (enum gguf_metadata_value_type).
const (
	TypeUint8 ValueType = iota
	TypeInt8
	TypeUint16
	TypeInt16
	TypeUint32
	TypeInt32
	TypeFloat32
	TypeBool
	TypeString
	TypeArray
	TypeUint64
	TypeInt64
	TypeFloat64
	typeCount
)

var valueTypeNames = [...]string{"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32",
	"FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"}

func (t ValueType) String() string {
	if t < typeCount {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("valuetype(%d)", uint32(t))
}

// fixedSize is the encoded size of a scalar of type t, 0 for strings and
// arrays.
func (t ValueType) fixedSize() uint64 {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}
