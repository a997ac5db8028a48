package containers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Limits of the Dockerfile reader. Real Dockerfiles are a few KB.
const (
	// MaxSize bounds the bytes read of one Dockerfile: 1 MiB is a hundred
	// times the largest seen in practice.
	MaxSize = 1 << 20
	// MaxInstructions bounds the instructions parsed of one file.
	MaxInstructions = 10000
)

// Dockerfile catalogs Dockerfiles and Containerfiles.
type Dockerfile struct{}

// Name implements inventory.Cataloger.
func (Dockerfile) Name() string { return "containers/dockerfile" }

// Wants takes files named like Dockerfiles, and files whose first
// instruction is an upper-case FROM (Python's "from x import y" is not),
// unless they are Ollama Modelfiles.
func (Dockerfile) Wants(f *inventory.File) bool {
	n := strings.ToLower(f.Name)
	if IsDockerfileName(n) {
		return true
	}
	// Ollama Modelfiles also start with FROM; their FROM names a model.
	// The cheap test first: most files do not start with FROM at all.
	if n == "modelfile" || strings.HasPrefix(n, "modelfile.") || strings.HasSuffix(n, ".modelfile") {
		return false
	}
	return firstIsFrom(f.Head) && !modelfileRE.Match(f.Head)
}

// IsDockerfileName reports whether a file name (lower case) is one that
// docker build and podman take as a Dockerfile: Dockerfile, Containerfile,
// *.dockerfile, or Dockerfile.<variant> — but not source code or
// documentation about them (dockerfile.go, dockerfile.md).
func IsDockerfileName(n string) bool {
	switch {
	case n == "dockerfile" || n == "containerfile" || strings.HasSuffix(n, ".dockerfile"):
		return true
	case strings.HasPrefix(n, "dockerfile.") || strings.HasPrefix(n, "containerfile."):
		return !notDockerfileExt[path.Ext(n)]
	}
	return false
}

// notDockerfileExt are the extensions of source code and documentation.
var notDockerfileExt = map[string]bool{
	".go": true, ".py": true, ".js": true, ".mjs": true, ".cjs": true, ".ts": true, ".rs": true,
	".java": true, ".rb": true, ".c": true, ".h": true, ".cpp": true, ".md": true, ".rst": true,
	".html": true, ".json": true,
}

// modelfileRE finds an instruction only Ollama Modelfiles have.
var modelfileRE = regexp.MustCompile(`(?m)^\s*(PARAMETER|TEMPLATE|SYSTEM|ADAPTER|MESSAGE)\s`)

var fromRE = regexp.MustCompile(`^FROM\s+(--\S+\s+)*[A-Za-z0-9$][^\s]*(\s+(AS|as)\s+\S+)?\s*$`)

func firstIsFrom(head []byte) bool {
	for line := range bytes.Lines(head) {
		t := bytes.TrimSpace(line)
		switch {
		case len(t) == 0 || t[0] == '#':
			continue
		case bytes.HasPrefix(t, []byte("ARG ")):
			continue
		}
		return bytes.HasPrefix(t, []byte("FROM")) && fromRE.Match(t)
	}
	return false
}

// An instruction is one Dockerfile instruction with continuations joined.
type instruction struct {
	Line int    // 1-based line of its first line
	Cmd  string // upper case
	Args string
	// Text is the instruction with continuations joined; segs map its
	// offsets back to lines and columns.
	Text string
	segs []segment
	// Body is a heredoc's text, which starts on line BodyLine.
	Body     string
	BodyLine int
}

// A segment is where one physical line's text starts in a joined
// instruction: at offset off, from 1-based line and column.
type segment struct{ off, line, col int }

// pos maps an offset in Text back to its line and 1-based byte column.
func (in instruction) pos(off int) (line, col int) {
	i := sort.Search(len(in.segs), func(i int) bool { return in.segs[i].off > off }) - 1
	if i < 0 {
		return in.Line, 1
	}
	s := in.segs[i]
	return s.line, s.col + off - s.off
}

