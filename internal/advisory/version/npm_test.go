package version

import (
	"errors"
	"strings"
	"testing"
)

// semverOrder is ascending, per the precedence rules of semver 2.0.
var semverOrder = []string{
	"0.0.0-0",
	"0.0.0",
	"1.0.0-0",
	"1.0.0-2",
	"1.0.0-10",
	"1.0.0-alpha",
	"1.0.0-alpha.1",
	"1.0.0-alpha.beta",
	"1.0.0-beta",
	"1.0.0-beta.2",
	"1.0.0-beta.11",
	"1.0.0-rc.1",
	"1.0.0",
	"1.0.1",
	"1.2.0",
	"1.10.0",
	"2.0.0",
	"9007199254740991.0.0",
}

func TestSemverOrder(t *testing.T) {
	vs := make([]Semver, len(semverOrder))
	for i, s := range semverOrder {
		v, err := ParseSemver(s)
		if err != nil {
			t.Fatalf("ParseSemver(%q): %v", s, err)
		}
		vs[i] = v
	}
	for i := range vs {
		for j := range vs {
			if got, want := vs[i].Compare(vs[j]), cmpInt(i, j); got != want {
				t.Errorf("Compare(%q, %q) = %d, want %d", semverOrder[i], semverOrder[j], got, want)
			}
		}
	}
}

func TestSemverParse(t *testing.T) {
	for _, p := range [][2]string{
		{"v1.2.3", "1.2.3"},
		{"=1.2.3", "1.2.3"},
		{" v1.2.3 ", "1.2.3"},
		{"1.2.3+build.5", "1.2.3"},
		{"1.2.3-rc.1+exp.sha.5114f85", "1.2.3-rc.1"},
	} {
		v, err := ParseSemver(p[0])
		if err != nil {
			t.Errorf("ParseSemver(%q): %v", p[0], err)
			continue
		}
		if got := v.String(); got != p[1] {
			t.Errorf("ParseSemver(%q) = %q, want %q", p[0], got, p[1])
		}
	}
	for _, s := range []string{
		"", "1", "1.2", "1.2.x", "01.2.3", "1.02.3", "1.2.3-01", "1.2.3-", "1.2.3+",
		"1.2.3-a..b", "1.2.3-a_b", "a.b.c", "1.2.3.4", "9007199254740992.0.0",
		"99999999999999999999.0.0", "-1.2.3", "1.2.3 4",
	} {
		if v, err := ParseSemver(s); err == nil {
			t.Errorf("ParseSemver(%q) = %v, want error", s, v)
		}
	}
	a, _ := ParseSemver("1.2.3+a")
	b, _ := ParseSemver("1.2.3+b")
	if c := a.Compare(b); c != 0 {
		t.Errorf("build metadata changed order: %d", c)
	}
}

