package hygiene

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/npm"
	"github.com/chainvet/chainvet/internal/catalog/python"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/pkg/hygiene"

func pkg(eco, name, version, loc string, line int, dep string, props ...string) inventory.Component {
	c := inventory.Component{ID: "pkg:" + eco + "/" + name + "@" + version, Kind: inventory.KindPackage, Name: name, Version: version,
		Dependency: dep, Locations: []inventory.Location{{Path: loc, Line: line}},
		Properties: map[string]string{"ecosystem": eco, "manifest": loc, "source": "registry"}}
	for i := 0; i+1 < len(props); i += 2 {
		c.Properties[props[i]] = props[i+1]
	}
	return c
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name  string
		comps []inventory.Component
		want  []string // rule|path|line|evidence
	}{
		{"pinned and hashed", []inventory.Component{
			pkg("pypi", "requests", "2.32.3", "a/requirements.txt", 1, "direct", "pinned", "true", "hashes", "true")}, nil},
		{"unpinned and unhashed", []inventory.Component{
			pkg("pypi", "requests", "", "a/requirements.txt", 2, "direct", "pinned", "false", "version-range", ">=2"),
			pkg("pypi", "numpy", "2.0.0", "a/requirements.txt", 3, "direct", "pinned", "true"),
			pkg("pypi", "rich", "13.0.0", "a/requirements.txt", 1, "direct", "pinned", "true")},
			[]string{"package/unhashed|a/requirements.txt|1|numpy==2.0.0, rich==13.0.0", "package/unpinned|a/requirements.txt|2|requests >=2"}},
		{"no lockfile", []inventory.Component{
			pkg("pypi", "requests", "", "a/pyproject.toml", 7, "direct", "pinned", "false"),
			pkg("pypi", "rich", "", "a/pyproject.toml", 7, "direct", "pinned", "false")},
			[]string{"package/no-lockfile|a/pyproject.toml|7|requests, rich"}},
		{"build requirements need no lockfile", []inventory.Component{
			pkg("pypi", "setuptools", "", "a/pyproject.toml", 2, "direct", "pinned", "false", "version-range", ">=68", "group", "build-system")}, nil},
		{"lock of the other ecosystem does not count", []inventory.Component{
			pkg("npm", "express", "", "a/package.json", 3, "direct", "pinned", "false", "version-range", "^4"),
			pkg("pypi", "express", "1.0", "a/uv.lock", 3, "")},
			[]string{"package/no-lockfile|a/package.json|3|express"}},
		{"out of sync", []inventory.Component{
			pkg("pypi", "requests", "", "a/pyproject.toml", 7, "direct", "pinned", "false"),
			pkg("pypi", "rich", "", "a/pyproject.toml", 7, "direct", "pinned", "false"),
			pkg("pypi", "requests", "2.32.3", "a/uv.lock", 4, "", "pinned", "true", "hashes", "true")},
			[]string{"package/lock-out-of-sync|a/pyproject.toml|7|rich declared but not in the lockfile beside pyproject.toml"}},
		{"locked version outside the declared range", []inventory.Component{
			pkg("pypi", "rich", "", "a/pyproject.toml", 7, "direct", "pinned", "false", "version-range", ">=13"),
			pkg("pypi", "rich", "12.6.0", "a/uv.lock", 4, "", "pinned", "true", "hashes", "true"),
			pkg("npm", "lodash", "", "b/package.json", 3, "direct", "pinned", "false", "version-range", "^4.17.21"),
			pkg("npm", "lodash", "3.10.1", "b/package-lock.json", 9, ""),
			pkg("npm", "express", "", "b/package.json", 4, "direct", "pinned", "false", "version-range", "^4.18.0"),
			pkg("npm", "express", "4.19.2", "b/package-lock.json", 12, "")},
			[]string{
				"package/lock-out-of-sync|a/pyproject.toml|7|rich >=13 declared; the lockfile beside pyproject.toml has 12.6.0",
				"package/lock-out-of-sync|b/package.json|3|lodash ^4.17.21 declared; the lockfile beside package.json has 3.10.1",
			}},
		{"floating npm", []inventory.Component{
			pkg("npm", "left-pad", "", "a/package.json", 5, "direct", "pinned", "false", "version-range", "*"),
			pkg("npm", "lodash", "", "a/package.json", 6, "direct", "pinned", "false", "version-range", "^4.17.21"),
			pkg("npm", "left-pad", "1.3.0", "a/package-lock.json", 9, ""),
			pkg("npm", "lodash", "4.17.21", "a/package-lock.json", 12, "")},
			[]string{"package/floating-range|a/package.json|5|left-pad@*"}},
		{"vcs source", []inventory.Component{
			pkg("pypi", "acme", "", "a/requirements.txt", 1, "direct", "pinned", "false", "source", "vcs", "url", "git+https://x.example/a")},
			[]string{"package/direct-source|a/requirements.txt|1|medium|acme from vcs git+https://x.example/a"}},
		{"vcs pinned to a commit is low", []inventory.Component{
			pkg("npm", "tiny", "", "a/package.json", 1, "", "pinned", "false", "source", "vcs", "url", "git+https://x.example/a.git#5a4d3e2a1f0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d")},
			[]string{"package/direct-source|a/package.json|1|low|tiny from vcs git+https://x.example/a.git#5a4d3e2a1f0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d"}},
		{"local path is low", []inventory.Component{
			pkg("pypi", "lib", "", "a/requirements.txt", 4, "", "pinned", "false", "source", "path")},
			[]string{"package/direct-source|a/requirements.txt|4|low|lib from path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := Analyzer{}.Analyze(context.Background(), &inventory.Report{Components: tt.comps})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				line := f.Rule + "|" + f.Path + "|" + strconv.Itoa(f.Line) + "|" + f.Evidence
				if f.Rule == "package/direct-source" {
					line = f.Rule + "|" + f.Path + "|" + strconv.Itoa(f.Line) + "|" + f.Severity.String() + "|" + f.Evidence
				}
				got = append(got, line)
				if f.Message == "" || f.Remediation == "" {
					t.Errorf("finding without message or fix: %+v", f)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}

// TestManifest runs the Python and npm catalogers and the analyzer over the
// fixtures and checks each file's findings against MANIFEST.tsv.
func TestManifest(t *testing.T) {
	r, err := inventory.Scan(context.Background(), []string{fixtures}, inventory.Options{
		Catalogers: []inventory.Cataloger{python.Cataloger{}, npm.NPM{}},
		Analyzers:  []inventory.Analyzer{Analyzer{}}, Workers: 1, MaxDepth: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string][]inventory.Finding{}
	for _, f := range r.Findings {
		rel, err := filepath.Rel(fixtures, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		byPath[filepath.ToSlash(rel)] = append(byPath[filepath.ToSlash(rel)], f)
	}
	mf, err := os.Open(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	sc := bufio.NewScanner(mf)
	sc.Scan() // header
	rows := 0
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) != 7 {
			t.Fatalf("manifest row has %d columns: %q", len(col), sc.Text())
		}
		rows++
		// A row names a file, or a folder and everything in it.
		var fs []inventory.Finding
		for p, pf := range byPath {
			if p == col[0] || strings.HasPrefix(p, col[0]+"/") {
				fs = append(fs, pf...)
			}
		}
		worst := inventory.Info
		seen := map[string]bool{}
		evidence := false
		for _, f := range fs {
			worst = max(worst, f.Severity)
			seen[f.Rule] = true
			if col[5] != "" && strings.Contains(f.Evidence, col[5]) {
				evidence = true
			}
		}
		var lo, hi inventory.Severity
		if lo.UnmarshalText([]byte(col[2])) != nil || hi.UnmarshalText([]byte(col[3])) != nil {
			t.Fatalf("bad severities in %q", sc.Text())
		}
		if worst < lo || worst > hi {
			t.Errorf("%s: worst severity %v, want %s..%s (findings %+v)", col[0], worst, col[2], col[3], fs)
		}
		for _, rule := range strings.Fields(strings.ReplaceAll(col[4], ",", " ")) {
			if !seen[rule] {
				t.Errorf("%s: no %s finding; got %+v", col[0], rule, fs)
			}
		}
		if col[5] != "" && !evidence {
			t.Errorf("%s: no finding with evidence %q; got %+v", col[0], col[5], fs)
		}
	}
	if rows == 0 {
		t.Fatal("empty manifest")
	}
}

// BenchmarkAnalyze measures a 5,000-package report: 50 projects, each a
// pyproject.toml with 50 direct dependencies and a uv.lock missing some.
func BenchmarkAnalyze(b *testing.B) {
	var comps []inventory.Component
	for p := range 50 {
		dir := fmt.Sprintf("p%d", p)
		for i := range 50 {
			n := fmt.Sprintf("pkg%d", i)
			comps = append(comps, pkg("pypi", n, "", dir+"/pyproject.toml", i+1, "direct", "pinned", "false"))
			if i%5 != 0 {
				comps = append(comps, pkg("pypi", n, "1.0", dir+"/uv.lock", i+1, "", "pinned", "true", "hashes", "true"))
			}
		}
	}
	r := &inventory.Report{Components: comps[:min(len(comps), 5000)]}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Analyzer{}).Analyze(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}
