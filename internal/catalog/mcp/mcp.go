// Package mcp inventories agent plugins: the MCP servers that AI clients
// (Claude Desktop and Code, Cursor, VS Code, Gemini CLI, Windsurf) are
// configured to launch or call, and Claude Code's enabled plugins.
//
// Each server is a plugin component "plugin:<config path>#<name>" whose
// properties say how it runs (transport, command, url) and which
// environment variables and headers it is given, by name only: a config
// often holds API keys, and no value from env or headers, no URL
// credential and no secret-looking argument reaches the report. A launch
// through npx, uvx, pipx or docker run makes the plugin depend on a
// package or container component.
//
// While it reads a config it reports what makes a server risky to run
// (vet.go): a launch without an exact version or digest
// (mcp/unpinned-launch), a remote server over plain HTTP
// (mcp/plain-http), a literal credential in env, headers, arguments or
// the URL (mcp/inline-secret, whose evidence shows at most the first four
// characters and the length), and a filesystem server or container given
// the whole disk or a home directory (mcp/filesystem-root).
package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/catalog/containers"
	"github.com/chainvet/chainvet/internal/inventory"
)

// MaxSize bounds the bytes read of one config: 1 MiB is hundreds of times
// the size of a config listing dozens of servers.
const MaxSize = 1 << 20

// MaxServers bounds the servers reported from one config.
const MaxServers = 1000

// RuleMalformed is reported when a config cannot be parsed.
const RuleMalformed = "bom/malformed"

// Plugins catalogs MCP client configurations.
type Plugins struct{}

// Name implements inventory.Cataloger.
func (Plugins) Name() string { return "plugins/mcp" }

// client names the MCP client a config belongs to, from its path; "" when
// the path is not one a client reads.
func client(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	n := path.Base(p)
	dir := path.Base(path.Dir(p))
	switch {
	case n == ".mcp.json":
		return "claude-code"
	case n == "mcp.json" && dir == ".vscode":
		return "vscode"
	case n == "mcp.json" && dir == ".cursor":
		return "cursor"
	case n == "claude_desktop_config.json":
		return "claude-desktop"
	case (n == "settings.json" || n == "settings.local.json") && dir == ".claude":
		return "claude-code"
	case n == "settings.json" && dir == ".gemini":
		return "gemini"
	case n == "mcp_config.json":
		return "windsurf"
	}
	return ""
}

// Wants takes the configs clients read by name, and any other JSON file
// whose head declares "mcpServers": content decides.
func (Plugins) Wants(f *inventory.File) bool {
	if client(f.Path) != "" {
		return true
	}
	if !strings.HasSuffix(strings.ToLower(f.Name), ".json") {
		return false
	}
	h := bytes.TrimSpace(f.Head)
	return len(h) > 0 && h[0] == '{' && bytes.Contains(h, []byte(`"mcpServers"`))
}

// config is the part of every client's format that names servers.
type config struct {
	MCPServers     map[string]json.RawMessage `json:"mcpServers"`
	Servers        map[string]json.RawMessage `json:"servers"` // VS Code
	EnabledPlugins map[string]json.RawMessage `json:"enabledPlugins"`
}

// server is one server entry; fields differ a little between clients.
type server struct {
	Type      string                     `json:"type"`
	Command   string                     `json:"command"`
	Args      []json.RawMessage          `json:"args"`
	Env       map[string]json.RawMessage `json:"env"`
	URL       string                     `json:"url"`
	ServerURL string                     `json:"serverUrl"` // Windsurf
	HTTPURL   string                     `json:"httpUrl"`   // Gemini
	Headers   map[string]json.RawMessage `json:"headers"`
	Disabled  bool                       `json:"disabled"`
}

