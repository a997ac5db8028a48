package jinja

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of constant folding. Beyond them a value becomes "open" (not
// known): an attribute name that is open is reported as dynamic, so
// running out of precision never turns into a pass.
const (
	maxAlts   = 16      // alternatives tracked per value
	maxStr    = 4096    // bytes of a string built by folding (literals are kept whole)
	maxItems  = 256     // items of a list or dict built by folding
	maxNest   = 16      // nesting of folded lists and dicts
	maxBudget = 8 << 20 // bytes of strings built by folding over one template
)

// A cval is a constant Python value as a template would see it: string,
// int64, float64, bool, noneVal, *clist, *cdict or *macroVal.
type cval = any

type noneVal struct{}

// clist is a list or tuple. open says items may exist that are not
// listed (an append of an unknown value).
type clist struct {
	items []cval
	tuple bool
	open  bool
	built bool
	nest  int
}

// cdict is a dict or, with ns set, a Jinja namespace.
type cdict struct {
	keys, vals []cval
	ns         bool
	open       bool
	built      bool
	nest       int
}

// macroVal is a macro: calling it yields out, its body's output.
type macroVal struct{ out *val }

// A val is what the walker knows about an expression's value: a set of
// possible constants, and whether it may be something else.
type val struct {
	alts  []cval
	open  bool   // may be a value not in alts
	built bool   // made by string operations from parts not all known
	taint bool   // reached through a reported construct: what follows is suspect
	root  string // the template global it was reached from by attributes or items
	// pre is a prefix every value outside alts is known to start with, if
	// any: '<|' ~ role cannot become a dunder.
	pre string
}

// prefix is the longest prefix all of v's possible values share as
// strings.
func prefix(v val) string {
	first := true
	p := ""
	take := func(s string) {
		if first {
			p, first = s, false
			return
		}
		n := 0
		for n < len(p) && n < len(s) && p[n] == s[n] {
			n++
		}
		p = p[:n]
	}
	for _, a := range v.alts {
		s, ok := str(a)
		if !ok {
			return ""
		}
		take(s)
	}
	if v.open {
		take(v.pre)
	}
	return p
}

// concatPrefix is what every value of a joined to b starts with.
func concatPrefix(a, b val) string {
	if c, ok := a.single(); ok {
		if s, ok := str(c); ok && len(s) <= maxStr {
			return s + prefix(b)
		}
	}
	return prefix(a)
}

func known(c cval) val { return val{alts: []cval{c}} }

var openVal = val{open: true}

// single returns v's one constant, if it has exactly one and nothing else.
func (v val) single() (cval, bool) {
	if v.open || len(v.alts) != 1 {
		return nil, false
	}
	return v.alts[0], true
}

// addAlt adds c to v's alternatives, unless present; past maxAlts v is
// open.
func (v *val) addAlt(c cval) {
	for _, a := range v.alts {
		if a == c {
			return
		}
	}
	if len(v.alts) >= maxAlts {
		v.open, v.built = true, true
		return
	}
	v.alts = append(v.alts, c)
}

func union(a, b val) val {
	out := val{open: a.open || b.open, built: a.built || b.built, taint: a.taint || b.taint, root: a.root}
	if out.root == "" {
		out.root = b.root
	}
	out.alts = make([]cval, 0, len(a.alts)+len(b.alts))
	for _, c := range a.alts {
		out.addAlt(c)
	}
	for _, c := range b.alts {
		out.addAlt(c)
	}
	if out.open {
		out.pre = lcp(prefix(a), prefix(b))
	}
	return out
}

func lcp(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}

// Outcomes of folding one combination of constants.
const (
	foldOK      = iota
	foldError   // Python would raise: the combination yields nothing
	foldUnknown // we cannot compute it: the result is open
)

// lift applies f to every combination of a's and b's constants.
func (w *walker) lift(a, b val, stringy bool, f func(x, y cval) (cval, int)) val {
	out := val{open: a.open || b.open, built: a.built || b.built, taint: a.taint || b.taint}
	if out.open && stringy {
		out.built = true
	}
	if w.overBudget && stringy {
		out.open, out.built = true, true
		return out
	}
	for _, x := range a.alts {
		for _, y := range b.alts {
			if len(out.alts) >= maxAlts {
				out.open, out.built = true, true
				return out
			}
			c, st := f(x, y)
			switch st {
			case foldOK:
				out.addAlt(c)
			case foldUnknown:
				out.open, out.built = true, true
			}
		}
	}
	return out
}

// lift1 applies f to each of a's constants.
func (w *walker) lift1(a val, stringy bool, f func(x cval) (cval, int)) val {
	out := val{open: a.open, built: a.built, taint: a.taint}
	if out.open && stringy {
		out.built = true
	}
	for _, x := range a.alts {
		c, st := f(x)
		switch st {
		case foldOK:
			out.addAlt(c)
		case foldUnknown:
			out.open, out.built = true, true
		}
	}
	return out
}

// newStr accounts for a string the walker builds; past the budget, or
// maxStr, the string is not built.
func (w *walker) newStr(n int) bool {
	if n > maxStr {
		return false
	}
	if w.budget < n {
		w.overBudget = true
		return false
	}
	w.budget -= n
	return true
}

// str is Python's str() of a constant, where we know it.
func str(c cval) (string, bool) {
	switch c := c.(type) {
	case string:
		return c, true
	case int64:
		return strconv.FormatInt(c, 10), true
	case bool:
		if c {
			return "True", true
		}
		return "False", true
	case noneVal:
		return "None", true
	case float64:
		if math.IsInf(c, 0) || math.IsNaN(c) || math.Abs(c) >= 1e16 || (c != 0 && math.Abs(c) < 1e-4) {
			return "", false
		}
		s := strconv.FormatFloat(c, 'f', -1, 64)
		if !strings.ContainsAny(s, ".") {
			s += ".0"
		}
		return s, true
	}
	return "", false
}

// concat is Jinja's ~: str() of both sides joined.
func (w *walker) concat(a, b val) val {
	out := w.lift(a, b, true, func(x, y cval) (cval, int) {
		xs, ok1 := str(x)
		ys, ok2 := str(y)
		if !ok1 || !ok2 || !w.newStr(len(xs)+len(ys)) {
			return nil, foldUnknown
		}
		return xs + ys, foldOK
	})
	if out.open {
		out.pre = concatPrefix(a, b)
	}
	return out
}

func isStringy(v val) bool {
	for _, a := range v.alts {
		if _, ok := a.(string); ok {
			return true
		}
	}
	return v.built
}

func num(c cval) (float64, bool, bool) { // value, is int, ok
	switch c := c.(type) {
	case int64:
		return float64(c), true, true
	case bool:
		if c {
			return 1, true, true
		}
		return 0, true, true
	case float64:
		return c, false, true
	}
	return 0, false, false
}

// arith folds + - * / // % ** as Python does on the constants we track.
func (w *walker) arith(op string, a, b val) val {
	stringy := isStringy(a) || isStringy(b) || (a.open && b.open && op == "+")
	out := w.arith2(op, a, b, stringy)
	if out.open && op == "+" {
		out.pre = concatPrefix(a, b)
	}
	return out
}

func (w *walker) arith2(op string, a, b val, stringy bool) val {
	return w.lift(a, b, stringy, func(x, y cval) (cval, int) {
		switch op {
		case "+":
			if xs, ok := x.(string); ok {
				ys, ok := y.(string)
				if !ok {
					return nil, foldError
				}
				if !w.newStr(len(xs) + len(ys)) {
					return nil, foldUnknown
				}
				return xs + ys, foldOK
			}
			if xl, ok := x.(*clist); ok {
				yl, ok := y.(*clist)
				if !ok || xl.tuple != yl.tuple {
					return nil, foldError
				}
				if len(xl.items)+len(yl.items) > maxItems || xl.open || yl.open {
					return nil, foldUnknown
				}
				items := append(append([]cval{}, xl.items...), yl.items...)
				return &clist{items: items, tuple: xl.tuple, built: xl.built || yl.built, nest: max(xl.nest, yl.nest)}, foldOK
			}
		case "*":
			s, n, ok := strTimes(x, y)
			if !ok {
				s, n, ok = strTimes(y, x)
			}
			if ok {
				if n <= 0 {
					return "", foldOK
				}
				if int64(len(s))*n > maxStr || !w.newStr(len(s)*int(n)) {
					return nil, foldUnknown
				}
				return strings.Repeat(s, int(n)), foldOK
			}
		case "%":
			if f, ok := x.(string); ok {
				var args []cval
				var m *cdict
				switch y := y.(type) {
				case *clist:
					if !y.tuple {
						args = []cval{y}
					} else {
						if y.open {
							return nil, foldUnknown
						}
						args = y.items
					}
				case *cdict:
					m = y
					args = []cval{y}
				default:
					args = []cval{y}
				}
				s, ok := w.percent(f, args, m)
				if !ok {
					return nil, foldUnknown
				}
				return s, foldOK
			}
		}
		xf, xi, ok1 := num(x)
		yf, yi, ok2 := num(y)
		if !ok1 || !ok2 {
			return nil, foldUnknown
		}
		ints := xi && yi
		switch op {
		case "+", "-", "*":
			r := xf + yf
			switch op {
			case "-":
				r = xf - yf
			case "*":
				r = xf * yf
			}
			if ints && math.Abs(r) < 1<<53 {
				return int64(r), foldOK
			}
			if ints {
				return nil, foldUnknown
			}
			return r, foldOK
		case "/":
			if yf == 0 {
				return nil, foldError
			}
			return xf / yf, foldOK
		case "//", "%":
			if yf == 0 {
				return nil, foldError
			}
			q := math.Floor(xf / yf)
			r := xf - q*yf
			res := q
			if op == "%" {
				res = r
			}
			if ints && math.Abs(res) < 1<<53 {
				return int64(res), foldOK
			}
			return res, foldOK
		case "**":
			r := math.Pow(xf, yf)
			if ints && yf >= 0 && math.Abs(r) < 1<<53 {
				return int64(r), foldOK
			}
			return nil, foldUnknown
		}
		return nil, foldUnknown
	})
}

func strTimes(x, y cval) (string, int64, bool) {
	s, ok := x.(string)
	if !ok {
		return "", 0, false
	}
	switch n := y.(type) {
	case int64:
		return s, n, true
	case bool:
		if n {
			return s, 1, true
		}
		return s, 0, true
	}
	return "", 0, false
}

// percent is Python's printf-style formatting for the conversions that
// can spell a name: %s, %c, %d, %i, %x, %X, %o and %%, with (key) lookups
// and no width or precision.
func (w *walker) percent(f string, args []cval, m *cdict) (string, bool) {
	if len(f) > maxStr {
		return "", false
	}
	var b strings.Builder
	next := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		i++
		if i >= len(f) {
			return "", false
		}
		var arg cval
		if f[i] == '(' {
			j := strings.IndexByte(f[i:], ')')
			if j < 0 || m == nil {
				return "", false
			}
			v, ok := m.get(f[i+1 : i+j])
			if !ok {
				return "", false
			}
			arg = v
			i += j + 1
			if i >= len(f) {
				return "", false
			}
		} else if f[i] != '%' {
			if next >= len(args) {
				return "", false
			}
			arg = args[next]
			next++
		}
		switch f[i] {
		case '%':
			b.WriteByte('%')
		case 's':
			s, ok := str(arg)
			if !ok || b.Len()+len(s) > maxStr {
				return "", false
			}
			b.WriteString(s)
		case 'c':
			switch a := arg.(type) {
			case int64:
				if a < 0 || a > unicode.MaxRune {
					return "", false
				}
				b.WriteRune(rune(a))
			case string:
				if utf8.RuneCountInString(a) != 1 {
					return "", false
				}
				b.WriteString(a)
			default:
				return "", false
			}
		case 'd', 'i', 'x', 'X', 'o':
			n, ok := arg.(int64)
			if !ok {
				return "", false
			}
			base := 10
			switch f[i] {
			case 'x', 'X':
				base = 16
			case 'o':
				base = 8
			}
			s := strconv.FormatInt(n, base)
			if f[i] == 'X' {
				s = strings.ToUpper(s)
			}
			b.WriteString(s)
		default:
			return "", false
		}
		if !w.newStr(b.Len()) {
			return "", false
		}
	}
	if next != len(args) && m == nil {
		return "", false // Python: not all arguments converted
	}
	return b.String(), true
}

