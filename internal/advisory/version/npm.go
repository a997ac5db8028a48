package version

import (
	"fmt"
	"strconv"
	"strings"
)

// Semver is a semantic version as npm reads it: major.minor.patch, an
// optional pre-release and build metadata that comparison ignores.
type Semver struct {
	Major, Minor, Patch uint64
	Pre                 []string
	Build               string
}

// maxSemverNumber is JavaScript's largest safe integer, node-semver's
// ceiling for a version number.
const maxSemverNumber = 1<<53 - 1

// ParseSemver parses a full semver 2.0 version, tolerating a leading "v"
// or "=" and surrounding spaces as npm does.
func ParseSemver(s string) (Semver, error) {
	if len(s) > MaxVersionLen {
		return Semver{}, fmt.Errorf("semver of %d bytes: %w", len(s), ErrTooLong)
	}
	p, err := parsePartial(strings.TrimSpace(s))
	if err != nil {
		return Semver{}, err
	}
	if p.parts < 3 || p.wild {
		return Semver{}, fmt.Errorf("semver %q: need major.minor.patch: %w", s, ErrInvalid)
	}
	return p.v, nil
}

// partial is an npm X-range: up to three numbers, any of them x, X or *.
type partial struct {
	v     Semver
	parts int  // numbers given before the first wildcard or the end
	wild  bool // a wildcard part was written
}

func parsePartial(s string) (partial, error) {
	orig := s
	s = strings.TrimLeft(s, "=v")
	if s == "" || s == "*" || s == "x" || s == "X" {
		return partial{wild: s != ""}, nil
	}
	var p partial
	core, build, hasBuild := strings.Cut(s, "+")
	if hasBuild {
		if !validIdents(build, false) {
			return partial{}, fmt.Errorf("semver %q: build metadata: %w", orig, ErrInvalid)
		}
		p.v.Build = build
	}
	core, pre, hasPre := strings.Cut(core, "-")
	if hasPre {
		if !validIdents(pre, true) {
			return partial{}, fmt.Errorf("semver %q: pre-release: %w", orig, ErrInvalid)
		}
		p.v.Pre = strings.Split(pre, ".")
	}
	nums := strings.Split(core, ".")
	if len(nums) > 3 {
		return partial{}, fmt.Errorf("semver %q: more than three numbers: %w", orig, ErrInvalid)
	}
	dst := []*uint64{&p.v.Major, &p.v.Minor, &p.v.Patch}
	for i, n := range nums {
		if n == "x" || n == "X" || n == "*" {
			p.wild = true
			continue
		}
		if p.wild {
			return partial{}, fmt.Errorf("semver %q: number after a wildcard: %w", orig, ErrInvalid)
		}
		x, err := parseNumeric(n)
		if err != nil {
			return partial{}, fmt.Errorf("semver %q: %w", orig, err)
		}
		*dst[i] = x
		p.parts = i + 1
	}
	if (hasPre || hasBuild) && (p.parts < 3) {
		return partial{}, fmt.Errorf("semver %q: pre-release or build on a partial version: %w", orig, ErrInvalid)
	}
	return p, nil
}

func parseNumeric(n string) (uint64, error) {
	if !isDigits(n) || (len(n) > 1 && n[0] == '0') {
		return 0, fmt.Errorf("number %q: %w", n, ErrInvalid)
	}
	x, err := strconv.ParseUint(n, 10, 64)
	if err != nil || x > maxSemverNumber {
		return 0, fmt.Errorf("number %q too large: %w", n, ErrInvalid)
	}
	return x, nil
}

// validIdents checks dot-separated identifiers; pre-release numbers may
// not have leading zeros.
func validIdents(s string, pre bool) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
		if pre && isDigits(id) && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

// String is v in canonical form, without build metadata.
func (v Semver) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if len(v.Pre) > 0 {
		s += "-" + strings.Join(v.Pre, ".")
	}
	return s
}

