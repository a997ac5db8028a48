// Package gguf reads and checks the header of a GGUF model file, versions 1
// to 3 — its metadata key/values and tensor infos — without reading tensor
// data.
//
// A file is the magic "GGUF", a version, a tensor count and a key/value
// count (32-bit in version 1, 64-bit later), the typed key/values, one
// info per tensor (name, dimensions, ggml type, offset), padding to
// general.alignment (32 by default), then the data section. Read parses
// all of it within Limits, never trusting a count or length the rest of
// the file cannot hold, and checks each tensor's byte range against ggml's
// type table and the file: inside it, aligned, not overlapping another,
// and leaving no bytes unclaimed beyond alignment padding, where content
// hides. The first bytes of an unclaimed region are read to name what they
// hold; tensor bytes never are.
//
// Read reports each problem as a Problem and keeps what parsed before a
// break; it stops at Limits and says so with a scan/limit Problem: a
// cut-short check is never clean. Templates in the metadata are returned
// as strings for a caller to check; nothing here renders them.
package gguf

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/safetensors"
)

// Rule ids of the problems Read reports, besides inventory.RuleScanLimit.
const (
	RuleMalformed  = "gguf/malformed"
	RuleDuplicate  = "gguf/duplicate-key"
	RuleOutOfRange = "gguf/offset-out-of-range"
	RuleMisaligned = "gguf/misaligned"
	RuleOverlap    = "gguf/overlap"
	RuleHiddenData = "gguf/hidden-data"
)

// Magic starts every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the data alignment of a file without general.alignment.
const DefaultAlignment = 32

// Format bounds that ggml itself enforces.
const (
	maxDims       = 4       // GGML_MAX_DIMS
	maxTensorName = 63      // GGML_MAX_NAME less the terminating NUL
	maxKey        = 65535   // the spec's bound on a key's length
	maxAlignment  = 1 << 30 // no writer aligns to more; a larger value is an attack on padding arithmetic
)

// Retention bounds: what File keeps for reporting. They bound the size of
// the result, not the check — everything is still parsed.
const (
	keepItems       = 64   // array elements kept, in order
	keepValue       = 256  // bytes kept of a non-template string in an array
	keepKey         = 1024 // bytes kept of a key
	problemsPerRule = 16   // problems of one rule listed; the rest are counted
	sniffBytes      = 512  // bytes read at the start of a region no tensor claims
	bufferSize      = 16 << 10
)

// Limits bound the work and memory of one Read. A zero field takes its
// value from DefaultLimits.
type Limits struct {
	// KeyValues bounds the metadata key/values; real files have under a
	// hundred.
	KeyValues int64
	// Tensors bounds the tensor infos; each costs some 150 bytes.
	Tensors int64
	// String bounds the bytes kept of one metadata string: templates
	// longer than this cannot be checked, and the caller reports that.
	String int64
	// Array bounds the elements of one array; tokenizer vocabularies
	// reach a few hundred thousand.
	Array int64
	// Depth bounds the nesting of arrays; real files nest none.
	Depth int
	// Header bounds the bytes parsed before the data section.
	Header int64
}

// DefaultLimits pass every real GGUF file while keeping a hostile one to a
// bounded parse: a gigabyte of header at most, and some tens of megabytes
// of memory.
var DefaultLimits = Limits{
	KeyValues: 1 << 16,
	Tensors:   1 << 18,
	String:    16 << 20,
	Array:     1 << 24,
	Depth:     8,
	Header:    1 << 30,
}

func (l Limits) orDefault() Limits {
	return Limits{
		KeyValues: cmp.Or(l.KeyValues, DefaultLimits.KeyValues),
		Tensors:   cmp.Or(l.Tensors, DefaultLimits.Tensors),
		String:    cmp.Or(l.String, DefaultLimits.String),
		Array:     cmp.Or(l.Array, DefaultLimits.Array),
		Depth:     cmp.Or(l.Depth, DefaultLimits.Depth),
		Header:    cmp.Or(l.Header, DefaultLimits.Header),
	}
}

// A Problem is one thing wrong with a file.
type Problem struct {
	Rule     string
	Severity inventory.Severity
	Offset   int64 // byte offset in the file
	Evidence string
	Message  string
}

