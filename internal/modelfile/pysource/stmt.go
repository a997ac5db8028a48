package pysource

import (
	"sort"
	"strings"
)

// A Func is the body of one def (or async def): a scope of its own for
// callers that follow values through assignments.
type Func struct {
	Name string
	Line int
	// Start is the offset of "def"; End is the offset of the first
	// statement indented no deeper than the def, or the end of the source.
	Start, End int
	// Parent is the index in Result.Funcs of the def enclosing this one,
	// or -1.
	Parent int
}

// An Assign is one assignment statement: `x = v`, `a = b = v`, `x: T = v`,
// `x += v`, `a, b = v`, `self.x = v`.
type Assign struct {
	// Targets are the plain or dotted names bound ("x", "self.x"); the
	// names of a tuple target are each a target. Subscript targets
	// (d[k] = v) bind no name and are left out; an Assign has at least
	// one target.
	Targets []string
	// Op is "=" or the augmented operator, e.g. "+=".
	Op   string
	Line int
	// Offset is where the statement starts; Start and End are the bytes
	// of the value assigned.
	Offset, Start, End int
	// Func is the index in Result.Funcs of the innermost def the
	// statement is in, or -1 at module level (class bodies included).
	Func int
}

// maxChains bounds the chains Chains returns for one span, and
// maxChainLen the bytes of each: they are matched against short patterns.
// maxChainSteps bounds the tokens one call of Chains visits.
const (
	maxChains     = 256
	maxChainLen   = 256
	maxChainSteps = 1 << 20
)

// compound are the keywords that start a compound statement's header: the
// first ':' outside brackets ends it, and a simple statement may follow.
var compound = map[string]bool{
	"if": true, "elif": true, "else": true, "for": true, "while": true, "with": true, "try": true,
	"except": true, "finally": true, "def": true, "class": true, "async": true, "match": true, "case": true,
}

// statements finds the defs and the assignments. Python's INDENT and
// DEDENT are not tokens here: a logical line's indentation is measured
// from the source, with tabs to the next multiple of eight as CPython
// does, and a def's body ends at the first logical line indented no
// deeper than the def.
func (w *walker) statements() {
	toks := w.l.toks
	var open []int // indices in res.Funcs of the defs whose bodies are open
	for i := 0; i < len(toks); {
		// i starts a logical line.
		ind := w.indent(int(toks[i].start))
		for len(open) > 0 && w.funcIndent(open[len(open)-1]) >= ind {
			w.res.Funcs[open[len(open)-1]].End = int(toks[i].start)
			open = open[:len(open)-1]
		}
		k := i
		if w.is(k, tName, "async") {
			k++
		}
		if w.is(k, tName, "def") && w.is(k+1, tName, "") {
			parent := -1
			if len(open) > 0 {
				parent = open[len(open)-1]
			}
			w.res.Funcs = append(w.res.Funcs, Func{Name: w.text(k + 1), Line: int(toks[k].line), Start: int(toks[k].start), End: len(w.l.src), Parent: parent})
			w.indents = append(w.indents, ind)
			open = append(open, len(w.res.Funcs)-1)
		}
		fn := -1
		if len(open) > 0 {
			fn = open[len(open)-1]
		}
		w.scopes = append(w.scopes, scopeMark{off: int(toks[i].start), fn: fn})
		i = w.logicalLine(i, fn)
	}
}

func (w *walker) funcIndent(fn int) int { return w.indents[fn] }

// indent measures the indentation of the line holding offset off.
func (w *walker) indent(off int) int {
	src := w.l.src
	s := off
	for s > 0 && src[s-1] != '\n' && src[s-1] != '\r' {
		s--
	}
	n := 0
	for _, c := range src[s:off] {
		switch c {
		case ' ':
			n++
		case '\t':
			n = n/8*8 + 8
		case '\f':
			n = 0
		default:
			// Not at the start of its line (after a continuation, or a
			// syntax error): count the bytes before it as indentation.
			n++
		}
	}
	return n
}

