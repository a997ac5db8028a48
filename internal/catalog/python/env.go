package python

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pep"
)

// conda reads a conda environment file: dependencies is a list of conda
// match specs ("numpy=1.26.4=py311h…", "python>=3.10", "conda-forge::scipy")
// and at most one {pip: [...]} holding requirements lines.
func (e *emitter) conda(data []byte) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		e.malformed(e.path, 0, "", fmt.Errorf("yaml: %s", firstLine(err.Error())))
		return
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		e.malformed(e.path, root.Line, "", fmt.Errorf("environment file is not a mapping"))
		return
	}
	doc := root.Content[0]
	var deps *yaml.Node
	var channels []string
	for i := 0; i+1 < len(doc.Content); i += 2 {
		switch doc.Content[i].Value {
		case "dependencies":
			deps = doc.Content[i+1]
		case "channels":
			for _, c := range doc.Content[i+1].Content {
				if c.Kind == yaml.ScalarNode && c.Value != "defaults" {
					channels = append(channels, redact(c.Value))
				}
			}
		}
	}
	if deps == nil {
		return
	}
	if deps.Kind != yaml.SequenceNode {
		e.malformed(e.path, deps.Line, "", fmt.Errorf("dependencies is not a list"))
		return
	}
	for _, d := range deps.Content {
		switch d.Kind {
		case yaml.ScalarNode:
			k, err := condaSpec(d.Value)
			if err != nil {
				e.malformed(e.path, d.Line, d.Value, err)
				continue
			}
			k.manifest, k.line, k.dep = e.path, d.Line, inventory.Direct
			if k.props["index"] == "" {
				k.props["index"] = strings.Join(channels, ",")
			}
			e.emit(k)
		case yaml.MappingNode:
			for i := 0; i+1 < len(d.Content); i += 2 {
				if d.Content[i].Value != "pip" || d.Content[i+1].Kind != yaml.SequenceNode {
					e.malformed(e.path, d.Content[i].Line, d.Content[i].Value, fmt.Errorf("unexpected mapping in dependencies"))
					continue
				}
				for _, r := range d.Content[i+1].Content {
					e.pipLine(r.Value, r.Line, "")
				}
			}
		default:
			e.malformed(e.path, d.Line, "", fmt.Errorf("unexpected dependency entry"))
		}
	}
}

// pipLine reports one requirements line found inside another manifest.
func (e *emitter) pipLine(text string, line int, group string) {
	r, err := ParseReqLine(text)
	if err != nil || r.Option != "" {
		if err == nil {
			return // options such as --index-url apply to pip, not a package
		}
		e.malformed(e.path, line, text, err)
		return
	}
	k := pkg{eco: "pypi", name: r.Name, manifest: e.path, line: line, dep: inventory.Direct,
		props: map[string]string{"source": r.Source, "markers": r.Markers, "extras": r.Extras, "url": r.URL, "revision": r.Revision, "group": group}}
	if v, ok := pep.Pinned(r.Spec); ok {
		k.version = v
	} else {
		k.spec = r.Spec
	}
	e.emit(k)
}

// condaSpec reads a conda match spec in its common string forms. An
// exact version is "name==v" or "name=v=build"; "name=v" means v.* to
// conda and is kept as a range.
func condaSpec(s string) (pkg, error) {
	k := pkg{eco: "conda", props: map[string]string{}}
	spec := strings.TrimSpace(s)
	if ch, rest, ok := strings.Cut(spec, "::"); ok {
		k.props["index"], spec = redact(ch), rest
	}
	i := strings.IndexAny(spec, "=<>!~ ")
	if i < 0 {
		i = len(spec)
	}
	k.name = spec[:i]
	rest := strings.TrimSpace(spec[i:])
	if !pep.ValidName(k.name) {
		return k, fmt.Errorf("bad conda package name %q", k.name)
	}
	switch parts := strings.Split(rest, "="); {
	case rest == "":
	case strings.HasPrefix(rest, "==") && !strings.ContainsAny(rest[2:], "*,|<>= "):
		k.version = rest[2:]
	case len(parts) == 3 && parts[0] == "" && parts[1] != "" && !strings.ContainsAny(parts[1], "*,|<> "):
		k.version = parts[1]
		k.props["build"] = parts[2]
	default:
		k.spec = strings.ReplaceAll(rest, " ", "")
	}
	if k.version == "" && k.spec != "" && strings.ContainsAny(k.spec, "\"'`$;") {
		return k, fmt.Errorf("bad conda version %q", rest)
	}
	return k, nil
}

