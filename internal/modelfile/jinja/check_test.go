package jinja

import (
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

// found is what a test compares of a Problem: its rule, where it points
// and what it quotes.
type found struct {
	Rule     string
	Line     int
	At       string // the source from Offset on, up to 12 bytes
	Evidence string
}

func summarize(src string, ps []Problem) []found {
	var out []found
	for _, p := range ps {
		at := src[p.Offset:min(len(src), p.Offset+12)]
		out = append(out, found{p.Rule, p.Line, at, p.Evidence})
	}
	return out
}

func TestProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []found
	}{
		{
			name: "attribute_chain",
			src:  "{{ x }}\n{{ ''.__class__.mro() }}",
			want: []found{
				{RuleDunder, 2, "__class__.mr", "''.__class__"},
				{RuleInternal, 2, "mro() }}", "''.__class__.mro"},
			},
		},
		{
			name: "crlf_lines",
			src:  "{% if x %}\r\n{{ y }}\r\n{% endif %}\r\n{{ y[\"__dict__\"] }}",
			want: []found{{RuleDunder, 4, `"__dict__"] `, `y["__dict__"]`}},
		},
		{
			name: "subscript_concat",
			src:  "{{ x['__glo' ~ 'bals__'] }}",
			want: []found{{RuleDunder, 1, "'__glo' ~ 'b", "x['__glo' ~ 'bals__']"}},
		},
		{
			name: "global_private",
			src:  "{{ loop._after }}",
			want: []found{{RuleGlobal, 1, "_after }}", "loop._after"}},
		},
		{
			name: "global_alias",
			src:  "{% set c = cycler %}{{ c.__init__ }}",
			want: []found{
				{RuleDunder, 1, "__init__ }}", "c.__init__"},
				{RuleGlobal, 1, "__init__ }}", "c.__init__"},
			},
		},
		{
			name: "getitem_method_argument",
			src:  "{{ x.__getitem__('__class__') }}",
			want: []found{
				{RuleDunder, 1, "__getitem__(", "x.__getitem__"},
				{RuleDunder, 1, "'__class__')", "x.__getitem__('__class__')"},
			},
		},
		{
			name: "dict_get_on_tainted",
			src:  "{{ x.__dict__.get('os') }}",
			want: []found{
				{RuleDunder, 1, "__dict__.get", "x.__dict__"},
				{RuleDangerous, 1, "'os') }}", "x.__dict__.get('os')"},
			},
		},
		{
			name: "plain_dict_key_os_is_data",
			src:  "{{ platform['os'] }}{{ roles['system'] }}{{ message.system }}",
		},
		{
			name: "method_system_when_called",
			src:  "{{ x.system('id') }}",
			want: []found{{RuleDangerous, 1, "system('id')", "x.system"}},
		},
		{
			name: "read_needs_taint",
			src:  "{{ x.read() }}{{ y.__self__.read() }}",
			want: []found{
				{RuleDunder, 1, "__self__.rea", "y.__self__"},
				{RuleDangerous, 1, "read() }}", "y.__self__.read"},
			},
		},
		{
			name: "format_filter_mapping",
			src:  "{{ x|attr('%(a)s%(a)sdict%(a)s%(a)s'|format(a='_')) }}",
			want: []found{{RuleDunder, 1, "'%(a)s%(a)sd", "x|attr('%(a)s%(a)sdict%(a)s%(a)s'|format(a='_'))"}},
		},
		{
			name: "percent_operator",
			src:  "{{ x[('%s' * 2 + 'code%s%s') % ('_', '_', '_', '_')] }}",
			want: []found{{RuleDunder, 1, "('%s' * 2 + ", "x[('%s' * 2 + 'code%s%s') % ('_', '_', '_', '_')]"}},
		},
		{
			name: "conditional_alternatives",
			src:  "{{ x|attr('upper' if y else '__class__') }}",
			want: []found{{RuleDunder, 1, "'upper' if y", "x|attr('upper' if y else '__class__')"}},
		},
		{
			name: "default_alternative",
			src:  "{{ x[k|default('__class__')] }}",
			want: []found{{RuleDunder, 1, "k|default('_", "x[k|default('__class__')]"}},
		},
		{
			name: "for_over_constants",
			src:  "{% for n in ['upper', '__mro__'] %}{{ x|attr(n) }}{% endfor %}",
			want: []found{{RuleDunder, 1, "n) }}{% endf", "x|attr(n)"}},
		},
		{
			name: "tuple_unpacking",
			src:  "{% for a, b in [('__cla', 'ss__')] %}{{ x[a ~ b] }}{% endfor %}",
			want: []found{{RuleDunder, 1, "a ~ b] }}{% ", "x[a ~ b]"}},
		},
		{
			name: "list_append_then_join",
			src:  "{% set l = [] %}{% do l.append('__in') %}{% do l.append('it__') %}{{ x|attr(l|join) }}",
			want: []found{{RuleDunder, 1, "l|join) }}", "x|attr(l|join)"}},
		},
		{
			name: "macro_output_as_name",
			src:  "{% macro n() %}__class__{% endmacro %}{{ x|attr(n()) }}",
			want: []found{{RuleDunder, 1, "n()) }}", "x|attr(n())"}},
		},
		{
			name: "filter_block",
			src:  "{% set k %}{% filter upper %}__class__{% endfilter %}{% endset %}{{ x|attr(k|lower) }}",
			want: []found{{RuleDunder, 1, "k|lower) }}", "x|attr(k|lower)"}},
		},
		{
			name: "later_assignment_seen",
			src:  "{% for i in range(2) %}{{ x|attr(ns.n) }}{% set ns.n = '__class__' %}{% endfor %}",
			// ns is not known (never made by namespace()), so the name may
			// also be anything.
			want: []found{
				{RuleDunder, 1, "ns.n) }}{% s", "x|attr(ns.n)"},
				{RuleDynamic, 1, "ns.n) }}{% s", "x|attr(ns.n)"},
			},
		},
		{
			name: "self_referential_widened",
			src:  "{% set ns = namespace(s='') %}{% for c in cs %}{% set ns.s = ns.s ~ c %}{% endfor %}{{ x[ns.s] }}",
			want: []found{{RuleDynamic, 1, "ns.s] }}", "x[ns.s]"}},
		},
		{
			name: "unknown_unicode_name",
			src:  `{{ x|attr('\N{FULLWIDTH LOW LINE}') }}{{ y['\N{FULLWIDTH LOW LINE}'] }}`,
			want: []found{
				{RuleDynamic, 1, `'\N{FULLWIDT`, `x|attr('\N{FULLWIDTH LOW LINE}')`},
				{RuleDynamic, 1, `'\N{FULLWIDT`, `y['\N{FULLWIDTH LOW LINE}']`},
			},
		},
		{
			name: "format_method_unknown_receiver",
			src:  "{{ message.content.format(x) }}",
			want: []found{{RuleDynamic, 1, "message.cont", "message.content.format(x)"}},
		},
		{
			name: "map_filter_name_computed",
			src:  "{{ xs|map(f) }}",
			want: []found{{RuleDynamic, 1, "f) }}", "xs|map(f)"}},
		},
		{
			name: "attr_filter_method_call",
			src:  "{{ x|attr('pop')('__class__') }}",
			want: []found{{RuleDunder, 1, "'__class__')", "x|attr('pop')('__class__')"}},
		},
		{
			name: "normalising_filters_pass_through",
			src:  "{{ roles[message.role|lower] }}{{ t[m.content.split(':')[0].strip()] }}{{ messages[loop.index0 + 1] }}",
		},
		{
			name: "string_built_subscript",
			src:  "{{ x['_' + message.role] }}{{ y[name ~ '__'] }}{{ z['gi_fr' ~ name] }}",
			want: []found{
				{RuleDynamic, 1, "'_' + messag", "x['_' + message.role]"},
				{RuleDynamic, 1, "name ~ '__']", "y[name ~ '__']"},
				{RuleDynamic, 1, "'gi_fr' ~ na", "z['gi_fr' ~ name]"},
			},
		},
		{
			// A key that starts with a known prefix no reported name
			// has cannot become one.
			name: "built_subscript_with_safe_prefix",
			src:  "{{ special['<|' ~ message.role ~ '|>'] }}{{ x['tool_' + name] }}",
		},
		{
			// A JSON pointer segment unescaped, as GigaChat's template does.
			name: "replace_without_underscore",
			src:  "{% for raw in ref[2:].split('/') %}{% set seg = raw|replace('~1', '/')|replace('~0', '~') %}{{ node[seg] }}{{ node[raw.replace('~1', '/')] }}{% endfor %}",
		},
		{
			name: "replace_adding_underscore",
			src:  "{{ node[name|replace('-', '_')] }}",
			want: []found{{RuleDynamic, 1, "name|replace", "node[name|replace('-', '_')]"}},
		},
		{
			name: "free_names",
			src:  "{{ eval('1') }}{{ compile }}{{ compile('1', 'f', 'eval') }}",
			want: []found{
				{RuleDangerous, 1, "eval('1') }}", "eval"},
				{RuleDangerous, 1, "compile('1',", "compile('1', 'f', 'eval')"},
			},
		},
		{
			name: "bound_names_are_not_free",
			src:  "{% set os = 'linux' %}{{ os }}{% macro m(open) %}{{ open }}{% endmacro %}",
		},
		{
			name: "imports",
			src:  "{% import 'macros.j2' as m %}{% from 'x' import y as z %}{% extends base %}",
			want: []found{
				{RuleExternal, 1, "import 'macr", "import 'macros.j2'"},
				{RuleExternal, 1, "from 'x' imp", "from 'x'"},
				{RuleExternal, 1, "extends base", "extends base"},
			},
		},
		{
			name: "comment_and_raw_are_inert",
			src:  "{# {{ x.__class__ }} #}{% raw %}{{ y.__globals__ }}{% endraw %}__class__",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(tc.src, Check(tc.src, DefaultLimits))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check(%q) (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		at        string // how the source goes on at the reported offset
		msg       string
	}{
		{"unclosed_output", "ab\n{{ x ", "", "expected end of print statement, got end of template"},
		{"unclosed_block", "{% if x %}a", "", "expected 'elif' or 'else' or 'endif'"},
		{"stray_end", "a{% endfor %}", "endfor %}", "unknown tag 'endfor'"},
		{"unknown_tag", "{% trans %}x{% endtrans %}", "trans %}", "unknown tag 'trans'"},
		{"bad_char", "{{ a ! b }}", "! b }}", "unexpected char '!'"},
		{"unbalanced", "{{ (a] }}", "] }}", "unexpected ']', expected ')'"},
		{"bad_escape", `{{ '\x5' }}`, `'\x5' }}`, `truncated \x escape`},
		{"unterminated_string", "{{ 'abc }}", "'abc }}", "unterminated string"},
		{"comment", "x{# y", "{# y", "missing end of comment tag"},
		{"raw", "{% raw %}x", "{% raw %}x", "missing end of raw directive"},
		{"assign_to_literal", "{% set 1 = 2 %}", "1 = 2 %}", "can't assign"},
		{"kwarg_then_arg", "{{ f(a=1, b) }}", "(a=1, b) }}", "invalid syntax for function call"},
		{"chained_tests", "{{ x is defined is none }}", "is none }}", "cannot chain multiple tests"},
		{"identifier", "{{ a² }}", "a² }}", "invalid character in identifier"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := Check(tc.src, DefaultLimits)
			var m *Problem
			for i := range ps {
				if ps[i].Rule == RuleMalformed {
					m = &ps[i]
				}
			}
			if m == nil {
				t.Fatalf("Check(%q): no %s problem: %+v", tc.src, RuleMalformed, ps)
			}
			if m.Severity != int(inventory.Medium) {
				t.Errorf("severity %d, want medium", m.Severity)
			}
			if got := tc.src[m.Offset:]; !strings.HasPrefix(got, tc.at) {
				t.Errorf("Check(%q): offset %d points at %q, want %q", tc.src, m.Offset, got, tc.at)
			}
			if !strings.Contains(m.Message, tc.msg) {
				t.Errorf("Check(%q): message %q lacks %q", tc.src, m.Message, tc.msg)
			}
		})
	}
}

