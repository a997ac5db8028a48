package python

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// collect is a Sink that keeps what it is told.
type collect struct {
	components []inventory.Component
	findings   []inventory.Finding
}

func (c *collect) Component(x inventory.Component)       { c.components = append(c.components, x) }
func (c *collect) Finding(x inventory.Finding)           { c.findings = append(c.findings, x) }
func (c *collect) Scan(context.Context, *inventory.File) {}

// run catalogs data as the format k, with no neighbours on disk.
func run(k kind, data []byte) *collect {
	c := &collect{}
	e := &emitter{sink: c, path: "fuzz"}
	switch k {
	case requirements:
		e.requirements(context.Background(), "fuzz", data, 0, map[string]bool{}, false)
	case pyproject:
		e.pyproject(data)
	case poetryLock:
		e.poetryLock(data)
	case uvLock:
		e.uvLock(data)
	case pdmLock:
		e.pdmLock(data)
	case pylock:
		e.pylock(data)
	case pipfile:
		e.pipfile(data)
	case pipfileLock:
		e.pipfileLock(data)
	case condaEnv:
		e.conda(data)
	case setupCfg:
		e.setupCfg(data)
	case setupPy:
		e.setupPy(context.Background(), data)
	case distInfo:
		e.distInfo(data)
	}
	return c
}

// check holds fuzz output to what every component must be.
func check(t *testing.T, c *collect) {
	t.Helper()
	for _, x := range c.components {
		if !strings.HasPrefix(x.ID, "pkg:pypi/") && !strings.HasPrefix(x.ID, "pkg:conda/") {
			t.Fatalf("component ID %q is not a purl", x.ID)
		}
		if x.Properties["pinned"] == "true" && x.Version == "" {
			t.Fatalf("component %q pinned without a version", x.ID)
		}
	}
	for _, f := range c.findings {
		if f.Rule != RuleMalformed && f.Rule != inventory.RuleScanLimit {
			t.Fatalf("unexpected rule %q", f.Rule)
		}
	}
}

// seed adds every fixture file of format k to the corpus.
func seed(f *testing.F, k kind) {
	filepath.WalkDir(fixtures, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && kindOf(filepath.ToSlash(p), d.Name()) == k {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
}

func fuzzFormat(f *testing.F, k kind) {
	seed(f, k)
	f.Fuzz(func(t *testing.T, data []byte) { check(t, run(k, data)) })
}

func FuzzRequirements(f *testing.F) {
	f.Add([]byte("a==1 \\\n --hash=sha256:00\n-e ./x#egg=y\n-i https://u:p@h/s\nb @ git+https://h/b@v1 ; os_name=='nt'\n"))
	fuzzFormat(f, requirements)
}
func FuzzPyproject(f *testing.F)   { fuzzFormat(f, pyproject) }
func FuzzPoetryLock(f *testing.F)  { fuzzFormat(f, poetryLock) }
func FuzzUVLock(f *testing.F)      { fuzzFormat(f, uvLock) }
func FuzzPDMLock(f *testing.F)     { fuzzFormat(f, pdmLock) }
func FuzzPylock(f *testing.F)      { fuzzFormat(f, pylock) }
func FuzzPipfile(f *testing.F)     { fuzzFormat(f, pipfile) }
func FuzzPipfileLock(f *testing.F) { fuzzFormat(f, pipfileLock) }
func FuzzConda(f *testing.F)       { fuzzFormat(f, condaEnv) }
func FuzzSetupCfg(f *testing.F)    { fuzzFormat(f, setupCfg) }
func FuzzSetupPy(f *testing.F)     { fuzzFormat(f, setupPy) }
func FuzzMetadata(f *testing.F)    { fuzzFormat(f, distInfo) }
