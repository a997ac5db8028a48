package pickle

import (
	"strings"
	"unicode/utf8"
)

// unescape decodes the body of a protocol-0 STRING as Python's bytes
// escape decoding does. whole is false when b is only the head of a longer
// string, where an escape cut short at the end is no error.
func unescape(b []byte, whole bool) (string, bool) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return string(out), !whole // a trailing backslash
		}
		switch c = b[i]; c {
		case '\n': // a line continuation
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(b[i]-'0')
			}
			out = append(out, byte(v))
		case 'x':
			if i+2 >= len(b) {
				// Cut short: an error only if this is the whole string.
				return string(out), !whole
			}
			hi, ok1 := unhex(b[i+1])
			lo, ok2 := unhex(b[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			out = append(out, hi<<4|lo)
			i += 2
		default:
			// Python keeps unknown escapes as they are.
			out = append(out, '\\', c)
		}
	}
	return string(out), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// rawUnicodeEscape decodes the line of a protocol-0 UNICODE opcode: bytes
// are Latin-1 code points, except \uXXXX and \UXXXXXXXX after an odd run
// of backslashes. A malformed escape is kept as it is: the text is only
// evidence and names, and a name with a broken escape resolves to nothing.
func rawUnicodeEscape(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			sb.WriteRune(rune(c))
			continue
		}
		run := 1
		for i+run < len(b) && b[i+run] == '\\' {
			run++
		}
		next := i + run
		if run%2 == 1 && next < len(b) && (b[next] == 'u' || b[next] == 'U') {
			digits := 4
			if b[next] == 'U' {
				digits = 8
			}
			if next+digits < len(b) {
				var r rune
				ok := true
				for _, h := range b[next+1 : next+1+digits] {
					d, good := unhex(h)
					ok = ok && good
					r = r<<4 | rune(d)
				}
				if ok && r <= utf8.MaxRune {
					for range run - 1 {
						sb.WriteByte('\\')
					}
					sb.WriteRune(r)
					i = next + digits
					continue
				}
			}
		}
		for range run {
			sb.WriteByte('\\')
		}
		i = next - 1
	}
	return sb.String()
}

func validUTF8(b []byte) bool { return utf8.Valid(b) }

// dottedIdent reports whether s looks like a Python dotted name. Only
// Sniff uses it: CPython would try to import anything.
func dottedIdent(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	start := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			start = false
		case c >= '0' && c <= '9':
			if start {
				return false
			}
		case c == '.':
			if start {
				return false
			}
			start = true
		default:
			return false
		}
	}
	return !start
}

// pyQuote renders s as a Python string literal, marking a cut with "…".
func pyQuote(s string, whole bool, bytes bool) string {
	var sb strings.Builder
	if bytes {
		sb.WriteByte('b')
	}
	sb.WriteByte('\'')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\'' || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f, bytes && r >= 0x80:
			for _, c := range []byte(s[i : i+size]) {
				sb.WriteString(`\x`)
				sb.WriteByte("0123456789abcdef"[c>>4])
				sb.WriteByte("0123456789abcdef"[c&15])
			}
		default:
			sb.WriteRune(r)
		}
		i += size
	}
	if !whole {
		sb.WriteString("…")
	}
	sb.WriteByte('\'')
	return sb.String()
}
