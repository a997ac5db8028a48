package pickle

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	// maxArgs bounds Call.Args: evidence, not a transcript.
	maxArgs = 200
	// maxVia bounds Call.Via and the expressions it is built from.
	maxVia = 200
	// maxOrigin bounds Call.Origin.
	maxOrigin = 8
	// maxCallDepth bounds calls through functools.partial objects that
	// wrap other partial objects.
	maxCallDepth = 16
)

// joblibWrappers are the classes whose BUILD joblib follows with the raw
// bytes of a numpy array.
var joblibWrappers = map[string]bool{
	"joblib.numpy_pickle.NumpyArrayWrapper":                   true,
	"sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper": true,
}

// global records an import by GLOBAL, STACK_GLOBAL or INST and returns the
// imported object. known is false when the stream does not say statically
// what is imported; mod and name are then "?" where unknown.
func (m *machine) global(op string, off int64, mod, name string, known bool) val {
	if mod == "" || name == "" {
		// __import__('') and getattr(m, '') fail.
		m.brk("empty module or attribute name")
		return valUnknown
	}
	imp := Import{Module: mod, Name: name, Offset: off, Op: op, Pickle: m.pickle}
	if known && m.proto < 3 {
		if to, toName, ok := compat(mod, name); ok {
			imp.Written = mod + "." + name
			imp.Module, imp.Name = to, toName
		}
	}
	o := m.alloc(oGlobal)
	o.imp = m.addImport(imp)
	if known {
		// A dotted name is an attribute walk from the module: the
		// loader imports pathlib and returns pathlib.os.system.
		o.s = imp.Module + "." + imp.Name
		if strings.Contains(imp.Name, ".") {
			o.how = &how{dotted: true}
		}
	}
	return objVal(o)
}

// ext records an EXT1, EXT2 or EXT4 import, which CPython looks up in
// copyreg's extension registry. That registry is empty unless the loading
// program filled it, so CPython fails here.
func (m *machine) ext(off int64, code int64) {
	m.addImport(Import{Module: "copyreg", Name: "ext:" + strconv.FormatInt(code, 10), Offset: off, Op: opNames[m.op], Pickle: m.pickle})
	m.anomaly(off, "ext-code", fmt.Sprintf("extension code %d imports whatever the loader registered", code))
	if code <= 0 {
		m.brk("EXT specifies code <= 0")
		return
	}
	m.brk(fmt.Sprintf("unregistered extension code %d", code))
}

func (m *machine) record() bool {
	if m.records >= m.lim.Records {
		m.limit("records")
		return false
	}
	m.records++
	return true
}

func (m *machine) addImport(i Import) int32 {
	if !m.record() {
		return -1
	}
	m.res.Imports = append(m.res.Imports, i)
	return int32(len(m.res.Imports) - 1)
}

func (m *machine) addCall(c Call) int32 {
	if !m.record() {
		return -1
	}
	m.res.Calls = append(m.res.Calls, c)
	return int32(len(m.res.Calls) - 1)
}

// called marks the import v is, if it is one, as reached by a call.
func (m *machine) called(v val) {
	if v.k == kObj && v.p.imp >= 0 {
		m.res.Imports[v.p.imp].Called = true
	}
}

// invoke models fn(*args) as REDUCE, INST and OBJ do: it records the call
// and returns its result.
func (m *machine) invoke(op string, off int64, fn, args val) val {
	return m.invokeAt(op, off, fn, args, 0)
}

