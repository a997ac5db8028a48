package jinja

import "strings"

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// escalationGlobals are the globals Jinja, Flask and chat-template loaders
// put in every template's context, and the names Jinja binds in loops,
// macros and call blocks: their functions' __globals__ and their objects'
// private fields are the usual first step from a template to Python.
// Their ordinary attributes (loop.index, ns.value) are fine.
var escalationGlobals = set(
	"cycler", "joiner", "namespace", "lipsum", "range", "dict", "self",
	"config", "request", "session", "g", "url_for", "get_flashed_messages",
	"loop", "caller", "varargs", "kwargs",
	"raise_exception", "strftime_now", // transformers' chat-template globals
)

// keepsRoot are the globals whose call results are objects of Jinja's own
// classes (their methods lead to jinja2.utils' globals).
var keepsRoot = set("cycler", "joiner", "namespace")

// internalAttrs are attributes without underscores that still reach the
// interpreter: frames, code objects, generator and coroutine state, Python
// 2 function internals, and the method resolution order. A generator from
// |map or |select is one attribute away from a frame and its builtins.
var internalAttrs = set(
	"gi_frame", "gi_code", "gi_yieldfrom", "gi_running",
	"cr_frame", "cr_code", "cr_await", "cr_origin",
	"ag_frame", "ag_code", "ag_await",
	"f_globals", "f_locals", "f_builtins", "f_back", "f_code", "f_trace",
	"tb_frame", "tb_next",
	"co_code", "co_consts", "co_names",
	"func_globals", "func_code", "func_closure", "func_defaults",
	"im_func", "im_self", "im_class",
	"cell_contents", "mro",
)

// dangerousAttrs are modules and callables that execute, import or
// evaluate: reported wherever they are reached by name.
var dangerousAttrs = set(
	"os", "subprocess", "builtins", "importlib", "posix", "nt", "pty", "ctypes",
	"eval", "exec", "execfile", "popen", "popen2", "popen3",
	"spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe",
	"execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe",
	"import_module", "load_module", "load_source", "from_string",
	"getoutput", "getstatusoutput", "check_output", "check_call", "Popen",
	"globals", "locals", "getattr", "setattr", "delattr", "__import__",
)

// dangerousWhenCalled are names too common to report on sight that run
// commands, touch files or evaluate when called.
var dangerousWhenCalled = set(
	"system", "open", "compile", "remove", "unlink", "rmdir", "rmtree",
	"listdir", "kill", "fork", "getenv", "putenv", "vars", "reload",
)

// dangerousWhenTainted are names that matter only on a value already
// reached through internals: reading a command's output, a module's
// dictionary, a file.
var dangerousWhenTainted = set(
	"read", "readlines", "write", "communicate", "sys", "socket", "shutil",
	"modules", "environ", "run", "call", "load", "loads", "get_data",
)

// freeDangerous are bare names that no chat-template loader defines; a
// template that names them expects a context that exposes Python.
var freeDangerous = set(
	"os", "subprocess", "builtins", "__builtins__", "importlib", "posix", "pty",
	"ctypes", "eval", "exec", "execfile", "getattr", "setattr", "delattr",
	"__import__", "import_module", "globals", "locals", "from_string", "popen",
)

// freeDangerousWhenCalled are bare names reported when called.
var freeDangerousWhenCalled = set("open", "compile", "vars", "system", "breakpoint", "input")

// isDunder is a Python special name: __x__.
func isDunder(s string) bool {
	if len(s) < 5 || !strings.HasPrefix(s, "__") || !strings.HasSuffix(s, "__") {
		return false
	}
	for _, r := range s[2 : len(s)-2] {
		if r != '_' && !isWord(r) {
			return false
		}
	}
	return strings.Trim(s, "_") != ""
}

// isPrivate is an underscore name that is not a dunder.
func isPrivate(s string) bool { return strings.HasPrefix(s, "_") && !isDunder(s) }

// isMangled is a name-mangled private attribute: _Class__attr.
func isMangled(s string) bool {
	if len(s) < 4 || s[0] != '_' || s[1] == '_' {
		return false
	}
	i := strings.Index(s[1:], "__")
	return i > 0 && 1+i+2 < len(s)
}

// sensitivePrefix reports whether a name known only to start with p may
// be one this package reports: a dunder or private name, or one of the
// lists above. '<|' ~ role may not; '__' ~ name and 'gi_fr' ~ x may.
func sensitivePrefix(p string) bool {
	p = strings.TrimLeftFunc(p, isSpace)
	if p == "" || p[0] == '_' {
		return true
	}
	for _, m := range []map[string]bool{internalAttrs, dangerousAttrs, dangerousWhenCalled, dangerousWhenTainted} {
		for n := range m {
			if strings.HasPrefix(n, p) {
				return true
			}
		}
	}
	return false
}
