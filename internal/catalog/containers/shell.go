package containers

import (
	"path"
	"regexp"
	"strings"
)

// A RiskKind says what is risky about a shell command.
type RiskKind int

// The kinds of risky shell commands ScanShell finds.
const (
	// PipeToShell is code downloaded and run in one step: curl … | sh,
	// bash <(curl …), iex (iwr …).
	PipeToShell RiskKind = iota + 1
	// UnpinnedInstall is a package install that takes whatever release is
	// newest: pip install X without ==, npm install without the lockfile,
	// npx X without a version, pip install git+… without a commit.
	UnpinnedInstall
	// UnpinnedModel is a model download that follows a branch:
	// huggingface-cli download without --revision <commit>, a git clone of
	// a hub repository with no checkout of a commit, a …/resolve/main/… URL.
	UnpinnedModel
)

// A ShellRisk is one risky command in a shell script.
type ShellRisk struct {
	Kind RiskKind
	// Off is the byte offset in the script where the evidence starts.
	Off int
	// Evidence is the offending text, at most MaxEvidence bytes.
	Evidence string
	// Detail says what exactly is wrong, e.g. "transformers has no == pin".
	Detail string
	// Fix is the concrete change that removes the risk.
	Fix string
}

// MaxEvidence bounds the evidence quoted from a script.
const MaxEvidence = 120

// MaxRisks bounds the risks reported of one script: past a few, more
// say nothing new and cost time.
const MaxRisks = 32

// MaxScript bounds the bytes of one script ScanShell reads. It is the
// size limit of the files scripts come from (Dockerfiles, pipelines), so
// no script read from them is cut short.
const MaxScript = 1 << 20

// urlRE finds URLs in evidence, to strip their credentials.
var urlRE = regexp.MustCompile(`(?i)\b(https?|ftp|ssh|git|git\+https?|git\+ssh|s3|wss?)://[^\s"'<>]{1,512}`)