// A Value is one metadata value. The field that holds it depends on Type.
type Value struct {
	Type  ValueType
	Uint  uint64  // TypeUint8 … TypeUint64
	Int   int64   // TypeInt8 … TypeInt64
	Float float64 // TypeFloat32, TypeFloat64
	Bool  bool
	Str   string // TypeString
	// Cut reports that Str holds only the first bytes of the string.
	Cut bool
	// Arrays: the element type, the length, and the first elements.
	Elem  ValueType
	Len   uint64
	Items []Value
	// Offset is where the value's bytes start in the file: for a
	// string, its first byte after the length.
	Offset int64
}

// Unsigned returns an integer value as a uint64, and false for anything
// else or a negative number.
func (v Value) Unsigned() (uint64, bool) {
	switch v.Type {
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		return v.Uint, true
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		return uint64(v.Int), v.Int >= 0
	}
	return 0, false
}

// Strings returns a string value, or the kept elements of an array of
// strings.
func (v Value) Strings() []string {
	switch {
	case v.Type == TypeString:
		return []string{v.Str}
	case v.Type == TypeArray && v.Elem == TypeString:
		var out []string
		for _, it := range v.Items {
			out = append(out, it.Str)
		}
		return out
	}
	return nil
}

// A KV is one metadata key/value.
type KV struct {
	Key    string
	Offset int64 // where the key starts in the file
	Value  Value
}

// A Tensor is one tensor info.
type Tensor struct {
	Name string
	Dims []uint64
	Type TensorType
	// Offset is relative to the data section.
	Offset uint64
	// Info is where the tensor info starts in the file.
	Info int64
	// Elements is the product of Dims; Size the bytes the data takes,
	// valid when Sized.
	Elements uint64
	Size     uint64
	Sized    bool
}

// A File is what Read found.
type File struct {
	Version   uint32
	BigEndian bool
	KVs       []KV
	Tensors   []Tensor
	// Alignment is the data alignment in force.
	Alignment uint64
	// DataOffset is where the data section starts.
	DataOffset int64
	// Parameters is the number of elements of every tensor whose shape
	// does not overflow, saturating at MaxUint64.
	Parameters uint64
	// Complete reports whether everything up to the data section was
	// parsed and every tensor sized: only then are unclaimed bytes looked
	// for.
	Complete bool
	Problems []Problem

	reported map[string]int
}

// Get returns the first value of key.
func (f *File) Get(key string) (Value, bool) {
	for _, kv := range f.KVs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return Value{}, false
}

// TensorTypes returns the names of the tensors' types, sorted, each once.
func (f *File) TensorTypes() []string {
	var ts []string
	for _, t := range f.Tensors {
		ts = append(ts, t.Type.String())
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

func (f *File) add(p Problem) {
	if f.reported == nil {
		f.reported = map[string]int{}
	}
	f.reported[p.Rule]++
	if f.reported[p.Rule] <= problemsPerRule {
		f.Problems = append(f.Problems, p)
	}
}

func (f *File) malformed(off int64, evidence, message string) {
	f.add(Problem{Rule: RuleMalformed, Severity: inventory.Medium, Offset: off, Evidence: evidence, Message: message})
}

func (f *File) limit(off int64, evidence string) {
	f.add(Problem{Rule: inventory.RuleScanLimit, Severity: inventory.High, Offset: off, Evidence: evidence,
		Message: "a limit cut the check of the GGUF header short: the rest of the file is not known to be clean"})
}

// summarise adds, for each rule with more problems than were listed, one
// problem that counts the rest.
func (f *File) summarise() {
	for _, p := range f.Problems {
		if n := f.reported[p.Rule]; n > problemsPerRule {
			p.Evidence = fmt.Sprintf("%d more problems like the above", n-problemsPerRule)
			p.Message = "further problems of this kind were counted, not listed"
			f.Problems = append(f.Problems, p)
			f.reported[p.Rule] = 0
		}
	}
}

// Is reports whether head, the first bytes of a file, starts like GGUF.
func Is(head []byte) bool { return len(head) >= 4 && string(head[:4]) == Magic }

// Read reads the header of the GGUF file r, which holds size bytes, and
// checks it against the file. It returns an error only when r fails or ctx
// ends; everything wrong with the file is a Problem in the File.
//
// keepWhole says which keys' strings are kept up to Limits.String even
// inside arrays (templates); other array strings are cut short. It may be
// nil.
func Read(ctx context.Context, r io.ReaderAt, size int64, lim Limits, keepWhole func(key string) bool) (*File, error) {
	lim = lim.orDefault()
	f := &File{Alignment: DefaultAlignment}
	p := &parser{
		ctx: ctx, f: f, lim: lim, size: size, keepWhole: keepWhole,
		br: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), bufferSize),
		bo: binary.LittleEndian,
	}
	p.header()
	if p.err != nil {
		f.summarise()
		return f, fmt.Errorf("gguf: reading at %d: %w", p.pos, p.err)
	}
	if err := ctx.Err(); err != nil {
		f.summarise()
		return f, err
	}
	err := check(r, size, f)
	f.summarise()
	return f, err
}

