package npm

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"gopkg.in/yaml.v3"
)

// A yarnEntry is one block of a yarn.lock: the descriptors (name@range)
// it satisfies and what they resolved to.
type yarnEntry struct {
	line        int
	descriptors []string
	fields      map[string]string
	deps        map[string]string // name → range, dependencies and optionalDependencies
}

// parseYarn reads a yarn.lock: berry's is YAML and starts with a
// __metadata block; classic v1 has a format of its own.
func parseYarn(ctx context.Context, data []byte, r *result) error {
	var entries []yarnEntry
	var err error
	berry := bytes.Contains(data, []byte("\n__metadata:")) || bytes.HasPrefix(data, []byte("__metadata:"))
	if berry {
		entries, err = parseBerry(data)
	} else {
		entries, err = parseYarnV1(ctx, data)
	}
	byDesc := make(map[string]string)
	for _, e := range entries {
		if r.full() {
			return fmt.Errorf("more than %d packages", MaxPackages)
		}
		c := yarnComponent(e, berry, r.path)
		if c == nil {
			continue
		}
		c = r.add(c)
		for _, d := range e.descriptors {
			byDesc[d] = c.ID
		}
	}
	for _, e := range entries {
		if len(e.descriptors) == 0 {
			continue
		}
		id, ok := byDesc[e.descriptors[0]]
		if !ok {
			continue
		}
		c := r.byID[id]
		for _, n := range sortedKeys(e.deps) {
			rng := e.deps[n]
			to, ok := byDesc[n+"@"+rng]
			if !ok {
				to, ok = byDesc[n+"@npm:"+rng]
			}
			if ok && to != id {
				c.DependsOn = appendNew(c.DependsOn, to)
			}
		}
	}
	r.markRoots()
	return err
}

// yarnComponent makes the component of one entry, or nil for berry's
// entry of the project itself.
func yarnComponent(e yarnEntry, berry bool, path string) *inventory.Component {
	if len(e.descriptors) == 0 {
		return nil
	}
	name, rng := splitDescriptor(e.descriptors[0])
	version := e.fields["version"]
	if res := e.fields["resolution"]; berry && res != "" {
		_, ref := splitDescriptor(res)
		if strings.HasPrefix(ref, "workspace:") {
			if ref == "workspace:." {
				return nil
			}
			c := &inventory.Component{
				ID: purl(name, ""), PURL: purl(name, ""), Kind: inventory.KindPackage, Name: name,
				Locations:  []inventory.Location{{Path: path, Line: e.line}},
				Properties: map[string]string{"ecosystem": "npm", "manifest": path, "pinned": "false", "source": "workspace"},
			}
			return c
		}
	}
	r := &result{path: path}
	c := r.pkg(name, version, e.line)
	if version == "" {
		c = r.pkg(name, "", e.line)
		c.Properties["pinned"] = "false"
	}
	src := sourceOf(strings.TrimPrefix(rng, "npm:"))
	if berry {
		_, ref := splitDescriptor(e.fields["resolution"])
		if !strings.HasPrefix(ref, "npm:") && ref != "" {
			src = sourceOf(ref)
			if src == "registry" {
				src = "url"
			}
			c.Properties["source"] = src
			c.Properties["url"] = stripUserinfo(ref)
		} else {
			c.Properties["source"] = "registry"
		}
		c.Digests = yarnChecksum(e.fields["checksum"])
	} else {
		res := e.fields["resolved"]
		if src != "registry" {
			c.Properties["source"] = src
			c.Properties["url"] = stripUserinfo(res)
		} else {
			setResolved(c, res)
		}
		c.Digests = integrity(e.fields["integrity"])
		if len(c.Digests) == 0 {
			// Old yarn records only a SHA-1 after '#' in the URL.
			if _, frag, ok := strings.Cut(res, "#"); ok && len(frag) == 40 && isCommit(frag) && src == "registry" {
				c.Digests = []inventory.Digest{{Algorithm: "sha1", Value: strings.ToLower(frag)}}
			}
		}
	}
	if i := strings.LastIndexByte(rng, '#'); i >= 0 && isCommit(rng[i+1:]) {
		c.Properties["revision"] = rng[i+1:]
	}
	if len(c.Digests) > 0 {
		c.Properties["hashes"] = "true"
	}
	return c
}

// splitDescriptor splits name@range; a scoped name's own @ is kept.
func splitDescriptor(d string) (name, rng string) {
	i := strings.IndexByte(d[min(1, len(d)):], '@')
	if i < 0 {
		return d, ""
	}
	i++
	return d[:i], d[i+1:]
}

// markRoots marks as direct every package that no other package depends
// on: in a consistent lockfile only the project can have asked for it.
// Lockfiles that do not list the project's own dependencies (yarn.lock,
// package-lock v1) tell direct from transitive no better than this; the
// rest stay unknown.
func (r *result) markRoots() []string {
	var roots []string
	needed := make(map[string]bool)
	for _, c := range r.comps {
		for _, d := range c.DependsOn {
			needed[d] = true
		}
	}
	for _, c := range r.comps {
		if c.Dependency == "" && !needed[c.ID] && c.Properties["main"] == "" {
			c.Dependency = inventory.Direct
			roots = append(roots, c.ID)
		}
	}
	return roots
}

