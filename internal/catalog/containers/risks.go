package containers

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Rule ids of the findings the Dockerfile cataloger reports; rules.All
// describes each.
const (
	RuleUnpinnedBase    = "docker/unpinned-base"
	RuleCurlPipeShell   = "docker/curl-pipe-shell"
	RuleAddURL          = "docker/add-url"
	RuleUnpinnedInstall = "docker/unpinned-install"
)

// A reporter turns what a Dockerfile's instructions show into findings.
type reporter struct {
	s    inventory.Sink
	path string
	self string
}

func (r reporter) finding(rule string, sev inventory.Severity, comp string, line, col int, ev, msg, fix string) {
	r.s.Finding(inventory.Finding{Rule: rule, Severity: sev, Component: comp, Path: r.path,
		Line: line, Column: col, Evidence: Cut(ev), Message: msg, Remediation: fix})
}

// base reports a FROM image that is not pinned by digest: high when it
// names no tag or "latest", which move by design.
func (r reporter) base(in instruction, im Image, comp string) {
	if im.Pinned() {
		return
	}
	raw, _ := fromArgs(in.Args)
	line, col := in.pos(max(strings.Index(in.Text, raw), 0))
	shown := im.Name()
	if im.Tag != "" {
		shown += ":" + im.Tag
	}
	ev := "FROM " + raw
	if raw != shown {
		ev += " (" + shown + ")"
	}
	sev := inventory.Medium
	why := "tag " + im.Tag + " can be moved to other bytes"
	if im.Tag == "" || im.Tag == "latest" {
		sev, why = inventory.High, "latest tag follows every new push"
	}
	r.finding(RuleUnpinnedBase, sev, comp, line, col, ev,
		"base image is not pinned by digest: its "+why+", so a rebuild may take a different image",
		"pin the digest and keep the tag for readers: FROM "+shown+"@sha256:<digest> (docker buildx imagetools inspect "+shown+" prints it)")
}

// syntaxRE is the parser directive naming the BuildKit frontend image.
var syntaxRE = regexp.MustCompile(`^#\s*syntax\s*=\s*(\S+)`)

// syntax reports a "# syntax=" frontend image without a digest: BuildKit
// pulls and runs it to read the rest of the file. Directives come only
// before anything else.
func (r reporter) syntax(buf []byte) {
	for i, line := range strings.Split(string(buf[:min(len(buf), 4096)]), "\n") {
		t := strings.TrimSpace(line)
		if !strings.HasPrefix(t, "#") {
			return
		}
		m := syntaxRE.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		im, ok := ParseImage(m[1])
		if !ok || im.Pinned() {
			return
		}
		r.finding(RuleUnpinnedBase, inventory.Low, r.self, i+1, strings.Index(line, m[1])+1, t,
			"the syntax directive's frontend image is not pinned by digest; BuildKit runs it to parse this file",
			"pin it: # syntax="+m[1]+"@sha256:<digest>, or drop the directive to use the builder's own frontend")
		return
	}
}

// runFlagRE matches RUN's own options, which come before the command.
var runFlagRE = regexp.MustCompile(`^(--\S+\s+)*`)

// run reports risky commands in a RUN line and in its heredoc script.
func (r reporter) run(in instruction) {
	cmd := strings.Index(in.Text, in.Args)
	if cmd < 0 {
		return
	}
	script := in.Args[len(runFlagRE.FindString(in.Args)):]
	cmd += len(in.Args) - len(script)
	for _, k := range ScanShell(script) {
		line, col := in.pos(cmd + k.Off)
		r.risk(k, line, col)
	}
	if in.Body != "" {
		for _, k := range ScanShell(in.Body) {
			before := in.Body[:k.Off]
			nl := strings.LastIndexByte(before, '\n')
			r.risk(k, in.BodyLine+strings.Count(before, "\n"), k.Off-nl)
		}
	}
}

func (r reporter) risk(k ShellRisk, line, col int) {
	switch k.Kind {
	case PipeToShell:
		r.finding(RuleCurlPipeShell, inventory.High, r.self, line, col, k.Evidence,
			"RUN downloads code and runs it at once: "+k.Detail, k.Fix)
	case UnpinnedInstall:
		r.finding(RuleUnpinnedInstall, inventory.Medium, r.self, line, col, k.Evidence,
			"RUN installs unpinned packages: "+k.Detail+"; each build may take a new, possibly malicious, release", k.Fix)
	}
	// Model downloads in images are left to the model rules of the code
	// that loads them.
}

// add reports ADD of a remote URL without --checksum: the bytes fetched
// are whatever the server sends that day.
func (r reporter) add(in instruction) {
	fs := strings.Fields(in.Args)
	var srcs []string
	for _, f := range fs {
		if strings.HasPrefix(f, "--checksum=") {
			return
		}
		if !strings.HasPrefix(f, "--") {
			srcs = append(srcs, f)
		}
	}
	if len(srcs) < 2 {
		return
	}
	for _, src := range srcs[:len(srcs)-1] {
		if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
			continue
		}
		line, col := in.pos(max(strings.Index(in.Text, src), 0))
		shown := cmp.Or(StripURL(src), "<url>")
		fix := "verify the download: ADD --checksum=sha256:<sha256 of the file> " + shown + " " + srcs[len(srcs)-1]
		if strings.HasSuffix(src, ".git") || strings.Contains(src, ".git#") {
			fix = "name a commit: ADD " + strings.SplitN(shown, "#", 2)[0] + "#<40-hex commit> " + srcs[len(srcs)-1]
		}
		r.finding(RuleAddURL, inventory.Medium, r.self, line, col, "ADD "+shown,
			fmt.Sprintf("ADD fetches %s at build time with nothing to check its content against", shown), fix)
	}
}