// Cut shortens s to at most MaxEvidence bytes on a UTF-8 boundary, after
// stripping user information and query values from the URLs in it.
func Cut(s string) string {
	if len(s) > 4*MaxEvidence {
		s = s[:4*MaxEvidence] // a URL cut here is stripped all the same
	}
	s = urlRE.ReplaceAllStringFunc(s, func(u string) string {
		if v := StripURL(u); v != "" {
			return v
		}
		return "<url>"
	})
	if len(s) <= MaxEvidence {
		return s
	}
	i := MaxEvidence
	for i > 0 && s[i]&0xc0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

var (
	// A download piped, perhaps through other commands, into a shell or
	// interpreter. "||" is not a pipe: each pipe must be followed by a
	// character other than "|". Repetitions are bounded so that a search
	// costs a constant per starting point, never the rest of a long line.
	pipeRE = regexp.MustCompile(`\b(curl|wget)\b[^|;&\n]{0,256}(\|[^|;&\n]{1,128}){0,3}?\|\s{0,8}(sudo\s+(-\S{1,32}\s+){0,4})?(env\s+(\S{1,64}=\S{0,64}\s+){0,4})?((ba|z|da|k|fi)?sh|python[0-9.]{0,4}|perl|ruby|node|php)\b`)
	// A shell reading a download through process or command substitution.
	substRE = regexp.MustCompile(`\b((ba|z|da|k)?sh|source|python[0-9.]{0,4})\s{1,8}(-\S{1,32}\s{1,8}){0,4}(<\(|["']?\$\()\s{0,8}(curl|wget)\b|(^|[\s;&|])\.\s{1,8}<\(\s{0,8}(curl|wget)\b`)
	// PowerShell's download-and-invoke, in both orders.
	iexRE = regexp.MustCompile(`(?i)\b(iex|invoke-expression)\b[\s(]{0,8}(\$\()?\s{0,8}(\(?\s{0,8}new-object\s{1,8}(system\.)?net\.webclient\)?\.downloadstring|iwr|irm|invoke-webrequest|invoke-restmethod)\b|\b(iwr|irm|invoke-webrequest|invoke-restmethod)\b[^|\n]{0,256}\|\s{0,8}(iex|invoke-expression)\b`)
	// Hub file URLs name a revision after /resolve/; only a commit is fixed.
	resolveRE = regexp.MustCompile(`https?://(?:[^\s/@"']{1,128}@)?(huggingface\.co|hf\.co)/[^\s"'/]{1,96}/[^\s"'/]{1,96}/resolve/([^/\s"']{1,64})/[^\s"']{0,256}`)
	// checkoutRE is a checkout of a full commit, which pins a clone.
	checkoutRE = regexp.MustCompile(`\bcheckout\s{1,8}(-\S{1,32}\s{1,8}){0,4}[0-9a-f]{40}\b`)
	sha40      = regexp.MustCompile(`^[0-9a-f]{40}$`)
	// exprRE is a GitHub Actions expression: its text is masked, not lexed.
	exprRE = regexp.MustCompile(`\$\{\{[^}]{0,512}\}\}`)
)

// ScanShell finds risky commands in a shell script: a RUN line, a CI
// step's run: or script: text. It reads the text; nothing is run. Offsets
// refer to script as given.
func ScanShell(script string) []ShellRisk {
	if len(script) > MaxScript {
		script = script[:MaxScript]
	}
	// Keep offsets: a continuation becomes two spaces, an expression a
	// same-length word starting with "$", which nothing takes for a package.
	text := strings.ReplaceAll(script, "\\\n", "  ")
	text = exprRE.ReplaceAllStringFunc(text, func(e string) string { return "$" + strings.Repeat("_", len(e)-1) })
	var out []ShellRisk
	for _, re := range []*regexp.Regexp{pipeRE, substRE, iexRE} {
		for _, m := range re.FindAllStringIndex(text, MaxRisks) {
			// Quote the rest of the line: the URL is what a reader checks.
			if i := strings.IndexByte(text[m[1]:], '\n'); i >= 0 {
				m[1] += i
			} else {
				m[1] = len(text)
			}
			out = append(out, ShellRisk{Kind: PipeToShell, Off: m[0], Evidence: Cut(strings.TrimSpace(script[m[0]:m[1]])),
				Detail: "downloaded code is run as it arrives, unreviewed and unverified",
				Fix:    "download to a file, verify its sha256 (echo \"<sha256>  file\" | sha256sum -c -), then run the file; or install from a package manager with a pinned version"})
		}
	}
	for _, m := range resolveRE.FindAllStringSubmatchIndex(text, MaxRisks) {
		if rev := text[m[4]:m[5]]; !sha40.MatchString(rev) {
			out = append(out, ShellRisk{Kind: UnpinnedModel, Off: m[0], Evidence: Cut(script[m[0]:m[1]]),
				Detail: "the URL resolves the file at " + rev + ", which moves when the repository changes",
				Fix:    "replace /resolve/" + rev + "/ with /resolve/<40-hex commit>/ and check the file's sha256"})
		}
	}
	pinnedClone := checkoutRE.MatchString(text)
	for _, cmd := range lexShell(text) {
		if len(out) >= MaxRisks {
			break
		}
		if r, ok := commandRisk(cmd, pinnedClone); ok {
			r.Off, r.Evidence = cmd[0].off, Cut(script[cmd[0].off:cmd[len(cmd)-1].end])
			out = append(out, r)
		}
	}
	if len(out) > MaxRisks {
		out = out[:MaxRisks]
	}
	return out
}

// A word is one shell word with quotes removed and its span in the text.
type word struct {
	s        string
	off, end int
}

// lexShell splits a script into commands of words, at newlines, ;, &, |
// and parentheses, dropping # comments. It is a lexer, not a shell.
func lexShell(text string) [][]word {
	var cmds [][]word
	var words []word
	var b strings.Builder
	start := -1
	var quote byte
	flush := func(i int) {
		if start >= 0 {
			words = append(words, word{b.String(), start, i})
			b.Reset()
			start = -1
		}
	}
	end := func(i int) {
		flush(i)
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
			if start < 0 {
				start = i
			}
		case c == '#' && start < 0:
			for i+1 < len(text) && text[i+1] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\r':
			flush(i)
		case c == '\n' || c == ';' || c == '|' || c == '&' || c == '(' || c == ')' || c == '`':
			end(i)
		default:
			if start < 0 {
				start = i
			}
			b.WriteByte(c)
		}
	}
	end(len(text))
	return cmds
}

