package pickle

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

const (
	// noFrame marks that no FRAME is being read.
	noFrame = math.MaxInt64
	// maxAnomalies bounds Result.Anomalies: the first few make the case.
	maxAnomalies = 64
	// maxLine is how much of a protocol-0 line (GLOBAL, INST, STRING, INT,
	// PERSID...) is kept. Longer lines are read through, not stored.
	maxLine = 4096
	// maxNest bounds joblib object arrays nested in object arrays, each a
	// pickle inside the pickle; real files nest one deep.
	maxNest = 8
	// trialSize is how many bytes after a STOP are test-parsed to decide
	// whether another pickle follows.
	trialSize = 4096
)

// A machine is the symbolic unpickler for one stream.
type machine struct {
	ctx  context.Context
	r    io.ReaderAt
	size int64
	lim  Limits
	res  *Result
	err  error
	halt bool // a break, limit, read error or ctx ended the scan

	// The window of the stream: buf holds the bytes from bufOff on, and
	// the next byte to read is buf[i].
	buf      []byte
	bufOff   int64
	i        int
	skipped  int64 // payload bytes skipped unread, not counted as parsed
	lineBuf  []byte
	lineLast byte
	scratch  []byte

	// The unpickler's state, reset for each pickle.
	stack    []val
	marks    []int
	fence    int // stack index of the innermost mark: pops may not go below it
	memo     []val
	sparse   map[int64]val // memo keys far beyond the dense ones
	memoLen  int           // memo entries set; MEMOIZE's key
	proto    int
	frameEnd int64 // end of the current FRAME, noFrame if none

	pickle  int // index of the pickle being read
	next    int // index of the next pickle
	depth   int // joblib nesting
	values  int
	records int

	op   byte  // opcode being run, for a Break
	opAt int64 // its offset

	emptyTuple val // shared: tuples cannot change

	arguments func(callee string) (calls, builds []int) // Options.Arguments

	sniff      bool // the machine is test-parsing a head for Sniff
	structural bool // sniff: an opcode typical of pickles was seen
}

func newMachine(ctx context.Context, r io.ReaderAt, size int64, lim Limits) *machine {
	m := &machine{
		ctx:      ctx,
		r:        r,
		size:     size,
		lim:      lim,
		res:      &Result{},
		buf:      make([]byte, 0, min(max(size, 0), windowSize)),
		frameEnd: noFrame,
	}
	t := m.alloc(oTuple)
	m.emptyTuple = objVal(t)
	return m
}

// scan reads want pickles, or with want 0 every pickle until the data ends.
func (m *machine) scan(want int) {
	if m.size < 0 {
		m.fail(fmt.Errorf("pickle: negative size %d", m.size))
		return
	}
	read := 0
	for !m.halt {
		if want > 0 && read >= want {
			return
		}
		if m.pos() >= m.size {
			m.op, m.opAt = 0, m.pos()
			switch {
			case read == 0:
				m.truncated("empty stream")
			case want > 0:
				// Legacy torch files must hold all their pickles.
				m.truncated(fmt.Sprintf("data ends after %d of %d pickles", read, want))
			}
			return
		}
		if read > 0 && want == 0 && !m.another() {
			return
		}
		if !m.begin() {
			return
		}
		if !m.run() {
			return
		}
		read++
		m.res.Pickles++
		m.res.End = m.pos()
	}
}

// another reports whether the bytes after a STOP start another pickle,
// recording trailing data if they do not. CPython's load reads one pickle
// and leaves the rest; loaders that read on (pickle.load in a loop,
// legacy torch) expect more pickles, so only pickle-like bytes are read
// as one.
func (m *machine) another() bool {
	n := int(min(m.size-m.pos(), trialSize))
	head, ok := m.at(m.pos(), n)
	if !ok {
		return false
	}
	if !m.sniff && Sniff(head) {
		return true
	}
	m.anomaly(m.pos(), "trailing-data", fmt.Sprintf("%d bytes after the last STOP are no pickle", m.size-m.pos()))
	return false
}

// begin starts a new pickle with fresh unpickler state, as pickle.load does.
func (m *machine) begin() bool {
	if m.next >= m.lim.Pickles {
		m.limit("pickles")
		return false
	}
	m.pickle = m.next
	m.next++
	m.stack = m.stack[:0]
	m.marks = m.marks[:0]
	m.fence = 0
	m.memo = m.memo[:0]
	m.sparse = nil
	m.memoLen = 0
	m.proto = 0
	m.frameEnd = noFrame
	return true
}

