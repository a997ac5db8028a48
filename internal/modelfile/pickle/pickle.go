// Package pickle finds what a pickle would import and call, without running it.
//
// Scan reads a pickle stream opcode by opcode as CPython's C unpickler does,
// over symbolic values: strings, numbers and small containers are tracked
// only as far as needed to name what each GLOBAL, STACK_GLOBAL, INST and EXT
// imports and what each REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ and BUILD would
// call, including callables reached through getattr, import and namespace
// lookups. Nothing is imported, unpickled or run.
//
// Scan stops at Limits and says so in Result.Limit, and stops at the first
// opcode CPython would fail on and says so in Result.Malformed, keeping what
// it found before: a cut-short scan is never clean.
package pickle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bound the work and memory of one Scan. A zero field takes its
// value from DefaultLimits.
type Limits struct {
	Opcodes int   // opcodes over all pickles of one stream
	Memo    int   // memo entries of one pickle
	Stack   int   // symbolic stack depth plus mark depth
	Bytes   int64 // stream bytes parsed, not counting payloads skipped unread
	Pickles int   // pickles followed, concatenated or nested (joblib object arrays)
	Values  int   // symbolic values made, in 32-byte units (an object counts 2, a kept element 1): bounds memory
	Records int   // Imports plus Calls recorded: bounds the size of the Result
}

// DefaultLimits let every pickle written by a real framework through, while
// keeping a hostile stream to a few seconds and a few hundred megabytes.
var DefaultLimits = Limits{
	// A 20 MB pickle of small values has some 9M opcodes; the largest
	// real model pickles (torch data.pkl of a big checkpoint, sklearn
	// ensembles) stay well under this.
	Opcodes: 64 << 20,
	// A memo entry costs 32 bytes: 32 MiB at most.
	Memo: 1 << 20,
	// Nesting in real pickles is shallow; 32 MiB of stack at most.
	Stack: 1 << 20,
	// Opcode bytes, not tensor payloads, which are skipped unread.
	Bytes: 1 << 30,
	// Legacy torch files hold 5; joblib adds one per object array.
	Pickles: 64,
	// Each unit costs about 40 bytes live: some 160 MiB in the worst
	// case. Real models make one object per tensor or estimator field;
	// a pickle of a few hundred thousand small dicts reaches this.
	Values: 4 << 20,
	// Each holds at most a few hundred bytes of names and evidence: some
	// 80 MiB in the worst case, tens of thousands in the largest models.
	Records: 1 << 17,
}

// Options configure a Scan.
type Options struct {
	Limits Limits
	// Pickles is how many pickles to read. 1 reads one pickle and stops at
	// its STOP; 0 follows concatenated pickles until the data ends, as for
	// a raw .pkl file. Legacy torch files hold 5 (magic number, protocol,
	// system info, the object, storage keys) followed by raw tensor bytes.
	Pickles int
	// Arguments, when set, says which arguments (1-based) a callable calls
	// and which classes among them it makes without running __init__.
	// Reviewed lists know that, for instance, numpy's
	// __generator_ctor(name, ctor) calls ctor: its argument is then
	// recorded as called too, so a safe callee cannot launder a payload.
	Arguments func(callee string) (calls, builds []int)
}

// A Result is what Scan found.
type Result struct {
	Protocol int   // highest PROTO seen, 0 if none
	Pickles  int   // complete pickles, those ending in STOP
	Opcodes  int64 // opcodes read
	End      int64 // offset just past the last STOP parsed, 0 if none
	// Value renders what the last complete pickle evaluates to, bounded
	// like Call.Args: "3", "('0', 'cpu', torch.FloatStorage)". Formats
	// that interleave pickles with raw data read their sizes from it.
	Value string
	// Imports lists every global imported, in stream order.
	Imports []Import
	// Calls lists every call site, in stream order.
	Calls []Call
	// Malformed is the first break that stopped parsing, nil if none. A
	// stream that ends early is a Break with Truncated set.
	Malformed *Break
	// Limit names the limit that stopped analysis ("opcodes", "memo",
	// "stack", "bytes", "pickles", "values", "records"), "" if none did.
	Limit string
	// Anomalies are what no pickler writes but a loader accepts or reads
	// differently: signs of a stream made to evade scanners.
	Anomalies []Anomaly
	// PayloadOps reports whether any opcode able to import or call
	// appeared: GLOBAL, STACK_GLOBAL, INST, OBJ, REDUCE, NEWOBJ,
	// NEWOBJ_EX, BUILD, EXT1, EXT2 or EXT4.
	PayloadOps bool
	// PersistentIDs counts PERSID and BINPERSID opcodes (torch storages).
	PersistentIDs int
}

// An Import is one global a pickle imports.
type Import struct {
	Module, Name string // "?" where the stream does not say it statically
	// Written is the module and name as the stream wrote them, when
	// CPython maps them to others (Python 2 names such as __builtin__).
	Written string
	Offset  int64
	Op      string // GLOBAL, STACK_GLOBAL, INST, EXT1, EXT2 or EXT4
	Called  bool   // a call, construction or attribute set reached it directly
	Pickle  int    // index of the pickle in the stream
}

