// Package secrets finds credentials written into code, configuration and
// notebooks: AI provider keys (OpenAI, Anthropic, Hugging Face, Google,
// Azure OpenAI and a dozen more), AWS keys, GitHub and Slack tokens,
// private keys, and high-entropy values assigned to names such as
// *_API_KEY, *_TOKEN and *SECRET*.
//
// Keys with a prefix of their own (sk-proj-, hf_, AKIA) are found
// anywhere; keys that are bare hex or UUIDs only when assigned to a name
// that says whose they are (WANDB_API_KEY=, wandb.login(key=)). Stand-ins
// — placeholders, runs of one byte, counting sequences, low entropy — are
// never reported. Notebooks are decoded first, so a key split by JSON
// escapes (\u002d) is seen as Jupyter shows it, in cell sources and in
// the outputs of code cells; the strings of .json files written with
// escapes are decoded too.
//
// Text files are scanned in windows of 4 MiB, so memory stays bounded
// whatever their size; files over 256 MiB (notebooks over 32 MiB, for
// decoding) and texts holding more than 1000 secrets end in a scan/limit
// finding rather than a silent pass.
//
// A finding never holds the secret: evidence shows the constant prefix of
// its format, its length and the first 32 bits of its SHA-256.
package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/chainvet/chainvet/internal/catalog/containers"
	"github.com/chainvet/chainvet/internal/inventory"
)

// Limits on what is read, in bytes.
const (
	// maxText bounds a source or configuration file. Such files are read
	// in windows, so the bound is on time, not memory: 256 MiB takes a few
	// seconds, and only generated data files are bigger.
	maxText = 256 << 20
	// maxNotebook bounds a notebook decoded as JSON (embedded outputs
	// make notebooks large; images are base64 in the JSON). A bigger one
	// is still scanned as text, and the finding says what that misses.
	maxNotebook = 32 << 20
	// window is how much of a file is scanned at once.
	window = 4 << 20
	// margin is what each window also reads before and after its own
	// bytes: more than the longest match (a private key, maxKeyBody)
	// plus the distance the context of a match is looked for.
	margin = maxKeyBody + 1024
)

// Secrets is the cataloger, "code/secrets". The zero value is ready to use.
type Secrets struct{}

// Name implements inventory.Cataloger.
func (Secrets) Name() string { return "code/secrets" }

// textExts are the extensions of files secrets are written into: source
// code, configuration, infrastructure code.
var textExts = map[string]bool{
	".py": true, ".pyw": true, ".pyi": true, ".js": true, ".mjs": true, ".cjs": true, ".jsx": true,
	".ts": true, ".mts": true, ".cts": true, ".tsx": true, ".go": true, ".rb": true, ".java": true,
	".kt": true, ".kts": true, ".scala": true, ".groovy": true, ".gradle": true, ".cs": true,
	".php": true, ".rs": true, ".swift": true, ".c": true, ".cc": true, ".cpp": true, ".h": true,
	".hpp": true, ".r": true, ".jl": true, ".lua": true, ".pl": true, ".dart": true, ".ex": true,
	".exs": true, ".sh": true, ".bash": true, ".zsh": true, ".fish": true, ".ps1": true, ".bat": true,
	".cmd": true, ".sql": true, ".json": true, ".jsonc": true, ".json5": true, ".yaml": true,
	".yml": true, ".toml": true, ".ini": true, ".cfg": true, ".conf": true, ".config": true,
	".properties": true, ".xml": true, ".plist": true, ".env": true, ".tf": true, ".tfvars": true,
	".hcl": true, ".vue": true, ".svelte": true, ".pem": true, ".key": true,
}

// textNames are files known by their whole name.
var textNames = map[string]bool{
	".env": true, ".envrc": true, ".npmrc": true, ".pypirc": true, ".netrc": true, "_netrc": true,
	"pip.conf": true, "pip.ini": true, ".git-credentials": true, "credentials": true,
	"dockerfile": true, "containerfile": true, "makefile": true, "procfile": true, "id_rsa": true,
	"id_ecdsa": true, "id_ed25519": true, "id_dsa": true,
}

// fileType is how a wanted file is read.
type fileType int

const (
	notWanted fileType = iota
	textFile
	notebookFile
)