// logicalLine reads the simple statements of the logical line starting at
// token i and returns the index after its NEWLINE.
func (w *walker) logicalLine(i, fn int) int {
	toks := w.l.toks
	header := toks[i].kind == tName && compound[string(w.l.src[toks[i].start:toks[i].end])]
	depth, start := 0, i
	for ; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tNewline {
			w.simple(start, i, fn)
			return i + 1
		}
		if t.kind != tOp {
			continue
		}
		switch c := w.l.src[t.start]; {
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth = max(depth-1, 0)
		case depth == 0 && c == ';', depth == 0 && c == ':' && header:
			if c == ':' {
				header = false
			} else {
				w.simple(start, i, fn)
			}
			start = i + 1
		}
	}
	w.simple(start, len(toks), fn)
	return len(toks)
}

// simple records tokens [a, b), one simple statement, if it assigns.
func (w *walker) simple(a, b, fn int) {
	if a >= b {
		return
	}
	toks := w.l.toks
	var cuts []int // the '=' tokens that split targets from the value
	op := "="
	depth := 0
	for i := a; i < b && op == "="; i++ {
		t := toks[i]
		if depth == 0 && w.is(i, tName, "lambda") {
			break // a lambda's defaults are not assignments
		}
		if t.kind != tOp {
			continue
		}
		c := w.l.src[t.start]
		switch c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth = max(depth-1, 0)
		}
		if c != '=' || depth > 0 {
			continue
		}
		if i+1 < b && w.adjacentOp(i+1) && w.l.src[toks[i+1].start] == '=' {
			i++ // "==": a comparison
			continue
		}
		if i > a && w.adjacentOp(i) {
			p := w.l.src[toks[i-1].start]
			switch {
			case strings.IndexByte("=!:", p) >= 0:
				continue // comparison or walrus
			case p == '<' || p == '>':
				if i-1 > a && w.adjacentOp(i-1) && w.l.src[toks[i-2].start] == p {
					op = string([]byte{p, p, '='})
					cuts = append(cuts[:0], i)
				}
				continue
			case strings.IndexByte("+-*/%&|^@", p) >= 0:
				op = string(p) + "="
				if (p == '*' || p == '/') && i-1 > a && w.adjacentOp(i-1) && w.l.src[toks[i-2].start] == p {
					op = string([]byte{p, p, '='})
				}
				cuts = append(cuts[:0], i)
				continue
			}
		}
		cuts = append(cuts, i)
	}
	if len(cuts) == 0 || cuts[len(cuts)-1]+1 >= b {
		return
	}
	var targets []string
	from := a
	for _, c := range cuts {
		end := c
		if op != "=" {
			end = c - len(op) + 1 // the operator's leading characters
		}
		targets = append(targets, w.targets(from, end)...)
		from = c + 1
	}
	if len(targets) == 0 {
		return
	}
	last := cuts[len(cuts)-1]
	w.res.Assigns = append(w.res.Assigns, Assign{
		Targets: targets, Op: op, Line: int(toks[a].line), Offset: int(toks[a].start),
		Start: int(toks[last+1].start), End: int(toks[b-1].end), Func: fn,
	})
}

// adjacentOp reports whether token i is an operator that touches the
// token before it, as the characters of one operator do.
func (w *walker) adjacentOp(i int) bool {
	return i > 0 && w.l.toks[i].kind == tOp && w.l.toks[i-1].kind == tOp && w.l.toks[i-1].end == w.l.toks[i].start
}

