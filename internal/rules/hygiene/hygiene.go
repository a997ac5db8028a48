// Package hygiene checks how a project's dependencies are declared and
// locked: manifests without a lockfile, lockfiles that miss what their
// manifest declares, requirements without exact pins or hashes, packages
// from VCS, URLs or paths, and npm ranges that accept any version.
//
// These are not attacks but the conditions that let one through unseen: an
// unlocked install takes whatever the index serves that day. Findings are
// low or medium so that they inform without drowning real attacks.
package hygiene

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/advisory/version"
	"github.com/chainvet/chainvet/internal/inventory"
)

// lockfiles maps a lockfile's base name to the ecosystem it locks.
var lockfiles = map[string]string{
	"poetry.lock": "pypi", "uv.lock": "pypi", "pdm.lock": "pypi", "pipfile.lock": "pypi", "pylock.toml": "pypi",
	"package-lock.json": "npm", "npm-shrinkwrap.json": "npm", "yarn.lock": "npm", "pnpm-lock.yaml": "npm", "bun.lock": "npm",
}

// manifests are the base names of files that declare dependencies for a
// lockfile to pin.
var manifests = map[string]bool{"pyproject.toml": true, "pipfile": true, "package.json": true}

// lockHint names the command that writes a lockfile for a manifest.
var lockHint = map[string]string{
	"pyproject.toml": "run `uv lock`, `poetry lock` or `pdm lock` and commit the lockfile",
	"pipfile":        "run `pipenv lock` and commit Pipfile.lock",
	"package.json":   "run `npm install --package-lock-only` (or yarn/pnpm) and commit the lockfile",
}

// Analyzer is the lockfile-hygiene analyzer.
type Analyzer struct{}

// Name implements inventory.Analyzer.
func (Analyzer) Name() string { return "rules/hygiene" }

type key struct{ dir, eco string }

