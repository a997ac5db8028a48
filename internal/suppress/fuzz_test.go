package suppress

import (
	"strings"
	"testing"
)

// FuzzParse checks that no ignore file panics the parser and that every
// entry it accepts has a rule and a reason.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "ignore:\n",
		"ignore:\n  - rule: mcp/plain-http\n    path: lab/**\n    reason: lab\n    expires: 2026-12-31\n    owner: me\n",
		"ignore:\n  - rule: a\n", "ignore:\n  - {rule: '*', component: 'pkg:npm/x', evidence: e, reason: r}\n",
		"ignore: [[a]]", "- a\n", "ignore:\n  - rule: a\n    reason: r\n    expires: 2026-02-30\n",
		"ignore: &a [*a]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ig, err := Parse(b)
		if err != nil {
			return
		}
		for _, e := range ig.Entries {
			if e.Rule == "" || e.Reason == "" {
				t.Fatalf("entry without rule or reason accepted: %+v", e)
			}
			if e.Expires != "" && e.until.IsZero() {
				t.Fatalf("expires %q not parsed", e.Expires)
			}
		}
	})
}

// FuzzComments feeds the comment reader lines and notebooks: nothing
// panics, a directive is valid only with rules and a reason, and lines
// read are lines of the input.
func FuzzComments(f *testing.F) {
	for _, s := range []string{
		"x = 1  # chainvet:ignore mcp/plain-http lab only",
		"<!-- chainvet:ignore a/b, c/d why -->",
		`s = "\" # chainvet:ignore a b" # chainvet:ignore c d`,
		"# chainvet:ignore",
		`{"cells": [{"source": ["# chainvet:ignore a b\n", "x"]}, {"source": "y"}]}`,
		"a\r\nb\n\n# chainvet:ignore , ,\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, alone := range []bool{false, true} {
			if d, ok := parseDirective(s, alone); ok && d.valid() {
				for _, r := range d.rules {
					if r == "" || strings.ContainsAny(r, " \t,") {
						t.Fatalf("rule %q from %q", r, s)
					}
				}
			}
		}
		want := map[int]bool{1: true, 2: true, 3: true}
		lines, err := scanLines(strings.NewReader(s), want)
		if err != nil {
			t.Fatal(err)
		}
		for n, l := range lines {
			if !want[n] || !strings.Contains(s, l) {
				t.Fatalf("line %d %q is not from the input", n, l)
			}
		}
		parseCells([]byte(s))
	})
}
