// Package workflows inventories CI pipelines: GitHub Actions workflows and
// composite actions, and GitLab CI files.
//
// Each pipeline file is a workflow component that depends on what it
// runs: actions and reusable workflows (pkg:github purls with the ref as
// written, pinned only for a full commit SHA), container images of jobs
// and services (pkg:docker), and GitLab includes. The YAML is read into a
// node tree for line numbers; aliases are not followed, so a small file
// cannot expand into a large one.
//
// The same walk reports what makes a pipeline unsafe (risks.go): actions,
// includes and images not pinned to a commit or digest, pull request code
// checked out under privileged triggers, outsider-written contexts pasted
// into scripts, token permissions, and shell commands that run downloads
// or install unpinned packages (containers.ScanShell). Every finding names
// the line and byte column of what it quotes.
package workflows

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/catalog/containers"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/package-url/packageurl-go"
	"gopkg.in/yaml.v3"
)

// Limits of the reader.
const (
	// MaxSize bounds the bytes read of one pipeline file: 1 MiB is far
	// beyond any real workflow (GitHub rejects workflows over 512 KiB).
	MaxSize = 1 << 20
	// MaxNodes bounds the YAML nodes visited in one file.
	MaxNodes = 200000
)

// RuleMalformed is reported when a pipeline file cannot be parsed.
const RuleMalformed = "bom/malformed"

// CI catalogs CI pipeline files.
type CI struct{}

// Name implements inventory.Cataloger.
func (CI) Name() string { return "workflows/ci" }

type flavour int

const (
	none flavour = iota
	githubWorkflow
	githubAction
	gitlab
)

func kindOf(f *inventory.File) flavour {
	p := strings.ReplaceAll(f.Path, "\\", "/")
	n := strings.ToLower(f.Name)
	yml := strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".yaml")
	switch {
	case yml && strings.Contains(p, ".github/workflows/"):
		return githubWorkflow
	case n == "action.yml" || n == "action.yaml":
		return githubAction
	case n == ".gitlab-ci.yml" || n == ".gitlab-ci.yaml":
		return gitlab
	case yml && strings.Contains(p, ".gitlab/ci/"):
		return gitlab
	}
	return none
}

// Wants takes files by their conventional places: a workflow is only a
// workflow where the CI system looks for it.
func (CI) Wants(f *inventory.File) bool { return kindOf(f) != none }

var (
	sha40RE = regexp.MustCompile(`^[0-9a-f]{40}$`)
	ownerRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

type walker struct {
	f     *inventory.File
	s     inventory.Sink
	self  string
	deps  []string
	seen  map[string]bool
	nodes int
	local []string
	buf   []byte   // the file as read
	lines []string // buf split at newlines, made when first needed
}

func (w *walker) add(c inventory.Component) {
	w.s.Component(c)
	if !w.seen[c.ID] {
		w.seen[c.ID] = true
		w.deps = append(w.deps, c.ID)
	}
}

func (w *walker) loc(n *yaml.Node) inventory.Location {
	return inventory.Location{Path: w.f.Path, Line: n.Line}
}

// Catalog implements inventory.Cataloger.
func (c CI) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) (err error) {
	fl := kindOf(f)
	buf := make([]byte, min(f.Size, MaxSize))
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	w := &walker{f: f, s: s, seen: map[string]bool{}, buf: buf}
	w.self = inventory.FileComponentID(inventory.KindWorkflow, f.Path)
	if f.Component != "" {
		w.self = f.Component
	}
	format := map[flavour]string{githubWorkflow: "github-actions", githubAction: "github-action", gitlab: "gitlab-ci"}[fl]
	self := inventory.Component{
		ID: w.self, Kind: inventory.KindWorkflow, Name: f.Path,
		Locations:  []inventory.Location{{Path: f.Path}},
		Properties: map[string]string{"format": format},
	}
	defer func() {
		self.DependsOn = w.deps
		if len(w.local) > 0 {
			self.Properties["local-actions"] = strings.Join(w.local, ",")
		}
		s.Component(self)
	}()
	if f.Size > MaxSize {
		w.limit(fmt.Sprintf("size %d bytes", f.Size))
	}
	root, line, perr := decode(buf)
	if perr != nil {
		s.Finding(inventory.Finding{
			Rule: RuleMalformed, Severity: inventory.Low, Component: w.self, Path: f.Path, Line: line,
			Evidence:    perr.Error(),
			Message:     "a manifest could not be parsed; components it declares may be missing from the inventory",
			Remediation: "fix the YAML syntax; the CI system will reject it too",
		})
		return nil
	}
	if root == nil {
		return nil
	}
	if n := mapping(root, "name"); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" {
		self.Properties["workflow-name"] = n.Value
	}
	switch fl {
	case githubWorkflow:
		w.githubJobs(ctx, mapping(root, "jobs"))
		w.githubRisks(root)
	case githubAction:
		runs := mapping(root, "runs")
		for _, st := range items(mapping(runs, "steps")) {
			w.uses(mapping(st, "uses"))
		}
		w.steps(items(mapping(runs, "steps")), map[string]bool{}, nil, false)
		if img := mapping(runs, "image"); img != nil && strings.HasPrefix(img.Value, "docker://") {
			_, id, _ := w.image(img)
			w.usesRisk(img, id)
		}
	case gitlab:
		w.gitlab(ctx, root)
	}
	if w.nodes > MaxNodes {
		w.limit(fmt.Sprintf("more than %d YAML nodes", MaxNodes))
	}
	return ctx.Err()
}

