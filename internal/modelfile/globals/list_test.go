package globals

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestList checks the committed list as a whole: it parses (every line
// well-formed, no name listed twice, no name both safe and dangerous), and
// every entry classifies as it is listed, so no dangerous entry hides a
// safe one by accident and every dangerous one reaches its submodules and
// attribute chains.
func TestList(t *testing.T) {
	tb, err := parse(listText)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	verdicts := map[string]map[Verdict]bool{}
	for _, r := range tb.all {
		if r.reason == "" || r.category == "" {
			t.Errorf("line %d: %s: no reason or category", r.line, r.entry)
		}
		key := r.key
		if key == "" { // "*.seg"
			key = r.entry
		}
		if verdicts[key] == nil {
			verdicts[key] = map[Verdict]bool{}
		}
		verdicts[key][r.verdict] = true
		if verdicts[key][Dangerous] && (verdicts[key][Safe] || verdicts[key][Construct]) {
			t.Errorf("line %d: %s is both dangerous and safe", r.line, r.entry)
		}

		// A name the entry stands for, and what Classify must say of it.
		var names []string
		switch {
		case strings.HasPrefix(r.entry, "*."):
			names = []string{"zz" + r.entry[1:], "zz.yy" + r.entry[1:] + ".xx"}
		case r.verdict == Dangerous:
			names = []string{r.key, r.key + ".attr"}
			if strings.Contains(r.key, ".") {
				names = append(names, "zz."+r.key, "zz."+r.key+".attr")
			}
			if r.module {
				names = append(names, "zz."+r.key+".sub.attr")
			}
		case strings.Contains(r.entry, ".*."):
			last := strings.TrimSuffix(r.entry[strings.LastIndex(r.entry, ".")+1:], "*")
			names = []string{r.key + ".mod." + last + "Example"}
		case r.module:
			names = []string{r.key + ".Example", r.key + ".sub.Example"}
		default:
			names = []string{r.key}
		}
		for _, name := range names {
			c := tb.classify(name)
			if c.Verdict != r.verdict {
				t.Errorf("line %d: %s: Classify(%q) = %v (%s), want %v", r.line, r.entry, name, c.Verdict, c.Entry, r.verdict)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		list string
		want string // in the error
	}{
		{"unknown_verdict", "maybe  os.system  process  runs", "unknown verdict"},
		{"no_reason", "dangerous  os.system  process", "no reason"},
		{"no_category", "dangerous  os.system", "no reason"},
		{"bad_category", "dangerous  os.system  scary  runs", "unknown dangerous category"},
		{"upper_category", "safe  a.B  Torch  fine", "not a lower-case word"},
		{"bad_name", "dangerous  os..system  process  runs", "not a dotted name"},
		{"space_in_name", "safe  a-b.c  torch  fine", "not a dotted name"},
		{"duplicate", "dangerous  os.*  process  runs\ndangerous  os.*  process  runs", "already listed on line 1"},
		{"duplicate_spelled_twice", "dangerous  os  process  runs\ndangerous  os.*  process  runs", "already listed"},
		{"safe_and_dangerous", "safe  a.b  torch  fine\ndangerous  a.b  process  runs", "already listed"},
		{"safe_space_and_dangerous", "construct  a.*  torch  fine\ndangerous  a  process  runs", "already listed"},
		{"duplicate_by_braces", "safe  a.{b,b}  torch  fine", "already listed"},
		{"segment_not_dangerous", "safe  *.x  torch  fine", "only dangerous"},
		{"pattern_dangerous", "dangerous  a.*.b*  code  runs", "may not be patterns"},
		{"calls_on_dangerous", "dangerous  a.b  code  calls=1  runs", "calls= on a dangerous entry"},
		{"bad_position", "safe  a.b  torch  calls=0  fine", "argument positions"},
		{"unbalanced", "safe  a.{b,c  torch  fine", "unbalanced braces"},
		{"nested", "safe  a.{b,{c}}  torch  fine", "braces"},
		{"empty_alternative", "safe  a.{b,}  torch  fine", "empty alternative"},
		{"too_many", "safe  a.{" + strings.Repeat("b,", 40) + "c}.{" + strings.Repeat("d,", 40) + "e}  torch  fine", "expands to over"},
		{"alias_no_reason", "alias  a  b", "no reason"},
		{"alias_twice", "alias  a  b  why\nalias  a  c  why", "listed twice"},
		{"alias_chain", "alias  a  b  why\nalias  b  c  why", "itself an alias"},
		{"nickname_dotted", "nickname  a.b  c  why", "not one segment"},
		{"nickname_chain", "nickname  a  b  why\nnickname  b  c  why", "itself a nickname"},
		{"entry_under_alias", "alias  old  new  why\nsafe  old.x  torch  fine", "write new.x"},
		{"entry_under_nickname", "nickname  np  numpy  why\ndangerous  np.load  filesystem  reads", "nickname of numpy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.list)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parse = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestParseSmall checks matching on a list small enough to read.
func TestParseSmall(t *testing.T) {
	tb, err := parse(`
# a comment
alias     old        new          renamed
nickname  o          os           import os as o
dangerous os.*       process      runs commands
dangerous new.bad    code         runs code
dangerous *.__dict__ introspection namespace
safe      new.good   torch        calls=2 builds=1,3  rebuilds
construct fw.*       torch        framework class
safe      fw.*.__pyx_unpickle_*  torch  cython helper
`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want got
	}{
		{"os.system", got{Dangerous, "process", "os.*", nil, nil}},
		{"a.o.system", got{Dangerous, "process", "os.*", nil, nil}},
		{"a.o", got{Dangerous, "process", "os.*", nil, nil}},
		{"old.bad", got{Dangerous, "code", "new.bad", nil, nil}},
		{"old.good", got{Safe, "torch", "new.good", []int{2}, []int{1, 3}}},
		{"x.old.bad", got{}},
		{"x.new.bad", got{Dangerous, "code", "new.bad", nil, nil}},
		{"x.new.good", got{}},
		{"fw.mod.Class", got{Construct, "torch", "fw.*", nil, nil}},
		{"fw.mod.__pyx_unpickle_Class", got{Safe, "torch", "fw.*.__pyx_unpickle_*", nil, nil}},
		{"fw.mod.Class.__dict__", got{Dangerous, "introspection", "*.__dict__", nil, nil}},
		{"fw.os.getcwd", got{Dangerous, "process", "os.*", nil, nil}},
		{"__dict__", got{}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, project(tb.classify(tt.name))); diff != "" {
			t.Errorf("classify(%q) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a.b", []string{"a.b"}},
		{"a.{b,c}", []string{"a.b", "a.c"}},
		{"{a,b}.x.{c,d}", []string{"a.x.c", "a.x.d", "b.x.c", "b.x.d"}},
		{"torch.{Float,Half}Storage", []string{"torch.FloatStorage", "torch.HalfStorage"}},
		{"a.{b.c,d}", []string{"a.b.c", "a.d"}},
	}
	for _, tt := range tests {
		out, err := expand(tt.in)
		if err != nil {
			t.Errorf("expand(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, out); diff != "" {
			t.Errorf("expand(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestListCounts logs how many entries each verdict and category has, for
// the notes; run with -v to see it.
func TestListCounts(t *testing.T) {
	tb, err := parse(listText)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range tb.all {
		counts[r.verdict.String()]++
		counts[r.verdict.String()+"/"+r.category]++
	}
	counts["alias"], counts["nickname"] = len(tb.alias), len(tb.nick)
	t.Logf("%d entries: %v", len(tb.all), counts)
}
