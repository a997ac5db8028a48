package policy

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
	"gopkg.in/yaml.v3"
)

// The variables a cel control sees. Each type below is a CEL object type
// named policy.<Type>, with the fields named in its cel tags; rules are
// type-checked against them when the policy is read.
//
//	components  list(policy.Component)  every component of the inventory
//	findings    list(policy.Finding)    every finding not suppressed
//	lock        policy.Lock             the lock and its verification
//	signatures  list(policy.Signature)  every signature and attestation check
//	diff        policy.Diff             the changes since --base
//	component   policy.Component        with for: components, the one judged
//	finding     policy.Finding          with for: findings, the one judged
//
// The CEL standard library and the strings extension are available.

// Component is a component as CEL rules see it.
type Component struct {
	ID         string            `cel:"id"`
	Kind       string            `cel:"kind"`
	Name       string            `cel:"name"`
	Version    string            `cel:"version"`
	PURL       string            `cel:"purl"`
	Path       string            `cel:"path"` // the first location, relative to the gated folder
	Line       int               `cel:"line"`
	Dependency string            `cel:"dependency"` // direct, transitive or ""
	Properties map[string]string `cel:"properties"`
	Digests    []string          `cel:"digests"` // "sha256:<hex>"
}

// Finding is a finding as CEL rules see it.
type Finding struct {
	Rule      string `cel:"rule"`
	Severity  string `cel:"severity"` // info, low, medium, high, critical
	Level     int    `cel:"level"`    // 0 (info) to 4 (critical), for comparisons
	Component string `cel:"component"`
	Path      string `cel:"path"`
	Line      int    `cel:"line"`
	Evidence  string `cel:"evidence"`
	Message   string `cel:"message"`
}

// Lock is the lock's state as CEL rules see it.
type Lock struct {
	Present  bool    `cel:"present"`
	Verified bool    `cel:"verified"` // present, and nothing drifted
	Drift    []Drift `cel:"drift"`
}

// Drift is one difference between the lock and the tree.
type Drift struct {
	Rule     string `cel:"rule"`
	Kind     string `cel:"kind"`
	Path     string `cel:"path"`
	Expected string `cel:"expected"`
	Found    string `cel:"found"`
}

// Signature is one signature or attestation check.
type Signature struct {
	Control  string `cel:"control"`
	Kind     string `cel:"kind"` // signature or attestation
	Path     string `cel:"path"`
	Verified bool   `cel:"verified"`
	Signer   string `cel:"signer"`
	Detail   string `cel:"detail"`
}

// Diff is the comparison with --base as CEL rules see it.
type Diff struct {
	Present bool     `cel:"present"` // false without --base
	Changes []Change `cel:"changes"`
}

// Change is one changed component.
type Change struct {
	Type          string `cel:"type"` // added, removed, changed
	Kind          string `cel:"kind"`
	Key           string `cel:"key"`
	OldVersion    string `cel:"old_version"`
	NewVersion    string `cel:"new_version"`
	Jump          string `cel:"jump"` // major, minor, patch, prerelease, downgrade, revision, changed
	DigestChanged bool   `cel:"digest_changed"`
	NeedsApproval bool   `cel:"needs_approval"`
	Approved      bool   `cel:"approved"`
}

// celCostLimit bounds the work of one evaluation of one rule, in CEL's
// cost units (about one per element visited): enough for comprehensions
// over a million components, not for nested ones over all of them.
const celCostLimit = 100_000_000

type celRule struct {
	prog cel.Program
}

func celEnv(each string) (*cel.Env, error) {
	opts := []cel.EnvOption{
		ext.NativeTypes(reflect.TypeFor[Component](), reflect.TypeFor[Finding](), reflect.TypeFor[Lock](),
			reflect.TypeFor[Drift](), reflect.TypeFor[Signature](), reflect.TypeFor[Diff](), reflect.TypeFor[Change](),
			types.ParseStructTags(true)),
		ext.Strings(),
		cel.Variable("components", cel.ListType(cel.ObjectType("policy.Component"))),
		cel.Variable("findings", cel.ListType(cel.ObjectType("policy.Finding"))),
		cel.Variable("lock", cel.ObjectType("policy.Lock")),
		cel.Variable("signatures", cel.ListType(cel.ObjectType("policy.Signature"))),
		cel.Variable("diff", cel.ObjectType("policy.Diff")),
	}
	switch each {
	case "components":
		opts = append(opts, cel.Variable("component", cel.ObjectType("policy.Component")))
	case "findings":
		opts = append(opts, cel.Variable("finding", cel.ObjectType("policy.Finding")))
	}
	return cel.NewEnv(opts...)
}

// celError is a CEL compile error at a line and column of the expression.
type celError struct {
	line, col int // 1-based, in the expression
	msg       string
}

type celErrors []celError

func (es celErrors) Error() string {
	var parts []string
	for _, e := range es {
		parts = append(parts, fmt.Sprintf("%d:%d: %s", e.line, e.col, e.msg))
	}
	return strings.Join(parts, "; ")
}

func compileCEL(each, expr string) (*celRule, error) {
	env, err := celEnv(each)
	if err != nil {
		return nil, fmt.Errorf("making the CEL environment: %w", err)
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		var es celErrors
		for _, e := range iss.Errors() {
			es = append(es, celError{line: e.Location.Line(), col: e.Location.Column() + 1, msg: e.Message})
		}
		if len(es) == 0 {
			return nil, iss.Err()
		}
		return nil, es
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, celErrors{{line: 1, col: 1, msg: fmt.Sprintf("the expression is of type %s; deny needs a bool (true is a violation)", ast.OutputType())}}
	}
	prog, err := env.Program(ast, cel.CostLimit(celCostLimit), cel.InterruptCheckFrequency(1000))
	if err != nil {
		return nil, fmt.Errorf("planning: %w", err)
	}
	return &celRule{prog: prog}, nil
}

