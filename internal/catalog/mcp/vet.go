package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
)

// The rules this cataloger reports while it reads a config; they are
// described in internal/rules/mcp.go.
const (
	RuleUnpinned   = "mcp/unpinned-launch"
	RulePlainHTTP  = "mcp/plain-http"
	RuleSecret     = "mcp/inline-secret"
	RuleFilesystem = "mcp/filesystem-root"
)

// minSecret is the shortest literal reported as a credential: shorter
// values ("fake", "none", "1") are flags and placeholders, not keys.
const minSecret = 6

// minPrefixShown is the shortest secret whose first four characters the
// evidence shows: they say what kind of key it is (ghp_, sk-p, AKIA)
// while giving away at most a quarter of it.
const minPrefixShown = 16

// vetter reports findings about one server of one config.
type vetter struct {
	cfgPath string
	comp    string // the server's component ID
	name    string // the server's name
	line    int    // the server's line
	clean   []byte // the config, comments blanked, for lines of keys
	s       inventory.Sink
}

func (v *vetter) report(rule string, line int, evidence, message, fix string) {
	if line == 0 {
		line = v.line
	}
	v.s.Finding(inventory.Finding{
		Rule: rule, Severity: inventory.High, Component: v.comp, Path: v.cfgPath, Line: line,
		Evidence: evidence, Message: message, Remediation: fix,
	})
}

// vet runs every check on one server entry.
func (v *vetter) vet(sv server, args []string) {
	if sv.Command != "" {
		l := parseLaunch(sv.Command, args)
		v.unpinned(l, sv.Command, args)
		v.filesystem(l, sv.Command, args)
		v.argSecrets(args)
	}
	v.plainHTTP(cmpOr(sv.URL, sv.ServerURL, sv.HTTPURL))
	v.urlSecret(cmpOr(sv.URL, sv.ServerURL, sv.HTTPURL))
	v.mapSecrets("env", sv.Env)
	v.mapSecrets("header", sv.Headers)
}

// unpinned reports a launch that fetches whatever version a registry
// serves at each start.
func (v *vetter) unpinned(l launch, command string, args []string) {
	if !l.ok || l.pinned() {
		return
	}
	ev := strings.Join(append([]string{redactWord(command)}, RedactArgs(args)...), " ")
	var what, fix string
	switch l.eco {
	case "docker":
		ref := l.image.Name()
		if l.image.Tag != "" {
			ref += ":" + l.image.Tag
		}
		what = fmt.Sprintf("image %s by tag, not digest", ref)
		if l.image.Tag == "" {
			what = fmt.Sprintf("image %s with no tag or digest (latest)", ref)
		}
		fix = fmt.Sprintf("run the image by digest: replace %q with %q (docker buildx imagetools inspect %s prints the digest)",
			l.spec, l.image.Name()+"@sha256:<digest>", ref)
	case "npm":
		name := l.req.Name
		if l.req.Namespace != "" {
			name = l.req.Namespace + "/" + name
		}
		what = fmt.Sprintf("npm package %s with no version", name)
		if l.req.Range != "" {
			what = fmt.Sprintf("npm package %s at %q, not an exact version", name, l.req.Range)
		}
		fix = fmt.Sprintf("pin the version you reviewed: replace %q with %q (npm view %s version prints the latest)",
			l.spec, name+"@X.Y.Z", name)
	case "pypi":
		name := l.req.Name
		if l.req.Extras != "" {
			name += "[" + l.req.Extras + "]"
		}
		what = fmt.Sprintf("PyPI package %s with no version", l.req.Name)
		if l.req.Range != "" {
			what = fmt.Sprintf("PyPI package %s at %q, not an exact version", l.req.Name, l.req.Range)
		}
		pinned := name + "==X.Y.Z"
		if l.option != "" {
			pinned = l.option + " " + pinned
		}
		fix = fmt.Sprintf("pin the version you reviewed: replace %q with %q (pip index versions %s lists them)",
			strings.TrimSpace(l.option+" "+l.spec), pinned, l.req.Name)
	}
	msg := fmt.Sprintf("MCP server %q is launched by %s from %s: each start runs whatever the registry serves then", v.name, l.runner, what)
	if l.yes {
		msg += "; npx -y installs it without asking"
	}
	v.report(RuleUnpinned, 0, ev, msg, fix)
}

