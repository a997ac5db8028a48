package python

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pep"
)

var normalize = pep.Normalize

// A reqLine is one logical line of a requirements file: physical lines
// joined at trailing backslashes, comments removed.
type reqLine struct {
	text string
	line int // the first physical line
}

// logicalLines splits a requirements file as pip does: a backslash at the
// end of a line joins the next; '#' at the start or after whitespace
// begins a comment.
func logicalLines(data []byte) []reqLine {
	var out []reqLine
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimRight(l, "\r")
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(l[:len(l)-1])
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(l)
		text := stripComment(cur.String())
		cur.Reset()
		if text = strings.TrimSpace(text); text != "" {
			out = append(out, reqLine{text, start})
		}
	}
	if text := strings.TrimSpace(stripComment(cur.String())); text != "" {
		out = append(out, reqLine{text, start})
	}
	return out
}

func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// A ReqEntry is what one requirements line declares.
type ReqEntry struct {
	// Option is the option name for option lines ("--index-url",
	// "--requirement", ...), empty for a requirement.
	Option, Value string
	// For a requirement:
	Name, Spec, Markers, Extras string
	Source, URL, Revision       string
	Hashes                      []string
}

// errNoName is the error for a URL or path requirement with no way to tell
// the project's name.
var errNoName = errors.New("cannot tell the project name (add #egg=name or use name @ url)")

// ParseReqLine reads one logical requirements line.
func ParseReqLine(text string) (ReqEntry, error) {
	var e ReqEntry
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return e, errors.New("empty line")
	}
	if strings.HasPrefix(fields[0], "-") {
		opt, val, ok := strings.Cut(fields[0], "=")
		rest := fields[1:]
		if !ok && len(opt) > 2 && opt[1] != '-' {
			// Short option with its value attached: -rbase.txt
			opt, val, ok = opt[:2], opt[2:], true
		}
		if !ok {
			if len(rest) == 0 {
				switch opt {
				case "--pre", "--no-index", "--prefer-binary", "--require-hashes", "--only-binary", "--no-binary":
					return ReqEntry{Option: opt}, nil
				}
				return e, fmt.Errorf("option %s needs a value", opt)
			}
			val, rest = rest[0], rest[1:]
		}
		switch opt {
		case "-e", "--editable":
			r, err := urlRequirement(val, "editable")
			r.Hashes = hashes(rest)
			return r, err
		case "-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
			"-f", "--find-links", "--trusted-host", "--no-binary", "--only-binary", "--use-feature", "--config-settings":
			return ReqEntry{Option: opt, Value: val}, nil
		}
		return e, fmt.Errorf("unknown option %s", opt)
	}
	// A requirement, then per-requirement options (--hash, --config-settings).
	req, opts := text, ""
	if i := strings.Index(text, " --"); i >= 0 {
		req, opts = text[:i], text[i:]
	}
	req = strings.TrimSpace(req)
	if looksLikeURL(req) || strings.HasPrefix(req, ".") || strings.HasPrefix(req, "/") {
		e, err := urlRequirement(req, "")
		e.Hashes = hashes(strings.Fields(opts))
		return e, err
	}
	r, err := pep.Parse(req)
	if err != nil {
		return e, err
	}
	e = ReqEntry{Name: r.Name, Spec: r.Specifier, Markers: r.Markers, Extras: strings.Join(r.Extras, ","), Source: "registry"}
	if r.URL != "" {
		e.Source, e.URL, e.Revision = urlSource(r.URL)
		// A wheel's file name states its version exactly.
		if base := path.Base(e.URL); strings.HasSuffix(base, ".whl") {
			if n, v := fileNameVersion(base); normalize(n) == normalize(e.Name) && v != "" {
				e.Spec = "==" + v
			}
		}
	}
	e.Hashes = hashes(strings.Fields(opts))
	return e, nil
}

// hashes collects the values of --hash options.
func hashes(fields []string) []string {
	var hs []string
	for i := 0; i < len(fields); i++ {
		switch v, ok := strings.CutPrefix(fields[i], "--hash="); {
		case ok:
			hs = append(hs, v)
		case fields[i] == "--hash" && i+1 < len(fields):
			hs = append(hs, fields[i+1])
			i++
		}
	}
	return hs
}

func looksLikeURL(s string) bool {
	i := strings.Index(s, "://")
	return i > 0 && !strings.ContainsAny(s[:i], " [(<>=!~;")
}

// urlSource classifies a direct reference: "vcs" with its revision (after
// the last '@' in the path) for git+ / hg+ / svn+ / bzr+ URLs, "path" for
// file: URLs, "url" otherwise. The URL is returned without credentials or
// fragment.
func urlSource(u string) (source, clean, rev string) {
	u, _, _ = strings.Cut(u, "#")
	u = redact(u)
	scheme, _, _ := strings.Cut(u, "://")
	switch {
	case strings.Contains(scheme, "+"):
		if at := strings.LastIndexByte(u, '@'); at > len(scheme)+3 && at > strings.LastIndexByte(u, '/') {
			return "vcs", u[:at], u[at+1:]
		}
		return "vcs", u, ""
	case scheme == "file":
		return "path", u, ""
	}
	return "url", u, ""
}