// TestLimits checks that every kind of nesting stops at Depth (and the
// Go stack is never at risk), and that Nodes and Bytes are enforced.
func TestLimits(t *testing.T) {
	const n = 100_000
	for _, tc := range []struct {
		name string
		src  string
		lim  Limits
	}{
		{"parentheses", "{{ " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + " }}", Limits{}},
		{"lists", "{{ " + strings.Repeat("[", n) + strings.Repeat("]", n) + " }}", Limits{}},
		{"dicts", "{{ " + strings.Repeat("{'a':", n) + "1" + strings.Repeat("}", n) + " }}", Limits{}},
		{"not", "{{ " + strings.Repeat("not ", n) + "x }}", Limits{}},
		{"minus", "{{ " + strings.Repeat("-", n) + "x }}", Limits{}},
		{"conditional", "{{ " + strings.Repeat("a if b else ", n) + "c }}", Limits{}},
		{"attribute_chain", "{{ x" + strings.Repeat(".a", n) + " }}", Limits{}},
		{"filter_chain", "{{ x" + strings.Repeat("|f", n) + " }}", Limits{}},
		{"call_chain", "{{ x" + strings.Repeat("()", n) + " }}", Limits{}},
		{"sum_chain", "{{ x" + strings.Repeat(" + x", n) + " }}", Limits{}},
		{"concat_of_sums", "{{ " + strings.Repeat("(a ~ ", n) + "b" + strings.Repeat(")", n) + " }}", Limits{}},
		{"if_blocks", strings.Repeat("{% if x %}", n) + strings.Repeat("{% endif %}", n), Limits{}},
		{"for_blocks", strings.Repeat("{% for x in y %}", n) + strings.Repeat("{% endfor %}", n), Limits{}},
		{"nodes", strings.Repeat("{{ x }}", 2000), Limits{Nodes: 1000}},
		{"bytes", strings.Repeat("x", 2000), Limits{Bytes: 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := Check(tc.src, tc.lim)
			if len(ps) == 0 || ps[0].Rule != RuleScanLimit || ps[0].Severity != int(inventory.High) {
				t.Fatalf("want a high %s problem first, got %+v", RuleScanLimit, ps)
			}
		})
	}
	// Just under the limits passes.
	ok := "{{ " + strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100) + " }}"
	if ps := Check(ok, DefaultLimits); len(ps) != 0 {
		t.Errorf("100 parentheses: %+v", ps)
	}
}