func (m *machine) invokeAt(op string, off int64, fn, args val, depth int) val {
	if args.literal() && !args.is(oTuple) {
		m.brk("argument list must be a tuple")
		return valUnknown
	}
	c := Call{Op: op, Offset: off, Pickle: m.pickle, Args: m.render(args, maxArgs)}
	items, n := args.seq()
	switch fn.k {
	case kObj:
	case kUnknown:
		return m.unresolved(&c, args, "")
	default:
		m.brk(fmt.Sprintf("'%s' object is not callable", short(fn.typeName())))
		return valUnknown
	}
	o := fn.p
	switch o.k {
	case oGlobal:
		return m.callGlobal(&c, fn, items, n, args)
	case oModule, oNamespace, oStr, oBytes, oTuple, oList, oDict, oSet, oFrozenSet:
		m.brk(fmt.Sprintf("'%s' object is not callable", short(fn.typeName())))
		return valUnknown
	case oInstance, oDtype:
		t := fn.typeName()
		if t != "" {
			c.Callee = t + ".__call__"
		} else {
			t = "?"
		}
		c.Via = "an instance of " + t
		return m.unresolved(&c, args, c.Callee)
	case oAttrGetter, oItemGetter:
		c.Callee = fn.typeName() + ".__call__"
		c.Via, c.Origin = m.reach(fn)
		idx := m.addCall(c)
		var v val
		if len(o.items) == 1 && len(items) >= 1 {
			if key, ok := m.name(o.items[0]); ok {
				if o.k == oAttrGetter {
					v = m.attr(items[0], key, "operator.attrgetter")
					v.p.how.via = clip("operator.attrgetter("+pyQuote(key, true, false)+")("+m.expr(items[0])+")", maxVia)
				} else {
					v, _ = m.item(items[0], key, "operator.itemgetter")
				}
			}
		}
		if v.k == kAbsent {
			v = m.derive(oGlobal, "", m.expr(fn)+"(…)", nil)
		}
		if v.k == kObj && v.p.call < 0 && v.p.how != nil {
			v.p.call = idx
		}
		return v
	case oMethodCaller:
		// methodcaller('system', 'ls')(os) calls os.system('ls').
		if len(o.items) == 0 || len(items) == 0 {
			return m.unresolved(&c, args, "")
		}
		name, ok := m.name(o.items[0])
		if !ok {
			c.Via = m.expr(fn)
			return m.unresolved(&c, args, "")
		}
		target := m.attr(items[0], name, "operator.methodcaller")
		target.p.how.via = clip("operator.methodcaller("+pyQuote(name, true, false)+")("+m.expr(items[0])+")", maxVia)
		margs := m.tuple(o.items[1:])
		return m.invokeAt(op, off, target, margs, depth+1)
	case oPartial:
		// partial(f, *a)(*b) calls f(*a, *b).
		if len(o.items) == 0 || depth >= maxCallDepth {
			return m.unresolved(&c, args, "")
		}
		all := append(append([]val(nil), o.items[1:]...), items...)
		f := o.items[0]
		m.called(f)
		if f.k == kObj && f.p.k == oGlobal && f.p.how == nil {
			// Keep the chain visible in the call's Via.
			f = m.derive(oGlobal, f.p.s, "functools.partial("+f.p.s+")", merge("functools.partial", originOf(f)))
		}
		return m.invokeAt(op, off, f, m.tuple(all), depth+1)
	case oBound:
		recv := o.items[0]
		switch o.s {
		case "get", "__getitem__", "pop", "setdefault":
			c.Callee = "builtins.dict." + o.s
			c.Via, c.Origin = m.reach(fn)
			idx := m.addCall(c)
			if len(items) >= 1 {
				if key, ok := m.name(items[0]); ok {
					v, fresh := m.item(recv, key, "dict."+o.s)
					if fresh && v.k == kObj {
						v.p.call = idx
					}
					return v
				}
			}
			return m.derive(oGlobal, "", m.expr(fn)+"(…)", nil)
		}
		c.Callee = recv.typeName() + "." + o.s
		c.Via, _ = m.reach(fn)
		return m.unresolved(&c, args, c.Callee)
	}
	// Results of calls, persistent objects: what they are is not known.
	c.Via = "the result of " + m.expr(fn)
	return m.unresolved(&c, args, "")
}