// A parser reads the file from the start, through a buffer.
type parser struct {
	ctx       context.Context
	f         *File
	lim       Limits
	size      int64
	keepWhole func(string) bool
	br        *bufio.Reader
	pos       int64
	bo        binary.ByteOrder
	buf       [8]byte
	err       error // a read error other than the end of the file
	n         int   // items parsed, for cheap cancellation checks
	// subject names what is being parsed, e.g. `the value of "general.name"`,
	// for messages; it is set once per key/value or tensor info, never
	// per element.
	subject string
}

// v1 reports whether lengths and counts are 32-bit.
func (p *parser) v1() bool { return p.f.Version == 1 }

func (p *parser) left() uint64 { return uint64(max(p.size-p.pos, 0)) }

// read returns the next n (≤ 8) bytes, or nil at the end of the file,
// reporting which part was cut short.
func (p *parser) read(n int, part string) []byte {
	got, err := io.ReadFull(p.br, p.buf[:n])
	p.pos += int64(got)
	if err != nil {
		p.fail(err, part)
		return nil
	}
	return p.buf[:n]
}

func (p *parser) fail(err error, part string) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		p.f.malformed(p.pos, fmt.Sprintf("file ends at offset %d inside %s of %s", p.pos, part, p.subject),
			"the GGUF header is truncated")
		return
	}
	p.err = err
}

func (p *parser) u32(part string) (uint32, bool) {
	b := p.read(4, part)
	if b == nil {
		return 0, false
	}
	return p.bo.Uint32(b), true
}

func (p *parser) u64(part string) (uint64, bool) {
	b := p.read(8, part)
	if b == nil {
		return 0, false
	}
	return p.bo.Uint64(b), true
}

// count reads a length or count: 32-bit in version 1, 64-bit later.
func (p *parser) count(part string) (uint64, bool) {
	if p.v1() {
		v, ok := p.u32(part)
		return uint64(v), ok
	}
	return p.u64(part)
}

// skip steps over n bytes known to lie inside the file.
func (p *parser) skip(n uint64, part string) bool {
	for n > 0 {
		step := int(min(n, 1<<30))
		got, err := p.br.Discard(step)
		p.pos += int64(got)
		if err != nil {
			p.fail(err, part)
			return false
		}
		n -= uint64(step)
	}
	return true
}

// str reads a string: its length, then keep bytes of it kept and the rest
// skipped. A length the file cannot hold is malformed.
func (p *parser) str(keep int64) (s string, off int64, cut, ok bool) {
	start := p.pos
	n, ok := p.count("a string length")
	if !ok {
		return "", 0, false, false
	}
	if n > p.left() {
		p.f.malformed(start, fmt.Sprintf("%s: string length %d runs past the end of the file (%d bytes left)", p.subject, n, p.left()),
			"a string longer than the rest of the file: the file is truncated, or readers that trust the length allocate or read out of bounds")
		return "", 0, false, false
	}
	off = p.pos
	k := min(n, uint64(max(keep, 0)))
	b := make([]byte, k)
	got, err := io.ReadFull(p.br, b)
	p.pos += int64(got)
	if err != nil {
		p.fail(err, "a string")
		return "", 0, false, false
	}
	if !p.skip(n-k, "a string") {
		return "", 0, false, false
	}
	return string(b), off, k < n, true
}

