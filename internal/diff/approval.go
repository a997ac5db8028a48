package diff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chainvet/chainvet/internal/glob"
	"github.com/chainvet/chainvet/internal/inventory"
)

// ApprovalsName is the approvals file's name in a project.
const ApprovalsName = "chainvet-approvals.yaml"

// Limits on an approvals file. A project approves a handful of changes a
// week; these leave room for years of them.
const (
	// MaxApprovalsSize is the largest approvals file read, in bytes.
	MaxApprovalsSize = 1 << 20
	// MaxApprovals is the most entries a file may hold: each is tried on
	// every change.
	MaxApprovals = 10000
	// maxClauses bounds the clauses of one versions range.
	maxClauses = 64
)

// ErrApprovals reports an approvals file that cannot be used.
var ErrApprovals = errors.New("approvals")

// An Approval is one entry of an approvals file: a person accepts the
// addition of, or a jump to, the versions of the components it matches,
// until it expires.
//
//	approvals:
//	  - component: "pkg:pypi/torch"    # purl without version, ID or name; * and ? are wildcards
//	    versions: ">=2.5,<3"           # or "*"; clauses compared as the ecosystem orders versions
//	    kind: package                  # optional
//	    approved_by: alice@example.com
//	    reason: CUDA 12.4 wheels
//	    expires: 2026-06-30            # the approval holds through this day (UTC)
type Approval struct {
	Component  string `json:"component"`
	Versions   string `json:"versions,omitempty"`
	Kind       string `json:"kind,omitempty"`
	ApprovedBy string `json:"approvedBy"`
	Reason     string `json:"reason"`
	Expires    string `json:"expires"`
	// Line is where the entry starts in its file.
	Line int `json:"line,omitempty"`

	expires time.Time
	clauses []clause
}

// Approvals is a parsed approvals file.
type Approvals struct {
	Path    string
	Entries []Approval
}

