// Package version compares package versions as each ecosystem does, and
// decides whether a version falls in an OSV affected range.
//
// # Schemes
//
// Each OSV ecosystem orders its versions its own way:
//
//   - "PyPI": PEP 440 ([ParsePEP440]); specifier sets in [ParseSpecifierSet].
//   - "npm": semver 2.0 as node-semver reads it ([ParseSemver]); ranges in
//     [ParseNpmRange].
//   - "Go": golang.org/x/mod/semver, with or without the leading "v"; pseudo-
//     versions are pre-releases and sort by their timestamp, and
//     "+incompatible" is build metadata, so v2.0.0+incompatible equals v2.0.0.
//   - "crates.io", "GitHub Actions" and OSV's SEMVER range type: semver 2.0.
//     GitHub Actions refs are often short tags such as "v4"; those are read
//     as v4.0.0, and a ref that is not a version at all (a branch or commit)
//     is an error, so only the advisory's exact versions list can match it.
//
// Any other ecosystem, and OSV's GIT range type, is [ErrUnsupported]: a
// caller must report "unknown", never "not affected".
//
// [ParseConstraint] reads a range as each of these ecosystems writes one,
// for questions such as "who runs torch >=2.0,<2.5?".
//
// # OSV ranges
//
// [Affected] follows the OSV schema's evaluation: a range's events are
// sorted by version (introduced "0" first); walking them, an introduced
// event at or below v sets affected, a fixed event at or below v clears it,
// and a last_affected event below v clears it. When a range has limit
// events, v must also be below one of them (or a limit is "*"). A version
// listed in versions is affected whatever the ranges say.
//
// The tests check PEP 440 and npm answers against pypa/packaging 23 and
// node-semver 7 (testdata/gen_oracle.*).
//
// Every input is bounded: versions longer than [MaxVersionLen] bytes and
// specifier sets or ranges with more than [MaxClauses] clauses are errors.
package version

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/semver"
)

// Limits on untrusted input. Real versions are short; these leave plenty
// of room while keeping every comparison and parse cheap.
const (
	// MaxVersionLen is the longest version string accepted, in bytes.
	MaxVersionLen = 256
	// MaxClauses is the most specifiers a set or comparators a range holds.
	MaxClauses = 64
	// MaxSpecifierLen bounds a whole specifier set or range, in bytes:
	// MaxClauses clauses of a version plus an operator and separator each.
	MaxSpecifierLen = MaxClauses * (MaxVersionLen + 8)
	// MaxEvents bounds the events of all ranges given to Affected; OSV
	// records hold a handful, and sorting is n log n compares.
	MaxEvents = 4096
)

// Errors, wrapped with the offending input.
var (
	ErrInvalid     = errors.New("version: invalid")
	ErrTooLong     = errors.New("version: over limit")
	ErrUnsupported = errors.New("version: unsupported ecosystem or range type")
)

// Range is one OSV affected range.
type Range struct {
	Type   string // "ECOSYSTEM", "SEMVER" or "GIT"
	Events []Event
}

// Event is one OSV range event; exactly one field is set.
type Event struct {
	Introduced, Fixed, LastAffected, Limit string
}

// A scheme parses one ecosystem's versions into keys that order them.
type scheme interface {
	parse(s string) (key, error)
}

// A key is a parsed version; it compares only with keys of its scheme.
type key interface {
	cmp(other key) int
}

type pep440Scheme struct{}

func (pep440Scheme) parse(s string) (key, error) { return ParsePEP440(s) }

func (v PEP440) cmp(o key) int { return v.Compare(o.(PEP440)) }

// semverScheme is semver 2.0; short tags ("v4", "1.2") are allowed only
// when short is set.
type semverScheme struct{ short bool }

func (s semverScheme) parse(v string) (key, error) {
	if !s.short {
		return ParseSemver(v)
	}
	if len(v) > MaxVersionLen {
		return nil, fmt.Errorf("semver of %d bytes: %w", len(v), ErrTooLong)
	}
	p, err := parsePartial(strings.TrimSpace(v))
	if err != nil {
		return nil, err
	}
	if p.parts == 0 || p.wild {
		return nil, fmt.Errorf("semver %q: %w", v, ErrInvalid)
	}
	return p.v, nil
}

func (v Semver) cmp(o key) int { return v.Compare(o.(Semver)) }

type goScheme struct{}

// goKey is a valid Go module version with its "v".
type goKey string

func (v goKey) cmp(o key) int { return semver.Compare(string(v), string(o.(goKey))) }

// parse adds the "v" OSV records leave off Go versions.
func (goScheme) parse(s string) (key, error) {
	if len(s) > MaxVersionLen {
		return nil, fmt.Errorf("go version of %d bytes: %w", len(s), ErrTooLong)
	}
	if !strings.HasPrefix(s, "v") {
		s = "v" + s
	}
	if !semver.IsValid(s) {
		return nil, fmt.Errorf("go version %q: %w", s, ErrInvalid)
	}
	return goKey(s), nil
}

