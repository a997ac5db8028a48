package npm

import (
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

const fixtures = "../../../testdata/bom/npm"

func scan(t testing.TB, targets ...string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), targets, inventory.Options{
		Catalogers: []inventory.Cataloger{NPM{}}, MaxDepth: 4, Workers: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestGolden scans each fixture folder and compares the components and
// findings with testdata/<folder>.golden.json; -update rewrites them.
func TestGolden(t *testing.T) {
	dirs, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		n++
		t.Run(d.Name(), func(t *testing.T) {
			r := scan(t, filepath.Join(fixtures, d.Name()))
			got, err := json.MarshalIndent(struct {
				Components []inventory.Component `json:"components"`
				Findings   []inventory.Finding   `json:"findings"`
			}{r.Components, r.Findings}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", d.Name()+".golden.json")
			manifest.Golden(t, golden, got, *update)
		})
	}
	if n < 10 {
		t.Fatalf("only %d fixture folders", n)
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
			if rw.Verdict == "benign" && len(r.Components) == 0 {
				t.Errorf("no components")
			}
		})
	}
}

// summary is what the tests below check of a component.
type summary struct {
	Dep       string
	DependsOn []string
	Props     map[string]string
	Digests   []string
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
		for _, d := range c.Digests {
			s.Digests = append(s.Digests, d.Algorithm)
		}
		if len(c.Locations) > 0 {
			s.Line = c.Locations[0].Line
		}
		m[c.ID] = s
	}
	return m
}

