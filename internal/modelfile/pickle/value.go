package pickle

// How much of a value is kept. Values are shared by reference, never
// copied, so DUP and GET cost nothing; containers keep only their first
// elements, so a stream that nests or repeats a container cannot make the
// scanner's memory grow faster than the opcodes it reads.
const (
	// keepTuple is how many elements of a tuple are kept: enough for the
	// arguments of every call the resolver models and for array shapes
	// (numpy allows 32 dimensions).
	keepTuple = 32
	// keepList is how many elements of a list or set are kept.
	keepList = 8
	// keepDict is how many key/value pairs of a dict are kept: joblib's
	// array wrapper state has six.
	keepDict = 8
	// maxText is how many bytes of a string are read for names and
	// evidence. No importable module or attribute name is longer.
	maxText = 256
)

// A kind says what a val holds.
type kind uint8

const (
	kAbsent  kind = iota // an empty memo slot
	kUnknown             // something not modelled
	kNone
	kBool
	kInt    // n
	kBigInt // an int too wide for int64; its value is not kept
	kFloat  // n holds the bits
	kStr    // text still in the stream: n is its offset, l its length
	kBytes  // bytes still in the stream: n is their offset, l their length
	kObj    // p
)

// A val is one symbolic value. Scalars and strings still in the stream
// need no allocation.
type val struct {
	k kind
	l uint32
	n int64
	p *obj
}

// An okind says what an obj is.
type okind uint8

const (
	oStr          okind = iota + 1 // decoded text: s (at most maxText bytes), n its full length
	oBytes                         // as oStr, for bytes
	oTuple                         // items (the first keepTuple), n elements in all
	oList                          // items, n
	oDict                          // items as key, value, key, value..., n pairs
	oSet                           // items, n
	oFrozenSet                     // items, n
	oGlobal                        // an imported object, or an attribute of one: s is its dotted path, "" if unknown
	oModule                        // a module object: s is its name
	oNamespace                     // a module's namespace dict (vars(m)): s is the module, callerNamespace for globals()
	oResult                        // the result of calling s ("" if unresolved) with items[0] as arguments
	oInstance                      // an object of class s made without __init__ (NEWOBJ and friends)
	oBound                         // method s of items[0], for receivers that are no global
	oAttrGetter                    // operator.attrgetter(*items)
	oItemGetter                    // operator.itemgetter(*items)
	oMethodCaller                  // operator.methodcaller(*items)
	oPartial                       // functools.partial(*items)
	oDtype                         // numpy.dtype(s): items[0] its elsize and items[1] its flags, once BUILD sets them
	oPersistent                    // what persistent_load returns for the pid items[0]
)

// callerNamespace names the namespace globals() returns when the
// unpickler calls it: that of the Python code calling pickle.load.
const callerNamespace = "<caller>"

// An obj is a value that needs more than a val holds.
type obj struct {
	k     okind
	imp   int32 // index in Result.Imports of the import this is, or -1
	call  int32 // index in Result.Calls of the call that made this, or -1
	n     int64
	s     string
	items []val
	how   *how // how a global or call result was reached, nil if imported directly
}

// how records the gadget chain that produced a value.
type how struct {
	via    string   // an expression, e.g. "getattr(importlib.import_module('os'),'system')"
	origin []string // imported globals the value derives from, outermost first
	dotted bool     // the path came from a dotted name in GLOBAL or STACK_GLOBAL
}

var (
	valNone    = val{k: kNone}
	valTrue    = val{k: kBool, n: 1}
	valFalse   = val{k: kBool}
	valUnknown = val{k: kUnknown}
)

func intVal(n int64) val { return val{k: kInt, n: n} }

func objVal(o *obj) val { return val{k: kObj, p: o} }

// is reports whether v is an obj of kind k.
func (v val) is(k okind) bool { return v.k == kObj && v.p.k == k }

// container reports whether v is a plain tuple, list, dict, set or
// frozenset made by literal opcodes.
func (v val) container() bool {
	if v.k != kObj {
		return false
	}
	switch v.p.k {
	case oTuple, oList, oDict, oSet, oFrozenSet:
		return true
	}
	return false
}

// literal reports whether v is something CPython cannot call and that has
// no methods a pickle can reach with APPEND, SETITEM or BUILD: a number,
// string, bytes or plain container.
func (v val) literal() bool {
	switch v.k {
	case kNone, kBool, kInt, kBigInt, kFloat, kStr, kBytes:
		return true
	case kObj:
		return v.container() || v.p.k == oStr || v.p.k == oBytes
	}
	return false
}

// seq returns the kept elements of a tuple or list and its length; n is -1
// when v is no tuple or list.
func (v val) seq() (items []val, n int64) {
	if v.k == kObj && (v.p.k == oTuple || v.p.k == oList) {
		return v.p.items, v.p.n
	}
	return nil, -1
}

// typeName is the Python type of a literal, for naming its methods.
func (v val) typeName() string {
	switch v.k {
	case kNone:
		return "builtins.NoneType"
	case kBool:
		return "builtins.bool"
	case kInt, kBigInt:
		return "builtins.int"
	case kFloat:
		return "builtins.float"
	case kStr:
		return "builtins.str"
	case kBytes:
		return "builtins.bytes"
	case kObj:
		switch v.p.k {
		case oStr:
			return "builtins.str"
		case oBytes:
			return "builtins.bytes"
		case oTuple:
			return "builtins.tuple"
		case oList:
			return "builtins.list"
		case oDict:
			return "builtins.dict"
		case oSet:
			return "builtins.set"
		case oFrozenSet:
			return "builtins.frozenset"
		case oNamespace:
			return "builtins.dict"
		case oDtype:
			return "numpy.dtype"
		case oAttrGetter:
			return "operator.attrgetter"
		case oItemGetter:
			return "operator.itemgetter"
		case oMethodCaller:
			return "operator.methodcaller"
		case oPartial:
			return "functools.partial"
		case oInstance:
			return v.p.s
		}
	}
	return ""
}