// loopback reports whether host names the local machine.
func loopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// plainHTTP reports a remote server reached without TLS.
func (v *vetter) plainHTTP(raw string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "ws" || loopback(u.Hostname()) {
		return
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	shown := u.String()
	u.Scheme = map[string]string{"http": "https", "ws": "wss"}[scheme]
	v.report(RulePlainHTTP, keyLineAfter(v.clean, urlKey(v.clean, v.line), v.line), shown,
		fmt.Sprintf("MCP server %q is reached over %s:// on %s: its traffic and tokens cross the network unencrypted", v.name, scheme, u.Hostname()),
		fmt.Sprintf("use %s (TLS)", u.String()))
}

// urlKey is the key a server's URL is under: url, serverUrl or httpUrl.
func urlKey(clean []byte, line int) string {
	for _, k := range []string{"url", "serverUrl", "httpUrl"} {
		if keyLineAfter(clean, k, line) != 0 {
			return k
		}
	}
	return "url"
}

var (
	// refRE matches a value that names a secret instead of holding it:
	// ${input:id}, ${env:NAME}, ${NAME}, $NAME, %NAME%, {{NAME}}.
	refRE = regexp.MustCompile(`^(\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^}]*\}\})$`)
	// placeholderRE matches what documentation writes in place of a key.
	placeholderRE = regexp.MustCompile(`(?i)^(<.*>|\[.*\]|\(.*\)|your[-_ ].*|.*[-_ ]here|x{3,}|\*{3,}|\.{3,}|-+|` +
		`change[-_ ]?me|replace[-_ ]?me|todo|tbd|none|null|nil|undefined|placeholder|redacted|dummy|example|secret|password|token|api[-_ ]?key)$`)
	// schemeRE is an Authorization header's scheme.
	authSchemeRE = regexp.MustCompile(`(?i)^(bearer|basic|token|bot|apikey|api-key)\s+`)
	// tokenPrefixRE is the start of a key of a known service, whatever
	// the variable holding it is called.
	tokenPrefixRE = regexp.MustCompile(`^(sk-|sk_live_|rk_live_|ghp_|gho_|ghs_|ghu_|github_pat_|xox[abpr]-|glpat-|AKIA|ASIA|AIza|hf_|npm_|pypi-|sk-ant-|xai-|gsk_|r8_|pplx-)[A-Za-z0-9_\-]{8,}`)
	digitsRE      = regexp.MustCompile(`^[0-9.]+$`)
)

// literalSecret reports whether value, held under name, is a credential
// written out: a secret-sounding name with a value that is no reference,
// placeholder, flag, number, path or URL, or a value with a known key
// prefix under any name. It returns the secret part of the value (after
// an Authorization scheme) and that scheme.
func literalSecret(name, value string) (secret, scheme string, ok bool) {
	v := strings.TrimSpace(value)
	if m := authSchemeRE.FindString(v); m != "" {
		scheme, v = strings.TrimSpace(m), strings.TrimSpace(v[len(m):])
	}
	switch {
	case v == "", refRE.MatchString(v), placeholderRE.MatchString(v):
		return "", "", false
	case tokenPrefixRE.MatchString(v):
		return v, scheme, true
	case !secretFlagRE.MatchString(name) && scheme == "":
		return "", "", false
	case utf8.RuneCountInString(v) < minSecret, digitsRE.MatchString(v),
		strings.Contains(v, "${"), strings.Contains(v, "://"):
		return "", "", false
	}
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "on", "off", "enabled", "disabled", "required", "optional":
		return "", "", false
	}
	if strings.ContainsAny(v[:1], "/~.") || len(v) > 2 && v[1] == ':' && strings.ContainsAny(v[2:3], `\/`) {
		return "", "", false // a path to a key file, not the key
	}
	return v, scheme, true
}

// describe shows a secret without giving it away: its first four
// characters when it is long enough, and its length.
func describe(secret string) string {
	n := utf8.RuneCountInString(secret)
	if n >= minPrefixShown {
		r := []rune(secret)
		return fmt.Sprintf("%q… (%d chars)", string(r[:4]), n)
	}
	return fmt.Sprintf("a literal of %d chars", n)
}