func (w *walker) limit(ev string) {
	w.s.Finding(inventory.Finding{
		Rule: inventory.RuleScanLimit, Severity: inventory.High, Component: w.self, Path: w.f.Path,
		Evidence:    ev,
		Message:     fmt.Sprintf("pipeline file read only in part (limits: %d bytes, %d YAML nodes); what it uses after that is not listed", MaxSize, MaxNodes),
		Remediation: "split the pipeline, or review the rest by hand",
	})
}

// decode parses YAML into a node tree. The parser is third-party code fed
// hostile bytes: a panic in it is reported as a parse error, not a crash.
func decode(b []byte) (root *yaml.Node, line int, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("yaml parser failed: %v", r)
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		var n int
		fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &n)
		return nil, n, err
	}
	if len(doc.Content) == 0 {
		return nil, 0, nil
	}
	root = doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, root.Line, fmt.Errorf("line %d: top level is not a mapping", root.Line)
	}
	return root, 0, nil
}

// mapping returns the value of key in a mapping node, or nil.
func mapping(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// items returns a sequence's elements; a lone element counts as one.
func items(n *yaml.Node) []*yaml.Node {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.SequenceNode:
		return n.Content
	}
	return []*yaml.Node{n}
}

// pairs returns a mapping's keys and values in order.
func pairs(n *yaml.Node) [][2]*yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out
}

func (w *walker) githubJobs(ctx context.Context, jobs *yaml.Node) {
	for _, kv := range pairs(jobs) {
		if w.nodes++; w.nodes > MaxNodes || ctx.Err() != nil {
			return
		}
		job := kv[1]
		w.uses(mapping(job, "uses"))
		if ct := mapping(job, "container"); ct != nil {
			w.imageOf(ct)
		}
		for _, svc := range pairs(mapping(job, "services")) {
			w.imageOf(svc[1])
		}
		for _, st := range items(mapping(job, "steps")) {
			if w.nodes++; w.nodes > MaxNodes {
				return
			}
			w.uses(mapping(st, "uses"))
		}
	}
}

// imageOf reads an image given as a string or as a mapping with "image"
// (GitHub) or "name" (GitLab).
func (w *walker) imageOf(n *yaml.Node) (*yaml.Node, containers.Image, string, bool) {
	if n == nil {
		return nil, containers.Image{}, "", false
	}
	if n.Kind != yaml.ScalarNode {
		if img := mapping(n, "image"); img != nil && img.Kind == yaml.ScalarNode {
			n = img
		} else if img := mapping(n, "name"); img != nil && img.Kind == yaml.ScalarNode {
			n = img
		} else {
			return nil, containers.Image{}, "", false
		}
	}
	im, id, ok := w.image(n)
	return n, im, id, ok
}

