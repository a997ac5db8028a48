// Package marshal reads CPython's marshal format — the serialisation of the
// code objects that Keras Lambda layers carry — without running anything.
//
// Marshal data does not say which Python wrote it, and the layout of a code
// object changes between versions: DecodeCode tries each known layout (Python 2,
// 3.0–3.7, 3.8–3.10, 3.11 and later) and returns every reading that parses,
// so that a stream built to read one way in this package and another way
// in the interpreter still shows what each reading references. Every read
// is bounded by [Limits]; malformed data wraps [ErrMalformed], a limit
// [ErrLimit].
package marshal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits bound the work and memory of one decode. A zero field takes its
// value from DefaultLimits.
type Limits struct {
	// Bytes is the most input read: a Lambda's code is a few KB.
	Bytes int
	// Objects is the most objects decoded, references included.
	Objects int
	// Depth is the deepest nesting of containers and code objects.
	Depth int
}

// DefaultLimits take any real function's code and keep a hostile stream to
// milliseconds and a few tens of megabytes.
var DefaultLimits = Limits{
	// The code of a whole module of a few thousand lines is under 1 MiB.
	Bytes: 16 << 20,
	// About 100 bytes live each: some 100 MiB in the worst case.
	Objects: 1 << 20,
	// CPython stops at 2000 (1000 on Windows); real code nests a few levels.
	Depth: 200,
}

func (l Limits) withDefaults() Limits {
	if l.Bytes <= 0 {
		l.Bytes = DefaultLimits.Bytes
	}
	if l.Objects <= 0 {
		l.Objects = DefaultLimits.Objects
	}
	if l.Depth <= 0 {
		l.Depth = DefaultLimits.Depth
	}
	return l
}

// Errors the decoder returns, wrapped with the offset and reason.
var (
	ErrMalformed = errors.New("marshal: malformed data")
	ErrLimit     = errors.New("marshal: limit reached")
)

// A Layout is the field order of code objects in one range of Python
// versions.
type Layout int

// The layouts, oldest first.
const (
	// Py2 is Python 2: no keyword-only arguments; str is bytes.
	Py2 Layout = iota + 1
	// Py30 is Python 3.0 to 3.7.
	Py30
	// Py38 is Python 3.8 to 3.10: positional-only arguments added.
	Py38
	// Py311 is Python 3.11 and later: locals, cells and free variables
	// in one tuple with a kinds byte string, and a qualified name.
	Py311
)

// Layouts lists every layout, in the order Code tries them: newest first.
var Layouts = []Layout{Py311, Py38, Py30, Py2}

func (l Layout) String() string {
	switch l {
	case Py2:
		return "python 2"
	case Py30:
		return "python 3.0-3.7"
	case Py38:
		return "python 3.8-3.10"
	case Py311:
		return "python 3.11+"
	}
	return "layout(" + strconv.Itoa(int(l)) + ")"
}

// Type codes, as CPython's marshal.c names them.
const (
	typeNull          = '0'
	typeNone          = 'N'
	typeFalse         = 'F'
	typeTrue          = 'T'
	typeStopIter      = 'S'
	typeEllipsis      = '.'
	typeInt           = 'i'
	typeInt64         = 'I' // no longer written; still read
	typeFloat         = 'f'
	typeBinaryFloat   = 'g'
	typeComplex       = 'x'
	typeBinaryComplex = 'y'
	typeLong          = 'l'
	typeString        = 's' // bytes (Python 2: str)
	typeInterned      = 't'
	typeStringRef     = 'R' // Python 2 only: index into interned strings
	typeRef           = 'r'
	typeTuple         = '('
	typeList          = '['
	typeDict          = '{'
	typeCode          = 'c'
	typeUnicode       = 'u'
	typeSet           = '<'
	typeFrozenSet     = '>'
	typeSlice         = ':' // Python 3.14
	typeASCII         = 'a'
	typeASCIIInterned = 'A'
	typeSmallTuple    = ')'
	typeShortASCII    = 'z'
	typeShortASCIIInt = 'Z'
	flagRef           = 0x80
)