// parse splits text into instructions. Heredoc bodies are skipped: they
// are data or scripts, not instructions.
func parse(text string) (ins []instruction, truncated bool) {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		raw := strings.TrimSuffix(lines[i], "\r")
		t := strings.TrimSpace(raw)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		start := i + 1
		var b strings.Builder
		var segs []segment
		for {
			segs = append(segs, segment{off: b.Len(), line: i + 1, col: strings.Index(raw, t) + 1})
			cont := strings.HasSuffix(t, "\\")
			b.WriteString(strings.TrimSuffix(t, "\\"))
			if !cont || i+1 >= len(lines) {
				break
			}
			b.WriteByte(' ')
			i++
			// Comment lines inside a continuation are dropped, as docker does.
			for i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "#") {
				i++
			}
			if i >= len(lines) {
				break
			}
			raw = strings.TrimSuffix(lines[i], "\r")
			t = strings.TrimSpace(raw)
		}
		full := b.String()
		cmd, args, _ := strings.Cut(full, " ")
		in := instruction{Line: start, Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Text: full, segs: segs}
		if len(ins) == MaxInstructions {
			return ins, true
		}
		if m := heredocRE.FindStringSubmatch(full); m != nil {
			body := i + 1
			for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != m[1] {
				i++
			}
			if body < len(lines) {
				in.Body, in.BodyLine = strings.Join(lines[body:min(i+1, len(lines))], "\n"), body+1
			}
			i++
		}
		ins = append(ins, in)
	}
	return ins, false
}

var heredocRE = regexp.MustCompile(`<<-?["']?([A-Za-z_][A-Za-z0-9_]*)["']?`)

// Catalog implements inventory.Cataloger.
func (d Dockerfile) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	n := min(f.Size, MaxSize)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	selfID := inventory.FileComponentID(inventory.KindContainer, f.Path)
	self := inventory.Component{
		ID: selfID, Kind: inventory.KindContainer, Name: f.Path,
		Locations:  []inventory.Location{{Path: f.Path}},
		Properties: map[string]string{"format": "dockerfile"},
	}
	if f.Component != "" {
		self.ID = f.Component
		selfID = f.Component
	}
	ins, truncated := parse(string(buf))
	if f.Size > MaxSize || truncated {
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Component: selfID, Path: f.Path,
			Evidence:    fmt.Sprintf("size %d bytes, %d instructions", f.Size, len(ins)),
			Message:     fmt.Sprintf("Dockerfile read only to %d bytes or %d instructions; images and packages after that are not listed", MaxSize, MaxInstructions),
			Remediation: "split the file, or review the rest by hand",
		})
	}
	args := map[string]string{} // ARG defaults that are literal
	stages := map[string]bool{}
	distro := "debian"
	var deps []string
	seen := map[string]bool{}
	add := func(c inventory.Component) {
		s.Component(c)
		if !seen[c.ID] {
			seen[c.ID] = true
			deps = append(deps, c.ID)
		}
	}
	var unresolved []string
	rep := reporter{s: s, path: f.Path, self: selfID}
	rep.syntax(buf)
	for i, in := range ins {
		if i&0xff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		loc := inventory.Location{Path: f.Path, Line: in.Line}
		switch in.Cmd {
		case "ARG":
			for _, a := range strings.Fields(in.Args) {
				k, v, ok := strings.Cut(a, "=")
				v = strings.Trim(v, `"'`)
				if ok && !strings.Contains(v, "$") {
					args[k] = v
				}
			}
		case "FROM":
			ref, stage := fromArgs(in.Args)
			ref = expand(ref, args)
			if stage != "" {
				stages[strings.ToLower(stage)] = true
			}
			if ref == "scratch" || stages[strings.ToLower(ref)] && !strings.ContainsAny(ref, ":@/") {
				continue
			}
			im, ok := ParseImage(ref)
			if !ok {
				unresolved = append(unresolved, ref)
				continue
			}
			if strings.Contains(im.Path, "alpine") {
				distro = "alpine"
			} else if strings.Contains(im.Path, "ubuntu") {
				distro = "ubuntu"
			}
			c := im.Component(loc)
			c.Properties["source"] = "dockerfile"
			add(c)
			rep.base(in, im, c.ID)
		case "RUN":
			for _, r := range installs(expand(in.Args, args), distro) {
				add(r.Component(loc, "dockerfile"))
			}
			rep.run(in)
		case "ADD":
			rep.add(in)
		}
	}
	self.DependsOn = deps
	if len(unresolved) > 0 {
		self.Properties["unresolved-images"] = strings.Join(unresolved, ",")
	}
	s.Component(self)
	return nil
}

// fromArgs splits FROM's arguments into the image reference and stage name.
func fromArgs(a string) (ref, stage string) {
	fs := strings.Fields(a)
	for len(fs) > 0 && strings.HasPrefix(fs[0], "--") {
		fs = fs[1:]
	}
	if len(fs) == 0 {
		return "", ""
	}
	if len(fs) >= 3 && strings.EqualFold(fs[1], "as") {
		stage = fs[2]
	}
	return fs[0], stage
}

