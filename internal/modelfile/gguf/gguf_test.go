package gguf

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/gguf"

func isTemplate(key string) bool { return strings.Contains(key, "template") }

func read(t testing.TB, b []byte, lim Limits) *File {
	t.Helper()
	f, err := Read(context.Background(), bytes.NewReader(b), int64(len(b)), lim, isTemplate)
	if err != nil {
		t.Fatalf("error from an in-memory reader: %v", err)
	}
	return f
}

func rules(f *File) []string {
	var rs []string
	for _, p := range f.Problems {
		rs = append(rs, p.Rule+":"+p.Severity.String())
	}
	slices.Sort(rs)
	return slices.Compact(rs)
}

func str(f *File, key string) string {
	v, _ := f.Get(key)
	return v.Str
}

func TestBenign(t *testing.T) {
	const params = 64*8 + 64 + 64 + 64*8
	tests := []struct {
		file      string
		version   uint32
		big       bool
		tensors   int
		params    uint64
		align     uint64
		fileType  string
		types     []string
		templates int
	}{
		{file: "llama_v3.gguf", version: 3, tensors: 4, params: params, align: 32, fileType: "Q8_0", types: []string{"F16", "F32", "Q8_0"}},
		{file: "llama_v2.gguf", version: 2, tensors: 4, params: params, align: 32, fileType: "Q8_0", types: []string{"F16", "F32", "Q8_0"}},
		{file: "llama_v1.gguf", version: 1, tensors: 4, params: params, align: 32, fileType: "Q8_0", types: []string{"F16", "F32", "Q8_0"}},
		{file: "llama_v3_big_endian.gguf", version: 3, big: true, tensors: 4, params: params, align: 32, fileType: "Q8_0", types: []string{"F16", "F32", "Q8_0"}},
		{file: "chatml_v3.gguf", version: 3, tensors: 4, params: params, align: 32, fileType: "Q8_0", types: []string{"F16", "F32", "Q8_0"}, templates: 1},
		{file: "aligned_64.gguf", version: 3, tensors: 4, params: params, align: 64, fileType: "F16", types: []string{"F16", "F32", "Q8_0"}},
		{file: "vocab_only.gguf", version: 3, tensors: 0, params: 0, align: 32, fileType: "Q8_0"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(fixtures, "benign", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f := read(t, b, DefaultLimits)
			if len(f.Problems) != 0 {
				t.Errorf("problems in a benign file: %+v", f.Problems)
			}
			if !f.Complete {
				t.Error("not Complete")
			}
			ft, _ := f.Get("general.file_type")
			ctx, _ := f.Get("llama.context_length")
			ds, _ := f.Get("general.datasets")
			templates := 0
			for _, kv := range f.KVs {
				if isTemplate(kv.Key) {
					templates++
					if got := string(b[kv.Value.Offset : kv.Value.Offset+int64(len(kv.Value.Str))]); got != kv.Value.Str {
						t.Errorf("template offset %d does not point at the template", kv.Value.Offset)
					}
				}
			}
			got := []any{f.Version, f.BigEndian, len(f.Tensors), f.Parameters, f.Alignment, FileTypeName(ft.Uint), f.TensorTypes(),
				str(f, "general.architecture"), str(f, "general.license"), ctx.Uint, ds.Strings(), templates}
			want := []any{tc.version, tc.big, tc.tensors, tc.params, tc.align, tc.fileType, tc.types,
				"llama", "apache-2.0", uint64(2048), []string{"chainvet-fixtures/tiny-corpus", "chainvet-fixtures/tiny-chat"}, tc.templates}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestMalicious(t *testing.T) {
	tests := []struct {
		file     string
		want     []string // rule:severity, each once, sorted
		evidence string
	}{
		{"string_length_overflow.gguf", []string{"gguf/malformed:medium"}, "length 9223372036854775808 runs past the end"},
		{"kv_count_overflow.gguf", []string{"gguf/malformed:medium"}, "cannot fit"},
		{"tensor_count_overflow.gguf", []string{"gguf/malformed:medium"}, "1099511627776 tensor infos cannot fit"},
		{"array_count_overflow.gguf", []string{"gguf/malformed:medium"}, "an array of 1152921504606846976 STRING elements cannot fit"},
		{"array_nesting_bomb.gguf", []string{"scan/limit:high"}, "nests arrays deeper than 8"},
		{"unknown_value_type.gguf", []string{"gguf/malformed:medium"}, "unknown value type 99"},
		{"bad_version.gguf", []string{"gguf/malformed:medium"}, "version 4"},
		{"truncated_header.gguf", []string{"gguf/malformed:medium"}, "an array of 8 INT32 elements cannot fit in the 13 bytes left"},
		{"truncated_data.gguf", []string{"gguf/offset-out-of-range:medium"}, `tensor "output.weight": 1024 bytes of F16`},
		{"tensor_offset_outside.gguf", []string{"gguf/hidden-data:medium", "gguf/offset-out-of-range:medium"}, "data offset 1099511627776"},
		{"misaligned.gguf", []string{"gguf/misaligned:medium"}, `tensor "b.weight": offset 16 is not a multiple of the alignment 32`},
		{"overlap.gguf", []string{"gguf/hidden-data:medium", "gguf/overlap:medium"}, `overlaps tensor "blk.0.attn_norm.weight"`},
		{"unknown_tensor_type.gguf", []string{"gguf/malformed:medium"}, "unknown ggml type 99"},
		{"bad_block.gguf", []string{"gguf/malformed:medium"}, "48 elements per row"},
		{"bad_alignment.gguf", []string{"gguf/malformed:medium"}, "general.alignment is 33 (UINT32)"},
		{"too_many_dims.gguf", []string{"gguf/malformed:medium"}, "5 dimensions"},
		{"duplicate_tensor.gguf", []string{"gguf/duplicate-key:medium"}, `tensor name "a.weight" appears twice`},
		{"duplicate_template_key.gguf", []string{"gguf/duplicate-key:medium"}, `key "tokenizer.chat_template" appears twice`},
		{"gap_pickle.gguf", []string{"gguf/hidden-data:high"}, `before tensor "output_norm.weight" (a pickle)`},
		{"trailing_elf.gguf", []string{"gguf/hidden-data:high"}, `after tensor "output.weight" (an ELF executable)`},
		{"trailing_text.gguf", []string{"gguf/hidden-data:medium"}, `"chainvet-fixture trailin`},
		{"pickle_named.gguf", []string{"gguf/malformed:medium"}, `not "GGUF"`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(fixtures, "malicious", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f := read(t, b, DefaultLimits)
			if d := cmp.Diff(tc.want, rules(f)); d != "" {
				t.Errorf("rules (-want +got):\n%s\n%+v", d, f.Problems)
			}
			if !slices.ContainsFunc(f.Problems, func(p Problem) bool { return strings.Contains(p.Evidence, tc.evidence) }) {
				t.Errorf("no problem shows %q: %+v", tc.evidence, f.Problems)
			}
		})
	}
}

// TestTemplatesKept checks that every template in the payload fixtures is
// returned whole, with its offset, for the caller to check.
func TestTemplatesKept(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "malicious", "template_named_key.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	f := read(t, b, DefaultLimits)
	var keys []string
	for _, kv := range f.KVs {
		if isTemplate(kv.Key) {
			keys = append(keys, kv.Key)
			if kv.Value.Cut || !strings.Contains(kv.Value.Str, "{%") {
				t.Errorf("%s: template not kept whole: %q", kv.Key, kv.Value.Str)
			}
		}
	}
	if d := cmp.Diff([]string{"tokenizer.chat_template", "tokenizer.chat_template.tool_use"}, keys); d != "" {
		t.Errorf("template keys (-want +got):\n%s", d)
	}
}

// builder writes small v3 files for cases the fixtures do not cover.
type builder struct{ b []byte }

func (w *builder) u32(v uint32) *builder { w.b = binary.LittleEndian.AppendUint32(w.b, v); return w }
func (w *builder) u64(v uint64) *builder { w.b = binary.LittleEndian.AppendUint64(w.b, v); return w }
func (w *builder) str(s string) *builder { w.u64(uint64(len(s))); w.b = append(w.b, s...); return w }
func (w *builder) raw(s string) *builder { w.b = append(w.b, s...); return w }

func v3(tensors, kvs uint64) *builder {
	w := &builder{}
	return w.raw("GGUF").u32(3).u64(tensors).u64(kvs)
}

func TestCases(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		lim  Limits
		want []string
	}{
		{"empty_header", v3(0, 0).b, Limits{}, nil},
		{"not_gguf", []byte("GGML\x00\x00"), Limits{}, []string{"gguf/malformed:medium"}},
		{"short_magic", []byte("GG"), Limits{}, []string{"gguf/malformed:medium"}},
		{"empty_key", v3(0, 1).str("").u32(uint32(TypeUint8)).raw("\x01").b, Limits{}, []string{"gguf/malformed:medium"}},
		{"control_key", v3(0, 1).str("general.\nname").u32(uint32(TypeUint8)).raw("\x01").b, Limits{}, []string{"gguf/malformed:medium"}},
		{"bad_bool", v3(0, 1).str("x.flag").u32(uint32(TypeBool)).raw("\x07").b, Limits{}, []string{"gguf/malformed:medium"}},
		{"alignment_type", v3(0, 1).str("general.alignment").u32(uint32(TypeUint64)).u64(32).b, Limits{}, []string{"gguf/malformed:medium"}},
		{"alignment_zero", v3(0, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(0).b, Limits{}, []string{"gguf/malformed:medium"}},
		{"long_tensor_name", pad32(v3(1, 0).str(strings.Repeat("n", 64)).u32(1).u64(4).u32(0).u64(0).b, 16), Limits{}, []string{"gguf/malformed:medium"}},
		{"dims_overflow", v3(1, 0).str("t").u32(2).u64(1 << 62).u64(1 << 62).u32(0).u64(0).b, Limits{}, []string{"gguf/malformed:medium"}},
		{"removed_type", pad32(v3(1, 0).str("t").u32(1).u64(32).u32(31).u64(0).b, 18), Limits{}, []string{"gguf/malformed:low"}},
		{"kv_limit", v3(0, 3).str("a").u32(0).raw("\x00").str("b").u32(0).raw("\x00").str("c").u32(0).raw("\x00").b, Limits{KeyValues: 2}, []string{"scan/limit:high"}},
		{"array_limit", v3(0, 1).str("a").u32(uint32(TypeArray)).u32(uint32(TypeUint8)).u64(3).raw("\x01\x02\x03").b, Limits{Array: 2}, []string{"scan/limit:high"}},
		{"header_limit", v3(0, 2).str("a").u32(0).raw("\x00").str("b").u32(0).raw("\x00").b, Limits{Header: 30}, []string{"scan/limit:high"}},
		{"cut_in_string", v3(0, 1).str("general.name").u32(uint32(TypeString)).u64(20).raw("abc").b, Limits{}, []string{"gguf/malformed:medium"}},
		{"cut_in_scalar", v3(0, 1).str("general.n").u32(uint32(TypeUint64)).raw("abc").b, Limits{}, []string{"gguf/malformed:medium"}},
		{"tensor_limit", pad32(v3(2, 0).str("a").u32(1).u64(4).u32(0).u64(0).str("b").u32(1).u64(4).u32(0).u64(32).b, 48), Limits{Tensors: 1}, []string{"scan/limit:high"}},
		{"array_of_arrays", v3(0, 1).str("a").u32(uint32(TypeArray)).u32(uint32(TypeArray)).u64(1).u32(uint32(TypeUint8)).u64(1).raw("\x05").b, Limits{}, nil},
		{"gap_at_start", pad32(v3(1, 0).str("t").u32(1).u64(4).u32(0).u64(32).b, 64), Limits{}, []string{"gguf/hidden-data:medium"}},
		{"trailing_after_header", append(v3(0, 0).b, make([]byte, 40)...), Limits{}, []string{"gguf/hidden-data:medium"}},
		{"padding_after_header", append(v3(0, 0).b, make([]byte, 8)...), Limits{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := read(t, tc.file, tc.lim)
			if d := cmp.Diff(tc.want, rules(f)); d != "" {
				t.Errorf("rules (-want +got):\n%s\n%+v", d, f.Problems)
			}
		})
	}
}

// pad32 pads a header to 32 bytes and appends a data section of n bytes.
func pad32(b []byte, n int) []byte {
	b = append(b, make([]byte, (32-len(b)%32)%32)...)
	return append(b, make([]byte, n)...)
}

// TestProblemCap checks that many problems of one kind are listed up to a
// bound and the rest counted.
func TestProblemCap(t *testing.T) {
	w := v3(40, 0)
	for i := range 40 {
		w.str("t" + string(rune('a'+i%26)) + string(rune('a'+i/26))).u32(1).u64(4).u32(99).u64(0)
	}
	f := read(t, w.b, Limits{})
	if len(f.Problems) != problemsPerRule+1 {
		t.Fatalf("%d problems, want %d: %+v", len(f.Problems), problemsPerRule+1, f.Problems)
	}
	if last := f.Problems[len(f.Problems)-1]; !strings.Contains(last.Evidence, "24 more") {
		t.Errorf("last problem = %+v, want a count of the rest", last)
	}
}

func TestTypeTables(t *testing.T) {
	for id, ti := range ggmlTypes {
		if ti.Block == 0 || ti.Bytes == 0 || ti.Name == "" {
			t.Errorf("type %d: %+v", id, ti)
		}
		if TensorType(id).String() != ti.Name {
			t.Errorf("type %d String = %q", id, TensorType(id).String())
		}
	}
	got := []string{FileTypeName(0), FileTypeName(1), FileTypeName(15), FileTypeName(18), FileTypeName(32), FileTypeName(5), TensorType(12).String(), TensorType(5).String()}
	want := []string{"F32", "F16", "Q4_K_M", "Q6_K", "BF16", "", "Q4_K", "type(5)"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