// tick checks for cancellation every 4096 items.
func (p *parser) tick() bool {
	p.n++
	return p.n&0xfff != 0 || p.ctx.Err() == nil
}

// header parses everything before the data section.
func (p *parser) header() {
	f := p.f
	p.subject = "the header"
	magic := p.read(4, "the magic")
	if magic == nil {
		return
	}
	if string(magic) != Magic {
		f.malformed(0, "magic is "+strconv.QuoteToASCII(string(magic))+", not \"GGUF\"", "the file is not GGUF")
		return
	}
	b := p.read(4, "the version")
	if b == nil {
		return
	}
	v := binary.LittleEndian.Uint32(b)
	if v&0xffff == 0 {
		// GGUF written on a big-endian machine is big-endian throughout.
		if be := binary.BigEndian.Uint32(b); be >= 1 && be <= 3 {
			p.bo, f.BigEndian, v = binary.BigEndian, true, be
		}
	}
	f.Version = v
	if v < 1 || v > 3 {
		f.malformed(4, fmt.Sprintf("version %d", v), "GGUF versions are 1 to 3: readers refuse or misread this file")
		return
	}
	tensors, ok := p.count("the tensor count")
	if !ok {
		return
	}
	kvs, ok := p.count("the key/value count")
	if !ok {
		return
	}
	// Every key/value takes at least a length, a type and a byte; every
	// tensor info a length, n_dims, a type and an offset.
	lenSize := uint64(8)
	if p.v1() {
		lenSize = 4
	}
	minKV, minTensor := lenSize+4+1, lenSize+4+4+8
	left := p.left()
	// A count the file cannot hold is a lie, whatever the limits.
	switch {
	case kvs > left/minKV || tensors > (left-kvs*minKV)/minTensor:
		f.malformed(8, fmt.Sprintf("%d key/values and %d tensor infos cannot fit in the %d bytes left", kvs, tensors, p.left()),
			"the header's counts are larger than the rest of the file can hold: the file is truncated, or readers that trust them allocate or read out of bounds")
		return
	case kvs > uint64(p.lim.KeyValues):
		f.limit(p.pos, fmt.Sprintf("%d key/values > limit %d", kvs, p.lim.KeyValues))
		return
	case tensors > uint64(p.lim.Tensors):
		f.limit(p.pos, fmt.Sprintf("%d tensors > limit %d", tensors, p.lim.Tensors))
		return
	}
	seen := map[string]bool{}
	for i := uint64(0); i < kvs; i++ {
		if !p.tick() {
			return
		}
		if p.pos > p.lim.Header {
			f.limit(p.pos, fmt.Sprintf("header larger than %d bytes at key/value %d", p.lim.Header, i))
			return
		}
		kv, ok := p.kv(i)
		if !ok {
			return
		}
		if seen[kv.Key] {
			f.add(Problem{Rule: RuleDuplicate, Severity: inventory.Medium, Offset: kv.Offset,
				Evidence: fmt.Sprintf("key %s appears twice", strconv.Quote(kv.Key)),
				Message:  "readers differ on which value of a duplicate key they use (llama.cpp refuses the file): a scanner and a loader can see different metadata"})
		}
		seen[kv.Key] = true
		f.KVs = append(f.KVs, kv)
	}
	p.alignment()
	names := map[string]bool{}
	complete := true
	for i := uint64(0); i < tensors; i++ {
		if !p.tick() {
			return
		}
		if p.pos > p.lim.Header {
			f.limit(p.pos, fmt.Sprintf("header larger than %d bytes at tensor info %d", p.lim.Header, i))
			return
		}
		t, ok := p.tensor(i)
		if !ok {
			return
		}
		if names[t.Name] {
			f.add(Problem{Rule: RuleDuplicate, Severity: inventory.Medium, Offset: t.Info,
				Evidence: fmt.Sprintf("tensor name %s appears twice", strconv.Quote(t.Name)),
				Message:  "readers differ on which tensor of a duplicate name they load (llama.cpp refuses the file)"})
		}
		names[t.Name] = true
		complete = complete && t.Sized
		f.Tensors = append(f.Tensors, t)
	}
	f.DataOffset = p.pos
	if tensors > 0 {
		f.DataOffset = int64(alignUp(uint64(p.pos), f.Alignment))
	}
	f.Complete = complete
}