// celPosition turns the positions of CEL errors, counted in the
// expression, into positions in the policy file, whose deny value starts
// at v in lines. A block scalar (| or >) starts on the line after its
// indicator. Columns count bytes, as CEL's do.
func celPosition(err error, v *yaml.Node, lines []string) error {
	var es celErrors
	if !errors.As(err, &es) || v == nil {
		return err
	}
	var parts []string
	for _, e := range es {
		line, col := v.Line+e.line-1, e.col
		switch v.Style {
		case yaml.LiteralStyle, yaml.FoldedStyle:
			// The content starts on the next line, at the indentation
			// of its first line.
			line++
			if v.Line < len(lines) {
				first := lines[v.Line]
				col += len(first) - len(strings.TrimLeft(first, " "))
			}
		case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
			if e.line == 1 {
				col += v.Column
			}
		default:
			if e.line == 1 {
				col += v.Column - 1
			}
		}
		parts = append(parts, fmt.Sprintf("line %d, column %d (expression %d:%d): %s", line, col, e.line, e.col, e.msg))
	}
	return errors.New(strings.Join(parts, "; "))
}

func (r *celRule) eval(vars map[string]any) (bool, error) {
	out, _, err := r.prog.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("result %v is not a bool", out)
	}
	return b, nil
}

// vars builds the CEL variables of the input, once.
func (e *evaluator) vars() map[string]any {
	if e.celVars != nil {
		return e.celVars
	}
	rep := e.in.Report
	comps := make([]Component, len(rep.Components))
	for i := range rep.Components {
		c := &rep.Components[i]
		p, line := e.where(c)
		cc := Component{ID: c.ID, Kind: string(c.Kind), Name: c.Name, Version: c.Version, PURL: c.PURL,
			Path: e.rel(p), Line: line, Dependency: c.Dependency, Properties: c.Properties}
		if cc.Properties == nil {
			cc.Properties = map[string]string{}
		}
		for _, d := range c.Digests {
			cc.Digests = append(cc.Digests, d.Algorithm+":"+d.Value)
		}
		comps[i] = cc
	}
	finds := make([]Finding, len(rep.Findings))
	for i, f := range rep.Findings {
		finds[i] = Finding{Rule: f.Rule, Severity: f.Severity.String(), Level: int(f.Severity), Component: f.Component,
			Path: e.rel(f.Path), Line: f.Line, Evidence: f.Evidence, Message: f.Message}
	}
	var lk Lock
	if ls := e.in.Lock; ls != nil {
		lk.Present = true
		lk.Verified = ls.Err == nil && len(ls.Drifts) == 0
		for _, d := range ls.Drifts {
			lk.Drift = append(lk.Drift, Drift{Rule: d.Rule, Kind: string(d.Kind), Path: d.Path, Expected: d.Expected, Found: d.Found})
		}
	}
	var df Diff
	if r := e.in.Diff; r != nil {
		df.Present = true
		for i := range r.Changes {
			ch := &r.Changes[i]
			c := Change{Type: string(ch.Type), Kind: string(ch.Kind), Key: ch.Key, Jump: string(ch.Jump),
				DigestChanged: ch.DigestChanged, NeedsApproval: ch.NeedsApproval(), Approved: ch.Approval != nil && ch.Approval.Approved}
			if ch.Old != nil {
				c.OldVersion = ch.Old.Version
			}
			if ch.New != nil {
				c.NewVersion = ch.New.Version
			}
			df.Changes = append(df.Changes, c)
		}
	}
	e.celVars = map[string]any{"components": comps, "findings": finds, "lock": lk, "diff": df}
	return e.celVars
}

func (e *evaluator) cel(ctx context.Context, c *Control, cr *ControlResult) error {
	vars := e.vars()
	// Signatures are those checked by the controls before this one.
	vars["signatures"] = slices.Clone(e.sigs)
	fix := cmpOr(c.Fix, "fix what the rule describes, or add an exception with a reason")
	switch c.For {
	case "components":
		comps := vars["components"].([]Component)
		for i := range comps {
			if i&0xff == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			vars["component"] = comps[i]
			bad, err := c.prog.eval(vars)
			if err != nil {
				return fmt.Errorf("evaluating on %s: %w", comps[i].ID, err)
			}
			cr.Checked++
			if bad {
				comp := &e.in.Report.Components[i]
				e.violate(cr, comp, "component: "+comp.ID, c.Message, fix)
			}
		}
		delete(vars, "component")
	case "findings":
		finds := vars["findings"].([]Finding)
		for i := range finds {
			if i&0xff == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			vars["finding"] = finds[i]
			bad, err := c.prog.eval(vars)
			if err != nil {
				return fmt.Errorf("evaluating on a %s finding: %w", finds[i].Rule, err)
			}
			cr.Checked++
			if bad {
				f := e.in.Report.Findings[i]
				cr.Violations = append(cr.Violations, Violation{Component: f.Component, Path: f.Path, Line: f.Line,
					Evidence: f.Rule + ": " + cmpOr(f.Evidence, f.Message), Message: c.Message, Fix: fix})
			}
		}
		delete(vars, "finding")
	default:
		cr.Checked++
		bad, err := c.prog.eval(vars)
		if err != nil {
			return fmt.Errorf("evaluating: %w", err)
		}
		if bad {
			cr.Violations = append(cr.Violations, Violation{Evidence: c.Expr, Message: c.Message, Fix: fix})
		}
	}
	return nil
}