// mapSecrets reports literal credentials among env or headers values.
func (v *vetter) mapSecrets(kind string, m map[string]json.RawMessage) {
	for _, k := range sortedKeys(m) {
		var val string
		if json.Unmarshal(m[k], &val) != nil {
			continue
		}
		secret, scheme, ok := literalSecret(k, val)
		if !ok {
			continue
		}
		shown := describe(secret)
		if scheme != "" {
			shown = scheme + " " + shown
		}
		ref := "${input:" + strings.ToLower(strings.ReplaceAll(v.name+"-"+k, "_", "-")) + "}"
		env := "${env:" + envName(k) + "}"
		if scheme != "" {
			ref, env = scheme+" "+ref, scheme+" "+env
		}
		v.report(RuleSecret, keyLineAfter(v.clean, k, v.line), fmt.Sprintf("%s %s: %s", kind, k, shown),
			fmt.Sprintf("MCP server %q is given a credential written in the config (%s %s)", v.name, kind, k),
			fmt.Sprintf("revoke the key, then set %s %q to a reference such as %q (VS Code) or %q, and keep the key out of the file",
				kind, k, ref, env))
	}
}

// envName is a variable name for a header or variable k.
func envName(k string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, k))
}

// argSecrets reports credentials on the command line: values of options
// whose names suggest a secret, NAME=value assignments and known key
// prefixes. They are as exposed as env values, and also to ps.
func (v *vetter) argSecrets(args []string) {
	for i, a := range args {
		var name, val string
		switch {
		case i > 0 && strings.HasPrefix(args[i-1], "-") && !strings.Contains(args[i-1], "=") && !strings.HasPrefix(a, "-"):
			name, val = args[i-1], a
		case strings.Contains(a, "="):
			name, val, _ = strings.Cut(a, "=")
		default:
			name, val = "", a
		}
		secret, _, ok := literalSecret(name, val)
		if !ok {
			continue
		}
		label := "argument " + name
		if name == "" {
			label = fmt.Sprintf("argument %d", i+1)
		}
		v.report(RuleSecret, 0, fmt.Sprintf("%s: %s", label, describe(secret)),
			fmt.Sprintf("MCP server %q is given a credential on its command line in the config", v.name),
			"revoke the key, then pass it through env as a reference (${input:…} or ${env:NAME}) and read it from there")
	}
}

// urlSecret reports a password or a secret query value in a server's URL.
func (v *vetter) urlSecret(raw string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return
	}
	line := keyLineAfter(v.clean, urlKey(v.clean, v.line), v.line)
	if pw, ok := u.User.Password(); ok && pw != "" && !refRE.MatchString(pw) {
		v.report(RuleSecret, line, "url password: "+describe(pw),
			fmt.Sprintf("MCP server %q has a password in its URL", v.name),
			"revoke the password; send credentials in a header set from a reference (${input:…}), not in the URL")
	}
	for _, k := range sortedKeys(u.Query()) {
		for _, val := range u.Query()[k] {
			if secret, _, ok := literalSecret(k, val); ok {
				v.report(RuleSecret, line, fmt.Sprintf("url query %s: %s", k, describe(secret)),
					fmt.Sprintf("MCP server %q has a credential in its URL's query", v.name),
					"revoke the key; send it in a header set from a reference (${input:…}), not in the URL, where logs and proxies keep it")
			}
		}
	}
}

// filesystemServers are the names (package or command) of servers that
// serve the directories given as their arguments.
var filesystemRE = regexp.MustCompile(`(?i)(^|[/@-])(server-filesystem|filesystem-server|mcp-filesystem|filesystem-mcp|mcp-server-filesystem)$`)