// A Call is one place where a pickle calls something, constructs an
// object, or sets attributes of one.
type Call struct {
	// Callee is the dotted name of what would really run, e.g.
	// "os.system"; "" if it cannot be told statically.
	Callee string
	// Via says how Callee was reached: "" if it was imported directly,
	// else a short chain, e.g. "getattr(importlib.import_module('os'),'system')".
	Via string
	// Origin lists the imported globals Callee was derived from, outermost
	// first, so that a verdict can rate those too.
	Origin []string
	// Op is the opcode: REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST, BUILD, or
	// APPEND, APPENDS, SETITEM, SETITEMS, ADDITEMS for items stored into
	// an imported object.
	Op string
	// Args renders the arguments, at most maxArgs bytes, for evidence.
	Args   string
	Offset int64
	// Popped reports that the result was popped off the stack unused.
	Popped bool
	// Construct reports an object made by cls.__new__ without its
	// __init__ (NEWOBJ, copyreg.__newobj__, copyreg._reconstructor), or
	// the __setstate__ of one (BUILD); Callee is then the class.
	Construct bool
	// SetAttr reports that the call changes an imported object itself:
	// BUILD setting its attributes, or items stored into it.
	SetAttr bool
	Pickle  int // index of the pickle in the stream
}

// A Break is where parsing stopped because CPython would fail there.
type Break struct {
	Offset    int64
	Op        string // opcode name, "" at the end of data or for a byte that is no opcode
	Reason    string
	Truncated bool // the data ended early
}

// An Anomaly is something no pickler writes.
type Anomaly struct {
	Offset int64
	// Kind is one of frame-overrun, frame-straddle, frame-nested,
	// frame-unused, missing-memo, trailing-data, joblib-array, ext-code,
	// out-of-band-buffer.
	Kind   string
	Detail string
}

// Errors a Break wraps.
var (
	ErrMalformed = errors.New("pickle: malformed stream")
	ErrTruncated = errors.New("pickle: truncated stream")
)

// Error describes the break.
func (b *Break) Error() string {
	op := b.Op
	if op == "" {
		op = "end"
	}
	return fmt.Sprintf("offset %#x: %s: %s", b.Offset, op, b.Reason)
}

// Unwrap returns ErrTruncated or ErrMalformed.
func (b *Break) Unwrap() error {
	if b.Truncated {
		return ErrTruncated
	}
	return ErrMalformed
}

// String is evidence: "os.system via STACK_GLOBAL at 0x1f".
func (i Import) String() string {
	var b strings.Builder
	b.WriteString(i.Module)
	b.WriteByte('.')
	b.WriteString(i.Name)
	fmt.Fprintf(&b, " via %s at %#x", i.Op, i.Offset)
	if i.Written != "" {
		fmt.Fprintf(&b, " (written %s)", i.Written)
	}
	return b.String()
}

// String is evidence: "os.system('true',) called by REDUCE at 0x2a".
func (c Call) String() string {
	var b strings.Builder
	if c.Callee == "" {
		b.WriteString("<unresolved>")
	} else {
		b.WriteString(c.Callee)
	}
	b.WriteString(c.Args)
	switch {
	case c.SetAttr:
		b.WriteString(" changed by ")
	case c.Construct:
		b.WriteString(" constructed by ")
	default:
		b.WriteString(" called by ")
	}
	fmt.Fprintf(&b, "%s at %#x", c.Op, c.Offset)
	if c.Via != "" {
		b.WriteString(" via ")
		b.WriteString(c.Via)
	}
	if c.Popped {
		b.WriteString(" (result discarded)")
	}
	return b.String()
}

// Scan analyses the pickle stream(s) held in r from offset 0 to size. It
// reads through a window of at most windowSize bytes and skips the
// payloads of bytes, strings and joblib arrays unread.
//
// The error is non-nil only when r fails or ctx ends; the Result then holds
// what was found before. Malformed input is reported in the Result.
func Scan(ctx context.Context, r io.ReaderAt, size int64, opt Options) (*Result, error) {
	m := newMachine(ctx, r, size, opt.Limits.withDefaults())
	m.arguments = opt.Arguments
	m.scan(opt.Pickles)
	return m.res, m.err
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Opcodes > 0 {
		d.Opcodes = l.Opcodes
	}
	if l.Memo > 0 {
		d.Memo = l.Memo
	}
	if l.Stack > 0 {
		d.Stack = l.Stack
	}
	if l.Bytes > 0 {
		d.Bytes = l.Bytes
	}
	if l.Pickles > 0 {
		d.Pickles = l.Pickles
	}
	if l.Values > 0 {
		d.Values = l.Values
	}
	if l.Records > 0 {
		d.Records = l.Records
	}
	return d
}