func (w *walker) image(n *yaml.Node) (containers.Image, string, bool) {
	im, ok := containers.ParseImage(n.Value)
	if !ok {
		return im, "", false // empty, or an expression resolved only at run time
	}
	c := im.Component(w.loc(n))
	c.Properties["source"] = "workflow"
	w.add(c)
	return im, c.ID, true
}

// uses reads a step's or job's "uses": owner/repo[/path]@ref,
// docker://image, or a local ./path.
func (w *walker) uses(n *yaml.Node) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Value == "" {
		return
	}
	v := strings.TrimSpace(n.Value)
	switch {
	case strings.HasPrefix(v, "docker://"):
		_, id, _ := w.image(n)
		w.usesRisk(n, id)
		return
	case strings.HasPrefix(v, "./") || strings.HasPrefix(v, "../"):
		if !slices.Contains(w.local, v) {
			w.local = append(w.local, v)
		}
		return
	case strings.Contains(v, "${{"):
		return
	}
	c, ok := Action(v, w.loc(n))
	if ok {
		w.add(c)
		w.usesRisk(n, c.ID)
	}
}

// Action is the package component of a GitHub action or reusable workflow
// reference owner/repo[/path]@ref, declared at loc.
func Action(ref string, loc inventory.Location) (inventory.Component, bool) {
	spec, version, _ := strings.Cut(ref, "@")
	parts := strings.Split(spec, "/")
	if len(parts) < 2 || !ownerRE.MatchString(parts[0]) || !ownerRE.MatchString(parts[1]) {
		return inventory.Component{}, false
	}
	owner, repo := strings.ToLower(parts[0]), strings.ToLower(parts[1])
	sub := strings.Join(parts[2:], "/")
	p := packageurl.NewPackageURL("github", owner, repo, version, nil, sub).ToString()
	name := owner + "/" + repo
	if sub != "" {
		name += "/" + sub
	}
	props := map[string]string{
		"ecosystem": "github",
		"pinned":    fmt.Sprint(sha40RE.MatchString(version)),
		"source":    "workflow",
		"manifest":  loc.Path,
	}
	if version != "" {
		props["ref"] = version
	}
	return inventory.Component{
		ID: p, Kind: inventory.KindPackage, Name: name, Version: version, PURL: p,
		Locations: []inventory.Location{loc}, Properties: props, Dependency: inventory.Direct,
	}, true
}

// gitlabKeywords are the top-level keys of .gitlab-ci.yml that are not jobs.
var gitlabKeywords = map[string]bool{
	"default": true, "include": true, "stages": true, "variables": true, "workflow": true,
	"image": true, "services": true, "cache": true, "before_script": true, "after_script": true, "spec": true,
}

func (w *walker) gitlab(ctx context.Context, root *yaml.Node) {
	w.gitlabImages(root)
	w.gitlabImages(mapping(root, "default"))
	w.gitlabScripts(root)
	w.gitlabScripts(mapping(root, "default"))
	for _, inc := range items(mapping(root, "include")) {
		w.include(inc)
	}
	for _, kv := range pairs(root) {
		if w.nodes++; w.nodes > MaxNodes || ctx.Err() != nil {
			return
		}
		if gitlabKeywords[kv[0].Value] || strings.HasPrefix(kv[0].Value, ".") && kv[1].Kind != yaml.MappingNode {
			continue
		}
		w.gitlabImages(kv[1])
		w.gitlabScripts(kv[1])
	}
}

func (w *walker) gitlabImages(n *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	if img, im, id, ok := w.imageOf(mapping(n, "image")); ok {
		w.imageRisk(img, im, id)
	}
	for _, svc := range items(mapping(n, "services")) {
		if img, im, id, ok := w.imageOf(svc); ok {
			w.imageRisk(img, im, id)
		}
	}
}