// The values Load returns are Go values for Python's:
//
//	None, Ellipsis, StopIteration, Null  the singletons below
//	bool, int64, *big.Int, float64, complex128
//	string                               str (Python 2: interned str)
//	Bytes                                bytes (Python 2: str)
//	*Seq                                 tuple, list, set, frozenset
//	*Dict                                dict
//	*Slice                               slice
//	*Code                                code
//
// Containers may refer to themselves through references: walk them with a
// set of those already seen.
type (
	// NoneType is Python's None.
	NoneType struct{}
	// EllipsisType is Python's Ellipsis.
	EllipsisType struct{}
	// StopIterationType is the StopIteration class, which marshal knows.
	StopIterationType struct{}
	// Bytes is a bytes object.
	Bytes []byte
)

// The singletons.
var (
	None          = NoneType{}
	Ellipsis      = EllipsisType{}
	StopIteration = StopIterationType{}
)

// A Seq is a tuple, list, set or frozenset.
type Seq struct {
	Kind  byte // '(' tuple, '[' list, '<' set, '>' frozenset
	Items []any
}

// A Dict is a dict, in marshal order.
type Dict struct {
	Keys, Values []any
}

// A Slice is a slice object.
type Slice struct {
	Start, Stop, Step any
}

// A Code is a code object.
type Code struct {
	Layout          Layout
	ArgCount        int32
	PosOnlyArgCount int32 // 3.8 and later
	KwOnlyArgCount  int32 // 3.0 and later
	NLocals         int32 // before 3.11
	StackSize       int32
	Flags           int32
	Bytecode        []byte
	Consts          []any
	// Names are co_names: the globals, attributes and imports the code
	// refers to by name. These say what it reaches.
	Names []string
	// VarNames are the local variable names: co_varnames, then
	// co_freevars and co_cellvars (before 3.11), or co_localsplusnames.
	VarNames  []string
	Filename  string
	Name      string
	QualName  string // 3.11 and later
	FirstLine int32
	// Offset is where the code object starts in the input.
	Offset int
}

// A decoder reads one marshal stream with one code layout.
type decoder struct {
	b       []byte
	off     int
	layout  Layout
	lim     Limits
	objects int
	depth   int
	refs    []any // FLAG_REF objects in order; nil while a code object is read
	pending []bool
	interns []string // Python 2's interned strings, for 'R'
}

func (d *decoder) errorf(format string, a ...any) error {
	return fmt.Errorf("offset %d: %s: %w", d.off, fmt.Sprintf(format, a...), ErrMalformed)
}

func (d *decoder) limit(format string, a ...any) error {
	return fmt.Errorf("offset %d: %s: %w", d.off, fmt.Sprintf(format, a...), ErrLimit)
}

func (d *decoder) byte() (byte, error) {
	if d.off >= len(d.b) {
		return 0, d.errorf("data ends")
	}
	c := d.b[d.off]
	d.off++
	return c, nil
}

func (d *decoder) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.off {
		return nil, d.errorf("%d bytes wanted, %d left", n, len(d.b)-d.off)
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p, nil
}

func (d *decoder) long() (int32, error) {
	p, err := d.bytes(4)
	if err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(p)), nil
}

// size reads a count of items that each take at least min bytes: a count
// the rest of the input cannot hold is malformed before anything is
// allocated for it.
func (d *decoder) size(what string, min int) (int, error) {
	n, err := d.long()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, d.errorf("%s size %d is negative", what, n)
	}
	if int64(n)*int64(min) > int64(len(d.b)-d.off) {
		return 0, d.errorf("%s of %d items cannot fit in the %d bytes left", what, n, len(d.b)-d.off)
	}
	return int(n), nil
}

// Load decodes the one object at the start of b with the given code
// layout. Bytes after it are ignored, as marshal.loads ignores them.
func Load(b []byte, layout Layout, lim Limits) (any, error) {
	v, _, err := load(b, layout, lim)
	return v, err
}

func load(b []byte, layout Layout, lim Limits) (any, int, error) {
	lim = lim.withDefaults()
	if len(b) > lim.Bytes {
		return nil, 0, fmt.Errorf("%d bytes of marshal data > limit %d: %w", len(b), lim.Bytes, ErrLimit)
	}
	d := &decoder{b: b, layout: layout, lim: lim}
	v, err := d.object()
	if err != nil {
		return nil, d.off, err
	}
	return v, d.off, nil
}