// Compare orders a and b by semver 2.0 precedence.
func (a Semver) Compare(b Semver) int {
	for _, p := range [][2]uint64{{a.Major, b.Major}, {a.Minor, b.Minor}, {a.Patch, b.Patch}} {
		if p[0] != p[1] {
			if p[0] < p[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a.Pre) == 0 && len(b.Pre) == 0:
		return 0
	case len(a.Pre) == 0:
		return 1
	case len(b.Pre) == 0:
		return -1
	}
	for i := range min(len(a.Pre), len(b.Pre)) {
		x, y := a.Pre[i], b.Pre[i]
		dx, dy := isDigits(x), isDigits(y)
		var c int
		switch {
		case dx && dy:
			c = cmpNum(strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0"))
		case dx:
			c = -1
		case dy:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return cmpInt(len(a.Pre), len(b.Pre))
}

func (v Semver) sameTuple(w Semver) bool {
	return v.Major == w.Major && v.Minor == w.Minor && v.Patch == w.Patch
}

// comparator is one primitive test such as ">=1.2.3"; op "" matches all.
type comparator struct {
	op string // "", "<", "<=", ">", ">=", "="
	v  Semver
	// floor marks a lower bound that node-semver lowers to v-0 when
	// pre-releases are included: one written as a partial version ("1.2",
	// "~1", ">=1.2") or as the low end of a hyphen range.
	floor bool
}

func (c comparator) test(v Semver, includePrerelease bool) bool {
	w := c.v
	if c.floor && includePrerelease && len(w.Pre) == 0 {
		w.Pre = []string{"0"}
	}
	d := v.Compare(w)
	switch c.op {
	case "":
		return true
	case "<":
		return d < 0
	case "<=":
		return d <= 0
	case ">":
		return d > 0
	case ">=":
		return d >= 0
	}
	return d == 0
}

// NpmRange is a parsed npm range: comparator sets joined by "||".
type NpmRange struct {
	sets [][]comparator
}

// ParseNpmRange parses an npm range with "||", hyphen ranges, X-ranges,
// tilde, caret and primitive comparators.
func ParseNpmRange(s string) (NpmRange, error) {
	if len(s) > MaxSpecifierLen {
		return NpmRange{}, fmt.Errorf("npm range of %d bytes: %w", len(s), ErrTooLong)
	}
	var r NpmRange
	clauses := 0
	for _, alt := range strings.Split(s, "||") {
		set, err := parseCompSet(alt)
		if err != nil {
			return NpmRange{}, fmt.Errorf("npm range %q: %w", s, err)
		}
		clauses += len(set)
		if clauses > MaxClauses {
			return NpmRange{}, fmt.Errorf("npm range of over %d clauses: %w", MaxClauses, ErrTooLong)
		}
		r.sets = append(r.sets, set)
	}
	return r, nil
}

// lowest is 0.0.0-0, below every version.
var lowest = Semver{Pre: []string{"0"}}

func parseCompSet(s string) ([]comparator, error) {
	f := strings.Fields(s)
	if len(f) == 3 && f[1] == "-" {
		lo, err := parsePartial(f[0])
		if err != nil {
			return nil, err
		}
		hi, err := parsePartial(f[2])
		if err != nil {
			return nil, err
		}
		var set []comparator
		if lo.parts > 0 {
			set = append(set, comparator{">=", lo.v, true})
		}
		switch {
		case hi.parts == 3:
			set = append(set, comparator{op: "<=", v: hi.v})
		case hi.parts > 0:
			set = append(set, comparator{op: "<", v: bump(hi.v, hi.parts)})
		}
		if len(set) == 0 {
			set = []comparator{{}}
		}
		return set, nil
	}
	// Join a lone operator to the version after it: ">= 1.2" is ">=1.2".
	var toks []string
	for i := 0; i < len(f); i++ {
		t := f[i]
		if strings.Trim(t, "<>=~^") == "" && i+1 < len(f) {
			t += f[i+1]
			i++
		}
		toks = append(toks, t)
	}
	if len(toks) == 0 {
		return []comparator{{}}, nil
	}
	var set []comparator
	for _, t := range toks {
		cs, err := desugar(t)
		if err != nil {
			return nil, err
		}
		set = append(set, cs...)
	}
	return set, nil
}

// bump is the first version past the partial p of n numbers, as a
// "-0" pre-release so that a bound like <2.0.0-0 excludes 2.0.0 pre-releases.
func bump(v Semver, n int) Semver {
	switch n {
	case 1:
		return Semver{Major: v.Major + 1, Pre: []string{"0"}}
	case 2:
		return Semver{Major: v.Major, Minor: v.Minor + 1, Pre: []string{"0"}}
	}
	return Semver{Major: v.Major, Minor: v.Minor, Patch: v.Patch + 1, Pre: []string{"0"}}
}

func desugar(t string) ([]comparator, error) {
	var op string
	for _, o := range []string{"~>", ">=", "<=", "~", "^", ">", "<", "="} {
		if strings.HasPrefix(t, o) {
			op = o
			break
		}
	}
	p, err := parsePartial(t[len(op):])
	if err != nil {
		return nil, err
	}
	v, n := p.v, p.parts
	any := []comparator{{}}
	lo := comparator{op: ">=", v: v, floor: n < 3}
	lt := func(w Semver) comparator { return comparator{op: "<", v: w} }
	switch op {
	case "", "=":
		if n == 0 {
			return any, nil
		}
		if n == 3 {
			return []comparator{{op: "=", v: v}}, nil
		}
		return []comparator{lo, lt(bump(v, n))}, nil
	case "~", "~>":
		if n == 0 {
			return any, nil
		}
		return []comparator{lo, lt(bump(v, min(n, 2)))}, nil
	case "^":
		switch {
		case n == 0:
			return any, nil
		case v.Major != 0 || n == 1:
			return []comparator{lo, lt(bump(v, 1))}, nil
		case v.Minor != 0 || n == 2:
			return []comparator{lo, lt(bump(v, 2))}, nil
		}
		return []comparator{lo, lt(bump(v, 3))}, nil
	case ">":
		switch n {
		case 0:
			return []comparator{lt(lowest)}, nil // nothing is above *
		case 3:
			return []comparator{{op: ">", v: v}}, nil
		}
		return []comparator{{op: ">=", v: bump(v, n).release(), floor: true}}, nil
	case ">=":
		if n == 0 {
			return any, nil
		}
		return []comparator{lo}, nil
	case "<":
		if n == 0 {
			return []comparator{lt(lowest)}, nil
		}
		if n == 3 {
			return []comparator{lt(v)}, nil
		}
		return []comparator{lt(Semver{Major: v.Major, Minor: v.Minor, Pre: []string{"0"}})}, nil
	case "<=":
		switch n {
		case 0:
			return any, nil
		case 3:
			return []comparator{{op: "<=", v: v}}, nil
		}
		return []comparator{lt(bump(v, n))}, nil
	}
	return nil, fmt.Errorf("comparator %q: %w", t, ErrInvalid)
}

func (v Semver) release() Semver { v.Pre = nil; return v }

// Contains reports whether v satisfies the range. Without
// includePrerelease, a pre-release only satisfies a comparator set that
// names a pre-release of the same major.minor.patch, as node-semver does.
func (r NpmRange) Contains(v Semver, includePrerelease bool) bool {
	for _, set := range r.sets {
		if setContains(set, v, includePrerelease) {
			return true
		}
	}
	return false
}

func setContains(set []comparator, v Semver, includePrerelease bool) bool {
	for _, c := range set {
		if !c.test(v, includePrerelease) {
			return false
		}
	}
	if len(v.Pre) == 0 || includePrerelease {
		return true
	}
	for _, c := range set {
		if c.op != "" && len(c.v.Pre) > 0 && c.v.sameTuple(v) {
			return true
		}
	}
	return false
}
