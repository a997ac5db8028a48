package jinja

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
)

// addSeeds adds every template under dir to the corpus.
func addSeeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(pattern)
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(string(b))
		}
	}
}

func FuzzCheck(f *testing.F) {
	addSeeds(f, filepath.Join(fixtures, "*", "*.jinja"))
	addSeeds(f, filepath.Join(shared, "*.jinja"))
	for _, s := range []string{
		"{{ x|attr('__cla' ~ 'ss__') }}",
		"{% set ns = namespace(a=[]) %}{% do ns.a.append('__') %}{{ y[ns.a|join ~ 'x'] }}",
		"{% raw %}{{{% endraw %}{#-#}{%- if a -%}{%+ else +%}{% endif %}",
		"{{ '{0.__class__}'.format(x) }}{{ '%c'|format(95) }}",
	} {
		f.Add(s)
	}
	small := Limits{Bytes: 1 << 12, Nodes: 200, Depth: 12}
	f.Fuzz(func(t *testing.T, src string) {
		for _, lim := range []Limits{DefaultLimits, small} {
			ps := Check(src, lim)
			checkProblems(t, src, ps)
			if len(src) > lim.Bytes {
				continue
			}
			if _, err := newParser(src, lim).parse(); err != nil &&
				!slices.ContainsFunc(ps, func(p Problem) bool { return p.Rule == RuleMalformed || p.Rule == RuleScanLimit }) {
				t.Fatalf("parse failed (%v) but no malformed or limit problem: %+v", err, ps)
			}
		}
	})
}

// checkProblems tests what must hold of any Check result.
func checkProblems(t *testing.T, src string, ps []Problem) {
	t.Helper()
	lines := strings.Count(src, "\n") + 1
	for i, p := range ps {
		if p.Offset < 0 || p.Offset > len(src) {
			t.Fatalf("offset %d outside %d bytes: %+v", p.Offset, len(src), p)
		}
		if p.Line < 1 || p.Line > lines {
			t.Fatalf("line %d outside 1..%d: %+v", p.Line, lines, p)
		}
		if !slices.Contains(knownRules, p.Rule) {
			t.Fatalf("unknown rule: %+v", p)
		}
		if p.Severity < int(inventory.Info) || p.Severity > int(inventory.Critical) || p.Message == "" {
			t.Fatalf("bad severity or message: %+v", p)
		}
		if len(p.Evidence) > maxEvidence+len(evidenceMarker) {
			t.Fatalf("evidence of %d bytes: %+v", len(p.Evidence), p)
		}
		if utf8.ValidString(src) && !utf8.ValidString(p.Evidence) {
			t.Fatalf("evidence cut inside a character: %q", p.Evidence)
		}
		if i > 0 && ps[i-1].Offset > p.Offset {
			t.Fatalf("problems out of order: %+v", ps)
		}
	}
}
