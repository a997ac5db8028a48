package numpy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadHeader(t *testing.T) {
	tests := []struct {
		file   string
		descr  string
		shape  []int64
		object bool
		fort   bool
	}{
		{file: "f4_2x3.npy", descr: "'<f4'", shape: []int64{2, 3}},
		{file: "i8_scalar.npy", descr: "'<i8'", shape: nil},
		{file: "fortran.npy", descr: "'>f8'", shape: []int64{2, 2}, fort: true},
		{file: "object.npy", descr: "'|O'", shape: []int64{3}, object: true},
		{file: "structured_object.npy", descr: "[('O', '<i4'), ('obj', '|O'), ('nested', [('x', '<f2')])]", shape: []int64{2}, object: true},
		{file: "structured_plain.npy", descr: "[('O', '<i4'), ('b', '|S3')]", shape: []int64{2}},
		{file: "unicode.npy", descr: "'<U3'", shape: []int64{2}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			h, err := ReadHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{h.Descr, h.Shape, h.Object, h.Fortran}
			want := []any{tc.descr, tc.shape, tc.object, tc.fort}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("header (-want +got):\n%s", d)
			}
			if h.DataOffset%16 != 0 || h.DataOffset > int64(len(b)) {
				t.Errorf("data offset %d: not aligned within the file", h.DataOffset)
			}
		})
	}
}

func TestReadHeaderMalformed(t *testing.T) {
	good, err := os.ReadFile("testdata/f4_2x3.npy")
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(s string) []byte {
		b := append([]byte(Magic), 1, 0, byte(len(s)), byte(len(s)>>8))
		return append(b, s...)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"truncated", good[:20]},
		{"no_magic", []byte("hello world, no numpy")},
		{"bad_version", append([]byte(Magic), 9, 0, 0, 0)},
		{"not_dict", hdr("[1, 2]\n")},
		{"no_descr", hdr("{'fortran_order': False, 'shape': (1,), }\n")},
		{"bad_shape", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n")},
		{"deep", hdr("{'descr': " + repeat("[", 100) + "}")},
		{"dup_key", hdr("{'descr': '<f4', 'descr': '|O', 'fortran_order': False, 'shape': (), }")},
		{"unterminated", hdr("{'descr': '<f4")},
		{"huge_len", append([]byte(Magic), 2, 0, 0xff, 0xff, 0xff, 0x7f)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ReadHeader(tc.b); !errors.Is(err, ErrMalformed) {
				t.Errorf("got %v, want ErrMalformed", err)
			}
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func FuzzReadHeader(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.npy")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadHeader(b)
		if err == nil && (h.DataOffset > int64(len(b)) || h.DataOffset < 10) {
			t.Fatalf("data offset %d outside %d-byte input", h.DataOffset, len(b))
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error not wrapping ErrMalformed: %v", err)
		}
	})
}