// unresolved records c, whose result is not modelled, and returns that
// result.
func (m *machine) unresolved(c *Call, args val, callee string) val {
	c.Callee = callee
	c.Via = clip(c.Via, maxVia)
	idx := m.addCall(*c)
	r := m.alloc(oResult)
	r.s = callee
	r.items = []val{args}
	r.call = idx
	return objVal(r)
}

// callGlobal models calling an imported object, or one derived from imports.
func (m *machine) callGlobal(c *Call, fn val, items []val, n int64, args val) val {
	o := fn.p
	c.Callee = o.s
	c.Via, c.Origin = m.reach(fn)
	m.called(fn)
	if o.s == "" {
		if c.Via == "" {
			c.Via = "an import the stream does not name"
		}
		return m.unresolved(c, args, "")
	}
	switch o.s {
	case "copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__":
		return m.reconstruct(c, items, n)
	case "builtins.eval", "builtins.exec", "builtins.compile":
		if c.Via == "" && len(items) > 0 {
			c.Via = short(o.s) + "(" + m.render(items[0], maxVia) + ")"
		}
	}
	idx := m.addCall(*c)
	m.argumentCalls(c, items)
	v, fresh := m.gadget(o.s, items, n)
	if v.k == kAbsent {
		r := m.alloc(oResult)
		r.s = o.s
		r.items = []val{args}
		v, fresh = objVal(r), true
	}
	if fresh && v.k == kObj {
		v.p.call = idx
	}
	return v
}

// argumentCalls records the calls and constructions that callee c makes
// of its own arguments, as Options.Arguments describes them.
func (m *machine) argumentCalls(c *Call, items []val) {
	if m.arguments == nil {
		return
	}
	calls, builds := m.arguments(c.Callee)
	for _, group := range []struct {
		idx       []int
		construct bool
	}{{calls, false}, {builds, true}} {
		for _, i := range group.idx {
			if i < 1 || i > len(items) {
				continue
			}
			a := items[i-1]
			if a.k != kObj || (a.p.k != oGlobal && a.p.k != oResult && a.p.k != oPersistent) {
				continue // literals: calling them fails, and runs nothing
			}
			ac := Call{Op: c.Op, Offset: c.Offset, Pickle: c.Pickle, Construct: group.construct}
			ac.Via, ac.Origin = m.reach(a)
			ac.Via = clip("argument "+strconv.Itoa(i)+" of "+c.Callee, maxVia)
			if a.p.k == oGlobal {
				ac.Callee = a.p.s
			}
			m.called(a)
			m.addCall(ac)
		}
	}
}

// reconstruct models copyreg's helpers, through which object.__reduce_ex__
// makes objects without running their __init__: _reconstructor(cls, base,
// state), __newobj__(cls, *args), __newobj_ex__(cls, args, kwargs).
func (m *machine) reconstruct(c *Call, items []val, n int64) val {
	fnPath := c.Callee
	c.Construct = true
	c.Origin = merge(fnPath, c.Origin)
	if c.Via == "" {
		c.Via = fnPath
	}
	cls := valUnknown
	if len(items) > 0 {
		cls = items[0]
	} else if n == 0 {
		m.brk(fnPath + " missing its class argument")
		return valUnknown
	}
	c.Callee = ""
	switch {
	case cls.is(oGlobal):
		c.Callee = cls.p.s
		m.called(cls)
		if via, origin := m.reach(cls); via != "" {
			c.Via = clip(fnPath+"("+via+")", maxVia)
			c.Origin = merge(fnPath, c.Origin, origin)
		}
	case cls.literal() || cls.is(oModule) || cls.is(oNamespace):
		m.brk(fnPath + " class argument isn't a type object")
		return valUnknown
	}
	idx := m.addCall(*c)
	if fnPath == "copyreg._reconstructor" && len(items) >= 2 {
		// With a base other than object, base.__new__(cls, state) and
		// base.__init__(obj, state) run.
		base := items[1]
		if !base.is(oGlobal) || base.p.s != "builtins.object" {
			bc := Call{Op: c.Op, Offset: c.Offset, Via: "_reconstructor base", Origin: []string{fnPath}, Pickle: m.pickle}
			if len(items) >= 3 {
				bc.Args = clip("("+m.render(items[2], maxArgs)+",)", maxArgs)
			}
			switch {
			case base.is(oGlobal):
				bc.Callee = base.p.s
				m.called(base)
			case base.literal() || base.is(oModule) || base.is(oNamespace):
				m.brk("_reconstructor base isn't a type object")
				return valUnknown
			}
			m.addCall(bc)
		}
	}
	inst := m.alloc(oInstance)
	inst.s = c.Callee
	inst.call = idx
	return objVal(inst)
}

