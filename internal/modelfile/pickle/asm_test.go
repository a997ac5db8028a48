package pickle

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"testing"
)

// The helpers below spell pickle opcodes as the protocol defines them
// (Lib/pickletools.py documents each), so that tests can hand-assemble
// streams no pickler writes.

const (
	mark      = "("
	stop      = "."
	pop       = "0"
	popMark   = "1"
	dup       = "2"
	none      = "N"
	reduce    = "R"
	build     = "b"
	emptyDict = "}"
	emptyList = "]"
	emptyTup  = ")"
	tuple     = "t"
	tuple1    = "\x85"
	tuple2    = "\x86"
	tuple3    = "\x87"
	newTrue   = "\x88"
	newObj    = "\x81"
	newObjEx  = "\x92"
	stackGlob = "\x93"
	memoize   = "\x94"
	setItem   = "s"
	setItems  = "u"
	appendOp  = "a"
	appends   = "e"
	objOp     = "o"
	listOp    = "l"
	dictOp    = "d"
)

func cat(parts ...string) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		b.WriteString(p)
	}
	return b.Bytes()
}

func proto(v byte) string { return "\x80" + string([]byte{v}) }

// glob is GLOBAL: module and name on lines of their own.
func glob(mod, name string) string { return "c" + mod + "\n" + name + "\n" }

// inst is INST: like GLOBAL, then a call with the values since MARK.
func inst(mod, name string) string { return "i" + mod + "\n" + name + "\n" }

// str0 is the protocol-0 STRING opcode.
func str0(s string) string { return "S'" + s + "'\n" }

// sbu is SHORT_BINUNICODE.
func sbu(s string) string { return "\x8c" + string([]byte{byte(len(s))}) + s }

// bu is BINUNICODE.
func bu(s string) string { return "X" + le32(uint32(len(s))) + s }

// sbb is SHORT_BINBYTES.
func sbb(s string) string { return "C" + string([]byte{byte(len(s))}) + s }

func binput(i byte) string  { return "q" + string([]byte{i}) }
func binget(i byte) string  { return "h" + string([]byte{i}) }
func binint1(i byte) string { return "K" + string([]byte{i}) }

func frame(n uint64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	return "\x95" + string(b[:])
}

func le32(n uint32) string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], n)
	return string(b[:])
}

// call is fn(*args) with args as one tuple built from MARK.
func call(fn string, args ...string) string {
	s := fn + mark
	for _, a := range args {
		s += a
	}
	return s + tuple + reduce
}

// sglobal is STACK_GLOBAL of two SHORT_BINUNICODE strings.
func sglobal(mod, name string) string { return sbu(mod) + sbu(name) + stackGlob }

func scan(t testing.TB, b []byte, opt Options) *Result {
	t.Helper()
	res, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), opt)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return res
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
