// Package confusion finds package-index configuration that lets a public
// index answer for a name meant to come from a private one (dependency
// confusion): pip's extra indexes in requirements files, pip.conf, CI files
// and Dockerfiles, and an npm default registry moved off the public one.
//
// pip merges every index it is given and installs the highest version any
// of them offers, so a name published on PyPI by an attacker beats the
// private copy; that is how the torchtriton nightly package was hijacked.
package confusion

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// maxConfigBytes bounds how much of one configuration file is read: index
// settings sit in small text files, and a larger file is reported as a
// limit hit instead of being read to the end.
const maxConfigBytes = 1 << 20

// maxNamedPackages bounds the per-package findings of one requirements file,
// so a huge file gives a readable report.
const maxNamedPackages = 200

// Indexes is the cataloger of index configuration. It reports findings only.
type Indexes struct{}

// Name implements inventory.Cataloger.
func (Indexes) Name() string { return "config/package-indexes" }

// Wants implements inventory.Cataloger: content that sets an extra pip
// index, or a line of npm configuration that sets the default registry.
func (Indexes) Wants(f *inventory.File) bool {
	for _, b := range [][]byte{f.Head, f.Tail} {
		// Every file of a tree passes here: search without lowering a
		// copy, and lower one only when a registry line may be in it.
		if containsFold(b, "extra-index-url") || containsFold(b, "extra_index_url") || pyprojectWants(b) {
			return true
		}
		if !containsFold(b, "registry") {
			continue
		}
		for line := range bytes.Lines(bytes.ToLower(b)) {
			if _, ok := npmRegistry(string(line)); ok {
				return true
			}
		}
	}
	return false
}

// containsFold reports whether b contains needle, which must be lower-case
// ASCII, ignoring the case of ASCII letters in b.
func containsFold(b []byte, needle string) bool {
	if len(needle) == 0 {
		return true
	}
	first, upper := needle[0], needle[0]
	if 'a' <= first && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	for i := 0; i+len(needle) <= len(b); i++ {
		if c := b[i]; c != first && c != upper {
			continue
		}
		j := 1
		for ; j < len(needle); j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
		}
		if j == len(needle) {
			return true
		}
	}
	return false
}

// Catalog implements inventory.Cataloger.
func (Indexes) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	n := min(f.Size, maxConfigBytes)
	data := make([]byte, n)
	if _, err := f.ReadAt(data, 0); err != nil {
		return fmt.Errorf("read index configuration: %w", err)
	}
	if f.Size > maxConfigBytes {
		s.Finding(inventory.Finding{Rule: "scan/limit", Severity: inventory.High, Path: f.Path,
			Evidence: fmt.Sprintf("%d bytes", f.Size),
			Message:  fmt.Sprintf("only the first %d bytes of this configuration file were checked for package-index settings", maxConfigBytes)})
	}
	for _, fd := range Check(f.Path, data) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.Finding(fd)
	}
	return nil
}

// notConfig are the extensions of documentation and of source code in
// languages that do not run pip or npm: text there that names an index
// option is prose or a string, not configuration.
var notConfig = map[string]bool{
	".md": true, ".markdown": true, ".rst": true, ".adoc": true, ".html": true, ".htm": true,
	".go": true, ".rs": true, ".java": true, ".c": true, ".h": true, ".cc": true, ".cpp": true,
}

// An extra records one line that adds a pip index.
type extra struct {
	line int
	url  string
}

// Check returns the findings for the configuration file at p holding data.
// It is exported so tests and other front ends can run it on bytes alone.
func Check(p string, data []byte) []inventory.Finding {
	if notConfig[strings.ToLower(path.Ext(p))] {
		return nil
	}
	if pyprojectWants(data) {
		return checkPyproject(p, data)
	}
	var extras []extra
	var pkgs []reqPkg
	var out []inventory.Finding
	// Only requirements files list packages one a line; in other formats a
	// line like `index-url = …` would read as a requirement.
	base := strings.ToLower(path.Base(p))
	reqFile := strings.HasSuffix(base, ".txt") || strings.HasSuffix(base, ".in")
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if u, ok := extraIndex(line); ok {
			if !publicPyPI(u) {
				extras = append(extras, extra{i + 1, u})
			}
			continue
		}
		if u, ok := npmRegistry(strings.ToLower(line)); ok && !publicNPM(u) {
			out = append(out, inventory.Finding{
				Rule: "package/npm-registry-override", Severity: inventory.Medium, Path: p, Line: i + 1,
				Evidence: redact(line),
				Message:  fmt.Sprintf("npm's default registry is set to %s: every unscoped package name resolves there, and a registry that proxies the public one serves a public package of the same name as a private one", redact(u)),
				Remediation: "publish private packages under a scope and route only that scope: `@org:registry=" + redact(u) +
					"`, keeping `registry=https://registry.npmjs.org/` as the default",
			})
			continue
		}
		if r, ok := requirement(line); ok && reqFile {
			r.line = i + 1
			pkgs = append(pkgs, r)
		}
	}
	for _, e := range extras {
		ev := "extra index " + e.url
		if len(pkgs) == 0 {
			out = append(out, inventory.Finding{
				Rule: "package/dependency-confusion", Severity: inventory.High, Path: p, Line: e.line,
				Evidence: ev,
				Message:  fmt.Sprintf("pip is given %s as an extra index beside PyPI: for every package name pip installs the highest version either index offers, so a name published on PyPI wins over the private one", e.url),
				Remediation: "use `--index-url` (or `index-url` / PIP_INDEX_URL) with a single index that proxies PyPI, never extra-index-url; " +
					"with uv, declare the index with `explicit = true` and pin each private package with `[tool.uv.sources] pkg = { index = \"name\" }`; " +
					"with Poetry, give the source `priority = \"explicit\"` and each private package `source = \"name\"`",
			})
			continue
		}
		for i, r := range pkgs {
			if i == maxNamedPackages {
				break
			}
			out = append(out, inventory.Finding{
				Rule: "package/dependency-confusion", Severity: inventory.High, Path: p, Line: r.line,
				Evidence:    fmt.Sprintf("%s with %s (line %d)", r.name, ev, e.line),
				Message:     fmt.Sprintf("%s may be installed from PyPI or from %s, whichever offers the higher version: a package of that name published on PyPI takes its place", r.name, e.url),
				Remediation: fmt.Sprintf("install %s from one index only: replace `--extra-index-url %s` with `--index-url` pointing at a single index (or a proxy that serves private names first and never falls through to PyPI for them), and pin `%s==<version> --hash=sha256:…`", r.name, e.url, r.name),
			})
		}
	}
	return out
}