// construct models NEWOBJ and NEWOBJ_EX: cls.__new__(cls, *args, **kwargs).
func (m *machine) construct(op string, off int64, cls, args, kwargs val) val {
	if args.literal() && !args.is(oTuple) {
		m.brk(op + " expected an arg tuple")
		return valUnknown
	}
	if kwargs.literal() && !kwargs.is(oDict) {
		m.brk(op + " expected a dict of keyword arguments")
		return valUnknown
	}
	c := Call{Op: op, Offset: off, Construct: true, Pickle: m.pickle, Args: m.render(args, maxArgs)}
	if kwargs.k != kAbsent {
		c.Args = clip(c.Args+" **"+m.render(kwargs, maxArgs), maxArgs)
	}
	switch {
	case cls.is(oGlobal):
		c.Callee = cls.p.s
		c.Via, c.Origin = m.reach(cls)
		m.called(cls)
	case cls.k == kUnknown, cls.is(oResult), cls.is(oPersistent), cls.is(oInstance):
		// Maybe a class made at load time: unresolved.
	default:
		m.brk(op + " class argument isn't a type object")
		return valUnknown
	}
	idx := m.addCall(c)
	o := m.alloc(oInstance)
	o.s = c.Callee
	o.call = idx
	return objVal(o)
}

// build models BUILD: inst.__setstate__(state), or setting inst's
// attributes from state when it has no __setstate__.
func (m *machine) build(off int64, inst, state val) {
	c := Call{Op: "BUILD", Offset: off, Pickle: m.pickle, Args: clip("("+m.render(state, maxArgs)+",)", maxArgs)}
	if inst.k != kObj {
		if inst.k == kUnknown {
			m.addCall(c)
		}
		// Numbers and strings take no state: nothing runs.
		return
	}
	o := inst.p
	switch o.k {
	case oTuple, oList, oDict, oSet, oFrozenSet, oStr, oBytes, oNamespace:
		// Plain containers have no __setstate__: CPython sets attributes
		// of none of them, so nothing of the pickle's choosing runs.
		return
	case oInstance:
		c.Construct = true
		if o.s != "" {
			c.Callee = o.s + ".__setstate__"
		}
	case oGlobal, oModule:
		// A class, function or module: BUILD sets its attributes
		// (monkey-patching), or calls a __setstate__ it defines.
		c.SetAttr = true
		c.Callee = o.s
		c.Via, c.Origin = m.reach(inst)
		m.called(inst)
	case oResult:
		if o.s != "" {
			c.Callee = o.s + ".__setstate__"
		}
	case oPartial:
		// partial.__setstate__((func, args, kwds, dict)) replaces what a
		// later call runs.
		c.Callee = "functools.partial.__setstate__"
		if st, n := state.seq(); n >= 2 && len(st) >= 2 {
			args, _ := st[1].seq()
			o.items = m.keep([]val{st[0]}, args, keepTuple)
		}
	case oDtype:
		c.Callee = "numpy.dtype.__setstate__"
		// (version, byteorder, subarray, names, fields, elsize,
		// alignment, flags[, metadata]): joblib needs elsize and flags.
		if st, n := state.seq(); n >= 8 && len(st) >= 8 && st[5].k == kInt && st[7].k == kInt {
			o.items = []val{st[5], st[7]}
		}
	default:
		if t := inst.typeName(); t != "" {
			c.Callee = t + ".__setstate__"
		}
	}
	m.addCall(c)
	if (o.k == oInstance || o.k == oResult) && joblibWrappers[o.s] {
		m.joblibArray(state)
	}
}

