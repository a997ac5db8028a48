package python

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pep"
)

// A locked package, read from any of the lockfile formats.
type locked struct {
	name, version string
	line          int
	deps          []string // names, as written
	hashes        []string // "sha256:..." forms
	source, url   string
	revision      string
	index         string
	markers       string
	root          bool // the project itself (uv's editable or virtual ".")
}

// emitLocked reports the packages of a lockfile with their edges. A
// package is direct when the project manifest beside the lockfile (or the
// lockfile's own root entry) declares it, else transitive; with neither,
// Dependency is left unknown.
func (e *emitter) emitLocked(pkgs []locked) {
	versions := map[string]string{}
	rootDeps := map[string]bool{}
	haveRoot := false
	for _, p := range pkgs {
		versions[normalize(p.name)] = p.version
		if p.root {
			haveRoot = true
			for _, d := range p.deps {
				rootDeps[normalize(d)] = true
			}
		}
	}
	direct, known := e.directNames()
	if !known && haveRoot {
		direct, known = rootDeps, true
	}
	for _, p := range pkgs {
		if p.root {
			continue
		}
		k := pkg{eco: "pypi", name: p.name, manifest: e.path, line: p.line,
			props: map[string]string{"source": p.source, "url": p.url, "revision": p.revision, "markers": p.markers}}
		if v := strings.TrimSpace(p.version); v != "" {
			k.version = v
		}
		if p.index != "" && !defaultIndex(p.index) {
			k.props["index"] = redact(p.index)
		}
		if len(p.hashes) > 0 {
			k.props["hashes"] = "true"
			k.sha256 = sha256s(p.hashes...)
		}
		if known {
			k.dep = inventory.Transitive
			if direct[normalize(p.name)] {
				k.dep = inventory.Direct
			}
		}
		seen := map[string]bool{}
		for _, d := range p.deps {
			n := normalize(d)
			if seen[n] {
				continue
			}
			seen[n] = true
			// Edges name the locked version when the lockfile has it.
			if v, ok := versions[n]; ok {
				k.depends = append(k.depends, pypiID(n, v))
			} else {
				k.depends = append(k.depends, pypiID(n, ""))
			}
		}
		e.emit(k)
	}
}

// poetryLock reads poetry.lock: [[package]] with name, version,
// [package.dependencies], files (hashes) and [package.source].
func (e *emitter) poetryLock(data []byte) {
	doc, ok := e.decodeTOML(data)
	if !ok {
		return
	}
	lines := newLineIndex(data).headers("package")
	var pkgs []locked
	for i, t := range tables(doc["package"]) {
		p := locked{name: str(t, "name"), version: str(t, "version"), line: at(lines, i), source: "registry"}
		if !e.lockedName(p) {
			continue
		}
		p.deps = sortedKeys(table(t, "dependencies"))
		for _, f := range tables(t["files"]) {
			p.hashes = append(p.hashes, str(f, "hash"))
		}
		if src := table(t, "source"); src != nil {
			switch str(src, "type") {
			case "git":
				p.source, p.url, p.revision = "vcs", redact(str(src, "url")), firstNonEmpty(str(src, "resolved_reference"), str(src, "reference"))
			case "directory", "file":
				p.source, p.url = "path", str(src, "url")
			case "url":
				p.source, p.url = "url", redact(str(src, "url"))
			case "legacy":
				p.index = str(src, "url")
			}
		}
		pkgs = append(pkgs, p)
	}
	e.emitLocked(pkgs)
}

// lockedName reports whether a locked entry has a usable name, reporting
// it as malformed if not.
func (e *emitter) lockedName(p locked) bool {
	if pep.ValidName(p.name) {
		return true
	}
	e.malformed(e.path, p.line, p.name, fmt.Errorf("package entry without a valid name"))
	return false
}

// uvLock reads uv.lock: [[package]] with name, version, source,
// dependencies (tables with a name), sdist and wheels (hashes).
func (e *emitter) uvLock(data []byte) {
	doc, ok := e.decodeTOML(data)
	if !ok {
		return
	}
	lines := newLineIndex(data).headers("package")
	var pkgs []locked
	for i, t := range tables(doc["package"]) {
		p := locked{name: str(t, "name"), version: str(t, "version"), line: at(lines, i), source: "registry"}
		if !e.lockedName(p) {
			continue
		}
		for _, d := range tables(t["dependencies"]) {
			p.deps = append(p.deps, str(d, "name"))
		}
		// The project's own dev and optional groups are direct too.
		if p.root = isRootSource(table(t, "source")); p.root {
			for _, g := range []map[string]any{table(t, "dev-dependencies"), table(t, "optional-dependencies")} {
				for _, name := range sortedKeys(g) {
					for _, d := range tables(g[name]) {
						p.deps = append(p.deps, str(d, "name"))
					}
				}
			}
		}
		if sd := table(t, "sdist"); sd != nil {
			p.hashes = append(p.hashes, str(sd, "hash"))
		}
		for _, w := range tables(t["wheels"]) {
			p.hashes = append(p.hashes, str(w, "hash"))
		}
		src := table(t, "source")
		switch {
		case str(src, "registry") != "":
			p.index = str(src, "registry")
		case str(src, "git") != "":
			u, frag, _ := strings.Cut(str(src, "git"), "#")
			p.source, p.url, p.revision = "vcs", redact(u), frag
		case str(src, "url") != "":
			p.source, p.url = "url", redact(str(src, "url"))
		case str(src, "editable") != "":
			p.source, p.url = "editable", str(src, "editable")
		case str(src, "path") != "", str(src, "directory") != "":
			p.source, p.url = "path", firstNonEmpty(str(src, "path"), str(src, "directory"))
		}
		pkgs = append(pkgs, p)
	}
	e.emitLocked(pkgs)
}

