// Package python catalogs the Python packages a project declares, locks or
// has installed: requirements files, pyproject.toml (PEP 621, Poetry, uv,
// PDM), Pipfile and the poetry, uv, Pipfile, PDM and PEP 751 lockfiles, conda
// environment files, setup.cfg, literal lists in setup.py and installed
// *.dist-info metadata.
//
// Every package is a component whose ID is its purl when one exact version
// is known (pkg:pypi/<name>@<version>, the name PEP 503-normalised) and
// pkg:pypi/<name> otherwise, so the same package found in two manifests
// merges. Nothing is run: setup.py is never executed and manifests are
// parsed as data. A manifest that does not parse is a bom/malformed finding
// and whatever parsed before the error is kept.
package python

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Limits.
const (
	// MaxManifest is the largest manifest or lockfile read, in bytes: the
	// uv.lock of a large monorepo is a few MB. The TOML decoder takes
	// about a second per 2 MB of dense keys, so this also bounds time.
	MaxManifest = 8 << 20
	// MaxPackages bounds the components one file may declare: the largest
	// real lockfiles hold a few thousand.
	MaxPackages = 100_000
	// MaxIncludeDepth bounds -r/-c nesting in requirements files; pip has
	// no limit, real projects nest two or three deep.
	MaxIncludeDepth = 8
	// MaxIncludes bounds the files one requirements file may pull in.
	MaxIncludes = 256
)

// RuleMalformed is reported for a manifest that could not be parsed.
const RuleMalformed = "bom/malformed"

// Cataloger is the "packages/python" cataloger.
type Cataloger struct{}

// Name implements inventory.Cataloger.
func (Cataloger) Name() string { return "packages/python" }

// kind names the manifest formats, by the file name that declares them.
type kind int

const (
	none kind = iota
	requirements
	pyproject
	poetryLock
	uvLock
	pdmLock
	pylock
	pipfile
	pipfileLock
	condaEnv
	setupCfg
	setupPy
	distInfo
)

// kindOf tells the format of a manifest from its name (and for METADATA
// the folder it is in). Manifests have no magic bytes; the name is what
// pip, poetry, uv and conda themselves go by.
func kindOf(p, name string) kind {
	lower := strings.ToLower(name)
	switch name {
	case "pyproject.toml":
		return pyproject
	case "poetry.lock":
		return poetryLock
	case "uv.lock":
		return uvLock
	case "pdm.lock":
		return pdmLock
	case "Pipfile":
		return pipfile
	case "Pipfile.lock":
		return pipfileLock
	case "setup.cfg":
		return setupCfg
	case "setup.py":
		return setupPy
	case "environment.yml", "environment.yaml", "conda.yml", "conda.yaml":
		return condaEnv
	case "METADATA":
		if strings.HasSuffix(path.Dir(strings.ReplaceAll(p, "\\", "/")), ".dist-info") {
			return distInfo
		}
		return none
	}
	switch {
	case name == "pylock.toml" || strings.HasPrefix(name, "pylock.") && strings.HasSuffix(name, ".toml"):
		return pylock
	case strings.HasSuffix(lower, ".txt") && (strings.Contains(lower, "requirements") || strings.HasPrefix(lower, "constraints")):
		return requirements
	case strings.HasSuffix(lower, ".txt") && path.Base(path.Dir(strings.ReplaceAll(p, "\\", "/"))) == "requirements":
		return requirements
	case strings.HasSuffix(lower, ".in") && lower != "manifest.in":
		return requirements
	}
	return none
}

// Wants implements inventory.Cataloger.
func (Cataloger) Wants(f *inventory.File) bool { return kindOf(f.Path, f.Name) != none }

// Catalog implements inventory.Cataloger.
func (Cataloger) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	k := kindOf(f.Path, f.Name)
	if f.Size > MaxManifest {
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: f.Path,
			Evidence: fmt.Sprintf("%d bytes", f.Size),
			Message:  fmt.Sprintf("manifest is larger than %d bytes; its packages were not catalogued", MaxManifest),
		})
		return nil
	}
	data := make([]byte, f.Size)
	if _, err := f.ReadAt(data, 0); err != nil && err != io.EOF {
		return fmt.Errorf("reading %s: %w", f.Path, err)
	}
	e := &emitter{sink: s, path: f.Path, onDisk: f.Depth == 0}
	switch k {
	case requirements:
		e.requirements(ctx, f.Path, data, 0, map[string]bool{}, false)
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
		e.setupPy(ctx, data)
	case distInfo:
		e.distInfo(data)
	}
	return ctx.Err()
}

