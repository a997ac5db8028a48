package npm

import (
	"context"
	"fmt"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"gopkg.in/yaml.v3"
)

// pnpmLock is pnpm-lock.yaml, versions 5 to 9. Version 5 lists the
// project's dependencies at the top (or under importers in a workspace)
// as name: version; 6 and 9 as name: {specifier, version}. Packages are
// keyed /name/1.0.0 (5), /name@1.0.0 (6) or name@1.0.0 (9), with peer
// dependencies appended after _ (5) or in parentheses (6, 9); 9 moves
// what each package depends on to snapshots.
type pnpmLock struct {
	Importers            map[string]pnpmImporter `yaml:"importers"`
	Dependencies         map[string]yaml.Node    `yaml:"dependencies"`
	DevDependencies      map[string]yaml.Node    `yaml:"devDependencies"`
	OptionalDependencies map[string]yaml.Node    `yaml:"optionalDependencies"`
	Packages             map[string]pnpmPackage  `yaml:"packages"`
	Snapshots            map[string]pnpmPackage  `yaml:"snapshots"`
}

type pnpmImporter struct {
	Dependencies         map[string]yaml.Node `yaml:"dependencies"`
	DevDependencies      map[string]yaml.Node `yaml:"devDependencies"`
	OptionalDependencies map[string]yaml.Node `yaml:"optionalDependencies"`
}

type pnpmPackage struct {
	Name       string `yaml:"name"`
	Version    string `yaml:"version"`
	Resolution struct {
		Integrity string `yaml:"integrity"`
		Tarball   string `yaml:"tarball"`
		Repo      string `yaml:"repo"`
		Commit    string `yaml:"commit"`
		Directory string `yaml:"directory"`
	} `yaml:"resolution"`
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
	Dev                  *bool             `yaml:"dev"`
}

func parsePnpm(ctx context.Context, data []byte, r *result) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("not a pnpm lockfile: top level is not a mapping")
	}
	var lf pnpmLock
	if err := doc.Content[0].Decode(&lf); err != nil {
		return err
	}
	lines := yamlKeyLines(doc.Content[0], "packages")
	keys := sortedKeys(lf.Packages)
	ids := make(map[string]string, len(keys))
	for i, key := range keys {
		if i&0xfff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if r.full() {
			return fmt.Errorf("more than %d packages", MaxPackages)
		}
		p := lf.Packages[key]
		name, version := pnpmKey(key)
		if p.Name != "" {
			name, version = p.Name, p.Version
		}
		if name == "" {
			continue
		}
		c := r.pkg(name, version, lines[key])
		res := p.Resolution
		switch {
		case res.Repo != "":
			c.Properties["source"] = "vcs"
			c.Properties["url"] = stripUserinfo(res.Repo)
			if isCommit(res.Commit) {
				c.Properties["revision"] = res.Commit
			}
		case res.Directory != "":
			c.Properties["source"] = "path"
		case res.Tarball != "":
			setResolved(c, res.Tarball)
			if c.Properties["source"] != "registry" {
				c.Properties["source"] = "url"
				c.Properties["url"] = stripUserinfo(res.Tarball)
			}
		default:
			c.Properties["source"] = "registry"
		}
		if c.Digests = integrity(res.Integrity); len(c.Digests) > 0 {
			c.Properties["hashes"] = "true"
		}
		if p.Dev != nil && *p.Dev {
			c.Properties["dev"] = "true"
		}
		c.Dependency = inventory.Transitive
		c = r.add(c)
		ids[strings.TrimPrefix(key, "/")] = c.ID
		ids[name+"@"+version] = c.ID
	}
	// ref finds the package a dependency's version refers to: a version,
	// a version with peers, or (for an alias) a whole key.
	ref := func(name, v string) (string, bool) {
		v = strings.TrimPrefix(v, "/")
		for _, k := range []string{name + "@" + v, v, name + "@" + stripPeers(v), stripPeers(v)} {
			if id, ok := ids[k]; ok {
				return id, true
			}
			// Version 5 keys are name/version.
			if id, ok := ids[strings.Replace(k, "@", "/", 1)]; ok {
				return id, true
			}
		}
		if n, ver := pnpmKey(v); n != "" {
			if id, ok := ids[n+"@"+ver]; ok {
				return id, true
			}
		}
		return "", false
	}
	graph := lf.Snapshots
	if graph == nil {
		graph = lf.Packages
	}
	for _, key := range sortedKeys(graph) {
		p := graph[key]
		name, version := pnpmKey(key)
		id, ok := ids[strings.TrimPrefix(key, "/")]
		if !ok {
			id, ok = ids[name+"@"+version]
		}
		if !ok {
			continue
		}
		c := r.byID[id]
		for _, m := range []map[string]string{p.Dependencies, p.OptionalDependencies} {
			for _, d := range sortedKeys(m) {
				if to, ok := ref(d, m[d]); ok && to != id {
					c.DependsOn = appendNew(c.DependsOn, to)
				}
			}
		}
	}
	importers := lf.Importers
	if importers == nil {
		importers = map[string]pnpmImporter{".": {lf.Dependencies, lf.DevDependencies, lf.OptionalDependencies}}
	}
	for _, imp := range sortedKeys(importers) {
		im := importers[imp]
		for _, sec := range []struct {
			m    map[string]yaml.Node
			prop string
		}{{im.Dependencies, ""}, {im.DevDependencies, "dev"}, {im.OptionalDependencies, "optional"}} {
			for _, d := range sortedKeys(sec.m) {
				n := sec.m[d]
				v := n.Value
				if n.Kind == yaml.MappingNode {
					var dv struct {
						Version string `yaml:"version"`
					}
					if err := n.Decode(&dv); err != nil {
						return &lineError{n.Line, err.Error()}
					}
					v = dv.Version
				}
				if strings.HasPrefix(v, "link:") || strings.HasPrefix(v, "file:") {
					continue
				}
				if to, ok := ref(d, v); ok {
					r.byID[to].Dependency = inventory.Direct
					if sec.prop != "" {
						r.byID[to].Properties[sec.prop] = "true"
					}
				}
			}
		}
	}
	return nil
}

// pnpmKey splits a packages key into name and version.
func pnpmKey(key string) (string, string) {
	key = stripPeers(strings.TrimPrefix(key, "/"))
	if i := strings.IndexByte(key[min(1, len(key)):], '@'); i >= 0 {
		i++
		return key[:i], key[i+1:]
	}
	// Version 5: name/version, name may be @scope/name.
	if i := strings.LastIndexByte(key, '/'); i > 0 {
		return key[:i], key[i+1:]
	}
	return "", ""
}

// stripPeers removes the peer dependencies pnpm appends to a version.
func stripPeers(v string) string {
	if i := strings.IndexByte(v, '('); i >= 0 {
		v = v[:i]
	}
	// Version 5 appends _peer@1.0 to the version; names may hold '_'
	// themselves, so look only after the last '/'.
	base := strings.LastIndexByte(v, '/') + 1
	if i := strings.IndexByte(v[base:], '_'); i >= 0 {
		v = v[:base+i]
	}
	return v
}

// yamlKeyLines returns the line of each key of the mapping under key.
func yamlKeyLines(m *yaml.Node, key string) map[string]int {
	lines := make(map[string]int)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key || m.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		sub := m.Content[i+1]
		for j := 0; j+1 < len(sub.Content); j += 2 {
			lines[sub.Content[j].Value] = sub.Content[j].Line
		}
	}
	return lines
}
