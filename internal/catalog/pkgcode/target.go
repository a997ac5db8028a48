package pkgcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Install scripts often hand the work to a file of the package
// ("postinstall": "node install.js"; an in-tree build backend named in
// pyproject.toml). Those files are opened beside the manifest and judged
// as the script itself would be: on disk only, inside the package's own
// folder, within MaxFileBytes. A target that cannot be opened is said to
// be unchecked, never passed as clean.

// errOutside is returned for a target that leaves the package's folder.
var errOutside = errors.New("the path leaves the package's folder")

// readTarget reads rel, relative to the folder of the manifest at
// manifest, refusing paths and symbolic links that leave that folder.
func readTarget(manifest, rel string) ([]byte, string, error) {
	if strings.Contains(manifest, "!") {
		return nil, "", errors.New("the package is inside an archive, whose other members are not opened for this check")
	}
	rel = filepath.FromSlash(strings.TrimPrefix(rel, "./"))
	if !filepath.IsLocal(rel) {
		return nil, "", errOutside
	}
	dir := filepath.Dir(manifest)
	p := filepath.Join(dir, rel)
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, "", err
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, "", err
	}
	if r, err := filepath.Rel(realDir, real); err != nil || !filepath.IsLocal(r) {
		return nil, "", errOutside
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > MaxFileBytes {
		return nil, "", fmt.Errorf("more than %d bytes", MaxFileBytes)
	}
	return data, p, nil
}

// reNodeTarget finds the script file of "node file.js" in a lifecycle
// script: the first argument that is not an option.
var reNodeTarget = regexp.MustCompile(`(?:^|[;&|]\s*)node\s+((?:-[\w-]+(?:=\S+)?\s+)*)([^\s;&|'"-][^\s;&|'"]*)`)

// nodeTargets are the JavaScript files a lifecycle script runs with node.
func nodeTargets(script string) []string {
	var out []string
	for _, m := range reNodeTarget.FindAllStringSubmatch(script, 8) {
		t := m[2]
		if strings.Contains(m[1], "-e") || strings.Contains(m[1], "-p") {
			continue // node -e CODE: the code is in the script itself
		}
		if ext := filepath.Ext(t); ext == "" || ext == ".js" || ext == ".cjs" || ext == ".mjs" {
			if ext == "" {
				t += ".js"
			}
			out = append(out, t)
		}
	}
	return out
}

// Patterns over lower-cased JavaScript. Unlike shell scripts, JavaScript
// files carry URLs in comments and licence headers, so network use means
// a network API, not a URL.
var (
	jsNetwork = regexp.MustCompile(`require\(\s*['"](node:)?(https?|net|dns|dgram|tls|http2)['"]\s*\)|from\s+['"](node:)?(https?|net|dns|dgram|tls|http2)['"]|\bfetch\(|\bxmlhttprequest\b|require\(\s*['"](axios|node-fetch|got|request|undici)['"]\s*\)|\bdns\.(resolve|lookup)`)
	jsProcess = regexp.MustCompile(`require\(\s*['"](node:)?child_process['"]\s*\)|from\s+['"](node:)?child_process['"]|\bexecsync\(|\bspawnsync\(|\bexecfilesync\(`)
	jsDecode  = regexp.MustCompile(`buffer\.from\([^)]*['"](base64|hex)['"]\s*\)|\batob\(|\bzlib\.(inflate|gunzip|brotlidecompress)`)
	jsEval    = regexp.MustCompile(`\beval\(|\bnew\s+function\(|\bvm\.(runin|script\b|compilefunction)|require\(\s*['"](node:)?vm['"]\s*\)`)
	jsCreds   = regexp.MustCompile(`\.ssh\b|\.npmrc|\.aws\b|\.gitconfig|\.git-credentials|/etc/passwd|\.netrc|\.docker/config|json\.stringify\(\s*process\.env\s*\)|object\.(keys|entries)\(\s*process\.env\s*\)|\.kube/config`)
)

