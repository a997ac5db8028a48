package version

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The oracle files record what the reference implementations answer
// (pypa/packaging for PEP 440, node-semver for npm); testdata/gen_oracle.*
// wrote them. This package must agree with every line.

type oracle struct {
	ranks []oracleRank
	sets  []oracleSet
}

type oracleRank struct {
	rank int
	v    string
}

type oracleSet struct {
	expr string
	pre  bool
	hits []string
}

func readOracle(t testing.TB, name string) oracle {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var o oracle
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Split(sc.Text(), "\t")
		switch {
		case len(fields) == 3 && fields[0] == "rank":
			r, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatalf("%s:%d: %v", name, n, err)
			}
			o.ranks = append(o.ranks, oracleRank{r, fields[2]})
		case len(fields) == 4:
			o.sets = append(o.sets, oracleSet{fields[1], fields[2] == "1", strings.Fields(fields[3])})
		default:
			t.Fatalf("%s:%d: malformed line %q", name, n, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(o.ranks) == 0 || len(o.sets) == 0 {
		t.Fatalf("%s: no cases", name)
	}
	return o
}

// versions lists the oracle's versions in file order of first rank line.
func (o oracle) versions() []string {
	var vs []string
	for _, r := range o.ranks {
		vs = append(vs, r.v)
	}
	return vs
}

func TestOraclePEP440(t *testing.T) {
	o := readOracle(t, "testdata/pep440.tsv")
	parsed := map[string]PEP440{}
	for _, r := range o.ranks {
		v, err := ParsePEP440(r.v)
		if err != nil {
			t.Fatalf("ParsePEP440(%q): %v", r.v, err)
		}
		parsed[r.v] = v
	}
	for _, a := range o.ranks {
		for _, b := range o.ranks {
			if got, want := parsed[a.v].Compare(parsed[b.v]), cmpInt(a.rank, b.rank); got != want {
				t.Errorf("Compare(%q, %q) = %d, packaging says %d", a.v, b.v, got, want)
			}
		}
	}
	vs := o.versions()
	for _, s := range o.sets {
		set, err := ParseSpecifierSet(s.expr)
		if err != nil {
			t.Errorf("ParseSpecifierSet(%q): %v", s.expr, err)
			continue
		}
		for _, v := range vs {
			if got, want := set.Contains(parsed[v], s.pre), slices.Contains(s.hits, v); got != want {
				t.Errorf("%q.Contains(%q, %v) = %v, packaging says %v", s.expr, v, s.pre, got, want)
			}
		}
	}
}

func TestOracleNpm(t *testing.T) {
	o := readOracle(t, "testdata/npm.tsv")
	parsed := map[string]Semver{}
	for _, r := range o.ranks {
		v, err := ParseSemver(r.v)
		if err != nil {
			t.Fatalf("ParseSemver(%q): %v", r.v, err)
		}
		parsed[r.v] = v
	}
	for _, a := range o.ranks {
		for _, b := range o.ranks {
			if got, want := parsed[a.v].Compare(parsed[b.v]), cmpInt(a.rank, b.rank); got != want {
				t.Errorf("Compare(%q, %q) = %d, node-semver says %d", a.v, b.v, got, want)
			}
		}
	}
	vs := o.versions()
	for _, s := range o.sets {
		r, err := ParseNpmRange(s.expr)
		if err != nil {
			t.Errorf("ParseNpmRange(%q): %v", s.expr, err)
			continue
		}
		for _, v := range vs {
			if got, want := r.Contains(parsed[v], s.pre), slices.Contains(s.hits, v); got != want {
				t.Errorf("%q.Contains(%q, %v) = %v, node-semver says %v", s.expr, v, s.pre, got, want)
			}
		}
	}
}
