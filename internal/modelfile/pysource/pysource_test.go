package pysource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func scan(t testing.TB, src string) *Result {
	t.Helper()
	r, err := Scan(context.Background(), []byte(src), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// uses renders the calls as "resolved@line" (with "()" when called and
// "/via" for evasions), for compact comparison.
func uses(r *Result) []string {
	var out []string
	for _, c := range r.Calls {
		s := c.Resolved
		if c.Called {
			s += "()"
		}
		if c.Via != "" {
			s += "/" + c.Via
		}
		out = append(out, fmt.Sprintf("%s@%d", s, c.Line))
	}
	return out
}

func TestImports(t *testing.T) {
	tests := []struct {
		name, src string
		want      []Import
	}{
		{"plain", "import os\n", []Import{{Module: "os", Line: 1}}},
		{"dotted_alias_list", "import os.path as p, sys\n", []Import{{Module: "os.path", As: "p", Line: 1}, {Module: "sys", Line: 1}}},
		{"from", "from subprocess import run as r, Popen\n", []Import{{Module: "subprocess", Name: "run", As: "r", Line: 1}, {Module: "subprocess", Name: "Popen", Line: 1}}},
		{"from_paren_multiline", "from os import (\n  system,\n  popen,\n)\n", []Import{{Module: "os", Name: "system", Line: 1}, {Module: "os", Name: "popen", Line: 1}}},
		{"relative", "from . import helper\nfrom ..pkg.mod import x\n", []Import{{Module: ".", Name: "helper", Line: 1}, {Module: "..pkg.mod", Name: "x", Line: 2}}},
		{"star", "from os import *\n", []Import{{Module: "os", Name: "*", Line: 1}}},
		{"after_colon_and_semicolon", "if True: import a; import b\n", []Import{{Module: "a", Line: 1}, {Module: "b", Line: 1}}},
		{"indented_in_function", "def f():\n    import socket\n", []Import{{Module: "socket", Line: 2}}},
		{"yield_from_is_not_import", "def g():\n    yield from x\n", nil},
		{"raise_from_is_not_import", "raise E from err\n", nil},
		{"in_string_is_not_import", "s = '''\nimport os\n'''\n", nil},
		{"in_comment_is_not_import", "# import os\n", nil},
		{"continuation", "import \\\n  os\n", []Import{{Module: "os", Line: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scan(t, tc.src)
			if diff := cmp.Diff(tc.want, r.Imports); diff != "" {
				t.Errorf("imports (-want +got):\n%s", diff)
			}
			if r.Syntax != nil {
				t.Errorf("unexpected syntax error: %v", r.Syntax)
			}
		})
	}
}

func TestCalls(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"alias", "import subprocess as sp\nsp.run(['ls'])\n", []string{"subprocess.run()@2"}},
		{"from_alias", "from os import system as s\ns('id')\n", []string{"os.system()@2"}},
		{"reference_without_call", "import os\nf = os.system\n", []string{"os.system@2"}},
		{"from_reference", "from os import system\nhandler = system\n", []string{"os.system@2"}},
		{"local_variables_not_kept", "x = y.z\n", nil},
		{"builtins", "eval(x)\nexec('1')\n", []string{"eval()@1", "exec()@2"}},
		{"nested_calls", "exec(base64.b64decode(s))\n", []string{"exec()@1", "base64.b64decode()@1"}},
		{"method_of_expression_skipped", "a().system('x')\nb[0].popen('y')\n", []string{"a()@1"}},
		{"def_is_not_call", "def system(x):\n    pass\nclass popen(object): pass\n", nil},
		{"keywords_not_calls", "if (x): pass\nreturn (y)\n", nil},
		{"getattr", "import os\ngetattr(os, 'system')('id')\n", []string{"getattr()@2", "os.system()/getattr@2"}},
		{"getattr_builtins", "getattr(__builtins__, 'ex' 'ec')\n", []string{"getattr()@1", "__builtins__.exec/getattr@1"}},
		{"dunder_import", "__import__('os').system('id')\n", []string{"__import__()@1", "os.system()/__import__@1"}},
		{"import_module", "import importlib\nimportlib.import_module('pty').spawn('sh')\n", []string{"importlib.import_module()@2", "pty.spawn()/__import__@2"}},
		{"continuation_inside_name", "import os\nos.\\\nsystem('x')\n", []string{"os.system()@2"}},
		{"implicit_join", "import os\nos.system(\n  'a'\n  'b'\n)\nprint(1)\n", []string{"os.system()@2", "print()@6"}},
		{"in_string_not_a_call", "s = 'os.system(1)'\nt = \"\"\"eval(x)\n\"\"\"\n", nil},
		{"in_comment_not_a_call", "# os.system('x')\n", nil},
		{"decorator", "@functools.wraps(f)\ndef g(): pass\n", []string{"functools.wraps()@1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scan(t, tc.src)
			if diff := cmp.Diff(tc.want, uses(r)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if r.Syntax != nil {
				t.Errorf("unexpected syntax error: %v", r.Syntax)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	r := scan(t, `open("/etc/" 'passwd', mode="w", *rest, **kw)`+"\nexec(f'{x}')\nrun(['a', \"b\"], shell=True)\n")
	type arg struct {
		Keyword string
		Literal bool
		Value   string
		Strings []string
	}
	var got [][]arg
	for _, c := range r.Calls {
		var as []arg
		for _, a := range c.Args {
			as = append(as, arg{a.Keyword, a.Literal, a.Value, a.Strings})
		}
		got = append(got, as)
	}
	want := [][]arg{
		{{"", true, "/etc/passwd", []string{"/etc/", "passwd"}}, {"mode", true, "w", []string{"w"}}, {"*", false, "", nil}, {"**", false, "", nil}},
		{{"", false, "", nil}},
		{{"", false, "", []string{"a", "b"}}, {"shell", false, "", nil}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	src := []byte("f(  a + b  ,c)")
	r, _ = Scan(context.Background(), src, DefaultLimits)
	if got := r.Calls[0].Args[0].Text(src, 100); got != "a + b" {
		t.Errorf("Text = %q, want %q", got, "a + b")
	}
	if got := r.Calls[0].Args[0].Text(src, 2); got != "a …" {
		t.Errorf("cut Text = %q", got)
	}
}

func TestStringValues(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"escapes", `x("a\tb\x41\u00e9\101\\\"")`, "a\tbAé" + "A\\\""},
		{"raw_keeps_backslash", `x(r"a\nb\"c")`, `a\nb\"c`},
		{"bytes", `x(b'\x00z')`, "\x00z"},
		{"triple_with_quotes", `x('''it's "q"''')`, `it's "q"`},
		{"triple_multiline", "x(\"\"\"a\nb\"\"\")", "a\nb"},
		{"named_escape", `x("\N{BULLET}!")`, "?!"},
		{"continuation_in_string", "x('a\\\nb')", "ab"},
		{"unicode_prefix", `x(U"v")`, "v"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scan(t, tc.src)
			if len(r.Calls) != 1 || len(r.Calls[0].Args) != 1 || !r.Calls[0].Args[0].Literal {
				t.Fatalf("calls = %+v, want one call with one literal argument", r.Calls)
			}
			if got := r.Calls[0].Args[0].Value; got != tc.want {
				t.Errorf("value = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFStrings checks that replacement fields are tokenized as code: a
// call hidden in an f-string is a call.
func TestFStrings(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"call_in_field", "import os\nx = f\"{os.popen('id').read()}\"\n", []string{"os.popen()@2"}},
		{"same_quotes_nested", "import os\nx = f\"{os.system(\"id\")}\"\n", []string{"os.system()@2"}},
		{"format_spec_with_field", "x = f'{a:>{width()}}'\n", []string{"width()@1"}},
		{"conversion", "x = f'{eval(s)!r:>10}'\n", []string{"eval()@1"}},
		{"doubled_braces_literal", "x = f'{{eval(s)}}'\n", nil},
		{"not_equal_in_field", "x = f'{a != b}' ; y(1)\n", []string{"y()@1"}},
		{"nested_fstring", "x = f'{f\"{g()}\"}'\n", []string{"g()@1"}},
		{"triple_multiline_field", "x = f'''\n{\n h()\n}\n'''\n", []string{"h()@3"}},
		{"raw_fstring", "x = rf'\\d{k()}'\n", []string{"k()@1"}},
		{"dict_in_field", "x = f\"{ {'a': c()}['a'] }\"\n", []string{"c()@1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scan(t, tc.src)
			if diff := cmp.Diff(tc.want, uses(r)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if r.Syntax != nil {
				t.Errorf("unexpected syntax error: %v", r.Syntax)
			}
		})
	}
	r := scan(t, "exec(f'{code}')\n")
	if r.Calls[0].Args[0].Literal {
		t.Error("an f-string argument counted as a literal")
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		want      []string // what is still found around the break
	}{
		{"unterminated_single", "a()\nx = 'abc\nimport os\nos.system(1)\n", 2, []string{"a()@1", "os.system()@4"}},
		{"unterminated_triple", "a()\nx = '''abc\nos.system(1)\n", 2, []string{"a()@1"}},
		{"unmatched_close", "a())\nb()\n", 1, []string{"a()@1", "b()@2"}},
		{"unclosed_open", "a(\nb()\n", 1, []string{"a()@1", "b()@2"}},
		{"stray_backslash", "a() \\ b()\n", 1, []string{"a()@1", "b()@1"}},
		{"bad_character", "a() $ b()\n", 1, []string{"a()@1", "b()@1"}},
		{"lone_brace_in_fstring", "x = f'}'\nb()\n", 1, []string{"b()@2"}},
		{"unterminated_field", "x = f'{a'\nb()\n", 1, []string{"b()@2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scan(t, tc.src)
			if r.Syntax == nil {
				t.Fatal("no syntax error reported")
			}
			if r.Syntax.Line != tc.line {
				t.Errorf("error at line %d, want %d: %v", r.Syntax.Line, tc.line, r.Syntax)
			}
			if diff := cmp.Diff(tc.want, uses(r)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		src  string
		lim  Limits
		want string
	}{
		{"bytes", strings.Repeat("x = 1\n", 100), Limits{Bytes: 50}, "bytes"},
		{"tokens", strings.Repeat("f(a, b)\n", 100), Limits{Tokens: 64}, "tokens"},
		{"brackets", strings.Repeat("(", 300) + strings.Repeat(")", 300), Limits{}, "brackets nested"},
		{"fstrings", strings.Repeat("f'{", 300) + strings.Repeat("}'", 300), Limits{Depth: 50}, "f-strings nested"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Scan(context.Background(), []byte(tc.src), tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Limit, tc.want) {
				t.Errorf("Limit = %q, want it to mention %q", r.Limit, tc.want)
			}
		})
	}
	r := scan(t, strings.Repeat("(", 150)+strings.Repeat(")", 150))
	if r.Limit != "" || r.Syntax != nil {
		t.Errorf("nesting within the limit reported: %q %v", r.Limit, r.Syntax)
	}
}

func TestContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Scan(ctx, []byte(strings.Repeat("f(a)\n", 1<<15)), DefaultLimits)
	if err == nil {
		t.Error("cancelled scan returned no error")
	}
}

func TestFixtures(t *testing.T) {
	// A realistic modeling file: no syntax errors, and its imports found.
	files, _ := filepath.Glob("testdata/*.py")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := scan(t, string(b))
		if r.Syntax != nil || r.Limit != "" {
			t.Errorf("%s: %v %q", f, r.Syntax, r.Limit)
		}
		if len(r.Imports) == 0 || len(r.Calls) == 0 {
			t.Errorf("%s: %d imports, %d calls", f, len(r.Imports), len(r.Calls))
		}
	}
}
