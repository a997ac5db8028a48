package safetensors

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/safetensors"

func read(t testing.TB, b []byte, lim Limits) *Header {
	t.Helper()
	h, err := Read(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
	if err != nil {
		t.Fatalf("error from an in-memory reader: %v", err)
	}
	return h
}

func rules(h *Header) []string {
	var rs []string
	for _, p := range h.Problems {
		rs = append(rs, p.Rule+":"+p.Severity.String())
	}
	slices.Sort(rs)
	return slices.Compact(rs)
}

func TestBenign(t *testing.T) {
	tests := []struct {
		file    string
		tensors int
		params  uint64
		dtypes  []string
		meta    []Entry
	}{
		{file: "linear_f32.safetensors", tensors: 2, params: 10, dtypes: []string{"F32"},
			meta: []Entry{{"format", "pt"}}},
		{file: "multi_dtype.safetensors", tensors: 6, params: 12 + 3 + 4 + 4 + 1 + 5,
			dtypes: []string{"BF16", "BOOL", "F16", "F64", "I64", "U8"},
			meta:   []Entry{{"format", "pt"}, {"model_type", "tiny"}, {"source", "chainvet fixture"}}},
		{file: "no_metadata.safetensors", tensors: 2, params: 10, dtypes: []string{"F32"}},
		{file: "fp8_fp4.safetensors", tensors: 3, params: 34, dtypes: []string{"F4", "F8_E4M3", "F8_E8M0"},
			meta: []Entry{{"format", "pt"}}},
		{file: "empty_tensor.safetensors", tensors: 2, params: 2, dtypes: []string{"F32"},
			meta: []Entry{{"format", "pt"}}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(fixtures, "benign", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			h := read(t, b, DefaultLimits)
			if len(h.Problems) != 0 {
				t.Errorf("problems in a benign file: %+v", h.Problems)
			}
			if !h.Complete {
				t.Error("not Complete")
			}
			got := []any{len(h.Tensors), h.Parameters, h.DTypes(), h.Metadata, h.MetadataCount}
			want := []any{tc.tensors, tc.params, tc.dtypes, tc.meta, len(tc.meta)}
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
		{"header_past_eof.safetensors", []string{"safetensors/malformed:medium"}, "runs past the end"},
		{"huge_header_length.safetensors", []string{"safetensors/malformed:medium"}, "18446744073709551615"},
		{"header_too_large.safetensors", []string{"safetensors/malformed:medium"}, "150000000"},
		{"header_not_json.safetensors", []string{"safetensors/malformed:medium"}, "invalid JSON at header byte"},
		{"header_truncated_json.safetensors", []string{"safetensors/malformed:medium"}, "ends early"},
		{"duplicate_keys.safetensors", []string{"safetensors/duplicate-key:medium"}, `key "weight" appears twice`},
		{"size_mismatch.safetensors", []string{"safetensors/size-mismatch:medium"}, "= 24 bytes, but data_offsets [0, 20] span 20"},
		{"offsets_past_data.safetensors", []string{"safetensors/offset-out-of-range:medium"}, `tensor "b": data_offsets [16, 272]`},
		{"overlap.safetensors", []string{"safetensors/overlap:medium"}, `tensor "b" [8, 24) overlaps tensor "a"`},
		{"gap_pickle.safetensors", []string{"safetensors/hidden-data:high"}, `between tensor "a" and tensor "b" (a pickle)`},
		{"trailing_data.safetensors", []string{"safetensors/hidden-data:medium"}, `after tensor "linear.weight": "chainvet-fixture`},
		{"trailing_zip.safetensors", []string{"safetensors/hidden-data:high"}, "(a zip archive)"},
		{"invalid_utf8.safetensors", []string{"safetensors/malformed:medium"}, "invalid UTF-8 at header byte 3"},
		{"metadata_not_string.safetensors", []string{"safetensors/malformed:medium"}, `__metadata__ "format" is the number 1`},
		{"unknown_dtype.safetensors", []string{"safetensors/malformed:medium"}, `unknown dtype "F128"`},
		{"pickle_named.safetensors", []string{"safetensors/malformed:medium"}, "runs past the end"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(fixtures, "malicious", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			h := read(t, b, DefaultLimits)
			if d := cmp.Diff(tc.want, rules(h)); d != "" {
				t.Errorf("rules (-want +got):\n%s\n%+v", d, h.Problems)
			}
			if !slices.ContainsFunc(h.Problems, func(p Problem) bool { return strings.Contains(p.Evidence, tc.evidence) }) {
				t.Errorf("no problem shows %q: %+v", tc.evidence, h.Problems)
			}
		})
	}
}

// header builds a file from a header and a data section.
func header(json string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(json)))
	return append(append(b, json...), make([]byte, data)...)
}

func TestCases(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		lim  Limits
		want []string
	}{
		{"empty_object", header("{}", 0), Limits{}, nil},
		{"padded_with_spaces", header(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}      `, 2), Limits{}, nil},
		{"metadata_null", header(`{"__metadata__":null}`, 0), Limits{}, nil},
		{"too_short", []byte{1, 2, 3}, Limits{}, []string{"safetensors/malformed:medium"}},
		{"length_zero", header("", 0), Limits{}, []string{"safetensors/malformed:medium"}},
		{"not_object", header(`[1,2]`, 0), Limits{}, []string{"safetensors/malformed:medium"}},
		{"two_values", header(`{}{}`, 0), Limits{}, []string{"safetensors/malformed:medium"}},
		{"trailing_nul", header("{}\x00", 0), Limits{}, []string{"safetensors/malformed:medium"}},
		{"tensor_not_object", header(`{"a":[1]}`, 0), Limits{}, []string{"safetensors/malformed:medium"}},
		{"missing_shape", header(`{"a":{"dtype":"U8","data_offsets":[0,2]}}`, 2), Limits{}, []string{"safetensors/malformed:medium"}},
		{"negative_dim", header(`{"a":{"dtype":"U8","shape":[-2],"data_offsets":[0,2]}}`, 2), Limits{}, []string{"safetensors/malformed:medium"}},
		{"float_dim", header(`{"a":{"dtype":"U8","shape":[2.0],"data_offsets":[0,2]}}`, 2), Limits{}, []string{"safetensors/malformed:medium"}},
		{"three_offsets", header(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2,4]}}`, 2), Limits{}, []string{"safetensors/malformed:medium"}},
		{"reversed_offsets", header(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[2,0]}}`, 2), Limits{},
			[]string{"safetensors/hidden-data:medium", "safetensors/offset-out-of-range:medium"}},
		{"extra_field", header(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2],"x":{"y":[1]}}}`, 2), Limits{}, []string{"safetensors/malformed:low"}},
		{"duplicate_field", header(`{"a":{"dtype":"U8","dtype":"I8","shape":[2],"data_offsets":[0,2]}}`, 2), Limits{}, []string{"safetensors/duplicate-key:medium"}},
		{"duplicate_metadata", header(`{"__metadata__":{"k":"1","k":"2"}}`, 0), Limits{}, []string{"safetensors/duplicate-key:medium"}},
		{"shape_overflow", header(`{"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,2]}}`, 2), Limits{}, []string{"safetensors/malformed:medium"}},
		{"sub_byte", header(`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, 2), Limits{}, []string{"safetensors/malformed:medium"}},
		{"gap_at_start", header(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}`, 6), Limits{}, []string{"safetensors/hidden-data:medium"}},
		{"deep_nesting", header(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2],"x":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`}}`, 2),
			Limits{}, []string{"safetensors/malformed:low", "safetensors/malformed:medium"}},
		{"tensor_limit", header(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2),
			Limits{Tensors: 1}, []string{"scan/limit:high"}},
		{"dims_limit", header(`{"a":{"dtype":"U8","shape":[1,1,1],"data_offsets":[0,1]}}`, 1), Limits{Dims: 2}, []string{"scan/limit:high"}},
		{"header_limit", header(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1), Limits{Header: 8}, []string{"scan/limit:high"}},
		{"truncated_utf8", header("{\"\xe2\x82\":{}}", 0), Limits{}, []string{"safetensors/malformed:medium"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := read(t, tc.file, tc.lim)
			if d := cmp.Diff(tc.want, rules(h)); d != "" {
				t.Errorf("rules (-want +got):\n%s\n%+v", d, h.Problems)
			}
		})
	}
}