// kv parses one key/value.
func (p *parser) kv(i uint64) (KV, bool) {
	f := p.f
	off := p.pos
	what := fmt.Sprintf("key %d", i)
	p.subject = what
	key, _, cut, ok := p.str(keepKey)
	if !ok {
		return KV{}, false
	}
	switch {
	case key == "":
		f.malformed(off, what+" is empty", "GGUF keys must not be empty; llama.cpp refuses the file")
	case cut:
		f.malformed(off, fmt.Sprintf("%s is longer than %d bytes: %s…", what, keepKey, strconv.QuoteToASCII(key[:64])),
			fmt.Sprintf("GGUF keys are at most %d bytes of ASCII", maxKey))
	case !printableASCII(key):
		f.malformed(off, fmt.Sprintf("%s is %s", what, strconv.QuoteToASCII(key)),
			"GGUF keys are printable ASCII: other bytes hide a key from tools that show it")
	}
	p.subject = "the value of " + strconv.Quote(trimRune(key))
	t, ok := p.u32("the value type")
	if !ok {
		return KV{}, false
	}
	v, ok := p.value(ValueType(t), key, 0, p.lim.String)
	if !ok {
		return KV{}, false
	}
	if v.Type == TypeString && v.Cut && !utf8.ValidString(v.Str) {
		v.Str = trimRune(v.Str)
	}
	return KV{Key: key, Offset: off, Value: v}, true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// trimRune drops an incomplete UTF-8 sequence that cutting left at the end.
func trimRune(s string) string {
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				return s[:i]
			}
			break
		}
	}
	return s
}

// value parses a value of type t for key, nested depth arrays deep,
// keeping keep bytes of a string.
func (p *parser) value(t ValueType, key string, depth int, keep int64) (Value, bool) {
	f := p.f
	v := Value{Type: t, Offset: p.pos}
	switch t {
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64,
		TypeInt8, TypeInt16, TypeInt32, TypeInt64,
		TypeFloat32, TypeFloat64, TypeBool:
		b := p.read(int(t.fixedSize()), "a "+t.String())
		if b == nil {
			return v, false
		}
		p.scalar(&v, b)
		if t == TypeBool && b[0] > 1 {
			f.malformed(v.Offset, fmt.Sprintf("%s: bool byte is %d", p.subject, b[0]),
				"a GGUF bool is 0 or 1; readers disagree on other values")
		}
		return v, true
	case TypeString:
		s, off, cut, ok := p.str(keep)
		v.Str, v.Offset, v.Cut = s, off, cut
		return v, ok
	case TypeArray:
		return p.array(key, depth, keep)
	}
	f.malformed(v.Offset-4, fmt.Sprintf("%s: unknown value type %d", p.subject, uint32(t)),
		"the value cannot be parsed, nor anything after it")
	return v, false
}

func (p *parser) scalar(v *Value, b []byte) {
	switch v.Type {
	case TypeUint8, TypeBool:
		v.Uint, v.Bool = uint64(b[0]), b[0] != 0
	case TypeInt8:
		v.Int = int64(int8(b[0]))
	case TypeUint16:
		v.Uint = uint64(p.bo.Uint16(b))
	case TypeInt16:
		v.Int = int64(int16(p.bo.Uint16(b)))
	case TypeUint32:
		v.Uint = uint64(p.bo.Uint32(b))
	case TypeInt32:
		v.Int = int64(int32(p.bo.Uint32(b)))
	case TypeUint64:
		v.Uint = p.bo.Uint64(b)
	case TypeInt64:
		v.Int = int64(p.bo.Uint64(b))
	case TypeFloat32:
		v.Float = float64(math.Float32frombits(p.bo.Uint32(b)))
	case TypeFloat64:
		v.Float = math.Float64frombits(p.bo.Uint64(b))
	}
}