// object reads one object, as r_object does.
func (d *decoder) object() (any, error) {
	start := d.off
	code, err := d.byte()
	if err != nil {
		return nil, err
	}
	d.objects++
	if d.objects > d.lim.Objects {
		return nil, d.limit("more than %d objects", d.lim.Objects)
	}
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > d.lim.Depth {
		return nil, d.limit("nesting deeper than %d", d.lim.Depth)
	}
	flag := code&flagRef != 0
	typ := code &^ flagRef
	// keep records v in the reference table when the stream asked for it.
	keep := func(v any) any {
		if flag {
			d.refs = append(d.refs, v)
			d.pending = append(d.pending, false)
		}
		return v
	}
	switch typ {
	case typeNull:
		return nil, nil
	case typeNone:
		return None, nil
	case typeStopIter:
		return StopIteration, nil
	case typeEllipsis:
		return Ellipsis, nil
	case typeFalse:
		return false, nil
	case typeTrue:
		return true, nil
	case typeInt:
		n, err := d.long()
		if err != nil {
			return nil, err
		}
		return keep(int64(n)), nil
	case typeInt64:
		p, err := d.bytes(8)
		if err != nil {
			return nil, err
		}
		return keep(int64(binary.LittleEndian.Uint64(p))), nil
	case typeLong:
		v, err := d.pyLong()
		if err != nil {
			return nil, err
		}
		return keep(v), nil
	case typeFloat:
		f, err := d.textFloat()
		if err != nil {
			return nil, err
		}
		return keep(f), nil
	case typeBinaryFloat:
		p, err := d.bytes(8)
		if err != nil {
			return nil, err
		}
		return keep(math.Float64frombits(binary.LittleEndian.Uint64(p))), nil
	case typeComplex:
		re, err := d.textFloat()
		if err != nil {
			return nil, err
		}
		im, err := d.textFloat()
		if err != nil {
			return nil, err
		}
		return keep(complex(re, im)), nil
	case typeBinaryComplex:
		p, err := d.bytes(16)
		if err != nil {
			return nil, err
		}
		re := math.Float64frombits(binary.LittleEndian.Uint64(p))
		im := math.Float64frombits(binary.LittleEndian.Uint64(p[8:]))
		return keep(complex(re, im)), nil
	case typeString:
		n, err := d.size("bytes", 1)
		if err != nil {
			return nil, err
		}
		p, _ := d.bytes(n)
		return keep(Bytes(p)), nil
	case typeInterned, typeUnicode, typeASCII, typeASCIIInterned:
		n, err := d.size("string", 1)
		if err != nil {
			return nil, err
		}
		p, _ := d.bytes(n)
		var v any = string(p)
		if d.layout == Py2 && typ == typeInterned {
			// Python 2's interned str is bytes, and joins the list that
			// 'R' refers to.
			d.interns = append(d.interns, string(p))
		}
		return keep(v), nil
	case typeShortASCII, typeShortASCIIInt:
		n, err := d.byte()
		if err != nil {
			return nil, err
		}
		p, err := d.bytes(int(n))
		if err != nil {
			return nil, err
		}
		return keep(string(p)), nil
	case typeStringRef:
		if d.layout != Py2 {
			return nil, d.errorf("string reference 'R' outside Python 2 data")
		}
		i, err := d.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(d.interns) {
			return nil, d.errorf("string reference %d of %d", i, len(d.interns))
		}
		return d.interns[i], nil
	case typeRef:
		i, err := d.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(d.refs) {
			return nil, d.errorf("reference %d of %d", i, len(d.refs))
		}
		if d.pending[i] {
			// CPython rejects a reference to an object still being read
			// when that object is a code object or a non-empty frozenset.
			return nil, d.errorf("reference %d to an object not yet complete", i)
		}
		return d.refs[i], nil
	case typeSmallTuple, typeTuple, typeList, typeSet, typeFrozenSet:
		var n int
		if typ == typeSmallTuple {
			c, err := d.byte()
			if err != nil {
				return nil, err
			}
			n = int(c)
			if n > len(d.b)-d.off {
				return nil, d.errorf("tuple of %d items cannot fit in the %d bytes left", n, len(d.b)-d.off)
			}
			typ = typeTuple
		} else if n, err = d.size("container", 1); err != nil {
			return nil, err
		}
		if n > d.lim.Objects-d.objects {
			// Checked before the items are allocated for.
			return nil, d.limit("container of %d items: more than %d objects", n, d.lim.Objects)
		}
		s := &Seq{Kind: typ, Items: make([]any, 0, n)}
		idx := -1
		if flag {
			// Tuples, lists, sets and empty frozensets are registered
			// before their items are read, so an item may refer to its
			// container; a non-empty frozenset is built from its items
			// first.
			idx = len(d.refs)
			d.refs = append(d.refs, s)
			d.pending = append(d.pending, typ == typeFrozenSet && n > 0)
		}
		for range n {
			v, err := d.object()
			if err != nil {
				return nil, err
			}
			if v == nil {
				return nil, d.errorf("NULL item in a container at %d", start)
			}
			s.Items = append(s.Items, v)
		}
		if idx >= 0 {
			d.pending[idx] = false
		}
		return s, nil
	case typeDict:
		m := &Dict{}
		if flag {
			d.refs = append(d.refs, m)
			d.pending = append(d.pending, false)
		}
		for {
			k, err := d.object()
			if err != nil {
				return nil, err
			}
			if k == nil {
				return m, nil
			}
			v, err := d.object()
			if err != nil {
				return nil, err
			}
			if v == nil {
				return nil, d.errorf("NULL value in a dict at %d", start)
			}
			m.Keys = append(m.Keys, k)
			m.Values = append(m.Values, v)
		}
	case typeSlice:
		sl := &Slice{}
		idx := -1
		if flag {
			idx = len(d.refs)
			d.refs = append(d.refs, sl)
			d.pending = append(d.pending, true)
		}
		for _, p := range []*any{&sl.Start, &sl.Stop, &sl.Step} {
			v, err := d.object()
			if err != nil {
				return nil, err
			}
			if v == nil {
				return nil, d.errorf("NULL in a slice at %d", start)
			}
			*p = v
		}
		if idx >= 0 {
			d.pending[idx] = false
		}
		return sl, nil
	case typeCode:
		idx := -1
		if flag {
			idx = len(d.refs)
			d.refs = append(d.refs, nil)
			d.pending = append(d.pending, true)
		}
		c, err := d.code(start)
		if err != nil {
			return nil, err
		}
		if idx >= 0 {
			d.refs[idx], d.pending[idx] = c, false
		}
		return c, nil
	}
	return nil, d.errorf("unknown type code 0x%02x", code)
}