// TestProblemCap checks that a header with many problems of one kind lists
// a bounded number and counts the rest.
func TestProblemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	const n = 40
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"t` + strconv.Itoa(i) + `":{"dtype":"Q9","shape":[1],"data_offsets":[0,0]}`)
	}
	b.WriteString("}")
	h := read(t, header(b.String(), 0), Limits{})
	if len(h.Problems) != problemsPerRule+1 {
		t.Fatalf("%d problems, want %d", len(h.Problems), problemsPerRule+1)
	}
	if last := h.Problems[len(h.Problems)-1]; !strings.Contains(last.Evidence, "24 more") {
		t.Errorf("last problem = %+v, want a count of the rest", last)
	}
}

// bigFile is a ReaderAt of a file of any size whose bytes past the
// prefix read as zeros, without holding them.
type bigFile struct {
	prefix []byte
	size   int64
	read   int64
}

func (b *bigFile) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	if off < int64(len(b.prefix)) {
		copy(p, b.prefix[off:])
	}
	n := int(min(int64(len(p)), max(b.size-off, 0)))
	b.read += int64(n)
	return n, nil
}

// TestHeaderOverReferenceLimit checks that a header longer than the
// reference reader accepts is malformed even within the file and the
// caller's limit, and is not read.
func TestHeaderOverReferenceLimit(t *testing.T) {
	f := &bigFile{prefix: binary.LittleEndian.AppendUint64(nil, MaxHeader+1), size: MaxHeader + 100}
	h, err := Read(context.Background(), f, f.size, Limits{Header: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"safetensors/malformed:medium"}, rules(h)); d != "" {
		t.Errorf("rules (-want +got):\n%s", d)
	}
	if f.read > 8 {
		t.Errorf("read %d bytes of a header it refused", f.read)
	}
}

func TestPayload(t *testing.T) {
	pe := make([]byte, 0x90)
	copy(pe, "MZ")
	binary.LittleEndian.PutUint32(pe[0x3c:], 0x80)
	copy(pe[0x80:], "PE\x00\x00")
	tar := make([]byte, 512)
	copy(tar[257:], "ustar")
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"pickle", []byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94."), "a pickle"},
		{"elf", []byte("\x7fELF\x02\x01\x01"), "an ELF executable"},
		{"pe", pe, "a PE executable"},
		{"mz_alone", []byte("MZ" + strings.Repeat("\x00", 100)), ""},
		{"zip", []byte("PK\x03\x04\x14\x00"), "a zip archive"},
		{"tar", tar, "a tar archive"},
		{"bzip2", []byte("BZh91AY&SY"), "a bzip2 stream"},
		{"zeros", make([]byte, 64), ""},
		{"floats", []byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64}, ""},
		{"empty", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Payload(tc.b); got != tc.want {
				t.Errorf("Payload = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIs(t *testing.T) {
	good, _ := os.ReadFile(filepath.Join(fixtures, "benign", "linear_f32.safetensors"))
	tests := []struct {
		name string
		head []byte
		want bool
	}{
		{"benign", good, true},
		{"pickle", []byte("\x80\x02cos\nsystem\n"), false},
		{"short", good[:9], false},
		{"no_brace", header("[]", 0), false},
		{"length_over_limit", append(binary.LittleEndian.AppendUint64(nil, MaxHeader+1), '{', '}'), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Is(tc.head); got != tc.want {
				t.Errorf("Is = %v, want %v", got, tc.want)
			}
		})
	}
}
