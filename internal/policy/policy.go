// Package policy is chainvet's release gate: a versioned policy file of
// typed controls and CEL rules, evaluated over one scan's report, its lock
// verification, signature checks and diff, into a pass or a fail with the
// reasons for each.
//
// # Policy file
//
// A policy is YAML (chainvet-policy.yaml) with "version: 1", a list of
// controls and a list of exceptions. Every control has a stable id, a type
// and a mode: deny (a violation fails the gate) or warn (it is reported
// only). The types are sources, formats, signatures, attestations,
// severity, pinning, licenses, approvals, bom and cel; their fields are
// documented on [Control]. Unknown keys, keys of another type, bad globs,
// bad severities and CEL that does not type-check are errors naming the
// file, line and column: a policy that does not say what its author meant
// never runs.
//
// # Evaluation
//
// [Policy.Evaluate] is pure: everything it judges is in its [Input],
// including the time exceptions expire at. Checks that need cryptography
// go through a [SignatureChecker]; without one, required signatures fail
// closed.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chainvet/chainvet/internal/inventory"
)

// FileName is the policy file looked for in the gated folder.
const FileName = "chainvet-policy.yaml"

// Version is the only policy format version this package reads.
const Version = 1

// Limits on a policy file. Real policies are a page or two; these bound the
// work a hostile one can cause (every pattern is tried on every component).
const (
	// MaxPolicySize is the largest policy file read, in bytes.
	MaxPolicySize = 1 << 20
	// MaxControls bounds the controls of a policy.
	MaxControls = 1000
	// MaxExceptions bounds the exceptions of a policy.
	MaxExceptions = 10000
	// MaxPatterns bounds the globs of one list.
	MaxPatterns = 1000
	// MaxPatternLen bounds one glob, in bytes.
	MaxPatternLen = 1024
	// MaxExprLen bounds one CEL expression, in bytes.
	MaxExprLen = 16 << 10
	// maxDepth bounds YAML nesting; no field of a policy nests deeper than 5.
	maxDepth = 16
)

// ErrPolicy reports a policy that cannot be used.
var ErrPolicy = errors.New("policy")

// Mode says what a control's violations do.
type Mode string

// The modes of a control.
const (
	// Deny violations fail the gate.
	Deny Mode = "deny"
	// Warn violations are reported and never fail the gate.
	Warn Mode = "warn"
)

// Type names what a control checks.
type Type string

// The control types.
const (
	TypeSources      Type = "sources"
	TypeFormats      Type = "formats"
	TypeSignatures   Type = "signatures"
	TypeAttestations Type = "attestations"
	TypeSeverity     Type = "severity"
	TypePinning      Type = "pinning"
	TypeLicenses     Type = "licenses"
	TypeApprovals    Type = "approvals"
	TypeBOM          Type = "bom"
	TypeCEL          Type = "cel"
)

// fieldsOf lists the keys each control type accepts beyond id, type, mode
// and description.
var fieldsOf = map[Type][]string{
	TypeSources:      {"models", "indexes", "actions", "containers", "mcp"},
	TypeFormats:      {"paths", "deny", "allow"},
	TypeSignatures:   {"paths", "key", "certificate", "identity", "issuer", "trusted-root"},
	TypeAttestations: {"paths", "predicate-type", "key", "certificate", "identity", "issuer", "trusted-root"},
	TypeSeverity:     {"fail-on", "rules"},
	TypePinning:      {"lock", "hub", "actions", "images", "packages"},
	TypeLicenses:     {"kinds", "allow", "deny", "unknown"},
	TypeApprovals:    {"require-base"},
	TypeBOM:          {"attested", "predicate-type", "key", "certificate", "identity", "issuer", "trusted-root"},
	TypeCEL:          {"for", "deny", "message", "fix"},
}

// A Policy is a parsed, checked policy file.
type Policy struct {
	// Path is the file the policy was read from.
	Path       string
	Version    int
	Controls   []*Control
	Exceptions []Exception
}