// MaxYarnLineBytes bounds one line of a classic yarn.lock; real lines
// are a few hundred bytes (a resolved URL and hash).
const MaxYarnLineBytes = 64 << 10

// parseYarnV1 parses a classic (v1) yarn.lock. It returns the entries read
// before an error; errors carry the line. It keeps no more than
// MaxPackages entries.
func parseYarnV1(ctx context.Context, data []byte) ([]yarnEntry, error) {
	var entries []yarnEntry
	var cur *yarnEntry
	section := "" // the nested block being read: dependencies or optionalDependencies
	for n := 1; len(data) > 0; n++ {
		var raw []byte
		raw, data, _ = bytes.Cut(data, []byte{'\n'})
		if n&0xfff == 0 && ctx.Err() != nil {
			return entries, ctx.Err()
		}
		if len(raw) > MaxYarnLineBytes {
			return entries, &lineError{n, fmt.Sprintf("line longer than %d bytes", MaxYarnLineBytes)}
		}
		line := strings.TrimRight(string(raw), "\r \t")
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(trimmed)
		switch indent {
		case 0:
			if !strings.HasSuffix(line, ":") {
				return entries, &lineError{n, "entry header does not end with ':'"}
			}
			if len(entries) >= MaxPackages {
				return entries, fmt.Errorf("more than %d packages", MaxPackages)
			}
			var descs []string
			for _, d := range strings.Split(strings.TrimSuffix(line, ":"), ",") {
				d, err := unquote(strings.TrimSpace(d))
				if err != nil || d == "" {
					return entries, &lineError{n, fmt.Sprintf("bad descriptor %q", d)}
				}
				descs = append(descs, d)
			}
			entries = append(entries, yarnEntry{line: n, descriptors: descs, fields: map[string]string{}, deps: map[string]string{}})
			cur = &entries[len(entries)-1]
			section = ""
		case 2:
			if cur == nil {
				return entries, &lineError{n, "field outside an entry"}
			}
			if key, ok := strings.CutSuffix(trimmed, ":"); ok && !strings.ContainsAny(key, " \"") {
				section = key
				continue
			}
			section = ""
			key, val, err := keyValue(trimmed)
			if err != nil {
				return entries, &lineError{n, err.Error()}
			}
			cur.fields[key] = val
		case 4:
			if cur == nil || section == "" {
				return entries, &lineError{n, "nested field outside a block"}
			}
			key, val, err := keyValue(trimmed)
			if err != nil {
				return entries, &lineError{n, err.Error()}
			}
			if section == "dependencies" || section == "optionalDependencies" {
				cur.deps[key] = val
			}
		default:
			return entries, &lineError{n, fmt.Sprintf("unexpected indentation of %d spaces", indent)}
		}
	}
	return entries, nil
}

// keyValue splits `key value` where either may be quoted.
func keyValue(s string) (string, string, error) {
	var key string
	if strings.HasPrefix(s, `"`) {
		end := closingQuote(s)
		if end < 0 {
			return "", "", fmt.Errorf("unterminated string")
		}
		k, err := strconv.Unquote(s[:end+1])
		if err != nil {
			return "", "", fmt.Errorf("bad string %s", s[:end+1])
		}
		key, s = k, s[end+1:]
	} else {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			return "", "", fmt.Errorf("no value for %q", s)
		}
		key, s = s[:i], s[i:]
	}
	val, err := unquote(strings.TrimSpace(s))
	if err != nil {
		return "", "", err
	}
	return key, val, nil
}

// closingQuote returns the index of the quote that ends the string s
// starts with, or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func unquote(s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		return s, nil
	}
	v, err := strconv.Unquote(s)
	if err != nil {
		return "", fmt.Errorf("bad string %s", s)
	}
	return v, nil
}

// parseBerry reads a yarn berry lockfile, which is YAML.
func parseBerry(data []byte) ([]yarnEntry, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a mapping of entries")
	}
	m := doc.Content[0]
	var entries []yarnEntry
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == "__metadata" {
			continue
		}
		if v.Kind != yaml.MappingNode {
			return entries, &lineError{k.Line, fmt.Sprintf("entry %q is not a mapping", k.Value)}
		}
		e := yarnEntry{line: k.Line, fields: map[string]string{}, deps: map[string]string{}}
		for _, d := range strings.Split(k.Value, ",") {
			if d = strings.TrimSpace(d); d != "" {
				e.descriptors = append(e.descriptors, d)
			}
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			fk, fv := v.Content[j], v.Content[j+1]
			switch {
			case fv.Kind == yaml.ScalarNode:
				e.fields[fk.Value] = fv.Value
			case fv.Kind == yaml.MappingNode && (fk.Value == "dependencies" || fk.Value == "optionalDependencies"):
				for x := 0; x+1 < len(fv.Content); x += 2 {
					e.deps[fv.Content[x].Value] = fv.Content[x+1].Value
				}
			}
		}
		entries = append(entries, e)
	}
	return entries, nil
}