// A Verdict says whether a change is approved, by whom, or why not.
type Verdict struct {
	Approved bool `json:"approved"`
	// By, Reason and Expires come from the approval that matched.
	By      string `json:"approvedBy,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Expires string `json:"expires,omitempty"`
	// Note says why a change is not approved: "no approval", or
	// "approval expired on 2026-01-31".
	Note string `json:"note,omitempty"`
}

// LoadApprovals reads the approvals file at path.
func LoadApprovals(path string) (*Approvals, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxApprovalsSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ParseApprovals(path, b)
}

// ParseApprovals parses an approvals file's bytes; name is for messages.
// Every entry needs a component, approved_by, reason and a valid expires
// date; unknown keys are errors, so a misspelt field never widens an
// approval.
func ParseApprovals(name string, b []byte) (*Approvals, error) {
	if len(b) > MaxApprovalsSize {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrApprovals, name, MaxApprovalsSize)
	}
	a := &Approvals{Path: name}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return a, nil
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrApprovals, name, err)
	}
	if len(doc.Content) == 0 {
		return a, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: %s:%d: want a mapping with the key approvals", ErrApprovals, name, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "approvals" {
			return nil, fmt.Errorf("%w: %s:%d: unknown key %q (want approvals)", ErrApprovals, name, k.Line, k.Value)
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%w: %s:%d: approvals must be a list", ErrApprovals, name, v.Line)
		}
		if len(v.Content) > MaxApprovals {
			return nil, fmt.Errorf("%w: %s: %d entries, more than %d", ErrApprovals, name, len(v.Content), MaxApprovals)
		}
		for j, e := range v.Content {
			ap, err := parseEntry(e)
			if err != nil {
				return nil, fmt.Errorf("%w: %s:%d: entry %d: %v", ErrApprovals, name, e.Line, j+1, err)
			}
			a.Entries = append(a.Entries, ap)
		}
	}
	return a, nil
}

func parseEntry(e *yaml.Node) (Approval, error) {
	ap := Approval{Line: e.Line}
	if e.Kind != yaml.MappingNode {
		return ap, errors.New("want a mapping of component, versions, kind, approved_by, reason, expires")
	}
	fields := map[string]*string{
		"component": &ap.Component, "versions": &ap.Versions, "kind": &ap.Kind,
		"approved_by": &ap.ApprovedBy, "reason": &ap.Reason, "expires": &ap.Expires,
	}
	for i := 0; i+1 < len(e.Content); i += 2 {
		k, v := e.Content[i], e.Content[i+1]
		dst, ok := fields[k.Value]
		if !ok {
			return ap, fmt.Errorf("unknown key %q", k.Value)
		}
		if v.Kind != yaml.ScalarNode {
			return ap, fmt.Errorf("%s must be a string", k.Value)
		}
		*dst = strings.TrimSpace(v.Value)
	}
	var missing []string
	for _, f := range []struct{ key, val string }{
		{"component", ap.Component}, {"approved_by", ap.ApprovedBy}, {"reason", ap.Reason}, {"expires", ap.Expires},
	} {
		if f.val == "" {
			missing = append(missing, f.key)
		}
	}
	if len(missing) > 0 {
		what := ap.Component
		if what == "" {
			what = "(no component)"
		}
		return ap, fmt.Errorf("%s: missing %s", what, strings.Join(missing, ", "))
	}
	t, err := time.Parse(time.DateOnly, ap.Expires)
	if err != nil {
		return ap, fmt.Errorf("%s: expires %q is not a date such as 2026-06-30", ap.Component, ap.Expires)
	}
	ap.expires = t
	if ap.Kind != "" && !validKind(ap.Kind) {
		return ap, fmt.Errorf("%s: unknown kind %q", ap.Component, ap.Kind)
	}
	if ap.clauses, err = parseClauses(ap.Versions); err != nil {
		return ap, fmt.Errorf("%s: versions %q: %v", ap.Component, ap.Versions, err)
	}
	return ap, nil
}

func validKind(k string) bool {
	switch inventory.Kind(k) {
	case inventory.KindPackage, inventory.KindModel, inventory.KindDataset, inventory.KindService,
		inventory.KindPlugin, inventory.KindWorkflow, inventory.KindContainer, inventory.KindNotebook:
		return true
	}
	return false
}

// A clause is one comparison of a versions range.
type clause struct {
	op, v string
}

var ops = []string{">=", "<=", "==", "!=", ">", "<", "="}

// parseClauses reads a comma-joined list such as ">=2.0,<3"; "" and "*"
// are every version.
func parseClauses(s string) ([]clause, error) {
	if s == "" || s == "*" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxClauses {
		return nil, fmt.Errorf("more than %d clauses", maxClauses)
	}
	var out []clause
	for _, p := range parts {
		p = strings.TrimSpace(p)
		c := clause{op: "=="}
		for _, op := range ops {
			if rest, ok := strings.CutPrefix(p, op); ok {
				c.op, p = op, strings.TrimSpace(rest)
				break
			}
		}
		if c.op == "=" {
			c.op = "=="
		}
		if p == "" || strings.ContainsAny(p, " \t<>=!*") {
			return nil, fmt.Errorf("clause %q: want an operator (>=, >, <=, <, ==, !=) and a version", p)
		}
		c.v = p
		out = append(out, c)
	}
	return out, nil
}

// holds reports whether version v of c meets every clause. Versions that
// cannot be ordered meet == and != by their text only.
func (a *Approval) holds(c *inventory.Component, v string) bool {
	for _, cl := range a.clauses {
		d, ok := compareVersions(c, v, cl.v)
		if !ok {
			if cl.op != "==" && cl.op != "!=" {
				return false
			}
			d = strings.Compare(v, cl.v)
		}
		var met bool
		switch cl.op {
		case ">=":
			met = d >= 0
		case "<=":
			met = d <= 0
		case ">":
			met = d > 0
		case "<":
			met = d < 0
		case "==":
			met = d == 0
		case "!=":
			met = d != 0
		}
		if !met {
			return false
		}
	}
	return true
}

// matches reports whether the entry names ch (its kind, identity and new
// version), whatever its expiry.
func (a *Approval) matches(ch *Change) bool {
	if ch.New == nil || (a.Kind != "" && a.Kind != string(ch.Kind)) {
		return false
	}
	names := []string{ch.Key, ch.New.ID, ch.New.Name, ch.New.PURL}
	if !matchAny(a.Component, names) {
		return false
	}
	c := &inventory.Component{Kind: ch.Kind, ID: ch.New.ID, PURL: ch.New.PURL}
	return a.holds(c, ch.New.Version)
}

// live reports whether the approval holds at now: through the whole of
// its expiry day, in UTC.
func (a *Approval) live(now time.Time) bool {
	return now.UTC().Before(a.expires.AddDate(0, 0, 1))
}

// Apply records on every change that needs approval (see
// [Change.NeedsApproval]) whether a live approval in a covers it; a may be
// nil, and then nothing is approved. now decides expiry.
func (r *Result) Apply(a *Approvals, now time.Time) {
	for i := range r.Changes {
		ch := &r.Changes[i]
		if !ch.NeedsApproval() {
			continue
		}
		v := &Verdict{Note: "no approval"}
		var expired string
		if a != nil {
			for j := range a.Entries {
				e := &a.Entries[j]
				if !e.matches(ch) {
					continue
				}
				if e.live(now) {
					v = &Verdict{Approved: true, By: e.ApprovedBy, Reason: e.Reason, Expires: e.Expires}
					break
				}
				expired = max(expired, e.Expires)
			}
		}
		if !v.Approved && expired != "" {
			v.Note = "approval expired on " + expired
		}
		ch.Approval = v
	}
	r.summarize()
}

// Unapproved returns the changes that need an approval and lack a live
// one, after [Result.Apply].
func (r *Result) Unapproved() []*Change {
	var out []*Change
	for i := range r.Changes {
		if a := r.Changes[i].Approval; a != nil && !a.Approved {
			out = append(out, &r.Changes[i])
		}
	}
	return out
}

// maxGlobStars bounds the wildcards of one pattern, keeping matching
// linear enough on long names.
const maxGlobStars = 8

// matchAny reports whether pattern matches any of names, ignoring case.
// "*" matches any run of characters, "/" included; "?" any one character.
func matchAny(pattern string, names []string) bool {
	pattern = strings.ToLower(pattern)
	if strings.Count(pattern, "*") > maxGlobStars {
		return false
	}
	for _, n := range names {
		if n != "" && glob.Wildcard(pattern, strings.ToLower(n)) {
			return true
		}
	}
	return false
}