// Catalog implements inventory.Cataloger.
func (Plugins) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	buf := make([]byte, min(f.Size, MaxSize))
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	cl := client(f.Path)
	if cl == "" {
		cl = "generic"
	}
	malformed := func(line int, ev string) {
		s.Finding(inventory.Finding{
			Rule: RuleMalformed, Severity: inventory.Low, Component: f.Component, Path: f.Path, Line: line,
			Evidence:    ev,
			Message:     "a manifest could not be parsed; components it declares may be missing from the inventory",
			Remediation: "fix the JSON; the client will not load these servers either",
		})
	}
	if f.Size > MaxSize {
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: f.Path,
			Evidence:    fmt.Sprintf("size %d bytes", f.Size),
			Message:     fmt.Sprintf("MCP config larger than %d bytes was not parsed; its servers are not listed", MaxSize),
			Remediation: "review the file by hand",
		})
		return nil
	}
	clean := StripJSONC(buf)
	var cfg config
	if err := json.Unmarshal(clean, &cfg); err != nil {
		line := 0
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line = lineAt(clean, int(se.Offset))
		}
		malformed(line, err.Error())
		return nil
	}
	servers := cfg.MCPServers
	if servers == nil {
		servers = cfg.Servers
	}
	names := slices.Sorted(maps.Keys(servers))
	if len(names) > MaxServers {
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: f.Path,
			Evidence: fmt.Sprintf("%d servers", len(names)),
			Message:  fmt.Sprintf("only the first %d MCP servers are listed", MaxServers),
		})
		names = names[:MaxServers]
	}
	for _, name := range names {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := keyLine(clean, name)
		var sv server
		if err := json.Unmarshal(servers[name], &sv); err != nil {
			malformed(line, fmt.Sprintf("server %q: %v", name, err))
			continue
		}
		plugin(f.Path, cl, name, line, sv, s)
		v := vetter{cfgPath: f.Path, comp: "plugin:" + f.Path + "#" + name, name: name, line: line, clean: clean, s: s}
		v.vet(sv, stringArgs(sv.Args))
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.EnabledPlugins)) {
		id := "plugin:" + f.Path + "#" + name
		plug, market, _ := strings.Cut(name, "@")
		props := map[string]string{"client": cl, "format": "claude-plugin",
			"enabled": fmt.Sprint(string(cfg.EnabledPlugins[name]) == "true")}
		if market != "" {
			props["marketplace"] = market
		}
		s.Component(inventory.Component{ID: id, Kind: inventory.KindPlugin, Name: plug,
			Locations:  []inventory.Location{{Path: f.Path, Line: keyLine(clean, name)}},
			Properties: props, Dependency: inventory.Direct})
	}
	return nil
}

func plugin(cfgPath, cl, name string, line int, sv server, s inventory.Sink) {
	loc := inventory.Location{Path: cfgPath, Line: line}
	props := map[string]string{"client": cl, "format": "mcp-server"}
	rawURL := cmpOr(sv.URL, sv.ServerURL, sv.HTTPURL)
	transport := strings.ToLower(sv.Type)
	switch transport {
	case "stdio", "sse", "http":
	case "streamable-http", "streamablehttp", "streamable_http":
		transport = "http"
	default:
		switch {
		case sv.Command != "":
			transport = "stdio"
		case sv.HTTPURL != "":
			transport = "http"
		case rawURL != "" && strings.HasSuffix(strings.TrimSuffix(rawURL, "/"), "/sse"):
			transport = "sse"
		case rawURL != "":
			transport = "http"
		}
	}
	if transport != "" {
		props["transport"] = transport
	}
	if u := containers.StripURL(rawURL); u != "" {
		props["url"] = u
	}
	args := stringArgs(sv.Args)
	if sv.Command != "" {
		props["command"] = redactWord(sv.Command)
	}
	if len(args) > 0 {
		props["args"] = strings.Join(RedactArgs(args), " ")
	}
	if len(sv.Env) > 0 {
		props["env"] = strings.Join(slices.Sorted(maps.Keys(sv.Env)), ",")
	}
	if len(sv.Headers) > 0 {
		props["headers"] = strings.Join(slices.Sorted(maps.Keys(sv.Headers)), ",")
	}
	if sv.Disabled {
		props["enabled"] = "false"
	}
	c := inventory.Component{
		ID: "plugin:" + cfgPath + "#" + name, Kind: inventory.KindPlugin, Name: name,
		Locations: []inventory.Location{loc}, Properties: props, Dependency: inventory.Direct,
	}
	if dep, ok := Launch(sv.Command, args, loc); ok {
		dep.Properties["client"] = cl
		s.Component(dep)
		c.DependsOn = []string{dep.ID}
	}
	s.Component(c)
}

