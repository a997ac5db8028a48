// Package pysource finds what Python source imports and calls — by dotted
// name, with line numbers — without parsing, importing or running it.
//
// Scan tokenizes the source as CPython does where it matters for that
// (string literals of every kind, f-string replacement fields, comments,
// line continuations, bracketed line joining), then reads import
// statements and every name chain followed by an argument list. Names are
// resolved through the file's imports, flow-insensitively: `import
// subprocess as sp; sp.run(...)` is a call of subprocess.run wherever the
// import is. Two common evasions are resolved too: getattr(module, "name")
// and __import__("module").name. Anything subtler (names built at run
// time, assignments of functions to variables) is beyond a tokenizer; the
// callers judge imports as well as calls for that reason.
//
// A thin statement layer sits over the tokens: Result.Funcs are the def
// bodies (by indentation, as CPython's INDENT and DEDENT would give them),
// Result.Assigns the assignment statements with the names they bind, and
// Result.Chains the names an expression mentions, written with their
// attributes, subscripts and calls ("resp.choices[].message.content").
// That is enough for a caller to follow a value through the assignments of
// one function; it is not a parser, and says nothing of control flow.
//
// Scan stops at its Limits and says so in Result.Limit: a cut-short scan is
// never clean.
package pysource

import (
	"context"
	"fmt"
	"strings"
)

// Limits bound the work Scan does on one source file.
type Limits struct {
	// Bytes is the largest source scanned: the biggest modeling files on
	// the Hugging Face hub are a few hundred KB.
	Bytes int
	// Tokens bounds the token list held in memory (16 bytes each).
	Tokens int
	// Depth bounds bracket and f-string nesting.
	Depth int
	// Args is the most arguments described per call; the rest are still
	// scanned for calls of their own.
	Args int
}

// DefaultLimits are generous for real code and small enough that a hostile
// file costs little.
var DefaultLimits = Limits{Bytes: 8 << 20, Tokens: 2 << 20, Depth: 200, Args: 16}

// An Import is one name an import statement binds.
type Import struct {
	// Module is the module imported from: "os.path" for both `import
	// os.path` and `from os.path import join`. Relative imports keep their
	// leading dots.
	Module string
	// Name is the name imported from Module by `from ... import`, "*" for
	// a star import, or empty for `import Module`.
	Name string
	// As is the local name bound, when an "as" clause gives one.
	As   string
	Line int
}

// Target is the dotted name the import makes available.
func (im Import) Target() string {
	if im.Name == "" {
		return im.Module
	}
	if strings.HasSuffix(im.Module, ".") {
		return im.Module + im.Name
	}
	return im.Module + "." + im.Name
}

// A Call is a use of a dotted name: a call when Called is set, otherwise a
// reference to an attribute of an imported module (as in `f = os.system`).
type Call struct {
	// Name is the name as written, e.g. "sp.run"; for the evasions Scan
	// sees through, the name they reach, e.g. "os.system".
	Name string
	// Resolved is Name with the file's import aliases applied, e.g.
	// "subprocess.run". Bare names that no import binds stay as written,
	// so builtins read "eval", "exec", "open".
	Resolved string
	Called   bool
	// Func is the index in Result.Funcs of the innermost def the use is
	// in, or -1 at module level.
	Func int
	// Via says how an evasion reached the name: "getattr" or "__import__".
	Via    string
	Line   int
	Offset int
	// End is the offset just past the call's ")" (or past the name, for
	// a reference): src[Offset:End] is the use as written.
	End int
	// Args are the call's arguments, at most Limits.Args of them.
	Args []Arg
}

// An Arg is one argument of a call.
type Arg struct {
	// Keyword is the name of a keyword argument; empty for positional
	// ones, "*" and "**" for unpacked ones.
	Keyword string
	// Literal is set when the argument is only string literals (implicitly
	// concatenated ones included, f-strings excluded); Value holds their
	// value, cut at 512 bytes.
	Literal bool
	Value   string
	// Strings are the string literals anywhere in the argument, at most
	// four, e.g. the "~/.bashrc" in os.path.expanduser("~/.bashrc").
	Strings []string
	// Start and End are the argument's byte offsets in the source: the
	// calls whose Offset lies between them are within it.
	Start, End int
}