func (d *cdict) get(k cval) (cval, bool) {
	for i, key := range d.keys {
		if key == k {
			return d.vals[i], true
		}
	}
	return nil, false
}

// runes returns s as code points when it is not ASCII.
func runes(s string) ([]rune, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return []rune(s), true
		}
	}
	return nil, false
}

// index is Python's obj[key] for constants, with a fold outcome.
func (w *walker) index(obj, key cval) (cval, int) {
	switch o := obj.(type) {
	case string:
		i, ok := key.(int64)
		if !ok || len(o) > maxStr {
			return nil, foldUnknown // a string key: Jinja falls back to getattr
		}
		r, isR := runes(o)
		n := int64(len(o))
		if isR {
			n = int64(len(r))
		}
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, foldError
		}
		if isR {
			return string(r[i]), foldOK
		}
		return o[i : i+1], foldOK
	case *clist:
		i, ok := key.(int64)
		if !ok || o.open {
			return nil, foldUnknown
		}
		n := int64(len(o.items))
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, foldError
		}
		return o.items[i], foldOK
	case *cdict:
		if v, ok := o.get(key); ok {
			return v, foldOK
		}
		return nil, foldUnknown
	}
	return nil, foldUnknown
}

// slice is Python's obj[lo:hi:step] for strings and lists, with a fold
// outcome.
func (w *walker) slice(obj cval, lo, hi, step cval) (cval, int) {
	var n int
	var r []rune
	var isR bool
	switch o := obj.(type) {
	case string:
		if len(o) > maxStr {
			return nil, foldUnknown
		}
		r, isR = runes(o)
		n = len(o)
		if isR {
			n = len(r)
		}
	case *clist:
		if o.open {
			return nil, foldUnknown
		}
		n = len(o.items)
	default:
		return nil, foldUnknown
	}
	idx := func(c cval, def int64) (int64, bool) {
		switch c := c.(type) {
		case nil, noneVal:
			return def, true
		case int64:
			return c, true
		case bool:
			if c {
				return 1, true
			}
			return 0, true
		}
		return 0, false
	}
	st, ok := idx(step, 1)
	if !ok || st == 0 {
		return nil, foldUnknown
	}
	var defLo, defHi int64 = 0, int64(n)
	if st < 0 {
		defLo, defHi = int64(n)-1, -int64(n)-1
	}
	a, ok1 := idx(lo, defLo)
	b, ok2 := idx(hi, defHi)
	if !ok1 || !ok2 {
		return nil, foldUnknown
	}
	clamp := func(i int64) int64 {
		if i < 0 {
			i += int64(n)
			if i < 0 {
				if st < 0 {
					return -1
				}
				return 0
			}
		}
		if i >= int64(n) {
			if st < 0 {
				return int64(n) - 1
			}
			return int64(n)
		}
		return i
	}
	a, b = clamp(a), clamp(b)
	var picks []int
	for i := a; (st > 0 && i < b) || (st < 0 && i > b); i += st {
		picks = append(picks, int(i))
		if len(picks) > maxStr {
			return nil, foldUnknown
		}
	}
	switch o := obj.(type) {
	case string:
		var sb strings.Builder
		for _, i := range picks {
			if isR {
				sb.WriteRune(r[i])
			} else {
				sb.WriteByte(o[i])
			}
		}
		if !w.newStr(sb.Len()) {
			return nil, foldUnknown
		}
		return sb.String(), foldOK
	case *clist:
		items := make([]cval, 0, len(picks))
		for _, i := range picks {
			items = append(items, o.items[i])
		}
		return &clist{items: items, tuple: o.tuple, built: o.built, nest: o.nest}, foldOK
	}
	return nil, foldUnknown
}

