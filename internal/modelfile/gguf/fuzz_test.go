package gguf

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

// addSeeds adds every GGUF fixture under root to the corpus.
func addSeeds(f *testing.F, root string) {
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".gguf" {
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
	f.Add(pad32(v3(1, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(16).str("t").u32(1).u64(32).u32(8).u64(0).b, 34))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, lim := range []Limits{{}, {KeyValues: 4, Tensors: 2, Array: 8, Depth: 2, Header: 512, String: 16}} {
			file, err := Read(context.Background(), bytes.NewReader(b), int64(len(b)), lim, isTemplate)
			if err != nil {
				t.Fatalf("error from an in-memory reader: %v", err)
			}
			for _, p := range file.Problems {
				if p.Offset < 0 || p.Offset > int64(len(b)) || p.Rule == "" || p.Evidence == "" {
					t.Fatalf("bad problem %+v for %d bytes", p, len(b))
				}
			}
			if len(file.Problems) > 0 {
				continue
			}
			if !file.Complete {
				t.Fatal("incomplete parse reported nothing")
			}
			valid(t, file, int64(len(b)))
		}
	})
}

// valid checks, apart from Read's own logic, what must hold of a file in
// which nothing was reported: every tensor lies aligned inside the file,
// none overlap, and only alignment padding is left unclaimed.
func valid(t *testing.T, f *File, size int64) {
	t.Helper()
	if f.DataOffset > size && len(f.Tensors) > 0 {
		t.Fatalf("data section at %d past the end (%d)", f.DataOffset, size)
	}
	ts := slices.Clone(f.Tensors)
	slices.SortFunc(ts, func(a, b Tensor) int { return cmp.Compare(a.Offset, b.Offset) })
	at := uint64(f.DataOffset)
	for _, tn := range ts {
		ti := ggmlTypes[tn.Type]
		n := uint64(1)
		for _, d := range tn.Dims {
			n *= d
		}
		if tn.Size != n/ti.Block*ti.Bytes || tn.Offset%f.Alignment != 0 {
			t.Fatalf("tensor %q: size %d, offset %d passed", tn.Name, tn.Size, tn.Offset)
		}
		if tn.Size == 0 {
			continue
		}
		start := uint64(f.DataOffset) + tn.Offset
		if start < at || start-at >= f.Alignment || start+tn.Size > uint64(size) {
			t.Fatalf("tensor %q at %d, previous end %d, size %d: passed", tn.Name, start, at, size)
		}
		at = start + tn.Size
	}
	if uint64(size) > at && uint64(size)-at >= f.Alignment {
		t.Fatalf("%d bytes after %d passed", uint64(size)-at, at)
	}
}
