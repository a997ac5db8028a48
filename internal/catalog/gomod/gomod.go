// Package gomod catalogues the modules a Go project requires: go.mod
// (through golang.org/x/mod/modfile, the parser the go command uses) and
// go.sum.
//
// Every module is a component with ID pkg:golang/<module>@<version>; Go
// versions are exact, so every one is pinned. go.mod says which modules
// the main module imports itself (direct) and which only its dependencies
// need (// indirect, transitive); replace directives become the property
// replaced-by. The main module is a component too (property main=true,
// ID without a version) carrying the go and toolchain lines and the
// exclusions, and it depends on the direct requirements.
//
// go.sum's h1: hashes are not digests of any file a scanner could check
// (they hash a sorted list of the module's file hashes, see
// golang.org/x/mod/sumdb/dirhash), so they are recorded as written in the
// property go-sum rather than as Digests.
package gomod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/package-url/packageurl-go"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// MaxFileBytes bounds the size of a go.mod or go.sum read whole. The
// go.sum of a large program is a few megabytes; 16 MiB leaves room while
// keeping a hostile file from taking the machine's memory.
const MaxFileBytes = 16 << 20

// MaxModules bounds the modules read from one go.sum: big programs have
// a few thousand lines, and a file with more is cut short with a
// scan/limit finding.
const MaxModules = 100_000

// RuleMalformed is reported when a go.mod or go.sum cannot be parsed.
const RuleMalformed = "bom/malformed"

// Go is the cataloger of go.mod and go.sum files.
type Go struct{}

// Name implements inventory.Cataloger.
func (Go) Name() string { return "packages/go" }

// Wants implements inventory.Cataloger: the go command finds these files
// by name only, and so does the cataloger.
func (Go) Wants(f *inventory.File) bool {
	return f.Name == "go.mod" || f.Name == "go.sum"
}

// Catalog implements inventory.Cataloger.
func (Go) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	if f.Size > MaxFileBytes {
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: f.Path,
			Evidence: fmt.Sprintf("%d bytes > %d", f.Size, MaxFileBytes),
			Message:  "the file is larger than the Go cataloger reads; its modules are not in the inventory",
		})
		return nil
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size))
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	var comps []inventory.Component
	if f.Name == "go.mod" {
		comps, err = ParseMod(f.Path, data)
	} else {
		comps, err = ParseSum(ctx, f.Path, data)
	}
	for _, c := range comps {
		s.Component(c)
	}
	switch {
	case errors.Is(err, errLimit):
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: f.Path, Evidence: err.Error(),
			Message: "a limit cut the reading of go.sum short; modules after it are not in the inventory",
		})
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		fd := inventory.Finding{
			Rule: RuleMalformed, Severity: inventory.Low, Path: f.Path, Evidence: err.Error(),
			Message:     "a manifest could not be parsed; components it declares may be missing from the inventory",
			Remediation: "Run go mod tidy to rewrite the file, or fix it by hand.",
		}
		var le *lineError
		var ml modfile.ErrorList
		if errors.As(err, &le) {
			fd.Line = le.line
		} else if errors.As(err, &ml) && len(ml) > 0 {
			fd.Line = ml[0].Pos.Line
		}
		s.Finding(fd)
	}
	return nil
}

var errLimit = errors.New("limit")

// A lineError is a parse error at a known line.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// PURL returns the package URL of a Go module; version may be empty.
func PURL(path, version string) string {
	ns, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		ns, name = path[:i], path[i+1:]
	}
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, version, nil, "").ToString()
}

func component(path, version, manifest string, line int) inventory.Component {
	id := PURL(path, version)
	return inventory.Component{
		ID: id, PURL: id, Kind: inventory.KindPackage, Name: path, Version: version,
		Locations: []inventory.Location{{Path: manifest, Line: line}},
		Properties: map[string]string{
			"ecosystem": "golang", "pinned": "true", "source": "registry", "manifest": manifest,
		},
	}
}

// ParseMod returns the main module and the modules a go.mod requires,
// main module first. manifest is the path recorded in the components.
func ParseMod(manifest string, data []byte) ([]inventory.Component, error) {
	mf, err := modfile.Parse(manifest, data, nil)
	if err != nil {
		return nil, err
	}
	// replaced maps module@version, and module alone for a replace of
	// every version, to what replaces it.
	replaced := make(map[string]module.Version)
	for _, r := range mf.Replace {
		k := r.Old.Path
		if r.Old.Version != "" {
			k += "@" + r.Old.Version
		}
		replaced[k] = r.New
	}
	var main inventory.Component
	if mf.Module != nil {
		main = component(mf.Module.Mod.Path, "", manifest, mf.Module.Syntax.Start.Line)
		delete(main.Properties, "pinned")
		delete(main.Properties, "source")
		main.Properties["main"] = "true"
	} else {
		return nil, &lineError{1, "no module directive"}
	}
	if mf.Go != nil {
		main.Properties["go"] = mf.Go.Version
	}
	if mf.Toolchain != nil {
		main.Properties["toolchain"] = mf.Toolchain.Name
	}
	var excl []string
	for _, e := range mf.Exclude {
		excl = append(excl, e.Mod.Path+"@"+e.Mod.Version)
	}
	if len(excl) > 0 {
		sort.Strings(excl)
		main.Properties["excludes"] = strings.Join(excl, ",")
	}
	comps := []inventory.Component{main}
	for _, r := range mf.Require {
		c := component(r.Mod.Path, r.Mod.Version, manifest, r.Syntax.Start.Line)
		if r.Indirect {
			c.Dependency = inventory.Transitive
		} else {
			c.Dependency = inventory.Direct
			comps[0].DependsOn = append(comps[0].DependsOn, c.ID)
		}
		nv, ok := replaced[r.Mod.Path+"@"+r.Mod.Version]
		if !ok {
			nv, ok = replaced[r.Mod.Path]
		}
		if ok {
			if nv.Version == "" {
				// A replacement without a version is a directory.
				c.Properties["replaced-by"] = nv.Path
				c.Properties["source"] = "path"
				c.Properties["pinned"] = "false"
			} else {
				c.Properties["replaced-by"] = nv.Path + "@" + nv.Version
			}
		}
		comps = append(comps, c)
	}
	return comps, nil
}

// ParseSum returns a component for each module whose content go.sum
// records a hash of; lines for a go.mod file alone name modules whose
// requirements were read, not modules the build uses, and are checked
// but not listed. It reads every line and reports the first bad one.
func ParseSum(ctx context.Context, manifest string, data []byte) ([]inventory.Component, error) {
	var comps []inventory.Component
	var bad error
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		if n&0xfff == 0 && ctx.Err() != nil {
			return comps, ctx.Err()
		}
		f := strings.Fields(string(line))
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || !strings.Contains(f[2], ":") {
			if bad == nil {
				bad = &lineError{n, fmt.Sprintf("want module, version and hash, got %q", truncate(string(line)))}
			}
			continue
		}
		ver, gomodOnly := strings.CutSuffix(f[1], "/go.mod")
		if err := module.Check(f[0], ver); err != nil {
			if bad == nil {
				bad = &lineError{n, err.Error()}
			}
			continue
		}
		if gomodOnly {
			continue
		}
		if len(comps) >= MaxModules {
			return comps, fmt.Errorf("more than %d modules: %w", MaxModules, errLimit)
		}
		c := component(f[0], ver, manifest, n)
		c.Properties["go-sum"] = f[2]
		c.Properties["hashes"] = "true"
		comps = append(comps, c)
	}
	return comps, bad
}

// truncate keeps evidence from a hostile line short.
func truncate(s string) string {
	const max = 120
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