// elements is what iterating over a value yields: characters of a
// string, items of a list, keys of a dict.
func (w *walker) elements(v val) val {
	out := val{open: v.open, built: v.built, taint: v.taint}
	for _, a := range v.alts {
		switch a := a.(type) {
		case string:
			if !w.newStr(len(a)) {
				out.open, out.built = true, true
				continue
			}
			for _, r := range a {
				out.addAlt(string(r))
			}
		case *clist:
			out.open = out.open || a.open
			out.built = out.built || a.built
			for _, it := range a.items {
				out.addAlt(it)
			}
		case *cdict:
			out.open = out.open || a.open || a.ns
			out.built = out.built || a.built
			if !a.ns {
				for _, k := range a.keys {
					out.addAlt(k)
				}
			}
		default:
			out.open = true
		}
	}
	return out
}

// items returns a constant's elements as a list, when all are known.
func items(c cval) ([]cval, bool) {
	switch c := c.(type) {
	case string:
		if len(c) > maxStr {
			return nil, false
		}
		var out []cval
		for _, r := range c {
			out = append(out, string(r))
		}
		return out, true
	case *clist:
		return c.items, !c.open
	case *cdict:
		return c.keys, !c.open && !c.ns
	}
	return nil, false
}

func nestOf(items []cval) int {
	n := 0
	for _, it := range items {
		switch it := it.(type) {
		case *clist:
			n = max(n, it.nest+1)
		case *cdict:
			n = max(n, it.nest+1)
		}
	}
	return n
}

