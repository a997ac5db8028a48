package policy

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/chainvet/chainvet/internal/diff"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/lock"
)

// ResultSchema names the JSON form of a [Result]. It changes only
// compatibly: fields are added, never renamed or removed.
const ResultSchema = "chainvet/gate/v1"

// A Requirement says who must have signed, and for an attestation what it
// must attest.
type Requirement struct {
	Key         string `json:"key,omitempty"`
	Certificate string `json:"certificate,omitempty"`
	Identity    string `json:"identity,omitempty"`
	Issuer      string `json:"issuer,omitempty"`
	TrustedRoot string `json:"trustedRoot,omitempty"`
	// PredicateType is set for an attestation, empty for a signature.
	PredicateType string `json:"predicateType,omitempty"`
}

// A SignatureChecker verifies the signature, or the attestation, of a file
// or model folder on disk against a requirement. It is the boundary to the
// cryptography: the policy package only asks.
type SignatureChecker interface {
	Check(ctx context.Context, path string, req Requirement) Verdict
}

// A Verdict is the answer of a [SignatureChecker].
type Verdict struct {
	Verified bool
	// Signer names who signed, when a signature was found.
	Signer string
	// Detail says what was checked, or why verification failed.
	Detail string
}

// LockStatus is what the gate learnt of the project's lock.
type LockStatus struct {
	// Path is the lock file.
	Path string
	// Err is why the lock could not be read or rebuilt; Drifts are then
	// unknown.
	Err    error
	Drifts []lock.Drift
}

// Input is everything a policy is evaluated over.
type Input struct {
	// Root is the gated folder as given to the scan: component paths
	// start with it, and policy globs are matched relative to it.
	Root   string
	Report *inventory.Report
	// Lock is nil when the project has no lock.
	Lock *LockStatus
	// Diff is the comparison with --base, after approvals were applied;
	// nil without --base.
	Diff *diff.Result
	// BOM is the file a BOM was written to, or "".
	BOM string
	// Checker verifies signatures; nil fails every required one.
	Checker SignatureChecker
	// Now decides which exceptions have expired.
	Now time.Time
}

// Status is a control's outcome.
type Status string

// The statuses of a control.
const (
	Pass   Status = "pass"
	Fail   Status = "fail" // a deny control with violations no live exception covers
	Warned Status = "warn" // a warn control with violations
	Skip   Status = "skip" // nothing to judge (approvals without --base)
)

// A Violation is one thing a control refuses.
type Violation struct {
	Component string `json:"component,omitempty"`
	Path      string `json:"path,omitempty"`
	Line      int    `json:"line,omitempty"`
	Evidence  string `json:"evidence"`
	Message   string `json:"message"`
	Fix       string `json:"fix"`
	// Exception is the live exception that accepts this violation, if any.
	Exception *ExceptionRef `json:"exception,omitempty"`
}

// An ExceptionRef names the exception that accepted a violation.
type ExceptionRef struct {
	Reason  string `json:"reason"`
	Owner   string `json:"owner"`
	Expires string `json:"expires"`
	Line    int    `json:"line"`
}

// A ControlResult is one control's outcome.
type ControlResult struct {
	ID          string `json:"id"`
	Type        Type   `json:"type"`
	Mode        Mode   `json:"mode"`
	Status      Status `json:"status"`
	Description string `json:"description,omitempty"`
	// Checked counts what the control judged: components, findings, files.
	Checked    int         `json:"checked"`
	Note       string      `json:"note,omitempty"`
	Violations []Violation `json:"violations,omitempty"`
	// Line is where the control is in the policy file.
	Line int `json:"line,omitempty"`
}

// Failed counts the violations that no exception accepts.
func (c *ControlResult) Failed() int {
	n := 0
	for _, v := range c.Violations {
		if v.Exception == nil {
			n++
		}
	}
	return n
}

