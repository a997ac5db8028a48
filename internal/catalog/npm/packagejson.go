package npm

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// packageJSON is the part of package.json that names dependencies.
type packageJSON struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
}

// depSections are package.json's dependency objects and the property each
// sets on its packages.
var depSections = []struct{ key, prop string }{
	{"dependencies", ""},
	{"devDependencies", "dev"},
	{"optionalDependencies", "optional"},
	{"peerDependencies", "peer"},
}

func parsePackageJSON(data []byte, r *result) error {
	var p packageJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return jsonError(data, err)
	}
	lines := keyLines(data, 2)
	var direct []string
	for _, sec := range depSections {
		var m map[string]string
		switch sec.key {
		case "dependencies":
			m = p.Dependencies
		case "devDependencies":
			m = p.DevDependencies
		case "optionalDependencies":
			m = p.OptionalDependencies
		case "peerDependencies":
			m = p.PeerDependencies
		}
		for _, name := range sortedKeys(m) {
			c := declared(name, m[name], r.path, lines[sec.key+"\x00"+name])
			if sec.prop != "" {
				c.Properties[sec.prop] = "true"
			}
			c = r.add(c)
			direct = appendNew(direct, c.ID)
		}
	}
	if p.Name != "" {
		root := &inventory.Component{
			ID: purl(p.Name, p.Version), Kind: inventory.KindPackage, Name: p.Name, Version: p.Version,
			PURL:       purl(p.Name, p.Version),
			Locations:  []inventory.Location{{Path: r.path, Line: 1}},
			Properties: map[string]string{"ecosystem": "npm", "manifest": r.path, "main": "true"},
			DependsOn:  direct,
		}
		// The project comes first: it is what the rest is a dependency of.
		r.comps = append([]*inventory.Component{root}, r.comps...)
	}
	return nil
}

// declared makes the component of a dependency as package.json states it:
// an exact version is pinned, anything else keeps its spec as written.
func declared(name, spec, path string, line int) *inventory.Component {
	c := &inventory.Component{
		Kind: inventory.KindPackage, Name: name, Dependency: inventory.Direct,
		Locations:  []inventory.Location{{Path: path, Line: line}},
		Properties: map[string]string{"ecosystem": "npm", "manifest": path},
	}
	spec = strings.TrimSpace(spec)
	// npm:other@1.0 installs another package under this name.
	if rest, ok := strings.CutPrefix(spec, "npm:"); ok {
		c.Properties["alias-of"] = rest
	}
	src := sourceOf(spec)
	if exactVersion(spec) {
		c.Version = strings.TrimPrefix(strings.TrimPrefix(spec, "="), "v")
		c.ID = purl(name, c.Version)
		c.PURL = c.ID
		c.Properties["pinned"] = "true"
		c.Properties["source"] = "registry"
		return c
	}
	c.ID = purl(name, "")
	c.PURL = c.ID
	c.Properties["pinned"] = "false"
	c.Properties["source"] = src
	switch src {
	case "vcs", "url":
		c.Properties["url"] = stripUserinfo(spec)
		// A VCS spec pinned to a full commit names exact bytes.
		if i := strings.LastIndexByte(spec, '#'); i >= 0 && isCommit(spec[i+1:]) {
			c.Properties["pinned"] = "true"
			c.Properties["revision"] = spec[i+1:]
		}
	default:
		c.Properties["version-range"] = spec
	}
	return c
}

// exactVersion reports whether spec is one semantic version, not a range.
func exactVersion(spec string) bool {
	s := strings.TrimPrefix(strings.TrimPrefix(spec, "="), "v")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			dots++
		case c >= '0' && c <= '9':
		case c == '-' || c == '+':
			// A prerelease or build suffix follows the three numbers.
			return dots == 2 && !strings.ContainsAny(s[i:], " <>|^~*")
		default:
			return false
		}
	}
	return dots == 2 && !strings.HasSuffix(s, ".")
}

func isCommit(s string) bool {
	if len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// integrity turns a Subresource Integrity string ("sha512-<base64>",
// possibly several separated by spaces) into digests. Values that do not
// decode are skipped: a digest in the report must be real.
func integrity(sri string) []inventory.Digest {
	var ds []inventory.Digest
	for _, part := range strings.Fields(sri) {
		alg, b64, ok := strings.Cut(part, "-")
		if !ok {
			continue
		}
		alg = strings.ToLower(alg)
		want := map[string]int{"sha512": 64, "sha384": 48, "sha256": 32, "sha1": 20}[alg]
		if want == 0 {
			continue
		}
		// An SRI value may carry options after '?'.
		b64, _, _ = strings.Cut(b64, "?")
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != want {
			continue
		}
		ds = append(ds, inventory.Digest{Algorithm: alg, Value: hex.EncodeToString(raw)})
	}
	return ds
}

// yarnChecksum turns a yarn berry checksum (hex SHA-512, optionally after
// a cache key such as "10c0/") into a digest.
func yarnChecksum(s string) []inventory.Digest {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) != 128 {
		return nil
	}
	if _, err := hex.DecodeString(s); err != nil {
		return nil
	}
	return []inventory.Digest{{Algorithm: "sha512", Value: strings.ToLower(s)}}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonError gives a JSON error the line it happened on.
func jsonError(data []byte, err error) error {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "json: ") {
		msg = "json: " + msg
	}
	if off < 0 || off > int64(len(data)) {
		return fmt.Errorf("%s", msg)
	}
	return &lineError{line: 1 + bytes.Count(data[:off], []byte{'\n'}), msg: msg}
}

// keyLines finds the line of every key at the given object depth (1 = the
// top-level keys) in a JSON document, keyed by the enclosing keys joined
// with NUL. It streams tokens, so one pass serves a lockfile of any size;
// on a syntax error it returns what it found so far.
func keyLines(data []byte, depth int) map[string]int {
	lines := make(map[string]int)
	dec := json.NewDecoder(bytes.NewReader(data))
	// Each level records whether the next string is a key, and the key
	// that opened it.
	type level struct {
		object, wantKey bool
		opener, cur     string
	}
	var stack []level
	var off int64
	line := 1
	advance := func(to int64) {
		if to > int64(len(data)) {
			to = int64(len(data))
		}
		if to > off {
			line += bytes.Count(data[off:to], []byte{'\n'})
			off = to
		}
	}
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return lines
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				key := ""
				if top >= 0 {
					key = stack[top].cur
					if stack[top].object {
						stack[top].wantKey = true
					}
				}
				stack = append(stack, level{object: t == '{', wantKey: t == '{', opener: key})
			default:
				stack = stack[:top]
				if top > 0 && stack[top-1].object {
					stack[top-1].wantKey = true
				}
			}
			continue
		case string:
			if top >= 0 && stack[top].object && stack[top].wantKey {
				stack[top].wantKey = false
				if top+1 == depth {
					// The key starts after any separator before it.
					advance(before + int64(bytes.IndexByte(data[before:], '"')))
					var path []string
					for _, l := range stack[1:] {
						path = append(path, l.opener)
					}
					lines[strings.Join(append(path, t), "\x00")] = line
				}
				stack[top].cur = t
				continue
			}
		}
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}