// stringArgs keeps the string arguments; others are not command words.
func stringArgs(raw []json.RawMessage) []string {
	var out []string
	for _, r := range raw {
		var a string
		if json.Unmarshal(r, &a) == nil {
			out = append(out, a)
		}
	}
	return out
}

// Launch maps a server's command line to the package or container it
// fetches and runs: npx, bunx, pnpm dlx, yarn dlx and npm exec (npm), uvx,
// uv tool run and pipx run (pypi), docker and podman run (container).
func Launch(command string, args []string, loc inventory.Location) (inventory.Component, bool) {
	l := parseLaunch(command, args)
	if !l.ok {
		return inventory.Component{}, false
	}
	switch l.eco {
	case "docker":
		c := l.image.Component(loc)
		c.Properties["source"] = "mcp"
		return c, true
	}
	return l.req.Component(loc, "mcp"), true
}

// A launch is a command line that fetches a package or image and runs it.
type launch struct {
	ok     bool
	runner string // the fetching command as a user writes it: "npx", "uv tool run", "docker run"
	eco    string // "npm", "pypi" or "docker"
	spec   string // the package spec or image reference as written
	option string // the option spec was given with ("--from", "-p"), or ""
	req    containers.Req
	image  containers.Image
	// rest are the arguments after the first operand: for a package
	// launch, those of the server it runs.
	rest []string
	// yes is set for npx -y / --yes, which installs without asking.
	yes bool
	// docker holds the options of docker run before the image.
	docker []string
}

// pinned reports whether the launch names exact bytes or an exact version.
func (l launch) pinned() bool {
	if l.eco == "docker" {
		return l.image.Pinned()
	}
	return l.req.Version != ""
}

func parseLaunch(command string, args []string) launch {
	prog := strings.TrimSuffix(strings.TrimSuffix(path.Base(strings.ReplaceAll(command, "\\", "/")), ".cmd"), ".exe")
	l := launch{runner: prog}
	switch {
	case prog == "npx" || prog == "bunx":
	case (prog == "pnpm" || prog == "yarn") && len(args) > 0 && args[0] == "dlx":
		l.runner, args = prog+" dlx", args[1:]
	case prog == "npm" && len(args) > 0 && args[0] == "exec":
		l.runner, args = "npm exec", args[1:]
	case prog == "uvx":
	case prog == "uv" && len(args) > 1 && args[0] == "tool" && args[1] == "run":
		l.runner, args = "uv tool run", args[2:]
	case prog == "pipx" && len(args) > 0 && args[0] == "run":
		l.runner, args = "pipx run", args[1:]
	case (prog == "docker" || prog == "podman") && len(args) > 0 && args[0] == "run":
		l.runner, l.eco = prog+" run", "docker"
		i := firstOperand(args[1:], dockerValued)
		if i < 0 {
			return l
		}
		l.spec, l.docker, l.rest = args[1+i], args[1:1+i], args[2+i:]
		l.image, l.ok = containers.ParseImage(l.spec)
		return l
	default:
		return l
	}
	if prog == "uvx" || l.runner == "uv tool run" || l.runner == "pipx run" {
		l.eco = "pypi"
		l.spec, l.option = optionValue(args, "--from", "--spec")
		i := firstOperand(args, pyValued)
		if i >= 0 {
			l.rest = args[i+1:]
		}
		if l.option == "" {
			if i < 0 {
				return l
			}
			l.spec = args[i]
		}
		spec := l.spec
		// uvx also takes name@version.
		if n, v, ok := strings.Cut(spec, "@"); ok && !strings.Contains(spec, "://") {
			spec = n + "==" + v
		}
		l.req, l.ok = containers.ParsePyPI(spec)
		return l
	}
	l.eco = "npm"
	l.spec, l.option = optionValue(args, "-p", "--package")
	i := firstOperand(args, npmValued)
	if i >= 0 {
		l.rest = args[i+1:]
		l.yes = slices.Contains(args[:i], "-y") || slices.Contains(args[:i], "--yes")
	}
	if l.option == "" {
		if i < 0 {
			return l
		}
		l.spec = args[i]
	}
	l.req, l.ok = containers.ParseNPM(l.spec)
	return l
}

