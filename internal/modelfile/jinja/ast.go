package jinja

// The tree Check walks. Every node knows its span in the source, so that a
// Problem can quote the construct as written.

type expr interface {
	span() (pos, end int)
	setSpan(pos, end int)
	height() int
}

// node is the span of an expression and the height of its subtree, which
// the parser bounds so that walking the tree cannot exhaust the stack.
type node struct{ pos, end, h int }

func (n *node) span() (int, int) { return n.pos, n.end }
func (n *node) height() int      { return n.h }

// setSpan widens a parenthesised expression to its parentheses.
func (n *node) setSpan(pos, end int) { n.pos, n.end = pos, end }

type (
	nameExpr struct {
		node
		name string
	}
	// constExpr is a literal. For a string whose escapes we cannot fully
	// decode, known is false and v holds what we could.
	constExpr struct {
		node
		v     cval
		known bool
	}
	listExpr struct {
		node
		items []expr
		tuple bool
	}
	dictExpr struct {
		node
		keys, vals []expr
	}
	getattrExpr struct {
		node
		x       expr
		name    string
		namePos int
	}
	getitemExpr struct {
		node
		x, key expr
	}
	sliceExpr struct {
		node
		lo, hi, step expr // any may be nil
	}
	// callArgs are the arguments of a call, filter or test.
	callArgs struct {
		args        []expr
		kwargs      []kwarg
		star, dstar expr // *args, **kwargs; may be nil
	}
	kwarg struct {
		name string
		pos  int
		v    expr
	}
	callExpr struct {
		node
		fn expr
		callArgs
	}
	// filterExpr is x|name(args). x is nil for the filter of a filter
	// block or block set, which applies to the body's output.
	filterExpr struct {
		node
		x       expr
		name    string
		namePos int
		callArgs
	}
	testExpr struct {
		node
		x    expr
		name string
		callArgs
	}
	// concatExpr is a ~ b ~ c: flat, as in Jinja.
	concatExpr struct {
		node
		parts []expr
	}
	unaryExpr struct {
		node
		op string // "not", "-", "+"
		x  expr
	}
	binaryExpr struct {
		node
		op   string // "or", "and", "+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "in", "not in"
		l, r expr
	}
	condExpr struct {
		node
		test, then, els expr // els may be nil
	}
	// nsrefExpr is the target ns.attr of {% set ns.attr = ... %}.
	nsrefExpr struct {
		node
		name, attr string
	}
)

type stmt interface{}

type (
	dataStmt struct {
		text string
	}
	outputStmt struct {
		x expr
	}
	// ifStmt holds an if with its elifs: conds[i] guards bodies[i].
	ifStmt struct {
		conds  []expr
		bodies [][]stmt
		els    []stmt
	}
	forStmt struct {
		target, iter, cond expr // cond may be nil
		body, els          []stmt
	}
	setStmt struct {
		target, value expr
	}
	setBlockStmt struct {
		target expr
		filter *filterExpr // may be nil
		body   []stmt
	}
	param struct {
		name string
		def  expr // may be nil
	}
	macroStmt struct {
		name   string
		params []param
		body   []stmt
	}
	callBlockStmt struct {
		params []param
		call   expr
		body   []stmt
	}
	filterBlockStmt struct {
		filter *filterExpr
		body   []stmt
	}
	withStmt struct {
		targets, values []expr
		body            []stmt
	}
	// scopeStmt is a block with an optional expression and no other
	// meaning for the analysis: block, autoescape, generation.
	scopeStmt struct {
		x    expr
		body []stmt
	}
	// loadStmt is include, import, from-import or extends.
	loadStmt struct {
		pos, end int
		kind     string
		template expr
		names    []string // bound by import and from-import
	}
	exprStmt struct {
		x expr
	}
	loopControlStmt struct{}
)
