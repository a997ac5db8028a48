package pickle

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// maxRenderDepth bounds how deep nested containers are rendered. Values
// may be shared or even contain themselves, so rendering stops at this
// depth and at the byte budget, whichever comes first.
const maxRenderDepth = 4

// A renderer writes a bounded Python-like rendering of values.
type renderer struct {
	m   *machine
	b   []byte
	max int
	cut bool
}

// render renders v in at most max bytes (plus a closing "…" if cut).
func (m *machine) render(v val, max int) string {
	w := renderer{m: m, max: max}
	w.val(v, 0)
	return w.String()
}

// renderItems renders values as the inside of a tuple, without brackets.
func (m *machine) renderItems(items []val) string {
	w := renderer{m: m, max: maxArgs}
	for i, v := range items {
		if i > 0 {
			w.str(", ")
		}
		w.val(v, 1)
	}
	return w.String()
}

// expr renders v as the expression that produced it, for Via chains.
func (m *machine) expr(v val) string {
	if v.k == kObj {
		o := v.p
		if o.how != nil && o.how.via != "" {
			return o.how.via
		}
		if (o.k == oGlobal || o.k == oModule) && o.s != "" {
			return o.s
		}
	}
	return m.render(v, maxVia)
}

func (w *renderer) String() string {
	if w.cut {
		return string(w.b) + "…"
	}
	return string(w.b)
}

func (w *renderer) str(s string) {
	if w.cut {
		return
	}
	if room := w.max - len(w.b); len(s) > room {
		w.b = append(w.b, clipBytes(s, room)...)
		w.cut = true
		return
	}
	w.b = append(w.b, s...)
}

func (w *renderer) val(v val, depth int) {
	if w.cut {
		return
	}
	switch v.k {
	case kAbsent, kUnknown:
		w.str("?")
	case kNone:
		w.str("None")
	case kBool:
		if v.n != 0 {
			w.str("True")
		} else {
			w.str("False")
		}
	case kInt:
		w.str(strconv.FormatInt(v.n, 10))
	case kBigInt:
		w.str("<int>")
	case kFloat:
		w.str(strconv.FormatFloat(math.Float64frombits(uint64(v.n)), 'g', -1, 64))
	case kStr, kBytes:
		s, whole := w.m.text(v)
		w.str(pyQuote(s, whole, v.k == kBytes))
	case kObj:
		w.obj(v, depth)
	}
}

func (w *renderer) obj(v val, depth int) {
	o := v.p
	if depth > maxRenderDepth {
		w.str("…")
		return
	}
	switch o.k {
	case oStr, oBytes:
		w.str(pyQuote(o.s, int64(len(o.s)) == o.n, o.k == oBytes))
	case oTuple:
		// ('x',) is a tuple; ('x') is not.
		close := ")"
		if o.n == 1 {
			close = ",)"
		}
		w.seq("(", close, o, depth, 1)
	case oList:
		w.seq("[", "]", o, depth, 1)
	case oSet:
		if o.n == 0 {
			w.str("set()")
			return
		}
		w.seq("{", "}", o, depth, 1)
	case oFrozenSet:
		w.seq("frozenset({", "})", o, depth, 1)
	case oDict:
		w.seq("{", "}", o, depth, 2)
	case oGlobal, oModule:
		switch {
		case o.how != nil && o.how.via != "":
			w.str(o.how.via)
		case o.s != "":
			w.str(o.s)
		default:
			w.str("?")
		}
	case oNamespace:
		if o.how != nil && o.how.via != "" {
			w.str(o.how.via)
		} else {
			w.str("vars(" + o.s + ")")
		}
	case oResult:
		if o.s == "" {
			w.str("?")
		} else {
			w.str(o.s)
		}
		if len(o.items) > 0 && o.items[0].is(oTuple) {
			w.val(o.items[0], depth+1)
		} else {
			w.str("(…)")
		}
	case oInstance:
		w.str("<")
		if o.s == "" {
			w.str("?")
		} else {
			w.str(o.s)
		}
		w.str(" object>")
	case oBound, oAttrGetter, oItemGetter, oMethodCaller, oPartial:
		if o.how != nil {
			w.str(o.how.via)
		} else {
			w.str(v.typeName() + "(…)")
		}
	case oDtype:
		w.str("numpy.dtype(" + pyQuote(o.s, true, false) + ")")
	case oPersistent:
		w.str("persistent_load(")
		if len(o.items) > 0 {
			w.val(o.items[0], depth+1)
		}
		w.str(")")
	}
}

// seq writes the kept elements of a container, step values per element
// (2 for dict pairs), and "…" for the ones not kept.
func (w *renderer) seq(open, close string, o *obj, depth, step int) {
	w.str(open)
	for i := 0; i < len(o.items) && !w.cut; i += step {
		if i > 0 {
			w.str(", ")
		}
		w.val(o.items[i], depth+1)
		if step == 2 && i+1 < len(o.items) {
			w.str(": ")
			w.val(o.items[i+1], depth+1)
		}
	}
	if int64(len(o.items)/step) < o.n {
		if len(o.items) > 0 {
			w.str(", ")
		}
		w.str("…")
	}
	w.str(close)
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return clipBytes(s, n) + "…"
}

func clipBytes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