// targets reads the names bound by the target tokens [a, b): a name, a
// dotted name, an annotated name (x: T), or a tuple or list of those.
func (w *walker) targets(a, b int) []string {
	if b-a >= 2 && w.is(a, tName, "") && w.is(a+1, tOp, ":") {
		return []string{w.text(a)} // x: T = v
	}
	var out []string
	for i := a; i < b; {
		switch {
		case w.is(i, tOp, "(") || w.is(i, tOp, ")") || w.is(i, tOp, "[") || w.is(i, tOp, "]") || w.is(i, tOp, ",") || w.is(i, tOp, "*"):
			i++
		case w.is(i, tName, "") && (!w.keyword(i) || w.is(i, tName, "match") || w.is(i, tName, "case")):
			name, next := w.text(i), i+1
			if w.is(next, tOp, ".") {
				name, next = w.dotted(i)
			}
			if next < b && w.is(next, tOp, "[") {
				return nil // a subscript target: d[k] = v
			}
			out = append(out, name)
			i = next
		default:
			return nil
		}
	}
	return out
}

// keyword reports whether token i is a keyword, without allocating.
func (w *walker) keyword(i int) bool {
	t := w.l.toks[i]
	return keywords[string(w.l.src[t.start:t.end])]
}

// A scopeMark says which def holds the logical line starting at off.
type scopeMark struct{ off, fn int }

// funcAt returns the index of the innermost def holding offset off, or -1.
func (w *walker) funcAt(off int) int {
	k := sort.Search(len(w.scopes), func(i int) bool { return w.scopes[i].off > off })
	if k == 0 {
		return -1
	}
	return w.scopes[k-1].fn
}

// Chains returns the name chains in the source bytes [start, end) that
// Scan read: each name that is not an attribute, with the attributes,
// subscripts and calls that follow it, as "resp.choices[0].message.content
// .strip()" gives "resp.choices[].message.content.strip()". A subscript
// that is one string literal keeps it: "r['message']". Names inside
// brackets and f-string fields are chains of their own; strings, numbers
// and comments are not names. At most 256 chains of at most 256 bytes.
func (r *Result) Chains(start, end int) []string {
	if r.l == nil {
		return nil
	}
	toks := r.l.toks
	w := walker{l: r.l}
	i := sort.Search(len(toks), func(i int) bool { return int(toks[i].start) >= start })
	var out []string
	// budget bounds the tokens visited: each chain may walk its brackets.
	budget := maxChainSteps
	for ; i < len(toks) && int(toks[i].end) <= end && len(out) < maxChains && budget > 0; i++ {
		if t := toks[i]; t.kind != tName || w.is(i-1, tOp, ".") || keywords[string(r.l.src[t.start:t.end])] {
			continue
		}
		if w.is(i+1, tOp, "=") && !(w.is(i+2, tOp, "=") && w.adjacentOp(i+2)) {
			continue // a keyword argument's name
		}
		var b strings.Builder
		b.WriteString(w.text(i))
		for j := i + 1; j < len(toks) && int(toks[j].end) <= end && b.Len() < maxChainLen; {
			switch {
			case w.is(j, tOp, ".") && w.is(j+1, tName, ""):
				b.WriteByte('.')
				b.WriteString(w.text(j + 1))
				j += 2
				continue
			case w.is(j, tOp, "["):
				if w.is(j+1, tString, "") && w.is(j+2, tOp, "]") {
					b.WriteString("['" + cut(r.l.vals[toks[j+1].val], 64) + "']")
				} else {
					b.WriteString("[]")
				}
			case w.is(j, tOp, "("):
				b.WriteString("()")
			default:
				j = len(toks)
				continue
			}
			next := w.closing(j, end)
			budget -= next - j
			j = next
		}
		out = append(out, cut(b.String(), maxChainLen))
	}
	return out
}

// closing returns the index after the bracket that closes the one at
// token open, not looking past byte end.
func (w *walker) closing(open, end int) int {
	depth := 0
	for i := open; i < len(w.l.toks) && int(w.l.toks[i].end) <= end; i++ {
		if w.l.toks[i].kind != tOp {
			continue
		}
		switch w.l.src[w.l.toks[i].start] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(w.l.toks)
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
