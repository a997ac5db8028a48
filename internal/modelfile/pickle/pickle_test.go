package pickle

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// callSum is the part of a Call most tests check.
type callSum struct {
	Callee, Via, Op            string
	Construct, SetAttr, Popped bool
}

func calls(r *Result) []callSum {
	var out []callSum
	for _, c := range r.Calls {
		out = append(out, callSum{c.Callee, c.Via, c.Op, c.Construct, c.SetAttr, c.Popped})
	}
	return out
}

func imports(r *Result) []string {
	var out []string
	for _, i := range r.Imports {
		out = append(out, i.Module+"."+i.Name+" "+i.Op)
	}
	return out
}

func anomalies(r *Result) []string {
	var out []string
	for _, a := range r.Anomalies {
		out = append(out, a.Kind)
	}
	return out
}

func breakReason(r *Result) string {
	if r.Malformed == nil {
		return ""
	}
	return r.Malformed.Reason
}

func TestScanCalls(t *testing.T) {
	// Gadget chains, each ending in a call of what it reached.
	dictGet := call(sglobal("builtins", "dict.get"), call(sglobal("builtins", "vars"), call(sglobal("builtins", "__import__"), sbu("os"))), sbu("system"))
	getattrImport := call(sglobal("builtins", "getattr"), call(sglobal("importlib", "import_module"), sbu("os")), sbu("system"))
	sysModules := call(sglobal("builtins", "getattr"), call(sglobal("builtins", "dict.get"), sglobal("sys", "modules"), sbu("os")), sbu("system"))
	globalsLookup := call(sglobal("builtins", "getattr"), call(sglobal("builtins", "dict.get"), call(sglobal("builtins", "globals")), sbu("os")), sbu("system"))
	osSystem := callSum{Callee: "os.system", Op: "REDUCE"}

	tests := []struct {
		name      string
		in        []byte
		imports   []string
		calls     []callSum
		brk       string // part of the Break's reason; "" for none
		anomalies []string
	}{
		{
			name:    "global_proto0",
			in:      cat(glob("os", "system"), mark, str0("true"), tuple, reduce, stop),
			imports: []string{"os.system GLOBAL"},
			calls:   []callSum{osSystem},
		},
		{
			name:    "stack_global_from_memo",
			in:      cat(proto(4), sbu("os"), memoize, sbu("system"), memoize, pop, pop, binget(0), binget(1), stackGlob, sbu("id"), tuple1, reduce, stop),
			imports: []string{"os.system STACK_GLOBAL"},
			calls:   []callSum{osSystem},
		},
		{
			name:    "stack_global_from_proto0_strings",
			in:      cat(proto(4), str0("os"), str0("system"), stackGlob, str0("id"), tuple1, reduce, stop),
			imports: []string{"os.system STACK_GLOBAL"},
			calls:   []callSum{osSystem},
		},
		{
			name:    "stack_global_of_unknown_module",
			in:      cat(proto(4), call(glob("builtins", "str")), sbu("system"), stackGlob, emptyTup, reduce, stop),
			imports: []string{"builtins.str GLOBAL", "?.system STACK_GLOBAL"},
			calls: []callSum{
				{Callee: "builtins.str", Op: "REDUCE"},
				{Callee: "", Via: "an import the stream does not name", Op: "REDUCE"},
			},
		},
		{
			name:      "missing_memo_keeps_earlier_calls",
			in:        cat(proto(2), call(glob("os", "system"), sbu("a")), pop, binget(7), stop),
			imports:   []string{"os.system GLOBAL"},
			calls:     []callSum{{Callee: "os.system", Op: "REDUCE", Popped: true}},
			brk:       "memo value not found at index 7",
			anomalies: []string{"missing-memo"},
		},
		{
			name:    "dotted_name",
			in:      cat(proto(4), sglobal("pathlib", "os.system"), sbu("id"), tuple1, reduce, stop),
			imports: []string{"pathlib.os.system STACK_GLOBAL"},
			calls:   []callSum{{Callee: "pathlib.os.system", Via: "(dotted name)", Op: "REDUCE"}},
		},
		{
			name:    "import_vars_dict_get",
			in:      cat(proto(4), call(dictGet, sbu("id")), stop),
			imports: []string{"builtins.dict.get STACK_GLOBAL", "builtins.vars STACK_GLOBAL", "builtins.__import__ STACK_GLOBAL"},
			calls: []callSum{
				{Callee: "builtins.__import__", Op: "REDUCE"},
				{Callee: "builtins.vars", Op: "REDUCE"},
				{Callee: "builtins.dict.get", Via: "(dotted name)", Op: "REDUCE"},
				{Callee: "os.system", Via: "dict.get(vars(__import__('os')),'system')", Op: "REDUCE"},
			},
		},
		{
			name:    "getattr_import_module",
			in:      cat(proto(4), call(getattrImport, sbu("id")), stop),
			imports: []string{"builtins.getattr STACK_GLOBAL", "importlib.import_module STACK_GLOBAL"},
			calls: []callSum{
				{Callee: "importlib.import_module", Op: "REDUCE"},
				{Callee: "builtins.getattr", Op: "REDUCE"},
				{Callee: "os.system", Via: "getattr(importlib.import_module('os'),'system')", Op: "REDUCE"},
			},
		},
		{
			name:    "dunder_import_of_dotted_module_returns_top_package",
			in:      cat(proto(4), call(call(sglobal("builtins", "getattr"), call(sglobal("builtins", "__import__"), sbu("os.path")), sbu("system")), sbu("id")), stop),
			imports: []string{"builtins.getattr STACK_GLOBAL", "builtins.__import__ STACK_GLOBAL"},
			calls: []callSum{
				{Callee: "builtins.__import__", Op: "REDUCE"},
				{Callee: "builtins.getattr", Op: "REDUCE"},
				{Callee: "os.system", Via: "getattr(__import__('os'),'system')", Op: "REDUCE"},
			},
		},
		{
			name:    "pkgutil_resolve_name",
			in:      cat(call(call(glob("pkgutil", "resolve_name"), str0("os:system")), str0("id")), stop),
			imports: []string{"pkgutil.resolve_name GLOBAL"},
			calls: []callSum{
				{Callee: "pkgutil.resolve_name", Op: "REDUCE"},
				{Callee: "os.system", Via: "pkgutil.resolve_name('os:system')", Op: "REDUCE"},
			},
		},
		{
			name:    "pydoc_locate",
			in:      cat(call(call(glob("pydoc", "locate"), str0("os.system")), str0("id")), stop),
			imports: []string{"pydoc.locate GLOBAL"},
			calls: []callSum{
				{Callee: "pydoc.locate", Op: "REDUCE"},
				{Callee: "os.system", Via: "pydoc.locate('os.system')", Op: "REDUCE"},
			},
		},
		{
			name:    "sys_modules_get",
			in:      cat(proto(4), call(sysModules, sbu("id")), stop),
			imports: []string{"builtins.getattr STACK_GLOBAL", "builtins.dict.get STACK_GLOBAL", "sys.modules STACK_GLOBAL"},
			calls: []callSum{
				{Callee: "builtins.dict.get", Via: "(dotted name)", Op: "REDUCE"},
				{Callee: "builtins.getattr", Op: "REDUCE"},
				{Callee: "os.system", Via: "getattr(dict.get(sys.modules,'os'),'system')", Op: "REDUCE"},
			},
		},
		{
			name: "sys_modules_through_getattr",
			in: cat(proto(4), call(call(sglobal("builtins", "getattr"),
				call(call(sglobal("builtins", "getattr"), call(sglobal("builtins", "getattr"), call(sglobal("importlib", "import_module"), sbu("sys")), sbu("modules")), sbu("get")), sbu("os")),
				sbu("system")), sbu("id")), stop),
			imports: []string{"builtins.getattr STACK_GLOBAL", "builtins.getattr STACK_GLOBAL", "builtins.getattr STACK_GLOBAL", "importlib.import_module STACK_GLOBAL"},
			calls: []callSum{
				{Callee: "importlib.import_module", Op: "REDUCE"},
				{Callee: "builtins.getattr", Op: "REDUCE"},
				{Callee: "builtins.getattr", Op: "REDUCE"},
				{Callee: "sys.modules.get", Via: "getattr(getattr(importlib.import_module('sys'),'modules'),'get')", Op: "REDUCE"},
				{Callee: "builtins.getattr", Op: "REDUCE"},
				{Callee: "os.system", Via: "getattr(sys.modules.get('os'),'system')", Op: "REDUCE"},
			},
		},
		{
			name:    "object_getattribute",
			in:      cat(proto(4), call(call(sglobal("builtins", "object.__getattribute__"), call(sglobal("importlib", "import_module"), sbu("os")), sbu("system")), sbu("id")), stop),
			imports: []string{"builtins.object.__getattribute__ STACK_GLOBAL", "importlib.import_module STACK_GLOBAL"},
			calls: []callSum{
				{Callee: "importlib.import_module", Op: "REDUCE"},
				{Callee: "builtins.object.__getattribute__", Via: "(dotted name)", Op: "REDUCE"},
				{Callee: "os.system", Via: "object.__getattribute__(importlib.import_module('os'),'system')", Op: "REDUCE"},
			},
		},
		{
			name:    "call_of_a_constructed_instance",
			in:      cat(proto(2), glob("mod", "Cls"), emptyTup, newObj, emptyTup, reduce, stop),
			imports: []string{"mod.Cls GLOBAL"},
			calls: []callSum{
				{Callee: "mod.Cls", Op: "NEWOBJ", Construct: true},
				{Callee: "mod.Cls.__call__", Via: "an instance of mod.Cls", Op: "REDUCE"},
			},
		},
		{
			name:    "caller_globals",
			in:      cat(proto(4), call(globalsLookup, sbu("id")), stop),
			imports: []string{"builtins.getattr STACK_GLOBAL", "builtins.dict.get STACK_GLOBAL", "builtins.globals STACK_GLOBAL"},
			calls: []callSum{
				{Callee: "builtins.globals", Op: "REDUCE"},
				{Callee: "builtins.dict.get", Via: "(dotted name)", Op: "REDUCE"},
				{Callee: "builtins.getattr", Op: "REDUCE"},
				{Callee: "os.system", Via: "getattr(dict.get(globals(),'os'),'system')", Op: "REDUCE"},
			},
		},
		{
			name:    "inst_result_popped",
			in:      cat(mark, str0("ls"), inst("os", "system"), pop, none, stop),
			imports: []string{"os.system INST"},
			calls:   []callSum{{Callee: "os.system", Op: "INST", Popped: true}},
		},
		{
			name:    "obj",
			in:      cat(mark, glob("os", "system"), str0("ls"), objOp, stop),
			imports: []string{"os.system GLOBAL"},
			calls:   []callSum{{Callee: "os.system", Op: "OBJ"}},
		},
		{
			name:    "newobj_popped",
			in:      cat(proto(2), glob("os", "system"), emptyTup, newObj, pop, none, stop),
			imports: []string{"os.system GLOBAL"},
			calls:   []callSum{{Callee: "os.system", Op: "NEWOBJ", Construct: true, Popped: true}},
		},
		{
			name:    "newobj_ex",
			in:      cat(proto(4), sglobal("collections", "OrderedDict"), emptyTup, emptyDict, newObjEx, stop),
			imports: []string{"collections.OrderedDict STACK_GLOBAL"},
			calls:   []callSum{{Callee: "collections.OrderedDict", Op: "NEWOBJ_EX", Construct: true}},
		},
		{
			name:      "ext_code_after_a_call",
			in:        cat(proto(2), call(glob("os", "system"), str0("x")), pop, "\x82\x01", emptyTup, reduce, stop),
			imports:   []string{"os.system GLOBAL", "copyreg.ext:1 EXT1"},
			calls:     []callSum{{Callee: "os.system", Op: "REDUCE", Popped: true}},
			brk:       "unregistered extension code 1",
			anomalies: []string{"ext-code"},
		},
		{
			name:      "ext4_code",
			in:        cat(proto(2), "\x84"+le32(70000), stop),
			imports:   []string{"copyreg.ext:70000 EXT4"},
			brk:       "unregistered extension code 70000",
			anomalies: []string{"ext-code"},
		},
		{
			name:    "build_sets_attributes_of_an_import",
			in:      cat(glob("os", "path"), emptyDict, str0("sep"), str0("/"), setItem, build, stop),
			imports: []string{"os.path GLOBAL"},
			calls:   []callSum{{Callee: "os.path", Op: "BUILD", SetAttr: true}},
		},
		{
			name:    "build_after_reduce",
			in:      cat(call(glob("collections", "OrderedDict")), emptyDict, build, stop),
			imports: []string{"collections.OrderedDict GLOBAL"},
			calls: []callSum{
				{Callee: "collections.OrderedDict", Op: "REDUCE"},
				{Callee: "collections.OrderedDict.__setstate__", Op: "BUILD"},
			},
		},
		{
			name:    "build_after_newobj",
			in:      cat(proto(2), glob("argparse", "Namespace"), emptyTup, newObj, emptyDict, build, stop),
			imports: []string{"argparse.Namespace GLOBAL"},
			calls: []callSum{
				{Callee: "argparse.Namespace", Op: "NEWOBJ", Construct: true},
				{Callee: "argparse.Namespace.__setstate__", Op: "BUILD", Construct: true},
			},
		},
		{
			name: "build_on_literal_runs_nothing",
			in:   cat(emptyList, emptyDict, build, stop),
		},
		{
			name:    "setitem_into_sys_modules",
			in:      cat(glob("sys", "modules"), str0("x"), str0("y"), setItem, stop),
			imports: []string{"sys.modules GLOBAL"},
			calls:   []callSum{{Callee: "sys.modules.__setitem__", Op: "SETITEM", SetAttr: true}},
		},
		{
			name:    "appends_into_sys_path",
			in:      cat(glob("sys", "path"), mark, str0("/tmp"), appends, stop),
			imports: []string{"sys.path GLOBAL"},
			calls:   []callSum{{Callee: "sys.path.extend", Op: "APPENDS", SetAttr: true}},
		},
		{
			name:    "item_into_module_namespace",
			in:      cat(call(glob("builtins", "vars"), call(glob("importlib", "import_module"), str0("os"))), str0("x"), none, setItem, stop),
			imports: []string{"builtins.vars GLOBAL", "importlib.import_module GLOBAL"},
			calls: []callSum{
				{Callee: "importlib.import_module", Op: "REDUCE"},
				{Callee: "builtins.vars", Op: "REDUCE"},
				{Callee: "os.__dict__.__setitem__", Via: "vars(importlib.import_module('os'))", Op: "SETITEM", SetAttr: true},
			},
		},
		{
			name:    "functools_partial",
			in:      cat(call(call(glob("functools", "partial"), glob("os", "system"), str0("ls"))), stop),
			imports: []string{"functools.partial GLOBAL", "os.system GLOBAL"},
			calls: []callSum{
				{Callee: "functools.partial", Op: "REDUCE"},
				{Callee: "os.system", Via: "functools.partial(os.system)", Op: "REDUCE"},
			},
		},
		{
			name: "partial_setstate_swaps_the_function",
			in: cat(proto(2), call(glob("functools", "partial"), glob("builtins", "print")),
				mark, glob("os", "system"), mark, str0("ls"), tuple, none, none, tuple, build,
				emptyTup, reduce, stop),
			imports: []string{"functools.partial GLOBAL", "builtins.print GLOBAL", "os.system GLOBAL"},
			calls: []callSum{
				{Callee: "functools.partial", Op: "REDUCE"},
				{Callee: "functools.partial.__setstate__", Op: "BUILD"},
				{Callee: "os.system", Via: "functools.partial(os.system)", Op: "REDUCE"},
			},
		},
		{
			name:    "operator_methodcaller",
			in:      cat(call(call(glob("operator", "methodcaller"), str0("system"), str0("ls")), call(glob("importlib", "import_module"), str0("os"))), stop),
			imports: []string{"operator.methodcaller GLOBAL", "importlib.import_module GLOBAL"},
			calls: []callSum{
				{Callee: "operator.methodcaller", Op: "REDUCE"},
				{Callee: "importlib.import_module", Op: "REDUCE"},
				{Callee: "os.system", Via: "operator.methodcaller('system')(importlib.import_module('os'))", Op: "REDUCE"},
			},
		},
		{
			name:    "operator_attrgetter_dotted",
			in:      cat(call(call(call(glob("operator", "attrgetter"), str0("path.join")), call(glob("importlib", "import_module"), str0("os"))), str0("a")), stop),
			imports: []string{"operator.attrgetter GLOBAL", "importlib.import_module GLOBAL"},
			calls: []callSum{
				{Callee: "operator.attrgetter", Op: "REDUCE"},
				{Callee: "importlib.import_module", Op: "REDUCE"},
				{Callee: "operator.attrgetter.__call__", Via: "operator.attrgetter('path.join')", Op: "REDUCE"},
				{Callee: "os.path.join", Via: "operator.attrgetter('path.join')(importlib.import_module('os'))", Op: "REDUCE"},
			},
		},
		{
			name:    "copyreg_reconstructor",
			in:      cat(proto(2), glob("copy_reg", "_reconstructor"), glob("argparse", "Namespace"), glob("__builtin__", "object"), none, tuple3, reduce, stop),
			imports: []string{"copyreg._reconstructor GLOBAL", "argparse.Namespace GLOBAL", "builtins.object GLOBAL"},
			calls:   []callSum{{Callee: "argparse.Namespace", Via: "copyreg._reconstructor", Op: "REDUCE", Construct: true}},
		},
		{
			name:    "copyreg_reconstructor_with_base",
			in:      cat(proto(2), glob("copyreg", "_reconstructor"), glob("mod", "Cls"), glob("builtins", "dict"), none, tuple3, reduce, stop),
			imports: []string{"copyreg._reconstructor GLOBAL", "mod.Cls GLOBAL", "builtins.dict GLOBAL"},
			calls: []callSum{
				{Callee: "mod.Cls", Via: "copyreg._reconstructor", Op: "REDUCE", Construct: true},
				{Callee: "builtins.dict", Via: "_reconstructor base", Op: "REDUCE"},
			},
		},
		{
			name:    "copyreg_newobj",
			in:      cat(proto(2), call(glob("copyreg", "__newobj__"), glob("mod", "Cls"), binint1(3)), stop),
			imports: []string{"copyreg.__newobj__ GLOBAL", "mod.Cls GLOBAL"},
			calls:   []callSum{{Callee: "mod.Cls", Via: "copyreg.__newobj__", Op: "REDUCE", Construct: true}},
		},
		{
			name:    "python2_builtin_eval",
			in:      cat(glob("__builtin__", "eval"), mark, str0("1+1"), tuple, reduce, stop),
			imports: []string{"builtins.eval GLOBAL"},
			calls:   []callSum{{Callee: "builtins.eval", Via: "eval('1+1')", Op: "REDUCE"}},
		},
		{
			name:    "python2_names_kept_from_protocol_3",
			in:      cat(proto(3), glob("__builtin__", "eval"), mark, str0("1+1"), tuple, reduce, stop),
			imports: []string{"__builtin__.eval GLOBAL"},
			calls:   []callSum{{Callee: "__builtin__.eval", Op: "REDUCE"}},
		},
		{
			name:    "python2_commands_is_subprocess",
			in:      cat(proto(2), call(glob("commands", "getoutput"), str0("id")), stop),
			imports: []string{"subprocess.getoutput GLOBAL"},
			calls:   []callSum{{Callee: "subprocess.getoutput", Op: "REDUCE"}},
		},
		{
			name:    "pop_mark_discards_results",
			in:      cat(mark, call(glob("os", "system"), str0("x")), popMark, none, stop),
			imports: []string{"os.system GLOBAL"},
			calls:   []callSum{{Callee: "os.system", Op: "REDUCE", Popped: true}},
		},
		{
			name:    "call_of_a_call_result",
			in:      cat(call(call(glob("mod", "factory"))), stop),
			imports: []string{"mod.factory GLOBAL"},
			calls: []callSum{
				{Callee: "mod.factory", Op: "REDUCE"},
				{Callee: "", Via: "the result of mod.factory()", Op: "REDUCE"},
			},
		},
		{
			name: "reduce_of_none",
			in:   cat(none, emptyTup, reduce, stop),
			brk:  "'NoneType' object is not callable",
		},
		{
			name:    "reduce_with_list_arguments",
			in:      cat(glob("os", "system"), emptyList, reduce, stop),
			imports: []string{"os.system GLOBAL"},
			brk:     "argument list must be a tuple",
		},
		{
			name: "stack_global_of_bytes",
			in:   cat(proto(4), sbb("os"), sbu("system"), stackGlob, stop),
			brk:  "STACK_GLOBAL requires str",
		},
		{
			name: "unsupported_protocol",
			in:   cat(proto(6), none, stop),
			brk:  "unsupported pickle protocol: 6",
		},
		{
			name:    "payload_then_unknown_opcode",
			in:      cat(call(glob("os", "system"), str0("x")), "\xff"),
			imports: []string{"os.system GLOBAL"},
			calls:   []callSum{osSystem},
			brk:     "invalid load key",
		},
		{
			name: "stack_underflow",
			in:   cat(none, tuple2, stop),
			brk:  "stack underflow",
		},
		{
			name: "pop_below_mark",
			in:   cat(none, mark, tuple1, stop),
			brk:  "stack underflow",
		},
		{
			name: "odd_dict",
			in:   cat(mark, none, dictOp, stop),
			brk:  "odd number of items for DICT",
		},
		{
			name: "no_mark",
			in:   cat(none, tuple, stop),
			brk:  "could not find MARK",
		},
		{
			name: "append_to_tuple",
			in:   cat(emptyTup, none, appendOp, stop),
			brk:  "cannot APPEND into 'tuple'",
		},
		{
			name: "unquoted_string",
			in:   cat("Sabc\n", stop),
			brk:  "must be quoted",
		},
		{
			name: "persid_must_be_ascii",
			in:   cat("P\xff\n", stop),
			brk:  "ASCII",
		},
		{
			name: "stop_on_empty_stack",
			in:   cat(stop),
			brk:  "stack underflow",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := scan(t, tt.in, Options{})
			if diff := cmp.Diff(tt.imports, imports(res)); diff != "" {
				t.Errorf("imports (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.calls, calls(res)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if got := breakReason(res); (tt.brk == "") != (got == "") || !strings.Contains(got, tt.brk) {
				t.Errorf("break = %q, want one containing %q", got, tt.brk)
			}
			if diff := cmp.Diff(tt.anomalies, anomalies(res)); diff != "" {
				t.Errorf("anomalies (-want +got):\n%s", diff)
			}
			if res.Limit != "" {
				t.Errorf("limit %q hit", res.Limit)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	in := cat(proto(4), call(call(sglobal("builtins", "dict.get"), call(sglobal("builtins", "vars"), call(sglobal("builtins", "__import__"), sbu("os"))), sbu("system")), sbu("id")), stop)
	res := scan(t, in, Options{})
	last := res.Calls[len(res.Calls)-1]
	want := []string{"builtins.dict.get", "builtins.vars", "builtins.__import__"}
	if diff := cmp.Diff(want, last.Origin); diff != "" {
		t.Errorf("origin (-want +got):\n%s", diff)
	}
	for _, i := range res.Imports {
		if !i.Called {
			t.Errorf("import %s not marked called", i)
		}
	}
}

func TestEvidence(t *testing.T) {
	res := scan(t, cat(proto(4), sglobal("os", "system"), sbu("true"), tuple1, reduce, pop, none, stop), Options{})
	if got, want := res.Imports[0].String(), "os.system via STACK_GLOBAL at 0xe"; got != want {
		t.Errorf("import evidence = %q, want %q", got, want)
	}
	if got, want := res.Calls[0].String(), "os.system('true',) called by REDUCE at 0x16 (result discarded)"; got != want {
		t.Errorf("call evidence = %q, want %q", got, want)
	}
	res = scan(t, cat(glob("__builtin__", "eval"), mark, str0("1"), tuple, reduce, stop), Options{})
	if got, want := res.Imports[0].String(), "builtins.eval via GLOBAL at 0x0 (written __builtin__.eval)"; got != want {
		t.Errorf("import evidence = %q, want %q", got, want)
	}
}

func TestArgsBounded(t *testing.T) {
	// A tuple nested 100000 deep, each level sharing the one below twice:
	// rendering it for evidence must stay small.
	var b strings.Builder
	b.WriteString(glob("os", "system") + none)
	for range 100000 {
		b.WriteString(dup + tuple2)
	}
	b.WriteString(tuple1 + reduce + stop)
	res := scan(t, []byte(b.String()), Options{})
	if len(res.Calls) != 1 {
		t.Fatalf("got %d calls, want 1", len(res.Calls))
	}
	if n := len(res.Calls[0].Args); n > maxArgs+len("…") {
		t.Errorf("Args is %d bytes, want at most %d", n, maxArgs)
	}
	if !strings.HasPrefix(res.Calls[0].Args, "((((") {
		t.Errorf("Args = %q", res.Calls[0].Args)
	}
}