// Analyze implements inventory.Analyzer.
func (Analyzer) Analyze(ctx context.Context, r *inventory.Report) ([]inventory.Finding, error) {
	// First pass: which directories hold a lockfile, and what it locks.
	locked := map[key]map[string]bool{}
	lockedVersions := map[key]map[string][]string{}
	for _, c := range r.Components {
		if c.Kind != inventory.KindPackage {
			continue
		}
		for _, l := range c.Locations {
			if eco, ok := lockfiles[strings.ToLower(path.Base(l.Path))]; ok {
				k := key{path.Dir(l.Path), eco}
				if locked[k] == nil {
					locked[k] = map[string]bool{}
				}
				locked[k][strings.ToLower(c.Name)] = true
				if c.Version != "" {
					if lockedVersions[k] == nil {
						lockedVersions[k] = map[string][]string{}
					}
					n := strings.ToLower(c.Name)
					lockedVersions[k][n] = append(lockedVersions[k][n], c.Version)
				}
			}
		}
	}
	var out []inventory.Finding
	unlocked := map[string]*inventory.Finding{}
	unhashed := map[string]*inventory.Finding{}
	for i, c := range r.Components {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The project's own package (npm's root "main" entry) is not a
		// dependency of itself.
		if c.Kind != inventory.KindPackage || c.Properties["main"] == "true" {
			continue
		}
		eco := c.Properties["ecosystem"]
		if src := c.Properties["source"]; src == "vcs" || src == "url" || src == "path" || src == "editable" {
			out = append(out, directSource(c, src))
		}
		for _, l := range c.Locations {
			base := strings.ToLower(path.Base(l.Path))
			switch {
			case isRequirements(base):
				if c.Properties["source"] != "registry" && c.Properties["source"] != "" {
					continue
				}
				if c.Properties["pinned"] != "true" {
					rng := c.Properties["version-range"]
					if rng == "" {
						rng = "any version"
					}
					out = append(out, inventory.Finding{
						Rule: "package/unpinned", Severity: inventory.Low, Component: c.ID, Path: l.Path, Line: l.Line,
						Evidence:    c.Name + " " + rng,
						Message:     fmt.Sprintf("%s is not pinned to one version (%s): each install may get a different release, including a malicious one published later", c.Name, rng),
						Remediation: fmt.Sprintf("pin `%s==<version>`, e.g. generated with `pip-compile --generate-hashes` or `uv pip compile --generate-hashes`", c.Name),
					})
				} else if c.Properties["hashes"] != "true" {
					f := unhashed[l.Path]
					if f == nil {
						f = &inventory.Finding{
							Rule: "package/unhashed", Severity: inventory.Low, Path: l.Path, Line: l.Line,
							Remediation: "add `--hash=sha256:…` to every pin (`pip-compile --generate-hashes` or `uv pip compile --generate-hashes`) so pip runs in hash-checking mode and rejects a replaced file",
						}
						unhashed[l.Path] = f
					}
					f.Evidence = appendName(f.Evidence, c.Name+"=="+c.Version)
					if l.Line > 0 && (f.Line == 0 || l.Line < f.Line) {
						f.Line = l.Line
					}
				}
			case manifests[base] && c.Dependency == inventory.Direct && c.Properties["group"] != "build-system":
				// Build requirements are installed by the build frontend
				// in an isolated environment; no Python lockfile pins them.
				if eco == "npm" && base == "package.json" && floating(c.Properties["version-range"], c.Properties["pinned"]) {
					out = append(out, floatingFinding(c, l))
				}
				lk := locked[key{path.Dir(l.Path), eco}]
				if lk == nil && lockOnDisk(path.Dir(l.Path), eco) {
					continue // a lockfile is there but was not scanned: nothing to compare
				}
				if lk == nil {
					f := unlocked[l.Path]
					if f == nil {
						f = &inventory.Finding{
							Rule: "package/no-lockfile", Severity: inventory.Medium, Path: l.Path, Line: l.Line,
							Remediation: lockHint[base],
						}
						unlocked[l.Path] = f
					}
					f.Evidence = appendName(f.Evidence, c.Name)
					continue
				}
				if vs := lockedVersions[key{path.Dir(l.Path), eco}][strings.ToLower(c.Name)]; len(vs) > 0 {
					if rng := c.Properties["version-range"]; rng != "" && !anySatisfies(eco, rng, vs) {
						out = append(out, inventory.Finding{
							Rule: "package/lock-out-of-sync", Severity: inventory.Medium, Component: c.ID, Path: l.Path, Line: l.Line,
							Evidence:    fmt.Sprintf("%s %s declared; the lockfile beside %s has %s", c.Name, rng, path.Base(l.Path), strings.Join(vs, ", ")),
							Message:     fmt.Sprintf("the version of %s locked beside %s is outside the range it declares: the lockfile was not regenerated after the manifest changed", c.Name, l.Path),
							Remediation: "regenerate the lockfile from the manifest (`uv lock`, `poetry lock`, `npm install`) and commit both together; check in CI with `uv lock --check`, `poetry check --lock` or `npm ci`",
						})
					}
				}
				if !lk[strings.ToLower(c.Name)] {
					out = append(out, inventory.Finding{
						Rule: "package/lock-out-of-sync", Severity: inventory.Medium, Component: c.ID, Path: l.Path, Line: l.Line,
						Evidence:    c.Name + " declared but not in the lockfile beside " + path.Base(l.Path),
						Message:     fmt.Sprintf("%s is declared in %s but missing from its lockfile: the next install resolves it afresh, unpinned and unverified", c.Name, l.Path),
						Remediation: "regenerate the lockfile from the manifest (`uv lock`, `poetry lock`, `npm install`) and commit both together; check in CI with `uv lock --check`, `poetry check --lock` or `npm ci`",
					})
				}
			case base == "package.json" && eco == "npm" && c.Dependency != "" && floating(c.Properties["version-range"], c.Properties["pinned"]):
				out = append(out, floatingFinding(c, l))
			}
		}
	}
	for _, m := range [](map[string]*inventory.Finding){unlocked, unhashed} {
		for _, f := range m {
			n := strings.Count(f.Evidence, ",") + 1
			if f.Rule == "package/no-lockfile" {
				f.Message = fmt.Sprintf("%s declares %d direct dependencies and has no lockfile beside it: every install resolves versions afresh, so builds differ and a newly published malicious release is taken silently", f.Path, n)
			} else {
				f.Message = fmt.Sprintf("%d exact pins in %s carry no --hash: pip checks nothing about the files it downloads, so a replaced or re-uploaded file goes unnoticed", n, f.Path)
			}
			out = append(out, *f)
		}
	}
	slices.SortFunc(out, func(a, b inventory.Finding) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line),
			strings.Compare(a.Rule, b.Rule), strings.Compare(a.Evidence, b.Evidence))
	})
	return out, nil
}

// maxEvidenceNames bounds the names listed in one aggregated finding.
const maxEvidenceNames = 20

func appendName(ev, name string) string {
	if ev == "" {
		return name
	}
	if strings.Count(ev, ",") >= maxEvidenceNames {
		if !strings.HasSuffix(ev, ", …") {
			return ev + ", …"
		}
		return ev
	}
	return ev + ", " + name
}

// isRequirements reports whether base names a pip requirements file.
func isRequirements(base string) bool {
	return strings.HasPrefix(base, "requirements") && (strings.HasSuffix(base, ".txt") || strings.HasSuffix(base, ".in"))
}