// urlRequirement reads a requirement given as a URL or path, optionally
// editable. The name comes from #egg=, a wheel or sdist file name, or the
// last path element.
func urlRequirement(s, editable string) (ReqEntry, error) {
	e := ReqEntry{}
	if r, err := pep.Parse(s); err == nil && r.URL != "" {
		e.Name, e.Markers, e.Extras = r.Name, r.Markers, strings.Join(r.Extras, ",")
		e.Source, e.URL, e.Revision = urlSource(r.URL)
	} else {
		target, _, _ := strings.Cut(s, ";")
		target = strings.TrimSpace(target)
		if looksLikeURL(target) {
			e.Source, e.URL, e.Revision = urlSource(target)
		} else {
			e.Source, e.URL = "path", target
		}
		if _, frag, ok := strings.Cut(target, "#"); ok {
			for _, kv := range strings.Split(frag, "&") {
				if v, ok := strings.CutPrefix(kv, "egg="); ok {
					e.Name = v
				}
			}
		}
		if e.Name == "" {
			base := path.Base(strings.TrimRight(e.URL, "/"))
			if e.Source == "vcs" {
				base = strings.TrimSuffix(path.Base(strings.TrimRight(strings.SplitN(e.URL, "@", 2)[0], "/")), ".git")
			}
			name, version := fileNameVersion(base)
			e.Name, e.Spec = name, ""
			if version != "" {
				e.Spec = "==" + version
			}
		}
		if e.Name != "" {
			if r, err := pep.Parse(e.Name); err == nil {
				e.Name, e.Extras = r.Name, strings.Join(r.Extras, ",")
			}
		}
	}
	if editable != "" {
		e.Source = editable
	}
	if !pep.ValidName(e.Name) {
		return e, errNoName
	}
	return e, nil
}

// fileNameVersion reads the project name and version from a wheel or
// sdist file name; for anything else the name is the base name itself.
func fileNameVersion(base string) (string, string) {
	switch {
	case strings.HasSuffix(base, ".whl"):
		parts := strings.Split(strings.TrimSuffix(base, ".whl"), "-")
		if len(parts) >= 5 {
			return parts[0], parts[1]
		}
	case strings.HasSuffix(base, ".tar.gz"), strings.HasSuffix(base, ".zip"):
		stem := strings.TrimSuffix(strings.TrimSuffix(base, ".tar.gz"), ".zip")
		if i := strings.LastIndexByte(stem, '-'); i > 0 {
			return stem[:i], stem[i+1:]
		}
		return stem, ""
	}
	if base == "." || base == "/" {
		return "", ""
	}
	return base, ""
}

// requirements catalogs a requirements file and, for files on disk, the
// files it includes with -r and -c, relative to itself.
func (e *emitter) requirements(ctx context.Context, p string, data []byte, depth int, seen map[string]bool, constraint bool) {
	seen[filepath.Clean(p)] = true
	var pkgs []pkg
	var index string
	// A constraints file limits versions but installs nothing itself.
	dep := inventory.Direct
	if constraint || strings.HasPrefix(strings.ToLower(path.Base(p)), "constraints") {
		dep = ""
	}
	for _, l := range logicalLines(data) {
		if ctx.Err() != nil {
			return
		}
		r, err := ParseReqLine(l.text)
		if err != nil {
			e.malformed(p, l.line, l.text, err)
			continue
		}
		switch r.Option {
		case "":
		case "-i", "--index-url", "--extra-index-url":
			if u := redact(r.Value); !defaultIndex(u) {
				index = strings.TrimPrefix(index+","+u, ",")
			}
			continue
		case "-r", "--requirement", "-c", "--constraint":
			e.include(ctx, p, l.line, r.Value, depth, seen, r.Option == "-c" || r.Option == "--constraint")
			continue
		default:
			continue
		}
		k := pkg{eco: "pypi", name: r.Name, manifest: p, line: l.line, dep: dep,
			props: map[string]string{"source": r.Source, "markers": r.Markers, "extras": r.Extras}}
		if r.URL != "" {
			k.props["url"] = r.URL
			k.props["revision"] = r.Revision
		}
		if v, ok := pep.Pinned(r.Spec); ok {
			k.version = v
		} else {
			k.spec = r.Spec
		}
		k.sha256 = sha256s(r.Hashes...)
		if len(r.Hashes) > 0 {
			k.props["hashes"] = "true"
		}
		pkgs = append(pkgs, k)
	}
	for _, k := range pkgs {
		if index != "" && k.props["source"] == "registry" {
			k.props["index"] = index
		}
		e.emit(k)
	}
}

// include follows -r or -c name from the file at p.
func (e *emitter) include(ctx context.Context, p string, line int, name string, depth int, seen map[string]bool, constraint bool) {
	if !e.onDisk || looksLikeURL(name) || filepath.IsAbs(name) {
		// Remote includes are not fetched; absolute ones point outside
		// what was asked to be scanned.
		return
	}
	target := filepath.Join(filepath.Dir(p), filepath.FromSlash(name))
	if kindOf(filepath.ToSlash(target), filepath.Base(target)) == requirements {
		// The walk hands it to this cataloger on its own; reading it here
		// too would report its packages twice.
		return
	}
	switch {
	case seen[filepath.Clean(target)]:
		return
	case depth+1 > MaxIncludeDepth || len(seen) >= MaxIncludes:
		e.sink.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: p, Line: line,
			Evidence: name,
			Message:  fmt.Sprintf("requirements includes nest deeper than %d or number more than %d; %s was not read", MaxIncludeDepth, MaxIncludes, name),
		})
		return
	}
	fi, err := os.Stat(target)
	if err != nil || !fi.Mode().IsRegular() {
		e.malformed(p, line, name, fmt.Errorf("included file cannot be read"))
		return
	}
	if fi.Size() > MaxManifest {
		e.sink.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: target,
			Evidence: fmt.Sprintf("%d bytes", fi.Size()),
			Message:  fmt.Sprintf("included requirements file is larger than %d bytes; its packages were not catalogued", MaxManifest),
		})
		return
	}
	data, err := os.ReadFile(target)
	if err != nil {
		e.malformed(p, line, name, fmt.Errorf("included file cannot be read"))
		return
	}
	e.requirements(ctx, filepath.ToSlash(target), data, depth+1, seen, constraint)
}