// run reads opcodes up to and including STOP, reporting whether STOP was
// reached.
func (m *machine) run() bool {
	for !m.halt {
		if len(m.buf)-m.i < lookahead && m.bufOff+int64(len(m.buf)) < m.size {
			if !m.fill() {
				return false
			}
		}
		start := m.pos()
		if m.i >= len(m.buf) {
			m.op, m.opAt = 0, start
			m.truncated("data ends before STOP")
			return false
		}
		op := m.buf[m.i]
		m.op, m.opAt = op, start
		if m.res.Opcodes >= int64(m.lim.Opcodes) {
			m.limit("opcodes")
			return false
		}
		m.res.Opcodes++
		if m.res.Opcodes&0xfff == 0 {
			if err := m.ctx.Err(); err != nil {
				m.fail(err)
				return false
			}
		}
		if start-m.skipped > m.lim.Bytes {
			m.limit("bytes")
			return false
		}
		m.i++
		if payloadOps[op] {
			m.res.PayloadOps = true
		}
		if m.step(op, start) {
			return !m.halt
		}
		if end := m.pos(); end >= m.frameEnd {
			m.leaveFrame(start, end)
		}
	}
	return false
}

// step runs one opcode and reports whether it was a STOP that succeeded.
func (m *machine) step(op byte, start int64) bool {
	switch op {
	case opMark:
		if len(m.stack)+len(m.marks) >= m.lim.Stack {
			m.limit("stack")
			return false
		}
		m.marks = append(m.marks, len(m.stack))
		m.fence = len(m.stack)
		m.structural = true
	case opStop:
		v, ok := m.pop()
		if !ok {
			return false
		}
		if !m.sniff {
			m.res.Value = m.render(v, maxArgs)
		}
		end := m.pos()
		if m.frameEnd != noFrame {
			if end < m.frameEnd {
				// The C unpickler goes on after STOP; the Python one
				// drops the rest of the frame.
				m.anomaly(start, "frame-unused", fmt.Sprintf("%d bytes of the frame follow STOP", m.frameEnd-end))
			}
			m.frameEnd = noFrame
		}
		return true
	case opPop:
		// CPython keeps marks apart from values; POP removes a mark
		// that sits on top of the stack.
		if n := len(m.marks); n > 0 && m.marks[n-1] == len(m.stack) {
			m.dropMark()
		} else if v, ok := m.pop(); ok {
			m.discard(v)
		}
	case opPopMark:
		if items, _, ok := m.popMark(); ok {
			for _, v := range items {
				m.discard(v)
			}
		}
	case opDup:
		if v, ok := m.top(); ok {
			m.push(v)
		}
	case opNone:
		m.push(valNone)
	case opNewTrue:
		m.push(valTrue)
	case opNewFalse:
		m.push(valFalse)
	case opBinInt1:
		if b, ok := m.arg(1); ok {
			m.push(intVal(int64(b[0])))
		}
	case opBinInt2:
		if b, ok := m.arg(2); ok {
			m.push(intVal(int64(binary.LittleEndian.Uint16(b))))
		}
	case opBinInt:
		if b, ok := m.arg(4); ok {
			m.push(intVal(int64(int32(binary.LittleEndian.Uint32(b)))))
		}
	case opBinFloat:
		if b, ok := m.arg(8); ok {
			m.push(val{k: kFloat, n: int64(binary.BigEndian.Uint64(b))})
		}
	case opLong1:
		if b, ok := m.arg(1); ok {
			m.long(int64(b[0]))
		}
	case opLong4:
		if b, ok := m.arg(4); ok {
			n := int64(int32(binary.LittleEndian.Uint32(b)))
			if n < 0 {
				m.brk("LONG pickle has negative byte count")
				return false
			}
			m.long(n)
		}
	case opInt, opLong, opFloat:
		m.textNumber(op)
	case opShortBinUnicode, opShortBinString, opShortBinBytes:
		if b, ok := m.arg(1); ok {
			m.lazy(op, int64(b[0]))
		}
	case opBinUnicode, opBinBytes:
		if b, ok := m.arg(4); ok {
			m.lazy(op, int64(binary.LittleEndian.Uint32(b)))
		}
	case opBinString:
		if b, ok := m.arg(4); ok {
			n := int64(int32(binary.LittleEndian.Uint32(b)))
			if n < 0 {
				m.brk("BINSTRING pickle has negative byte count")
				return false
			}
			m.lazy(op, n)
		}
	case opBinUnicode8, opBinBytes8, opByteArray8:
		if b, ok := m.arg(8); ok {
			n := binary.LittleEndian.Uint64(b)
			if n > math.MaxInt64 {
				m.brk(fmt.Sprintf("%s exceeds system's maximum size", opNames[op]))
				return false
			}
			m.lazy(op, int64(n))
		}
	case opString:
		m.quotedString()
	case opUnicode:
		if b, n, ok := m.line(maxLine); ok {
			s := rawUnicodeEscape(b)
			m.push(m.str(oStr, s, decodedLen(s, n == int64(len(b)))))
		}
	case opEmptyTuple:
		m.push(m.emptyTuple)
	case opTuple:
		if items, _, ok := m.popMark(); ok {
			m.push(m.tuple(items))
		}
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		if len(m.stack)-n < m.fence {
			m.brk("stack underflow")
			return false
		}
		items := m.stack[len(m.stack)-n:]
		m.stack = m.stack[:len(m.stack)-n]
		m.push(m.tuple(items))
	case opEmptyList:
		m.push(objVal(m.alloc(oList)))
		m.structural = true
	case opEmptyDict:
		m.push(objVal(m.alloc(oDict)))
		m.structural = true
	case opEmptySet:
		m.push(objVal(m.alloc(oSet)))
		m.structural = true
	case opList, opFrozenSet:
		if items, _, ok := m.popMark(); ok {
			k := oList
			if op == opFrozenSet {
				k = oFrozenSet
			}
			m.push(m.container(k, items, keepList))
		}
	case opDict:
		if items, _, ok := m.popMark(); ok {
			if len(items)%2 != 0 {
				m.brk("odd number of items for DICT")
				return false
			}
			m.push(m.container(oDict, items, 2*keepDict))
		}
	case opAppend:
		if v, ok := m.pop(); ok {
			if t, ok := m.top(); ok {
				m.store("APPEND", start, t, []val{v})
			}
		}
	case opSetItem:
		v, ok := m.pop()
		if !ok {
			return false
		}
		k, ok := m.pop()
		if !ok {
			return false
		}
		if t, ok := m.top(); ok {
			m.store("SETITEM", start, t, []val{k, v})
		}
	case opAppends, opSetItems, opAddItems:
		items, at, ok := m.popMark()
		if !ok {
			return false
		}
		// The target sits just below the mark, which may be below an
		// outer mark's fence: CPython reads it there all the same.
		if at < 1 {
			m.brk("stack underflow")
			return false
		}
		if op == opSetItems && len(items)%2 != 0 {
			m.brk("odd number of items for SETITEMS")
			return false
		}
		m.store(opNames[op], start, m.stack[at-1], items)
	case opGet:
		if b, _, ok := m.line(maxLine); ok {
			k, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err != nil {
				m.brk("invalid GET argument")
				return false
			}
			m.get(k)
		}
	case opBinGet:
		if b, ok := m.arg(1); ok {
			m.get(int64(b[0]))
		}
	case opLongBinGet:
		if b, ok := m.arg(4); ok {
			m.get(int64(binary.LittleEndian.Uint32(b)))
		}
	case opPut:
		if b, _, ok := m.line(maxLine); ok {
			k, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err != nil {
				m.brk("invalid PUT argument")
				return false
			}
			if k < 0 {
				m.brk("negative PUT argument")
				return false
			}
			m.put(k)
		}
	case opBinPut:
		if b, ok := m.arg(1); ok {
			m.put(int64(b[0]))
		}
	case opLongBinPut:
		if b, ok := m.arg(4); ok {
			m.put(int64(binary.LittleEndian.Uint32(b)))
		}
	case opMemoize:
		m.put(int64(m.memoLen))
	case opProto:
		if b, ok := m.arg(1); ok {
			if b[0] > highestProtocol {
				m.brk(fmt.Sprintf("unsupported pickle protocol: %d", b[0]))
				return false
			}
			m.proto = int(b[0])
			m.res.Protocol = max(m.res.Protocol, m.proto)
			m.structural = true
		}
	case opFrame:
		if b, ok := m.arg(8); ok {
			m.frame(start, binary.LittleEndian.Uint64(b))
		}
	case opGlobal, opInst:
		mod, ok := m.nameLine()
		if !ok {
			return false
		}
		name, ok := m.nameLine()
		if !ok {
			return false
		}
		if m.sniff && (!dottedIdent(mod) || !dottedIdent(name)) {
			m.brk("module or name is no identifier")
			return false
		}
		m.structural = true
		if op == opGlobal {
			m.push(m.global("GLOBAL", start, mod, name, true))
			return false
		}
		items, _, ok := m.popMark()
		if !ok {
			return false
		}
		cls := m.global("INST", start, mod, name, true)
		args := m.tuple(items)
		m.push(m.invoke("INST", start, cls, args))
	case opStackGlobal:
		m.structural = true
		name, ok := m.pop()
		if !ok {
			return false
		}
		mod, ok := m.pop()
		if !ok {
			return false
		}
		if isBytes(mod) || isBytes(name) {
			m.brk("STACK_GLOBAL requires str")
			return false
		}
		ms, mok := m.name(mod)
		ns, nok := m.name(name)
		m.push(m.global("STACK_GLOBAL", start, ms, ns, mok && nok))
	case opReduce:
		args, ok := m.pop()
		if !ok {
			return false
		}
		fn, ok := m.pop()
		if !ok {
			return false
		}
		m.push(m.invoke("REDUCE", start, fn, args))
	case opObj:
		items, _, ok := m.popMark()
		if !ok {
			return false
		}
		if len(items) == 0 {
			m.brk("stack underflow")
			return false
		}
		cls := items[0]
		args := m.tuple(items[1:])
		m.push(m.invoke("OBJ", start, cls, args))
	case opNewObj:
		args, ok := m.pop()
		if !ok {
			return false
		}
		cls, ok := m.pop()
		if !ok {
			return false
		}
		m.push(m.construct("NEWOBJ", start, cls, args, val{}))
	case opNewObjEx:
		kwargs, ok := m.pop()
		if !ok {
			return false
		}
		args, ok := m.pop()
		if !ok {
			return false
		}
		cls, ok := m.pop()
		if !ok {
			return false
		}
		m.push(m.construct("NEWOBJ_EX", start, cls, args, kwargs))
	case opBuild:
		state, ok := m.pop()
		if !ok {
			return false
		}
		if inst, ok := m.top(); ok {
			m.build(start, inst, state)
		}
	case opExt1:
		if b, ok := m.arg(1); ok {
			m.ext(start, int64(b[0]))
		}
	case opExt2:
		if b, ok := m.arg(2); ok {
			m.ext(start, int64(binary.LittleEndian.Uint16(b)))
		}
	case opExt4:
		if b, ok := m.arg(4); ok {
			m.ext(start, int64(int32(binary.LittleEndian.Uint32(b))))
		}
	case opPersID:
		b, _, ok := m.line(maxLine)
		if !ok {
			return false
		}
		for _, c := range b {
			if c >= 0x80 {
				m.brk("persistent IDs in protocol 0 must be ASCII strings")
				return false
			}
		}
		m.res.PersistentIDs++
		pid := m.str(oStr, string(b), int64(len(b)))
		m.push(m.persistent(pid))
	case opBinPersID:
		if pid, ok := m.pop(); ok {
			m.res.PersistentIDs++
			m.push(m.persistent(pid))
		}
	case opNextBuffer:
		// CPython fails here unless the loader passed out-of-band buffers.
		m.anomaly(start, "out-of-band-buffer", "NEXT_BUFFER needs buffers from the loader")
		m.push(valUnknown)
	case opReadOnlyBuffer:
		m.top()
	default:
		m.brk(fmt.Sprintf("invalid load key, %q", rune(op)))
	}
	return false
}