// javascript judges a file a lifecycle script runs, as the script would
// be judged, each category at the line it first appears on.
func (j *judge) javascript(key string, src []byte) {
	s := strings.ToLower(string(src))
	at := func(re *regexp.Regexp) (int, string) {
		loc := re.FindStringIndex(s)
		if loc == nil {
			return 0, ""
		}
		return lineOf(src, loc[0]), clip(string(src[loc[0]:loc[1]]), 120)
	}
	netLine, netEv := at(jsNetwork)
	procLine, procEv := at(jsProcess)
	decLine, decEv := at(jsDecode)
	evalLine, evalEv := at(jsEval)
	credLine, credEv := at(jsCreds)
	what := "the " + key + " script runs " + filepath.Base(j.path)
	const stop = "do not install the package (npm install --ignore-scripts keeps scripts from running); report it to the registry"
	if decLine > 0 && evalLine > 0 {
		j.add(RuleDecodeExec, inventory.Critical, evalLine, decEv+" … "+evalEv,
			what+", which decodes data and runs it: the code that runs at install is hidden from review", stop)
	}
	switch {
	case credLine > 0 && netLine > 0:
		j.add(RuleCredentials, inventory.Critical, credLine, credEv,
			what+", which reads credentials or the environment and uses the network: the data can be sent away",
			stop+"; rotate any credential on machines that installed it")
	case credLine > 0:
		j.add(RuleCredentials, inventory.High, credLine, credEv, what+", which reads credentials or dumps the environment", stop)
	}
	switch {
	case netLine > 0 && (procLine > 0 || evalLine > 0):
		j.add(RuleInstallScript, inventory.Critical, netLine, netEv,
			what+", which uses the network and runs processes or code at install", stop)
	case netLine > 0:
		j.add(RuleInstallScript, inventory.High, netLine, netEv,
			what+", which uses the network at install (downloads of prebuilt binaries look like this too)",
			"read the script; prefer packages that ship their binaries as optional dependencies, and install with --ignore-scripts where possible")
	case procLine > 0:
		j.add(RuleInstallScript, inventory.Medium, procLine, procEv,
			what+", which runs processes at install",
			"read what the script runs before installing the package")
	case credLine > 0 || decLine > 0:
	default:
		j.add(RuleInstallScript, inventory.Low, 1, filepath.Base(j.path),
			what+"; it uses no network, process, decoding or credential API this check knows",
			"read what the script does; install with --ignore-scripts where it is not needed")
	}
}

// untargeted reports a target that could not be opened: low when it is
// simply not there (the install would fail), medium otherwise.
func (j *judge) untargeted(line int, target string, err error) {
	if errors.Is(err, os.ErrNotExist) {
		j.add(RuleInstallScript, inventory.Low, line, target,
			fmt.Sprintf("the install script runs %s, which is not beside the manifest", target),
			"check that the package is complete; read "+target+" by hand if it comes from elsewhere")
		return
	}
	j.add(RuleInstallScript, inventory.Medium, line, target,
		fmt.Sprintf("the install script runs %s, which was not checked: %v", target, err),
		"read "+target+" by hand before installing the package")
}

// inTreeBackend judges the build backend that pyproject.toml loads from
// the project itself (backend-path), module by module path.
func (j *judge) inTreeBackend(ctx context.Context, data []byte) error {
	var pp struct {
		BuildSystem struct {
			Backend     string   `toml:"build-backend"`
			BackendPath []string `toml:"backend-path"`
		} `toml:"build-system"`
	}
	if _, err := toml.Decode(string(data), &pp); err != nil || len(pp.BuildSystem.BackendPath) == 0 || pp.BuildSystem.Backend == "" {
		return nil
	}
	mod, _, _ := strings.Cut(pp.BuildSystem.Backend, ":")
	rel := strings.ReplaceAll(strings.TrimSpace(mod), ".", "/")
	line := lineOf(data, strings.Index(string(data), "backend-path"))
	var lastErr error
	for _, dir := range pp.BuildSystem.BackendPath[:min(len(pp.BuildSystem.BackendPath), 8)] {
		for _, cand := range []string{rel + ".py", rel + "/__init__.py"} {
			src, p, err := readTarget(j.path, filepath.ToSlash(filepath.Join(dir, cand)))
			if err != nil {
				if lastErr == nil || !errors.Is(err, os.ErrNotExist) {
					lastErr = err
				}
				continue
			}
			sub := &judge{s: j.s, path: p, comp: j.comp}
			sub.add(RuleInstallScript, inventory.Low, 1, pp.BuildSystem.Backend,
				"this module is the project's own build backend (pyproject.toml backend-path): it runs when the package is installed from source",
				"read it before building the package")
			return sub.python(ctx, src, 0)
		}
	}
	j.untargeted(line, pp.BuildSystem.Backend, lastErr)
	return nil
}
