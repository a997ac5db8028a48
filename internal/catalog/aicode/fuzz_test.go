package aicode

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// collect is a Sink that keeps what a cataloger reports.
type collect struct {
	comps    []inventory.Component
	findings []inventory.Finding
}

func (c *collect) Component(x inventory.Component)       { c.comps = append(c.comps, x) }
func (c *collect) Finding(x inventory.Finding)           { c.findings = append(c.findings, x) }
func (c *collect) Scan(context.Context, *inventory.File) {}

// names are the kinds of file the cataloger reads, one per fuzz input.
var names = []string{"app.py", "eval.ipynb", "Modelfile", "serve.sh", "docker-compose.yml"}

func addSeeds(f *testing.F) {
	for _, dir := range []string{fixtures, codeFixtures} {
		addSeedsFrom(f, dir)
	}
}

func addSeedsFrom(f *testing.F, dir string) {
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, n := range names {
			if strings.EqualFold(filepath.Ext(p), filepath.Ext(n)) || filepath.Base(p) == n {
				f.Add(uint8(i), b)
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

// FuzzCatalog feeds every kind of file the cataloger reads. It must not
// panic, and what it reports must hold no path tricks or credentials.
func FuzzCatalog(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		name := names[int(kind)%len(names)]
		file, err := inventory.NewFile(name, bytes.NewReader(b), int64(len(b)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var s collect
		if !(References{}).Wants(file) {
			return
		}
		if err := (References{}).Catalog(context.Background(), file, &s); err != nil {
			t.Fatal(err)
		}
		for _, c := range s.comps {
			hub := strings.HasPrefix(c.ID, "pkg:huggingface/") || strings.HasPrefix(c.ID, "dataset:huggingface/")
			if c.ID == "" || hub && strings.Contains(c.Name, "..") {
				t.Errorf("bad component ID %q", c.ID)
			}
			if strings.Contains(c.Properties["endpoints"], "@") {
				t.Errorf("endpoint keeps userinfo: %q", c.Properties["endpoints"])
			}
			if len(c.Locations) == 0 {
				t.Errorf("component %s has no location", c.ID)
			}
		}
		lines := bytes.Count(b, []byte("\n")) + bytes.Count(b, []byte("\r")) + 1
		for _, x := range s.findings {
			if !strings.HasPrefix(x.Rule, "code/") {
				continue
			}
			if x.Line < 1 || x.Cell == 0 && x.Line > lines || x.Column < 1 || x.Column > len(b)+1 || x.Cell < 0 ||
				len(x.Evidence) > maxEvidence+len("…") || x.Remediation == "" {
				t.Errorf("bad code finding %+v", x)
			}
		}
	})
}