// A Control is one check of a policy. Which fields apply depends on Type;
// a field of another type is an error.
type Control struct {
	// ID is stable: outputs, exceptions and CI history refer to it.
	ID          string
	Type        Type
	Mode        Mode
	Description string

	// sources: allowed origins, as globs. An empty list leaves that kind
	// of origin unchecked.
	//  models: hub references of models and datasets, "huggingface/org/name";
	//          OCI model artifacts as "oci/<registry>/<repository>".
	//  indexes: package indexes and registries by URL; a package from its
	//          ecosystem's default index has that index's URL
	//          (https://pypi.org/simple, https://registry.npmjs.org,
	//          https://proxy.golang.org).
	//  actions: CI actions, "owner/repo" (with "/path" for one in a folder).
	//  containers: images as "registry/repository" (docker.io/library/python).
	//  mcp: MCP server launches, "npm:<package>", "pypi:<package>",
	//       "oci:<image>", or a remote server's URL.
	Models     []string
	Indexes    []string
	Actions    []string
	Containers []string
	MCP        []string

	// formats, signatures, attestations: the model paths the control covers,
	// as globs relative to the gated folder ("deploy/**"); empty is all.
	Paths []string
	// formats: model formats (the component's format property, such as
	// pytorch-zip, safetensors, gguf) denied or, if Allow is set, the only
	// ones allowed. The name "pickle" stands for every format that
	// unpickles on load.
	DenyFormats  []string
	AllowFormats []string

	// signatures, attestations, bom: who must have signed. Key and
	// Certificate are files (relative to the policy file); Identity and
	// Issuer are a keyless signer's certificate identity and its OIDC
	// issuer, checked against the Sigstore TrustedRoot file.
	Key         string
	Certificate string
	Identity    string
	Issuer      string
	TrustedRoot string
	// attestations, bom: the in-toto predicate type required.
	PredicateType string

	// severity: findings at or above FailOn violate ("none": never), unless
	// Rules says otherwise for their rule. Rules maps rule ids and globs
	// ("code/*") to a severity or "none"; an exact id beats a glob, and a
	// longer glob a shorter one.
	FailOn string
	Rules  map[string]string

	// pinning: Lock is "required" (chainvet.lock present and verified),
	// "if-present" (verified when there is one; the default) or "off".
	// Hub, Actions and Images require hub references at a commit, actions
	// at a full SHA and images by digest. Packages is "pinned" (an exact
	// version), "hashed" (and lockfile hashes) or "off".
	Lock     string
	Hub      bool
	Images   bool
	Packages string
	// ActionsPinned is the pinning control's "actions" key.
	ActionsPinned bool

	// licenses: Kinds are the component kinds judged (default package and
	// model); Allow, if set, are the only licences allowed and Deny those
	// refused, as case-insensitive globs over the license property;
	// Unknown is "pass" (default) or "fail" for components with none.
	Kinds   []string
	Unknown string
	// Allow and Deny of licenses; formats reuse the same keys.
	Allow []string
	Deny  []string

	// approvals: every added component, version jump and content change
	// since --base needs a live entry in chainvet-approvals.yaml. With
	// RequireBase, a gate without --base fails this control.
	RequireBase bool

	// bom: a BOM must be written (gate --bom FILE); with Attested, it must
	// carry an attestation checked like the attestations control's.
	Attested bool

	// cel: Expr is a CEL expression of type bool; true is a violation.
	// With For set to "components" or "findings", it is evaluated once per
	// element, bound to "component" or "finding", and each true names it.
	For     string
	Expr    string
	Message string
	Fix     string

	// Line and Column are where the control starts in the file.
	Line, Column int

	paths, models, indexes, actions, containers, mcp, allow, deny []*regexp.Regexp
	ruleLimits                                                    []ruleLimit
	failOn                                                        inventory.Severity
	never                                                         bool
	prog                                                          *celRule
}

// An Exception accepts the violations of one control for the components it
// names, for a time. An expired exception accepts nothing and fails the
// gate until it is renewed or removed.
type Exception struct {
	// Control is the id of the control excepted.
	Control string
	// Component is a glob over the violating component's ID, purl or path;
	// empty is every violation of the control.
	Component string
	Reason    string
	Owner     string
	// Expires is the last day (YYYY-MM-DD, UTC) the exception holds.
	Expires string
	Line    int

	expires time.Time
	match   *regexp.Regexp
}

