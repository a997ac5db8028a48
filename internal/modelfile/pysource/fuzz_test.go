package pysource

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzScan checks Scan's invariants on any input: no panic, every position
// inside the source, lines counted from 1, and a stop at the limits.
func FuzzScan(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.py")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"import os\nos.system('x')\n", "f'{a!r:>{b}}'", "x = '''\n", "__import__('os').popen(1)",
		"getattr(os, 'system')('id')", "from . import (a,\n b)", "f\"{f'{g()}'}\"", "a(\\\n)", "rb'\\x00'",
		"def f():\n\tx = r.choices[0].text\n\texec(x)\n", "a, *b = c = lambda d=1: d\nx **= 2; y: T = z\n",
		"async def g(): y = x['k'][i].t()\nclass C:\n  def m(s): s.v += 1\n",
	} {
		f.Add([]byte(s))
	}
	lim := Limits{Bytes: 1 << 16, Tokens: 1 << 14, Depth: 64, Args: 8}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Scan(context.Background(), b, lim)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(string(b), "\n") + strings.Count(string(b), "\r") + 1
		for _, c := range r.Calls {
			if c.Offset < 0 || c.Offset > len(b) || c.Line < 1 || c.Line > lines {
				t.Fatalf("call %+v outside the source", c)
			}
			if len(c.Args) > lim.Args {
				t.Fatalf("%d args kept, limit %d", len(c.Args), lim.Args)
			}
			for _, a := range c.Args {
				if a.Start < 0 || a.End < a.Start || a.End > len(b) {
					t.Fatalf("arg span %d..%d outside the source", a.Start, a.End)
				}
				_ = a.Text(b, 10)
			}
		}
		for _, im := range r.Imports {
			if im.Line < 1 || im.Line > lines || im.Module == "" {
				t.Fatalf("bad import %+v", im)
			}
		}
		for i, fn := range r.Funcs {
			if fn.Start < 0 || fn.End < fn.Start || fn.End > len(b) || fn.Parent >= i || fn.Parent < -1 {
				t.Fatalf("func %+v outside the source or its parents", fn)
			}
			if p := fn.Parent; p >= 0 && (fn.Start < r.Funcs[p].Start || fn.End > r.Funcs[p].End) {
				t.Fatalf("func %+v not inside its parent %+v", fn, r.Funcs[p])
			}
		}
		for _, a := range r.Assigns {
			if len(a.Targets) == 0 || a.Start < a.Offset || a.End < a.Start || a.End > len(b) || a.Func >= len(r.Funcs) {
				t.Fatalf("bad assignment %+v", a)
			}
			for _, c := range r.Chains(a.Start, a.End) {
				if c == "" || len(c) > maxChainLen {
					t.Fatalf("bad chain %q", c)
				}
			}
		}
		for _, c := range r.Calls {
			if c.End < c.Offset || c.End > len(b) || c.Func >= len(r.Funcs) {
				t.Fatalf("call %+v ends outside the source", c)
			}
			if c.Func >= 0 && (c.Offset < r.Funcs[c.Func].Start || c.Offset >= r.Funcs[c.Func].End) {
				t.Fatalf("call %+v outside its func %+v", c, r.Funcs[c.Func])
			}
		}
		if len(r.Chains(0, len(b))) > maxChains {
			t.Fatal("too many chains")
		}
		if r.Syntax != nil && (r.Syntax.Line < 1 || r.Syntax.Offset < 0 || r.Syntax.Offset > len(b)) {
			t.Fatalf("syntax error %+v outside the source", r.Syntax)
		}
	})
}
