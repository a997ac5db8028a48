package python

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtures is the committed fixture folder, shared with the lead's
// manifest run.
const fixtures = "../../../testdata/bom/python"

func scan(t testing.TB, target string) *inventory.Report {
	t.Helper()
	rep, err := inventory.Scan(context.Background(), []string{target}, inventory.Options{
		Catalogers: []inventory.Cataloger{Cataloger{}}, MaxDepth: 4, Workers: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// golden is what a golden file holds: the report's components and
// findings, with paths relative to the fixture folder.
type golden struct {
	Components []inventory.Component `json:"components"`
	Findings   []inventory.Finding   `json:"findings"`
}

func TestGolden(t *testing.T) {
	dirs, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			rep := scan(t, filepath.Join(fixtures, d.Name()))
			raw, err := json.Marshal(golden{rep.Components, rep.Findings})
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal([]byte(strings.ReplaceAll(string(raw), filepath.ToSlash(fixtures)+"/", "")), &v); err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join("testdata", "golden", d.Name()+".json")
			if *update {
				if err := os.WriteFile(file, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)+"\n"); diff != "" {
				t.Errorf("%s (-want +got):\n%s", file, diff)
			}
		})
	}
}

// TestManifest holds every fixture to its MANIFEST.tsv row.
func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		rep := scan(t, filepath.Join(fixtures, r.Path))
		for _, p := range r.Check(rep) {
			t.Errorf("%s: %s\n%s", r.Path, p, manifest.Dump(rep))
		}
	}
}

// TestComponents checks the properties the issue asks for on a few
// components, independently of the golden files.
func TestComponents(t *testing.T) {
	type want struct {
		dep   string
		props map[string]string
		deps  []string
		line  int
	}
	tests := []struct {
		dir string
		id  string
		want
	}{
		{"reqs", "pkg:pypi/torch@2.5.1", want{inventory.Direct, map[string]string{
			"ecosystem": "pypi", "pinned": "true", "hashes": "true", "source": "registry",
			"index":    "https://pypi.internal.example.com/simple,https://download.pytorch.org/whl/cu121",
			"manifest": "reqs/requirements.txt"}, nil, 9}},
		{"reqs", "pkg:pypi/transformers", want{inventory.Direct, map[string]string{
			"ecosystem": "pypi", "pinned": "false", "version-range": ">=4.44,<5", "extras": "torch",
			"markers": `python_version >= "3.9"`, "source": "registry",
			"index":    "https://pypi.internal.example.com/simple,https://download.pytorch.org/whl/cu121",
			"manifest": "reqs/requirements.txt"}, nil, 12}},
		{"reqs", "pkg:pypi/tokenizer-utils", want{inventory.Direct, map[string]string{
			"ecosystem": "pypi", "pinned": "false", "source": "editable",
			"url":      "git+https://github.com/example/tokenizer-utils.git",
			"revision": "3f1c2a9d8e7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c", "manifest": "reqs/requirements.txt"}, nil, 14}},
		{"reqs", "pkg:pypi/requests@2.32.3", want{inventory.Direct, map[string]string{
			"ecosystem": "pypi", "pinned": "true", "source": "registry", "manifest": "reqs/requirements/base.txt"}, nil, 1}},
		{"poetry", "pkg:pypi/requests@2.32.3", want{inventory.Direct, map[string]string{
			"ecosystem": "pypi", "pinned": "true", "hashes": "true", "source": "registry", "manifest": "poetry/poetry.lock"},
			[]string{"pkg:pypi/certifi@2024.8.30"}, 40}},
		{"poetry", "pkg:pypi/typing-extensions@4.12.2", want{inventory.Transitive, map[string]string{
			"ecosystem": "pypi", "pinned": "true", "hashes": "true", "source": "registry", "manifest": "poetry/poetry.lock"}, nil, 53}},
		{"uv", "pkg:pypi/numpy@2.1.2", want{inventory.Direct, map[string]string{
			"ecosystem": "pypi", "pinned": "true", "source": "vcs", "url": "https://github.com/numpy/numpy?tag=v2.1.2",
			"manifest": "uv/uv.lock", "revision": "1e5b5a2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a"}, nil, 46}},
		{"conda", "pkg:conda/cudatoolkit@11.8.0", want{inventory.Direct, map[string]string{
			"ecosystem": "conda", "pinned": "true", "build": "h6a678d5_0", "index": "pytorch,conda-forge",
			"manifest": "conda/environment.yml"}, nil, 9}},
		{"pyproject-pep621", "pkg:pypi/my-private-pkg", want{inventory.Direct, map[string]string{
			"ecosystem": "pypi", "pinned": "false", "source": "registry", "markers": "sys_platform == 'linux'",
			"index": "https://pkgs.example.com/simple", "manifest": "pyproject-pep621/pyproject.toml"}, nil, 12}},
	}
	for _, tt := range tests {
		rep := scan(t, filepath.Join(fixtures, tt.dir))
		c := rep.Component(tt.id)
		if c == nil {
			t.Errorf("%s: no component %s", tt.dir, tt.id)
			continue
		}
		props := map[string]string{}
		for k, v := range c.Properties {
			props[k] = strings.ReplaceAll(v, filepath.ToSlash(fixtures)+"/", "")
		}
		got := want{c.Dependency, props, c.DependsOn, c.Locations[0].Line}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.dir, tt.id, diff)
		}
	}
}

