package datasets

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

type collect struct {
	comps    []inventory.Component
	findings []inventory.Finding
}

func (c *collect) Component(x inventory.Component)       { c.comps = append(c.comps, x) }
func (c *collect) Finding(x inventory.Finding)           { c.findings = append(c.findings, x) }
func (c *collect) Scan(context.Context, *inventory.File) {}

var names = []string{"data.dvc", "README.md", "x.parquet", "x.arrow", "x.tfrecord", "x.jsonl", "x.csv"}

// FuzzCatalog feeds metadata and data-file heads. It must not panic; a
// .dvc file yields components or a finding, never silence.
func FuzzCatalog(f *testing.F) {
	err := filepath.WalkDir(fixtures, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, n := range names {
			if filepath.Ext(p) == filepath.Ext(n) {
				f.Add(uint8(i), b)
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		name := names[int(kind)%len(names)]
		file, err := inventory.NewFile("d/"+name, bytes.NewReader(b), int64(len(b)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !(Files{}).Wants(file) {
			return
		}
		var s collect
		if err := (Files{}).Catalog(context.Background(), file, &s); err != nil {
			t.Fatal(err)
		}
		if name == "data.dvc" && len(s.comps) == 0 && len(s.findings) == 0 {
			t.Error("a .dvc file gave neither components nor a finding")
		}
		for _, c := range s.comps {
			if slices.Contains(strings.Split(c.ID, "/"), "..") {
				t.Errorf("component ID %q climbs out of the tree", c.ID)
			}
		}
	})
}