// arg returns the next n bytes of the stream, which stay valid until the
// next read.
func (m *machine) arg(n int) ([]byte, bool) {
	if len(m.buf)-m.i < n && !m.need(n) {
		return nil, false
	}
	b := m.buf[m.i : m.i+n]
	m.i += n
	return b, true
}

// long pushes the n-byte little-endian two's complement int that follows.
func (m *machine) long(n int64) {
	if n > 8 {
		if m.skip(n) {
			m.push(val{k: kBigInt})
		}
		return
	}
	b, ok := m.arg(int(n))
	if !ok {
		return
	}
	var x int64
	for j := len(b) - 1; j >= 0; j-- {
		x = x<<8 | int64(b[j])
	}
	if n > 0 && n < 8 && b[n-1]&0x80 != 0 {
		x -= 1 << (8 * n)
	}
	m.push(intVal(x))
}

// lazy pushes the string or bytes of n bytes that follow, leaving them in
// the stream: most are never looked at.
func (m *machine) lazy(op byte, n int64) {
	off := m.pos()
	if !m.skip(n) {
		return
	}
	k := kStr
	switch op {
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		k = kBytes
	}
	if n <= math.MaxUint32 {
		m.push(val{k: k, n: off, l: uint32(n)})
		return
	}
	b, ok := m.at(off, maxText)
	if !ok {
		return
	}
	ok2 := oStr
	if k == kBytes {
		ok2 = oBytes
	}
	m.push(m.str(ok2, string(b), n))
}

