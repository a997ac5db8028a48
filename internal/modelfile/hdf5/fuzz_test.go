package hdf5

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits keep each input cheap.
var fuzzLimits = Limits{Bytes: 1 << 20, Value: 1 << 16, Attributes: 64, Messages: 1024, Blocks: 64}

func FuzzRootAttributes(f *testing.F) {
	paths, err := filepath.Glob("testdata/*.h5")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(gunzip(f, "dense_huge.h5.gz"))
	f.Fuzz(func(t *testing.T, b []byte) {
		attrs, err := RootAttributes(context.Background(), bytes.NewReader(b), int64(len(b)), fuzzLimits)
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrLimit) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("error of no known kind: %v", err)
		}
		if len(attrs) > fuzzLimits.Attributes {
			t.Fatalf("%d attributes past the limit of %d", len(attrs), fuzzLimits.Attributes)
		}
		for _, a := range attrs {
			if a.Offset >= int64(len(b)) {
				t.Fatalf("attribute %q at offset %d of a %d-byte file", a.Name, a.Offset, len(b))
			}
		}
	})
}
