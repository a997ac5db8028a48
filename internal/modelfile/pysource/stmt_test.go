package pysource

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// assigns renders the assignments as "targets op value@line/func".
func assigns(r *Result, src string) []string {
	var out []string
	for _, a := range r.Assigns {
		fn := "-"
		if a.Func >= 0 {
			fn = r.Funcs[a.Func].Name
		}
		out = append(out, fmt.Sprintf("%v %s %s@%d/%s", a.Targets, a.Op, src[a.Start:a.End], a.Line, fn))
	}
	return out
}

func TestAssigns(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"plain", "x = f(a)\n", []string{"[x] = f(a)@1/-"}},
		{"chained", "a = b = 1\n", []string{"[a b] = 1@1/-"}},
		{"annotated", "x: int = g()\ny: str\n", []string{"[x] = g()@1/-"}},
		{"augmented", "x += y\nx **= 2\nx //= 3\nx <<= 1\nx >>= 1\nx @= m\n",
			[]string{"[x] += y@1/-", "[x] **= 2@2/-", "[x] //= 3@3/-", "[x] <<= 1@4/-", "[x] >>= 1@5/-", "[x] @= m@6/-"}},
		{"tuple", "a, (b, *c) = v\n[d, e] = w\n", []string{"[a b c] = v@1/-", "[d e] = w@2/-"}},
		{"dotted", "self.code = r.text\n", []string{"[self.code] = r.text@1/-"}},
		{"subscript_target_skipped", "d[k] = v\nd.x[0] = v\n", nil},
		{"comparisons_are_not_assignments", "a == b\nc <= d\ne >= f\ng != h\nprint(x=1)\nx = a == b\n", []string{"[x] = a == b@6/-"}},
		{"walrus", "if (n := len(a)) > 1: pass\n", nil},
		{"lambda_default", "f = lambda x=1: x\n", []string{"[f] = lambda x=1: x@1/-"}},
		{"bare_lambda_default", "lambda x=1: x\n", nil},
		{"semicolons", "a = 1; b = a\n", []string{"[a] = 1@1/-", "[b] = a@1/-"}},
		{"after_compound_header", "if ok: y = z\nfor i in r: k = i\nelse: m = 2\n", []string{"[y] = z@1/-", "[k] = i@2/-", "[m] = 2@3/-"}},
		{"dict_colon_not_header", "x = {a: b}\n", []string{"[x] = {a: b}@1/-"}},
		{"multiline_value", "x = f(\n  a,\n  b)\n", []string{"[x] = f(\n  a,\n  b)@1/-"}},
		{"match_as_a_name", "match = re.match(p, s)\n", []string{"[match] = re.match(p, s)@1/-"}},
		{"keyword_target_skipped", "x = 1 if a else 2\n", []string{"[x] = 1 if a else 2@1/-"}},
		{"in_function", "def f():\n    x = 1\n    def g():\n        y = 2\n    z = 3\nw = 4\n",
			[]string{"[x] = 1@2/f", "[y] = 2@4/g", "[z] = 3@5/f", "[w] = 4@6/-"}},
		{"async_def_and_method", "class C:\n    async def m(self):\n        a = 1\n    b = 2\n", []string{"[a] = 1@3/m", "[b] = 2@4/-"}},
		{"one_line_def", "def f(): x = 1\ny = 2\n", []string{"[x] = 1@1/f", "[y] = 2@2/-"}},
		{"tabs", "def f():\n\tx = 1\n        y = 2\nz = 3\n", []string{"[x] = 1@2/f", "[y] = 2@3/f", "[z] = 3@4/-"}},
		{"comment_dedent_ignored", "def f():\n    x = 1\n# note\n    y = 2\n", []string{"[x] = 1@2/f", "[y] = 2@4/f"}},
		{"in_string_not_assignment", "s = '''\nx = 1\n'''\n", []string{"[s] = '''\nx = 1\n'''@1/-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scan(t, tc.src)
			if diff := cmp.Diff(tc.want, assigns(r, tc.src)); diff != "" {
				t.Errorf("assigns (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFuncs(t *testing.T) {
	src := "import os\n@deco\ndef outer(a=b()):\n    def inner():\n        os.system(x)\n    eval(y)\n\nexec(z)\n"
	r := scan(t, src)
	want := []Func{
		{Name: "outer", Line: 3, Start: 16, End: 85, Parent: -1},
		{Name: "inner", Line: 4, Start: 38, End: 76, Parent: 0},
	}
	if diff := cmp.Diff(want, r.Funcs); diff != "" {
		t.Errorf("funcs (-want +got):\n%s", diff)
	}
	var got []string
	for _, c := range r.Calls {
		got = append(got, fmt.Sprintf("%s:%d %q", c.Resolved, c.Func, src[c.Offset:c.End]))
	}
	wantCalls := []string{`deco:-1 "deco"`, `b:0 "b()"`, `os.system:1 "os.system(x)"`, `eval:0 "eval(y)"`, `exec:-1 "exec(z)"`}
	// deco is not a call nor an import: only b() and what follows.
	wantCalls = wantCalls[1:]
	if diff := cmp.Diff(wantCalls, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestChains(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"openai", "eval(resp.choices[0].message.content.strip())", []string{"eval()", "resp.choices[].message.content.strip()"}},
		{"index_name_is_own_chain", "x = r.choices[i].text", []string{"r.choices[].text", "i"}},
		{"string_subscript", "r['message']['content']", []string{"r['message']['content']"}},
		{"call_result_chain", "client.messages.create(model=m).content[0].text", []string{"client.messages.create().content[].text", "m"}},
		{"fstring", "f'run {cmd} now' + x", []string{"cmd", "x"}},
		{"strings_and_comments_are_not_names", "g('resp.choices[0].text')  # eval(resp)", []string{"g()"}},
		{"keywords_skipped", "a if not b else await c", []string{"a", "b", "c"}},
		{"nested", "f(g(h(x)))", []string{"f()", "g()", "h()", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scan(t, tc.src)
			if diff := cmp.Diff(tc.want, r.Chains(0, len(tc.src))); diff != "" {
				t.Errorf("chains (-want +got):\n%s", diff)
			}
		})
	}
	src := "a(b) + c.d"
	r := scan(t, src)
	if diff := cmp.Diff([]string{"c.d"}, r.Chains(7, len(src))); diff != "" {
		t.Errorf("chains of a span (-want +got):\n%s", diff)
	}
	if got := (&Result{}).Chains(0, 10); got != nil {
		t.Errorf("zero Result: %v", got)
	}
}
