package marshal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits keep each input cheap.
var fuzzLimits = Limits{Bytes: 1 << 16, Objects: 4096, Depth: 64}

func FuzzMarshal(f *testing.F) {
	paths, err := filepath.Glob("testdata/*.marshal")
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
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, l := range Layouts {
			if _, err := Load(b, l, fuzzLimits); err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrLimit) {
				t.Fatalf("%v: error of no known kind: %v", l, err)
			}
		}
		codes, err := DecodeCode(b, fuzzLimits)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrLimit) {
				t.Fatalf("DecodeCode: error of no known kind: %v", err)
			}
			if len(codes) > 0 && !errors.Is(err, ErrLimit) {
				t.Fatal("code objects returned with a malformed error")
			}
			return
		}
		if len(codes) == 0 {
			t.Fatal("no code objects and no error")
		}
		for _, c := range codes {
			r := c.References()
			if r.Codes < 1 {
				t.Fatalf("References counted %d code objects", r.Codes)
			}
		}
	})
}
