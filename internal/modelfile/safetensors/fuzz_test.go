package safetensors

import (
	"bytes"
	"cmp"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// addSeeds adds every file under root to the corpus.
func addSeeds(f *testing.F, root string) {
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".safetensors" {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
		return nil
	})
}

func FuzzRead(f *testing.F) {
	addSeeds(f, fixtures)
	f.Add(header(`{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]},"__metadata__":{"k":"v"}}`, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, lim := range []Limits{{}, {Tensors: 2, Dims: 2, Header: 64}} {
			h, err := Read(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
			if err != nil {
				t.Fatalf("error from an in-memory reader: %v", err)
			}
			for _, p := range h.Problems {
				if p.Offset < 0 || p.Offset > int64(len(b)) || p.Rule == "" || p.Evidence == "" {
					t.Fatalf("bad problem %+v for %d bytes", p, len(b))
				}
			}
			if len(h.Problems) > 0 {
				continue
			}
			// Nothing reported: the file must be what the reference
			// reader accepts.
			if !h.Complete {
				t.Fatal("incomplete parse reported nothing")
			}
			valid(t, h, int64(len(b)))
		}
	})
}

// valid checks, apart from Read's own logic, that the tensors tile the data
// section exactly with the sizes their dtypes and shapes give.
func valid(t *testing.T, h *Header, size int64) {
	t.Helper()
	ts := slices.Clone(h.Tensors)
	slices.SortFunc(ts, func(a, b Tensor) int { return cmp.Compare(a.Begin, b.Begin) })
	var at uint64
	for _, tn := range ts {
		bits, ok := DTypeBits(tn.DType)
		if !ok {
			t.Fatalf("unknown dtype %q passed", tn.DType)
		}
		n := bits
		for _, d := range tn.Shape {
			n *= d
		}
		if tn.End-tn.Begin == 0 && n == 0 {
			continue
		}
		if tn.Begin != at || tn.End-tn.Begin != n/8 {
			t.Fatalf("tensor %q [%d, %d) passed at %d", tn.Name, tn.Begin, tn.End, at)
		}
		at = tn.End
	}
	if int64(at) != size-h.DataOffset {
		t.Fatalf("tensors end at %d of %d data bytes, yet nothing reported", at, size-h.DataOffset)
	}
}