// TestGraph checks, for each lockfile format, which packages are direct,
// what each depends on, and where hashes and registries were recorded.
func TestGraph(t *testing.T) {
	const (
		express = "pkg:npm/express@4.18.2"
		debug   = "pkg:npm/debug@2.6.9"
		ms20    = "pkg:npm/ms@2.0.0"
		ms21    = "pkg:npm/ms@2.1.3"
		embed   = "pkg:npm/%40acme/embed@1.0.3"
		jest    = "pkg:npm/jest@29.7.0"
	)
	v3 := map[string]summary{
		"pkg:npm/rag-service@0.2.0": {DependsOn: []string{embed, express, jest}, Props: map[string]string{"main": "true"}, Line: 7},
		express:                     {Dep: "direct", DependsOn: []string{debug, ms21}, Props: map[string]string{}, Digests: []string{"sha512"}, Line: 18},
		debug:                       {Dep: "transitive", DependsOn: []string{ms20}, Props: map[string]string{}, Digests: []string{"sha512"}, Line: 27},
		ms20:                        {Dep: "transitive", Props: map[string]string{}, Digests: []string{"sha1"}, Line: 35},
		ms21:                        {Dep: "transitive", Props: map[string]string{}, Digests: []string{"sha512"}, Line: 40},
		embed:                       {Dep: "direct", DependsOn: []string{ms21}, Props: map[string]string{"index": "https://npm.acme.example"}, Digests: []string{"sha512"}, Line: 45},
		jest:                        {Dep: "direct", Props: map[string]string{"dev": "true"}, Digests: []string{"sha512"}, Line: 53},
	}
	tests := []struct {
		dir  string
		want map[string]summary
	}{
		{"lock-v3", v3},
		{"shrinkwrap", v3},
		{"yarn-v1", map[string]summary{
			"pkg:npm/%40anthropic-ai/sdk@0.14.0": {Dep: "direct", DependsOn: []string{"pkg:npm/%40types/node@18.19.14", "pkg:npm/node-fetch@2.7.0"}, Props: map[string]string{}, Digests: []string{"sha512"}, Line: 5},
			"pkg:npm/%40types/node@18.19.14":     {Props: map[string]string{}, Digests: []string{"sha512"}, Line: 13},
			"pkg:npm/node-fetch@2.7.0":           {DependsOn: []string{"pkg:npm/whatwg-url@5.0.0"}, Props: map[string]string{}, Digests: []string{"sha512"}, Line: 18},
			"pkg:npm/whatwg-url@5.0.0":           {Props: map[string]string{}, Digests: []string{"sha512"}, Line: 25},
			"pkg:npm/private-lib@1.2.3":          {Dep: "direct", Props: map[string]string{"index": "https://npm.internal.example"}, Digests: []string{"sha512"}, Line: 30},
		}},
		{"yarn-berry", map[string]summary{
			"pkg:npm/langchain@0.1.20": {Dep: "direct", DependsOn: []string{"pkg:npm/zod@3.22.4"}, Props: map[string]string{}, Digests: []string{"sha512"}, Line: 8},
			"pkg:npm/zod@3.22.4":       {Props: map[string]string{}, Digests: []string{"sha512"}, Line: 17},
		}},
		{"pnpm-v5", map[string]summary{
			"pkg:npm/string_decoder@1.3.0": {Dep: "direct", DependsOn: []string{"pkg:npm/safe-buffer@5.2.1"}, Props: map[string]string{}, Digests: []string{"sha512"}, Line: 13},
			"pkg:npm/safe-buffer@5.2.1":    {Dep: "transitive", Props: map[string]string{}, Digests: []string{"sha512"}, Line: 19},
			"pkg:npm/react-dom@18.2.0":     {Dep: "direct", DependsOn: []string{"pkg:npm/react@18.2.0"}, Props: map[string]string{}, Digests: []string{"sha512"}, Line: 23},
			"pkg:npm/react@18.2.0":         {Dep: "transitive", Props: map[string]string{}, Digests: []string{"sha512"}, Line: 31},
		}},
		{"pnpm-v6", map[string]summary{
			"pkg:npm/%40xenova/transformers@2.15.0": {Dep: "direct", DependsOn: []string{"pkg:npm/onnxruntime-web@1.14.0"}, Props: map[string]string{}, Digests: []string{"sha512"}, Line: 19},
			"pkg:npm/onnxruntime-web@1.14.0":        {Dep: "transitive", Props: map[string]string{}, Digests: []string{"sha512"}, Line: 25},
			"pkg:npm/typescript@5.3.3":              {Dep: "direct", Props: map[string]string{"dev": "true"}, Digests: []string{"sha512"}, Line: 29},
		}},
		{"pnpm-v9", map[string]summary{
			"pkg:npm/%40modelcontextprotocol/sdk@1.0.4": {Dep: "direct", DependsOn: []string{"pkg:npm/raw-body@3.0.0"}, Props: map[string]string{}, Digests: []string{"sha512"}, Line: 20},
			"pkg:npm/raw-body@3.0.0":                    {Dep: "transitive", Props: map[string]string{}, Digests: []string{"sha512"}, Line: 23},
			"pkg:npm/react@18.2.0":                      {Dep: "transitive", Props: map[string]string{}, Digests: []string{"sha512"}, Line: 26},
			"pkg:npm/use-sync@1.2.0":                    {Dep: "direct", DependsOn: []string{"pkg:npm/react@18.2.0"}, Props: map[string]string{}, Digests: []string{"sha512"}, Line: 29},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			r := scan(t, filepath.Join(fixtures, tc.dir))
			if len(r.Findings) != 0 {
				t.Errorf("findings: %s", manifest.Dump(r))
			}
			got := summarize(r, "dev", "index", "main")
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestPackageJSON checks how each kind of spec in package.json is read.
func TestPackageJSON(t *testing.T) {
	r := scan(t, filepath.Join(fixtures, "app"))
	keys := []string{"version-range", "pinned", "source", "dev", "optional", "peer", "url", "revision", "main"}
	want := map[string]summary{
		"pkg:npm/%40acme/chat-ui@1.4.0": {Props: map[string]string{"main": "true"}, Line: 1, DependsOn: []string{
			"pkg:npm/%40huggingface/inference", "pkg:npm/left-pad", "pkg:npm/local-utils", "pkg:npm/lodash",
			"pkg:npm/openai@4.28.0", "pkg:npm/shared", "pkg:npm/tiny", "pkg:npm/typescript",
			"pkg:npm/vitest@1.2.2", "pkg:npm/fsevents@2.3.3", "pkg:npm/react"}},
		"pkg:npm/%40huggingface/inference": {Dep: "direct", Line: 6, Props: map[string]string{"version-range": "^2.6.4", "pinned": "false", "source": "registry"}},
		"pkg:npm/openai@4.28.0":            {Dep: "direct", Line: 7, Props: map[string]string{"pinned": "true", "source": "registry"}},
		"pkg:npm/lodash":                   {Dep: "direct", Line: 8, Props: map[string]string{"version-range": "~4.17.21", "pinned": "false", "source": "registry"}},
		// The credentials in the URL are dropped.
		"pkg:npm/left-pad": {Dep: "direct", Line: 9, Props: map[string]string{"pinned": "true", "source": "vcs",
			"url":      "git+https://github.com/stevemao/left-pad.git#5a4d3e2a1f0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d",
			"revision": "5a4d3e2a1f0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d"}},
		"pkg:npm/local-utils":    {Dep: "direct", Line: 10, Props: map[string]string{"version-range": "file:../utils", "pinned": "false", "source": "path"}},
		"pkg:npm/shared":         {Dep: "direct", Line: 11, Props: map[string]string{"version-range": "workspace:*", "pinned": "false", "source": "workspace"}},
		"pkg:npm/tiny":           {Dep: "direct", Line: 12, Props: map[string]string{"pinned": "false", "source": "vcs", "url": "github:acme/tiny#main"}},
		"pkg:npm/typescript":     {Dep: "direct", Line: 15, Props: map[string]string{"version-range": "^5.3.3", "pinned": "false", "source": "registry", "dev": "true"}},
		"pkg:npm/vitest@1.2.2":   {Dep: "direct", Line: 16, Props: map[string]string{"pinned": "true", "source": "registry", "dev": "true"}},
		"pkg:npm/fsevents@2.3.3": {Dep: "direct", Line: 19, Props: map[string]string{"pinned": "true", "source": "registry", "optional": "true"}},
		"pkg:npm/react":          {Dep: "direct", Line: 22, Props: map[string]string{"version-range": ">=18", "pinned": "false", "source": "registry", "peer": "true"}},
	}
	if d := cmp.Diff(want, summarize(r, keys...)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "secret") {
		t.Errorf("the password in a URL reached the report")
	}
}

func TestExactVersion(t *testing.T) {
	for spec, want := range map[string]bool{
		"1.2.3": true, "=1.2.3": true, "v1.2.3": true, "1.2.3-beta.1": true, "1.2.3+build": true,
		"^1.2.3": false, "1.2": false, "1.2.x": false, "1.2.3 - 2.0.0": false, "": false, "latest": false,
		"1.2.3-a || 2": false, "1.2.3.": false,
	} {
		if got := exactVersion(spec); got != want {
			t.Errorf("exactVersion(%q) = %v, want %v", spec, got, want)
		}
	}
}

func TestIntegrity(t *testing.T) {
	tests := []struct {
		in   string
		want []inventory.Digest
	}{
		{"sha1-qUxFnWE8jzQ/YWhPz2y5HpzD8IQ=", []inventory.Digest{{Algorithm: "sha1", Value: "a94c459d613c8f343f61684fcf6cb91e9cc3f084"}}},
		{"sha512-bad", nil},
		{"md5-1B2M2Y8AsgTpgAmY7PhCfg==", nil},
		{"sha1-qUxFnWE8jzQ/YWhPz2y5HpzD8IQ= sha1-!!", []inventory.Digest{{Algorithm: "sha1", Value: "a94c459d613c8f343f61684fcf6cb91e9cc3f084"}}},
		{"", nil},
	}
	for _, tc := range tests {
		if d := cmp.Diff(tc.want, integrity(tc.in)); d != "" {
			t.Errorf("integrity(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"proj/package.json", true},
		{"package.json", true},
		{"proj/node_modules/lodash/package.json", false},
		{"node_modules/lodash/package.json", false},
		{"proj/package-lock.json", true},
		{"proj/node_modules/.package-lock.json", false},
		{"proj/npm-shrinkwrap.json", true},
		{"proj/yarn.lock", true},
		{"proj/pnpm-lock.yaml", true},
		{"proj/package.json.bak", false},
		{"proj/go.mod", false},
	}
	for _, tc := range tests {
		f := &inventory.File{Path: tc.path, Name: filepath.Base(tc.path)}
		if got := (NPM{}).Wants(f); got != tc.want {
			t.Errorf("Wants(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestSplit(t *testing.T) {
	tests := []struct{ in, name, rng string }{
		{"lodash@^4.0.0", "lodash", "^4.0.0"},
		{"@babel/core@7.0.0", "@babel/core", "7.0.0"},
		{"zod@npm:^3.22.4", "zod", "npm:^3.22.4"},
		{"@scope", "@scope", ""},
		{"", "", ""},
	}
	for _, tc := range tests {
		n, r := splitDescriptor(tc.in)
		if n != tc.name || r != tc.rng {
			t.Errorf("splitDescriptor(%q) = %q, %q, want %q, %q", tc.in, n, r, tc.name, tc.rng)
		}
	}
	keys := []struct{ in, name, ver string }{
		{"/lodash/4.17.21", "lodash", "4.17.21"},
		{"/@babel/core/7.0.0_react@18.0.0", "@babel/core", "7.0.0"},
		{"/string_decoder/1.3.0", "string_decoder", "1.3.0"},
		{"/@scope/x@1.0.0(react@18.2.0)", "@scope/x", "1.0.0"},
		{"y@2.0.0", "y", "2.0.0"},
		{"nothing", "", ""},
	}
	for _, tc := range keys {
		n, v := pnpmKey(tc.in)
		if n != tc.name || v != tc.ver {
			t.Errorf("pnpmKey(%q) = %q, %q, want %q, %q", tc.in, n, v, tc.name, tc.ver)
		}
	}
}
