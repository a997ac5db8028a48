package pickle

import (
	"bytes"
	"context"
)

// sniffLimits bound the trial parse of Sniff: it looks at one file head.
var sniffLimits = Limits{
	Opcodes: 4096,
	Memo:    1024,
	Stack:   1024,
	Bytes:   1 << 16,
	Pickles: 2,
	Values:  1 << 14,
	Records: 1024,
}

// sniffMinOps is how many opcodes a head without PROTO must parse cleanly
// before it counts as a pickle: text rarely gets past two.
const sniffMinOps = 3

// Sniff reports whether head, the first bytes of a file, is plausibly a
// pickle. It does no I/O.
//
// Protocols 2 to 5 start with PROTO and a version, then an opcode. Older
// protocols have no magic, so head is test-parsed: it must reach STOP, or
// parse at least sniffMinOps opcodes including one that shapes a pickle
// (MARK, GLOBAL, INST, an empty container, a memo store) and not fail
// before head runs out. Module and attribute names must look like
// identifiers, which rules out most text that starts with an opcode letter.
func Sniff(head []byte) bool {
	if len(head) >= 3 && head[0] == opProto && head[1] >= 2 && head[1] <= highestProtocol {
		return opNames[head[2]] != ""
	}
	if len(head) == 0 || opNames[head[0]] == "" {
		return false
	}
	m := newMachine(context.Background(), bytes.NewReader(head), int64(len(head)), sniffLimits)
	m.sniff = true
	m.scan(1)
	res := m.res
	if m.err != nil {
		return false
	}
	if res.Pickles > 0 {
		return res.Opcodes >= 2
	}
	if res.Limit != "" {
		return m.structural
	}
	b := res.Malformed
	if b == nil || !b.Truncated {
		return false
	}
	done := res.Opcodes
	if b.Op != "" {
		done-- // the opcode cut short by the end of head
	}
	return done >= sniffMinOps && m.structural
}