var (
	dockerValued = set("-e", "--env", "--env-file", "-v", "--volume", "--name", "-p", "--publish", "--network",
		"-w", "--workdir", "--entrypoint", "-u", "--user", "--mount", "--platform", "-l", "--label", "--pull",
		"-h", "--hostname", "--add-host", "--cap-add", "--cap-drop", "--security-opt", "--memory", "-m", "--cpus")
	pyValued  = set("--python", "-p", "--with", "--index-url", "--extra-index-url", "-i", "--pip-args", "--from", "--spec")
	npmValued = set("--registry", "--cache", "--prefix", "-c", "--call", "-p", "--package")
)

func set(xs ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// firstOperand is the index of the first argument that is not an option
// or an option's value, or -1.
func firstOperand(args []string, valued map[string]bool) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if i+1 < len(args) {
				return i + 1
			}
			return -1
		}
		if strings.HasPrefix(a, "-") {
			if valued[a] {
				i++
			}
			continue
		}
		return i
	}
	return -1
}

// optionValue is the value of the first of names given as "--x v" or
// "--x=v", and the name it was given with; "" when none is.
func optionValue(args []string, names ...string) (value, name string) {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1], n
			}
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v, n
			}
		}
	}
	return "", ""
}

// Redacted stands in for a value that must not be reported.
const Redacted = "REDACTED"

var (
	secretFlagRE = regexp.MustCompile(`(?i)(token|key|secret|passw|pwd|auth|credential|bearer|cookie)`)
	secretWordRE = regexp.MustCompile(`^(sk-|sk_|ghp_|gho_|ghs_|github_pat_|xox[abpr]-|glpat-|AKIA|AIza|hf_|npm_|pypi-)|^[A-Za-z0-9_\-+/=]{32,}$`)
	assignRE     = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=(.+)$`)
)

// RedactArgs returns args with secrets replaced: values of options whose
// names suggest a secret, NAME=value assignments, credential-looking
// words, and URL credentials and query values.
func RedactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		switch {
		case i > 0 && strings.HasPrefix(args[i-1], "-") && !strings.Contains(args[i-1], "=") && secretFlagRE.MatchString(args[i-1]):
			out[i] = Redacted
		case strings.HasPrefix(a, "-") && strings.Contains(a, "="):
			k, _, _ := strings.Cut(a, "=")
			if secretFlagRE.MatchString(k) {
				out[i] = k + "=" + Redacted
			} else {
				out[i] = redactWord(a)
			}
		case assignRE.MatchString(a):
			out[i] = assignRE.FindStringSubmatch(a)[1] + "=" + Redacted
		default:
			out[i] = redactWord(a)
		}
	}
	return out
}

func redactWord(a string) string {
	if strings.Contains(a, "://") {
		if u := containers.StripURL(a); u != "" {
			return u
		}
		return Redacted
	}
	if secretWordRE.MatchString(a) && !strings.Contains(a, "/") {
		return Redacted
	}
	if i := strings.IndexByte(a, '='); i > 0 && secretWordRE.MatchString(a[i+1:]) {
		return a[:i+1] + Redacted
	}
	return a
}

// keyLine is the line of the first occurrence of "key" as a JSON key, or 0.
func keyLine(b []byte, key string) int {
	k, err := json.Marshal(key)
	if err != nil {
		return 0
	}
	for off := 0; off < len(b); {
		i := bytes.Index(b[off:], k)
		if i < 0 {
			return 0
		}
		j := off + i + len(k)
		rest := bytes.TrimLeft(b[j:], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			return lineAt(b, off+i)
		}
		off = j
	}
	return 0
}

func lineAt(b []byte, off int) int {
	off = min(max(off, 0), len(b))
	return bytes.Count(b[:off], []byte("\n")) + 1
}

func cmpOr(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