// store models APPEND, APPENDS, SETITEM, SETITEMS and ADDITEMS into t.
func (m *machine) store(op string, off int64, t val, items []val) {
	if len(items) == 0 {
		return
	}
	if t.k != kObj {
		if t.literal() {
			m.brk(fmt.Sprintf("cannot %s into '%s'", op, short(t.typeName())))
		}
		return
	}
	o := t.p
	switch o.k {
	case oList:
		switch op {
		case "APPEND", "APPENDS":
			o.items = m.keep(o.items, items, keepList-len(o.items))
			o.n += int64(len(items))
			return
		case "SETITEM", "SETITEMS":
			return // list[i] = v
		}
	case oDict:
		if op == "SETITEM" || op == "SETITEMS" {
			o.items = m.keep(o.items, items, 2*keepDict-len(o.items))
			o.n += int64(len(items) / 2)
			return
		}
	case oSet:
		if op == "ADDITEMS" {
			o.items = m.keep(o.items, items, keepList-len(o.items))
			o.n += int64(len(items))
			return
		}
	case oGlobal, oModule, oNamespace:
		// Items stored into an imported object change the program:
		// sys.modules['x'] = ..., os.environ['X'] = ..., sys.path.append.
		c := Call{Op: op, Offset: off, SetAttr: true, Pickle: m.pickle}
		base := o.s
		if o.k == oNamespace && base != "" && base != callerNamespace {
			base += ".__dict__"
		}
		if base != "" && base != callerNamespace {
			c.Callee = base + storeMethod(op)
		}
		c.Via, c.Origin = m.reach(t)
		c.Args = clip("("+m.renderItems(items)+")", maxArgs)
		m.called(t)
		m.addCall(c)
		return
	case oTuple, oFrozenSet, oStr, oBytes:
	default:
		// Instances and call results run their own methods; the call
		// that made them is recorded already.
		return
	}
	m.brk(fmt.Sprintf("cannot %s into '%s'", op, short(t.typeName())))
}

func storeMethod(op string) string {
	switch op {
	case "APPEND":
		return ".append"
	case "APPENDS":
		return ".extend"
	case "ADDITEMS":
		return ".add"
	}
	return ".__setitem__"
}

// reach returns how a callable was reached and what it derives from.
func (m *machine) reach(v val) (string, []string) {
	if v.k != kObj || v.p.how == nil {
		return "", nil
	}
	h := v.p.how
	if h.via == "" && h.dotted {
		return "(dotted name)", nil
	}
	return h.via, h.origin
}

// originOf lists the imported globals v derives from.
func originOf(v val) []string {
	if v.k != kObj {
		return nil
	}
	if v.p.how != nil && v.p.how.via != "" {
		return v.p.how.origin
	}
	if v.p.k == oGlobal && v.p.imp >= 0 && v.p.s != "" {
		return []string{v.p.s}
	}
	return nil
}

// merge joins origin lists, first the given name, without repeats.
func merge(first string, lists ...[]string) []string {
	out := []string{first}
	for _, l := range lists {
		for _, s := range l {
			if len(out) >= maxOrigin {
				return out
			}
			dup := false
			for _, t := range out {
				dup = dup || t == s
			}
			if !dup {
				out = append(out, s)
			}
		}
	}
	return out
}

// derive makes a value reached through a gadget.
func (m *machine) derive(k okind, path, via string, origin []string) val {
	o := m.alloc(k)
	o.s = path
	o.how = &how{via: clip(via, maxVia), origin: origin}
	return objVal(o)
}

