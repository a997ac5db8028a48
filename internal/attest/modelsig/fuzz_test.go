package modelsig

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseStatement checks statement parsing never panics, fails only
// as malformed, and accepts only manifests that keep its promises.
func FuzzParseStatement(f *testing.F) {
	f.Add(statementWith(MethodFiles, []jsonResource{res("a"), res("b/c")}, ""))
	f.Add(statementWith(MethodShards, []jsonResource{res("a:0:10"), res("a:10:15")}, ""))
	f.Add(statementWith(MethodFiles, []jsonResource{res(".")}, ""))
	f.Add(statementWith(MethodFiles, []jsonResource{res("../a")}, ""))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + hexSHA("a") + `"}}],"predicateType":"https://model_signing/Digests/v0.1","predicate":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseStatement(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not marked malformed: %v", err)
			}
			return
		}
		if len(m.Resources) == 0 {
			t.Fatal("empty manifest accepted")
		}
		seen := map[string]bool{}
		for i, r := range m.Resources {
			if seen[r.Name] {
				t.Fatalf("duplicate %q accepted", r.Name)
			}
			seen[r.Name] = true
			if r.Path != "." {
				if c, ok := cleanRel(r.Path); !ok || c != r.Path {
					t.Fatalf("unclean name %q accepted", r.Name)
				}
			}
			if i > 0 && compareResources(m.Resources[i-1], r) >= 0 {
				t.Fatal("resources not sorted")
			}
		}
		// What was accepted encodes to a statement that parses the same.
		st, err := m.Statement()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseStatement(st)
		if err != nil {
			t.Fatalf("re-encoded statement rejected: %v", err)
		}
		if m.Model != v02ModelName && !bytes.Equal(back.RootDigest(), m.RootDigest()) {
			t.Fatal("root digest changed")
		}
	})
}
