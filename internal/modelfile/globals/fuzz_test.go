package globals

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzClassify checks that Classify never panics, gives the same answer
// twice, explains every verdict it gives, and that a dangerous name stays
// dangerous when reached as an attribute of another module.
func FuzzClassify(f *testing.F) {
	for _, path := range []string{"testdata/benign_globals.txt", "testdata/benign_calls.txt"} {
		for _, name := range readNames(f, path) {
			f.Add(name)
		}
	}
	for _, name := range []string{
		"os.system", "pathlib.os.system", "__builtin__.eval", "x.np.load",
		"a.__globals__", "numpy._core.multiarray._reconstruct", "", ".", "..",
		"sklearn.x.__pyx_unpickle_Y", "torch.nn.Linear.from_pretrained",
	} {
		f.Add(name)
	}
	tb := std()
	f.Fuzz(func(t *testing.T, name string) {
		c := Classify(name)
		if diff := cmp.Diff(c, Classify(name)); diff != "" {
			t.Fatalf("Classify(%q) changed between calls:\n%s", name, diff)
		}
		switch c.Verdict {
		case Unknown:
			if c.Entry != "" || c.Category != "" || c.Reason != "" || c.Calls != nil || c.Builds != nil {
				t.Fatalf("Classify(%q) = %+v: unknown with details", name, c)
			}
		case Safe, Construct, Dangerous:
			if c.Category == "" || c.Reason == "" || (c.Entry == "" && c.Category != "evasion") {
				t.Fatalf("Classify(%q) = %+v: verdict without category, reason or entry", name, c)
			}
		default:
			t.Fatalf("Classify(%q) = %+v: no such verdict", name, c)
		}
		// Aliases apply at the start of a name only, so a name they rename
		// may lose its meaning behind a prefix; any other dangerous name
		// must not.
		if c.Verdict == Dangerous && tb.unalias(name) == name {
			if d := Classify("zz." + name); d.Verdict != Dangerous {
				t.Fatalf("Classify(%q) is dangerous but Classify(%q) = %+v", name, "zz."+name, d)
			}
		}
	})
}