// include reads one GitLab include: a string (local path or URL) or a
// mapping with local, remote, template, project/file/ref or component.
func (w *walker) include(n *yaml.Node) {
	if n == nil {
		return
	}
	loc := w.loc(n)
	props := func(k, v string) map[string]string {
		return map[string]string{"source": "include", "manifest": loc.Path, k: v}
	}
	remote := func(u string) {
		s := containers.StripURL(u)
		if s == "" {
			return
		}
		w.add(inventory.Component{ID: "url:" + s, Kind: inventory.KindWorkflow, Name: s,
			Locations: []inventory.Location{loc}, Properties: props("url", s), Dependency: inventory.Direct})
	}
	remoteRisk := func(u *yaml.Node) {
		w.includeRisk(u, "remote: "+u.Value, "a remote URL serves whatever its server holds",
			"copy the file into this repository and include it with local:, or include it from a project pinned to a commit: project: <group/project>, ref: <40-hex commit>, file: <path>")
	}
	if n.Kind == yaml.ScalarNode {
		if strings.Contains(n.Value, "://") {
			remote(n.Value)
			remoteRisk(n)
		}
		return
	}
	switch {
	case mapping(n, "remote") != nil:
		remote(mapping(n, "remote").Value)
		remoteRisk(mapping(n, "remote"))
	case mapping(n, "template") != nil:
		t := mapping(n, "template").Value
		w.add(inventory.Component{ID: "gitlab-template:" + t, Kind: inventory.KindWorkflow, Name: t,
			Locations: []inventory.Location{loc}, Properties: props("ecosystem", "gitlab"), Dependency: inventory.Direct})
	case mapping(n, "project") != nil:
		proj := mapping(n, "project").Value
		ref := ""
		at := mapping(n, "project")
		if r := mapping(n, "ref"); r != nil {
			ref, at = r.Value, r
		}
		if !sha40RE.MatchString(ref) && !strings.Contains(proj, "$") {
			why, ev := "no ref: the project's default branch", "project: "+proj
			if ref != "" {
				why, ev = "ref "+ref+" is a branch or tag", "ref: "+ref
			}
			w.includeRisk(at, ev, why, "pin the commit: ref: <40-hex commit of "+cmp.Or(ref, "the default branch")+"> (git ls-remote <project URL> "+cmp.Or(ref, "HEAD")+" prints it)")
		}
		for _, file := range items(mapping(n, "file")) {
			c, ok := gitlabProject(proj, ref, file.Value, loc)
			if ok {
				w.add(c)
			}
		}
	case mapping(n, "component") != nil:
		comp := mapping(n, "component").Value
		path, ref, _ := strings.Cut(comp, "@")
		if !sha40RE.MatchString(ref) && !strings.Contains(comp, "$") {
			w.includeRisk(mapping(n, "component"), "component: "+comp, "version "+cmp.Or(ref, "(none)")+" is not a commit",
				"pin the commit: component: "+path+"@<40-hex commit>")
		}
		// host/group/project/name: the first element is the instance.
		_, proj, _ := strings.Cut(path, "/")
		if i := strings.LastIndexByte(proj, '/'); i > 0 {
			if c, ok := gitlabProject(proj[:i], ref, proj[i+1:], loc); ok {
				c.Properties["component"] = comp
				w.add(c)
			}
		}
	}
}

func gitlabProject(proj, ref, file string, loc inventory.Location) (inventory.Component, bool) {
	i := strings.LastIndexByte(proj, '/')
	if i <= 0 || strings.Contains(proj, "$") {
		return inventory.Component{}, false
	}
	file = strings.TrimPrefix(file, "/")
	p := packageurl.NewPackageURL("gitlab", strings.ToLower(proj[:i]), strings.ToLower(proj[i+1:]), ref, nil, file).ToString()
	props := map[string]string{"ecosystem": "gitlab", "pinned": fmt.Sprint(sha40RE.MatchString(ref)),
		"source": "include", "manifest": loc.Path}
	if ref != "" {
		props["ref"] = ref
	}
	return inventory.Component{ID: p, Kind: inventory.KindWorkflow, Name: proj + "/" + file, Version: ref, PURL: p,
		Locations: []inventory.Location{loc}, Properties: props, Dependency: inventory.Direct}, true
}