func classify(f *inventory.File) fileType {
	if f.Size == 0 {
		return notWanted
	}
	name := strings.ToLower(f.Name)
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		ext = name[i:]
	}
	t := notWanted
	switch {
	case ext == ".ipynb":
		t = notebookFile
	case textExts[ext], textNames[name],
		strings.HasPrefix(name, ".env."), // .env.local, .env.production
		containers.IsDockerfileName(name),
		bytes.HasPrefix(f.Head, []byte("#!")): // scripts without an extension
		t = textFile
	}
	if t != notWanted && bytes.IndexByte(f.Head, 0) >= 0 {
		return notWanted // binary, whatever its name
	}
	return t
}

// Wants takes text files (no NUL byte in the head) that are source code,
// configuration, environment files, package-manager credentials,
// Dockerfiles, Terraform, scripts with a shebang, and notebooks.
func (Secrets) Wants(f *inventory.File) bool { return classify(f) != notWanted }

// Catalog implements inventory.Cataloger. It reports findings only.
func (Secrets) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	c := &capped{Sink: s}
	defer c.close(f.Path)
	if classify(f) == notebookFile {
		if f.Size <= maxNotebook {
			src, err := readAll(f)
			if err != nil {
				return err
			}
			return notebook(ctx, f.Path, src, c)
		}
		limit(s, f.Path, fmt.Sprintf("%d bytes", f.Size),
			fmt.Sprintf("file is %d bytes, more than the %d decoded as a notebook; it was scanned as plain text, which misses keys split by JSON escapes", f.Size, maxNotebook))
	}
	if f.Size > maxText {
		limit(s, f.Path, fmt.Sprintf("%d bytes", f.Size),
			fmt.Sprintf("file is %d bytes, more than the %d scanned for secrets", f.Size, maxText))
		return nil
	}
	seen := map[string]bool{}
	err := scanFile(ctx, f, func(m match, loc location) {
		seen[m.fp] = true
		c.Finding(m.finding(f.Path, loc, where{}))
	}, c.truncated)
	if err != nil || !strings.HasSuffix(strings.ToLower(f.Name), ".json") || f.Size > maxNotebook {
		return err
	}
	// Scan the strings of a JSON file written with escapes as a program
	// reading it sees them. Keys seen raw are not reported again.
	src, err := readAll(f)
	if err != nil || !bytes.Contains(src, []byte(`\`)) {
		return err
	}
	loc := newLocator()
	escapedStrings(ctx, src, func(str string, off int) {
		for _, m := range scanText([]byte(str)) {
			if !seen[m.fp] {
				seen[m.fp] = true
				c.Finding(m.finding(f.Path, loc.advance(src, 0, int64(off)), where{}))
			}
		}
	})
	return ctx.Err()
}

// capped passes on at most maxFindings findings, and then says how many
// more there were.
type capped struct {
	inventory.Sink
	n    int
	more bool // a text held more than maxMatches
}

func (c *capped) Finding(f inventory.Finding) {
	if c.n++; c.n <= maxFindings {
		c.Sink.Finding(f)
	}
}

// truncated records that a text held more secrets than were matched.
func (c *capped) truncated() { c.more = true }

func (c *capped) close(path string) {
	switch {
	case c.n > maxFindings:
		limit(c.Sink, path, fmt.Sprintf("%d secrets", c.n),
			fmt.Sprintf("%d secrets found; only the first %d are listed", c.n, maxFindings))
	case c.more:
		limit(c.Sink, path, fmt.Sprintf("more than %d secrets in %d bytes", maxMatches, window),
			fmt.Sprintf("more than %d secrets in one stretch of the file; only the first %d of it are listed", maxMatches, maxMatches))
	}
}

func limit(s inventory.Sink, path, evidence, msg string) {
	s.Finding(inventory.Finding{
		Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: path,
		Evidence: evidence, Message: msg,
		Remediation: "check the file for credentials by hand; keep generated data and key dumps out of source folders",
	})
}

func readAll(f *inventory.File) ([]byte, error) {
	if f.Whole() {
		return f.Head, nil
	}
	b := make([]byte, f.Size)
	if n, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && n == len(b)) {
		return nil, fmt.Errorf("%s: reading: %w", f.Path, err)
	}
	return b, nil
}

// A location is where a match is: 1-based line and byte column, and the
// byte offset, in the text scanned.
type location struct {
	line, col int
	off       int64
}

// locator turns offsets into lines and columns, moving forward only.
type locator struct {
	pos       int64 // bytes counted so far
	line      int   // the line pos is on
	lineStart int64 // offset of that line's first byte
}

func newLocator() locator { return locator{line: 1} }

// advance counts lines up to off, reading the bytes from buf, which holds
// the text from bufStart on. off must not be behind the last call's.
func (l *locator) advance(buf []byte, bufStart, off int64) location {
	seg := buf[l.pos-bufStart : off-bufStart]
	if n := bytes.Count(seg, []byte("\n")); n > 0 {
		l.line += n
		l.lineStart = l.pos + int64(bytes.LastIndexByte(seg, '\n')) + 1
	}
	l.pos = off
	return location{line: l.line, col: int(off-l.lineStart) + 1, off: off}
}

// scanFile scans a text file in windows of window bytes, each read with
// margin bytes either side so that a match or its context across the
// edge is seen whole; a match belongs to the window its first byte is in.
//
// truncated is called when a window holds more than maxMatches secrets.
func scanFile(ctx context.Context, f *inventory.File, emit func(match, location), truncated func()) error {
	loc := newLocator()
	var buf []byte
	for start := int64(0); start < f.Size; start += window {
		if err := ctx.Err(); err != nil {
			return err
		}
		bufStart := max(0, start-margin)
		end := min(f.Size, start+window+margin)
		if f.Whole() {
			buf = f.Head[bufStart:end]
		} else {
			if int64(cap(buf)) < end-bufStart {
				buf = make([]byte, end-bufStart)
			}
			buf = buf[:end-bufStart]
			if n, err := f.ReadAt(buf, bufStart); err != nil && !(errors.Is(err, io.EOF) && n == len(buf)) {
				return fmt.Errorf("%s: offset %d: %w", f.Path, bufStart, err)
			}
		}
		own := min(f.Size, start+window)
		ms := scanText(buf)
		if len(ms) >= maxMatches {
			truncated()
		}
		for _, m := range ms {
			off := bufStart + int64(m.start)
			if off < start || off >= own {
				continue
			}
			emit(m, loc.advance(buf, bufStart, off))
		}
		loc.advance(buf, bufStart, own)
	}
	return nil
}

// where says which part of a notebook a match is in; the zero value is
// the file itself.
type where struct {
	cell   int // 1-based; 0 for none
	output bool
}

func (w where) String() string {
	switch {
	case w.cell == 0:
		return "the file"
	case w.output:
		return fmt.Sprintf("the saved output of cell %d", w.cell)
	}
	return fmt.Sprintf("cell %d", w.cell)
}

// finding makes the finding of a match. Neither evidence nor message holds
// the secret.
func (m match) finding(path string, loc location, w where) inventory.Finding {
	f := inventory.Finding{
		Rule: m.rule, Severity: m.sev, Path: path, Line: loc.line, Column: loc.col, Cell: w.cell,
		Evidence: m.evidence,
	}
	if w.cell == 0 {
		f.Offset = inventory.At(loc.off)
	}
	switch m.rule {
	case RulePrivateKey:
		f.Message = fmt.Sprintf("%s with its body in %s: anyone who can read it holds the key", m.what, w)
		f.Remediation = "treat the key as compromised: make a new key pair, remove the old public key wherever it is trusted, and keep private keys out of the repository (a secret manager, or a file outside it)"
	case RuleGeneric:
		f.Message = fmt.Sprintf("high-entropy value assigned to a credential's name in %s: if it is live, anyone who can read it can use it", w)
		f.Remediation = "if it is live, revoke and rotate it, then read it at run time from the environment or a secret manager; deleting it from the file does not remove it from version history"
	default:
		f.Message = fmt.Sprintf("%s %s in %s: anyone who can read it can use it", m.name, m.what, w)
		f.Remediation = fmt.Sprintf("revoke it now at %s, then read the new one at run time from the environment or a secret manager; deleting it from the file does not remove it from version history", m.revoke)
	}
	if w.output {
		f.Remediation += "; clear the notebook's outputs too (jupyter nbconvert --clear-output --inplace " + baseName(path) + ")"
	}
	return f
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, "/\\!"); i >= 0 {
		return p[i+1:]
	}
	return p
}