// pyLong reads a TYPE_LONG: a signed count of 15-bit digits, least
// significant first.
func (d *decoder) pyLong() (any, error) {
	n, err := d.long()
	if err != nil {
		return nil, err
	}
	neg := n < 0
	count := int64(n)
	if neg {
		count = -count
	}
	if count*2 > int64(len(d.b)-d.off) {
		return nil, d.errorf("long of %d digits cannot fit in the %d bytes left", count, len(d.b)-d.off)
	}
	// Pack the 15-bit digits into a big-endian byte string: building the
	// number digit by digit with big.Int would cost time quadratic in its
	// length.
	nbits := 15 * count
	be := make([]byte, (nbits+7)/8)
	for i := int64(0); i < count; i++ {
		p, _ := d.bytes(2)
		dg := binary.LittleEndian.Uint16(p)
		if dg >= 1<<15 {
			return nil, d.errorf("long digit %d out of range", dg)
		}
		if i == count-1 && dg == 0 {
			return nil, d.errorf("unnormalized long")
		}
		for b := int64(0); b < 15; b++ {
			if dg&(1<<b) != 0 {
				bit := 15*i + b
				be[int64(len(be))-1-bit/8] |= 1 << (bit % 8)
			}
		}
	}
	v := new(big.Int).SetBytes(be)
	if neg {
		v.Neg(v)
	}
	if v.IsInt64() {
		return v.Int64(), nil
	}
	return v, nil
}

