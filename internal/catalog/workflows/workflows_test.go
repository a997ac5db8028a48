package workflows

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/containers"
	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files")

const fixtures = "../../../testdata/bom/workflows"

func scan(t testing.TB, target string) *inventory.Report {
	t.Helper()
	rep, err := inventory.Scan(context.Background(), []string{target},
		inventory.Options{Catalogers: []inventory.Cataloger{CI{}}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestGolden(t *testing.T) {
	rep := scan(t, fixtures)
	got, err := json.MarshalIndent(struct {
		Components []inventory.Component
		Findings   []inventory.Finding
	}{rep.Components, rep.Findings}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = []byte(strings.ReplaceAll(string(got), fixtures+"/", ""))
	golden := filepath.Join("testdata", "golden.json")
	manifest.Golden(t, golden, got, *update)
	for _, secret := range []string{"tok3n", "abc"} {
		if strings.Contains(string(got), secret) {
			t.Errorf("report contains %q from a URL", secret)
		}
	}
}

func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Run(r.Path, func(t *testing.T) {
			rep := scan(t, filepath.Join(fixtures, r.Path))
			for _, p := range r.Check(rep) {
				t.Errorf("%s\n%s", p, manifest.Dump(rep))
			}
		})
	}
}

func TestComponents(t *testing.T) {
	rep := scan(t, fixtures)
	tests := []struct {
		id      string
		pinned  string
		line    int
		wantNil bool
	}{
		{id: "pkg:github/actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", pinned: "true", line: 12},
		{id: "pkg:github/actions/setup-python@v5", pinned: "false", line: 13},
		{id: "pkg:github/github/codeql-action@v3#init", pinned: "false", line: 18},
		{id: "pkg:github/org/shared-workflows@main#.github/workflows/release.yml", pinned: "false", line: 22},
		{id: "pkg:github/actions/cache@v4", pinned: "false", line: 6},
		{id: "pkg:docker/alpine@3.20", pinned: "false", line: 17},
		{id: "pkg:docker/org/builder@1.4?repository_url=ghcr.io", pinned: "false", line: 7},
		{id: "pkg:docker/redis@sha256:3134997edb04277814aa51a4175a588d45eb4299272f8eff2307bbf8b39e4d43", pinned: "true", line: 10},
		{id: "pkg:gitlab/group/ci-templates@5f3c1d0a9e8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d#python.yml", pinned: "true", line: 3},
		{id: "pkg:gitlab/components/secret-detection@1.1.2#secret-detection", pinned: "false", line: 10},
		{id: "pkg:docker/group/project/tester@latest?repository_url=registry.gitlab.com", pinned: "false", line: 18},
		{id: "pkg:docker/docker@27-dind", pinned: "false", line: 20},
		{id: "pkg:docker/postgres@16", pinned: "false", line: 13},
		{id: "url:https://example.com/ci/shared.yml?token=REDACTED", line: 8},
		{id: "gitlab-template:Security/SAST.gitlab-ci.yml", line: 9},
		{id: "pkg:github/./.github/actions/setup", wantNil: true},
	}
	for _, tc := range tests {
		c := rep.Component(tc.id)
		if tc.wantNil {
			if c != nil {
				t.Errorf("%s: unexpected component", tc.id)
			}
			continue
		}
		if c == nil {
			t.Errorf("%s: missing", tc.id)
			continue
		}
		if c.Properties["pinned"] != tc.pinned || c.Locations[0].Line != tc.line {
			t.Errorf("%s: pinned %q line %d, want %q line %d", tc.id, c.Properties["pinned"], c.Locations[0].Line, tc.pinned, tc.line)
		}
	}
	wf := rep.Component("workflow:" + fixtures + "/gh/.github/workflows/ci.yml")
	if wf == nil {
		t.Fatal("no workflow component for ci.yml")
	}
	if len(wf.DependsOn) != 7 || wf.Properties["local-actions"] != "./.github/actions/setup" {
		t.Errorf("ci.yml depends on %q, local %q; want 7 and the local action", wf.DependsOn, wf.Properties["local-actions"])
	}
}

func TestAction(t *testing.T) {
	tests := []struct {
		ref, purl string
		ok        bool
	}{
		{"actions/checkout@v4", "pkg:github/actions/checkout@v4", true},
		{"Actions/Checkout", "pkg:github/actions/checkout", true},
		{"a/b/c/d@x", "pkg:github/a/b@x#c/d", true},
		{"checkout@v4", "", false},
		{"a b/c@v", "", false},
	}
	for _, tc := range tests {
		c, ok := Action(tc.ref, inventory.Location{Path: "w.yml"})
		if ok != tc.ok || c.PURL != tc.purl {
			t.Errorf("Action(%q) = %q, %v; want %q, %v", tc.ref, c.PURL, ok, tc.purl, tc.ok)
		}
	}
}

type sink struct {
	n        int
	findings []inventory.Finding
}

func (s *sink) Component(inventory.Component)         { s.n++ }
func (s *sink) Finding(f inventory.Finding)           { s.n++; s.findings = append(s.findings, f) }
func (s *sink) Scan(context.Context, *inventory.File) {}

func FuzzCI(f *testing.F) {
	var seeds []string
	for _, dir := range []string{fixtures, "../../../testdata/ci"} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yml") {
				seeds = append(seeds, p)
			}
			return nil
		})
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
		f.Add(b, uint8(2))
	}
	names := []string{".github/workflows/w.yml", "action.yml", ".gitlab-ci.yml"}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		name := names[int(which)%len(names)]
		file, err := inventory.NewFile(name, strings.NewReader(string(b)), int64(len(b)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var s sink
		if err := (CI{}).Catalog(context.Background(), file, &s); err != nil {
			t.Fatal(err)
		}
		if s.n == 0 {
			t.Error("no workflow component")
		}
		for _, f := range s.findings {
			if f.Rule == "" || f.Line < 0 || f.Column < 0 || f.Remediation == "" ||
				len(f.Evidence) > containers.MaxEvidence+len("…") {
				t.Errorf("bad finding %+v", f)
			}
		}
	})
}

