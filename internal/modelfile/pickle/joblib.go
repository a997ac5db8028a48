package pickle

import (
	"fmt"
	"strconv"
	"strings"
)

// joblib writes numpy arrays into its pickles inline: right after the
// BUILD that gives a NumpyArrayWrapper its state come the array's bytes,
// which joblib's unpickler reads itself before going on with opcodes
// (joblib.numpy_pickle.NumpyArrayWrapper.read_array). An array of Python
// objects is written as a pickle of its own instead, whose opcodes run too.

// joblibArray skips the array that follows a NumpyArrayWrapper's BUILD,
// or reads the nested pickle of an object array.
func (m *machine) joblibArray(state val) {
	off := m.pos()
	// joblib reads the array from the file itself, past the frame its
	// Python unpickler has buffered: joblib ends the frame at the BUILD.
	if m.frameEnd != noFrame {
		if off < m.frameEnd {
			m.anomaly(off, "joblib-array", "array data starts inside a frame: joblib reads other bytes than this stream shows")
		}
		m.frameEnd = noFrame
	}
	bad := func(why string) {
		m.anomaly(off, "joblib-array", why)
		m.brk("joblib array: " + why)
	}
	if !state.is(oDict) {
		bad("the wrapper's state is no dict")
		return
	}
	get := func(key string) (val, bool) {
		items := state.p.items
		for i := 0; i+1 < len(items); i += 2 {
			if k, ok := m.name(items[i]); ok && k == key {
				return items[i+1], true
			}
		}
		return val{}, false
	}
	dt, ok := get("dtype")
	if !ok || !dt.is(oDtype) {
		bad("no dtype in the wrapper's state")
		return
	}
	d := dt.p
	elsize, flags := d.items[0].n, d.items[1].n
	// NPY_ITEM_HASOBJECT is bit 0 of a dtype's flags; 'O' is the object
	// type itself.
	if strings.HasPrefix(d.s, "O") || flags&1 != 0 {
		m.nested()
		return
	}
	size, ok := itemSize(d.s, elsize)
	if !ok {
		bad(fmt.Sprintf("unknown dtype %q", d.s))
		return
	}
	shapeVal, ok := get("shape")
	if !ok {
		bad("no shape in the wrapper's state")
		return
	}
	shape, n := shapeVal.seq()
	if !shapeVal.is(oTuple) || int64(len(shape)) != n {
		bad("shape is no tuple of ints")
		return
	}
	left := m.size - m.pos()
	count := int64(1)
	for _, s := range shape {
		if s.k != kInt || s.n < 0 {
			bad("shape is no tuple of ints")
			return
		}
		if s.n != 0 && count > left/s.n {
			count = left + 1 // more than is left: truncated below
			continue
		}
		count *= s.n
	}
	if a, ok := get("numpy_array_alignment_bytes"); ok && a.k != kNone {
		b, ok := m.arg(1)
		if !ok {
			return
		}
		if !m.skip(int64(b[0])) {
			return
		}
		left = m.size - m.pos()
	}
	if count > left/size+1 || count*size > left {
		m.truncated(fmt.Sprintf("joblib array of %d × %d bytes, %d left", count, size, left))
		return
	}
	m.skip(count * size)
}

// nested reads the pickle joblib writes for an array of Python objects,
// with an unpickler of its own, then returns to the outer one.
func (m *machine) nested() {
	if m.depth >= maxNest {
		m.brk("joblib object arrays nested too deep")
		return
	}
	saved := unpickler{m.stack, m.marks, m.fence, m.memo, m.sparse, m.memoLen, m.proto, m.frameEnd, m.pickle}
	m.stack, m.marks, m.memo = nil, nil, nil
	m.depth++
	if m.begin() && m.run() {
		m.res.Pickles++
	}
	m.depth--
	m.stack, m.marks, m.fence, m.memo, m.sparse = saved.stack, saved.marks, saved.fence, saved.memo, saved.sparse
	m.memoLen, m.proto, m.frameEnd, m.pickle = saved.memoLen, saved.proto, saved.frameEnd, saved.pickle
}

// unpickler is the per-pickle state saved across a nested pickle.
type unpickler struct {
	stack    []val
	marks    []int
	fence    int
	memo     []val
	sparse   map[int64]val
	memoLen  int
	proto    int
	frameEnd int64
	pickle   int
}

// itemSize is the size in bytes of one element of the numpy type named by
// the type string numpy's dtype reduction writes ("f8", "U5", "V16",
// "M8"...); elsize is the size its state gives, -1 for fixed-size types.
func itemSize(t string, elsize int64) (int64, bool) {
	if t == "" {
		return 0, false
	}
	kind, digits := t[0], t[1:]
	if i := strings.IndexByte(digits, '['); i >= 0 {
		digits = digits[:i] // a datetime unit, as in M8[s]
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	switch kind {
	case 'b', 'i', 'u', 'f', 'c', 'M', 'm':
		switch n {
		case 1, 2, 4, 8, 16, 32:
			return n, true
		}
	case 'S', 'a', 'V':
		if elsize > 0 {
			n = elsize
		}
		// A zero item size makes joblib divide by zero.
		return n, n > 0
	case 'U':
		if elsize > 0 {
			return elsize, true
		}
		return 4 * n, n > 0
	}
	return 0, false
}