// setupCfg reads install_requires and extras_require from setup.cfg's
// [options] and [options.extras_require] sections. Values continue on
// indented lines, as Python's configparser reads them.
func (e *emitter) setupCfg(data []byte) {
	section, key := "", ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), MaxManifest)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		t := strings.TrimSpace(raw)
		switch {
		case t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";"):
			continue
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			section, key = strings.TrimSpace(t[1:len(t)-1]), ""
			continue
		case raw[0] != ' ' && raw[0] != '\t':
			k, v, ok := strings.Cut(t, "=")
			if !ok {
				k, v, ok = strings.Cut(t, ":")
			}
			if !ok {
				e.malformed(e.path, n, t, fmt.Errorf("line is neither a section, a key nor a continuation"))
				key = ""
				continue
			}
			key = strings.TrimSpace(k)
			t = strings.TrimSpace(v)
		}
		group := ""
		switch {
		case section == "options" && key == "install_requires":
		case section == "options" && key == "setup_requires":
			group = "build-system"
		case section == "options.extras_require" && key != "":
			group = key
		default:
			continue
		}
		for _, item := range strings.Split(t, "\n") {
			if item = strings.TrimSpace(stripComment(item)); item == "" {
				continue
			}
			e.pipLine(item, n, group)
		}
	}
	if err := sc.Err(); err != nil {
		e.malformed(e.path, 0, "", err)
	}
}

// MaxRecordLines bounds the RECORD lines counted for an installed package.
const MaxRecordLines = 1_000_000

// distInfo reads an installed package's *.dist-info/METADATA: the Name
// and Version headers, and RECORD beside it for the count of installed
// files. A dist-info within a virtualenv (a pyvenv.cfg a few folders up)
// is marked with the environment's path.
func (e *emitter) distInfo(data []byte) {
	var name, version string
	n, nameLine := 0, 0
	for _, l := range strings.Split(string(data), "\n") {
		n++
		l = strings.TrimRight(l, "\r")
		if l == "" {
			break // the headers end at the first blank line; the body is free text
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "name":
			name, nameLine = strings.TrimSpace(v), n
		case "version":
			version = strings.TrimSpace(v)
		}
	}
	if !pep.ValidName(name) || version == "" {
		e.malformed(e.path, 0, name, fmt.Errorf("METADATA lacks a valid Name or Version header"))
		return
	}
	k := pkg{eco: "pypi", name: name, version: version, manifest: e.path, line: nameLine, props: map[string]string{"source": "installed"}}
	if e.onDisk {
		dir := filepath.Dir(filepath.FromSlash(e.path))
		if c, ok := countLines(filepath.Join(dir, "RECORD")); ok {
			k.props["installed-files"] = strconv.Itoa(c)
		}
		// site-packages/X.dist-info is lib/pythonX.Y/site-packages under
		// the venv root on Unix, Lib/site-packages on Windows.
		up := dir
		for range 4 {
			up = filepath.Dir(up)
			if fi, err := os.Stat(filepath.Join(up, "pyvenv.cfg")); err == nil && fi.Mode().IsRegular() {
				k.props["environment"] = filepath.ToSlash(up)
				break
			}
		}
	}
	e.emit(k)
}

// countLines counts the non-empty lines of a file, up to MaxRecordLines.
func countLines(p string) (int, bool) {
	f, err := os.Open(p)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	c := 0
	for sc.Scan() && c < MaxRecordLines {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			c++
		}
	}
	return c, sc.Err() == nil
}