// textFloat reads the repr of a float, as marshal version 1 wrote them.
func (d *decoder) textFloat() (float64, error) {
	n, err := d.byte()
	if err != nil {
		return 0, err
	}
	p, err := d.bytes(int(n))
	if err != nil {
		return 0, err
	}
	s := strings.ToLower(strings.TrimSpace(string(p)))
	switch strings.TrimLeft(s, "+-") {
	case "inf", "infinity":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, d.errorf("float %q", p)
	}
	return f, nil
}

// code reads the fields of a code object in the decoder's layout, and
// checks their types as CPython's constructor does: a wrong guess at the
// layout fails here.
func (d *decoder) code(start int) (*Code, error) {
	c := &Code{Layout: d.layout, Offset: start}
	longs := []*int32{&c.ArgCount}
	switch d.layout {
	case Py2:
		longs = append(longs, &c.NLocals, &c.StackSize, &c.Flags)
	case Py30:
		longs = append(longs, &c.KwOnlyArgCount, &c.NLocals, &c.StackSize, &c.Flags)
	case Py38:
		longs = append(longs, &c.PosOnlyArgCount, &c.KwOnlyArgCount, &c.NLocals, &c.StackSize, &c.Flags)
	case Py311:
		longs = append(longs, &c.PosOnlyArgCount, &c.KwOnlyArgCount, &c.StackSize, &c.Flags)
	default:
		return nil, fmt.Errorf("unknown layout %d", int(d.layout))
	}
	for _, p := range longs {
		v, err := d.long()
		if err != nil {
			return nil, err
		}
		*p = v
	}
	var err error
	if c.Bytecode, err = d.bytesField("co_code"); err != nil {
		return nil, err
	}
	consts, err := d.object()
	if err != nil {
		return nil, err
	}
	t, ok := consts.(*Seq)
	if !ok || t.Kind != typeTuple {
		return nil, d.errorf("co_consts is %s, not a tuple", typeName(consts))
	}
	c.Consts = t.Items
	if c.Names, err = d.names("co_names"); err != nil {
		return nil, err
	}
	if d.layout == Py311 {
		if c.VarNames, err = d.names("co_localsplusnames"); err != nil {
			return nil, err
		}
		kinds, err := d.bytesField("co_localspluskinds")
		if err != nil {
			return nil, err
		}
		if len(kinds) != len(c.VarNames) {
			return nil, d.errorf("%d local kinds for %d local names", len(kinds), len(c.VarNames))
		}
	} else {
		for _, field := range []string{"co_varnames", "co_freevars", "co_cellvars"} {
			n, err := d.names(field)
			if err != nil {
				return nil, err
			}
			c.VarNames = append(c.VarNames, n...)
		}
	}
	if c.Filename, err = d.str("co_filename"); err != nil {
		return nil, err
	}
	if c.Name, err = d.str("co_name"); err != nil {
		return nil, err
	}
	if d.layout == Py311 {
		if c.QualName, err = d.str("co_qualname"); err != nil {
			return nil, err
		}
	}
	if c.FirstLine, err = d.long(); err != nil {
		return nil, err
	}
	if _, err = d.bytesField("line table"); err != nil {
		return nil, err
	}
	if d.layout == Py311 {
		if _, err = d.bytesField("co_exceptiontable"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (d *decoder) bytesField(field string) ([]byte, error) {
	v, err := d.object()
	if err != nil {
		return nil, err
	}
	if b, ok := v.(Bytes); ok {
		return b, nil
	}
	if s, ok := v.(string); ok && d.layout == Py2 {
		return []byte(s), nil
	}
	return nil, d.errorf("%s is %s, not bytes", field, typeName(v))
}

// str reads a field that must be a str. Python 2 allows bytes.
func (d *decoder) str(field string) (string, error) {
	v, err := d.object()
	if err != nil {
		return "", err
	}
	return d.asStr(field, v)
}

func (d *decoder) asStr(field string, v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case Bytes:
		if d.layout == Py2 {
			return string(s), nil
		}
	}
	return "", d.errorf("%s is %s, not a str", field, typeName(v))
}

// names reads a tuple of str.
func (d *decoder) names(field string) ([]string, error) {
	v, err := d.object()
	if err != nil {
		return nil, err
	}
	t, ok := v.(*Seq)
	if !ok || t.Kind != typeTuple {
		return nil, d.errorf("%s is %s, not a tuple", field, typeName(v))
	}
	out := make([]string, 0, len(t.Items))
	for _, it := range t.Items {
		s, err := d.asStr(field+" item", it)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case NoneType:
		return "None"
	case EllipsisType:
		return "Ellipsis"
	case StopIterationType:
		return "StopIteration"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case complex128:
		return "complex"
	case string:
		return "str"
	case Bytes:
		return "bytes"
	case *Seq:
		switch v.Kind {
		case typeTuple:
			return "tuple"
		case typeList:
			return "list"
		case typeSet:
			return "set"
		}
		return "frozenset"
	case *Dict:
		return "dict"
	case *Slice:
		return "slice"
	case *Code:
		return "code"
	}
	return fmt.Sprintf("%T", v)
}

// DecodeCode decodes b as a marshalled code object — what marshal.dumps(f.__code__)
// writes — in every layout that reads it, newest first. The error is that
// of the layout that read furthest when none does.
func DecodeCode(b []byte, lim Limits) ([]*Code, error) {
	var out []*Code
	var best error
	bestOff := -1
	for _, l := range Layouts {
		v, off, err := load(b, l, lim)
		if err == nil {
			if c, ok := v.(*Code); ok {
				out = append(out, c)
				continue
			}
			err = fmt.Errorf("offset 0: %s, not a code object: %w", typeName(v), ErrMalformed)
		}
		if errors.Is(err, ErrLimit) {
			return out, err
		}
		if off > bestOff {
			best, bestOff = err, off
		}
	}
	if len(out) == 0 {
		return nil, best
	}
	return out, nil
}

// Walk calls fn for c and every code object among its constants, nested
// at any depth, each once.
func (c *Code) Walk(fn func(*Code)) {
	seen := map[any]bool{}
	var visit func(v any)
	visit = func(v any) {
		switch v := v.(type) {
		case *Code:
			if seen[v] {
				return
			}
			seen[v] = true
			fn(v)
			for _, k := range v.Consts {
				visit(k)
			}
		case *Seq:
			if seen[v] {
				return
			}
			seen[v] = true
			for _, it := range v.Items {
				visit(it)
			}
		case *Dict:
			if seen[v] {
				return
			}
			seen[v] = true
			for i := range v.Keys {
				visit(v.Keys[i])
				visit(v.Values[i])
			}
		}
	}
	visit(c)
}

// References are what a code object and the code nested in it name.
type References struct {
	// Names are co_names of every code object, once each, in order.
	Names []string
	// Strings are the str and bytes constants, once each, in order.
	Strings []string
	// Codes counts the code objects.
	Codes int
}

// References collects what c and the code nested in it name.
func (c *Code) References() References {
	var r References
	names := map[string]bool{}
	strs := map[string]bool{}
	seen := map[any]bool{}
	addStr := func(s string) {
		if !strs[s] {
			strs[s] = true
			r.Strings = append(r.Strings, s)
		}
	}
	var consts func(v any)
	consts = func(v any) {
		switch v := v.(type) {
		case string:
			addStr(v)
		case Bytes:
			if utf8.Valid(v) {
				addStr(string(v))
			}
		case *Seq:
			if !seen[v] {
				seen[v] = true
				for _, it := range v.Items {
					consts(it)
				}
			}
		case *Dict:
			if !seen[v] {
				seen[v] = true
				for i := range v.Keys {
					consts(v.Keys[i])
					consts(v.Values[i])
				}
			}
		}
	}
	c.Walk(func(k *Code) {
		r.Codes++
		for _, n := range k.Names {
			if !names[n] {
				names[n] = true
				r.Names = append(r.Names, n)
			}
		}
		for _, v := range k.Consts {
			consts(v)
		}
	})
	return r
}