// Load reads and checks the policy file at path.
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxPolicySize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(path, b)
}

// Parse reads and checks a policy; name is used in errors.
func Parse(name string, b []byte) (*Policy, error) {
	errf := func(n *yaml.Node, format string, args ...any) error {
		if n == nil {
			return fmt.Errorf("%w: %s: %s", ErrPolicy, name, fmt.Sprintf(format, args...))
		}
		return fmt.Errorf("%w: %s:%d:%d: %s", ErrPolicy, name, n.Line, n.Column, fmt.Sprintf(format, args...))
	}
	if len(b) > MaxPolicySize {
		return nil, errf(nil, "larger than %d bytes", MaxPolicySize)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return nil, errf(nil, "not YAML: %v", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errf(nil, "want a mapping with version, controls and exceptions")
	}
	if d := depth(&doc, 0); d > maxDepth {
		return nil, errf(nil, "nested deeper than %d", maxDepth)
	}
	p := &Policy{Path: name}
	lines := strings.Split(string(b), "\n")
	root := doc.Content[0]
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			return nil, errf(k, "duplicate key %q", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "version":
			if err := v.Decode(&p.Version); err != nil || p.Version != Version {
				return nil, errf(v, "version must be %d", Version)
			}
		case "controls":
			if v.Kind != yaml.SequenceNode {
				return nil, errf(v, "controls must be a list")
			}
			if len(v.Content) > MaxControls {
				return nil, errf(v, "more than %d controls", MaxControls)
			}
			ids := map[string]int{}
			for _, n := range v.Content {
				c, err := parseControl(n, errf, lines)
				if err != nil {
					return nil, err
				}
				if l, dup := ids[c.ID]; dup {
					return nil, errf(n, "control id %q already used on line %d", c.ID, l)
				}
				ids[c.ID] = n.Line
				p.Controls = append(p.Controls, c)
			}
		case "exceptions":
			if v.Kind != yaml.SequenceNode {
				return nil, errf(v, "exceptions must be a list")
			}
			if len(v.Content) > MaxExceptions {
				return nil, errf(v, "more than %d exceptions", MaxExceptions)
			}
			for _, n := range v.Content {
				e, err := parseException(n, errf)
				if err != nil {
					return nil, err
				}
				p.Exceptions = append(p.Exceptions, e)
			}
		default:
			return nil, errf(k, "unknown key %q (want version, controls, exceptions)", k.Value)
		}
	}
	if p.Version == 0 {
		return nil, errf(root, "version: %d is required", Version)
	}
	for _, c := range p.Controls {
		c.Key, c.Certificate = besidePolicy(name, c.Key), besidePolicy(name, c.Certificate)
		c.TrustedRoot = besidePolicy(name, c.TrustedRoot)
	}
	for _, e := range p.Exceptions {
		if !slices.ContainsFunc(p.Controls, func(c *Control) bool { return c.ID == e.Control }) {
			return nil, errf(nil, "line %d: exception names control %q, which the policy does not have", e.Line, e.Control)
		}
	}
	return p, nil
}

// besidePolicy resolves a file named in the policy relative to the
// policy's own folder.
func besidePolicy(policy, file string) string {
	if file == "" || filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(filepath.Dir(policy), file)
}

func depth(n *yaml.Node, d int) int {
	if d > maxDepth {
		return d
	}
	m := d
	for _, c := range n.Content {
		m = max(m, depth(c, d+1))
	}
	return m
}

