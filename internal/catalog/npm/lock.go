package npm

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// lockFile is package-lock.json and npm-shrinkwrap.json, all versions: v1
// nests "dependencies"; v2 carries both; v3 has only "packages", keyed by
// the node_modules path each package is installed at.
type lockFile struct {
	Name            string               `json:"name"`
	Version         string               `json:"version"`
	LockfileVersion int                  `json:"lockfileVersion"`
	Packages        map[string]lockEntry `json:"packages"`
	Dependencies    map[string]v1Entry   `json:"dependencies"`
}

type lockEntry struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	Resolved             string            `json:"resolved"`
	Integrity            string            `json:"integrity"`
	Link                 bool              `json:"link"`
	Dev                  bool              `json:"dev"`
	Optional             bool              `json:"optional"`
	DevOptional          bool              `json:"devOptional"`
	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
}

type v1Entry struct {
	Version      string             `json:"version"`
	Resolved     string             `json:"resolved"`
	Integrity    string             `json:"integrity"`
	Dev          bool               `json:"dev"`
	Optional     bool               `json:"optional"`
	Requires     map[string]string  `json:"requires"`
	Dependencies map[string]v1Entry `json:"dependencies"`
}

// maxNesting bounds how deep v1 "dependencies" objects nest. Real trees
// are a few levels deep; encoding/json itself stops at 10,000.
const maxNesting = 256

func parseLock(ctx context.Context, data []byte, r *result) error {
	var lf lockFile
	if err := json.Unmarshal(data, &lf); err != nil {
		return jsonError(data, err)
	}
	lines := keyLines(data, 2)
	if lf.Packages != nil {
		return lockPackages(ctx, &lf, lines, r)
	}
	if lf.Dependencies != nil {
		return lockV1(ctx, &lf, lines, r)
	}
	if lf.LockfileVersion == 0 {
		return fmt.Errorf("no lockfileVersion, packages or dependencies: not a package-lock")
	}
	return nil
}

// lockPackages reads the "packages" map of a v2 or v3 lockfile.
func lockPackages(ctx context.Context, lf *lockFile, lines map[string]int, r *result) error {
	keys := sortedKeys(lf.Packages)
	// ids maps each install path to the component it holds, once made.
	ids := make(map[string]string, len(keys))
	name := func(key string, e lockEntry) string {
		if e.Name != "" {
			return e.Name
		}
		if i := strings.LastIndex(key, "node_modules/"); i >= 0 {
			return key[i+len("node_modules/"):]
		}
		return path.Base(key)
	}
	for i, key := range keys {
		if key == "" {
			continue
		}
		if i&0xfff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if r.full() {
			return fmt.Errorf("more than %d packages", MaxPackages)
		}
		e := lf.Packages[key]
		if e.Link {
			continue
		}
		n := name(key, e)
		var c *inventory.Component
		if e.Version == "" {
			// A workspace folder or a package installed from a path.
			c = r.pkg(n, "", lines["packages\x00"+key])
			c.Properties["pinned"] = "false"
			c.Properties["source"] = "path"
		} else {
			c = r.pkg(n, e.Version, lines["packages\x00"+key])
			setResolved(c, e.Resolved)
		}
		c.Digests = integrity(e.Integrity)
		if len(c.Digests) > 0 {
			c.Properties["hashes"] = "true"
		}
		if e.Dev {
			c.Properties["dev"] = "true"
		}
		if e.Optional {
			c.Properties["optional"] = "true"
		}
		c.Dependency = inventory.Transitive
		ids[key] = r.add(c).ID
	}
	// A link points at the folder that holds the package.
	for _, key := range keys {
		if e := lf.Packages[key]; e.Link && e.Resolved != "" {
			if id, ok := ids[e.Resolved]; ok {
				ids[key] = id
			}
		}
	}
	// resolve finds the package that the one at from gets for dependency
	// dep: node looks in from's own node_modules, then in each folder
	// above it.
	resolve := func(from, dep string) (string, bool) {
		for dir := from; ; {
			k := "node_modules/" + dep
			if dir != "" {
				k = dir + "/" + k
			}
			if id, ok := ids[k]; ok {
				return id, true
			}
			if dir == "" {
				return "", false
			}
			i := strings.LastIndex(dir, "/node_modules/")
			if i < 0 {
				dir = ""
			} else {
				dir = dir[:i]
			}
		}
	}
	for _, key := range keys {
		e := lf.Packages[key]
		id, ok := ids[key]
		if key != "" && (!ok || e.Link) {
			continue
		}
		var deps []string
		sections := []map[string]string{e.Dependencies, e.OptionalDependencies, e.PeerDependencies}
		if key == "" {
			// Only the project's own devDependencies are installed.
			sections = append(sections, e.DevDependencies)
		}
		for _, m := range sections {
			for _, d := range sortedKeys(m) {
				if to, ok := resolve(key, d); ok {
					deps = appendNew(deps, to)
				}
			}
		}
		if key == "" {
			for _, d := range deps {
				r.byID[d].Dependency = inventory.Direct
			}
			root := lf.Packages[""]
			n, v := root.Name, root.Version
			if n == "" {
				n, v = lf.Name, lf.Version
			}
			if n != "" {
				rc := r.pkg(n, v, lines["packages\x00"])
				rc.Properties["main"] = "true"
				delete(rc.Properties, "pinned")
				rc.DependsOn = deps
				r.comps = append([]*inventory.Component{rc}, r.comps...)
			}
			continue
		}
		c := r.byID[id]
		c.DependsOn = appendNew(c.DependsOn, deps...)
	}
	return nil
}