// An emitter reports the components of one manifest, and its parse errors.
type emitter struct {
	sink   inventory.Sink
	path   string // the file being catalogued
	onDisk bool   // whether neighbouring files may be read
	count  int
	capped bool
}

// malformed reports a parse error at line (0 when unknown).
func (e *emitter) malformed(p string, line int, evidence string, err error) {
	e.sink.Finding(inventory.Finding{
		Rule: RuleMalformed, Severity: inventory.Low, Path: p, Line: line,
		Evidence:    clip(evidence),
		Message:     fmt.Sprintf("manifest could not be parsed (%v); components it declares may be missing from the inventory", err),
		Remediation: "fix the syntax so that package managers and scanners read the same dependencies",
	})
}

// clip shortens evidence to what a report line can hold.
func clip(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// A pkg is what a manifest says of one package.
type pkg struct {
	eco      string // "pypi" or "conda"
	name     string // as written
	version  string // the one exact version, when known
	spec     string // the range, when not pinned
	manifest string // the declaring file
	line     int
	dep      string // inventory.Direct, inventory.Transitive or ""
	props    map[string]string
	sha256   []string // hex SHA-256 of each distribution file the lock allows
	depends  []string
}

// emit reports p as a component. It stops at MaxPackages per file.
func (e *emitter) emit(p pkg) {
	if e.capped {
		return
	}
	if e.count++; e.count > MaxPackages {
		e.capped = true
		e.sink.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: e.path,
			Evidence: fmt.Sprintf("more than %d packages", MaxPackages),
			Message:  "manifest declares more packages than the scan catalogues; the rest were not catalogued",
		})
		return
	}
	e.sink.Component(component(p))
}

// component builds the component of p.
func component(p pkg) inventory.Component {
	name := p.name
	if p.eco == "pypi" {
		name = normalize(name)
	} else {
		name = strings.ToLower(name)
	}
	c := inventory.Component{
		Kind: inventory.KindPackage, Name: name, Dependency: p.dep,
		Locations:  []inventory.Location{{Path: p.manifest, Line: p.line}},
		Properties: map[string]string{"ecosystem": p.eco, "manifest": p.manifest},
		DependsOn:  p.depends,
	}
	for k, v := range p.props {
		if v != "" {
			c.Properties[k] = v
		}
	}
	if p.version != "" {
		c.Version = p.version
		c.PURL = purl(p.eco, name, p.version)
		c.ID = c.PURL
		c.Properties["pinned"] = "true"
	} else {
		c.ID = purl(p.eco, name, "")
		c.Properties["pinned"] = "false"
		if p.spec != "" {
			c.Properties["version-range"] = p.spec
		}
	}
	if len(p.sha256) > 0 {
		// Each is the digest of one file the installer may pick (an sdist
		// or a wheel per platform); all are kept so that a file reported
		// as malicious matches whichever it is.
		for _, h := range p.sha256 {
			c.Digests = append(c.Digests, inventory.Digest{Algorithm: "sha256", Value: h})
		}
		c.Properties["hashes"] = "true"
	}
	return c
}

// purl is the package URL of name at version (none when version is empty).
func purl(eco, name, version string) string {
	return packageurl.NewPackageURL(eco, "", name, version, nil, "").ToString()
}

// pypiID is the component ID of a PyPI package: its purl at version, or
// without a version.
func pypiID(name, version string) string { return purl("pypi", normalize(name), version) }

// redact strips user information (tokens, passwords) from a URL; a string
// that is not a URL with a host is returned as is.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if i, j := strings.Index(s, "://"), strings.LastIndexByte(s, '@'); err != nil && i >= 0 && j > i {
			// Unparseable but credential-shaped: drop what is between.
			return s[:i+3] + s[j+1:]
		}
		return s
	}
	u.User = nil
	return u.String()
}

// defaultIndex reports whether u is PyPI itself, which is not worth a property.
func defaultIndex(u string) bool {
	u = strings.TrimSuffix(strings.ToLower(u), "/")
	return u == "https://pypi.org/simple" || u == "https://pypi.python.org/simple" || u == "https://pypi.org/pypi"
}

// sortedKeys returns m's keys in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sha256s returns the lower-case hex of each distinct "sha256:..." among
// hashes, in order, at most maxHashes of them.
func sha256s(hashes ...string) []string {
	var out []string
	for _, h := range hashes {
		if v, ok := strings.CutPrefix(strings.TrimSpace(h), "sha256:"); ok && isHex(v) {
			if v = strings.ToLower(v); !slices.Contains(out, v) && len(out) < maxHashes {
				out = append(out, v)
			}
		}
	}
	return out
}

// maxHashes bounds the file digests kept per package: a release with
// wheels for every platform and Python version lists a few dozen.
const maxHashes = 256

func isHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