var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expand substitutes ARG values known to be literal; others stay as written.
func expand(s string, args map[string]string) string {
	return varRE.ReplaceAllStringFunc(s, func(v string) string {
		m := varRE.FindStringSubmatch(v)
		name := m[1] + m[3]
		if val, ok := args[name]; ok {
			return val
		}
		if m[2] != "" {
			return m[2]
		}
		return v
	})
}

// installs finds the packages a shell command line installs.
func installs(line, distro string) []Req {
	var out []Req
	for _, cmd := range splitShell(line) {
		out = append(out, Installs(cmd, distro)...)
	}
	return out
}

// splitShell splits a command line at ;, &&, || and | into commands of
// words, with quotes removed. It is a lexer, not a shell: nothing is run.
func splitShell(line string) [][]string {
	var cmds [][]string
	var words []string
	var w strings.Builder
	inWord := false
	var quote byte
	flush := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	end := func() {
		flush()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				w.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		case c == ';' || c == '|' || c == '&' || c == '(' || c == ')':
			end()
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	end()
	return cmds
}

// Installs reads one command's words and returns the packages it installs
// from pip, uv, npm, yarn, pnpm, apt-get, apt and apk. distro names the
// purl namespace of apt packages ("debian" or "ubuntu").
func Installs(words []string, distro string) []Req {
	// Skip env assignments and sudo before the program.
	for len(words) > 0 && (strings.Contains(words[0], "=") || words[0] == "sudo") {
		words = words[1:]
	}
	if len(words) < 2 {
		return nil
	}
	prog := path.Base(words[0])
	rest := words[1:]
	if (strings.HasPrefix(prog, "python")) && len(rest) >= 2 && rest[0] == "-m" {
		prog, rest = rest[1], rest[2:]
	}
	if prog == "uv" && len(rest) > 0 && rest[0] == "pip" {
		prog, rest = "pip", rest[1:]
	}
	if len(rest) == 0 {
		return nil
	}
	// Options may come before the subcommand: "apt-get -y install".
	for len(rest) > 1 && strings.HasPrefix(rest[0], "-") {
		rest = rest[1:]
	}
	sub := rest[0]
	pkgs := rest[1:]
	var parse func(string) (Req, bool)
	var valued map[string]bool // options that take a value
	switch {
	case (prog == "pip" || prog == "pip3") && sub == "install":
		parse = ParsePyPI
		valued = map[string]bool{"-r": true, "--requirement": true, "-c": true, "--constraint": true,
			"-e": true, "--editable": true, "-i": true, "--index-url": true, "--extra-index-url": true,
			"-f": true, "--find-links": true, "-t": true, "--target": true, "--prefix": true, "--root": true,
			"--trusted-host": true, "--platform": true, "--python-version": true}
	case prog == "uv" && sub == "add":
		parse = ParsePyPI
	case (prog == "npm" && (sub == "install" || sub == "i" || sub == "add")) ||
		((prog == "yarn" || prog == "pnpm") && sub == "add"):
		parse = ParseNPM
		valued = map[string]bool{"--prefix": true, "--registry": true, "--tag": true}
	case (prog == "apt-get" || prog == "apt") && sub == "install":
		parse = func(s string) (Req, bool) { return ParseDistro("deb", distro, s) }
		valued = map[string]bool{"-o": true, "-t": true}
	case prog == "apk" && sub == "add":
		parse = func(s string) (Req, bool) { return ParseDistro("apk", "alpine", s) }
		valued = map[string]bool{"--repository": true, "-X": true, "-t": true, "--virtual": true}
	default:
		return nil
	}
	var out []Req
	index := ""
	for i := 0; i < len(pkgs); i++ {
		a := pkgs[i]
		if k, v, ok := strings.Cut(a, "="); ok && (k == "--index-url" || k == "--registry") {
			index = StripURL(v)
			continue
		}
		if strings.HasPrefix(a, "-") {
			if valued[a] && i+1 < len(pkgs) {
				if a == "-i" || a == "--index-url" || a == "--registry" {
					index = StripURL(pkgs[i+1])
				}
				i++
			}
			continue
		}
		if r, ok := parse(a); ok {
			out = append(out, r)
		}
	}
	for i := range out {
		out[i].Index = index
	}
	return out
}
