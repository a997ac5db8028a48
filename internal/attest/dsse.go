package attest

import (
	"fmt"
	"strconv"
)

// PAE is the DSSE v1 pre-authentication encoding of a payload: what is
// actually signed, so that a signature over one payload type can never be
// read as a signature over another.
func PAE(payloadType string, payload []byte) []byte {
	b := fmt.Appendf(nil, "DSSEv1 %d %s %d ", len(payloadType), payloadType, len(payload))
	return append(b, payload...)
}

// paeCompat is the encoding model_signing v0.2 signed by mistake: "DSSEV1"
// and, in place of the payload, Python's repr of the payload bytes. Only
// verification uses it, so that signatures made then still verify.
func paeCompat(payloadType string, payload []byte) []byte {
	b := fmt.Appendf(nil, "DSSEV1 %d %s %d ", len(payloadType), payloadType, len(payload))
	return appendPyBytesRepr(b, payload)
}

// appendPyBytesRepr appends repr(p) as CPython writes it for a bytes
// object: b'...' (or b"..." when p holds ' but no "), with \\, the quote,
// \t, \n, \r escaped and other bytes outside printable ASCII as \xhh.
func appendPyBytesRepr(b, p []byte) []byte {
	quote := byte('\'')
	hasSingle, hasDouble := false, false
	for _, c := range p {
		hasSingle = hasSingle || c == '\''
		hasDouble = hasDouble || c == '"'
	}
	if hasSingle && !hasDouble {
		quote = '"'
	}
	b = append(b, 'b', quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			b = append(b, '\\', c)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < 0x20 || c >= 0x7f:
			b = append(b, `\x`...)
			if c < 0x10 {
				b = append(b, '0')
			}
			b = strconv.AppendUint(b, uint64(c), 16)
		default:
			b = append(b, c)
		}
	}
	return append(b, quote)
}