// filesystem reports a filesystem server, or a container, given the whole
// disk or a home directory.
func (v *vetter) filesystem(l launch, command string, args []string) {
	var dirs []string
	base := strings.TrimSuffix(strings.TrimSuffix(baseName(command), ".cmd"), ".exe")
	switch {
	case l.eco == "docker":
		for i, a := range l.docker {
			var src string
			switch {
			case (a == "-v" || a == "--volume") && i+1 < len(l.docker):
				src = volumeSource(l.docker[i+1])
			case strings.HasPrefix(a, "--volume="):
				src = volumeSource(strings.TrimPrefix(a, "--volume="))
			case a == "--mount" && i+1 < len(l.docker):
				src = mountSource(l.docker[i+1])
			case strings.HasPrefix(a, "--mount="):
				src = mountSource(strings.TrimPrefix(a, "--mount="))
			}
			if src != "" {
				dirs = append(dirs, src)
			}
		}
	case l.ok && filesystemRE.MatchString(l.req.Namespace+"/"+l.req.Name):
		dirs = operands(l.rest)
	case !l.ok && l.eco == "" && filesystemRE.MatchString(base):
		// An installed server binary: its arguments are the directories.
		dirs = operands(args)
	}
	for _, d := range dirs {
		if !broadRoot(d) {
			continue
		}
		v.report(RuleFilesystem, 0, fmt.Sprintf("%s serves %s", l.runnerOr(base), d),
			fmt.Sprintf("MCP server %q can read and write all of %s: keys, credentials and every other project", v.name, d),
			fmt.Sprintf("replace %q with the project directories the server needs (e.g. the repository path)", d))
	}
}

func (l launch) runnerOr(base string) string {
	if l.runner != "" && l.eco != "" {
		return l.runner
	}
	return base
}

func baseName(command string) string {
	c := strings.ReplaceAll(command, "\\", "/")
	if i := strings.LastIndexByte(c, '/'); i >= 0 {
		return c[i+1:]
	}
	return c
}

// operands are the arguments that are not options.
func operands(args []string) []string {
	var out []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

// volumeSource is the host side of docker's -v SRC:DST[:OPTS], allowing
// for a Windows drive letter.
func volumeSource(s string) string {
	off := 0
	if len(s) > 2 && ('a' <= s[0]|0x20 && s[0]|0x20 <= 'z') && s[1] == ':' && (s[2] == '\\' || s[2] == '/') {
		off = 2
	}
	i := strings.IndexByte(s[off:], ':')
	if i < 0 {
		return "" // an anonymous volume: no host path
	}
	return s[:off+i]
}

// mountSource is the source of docker's --mount type=bind,src=…,dst=….
func mountSource(s string) string {
	bind := false
	src := ""
	for _, kv := range strings.Split(s, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "type":
			bind = val == "bind"
		case "src", "source":
			src = val
		}
	}
	if !bind {
		return ""
	}
	return src
}

var (
	// homeRE matches a user's home directory itself, on Linux, macOS and Windows.
	homeRE = regexp.MustCompile(`(?i)^(/home/[^/]+|/users/[^/]+|/root|/var/root|[a-z]:/users/[^/]+|[a-z]:/documents and settings/[^/]+)$`)
	// rootWords are the whole disk, the homes, and the variables for a home.
	rootWords = map[string]bool{
		"/": true, "~": true, "$home": true, "${home}": true, "${env:home}": true, "${userhome}": true,
		"%userprofile%": true, "%homedrive%%homepath%": true, "$env:userprofile": true, "${env:userprofile}": true,
		"/home": true, "/users": true, "//": true,
	}
	driveRE = regexp.MustCompile(`(?i)^[a-z]:$`)
)

// broadRoot reports whether dir is the root of a disk or a home directory.
func broadRoot(dir string) bool {
	d := strings.ReplaceAll(strings.Trim(strings.TrimSpace(dir), `"'`), "\\", "/")
	for len(d) > 1 && strings.HasSuffix(d, "/") {
		d = d[:len(d)-1]
	}
	d = strings.ToLower(d)
	return rootWords[d] || driveRE.MatchString(d) || homeRE.MatchString(d)
}

// keyLineAfter is the line of the first "key": at or after line, or 0.
func keyLineAfter(b []byte, key string, line int) int {
	off := 0
	for l := 1; l < line && off < len(b); l++ {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return 0
		}
		off += i + 1
	}
	if n := keyLine(b[off:], key); n > 0 {
		return n + max(line, 1) - 1
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