// Text is the argument's source, cut at n bytes.
func (a Arg) Text(src []byte, n int) string {
	t := strings.TrimSpace(string(src[a.Start:a.End]))
	if len(t) > n {
		t = t[:n] + "…"
	}
	return t
}

// Result is what Scan found.
type Result struct {
	Imports []Import
	Calls   []Call
	// Syntax is the first place the tokenizer could not follow; what
	// precedes it and what it resynchronised on afterwards are reported.
	Syntax *SyntaxError
	// Funcs are the defs, in source order; Assigns the assignment
	// statements (see Assign for which).
	Funcs   []Func
	Assigns []Assign
	// Limit names the limit that cut the scan short, if one did.
	Limit string
	// l keeps the tokens for Chains.
	l *lexer
}

// Scan reads src. The error is only for ctx; malformed source and limits
// are reported in the Result.
func Scan(ctx context.Context, src []byte, lim Limits) (*Result, error) {
	lim = lim.withDefaults()
	res := &Result{}
	if len(src) > lim.Bytes {
		res.Limit = fmt.Sprintf("source is %d bytes, more than the limit of %d", len(src), lim.Bytes)
		src = src[:lim.Bytes]
	}
	// About one token per three bytes of real code: sized up front, the
	// list is not copied as it grows.
	l := &lexer{ctx: ctx, src: src, lim: lim, line: 1, toks: make([]token, 0, min(len(src)/3+16, lim.Tokens))}
	l.run(false)
	if l.ctxErr != nil {
		return res, l.ctxErr
	}
	if len(l.opens) > 0 && l.limit == "" {
		o := l.opens[0]
		l.failAt(o[0], o[1], "bracket never closed")
	}
	res.Syntax = l.err
	if res.Limit == "" {
		res.Limit = l.limit
	}
	l.ctx = nil // the Result outlives the scan
	res.l = l
	w := &walker{l: l, res: res, aliases: map[string]string{}}
	w.imports()
	w.statements()
	w.calls()
	return res, nil
}

func (l Limits) withDefaults() Limits {
	if l.Bytes <= 0 {
		l.Bytes = DefaultLimits.Bytes
	}
	if l.Tokens <= 0 {
		l.Tokens = DefaultLimits.Tokens
	}
	if l.Depth <= 0 {
		l.Depth = DefaultLimits.Depth
	}
	if l.Args <= 0 {
		l.Args = DefaultLimits.Args
	}
	return l
}

// walker reads imports and calls off the token list.
type walker struct {
	l       *lexer
	res     *Result
	aliases map[string]string // local name → dotted name it stands for
	// stmts are the token ranges of import statements, in order: the
	// names they bind are not uses.
	stmts [][2]int
	// indents are the indentation of each def in res.Funcs; scopes mark
	// the def holding each logical line, by offset.
	indents []int
	scopes  []scopeMark
}

func (w *walker) text(i int) string {
	t := w.l.toks[i]
	return string(w.l.src[t.start:t.end])
}

func (w *walker) is(i int, k kind, s string) bool {
	if i < 0 || i >= len(w.l.toks) || w.l.toks[i].kind != k {
		return false
	}
	t := w.l.toks[i]
	return s == "" || string(w.l.src[t.start:t.end]) == s // no allocation
}

// stmtStart reports whether token i begins a statement (or a simple
// statement after a colon, as in `if x: import y`).
func (w *walker) stmtStart(i int) bool {
	return i == 0 || w.is(i-1, tNewline, "") || w.is(i-1, tOp, ";") || w.is(i-1, tOp, ":")
}

// dotted reads Name ("." Name)* from token i and returns it and the index
// after it.
func (w *walker) dotted(i int) (string, int) {
	if !w.is(i, tName, "") {
		return "", i
	}
	var b strings.Builder
	b.WriteString(w.text(i))
	i++
	for w.is(i, tOp, ".") && w.is(i+1, tName, "") {
		b.WriteByte('.')
		b.WriteString(w.text(i + 1))
		i += 2
	}
	return b.String(), i
}

func (w *walker) imports() {
	toks := w.l.toks
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tName || !w.stmtStart(i) {
			continue
		}
		start := i
		switch w.text(i) {
		case "import":
			i = w.importNames(i + 1)
		case "from":
			i = w.fromImport(i + 1)
		default:
			continue
		}
		w.stmts = append(w.stmts, [2]int{start, i})
		i-- // the loop's i++ must not skip the token after the statement
	}
}