// lockV1 reads the nested "dependencies" of a v1 lockfile. v1 records no
// list of what the project declares: packages nothing else requires are
// direct, the rest stay unknown.
func lockV1(ctx context.Context, lf *lockFile, lines map[string]int, r *result) error {
	type frame struct {
		deps    map[string]v1Entry
		parent  *frame
		ids     map[string]string
		top     bool
		pending []func()
	}
	var walk func(fr *frame, depth int) error
	walk = func(fr *frame, depth int) error {
		if depth > maxNesting {
			return fmt.Errorf("dependencies nested more than %d deep", maxNesting)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fr.ids = make(map[string]string, len(fr.deps))
		names := sortedKeys(fr.deps)
		for _, n := range names {
			if r.full() {
				return fmt.Errorf("more than %d packages", MaxPackages)
			}
			e := fr.deps[n]
			line := 0
			if fr.top {
				line = lines["dependencies\x00"+n]
			}
			c := r.pkg(n, e.Version, line)
			if sourceOf(e.Version) != "registry" {
				// v1 writes a git or file dependency's spec as its version.
				c = r.pkg(n, "", line)
				c.Properties["pinned"] = "false"
				c.Properties["source"] = sourceOf(e.Version)
				if i := strings.LastIndexByte(e.Version, '#'); i >= 0 && isCommit(e.Version[i+1:]) {
					c.Properties["pinned"] = "true"
					c.Properties["revision"] = e.Version[i+1:]
				}
			} else {
				setResolved(c, e.Resolved)
			}
			c.Digests = integrity(e.Integrity)
			if len(c.Digests) > 0 {
				c.Properties["hashes"] = "true"
			}
			if e.Dev {
				c.Properties["dev"] = "true"
			}
			if e.Optional {
				c.Properties["optional"] = "true"
			}
			fr.ids[n] = r.add(c).ID
		}
		for _, n := range names {
			e := fr.deps[n]
			if len(e.Dependencies) > 0 {
				child := &frame{deps: e.Dependencies, parent: fr}
				if err := walk(child, depth+1); err != nil {
					return err
				}
				// Requirements resolve in the package's own folder first.
				resolveInto(r.byID[fr.ids[n]], e.Requires, func(d string) (string, bool) {
					for f := child; f != nil; f = f.parent {
						if id, ok := f.ids[d]; ok {
							return id, true
						}
					}
					return "", false
				})
				continue
			}
			resolveInto(r.byID[fr.ids[n]], e.Requires, func(d string) (string, bool) {
				for f := fr; f != nil; f = f.parent {
					if id, ok := f.ids[d]; ok {
						return id, true
					}
				}
				return "", false
			})
		}
		return nil
	}
	if err := walk(&frame{deps: lf.Dependencies, top: true}, 0); err != nil {
		return err
	}
	roots := r.markRoots()
	if lf.Name != "" {
		rc := r.pkg(lf.Name, lf.Version, 1)
		rc.Properties["main"] = "true"
		delete(rc.Properties, "pinned")
		rc.DependsOn = roots
		r.comps = append([]*inventory.Component{rc}, r.comps...)
	}
	return nil
}

func resolveInto(c *inventory.Component, requires map[string]string, resolve func(string) (string, bool)) {
	for _, d := range sortedKeys(requires) {
		if id, ok := resolve(d); ok && id != c.ID {
			c.DependsOn = appendNew(c.DependsOn, id)
		}
	}
}
