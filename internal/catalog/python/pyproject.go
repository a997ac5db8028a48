package python

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pep"
)

// lineIndex finds the line a value was written on. TOML and JSON decoders
// do not keep positions, so the first line holding the quoted value is
// taken: exact for the one-item-a-line layout every tool writes.
type lineIndex []string

func newLineIndex(data []byte) lineIndex { return strings.Split(string(data), "\n") }

// find returns the 1-based line of the first line containing needle
// quoted (or, with bare, unquoted as a key), 0 if none.
func (li lineIndex) find(needle string, bare bool) int {
	for i, l := range li {
		if strings.Contains(l, `"`+needle+`"`) || strings.Contains(l, `'`+needle+`'`) {
			return i + 1
		}
		if bare {
			t := strings.TrimSpace(l)
			if strings.HasPrefix(t, needle) && strings.HasPrefix(strings.TrimSpace(t[len(needle):]), "=") {
				return i + 1
			}
		}
	}
	return 0
}

// headers returns the lines of every "[[header]]" array-of-tables header,
// in order: the i-th element of the decoded array is at the i-th line.
func (li lineIndex) headers(header string) []int {
	var lines []int
	for i, l := range li {
		if strings.TrimSpace(l) == "[["+header+"]]" {
			lines = append(lines, i+1)
		}
	}
	return lines
}

func at(lines []int, i int) int {
	if i < len(lines) {
		return lines[i]
	}
	return 0
}

// TOML shape limits. The TOML decoder's cost grows with the square of
// how deeply a value is nested and how many parts a dotted key has (60 KB
// of nested inline tables takes it most of a minute), so both are bounded
// before it sees the input. Real manifests nest three or four deep.
const (
	MaxTOMLDepth   = 32 // brackets and braces open at once
	MaxTOMLKeyDots = 32 // dots outside strings on one line
)

// errTOMLShape is the error for TOML nested beyond the limits.
var errTOMLShape = errors.New("toml: nested deeper than the scan reads")

// checkTOMLShape scans data once, skipping strings and comments, and
// reports the line where nesting or a dotted key passes the limits.
func checkTOMLShape(data []byte) (int, error) {
	depth, dots, line := 0, 0, 1
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line, dots = line+1, 0
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
		case '"', '\'':
			// Skip the string; multi-line strings ("""...""") may hold newlines.
			quote := []byte{c}
			if i+2 < len(data) && data[i+1] == c && data[i+2] == c {
				quote = []byte{c, c, c}
			}
			i += len(quote)
			for i < len(data) {
				if c == '"' && data[i] == '\\' {
					i += 2
					continue
				}
				if data[i] == '\n' {
					line++
				}
				if len(data)-i >= len(quote) && string(data[i:i+len(quote)]) == string(quote) {
					i += len(quote) - 1
					break
				}
				i++
			}
		case '[', '{':
			if depth++; depth > MaxTOMLDepth {
				return line, errTOMLShape
			}
		case ']', '}':
			depth = max(depth-1, 0)
		case '.':
			if dots++; dots > MaxTOMLKeyDots {
				return line, errTOMLShape
			}
		}
	}
	return 0, nil
}

// decodeTOML decodes data into a generic tree, reporting a parse error.
func (e *emitter) decodeTOML(data []byte) (map[string]any, bool) {
	var doc map[string]any
	if line, err := checkTOMLShape(data); err != nil {
		e.malformed(e.path, line, "", err)
		return nil, false
	}
	if _, err := toml.Decode(string(data), &doc); err != nil {
		line := 0
		var perr toml.ParseError
		if ok := asParseError(err, &perr); ok {
			line = perr.Position.Line
		}
		e.malformed(e.path, line, "", errors.New(firstLine(err.Error())))
		return nil, false
	}
	return doc, true
}