// BenchmarkCI scans a tree of 500 generated workflows.
func BenchmarkCI(b *testing.B) {
	dir := filepath.Join(b.TempDir(), ".github", "workflows")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 500 {
		var w strings.Builder
		fmt.Fprintf(&w, "name: w%d\non: push\njobs:\n", i)
		for j := range 5 {
			fmt.Fprintf(&w, "  j%d:\n    runs-on: ubuntu-latest\n    container: node:%d\n    steps:\n", j, j)
			for k := range 8 {
				fmt.Fprintf(&w, "      - uses: org%d/action%d@v%d\n      - run: echo %d\n", k, j, i%7, k)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("w%03d.yml", i)), []byte(w.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		rep := scan(b, filepath.Dir(filepath.Dir(dir)))
		if n := len(rep.Components); n < 500 {
			b.Fatalf("%d components", n)
		}
	}
}

// TestRiskManifest runs testdata/ci through both catalogers that report CI
// and Dockerfile findings; each row's rules must be exactly those found.
func TestRiskManifest(t *testing.T) {
	const dir = "../../../testdata/ci"
	rows, err := manifest.Read(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Run(r.Path, func(t *testing.T) {
			rep, err := inventory.Scan(context.Background(), []string{filepath.Join(dir, r.Path)},
				inventory.Options{Catalogers: []inventory.Cataloger{CI{}, containers.Dockerfile{}}})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range r.Check(rep) {
				t.Errorf("%s\n%s", p, manifest.Dump(rep))
			}
			got := map[string]bool{}
			for _, f := range rep.Findings {
				got[f.Rule] = true
				if f.Line == 0 || f.Column == 0 || f.Evidence == "" || f.Remediation == "" {
					t.Errorf("finding lacks a position, evidence or remediation: %+v", f)
				}
			}
			want := map[string]bool{}
			for _, id := range r.Rules {
				want[id] = true
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("rules (-want +got):\n%s\n%s", diff, manifest.Dump(rep))
			}
		})
	}
}