// join is str.join and Jinja's join filter over known items.
func (w *walker) join(sep string, its []cval) (cval, int) {
	var b strings.Builder
	for i, it := range its {
		s, ok := str(it)
		if !ok || b.Len()+len(sep)+len(s) > maxStr {
			return nil, foldUnknown
		}
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	if !w.newStr(b.Len()) {
		return nil, foldUnknown
	}
	return b.String(), foldOK
}

func reverseString(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func pyStrip(s, chars string, left, right bool, haveChars bool) string {
	cut := func(r rune) bool {
		if haveChars {
			return strings.ContainsRune(chars, r)
		}
		return isSpace(r)
	}
	if left {
		s = strings.TrimLeftFunc(s, cut)
	}
	if right {
		s = strings.TrimRightFunc(s, cut)
	}
	return s
}

func pyTitle(s string) string {
	var b strings.Builder
	prev := false
	for _, r := range s {
		if unicode.IsLetter(r) {
			if prev {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToTitle(r))
			}
			prev = true
		} else {
			b.WriteRune(r)
			prev = false
		}
	}
	return b.String()
}

func pyCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToTitle(r)) + strings.ToLower(s[n:])
}

func pySwapcase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

// pyReplace is str.replace with an optional count.
// pyReplace is str.replace with an optional count; false when the result
// would be longer than maxStr.
func pyReplace(s, old, repl string, count int64) (string, bool) {
	n := int64(strings.Count(s, old))
	if count >= 0 {
		n = min(n, count)
	}
	if int64(len(s))+n*int64(len(repl)-len(old)) > maxStr {
		return "", false
	}
	return strings.Replace(s, old, repl, int(n)), true
}

// pySplit is str.split: on whitespace runs without sep, else on sep.
func pySplit(s string, sep *string, maxsplit int) ([]cval, bool) {
	var parts []string
	if sep == nil {
		parts = strings.FieldsFunc(s, isSpace)
		if maxsplit >= 0 && len(parts) > maxsplit+1 {
			return nil, false
		}
	} else {
		if *sep == "" {
			return nil, false
		}
		parts = strings.SplitN(s, *sep, maxsplit+1)
		if maxsplit < 0 {
			parts = strings.Split(s, *sep)
		}
	}
	if len(parts) > maxItems {
		return nil, false
	}
	out := make([]cval, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, true
}
