package modelcard

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead checks that any document yields a card or an error, never a
// panic, and that a card's lists hold no nulls.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.md")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("---\na: [b, {c: d}]\n- e\n---\n"))
	f.Add([]byte("---\na: |\n  x\n b\n---\n"))
	lim := Limits{Bytes: 1 << 16, Depth: 16, Nodes: 4096}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Read(b, lim)
		if err != nil && c != nil {
			t.Fatal("card and error both returned")
		}
		if c == nil {
			return
		}
		for _, list := range [][]string{c.License, c.BaseModel, c.Datasets, c.Tags, c.Language} {
			for _, s := range list {
				if isNull(s) {
					t.Fatalf("null %q in a card list", s)
				}
			}
		}
	})
}