type errfFunc func(n *yaml.Node, format string, args ...any) error

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]{0,127}$`)

func parseControl(n *yaml.Node, errf errfFunc, lines []string) (*Control, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errf(n, "a control must be a mapping")
	}
	c := &Control{Line: n.Line, Column: n.Column, Mode: Deny}
	keys := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, dup := keys[k.Value]; dup {
			return nil, errf(k, "duplicate key %q", k.Value)
		}
		keys[k.Value] = n.Content[i+1]
	}
	if t := keys["type"]; t != nil {
		c.Type = Type(t.Value)
	}
	allowed, ok := fieldsOf[c.Type]
	if !ok {
		return nil, errf(n, "control type %q is not one of sources, formats, signatures, attestations, severity, pinning, licenses, approvals, bom, cel", c.Type)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		switch k.Value {
		case "id", "type", "mode", "description":
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			return nil, errf(k, "%s control: unknown key %q (want %s)", c.Type, k.Value, strings.Join(allowed, ", "))
		}
	}
	var err error
	str := func(key string, dst *string) {
		if v := keys[key]; v != nil && err == nil {
			if v.Kind != yaml.ScalarNode {
				err = errf(v, "%s must be a string", key)
				return
			}
			*dst = v.Value
		}
	}
	flag := func(key string, dst *bool) {
		if v := keys[key]; v != nil && err == nil {
			if e := v.Decode(dst); e != nil || v.Tag != "!!bool" {
				err = errf(v, "%s must be true or false", key)
			}
		}
	}
	list := func(key string, dst *[]string) {
		if v := keys[key]; v != nil && err == nil {
			if v.Kind != yaml.SequenceNode {
				err = errf(v, "%s must be a list", key)
				return
			}
			if len(v.Content) > MaxPatterns {
				err = errf(v, "%s: more than %d entries", key, MaxPatterns)
				return
			}
			for _, s := range v.Content {
				if s.Kind != yaml.ScalarNode || s.Value == "" || len(s.Value) > MaxPatternLen {
					err = errf(s, "%s: entries must be non-empty strings of at most %d bytes", key, MaxPatternLen)
					return
				}
				*dst = append(*dst, s.Value)
			}
		}
	}
	var mode string
	str("id", &c.ID)
	str("mode", &mode)
	str("description", &c.Description)
	if err != nil {
		return nil, err
	}
	if !idPattern.MatchString(c.ID) {
		return nil, errf(n, "control id %q: want 1-128 lower-case letters, digits and . _ / -", c.ID)
	}
	switch Mode(mode) {
	case "", Deny:
	case Warn:
		c.Mode = Warn
	default:
		return nil, errf(keys["mode"], "control %s: mode %q is not deny or warn", c.ID, mode)
	}
	at := func(key string) *yaml.Node {
		if v := keys[key]; v != nil {
			return v
		}
		return n
	}
	globs := func(key string, src []string, fold bool) []*regexp.Regexp {
		var out []*regexp.Regexp
		for _, s := range src {
			re, e := compileGlob(s, fold)
			if e != nil && err == nil {
				err = errf(at(key), "control %s: %s: %v", c.ID, key, e)
			}
			out = append(out, re)
		}
		return out
	}
	switch c.Type {
	case TypeSources:
		list("models", &c.Models)
		list("indexes", &c.Indexes)
		list("actions", &c.Actions)
		list("containers", &c.Containers)
		list("mcp", &c.MCP)
		c.models, c.indexes = globs("models", c.Models, true), globs("indexes", c.Indexes, true)
		c.actions, c.containers = globs("actions", c.Actions, true), globs("containers", c.Containers, true)
		c.mcp = globs("mcp", c.MCP, true)
		if err == nil && len(c.Models)+len(c.Indexes)+len(c.Actions)+len(c.Containers)+len(c.MCP) == 0 {
			err = errf(n, "sources control %s: list at least one of models, indexes, actions, containers, mcp", c.ID)
		}
	case TypeFormats:
		list("paths", &c.Paths)
		list("deny", &c.DenyFormats)
		list("allow", &c.AllowFormats)
		c.paths = globs("paths", c.Paths, false)
		if err == nil && len(c.DenyFormats)+len(c.AllowFormats) == 0 {
			err = errf(n, "formats control %s: list the formats to deny or allow", c.ID)
		}
	case TypeSignatures, TypeAttestations, TypeBOM:
		list("paths", &c.Paths)
		c.paths = globs("paths", c.Paths, false)
		str("key", &c.Key)
		str("certificate", &c.Certificate)
		str("identity", &c.Identity)
		str("issuer", &c.Issuer)
		str("trusted-root", &c.TrustedRoot)
		str("predicate-type", &c.PredicateType)
		flag("attested", &c.Attested)
		needSigner := c.Type != TypeBOM || c.Attested
		if err == nil && needSigner && c.Key == "" && c.Certificate == "" && (c.Identity == "" || c.Issuer == "") {
			err = errf(n, "%s control %s: name a key, a certificate, or an identity with its issuer", c.Type, c.ID)
		}
		if err == nil && (c.Identity != "" || c.Issuer != "") && c.TrustedRoot == "" {
			err = errf(n, "%s control %s: an identity and issuer are checked against a Sigstore trusted root: add trusted-root: trusted_root.json", c.Type, c.ID)
		}
		if err == nil && c.Type == TypeAttestations && c.PredicateType == "" {
			err = errf(n, "attestations control %s: predicate-type is required (e.g. https://slsa.dev/provenance/v1)", c.ID)
		}
	case TypeSeverity:
		failOn := "high"
		str("fail-on", &failOn)
		if err != nil {
			return nil, err
		}
		if c.failOn, c.never, err = parseLevel(failOn); err != nil {
			return nil, errf(at("fail-on"), "control %s: fail-on: %v", c.ID, err)
		}
		c.FailOn = failOn
		if v := keys["rules"]; v != nil {
			if v.Kind != yaml.MappingNode || len(v.Content)/2 > MaxPatterns {
				return nil, errf(v, "control %s: rules must map at most %d rule ids or globs to a severity or none", c.ID, MaxPatterns)
			}
			c.Rules = map[string]string{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, s := v.Content[i], v.Content[i+1]
				if len(k.Value) == 0 || len(k.Value) > MaxPatternLen {
					return nil, errf(k, "control %s: rules: bad rule id %q", c.ID, k.Value)
				}
				sev, never, e := parseLevel(s.Value)
				if e != nil {
					return nil, errf(s, "control %s: rules: %s: %v", c.ID, k.Value, e)
				}
				re, e := compileGlob(k.Value, false)
				if e != nil {
					return nil, errf(k, "control %s: rules: %v", c.ID, e)
				}
				c.Rules[k.Value] = s.Value
				c.ruleLimits = append(c.ruleLimits, ruleLimit{pattern: k.Value, re: re, sev: sev, never: never})
			}
			sortLimits(c.ruleLimits)
		}
	case TypePinning:
		c.Lock, c.Packages = "if-present", "off"
		str("lock", &c.Lock)
		str("packages", &c.Packages)
		flag("hub", &c.Hub)
		flag("actions", &c.ActionsPinned)
		flag("images", &c.Images)
		if err == nil && !slices.Contains([]string{"required", "if-present", "off"}, c.Lock) {
			err = errf(at("lock"), "control %s: lock %q is not required, if-present or off", c.ID, c.Lock)
		}
		if err == nil && !slices.Contains([]string{"pinned", "hashed", "off"}, c.Packages) {
			err = errf(at("packages"), "control %s: packages %q is not pinned, hashed or off", c.ID, c.Packages)
		}
	case TypeLicenses:
		c.Unknown = "pass"
		list("kinds", &c.Kinds)
		list("allow", &c.Allow)
		list("deny", &c.Deny)
		str("unknown", &c.Unknown)
		c.allow, c.deny = globs("allow", c.Allow, true), globs("deny", c.Deny, true)
		if len(c.Kinds) == 0 {
			c.Kinds = []string{string(inventory.KindPackage), string(inventory.KindModel)}
		}
		if err == nil && c.Unknown != "pass" && c.Unknown != "fail" {
			err = errf(at("unknown"), "control %s: unknown %q is not pass or fail", c.ID, c.Unknown)
		}
		if err == nil && len(c.Allow)+len(c.Deny) == 0 && c.Unknown == "pass" {
			err = errf(n, "licenses control %s: list licences to allow or deny", c.ID)
		}
	case TypeApprovals:
		flag("require-base", &c.RequireBase)
	case TypeCEL:
		str("for", &c.For)
		str("deny", &c.Expr)
		str("message", &c.Message)
		str("fix", &c.Fix)
		if err != nil {
			return nil, err
		}
		if c.For != "" && c.For != "components" && c.For != "findings" {
			return nil, errf(at("for"), "control %s: for %q is not components or findings", c.ID, c.For)
		}
		if c.Expr == "" || len(c.Expr) > MaxExprLen {
			return nil, errf(at("deny"), "control %s: deny must be a CEL expression of at most %d bytes", c.ID, MaxExprLen)
		}
		if c.Message == "" {
			return nil, errf(n, "cel control %s: message is required: say what is wrong", c.ID)
		}
		prog, e := compileCEL(c.For, c.Expr)
		if e != nil {
			v := keys["deny"]
			return nil, errf(v, "control %s: CEL: %v", c.ID, celPosition(e, v, lines))
		}
		c.prog = prog
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func parseException(n *yaml.Node, errf errfFunc) (Exception, error) {
	var e Exception
	if n.Kind != yaml.MappingNode {
		return e, errf(n, "an exception must be a mapping")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return e, errf(v, "%s must be a string", k.Value)
		}
		switch k.Value {
		case "control":
			e.Control = v.Value
		case "component":
			e.Component = v.Value
		case "reason":
			e.Reason = v.Value
		case "owner":
			e.Owner = v.Value
		case "expires":
			e.Expires = v.Value
		default:
			return e, errf(k, "exception: unknown key %q (want control, component, reason, owner, expires)", k.Value)
		}
	}
	e.Line = n.Line
	if e.Control == "" || strings.TrimSpace(e.Reason) == "" || strings.TrimSpace(e.Owner) == "" || e.Expires == "" {
		return e, errf(n, "an exception needs control, reason, owner and expires (YYYY-MM-DD)")
	}
	t, err := time.Parse(time.DateOnly, e.Expires)
	if err != nil {
		return e, errf(n, "exception expires %q: want YYYY-MM-DD", e.Expires)
	}
	e.expires = t
	if e.Component != "" {
		if len(e.Component) > MaxPatternLen {
			return e, errf(n, "exception component longer than %d bytes", MaxPatternLen)
		}
		if e.match, err = compileGlob(e.Component, false); err != nil {
			return e, errf(n, "exception component: %v", err)
		}
	}
	return e, nil
}

// Expired reports whether the exception no longer holds at now: it holds
// through the whole of its expiry day, in UTC.
func (e *Exception) Expired(now time.Time) bool {
	return !now.UTC().Before(e.expires.AddDate(0, 0, 1))
}

// parseLevel reads a severity name or "none".
func parseLevel(s string) (inventory.Severity, bool, error) {
	if strings.EqualFold(s, "none") {
		return 0, true, nil
	}
	sev, err := inventory.ParseSeverity(s)
	return sev, false, err
}

// compileGlob turns a glob into an anchored regular expression: "**"
// matches anything, "/" included; "*" a run of characters other than "/";
// "?" one such character. RE2 matches in time linear in the name, however
// the pattern is written.
func compileGlob(g string, fold bool) (*regexp.Regexp, error) {
	if len(g) > MaxPatternLen {
		return nil, fmt.Errorf("glob longer than %d bytes", MaxPatternLen)
	}
	var b strings.Builder
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch {
		case strings.HasPrefix(g[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case g[i] == '*':
			b.WriteString("[^/]*")
		case g[i] == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(g[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// A ruleLimit is the severity threshold of the rules matching a pattern.
type ruleLimit struct {
	pattern string
	re      *regexp.Regexp
	sev     inventory.Severity
	never   bool
}

// sortLimits orders limits most specific first: exact ids, then globs by
// the length of their literal text, longest first.
func sortLimits(ls []ruleLimit) {
	spec := func(p string) (bool, int) {
		return !strings.ContainsAny(p, "*?"), len(strings.NewReplacer("*", "", "?", "").Replace(p))
	}
	slices.SortStableFunc(ls, func(a, b ruleLimit) int {
		ea, la := spec(a.pattern)
		eb, lb := spec(b.pattern)
		switch {
		case ea != eb:
			if ea {
				return -1
			}
			return 1
		case la != lb:
			return lb - la
		}
		return strings.Compare(a.pattern, b.pattern)
	})
}