// short is how a callable is named inside a Via chain: builtins need no
// module.
func short(path string) string {
	if s, ok := strings.CutPrefix(path, "builtins."); ok {
		return s
	}
	return path
}

// gadget models the callables that let a pickle reach other callables: it
// returns the result of path(*a), and whether that is a new value, or no
// value if path is not one of them.
func (m *machine) gadget(path string, a []val, n int64) (val, bool) {
	p := path
	if s, ok := strings.CutPrefix(p, "_operator."); ok {
		p = "operator." + s
	}
	unknown := func() (val, bool) {
		return m.derive(oGlobal, "", short(path)+"("+m.renderItems(a)+")", merge(path, m.originsOf(a)...)), true
	}
	switch p {
	case "builtins.getattr", "builtins.object.__getattribute__", "builtins.type.__getattribute__":
		if len(a) >= 2 {
			if name, ok := m.name(a[1]); ok {
				return m.attr(a[0], name, path), true
			}
		}
		return unknown()
	case "operator.attrgetter", "operator.itemgetter", "operator.methodcaller", "functools.partial":
		k := map[string]okind{
			"operator.attrgetter":   oAttrGetter,
			"operator.itemgetter":   oItemGetter,
			"operator.methodcaller": oMethodCaller,
			"functools.partial":     oPartial,
		}[p]
		v := m.derive(k, p, short(path)+"("+m.renderItems(a)+")", merge(path, m.originsOf(a)...))
		v.p.items = m.keep(nil, a, keepTuple)
		return v, true
	case "operator.getitem", "builtins.dict.get", "builtins.dict.__getitem__", "builtins.dict.pop", "builtins.dict.setdefault":
		if len(a) >= 2 {
			if key, ok := m.name(a[1]); ok {
				return m.item(a[0], key, path)
			}
		}
		return unknown()
	case "sys.modules.get", "sys.modules.__getitem__", "sys.modules.pop", "sys.modules.setdefault":
		if len(a) >= 1 {
			if name, ok := m.name(a[0]); ok {
				return m.derive(oModule, name, path+"("+pyQuote(name, true, false)+")", []string{path}), true
			}
		}
		return unknown()
	case "builtins.__import__", "importlib.__import__":
		if len(a) >= 1 {
			name, ok := m.name(a[0])
			relative := len(a) >= 5 && (a[4].k != kInt || a[4].n != 0)
			if ok && !relative {
				// Without a fromlist, __import__('a.b') returns a.
				if len(a) < 4 || !truthy(a[3]) {
					name, _, _ = strings.Cut(name, ".")
				}
				return m.derive(oModule, name, short(path)+"("+pyQuote(name, true, false)+")", []string{path}), true
			}
		}
		return unknown()
	case "importlib.import_module", "importlib._bootstrap._gcd_import":
		if len(a) >= 1 {
			if name, ok := m.name(a[0]); ok {
				if strings.HasPrefix(name, ".") {
					pkg := ""
					if len(a) >= 2 {
						pkg, _ = m.name(a[1])
					}
					name, ok = resolveRelative(name, pkg)
				}
				if ok {
					return m.derive(oModule, name, path+"("+m.renderItems(a)+")", []string{path}), true
				}
			}
		}
		return unknown()
	case "pkgutil.resolve_name", "pydoc.locate":
		if len(a) >= 1 {
			if name, ok := m.name(a[0]); ok {
				via := path + "(" + pyQuote(name, true, false) + ")"
				if mod, attr, colon := strings.Cut(name, ":"); colon {
					if attr == "" {
						return m.derive(oModule, mod, via, []string{path}), true
					}
					name = mod + "." + attr
				}
				return m.derive(oGlobal, name, via, []string{path}), true
			}
		}
		return unknown()
	case "builtins.vars", "builtins.globals", "builtins.locals":
		// Called by the unpickler, globals() and friends see the module
		// of the Python code that called pickle.load.
		ns := callerNamespace
		if p == "builtins.vars" && len(a) >= 1 {
			ns = ""
			if a[0].is(oGlobal) || a[0].is(oModule) {
				ns = a[0].p.s
			}
		}
		via := short(path) + "(" + m.renderItems(a) + ")"
		if len(a) >= 1 {
			via = short(path) + "(" + m.expr(a[0]) + ")"
		}
		return m.derive(oNamespace, ns, via, merge(path, m.originsOf(a)...)), true
	case "numpy.dtype":
		o := m.alloc(oDtype)
		if len(a) >= 1 {
			o.s, _ = m.name(a[0])
		}
		o.items = []val{intVal(-1), intVal(0)}
		return objVal(o), true
	}
	return val{}, false
}