// extraIndex reports the URL an option line adds as an extra pip index:
// `--extra-index-url URL` anywhere on a line (requirements files, pip
// install commands), `extra-index-url = URL` (pip.conf), and
// PIP_EXTRA_INDEX_URL set in the environment (Dockerfile ENV/ARG, CI files).
func extraIndex(line string) (string, bool) {
	l := strings.ToLower(line)
	for _, key := range []string{"--extra-index-url", "pip_extra_index_url", "extra-index-url"} {
		i := strings.Index(l, key)
		if i < 0 {
			continue
		}
		rest := strings.TrimLeft(line[i+len(key):], " \t=:\"'[")
		v, _, _ := strings.Cut(rest, " ")
		v = strings.Trim(v, "\"'[],")
		// Only a URL or a variable holding one is an index; prose and
		// code that merely name the option are not.
		lv := strings.ToLower(v)
		if !strings.HasPrefix(lv, "http://") && !strings.HasPrefix(lv, "https://") && !strings.HasPrefix(lv, "file:") && !strings.HasPrefix(v, "$") {
			continue
		}
		return redact(v), true
	}
	return "", false
}

// npmRegistry reports the URL of a line of npm configuration that sets the
// default registry (`registry=URL`); scoped registries are what the fix
// recommends and do not count.
func npmRegistry(line string) (string, bool) {
	k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
	if !ok || strings.TrimSpace(k) != "registry" {
		return "", false
	}
	return strings.Trim(strings.TrimSpace(v), "\"'"), true
}

// publicPyPI reports whether u is PyPI itself, which adds no second index.
func publicPyPI(u string) bool {
	h := host(u)
	return h == "pypi.org" || h == "pypi.python.org" || h == "files.pythonhosted.org"
}

// publicNPM reports whether u is the public npm registry or its mirror by yarn.
func publicNPM(u string) bool {
	h := host(u)
	return h == "registry.npmjs.org" || h == "registry.yarnpkg.com" || h == "registry.npmjs.com"
}

func host(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(p.Hostname())
}

// redact removes credentials from URLs in s: index URLs often carry tokens.
func redact(s string) string {
	for _, scheme := range []string{"https://", "http://"} {
		i := strings.Index(s, scheme)
		if i < 0 {
			continue
		}
		rest := s[i+len(scheme):]
		end := strings.IndexAny(rest, "/ \t")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
			s = s[:i+len(scheme)] + "***@" + rest[at+1:]
		}
	}
	return s
}

// A reqPkg is a package line of a requirements file.
type reqPkg struct {
	name string
	line int
}

// requirement reports the package a requirements line installs from an
// index; options, URLs, paths and VCS references install from elsewhere.
func requirement(line string) (reqPkg, bool) {
	if strings.HasPrefix(line, "-") || strings.Contains(line, "://") || strings.ContainsAny(line[:1], "./~$") {
		return reqPkg{}, false
	}
	end := strings.IndexFunc(line, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	})
	if end < 0 {
		end = len(line)
	}
	name := line[:end]
	if name == "" {
		return reqPkg{}, false
	}
	rest := strings.TrimSpace(line[end:])
	// Only a requirement's own syntax may follow its name; anything else is
	// a line of another format (YAML, INI, shell) and not a package.
	if rest != "" && !strings.ContainsAny(rest[:1], "[<>=!~;@") {
		return reqPkg{}, false
	}
	if strings.HasPrefix(rest, "@") {
		return reqPkg{}, false
	}
	return reqPkg{name: normalize(name)}, true
}

// normalize is the PEP 503 form of a project name.
func normalize(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("_", "-", ".", "-").Replace(s)
}
