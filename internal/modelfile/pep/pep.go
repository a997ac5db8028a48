// Package pep reads the pieces of Python packaging metadata that every
// manifest format shares: project names (PEP 503), dependency specifiers
// (PEP 508) and version specifiers (PEP 440), as far as an inventory needs.
//
// Nothing here evaluates environment markers or orders versions: markers
// are kept as written, and a specifier is either one exact version (pinned)
// or a range kept as text. A second implementation needs only the grammar
// in PEP 508's "Names", "Extras", "Versions" and "Environment Markers"
// sections; whitespace is allowed between every token.
package pep

import (
	"errors"
	"fmt"
	"strings"
)

// MaxRequirement is the longest requirement string parsed, in bytes: real
// ones with long markers are a few hundred bytes; this only keeps a
// hostile line from costing more than a pass over it.
const MaxRequirement = 8 << 10

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("pep 508: invalid requirement")

// Normalize returns the PEP 503 form of a project name: lower case, with
// each run of '-', '_' and '.' replaced by a single '-'.
func Normalize(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			sep = true
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteByte(c)
	}
	return b.String()
}

// ValidName reports whether s is a project name PEP 508 allows: ASCII
// letters and digits, with '.', '-' and '_' inside.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c):
		case (c == '.' || c == '-' || c == '_') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// A Requirement is one parsed dependency specifier.
type Requirement struct {
	// Name is the name as written; Normalize it before comparing.
	Name string
	// Extras are the extras asked for, as written, in order.
	Extras []string
	// Specifier is the version specifier with spaces removed, e.g.
	// ">=1.0,<2"; empty for any version or a URL requirement.
	Specifier string
	// URL is the direct reference after '@', if any.
	URL string
	// Markers is the environment marker after ';', as written (trimmed).
	Markers string
}

// Parse reads a PEP 508 dependency specifier such as
// `requests[socks] >=2.31, <3 ; python_version >= "3.8"`.
func Parse(s string) (Requirement, error) {
	var r Requirement
	if len(s) > MaxRequirement {
		return r, fmt.Errorf("%w: %d bytes, longer than %d", ErrSyntax, len(s), MaxRequirement)
	}
	rest := strings.TrimSpace(s)
	i := 0
	for i < len(rest) && (isAlnum(rest[i]) || rest[i] == '.' || rest[i] == '-' || rest[i] == '_') {
		i++
	}
	r.Name, rest = rest[:i], strings.TrimSpace(rest[i:])
	if !ValidName(r.Name) {
		return r, fmt.Errorf("%w: %q: bad project name", ErrSyntax, s)
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return r, fmt.Errorf("%w: %q: unclosed extras", ErrSyntax, s)
		}
		for _, e := range strings.Split(rest[1:end], ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if !ValidName(e) {
				return r, fmt.Errorf("%w: %q: bad extra %q", ErrSyntax, s, e)
			}
			r.Extras = append(r.Extras, e)
		}
		rest = strings.TrimSpace(rest[end+1:])
	}
	if strings.HasPrefix(rest, "@") {
		// A URL ends at whitespace; a marker must then follow after ';'.
		rest = strings.TrimSpace(rest[1:])
		end := strings.IndexAny(rest, " \t")
		if end < 0 {
			end = len(rest)
		}
		r.URL, rest = rest[:end], strings.TrimSpace(rest[end:])
		if r.URL == "" || !strings.Contains(r.URL, ":") {
			return r, fmt.Errorf("%w: %q: bad URL", ErrSyntax, s)
		}
	} else {
		spec := rest
		if semi := strings.IndexByte(rest, ';'); semi >= 0 {
			spec, rest = rest[:semi], rest[semi:]
		} else {
			rest = ""
		}
		spec = strings.TrimSpace(spec)
		if strings.HasPrefix(spec, "(") {
			if !strings.HasSuffix(spec, ")") {
				return r, fmt.Errorf("%w: %q: unclosed version list", ErrSyntax, s)
			}
			spec = spec[1 : len(spec)-1]
		}
		norm, err := Specifier(spec)
		if err != nil {
			return r, fmt.Errorf("%w: %q: %v", ErrSyntax, s, err)
		}
		r.Specifier = norm
	}
	if rest != "" {
		if rest[0] != ';' {
			return r, fmt.Errorf("%w: %q: unexpected %q", ErrSyntax, s, rest)
		}
		r.Markers = strings.TrimSpace(rest[1:])
		if r.Markers == "" {
			return r, fmt.Errorf("%w: %q: empty marker", ErrSyntax, s)
		}
	}
	return r, nil
}

// operators are PEP 440's comparison operators, longest first so that a
// prefix match picks the whole operator.
var operators = []string{"===", "~=", "==", "!=", "<=", ">=", "<", ">"}

// Specifier checks a PEP 440 version specifier (comma-separated clauses,
// each an operator and a version) and returns it with whitespace removed.
// The empty specifier, meaning any version, is valid.
func Specifier(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	var out []string
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		op := ""
		for _, o := range operators {
			if strings.HasPrefix(c, o) {
				op = o
				break
			}
		}
		if op == "" {
			return "", fmt.Errorf("clause %q has no comparison operator", c)
		}
		v := strings.TrimSpace(c[len(op):])
		if v == "" || !versionChars(v, op) {
			return "", fmt.Errorf("clause %q has a bad version", c)
		}
		out = append(out, op+v)
	}
	return strings.Join(out, ","), nil
}

// versionChars reports whether v is made of the characters a version may
// have under op: "===" compares arbitrary strings, "==" and "!=" allow a
// trailing ".*".
func versionChars(v, op string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isAlnum(c), c == '.', c == '-', c == '_', c == '+', c == '!':
		case c == '*' && (op == "==" || op == "!=") && i == len(v)-1:
		case op == "===" && c > ' ' && c < 0x7f && c != ',' && c != ';':
		default:
			return false
		}
	}
	return true
}

// Pinned returns the one version a specifier allows, and whether it
// allows exactly one: "==1.2.3" or "===1.2.3", without a wildcard.
func Pinned(spec string) (string, bool) {
	if strings.Contains(spec, ",") {
		return "", false
	}
	for _, op := range []string{"===", "=="} {
		if v, ok := strings.CutPrefix(spec, op); ok && v != "" && !strings.Contains(v, "*") {
			return v, true
		}
	}
	return "", false
}