// commandRisk judges one command's words.
func commandRisk(cmd []word, pinnedClone bool) (ShellRisk, bool) {
	ws := make([]string, len(cmd))
	for i, w := range cmd {
		ws[i] = w.s
	}
	for len(ws) > 0 && (strings.Contains(ws[0], "=") && !strings.HasPrefix(ws[0], "-") || ws[0] == "sudo" || ws[0] == "env" || ws[0] == "exec" || ws[0] == "time") {
		ws = ws[1:]
	}
	if len(ws) == 0 {
		return ShellRisk{}, false
	}
	prog, rest := path.Base(ws[0]), ws[1:]
	if strings.HasPrefix(prog, "python") && len(rest) >= 2 && rest[0] == "-m" {
		prog, rest = rest[1], rest[2:]
	}
	if prog == "uv" && len(rest) > 0 && rest[0] == "pip" {
		prog, rest = "pip", rest[1:]
	}
	if (prog == "yarn" || prog == "pnpm") && len(rest) > 0 && rest[0] == "global" {
		rest = rest[1:]
	}
	if (prog == "pnpm" || prog == "yarn") && len(rest) > 0 && rest[0] == "dlx" {
		prog, rest = "npx", rest[1:]
	}
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case (prog == "pip" || strings.HasPrefix(prog, "pip3")) && sub == "install":
		return pipRisk(rest[1:])
	case prog == "npm" && (sub == "install" || sub == "i" || sub == "add" || sub == "isntall"),
		(prog == "yarn" || prog == "pnpm") && sub == "add":
		return npmRisk(prog, rest[1:])
	case prog == "npx":
		return npxRisk(rest)
	case prog == "huggingface-cli" && sub == "download", prog == "hf" && sub == "download":
		return hfRisk(prog, rest[1:])
	case prog == "git" && (sub == "clone" || len(rest) > 1 && sub == "lfs" && rest[1] == "clone"):
		for _, a := range rest[1:] {
			if strings.Contains(a, "huggingface.co/") || strings.Contains(a, "hf.co/") {
				if pinnedClone {
					return ShellRisk{}, false
				}
				return ShellRisk{Kind: UnpinnedModel,
					Detail: "the clone takes whatever the default branch holds today",
					Fix:    "after cloning, run git -C <dir> checkout <40-hex commit>, or use huggingface-cli download " + hubRepo(a) + " --revision <40-hex commit>"}, true
			}
		}
	}
	return ShellRisk{}, false
}

// hubRepo is the org/name of a hub URL, for messages.
func hubRepo(u string) string {
	_, r, ok := strings.Cut(u, ".co/")
	if !ok {
		return "<repo>"
	}
	return strings.TrimSuffix(strings.TrimSuffix(r, "/"), ".git")
}

// pipValued are pip install options that take a value.
var pipValued = map[string]bool{"-r": true, "--requirement": true, "-c": true, "--constraint": true,
	"-e": true, "--editable": true, "-i": true, "--index-url": true, "--extra-index-url": true,
	"-f": true, "--find-links": true, "-t": true, "--target": true, "--prefix": true, "--root": true,
	"--trusted-host": true, "--platform": true, "--python-version": true, "--implementation": true,
	"--abi": true, "--src": true, "--upgrade-strategy": true, "--progress-bar": true, "--cache-dir": true,
	"--python": true, "-p": true}

func pipRisk(args []string) (ShellRisk, bool) {
	var loose []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--require-hashes" || strings.HasPrefix(a, "--hash") ||
			a == "-c" || a == "--constraint" || strings.HasPrefix(a, "--constraint="):
			// Hash-checking mode refuses anything unpinned; constraints
			// files pin what the command names.
			return ShellRisk{}, false
		case a == "-e" || a == "--editable":
			if i+1 < len(args) && vcsUnpinned(args[i+1]) {
				loose = append(loose, args[i+1])
			}
			i++
		case pipValued[a]:
			i++ // -r files are vetted as requirements files themselves
		case strings.HasPrefix(a, "-"):
		case strings.Contains(a, "$"):
			// A variable: its value is not known here.
		case strings.Contains(a, "://") || strings.HasPrefix(a, "git+"):
			if vcsUnpinned(a) || !strings.HasPrefix(a, "git+") && !strings.Contains(a, "#sha256=") {
				loose = append(loose, a)
			}
		default:
			r, ok := ParsePyPI(a)
			if ok && r.Version == "" && !strings.Contains(a, "@") {
				loose = append(loose, a)
			}
		}
	}
	if len(loose) == 0 {
		return ShellRisk{}, false
	}
	return ShellRisk{Kind: UnpinnedInstall,
		Detail: "pip installs the newest release of " + Cut(strings.Join(loose, ", ")),
		Fix:    pipFix(loose[0])}, true
}

