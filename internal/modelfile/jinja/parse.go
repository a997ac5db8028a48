package jinja

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// A limitError says which limit cut the parse short, and where.
type limitError struct {
	pos  int
	what string
	max  int
}

func (e *limitError) Error() string {
	return "offset " + strconv.Itoa(e.pos) + ": more than " + strconv.Itoa(e.max) + " " + e.what
}

// bailout carries a parse error up the recursive descent.
type bailout struct{ err error }

// A parser builds the tree of a template as Jinja's parser does, with the
// default statements plus the loopcontrols and do extensions and
// transformers' generation block.
type parser struct {
	src   string
	lx    lexer
	tok   token   // the current token
	ahead []token // tokens read past tok
	lim   Limits
	nodes int
	depth int // recursion depth of the descent
}

func newParser(src string, lim Limits) *parser {
	return &parser{src: src, lx: lexer{src: src, no: newClosers()}, lim: lim}
}

// parse returns the template's statements, or a *syntaxError or
// *limitError.
func (p *parser) parse() (body []stmt, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			body, err = nil, b.err
		}
	}()
	p.advance()
	body = p.subparse(nil)
	return body, nil
}

func (p *parser) bail(err error) { panic(bailout{err}) }

func (p *parser) failAt(pos int, msg string) { p.bail(&syntaxError{pos, msg}) }

func (p *parser) fail(msg string) { p.failAt(p.tok.pos, msg) }

func (p *parser) advance() {
	if len(p.ahead) > 0 {
		p.tok = p.ahead[0]
		p.ahead = p.ahead[:0] // look reads one token ahead at most
	} else {
		p.tok = p.lx.next()
	}
	if p.tok.kind == tokEOF && p.lx.err != nil {
		p.bail(p.lx.err)
	}
}

func (p *parser) look() token {
	if len(p.ahead) == 0 {
		t := p.lx.next()
		if t.kind == tokEOF && p.lx.err != nil {
			p.bail(p.lx.err)
		}
		p.ahead = append(p.ahead, t)
	}
	return p.ahead[0]
}

func (p *parser) isOp(op string) bool { return p.tok.kind == tokOp && p.tok.text == op }

func (p *parser) isName(name string) bool { return p.tok.kind == tokName && p.tok.text == name }

func (p *parser) expectOp(op string) token {
	if !p.isOp(op) {
		p.fail("expected '" + op + "', got " + p.tok.describe())
	}
	t := p.tok
	p.advance()
	return t
}

func (p *parser) expectName(name string) token {
	if !p.isName(name) {
		p.fail("expected '" + name + "', got " + p.tok.describe())
	}
	t := p.tok
	p.advance()
	return t
}

func (p *parser) expectKind(k tokKind) token {
	if p.tok.kind != k {
		p.fail("expected " + tokNames[k] + ", got " + p.tok.describe())
	}
	t := p.tok
	p.advance()
	return t
}