func TestUnescape(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
		err      string
	}{
		{`plain`, "plain", true, ""},
		{`\x5f\x5F`, "__", true, ""},
		{`\u005f\U0000005f`, "__", true, ""},
		{`\137\1370`, "__0", true, ""},
		{`\N{LOW LINE}\N{low line}\N{LATIN SMALL LETTER C}\N{DIGIT TWO}`, "__c2", true, ""},
		{`\N{SNOWMAN}`, "", false, ""},
		{`a\qb`, `a\qb`, true, ""},
		{`\'\"\\\n\t`, "'\"\\\n\t", true, ""},
		{"a\\\nb", "ab", true, ""},
		{"a\r\nb\rc", "a\nb\nc", true, ""},
		{`\é`, `\xe9`, true, ""},
		{`\x5`, "", false, `truncated \x escape`},
		{`\U00110000`, "", false, "illegal Unicode character"},
		{`\N{`, "", false, `malformed \N character escape`},
		{`a\`, "", false, `\ at end of string`},
	} {
		got, ok, err := unescape(tc.in)
		if err != tc.err || (err == "" && (got != tc.want || ok != tc.ok)) {
			t.Errorf("unescape(%q) = %q, %v, %q; want %q, %v, %q", tc.in, got, ok, err, tc.want, tc.ok, tc.err)
		}
	}
}

// TestFolding checks the constant folding that sees through obfuscated
// names, on the value of {{ expr }}.
func TestFolding(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []cval
		open bool
	}{
		{`'a' ~ 1 ~ true ~ none`, []cval{"a1TrueNone"}, false},
		{`'a' + 'b' * 2`, []cval{"abb"}, false},
		{`'%s-%d-%c'|format('a', 3, 95)`, []cval{"a-3-_"}, false},
		{`'%s' % 'x'`, []cval{"x"}, false},
		{`'{}-{1}-{k}'.format('a', 'b', k='c')`, []cval{"a-b-c"}, false},
		{`'abc'[::-1] ~ 'abcdef'[1:5:2] ~ 'abc'[-1]`, []cval{"cbabdc"}, false},
		{`'a,b'.split(',')|join('+')`, []cval{"a+b"}, false},
		{`['x', 'y']|reverse|join`, []cval{"yx"}, false},
		{`dict(a=1)|list|first`, []cval{"a"}, false},
		{`{'k': 'v'}.get('k') ~ {'k': 'v'}['k'] ~ {'k': 'v'}.k`, []cval{"vvv"}, false},
		{`range(3)|join`, []cval{"012"}, false},
		{`'__x'.replace('_', '-', 1)|upper`, []cval{"-_X"}, false},
		{`'  a '|trim ~ ' b '.strip() ~ 'xcx'.strip('x')`, []cval{"abc"}, false},
		{`'a' if x else 'b'`, []cval{"a", "b"}, false},
		{`namespace(a='q').a`, []cval{"q"}, false},
		{`x|default('d')`, []cval{"d"}, true},
		{`x ~ 'a'`, nil, true},
		{`7 // 2 + 7 % 3 - 2 ** 3`, []cval{int64(-4)}, false},
		{`['a', 'b']|random`, []cval{"a", "b"}, false},
		{`'ab'|list|last`, []cval{"b"}, false},
		{`'x' * 100000`, nil, true},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			body, err := newParser("{{ "+tc.expr+" }}", DefaultLimits).parse()
			if err != nil {
				t.Fatal(err)
			}
			src := "{{ " + tc.expr + " }}"
			w := newWalker(src, newReporter(src))
			v := w.eval(body[0].(*outputStmt).x)
			if diff := cmp.Diff(tc.want, v.alts); diff != "" || v.open != tc.open {
				t.Errorf("alts (-want +got):\n%s\nopen %v, want %v", diff, v.open, tc.open)
			}
		})
	}
}

// TestDeterministic: the same template gives the same problems.
func TestDeterministic(t *testing.T) {
	src := "{% set a = '__cla' %}{{ x|attr(a ~ 'ss__') }}{{ y.__mro__ }}{% for q in z %}{{ q._p }}{% endfor %}"
	first := Check(src, DefaultLimits)
	for range 5 {
		if diff := cmp.Diff(first, Check(src, DefaultLimits)); diff != "" {
			t.Fatalf("results differ:\n%s", diff)
		}
	}
}
