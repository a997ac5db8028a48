package typosquat

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		eco, name string
		want      []Match
	}{
		{"pypi", "requests", nil},
		{"pypi", "Requests", nil},
		{"pypi", "python_dateutil", nil},
		{"pypi", "reqeusts", []Match{{"requests", 6, KindTransposition, "swaps two letters of"}}},
		{"pypi", "requestss", []Match{{"requests", 6, KindEdit, "is one edit from"}}},
		{"pypi", "colourama", []Match{{"colorama", 81, KindEdit, "is one edit from"}}},
		{"pypi", "jeIlyfish", []Match{{"jellyfish", 1240, KindHomoglyph, "looks like"}}},
		{"pypi", "jеllyfish", []Match{{"jellyfish", 1240, KindHomoglyph, "looks like"}}}, // Cyrillic е
		{"pypi", "scikitlearn", []Match{{"scikit-learn", rank(t, "pypi", "scikit-learn"), KindSeparator, "differs only in separators from"}}},
		{"pypi", "python3-dateutil", []Match{{"python-dateutil", 13, KindAffix, "changes the prefix or suffix of"}}},
		{"pypi", "dateutil", []Match{
			{"python-dateutil", 13, KindAffix, "drops the prefix or suffix of"},
			{"dateutils", rank(t, "pypi", "dateutils"), KindEdit, "is one edit from"},
		}},
		{"pypi", "python-requests", []Match{{"requests", 6, KindAffix, "adds a prefix or suffix to"}}},
		{"npm", "types-node", []Match{{"@types/node", 22, KindScope, "moves the scope of"}}},
		{"npm", "crossenv", []Match{{"cross-env", 1931, KindSeparator, "differs only in separators from"}}},
		{"npm", "@types/nodee", nil}, // only DefinitelyTyped publishes in @types
		{"npm", "@typse/node", []Match{{"@types/node", 22, KindTransposition, "swaps two letters of"}}},
		{"npm", "noderequest", []Match{{"request", rank(t, "npm", "request"), KindAffix, "adds a prefix or suffix to"}}},
		{"pypi", "pypdf3", nil},        // digits mark versions, not typos
		{"pypi", "python-ffmpeg", nil}, // allowlisted
		{"npm", "@babel/core", nil},
		{"cargo", "serde", nil},
		{"pypi", "", nil},
		{"pypi", strings.Repeat("a", maxNameLen+1), nil},
		{"pypi", "six", nil},
		{"pypi", "reqiests", []Match{{"requests", 6, KindEdit, "is one edit from"}}}, // u, i are neighbours
		{"pypi", "reqxests", nil}, // x is nowhere near u
		{"npm", "css-parse", nil},
	}
	for _, tc := range tests {
		got := Check(tc.eco, tc.name)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Check(%q, %q) mismatch (-want +got):\n%s", tc.eco, tc.name, diff)
		}
	}
}

func rank(t *testing.T, eco, name string) int {
	t.Helper()
	r, ok := Popular(eco, name)
	if !ok {
		t.Fatalf("%s %q is not popular", eco, name)
	}
	return r
}

func TestOneEdit(t *testing.T) {
	tests := []struct {
		a, b       string
		edit, swap bool
	}{
		{"abc", "abc", false, false},
		{"abc", "abd", true, false},
		{"abc", "ab", true, false},
		{"abc", "xabc", true, false},
		{"abc", "acb", false, true},
		{"abcd", "badc", false, false},
		{"abc", "a", false, false},
	}
	for _, tc := range tests {
		if got := oneEdit(tc.a, tc.b); got != tc.edit {
			t.Errorf("oneEdit(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.edit)
		}
		if got := transposed(tc.a, tc.b); got != tc.swap {
			t.Errorf("transposed(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.swap)
		}
	}
}

// Floors measured on testdata/labelled.tsv; raise them as detection improves.
const (
	minPrecision = 0.9
	minRecall    = 0.8
)

func TestLabelled(t *testing.T) {
	f, err := os.Open("testdata/labelled.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tp, fp, fn, tn int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 5 {
			t.Fatalf("bad row %q", line)
		}
		eco, name, label, target := c[0], c[1], c[2], c[3]
		ms := Check(eco, name)
		hit := false
		for _, m := range ms {
			if label == "squat" && m.Target == normalise(eco, target) {
				hit = true
			}
		}
		switch {
		case label == "squat" && hit:
			tp++
		case label == "squat":
			fn++
			t.Logf("missed %s %s (target %s): %v", eco, name, target, ms)
		case len(ms) > 0:
			fp++
			t.Logf("false positive %s %s: %v", eco, name, ms)
		default:
			tn++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	precision := float64(tp) / float64(max(tp+fp, 1))
	recall := float64(tp) / float64(max(tp+fn, 1))
	t.Logf("tp=%d fp=%d fn=%d tn=%d precision=%.3f recall=%.3f", tp, fp, fn, tn, precision, recall)
	if precision < minPrecision || recall < minRecall {
		t.Errorf("precision %.3f (floor %.2f), recall %.3f (floor %.2f)", precision, minPrecision, recall, minRecall)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"reqeusts", "jeIlyfish", "@types/nodee", "python3-dateutil", "crossenv", "", "@", "py", "ｒequests"} {
		f.Add("pypi", s)
		f.Add("npm", s)
	}
	f.Fuzz(func(t *testing.T, eco, name string) {
		for _, m := range Check(eco, name) {
			if m.Rank < 1 || m.Target == "" || m.Kind == "" {
				t.Fatalf("Check(%q, %q): bad match %+v", eco, name, m)
			}
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	indexes()
	var names []string
	for _, n := range strings.Split(strings.TrimSpace(pypiList), "\n") {
		names = append(names, n+"x") // not popular: exercises every lookup
	}
	b.ResetTimer()
	for i := range b.N {
		Check("pypi", names[i%len(names)])
	}
}

func BenchmarkBuild(b *testing.B) {
	for range b.N {
		build(pypiList, nil)
		build(npmList, nil)
	}
}