// enter and leave bound the recursion of the descent.
func (p *parser) enter() {
	p.depth++
	if p.depth > p.lim.Depth {
		p.bail(&limitError{p.tok.pos, "levels of nesting", p.lim.Depth})
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) count() {
	p.nodes++
	if p.nodes > p.lim.Nodes {
		p.bail(&limitError{p.tok.pos, "nodes", p.lim.Nodes})
	}
}

// mk makes the node of an expression spanning [pos, end) over children,
// counting it against Nodes and its height against Depth.
func (p *parser) mk(pos, end int, children ...expr) node {
	p.count()
	h := 0
	for _, c := range children {
		if c != nil {
			h = max(h, c.height())
		}
	}
	h++
	if h > p.lim.Depth {
		p.bail(&limitError{pos, "levels of nesting", p.lim.Depth})
	}
	return node{pos: pos, end: end, h: h}
}

// end is the end of the last token consumed.
func (p *parser) end(e expr) int {
	_, end := e.span()
	return end
}

// subparse reads statements until end of template or, inside a block, a
// tag named in endTokens, which is left current.
func (p *parser) subparse(endTokens []string) []stmt {
	var body []stmt
	for {
		switch p.tok.kind {
		case tokEOF:
			return body
		case tokData:
			p.count()
			body = append(body, &dataStmt{text: p.tok.text})
			p.advance()
		case tokVarBegin:
			p.advance()
			x := p.parseTuple(tupleOpts{condexpr: true})
			p.expectKind(tokVarEnd)
			p.count()
			body = append(body, &outputStmt{x})
		case tokBlockBegin:
			p.advance()
			if endTokens != nil && p.tok.kind == tokName && slices.Contains(endTokens, p.tok.text) {
				return body
			}
			body = append(body, p.parseStatement()...)
			p.expectKind(tokBlockEnd)
		default:
			p.fail("unexpected " + p.tok.describe())
		}
	}
}

func (p *parser) parseStatement() []stmt {
	if p.tok.kind != tokName {
		p.fail("tag name expected")
	}
	p.count()
	switch p.tok.text {
	case "for":
		return []stmt{p.parseFor()}
	case "if":
		return []stmt{p.parseIf()}
	case "set":
		return []stmt{p.parseSet()}
	case "macro":
		return []stmt{p.parseMacro()}
	case "call":
		return []stmt{p.parseCallBlock()}
	case "filter":
		p.advance()
		f := p.parseFilter(nil, true).(*filterExpr)
		return []stmt{&filterBlockStmt{filter: f, body: p.parseStatements([]string{"endfilter"}, true)}}
	case "with":
		return []stmt{p.parseWith()}
	case "autoescape":
		p.advance()
		x := p.parseExpression(true)
		return []stmt{&scopeStmt{x: x, body: p.parseStatements([]string{"endautoescape"}, true)}}
	case "block":
		return []stmt{p.parseBlock()}
	case "extends":
		pos := p.tok.pos
		p.advance()
		t := p.parseExpression(true)
		return []stmt{&loadStmt{pos: pos, end: p.end(t), kind: "extends", template: t}}
	case "include":
		return []stmt{p.parseInclude()}
	case "import":
		return []stmt{p.parseImport()}
	case "from":
		return []stmt{p.parseFrom()}
	case "print":
		p.advance()
		var out []stmt
		for p.tok.kind != tokBlockEnd {
			if len(out) > 0 {
				p.expectOp(",")
			}
			out = append(out, &outputStmt{p.parseExpression(true)})
		}
		return out
	case "do": // jinja2.ext.do
		p.advance()
		return []stmt{&exprStmt{p.parseTuple(tupleOpts{condexpr: true})}}
	case "break", "continue": // jinja2.ext.loopcontrols
		p.advance()
		return []stmt{&loopControlStmt{}}
	case "generation": // transformers' AssistantTracker
		p.advance()
		return []stmt{&scopeStmt{body: p.parseStatements([]string{"endgeneration"}, true)}}
	}
	p.fail("unknown tag '" + p.tok.text + "'")
	return nil
}

// parseStatements reads a block's body up to one of end; with dropNeedle
// it also consumes the end tag's name.
func (p *parser) parseStatements(end []string, dropNeedle bool) []stmt {
	if p.isOp(":") {
		p.advance()
	}
	p.expectKind(tokBlockEnd)
	p.enter()
	body := p.subparse(end)
	p.leave()
	if p.tok.kind == tokEOF {
		p.fail("unexpected end of template: expected '" + strings.Join(end, "' or '") + "'")
	}
	if dropNeedle {
		p.advance()
	}
	return body
}

func (p *parser) parseFor() stmt {
	p.advance()
	s := &forStmt{}
	s.target = p.parseAssignTarget(true, false, []string{"in"}, false)
	p.expectName("in")
	s.iter = p.parseTuple(tupleOpts{extraEnd: []string{"recursive"}})
	if p.isName("if") {
		p.advance()
		s.cond = p.parseExpression(true)
	}
	if p.isName("recursive") {
		p.advance()
	}
	s.body = p.parseStatements([]string{"endfor", "else"}, false)
	needle := p.tok.text
	p.advance()
	if needle == "else" {
		s.els = p.parseStatements([]string{"endfor"}, true)
	}
	return s
}

func (p *parser) parseIf() stmt {
	p.advance()
	s := &ifStmt{}
	for {
		s.conds = append(s.conds, p.parseTuple(tupleOpts{}))
		s.bodies = append(s.bodies, p.parseStatements([]string{"elif", "else", "endif"}, false))
		needle := p.tok.text
		p.advance()
		switch needle {
		case "elif":
			continue
		case "else":
			s.els = p.parseStatements([]string{"endif"}, true)
		}
		return s
	}
}

func (p *parser) parseSet() stmt {
	p.advance()
	target := p.parseAssignTarget(true, false, nil, true)
	if p.isOp("=") {
		p.advance()
		return &setStmt{target: target, value: p.parseTuple(tupleOpts{condexpr: true})}
	}
	s := &setBlockStmt{target: target}
	if p.isOp("|") {
		s.filter = p.parseFilter(nil, false).(*filterExpr)
	}
	s.body = p.parseStatements([]string{"endset"}, true)
	return s
}

func (p *parser) parseMacro() stmt {
	p.advance()
	name := p.expectKind(tokName).text
	params := p.parseSignature()
	return &macroStmt{name: name, params: params, body: p.parseStatements([]string{"endmacro"}, true)}
}

func (p *parser) parseCallBlock() stmt {
	p.advance()
	s := &callBlockStmt{}
	if p.isOp("(") {
		s.params = p.parseSignature()
	}
	s.call = p.parseExpression(true)
	if _, ok := s.call.(*callExpr); !ok {
		pos, _ := s.call.span()
		p.failAt(pos, "expected call")
	}
	s.body = p.parseStatements([]string{"endcall"}, true)
	return s
}

func (p *parser) parseSignature() []param {
	var params []param
	p.expectOp("(")
	defaults := false
	for !p.isOp(")") {
		if len(params) > 0 {
			p.expectOp(",")
		}
		name := p.expectKind(tokName).text
		var def expr
		if p.isOp("=") {
			p.advance()
			def = p.parseExpression(true)
			defaults = true
		} else if defaults {
			p.fail("non-default argument follows default argument")
		}
		params = append(params, param{name, def})
	}
	p.expectOp(")")
	return params
}

func (p *parser) parseWith() stmt {
	p.advance()
	s := &withStmt{}
	for p.tok.kind != tokBlockEnd {
		if len(s.targets) > 0 {
			p.expectOp(",")
		}
		s.targets = append(s.targets, p.parseAssignTarget(true, false, nil, false))
		p.expectOp("=")
		s.values = append(s.values, p.parseExpression(true))
	}
	s.body = p.parseStatements([]string{"endwith"}, true)
	return s
}

func (p *parser) parseBlock() stmt {
	p.advance()
	name := p.expectKind(tokName).text
	if p.isName("scoped") {
		p.advance()
	}
	required := p.isName("required")
	if required {
		p.advance()
	}
	if p.isOp("-") {
		p.fail("block names may not contain hyphens")
	}
	body := p.parseStatements([]string{"endblock"}, true)
	if required {
		for _, b := range body {
			if d, ok := b.(*dataStmt); !ok || strings.TrimFunc(d.text, isSpace) != "" || d.text == "" {
				p.fail("required blocks can only contain comments or whitespace")
			}
		}
	}
	if p.isName(name) {
		p.advance()
	}
	return &scopeStmt{body: body}
}

func (p *parser) parseInclude() stmt {
	pos := p.tok.pos
	p.advance()
	t := p.parseExpression(true)
	s := &loadStmt{pos: pos, end: p.end(t), kind: "include", template: t}
	if p.isName("ignore") && p.look().kind == tokName && p.look().text == "missing" {
		p.advance()
		p.advance()
	}
	p.parseImportContext()
	return s
}

func (p *parser) parseImportContext() bool {
	if (p.isName("with") || p.isName("without")) && p.look().kind == tokName && p.look().text == "context" {
		p.advance()
		p.advance()
		return true
	}
	return false
}

func (p *parser) parseImport() stmt {
	pos := p.tok.pos
	p.advance()
	t := p.parseExpression(true)
	s := &loadStmt{pos: pos, end: p.end(t), kind: "import", template: t}
	p.expectName("as")
	s.names = append(s.names, p.expectKind(tokName).text)
	p.parseImportContext()
	return s
}

func (p *parser) parseFrom() stmt {
	pos := p.tok.pos
	p.advance()
	t := p.parseExpression(true)
	s := &loadStmt{pos: pos, end: p.end(t), kind: "from", template: t}
	p.expectName("import")
	first := true
	for {
		if !first {
			p.expectOp(",")
		}
		first = false
		if p.tok.kind != tokName {
			p.expectKind(tokName)
		}
		if p.parseImportContext() {
			break
		}
		name := p.tok
		p.advance()
		if strings.HasPrefix(name.text, "_") {
			p.failAt(name.pos, "names starting with an underline can not be imported")
		}
		bound := name.text
		if p.isName("as") {
			p.advance()
			bound = p.expectKind(tokName).text
		}
		s.names = append(s.names, bound)
		if p.parseImportContext() || !p.isOp(",") {
			break
		}
	}
	return s
}

// parseAssignTarget reads the target of set, for or with.
func (p *parser) parseAssignTarget(withTuple, nameOnly bool, extraEnd []string, withNamespace bool) expr {
	var target expr
	switch {
	case nameOnly:
		t := p.expectKind(tokName)
		target = &nameExpr{node: p.mk(t.pos, t.end), name: t.text}
	case withTuple:
		target = p.parseTuple(tupleOpts{simplified: true, extraEnd: extraEnd, namespace: withNamespace})
	default:
		target = p.parsePrimary(withNamespace)
	}
	if !canAssign(target) {
		pos, _ := target.span()
		p.failAt(pos, "can't assign to this expression")
	}
	return target
}

func canAssign(e expr) bool {
	switch e := e.(type) {
	case *nameExpr, *nsrefExpr:
		return true
	case *listExpr:
		if !e.tuple {
			return false
		}
		for _, it := range e.items {
			if !canAssign(it) {
				return false
			}
		}
		return true
	}
	return false
}

type tupleOpts struct {
	simplified bool     // names and literals only (assignment targets)
	condexpr   bool     // allow a if b else c
	extraEnd   []string // names that end the tuple
	explicit   bool     // inside parentheses: () is the empty tuple
	namespace  bool     // allow ns.attr targets
}

func (p *parser) isTupleEnd(extraEnd []string) bool {
	switch p.tok.kind {
	case tokVarEnd, tokBlockEnd:
		return true
	case tokOp:
		return p.tok.text == ")"
	case tokName:
		return slices.Contains(extraEnd, p.tok.text)
	}
	return false
}

func (p *parser) parseTuple(o tupleOpts) expr {
	pos := p.tok.pos
	var items []expr
	isTuple := false
	for {
		if len(items) > 0 {
			p.expectOp(",")
		}
		if p.isTupleEnd(o.extraEnd) {
			break
		}
		if o.simplified {
			items = append(items, p.parsePrimary(o.namespace))
		} else {
			items = append(items, p.parseExpression(o.condexpr))
		}
		if !p.isOp(",") {
			break
		}
		isTuple = true
	}
	if !isTuple {
		if len(items) > 0 {
			return items[0]
		}
		if !o.explicit {
			p.fail("expected an expression, got " + p.tok.describe())
		}
	}
	end := pos
	if len(items) > 0 {
		end = p.end(items[len(items)-1])
	}
	return &listExpr{node: p.mk(pos, end, items...), items: items, tuple: true}
}

func (p *parser) parseExpression(condexpr bool) expr {
	p.enter()
	defer p.leave()
	if condexpr {
		return p.parseCondexpr()
	}
	return p.parseOr()
}

func (p *parser) parseCondexpr() expr {
	pos := p.tok.pos
	e := p.parseOr()
	for p.isName("if") {
		p.advance()
		test := p.parseOr()
		var els expr
		if p.isName("else") {
			p.advance()
			p.enter()
			els = p.parseCondexpr()
			p.leave()
		}
		end := p.end(test)
		if els != nil {
			end = p.end(els)
		}
		e = &condExpr{node: p.mk(pos, end, test, e, els), test: test, then: e, els: els}
	}
	return e
}

func (p *parser) binary(op string, l, r expr) expr {
	pos, _ := l.span()
	return &binaryExpr{node: p.mk(pos, p.end(r), l, r), op: op, l: l, r: r}
}

func (p *parser) parseOr() expr {
	l := p.parseAnd()
	for p.isName("or") {
		p.advance()
		l = p.binary("or", l, p.parseAnd())
	}
	return l
}

func (p *parser) parseAnd() expr {
	l := p.parseNot()
	for p.isName("and") {
		p.advance()
		l = p.binary("and", l, p.parseNot())
	}
	return l
}

func (p *parser) parseNot() expr {
	if p.isName("not") {
		pos := p.tok.pos
		p.advance()
		p.enter()
		x := p.parseNot()
		p.leave()
		return &unaryExpr{node: p.mk(pos, p.end(x), x), op: "not", x: x}
	}
	return p.parseCompare()
}

func (p *parser) parseCompare() expr {
	e := p.parseMath1()
	for {
		var op string
		switch {
		case p.tok.kind == tokOp && slices.Contains([]string{"==", "!=", "<", "<=", ">", ">="}, p.tok.text):
			op = p.tok.text
			p.advance()
		case p.isName("in"):
			op = "in"
			p.advance()
		case p.isName("not") && p.look().kind == tokName && p.look().text == "in":
			op = "not in"
			p.advance()
			p.advance()
		default:
			return e
		}
		e = p.binary(op, e, p.parseMath1())
	}
}

func (p *parser) parseMath1() expr {
	l := p.parseConcat()
	for p.isOp("+") || p.isOp("-") {
		op := p.tok.text
		p.advance()
		l = p.binary(op, l, p.parseConcat())
	}
	return l
}

func (p *parser) parseConcat() expr {
	first := p.parseMath2()
	if !p.isOp("~") {
		return first
	}
	parts := []expr{first}
	for p.isOp("~") {
		p.advance()
		parts = append(parts, p.parseMath2())
	}
	pos, _ := first.span()
	return &concatExpr{node: p.mk(pos, p.end(parts[len(parts)-1]), parts...), parts: parts}
}

func (p *parser) parseMath2() expr {
	l := p.parsePow()
	for p.tok.kind == tokOp && (p.tok.text == "*" || p.tok.text == "/" || p.tok.text == "//" || p.tok.text == "%") {
		op := p.tok.text
		p.advance()
		l = p.binary(op, l, p.parsePow())
	}
	return l
}

func (p *parser) parsePow() expr {
	l := p.parseUnary(true)
	for p.isOp("**") {
		p.advance()
		l = p.binary("**", l, p.parseUnary(true))
	}
	return l
}

func (p *parser) parseUnary(withFilter bool) expr {
	var e expr
	if p.isOp("-") || p.isOp("+") {
		pos, op := p.tok.pos, p.tok.text
		p.advance()
		p.enter()
		x := p.parseUnary(false)
		p.leave()
		e = &unaryExpr{node: p.mk(pos, p.end(x), x), op: op, x: x}
	} else {
		e = p.parsePrimary(false)
	}
	e = p.parsePostfix(e)
	if withFilter {
		e = p.parseFilterExpr(e)
	}
	return e
}

func (p *parser) parsePrimary(withNamespace bool) expr {
	t := p.tok
	switch t.kind {
	case tokName:
		p.advance()
		switch t.text {
		case "true", "True":
			return &constExpr{node: p.mk(t.pos, t.end), v: true, known: true}
		case "false", "False":
			return &constExpr{node: p.mk(t.pos, t.end), v: false, known: true}
		case "none", "None":
			return &constExpr{node: p.mk(t.pos, t.end), v: noneVal{}, known: true}
		}
		if withNamespace && p.isOp(".") {
			p.advance()
			attr := p.expectKind(tokName)
			return &nsrefExpr{node: p.mk(t.pos, attr.end), name: t.text, attr: attr.text}
		}
		return &nameExpr{node: p.mk(t.pos, t.end), name: t.text}
	case tokString:
		p.advance()
		v, known, end := t.str, t.strOK, t.end
		if p.tok.kind == tokString {
			var b strings.Builder
			b.WriteString(v)
			for p.tok.kind == tokString {
				b.WriteString(p.tok.str)
				known = known && p.tok.strOK
				end = p.tok.end
				p.advance()
			}
			v = b.String()
		}
		return &constExpr{node: p.mk(t.pos, end), v: v, known: known}
	case tokInt, tokFloat:
		p.advance()
		v, known := number(t)
		return &constExpr{node: p.mk(t.pos, t.end), v: v, known: known}
	case tokOp:
		switch t.text {
		case "(":
			p.advance()
			p.enter()
			e := p.parseTuple(tupleOpts{condexpr: true, explicit: true})
			p.leave()
			close := p.expectOp(")")
			e.setSpan(t.pos, close.end)
			return e
		case "[":
			return p.parseList()
		case "{":
			return p.parseDict()
		}
	}
	p.fail("unexpected " + t.describe())
	return nil
}

// number converts a numeric token; integers beyond int64 are not known.
func number(t token) (cval, bool) {
	s := strings.ReplaceAll(t.text, "_", "")
	if t.kind == tokFloat {
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	n, ok := new(big.Int).SetString(s, 0)
	if !ok || !n.IsInt64() {
		return int64(0), false
	}
	return n.Int64(), true
}

func (p *parser) parseList() expr {
	open := p.expectOp("[")
	p.enter()
	defer p.leave()
	var items []expr
	for !p.isOp("]") {
		if len(items) > 0 {
			p.expectOp(",")
		}
		if p.isOp("]") {
			break
		}
		items = append(items, p.parseExpression(true))
	}
	close := p.expectOp("]")
	return &listExpr{node: p.mk(open.pos, close.end, items...), items: items}
}

func (p *parser) parseDict() expr {
	open := p.expectOp("{")
	p.enter()
	defer p.leave()
	d := &dictExpr{}
	var all []expr
	for !p.isOp("}") {
		if len(d.keys) > 0 {
			p.expectOp(",")
		}
		if p.isOp("}") {
			break
		}
		k := p.parseExpression(true)
		p.expectOp(":")
		v := p.parseExpression(true)
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
		all = append(all, k, v)
	}
	close := p.expectOp("}")
	d.node = p.mk(open.pos, close.end, all...)
	return d
}

func (p *parser) parsePostfix(e expr) expr {
	for {
		switch {
		case p.isOp(".") || p.isOp("["):
			e = p.parseSubscript(e)
		case p.isOp("("):
			e = p.parseCall(e)
		default:
			return e
		}
	}
}

func (p *parser) parseFilterExpr(e expr) expr {
	for {
		switch {
		case p.isOp("|"):
			e = p.parseFilter(e, false)
		case p.isName("is"):
			e = p.parseTest(e)
		case p.isOp("("):
			e = p.parseCall(e)
		default:
			return e
		}
	}
}

func (p *parser) parseSubscript(x expr) expr {
	pos, _ := x.span()
	t := p.tok
	p.advance()
	if t.text == "." {
		a := p.tok
		switch a.kind {
		case tokName:
			p.advance()
			return &getattrExpr{node: p.mk(pos, a.end, x), x: x, name: a.text, namePos: a.pos}
		case tokInt:
			p.advance()
			v, known := number(a)
			key := &constExpr{node: p.mk(a.pos, a.end), v: v, known: known}
			return &getitemExpr{node: p.mk(pos, a.end, x, key), x: x, key: key}
		}
		p.fail("expected name or number")
	}
	p.enter()
	var args []expr
	for !p.isOp("]") {
		if len(args) > 0 {
			p.expectOp(",")
		}
		args = append(args, p.parseSubscribed())
	}
	p.leave()
	close := p.expectOp("]")
	var key expr
	if len(args) == 1 {
		key = args[0]
	} else {
		key = &listExpr{node: p.mk(t.pos, close.end, args...), items: args, tuple: true}
	}
	return &getitemExpr{node: p.mk(pos, close.end, x, key), x: x, key: key}
}

func (p *parser) parseSubscribed() expr {
	pos := p.tok.pos
	var parts [3]expr
	if p.isOp(":") {
		p.advance()
	} else {
		e := p.parseExpression(true)
		if !p.isOp(":") {
			return e
		}
		p.advance()
		parts[0] = e
	}
	if !p.isOp(":") && !p.isOp("]") && !p.isOp(",") {
		parts[1] = p.parseExpression(true)
	}
	if p.isOp(":") {
		p.advance()
		if !p.isOp("]") && !p.isOp(",") {
			parts[2] = p.parseExpression(true)
		}
	}
	end := p.tok.pos
	return &sliceExpr{node: p.mk(pos, end, parts[0], parts[1], parts[2]), lo: parts[0], hi: parts[1], step: parts[2]}
}

func (p *parser) parseCall(fn expr) expr {
	pos, _ := fn.span()
	a, end := p.parseCallArgs()
	return &callExpr{node: p.mk(pos, end, a.children(fn)...), fn: fn, callArgs: a}
}

func (a *callArgs) children(extra ...expr) []expr {
	out := append(extra, a.args...)
	for _, k := range a.kwargs {
		out = append(out, k.v)
	}
	return append(out, a.star, a.dstar)
}

// parseCallArgs reads (args) and returns them with the end of ')'.
func (p *parser) parseCallArgs() (callArgs, int) {
	open := p.expectOp("(")
	p.enter()
	defer p.leave()
	var a callArgs
	ensure := func(ok bool) {
		if !ok {
			p.failAt(open.pos, "invalid syntax for function call expression")
		}
	}
	requireComma := false
	for !p.isOp(")") {
		if requireComma {
			p.expectOp(",")
			if p.isOp(")") {
				break
			}
		}
		switch {
		case p.isOp("*"):
			ensure(a.star == nil && a.dstar == nil)
			p.advance()
			a.star = p.parseExpression(true)
		case p.isOp("**"):
			ensure(a.dstar == nil)
			p.advance()
			a.dstar = p.parseExpression(true)
		case p.tok.kind == tokName && p.look().kind == tokOp && p.look().text == "=":
			ensure(a.dstar == nil)
			name := p.tok
			p.advance()
			p.advance()
			a.kwargs = append(a.kwargs, kwarg{name: name.text, pos: name.pos, v: p.parseExpression(true)})
		default:
			ensure(a.star == nil && a.dstar == nil && len(a.kwargs) == 0)
			a.args = append(a.args, p.parseExpression(true))
		}
		requireComma = true
	}
	close := p.expectOp(")")
	return a, close.end
}

// parseFilter reads |name(args)... after x; with start it reads the first
// filter without its '|' (filter blocks). x may be nil.
func (p *parser) parseFilter(x expr, start bool) expr {
	for p.isOp("|") || start {
		if !start {
			p.advance()
		}
		start = false
		t := p.expectKind(tokName)
		name, end := t.text, t.end
		for p.isOp(".") {
			p.advance()
			n := p.expectKind(tokName)
			name += "." + n.text
			end = n.end
		}
		var a callArgs
		if p.isOp("(") {
			a, end = p.parseCallArgs()
		}
		pos := t.pos
		if x != nil {
			pos, _ = x.span()
		}
		x = &filterExpr{node: p.mk(pos, end, a.children(x)...), x: x, name: name, namePos: t.pos, callArgs: a}
	}
	return x
}

func (p *parser) parseTest(x expr) expr {
	isTok := p.tok
	p.advance()
	negated := false
	if p.isName("not") {
		p.advance()
		negated = true
	}
	t := p.expectKind(tokName)
	name, end := t.text, t.end
	for p.isOp(".") {
		p.advance()
		n := p.expectKind(tokName)
		name += "." + n.text
		end = n.end
	}
	var a callArgs
	switch {
	case p.isOp("("):
		a, end = p.parseCallArgs()
	case (p.tok.kind == tokName || p.tok.kind == tokString || p.tok.kind == tokInt || p.tok.kind == tokFloat ||
		p.isOp("(") || p.isOp("[") || p.isOp("{")) && !p.isName("else") && !p.isName("or") && !p.isName("and"):
		if p.isName("is") {
			p.fail("you cannot chain multiple tests with is")
		}
		arg := p.parsePostfix(p.parsePrimary(false))
		a.args = []expr{arg}
		end = p.end(arg)
	}
	pos, _ := x.span()
	var e expr = &testExpr{node: p.mk(pos, end, a.children(x)...), x: x, name: name, callArgs: a}
	if negated {
		e = &unaryExpr{node: p.mk(isTok.pos, end, e), op: "not", x: e}
	}
	return e
}