// floating reports whether an npm range accepts any version at all.
func floating(rng, pinned string) bool {
	if pinned == "true" {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(rng)) {
	case "", "*", "x", "x.x", "x.x.x", "latest", ">=0", ">=0.0.0", "next":
		return true
	}
	return false
}

func floatingFinding(c inventory.Component, l inventory.Location) inventory.Finding {
	rng := c.Properties["version-range"]
	if rng == "" {
		rng = `""`
	}
	return inventory.Finding{
		Rule: "package/floating-range", Severity: inventory.Medium, Component: c.ID, Path: l.Path, Line: l.Line,
		Evidence:    c.Name + "@" + rng,
		Message:     fmt.Sprintf("%s accepts any version (%s): whatever is published next, by anyone holding the name, is installed", c.Name, rng),
		Remediation: fmt.Sprintf("declare a bounded range such as `\"%s\": \"^<current major>.<minor>.<patch>\"` and commit the lockfile", c.Name),
	}
}

// first returns c's first location, or its manifest.
func first(c inventory.Component) inventory.Location {
	if len(c.Locations) > 0 {
		return c.Locations[0]
	}
	return inventory.Location{Path: c.Properties["manifest"]}
}

// directSource is the finding of a package installed from outside an index.
// A reference that names immutable content (a full commit hash, an archive
// digest) or a path inside the project is low: reproducible, only outside
// the index's safety net. A branch, tag or bare URL is medium: its content
// can change under the same reference.
func directSource(c inventory.Component, src string) inventory.Finding {
	l := first(c)
	u := c.Properties["url"]
	sev, why := inventory.Medium, "unless pinned to a commit or digest its content can change under the same reference"
	switch {
	case src == "path" || src == "editable" && u == "":
		sev, why = inventory.Low, "it builds from a local path, so it exists only in this checkout"
	case immutable(c.Properties["revision"]) || immutableRef(u):
		sev, why = inventory.Low, "it is pinned to immutable content, which keeps it reproducible"
	}
	return inventory.Finding{
		Rule: "package/direct-source", Severity: sev, Component: c.ID, Path: l.Path, Line: l.Line,
		Evidence: strings.TrimSpace(c.Name + " from " + src + " " + u),
		Message:  fmt.Sprintf("%s is installed from a %s reference, not a package index: no index-side version history, yanking or malware takedown applies; %s", c.Name, src, why),
		Remediation: "publish the package to an index you control and depend on it by name and exact version; " +
			"if it must stay a VCS or URL dependency, pin the full commit hash (`@<40-hex>`) or the archive's `#sha256=`",
	}
}

// immutable reports whether rev is a full git commit hash (SHA-1 or SHA-256).
func immutable(rev string) bool {
	if len(rev) != 40 && len(rev) != 64 {
		return false
	}
	for _, r := range rev {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// immutableRef reports whether a VCS or archive URL ends in a full commit
// hash (after @ or #) or carries an archive digest.
func immutableRef(u string) bool {
	if strings.Contains(u, "sha256=") || strings.Contains(u, "sha256:") {
		return true
	}
	u, _, _ = strings.Cut(u, "&")
	if i := strings.LastIndexAny(u, "@#"); i >= 0 {
		ref := u[i+1:]
		if j := strings.IndexByte(ref, '#'); j >= 0 {
			ref = ref[:j]
		}
		return immutable(ref)
	}
	return false
}

// lockNames are the lockfiles of each ecosystem.
var lockNames = map[string][]string{
	"pypi": {"poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock", "pylock.toml"},
	"npm":  {"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"},
}

// lockOnDisk reports whether dir, a folder on disk, holds a lockfile of the
// ecosystem: when a manifest is scanned alone, its lockfile is not in the
// report, and its absence must not be inferred from that.
func lockOnDisk(dir, eco string) bool {
	if strings.Contains(dir, "!") {
		return false
	}
	for _, n := range lockNames[eco] {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// anySatisfies reports whether one of the locked versions is inside the
// declared range. A range or version this cannot read (Poetry's ^, say)
// counts as satisfied: only a provable mismatch is reported.
func anySatisfies(eco, rng string, versions []string) bool {
	switch eco {
	case "pypi":
		set, err := version.ParseSpecifierSet(rng)
		if err != nil {
			return true
		}
		for _, v := range versions {
			pv, err := version.ParsePEP440(v)
			if err != nil || set.Contains(pv, true) {
				return true
			}
		}
		return false
	case "npm":
		nr, err := version.ParseNpmRange(rng)
		if err != nil {
			return true
		}
		for _, v := range versions {
			sv, err := version.ParseSemver(v)
			if err != nil || nr.Contains(sv, true) {
				return true
			}
		}
		return false
	}
	return true
}