func asParseError(err error, p *toml.ParseError) bool {
	if pe, ok := err.(toml.ParseError); ok {
		*p = pe
		return true
	}
	return false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// table and friends walk a decoded tree without panicking on a value of an
// unexpected type: a wrong type reads as absent.
func table(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func strs(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func tables(v any) []map[string]any {
	switch list := v.(type) {
	case []map[string]any:
		return list
	case []any:
		var out []map[string]any
		for _, x := range list {
			if t, ok := x.(map[string]any); ok {
				out = append(out, t)
			}
		}
		return out
	}
	return nil
}

// A decl is one dependency a project manifest declares.
type decl struct {
	req   string // PEP 508 string, or "" for a Poetry/Pipfile table entry
	name  string
	spec  string // for Poetry/Pipfile entries, the version constraint as written
	group string
	props map[string]string
}

// pep508 turns PEP 508 strings into decls of group.
func pep508(list []string, group string) []decl {
	var out []decl
	for _, s := range list {
		out = append(out, decl{req: s, group: group})
	}
	return out
}

// declarations lists what a pyproject.toml declares, in a stable order.
func declarations(doc map[string]any) []decl {
	var ds []decl
	proj := table(doc, "project")
	ds = append(ds, pep508(strs(proj["dependencies"]), "")...)
	opt := table(proj, "optional-dependencies")
	for _, g := range sortedKeys(opt) {
		ds = append(ds, pep508(strs(opt[g]), g)...)
	}
	groups := table(doc, "dependency-groups")
	for _, g := range sortedKeys(groups) {
		ds = append(ds, pep508(strs(groups[g]), g)...)
	}
	ds = append(ds, pep508(strs(table(doc, "build-system")["requires"]), "build-system")...)
	ds = append(ds, pep508(strs(table(doc, "tool", "uv")["dev-dependencies"]), "dev")...)
	pdm := table(doc, "tool", "pdm", "dev-dependencies")
	for _, g := range sortedKeys(pdm) {
		ds = append(ds, pep508(strs(pdm[g]), g)...)
	}
	poetry := table(doc, "tool", "poetry")
	ds = append(ds, poetryDecls(table(poetry, "dependencies"), "")...)
	ds = append(ds, poetryDecls(table(poetry, "dev-dependencies"), "dev")...)
	pg := table(poetry, "group")
	for _, g := range sortedKeys(pg) {
		ds = append(ds, poetryDecls(table(pg, g, "dependencies"), g)...)
	}
	return ds
}

// poetryDecls reads a Poetry (or Pipfile) dependency table: name = "constraint"
// or name = { version = ..., git = ..., path = ..., extras = [...] }.
func poetryDecls(deps map[string]any, group string) []decl {
	var out []decl
	for _, name := range sortedKeys(deps) {
		if strings.EqualFold(name, "python") {
			continue
		}
		d := decl{name: name, group: group, props: map[string]string{"source": "registry"}}
		switch v := deps[name].(type) {
		case string:
			d.spec = v
		case map[string]any:
			d.spec = str(v, "version")
			d.props["markers"] = str(v, "markers")
			d.props["extras"] = strings.Join(strs(v["extras"]), ",")
			for _, k := range []string{"git", "url", "path", "file"} {
				if u := str(v, k); u != "" {
					d.props["source"] = map[string]string{"git": "vcs", "url": "url", "path": "path", "file": "path"}[k]
					d.props["url"] = redact(u)
				}
			}
			d.props["revision"] = firstNonEmpty(str(v, "rev"), str(v, "ref"), str(v, "tag"), str(v, "branch"))
			if b, _ := v["editable"].(bool); b || (v["develop"] == true) {
				d.props["source"] = "editable"
			}
			d.props["index"] = str(v, "index")
		case []any:
			// Poetry's multiple-constraint form: a list of tables.
			for _, t := range tables(v) {
				d.spec = strings.TrimPrefix(d.spec+" || "+str(t, "version"), " || ")
			}
		}
		out = append(out, d)
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// poetryPin returns the version a Poetry or Pipfile constraint pins: a bare
// version means exactly that version in Poetry, "==v" in both.
func poetryPin(spec string) (string, bool) {
	spec = strings.ReplaceAll(spec, " ", "")
	if v, ok := pep.Pinned(spec); ok {
		return v, true
	}
	if spec == "" || spec == "*" || strings.ContainsAny(spec, "<>=!~^*|,") {
		return "", false
	}
	if _, err := pep.Specifier("==" + spec); err != nil {
		return "", false
	}
	return spec, true
}

// pyproject catalogs a pyproject.toml.
func (e *emitter) pyproject(data []byte) {
	doc, ok := e.decodeTOML(data)
	if !ok {
		return
	}
	li := newLineIndex(data)
	uv := table(doc, "tool", "uv")
	sources := table(uv, "sources")
	indexes := map[string]string{}
	defaultIdx := ""
	for _, ix := range tables(uv["index"]) {
		u := redact(str(ix, "url"))
		indexes[str(ix, "name")] = u
		if ix["default"] == true && !defaultIndex(u) {
			defaultIdx = u
		}
	}
	for _, d := range declarations(doc) {
		e.emitDecl(d, li, sources, indexes, defaultIdx)
	}
}

// emitDecl reports one declared dependency of a project manifest.
func (e *emitter) emitDecl(d decl, li lineIndex, uvSources map[string]any, uvIndexes map[string]string, defaultIdx string) {
	k := pkg{eco: "pypi", manifest: e.path, dep: inventory.Direct, props: map[string]string{"group": d.group}}
	if d.req != "" {
		r, err := ParseReqLine(d.req)
		if err != nil || r.Option != "" {
			if err == nil {
				err = fmt.Errorf("not a requirement")
			}
			e.malformed(e.path, li.find(d.req, false), d.req, err)
			return
		}
		k.name, k.line = r.Name, li.find(d.req, false)
		k.props["source"], k.props["markers"], k.props["extras"] = r.Source, r.Markers, r.Extras
		k.props["url"], k.props["revision"] = r.URL, r.Revision
		if v, ok := pep.Pinned(r.Spec); ok {
			k.version = v
		} else {
			k.spec = r.Spec
		}
	} else {
		if !pep.ValidName(d.name) {
			e.malformed(e.path, li.find(d.name, true), d.name, fmt.Errorf("bad project name"))
			return
		}
		k.name, k.line = d.name, li.find(d.name, true)
		for key, v := range d.props {
			k.props[key] = v
		}
		if v, ok := poetryPin(d.spec); ok {
			k.version = v
		} else if d.spec != "*" {
			k.spec = d.spec
		}
	}
	var src map[string]any
	for name := range uvSources {
		if normalize(name) == normalize(k.name) {
			src = table(uvSources, name)
		}
	}
	if src != nil {
		switch {
		case str(src, "git") != "":
			k.props["source"], k.props["url"] = "vcs", redact(str(src, "git"))
			k.props["revision"] = firstNonEmpty(str(src, "rev"), str(src, "tag"), str(src, "branch"))
		case str(src, "url") != "":
			k.props["source"], k.props["url"] = "url", redact(str(src, "url"))
		case str(src, "path") != "":
			k.props["source"], k.props["url"] = "path", str(src, "path")
			if src["editable"] == true {
				k.props["source"] = "editable"
			}
		case src["workspace"] == true:
			k.props["source"] = "path"
		case str(src, "index") != "":
			k.props["index"] = uvIndexes[str(src, "index")]
		}
	}
	if k.props["source"] == "registry" && k.props["index"] == "" {
		k.props["index"] = defaultIdx
	}
	e.emit(k)
}

// directNames returns the normalised names the project manifest beside a
// lockfile declares (pyproject.toml, else Pipfile), and whether one was
// found. Only files on disk have neighbours to read.
func (e *emitter) directNames() (map[string]bool, bool) {
	if !e.onDisk {
		return nil, false
	}
	dir := filepath.Dir(filepath.FromSlash(e.path))
	for _, name := range []string{"pyproject.toml", "Pipfile"} {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > MaxManifest {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var doc map[string]any
		if _, err := checkTOMLShape(data); err != nil {
			continue
		}
		if _, err := toml.Decode(string(data), &doc); err != nil {
			continue
		}
		var ds []decl
		if name == "Pipfile" {
			ds = append(poetryDecls(table(doc, "packages"), ""), poetryDecls(table(doc, "dev-packages"), "dev")...)
		} else {
			ds = declarations(doc)
		}
		names := map[string]bool{}
		for _, d := range ds {
			n := d.name
			if d.req != "" {
				if r, err := ParseReqLine(d.req); err == nil {
					n = r.Name
				}
			}
			names[normalize(n)] = true
		}
		return names, true
	}
	return nil, false
}

// pipfile catalogs a Pipfile: [packages], [dev-packages] and [[source]].
func (e *emitter) pipfile(data []byte) {
	doc, ok := e.decodeTOML(data)
	if !ok {
		return
	}
	li := newLineIndex(data)
	indexes := map[string]string{}
	defaultIdx := ""
	for i, s := range tables(doc["source"]) {
		u := redact(str(s, "url"))
		indexes[str(s, "name")] = u
		if i == 0 && !defaultIndex(u) {
			defaultIdx = u
		}
	}
	ds := append(poetryDecls(table(doc, "packages"), ""), poetryDecls(table(doc, "dev-packages"), "dev")...)
	for _, d := range ds {
		if ix, ok := indexes[d.props["index"]]; ok {
			d.props["index"] = ix
		}
		e.emitDecl(d, li, nil, nil, defaultIdx)
	}
}
