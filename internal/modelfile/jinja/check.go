package jinja

import (
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// How an attribute or item is reached.
type accessKind int

const (
	accAttr       accessKind = iota // x.name, x.__getattribute__(name)
	accItem                         // x[key], x.get(key), x.pop(key), x.__getitem__(key)
	accAttrFilter                   // x|attr(name), x|map('attr', name)
	accAttrArg                      // map(attribute=...), selectattr(...) and kin
	accFormat                       // '{0.name}'.format(x)
)

const remediation = "Do not load a model or render a template that carries this: chat templates never need it. " +
	"Replace the template with the model family's published one and find out where this copy came from."

// A walker evaluates a template's tree over abstract values and reports
// dangerous accesses. It walks the whole tree twice: the first pass,
// quiet, collects every value each variable is given anywhere, so that the
// second sees, at each use, values assigned later in the template (a loop
// runs its body again; a macro is called after it is defined).
type walker struct {
	src        string
	r          *reporter
	env        map[string]val
	ns         map[nsKey]val // namespace attributes set with {% set ns.attr = ... %}
	quiet      bool
	budget     int
	overBudget bool
}

type nsKey struct{ name, attr string }

func newWalker(src string, r *reporter) *walker {
	return &walker{src: src, r: r, env: map[string]val{}, ns: map[nsKey]val{}, budget: maxBudget}
}

func (w *walker) run(body []stmt) {
	w.quiet = true
	w.stmts(body, false)
	w.quiet = false
	w.stmts(body, false)
	if w.overBudget {
		w.r.limit(Problem{
			Rule: RuleScanLimit, Severity: int(inventory.High), Offset: 0,
			Evidence:    "constant folding budget of " + strconv.Itoa(maxBudget) + " bytes spent",
			Message:     "the template builds more strings than the analysis follows: names built past that point were not all resolved",
			Remediation: "review the template by hand; chat templates do not build megabytes of constant strings",
		})
	}
}

func (w *walker) report(rule string, sev inventory.Severity, pos, from, to int, msg string) {
	if w.quiet {
		return
	}
	w.r.add(Problem{
		Rule: rule, Severity: int(sev), Offset: pos,
		Evidence: w.r.evidence(from, to), Message: msg, Remediation: remediation,
	})
}

// stmts walks a body; with capture it returns what the body outputs.
func (w *walker) stmts(body []stmt, capture bool) val {
	out := known("")
	for _, s := range body {
		o := w.stmt(s, capture)
		if capture {
			out = w.concat(out, o)
		}
	}
	return out
}

var builtOpen = val{open: true, built: true}

func (w *walker) stmt(s stmt, capture bool) val {
	switch s := s.(type) {
	case *dataStmt:
		if capture {
			return known(strings.ReplaceAll(s.text, "\r\n", "\n"))
		}
	case *outputStmt:
		return w.eval(s.x)
	case *ifStmt:
		var out val
		for i, c := range s.conds {
			w.eval(c)
			o := w.stmts(s.bodies[i], capture)
			if i == 0 {
				out = o
			} else {
				out = union(out, o)
			}
		}
		if s.els != nil {
			out = union(out, w.stmts(s.els, capture))
		} else {
			out = union(out, known(""))
		}
		return out
	case *forStmt:
		w.assign(s.target, w.elements(w.eval(s.iter)), nil)
		if s.cond != nil {
			w.eval(s.cond)
		}
		w.stmts(s.body, false)
		w.stmts(s.els, false)
		return builtOpen
	case *setStmt:
		w.assign(s.target, w.eval(s.value), s.value)
	case *setBlockStmt:
		v := w.stmts(s.body, true)
		if s.filter != nil {
			v = w.filter(s.filter, v)
		}
		w.assign(s.target, v, nil)
	case *macroStmt:
		for _, p := range s.params {
			v := openVal
			if p.def != nil {
				v = union(w.eval(p.def), openVal)
			}
			w.bindName(p.name, v)
		}
		out := w.stmts(s.body, true)
		w.bindName(s.name, known(&macroVal{out: &out}))
	case *callBlockStmt:
		for _, p := range s.params {
			v := openVal
			if p.def != nil {
				v = union(w.eval(p.def), openVal)
			}
			w.bindName(p.name, v)
		}
		w.stmts(s.body, false)
		w.eval(s.call)
		return builtOpen
	case *filterBlockStmt:
		return w.filter(s.filter, w.stmts(s.body, true))
	case *withStmt:
		for i, t := range s.targets {
			w.assign(t, w.eval(s.values[i]), s.values[i])
		}
		return w.stmts(s.body, capture)
	case *scopeStmt:
		if s.x != nil {
			w.eval(s.x)
		}
		return w.stmts(s.body, capture)
	case *loadStmt:
		w.eval(s.template)
		w.report(RuleExternal, inventory.High, s.pos, s.pos, s.end,
			"{% "+s.kind+" %} loads another template through the loader: a chat template is self-contained, and a loader that allows this reads files outside the model")
		for _, n := range s.names {
			w.bindName(n, openVal)
		}
		return builtOpen
	case *exprStmt:
		w.eval(s.x)
	}
	return known("")
}

func (w *walker) bindName(name string, v val) {
	if old, ok := w.env[name]; ok {
		v = union(old, v)
	}
	w.env[name] = v
}

// assign binds a set, for or with target. A value computed from the target
// itself ({% set ns.s = ns.s ~ x %}) may grow on every loop iteration:
// it is widened to open rather than followed.
func (w *walker) assign(target expr, v val, from expr) {
	switch t := target.(type) {
	case *nameExpr:
		if from != nil && mentions(from, t.name, "") {
			v = widen(v)
		}
		w.bindName(t.name, v)
	case *nsrefExpr:
		if from != nil && mentions(from, t.name, t.attr) {
			v = widen(v)
		}
		k := nsKey{t.name, t.attr}
		if old, ok := w.ns[k]; ok {
			v = union(old, v)
		}
		w.ns[k] = v
	case *listExpr:
		for i, it := range t.items {
			w.assign(it, w.component(v, i, len(t.items)), nil)
		}
	}
}

func widen(v val) val {
	v.open = true
	if isStringy(v) {
		v.built = true
	}
	return v
}

// mentions reports whether e reads name (or name.attr, when attr is set).
func mentions(e expr, name, attr string) bool {
	found := false
	visit(e, func(e expr) {
		switch e := e.(type) {
		case *nameExpr:
			if attr == "" && e.name == name {
				found = true
			}
		case *getattrExpr:
			if n, ok := e.x.(*nameExpr); ok && attr != "" && n.name == name && e.name == attr {
				found = true
			}
		}
	})
	return found
}

// visit calls f on e and every expression under it.
func visit(e expr, f func(expr)) {
	if e == nil {
		return
	}
	f(e)
	args := func(a callArgs) {
		for _, x := range a.args {
			visit(x, f)
		}
		for _, k := range a.kwargs {
			visit(k.v, f)
		}
		visit(a.star, f)
		visit(a.dstar, f)
	}
	switch e := e.(type) {
	case *listExpr:
		for _, x := range e.items {
			visit(x, f)
		}
	case *dictExpr:
		for i := range e.keys {
			visit(e.keys[i], f)
			visit(e.vals[i], f)
		}
	case *getattrExpr:
		visit(e.x, f)
	case *getitemExpr:
		visit(e.x, f)
		visit(e.key, f)
	case *sliceExpr:
		visit(e.lo, f)
		visit(e.hi, f)
		visit(e.step, f)
	case *callExpr:
		visit(e.fn, f)
		args(e.callArgs)
	case *filterExpr:
		visit(e.x, f)
		args(e.callArgs)
	case *testExpr:
		visit(e.x, f)
		args(e.callArgs)
	case *concatExpr:
		for _, x := range e.parts {
			visit(x, f)
		}
	case *unaryExpr:
		visit(e.x, f)
	case *binaryExpr:
		visit(e.l, f)
		visit(e.r, f)
	case *condExpr:
		visit(e.test, f)
		visit(e.then, f)
		visit(e.els, f)
	}
}

// component is item i of n when v is unpacked into n targets.
func (w *walker) component(v val, i, n int) val {
	out := val{open: v.open, built: v.built, taint: v.taint}
	for _, a := range v.alts {
		its, ok := items(a)
		if l, isList := a.(*clist); isList && l.open {
			out.open = true
		}
		if !ok {
			out.open = true
			continue
		}
		if len(its) == n {
			out.addAlt(its[i])
		}
	}
	return out
}

func (w *walker) eval(e expr) val {
	switch e := e.(type) {
	case *constExpr:
		if !e.known {
			return builtOpen
		}
		return known(e.v)
	case *nameExpr:
		return w.name(e)
	case *nsrefExpr:
		if v, ok := w.ns[nsKey{e.name, e.attr}]; ok {
			return v
		}
		return openVal
	case *listExpr:
		vs := make([]val, len(e.items))
		for i, it := range e.items {
			vs[i] = w.eval(it)
		}
		return w.product(vs, func(cs []cval) cval {
			return &clist{items: cs, tuple: e.tuple, nest: nestOf(cs)}
		})
	case *dictExpr:
		vs := make([]val, 0, 2*len(e.keys))
		for i := range e.keys {
			vs = append(vs, w.eval(e.keys[i]), w.eval(e.vals[i]))
		}
		return w.product(vs, func(cs []cval) cval {
			d := &cdict{}
			for i := 0; i < len(cs); i += 2 {
				d.set(cs[i], cs[i+1])
			}
			d.nest = nestOf(d.vals)
			return d
		})
	case *getattrExpr:
		x := w.eval(e.x)
		flagged := w.access(x, known(e.name), accAttr, e.namePos, e.pos, e.end, false, "")
		return w.attrValue(e.x, x, known(e.name), flagged)
	case *getitemExpr:
		x := w.eval(e.x)
		if s, ok := e.key.(*sliceExpr); ok {
			lo, hi, st := w.evalOpt(s.lo), w.evalOpt(s.hi), w.evalOpt(s.step)
			out := val{open: x.open || lo.open || hi.open || st.open, built: x.built, taint: x.taint, root: x.root}
			if out.open && isStringy(x) {
				out.built = true
			}
			for _, o := range x.alts {
				for _, a := range orNil(lo) {
					for _, b := range orNil(hi) {
						for _, c := range orNil(st) {
							r, stt := w.slice(o, a, b, c)
							switch stt {
							case foldOK:
								out.addAlt(r)
							case foldUnknown:
								out.open, out.built = true, true
							}
						}
					}
				}
			}
			return out
		}
		k := w.eval(e.key)
		kpos, _ := e.key.span()
		flagged := w.access(x, k, accItem, kpos, e.pos, e.end, false, w.how(e.key))
		return w.itemValue(x, k, flagged)
	case *callExpr:
		return w.call(e)
	case *filterExpr:
		return w.filter(e, w.evalOpt(e.x))
	case *testExpr:
		x := w.eval(e.x)
		w.evalArgs(e.callArgs)
		return val{open: true, taint: x.taint}
	case *unaryExpr:
		x := w.eval(e.x)
		if e.op == "not" {
			return openVal
		}
		return w.lift1(x, false, func(c cval) (cval, int) {
			switch c := c.(type) {
			case int64:
				if e.op == "-" {
					return -c, foldOK
				}
				return c, foldOK
			case float64:
				if e.op == "-" {
					return -c, foldOK
				}
				return c, foldOK
			}
			return nil, foldUnknown
		})
	case *binaryExpr:
		l, r := w.eval(e.l), w.eval(e.r)
		switch e.op {
		case "or", "and":
			return union(l, r)
		case "+", "-", "*", "/", "//", "%", "**":
			return w.arith(e.op, l, r)
		}
		return val{open: true, taint: l.taint || r.taint}
	case *concatExpr:
		first := w.eval(e.parts[0])
		out := w.lift1(first, true, func(c cval) (cval, int) {
			s, ok := str(c)
			if !ok {
				return nil, foldUnknown
			}
			return s, foldOK
		})
		out.pre = first.pre
		for _, p := range e.parts[1:] {
			out = w.concat(out, w.eval(p))
		}
		return out
	case *condExpr:
		w.eval(e.test)
		then := w.eval(e.then)
		if e.els == nil {
			return union(then, openVal)
		}
		return union(then, w.eval(e.els))
	case *sliceExpr:
		w.evalOpt(e.lo)
		w.evalOpt(e.hi)
		w.evalOpt(e.step)
		return openVal
	}
	return openVal
}

func (w *walker) evalOpt(e expr) val {
	if e == nil {
		return known(noneVal{})
	}
	return w.eval(e)
}

func orNil(v val) []cval {
	if len(v.alts) == 0 {
		return nil
	}
	return v.alts
}

// how describes, for a message, how the name in e is spelled when that
// is not plainly: built from constants, or written with escapes.
func (w *walker) how(e expr) string {
	c, ok := e.(*constExpr)
	if !ok || !c.known {
		return " (a name computed from constants)"
	}
	pos, end := c.span()
	s, isStr := c.v.(string)
	if isStr && end-pos >= 2 && end <= len(w.src) && w.src[pos+1:end-1] != s {
		return " (spelled with escapes or split literals)"
	}
	return ""
}

// product builds a container from every combination of its parts'
// constants, while there are few enough.
func (w *walker) product(parts []val, build func([]cval) cval) val {
	out := val{}
	combos := 1
	for _, p := range parts {
		out.taint = out.taint || p.taint
		out.built = out.built || p.built
		if p.open || len(p.alts) == 0 {
			out.open = true
		}
		combos *= max(1, len(p.alts))
		if combos > maxAlts {
			out.open = true
		}
	}
	if out.open || len(parts) > maxItems {
		out.open = true
		return out
	}
	if nestOf(firstAlts(parts)) > maxNest {
		out.open = true
		return out
	}
	cur := make([]cval, len(parts))
	var rec func(i int)
	rec = func(i int) {
		if i == len(parts) {
			out.addAlt(build(append([]cval(nil), cur...)))
			return
		}
		for _, a := range parts[i].alts {
			cur[i] = a
			rec(i + 1)
		}
	}
	rec(0)
	return out
}

func firstAlts(parts []val) []cval {
	out := make([]cval, 0, len(parts))
	for _, p := range parts {
		if len(p.alts) > 0 {
			out = append(out, p.alts[0])
		}
	}
	return out
}

func (d *cdict) set(k, v cval) {
	for i, key := range d.keys {
		if key == k {
			d.vals[i] = v
			return
		}
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

// name resolves a variable: a value the template set, a template global,
// or a context variable (open).
func (w *walker) name(e *nameExpr) val {
	if v, ok := w.env[e.name]; ok {
		return v
	}
	if escalationGlobals[e.name] {
		return val{open: true, root: e.name}
	}
	if freeDangerous[e.name] {
		w.report(RuleDangerous, inventory.Critical, e.pos, e.pos, e.end,
			"`"+e.name+"` names a Python module or callable that runs, imports or evaluates code; no chat-template loader defines it")
		return val{open: true, taint: true}
	}
	return openVal
}

// access checks one access of an attribute or item named by key on x.
// pos is where the name is written and [from, to) the construct; how
// says, for the message, how the name was spelled when not plainly. It
// reports what it finds and says whether it found anything.
func (w *walker) access(x, key val, kind accessKind, pos, from, to int, called bool, how string) bool {
	flagged := false
	hit := func(rule string, sev inventory.Severity, msg string) {
		flagged = true
		w.report(rule, sev, pos, from, to, msg)
	}
	for _, a := range key.alts {
		s, ok := a.(string)
		if !ok {
			continue
		}
		names := []string{s}
		if t := strings.TrimFunc(s, isSpace); t != s && t != "" {
			names = append(names, t) // a name captured by {% set %} with the loader trimming blocks
		}
		for _, n := range names {
			q := "`" + n + "`" + how
			internals := false
			switch {
			case isDunder(n):
				internals = true
				hit(RuleDunder, inventory.Critical, q+" is a Python special attribute: from it a template reaches classes, modules and builtins")
			case internalAttrs[n]:
				internals = true
				hit(RuleInternal, inventory.Critical, q+" reaches interpreter frames, code or globals without an underscore")
			case isPrivate(n):
				if kind != accItem || isMangled(n) || x.taint || x.root != "" {
					internals = true
					if x.root == "" {
						hit(RulePrivate, inventory.High, q+" is a private attribute: Jinja's sandbox refuses these, and they reach an object's internals")
					}
				}
			}
			if internals && x.root != "" {
				hit(RuleGlobal, inventory.Critical, q+" on the template global `"+x.root+"`: a known first step from a template to Python's internals")
			}
			danger := dangerousAttrs[n] || dangerousWhenCalled[n] || dangerousWhenTainted[n]
			if kind != accItem {
				danger = dangerousAttrs[n] || (dangerousWhenCalled[n] && (called || x.taint)) || (dangerousWhenTainted[n] && x.taint)
			} else {
				danger = danger && x.taint
			}
			if danger {
				hit(RuleDangerous, inventory.Critical, q+" runs commands, imports, evaluates or reads files")
			}
		}
	}
	if key.open && sensitivePrefix(prefix(key)) {
		switch {
		case kind == accAttrFilter || kind == accAttrArg:
			hit(RuleDynamic, inventory.High, "the attribute name is computed when the template runs: what it reaches cannot be known")
		case kind == accItem && key.built:
			hit(RuleDynamic, inventory.High, "the item key is built from strings when the template runs: Jinja falls back to attributes for string keys, so what it reaches cannot be known")
		}
	}
	return flagged
}

// attrValue is the value of x.name (or x|attr(name)).
func (w *walker) attrValue(xe expr, x, key val, flagged bool) val {
	out := val{open: x.open || key.open, built: x.built, taint: x.taint || flagged, root: x.root}
	for _, o := range x.alts {
		for _, k := range key.alts {
			name, isStr := k.(string)
			d, isDict := o.(*cdict)
			if !isStr || !isDict || (!d.ns && dictMethods[name]) {
				out.open = true
				continue
			}
			if v, ok := d.get(name); ok {
				out.addAlt(v)
			} else if d.open || d.ns {
				out.open = true
			}
			out.built = out.built || d.built
		}
	}
	if n, ok := xe.(*nameExpr); ok {
		for _, k := range key.alts {
			if name, isStr := k.(string); isStr {
				if v, ok := w.ns[nsKey{n.name, name}]; ok {
					out = union(out, v)
				}
			}
		}
	}
	return out
}

var dictMethods = set("items", "keys", "values", "get", "pop", "popitem", "update", "copy",
	"setdefault", "clear", "fromkeys")

// itemValue is the value of x[key].
func (w *walker) itemValue(x, key val, flagged bool) val {
	out := val{open: x.open || key.open, built: x.built, taint: x.taint || flagged, root: x.root}
	for _, o := range x.alts {
		for _, k := range key.alts {
			r, st := w.index(o, k)
			switch st {
			case foldOK:
				out.addAlt(r)
			case foldUnknown:
				out.open = true
			}
			if l, ok := o.(*clist); ok && l.built {
				out.built = true
			}
		}
	}
	if out.open && isStringy(x) {
		out.built = true
	}
	return out
}

func (w *walker) evalArgs(a callArgs) ([]val, map[string]val) {
	args := make([]val, len(a.args))
	for i, x := range a.args {
		args[i] = w.eval(x)
	}
	var kw map[string]val
	if len(a.kwargs) > 0 {
		kw = make(map[string]val, len(a.kwargs))
		for _, k := range a.kwargs {
			kw[k.name] = w.eval(k.v)
		}
	}
	if a.star != nil {
		w.eval(a.star)
	}
	if a.dstar != nil {
		w.eval(a.dstar)
	}
	return args, kw
}

// argPos is where argument i of a call is written, or where the call is.
func argPos(a callArgs, i int, kw string, def int) int {
	for _, k := range a.kwargs {
		if k.name == kw {
			p, _ := k.v.span()
			return p
		}
	}
	if i >= 0 && i < len(a.args) {
		p, _ := a.args[i].span()
		return p
	}
	return def
}

func (w *walker) call(e *callExpr) val {
	switch fn := e.fn.(type) {
	case *getattrExpr:
		x := w.eval(fn.x)
		flagged := w.access(x, known(fn.name), accAttr, fn.namePos, fn.pos, fn.end, true, "")
		args, kw := w.evalArgs(e.callArgs)
		return w.method(e, fn.name, x, args, kw, flagged)
	case *filterExpr:
		if fn.name != "attr" || len(fn.args) != 1 || len(fn.kwargs) > 0 || fn.star != nil || fn.dstar != nil {
			break
		}
		// x|attr(name)(args) is a method call too: x|attr('__getitem__')('os').
		x := w.evalOpt(fn.x)
		names := w.eval(fn.args[0])
		pos, _ := fn.args[0].span()
		flagged := w.access(x, names, accAttrFilter, pos, fn.pos, fn.end, true, w.how(fn.args[0]))
		args, kw := w.evalArgs(e.callArgs)
		out := val{open: names.open || len(names.alts) == 0, taint: x.taint || flagged}
		for _, n := range names.alts {
			if s, ok := n.(string); ok {
				out = union(out, w.method(e, s, x, args, kw, flagged))
			}
		}
		return out
	case *nameExpr:
		f := w.name(fn)
		args, kw := w.evalArgs(e.callArgs)
		if _, bound := w.env[fn.name]; bound {
			out := val{taint: f.taint, root: f.root, open: f.open}
			for _, a := range f.alts {
				if m, ok := a.(*macroVal); ok {
					out = union(out, *m.out)
				} else {
					out.open = true
				}
			}
			if len(f.alts) == 0 {
				out.open = true
			}
			return out
		}
		if freeDangerousWhenCalled[fn.name] {
			w.report(RuleDangerous, inventory.Critical, fn.pos, e.pos, e.end,
				"`"+fn.name+"(...)` calls a Python builtin that opens files, compiles or evaluates code; no chat-template loader defines it")
			return val{open: true, taint: true}
		}
		switch fn.name {
		case "dict", "namespace":
			d := &cdict{ns: fn.name == "namespace"}
			parts := make([]val, 0, len(kw))
			names := make([]string, 0, len(kw))
			for _, k := range e.kwargs {
				names = append(names, k.name)
				parts = append(parts, kw[k.name])
			}
			base := val{alts: []cval{d}}
			if len(args) == 1 {
				base = w.lift1(args[0], false, func(c cval) (cval, int) {
					src, ok := c.(*cdict)
					if !ok || src.open {
						return nil, foldUnknown
					}
					return &cdict{keys: append([]cval{}, src.keys...), vals: append([]cval{}, src.vals...), ns: d.ns, nest: src.nest}, foldOK
				})
			} else if len(args) > 1 || e.star != nil || e.dstar != nil {
				base = openVal
			}
			out := w.product(append([]val{base}, parts...), func(cs []cval) cval {
				b := cs[0].(*cdict)
				n := &cdict{keys: append([]cval{}, b.keys...), vals: append([]cval{}, b.vals...), ns: b.ns}
				for i, name := range names {
					n.set(name, cs[i+1])
				}
				n.nest = nestOf(n.vals)
				return n
			})
			if keepsRoot[fn.name] {
				out.root = fn.name
			}
			return out
		case "range":
			return w.rangeValue(args)
		case "cycler", "joiner":
			return val{open: true, root: fn.name}
		case "lipsum":
			return builtOpen
		}
		out := val{open: true, taint: f.taint}
		if keepsRoot[f.root] {
			out.root = f.root
		}
		return out
	}
	f := w.eval(e.fn)
	w.evalArgs(e.callArgs)
	out := val{open: true, taint: f.taint}
	if keepsRoot[f.root] {
		out.root = f.root
	}
	return out
}

func (w *walker) rangeValue(args []val) val {
	var ns []int64
	for _, a := range args {
		c, ok := a.single()
		n, isInt := c.(int64)
		if !ok || !isInt {
			return openVal
		}
		ns = append(ns, n)
	}
	lo, hi, step := int64(0), int64(0), int64(1)
	switch len(ns) {
	case 1:
		hi = ns[0]
	case 2:
		lo, hi = ns[0], ns[1]
	case 3:
		lo, hi, step = ns[0], ns[1], ns[2]
	default:
		return openVal
	}
	if step == 0 {
		return openVal
	}
	var its []cval
	for i := lo; (step > 0 && i < hi) || (step < 0 && i > hi); i += step {
		if len(its) >= maxItems {
			return openVal
		}
		its = append(its, i)
	}
	return known(&clist{items: its})
}

// method is the value of x.name(args), after checking the arguments of
// the methods that look names up.
func (w *walker) method(e *callExpr, name string, x val, args []val, kw map[string]val, flagged bool) val {
	taint := x.taint || flagged
	if len(args) > 0 {
		pos := argPos(e.callArgs, 0, "", e.pos)
		switch name {
		case "__getitem__", "get", "pop", "setdefault":
			if w.access(x, args[0], accItem, pos, e.pos, e.end, false, w.how(e.args[0])) {
				taint = true
			}
		case "__getattribute__", "__getattr__":
			if w.access(x, args[0], accAttrFilter, pos, e.pos, e.end, false, w.how(e.args[0])) {
				taint = true
			}
		}
	}
	if name == "format" || name == "format_map" {
		w.formatFields(e, x, args, kw)
	}
	out := val{open: x.open, taint: taint}
	if x.open && buildingMethods[name] {
		out.built = name != "replace" || len(args) < 2 || mayAddUnderscore(args[1])
	}
	if keepsRoot[x.root] {
		out.root = x.root
	}
	for _, a := range x.alts {
		switch o := a.(type) {
		case string:
			r := w.strMethod(o, name, args, kw)
			out.open = out.open || r.open
			out.built = out.built || r.built
			for _, c := range r.alts {
				out.addAlt(c)
			}
		case *cdict:
			r := w.dictMethod(o, name, args)
			out = union(out, r)
		case *clist:
			r := w.listMethod(o, name, args)
			out = union(out, r)
		default:
			out.open = true
		}
	}
	return out
}

// buildingMethods make new strings out of their parts. Methods that only
// normalise or cut a string (lower, strip, split) pass an unknown value
// through without building a name of the template author's making.
var buildingMethods = set("replace", "join", "format", "format_map", "swapcase",
	"partition", "rpartition", "center", "ljust", "rjust", "zfill", "expandtabs", "translate",
	"encode", "decode")

// strArg is the one string a method argument holds, if it holds exactly one.
func strArg(args []val, i int) (string, bool, bool) { // value, present, known
	if i >= len(args) {
		return "", false, true
	}
	c, ok := args[i].single()
	if !ok {
		return "", true, false
	}
	if _, isNone := c.(noneVal); isNone {
		return "", false, true
	}
	s, ok := c.(string)
	return s, true, ok
}

func intArg(args []val, i int, def int64) (int64, bool) {
	if i >= len(args) {
		return def, true
	}
	c, ok := args[i].single()
	if !ok {
		return 0, false
	}
	n, ok := c.(int64)
	return n, ok
}

// strMethod folds a str method over known arguments.
func (w *walker) strMethod(s, name string, args []val, kw map[string]val) val {
	res := func(r string) val {
		if !w.newStr(len(r)) {
			return builtOpen
		}
		return known(r)
	}
	unknown := val{open: true, built: buildingMethods[name]}
	if len(s) > maxStr {
		// Long literals are kept whole but not worked on: names are short.
		return val{open: true, built: true}
	}
	switch name {
	case "upper":
		return res(strings.ToUpper(s))
	case "lower", "casefold":
		return res(strings.ToLower(s))
	case "title":
		return res(pyTitle(s))
	case "capitalize":
		return res(pyCapitalize(s))
	case "swapcase":
		return res(pySwapcase(s))
	case "strip", "lstrip", "rstrip":
		chars, have, ok := strArg(args, 0)
		if !ok {
			return unknown
		}
		return res(pyStrip(s, chars, name != "rstrip", name != "lstrip", have))
	case "replace":
		old, _, ok1 := strArg(args, 0)
		repl, _, ok2 := strArg(args, 1)
		n, ok3 := intArg(args, 2, -1)
		if len(args) < 2 || !ok1 || !ok2 || !ok3 {
			return unknown
		}
		r, ok := pyReplace(s, old, repl, n)
		if !ok {
			return unknown
		}
		return res(r)
	case "removeprefix":
		p, _, ok := strArg(args, 0)
		if !ok {
			return unknown
		}
		return res(strings.TrimPrefix(s, p))
	case "removesuffix":
		p, _, ok := strArg(args, 0)
		if !ok {
			return unknown
		}
		return res(strings.TrimSuffix(s, p))
	case "join":
		if len(args) != 1 {
			return unknown
		}
		out := val{open: args[0].open, built: args[0].built || args[0].open}
		for _, a := range args[0].alts {
			its, ok := items(a)
			if !ok {
				out.open, out.built = true, true
				continue
			}
			r, st := w.join(s, its)
			if st == foldOK {
				out.addAlt(r)
			} else if st == foldUnknown {
				out.open, out.built = true, true
			}
		}
		return out
	case "split", "rsplit":
		sep, have, ok := strArg(args, 0)
		n, ok2 := intArg(args, 1, -1)
		if !ok || !ok2 || (name == "rsplit" && n >= 0) {
			return unknown
		}
		var sp *string
		if have {
			sp = &sep
		}
		parts, ok := pySplit(s, sp, int(n))
		if !ok {
			return unknown
		}
		return known(&clist{items: parts})
	case "format":
		return w.strFormat(s, args, kw)
	case "startswith", "endswith", "isdigit", "isalpha", "isspace", "count", "find", "index", "rfind":
		return openVal
	}
	return unknown
}

// strFormat folds str.format for plain {} and {n} and {name} fields.
func (w *walker) strFormat(f string, args []val, kw map[string]val) val {
	unknown := builtOpen
	get := func(field string, auto *int) (cval, bool) {
		var v val
		switch {
		case field == "":
			if *auto >= len(args) {
				return nil, false
			}
			v = args[*auto]
			*auto++
		case isAllDigits(field):
			i, _ := strconv.Atoi(field)
			if i >= len(args) {
				return nil, false
			}
			v = args[i]
		default:
			kv, ok := kw[field]
			if !ok {
				return nil, false
			}
			v = kv
		}
		return v.single()
	}
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '{' && i+1 < len(f) && f[i+1] == '{', c == '}' && i+1 < len(f) && f[i+1] == '}':
			b.WriteByte(c)
			i++
		case c == '{':
			j := strings.IndexByte(f[i:], '}')
			if j < 0 {
				return unknown
			}
			field := f[i+1 : i+j]
			if strings.ContainsAny(field, "{.[!:") {
				return unknown
			}
			a, ok := get(field, &auto)
			if !ok {
				return unknown
			}
			s, ok := str(a)
			if !ok || b.Len()+len(s) > maxStr {
				return unknown
			}
			b.WriteString(s)
			i += j
		case c == '}':
			return unknown
		default:
			b.WriteByte(c)
		}
		if b.Len() > maxStr {
			return unknown
		}
	}
	if !w.newStr(b.Len()) {
		return unknown
	}
	return known(b.String())
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// formatFields checks the fields of a str.format call: '{0.__class__}'
// reaches attributes of its arguments without any attribute syntax in
// the template.
func (w *walker) formatFields(e *callExpr, x val, args []val, kw map[string]val) {
	if x.open {
		w.report(RuleDynamic, inventory.High, e.pos, e.pos, e.end,
			"str.format on a string not known until the template runs: a format field such as {0.__class__} reaches attributes of its arguments")
	}
	for _, a := range x.alts {
		f, ok := a.(string)
		if !ok {
			continue
		}
		auto := 0
		for i := 0; i < len(f); i++ {
			if f[i] == '{' && i+1 < len(f) && f[i+1] == '{' {
				i++
				continue
			}
			if f[i] != '{' {
				continue
			}
			j := i + 1
			for j < len(f) && !strings.ContainsRune(".[}!:{", rune(f[j])) {
				j++
			}
			argName := f[i+1 : j]
			obj := openVal
			switch {
			case argName == "":
				if auto < len(args) {
					obj = args[auto]
				}
				auto++
			case isAllDigits(argName):
				if n, _ := strconv.Atoi(argName); n < len(args) {
					obj = args[n]
				}
			default:
				if v, ok := kw[argName]; ok {
					obj = v
				}
			}
			for j < len(f) && (f[j] == '.' || f[j] == '[') {
				open := f[j]
				k := j + 1
				stop := ".[}!:{"
				if open == '[' {
					stop = "]"
				}
				for k < len(f) && !strings.ContainsRune(stop, rune(f[k])) {
					k++
				}
				part := f[j+1 : k]
				if open == '[' && k < len(f) {
					k++
				}
				kind := accFormat
				if open == '[' {
					kind = accItem
				}
				if !(open == '[' && isAllDigits(part)) {
					if w.access(obj, known(part), kind, e.pos, e.pos, e.end, false, " (a field of a format string)") {
						obj.taint = true
					}
				}
				j = k
			}
			i = j - 1
		}
	}
}

func (w *walker) dictMethod(d *cdict, name string, args []val) val {
	switch name {
	case "get", "pop", "setdefault":
		if len(args) == 0 {
			return openVal
		}
		out := val{open: args[0].open || d.open, built: d.built}
		for _, k := range args[0].alts {
			if v, ok := d.get(k); ok {
				out.addAlt(v)
			} else if len(args) > 1 {
				out = union(out, args[1])
			} else {
				out.addAlt(noneVal{})
			}
		}
		if len(args) > 1 {
			out = union(out, args[1])
		}
		return out
	case "items", "keys", "values":
		if d.open || d.ns {
			return val{open: true, built: d.built}
		}
		its := make([]cval, len(d.keys))
		for i := range d.keys {
			switch name {
			case "items":
				its[i] = &clist{items: []cval{d.keys[i], d.vals[i]}, tuple: true, nest: d.nest}
			case "keys":
				its[i] = d.keys[i]
			default:
				its[i] = d.vals[i]
			}
		}
		return known(&clist{items: its, nest: d.nest + 1})
	case "update":
		if len(args) == 1 {
			if src, ok := args[0].single(); ok {
				if s, ok := src.(*cdict); ok && !s.open && len(d.keys)+len(s.keys) <= maxItems {
					for i := range s.keys {
						d.set(s.keys[i], s.vals[i])
					}
					return known(noneVal{})
				}
			}
		}
		d.open = true
		d.built = d.built || (len(args) > 0 && args[0].built)
		return known(noneVal{})
	}
	return openVal
}

func (w *walker) listMethod(l *clist, name string, args []val) val {
	switch name {
	case "append", "insert":
		v := args
		if name == "insert" && len(v) == 2 {
			v = v[1:]
		}
		if len(v) != 1 {
			return openVal
		}
		c, ok := v[0].single()
		if !ok || len(l.items) >= maxItems || nestOf([]cval{c}) > maxNest {
			l.open = true
			l.built = l.built || v[0].built
			return known(noneVal{})
		}
		l.items = append(l.items, c)
		l.nest = max(l.nest, nestOf([]cval{c}))
		return known(noneVal{})
	case "extend":
		l.open = true
		if len(args) > 0 {
			l.built = l.built || args[0].built
		}
		return known(noneVal{})
	case "pop":
		out := val{open: l.open, built: l.built}
		for _, it := range l.items {
			out.addAlt(it)
		}
		return out
	}
	return openVal
}

// filter applies a filter to x, after checking the filters that look up
// attributes by name.
func (w *walker) filter(f *filterExpr, x val) val {
	args, kw := w.evalArgs(f.callArgs)
	arg := func(i int, name string) (val, bool) {
		if v, ok := kw[name]; ok && name != "" {
			return v, true
		}
		if i >= 0 && i < len(args) {
			return args[i], true
		}
		return val{}, false
	}
	taint := x.taint
	attribute := func(i int) {
		v, ok := arg(i, "attribute")
		if !ok {
			return
		}
		if w.attributeArg(f, x, v, argPos(f.callArgs, i, "attribute", f.namePos)) {
			taint = true
		}
	}
	out := val{open: true, built: x.built, taint: taint}
	stringy := builtOpen
	stringy.taint = taint
	switch f.name {
	case "attr":
		v, ok := arg(0, "")
		if !ok {
			return out
		}
		pos := argPos(f.callArgs, 0, "", f.namePos)
		flagged := w.access(x, v, accAttrFilter, pos, f.pos, f.end, false, w.how(f.args[0]))
		return w.attrValue(f.x, x, v, flagged)
	case "map":
		if _, ok := kw["attribute"]; ok {
			attribute(-1)
			return val{open: true, built: x.built, taint: taint}
		}
		if len(args) == 0 {
			return out
		}
		pos := argPos(f.callArgs, 0, "", f.namePos)
		if args[0].open {
			w.report(RuleDynamic, inventory.High, pos, f.pos, f.end,
				"map() applies a filter whose name is computed when the template runs")
		}
		for _, a := range args[0].alts {
			if a == "attr" && len(args) > 1 {
				p := argPos(f.callArgs, 1, "", f.namePos)
				if w.access(x, args[1], accAttrFilter, p, f.pos, f.end, false, w.how(f.args[1])) {
					taint = true
				}
			}
		}
		return val{open: true, built: true, taint: taint}
	case "selectattr", "rejectattr", "groupby":
		attribute(0)
		return val{open: true, built: x.built, taint: taint}
	case "sum":
		attribute(0)
		return val{open: true, taint: taint}
	case "unique", "min", "max":
		attribute(1)
		return val{open: true, built: x.built, taint: taint}
	case "sort":
		attribute(2)
		return val{open: true, built: x.built, taint: taint}
	case "join":
		attribute(1)
		sep, ok := arg(0, "d")
		if !ok {
			sep = known("")
		}
		if _, has := arg(1, "attribute"); has {
			return stringy
		}
		res := w.lift(x, sep, true, func(a, b cval) (cval, int) {
			s, ok := b.(string)
			its, ok2 := items(a)
			if !ok || !ok2 {
				return nil, foldUnknown
			}
			return w.join(s, its)
		})
		res.taint = taint
		return res
	case "format":
		if len(args) > 0 && len(kw) > 0 {
			return stringy
		}
		var parts []val
		if len(kw) > 0 {
			parts = append(parts, w.product(kwVals(f.callArgs, kw), func(cs []cval) cval {
				d := &cdict{}
				for i, k := range f.kwargs {
					d.set(k.name, cs[i])
				}
				return d
			}))
		} else {
			parts = append(parts, w.product(args, func(cs []cval) cval { return &clist{items: cs, tuple: true} }))
		}
		res := w.lift(x, parts[0], true, func(a, b cval) (cval, int) {
			s, ok := a.(string)
			if !ok {
				return nil, foldUnknown
			}
			var r string
			switch b := b.(type) {
			case *clist:
				r, ok = w.percent(s, b.items, nil)
			case *cdict:
				r, ok = w.percent(s, []cval{b}, b)
			}
			if !ok {
				return nil, foldUnknown
			}
			return r, foldOK
		})
		res.taint = taint
		return res
	case "replace":
		if len(args) < 2 {
			return stringy
		}
		res := w.lift1(x, mayAddUnderscore(args[1]), func(c cval) (cval, int) {
			s, ok := c.(string)
			if len(s) > maxStr {
				return nil, foldUnknown
			}
			old, _, ok1 := strArg(args, 0)
			repl, _, ok2 := strArg(args, 1)
			n, ok3 := intArg(args, 2, -1)
			if !ok || !ok1 || !ok2 || !ok3 {
				return nil, foldUnknown
			}
			r, ok := pyReplace(s, old, repl, n)
			if !ok || !w.newStr(len(r)) {
				return nil, foldUnknown
			}
			return r, foldOK
		})
		res.taint = taint
		return res
	case "reverse":
		res := w.lift1(x, true, func(c cval) (cval, int) {
			switch c := c.(type) {
			case string:
				if !w.newStr(len(c)) {
					return nil, foldUnknown
				}
				return reverseString(c), foldOK
			case *clist:
				if c.open {
					return nil, foldUnknown
				}
				its := make([]cval, len(c.items))
				for i, it := range c.items {
					its[len(its)-1-i] = it
				}
				return &clist{items: its, built: c.built, nest: c.nest}, foldOK
			}
			return nil, foldUnknown
		})
		res.taint = taint
		return res
	case "string", "lower", "upper", "title", "capitalize", "trim", "e", "escape", "safe", "forceescape":
		// These normalise a string: an unknown one stays as (un)built as it was.
		res := w.lift1(x, false, func(c cval) (cval, int) {
			s, ok := str(c)
			if !ok || len(s) > maxStr {
				return nil, foldUnknown
			}
			switch f.name {
			case "lower":
				s = strings.ToLower(s)
			case "upper":
				s = strings.ToUpper(s)
			case "title":
				s = pyTitle(s)
			case "capitalize":
				s = pyCapitalize(s)
			case "trim":
				chars, have, ok := strArg(args, 0)
				if !ok {
					return nil, foldUnknown
				}
				s = pyStrip(s, chars, true, true, have)
			case "e", "escape", "forceescape":
				if strings.ContainsAny(s, "&<>\"'") {
					return nil, foldUnknown
				}
			}
			if !w.newStr(len(s)) {
				return nil, foldUnknown
			}
			return s, foldOK
		})
		res.taint = taint
		return res
	case "first", "last", "random":
		res := val{open: x.open, built: x.built, taint: taint}
		for _, a := range x.alts {
			its, ok := items(a)
			if !ok {
				res.open = true
				continue
			}
			if l, isList := a.(*clist); isList && l.built {
				res.built = true
			}
			if len(its) == 0 {
				continue
			}
			switch f.name {
			case "first":
				res.addAlt(its[0])
			case "last":
				res.addAlt(its[len(its)-1])
			default:
				for _, it := range its {
					res.addAlt(it)
				}
			}
		}
		if _, isStr := firstString(x); isStr && res.open {
			res.built = true
		}
		return res
	case "list":
		res := w.lift1(x, isStringy(x), func(c cval) (cval, int) {
			its, ok := items(c)
			if !ok || len(its) > maxItems {
				return nil, foldUnknown
			}
			return &clist{items: its, nest: nestOf(its)}, foldOK
		})
		res.taint = taint
		if isStringy(x) && res.open {
			res.built = true
		}
		return res
	case "items":
		res := w.lift1(x, false, func(c cval) (cval, int) {
			d, ok := c.(*cdict)
			if !ok {
				return nil, foldUnknown
			}
			if r, ok := w.dictMethod(d, "items", nil).single(); ok {
				return r, foldOK
			}
			return nil, foldUnknown
		})
		res.taint = taint
		return res
	case "default", "d":
		def, ok := arg(0, "default_value")
		if !ok {
			def = known("")
		}
		res := union(x, def)
		res.taint = taint || def.taint
		return res
	case "int", "float", "length", "count", "wordcount", "round", "abs", "filesizeformat":
		return val{open: true, taint: taint}
	}
	return stringy
}

// mayAddUnderscore says whether replacing with repl can put an underscore
// into an unknown string. Replacing '~1' with '/' in a JSON pointer
// cannot make a dunder of it; replacing 'X' with '_' can.
func mayAddUnderscore(repl val) bool {
	if repl.open || repl.built {
		return true
	}
	for _, a := range repl.alts {
		if s, ok := a.(string); !ok || strings.Contains(s, "_") {
			return true
		}
	}
	return false
}

func firstString(v val) (string, bool) {
	for _, a := range v.alts {
		if s, ok := a.(string); ok {
			return s, true
		}
	}
	return "", false
}

func kwVals(a callArgs, kw map[string]val) []val {
	out := make([]val, len(a.kwargs))
	for i, k := range a.kwargs {
		out[i] = kw[k.name]
	}
	return out
}

// attributeArg checks an attribute path given to a filter (map(attribute=
// "a.b"), selectattr("a")...): Jinja looks up each dotted part as an item
// and then as an attribute.
func (w *walker) attributeArg(f *filterExpr, x, v val, pos int) bool {
	flagged := false
	for _, a := range v.alts {
		s, ok := a.(string)
		if !ok {
			continue
		}
		obj := x
		for _, part := range strings.Split(s, ".") {
			if isAllDigits(part) {
				continue
			}
			if w.access(obj, known(part), accAttrArg, pos, f.pos, f.end, false, "") {
				flagged = true
				obj.taint = true
			}
		}
	}
	if v.open {
		if w.access(x, val{open: true}, accAttrArg, pos, f.pos, f.end, false, "") {
			flagged = true
		}
	}
	return flagged
}
