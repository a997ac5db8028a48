package version

import (
	"errors"
	"fmt"
	"strings"
)

// A Constraint is a range of versions of one ecosystem, written as that
// ecosystem writes ranges:
//
//   - "PyPI": a PEP 440 specifier set, such as ">=2.0,<2.5,!=2.3.*".
//   - "npm": a node-semver range, such as "^1.2.0 || >=3.0.0 <3.1.0".
//   - "Go", "crates.io" and "GitHub Actions": comma-joined comparisons,
//     each an operator (<, <=, >, >=, == or !=) and a version, such as
//     ">=1.2.0,<1.5.0,!=1.3.1", ordered as [Compare] orders them.
//
// Unlike an installer, a Constraint matches pre-releases as any other
// version (as pip's --pre and npm's includePrerelease do): asked which
// deployments run a version in a range, it must not leave out one
// running 2.4.0rc1.
type Constraint struct {
	s     scheme
	pep   SpecifierSet // PyPI
	npm   *NpmRange    // npm
	comps []comparison // the others
}

// A comparison is one clause of a comma-joined list.
type comparison struct {
	op string
	v  key
}

// ParseConstraint parses s as a range of ecosystem's versions. An
// ecosystem whose versions chainvet cannot order is [ErrUnsupported]; an
// empty range, or one that does not parse, is [ErrInvalid].
func ParseConstraint(ecosystem, s string) (Constraint, error) {
	sch, err := ecosystemScheme(ecosystem)
	if err != nil {
		return Constraint{}, err
	}
	if len(s) > MaxSpecifierLen {
		return Constraint{}, fmt.Errorf("range of %d bytes: %w", len(s), ErrTooLong)
	}
	if strings.TrimSpace(s) == "" {
		return Constraint{}, fmt.Errorf("empty range: %w", ErrInvalid)
	}
	c := Constraint{s: sch}
	switch sch.(type) {
	case pep440Scheme:
		c.pep, err = ParseSpecifierSet(s)
		return c, err
	}
	if base, _, _ := strings.Cut(ecosystem, ":"); base == "npm" {
		r, err := ParseNpmRange(s)
		c.npm = &r
		return c, err
	}
	parts := strings.Split(s, ",")
	if len(parts) > MaxClauses {
		return Constraint{}, fmt.Errorf("range of %d clauses: %w", len(parts), ErrTooLong)
	}
	for _, p := range parts {
		p = strings.TrimSpace(p)
		var op string
		for _, o := range []string{"<=", ">=", "==", "!=", "<", ">"} {
			if strings.HasPrefix(p, o) {
				op = o
				break
			}
		}
		if op == "" {
			return Constraint{}, fmt.Errorf("range clause %q: want <, <=, >, >=, == or != and a version: %w", p, ErrInvalid)
		}
		v, err := sch.parse(strings.TrimSpace(p[len(op):]))
		if err != nil {
			return Constraint{}, fmt.Errorf("range clause %q: %w", p, err)
		}
		c.comps = append(c.comps, comparison{op, v})
	}
	return c, nil
}

// Contains reports whether version v is in the range. An error means v
// does not parse as a version of the ecosystem: whether it is in the
// range is unknown.
func (c Constraint) Contains(v string) (bool, error) {
	switch {
	case c.s == nil:
		return false, errors.New("version: the zero Constraint holds nothing")
	case c.pep != nil:
		pv, err := ParsePEP440(v)
		if err != nil {
			return false, err
		}
		return c.pep.Contains(pv, true), nil
	case c.npm != nil:
		sv, err := ParseSemver(v)
		if err != nil {
			return false, err
		}
		return c.npm.Contains(sv, true), nil
	}
	k, err := c.s.parse(v)
	if err != nil {
		return false, err
	}
	for _, cp := range c.comps {
		d := k.cmp(cp.v)
		var ok bool
		switch cp.op {
		case "<":
			ok = d < 0
		case "<=":
			ok = d <= 0
		case ">":
			ok = d > 0
		case ">=":
			ok = d >= 0
		case "==":
			ok = d == 0
		case "!=":
			ok = d != 0
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}
