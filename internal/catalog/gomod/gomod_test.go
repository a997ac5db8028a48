package gomod

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const fixtures = "../../../testdata/bom/gomod"

func scan(t testing.TB, targets ...string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), targets, inventory.Options{
		Catalogers: []inventory.Cataloger{Go{}}, MaxDepth: 4, Workers: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestGolden compares the components and findings of each fixture with
// testdata/<folder>_<file>.golden.json; -update rewrites them.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*", "go.*"))
	if err != nil || len(files) < 4 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, p := range files {
		name := filepath.Base(filepath.Dir(p)) + "_" + filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			r := scan(t, p)
			got, err := json.MarshalIndent(struct {
				Components []inventory.Component `json:"components"`
				Findings   []inventory.Finding   `json:"findings"`
			}{r.Components, r.Findings}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", name+".golden.json")
			manifest.Golden(t, golden, got, *update)
		})
	}
}

// TestManifest holds every fixture to its row in MANIFEST.tsv.
func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, rw := range rows {
		t.Run(strings.ReplaceAll(rw.Path, "/", "_"), func(t *testing.T) {
			r := scan(t, filepath.Join(fixtures, rw.Path))
			for _, p := range rw.Check(r) {
				t.Errorf("%s: %s\n%s", rw.Description, p, manifest.Dump(r))
			}
		})
	}
}

type summary struct {
	Dep       string
	DependsOn []string
	Props     map[string]string
	Line      int
}

func summarize(r *inventory.Report, keys ...string) map[string]summary {
	m := make(map[string]summary)
	for _, c := range r.Components {
		s := summary{Dep: c.Dependency, DependsOn: c.DependsOn, Props: map[string]string{}}
		for _, k := range keys {
			if v, ok := c.Properties[k]; ok {
				s.Props[k] = v
			}
		}
		if len(c.Locations) > 0 {
			s.Line = c.Locations[0].Line
		}
		m[c.ID] = s
	}
	return m
}

func TestMod(t *testing.T) {
	r := scan(t, filepath.Join(fixtures, "app", "go.mod"))
	const (
		ollama = "pkg:golang/github.com/ollama/ollama@v0.1.48"
		openai = "pkg:golang/github.com/sashabaranov/go-openai@v1.26.3"
		grpc   = "pkg:golang/google.golang.org/grpc@v1.64.0"
	)
	want := map[string]summary{
		"pkg:golang/github.com/acme/inference-gateway": {Line: 1, DependsOn: []string{ollama, openai, grpc},
			Props: map[string]string{"main": "true", "go": "1.22.0", "toolchain": "go1.22.5", "excludes": "golang.org/x/net@v0.25.0"}},
		ollama: {Dep: "direct", Line: 8, Props: map[string]string{"pinned": "true", "source": "registry"}},
		openai: {Dep: "direct", Line: 9, Props: map[string]string{"pinned": "true", "source": "registry"}},
		grpc: {Dep: "direct", Line: 10, Props: map[string]string{"pinned": "true", "source": "registry",
			"replaced-by": "google.golang.org/grpc@v1.64.1"}},
		"pkg:golang/github.com/google/uuid@v1.6.0":      {Dep: "transitive", Line: 14, Props: map[string]string{"pinned": "true", "source": "registry"}},
		"pkg:golang/golang.org/x/net@v0.26.0":           {Dep: "transitive", Line: 15, Props: map[string]string{"pinned": "true", "source": "registry"}},
		"pkg:golang/google.golang.org/protobuf@v1.34.2": {Dep: "transitive", Line: 16, Props: map[string]string{"pinned": "true", "source": "registry"}},
		"pkg:golang/github.com/acme/tokenizer@v0.0.0-20240611093012-4f2a9e1c7b3d": {Dep: "transitive", Line: 17,
			Props: map[string]string{"pinned": "false", "source": "path", "replaced-by": "../tokenizer"}},
	}
	got := summarize(r, "main", "go", "toolchain", "excludes", "pinned", "source", "replaced-by")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if len(r.Findings) != 0 {
		t.Errorf("findings: %s", manifest.Dump(r))
	}
}

