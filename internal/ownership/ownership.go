// Package ownership reads .chainvet.yaml, which says who owns the parts of
// a project and how critical they are, and marks a report's components
// with it.
//
// This package reads one key of the file, owners: a list of rules, each a
// match pattern with an owner, a criticality, or both:
//
//	owners:
//	  - match: "models/**"          # a glob on component location paths
//	    owner: team-ml
//	    criticality: tier0
//	  - match: "pkg:pypi/torch"     # a purl or component ID prefix
//	    owner: team-platform
//	  - match: "torch*"             # a glob on component names
//	    criticality: tier1
//
// A pattern that starts with a component-ID scheme ("pkg:", "plugin:",
// "workflow:", …) matches components whose purl or ID starts with it (up
// to an element boundary: "pkg:pypi/torch" is not "pkg:pypi/torchvision"), or
// matches it as a wildcard pattern when it holds * or ?. Any other pattern
// is a path glob ("**" spans directories) tried against every location of
// a component, as written and relative to the directory holding the file,
// and then against the component's name. For each component the first
// rule that matches wins; its owner and criticality become the component's
// properties "owner" and "criticality". Later rules never add to it.
//
// The file's other keys are command defaults, which package config reads
// and checks (a misspelt "owner:" is an unknown flag there); Parse skips
// them.
package ownership

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chainvet/chainvet/internal/glob"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/yamlfile"
)

// FileName is the config's name at a scan root.
const FileName = ".chainvet.yaml"

// MaxSize bounds the config read: ownership for a large monorepo fits in
// a few KB; 1 MiB leaves room without reading a mistaken huge file.
const MaxSize = 1 << 20

// MaxRules bounds the rules of one config: each is tried on every component.
const MaxRules = 10000

// maxDoubleStars bounds "**" per pattern: each one multiplies the ways a
// glob can match, and real patterns use one or two.
const maxDoubleStars = 4

// A Rule assigns an owner and criticality to what it matches.
type Rule struct {
	Match       string
	Owner       string
	Criticality string
	Line        int // where the rule is in the file
}

// A Config is a loaded .chainvet.yaml.
type Config struct {
	// Path is the file read; Dir its directory, which relative location
	// globs are also tried from.
	Path, Dir string
	Rules     []Rule
}

var (
	criticalityRE = regexp.MustCompile(`^tier[0-9]+$`)
	schemeRE      = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
)

// Find loads root/.chainvet.yaml; it returns nil and no error when there is none.
func Find(root string) (*Config, error) {
	p := filepath.Join(root, FileName)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return Load(p)
}

// Load reads and checks a config's owners. Unknown keys in a rule, missing
// patterns and bad criticalities are errors that name file:line.
func Load(file string) (*Config, error) {
	v, err := yamlfile.Load(file, MaxSize, Parse)
	if err != nil {
		return nil, err
	}
	v.Path, v.Dir = file, filepath.Dir(file)
	return v, nil
}

// Parse reads a config's bytes.
func Parse(b []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, yamlfile.Syntax(err)
	}
	c := &Config{}
	if len(doc.Content) == 0 {
		return c, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, yamlfile.LineError(root.Line, "want a mapping (with key owners)")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "owners" {
			continue // package config's
		}
		if v.Kind != yaml.SequenceNode {
			return nil, yamlfile.LineError(v.Line, "owners: want a list of rules")
		}
		if len(v.Content) > MaxRules {
			return nil, yamlfile.LineError(v.Line, "owners: %d rules, more than %d", len(v.Content), MaxRules)
		}
		for _, item := range v.Content {
			r, err := parseRule(item)
			if err != nil {
				return nil, err
			}
			c.Rules = append(c.Rules, r)
		}
	}
	return c, nil
}

func parseRule(n *yaml.Node) (Rule, error) {
	r := Rule{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return r, yamlfile.LineError(n.Line, "rule: want a mapping with match, owner, criticality")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return r, yamlfile.LineError(v.Line, "%s: want a string", k.Value)
		}
		switch k.Value {
		case "match":
			r.Match = v.Value
		case "owner":
			r.Owner = v.Value
		case "criticality":
			r.Criticality = v.Value
		default:
			return r, yamlfile.LineError(k.Line, "unknown key %q (want match, owner or criticality)", k.Value)
		}
	}
	switch {
	case r.Match == "":
		return r, yamlfile.LineError(n.Line, "rule has no match")
	case r.Owner == "" && r.Criticality == "":
		return r, yamlfile.LineError(n.Line, "rule for %q sets neither owner nor criticality", r.Match)
	case r.Criticality != "" && !criticalityRE.MatchString(r.Criticality):
		return r, yamlfile.LineError(n.Line, "criticality %q: want tier0, tier1, tier2, …", r.Criticality)
	}
	if strings.Count(r.Match, "**") > maxDoubleStars {
		return r, yamlfile.LineError(n.Line, "match %q: more than %d \"**\"", r.Match, maxDoubleStars)
	}
	if !schemeRE.MatchString(r.Match) {
		if _, err := path.Match(strings.ReplaceAll(r.Match, "**", "*"), ""); err != nil {
			return r, yamlfile.LineError(n.Line, "match %q: %v", r.Match, err)
		}
	}
	return r, nil
}

// Apply sets the owner and criticality properties of every component of r
// that a rule matches; the first matching rule wins.
func (c *Config) Apply(r *inventory.Report) {
	for i := range r.Components {
		comp := &r.Components[i]
		for _, rule := range c.Rules {
			if !c.matches(rule.Match, comp) {
				continue
			}
			if comp.Properties == nil {
				comp.Properties = map[string]string{}
			}
			if rule.Owner != "" {
				comp.Properties["owner"] = rule.Owner
			}
			if rule.Criticality != "" {
				comp.Properties["criticality"] = rule.Criticality
			}
			break
		}
	}
}

func (c *Config) matches(pat string, comp *inventory.Component) bool {
	if schemeRE.MatchString(pat) {
		if strings.ContainsAny(pat, "*?") {
			return comp.PURL != "" && glob.Wildcard(pat, comp.PURL) || comp.ID != "" && glob.Wildcard(pat, comp.ID)
		}
		return idPrefix(pat, comp.PURL) || idPrefix(pat, comp.ID)
	}
	for _, l := range comp.Locations {
		p := filepath.ToSlash(l.Path)
		if Glob(pat, p) {
			return true
		}
		if c.Dir != "" {
			if rel, err := filepath.Rel(c.Dir, l.Path); err == nil && !strings.HasPrefix(rel, "..") && Glob(pat, filepath.ToSlash(rel)) {
				return true
			}
		}
	}
	ok, _ := path.Match(pat, comp.Name)
	return ok
}

// idPrefix reports whether pat is a prefix of id that ends where an ID
// element does: "pkg:pypi/torch" matches "pkg:pypi/torch@2.5.1" but not
// "pkg:pypi/torchvision".
func idPrefix(pat, id string) bool {
	rest, ok := strings.CutPrefix(id, pat)
	if !ok || id == "" {
		return false
	}
	return rest == "" || strings.ContainsAny(pat[len(pat)-1:], "/@#?:") || strings.ContainsAny(rest[:1], "/@#?")
}

// Glob matches a slash-separated name against a pattern whose elements are
// path.Match patterns, and where an element "**" matches any number of
// elements, none included.
func Glob(pat, name string) bool { return glob.Path(pat, name) }
