package pkgcode

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// lifecycle are the npm scripts that run when a package is installed
// (prepare also runs on install from git).
var lifecycle = []string{"preinstall", "install", "postinstall", "prepare", "prepublish"}

// Patterns over the lower-cased script text.
var (
	reNetwork = regexp.MustCompile(`\b(curl|wget|invoke-webrequest|iwr|nc|ncat)\b|https?://|\bfetch\(|\bhttps?\.(get|request)\b|require\(\s*['"]https?['"]`)
	rePipe    = regexp.MustCompile(`\|\s*(sudo\s+)?(ba|z|da|k)?sh\b|\|\s*(node|python3?|perl|ruby)\b|\b(sh|bash)\s+-c\s+["']?\$\(`)
	reDecode  = regexp.MustCompile(`base64\s+(-d|--decode|-D)\b|['"]base64['"]|\batob\(|frombase64string|\bxxd\s+-r`)
	reEval    = regexp.MustCompile(`\beval\b|\bnew\s+function\b|\bnode\s+(-e|--eval|-p)\b|\bchild_process\b`)
	reCreds   = regexp.MustCompile(`\.ssh\b|\.npmrc|\.aws\b|\.gitconfig|\.git-credentials|/etc/passwd|\bprintenv\b|\benv\s*\||json\.stringify\(\s*process\.env\s*\)|\.netrc|\.docker/config`)
	// reBuild are the native-build tools whose install scripts are
	// routine: the benign twins of the patterns above.
	reBuild = regexp.MustCompile(`^\s*(node-gyp(-build)?\s+rebuild|node-gyp-build|prebuild-install|node-pre-gyp\s+install|cmake-js\s+(compile|rebuild)|husky(\s+install)?|patch-package|tsc|npm\s+run\s+build)\b[^|;&]*$`)
)

// packageJSON judges the lifecycle scripts of a package.json.
func (j *judge) packageJSON(data []byte) {
	var pj struct {
		Name    string         `json:"name"`
		Scripts map[string]any `json:"scripts"`
	}
	if err := json.Unmarshal(data, &pj); err != nil {
		// npm refuses to install from it, so no script of it runs; the npm
		// cataloger reports the broken file (bom/malformed).
		return
	}
	for _, key := range lifecycle {
		v, ok := pj.Scripts[key]
		if !ok {
			continue
		}
		script, ok := v.(string)
		if !ok {
			j.add(RuleMalformed, inventory.Medium, keyLine(data, key), key,
				"a lifecycle script is not a string", "review the file by hand")
			continue
		}
		line := keyLine(data, key)
		j.script(key, script, line)
		for _, t := range nodeTargets(script) {
			src, p, err := readTarget(j.path, t)
			if err != nil {
				j.untargeted(line, t, err)
				continue
			}
			(&judge{s: j.s, path: p, comp: j.comp}).javascript(key, src)
		}
	}
}

// keyLine is the line of the first "key" in data, 0 when not found.
func keyLine(data []byte, key string) int {
	i := bytes.Index(data, []byte(`"`+key+`"`))
	if i < 0 {
		return 0
	}
	return lineOf(data, i)
}

// script judges one lifecycle script.
func (j *judge) script(key, script string, line int) {
	s := strings.ToLower(script)
	network, pipe, decode := reNetwork.MatchString(s), rePipe.MatchString(s), reDecode.MatchString(s)
	eval, creds := reEval.MatchString(s), reCreds.MatchString(s)
	ev := key + ": " + clip(script, 200)
	const stop = "do not install the package (npm install --ignore-scripts keeps scripts from running); report it to the registry"
	switch {
	case decode && (eval || pipe):
		j.add(RuleDecodeExec, inventory.Critical, line, ev,
			"the "+key+" script decodes data and runs it: the code that runs at install is hidden from review", stop)
	case decode:
		j.add(RuleDecodeExec, inventory.High, line, ev,
			"the "+key+" script decodes hidden data at install", stop)
	}
	switch {
	case creds && network:
		j.add(RuleCredentials, inventory.Critical, line, ev,
			"the "+key+" script reads credentials or the environment and uses the network: the data can be sent away",
			stop+"; rotate any credential on machines that installed it")
	case creds:
		j.add(RuleCredentials, inventory.High, line, ev,
			"the "+key+" script reads credentials or dumps the environment", stop)
	}
	switch {
	case network && pipe:
		j.add(RuleInstallScript, inventory.Critical, line, ev,
			"the "+key+" script downloads code and pipes it to an interpreter at install", stop)
	case network:
		j.add(RuleInstallScript, inventory.High, line, ev,
			"the "+key+" script uses the network at install", stop)
	case decode || creds:
	case reBuild.MatchString(s):
		j.add(RuleInstallScript, inventory.Info, line, ev,
			"the "+key+" script runs a common native-build or setup tool at install",
			"none needed; install with --ignore-scripts where builds are not wanted")
	default:
		j.add(RuleInstallScript, inventory.Low, line, ev,
			"the "+key+" script runs a command when the package is installed",
			"read what the script runs; install with --ignore-scripts where it is not needed")
	}
}