func (m *machine) originsOf(a []val) [][]string {
	var out [][]string
	for _, v := range a {
		if o := originOf(v); o != nil {
			out = append(out, o)
		}
	}
	return out
}

// attr returns attribute name (which may be dotted) of x, as getattr does.
func (m *machine) attr(x val, name, gadget string) val {
	via := short(gadget) + "(" + m.expr(x) + "," + pyQuote(name, true, false) + ")"
	origin := merge(gadget, originOf(x))
	base := ""
	switch {
	case x.is(oGlobal), x.is(oModule), x.is(oInstance):
		base = x.p.s
	case x.is(oNamespace):
		v := m.derive(oBound, name, via, origin)
		v.p.items = []val{x}
		return v
	default:
		base = x.typeName()
	}
	path := ""
	if base != "" {
		path = base + "." + name
	}
	return m.derive(oGlobal, path, via, origin)
}

// item returns d[key] for the dictionaries a pickle can reach: module
// namespaces, sys.modules, and literal dicts.
func (m *machine) item(d val, key, gadget string) (val, bool) {
	via := short(gadget) + "(" + m.expr(d) + "," + pyQuote(key, true, false) + ")"
	origin := merge(gadget, originOf(d))
	switch {
	case d.is(oNamespace):
		path := ""
		switch d.p.s {
		case callerNamespace:
			// The caller's module has imported what it names, so
			// globals()['os'] is the os module.
			path = key
			if key == "__builtins__" {
				path = "builtins"
			}
		case "":
		default:
			path = d.p.s + "." + key
		}
		return m.derive(oGlobal, path, via, origin), true
	case d.is(oGlobal) && d.p.s == "sys.modules":
		return m.derive(oModule, key, via, origin), true
	case d.is(oGlobal) && strings.HasSuffix(d.p.s, ".__dict__"):
		return m.derive(oGlobal, strings.TrimSuffix(d.p.s, ".__dict__")+"."+key, via, origin), true
	case d.is(oDict):
		items := d.p.items
		for i := 0; i+1 < len(items); i += 2 {
			if k, ok := m.name(items[i]); ok && k == key {
				return items[i+1], false
			}
		}
	}
	return m.derive(oGlobal, "", via, origin), true
}

// resolveRelative resolves a relative module name against a package, as
// importlib does.
func resolveRelative(name, pkg string) (string, bool) {
	level := len(name) - len(strings.TrimLeft(name, "."))
	if pkg == "" || pkg == "?" {
		return "", false
	}
	parts := strings.Split(pkg, ".")
	if level-1 >= len(parts) {
		return "", false
	}
	base := strings.Join(parts[:len(parts)-(level-1)], ".")
	if rest := name[level:]; rest != "" {
		return base + "." + rest, true
	}
	return base, true
}

// truthy is Python's truth of a value; unknown values count as true.
func truthy(v val) bool {
	switch v.k {
	case kNone, kAbsent:
		return false
	case kBool, kInt:
		return v.n != 0
	case kFloat:
		return v.n<<1 != 0
	case kStr, kBytes:
		return v.l != 0
	case kObj:
		if v.container() || v.p.k == oStr || v.p.k == oBytes {
			return v.p.n != 0
		}
	}
	return true
}
