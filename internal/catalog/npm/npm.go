// Package npm catalogues the packages a JavaScript project declares and
// locks: package.json, package-lock.json (v1, v2, v3), npm-shrinkwrap.json,
// yarn.lock (classic v1 and berry) and pnpm-lock.yaml.
//
// Every package becomes a component whose ID is its purl:
// pkg:npm/<name>@<version> when the version is exact, pkg:npm/<name> with
// the property version-range when package.json gives only a range, so the
// same package found in two manifests merges. Lockfiles say which packages
// the project declares itself (direct) and which they bring in
// (transitive), and what each depends on (DependsOn).
//
// Nothing is installed or run: files are parsed as data, whole, up to
// MaxFileBytes. A file that does not parse is a bom/malformed finding and
// keeps whatever components were read before the error.
package npm

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/package-url/packageurl-go"
)

// MaxFileBytes bounds the size of a manifest or lockfile read whole. The
// lockfile of a large monorepo is tens of megabytes; 64 MiB leaves room
// while keeping a hostile file from taking the machine's memory.
const MaxFileBytes = 64 << 20

// MaxPackages bounds the packages read from one lockfile: the largest real
// lockfiles hold tens of thousands, so 200,000 is generous and a file with
// more is cut short with a scan/limit finding.
const MaxPackages = 200_000

// RuleMalformed is reported when a manifest or lockfile cannot be parsed.
const RuleMalformed = "bom/malformed"

// defaultRegistry is the npm registry that yarn and npm use unless told
// otherwise; a package resolved elsewhere records its registry as index.
var defaultRegistries = map[string]bool{
	"registry.npmjs.org":   true,
	"registry.yarnpkg.com": true,
	"registry.npmjs.com":   true,
}

// NPM is the cataloger of npm, yarn and pnpm manifests and lockfiles.
type NPM struct{}

// Name implements inventory.Cataloger.
func (NPM) Name() string { return "packages/npm" }

// Wants implements inventory.Cataloger. These files are known by their
// fixed names; a package.json under node_modules describes an installed
// package the lockfile already lists, and a tree holds thousands of them.
func (NPM) Wants(f *inventory.File) bool {
	switch f.Name {
	case "package.json":
		return !strings.Contains("/"+strings.ReplaceAll(f.Path, "\\", "/"), "/node_modules/")
	case "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml":
		return true
	}
	return false
}

// Catalog implements inventory.Cataloger.
func (NPM) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	if f.Size > MaxFileBytes {
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: f.Path,
			Evidence: fmt.Sprintf("%d bytes > %d", f.Size, MaxFileBytes),
			Message:  "the file is larger than the npm cataloger reads; its packages are not in the inventory",
		})
		return nil
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size))
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	r := &result{path: f.Path}
	var perr error
	switch f.Name {
	case "package.json":
		perr = parsePackageJSON(data, r)
	case "package-lock.json", "npm-shrinkwrap.json":
		perr = parseLock(ctx, data, r)
	case "yarn.lock":
		perr = parseYarn(ctx, data, r)
	case "pnpm-lock.yaml":
		perr = parsePnpm(ctx, data, r)
	}
	r.emit(s)
	if perr != nil {
		if r.limit {
			s.Finding(inventory.Finding{
				Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: f.Path,
				Evidence: perr.Error(),
				Message:  "a limit cut the reading of the lockfile short; packages after it are not in the inventory",
			})
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fd := inventory.Finding{
			Rule: RuleMalformed, Severity: inventory.Low, Path: f.Path, Evidence: perr.Error(),
			Message:     "a manifest could not be parsed; components it declares may be missing from the inventory",
			Remediation: "Regenerate the file with the package manager, or fix it by hand.",
		}
		if le, ok := perr.(*lineError); ok {
			fd.Line = le.line
		}
		s.Finding(fd)
	}
	return nil
}

// A lineError is a parse error at a known line.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// result gathers the components of one file in the order they were found.
type result struct {
	path  string
	comps []*inventory.Component
	byID  map[string]*inventory.Component
	limit bool
}

