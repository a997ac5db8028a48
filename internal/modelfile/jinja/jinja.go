// Package jinja finds the constructs in a Jinja template that template
// injection turns into code execution, by parsing the template — never
// rendering it.
//
// Check lexes and parses a template as Jinja 3.1 does (statements,
// whitespace control, comments, raw blocks, the whole expression grammar),
// then walks every branch of the tree, dead ones and macro bodies included,
// looking at each attribute or item access, filter and call. Names built
// from strings (concatenation, ~, join, format, replace, reverse, slicing,
// escapes, dict keys, {% set %} and namespace variables) are folded
// statically, within bounds, so that obfuscation does not hide a dunder;
// a name that cannot be folded where one is needed is itself reported.
//
// A template that Jinja would refuse is reported as template/malformed and
// its tokens are still searched for dunder and dangerous names: other
// engines (llama.cpp's among them) accept what Jinja refuses. A template
// that exceeds Limits is reported as scan/limit.
package jinja

import (
	"slices"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Rule ids Check reports; they are described in package rules.
const (
	RuleDunder     = "template/dunder-access"
	RuleGlobal     = "template/global-escalation"
	RuleInternal   = "template/internal-attribute"
	RulePrivate    = "template/private-attribute"
	RuleDynamic    = "template/dynamic-attribute"
	RuleDangerous  = "template/dangerous-call"
	RuleExternal   = "template/external-template"
	RuleMalformed  = "template/malformed"
	RuleScanLimit  = inventory.RuleScanLimit
	maxEvidence    = 160 // bytes of source quoted in a Problem's Evidence
	evidenceMarker = "…"
	// maxProblems bounds what one template reports: a template with more
	// dangerous constructs than this is no less dangerous for the rest.
	maxProblems = 200
)

// A Problem is one dangerous construct found in a template.
type Problem struct {
	Rule        string // a rule id from package rules, e.g. "template/dunder-access"
	Severity    int    // an inventory.Severity value
	Offset      int    // byte offset in the template source
	Line        int    // 1-based line in the template source
	Evidence    string // the construct as written, bounded
	Message     string
	Remediation string // what a person can do about it
}

// Limits bound the parse. A zero field takes its value from DefaultLimits.
type Limits struct {
	Bytes int // template source size
	Nodes int // AST nodes
	Depth int // nesting of expressions and blocks
}

// DefaultLimits are generous for real chat templates (the largest are ~12 KB,
// some 3,000 nodes, nested under 40 deep).
var DefaultLimits = Limits{Bytes: 1 << 20, Nodes: 1 << 18, Depth: 256}

// Check parses src and reports its dangerous constructs. A template that
// cannot be parsed, or that exceeds a limit, is reported as a Problem too.
// Problems come in source order; Check never renders anything and never
// panics.
func Check(src string, lim Limits) []Problem {
	lim = lim.orDefault()
	r := newReporter(src)
	if len(src) > lim.Bytes {
		r.limit(Problem{
			Rule: RuleScanLimit, Severity: int(inventory.High),
			Evidence:    "template of " + strconv.Itoa(len(src)) + " bytes > limit " + strconv.Itoa(lim.Bytes),
			Message:     "the template is larger than the limit and was not analysed: it is not known to be safe",
			Remediation: "review the template by hand, or raise the template size limit if it is legitimate",
		})
		return r.problems()
	}
	p := newParser(src, lim)
	body, err := p.parse()
	if err != nil {
		r.parseError(err)
		// The tokens of a template we cannot parse are still searched: a
		// loader more lenient than Jinja may run it.
		scanTokens(src, r)
		return r.problems()
	}
	w := newWalker(src, r)
	w.run(body)
	return r.problems()
}

func (l Limits) orDefault() Limits {
	if l.Bytes <= 0 {
		l.Bytes = DefaultLimits.Bytes
	}
	if l.Nodes <= 0 {
		l.Nodes = DefaultLimits.Nodes
	}
	if l.Depth <= 0 {
		l.Depth = DefaultLimits.Depth
	}
	return l
}

// A reporter collects Problems, one per rule and offset.
type reporter struct {
	src     string
	lines   []int // offsets of '\n', for Line
	seen    map[problemKey]bool
	out     []Problem
	dropped int // problems past maxProblems
}

type problemKey struct {
	rule   string
	offset int
}

func newReporter(src string) *reporter {
	return &reporter{src: src, seen: map[problemKey]bool{}}
}

func (r *reporter) add(p Problem) {
	k := problemKey{p.Rule, p.Offset}
	if r.seen[k] {
		return
	}
	r.seen[k] = true
	if len(r.out) >= maxProblems {
		r.dropped++
		return
	}
	r.out = append(r.out, p)
}

// limit records a limit problem, which the cap on problems never drops.
func (r *reporter) limit(p Problem) {
	r.seen[problemKey{p.Rule, p.Offset}] = true
	r.out = append(r.out, p)
}

// problems returns what was found, in source order, with lines filled in.
func (r *reporter) problems() []Problem {
	if len(r.out) == 0 {
		return nil
	}
	if r.dropped > 0 {
		r.limit(Problem{
			Rule: RuleScanLimit, Severity: int(inventory.High), Offset: len(r.src),
			Evidence:    strconv.Itoa(r.dropped) + " more problems past the first " + strconv.Itoa(maxProblems),
			Message:     "the template has more dangerous constructs than are listed",
			Remediation: "treat the template as hostile; the listed problems are enough to reject it",
		})
		r.dropped = 0
	}
	if r.lines == nil {
		for i := 0; i < len(r.src); i++ {
			if r.src[i] == '\n' {
				r.lines = append(r.lines, i)
			}
		}
	}
	for i := range r.out {
		n, _ := slices.BinarySearch(r.lines, r.out[i].Offset)
		r.out[i].Line = n + 1
	}
	slices.SortStableFunc(r.out, func(a, b Problem) int {
		if a.Offset != b.Offset {
			return a.Offset - b.Offset
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return r.out
}

// evidence quotes src[from:to], bounded to maxEvidence bytes by keeping its
// start and its end, on valid UTF-8 boundaries.
func (r *reporter) evidence(from, to int) string {
	from = max(0, min(from, len(r.src)))
	to = max(from, min(to, len(r.src)))
	for from < to && r.src[from]&0xC0 == 0x80 {
		from++
	}
	for to > from && to < len(r.src) && r.src[to]&0xC0 == 0x80 {
		to--
	}
	s := r.src[from:to]
	if len(s) <= maxEvidence {
		return s
	}
	head := cutRunes(s, maxEvidence/2, true)
	tail := cutRunes(s, maxEvidence/2, false)
	return head + evidenceMarker + tail
}

// cutRunes returns at most n bytes from the start (or end) of s without
// splitting a UTF-8 sequence.
func cutRunes(s string, n int, fromStart bool) string {
	if fromStart {
		i := n
		for i > 0 && i < len(s) && s[i]&0xC0 == 0x80 {
			i--
		}
		return s[:i]
	}
	i := len(s) - n
	for i < len(s) && i > 0 && s[i]&0xC0 == 0x80 {
		i++
	}
	return s[i:]
}
