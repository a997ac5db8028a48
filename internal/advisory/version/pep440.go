package version

import (
	"fmt"
	"regexp"
	"strings"
)

// pep440Re is the PEP 440 permissive grammar: every spelling the spec says
// to accept and normalise. RE2 matches in linear time, so a hostile string
// costs no more than its (bounded) length.
var pep440Re = regexp.MustCompile(`^v?` +
	`(?:([0-9]+)!)?` + // 1 epoch
	`([0-9]+(?:\.[0-9]+)*)` + // 2 release
	`(?:[-_.]?(alpha|beta|preview|pre|a|b|c|rc)[-_.]?([0-9]+)?)?` + // 3,4 pre
	`(?:-([0-9]+)|[-_.]?(post|rev|r)[-_.]?([0-9]+)?)?` + // 5 implicit post; 6,7 post
	`(?:[-_.]?(dev)[-_.]?([0-9]+)?)?` + // 8,9 dev
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$`) // 10 local

// PEP440 is a parsed Python package version. Numbers are kept as decimal
// strings without leading zeros, so no release segment can overflow.
type PEP440 struct {
	raw     string
	epoch   string
	release []string // trailing zeros kept; compare pads
	pre     string   // "a", "b", "rc" or ""
	preN    string
	post    bool
	postN   string
	dev     bool
	devN    string
	local   []string
}

// ParsePEP440 parses s as PEP 440 says, normalising case, separators,
// alternate spellings and implicit zeros.
func ParsePEP440(s string) (PEP440, error) {
	if len(s) > MaxVersionLen {
		return PEP440{}, fmt.Errorf("pep 440 version of %d bytes: %w", len(s), ErrTooLong)
	}
	m := pep440Re.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return PEP440{}, fmt.Errorf("pep 440 version %q: %w", s, ErrInvalid)
	}
	v := PEP440{raw: s, epoch: trimZeros(m[1])}
	for _, seg := range strings.Split(m[2], ".") {
		v.release = append(v.release, trimZeros(seg))
	}
	if m[3] != "" {
		switch m[3] {
		case "a", "alpha":
			v.pre = "a"
		case "b", "beta":
			v.pre = "b"
		default: // c, rc, pre, preview
			v.pre = "rc"
		}
		v.preN = trimZeros(m[4])
	}
	switch {
	case m[5] != "":
		v.post, v.postN = true, trimZeros(m[5])
	case m[6] != "":
		v.post, v.postN = true, trimZeros(m[7])
	}
	if m[8] != "" {
		v.dev, v.devN = true, trimZeros(m[9])
	}
	if m[10] != "" {
		v.local = strings.FieldsFunc(m[10], func(r rune) bool { return r == '-' || r == '_' || r == '.' })
		for i, seg := range v.local {
			if isDigits(seg) {
				v.local[i] = trimZeros(seg)
			}
		}
	}
	return v, nil
}

// String is the normalised form of v.
func (v PEP440) String() string {
	var b strings.Builder
	if v.epoch != "0" {
		b.WriteString(v.epoch + "!")
	}
	b.WriteString(strings.Join(v.release, "."))
	b.WriteString(v.suffix())
	if len(v.local) > 0 {
		b.WriteString("+" + strings.Join(v.local, "."))
	}
	return b.String()
}

func (v PEP440) suffix() string {
	s := ""
	if v.pre != "" {
		s += v.pre + v.preN
	}
	if v.post {
		s += ".post" + v.postN
	}
	if v.dev {
		s += ".dev" + v.devN
	}
	return s
}

// IsPrerelease reports whether v is a pre-release or a development release.
func (v PEP440) IsPrerelease() bool { return v.pre != "" || v.dev }

// IsPostrelease reports whether v is a post-release.
func (v PEP440) IsPostrelease() bool { return v.post }

// public is v without its local label.
func (v PEP440) public() PEP440 { v.local = nil; return v }

// base is v's epoch and release only.
func (v PEP440) base() PEP440 {
	return PEP440{epoch: v.epoch, release: v.release}
}

// Compare orders a and b as PEP 440 does: dev < pre < release < post,
// and a local version after its public version.
func (a PEP440) Compare(b PEP440) int {
	if c := cmpNum(a.epoch, b.epoch); c != 0 {
		return c
	}
	n := max(len(a.release), len(b.release))
	for i := range n {
		if c := cmpNum(segAt(a.release, i), segAt(b.release, i)); c != 0 {
			return c
		}
	}
	if c := cmpPre(a, b); c != 0 {
		return c
	}
	// A missing post-release sorts first.
	if c := cmpOpt(a.post, a.postN, b.post, b.postN, -1); c != 0 {
		return c
	}
	// A missing dev-release sorts last.
	if c := cmpOpt(a.dev, a.devN, b.dev, b.devN, +1); c != 0 {
		return c
	}
	return cmpLocal(a.local, b.local)
}

// preKey ranks the pre-release part: a bare dev release (1.0.dev1) sorts
// before every pre-release of its release, no pre-release after them all.
func preKey(v PEP440) (rank int, n string) {
	switch {
	case v.pre == "" && !v.post && v.dev:
		return 0, "0"
	case v.pre == "":
		return 4, "0"
	case v.pre == "a":
		return 1, v.preN
	case v.pre == "b":
		return 2, v.preN
	default:
		return 3, v.preN
	}
}

func cmpPre(a, b PEP440) int {
	ra, na := preKey(a)
	rb, nb := preKey(b)
	if ra != rb {
		return cmpInt(ra, rb)
	}
	return cmpNum(na, nb)
}

// cmpOpt compares optional numbers; missing sorts on the side of absent.
func cmpOpt(ha bool, na string, hb bool, nb string, absent int) int {
	switch {
	case ha && hb:
		return cmpNum(na, nb)
	case ha:
		return -absent
	case hb:
		return absent
	}
	return 0
}

// cmpLocal compares local labels segment by segment: numbers above words,
// numbers by value, words by text, and a longer label after its prefix.
func cmpLocal(a, b []string) int {
	for i := range min(len(a), len(b)) {
		da, db := isDigits(a[i]), isDigits(b[i])
		switch {
		case da && db:
			if c := cmpNum(a[i], b[i]); c != 0 {
				return c
			}
		case da:
			return 1
		case db:
			return -1
		default:
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(a), len(b))
}

func segAt(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "0"
}

// trimZeros drops leading zeros; the empty string (an implicit number) is 0.
func trimZeros(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "0"
	}
	return s
}

// cmpNum compares decimal strings without leading zeros.
func cmpNum(a, b string) int {
	if len(a) != len(b) {
		return cmpInt(len(a), len(b))
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// A Specifier is one PEP 440 version clause such as ">=1.2" or "==1.4.*".
type Specifier struct {
	Op       string // "==", "!=", "<", "<=", ">", ">=", "~=", "==="
	Text     string // the version text after Op, trimmed
	Version  PEP440 // unset for "===" and wildcards
	Wildcard bool   // "==X.*" or "!=X.*"
}

// A SpecifierSet is comma-joined specifiers; a version must meet them all.
type SpecifierSet []Specifier

// ParseSpecifierSet parses a comma-joined list such as ">=1.0,!=1.3.*,<2".
// An empty string is the set that every final release meets.
func ParseSpecifierSet(s string) (SpecifierSet, error) {
	if len(s) > MaxSpecifierLen {
		return nil, fmt.Errorf("specifier set of %d bytes: %w", len(s), ErrTooLong)
	}
	if strings.TrimSpace(s) == "" {
		return SpecifierSet{}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > MaxClauses {
		return nil, fmt.Errorf("specifier set of %d clauses: %w", len(parts), ErrTooLong)
	}
	set := make(SpecifierSet, 0, len(parts))
	for _, p := range parts {
		sp, err := ParseSpecifier(p)
		if err != nil {
			return nil, err
		}
		set = append(set, sp)
	}
	return set, nil
}

// ParseSpecifier parses one clause.
func ParseSpecifier(s string) (Specifier, error) {
	s = strings.TrimSpace(s)
	var op string
	for _, o := range []string{"===", "==", "!=", "<=", ">=", "~=", "<", ">"} {
		if strings.HasPrefix(s, o) {
			op = o
			break
		}
	}
	if op == "" {
		return Specifier{}, fmt.Errorf("specifier %q: no operator: %w", s, ErrInvalid)
	}
	text := strings.TrimSpace(s[len(op):])
	sp := Specifier{Op: op, Text: text}
	if text == "" {
		return Specifier{}, fmt.Errorf("specifier %q: no version: %w", s, ErrInvalid)
	}
	if op == "===" {
		if len(text) > MaxVersionLen {
			return Specifier{}, fmt.Errorf("specifier of %d bytes: %w", len(text), ErrTooLong)
		}
		if strings.ContainsAny(text, " \t,;") {
			return Specifier{}, fmt.Errorf("specifier %q: %w", s, ErrInvalid)
		}
		return sp, nil
	}
	if strings.HasSuffix(text, ".*") {
		if op != "==" && op != "!=" {
			return Specifier{}, fmt.Errorf("specifier %q: wildcard only with == or !=: %w", s, ErrInvalid)
		}
		sp.Wildcard = true
		text = text[:len(text)-2]
	}
	v, err := ParsePEP440(text)
	if err != nil {
		return Specifier{}, fmt.Errorf("specifier %q: %w", s, err)
	}
	switch {
	case len(v.local) > 0 && op != "==" && op != "!=":
		return Specifier{}, fmt.Errorf("specifier %q: local version only with == or !=: %w", s, ErrInvalid)
	case sp.Wildcard && (len(v.local) > 0 || v.suffix() != ""):
		// Prefix matching on a pre/post/dev part is legal PEP 440 but
		// unheard of in advisories; refuse rather than guess.
		return Specifier{}, fmt.Errorf("specifier %q: wildcard after a pre, post, dev or local part: %w", s, ErrUnsupported)
	case op == "~=" && len(v.release) < 2:
		return Specifier{}, fmt.Errorf("specifier %q: ~= needs two release segments: %w", s, ErrInvalid)
	}
	sp.Version = v
	return sp, nil
}

// namesPrerelease reports whether the clause names a pre-release, which
// lets its set admit pre-releases. As in pypa/packaging, only the
// inclusive operators count: "<1.1a1" does not admit 1.0a1.
func (s Specifier) namesPrerelease() bool {
	switch s.Op {
	case "==", ">=", "<=", "~=":
		return s.Version.IsPrerelease()
	case "===":
		v, err := ParsePEP440(s.Text)
		return err == nil && v.IsPrerelease()
	}
	return false
}

// Contains reports whether v meets the set. Pre-releases are excluded
// unless prereleases is true or one clause names a pre-release.
func (s SpecifierSet) Contains(v PEP440, prereleases bool) bool {
	if v.IsPrerelease() && !prereleases {
		named := false
		for _, sp := range s {
			named = named || sp.namesPrerelease()
		}
		if !named {
			return false
		}
	}
	for _, sp := range s {
		if !sp.Contains(v) {
			return false
		}
	}
	return true
}

// Contains reports whether v meets the clause, without the pre-release rule.
func (s Specifier) Contains(v PEP440) bool {
	w := s.Version
	switch s.Op {
	case "===":
		// PEP 440 asks for plain string equality; packaging compares the
		// normal form, so either spelling matches.
		return strings.EqualFold(strings.TrimSpace(v.raw), s.Text) || strings.EqualFold(v.String(), s.Text)
	case "==":
		return s.equal(v)
	case "!=":
		return !s.equal(v)
	case "~=":
		prefix := Specifier{Op: "==", Wildcard: true, Version: PEP440{epoch: w.epoch, release: w.release[:len(w.release)-1]}}
		return v.public().Compare(w) >= 0 && prefix.equal(v)
	case "<=":
		return v.public().Compare(w) <= 0
	case ">=":
		return v.public().Compare(w) >= 0
	case "<":
		// <3 does not admit 3.0a1 unless it names a pre-release itself.
		if !w.IsPrerelease() && v.IsPrerelease() && v.base().Compare(w.base()) == 0 {
			return false
		}
		return v.public().Compare(w) < 0
	case ">":
		// >3 admits neither 3.post1 (unless it names a post-release) nor 3+local.
		if !w.IsPostrelease() && v.IsPostrelease() && v.base().Compare(w.base()) == 0 {
			return false
		}
		if len(v.local) > 0 && v.base().Compare(w.base()) == 0 {
			return false
		}
		return v.public().Compare(w) > 0
	}
	return false
}

func (s Specifier) equal(v PEP440) bool {
	w := s.Version
	if s.Wildcard {
		if cmpNum(v.epoch, w.epoch) != 0 {
			return false
		}
		for i := range w.release {
			if cmpNum(segAt(v.release, i), w.release[i]) != 0 {
				return false
			}
		}
		return true
	}
	if len(w.local) == 0 {
		v = v.public()
	}
	return v.Compare(w) == 0
}