func TestSum(t *testing.T) {
	r := scan(t, filepath.Join(fixtures, "app", "go.sum"))
	want := map[string]summary{
		"pkg:golang/github.com/google/uuid@v1.6.0":             {Line: 1, Props: map[string]string{"go-sum": "h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=", "hashes": "true"}},
		"pkg:golang/github.com/ollama/ollama@v0.1.48":          {Line: 3, Props: map[string]string{"go-sum": "h1:Yb3wMT9cK5vPZaHgW7tRDL2KnJeB5mXk4cNoUqV8iS0=", "hashes": "true"}},
		"pkg:golang/github.com/sashabaranov/go-openai@v1.26.3": {Line: 5, Props: map[string]string{"go-sum": "h1:Tjnh4rcvsSU68f66r05mys+Zou4vo4qyvkne6AIRJPI=", "hashes": "true"}},
		"pkg:golang/golang.org/x/net@v0.26.0":                  {Line: 7, Props: map[string]string{"go-sum": "h1:soB7SVo0PWrY4vPW/+ay0jKDNScG2X9wFeYlXIvJsOQ=", "hashes": "true"}},
		"pkg:golang/google.golang.org/grpc@v1.64.1":            {Line: 9, Props: map[string]string{"go-sum": "h1:LKtvyfbX3UGVPFcGqJ9ItpVWW6oN/2XqTxfAnwRRXiA=", "hashes": "true"}},
		"pkg:golang/google.golang.org/protobuf@v1.34.2":        {Line: 11, Props: map[string]string{"go-sum": "h1:6xV6lTsCfpGD21XK49h7MhtcApnLqkfYgPcdHftf6hg=", "hashes": "true"}},
	}
	if d := cmp.Diff(want, summarize(r, "go-sum", "hashes")); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestMalformedLine(t *testing.T) {
	tests := []struct {
		path string
		line int
	}{
		{"malformed-mod/go.mod", 7},
		{"malformed-sum/go.sum", 2},
	}
	for _, tc := range tests {
		r := scan(t, filepath.Join(fixtures, tc.path))
		if len(r.Findings) != 1 || r.Findings[0].Rule != RuleMalformed || r.Findings[0].Line != tc.line {
			t.Errorf("%s: findings %+v, want one %s at line %d", tc.path, r.Findings, RuleMalformed, tc.line)
		}
	}
	// What parsed before and after the bad go.sum lines is kept.
	r := scan(t, filepath.Join(fixtures, "malformed-sum/go.sum"))
	if len(r.Components) != 1 {
		t.Errorf("components %+v, want the one good line", r.Components)
	}
}

func TestPURL(t *testing.T) {
	for _, tc := range []struct{ path, version, want string }{
		{"github.com/foo/bar", "v1.2.3", "pkg:golang/github.com/foo/bar@v1.2.3"},
		{"github.com/foo/bar/v2", "v2.0.0+incompatible", "pkg:golang/github.com/foo/bar/v2@v2.0.0%2Bincompatible"},
		{"rsc.io", "", "pkg:golang/rsc.io"},
	} {
		if got := PURL(tc.path, tc.version); got != tc.want {
			t.Errorf("PURL(%q, %q) = %q, want %q", tc.path, tc.version, got, tc.want)
		}
	}
}

func TestWants(t *testing.T) {
	for name, want := range map[string]bool{"go.mod": true, "go.sum": true, "go.work": false, "gomod": false, "go.mod.bak": false} {
		if got := (Go{}).Wants(&inventory.File{Name: name, Path: "x/" + name}); got != want {
			t.Errorf("Wants(%q) = %v, want %v", name, got, want)
		}
	}
}

type sink struct {
	comps    []inventory.Component
	findings []inventory.Finding
}

func (s *sink) Component(c inventory.Component)       { s.comps = append(s.comps, c) }
func (s *sink) Finding(f inventory.Finding)           { s.findings = append(s.findings, f) }
func (s *sink) Scan(context.Context, *inventory.File) {}

// FuzzCatalog runs the cataloger over any bytes as go.mod and as go.sum.
func FuzzCatalog(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*", "go.*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(strings.HasSuffix(p, ".sum"), b)
	}
	f.Fuzz(func(t *testing.T, sum bool, b []byte) {
		name := "go.mod"
		if sum {
			name = "go.sum"
		}
		file, err := inventory.NewFile("p/"+name, bytes.NewReader(b), int64(len(b)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var s sink
		if err := (Go{}).Catalog(context.Background(), file, &s); err != nil {
			t.Fatalf("Catalog: %v", err)
		}
		for _, c := range s.comps {
			if c.ID == "" || !strings.HasPrefix(c.ID, "pkg:golang/") {
				t.Fatalf("bad component %+v", c)
			}
		}
		for _, fd := range s.findings {
			if fd.Rule == "" || fd.Message == "" {
				t.Fatalf("incomplete finding %+v", fd)
			}
		}
	})
}

type zeros struct{}

func (zeros) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	return len(p), nil
}

// TestTooLarge checks that a file over MaxFileBytes is a scan/limit
// finding, never a silent pass.
func TestTooLarge(t *testing.T) {
	f, err := inventory.NewFile("p/go.sum", zeros{}, MaxFileBytes+1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	if err := (Go{}).Catalog(context.Background(), f, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.findings) != 1 || s.findings[0].Rule != inventory.RuleScanLimit || s.findings[0].Severity != inventory.High {
		t.Errorf("findings %+v, want one high scan/limit", s.findings)
	}
}