// importNames reads `a.b as c, d` after "import".
func (w *walker) importNames(i int) int {
	line := int(w.l.toks[i-1].line)
	for {
		mod, next := w.dotted(i)
		if mod == "" {
			return i
		}
		im := Import{Module: mod, Line: line}
		i = next
		if w.is(i, tName, "as") && w.is(i+1, tName, "") {
			im.As = w.text(i + 1)
			i += 2
			w.aliases[im.As] = mod
		} else {
			top, _, _ := strings.Cut(mod, ".")
			w.aliases[top] = top
		}
		w.res.Imports = append(w.res.Imports, im)
		if !w.is(i, tOp, ",") {
			return i
		}
		i++
	}
}

// fromImport reads `.mod import a as b, (c, d)` or `mod import *` after
// "from".
func (w *walker) fromImport(i int) int {
	line := int(w.l.toks[i-1].line)
	var mod strings.Builder
	for w.is(i, tOp, ".") || w.is(i, tOp, "...") {
		mod.WriteString(w.text(i))
		i++
	}
	if !w.is(i, tName, "import") {
		name, next := w.dotted(i)
		mod.WriteString(name)
		i = next
	}
	if mod.Len() == 0 || !w.is(i, tName, "import") {
		return i // "yield from", "raise ... from": not an import
	}
	i++
	paren := w.is(i, tOp, "(")
	if paren {
		i++
	}
	for {
		if w.is(i, tOp, "*") {
			w.res.Imports = append(w.res.Imports, Import{Module: mod.String(), Name: "*", Line: line})
			return i + 1
		}
		if !w.is(i, tName, "") {
			return i
		}
		im := Import{Module: mod.String(), Name: w.text(i), Line: line}
		i++
		local := im.Name
		if w.is(i, tName, "as") && w.is(i+1, tName, "") {
			im.As = w.text(i + 1)
			local = im.As
			i += 2
		}
		w.aliases[local] = im.Target()
		w.res.Imports = append(w.res.Imports, im)
		if !w.is(i, tOp, ",") {
			return i
		}
		i++
		if paren && w.is(i, tOp, ")") {
			return i + 1
		}
	}
}

// resolve applies the import aliases to a dotted name's first element.
func (w *walker) resolve(name string) string {
	head, rest, dotted := strings.Cut(name, ".")
	full, ok := w.aliases[head]
	if !ok {
		return name
	}
	if dotted {
		return full + "." + rest
	}
	return full
}

// keywords are names that can precede "(" without being called.
var keywords = map[string]bool{
	"if": true, "elif": true, "while": true, "for": true, "in": true, "not": true, "and": true,
	"or": true, "return": true, "yield": true, "assert": true, "del": true, "with": true,
	"as": true, "is": true, "lambda": true, "else": true, "await": true, "raise": true,
	"except": true, "import": true, "from": true, "case": true, "match": true,
}

func (w *walker) calls() {
	toks := w.l.toks
	stmts := w.stmts
	for i := 0; i < len(toks); i++ {
		for len(stmts) > 0 && stmts[0][1] <= i {
			stmts = stmts[1:]
		}
		if len(stmts) > 0 && stmts[0][0] <= i {
			i = stmts[0][1] - 1
			continue
		}
		if t := toks[i]; t.kind != tName || keywords[string(w.l.src[t.start:t.end])] {
			continue
		}
		// An attribute of some expression (x().y, a[0].b) has no name.
		if w.is(i-1, tOp, ".") {
			continue
		}
		if w.is(i-1, tName, "def") || w.is(i-1, tName, "class") {
			continue
		}
		next := w.dottedEnd(i)
		called := w.is(next, tOp, "(")
		if !called {
			// Only references to attributes of imported modules are kept:
			// `f = os.system` matters, local variables do not. Most names
			// are neither, and are passed over without building a string.
			t := toks[i]
			if _, ok := w.aliases[string(w.l.src[t.start:t.end])]; ok {
				name, _ := w.dotted(i)
				resolved := w.resolve(name)
				if strings.Contains(name, ".") || strings.Contains(resolved, ".") {
					w.res.Calls = append(w.res.Calls, Call{Name: name, Resolved: resolved, Line: int(t.line), Offset: int(t.start),
						End: int(toks[next-1].end), Func: w.funcAt(int(t.start))})
				}
			}
			i = next - 1
			continue
		}
		name, _ := w.dotted(i)
		resolved := w.resolve(name)
		c := Call{Name: name, Resolved: resolved, Called: true, Line: int(toks[i].line), Offset: int(toks[i].start), Func: w.funcAt(int(toks[i].start))}
		end := w.args(next, &c)
		c.End = w.endOf(end)
		w.res.Calls = append(w.res.Calls, c)
		w.evasion(c, end)
		// Continue inside the argument list: calls in arguments count.
		i = next
	}
}