// textNumber reads the protocol-0 INT, LONG or FLOAT line.
func (m *machine) textNumber(op byte) {
	b, n, ok := m.line(maxLine)
	if !ok {
		return
	}
	if n > int64(len(b)) {
		// Longer than any float and beyond the 4300 digits CPython
		// converts from text: it fails here.
		m.brk("number too long")
		return
	}
	s := strings.TrimSpace(string(b))
	switch op {
	case opFloat:
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err != nil && f == 0 {
			m.brk("could not convert string to float")
			return
		}
		m.push(val{k: kFloat, n: int64(math.Float64bits(f))})
		return
	case opInt:
		switch s {
		case "00":
			m.push(valFalse)
			return
		case "01":
			m.push(valTrue)
			return
		}
	case opLong:
		s = strings.TrimSuffix(s, "L")
	}
	x, err := strconv.ParseInt(s, 0, 64)
	switch {
	case err == nil:
		m.push(intVal(x))
	case isRange(err) && len(s) <= 4300:
		m.push(val{k: kBigInt})
	default:
		m.brk(fmt.Sprintf("invalid literal for int(): %.40q", s))
	}
}

// decodedLen is the length to record for text decoded from a line: its
// own if the line was whole, else more, so that it reads as cut short.
func decodedLen(s string, whole bool) int64 {
	if whole {
		return int64(len(s))
	}
	return int64(len(s)) + 1
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// quotedString reads the protocol-0 STRING line: a quoted, escaped repr.
func (m *machine) quotedString() {
	b, n, ok := m.line(maxLine)
	if !ok {
		return
	}
	whole := n == int64(len(b))
	last := m.lineLast
	if n < 2 || b[0] != last || (b[0] != '\'' && b[0] != '"') {
		m.brk("the STRING opcode argument must be quoted")
		return
	}
	inner := b[1:]
	if whole {
		inner = b[1 : len(b)-1]
	}
	s, ok := unescape(inner, whole)
	if !ok {
		m.brk("invalid escape in STRING")
		return
	}
	m.push(m.str(oStr, s, decodedLen(s, whole)))
}

// nameLine reads a module or name line of GLOBAL or INST, which CPython
// decodes as UTF-8.
func (m *machine) nameLine() (string, bool) {
	b, n, ok := m.line(maxText)
	if !ok {
		return "", false
	}
	if n > int64(len(b)) {
		// No importable name is this long; keep its head for evidence.
		return clipBytes(string(b), maxText) + "…", true
	}
	if !validUTF8(b) {
		m.brk("module or name is not UTF-8")
		return "", false
	}
	return string(b), true
}

// frame starts a FRAME of n bytes. CPython's C unpickler, which pickle.load
// and torch.load use, checks that the frame's bytes exist and reads on
// linearly; the Python unpickler, which joblib uses, fails when an opcode
// crosses the frame's end or a frame starts inside another, and reads a
// frame cut short by the end of data as far as it goes. Reading linearly,
// and flagging each case where the two part, shows what either runs.
func (m *machine) frame(start int64, n uint64) {
	end := m.pos()
	if m.frameEnd != noFrame {
		switch {
		case end > m.frameEnd:
			m.anomaly(start, "frame-straddle", "FRAME opcode crosses the end of the previous frame")
		case end < m.frameEnd:
			m.anomaly(start, "frame-nested", fmt.Sprintf("FRAME starts %d bytes before the previous frame ends", m.frameEnd-end))
		}
	}
	if n > uint64(m.size-end) {
		// The C unpickler fails here; the Python one reads the short
		// frame and runs what it holds. Read on: the data ends in a
		// truncation unless a whole pickle fits before it.
		m.anomaly(start, "frame-overrun", fmt.Sprintf("FRAME of %d bytes, %d left", n, m.size-end))
		n = uint64(m.size - end)
	}
	m.frameEnd = noFrame
	if n > 0 {
		m.frameEnd = end + int64(n)
	}
}

// leaveFrame notes that the opcode from start to end reached the end of the
// current frame.
func (m *machine) leaveFrame(start, end int64) {
	if end > m.frameEnd && start < m.frameEnd {
		m.anomaly(start, "frame-straddle", fmt.Sprintf("%s crosses the frame's end at %#x", opNames[m.op], m.frameEnd))
	}
	m.frameEnd = noFrame
}

// push puts v on the stack.
func (m *machine) push(v val) {
	if m.halt {
		return
	}
	if len(m.stack)+len(m.marks) >= m.lim.Stack {
		m.limit("stack")
		return
	}
	m.stack = append(m.stack, v)
}

// pop takes the top value, which must be above the innermost mark.
func (m *machine) pop() (val, bool) {
	n := len(m.stack)
	if n <= m.fence {
		m.brk("stack underflow")
		return val{}, false
	}
	v := m.stack[n-1]
	m.stack = m.stack[:n-1]
	return v, true
}

// top returns the top value, which must be above the innermost mark.
func (m *machine) top() (val, bool) {
	n := len(m.stack)
	if n <= m.fence {
		m.brk("stack underflow")
		return val{}, false
	}
	return m.stack[n-1], true
}

// popMark pops the innermost mark and the values above it, returning them
// and the stack index of the mark. They stay valid until the next push.
func (m *machine) popMark() ([]val, int, bool) {
	if len(m.marks) == 0 {
		m.brk("could not find MARK")
		return nil, 0, false
	}
	at := m.marks[len(m.marks)-1]
	m.dropMark()
	items := m.stack[at:]
	m.stack = m.stack[:at]
	return items, at, true
}

func (m *machine) dropMark() {
	m.marks = m.marks[:len(m.marks)-1]
	m.fence = 0
	if n := len(m.marks); n > 0 {
		m.fence = m.marks[n-1]
	}
}

// discard notes that v was popped unused: if it is the result of a call,
// the call's result was discarded.
func (m *machine) discard(v val) {
	if v.k == kObj && v.p.call >= 0 {
		m.res.Calls[v.p.call].Popped = true
	}
}

// get pushes memo entry k.
func (m *machine) get(k int64) {
	if k >= 0 && k < int64(len(m.memo)) && m.memo[k].k != kAbsent {
		m.push(m.memo[k])
		return
	}
	if v, ok := m.sparse[k]; ok {
		m.push(v)
		return
	}
	m.anomaly(m.opAt, "missing-memo", fmt.Sprintf("memo key %d was never set", k))
	m.brk(fmt.Sprintf("memo value not found at index %d", k))
}

// put stores the top value as memo entry k. Keys are dense in every
// pickle a pickler writes; far keys go to a map, so that a hostile key
// cannot make the memo huge.
func (m *machine) put(k int64) {
	m.structural = true
	v, ok := m.top()
	if !ok {
		return
	}
	if k < int64(len(m.memo)) {
		if m.memo[k].k == kAbsent {
			if _, ok := m.sparse[k]; ok {
				delete(m.sparse, k)
			} else if !m.countMemo() {
				return
			}
		}
		m.memo[k] = v
		return
	}
	if _, ok := m.sparse[k]; ok {
		m.sparse[k] = v
		return
	}
	if !m.countMemo() {
		return
	}
	if k < 2*int64(m.memoLen)+1024 {
		need := int(k) + 1
		if need <= cap(m.memo) {
			old := len(m.memo)
			m.memo = m.memo[:need]
			clear(m.memo[old:])
		} else {
			m.memo = append(m.memo, make([]val, need-len(m.memo))...)
		}
		m.memo[k] = v
		return
	}
	if m.sparse == nil {
		m.sparse = make(map[int64]val)
	}
	m.sparse[k] = v
}

func (m *machine) countMemo() bool {
	if m.memoLen >= m.lim.Memo {
		m.limit("memo")
		return false
	}
	m.memoLen++
	return true
}

// objCost is what an obj counts against Limits.Values, in units of the
// 32-byte val: an obj and its header take about 80 bytes.
const objCost = 2

// alloc makes an obj, counting it against Limits.Values.
func (m *machine) alloc(k okind) *obj {
	m.values += objCost
	if m.values > m.lim.Values {
		m.limit("values")
	}
	return &obj{k: k, imp: -1, call: -1}
}

// keep copies the first n of items for a container, counting them.
func (m *machine) keep(dst, items []val, n int) []val {
	if n <= 0 || len(items) == 0 {
		return dst
	}
	items = items[:min(n, len(items))]
	m.values += len(items)
	if m.values > m.lim.Values {
		m.limit("values")
	}
	return append(dst, items...)
}

func (m *machine) tuple(items []val) val {
	if len(items) == 0 {
		return m.emptyTuple
	}
	return m.container(oTuple, items, keepTuple)
}

// container makes a container of the given items, keeping the first few.
func (m *machine) container(k okind, items []val, n int) val {
	o := m.alloc(k)
	o.n = int64(len(items))
	if k == oDict {
		o.n /= 2
	}
	o.items = m.keep(nil, items, n)
	return objVal(o)
}

func (m *machine) str(k okind, s string, n int64) val {
	o := m.alloc(k)
	o.s = s
	o.n = n
	return objVal(o)
}

func (m *machine) persistent(pid val) val {
	// PyTorch's legacy loader answers the pid ('module', cls, file, source)
	// with cls itself: the class of a whole-module checkpoint. Anything
	// else it returns is a storage, which is data.
	if pid.is(oTuple) && len(pid.p.items) >= 2 && pid.p.items[1].is(oGlobal) {
		if tag, ok := m.name(pid.p.items[0]); ok && tag == "module" {
			return pid.p.items[1]
		}
	}
	o := m.alloc(oPersistent)
	o.items = []val{pid}
	return objVal(o)
}

// text returns up to maxText bytes of a string or bytes value, and whether
// that is all of it.
func (m *machine) text(v val) (string, bool) {
	switch v.k {
	case kStr, kBytes:
		n := int(min(int64(v.l), maxText))
		b, ok := m.at(v.n, n)
		if !ok {
			return "", false
		}
		return string(b), int64(v.l) <= maxText
	case kObj:
		if v.p.k == oStr || v.p.k == oBytes {
			return v.p.s, int64(len(v.p.s)) == v.p.n
		}
	}
	return "", false
}

// name returns the text of a str value that can name a module or
// attribute: known and whole.
func (m *machine) name(v val) (string, bool) {
	if v.k != kStr && !v.is(oStr) {
		return "?", false
	}
	s, whole := m.text(v)
	if !whole {
		return "?", false
	}
	return s, true
}

func isBytes(v val) bool { return v.k == kBytes || v.is(oBytes) }

// brk records that CPython would fail at the current opcode, and stops.
func (m *machine) brk(reason string) { m.stopAt(reason, false) }

// truncated records that the data ends before the current opcode does.
func (m *machine) truncated(reason string) { m.stopAt(reason, true) }

func (m *machine) stopAt(reason string, trunc bool) {
	if m.halt {
		return
	}
	m.halt = true
	m.res.Malformed = &Break{Offset: m.opAt, Op: opNames[m.op], Reason: reason, Truncated: trunc}
}

// limit records that the named limit stopped the scan.
func (m *machine) limit(name string) {
	if m.halt {
		return
	}
	m.halt = true
	m.res.Limit = name
}

// fail records an I/O or context error, which Scan returns.
func (m *machine) fail(err error) {
	if m.halt {
		return
	}
	m.halt = true
	m.err = err
}

func (m *machine) anomaly(off int64, kind, detail string) {
	if len(m.res.Anomalies) < maxAnomalies {
		m.res.Anomalies = append(m.res.Anomalies, Anomaly{Offset: off, Kind: kind, Detail: detail})
	}
}