// compare parses a and b with s and orders them.
func compare(s scheme, a, b string) (int, error) {
	x, err := s.parse(a)
	if err != nil {
		return 0, err
	}
	y, err := s.parse(b)
	if err != nil {
		return 0, err
	}
	return x.cmp(y), nil
}

// ecosystemScheme picks the ordering for an OSV ecosystem name. A suffix
// after ":" (as in "Debian:12") is a release of the ecosystem and does not
// change the ordering of those supported here.
func ecosystemScheme(eco string) (scheme, error) {
	base, _, _ := strings.Cut(eco, ":")
	switch base {
	case "PyPI":
		return pep440Scheme{}, nil
	case "npm", "crates.io":
		return semverScheme{}, nil
	case "Go":
		return goScheme{}, nil
	case "GitHub Actions":
		return semverScheme{short: true}, nil
	}
	return nil, fmt.Errorf("ecosystem %q: %w", eco, ErrUnsupported)
}

// rangeScheme picks the ordering for an OSV range of type typ.
func rangeScheme(eco, typ string) (scheme, error) {
	switch typ {
	case "ECOSYSTEM":
		return ecosystemScheme(eco)
	case "SEMVER":
		return semverScheme{}, nil
	}
	return nil, fmt.Errorf("range type %q: %w", typ, ErrUnsupported)
}

// Compare orders a and b as ecosystem does: -1, 0 or +1.
func Compare(ecosystem, a, b string) (int, error) {
	s, err := ecosystemScheme(ecosystem)
	if err != nil {
		return 0, err
	}
	return compare(s, a, b)
}

// Affected reports whether version v of a package in ecosystem falls in
// any of ranges or is one of versions. An error means the answer is
// unknown: a range of an unsupported type, or a version that does not parse.
func Affected(ecosystem, v string, ranges []Range, versions []string) (bool, error) {
	if len(v) > MaxVersionLen {
		return false, fmt.Errorf("version of %d bytes: %w", len(v), ErrTooLong)
	}
	if slices.Contains(versions, v) {
		return true, nil
	}
	if es, err := ecosystemScheme(ecosystem); err == nil {
		if k, err := es.parse(v); err == nil {
			for _, x := range versions {
				if xk, err := es.parse(x); err == nil && xk.cmp(k) == 0 {
					return true, nil
				}
			}
		}
	}
	if err := countEvents(ranges); err != nil {
		return false, err
	}
	var unknown error
	for _, r := range ranges {
		in, err := inRange(ecosystem, v, r)
		if err != nil {
			unknown = cmp.Or(unknown, err)
			continue
		}
		if in {
			return true, nil
		}
	}
	return false, unknown
}

func countEvents(ranges []Range) error {
	n := 0
	for _, r := range ranges {
		n += len(r.Events)
	}
	if n > MaxEvents {
		return fmt.Errorf("%d range events: %w", n, ErrTooLong)
	}
	return nil
}

// Event kinds, in the order they apply at one version.
const (
	kindIntroduced = iota
	kindLastAffected
	kindFixed
	kindLimit
)

// parsedEvent is an event with its version parsed; k is nil for the
// special versions "0" (below all) and "*" (above all).
type parsedEvent struct {
	kind int
	text string
	k    key
}

// rank places "0" below and "*" above every parsed version.
func (e parsedEvent) rank() int {
	switch {
	case e.k != nil:
		return 0
	case e.text == "0":
		return -1
	}
	return 1
}

// at reports how v compares with the event's version.
func (e parsedEvent) at(v key) int {
	if r := e.rank(); r != 0 {
		return -r
	}
	return v.cmp(e.k)
}

func parseEvent(s scheme, e Event) (parsedEvent, error) {
	var pe parsedEvent
	switch {
	case e.Introduced != "":
		pe = parsedEvent{kind: kindIntroduced, text: e.Introduced}
	case e.LastAffected != "":
		pe = parsedEvent{kind: kindLastAffected, text: e.LastAffected}
	case e.Fixed != "":
		pe = parsedEvent{kind: kindFixed, text: e.Fixed}
	case e.Limit != "":
		pe = parsedEvent{kind: kindLimit, text: e.Limit}
	default:
		return pe, fmt.Errorf("range event with no version: %w", ErrInvalid)
	}
	if (pe.text == "0" && pe.kind == kindIntroduced) || (pe.text == "*" && pe.kind == kindLimit) {
		return pe, nil
	}
	k, err := s.parse(pe.text)
	if err != nil {
		return pe, fmt.Errorf("range event: %w", err)
	}
	pe.k = k
	return pe, nil
}