// endOf returns the offset just past token i, or the end of the source
// when i is past the tokens.
func (w *walker) endOf(i int) int {
	if i < len(w.l.toks) {
		return int(w.l.toks[i].end)
	}
	return len(w.l.src)
}

// dottedEnd returns the index after the name chain starting at token i.
func (w *walker) dottedEnd(i int) int {
	i++
	for w.is(i, tOp, ".") && w.is(i+1, tName, "") {
		i += 2
	}
	return i
}

// args describes the arguments of the call whose "(" is token open, and
// returns the index of the closing ")" (or the end of the tokens).
func (w *walker) args(open int, c *Call) int {
	toks := w.l.toks
	depth, fstr := 0, 0
	argStart := open + 1
	finish := func(end int) {
		if end <= argStart || len(c.Args) >= w.l.lim.Args {
			return
		}
		c.Args = append(c.Args, w.arg(argStart, end))
	}
	for i := open; i < len(toks); i++ {
		switch t := toks[i]; {
		case t.kind == tFString:
			fstr++
		case t.kind == tFEnd:
			fstr--
		}
		if toks[i].kind != tOp {
			continue
		}
		switch w.text(i) {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 {
				finish(i)
				return i
			}
		case ",":
			if depth == 1 && fstr == 0 {
				finish(i)
				argStart = i + 1
			}
		}
	}
	finish(len(toks))
	return len(toks)
}

// arg describes the argument held by tokens [a, b).
func (w *walker) arg(a, b int) Arg {
	toks := w.l.toks
	out := Arg{Start: int(toks[a].start), End: int(toks[b-1].end)}
	switch {
	case w.is(a, tName, "") && w.is(a+1, tOp, "=") && !w.is(a+2, tOp, "="):
		out.Keyword = w.text(a)
		a += 2
	case w.is(a, tOp, "*") && w.is(a+1, tOp, "*"):
		out.Keyword = "**"
		a += 2
	case w.is(a, tOp, "*"):
		out.Keyword = "*"
		a++
	}
	out.Literal = a < b
	var val strings.Builder
	for i := a; i < b; i++ {
		t := toks[i]
		if t.kind != tString {
			out.Literal = false
			continue
		}
		s := w.l.vals[t.val]
		if len(out.Strings) < 4 {
			out.Strings = append(out.Strings, s)
		}
		if val.Len() < maxValue {
			val.WriteString(s[:min(len(s), maxValue-val.Len())])
		}
	}
	if out.Literal {
		out.Value = val.String()
	}
	return out
}

// evasion records the names that getattr(module, "name") and
// __import__("module").name reach. end is the index of the call's ")".
func (w *walker) evasion(c Call, end int) {
	var name, via string
	switch c.Resolved {
	case "getattr":
		if len(c.Args) >= 2 && c.Args[1].Literal && c.Args[1].Keyword == "" {
			obj := strings.TrimSpace(string(w.l.src[c.Args[0].Start:c.Args[0].End]))
			if isDotted(obj) {
				name, via = w.resolve(obj)+"."+c.Args[1].Value, "getattr"
			}
		}
	case "__import__", "importlib.import_module", "builtins.__import__":
		if len(c.Args) >= 1 && c.Args[0].Literal && w.is(end+1, tOp, ".") && w.is(end+2, tName, "") {
			name, via = c.Args[0].Value+"."+w.text(end+2), "__import__"
			end += 2
		}
	}
	if name == "" {
		return
	}
	e := Call{Name: name, Resolved: name, Via: via, Line: c.Line, Offset: c.Offset, Func: c.Func, Called: w.is(end+1, tOp, "("), End: w.endOf(end)}
	if e.Called {
		e.End = w.endOf(w.args(end+1, &e))
	}
	w.res.Calls = append(w.res.Calls, e)
}

// isDotted reports whether s is a plain dotted name.
func isDotted(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i, r := range part {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}