// array parses an array: element type, length, elements.
func (p *parser) array(key string, depth int, keep int64) (Value, bool) {
	f := p.f
	off := p.pos
	v := Value{Type: TypeArray, Offset: off}
	if depth >= p.lim.Depth {
		f.limit(off, fmt.Sprintf("%s nests arrays deeper than %d", p.subject, p.lim.Depth))
		return v, false
	}
	et, ok := p.u32("an array's element type")
	if !ok {
		return v, false
	}
	v.Elem = ValueType(et)
	if v.Elem >= typeCount {
		f.malformed(off, fmt.Sprintf("%s: unknown array element type %d", p.subject, et),
			"the array cannot be parsed, nor anything after it")
		return v, false
	}
	n, ok := p.count("an array length")
	if !ok {
		return v, false
	}
	v.Len = n
	// The smallest encoding of an element: a fixed-size scalar, a string's
	// length, or an array's type and length.
	lenSize := uint64(8)
	if p.v1() {
		lenSize = 4
	}
	minSize := v.Elem.fixedSize()
	switch v.Elem {
	case TypeString:
		minSize = lenSize
	case TypeArray:
		minSize = 4 + lenSize
	}
	switch {
	case n > p.left()/minSize:
		f.malformed(off, fmt.Sprintf("%s: an array of %d %s elements cannot fit in the %d bytes left", p.subject, n, v.Elem, p.left()),
			"an array longer than the rest of the file can hold: the file is truncated, or readers that trust the length allocate or read out of bounds")
		return v, false
	case n > uint64(p.lim.Array):
		f.limit(off, fmt.Sprintf("%s: an array of %d elements > limit %d", p.subject, n, p.lim.Array))
		return v, false
	}
	itemKeep := int64(keepValue)
	if p.keepWhole != nil && p.keepWhole(key) {
		itemKeep = keep
	}
	if size := v.Elem.fixedSize(); size > 0 && v.Elem != TypeBool {
		kept := min(n, keepItems)
		for range kept {
			it, ok := p.value(v.Elem, key, depth+1, 0)
			if !ok {
				return v, false
			}
			v.Items = append(v.Items, it)
		}
		return v, p.skip((n-kept)*size, "an array")
	}
	for i := uint64(0); i < n; i++ {
		if !p.tick() {
			return v, false
		}
		if p.pos > p.lim.Header {
			f.limit(p.pos, fmt.Sprintf("header larger than %d bytes inside %s", p.lim.Header, p.subject))
			return v, false
		}
		k := itemKeep
		if i >= keepItems {
			k = 0
		}
		it, ok := p.value(v.Elem, key, depth+1, k)
		if !ok {
			return v, false
		}
		if i < keepItems {
			if it.Type == TypeString && it.Cut {
				it.Str = trimRune(it.Str)
			}
			v.Items = append(v.Items, it)
		}
	}
	return v, true
}

// alignment reads general.alignment, which ggml requires to be a UINT32
// power of two.
func (p *parser) alignment() {
	f := p.f
	for _, kv := range f.KVs {
		if kv.Key != "general.alignment" {
			continue
		}
		a, ok := kv.Value.Unsigned()
		switch {
		case !ok || a == 0 || a&(a-1) != 0 || a > maxAlignment:
			f.malformed(kv.Offset, fmt.Sprintf("general.alignment is %s", show(kv.Value)),
				"the alignment must be a power of two: readers place the data section differently")
			return
		case kv.Value.Type != TypeUint32:
			f.malformed(kv.Offset, fmt.Sprintf("general.alignment is a %s, not a UINT32", kv.Value.Type),
				"llama.cpp refuses an alignment of another type, while other readers use it")
		}
		f.Alignment = a
		return
	}
}