// A Result is a policy's verdict on one input.
type Result struct {
	Schema string         `json:"schema"`
	Tool   inventory.Tool `json:"tool"`
	Policy string         `json:"policy"`
	// Target is the gated folder.
	Target string `json:"target"`
	// Mode is enforce or report: in report mode the gate never fails, and
	// Pass says whether it would have.
	Mode     string          `json:"mode"`
	Pass     bool            `json:"pass"`
	Controls []ControlResult `json:"controls"`
	// Signatures are every signature and attestation check made.
	Signatures []Signature `json:"signatures,omitempty"`
}

// Evaluate judges in by every control of p, in policy order, and applies
// the exceptions. An expired exception adds a failing "exceptions" result.
func (p *Policy) Evaluate(ctx context.Context, in *Input) (*Result, error) {
	e := &evaluator{in: in, root: strings.TrimSuffix(path.Clean(strings.ReplaceAll(in.Root, `\`, "/")), "/")}
	res := &Result{Schema: ResultSchema, Tool: in.Report.Tool, Policy: p.Path, Target: in.Root, Mode: "enforce", Pass: true}
	for _, c := range p.Controls {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cr := ControlResult{ID: c.ID, Type: c.Type, Mode: c.Mode, Description: c.Description, Line: c.Line}
		if err := e.run(ctx, c, &cr); err != nil {
			return nil, fmt.Errorf("control %s: %w", c.ID, err)
		}
		p.except(c, &cr, in.Now)
		switch {
		case cr.Status == Skip:
		case cr.Failed() == 0:
			cr.Status = Pass
		case c.Mode == Warn:
			cr.Status = Warned
		default:
			cr.Status = Fail
			res.Pass = false
		}
		res.Controls = append(res.Controls, cr)
	}
	if ex := p.expired(in.Now); ex != nil {
		res.Controls = append(res.Controls, *ex)
		res.Pass = false
	}
	res.Signatures = e.sigs
	return res, nil
}

// except marks the violations a live exception accepts.
func (p *Policy) except(c *Control, cr *ControlResult, now time.Time) {
	for i := range cr.Violations {
		v := &cr.Violations[i]
		for j := range p.Exceptions {
			x := &p.Exceptions[j]
			if x.Control != c.ID || x.Expired(now) {
				continue
			}
			if x.match != nil && !x.match.MatchString(v.Component) && !x.match.MatchString(v.Path) {
				continue
			}
			v.Exception = &ExceptionRef{Reason: x.Reason, Owner: x.Owner, Expires: x.Expires, Line: x.Line}
			break
		}
	}
}

// expired is the result of the exceptions that have run out, or nil.
func (p *Policy) expired(now time.Time) *ControlResult {
	cr := &ControlResult{ID: "exceptions", Type: "exceptions", Mode: Deny, Status: Pass, Checked: len(p.Exceptions)}
	for _, x := range p.Exceptions {
		if !x.Expired(now) {
			continue
		}
		what := x.Control
		if x.Component != "" {
			what += " for " + x.Component
		}
		cr.Violations = append(cr.Violations, Violation{
			Path:     p.Path,
			Line:     x.Line,
			Evidence: fmt.Sprintf("expires: %s, owner: %s, reason: %s", x.Expires, x.Owner, x.Reason),
			Message:  fmt.Sprintf("the exception to %s expired on %s", what, x.Expires),
			Fix:      fmt.Sprintf("ask %s to fix what it excuses and remove it, or to renew it with a new expires date", x.Owner),
		})
	}
	if len(cr.Violations) == 0 {
		return nil
	}
	cr.Status = Fail
	return cr
}

type evaluator struct {
	in      *Input
	root    string
	sigs    []Signature
	celVars map[string]any
}

// rel is p relative to the gated folder, slash-separated.
func (e *evaluator) rel(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if e.root == "." || e.root == "" {
		return strings.TrimPrefix(p, "./")
	}
	if p == e.root {
		return "."
	}
	return strings.TrimPrefix(p, e.root+"/")
}

func (e *evaluator) where(c *inventory.Component) (string, int) {
	if len(c.Locations) == 0 {
		return "", 0
	}
	return c.Locations[0].Path, c.Locations[0].Line
}

func (e *evaluator) run(ctx context.Context, c *Control, cr *ControlResult) error {
	switch c.Type {
	case TypeSources:
		e.sources(c, cr)
	case TypeFormats:
		e.formats(c, cr)
	case TypeSignatures, TypeAttestations:
		e.signatures(ctx, c, cr)
	case TypeSeverity:
		e.severity(c, cr)
	case TypePinning:
		e.pinning(c, cr)
	case TypeLicenses:
		e.licenses(c, cr)
	case TypeApprovals:
		e.approvals(c, cr)
	case TypeBOM:
		e.bom(ctx, c, cr)
	case TypeCEL:
		return e.cel(ctx, c, cr)
	}
	return nil
}

func matchAny(res []*regexp.Regexp, s string) bool {
	return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(s) })
}

func (e *evaluator) violate(cr *ControlResult, c *inventory.Component, evidence, msg, fix string) {
	v := Violation{Evidence: evidence, Message: msg, Fix: fix}
	if c != nil {
		v.Component = c.ID
		v.Path, v.Line = e.where(c)
	}
	cr.Violations = append(cr.Violations, v)
}

// defaultIndex is the index a package comes from when none is named.
var defaultIndex = map[string]string{
	"pypi":   "https://pypi.org/simple",
	"npm":    "https://registry.npmjs.org",
	"golang": "https://proxy.golang.org",
}

// registrySources are the package sources that fetch from an index.
var registrySources = []string{"registry", "mcp", "dockerfile", "notebook-install"}

func parsePURL(s string) (packageurl.PackageURL, bool) {
	if s == "" {
		return packageurl.PackageURL{}, false
	}
	p, err := packageurl.FromString(s)
	return p, err == nil
}

// hubRef names where a model or dataset reference comes from, as the
// sources control's models globs see it; "" when it is not from a hub.
func hubRef(c *inventory.Component) string {
	if p, ok := parsePURL(c.PURL); ok {
		switch p.Type {
		case "huggingface":
			return "huggingface/" + strings.Trim(p.Namespace+"/"+p.Name, "/")
		case "oci":
			if r := p.Qualifiers.Map()["repository_url"]; r != "" && c.Kind == inventory.KindModel {
				return "oci/" + r
			}
		}
	}
	hub := c.Properties["hub"]
	if hub == "" {
		return ""
	}
	if r := c.Properties["repository"]; r != "" {
		return hub + "/" + r
	}
	if rest, ok := strings.CutPrefix(c.ID, string(c.Kind)+":"+hub+"/"); ok {
		return hub + "/" + rest
	}
	return hub + "/" + c.Name
}

// imageRef names a container image as registry/repository.
func imageRef(c *inventory.Component) string {
	p, ok := parsePURL(c.PURL)
	if !ok || (p.Type != "docker" && p.Type != "oci") {
		return ""
	}
	repo := strings.Trim(p.Namespace+"/"+p.Name, "/")
	if r := p.Qualifiers.Map()["repository_url"]; r != "" {
		return r
	}
	if !strings.Contains(repo, "/") {
		repo = "library/" + repo
	}
	if first, _, _ := strings.Cut(repo, "/"); !strings.ContainsAny(first, ".:") && first != "localhost" {
		repo = "docker.io/" + repo
	}
	return repo
}

// packageName is a package's name with its namespace (npm scope, Go
// module path).
func packageName(c *inventory.Component) string {
	if p, ok := parsePURL(c.PURL); ok {
		return strings.Trim(p.Namespace+"/"+p.Name, "/")
	}
	return c.Name
}

func (e *evaluator) sources(c *Control, cr *ControlResult) {
	for i := range e.in.Report.Components {
		comp := &e.in.Report.Components[i]
		eco := comp.Properties["ecosystem"]
		src := comp.Properties["source"]
		switch {
		case len(c.models) > 0 && (comp.Kind == inventory.KindModel || comp.Kind == inventory.KindDataset) && hubRef(comp) != "":
			cr.Checked++
			if r := hubRef(comp); !matchAny(c.models, r) {
				e.violate(cr, comp, r, fmt.Sprintf("%s %s comes from %s, which the policy does not allow", comp.Kind, comp.Name, r),
					"use a model from an allowed hub or organisation ("+strings.Join(c.Models, ", ")+"), or add it to the models list after review")
			}
		case len(c.actions) > 0 && eco == "github":
			cr.Checked++
			p, _ := parsePURL(comp.PURL)
			name := strings.Trim(p.Namespace+"/"+p.Name, "/")
			if p.Subpath != "" {
				name += "/" + p.Subpath
			}
			if !matchAny(c.actions, name) {
				e.violate(cr, comp, name, "the action "+name+" is not on the policy's list",
					"use an allowed action ("+strings.Join(c.Actions, ", ")+"), or add this one after reviewing its code")
			}
		case len(c.containers) > 0 && comp.Kind == inventory.KindContainer && imageRef(comp) != "":
			cr.Checked++
			if r := imageRef(comp); !matchAny(c.containers, r) {
				e.violate(cr, comp, r, "the image "+r+" is not from an allowed registry or repository",
					"pull from an allowed registry ("+strings.Join(c.Containers, ", ")+"), mirroring the image there if needed")
			}
		case comp.Kind == inventory.KindPackage && eco != "github" && slices.Contains(registrySources, src) && comp.Properties["main"] != "true":
			if len(c.mcp) > 0 && src == "mcp" {
				cr.Checked++
				name := eco + ":" + packageName(comp)
				if !matchAny(c.mcp, name) {
					e.violate(cr, comp, name, "the MCP server "+name+" is not on the policy's list of allowed launches",
						"launch an allowed server ("+strings.Join(c.MCP, ", ")+"), or add this one after review")
				}
			}
			if len(c.indexes) > 0 {
				idx := cmpOr(comp.Properties["index"], comp.Properties["registry"], defaultIndex[eco])
				if idx == "" {
					continue
				}
				cr.Checked++
				if !matchAny(c.indexes, strings.TrimSuffix(idx, "/")) {
					e.violate(cr, comp, idx, fmt.Sprintf("%s comes from the index %s, which the policy does not allow", packageName(comp), idx),
						"install it from an allowed index ("+strings.Join(c.Indexes, ", ")+")")
				}
			}
		case len(c.mcp) > 0 && comp.Kind == inventory.KindPlugin && comp.Properties["url"] != "":
			cr.Checked++
			if u := comp.Properties["url"]; !matchAny(c.mcp, u) {
				e.violate(cr, comp, u, "the remote MCP server "+u+" is not on the policy's list",
					"connect only to allowed servers ("+strings.Join(c.MCP, ", ")+")")
			}
		}
	}
}

func cmpOr(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// formatIs reports whether a model's format is one of names; "pickle"
// names every format that unpickles.
func formatIs(comp *inventory.Component, names []string) bool {
	f := comp.Properties["format"]
	for _, n := range names {
		if strings.EqualFold(n, f) || (strings.EqualFold(n, "pickle") && comp.Properties["serialization"] == "pickle") {
			return true
		}
	}
	return false
}

func (e *evaluator) formats(c *Control, cr *ControlResult) {
	for i := range e.in.Report.Components {
		comp := &e.in.Report.Components[i]
		p, _ := e.where(comp)
		if comp.Kind != inventory.KindModel || comp.Properties["format"] == "" || p == "" {
			continue
		}
		if len(c.paths) > 0 && !matchAny(c.paths, e.rel(p)) {
			continue
		}
		cr.Checked++
		f := comp.Properties["format"]
		switch {
		case formatIs(comp, c.DenyFormats):
			e.violate(cr, comp, "format: "+f+serialization(comp), fmt.Sprintf("%s is %s, a format this policy denies here", e.rel(p), f),
				"convert it to an allowed format (safetensors for weights) and remove this file")
		case len(c.AllowFormats) > 0 && !formatIs(comp, c.AllowFormats):
			e.violate(cr, comp, "format: "+f+serialization(comp), fmt.Sprintf("%s is %s; only %s are allowed here", e.rel(p), f, strings.Join(c.AllowFormats, ", ")),
				"convert it to one of "+strings.Join(c.AllowFormats, ", ")+", or move it out of "+strings.Join(c.Paths, ", "))
		}
	}
}

func serialization(c *inventory.Component) string {
	if s := c.Properties["serialization"]; s != "" {
		return ", serialization: " + s
	}
	return ""
}

func requirement(c *Control) Requirement {
	r := Requirement{Key: c.Key, Certificate: c.Certificate, Identity: c.Identity, Issuer: c.Issuer, TrustedRoot: c.TrustedRoot}
	if c.Type == TypeAttestations || c.Type == TypeBOM {
		r.PredicateType = c.PredicateType
	}
	if c.Type == TypeBOM && r.PredicateType == "" {
		r.PredicateType = "https://cyclonedx.org/bom"
	}
	return r
}

func (e *evaluator) check(ctx context.Context, c *Control, p string) Verdict {
	if e.in.Checker == nil {
		return Verdict{Detail: "this build of chainvet cannot verify signatures"}
	}
	return e.in.Checker.Check(ctx, p, requirement(c))
}

func (e *evaluator) signatures(ctx context.Context, c *Control, cr *ControlResult) {
	kind := "signature"
	if c.Type == TypeAttestations {
		kind = "attestation"
	}
	for i := range e.in.Report.Components {
		comp := &e.in.Report.Components[i]
		p, _ := e.where(comp)
		if comp.Kind != inventory.KindModel || comp.Properties["part-of"] != "" || p == "" || strings.Contains(p, "!") {
			continue
		}
		if len(c.paths) > 0 && !matchAny(c.paths, e.rel(p)) {
			continue
		}
		cr.Checked++
		v := e.check(ctx, c, p)
		e.sigs = append(e.sigs, Signature{Control: c.ID, Kind: kind, Path: e.rel(p), Verified: v.Verified, Signer: v.Signer, Detail: v.Detail})
		if !v.Verified {
			fix := "sign it: chainvet sign " + p + " (then commit the signature beside it)"
			if kind == "attestation" {
				fix = "attach an in-toto attestation of type " + c.PredicateType + " for it, signed by " + signer(c)
			}
			e.violate(cr, comp, v.Detail, fmt.Sprintf("%s has no verified %s by %s", e.rel(p), kind, signer(c)), fix)
		}
	}
}

func signer(c *Control) string {
	switch {
	case c.Key != "":
		return "the key " + c.Key
	case c.Certificate != "":
		return "the certificate " + c.Certificate
	}
	return c.Identity + " (issuer " + c.Issuer + ")"
}

// limit is the threshold of a rule under a severity control.
func (c *Control) limit(rule string) (inventory.Severity, bool, string) {
	for _, l := range c.ruleLimits {
		if l.re.MatchString(rule) {
			return l.sev, l.never, "rules." + l.pattern
		}
	}
	return c.failOn, c.never, "fail-on"
}

func (e *evaluator) severity(c *Control, cr *ControlResult) {
	for _, f := range e.in.Report.Findings {
		cr.Checked++
		sev, never, by := c.limit(f.Rule)
		if never || f.Severity < sev {
			continue
		}
		fix := f.Remediation
		if fix == "" {
			fix = "fix what the finding describes"
		}
		v := Violation{Component: f.Component, Path: f.Path, Line: f.Line,
			Evidence: cmpOr(f.Evidence, f.Message),
			Message:  fmt.Sprintf("%s (%s): %s — at or above %s, set by %s", f.Rule, f.Severity, f.Message, sev, by),
			Fix:      fix}
		cr.Violations = append(cr.Violations, v)
	}
}

func (e *evaluator) pinning(c *Control, cr *ControlResult) {
	ls := e.in.Lock
	switch {
	case c.Lock == "off":
	case ls == nil && c.Lock == "required":
		cr.Checked++
		e.violate(cr, nil, "no "+lock.Name+" in "+e.in.Root, "the project has no lock", "run: chainvet lock "+e.in.Root+", review it, and commit it")
	case ls != nil && ls.Err != nil:
		cr.Checked++
		cr.Violations = append(cr.Violations, Violation{Path: ls.Path, Evidence: ls.Err.Error(),
			Message: "the lock cannot be verified", Fix: "restore the lock from version control, or write a new one with chainvet lock"})
	case ls != nil:
		cr.Checked++
		for _, d := range ls.Drifts {
			p := d.Path
			if !d.Pin {
				p = path.Join(e.root, d.Path)
			}
			cr.Violations = append(cr.Violations, Violation{Component: d.Path, Path: p,
				Evidence: "expected " + d.Expected + "; found " + d.Found,
				Message:  fmt.Sprintf("%s %s differs from %s (%s)", d.Kind, d.Path, ls.Path, strings.TrimPrefix(d.Rule, "lock/")),
				Fix:      "review the change; to accept it run: " + d.Accept})
		}
	}
	// Packages are judged by name: a manifest's range is fine when a
	// lockfile pins the same package.
	pinned, hashed := map[string]bool{}, map[string]bool{}
	for i := range e.in.Report.Components {
		comp := &e.in.Report.Components[i]
		if comp.Kind != inventory.KindPackage {
			continue
		}
		k := diff.Key(comp)
		if comp.Properties["pinned"] == "true" {
			pinned[k] = true
		}
		if h := comp.Properties["hashes"]; (h != "" && h != "false") || comp.Properties["go-sum"] != "" {
			hashed[k] = true
		}
	}
	for i := range e.in.Report.Components {
		comp := &e.in.Report.Components[i]
		eco := comp.Properties["ecosystem"]
		switch {
		case c.Hub && comp.Properties["hub"] != "" && comp.Properties["pinned"] != "":
			cr.Checked++
			if comp.Properties["pinned"] != "true" {
				e.violate(cr, comp, "revision: "+cmpOr(comp.Properties["revision"], "none"), hubRef(comp)+" is not pinned to a commit",
					`pass revision="<40-hex commit>" where it is loaded`)
			}
		case c.ActionsPinned && eco == "github":
			cr.Checked++
			if comp.Properties["pinned"] != "true" {
				e.violate(cr, comp, "ref: "+comp.Properties["ref"], packageName(comp)+" is used at "+comp.Properties["ref"]+", not a commit SHA",
					"pin it: uses: "+packageName(comp)+"@<40-hex commit SHA> # "+comp.Properties["ref"])
			}
		case c.Images && comp.Kind == inventory.KindContainer && imageRef(comp) != "":
			cr.Checked++
			if comp.Properties["pinned"] != "true" {
				e.violate(cr, comp, "image: "+comp.Name, imageRef(comp)+" is not pinned by digest",
					"refer to it as "+imageRef(comp)+"@sha256:<digest> (docker buildx imagetools inspect shows it)")
			}
		case c.Packages != "off" && comp.Kind == inventory.KindPackage && eco != "github" && eco != "docker" &&
			comp.Properties["main"] != "true" && slices.Contains(registrySources, comp.Properties["source"]):
			cr.Checked++
			k := diff.Key(comp)
			switch {
			case !pinned[k]:
				e.violate(cr, comp, cmpOr(comp.Properties["version-range"], "no version"), packageName(comp)+" is not pinned to an exact version",
					"pin it (== for Python, an exact version in a lockfile for npm) and commit the lockfile")
			case c.Packages == "hashed" && !hashed[k]:
				e.violate(cr, comp, "no hashes", packageName(comp)+" is not installed with hashes",
					"use a lockfile with hashes (poetry.lock, uv.lock, package-lock.json), or pip --require-hashes with --hash on every line")
			}
		}
	}
}

// licenseOK reports whether an SPDX-like expression passes the allow and
// deny lists: one alternative of an OR must pass, and an alternative
// passes when every licence it ANDs is allowed and none denied.
func (c *Control) licenseOK(expr string) bool {
	for _, alt := range splitWord(expr, "OR") {
		ok := true
		for _, l := range splitWord(alt, "AND") {
			l = strings.Trim(l, "() ")
			if matchAny(c.deny, l) || (len(c.allow) > 0 && !matchAny(c.allow, l)) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func splitWord(s, word string) []string {
	var out []string
	for _, f := range strings.Split(s, " "+word+" ") {
		out = append(out, strings.Split(f, " "+strings.ToLower(word)+" ")...)
	}
	return out
}

func (e *evaluator) licenses(c *Control, cr *ControlResult) {
	for i := range e.in.Report.Components {
		comp := &e.in.Report.Components[i]
		if !slices.Contains(c.Kinds, string(comp.Kind)) || comp.Properties["part-of"] != "" || comp.Properties["main"] == "true" {
			continue
		}
		cr.Checked++
		lic := strings.TrimSpace(comp.Properties["license"])
		switch {
		case lic == "" && c.Unknown == "fail":
			e.violate(cr, comp, "no licence", comp.Name+" declares no licence", "find its licence; if it is acceptable, add an exception for it naming the licence")
		case lic != "" && !c.licenseOK(lic):
			e.violate(cr, comp, "license: "+lic, fmt.Sprintf("%s is under %s, which the policy does not allow", comp.Name, lic),
				"replace it with a component under an allowed licence, or ask legal for an exception")
		}
	}
}

func (e *evaluator) approvals(c *Control, cr *ControlResult) {
	if e.in.Diff == nil {
		if c.RequireBase {
			e.violate(cr, nil, "no --base", "approvals cannot be checked without a base to compare with", "run the gate with --base <the target branch>")
			return
		}
		cr.Status, cr.Note = Skip, "no --base: nothing to compare with"
		return
	}
	for i := range e.in.Diff.Changes {
		ch := &e.in.Diff.Changes[i]
		if !ch.NeedsApproval() && !ch.RedFlag() {
			continue
		}
		cr.Checked++
		if ch.Approval != nil && ch.Approval.Approved {
			continue
		}
		note := "no approval"
		if ch.Approval != nil && ch.Approval.Note != "" {
			note = ch.Approval.Note
		}
		v := Violation{Component: ch.Key, Evidence: describeChange(ch), Message: describeChange(ch) + ": " + note,
			Fix: "review it, then add an entry to " + diff.ApprovalsName + " (component, versions, approved_by, reason, expires)"}
		if ch.New != nil {
			v.Component = ch.New.ID
		}
		cr.Violations = append(cr.Violations, v)
	}
}

func describeChange(c *diff.Change) string {
	ver := func(r *diff.Ref) string {
		if r == nil {
			return ""
		}
		return r.Version
	}
	switch {
	case c.Type == diff.Added:
		return strings.TrimSpace("added " + c.Key + " " + ver(c.New))
	case c.RedFlag():
		return fmt.Sprintf("%s %s has different bytes at the same version", c.Key, ver(c.New))
	case c.Jump != "":
		return fmt.Sprintf("%s %s → %s (%s)", c.Key, ver(c.Old), ver(c.New), c.Jump)
	}
	return c.Key + " changed"
}

func (e *evaluator) bom(ctx context.Context, c *Control, cr *ControlResult) {
	cr.Checked++
	if e.in.BOM == "" {
		e.violate(cr, nil, "no --bom", "the policy requires a BOM, and none was written", "run the gate with --bom bom.cdx.json and keep the file with the release")
		return
	}
	if !c.Attested {
		return
	}
	v := e.check(ctx, c, e.in.BOM)
	e.sigs = append(e.sigs, Signature{Control: c.ID, Kind: "attestation", Path: e.in.BOM, Verified: v.Verified, Signer: v.Signer, Detail: v.Detail})
	if !v.Verified {
		cr.Violations = append(cr.Violations, Violation{Path: e.in.BOM, Evidence: v.Detail,
			Message: "the BOM " + e.in.BOM + " has no verified attestation by " + signer(c),
			Fix:     "attest the BOM (predicate " + requirement(c).PredicateType + ") with the policy's signer"})
	}
}