// sortedEvents parses r's events and sorts them by version, "0" lowest
// and "*" highest; at one version, introduced applies first.
func sortedEvents(s scheme, r Range) ([]parsedEvent, error) {
	evs := make([]parsedEvent, 0, len(r.Events))
	for _, e := range r.Events {
		pe, err := parseEvent(s, e)
		if err != nil {
			return nil, err
		}
		evs = append(evs, pe)
	}
	slices.SortStableFunc(evs, func(a, b parsedEvent) int {
		ra, rb := a.rank(), b.rank()
		if ra != rb || ra != 0 {
			return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a.kind, b.kind))
		}
		return cmp.Or(a.k.cmp(b.k), cmp.Compare(a.kind, b.kind))
	})
	return evs, nil
}

// inRange evaluates one OSV range for v.
func inRange(eco, v string, r Range) (bool, error) {
	s, err := rangeScheme(eco, r.Type)
	if err != nil {
		return false, err
	}
	vk, err := s.parse(v)
	if err != nil {
		return false, err
	}
	evs, err := sortedEvents(s, r)
	if err != nil {
		return false, err
	}
	limited, below := false, false
	for _, e := range evs {
		if e.kind == kindLimit {
			limited = true
			below = below || e.at(vk) < 0
		}
	}
	if limited && !below {
		return false, nil
	}
	affected := false
	for _, e := range evs {
		switch e.kind {
		case kindIntroduced:
			if e.at(vk) >= 0 {
				affected = true
			}
		case kindFixed:
			if e.at(vk) >= 0 {
				affected = false
			}
		case kindLastAffected:
			if e.at(vk) > 0 {
				affected = false
			}
		}
	}
	return affected, nil
}

// orderScheme orders versions named across ranges: the ecosystem's own
// order, or semver when the ecosystem is unsupported but every range is
// of type SEMVER.
func orderScheme(ecosystem string, ranges []Range) (scheme, error) {
	s, err := ecosystemScheme(ecosystem)
	if err == nil {
		return s, nil
	}
	if len(ranges) == 0 || slices.ContainsFunc(ranges, func(r Range) bool { return r.Type != "SEMVER" }) {
		return nil, err
	}
	return semverScheme{}, nil
}

// FixedVersions lists the distinct fixed versions in ranges that are at or
// above v, smallest first. For an unsupported ecosystem it works only when
// every range is of type SEMVER.
func FixedVersions(ecosystem, v string, ranges []Range) ([]string, error) {
	if err := countEvents(ranges); err != nil {
		return nil, err
	}
	s, err := orderScheme(ecosystem, ranges)
	if err != nil {
		return nil, err
	}
	vk, err := s.parse(v)
	if err != nil {
		return nil, err
	}
	type fix struct {
		text string
		k    key
	}
	var out []fix
	for _, r := range ranges {
		rs, err := rangeScheme(ecosystem, r.Type)
		if err != nil {
			return nil, err
		}
		for _, e := range r.Events {
			if e.Fixed == "" {
				continue
			}
			// A SEMVER range's versions are ordered by semver, but the
			// upgrade is named in the ecosystem's terms: both must parse.
			if _, err := rs.parse(e.Fixed); err != nil {
				return nil, err
			}
			k, err := s.parse(e.Fixed)
			if err != nil {
				return nil, err
			}
			if k.cmp(vk) >= 0 {
				out = append(out, fix{e.Fixed, k})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b fix) int { return a.k.cmp(b.k) })
	out = slices.CompactFunc(out, func(a, b fix) bool { return a.k.cmp(b.k) == 0 })
	texts := make([]string, len(out))
	for i, f := range out {
		texts[i] = f.text
	}
	return texts, nil
}

// SmallestFix returns the smallest version at or above v that no advisory
// in advisories affects, chosen among v and the advisories' fixed
// versions. It returns false when none qualifies or the answer is unknown.
func SmallestFix(ecosystem, v string, advisories [][]Range) (string, bool) {
	cands := []string{v}
	for _, rs := range advisories {
		f, err := FixedVersions(ecosystem, v, rs)
		if err != nil {
			return "", false
		}
		cands = append(cands, f...)
	}
	s, err := orderScheme(ecosystem, slices.Concat(advisories...))
	if err != nil {
		return "", false
	}
	keys := make(map[string]key, len(cands))
	for _, c := range cands {
		k, err := s.parse(c)
		if err != nil {
			return "", false
		}
		keys[c] = k
	}
	slices.SortStableFunc(cands, func(a, b string) int { return keys[a].cmp(keys[b]) })
next:
	for _, c := range cands {
		for _, rs := range advisories {
			aff, err := Affected(ecosystem, c, rs, nil)
			if err != nil {
				return "", false
			}
			if aff {
				continue next
			}
		}
		return c, true
	}
	return "", false
}