// tensor parses one tensor info.
func (p *parser) tensor(i uint64) (Tensor, bool) {
	f := p.f
	t := Tensor{Info: p.pos}
	p.subject = fmt.Sprintf("tensor info %d", i)
	name, _, cut, ok := p.str(keepValue)
	if !ok {
		return t, false
	}
	t.Name = trimRune(name)
	if cut || len(name) > maxTensorName {
		f.malformed(t.Info, fmt.Sprintf("tensor name %s is longer than %d bytes", strconv.Quote(t.Name), maxTensorName),
			"llama.cpp refuses tensor names this long")
	}
	what := "tensor " + strconv.Quote(t.Name)
	p.subject = what
	nd, ok := p.u32("the dimension count")
	if !ok {
		return t, false
	}
	if nd > maxDims {
		f.malformed(t.Info, fmt.Sprintf("%s has %d dimensions, more than ggml's %d", what, nd, maxDims),
			"the tensor info cannot be parsed as ggml does, nor anything after it")
		return t, false
	}
	t.Elements, t.Sized = 1, true
	overflow := false
	for range nd {
		var d uint64
		if p.v1() {
			d32, ok := p.u32("a dimension")
			if !ok {
				return t, false
			}
			d = uint64(d32)
		} else if d, ok = p.u64("a dimension"); !ok {
			return t, false
		}
		t.Dims = append(t.Dims, d)
		if d > math.MaxInt64 || (d != 0 && t.Elements > math.MaxInt64/d) {
			overflow = true
		} else {
			t.Elements *= d
		}
	}
	if overflow {
		f.malformed(t.Info, fmt.Sprintf("%s: dimensions %v overflow", what, t.Dims),
			"the element count overflows: readers refuse the file or compute a wrong size")
		t.Elements, t.Sized = 0, false
	}
	ty, ok := p.u32("the tensor type")
	if !ok {
		return t, false
	}
	t.Type = TensorType(ty)
	ti, known := ggmlTypes[t.Type]
	switch {
	case !known:
		f.malformed(t.Info, fmt.Sprintf("%s: unknown ggml type %d", what, ty),
			"the tensor's type is not one ggml defines: its size, and so the layout of the data section, cannot be known")
		t.Sized = false
	case ti.Removed:
		f.add(Problem{Rule: RuleMalformed, Severity: inventory.Low, Offset: t.Info,
			Evidence: fmt.Sprintf("%s: type %s was removed from GGUF", what, ti.Name),
			Message:  "current llama.cpp refuses this type; re-quantize the model with a current release"})
	}
	if known && t.Sized {
		first := uint64(1)
		if len(t.Dims) > 0 {
			first = t.Dims[0]
		}
		if first%ti.Block != 0 {
			f.malformed(t.Info, fmt.Sprintf("%s: %d elements per row, not a multiple of %s's block of %d", what, first, ti.Name, ti.Block),
				"rows must hold whole blocks: llama.cpp refuses the file")
			t.Sized = false
		} else if blocks := t.Elements / ti.Block; blocks > math.MaxInt64/ti.Bytes {
			f.malformed(t.Info, fmt.Sprintf("%s: byte size overflows", what), "the tensor's size overflows")
			t.Sized = false
		} else {
			t.Size = blocks * ti.Bytes
		}
	}
	f.Parameters = satAdd(f.Parameters, t.Elements)
	if t.Offset, ok = p.u64("the tensor offset"); !ok {
		return t, false
	}
	return t, true
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func alignUp(v, a uint64) uint64 {
	if r := v % a; r != 0 {
		if v > math.MaxUint64-(a-r) {
			return math.MaxUint64
		}
		return v + a - r
	}
	return v
}

// show formats a value for evidence, bounded.
func show(v Value) string {
	switch v.Type {
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		return fmt.Sprintf("%d (%s)", v.Uint, v.Type)
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		return fmt.Sprintf("%d (%s)", v.Int, v.Type)
	case TypeFloat32, TypeFloat64:
		return fmt.Sprintf("%g (%s)", v.Float, v.Type)
	case TypeBool:
		return fmt.Sprintf("%t", v.Bool)
	case TypeString:
		s := v.Str
		if len(s) > 64 {
			s = trimRune(s[:64]) + "…"
		}
		return strconv.Quote(s)
	}
	return fmt.Sprintf("an array of %d %s", v.Len, v.Elem)
}

// check compares the tensors' byte ranges with the file and looks for
// bytes no tensor claims.
func check(r io.ReaderAt, size int64, f *File) error {
	if f.DataOffset == 0 {
		return nil // the header did not parse to its end
	}
	data, fileEnd := uint64(f.DataOffset), uint64(size)
	avail := fileEnd - min(data, fileEnd) // bytes of the data section in the file
	type span struct {
		begin, end uint64 // relative to the data section
		name       string
	}
	var spans []span
	for _, t := range f.Tensors {
		if !t.Sized {
			continue
		}
		if t.Offset%f.Alignment != 0 {
			f.add(Problem{Rule: RuleMisaligned, Severity: inventory.Medium, Offset: t.Info,
				Evidence: fmt.Sprintf("tensor %s: offset %d is not a multiple of the alignment %d", strconv.Quote(t.Name), t.Offset, f.Alignment),
				Message:  "GGUF tensor data must be aligned: llama.cpp refuses the file, and readers that map it misread it"})
		}
		end := t.Offset + t.Size
		if end < t.Offset || end > avail {
			f.add(Problem{Rule: RuleOutOfRange, Severity: inventory.Medium, Offset: t.Info,
				Evidence: fmt.Sprintf("tensor %s: %d bytes of %s at data offset %d (file offset %s) run past the end of the file (%d bytes)",
					strconv.Quote(t.Name), t.Size, t.Type, t.Offset, fileOffset(data, t.Offset), size),
				Message: "the tensor's bytes lie outside the file: the file is truncated, or its header lies"})
			end = avail
		}
		if t.Offset < end {
			spans = append(spans, span{t.Offset, end, t.Name})
		}
	}
	if !f.Complete || data > fileEnd {
		return nil // unparsed or unsized tensors would show as gaps
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end))
	})
	// Writers pad after the tensor infos and after each tensor to the
	// alignment: padded is the end of the bytes accounted for, in the file.
	var cursor uint64
	last := ""
	for _, s := range spans {
		switch padded := alignUp(data+cursor, f.Alignment); {
		case s.begin < cursor:
			f.add(Problem{Rule: RuleOverlap, Severity: inventory.Medium, Offset: f.DataOffset + int64(s.begin),
				Evidence: fmt.Sprintf("tensor %s [%d, %d) overlaps tensor %s, which ends at %d", strconv.Quote(s.name), s.begin, s.end, strconv.Quote(last), cursor),
				Message:  "two tensors share bytes: llama.cpp refuses the file, and readers that allow it see one tensor's bytes as another's"})
		case data+s.begin > padded:
			if err := f.gap(r, padded, data+s.begin, "before tensor "+strconv.Quote(s.name)); err != nil {
				return err
			}
		}
		if s.end > cursor {
			cursor, last = s.end, s.name
		}
	}
	if padded := alignUp(data+cursor, f.Alignment); padded < fileEnd {
		where := "after the header"
		if last != "" {
			where = "after tensor " + strconv.Quote(last)
		}
		return f.gap(r, padded, fileEnd, where)
	}
	return nil
}

func fileOffset(data, off uint64) string {
	if off > math.MaxUint64-data {
		return "beyond 2^64"
	}
	return strconv.FormatUint(data+off, 10)
}

// gap reports bytes [from, to) of the file that no tensor claims, naming
// what they look like from their first bytes.
func (f *File) gap(r io.ReaderAt, from, to uint64, where string) error {
	head := make([]byte, min(to-from, sniffBytes))
	if _, err := r.ReadAt(head, int64(from)); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("gguf: reading bytes at %d: %w", from, err)
	}
	kind := safetensors.Payload(head)
	sev, msg := inventory.Medium, "bytes that no tensor claims, beyond alignment padding: the format has no place for them"
	note := ""
	if kind != "" {
		sev, msg = inventory.High, "bytes that no tensor claims hold what looks like "+kind+": content hidden where the format has no place for it"
		note = " (" + kind + ")"
	}
	show := head
	if len(show) > 24 {
		show = show[:24]
	}
	f.add(Problem{Rule: RuleHiddenData, Severity: sev, Offset: int64(from),
		Evidence: fmt.Sprintf("%d bytes at file offset %d %s%s: %s", to-from, from, where, note, strconv.QuoteToASCII(string(show))),
		Message:  msg})
	return nil
}