// add records c, or merges it into the component with the same ID: a
// lockfile may list one package@version at several node_modules paths.
func (r *result) add(c *inventory.Component) *inventory.Component {
	if r.byID == nil {
		r.byID = make(map[string]*inventory.Component)
	}
	if old, ok := r.byID[c.ID]; ok {
		if c.Dependency == inventory.Direct {
			old.Dependency = inventory.Direct
		}
		for k, v := range c.Properties {
			if _, ok := old.Properties[k]; !ok {
				old.Properties[k] = v
			}
		}
		if len(old.Digests) == 0 {
			old.Digests = c.Digests
		}
		old.DependsOn = appendNew(old.DependsOn, c.DependsOn...)
		return old
	}
	r.byID[c.ID] = c
	r.comps = append(r.comps, c)
	return c
}

// full reports whether the lockfile holds as many packages as it may.
func (r *result) full() bool {
	if len(r.comps) >= MaxPackages {
		r.limit = true
		return true
	}
	return false
}

func (r *result) emit(s inventory.Sink) {
	for _, c := range r.comps {
		s.Component(*c)
	}
}

func appendNew(list []string, ids ...string) []string {
	for _, id := range ids {
		found := false
		for _, x := range list {
			if x == id {
				found = true
				break
			}
		}
		if !found {
			list = append(list, id)
		}
	}
	return list
}

// purl returns the package URL of an npm package; version may be empty.
// A scoped name's @ is escaped by packageurl-go as the spec requires.
func purl(name, version string) string {
	ns, n := "", name
	if strings.HasPrefix(name, "@") {
		if i := strings.IndexByte(name, '/'); i > 0 {
			ns, n = name[:i], name[i+1:]
		}
	}
	return packageurl.NewPackageURL(packageurl.TypeNPM, ns, n, version, nil, "").ToString()
}

// pkg makes the component of a locked package name@version.
func (r *result) pkg(name, version string, line int) *inventory.Component {
	return &inventory.Component{
		ID: purl(name, version), Kind: inventory.KindPackage, Name: name, Version: version,
		PURL:      purl(name, version),
		Locations: []inventory.Location{{Path: r.path, Line: line}},
		Properties: map[string]string{
			"ecosystem": "npm", "pinned": "true", "manifest": r.path,
		},
	}
}

// setResolved records where a locked package came from: its registry when
// not the default one, or a source other than a registry.
func setResolved(c *inventory.Component, resolved string) {
	if resolved == "" {
		return
	}
	src := sourceOf(resolved)
	if src != "registry" {
		c.Properties["source"] = src
		if src == "vcs" || src == "url" {
			c.Properties["url"] = stripUserinfo(resolved)
		}
		return
	}
	u, err := url.Parse(resolved)
	if err != nil || u.Host == "" {
		return
	}
	c.Properties["source"] = "registry"
	if !defaultRegistries[u.Hostname()] {
		// The registry is the URL up to the package's own path, which
		// starts with its name; keep scheme and host, never userinfo.
		c.Properties["index"] = u.Scheme + "://" + u.Host
	}
}

// sourceOf classifies a resolved URL or a package.json version spec.
func sourceOf(spec string) string {
	s := strings.ToLower(spec)
	switch {
	case strings.HasPrefix(s, "git+"), strings.HasPrefix(s, "git:"), strings.HasPrefix(s, "git@"),
		strings.HasPrefix(s, "github:"), strings.HasPrefix(s, "gitlab:"), strings.HasPrefix(s, "bitbucket:"),
		strings.HasPrefix(s, "gist:"), strings.Contains(s, ".git#"), strings.HasSuffix(s, ".git"):
		return "vcs"
	case strings.HasPrefix(s, "file:"), strings.HasPrefix(s, "link:"), strings.HasPrefix(s, "portal:"),
		strings.HasPrefix(s, "./"), strings.HasPrefix(s, "../"), strings.HasPrefix(s, "/"), strings.HasPrefix(s, "~/"):
		return "path"
	case strings.HasPrefix(s, "workspace:"):
		return "workspace"
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		if strings.Contains(s, "/-/") {
			return "registry"
		}
		return "url"
	}
	// A user/repo shorthand names a GitHub repository.
	if i := strings.IndexByte(s, '/'); i > 0 && !strings.HasPrefix(s, "@") && !strings.ContainsAny(s[:i], " <>=^~*") {
		return "vcs"
	}
	return "registry"
}

// stripUserinfo removes a user name and password, and the query, from a
// URL: registries and git hosts take credentials in both, and they never
// belong in a report.
func stripUserinfo(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.User == nil && u.RawQuery == "") {
		return s
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	return u.String()
}