func TestNpmRange(t *testing.T) {
	tests := []struct {
		rng, v string
		pre    bool
		want   bool
	}{
		// Primitive comparators.
		{">=1.2.3", "1.2.3", false, true},
		{">=1.2.3", "1.2.2", false, false},
		{">1.2.3", "1.2.3", false, false},
		{"<1.2.3", "1.2.2", false, true},
		{"<=1.2.3", "1.2.3", false, true},
		{"=1.2.3", "1.2.3", false, true},
		{"1.2.3", "1.2.4", false, false},
		{"v1.2.3", "1.2.3", false, true},
		{">= 1.2.3 < 2", "1.9.9", false, true},
		{">=1.2.7 <1.3.0", "1.2.8", false, true},
		{">=1.2.7 <1.3.0", "1.3.0", false, false},
		{"1.2.7 || >=1.2.9 <2.0.0", "1.2.7", false, true},
		{"1.2.7 || >=1.2.9 <2.0.0", "1.2.8", false, false},
		{"1.2.7 || >=1.2.9 <2.0.0", "1.4.6", false, true},
		// Pre-releases need a comparator with the same tuple.
		{">1.2.3-alpha.3", "1.2.3-alpha.7", false, true},
		{">1.2.3-alpha.3", "3.4.5-alpha.9", false, false},
		{">1.2.3-alpha.3", "3.4.5-alpha.9", true, true},
		{">1.2.3-alpha.3", "3.4.5", false, true},
		{">1.2.3-alpha.3", "1.2.3-alpha.2", true, false},
		{"<=1.2.3", "1.2.3-beta", false, false},
		{"<=1.2.3", "1.2.3-beta", true, true},
		{"<1.2.3", "1.2.3-beta", false, false},
		{"*", "1.0.0-rc1", false, false},
		{"*", "1.0.0-rc1", true, true},
		{"", "1.0.0", false, true},
		// Hyphen ranges.
		{"1.2.3 - 2.3.4", "1.2.3", false, true},
		{"1.2.3 - 2.3.4", "2.3.4", false, true},
		{"1.2.3 - 2.3.4", "2.3.5", false, false},
		{"1.2 - 2.3.4", "1.2.0", false, true},
		{"1.2 - 2.3.4", "1.1.9", false, false},
		{"1.2.3 - 2.3", "2.3.9", false, true},
		{"1.2.3 - 2.3", "2.4.0", false, false},
		{"1.2.3 - 2", "2.9.9", false, true},
		{"1.2.3 - 2", "3.0.0", false, false},
		{"1.2.3 - 2", "3.0.0-0", true, false},
		{"* - 2", "0.0.1", false, true},
		// X-ranges.
		{"1.x", "1.9.0", false, true},
		{"1.x", "2.0.0", false, false},
		{"1.X", "1.0.0", false, true},
		{"1.2.*", "1.2.9", false, true},
		{"1.2.*", "1.3.0", false, false},
		{"1", "1.5.5", false, true},
		{"1.2", "1.3.0", false, false},
		{"1.x", "2.0.0-alpha", true, false},
		{">1", "1.9.9", false, false},
		{">1", "2.0.0", false, true},
		{">1.2", "1.3.0", false, true},
		{">=1.2", "1.2.0", false, true},
		{"<1.2", "1.1.9", false, true},
		{"<1.2", "1.2.0-rc.1", true, false},
		{"<=1.2", "1.2.9", false, true},
		{"<=1.2", "1.3.0", false, false},
		{">*", "0.0.0", true, false},
		{"<*", "0.0.0", true, false},
		{">=*", "5.0.0", false, true},
		// Tilde.
		{"~1.2.3", "1.2.9", false, true},
		{"~1.2.3", "1.3.0", false, false},
		{"~1.2", "1.2.0", false, true},
		{"~1.2", "1.3.0", false, false},
		{"~1", "1.9.0", false, true},
		{"~1", "2.0.0", false, false},
		{"~0.2.3", "0.2.9", false, true},
		{"~0.2.3", "0.3.0", false, false},
		{"~1.2.3-beta.2", "1.2.3-beta.4", false, true},
		{"~1.2.3-beta.2", "1.2.4-beta.2", false, false},
		{"~1.2.3-beta.2", "1.2.4", false, true},
		{"~>1.2.3", "1.2.5", false, true},
		{"~ 1.2.3", "1.2.5", false, true},
		// Caret.
		{"^1.2.3", "1.9.9", false, true},
		{"^1.2.3", "2.0.0", false, false},
		{"^1.2.3", "1.2.2", false, false},
		{"^0.2.3", "0.2.9", false, true},
		{"^0.2.3", "0.3.0", false, false},
		{"^0.0.3", "0.0.3", false, true},
		{"^0.0.3", "0.0.4", false, false},
		{"^1.2.3-beta.2", "1.2.3-beta.4", false, true},
		{"^1.2.3-beta.2", "1.2.4-beta.2", false, false},
		{"^1.2.3-beta.2", "1.2.4-beta.2", true, true},
		{"^0.0.3-beta", "0.0.3-pr.2", false, true},
		{"^0.0.3-beta", "0.0.4", false, false},
		{"^1.2.x", "1.9.0", false, true},
		{"^1.2.x", "1.1.0", false, false},
		{"^0.0.x", "0.0.9", false, true},
		{"^0.0.x", "0.1.0", false, false},
		{"^0.0", "0.0.9", false, true},
		{"^1.x", "1.0.0", false, true},
		{"^1.x", "2.0.0", false, false},
		{"^0.x", "0.9.0", false, true},
		{"^0.x", "1.0.0", false, false},
		{"^*", "3.0.0", false, true},
	}
	for _, tt := range tests {
		r, err := ParseNpmRange(tt.rng)
		if err != nil {
			t.Errorf("ParseNpmRange(%q): %v", tt.rng, err)
			continue
		}
		v, err := ParseSemver(tt.v)
		if err != nil {
			t.Fatalf("ParseSemver(%q): %v", tt.v, err)
		}
		if got := r.Contains(v, tt.pre); got != tt.want {
			t.Errorf("%q.Contains(%q, %v) = %v, want %v", tt.rng, tt.v, tt.pre, got, tt.want)
		}
	}
}

func TestNpmRangeInvalid(t *testing.T) {
	tests := []struct {
		rng  string
		want error
	}{
		{"1.2.3.4", ErrInvalid},
		{">=a", ErrInvalid},
		{"1.x.2", ErrInvalid},
		{"1.2-beta", ErrInvalid},
		{"!1.2.3", ErrInvalid},
		{"1.2.3 - ", ErrInvalid},
		{strings.Repeat(">=1.0.0 ", MaxClauses+1), ErrTooLong},
		{strings.Repeat("1", MaxSpecifierLen+1), ErrTooLong},
	}
	for _, tt := range tests {
		if _, err := ParseNpmRange(tt.rng); !errors.Is(err, tt.want) {
			t.Errorf("ParseNpmRange(%q): err = %v, want %v", tt.rng, err, tt.want)
		}
	}
}