// TestNoSecrets checks that credentials in index URLs never reach the report.
func TestNoSecrets(t *testing.T) {
	for _, dir := range []string{"reqs", "pyproject-pep621"} {
		raw, err := json.Marshal(scan(t, filepath.Join(fixtures, dir)))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"s3cr3t", "abc123", "deploy:", "ci-token"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("%s: report contains %q", dir, secret)
			}
		}
	}
}

func TestWants(t *testing.T) {
	for p, want := range map[string]bool{
		"requirements.txt":                       true,
		"requirements-dev.txt":                   true,
		"dev-requirements.txt":                   true,
		"requirements/base.txt":                  true,
		"constraints.txt":                        true,
		"reqs.in":                                true,
		"MANIFEST.in":                            false,
		"notes.txt":                              false,
		"pyproject.toml":                         true,
		"uv.lock":                                true,
		"Pipfile":                                true,
		"Pipfile.lock":                           true,
		"poetry.lock":                            true,
		"pdm.lock":                               true,
		"environment.yml":                        true,
		"setup.cfg":                              true,
		"site-packages/x-1.0.dist-info/METADATA": true,
		"x-1.0.egg-info/METADATA":                false,
		"model.safetensors":                      false,
	} {
		f := &inventory.File{Path: p, Name: filepath.Base(p)}
		if got := (Cataloger{}).Wants(f); got != want {
			t.Errorf("Wants(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestIncludeCycle(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("requirements.txt", "-r a.txt\nflask==3.0.3\n")
	write("a.txt", "-r requirements.txt\n-r missing.txt\nrich\n")
	rep := scan(t, filepath.Join(dir, "requirements.txt"))
	var ids, rules []string
	for _, c := range rep.Components {
		ids = append(ids, c.ID)
	}
	for _, f := range rep.Findings {
		rules = append(rules, f.Rule)
	}
	slices.Sort(ids)
	if diff := cmp.Diff([]string{"pkg:pypi/flask@3.0.3", "pkg:pypi/rich"}, ids); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{RuleMalformed}, rules); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@host/simple":           "https://host/simple",
		"https://host/simple":                   "https://host/simple",
		"git+https://tok@github.com/a/b.git@v1": "git+https://github.com/a/b.git@v1",
		"https://u:p%zz@host/x":                 "https://host/x",
		"conda-forge":                           "conda-forge",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLiteralList(t *testing.T) {
	tests := []struct {
		in   string
		want []listItem
		ok   bool
	}{
		{`["a>=1", 'b'] `, []listItem{{"a>=1", 0}, {"b", 0}}, true},
		{"(\n  \"a\",  # why\n  \"b\\\"c\",\n)", []listItem{{"a", 1}, {`b"c`, 2}}, true},
		{`[]`, nil, true},
		{`["a" "b"]`, nil, false},
		{`["a", REQS]`, nil, false},
		{`["a"] + extra`, nil, false},
		{`["a`, nil, false},
		{`REQS`, nil, false},
	}
	for _, tt := range tests {
		got, ok := literalList(tt.in)
		if ok != tt.ok {
			t.Errorf("literalList(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(listItem{})); ok && diff != "" {
			t.Errorf("literalList(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