// isRootSource reports whether a uv source is the project itself.
func isRootSource(src map[string]any) bool {
	return str(src, "editable") == "." || str(src, "virtual") == "."
}

// pdmLock reads pdm.lock: [[package]] with name, version, dependencies
// (PEP 508 strings) and files (hashes).
func (e *emitter) pdmLock(data []byte) {
	doc, ok := e.decodeTOML(data)
	if !ok {
		return
	}
	lines := newLineIndex(data).headers("package")
	var pkgs []locked
	for i, t := range tables(doc["package"]) {
		p := locked{name: str(t, "name"), version: str(t, "version"), line: at(lines, i), source: "registry", markers: str(t, "marker")}
		if !e.lockedName(p) {
			continue
		}
		for _, d := range strs(t["dependencies"]) {
			if r, err := pep.Parse(d); err == nil {
				p.deps = append(p.deps, r.Name)
			} else {
				e.malformed(e.path, p.line, d, err)
			}
		}
		for _, f := range tables(t["files"]) {
			p.hashes = append(p.hashes, str(f, "hash"))
		}
		if u := str(t, "git"); u != "" {
			p.source, p.url, p.revision = "vcs", redact(u), str(t, "revision")
		}
		pkgs = append(pkgs, p)
	}
	e.emitLocked(pkgs)
}

// pipfileLockEntry is one package of Pipfile.lock.
type pipfileLockEntry struct {
	Version string   `json:"version"`
	Hashes  []string `json:"hashes"`
	Markers string   `json:"markers"`
	Index   string   `json:"index"`
	Git     string   `json:"git"`
	Ref     string   `json:"ref"`
	Path    string   `json:"path"`
	File    string   `json:"file"`
}

// pipfileLock reads Pipfile.lock (JSON): _meta.sources, default and
// develop, each a map of name to entry. It records no edges.
func (e *emitter) pipfileLock(data []byte) {
	var doc struct {
		Meta struct {
			Sources []struct {
				Name string `json:"name"`
				URL  string `json:"url"`
			} `json:"sources"`
		} `json:"_meta"`
		Default map[string]pipfileLockEntry `json:"default"`
		Develop map[string]pipfileLockEntry `json:"develop"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		e.malformed(e.path, 0, "", fmt.Errorf("json: %v", err))
		return
	}
	li := newLineIndex(data)
	sources := map[string]string{}
	for _, s := range doc.Meta.Sources {
		sources[s.Name] = s.URL
	}
	var pkgs []locked
	for _, section := range []map[string]pipfileLockEntry{doc.Default, doc.Develop} {
		for _, name := range sortedKeys(section) {
			en := section[name]
			p := locked{name: name, line: li.find(name, false), source: "registry", markers: en.Markers, hashes: en.Hashes}
			if !e.lockedName(p) {
				continue
			}
			p.version, _ = pep.Pinned(strings.ReplaceAll(en.Version, " ", ""))
			if en.Version != "" && p.version == "" {
				e.malformed(e.path, p.line, en.Version, fmt.Errorf("locked version is not exact"))
			}
			switch {
			case en.Git != "":
				p.source, p.url, p.revision = "vcs", redact(en.Git), en.Ref
			case en.Path != "" || en.File != "":
				p.source, p.url = "path", firstNonEmpty(en.Path, redact(en.File))
			case en.Index != "":
				p.index = sources[en.Index]
			}
			pkgs = append(pkgs, p)
		}
	}
	e.emitLocked(pkgs)
}

// pylock reads a PEP 751 lock file: [[packages]] with name, version,
// index, marker, dependencies (tables naming packages), and one of vcs,
// directory, archive, sdist or wheels, whose hashes tables are keyed by
// algorithm.
func (e *emitter) pylock(data []byte) {
	doc, ok := e.decodeTOML(data)
	if !ok {
		return
	}
	lines := newLineIndex(data).headers("packages")
	var pkgs []locked
	for i, t := range tables(doc["packages"]) {
		p := locked{name: str(t, "name"), version: str(t, "version"), line: at(lines, i),
			source: "registry", index: str(t, "index"), markers: str(t, "marker")}
		if !e.lockedName(p) {
			continue
		}
		for _, d := range tables(t["dependencies"]) {
			p.deps = append(p.deps, str(d, "name"))
		}
		hashed := append([]map[string]any{table(t, "sdist"), table(t, "archive")}, tables(t["wheels"])...)
		for _, h := range hashed {
			if v := str(table(h, "hashes"), "sha256"); v != "" {
				p.hashes = append(p.hashes, "sha256:"+v)
			}
		}
		switch {
		case table(t, "vcs") != nil:
			v := table(t, "vcs")
			p.source, p.url, p.revision = "vcs", redact(firstNonEmpty(str(v, "url"), str(v, "path"))), str(v, "commit-id")
		case table(t, "directory") != nil:
			d := table(t, "directory")
			p.source, p.url = "path", str(d, "path")
			if d["editable"] == true {
				p.source = "editable"
			}
		case table(t, "archive") != nil:
			a := table(t, "archive")
			p.source, p.url = "url", redact(firstNonEmpty(str(a, "url"), str(a, "path")))
		}
		pkgs = append(pkgs, p)
	}
	e.emitLocked(pkgs)
}