// pipFix is the remedy for the first unpinned requirement.
func pipFix(a string) string {
	if strings.Contains(a, "://") || strings.HasPrefix(a, "git+") {
		u, _, _ := strings.Cut(a, "#")
		if i := strings.LastIndexByte(u, '@'); i > strings.Index(u, "://") {
			u = u[:i]
		}
		return "pin the commit: pip install \"" + StripURL(strings.TrimPrefix(u, "git+")) + "\" as git+…@<40-hex commit>, or publish it to an index and pin its version"
	}
	name := a
	if r, ok := ParsePyPI(a); ok {
		name = r.Name
		if r.Extras != "" {
			name += "[" + r.Extras + "]"
		}
	}
	return "pin exact versions: pip install \"" + name + "==<version>\", or install a hashed lock: pip install --require-hashes -r requirements.txt"
}

// vcsUnpinned reports whether a VCS requirement lacks a full commit.
func vcsUnpinned(a string) bool {
	if !strings.HasPrefix(a, "git+") && !strings.Contains(a, "git+") {
		return false
	}
	u, _, _ := strings.Cut(a, "#")
	i := strings.LastIndexByte(u, '@')
	return i < 0 || !sha40.MatchString(u[i+1:])
}

func npmRisk(prog string, args []string) (ShellRisk, bool) {
	var loose []string
	named := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--prefix" || a == "--registry" || a == "--tag" || a == "-C" || a == "--cwd" || a == "--filter":
			i++
		case strings.HasPrefix(a, "-"), strings.Contains(a, "$"):
		case strings.HasPrefix(a, ".") || strings.HasPrefix(a, "/") || strings.HasPrefix(a, "file:"):
			named = true
		default:
			named = true
			if r, ok := ParseNPM(a); ok && r.Version != "" {
				continue
			}
			if j := strings.LastIndexByte(a, '#'); j >= 0 && sha40.MatchString(a[j+1:]) {
				continue
			}
			loose = append(loose, a)
		}
	}
	switch {
	case !named && prog == "npm":
		return ShellRisk{Kind: UnpinnedInstall,
			Detail: "npm install resolves package.json ranges afresh and may rewrite the lockfile",
			Fix:    "use npm ci, which installs exactly what package-lock.json records"}, true
	case len(loose) > 0:
		return ShellRisk{Kind: UnpinnedInstall,
			Detail: prog + " installs the newest release of " + Cut(strings.Join(loose, ", ")),
			Fix:    "name an exact version: " + prog + " " + verb(prog) + " " + npmName(loose[0]) + "@<version>, or declare it in package.json and install with the lockfile (npm ci)"}, true
	}
	return ShellRisk{}, false
}

func verb(prog string) string {
	if prog == "npm" {
		return "install"
	}
	return "add"
}

// npmName is a package spec without its version.
func npmName(spec string) string {
	if r, ok := ParseNPM(spec); ok {
		if r.Namespace != "" {
			return r.Namespace + "/" + r.Name
		}
		return r.Name
	}
	return Cut(spec)
}

func npxRisk(args []string) (ShellRisk, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		pkg := a
		switch {
		case a == "-p" || a == "--package":
			if i+1 >= len(args) {
				return ShellRisk{}, false
			}
			pkg = args[i+1]
		case strings.HasPrefix(a, "--package="):
			pkg = strings.TrimPrefix(a, "--package=")
		case strings.HasPrefix(a, "-"):
			continue
		}
		if strings.Contains(pkg, "$") || strings.HasPrefix(pkg, ".") || strings.HasPrefix(pkg, "/") {
			return ShellRisk{}, false
		}
		if r, ok := ParseNPM(pkg); ok && r.Version != "" {
			return ShellRisk{}, false
		}
		return ShellRisk{Kind: UnpinnedInstall,
			Detail: "npx fetches and runs the newest release of " + Cut(pkg),
			Fix:    "name an exact version: npx " + npmName(pkg) + "@<version>, or add it to devDependencies and run it after npm ci"}, true
	}
	return ShellRisk{}, false
}

func hfRisk(prog string, args []string) (ShellRisk, bool) {
	repo := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--revision":
			if i+1 < len(args) && sha40.MatchString(args[i+1]) {
				return ShellRisk{}, false
			}
			i++
		case strings.HasPrefix(a, "--revision="):
			if sha40.MatchString(strings.TrimPrefix(a, "--revision=")) {
				return ShellRisk{}, false
			}
		case strings.HasPrefix(a, "-"):
		case repo == "":
			repo = a
		}
	}
	if repo == "" {
		repo = "<repo>"
	}
	return ShellRisk{Kind: UnpinnedModel,
		Detail: "the download takes whatever " + repo + "'s main branch holds today",
		Fix:    prog + " download " + repo + " --revision <40-hex commit>"}, true
}
