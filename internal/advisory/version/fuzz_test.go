package version

import (
	"errors"
	"strings"
	"testing"
)

func FuzzPEP440(f *testing.F) {
	for i, s := range pep440Order {
		f.Add(s, pep440Order[(i+1)%len(pep440Order)], ">=1.0,!=1.3.*,<2")
	}
	f.Add("1.0-ALPHA.1", "v1.0+abc.01", "~=1.4.5a4")
	o := readOracle(f, "testdata/pep440.tsv")
	for i, s := range o.sets {
		f.Add(o.ranks[i%len(o.ranks)].v, o.ranks[(i+1)%len(o.ranks)].v, s.expr)
	}
	f.Fuzz(func(t *testing.T, a, b, spec string) {
		x, errA := ParsePEP440(a)
		y, errB := ParsePEP440(b)
		if set, err := ParseSpecifierSet(spec); err == nil && errA == nil {
			set.Contains(x, false)
			set.Contains(x, true)
		}
		if errA != nil || errB != nil {
			return
		}
		if c, d := x.Compare(y), y.Compare(x); c != -d {
			t.Errorf("Compare(%q, %q) = %d but reversed = %d", a, b, c, d)
		}
		// The normal form parses back to an equal version.
		z, err := ParsePEP440(x.String())
		if err != nil {
			t.Fatalf("normal form %q of %q does not parse: %v", x.String(), a, err)
		}
		if z.Compare(x) != 0 || z.String() != x.String() {
			t.Errorf("normal form %q of %q reparses as %q", x.String(), a, z.String())
		}
	})
}

func FuzzNpmRange(f *testing.F) {
	f.Add("^1.2.3-beta.2 || 1.2.3 - 2.3 || >=1.x <2", "1.2.3-beta.4", true)
	f.Add("~>1.2", "v1.2.9", false)
	f.Add("* - 2", "0.0.0-0", false)
	o := readOracle(f, "testdata/npm.tsv")
	for i, s := range o.sets {
		f.Add(s.expr, o.ranks[i%len(o.ranks)].v, s.pre)
	}
	f.Fuzz(func(t *testing.T, rng, v string, pre bool) {
		r, err := ParseNpmRange(rng)
		if err != nil {
			return
		}
		sv, err := ParseSemver(v)
		if err != nil {
			return
		}
		in := r.Contains(sv, pre)
		if in && !pre && !r.Contains(sv, true) {
			t.Errorf("%q holds %q without pre-releases but not with them", rng, v)
		}
		if sv.Compare(sv) != 0 {
			t.Errorf("%q differs from itself", v)
		}
	})
}

var fuzzEcosystems = []string{"PyPI", "npm", "Go", "GitHub Actions", "crates.io"}

func FuzzAffected(f *testing.F) {
	f.Add(uint8(0), "1.5", "1.0", "2.0", "", "", "1.0", "1.0rc1", "1.0.post1")
	f.Add(uint8(1), "1.4.0", "0", "", "1.4.0", "2.0.0", "1.0.0-rc.1", "1.0.0", "1.0.0-rc.1.2")
	f.Add(uint8(2), "v0.0.0-20190101000000-abcdef123456", "0", "1.2.4", "", "*", "v1.2.3", "v2.0.0+incompatible", "v1.2.4-0.20191109021931-daa7c04131f5")
	f.Add(uint8(3), "v4", "4.0.0", "4.1", "", "", "v4", "4.0.0", "v4.0.1")
	f.Fuzz(func(t *testing.T, e uint8, v, in, fx, la, lim, a, b, c string) {
		eco := fuzzEcosystems[int(e)%len(fuzzEcosystems)]
		ranges := eco1(in, fx, la, lim)
		aff, err := Affected(eco, v, ranges, []string{a})
		if err != nil && aff {
			t.Errorf("Affected returned true with error %v", err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLong) && !errors.Is(err, ErrUnsupported) {
			t.Errorf("Affected: unexpected error kind: %v", err)
		}
		FixedVersions(eco, v, ranges)
		SmallestFix(eco, v, [][]Range{ranges})
		ab, err1 := Compare(eco, a, b)
		ba, err2 := Compare(eco, b, a)
		bc, err3 := Compare(eco, b, c)
		ac, err4 := Compare(eco, a, c)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return
		}
		if ab != -ba {
			t.Errorf("%s: Compare(%q,%q)=%d, reversed %d", eco, a, b, ab, ba)
		}
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Errorf("%s: %q <= %q <= %q but Compare(a, c) = %d", eco, a, b, c, ac)
		}
		if ab >= 0 && bc >= 0 && ac < 0 {
			t.Errorf("%s: %q >= %q >= %q but Compare(a, c) = %d", eco, a, b, c, ac)
		}
	})
}

// eco1 builds one ECOSYSTEM range from the events that are set.
func eco1(in, fx, la, lim string) []Range {
	var evs []Event
	for _, e := range []Event{{Introduced: in}, {Fixed: fx}, {LastAffected: la}, {Limit: lim}} {
		if e != (Event{}) {
			evs = append(evs, e)
		}
	}
	return eco(evs...)
}

func BenchmarkCompare(b *testing.B) {
	for _, tt := range []struct{ eco, a, c string }{
		{"PyPI", "1.0b2.post345.dev456", "1.0b2.post345"},
		{"npm", "1.0.0-alpha.beta", "1.0.0-alpha.1"},
		{"Go", "v0.0.0-20190101000000-abcdef123456", "v1.2.4-0.20191109021931-daa7c04131f5"},
	} {
		b.Run(tt.eco, func(b *testing.B) {
			for b.Loop() {
				if _, err := Compare(tt.eco, tt.a, tt.c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAffected(b *testing.B) {
	rs := eco(intro("1.0"), fixed("1.3"), intro("2.0"), fixed("2.4.1"), intro("3.0rc1"), last("3.2"))
	for _, name := range []string{"PyPI", "npm"} {
		v := "2.4.0"
		if name == "npm" {
			rs = eco1("1.0.0", "2.4.1", "", "")
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Affected(name, v, rs, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzConstraint checks that a range from a query string, in any
// ecosystem, parses or fails without panicking, and that a version
// equal to itself under "==" is held by "==v" whenever it parses.
func FuzzConstraint(f *testing.F) {
	for _, s := range []struct{ eco, rng, v string }{
		{"PyPI", ">=2.0,<2.5", "2.4.0rc1"},
		{"npm", "^1.2.3 || 2.x", "1.3.0-beta.1"},
		{"Go", ">=v1.2.0,!=v1.3.0,<2", "v1.2.1-0.20240101000000-abcdefabcdef"},
		{"crates.io", "==1.0.0", "1.0.0"},
		{"GitHub Actions", ">=v4", "v4"},
		{"Maven", ">=1", "1"},
		{"PyPI", ",,,", ""},
	} {
		f.Add(s.eco, s.rng, s.v)
	}
	f.Fuzz(func(t *testing.T, eco, rng, v string) {
		c, err := ParseConstraint(eco, rng)
		if err == nil {
			c.Contains(v)
		}
		if eco != "Go" && eco != "crates.io" && eco != "GitHub Actions" {
			return
		}
		if _, err := Compare(eco, v, v); err != nil || strings.ContainsAny(v, ",<>=! ") {
			return
		}
		eq, err := ParseConstraint(eco, "=="+v)
		if err != nil {
			t.Fatalf("ParseConstraint(%s, ==%q): %v, though %q parses", eco, v, err, v)
		}
		if in, err := eq.Contains(v); err != nil || !in {
			t.Errorf("==%q does not hold %q: %v, %v", v, v, in, err)
		}
	})
}
